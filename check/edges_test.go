package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// handGraph is a transition system written out by hand: state s has the
// moves out[s], in order; each move has an actor, and its kind is its
// actor. Labels name the states, so properties can refer to them.
type handGraph struct {
	init     []byte
	out      [][]handMove
	terminal []bool
	props    []Property[byte, handMove]
	actors   []string
	// panicIn makes the named method panic: "Init", "Explain", or
	// "Actions-late", which panics once armed is set (by a test's
	// progress callback, to reach a graph pass).
	panicIn string
	armed   *bool
}

type handMove struct {
	who int
	to  byte
}

func (g handGraph) Init() []byte {
	if g.panicIn == "Init" {
		panic("no initial state today")
	}
	return g.init
}
func (g handGraph) Actions(s byte, dst []handMove) []handMove {
	if g.panicIn == "Actions-late" && *g.armed {
		panic("actions listed too late")
	}
	return append(dst, g.out[s]...)
}
func (g handGraph) Next(s byte, a handMove) byte           { return a.to }
func (g handGraph) Encode(dst []byte, s byte) []byte       { return append(dst, s) }
func (g handGraph) Decode(src []byte) byte                 { return src[0] }
func (g handGraph) Terminal(s byte) bool                   { return g.terminal[s] }
func (g handGraph) Kinds() []string                        { return g.actors }
func (g handGraph) Kind(a handMove) int                    { return a.who }
func (g handGraph) Actors() []string                       { return g.actors }
func (g handGraph) Actor(a handMove) int                   { return a.who }
func (g handGraph) Properties() []Property[byte, handMove] { return g.props }
func (g handGraph) Describe(s byte, a handMove) Label {
	return Label{Actor: g.actors[a.who], Text: fmt.Sprintf("%d -> %d", s, a.to)}
}
func (g handGraph) Explain(s byte) []string {
	if g.panicIn == "Explain" {
		panic("cannot explain")
	}
	return []string{fmt.Sprintf("stuck in %d", s)}
}

// terminalBeside is the three states: 0 is terminal and leads to
// 1; from 1, P goes to 2 and Q back to 0; from 2, P goes back to 1. The
// cycle 1-2-1 is weakly fair (Q is disabled in 2) and never finishes, and
// the terminal state 0 shares a component of the whole graph with it.
func terminalBeside() handGraph {
	return handGraph{
		init:     []byte{0},
		out:      [][]handMove{{{0, 1}}, {{0, 2}, {1, 0}}, {{0, 1}}},
		terminal: []bool{true, false, false},
		actors:   []string{"P", "Q"},
	}
}

// chain is 0 -> 1 -> 2 -> 3 -> 0, with 0 terminal, and a step property
// that fails only on the move out of the deepest state, 3.
func chain() handGraph {
	return handGraph{
		init:     []byte{0},
		out:      [][]handMove{{{0, 1}}, {{0, 2}}, {{0, 3}}, {{0, 0}}},
		terminal: []bool{true, false, false, false},
		actors:   []string{"P"},
		props: []Property[byte, handMove]{AlwaysStep[byte, handMove]("never leaves 3", func(from byte, _ handMove, _ byte) bool {
			return from != 3
		})},
	}
}

// firstLevelBad is 3 counters mod 4 with an invariant that fails at depth
// 1, where a state bound of 4 trips while the level is merged.
type firstLevelBad struct{ counters }

func (m firstLevelBad) Properties() []Property[[]byte, int] {
	return []Property[[]byte, int]{Always[[]byte, int]("c0 is never 1", func(s []byte) bool { return s[0] != 1 })}
}

func init() {
	expectations = append(expectations,
		// Each of these fails with the seeded copy of an old engine bug
		// (TestSeededBugsCaught): depth-bound-unchecked,
		// bound-drops-finding, fair-whole-graph, passes-ignore-ctx.
		expectation{"depth bound at the last level: its transitions are still checked", func(t testing.TB) error {
			r := explore(t, chain(), Options{MaxDepth: 3})
			if r.Violation == nil {
				return fmt.Errorf("no violation; verdict %v (%s)", r.Verdict, r.Reason)
			}
			return all(
				want("property", r.Violation.Property, "never leaves 3"),
				want("trace length", len(r.Violation.Trace.Steps), 4),
			)
		}},
		expectation{"depth bound at the last level: complete, counted, no false livelock", func(t testing.TB) error {
			g := grid{n: 2, k: 3}
			full := explore(t, g, Options{Livelock: true})
			r := explore(t, g, Options{Livelock: true, MaxDepth: full.Stats.Depth})
			return all(
				want("verdict", r.Verdict, OK),
				want("states", r.Stats.States, full.Stats.States),
				want("transitions", r.Stats.Transitions, full.Stats.Transitions),
				want("fired", r.Stats.Fired, full.Stats.Fired),
			)
		}},
		expectation{"a finding beats a state bound that trips in the same window", func(t testing.TB) error {
			r := explore(t, firstLevelBad{counters{n: 3, k: 4}}, Options{MaxStates: 4})
			if r.Violation == nil {
				return fmt.Errorf("no violation; verdict %v (%s)", r.Verdict, r.Reason)
			}
			return all(
				want("property", r.Violation.Property, "c0 is never 1"),
				want("trace length", len(r.Violation.Trace.Steps), 1),
			)
		}},
		expectation{"fair progress: a terminal state beside a fair cycle does not hide it", func(t testing.TB) error {
			g := terminalBeside()
			if r := explore(t, g, Options{Livelock: true}); r.Verdict != OK {
				return fmt.Errorf("livelock alone: %v, want ok (0 stays reachable)", r.Verdict)
			}
			r := explore(t, g, Options{Livelock: true, Fairness: true})
			if r.Violation == nil {
				return fmt.Errorf("no violation; verdict %v", r.Verdict)
			}
			return all(
				want("kind", r.Violation.Kind, NonProgress),
				want("steps", texts(r.Violation.Trace), "P: 0 -> 1\nP: 1 -> 2\nP: 2 -> 1\n"),
				want("loop", r.Violation.Trace.Loop, 1),
			)
		}},
		expectation{"a context cancelled as a graph pass starts gives incomplete", func(t testing.TB) error {
			var errs []error
			for _, phase := range []Phase{PhaseLivelock, PhaseFairness} {
				ctx, cancel := context.WithCancel(context.Background())
				r, err := Explore(ctx, fairToy{}, Options{Livelock: true, Fairness: true, Progress: func(p Progress) {
					if p.Start && p.Phase == phase {
						cancel()
					}
				}})
				cancel()
				if err != nil {
					return err
				}
				errs = append(errs, want(phase.String()+": verdict", r.Verdict, Incomplete),
					want(phase.String()+": reason", r.Reason, "interrupted during the "+phase.String()+" pass"))
			}
			return all(errs...)
		}},
	)
}

func TestModelPanicAnywhereIsAnError(t *testing.T) {
	armed := false
	deadlock := handGraph{init: []byte{0}, out: [][]handMove{{{0, 1}}, nil}, terminal: []bool{false, false}, actors: []string{"P"}}
	cases := []struct {
		name string
		g    handGraph
		opt  Options
		want string
	}{
		{"Init", handGraph{panicIn: "Init", actors: []string{"P"}}, Options{}, "no initial state today"},
		{"Explain", func() handGraph { g := deadlock; g.panicIn = "Explain"; return g }(), Options{}, "cannot explain, explaining state 1 (reached by: P 0 -> 1)"},
		{"fair-progress pass", func() handGraph {
			g := terminalBeside()
			g.panicIn, g.armed = "Actions-late", &armed
			return g
		}(), Options{Livelock: true, Fairness: true, Progress: func(p Progress) { armed = armed || p.Phase == PhaseFairness }}, "listing the actions of state 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			armed = false
			r, err := Explore(context.Background(), Model[byte, handMove](c.g), c.opt)
			if !errors.Is(err, ErrModelPanic) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, %v; want ErrModelPanic saying %q", r, err, c.want)
			}
		})
	}
}

// broken is counters with one contract broken, named by how.
type broken struct {
	counters
	how string
}

func (m broken) Decode(src []byte) []byte {
	if m.how == "decode" && len(src) > 0 && src[0] == 2 {
		return []byte{0, 0}
	}
	return m.counters.Decode(src)
}

var flip bool

func (m broken) Actions(s []byte, dst []int) []int {
	dst = m.counters.Actions(s, dst)
	if m.how == "actions" && s[0] == 1 {
		flip = !flip
		if flip {
			dst = dst[:1]
		}
	}
	return dst
}
func (m broken) Kind(a int) int {
	if m.how == "kind" {
		return 7
	}
	return a
}
func (m broken) Next(s []byte, a int) []byte {
	if m.how == "mutate" {
		s[a]++
		return s
	}
	return m.counters.Next(s, a)
}
func (m broken) Properties() []Property[[]byte, int] {
	if m.how == "names" {
		p := Always[[]byte, int]("same", func([]byte) bool { return true })
		return []Property[[]byte, int]{p, p}
	}
	return nil
}

func TestValidateNamesTheBrokenContract(t *testing.T) {
	for how, want := range map[string]string{
		"decode":  "Encode(Decode(e))",
		"actions": "Actions gave",
		"kind":    "kind 7",
		"mutate":  "Next changed the state",
		"names":   `property name "same"`,
	} {
		t.Run(how, func(t *testing.T) {
			m := broken{counters{n: 2, k: 3}, how}
			err := Validate(Model[[]byte, int](m), 100)
			if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Validate: %v, want ErrInvalidModel saying %q", err, want)
			}
			if _, err := Explore(context.Background(), Model[[]byte, int](m), Options{}); !errors.Is(err, ErrInvalidModel) {
				t.Fatalf("Explore: %v, want ErrInvalidModel", err)
			}
		})
	}
	if err := Validate(Model[[]byte, int](counters{n: 3, k: 4}), 1000); err != nil {
		t.Errorf("a sound model: %v", err)
	}
}

// lateDecoder breaks its encoding only deep in the search, past what
// Validate walks before the search: the sample during the search finds it.
type lateDecoder struct{ grid }

func (m lateDecoder) Decode(src []byte) [8]byte {
	s := m.grid.Decode(src)
	if s[0] == 9 && s[1] == 9 && s[2] == 9 {
		s[3] = 0
	}
	return s
}

func TestContractCheckedDuringTheSearch(t *testing.T) {
	m := lateDecoder{grid{n: 4, k: 10}}
	if err := Validate(Model[[8]byte, int](m), validateWalk); err != nil {
		t.Fatalf("the walk before the search already sees it: %v", err)
	}
	_, err := Explore(context.Background(), Model[[8]byte, int](m), Options{Validate: true})
	if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), "reached by:") {
		t.Fatalf("Explore with Validate: %v, want ErrInvalidModel naming the path", err)
	}
}

func TestNoInitialStateIsAnError(t *testing.T) {
	g := handGraph{actors: []string{"P"}}
	if _, err := Explore(context.Background(), Model[byte, handMove](g), Options{}); !errors.Is(err, ErrInvalidModel) {
		t.Fatalf("got %v, want ErrInvalidModel", err)
	}
}
