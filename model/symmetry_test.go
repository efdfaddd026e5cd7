package model

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// explore checks m with the passes a reduced model allows: safety,
// deadlock and livelock.
func explore(t testing.TB, m *Model) *check.Result[State, Action] {
	t.Helper()
	r, err := check.Explore(context.Background(), m, check.Options{Livelock: true, MaxStates: 2_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The copies each built-in and incident holds, as the reduction finds
// them: only copies that are the same program under other names, in one
// process, with no reaper among them.
func TestSymmetryFindsTheCopies(t *testing.T) {
	want := map[string]string{
		"webserver":  "[2 copies of [r0 w0]]",
		"pipeline":   "[]",
		"zio-cancel": "[2 copies of [t0 timeout0]]",
		// Copies around a shared object (the file all renders read,
		// the pipe all writers write), which stays where it is.
		"node-sass-pool":       "[4 copies of [js0]]",
		"node-sass-reserved":   "[4 copies of [render0 import0]]",
		"tokio-uring-overflow": "[4 copies of [task0]]",
		"envoy-listener":       "[]",
		"eventloop":            "[]",
	}
	for name, copies := range want {
		w, _ := load(t, name)
		m, err := New(w, Config{Policy: port.Poll, Low: workload.Unset, Symmetry: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(m.Copies()); got != copies {
			t.Errorf("%s: %s, want %s", name, got, copies)
		}
		if m.Reduced() != (copies != "[]") {
			t.Errorf("%s: Reduced is %v", name, m.Reduced())
		}
	}
}

// The reduction factors, pinned: the web server's n connections are n
// copies, and the reduced graph has close to n! fewer states.
func TestSymmetryReductionPinned(t *testing.T) {
	cases := []struct {
		conns, requests int
		full, reduced   int
	}{
		{2, 2, 1459, 745},
		{3, 2, 34462, 6191},
		{3, 3, 129421, 22651},
	}
	for _, c := range cases {
		w := builtin(t, "webserver", workload.Params{Conns: c.conns, Requests: c.requests, Window: 1})
		for _, sym := range []bool{false, true} {
			m, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset, Symmetry: sym})
			if err != nil {
				t.Fatal(err)
			}
			r := explore(t, m)
			want := c.full
			if sym {
				want = c.reduced
			}
			if r.Verdict != check.OK || r.Stats.States != want {
				t.Errorf("webserver %dx%d, symmetry %v: %v with %d states, want ok with %d", c.conns, c.requests, sym, verdict(r), r.Stats.States, want)
			}
		}
	}
}

// TestSymmetryAgrees holds the reduced search to the full one on every
// built-in and incident under every policy at caps 1 to 3 and with no
// cap: the same verdict, the same property, a counterexample of the same
// length, and that counterexample a path of the model as it is, which
// ends where the violation says: a deadlock, a broken invariant, or a
// lasso whose cycle comes back to its own real state.
func TestSymmetryAgrees(t *testing.T) {
	names := append(workload.BuiltinNames(), workload.IncidentNames()...)
	reduced := 0
	for _, name := range names {
		w, _ := load(t, name)
		for _, pol := range port.Policies() {
			for _, c := range []int{1, 2, 3, workload.Unlimited} {
				full, err := New(w, Config{Policy: pol, Cap: c, Low: workload.Unset})
				if err != nil {
					continue // a reserve the cap cannot hold: refused alike
				}
				red, err := New(w, Config{Policy: pol, Cap: c, Low: workload.Unset, Symmetry: true})
				if err != nil {
					t.Fatal(err)
				}
				if !red.Reduced() {
					continue
				}
				reduced++
				rf, rr := explore(t, full), explore(t, red)
				if err := sameFindings(full, rf, rr); err != nil {
					t.Errorf("%s %v cap %s: %v", name, pol, workload.CapText(c), err)
				}
			}
		}
	}
	if reduced < 50 {
		t.Errorf("only %d configurations reduced", reduced)
	}
}

// sameFindings compares rr, a reduced search, with rf, the full one of
// the model full: the same verdict, the same property broken, a
// counterexample of the same length outside a livelock, no more states,
// and the reduced counterexample a path of full that ends as it says.
func sameFindings(full *Model, rf, rr *check.Result[State, Action]) error {
	switch {
	case rf.Verdict != rr.Verdict || verdict(rf) != verdict(rr):
		return fmt.Errorf("full %s, reduced %s", verdict(rf), verdict(rr))
	case rr.Stats.States > rf.Stats.States:
		return fmt.Errorf("%d states reduced, %d in full", rr.Stats.States, rf.Stats.States)
	case rf.Violation == nil:
		return nil
	}
	vf, vr := rf.Violation, rr.Violation
	switch {
	case vf.Property != vr.Property || vf.Kind != vr.Kind:
		return fmt.Errorf("full breaks %q, reduced %q", vf.Property, vr.Property)
	case vf.Kind != check.Livelock && len(vf.Trace.Steps) != len(vr.Trace.Steps):
		return fmt.Errorf("a counterexample of %d steps in full, %d reduced", len(vf.Trace.Steps), len(vr.Trace.Steps))
	}
	return realPath(full, vr)
}

// realPath checks that v's trace is a path of the unreduced model m and
// ends as v says.
func realPath(m *Model, v *check.Violation[State, Action]) error {
	path := []int{v.Trace.Init}
	for _, s := range v.Trace.Steps {
		path = append(path, s.Index)
	}
	t, err := check.Replay[State, Action](m, path)
	if err != nil {
		return fmt.Errorf("the counterexample does not replay: %w", err)
	}
	for i := range t.States {
		if !bytes.Equal(m.EncodeExact(nil, t.States[i]), m.EncodeExact(nil, v.Trace.States[i])) {
			return fmt.Errorf("state %d differs on replay", i)
		}
	}
	last := t.States[len(t.States)-1]
	switch v.Kind {
	case check.Deadlock:
		if len(m.Actions(last, nil)) > 0 || m.Terminal(last) {
			return errors.New("the deadlock's last state can move, or is terminal")
		}
	case check.Invariant:
		i := slices.IndexFunc(m.Properties(), func(p check.Property[State, Action]) bool { return p.Name == v.Property })
		if i < 0 || m.Properties()[i].State(last) {
			return fmt.Errorf("%q holds in the last state", v.Property)
		}
	case check.StepInvariant:
		i := slices.IndexFunc(m.Properties(), func(p check.Property[State, Action]) bool { return p.Name == v.Property })
		n := len(t.Steps)
		if i < 0 || n == 0 || m.Properties()[i].Step(t.States[n-1], t.Steps[n-1].Action, last) {
			return fmt.Errorf("%q holds on the last step", v.Property)
		}
	case check.Livelock:
		if v.Trace.Loop < 0 || !bytes.Equal(m.EncodeExact(nil, t.States[v.Trace.Loop]), m.EncodeExact(nil, last)) {
			return fmt.Errorf("the lasso's cycle does not come back to state %d", v.Trace.Loop)
		}
	}
	return nil
}

// A canonical state is its own canonical form, and every state of a walk
// and each of its renamings have one canonical form.
func TestCanonicalIsAFunctionOfTheClass(t *testing.T) {
	w := builtin(t, "webserver", workload.Params{Conns: 3, Requests: 2, Window: 1})
	m, err := New(w, Config{Policy: port.Block, Cap: 3, Low: workload.Unset, Symmetry: true})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Init()[0]
	g := m.sym[0]
	for step := 0; step < 40; step++ {
		c := m.canonical(s)
		if !bytes.Equal(m.EncodeExact(nil, m.canonical(c)), m.EncodeExact(nil, c)) {
			t.Fatalf("step %d: the canonical form is not its own", step)
		}
		// Swap copies 0 and 1 by hand: the same class.
		sw := s.clone()
		for i := range g.threads[0] {
			a, b := g.threads[0][i], g.threads[1][i]
			sw.PC[a], sw.PC[b] = s.PC[b], s.PC[a]
			sw.Ready[a], sw.Ready[b] = s.Ready[b], s.Ready[a]
			sw.Cancel[a], sw.Cancel[b] = s.Cancel[b], s.Cancel[a]
		}
		for i := range g.objects[0] {
			a, b := g.objects[0][i], g.objects[1][i]
			sw.Items[2*a], sw.Items[2*b] = s.Items[2*b], s.Items[2*a]
			sw.Items[2*a+1], sw.Items[2*b+1] = s.Items[2*b+1], s.Items[2*a+1]
			sw.Closed[a], sw.Closed[b] = s.Closed[b], s.Closed[a]
		}
		for i := range g.peers[0] {
			a, b := g.peers[0][i], g.peers[1][i]
			sw.PeerPC[a], sw.PeerPC[b] = s.PeerPC[b], s.PeerPC[a]
		}
		swap := map[uint8]uint8{}
		for i := range g.threads[0] {
			a, b := uint8(g.threads[0][i]), uint8(g.threads[1][i])
			swap[a], swap[b] = b, a
		}
		sw.Msgs = nil
		for _, x := range s.Msgs {
			if to, ok := swap[x.Thread]; ok {
				x.Thread = to
			}
			sw.Msgs = insertMsg(sw.Msgs, x)
		}
		if !bytes.Equal(m.Encode(nil, sw), m.Encode(nil, s)) {
			t.Fatalf("step %d: a renaming encodes apart", step)
		}
		acts := m.Actions(s, nil)
		if len(acts) == 0 {
			break
		}
		s = m.Next(s, acts[step%len(acts)])
	}
}

// Fair progress is refused on a reduced model, and the summary says what
// was not checked.
func TestReducedFairnessRefused(t *testing.T) {
	w := builtin(t, "webserver", workload.Params{})
	m, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset, Symmetry: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := check.Explore(context.Background(), m, check.Options{Livelock: true, Fairness: true}); !errors.Is(err, check.ErrReducedFairness) {
		t.Fatalf("fair progress on a reduced model: %v", err)
	}
	sum := Summarize(m, explore(t, m))
	if slices.Contains(sum.Checked, "fair progress") || len(sum.NotChecked) != 1 || !strings.HasPrefix(sum.NotChecked[0], "fair progress") {
		t.Errorf("checked %v, not checked %v", sum.Checked, sum.NotChecked)
	}
}

// drawCopies draws a workload made of copies: a unit (one or two objects,
// one or two threads of process app, a peer when the unit has a conn) is
// written 2 or 3 times with its names numbered, beside an optional thread
// of its own, so that the symmetry reduction has copies to find. The
// unit's operations are drawn as genWorkload's are: reads, writes,
// submits and closes of its objects, a wait where a submit is left, a
// cancel of the unit's other thread.
func drawCopies(t *rapid.T) string {
	var unit strings.Builder
	kinds := []string{"pipe", "conn"}
	nobj := rapid.IntRange(1, 2).Draw(t, "objects")
	var objs []string
	hasConn := false
	for i := range nobj {
		k := kinds[rapid.IntRange(0, 1).Draw(t, "kind")]
		hasConn = hasConn || k == "conn"
		objs = append(objs, fmt.Sprintf("o%d_@", i))
		fmt.Fprintf(&unit, "%s o%d_@ capacity %d\n", k, i, rapid.IntRange(1, 2).Draw(t, "capacity"))
	}
	// A shared pipe that every copy may use alike: copies around a hub.
	hub := rapid.Bool().Draw(t, "hub")
	nth := rapid.IntRange(1, 2).Draw(t, "threads")
	var threads strings.Builder
	for i := range nth {
		fmt.Fprintf(&threads, "  thread t%d_@\n", i)
		pending := 0
		for range rapid.IntRange(1, 4).Draw(t, "operations") {
			o := objs[rapid.IntRange(0, len(objs)-1).Draw(t, "object")]
			ops := []string{"read " + o, "write " + o, "submit read " + o, "submit write " + o, "close " + o}
			if hub {
				ops = append(ops, "read hub", "write hub")
			}
			if pending > 0 {
				ops = append(ops, "wait")
			}
			if nth == 2 {
				ops = append(ops, fmt.Sprintf("cancel t%d_@", 1-i))
			}
			fmt.Fprintf(&threads, "    %s\n", drawOp(t, ops, &pending))
		}
		threads.WriteString("  end\n")
	}
	var peer strings.Builder
	if hasConn && rapid.Bool().Draw(t, "peer") {
		peer.WriteString("peer p_@\n")
		for range rapid.IntRange(1, 3).Draw(t, "peer operations") {
			o := objs[rapid.IntRange(0, len(objs)-1).Draw(t, "peer object")]
			peer.WriteString("  " + []string{"send ", "recv "}[rapid.IntRange(0, 1).Draw(t, "peer op")] + o + "\n")
		}
		peer.WriteString("end\n")
	}
	copies := rapid.IntRange(2, 3).Draw(t, "copies")
	var b strings.Builder
	for c := range copies {
		b.WriteString(strings.ReplaceAll(unit.String(), "@", fmt.Sprint(c)))
	}
	if hub {
		b.WriteString("pipe hub capacity 2\n")
	}
	own := rapid.Bool().Draw(t, "own thread")
	if own {
		b.WriteString("pipe own capacity 1\n")
	}
	fmt.Fprintf(&b, "process app cap %s\n", []string{"1", "2", "3", "unlimited"}[rapid.IntRange(0, 3).Draw(t, "cap")])
	for c := range copies {
		b.WriteString(strings.ReplaceAll(threads.String(), "@", fmt.Sprint(c)))
	}
	if own {
		b.WriteString("  thread solo\n    write own\n    read own\n  end\n")
	}
	b.WriteString("end\n")
	for c := range copies {
		b.WriteString(strings.ReplaceAll(peer.String(), "@", fmt.Sprint(c)))
	}
	return b.String()
}

// symmetryAgrees is the property of TestSymmetryAgreesOnCopies: on a drawn
// workload of copies, under a drawn policy, the reduced search and the
// full one (both with the livelock pass) agree as sameFindings says.
func symmetryAgrees(t *rapid.T) {
	text, full, red := drawnModels(t, drawCopies, "copies.wl", true)
	if !red.Reduced() {
		t.Fatalf("no copies found in\n%s", text)
	}
	opt := check.Options{Livelock: true, MaxStates: 50_000, Workers: 1}
	rf, err := check.Explore(context.Background(), full, opt)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := check.Explore(context.Background(), red, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rf.Verdict == check.Incomplete || rr.Verdict == check.Incomplete {
		t.Skip("too big to compare")
	}
	if err := sameFindings(full, rf, rr); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
}

// TestSymmetryAgreesOnCopies holds the symmetry reduction to the full
// search on drawn workloads of copies, beside TestSymmetryAgrees on the
// built-ins and the incidents.
func TestSymmetryAgreesOnCopies(t *testing.T) {
	rapid.Check(t, symmetryAgrees)
}
