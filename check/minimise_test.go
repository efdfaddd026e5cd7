package check

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// The minimiser's tests hold what it returns to the reference explorer's
// own notions (reference_test.go), never to the minimiser's code: the
// result replays, is a violation of the same kind and property, is no
// longer than what it was given, uses only steps it was given, and no
// single step can be removed from it; a trace only reordered ends where it
// did, keeps each actor's steps in order, and is reached from the one
// given by swaps of steps that commute; minimising is deterministic and a
// second run changes nothing.

// logSpin is a worker P and a logger Q. Q writes two lines, then has
// nothing more to do; P may finish, or enter a spin it never leaves. The
// livelock's bottom component is the spin after Q's two lines, so the
// explorer's lasso runs through both lines, which the spin does not need.
type logSpin struct{}

type logAct struct {
	who  byte // 0 P, 1 Q
	what string
}

// A state is P's state (0 start, 1 and 2 spinning, 3 done) and the number
// of lines Q wrote.
func (logSpin) Init() [][2]byte { return [][2]byte{{}} }
func (logSpin) Actions(s [2]byte, dst []logAct) []logAct {
	if s[1] < 2 {
		dst = append(dst, logAct{1, "log"})
	}
	switch s[0] {
	case 0:
		dst = append(dst, logAct{0, "finish"}, logAct{0, "enter spin"})
	case 1, 2:
		dst = append(dst, logAct{0, "spin"})
	}
	return dst
}
func (logSpin) Next(s [2]byte, a logAct) [2]byte {
	switch a.what {
	case "log":
		s[1]++
	case "finish":
		s[0] = 3
	case "enter spin":
		s[0] = 1
	case "spin":
		s[0] = 3 - s[0]
	}
	return s
}
func (logSpin) Encode(dst []byte, s [2]byte) []byte { return append(dst, s[:]...) }
func (logSpin) Decode(src []byte) [2]byte           { return [2]byte(src) }
func (logSpin) Terminal(s [2]byte) bool             { return s[0] == 3 }
func (logSpin) Kinds() []string                     { return []string{"log", "finish", "enter spin", "spin"} }
func (m logSpin) Kind(a logAct) int                 { return indexOf(m.Kinds(), a.what) }
func (logSpin) Describe(s [2]byte, a logAct) Label {
	if a.who == 1 {
		return Label{Actor: "Q", Text: fmt.Sprintf("writes line %d", s[1]+1)}
	}
	return Label{Actor: "P", Text: a.what}
}
func (logSpin) Properties() []Property[[2]byte, logAct] { return nil }
func (logSpin) Actors() []string                        { return []string{"P", "Q"} }
func (logSpin) Actor(a logAct) int                      { return int(a.who) }
func (logSpin) Explain(s [2]byte) []string {
	return []string{fmt.Sprintf("P spins with %d lines logged", s[1])}
}

// minimise runs Minimise without options.
func minimise[S any, A comparable](m Model[S, A], v *Violation[S, A]) (*Violation[S, A], MinimiseStats, error) {
	return Minimise(context.Background(), m, v, MinimiseOptions{})
}

// handViolation replays path in m into a violation of kind k.
func handViolation[S, A any](t testing.TB, m Model[S, A], k ViolationKind, prop string, loop int, path ...int) *Violation[S, A] {
	t.Helper()
	tr, err := Replay(m, path)
	if err != nil {
		t.Fatal(err)
	}
	tr.Loop = loop
	return &Violation[S, A]{Kind: k, Property: prop, Trace: tr}
}

func figures(st MinimiseStats) string {
	return fmt.Sprintf("before %d after %d dropped %d moved %d", st.Before, st.After, st.Dropped, st.Moved)
}

var minimiseExpectations = []expectation{
	{"logger beside a livelock: the logger's steps are dropped", func(t testing.TB) error {
		r := explore(t, logSpin{}, Options{Livelock: true})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		in := r.Violation
		if err := all(
			want("explorer's lasso", texts(in.Trace), "Q: writes line 1\nQ: writes line 2\nP: enter spin\nP: spin\nP: spin\n"),
			want("explorer's loop", in.Trace.Loop, 3),
			want("explorer's no return", in.Trace.NoReturn, 3),
		); err != nil {
			return err
		}
		out, st, err := minimise(logSpin{}, in)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 5 after 3 dropped 2 moved 0"),
			want("steps", texts(out.Trace), "P: enter spin\nP: spin\nP: spin\n"),
			want("path", out.Trace.Path(), []int{0, 2, 1, 1}),
			want("states", out.Trace.States, [][2]byte{{0, 0}, {1, 0}, {2, 0}, {1, 0}}),
			want("loop", out.Trace.Loop, 1),
			want("no return", out.Trace.NoReturn, 1),
			want("explain", out.Explain, []string{"P spins with 0 lines logged"}),
			newReference[[2]byte, logAct](logSpin{}).real(out),
		)
	}},
	{"a wandering walk into a livelock: its detours are cut", func(t testing.TB) error {
		// try, retry, try, retry, enter spin, then spin four times
		// round 3-4-3-4-3, the loop at the first 3.
		m := spinner{trap: true}
		in := handViolation[byte, spin](t, m, Livelock, "no livelock", 5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0)
		out, st, err := minimise(m, in)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 9 after 3 dropped 6 moved 0"),
			want("steps", texts(out.Trace), "p: enter spin\np: spin\np: spin\n"),
			want("loop", out.Trace.Loop, 1),
			want("no return", out.Trace.NoReturn, 1),
			want("explain", out.Explain, []string{"spinning in state 3"}),
			newReference[byte, spin](m).real(out),
		)
	}},
	{"round-robin counters: each counter's steps grouped", func(t testing.TB) error {
		// A scheduler's trace that turns c0, c1, c2 in turn until all
		// three are at 3: 8 switches between actors, none needed.
		m := counters{n: 3, k: 4, bad: true}
		in := handViolation[[]byte, int](t, m, Invariant, "not all at K-1", -1, 0, 0, 1, 2, 0, 1, 2, 0, 1, 2)
		out, st, err := minimise(m, in)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 9 after 9 dropped 0 moved 9"),
			want("path", out.Trace.Path(), []int{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}),
			want("last state", loopEnd(out.Trace), []byte{3, 3, 3}),
			newReference[[]byte, int](m).real(out),
		)
	}},
	{"peterson's race: only the two entries commute", func(t testing.TB) error {
		m := peterson{variant: "test-then-set"}
		r := explore(t, m, Options{})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		out, st, err := minimise(m, r.Violation)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 4 after 4 dropped 0 moved 1"),
			want("steps", texts(out.Trace), "P0: sees P1's flag down\nP1: sees P0's flag down\nP1: raises its flag and enters\nP0: raises its flag and enters\n"),
			want("last state", loopEnd(out.Trace), loopEnd(r.Violation.Trace)),
		)
	}},
	{"the last writer of a shared variable: writes do not commute, nothing moves", func(t testing.TB) error {
		// A sets g to 1, then waits for g to be 2 and stops; B sets g to
		// 2 and stops. A, B, A deadlocks. Putting A's steps together
		// would need B's write first, which leaves g at 1 and A stuck
		// before its second step.
		m := &randProduct{
			moves:   [][]prodMove{{{0, 1, -1, 1}, {1, 2, 2, -1}}, {{0, 1, -1, 2}}},
			final:   []int{3, 3},
			globals: 3,
		}
		in := handViolation[[4]byte, prodAct](t, m, Deadlock, "no deadlock", -1, 0, 0, 0, 0)
		out, st, err := minimise(m, in)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 3 after 3 dropped 0 moved 0"),
			want("path", out.Trace.Path(), []int{0, 0, 0, 0}),
			newReference[[4]byte, prodAct](m).real(out),
		)
	}},
	{"breadth-first deadlock: nothing to drop", func(t testing.TB) error {
		r := explore(t, philosophers{n: 4}, Options{})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		out, st, err := minimise(philosophers{n: 4}, r.Violation)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 4 after 4 dropped 0 moved 0"),
			want("path", out.Trace.Path(), r.Violation.Trace.Path()),
			want("explain", out.Explain, r.Violation.Explain),
			want("loop", out.Trace.Loop, -1),
			want("no return", out.Trace.NoReturn, -1),
		)
	}},
	{"fair non-progress cycle: already minimal", func(t testing.TB) error {
		r := explore(t, fairToy{conflict: true}, Options{Livelock: true, Fairness: true})
		if r.Violation == nil {
			return fmt.Errorf("no violation; verdict %v", r.Verdict)
		}
		out, st, err := minimise(fairToy{conflict: true}, r.Violation)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 2 after 2 dropped 0 moved 0"),
			want("steps", texts(out.Trace), "P: step ahead\nQ: knock back\n"),
			want("loop", out.Trace.Loop, 0),
		)
	}},
	{"step invariant on a walk that goes on past it: it ends at the first breaking step", func(t testing.TB) error {
		// chain: 0 -> 1 -> 2 -> 3 -> 0; the move out of 3 is forbidden.
		// The walk goes round twice.
		m := chain()
		in := handViolation[byte, handMove](t, m, StepInvariant, m.props[0].Name, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		out, st, err := minimise(m, in)
		if err != nil {
			return err
		}
		return all(
			want("figures", figures(st), "before 8 after 4 dropped 4 moved 0"),
			want("path", out.Trace.Path(), []int{0, 0, 0, 0, 0}),
			newReference[byte, handMove](m).real(out),
		)
	}},
}

func TestMinimiseToys(t *testing.T) {
	for _, e := range minimiseExpectations {
		t.Run(e.name, func(t *testing.T) {
			if err := e.check(t); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMinimiseRejects: a trace that is not the violation it claims, and
// a livelock the bound cannot confirm, are errors, not results.
func TestMinimiseRejects(t *testing.T) {
	r := explore(t, logSpin{}, Options{Livelock: true})
	v := r.Violation
	cases := []struct {
		name string
		v    *Violation[[2]byte, logAct]
		opt  MinimiseOptions
		err  error
	}{
		{"livelock called a deadlock", &Violation[[2]byte, logAct]{Kind: Deadlock, Property: "no deadlock", Trace: v.Trace}, MinimiseOptions{}, ErrNotViolation},
		{"lasso that does not close", &Violation[[2]byte, logAct]{Kind: Livelock, Property: v.Property, Trace: Trace[[2]byte, logAct]{Steps: v.Trace.Steps[:4], Loop: 3}}, MinimiseOptions{}, ErrNotViolation},
		{"a step that is not enabled", &Violation[[2]byte, logAct]{Kind: Livelock, Property: v.Property, Trace: Trace[[2]byte, logAct]{Steps: v.Trace.Steps[3:], Loop: 0}}, MinimiseOptions{}, ErrNotViolation},
		{"no such property", &Violation[[2]byte, logAct]{Kind: Invariant, Property: "nothing", Trace: v.Trace}, MinimiseOptions{}, ErrNotViolation},
		{"bound too small to confirm", v, MinimiseOptions{MaxStates: 1}, ErrUnconfirmed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := Minimise(context.Background(), logSpin{}, c.v, c.opt)
			if !errors.Is(err, c.err) || out != nil {
				t.Fatalf("got %v, %v; want the error %v", out, err, c.err)
			}
		})
	}
	// A cycle that can still finish is no livelock.
	m := spinner{}
	in := handViolation[byte, spin](t, m, Livelock, "no livelock", 0, 0, 0, 0)
	if _, _, err := Minimise(context.Background(), m, in, MinimiseOptions{}); !errors.Is(err, ErrNotViolation) {
		t.Fatalf("a cycle that can finish: got %v, want ErrNotViolation", err)
	}
}

// countdown is a context whose Err reports it cancelled after n looks:
// a deterministic way to end a run at each point it looks.
type countdown struct {
	context.Context
	n *int
}

func (c countdown) Err() error {
	if *c.n <= 0 {
		return context.Canceled
	}
	*c.n--
	return nil
}

// TestMinimiseCutShort ends the minimiser at each of its looks at the
// context, on a walk into a livelock (dropping) and on a round-robin
// trace (reordering): what it returns must still be a checked violation,
// no longer than the one given.
func TestMinimiseCutShort(t *testing.T) {
	spinning := spinner{trap: true}
	cutShort(t, spinning, handViolation[byte, spin](t, spinning, Livelock, "no livelock", 5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0))
	round := counters{n: 3, k: 4, bad: true}
	cutShort(t, round, handViolation[[]byte, int](t, round, Invariant, "not all at K-1", -1, 0, 0, 1, 2, 0, 1, 2, 0, 1, 2))
}

func cutShort[S any, A comparable](t *testing.T, m Model[S, A], in *Violation[S, A]) {
	t.Helper()
	ref := newReference(m)
	cut := 0
	for n := 0; ; n++ {
		left := n
		out, st, err := Minimise(countdown{context.Background(), &left}, m, in, MinimiseOptions{})
		if err != nil {
			// Only a livelock needs the context to be confirmed.
			if !errors.Is(err, context.Canceled) || n > 0 || in.Kind != Livelock {
				t.Fatalf("cancelled after %d looks: %v", n, err)
			}
			continue
		}
		if !st.CutShort {
			if cut == 0 {
				t.Fatal("never cut short")
			}
			t.Logf("%v: cut short at %d points, then done", in.Kind, cut)
			return
		}
		cut++
		if st.Reason != "interrupted" {
			t.Errorf("reason %q", st.Reason)
		}
		if out.Trace.NoReturn == -1 && out.Kind == Livelock {
			// Not settled before the end: the reference says what it is.
			for i, s := range out.Trace.States {
				if x, _ := ref.node(s); !ref.canFinish[x] {
					out.Trace.NoReturn = i
					break
				}
			}
		}
		if err := ref.real(out); err != nil {
			t.Fatalf("cancelled after %d looks: %v", n, err)
		}
		if len(out.Trace.Steps) > len(in.Trace.Steps) {
			t.Fatalf("cancelled after %d looks: %d steps, more than the %d given", n, len(out.Trace.Steps), len(in.Trace.Steps))
		}
	}
}

// randProduct is a random system of 2 or 3 actors, each with a few local
// states and moves, sharing one variable g that a move may test and set.
// Unlike randModel's, its actions are named by actor and move, not by the
// state they lead to, so a step can be dropped and the ones after it still
// be enabled, and the steps of actors that leave g alone commute: the
// minimiser has something to drop and to reorder, and steps that touch g
// are ones it must not reorder.
type randProduct struct {
	moves    [][]prodMove // per actor
	final    []int        // per actor: the local state that counts as done
	globals  int          // g ranges over 0..globals-1
	exclude  [][4]int     // Always: not (actor [0] in [1] and actor [2] in [3])
	forbid   [][2]int     // AlwaysStep: actor [0]'s move [1] only when g is 0
	sometime int          // Sometimes: g reaches this value
}

type prodMove struct{ from, to, guard, set int } // guard, set: -1 for none

type prodAct struct{ actor, move int }

// A state is each actor's local state, then g.
func (m *randProduct) Init() [][4]byte { return [][4]byte{{}} }
func (m *randProduct) Actions(s [4]byte, dst []prodAct) []prodAct {
	for i, ms := range m.moves {
		for j, mv := range ms {
			if int(s[i]) == mv.from && (mv.guard < 0 || int(s[3]) == mv.guard) {
				dst = append(dst, prodAct{i, j})
			}
		}
	}
	return dst
}
func (m *randProduct) Next(s [4]byte, a prodAct) [4]byte {
	mv := m.moves[a.actor][a.move]
	s[a.actor] = byte(mv.to)
	if mv.set >= 0 {
		s[3] = byte(mv.set)
	}
	return s
}
func (m *randProduct) Encode(dst []byte, s [4]byte) []byte { return append(dst, s[:]...) }
func (m *randProduct) Decode(src []byte) [4]byte           { return [4]byte(src) }
func (m *randProduct) Terminal(s [4]byte) bool {
	for i, f := range m.final {
		if int(s[i]) != f {
			return false
		}
	}
	return true
}
func (m *randProduct) Kinds() []string    { return m.Actors() }
func (m *randProduct) Kind(a prodAct) int { return a.actor }
func (m *randProduct) Describe(s [4]byte, a prodAct) Label {
	mv := m.moves[a.actor][a.move]
	return Label{Actor: fmt.Sprintf("a%d", a.actor), Text: fmt.Sprintf("%d -> %d", mv.from, mv.to)}
}
func (m *randProduct) Actors() []string {
	var a []string
	for i := range m.moves {
		a = append(a, fmt.Sprintf("a%d", i))
	}
	return a
}
func (m *randProduct) Actor(a prodAct) int { return a.actor }
func (m *randProduct) Properties() []Property[[4]byte, prodAct] {
	var ps []Property[[4]byte, prodAct]
	for i, x := range m.exclude {
		ps = append(ps, Always[[4]byte, prodAct](fmt.Sprintf("exclude%d", i), func(s [4]byte) bool {
			return !(int(s[x[0]]) == x[1] && int(s[x[2]]) == x[3])
		}))
	}
	for i, f := range m.forbid {
		ps = append(ps, AlwaysStep(fmt.Sprintf("forbid%d", i), func(from [4]byte, a prodAct, _ [4]byte) bool {
			return a != prodAct{f[0], f[1]} || from[3] == 0
		}))
	}
	ps = append(ps, Sometimes[[4]byte, prodAct]("g reached", func(s [4]byte) bool { return int(s[3]) == m.sometime }))
	return ps
}

func (m *randProduct) String() string {
	return fmt.Sprintf("&randProduct{moves: %v, final: %v, globals: %d, exclude: %v, forbid: %v, sometime: %d}",
		m.moves, m.final, m.globals, m.exclude, m.forbid, m.sometime)
}

// genProduct draws a randProduct: 2 or 3 actors of 2 to 4 local states
// with 1 or 2 moves out of each, g over 1 to 3 values, up to two Always
// properties and one AlwaysStep property.
func genProduct(d drawer) *randProduct {
	m := &randProduct{globals: d.intRange(1, 3, "globals")}
	actors := d.intRange(2, 3, "actors")
	locals := make([]int, actors)
	for i := range actors {
		locals[i] = d.intRange(2, 4, "locals")
		var ms []prodMove
		for from := range locals[i] {
			for range d.intRange(1, 2, "moves") {
				mv := prodMove{from: from, to: d.intRange(0, locals[i]-1, "to"), guard: -1, set: -1}
				if d.intRange(0, 1, "touches g") == 0 {
					mv.guard = d.intRange(-1, m.globals-1, "guard")
					mv.set = d.intRange(-1, m.globals-1, "set")
				}
				ms = append(ms, mv)
			}
		}
		m.moves = append(m.moves, ms)
		m.final = append(m.final, d.intRange(0, locals[i]-1, "final"))
	}
	for range d.intRange(0, 2, "exclude") {
		a, b := d.intRange(0, actors-1, "exclude a"), d.intRange(0, actors-1, "exclude b")
		m.exclude = append(m.exclude, [4]int{a, d.intRange(1, locals[a]-1, "exclude a at"), b, d.intRange(1, locals[b]-1, "exclude b at")})
	}
	for range d.intRange(0, 1, "forbid") {
		if a := d.intRange(0, actors-1, "forbid actor"); len(m.moves[a]) > 0 {
			m.forbid = append(m.forbid, [2]int{a, d.intRange(0, len(m.moves[a])-1, "forbid move")})
		}
	}
	m.sometime = d.intRange(0, m.globals, "sometime")
	return m
}

// walkViolation walks m at random from an initial state and returns the
// violation the walk runs into, by the reference's notions, or nil: a
// state that breaks an Always property, a step that breaks an AlwaysStep
// one, a deadlock, or, when it comes back to a state, a livelock or a
// fair non-progress cycle. Unlike the explorer's, its traces wander.
func walkViolation[S, A any](m Model[S, A], ref *reference[S, A], d drawer) *Violation[S, A] {
	init := m.Init()
	path := []int{d.intRange(0, len(init)-1, "walk init")}
	s := init[path[0]]
	seen := []string{string(m.Encode(nil, s))}
	props := m.Properties()
	found := func(k ViolationKind, prop string, loop int) *Violation[S, A] {
		t, err := Replay(m, path)
		if err != nil {
			panic(err)
		}
		t.Loop = loop
		return &Violation[S, A]{Kind: k, Property: prop, Trace: t}
	}
	for range 40 {
		for _, p := range props {
			if p.Kind == AlwaysKind && !p.State(s) {
				return found(Invariant, p.Name, -1)
			}
		}
		acts := m.Actions(s, nil)
		if len(acts) == 0 {
			if m.Terminal(s) {
				return nil
			}
			return found(Deadlock, "no deadlock", -1)
		}
		i := d.intRange(0, len(acts)-1, "walk step")
		a := acts[i]
		path = append(path, i)
		t := m.Next(s, a)
		for _, p := range props {
			if p.Kind == StepKind && !p.Step(s, a, t) {
				return found(StepInvariant, p.Name, -1)
			}
		}
		s = t
		k := string(m.Encode(nil, s))
		seen = append(seen, k)
		j := slices.Index(seen, k)
		if j == len(seen)-1 || d.intRange(0, 4, "walk close") > 0 {
			continue
		}
		if x, _ := ref.node(s); !ref.canFinish[x] {
			return found(Livelock, "no livelock", j)
		}
		v := found(NonProgress, "fair progress", j)
		if ref.lasso(NonProgress, j, v.Trace) == nil && ref.weaklyFair(j, v.Trace) == nil {
			return v
		}
	}
	return nil
}

// stillViolated reports, by the reference's notions, whether the actions
// acts from m's initial state init, with loop, are a violation of kind k
// of the property named prop. Each action is looked up among the enabled
// ones.
func stillViolated[S any, A comparable](m Model[S, A], ref *reference[S, A], init int, acts []A, loop int, k ViolationKind, prop string) bool {
	s := m.Init()[init]
	path := []int{init}
	for _, a := range acts {
		i := slices.Index(m.Actions(s, nil), a)
		if i < 0 {
			return false
		}
		path = append(path, i)
		s = m.Next(s, a)
	}
	t, _ := Replay(m, path)
	p, _ := ref.prop(prop)
	switch k {
	case Invariant:
		return slices.ContainsFunc(t.States, func(s S) bool { return !p.State(s) })
	case StepInvariant:
		for i, st := range t.Steps {
			if !p.Step(t.States[i], st.Action, t.States[i+1]) {
				return true
			}
		}
		return false
	case Deadlock:
		return !m.Terminal(s) && len(m.Actions(s, nil)) == 0
	}
	if ref.lasso(k, loop, t) != nil {
		return false
	}
	if k == Livelock {
		x, _ := ref.node(t.States[loop])
		return !ref.canFinish[x]
	}
	return ref.weaklyFair(loop, t) == nil
}

func violationPrint[S, A any](v *Violation[S, A]) string {
	return fmt.Sprintf("%v %q %v loop %d noreturn %d %q", v.Kind, v.Property, v.Trace.Path(), v.Trace.Loop, v.Trace.NoReturn, v.Explain)
}

// loopEnd is the state a reordering must keep: the last one, or a
// lasso's loop state.
func loopEnd[S, A any](t Trace[S, A]) S {
	if t.Loop >= 0 {
		return t.States[t.Loop]
	}
	return t.States[len(t.States)-1]
}

// checkMinimised holds the minimisation of in to out (with opt, giving
// st) to what it owes, by the reference's notions.
func checkMinimised[S any, A comparable](m Model[S, A], ref *reference[S, A], in, out *Violation[S, A], st MinimiseStats, opt MinimiseOptions) error {
	if err := ref.real(out); err != nil {
		return fmt.Errorf("not a violation: %v", err)
	}
	if out.Kind != in.Kind || out.Property != in.Property || out.Trace.Init != in.Trace.Init {
		return fmt.Errorf("%v %q from %d, given %v %q from %d", out.Kind, out.Property, out.Trace.Init, in.Kind, in.Property, in.Trace.Init)
	}
	t, _ := Replay(m, out.Trace.Path())
	for i, s := range t.Steps {
		if s != out.Trace.Steps[i] {
			return fmt.Errorf("step %d is %v, its replay %v", i, out.Trace.Steps[i], s)
		}
	}
	n, n0 := len(out.Trace.Steps), len(in.Trace.Steps)
	if n > n0 || st.Before != n0 || st.After != n || st.Dropped != n0-n {
		return fmt.Errorf("%d steps from %d, figures %s", n, n0, figures(st))
	}
	// Only steps given, each at most as often as given.
	count := map[A]int{}
	for _, s := range in.Trace.Steps {
		count[s.Action]++
	}
	for _, s := range out.Trace.Steps {
		if count[s.Action]--; count[s.Action] < 0 {
			return fmt.Errorf("step %v more often than given", s.Action)
		}
	}
	if st.Dropped == 0 {
		// Only reordered: the same end (or loop state), Loop, and each
		// actor's steps in the same order.
		a, b := m.Encode(nil, loopEnd(out.Trace)), m.Encode(nil, loopEnd(in.Trace))
		if !bytes.Equal(a, b) || out.Trace.Loop != in.Trace.Loop {
			return fmt.Errorf("reordered to end at %v (loop %d), given %v (loop %d)", a, out.Trace.Loop, b, in.Trace.Loop)
		}
		if x, y := byActor(out.Trace), byActor(in.Trace); x != y {
			return fmt.Errorf("reordered an actor's steps: %s, given %s", x, y)
		}
		if !commutes(m, in.Trace, out.Trace) {
			return errors.New("reordered by swapping steps that do not commute")
		}
	}
	if opt.KeepSteps || st.CutShort {
		return nil
	}
	// No single step can go.
	acts := make([]A, n)
	for i, s := range out.Trace.Steps {
		acts[i] = s.Action
	}
	loop := out.Trace.Loop
	for k := range n {
		l := loop
		if loop >= 0 && k < loop {
			l--
		}
		if stillViolated(m, ref, out.Trace.Init, slices.Concat(acts[:k], acts[k+1:]), l, out.Kind, out.Property) {
			return fmt.Errorf("step %d can go", k)
		}
	}
	return nil
}

// commutes reports whether the steps of out are those of in reordered by
// swaps of adjacent steps that commute (each enabled before the other,
// the same state after both). It first brings each step of out, in turn,
// to its place by swaps, from the first step of in left with its action;
// failing that, it searches the reorderings of in breadth first, and gives
// up, saying yes, past 5,000 of them.
func commutes[S any, A comparable](m Model[S, A], in, out Trace[S, A]) bool {
	acts := func(t Trace[S, A]) []A {
		var as []A
		for _, s := range t.Steps {
			as = append(as, s.Action)
		}
		return as
	}
	run := func(as []A) ([][]byte, bool) {
		s := m.Init()[in.Init]
		encs := [][]byte{m.Encode(nil, s)}
		for _, a := range as {
			if !slices.Contains(m.Actions(s, nil), a) {
				return nil, false
			}
			s = m.Next(s, a)
			encs = append(encs, m.Encode(nil, s))
		}
		return encs, true
	}
	// swap swaps steps k and k+1 of as when they commute.
	swap := func(as []A, k int) ([]A, bool) {
		encs, ok := run(as)
		bs := slices.Clone(as)
		bs[k], bs[k+1] = bs[k+1], bs[k]
		e, ok2 := run(bs)
		return bs, ok && ok2 && bytes.Equal(e[k+2], encs[k+2])
	}
	start, want := acts(in), acts(out)
	greedy := func() bool {
		as := slices.Clone(start)
		for p, a := range want {
			q := p + slices.Index(as[p:], a)
			if q < p {
				return false
			}
			for k := q - 1; k >= p; k-- {
				var ok bool
				if as, ok = swap(as, k); !ok {
					return false
				}
			}
		}
		return true
	}
	if greedy() {
		return true
	}
	key := func(as []A) string { return fmt.Sprint(as) }
	seen := map[string]bool{key(start): true}
	for queue := [][]A{start}; len(queue) > 0 && len(seen) < 5000; queue = queue[1:] {
		as := queue[0]
		if slices.Equal(as, want) {
			return true
		}
		for k := 0; k+1 < len(as); k++ {
			if bs, ok := swap(as, k); ok && !seen[key(bs)] {
				seen[key(bs)] = true
				queue = append(queue, bs)
			}
		}
	}
	return len(seen) >= 5000
}

// byActor lists each actor's actions in the order of the trace.
func byActor[S, A any](t Trace[S, A]) string {
	seqs := map[string][]A{}
	var actors []string
	for _, s := range t.Steps {
		if _, ok := seqs[s.Label.Actor]; !ok {
			actors = append(actors, s.Label.Actor)
		}
		seqs[s.Label.Actor] = append(seqs[s.Label.Actor], s.Action)
	}
	slices.Sort(actors)
	var b strings.Builder
	for _, a := range actors {
		fmt.Fprintf(&b, "%s: %v; ", a, seqs[a])
	}
	return b.String()
}

// minimiseFigures are what the random minimisations did, in all.
type minimiseFigures struct{ cases, dropped, moved int }

// minimiseDifferential draws a model (a randModel or a randProduct), runs
// the explorer on it and takes a random walk, and minimises each violation
// found under options drawn from d. It returns what is wrong.
func minimiseDifferential(d drawer, fig *minimiseFigures) []error {
	if d.intRange(0, 1, "product") == 1 {
		m := genProduct(d)
		return minimiseModel[[4]byte, prodAct](m, m.String(), d, fig)
	}
	m := genModel(d)
	return minimiseModel[int, randAct](m, m.String(), d, fig)
}

func minimiseModel[S any, A comparable](m Model[S, A], desc string, d drawer, fig *minimiseFigures) (errs []error) {
	ref := newReference(m)
	var ins []*Violation[S, A]
	livelock := d.intRange(0, 1, "livelock") == 1
	fairness := livelock && d.intRange(0, 1, "fairness") == 1
	r, err := Explore(context.Background(), m, Options{Workers: 1, Livelock: livelock, Fairness: fairness})
	if err != nil {
		return []error{err}
	}
	if r.Violation != nil {
		ins = append(ins, r.Violation)
	}
	if v := walkViolation(m, ref, d); v != nil {
		ins = append(ins, v)
	}
	for _, in := range ins {
		// Options drawn, and reordering alone, whose promises (the same
		// steps, each actor's in the same order, to the same end) can be
		// checked from outside.
		drawn := MinimiseOptions{
			KeepSteps: d.intRange(0, 4, "keep steps") == 0,
			KeepOrder: d.intRange(0, 4, "keep order") == 0,
		}
		errs = append(errs, minimiseOne(m, ref, desc, in, drawn, fig)...)
		if !drawn.KeepSteps {
			errs = append(errs, minimiseOne(m, ref, desc, in, MinimiseOptions{KeepSteps: true}, fig)...)
		}
	}
	return errs
}

// minimiseOne minimises in with opt and checks the result, that Minimise
// is deterministic, and that a second run changes nothing.
func minimiseOne[S any, A comparable](m Model[S, A], ref *reference[S, A], desc string, in *Violation[S, A], opt MinimiseOptions, fig *minimiseFigures) (errs []error) {
	fail := func(err error) {
		errs = append(errs, fmt.Errorf("%w\ngiven: %s\nopt: %+v\nmodel: %s", err, violationPrint(in), opt, desc))
	}
	before := violationPrint(in)
	out, st, err := Minimise(context.Background(), m, in, opt)
	if err != nil {
		fail(err)
		return errs
	}
	if violationPrint(in) != before {
		fail(errors.New("the violation given was changed"))
	}
	if err := checkMinimised(m, ref, in, out, st, opt); err != nil {
		fail(fmt.Errorf("%v\ngot: %s (%s)", err, violationPrint(out), figures(st)))
		return errs
	}
	fig.cases++
	fig.dropped += st.Dropped
	fig.moved += st.Moved
	again, st2, err := Minimise(context.Background(), m, in, opt)
	if err != nil || violationPrint(again) != violationPrint(out) || st2 != st {
		fail(fmt.Errorf("not deterministic: %s (%s), then %v (%s), %v", violationPrint(out), figures(st), violationPrint(again), figures(st2), err))
		return errs
	}
	twice, st3, err := Minimise(context.Background(), m, out, opt)
	if err != nil || violationPrint(twice) != violationPrint(out) || st3.Dropped != 0 || st3.Moved != 0 {
		fail(fmt.Errorf("minimising again: %v (%s), %v; the first gave %s", violationPrint(twice), figures(st3), err, violationPrint(out)))
	}
	return errs
}

// TestMinimiseRandomModels minimises the explorer's violations and random
// walks' violations of random models: 300 models, 100 with -short.
func TestMinimiseRandomModels(t *testing.T) {
	reps := 3
	if testing.Short() {
		reps = 1
	}
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() != f.DefValue {
		reps = 1
	}
	var fig minimiseFigures
	for range reps {
		rapid.Check(t, func(rt *rapid.T) {
			if errs := minimiseDifferential(rapidDrawer{rt}, &fig); len(errs) > 0 {
				var b strings.Builder
				for _, err := range errs {
					fmt.Fprintf(&b, "%v\n", err)
				}
				rt.Fatal(b.String())
			}
		})
	}
	t.Logf("%d violations minimised: %d steps dropped, %d moved", fig.cases, fig.dropped, fig.moved)
	if fig.dropped == 0 || fig.moved == 0 {
		t.Errorf("%d steps dropped and %d moved: the random traces do not exercise the minimiser", fig.dropped, fig.moved)
	}
}

// minimiseSeededBugs are the bugs seeded in the minimiser (the mutant
// variable) that its tests must catch.
var minimiseSeededBugs = []string{
	"minimise-skips-verify",
	"minimise-reorder-noncommuting",
}

// TestMinimiseSeededBugsCaught runs the toy expectations and the random
// models, seeded, against the minimiser with each seeded bug, and requires
// that something fails that passes without it.
func TestMinimiseSeededBugsCaught(t *testing.T) {
	seeds := uint64(300)
	for _, bug := range minimiseSeededBugs {
		t.Run(bug, func(t *testing.T) {
			mutant = bug
			defer func() { mutant = "" }()
			var caught []string
			for _, e := range minimiseExpectations {
				if err := e.check(t); err != nil {
					caught = append(caught, e.name)
				}
			}
			for seed := range seeds {
				var fig minimiseFigures
				if errs := minimiseDifferential(newSeededDrawer(seed), &fig); len(errs) > 0 {
					mutant = ""
					clean := minimiseDifferential(newSeededDrawer(seed), &fig)
					mutant = bug
					if len(clean) == 0 {
						caught = append(caught, fmt.Sprintf("random model of seed %d: %v", seed, firstLine(errs[0])))
						break
					}
				}
			}
			if len(caught) == 0 {
				t.Fatalf("seeded bug %q passed every test", bug)
			}
			t.Logf("seeded bug %q caught by: %s", bug, strings.Join(caught, "; "))
		})
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
