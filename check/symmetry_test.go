package check

import (
	"bytes"
	"context"
	"slices"
	"testing"
)

// symCounters is counters with the counters interchangeable: its Encode
// sorts them, so the explorer stores one state per multiset of values:
// C(N+K-1, N) states instead of K^N.
type symCounters struct{ counters }

func (c symCounters) Encode(dst []byte, s []byte) []byte {
	t := slices.Clone(s)
	slices.Sort(t)
	return append(dst, t...)
}
func (c symCounters) Reduced() bool                           { return true }
func (c symCounters) EncodeExact(dst []byte, s []byte) []byte { return append(dst, s...) }
func (c symCounters) Actors() []string                        { return c.Kinds() }
func (c symCounters) Actor(a int) int                         { return a }

// replayed checks that t is a path of the unreduced counters, step by
// step, and returns its last state.
func replayed(t *testing.T, c counters, tr Trace[[]byte, int]) []byte {
	t.Helper()
	path := []int{tr.Init}
	for _, s := range tr.Steps {
		path = append(path, s.Index)
	}
	re, err := Replay[[]byte, int](c, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range re.States {
		if !bytes.Equal(re.States[i], tr.States[i]) {
			t.Fatalf("state %d: %v on replay, %v in the trace", i, re.States[i], tr.States[i])
		}
	}
	return re.States[len(re.States)-1]
}

// The reduced search finds the same violation, at the same depth, in far
// fewer states, and its counterexample is a path of the unreduced model.
func TestReducedInvariant(t *testing.T) {
	c := counters{n: 3, k: 3, bad: true}
	full, err := Explore[[]byte, int](context.Background(), c, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	red, err := Explore[[]byte, int](context.Background(), symCounters{c}, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if full.Violation == nil || red.Violation == nil || red.Violation.Property != full.Violation.Property {
		t.Fatalf("full %v, reduced %v", full.Violation, red.Violation)
	}
	if n, m := len(full.Violation.Trace.Steps), len(red.Violation.Trace.Steps); n != m || n != 6 {
		t.Errorf("counterexamples of %d and %d steps, want 6", n, m)
	}
	if last := replayed(t, c, red.Violation.Trace); !bytes.Equal(last, []byte{2, 2, 2}) {
		t.Errorf("the reduced counterexample ends at %v", last)
	}
	// All of both graphs: 27 states, and the 10 multisets of 3 values.
	c.bad = false
	for _, x := range []struct {
		m    Model[[]byte, int]
		want int
	}{{c, 27}, {symCounters{c}, 10}} {
		r, err := Explore(context.Background(), x.m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Verdict != OK || r.Stats.States != x.want {
			t.Errorf("%T: %v with %d states, want ok with %d", x.m, r.Verdict, r.Stats.States, x.want)
		}
	}
}

// A livelock's lasso found in the reduced graph is followed round until
// the real state repeats: a real cycle of the unreduced model.
func TestReducedLassoCloses(t *testing.T) {
	for _, n := range []int{2, 3, 4} {
		c := counters{n: n, k: 3}
		r, err := Explore[[]byte, int](context.Background(), symCounters{c}, Options{Livelock: true})
		if err != nil {
			t.Fatal(err)
		}
		v := r.Violation
		if v == nil || v.Kind != Livelock || v.Trace.Loop < 0 {
			t.Fatalf("%d counters: %v, want a livelock", n, r.Verdict)
		}
		last := replayed(t, c, v.Trace)
		if !bytes.Equal(v.Trace.States[v.Trace.Loop], last) {
			t.Errorf("%d counters: the lasso ends at %v, its cycle began at %v", n, last, v.Trace.States[v.Trace.Loop])
		}
	}
}

// Fair progress is refused on a reduced model.
func TestReducedFairness(t *testing.T) {
	_, err := Explore[[]byte, int](context.Background(), symCounters{counters{n: 2, k: 2}}, Options{Livelock: true, Fairness: true})
	if err != ErrReducedFairness {
		t.Fatalf("got %v, want ErrReducedFairness", err)
	}
}

// swapper is two values that swap places forever: in the reduced graph
// one state with a loop onto itself, in the model a cycle of two. Its
// lasso must be followed round twice to come back to its real state.
type swapper struct{ reduced bool }

func (w swapper) Init() [][]byte                    { return [][]byte{{0, 1}} }
func (w swapper) Actions(s []byte, dst []int) []int { return append(dst, 0) }
func (w swapper) Next(s []byte, a int) []byte       { return []byte{s[1], s[0]} }
func (w swapper) Encode(dst []byte, s []byte) []byte {
	if w.reduced {
		return append(dst, min(s[0], s[1]), max(s[0], s[1]))
	}
	return append(dst, s...)
}
func (w swapper) Decode(src []byte) []byte                { return slices.Clone(src) }
func (w swapper) Terminal([]byte) bool                    { return false }
func (w swapper) Kinds() []string                         { return []string{"swap"} }
func (w swapper) Kind(int) int                            { return 0 }
func (w swapper) Describe([]byte, int) Label              { return Label{Actor: "w", Text: "swaps"} }
func (w swapper) Properties() []Property[[]byte, int]     { return nil }
func (w swapper) Reduced() bool                           { return w.reduced }
func (w swapper) EncodeExact(dst []byte, s []byte) []byte { return append(dst, s...) }

func TestReducedLassoGoesRoundAgain(t *testing.T) {
	r, err := Explore[[]byte, int](context.Background(), swapper{reduced: true}, Options{Livelock: true})
	if err != nil {
		t.Fatal(err)
	}
	v := r.Violation
	if r.Stats.States != 1 || v == nil || v.Kind != Livelock {
		t.Fatalf("%d states, %v; want 1 state and a livelock", r.Stats.States, r.Verdict)
	}
	if got := len(v.Trace.Steps) - v.Trace.Loop; got != 2 || !bytes.Equal(v.Trace.States[v.Trace.Loop], v.Trace.States[len(v.Trace.States)-1]) {
		t.Errorf("a cycle of %d steps from %v to %v, want 2 back to the same", got, v.Trace.States[v.Trace.Loop], v.Trace.States[len(v.Trace.States)-1])
	}
}
