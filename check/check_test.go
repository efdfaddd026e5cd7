package check

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// naive is the oracle: a deliberately plain breadth-first search over a Go
// map, with none of the explorer's machinery (no arena, no parallel
// expansion, no parent links). The explorer's counts must equal its counts.
type naiveResult struct {
	states, transitions, depth int
	deadlockDepth              int // depth of the first deadlock, -1 if none
}

func naive[S, A any](m Model[S, A]) naiveResult {
	r := naiveResult{deadlockDepth: -1}
	seen := map[string]bool{}
	var level []S
	for _, s := range m.Init() {
		k := string(m.Encode(nil, s))
		if !seen[k] {
			seen[k] = true
			level = append(level, s)
		}
	}
	for depth := 0; len(level) > 0; depth++ {
		r.depth = depth
		var next []S
		for _, s := range level {
			acts := m.Actions(s, nil)
			if len(acts) == 0 && !m.Terminal(s) && r.deadlockDepth < 0 {
				r.deadlockDepth = depth
			}
			for _, a := range acts {
				r.transitions++
				t := m.Next(s, a)
				k := string(m.Encode(nil, t))
				if !seen[k] {
					seen[k] = true
					next = append(next, t)
				}
			}
		}
		level = next
	}
	r.states = len(seen)
	return r
}

func explore[S, A any](t testing.TB, m Model[S, A], opt Options) *Result[S, A] {
	t.Helper()
	r, err := Explore(context.Background(), m, opt)
	if err != nil {
		t.Fatalf("Explore: %v", err)
	}
	return r
}

// expectation is one known answer; it returns an error when the explorer
// gives another. The same list runs in TestToys and, with a seeded bug in
// the explorer, in TestSeededBugsCaught.
type expectation struct {
	name  string
	check func(t testing.TB) error
}

func want(what string, got, exp any) error {
	if !reflect.DeepEqual(got, exp) {
		return fmt.Errorf("%s: got %v, want %v", what, got, exp)
	}
	return nil
}

func all(errs ...error) error { return errors.Join(errs...) }

var expectations = []expectation{
	{"counters 3 mod 4: 64 states", func(t testing.TB) error {
		r := explore(t, counters{n: 3, k: 4}, Options{})
		return all(
			want("verdict", r.Verdict, OK),
			want("states", r.Stats.States, 64),
			want("transitions", r.Stats.Transitions, uint64(192)),
			want("depth", r.Stats.Depth, 9),
			want("c0 wraps reached", r.Sometimes[0].Reached, true),
			want("c0 wraps trace length", len(r.Sometimes[0].Trace.Steps), 3),
			want("c0 exceeds K reached", r.Sometimes[1].Reached, false),
		)
	}},
	{"counters 4 mod 5: 625 states, as the oracle", func(t testing.TB) error {
		m := counters{n: 4, k: 5}
		// Two workers, whatever the machine: the workers' look-ups
		// then run beside the merge's inserts.
		r, o := explore(t, m, Options{Workers: 2}), naive(m)
		return all(
			want("states", r.Stats.States, 625),
			want("states vs oracle", r.Stats.States, o.states),
			want("transitions vs oracle", r.Stats.Transitions, uint64(o.transitions)),
			want("depth vs oracle", r.Stats.Depth, o.depth),
		)
	}},
	{"counters: invariant broken only on the deepest level", func(t testing.TB) error {
		r := explore(t, counters{n: 3, k: 3, bad: true}, Options{})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		return all(
			want("verdict", r.Verdict, Violated),
			want("property", r.Violation.Property, "not all at K-1"),
			want("trace length", len(r.Violation.Trace.Steps), 6),
		)
	}},
	{"counters: invariant broken in the initial state", func(t testing.TB) error {
		r := explore(t, counters{n: 2, k: 3, badInit: true}, Options{})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		return all(
			want("property", r.Violation.Property, "c0 is not 0"),
			want("trace length", len(r.Violation.Trace.Steps), 0),
		)
	}},
	{"philosophers 4 deadlock after 4 steps", func(t testing.TB) error {
		r := explore(t, philosophers{n: 4}, Options{})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		v := r.Violation
		return all(
			want("kind", v.Kind, Deadlock),
			want("trace length", len(v.Trace.Steps), 4),
			want("trace length vs oracle", len(v.Trace.Steps), naive(philosophers{n: 4}).deadlockDepth),
			want("last state", v.Trace.States[4], []byte{holdsFirst, holdsFirst, holdsFirst, holdsFirst}),
			want("explanation", v.Explain, []string{
				"philosopher 0 holds fork 0, waits for fork 1",
				"philosopher 1 holds fork 1, waits for fork 2",
				"philosopher 2 holds fork 2, waits for fork 3",
				"philosopher 3 holds fork 3, waits for fork 0",
			}),
		)
	}},
	{"philosophers 5 fixed: no deadlock, no livelock, as the oracle", func(t testing.TB) error {
		m := philosophers{n: 5, fixed: true}
		r, o := explore(t, m, Options{Livelock: true}), naive(m)
		return all(
			want("verdict", r.Verdict, OK),
			want("states", r.Stats.States, 534),
			want("states vs oracle", r.Stats.States, o.states),
			want("transitions vs oracle", r.Stats.Transitions, uint64(o.transitions)),
			want("oracle deadlock", o.deadlockDepth, -1),
			want("depth", r.Stats.Depth, 15),
		)
	}},
	{"spinner with trap: livelock lasso", func(t testing.TB) error {
		r := explore(t, spinner{trap: true}, Options{Livelock: true})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		v := r.Violation
		return all(
			want("kind", v.Kind, Livelock),
			want("steps", texts(v.Trace), "p: enter spin\np: spin\np: spin\n"),
			want("loop", v.Trace.Loop, 1),
			want("no return", v.Trace.NoReturn, 1),
			want("states", v.Trace.States, []byte{0, 3, 4, 3}),
			want("explain", v.Explain, []string{"spinning in state 3"}),
		)
	}},
	{"spinner with a self-loop trap: lasso of one step", func(t testing.TB) error {
		r := explore(t, spinner{trap: true, selfLoop: true}, Options{Livelock: true})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		return all(
			want("kind", r.Violation.Kind, Livelock),
			want("steps", texts(r.Violation.Trace), "p: enter spin\np: spin\n"),
			want("loop", r.Violation.Trace.Loop, 1),
		)
	}},
	{"spinner without trap: cycles that can finish are fine", func(t testing.TB) error {
		r := explore(t, spinner{}, Options{Livelock: true})
		return all(
			want("verdict", r.Verdict, OK),
			want("states", r.Stats.States, 3),
			want("transitions", r.Stats.Transitions, uint64(3)),
			want("never fired", r.Stats.NeverFired(), []string{"enter spin", "spin"}),
		)
	}},
	{"spinner with trap, no livelock check: deadlock search alone passes", func(t testing.TB) error {
		r := explore(t, spinner{trap: true}, Options{})
		return want("verdict", r.Verdict, OK)
	}},
	{"fairness: a spin while the unblocking actor stays enabled is not fair", func(t testing.TB) error {
		r := explore(t, fairToy{}, Options{Livelock: true, Fairness: true})
		return all(
			want("verdict", r.Verdict, OK),
			want("states", r.Stats.States, 3),
		)
	}},
	{"fairness: a knock-back cycle that both keep moving on is a fair non-progress cycle", func(t testing.TB) error {
		if r := explore(t, fairToy{conflict: true}, Options{Livelock: true}); r.Verdict != OK {
			return fmt.Errorf("without fairness: %v, want ok (finishing stays reachable)", r.Verdict)
		}
		r := explore(t, fairToy{conflict: true}, Options{Livelock: true, Fairness: true})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		return all(
			want("kind", r.Violation.Kind, NonProgress),
			want("property", r.Violation.Property, "fair progress"),
			want("steps", texts(r.Violation.Trace), "P: step ahead\nQ: knock back\n"),
			want("loop", r.Violation.Trace.Loop, 0),
		)
	}},
	{"peterson: mutual exclusion holds", func(t testing.TB) error {
		m := peterson{}
		r, o := explore(t, m, Options{}), naive(m)
		return all(
			want("verdict", r.Verdict, OK),
			want("states", r.Stats.States, 20),
			want("states vs oracle", r.Stats.States, o.states),
			want("transitions vs oracle", r.Stats.Transitions, uint64(o.transitions)),
			want("P0 enters", r.Sometimes[0].Reached, true),
			want("P0 enters trace", len(r.Sometimes[0].Trace.Steps), 3),
		)
	}},
	{"peterson without turn, test then set: both enter", func(t testing.TB) error {
		r := explore(t, peterson{variant: "test-then-set"}, Options{})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		return all(
			want("property", r.Violation.Property, "mutual exclusion"),
			want("steps", texts(r.Violation.Trace), "P0: sees P1's flag down\nP1: sees P0's flag down\nP0: raises its flag and enters\nP1: raises its flag and enters\n"),
		)
	}},
	{"peterson without turn, set then test: deadlock", func(t testing.TB) error {
		r := explore(t, peterson{variant: "set-then-test"}, Options{})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		return all(
			want("kind", r.Violation.Kind, Deadlock),
			want("trace length", len(r.Violation.Trace.Steps), 2),
		)
	}},
}

func TestToys(t *testing.T) {
	for _, e := range expectations {
		t.Run(e.name, func(t *testing.T) {
			if err := e.check(t); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSeededBugsCaught runs the same expectations against the explorer with
// a bug seeded in it, and requires that at least one of them fails: a test
// suite that passes a broken engine proves nothing.
func TestSeededBugsCaught(t *testing.T) {
	for _, m := range []string{"last-level", "no-init-check", "livelock-deadends-only", "fair-any-cycle",
		"depth-bound-unchecked", "bound-drops-finding", "fair-whole-graph", "passes-ignore-ctx", "lookup-unchecked"} {
		t.Run(m, func(t *testing.T) {
			mutant = m
			defer func() { mutant = "" }()
			var failed []string
			for _, e := range expectations {
				if err := e.check(t); err != nil {
					failed = append(failed, e.name)
				}
			}
			if len(failed) == 0 {
				t.Fatalf("seeded bug %q passed every expectation", m)
			}
			t.Logf("seeded bug %q caught by: %s", m, strings.Join(failed, "; "))
		})
	}
}

func TestSameResultOnAnyNumberOfWorkers(t *testing.T) {
	models := []func(w int) (string, error){
		func(w int) (string, error) {
			r, err := Explore(context.Background(), philosophers{n: 6}, Options{Workers: w})
			if err != nil {
				return "", err
			}
			return fmt.Sprint(r.Stats.States, r.Stats.Transitions, r.Verdict, r.Violation.Trace.Path()), nil
		},
		func(w int) (string, error) {
			r, err := Explore(context.Background(), philosophers{n: 6, fixed: true}, Options{Workers: w, Livelock: true})
			if err != nil {
				return "", err
			}
			return fmt.Sprint(r.Stats.States, r.Stats.Transitions, r.Verdict, r.Stats.Fired), nil
		},
		// Levels of over 10,000 states: several windows per level, so the
		// workers expand one window while the main goroutine merges another.
		func(w int) (string, error) {
			r, err := Explore(context.Background(), grid{n: 6, k: 8}, Options{Workers: w, Livelock: true})
			if err != nil {
				return "", err
			}
			if r.Verdict != OK || r.Stats.States != 262144 {
				return "", fmt.Errorf("grid 6x8: %v with %d states", r.Verdict, r.Stats.States)
			}
			return fmt.Sprint(r.Stats.States, r.Stats.Transitions, r.Stats.Depth, r.Sometimes[0].Trace), nil
		},
		func(w int) (string, error) {
			r, err := Explore(context.Background(), counters{n: 5, k: 6, bad: true}, Options{Workers: w})
			if err != nil {
				return "", err
			}
			return fmt.Sprint(r.Stats.States, r.Stats.Transitions, r.Violation.Trace.Path()), nil
		},
	}
	for i, run := range models {
		first, err := run(1)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{2, 3, 8} {
			got, err := run(w)
			if err != nil {
				t.Fatal(err)
			}
			if got != first {
				t.Errorf("model %d: %d workers gave %s, 1 worker gave %s", i, w, got, first)
			}
		}
	}
}

func TestBoundsGiveIncomplete(t *testing.T) {
	big := counters{n: 6, k: 10} // a million states
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name   string
		ctx    context.Context
		opt    Options
		reason string
	}{
		{"states", context.Background(), Options{MaxStates: 1000}, "state bound of 1000 reached"},
		{"depth", context.Background(), Options{MaxDepth: 3}, "depth bound of 3 reached"},
		{"time", context.Background(), Options{Timeout: time.Millisecond}, "time bound reached"},
		{"memory", context.Background(), Options{MemoryLimit: 1 << 10}, "memory bound of 1024 bytes reached"},
		{"interrupt", cancelled, Options{}, "interrupted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Explore(c.ctx, big, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != Incomplete || r.Reason != c.reason {
				t.Fatalf("got %v %q, want incomplete %q", r.Verdict, r.Reason, c.reason)
			}
			if c.name == "states" && r.Stats.States != 1000 {
				t.Errorf("stored %d states under a bound of 1000", r.Stats.States)
			}
			if c.name == "depth" && r.Stats.Depth != 3 {
				t.Errorf("depth %d under a bound of 3", r.Stats.Depth)
			}
		})
	}
}

func TestDepthBoundThatCoversTheModelIsComplete(t *testing.T) {
	r := explore(t, counters{n: 2, k: 3}, Options{MaxDepth: 4})
	if r.Verdict != OK || r.Stats.States != 9 {
		t.Fatalf("got %v with %d states, want ok with 9", r.Verdict, r.Stats.States)
	}
}

func TestStepInvariant(t *testing.T) {
	r := explore(t, counters{n: 2, k: 3}, Options{})
	if r.Verdict != OK {
		t.Fatalf("got %v", r.Verdict)
	}
	m := stepBroken{counters{n: 2, k: 3}}
	r = explore(t, Model[[]byte, int](m), Options{})
	if r.Violation == nil || r.Violation.Kind != StepInvariant {
		t.Fatalf("got %v, want a step invariant violation", r.Verdict)
	}
	if got := texts(r.Violation.Trace); got != "c1: c1 := 1\n" {
		t.Errorf("trace %q", got)
	}
}

// stepBroken forbids incrementing c1: the first transition that does is the
// counterexample.
type stepBroken struct{ counters }

func (m stepBroken) Properties() []Property[[]byte, int] {
	return []Property[[]byte, int]{AlwaysStep[[]byte, int]("c1 never moves", func(from []byte, a int, to []byte) bool { return a != 1 })}
}

func TestReplayRejectsBadPath(t *testing.T) {
	m := counters{n: 2, k: 3}
	for _, p := range [][]int{nil, {1}, {0, 2}, {0, -1}} {
		if _, err := Replay(Model[[]byte, int](m), p); !errors.Is(err, ErrBadPath) {
			t.Errorf("path %v: err %v, want ErrBadPath", p, err)
		}
	}
	tr, err := Replay(Model[[]byte, int](m), []int{0, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.States[3]; !reflect.DeepEqual(got, []byte{1, 2}) {
		t.Errorf("state after replay %v", got)
	}
}

func TestProgressReportsEachPass(t *testing.T) {
	var got []Progress
	r := explore(t, fairToy{}, Options{Livelock: true, Fairness: true, ProgressEvery: time.Nanosecond,
		Progress: func(p Progress) { got = append(got, p) }})
	var starts []Phase
	for _, p := range got {
		if p.Start {
			starts = append(starts, p.Phase)
		}
	}
	if err := want("passes opened", starts, []Phase{PhaseSearch, PhaseLivelock, PhaseFairness}); err != nil {
		t.Error(err)
	}
	if last := got[len(got)-1]; last.States != r.Stats.States || last.Phase != PhaseFairness {
		t.Errorf("last report %+v, want the fairness pass with %d states", last, r.Stats.States)
	}
}

func TestStoreGrowsAndFindsEverything(t *testing.T) {
	for _, fp := range []bool{false, true} {
		st := newStore(fp)
		var keys [][]byte
		for i := range 100000 {
			keys = append(keys, fmt.Appendf(nil, "state-%d", i*7919))
		}
		for i, k := range keys {
			id, isNew, err := st.insert(k, st.hash(k))
			if err != nil || !isNew || (!fp && int(id) != i) {
				t.Fatalf("fingerprints %v: insert %d: id %d new %v err %v", fp, i, id, isNew, err)
			}
		}
		for i, k := range keys {
			id, ok := st.lookup(k, st.hash(k))
			if !ok || (!fp && int(id) != i) {
				t.Fatalf("fingerprints %v: lookup %d: id %d ok %v", fp, i, id, ok)
			}
			if _, isNew, _ := st.insert(k, st.hash(k)); isNew {
				t.Fatalf("fingerprints %v: key %d inserted twice", fp, i)
			}
		}
		if _, ok := st.lookup([]byte("absent"), st.hash([]byte("absent"))); ok {
			t.Fatalf("fingerprints %v: found a key never inserted", fp)
		}
		if st.count != len(keys) {
			t.Fatalf("fingerprints %v: %d stored, want %d", fp, st.count, len(keys))
		}
	}
}

func TestFairnessNeedsActors(t *testing.T) {
	if _, err := Explore(context.Background(), spinner{}, Options{Livelock: true, Fairness: true}); err == nil {
		t.Error("Fairness on a model without actors: no error")
	}
	if _, err := Explore(context.Background(), fairToy{}, Options{Fairness: true}); err == nil {
		t.Error("Fairness without Livelock: no error")
	}
}
