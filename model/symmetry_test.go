package model

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

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
				key := fmt.Sprintf("%s %v cap %s", name, pol, workload.CapText(c))
				rf, rr := explore(t, full), explore(t, red)
				switch {
				case rf.Verdict != rr.Verdict || verdict(rf) != verdict(rr):
					t.Errorf("%s: full %s, reduced %s", key, verdict(rf), verdict(rr))
					continue
				case rr.Stats.States > rf.Stats.States:
					t.Errorf("%s: %d states reduced, %d in full", key, rr.Stats.States, rf.Stats.States)
				}
				if rf.Violation == nil {
					continue
				}
				vf, vr := rf.Violation, rr.Violation
				if vf.Property != vr.Property || vf.Kind != vr.Kind {
					t.Errorf("%s: full breaks %q, reduced %q", key, vf.Property, vr.Property)
				}
				if vf.Kind != check.Livelock && len(vf.Trace.Steps) != len(vr.Trace.Steps) {
					t.Errorf("%s: a counterexample of %d steps in full, %d reduced", key, len(vf.Trace.Steps), len(vr.Trace.Steps))
				}
				if err := realPath(full, vr); err != nil {
					t.Errorf("%s: %v", key, err)
				}
			}
		}
	}
	if reduced < 50 {
		t.Errorf("only %d configurations reduced", reduced)
	}
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
