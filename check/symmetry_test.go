package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
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
func (c symCounters) Reduced() bool { return true }

// Properties keeps counters' properties that treat the counters alike,
// and asks the guards of some counter rather than of c0.
func (c symCounters) Properties() []Property[[]byte, int] {
	var ps []Property[[]byte, int]
	for _, p := range c.counters.Properties() {
		if !strings.HasPrefix(p.Name, "c0 ") {
			ps = append(ps, p)
		}
	}
	return append(ps, Sometimes[[]byte, int]("a counter wraps to K-1", func(s []byte) bool { return slices.Contains(s, byte(c.k-1)) }))
}
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

// randPair is two copies of a random model side by side: a state is the
// pair of their states, either copy moves by its own actions, the pair is
// finished when both are, and each property asks of both copies what the
// random model asks of one. Swapping the copies is a symmetry; with
// reduced set, Encode identifies a pair with its swap.
type randPair struct {
	r       *randModel
	reduced bool
}

type pairAct struct {
	copy int
	a    randAct
}

func (p randPair) Init() [][2]int {
	var out [][2]int
	for _, i := range p.r.init {
		for _, j := range p.r.init {
			out = append(out, [2]int{i, j})
		}
	}
	return out
}
func (p randPair) Actions(s [2]int, dst []pairAct) []pairAct {
	for c := range 2 {
		for _, a := range p.r.acts[s[c]] {
			dst = append(dst, pairAct{c, a})
		}
	}
	return dst
}
func (p randPair) Next(s [2]int, a pairAct) [2]int { s[a.copy] = a.a.to; return s }
func (p randPair) Encode(dst []byte, s [2]int) []byte {
	if p.reduced && s[1] < s[0] {
		s[0], s[1] = s[1], s[0]
	}
	return append(dst, byte(s[0]), byte(s[1]))
}
func (p randPair) EncodeExact(dst []byte, s [2]int) []byte {
	return append(dst, byte(s[0]), byte(s[1]))
}
func (p randPair) Reduced() bool            { return p.reduced }
func (p randPair) Decode(src []byte) [2]int { return [2]int{int(src[0]), int(src[1])} }
func (p randPair) Terminal(s [2]int) bool   { return p.r.terminal[s[0]] && p.r.terminal[s[1]] }
func (p randPair) Kinds() []string          { return p.r.Kinds() }
func (p randPair) Kind(a pairAct) int       { return a.a.kind }
func (p randPair) Describe(s [2]int, a pairAct) Label {
	return Label{Actor: fmt.Sprintf("copy%d", a.copy), Text: fmt.Sprintf("%d -> %d", s[a.copy], a.a.to)}
}
func (p randPair) Properties() []Property[[2]int, pairAct] {
	r := p.r
	var ps []Property[[2]int, pairAct]
	for i, bad := range r.always {
		ps = append(ps, Always[[2]int, pairAct](fmt.Sprintf("always%d", i), func(s [2]int) bool {
			return r.label[s[0]] != bad && r.label[s[1]] != bad
		}))
	}
	for i, rule := range r.steps {
		ps = append(ps, AlwaysStep(fmt.Sprintf("step%d", i), func(from [2]int, a pairAct, to [2]int) bool {
			c := a.copy
			return !((rule.from < 0 || r.label[from[c]] == rule.from) && (rule.kind < 0 || a.a.kind == rule.kind) && (rule.to < 0 || r.label[to[c]] == rule.to))
		}))
	}
	for i, want := range r.sometimes {
		ps = append(ps, Sometimes[[2]int, pairAct](fmt.Sprintf("sometimes%d", i), func(s [2]int) bool {
			return r.label[s[0]] == want || r.label[s[1]] == want
		}))
	}
	return ps
}

// TestReducedAgreesWithReference is the reduction's differential test: on
// pairs of random models, the reduced search reports what the reference
// checker finds in the unreduced pair (the verdict, the kind, the length
// of a counterexample the search finds, the guards and their shortest
// witnesses), every counterexample is a path of the unreduced pair that
// ends as it says, and it never stores more states than the pair has.
func TestReducedAgreesWithReference(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		r := genModel(rapidDrawer{rt})
		if len(r.acts) > 16 {
			r.wide = false
		}
		full, red := randPair{r: r}, randPair{r: r, reduced: true}
		ref := newReference[[2]int, pairAct](full)
		want := ref.verdict(true, false)
		res, err := Explore[[2]int, pairAct](context.Background(), red, Options{Livelock: true, Workers: 1 + rapid.IntRange(0, 2).Draw(rt, "workers")})
		if err != nil {
			rt.Fatal(err)
		}
		got := refVerdict{verdict: res.Verdict}
		if v := res.Violation; v != nil {
			got.kind = v.Kind
			if want.search() {
				got.length = len(v.Trace.Steps)
			}
			if err := ref.real(v); err != nil {
				rt.Fatalf("%v\nmodel: %v", err, r)
			}
		}
		want.level = 0
		if got != want {
			rt.Fatalf("reduced %v, reference %v\nmodel: %v", got, want, r)
		}
		if res.Stats.States > len(ref.nodes) {
			rt.Fatalf("%d states reduced, %d in the pair", res.Stats.States, len(ref.nodes))
		}
		upto := ref.depth
		if res.Verdict == Violated && ref.findLevel >= 0 {
			upto = ref.findLevel
		}
		if err := ref.sometimes(res.Sometimes, true, upto); err != nil {
			rt.Fatalf("%v\nmodel: %v", err, r)
		}
	})
}

// orderSwapper is swapper with a second action that stays put, listed
// after the swap when the values are in order and before it otherwise:
// the same transitions, another action order. Rebuilt round by round, its
// lasso settles on staying put at (1, 0), never back at (0, 1): the loop
// must move to the state the rounds come back to.
type orderSwapper struct{ swapper }

func (w orderSwapper) Actions(s []byte, dst []int) []int {
	if s[0] < s[1] {
		return append(dst, 0, 1)
	}
	return append(dst, 1, 0)
}
func (w orderSwapper) Next(s []byte, a int) []byte {
	if a == 0 {
		return []byte{s[1], s[0]}
	}
	return slices.Clone(s)
}
func (w orderSwapper) Kinds() []string { return []string{"swap", "stay"} }
func (w orderSwapper) Kind(a int) int  { return a }

func TestReducedLassoSettlesElsewhere(t *testing.T) {
	r, err := Explore[[]byte, int](context.Background(), orderSwapper{swapper{reduced: true}}, Options{Livelock: true})
	if err != nil {
		t.Fatal(err)
	}
	v := r.Violation
	if v == nil || v.Kind != Livelock {
		t.Fatalf("%v, want a livelock", r.Verdict)
	}
	last := v.Trace.States[len(v.Trace.States)-1]
	if !bytes.Equal(v.Trace.States[v.Trace.Loop], last) || v.Trace.Loop >= len(v.Trace.Steps) {
		t.Errorf("the lasso's cycle from %d (%v) ends at %v", v.Trace.Loop, v.Trace.States[v.Trace.Loop], last)
	}
	// Minimising keeps it a real cycle: the minimiser compares real
	// states on a reduced model.
	mv, _, err := Minimise[[]byte, int](context.Background(), orderSwapper{swapper{reduced: true}}, v, MinimiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := len(mv.Trace.States) - 1
	if !bytes.Equal(mv.Trace.States[mv.Trace.Loop], mv.Trace.States[n]) {
		t.Errorf("minimised: the cycle from %v ends at %v", mv.Trace.States[mv.Trace.Loop], mv.Trace.States[n])
	}
}

// Minimising the swapper's lasso keeps its two real steps.
func TestReducedMinimiseKeepsTheRealCycle(t *testing.T) {
	m := swapper{reduced: true}
	r, err := Explore[[]byte, int](context.Background(), m, Options{Livelock: true})
	if err != nil {
		t.Fatal(err)
	}
	mv, _, err := Minimise[[]byte, int](context.Background(), m, r.Violation, MinimiseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := len(mv.Trace.States) - 1
	if n-mv.Trace.Loop != 2 || !bytes.Equal(mv.Trace.States[mv.Trace.Loop], mv.Trace.States[n]) {
		t.Errorf("minimised lasso: %v, loop at %d", mv.Trace.States, mv.Trace.Loop)
	}
}

// brokenSym claims a symmetry its steps do not have: counters whose Encode
// sorts them, but only the first counter may move. The walk that checks
// the model's contract finds a state and its representative with
// different successors.
type brokenSym struct{ symCounters }

func (b brokenSym) Actions(s []byte, dst []int) []int { return append(dst, 0) }

func TestReducedModelHeldToItsSymmetry(t *testing.T) {
	_, err := Explore[[]byte, int](context.Background(), brokenSym{symCounters{counters{n: 2, k: 3}}}, Options{})
	if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "symmetry is not one of its steps") {
		t.Fatalf("got %v, want the symmetry refused", err)
	}
}
