package model

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

func builtin(t testing.TB, name string, p workload.Params) *workload.Workload {
	t.Helper()
	w, _, err := workload.Load(name, p)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// load returns a built-in, or the workload file name (ending in .wl), and
// its text.
func load(t testing.TB, name string) (*workload.Workload, string) {
	t.Helper()
	if !strings.HasSuffix(name, ".wl") {
		w, text, err := workload.Load(name, workload.Params{})
		if err != nil {
			t.Fatal(err)
		}
		return w, text
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	w, err := workload.Parse(name, string(b))
	if err != nil {
		t.Fatal(err)
	}
	return w, string(b)
}

func run(t testing.TB, w *workload.Workload, cfg Config, opt check.Options) (*Model, *check.Result[State, Action]) {
	t.Helper()
	m, err := New(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	opt.Livelock, opt.Fairness = true, true
	r, err := check.Explore(context.Background(), m, opt)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

func verdict(r *check.Result[State, Action]) string {
	if r.Violation != nil {
		switch r.Violation.Kind {
		case check.Deadlock, check.Livelock:
			return r.Violation.Kind.String()
		}
		return "violation"
	}
	return r.Verdict.String()
}

// TestBuiltinVerdicts checks every cell of testdata/verdicts.txt, the table
// that make check also holds the command to.
func TestBuiltinVerdicts(t *testing.T) {
	f, err := os.Open("testdata/verdicts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table, err := workload.ReadExpectations("testdata/verdicts.txt", f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range table {
		_, r := run(t, builtin(t, e.Workload, workload.Params{}), Config{Policy: e.Policy, Cap: e.Cap, Low: workload.Unset}, check.Options{})
		if got := verdict(r); got != e.Verdict {
			t.Errorf("%s: got %s, want %s", e.Key(), got, e.Verdict)
		}
	}
	if want := len(workload.BuiltinNames()) * 4 * 4; len(table) != want {
		t.Errorf("%d cells in testdata/verdicts.txt, want %d workloads x 4 caps x 4 policies = %d", len(table), len(workload.BuiltinNames()), want)
	}
}

func TestNoDeadlockAtCap2UnderPoll(t *testing.T) {
	for _, name := range workload.BuiltinNames() {
		for _, p := range []port.Policy{port.Poll, port.PollNoHyst} {
			_, r := run(t, builtin(t, name, workload.Params{}), Config{Policy: p, Cap: 2, Low: workload.Unset}, check.Options{})
			if r.Verdict != check.OK {
				t.Errorf("%s %s: %s", name, p, verdict(r))
			}
			for _, g := range r.Sometimes {
				if !g.Reached {
					t.Errorf("%s %s: guard %q never reached: the verdict would be vacuous", name, p, g.Name)
				}
			}
		}
	}
}

// TestWebServerDeadlockIsTheSeedsStory: under stop, at cap 2, the server
// ends with its slots taken by reads on connections whose clients wait for
// responses that the writers may not send, as the seed describes.
func TestWebServerDeadlockIsTheSeedsStory(t *testing.T) {
	for _, p := range []port.Policy{port.Block, port.Stop} {
		_, r := run(t, builtin(t, "webserver", workload.Params{}), Config{Policy: p, Cap: 2, Low: workload.Unset}, check.Options{})
		if r.Violation == nil || r.Violation.Kind != check.Deadlock {
			t.Fatalf("%s: got %s, want a deadlock", p, verdict(r))
		}
		last := r.Violation.Trace.States[len(r.Violation.Trace.States)-1]
		if len(last.Msgs) == 0 {
			t.Fatalf("%s: no slot held at the deadlock", p)
		}
		for _, g := range last.Msgs {
			if g.Flags&msgDone != 0 {
				t.Errorf("%s: a completed reply is left unreaped: %+v", p, g)
			}
		}
		text := strings.Join(r.Violation.Explain, "\n")
		for _, want := range []string{
			"r0's read(c0): waits in the kernel: c0 has nothing to read; client0 sends on it only after it receives from c0",
			"client0 waits to receive from c0",
			"client1 waits to receive from c1",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: explanation lacks %q:\n%s", p, want, text)
			}
		}
		wants := map[port.Policy]string{port.Block: "w0 wants write(c0): no free slot", port.Stop: "w0 wants write(c0): the scheduler issues nothing"}
		if !strings.Contains(text, wants[p]) {
			t.Errorf("%s: explanation lacks %q:\n%s", p, wants[p], text)
		}
	}
}

func TestBlockAndStopFinishAtCap3(t *testing.T) {
	for _, p := range []port.Policy{port.Block, port.Stop} {
		_, r := run(t, builtin(t, "webserver", workload.Params{}), Config{Policy: p, Cap: 3, Low: workload.Unset}, check.Options{})
		if r.Verdict != check.OK {
			t.Errorf("%s at cap 3: %s", p, verdict(r))
		}
	}
}

// TestStateCounts pins exact counts for the smallest configurations. A
// change to the semantics moves them; a change that should not (a faster
// encoding, say) must not.
func TestStateCounts(t *testing.T) {
	cases := []struct {
		name        string
		cfg         Config
		states      int
		transitions uint64
	}{
		{"triangle", Config{Policy: port.Block, Cap: 2, Low: workload.Unset}, 11, 15},
		{"triangle", Config{Policy: port.Poll, Cap: 2, Low: workload.Unset}, 69, 138},
		{"triangle", Config{Policy: port.Poll, Cap: workload.Unlimited, Low: workload.Unset}, 64, 134},
		{"eventloop", Config{Policy: port.Block, Cap: 2, Low: workload.Unset}, 4, 3},
		{"cancel", Config{Policy: port.Poll, Cap: 2, Low: workload.Unset}, 42, 80},
		{"webserver", Config{Policy: port.Poll, Cap: 2, Low: workload.Unset}, 1459, 4064},
		{"webserver", Config{Policy: port.PollNoHyst, Cap: 2, Low: workload.Unset}, 1091, 3070},
		{"testdata/starved-retry.wl", Config{Policy: port.Poll, Cap: 1, Low: workload.Unset}, 35, 65},
	}
	for _, c := range cases {
		w, _ := load(t, c.name)
		_, r := run(t, w, c.cfg, check.Options{})
		if r.Stats.States != c.states || r.Stats.Transitions != c.transitions {
			t.Errorf("%s %s cap %d: %d states, %d transitions; want %d, %d",
				c.name, c.cfg.Policy, c.cfg.Cap, r.Stats.States, r.Stats.Transitions, c.states, c.transitions)
		}
	}
}

// TestSeededModelBugsCaught: each seeded bug must be caught by the property
// written for it, after the pinned number of steps (the lasso's loop
// starting after loop steps, or -1), where the correct model passes.
func TestSeededModelBugsCaught(t *testing.T) {
	cases := []struct {
		mutant, property, workload string
		cap                        int
		steps, loop                int
	}{
		{"slot-freed-at-completion", PropSlotReap, "webserver", 2, 3, -1},
		{"leave-at-low-plus-one", PropHysteresis, "webserver", 2, 5, -1},
		// A fallback that retries a submitted call in the submitting thread
		// spins when the thread's own later steps would complete it.
		{"poll-submit-synchronous", "no livelock", "submitter", 1, 2, 1},
		// One actor for all of a process's retries lets a "fair" run retry
		// a kept read that would block forever, the kept write that could
		// proceed never retried.
		{"one-retry-actor", "fair progress", "testdata/starved-retry.wl", 1, 8, 7},
	}
	for _, c := range cases {
		w, _ := load(t, c.workload)
		cfg := Config{Policy: port.Poll, Cap: c.cap, Low: workload.Unset}
		if _, r := run(t, w, cfg, check.Options{}); r.Verdict != check.OK {
			t.Errorf("seeded bug %s: the correct model gives %s on %s at cap %d, want ok", c.mutant, verdict(r), c.workload, c.cap)
		}
		cfg.mutant = c.mutant
		_, r := run(t, w, cfg, check.Options{})
		if r.Violation == nil || r.Violation.Property != c.property {
			t.Errorf("seeded bug %s: got %s, want %q violated", c.mutant, verdict(r), c.property)
			continue
		}
		tr := r.Violation.Trace
		if len(tr.Steps) != c.steps || tr.Loop != c.loop {
			t.Errorf("seeded bug %s caught by %q after %d steps, loop at %d; want %d, %d", c.mutant, c.property, len(tr.Steps), tr.Loop, c.steps, c.loop)
		}
	}
}

// TestCapAddsNoDeadlock: every built-in finishes uncapped, and so under
// poll at every cap from 1 to 4.
func TestCapAddsNoDeadlock(t *testing.T) {
	for _, name := range workload.BuiltinNames() {
		w := builtin(t, name, workload.Params{})
		if _, r := run(t, w, Config{Policy: port.Block, Cap: workload.Unlimited, Low: workload.Unset}, check.Options{}); r.Verdict != check.OK {
			t.Fatalf("%s deadlocks with no cap: %s", name, verdict(r))
		}
		for c := 1; c <= 4; c++ {
			if _, r := run(t, w, Config{Policy: port.Poll, Cap: c, Low: workload.Unset}, check.Options{}); r.Verdict != check.OK {
				t.Errorf("%s poll cap %d: %s", name, c, verdict(r))
			}
		}
	}
}

func TestSameTraceOnAnyNumberOfWorkers(t *testing.T) {
	w := builtin(t, "webserver", workload.Params{Conns: 2, Requests: 3, Window: 2})
	var first []int
	for _, n := range []int{1, 2, 5} {
		_, r := run(t, w, Config{Policy: port.Stop, Cap: 2, Low: workload.Unset}, check.Options{Workers: n})
		if r.Violation == nil {
			t.Fatalf("%d workers: no violation", n)
		}
		p := r.Violation.Trace.Path()
		if first == nil {
			first = p
		} else if !reflect.DeepEqual(p, first) {
			t.Errorf("%d workers: path %v, 1 worker: %v", n, p, first)
		}
	}
}

func normalize(s State) State {
	if len(s.Msgs) == 0 {
		s.Msgs = nil
	}
	return s
}

func TestBadConfig(t *testing.T) {
	w := builtin(t, "triangle", workload.Params{})
	for _, cfg := range []Config{
		{Policy: port.Poll, Cap: 2, Low: 2},
		{Policy: port.Poll, Cap: 300, Low: workload.Unset},
		{Policy: port.Policy(9), Cap: 2, Low: workload.Unset},
	} {
		if _, err := New(w, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	if _, err := port.ParsePolicy("spin"); err == nil {
		t.Error("ParsePolicy(spin): no error")
	}
}

// TestStoredTraceReplays writes a counterexample in the stored form, reads
// it back, rebuilds the model from the trace alone, and replays the path:
// the steps must come out the same.
func TestStoredTraceReplays(t *testing.T) {
	for _, p := range []port.Policy{port.Block, port.Stop} {
		src, _ := workload.Builtin("webserver", workload.Params{})
		m, r := run(t, builtin(t, "webserver", workload.Params{}), Config{Policy: p, Cap: 2, Low: workload.Unset}, check.Options{})
		var b bytes.Buffer
		if err := traces.Write(&b, m.Trace("webserver", src, r.Violation, r.Stats)); err != nil {
			t.Fatal(err)
		}
		tr, err := traces.Read("t.json", &b)
		if err != nil {
			t.Fatal(err)
		}
		w, err := workload.Parse(tr.Workload.Name, tr.Workload.Text)
		if err != nil {
			t.Fatal(err)
		}
		pol, _ := port.ParsePolicy(tr.Policy)
		m2, err := New(w, Config{Policy: pol, Cap: tr.Caps[0], Low: tr.Lows[0]})
		if err != nil {
			t.Fatal(err)
		}
		again, err := check.Replay(m2, tr.Path)
		if err != nil {
			t.Fatal(err)
		}
		replayed := m2.Trace(tr.Workload.Name, tr.Workload.Text, &check.Violation[State, Action]{Kind: r.Violation.Kind, Trace: again}, r.Stats)
		if !reflect.DeepEqual(replayed.Steps, tr.Steps) {
			t.Errorf("%s: replayed steps differ:\n%v\n%v", p, replayed.Steps, tr.Steps)
		}
		if len(m2.Actions(again.States[len(again.States)-1], nil)) != 0 {
			t.Errorf("%s: the replayed trace does not end in a deadlock", p)
		}
	}
}

// FuzzModel builds the model of any workload the parser accepts and
// explores a bounded part of it under every policy: no workload makes the
// model panic or break its own invariants. It also checks the design's
// claim that the cap adds no deadlock: a workload verified with no cap (the
// whole search, livelock and fair progress included) has no violation of
// any kind under poll at caps 1, 2 and 3. The seed corpus is in
// testdata/fuzz/FuzzModel.
func FuzzModel(f *testing.F) {
	for _, n := range workload.BuiltinNames() {
		src, _ := workload.Builtin(n, workload.Params{})
		f.Add(src, uint8(2))
	}
	for _, n := range workload.IncidentNames() {
		src, _ := workload.Incident(n)
		f.Add(src, uint8(1))
	}
	opt := check.Options{MaxStates: 2000, Livelock: true, Fairness: true, Workers: 1, Validate: true}
	f.Fuzz(func(t *testing.T, src string, c uint8) {
		w, err := workload.Parse("fuzz", src)
		if err != nil {
			return
		}
		for _, p := range port.Policies() {
			m, err := New(w, Config{Policy: p, Cap: int(c%4) + 1, Low: workload.Unset})
			if err != nil {
				return // a low-water mark in the file at or above this cap
			}
			r, err := check.Explore(context.Background(), m, opt)
			if err != nil {
				t.Fatal(err)
			}
			if r.Violation != nil && r.Violation.Kind != check.Deadlock && r.Violation.Kind != check.Livelock {
				t.Fatalf("%s: %s violated:\n%s", p, r.Violation.Property, src)
			}
		}
		m, err := New(w, Config{Policy: port.Poll, Cap: workload.Unlimited, Low: workload.Unset})
		if err != nil {
			t.Fatal(err)
		}
		r, err := check.Explore(context.Background(), m, opt)
		if err != nil {
			t.Fatal(err)
		}
		if r.Verdict != check.OK {
			return // not verified uncapped (or too big to tell): no claim
		}
		// A runtime that drops a cancel at the cap does not fall back to
		// polling for it: the claim is about the design, which never
		// drops a call (zio-dropped-cancel is the counterexample).
		if slices.ContainsFunc(w.Processes, func(p workload.Process) bool { return p.DropCancels }) {
			return
		}
		for c := 1; c <= 3; c++ {
			m, err := New(w, Config{Policy: port.Poll, Cap: c, Low: workload.Unset})
			if err != nil {
				continue // the file's low does not fit this cap
			}
			r, err := check.Explore(context.Background(), m, opt)
			if err != nil {
				t.Fatal(err)
			}
			if v := r.Violation; v != nil {
				t.Fatalf("verified with no cap, but poll at cap %d: %s (%s)\n%s\n%s", c, v.Property, v.Kind,
					strings.Join(v.Explain, "\n"), src)
			}
		}
	})
}

// TestCancelOfKeptCall: a cancel that finds its target's submitted call
// kept by the polling scheduler ends that call (it held no slot), and the
// safety properties still hold at every cap.
func TestCancelOfKeptCall(t *testing.T) {
	src := `pipe a
pipe b
process app cap 1
  thread t
    submit read a
    submit read b
    wait
    wait
  end
  thread k
    cancel t
    write a
    write b
  end
end
`
	w, err := workload.Parse("kept", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{1, 2, workload.Unlimited} {
		m, r := run(t, w, Config{Policy: port.Poll, Cap: c, Low: workload.Unset}, check.Options{})
		if r.Verdict != check.OK {
			t.Errorf("cap %d: %s", c, verdict(r))
		}
		if c == 1 && r.Stats.Fired[m.Kind(Action{Kind: PollDefer})].Count == 0 {
			t.Errorf("cap 1: no call was ever kept; the test tests nothing")
		}
	}
}

// keptWriteStarved is a workload that finishes uncapped and on both back
// ends; at cap 1 under poll it leaves a kept read that would block and a
// kept write that could proceed. A scheduler that retried only the read
// forever would never finish it, and no round-robin scheduler does that
// (the file tells the story).
const keptWriteStarved = "testdata/starved-retry.wl"

// TestEveryKeptCallIsRetried: fair progress means every kept call is
// retried in turn, as impl/sched retries all of them on each turn, so the
// workload above is verified at every cap under poll.
func TestEveryKeptCallIsRetried(t *testing.T) {
	w, _ := load(t, keptWriteStarved)
	for _, c := range []int{1, 2, 3, workload.Unlimited} {
		m, r := run(t, w, Config{Policy: port.Poll, Cap: c, Low: workload.Unset}, check.Options{})
		if r.Verdict != check.OK {
			t.Errorf("poll cap %d: %s: %s", c, verdict(r), strings.Join(r.Violation.Explain, "; "))
		}
		if c == 1 && r.Stats.Fired[m.Kind(Action{Kind: PollRetry})].Count == 0 {
			t.Errorf("cap 1: no kept call was ever retried; the test tests nothing")
		}
	}
}

// TestExplainSaysWhatIsTrue: in every reachable state of the workload
// above, an explanation calls p full only when it is, and empty only when
// it is.
func TestExplainSaysWhatIsTrue(t *testing.T) {
	w, _ := load(t, keptWriteStarved)
	m, err := New(w, Config{Policy: port.Poll, Cap: 1, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	queue := m.Init()
	kept := 0
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if enc := string(m.Encode(nil, s)); seen[enc] {
			continue
		} else {
			seen[enc] = true
		}
		for _, line := range m.Explain(s) {
			full, empty := strings.Contains(line, "p is full"), strings.Contains(line, "p has nothing to read")
			if full && s.Items[0] != 1 || empty && s.Items[0] != 0 {
				t.Errorf("p holds %d item(s), but the explanation says %q", s.Items[0], line)
			}
			if strings.Contains(line, "kept by the scheduler") {
				kept++
			}
		}
		for _, a := range m.Actions(s, nil) {
			queue = append(queue, m.Next(s, a))
		}
	}
	if kept == 0 {
		t.Error("no explanation mentions a kept call; the test tests nothing")
	}
}
