package check

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestEngineAgreesWithReference draws small random transition systems and
// options and holds the explorer to the reference explorer: verdicts,
// counterexamples, figures, guards, bounds, cancellation, workers. It runs
// 3000 models, 200 with -short; -rapid.checks=N runs N.
func TestEngineAgreesWithReference(t *testing.T) {
	reps := 30 // rapid runs 100 checks each, or 20 with -short
	if testing.Short() {
		reps = 10
	}
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() != f.DefValue {
		reps = 1
	}
	for range reps {
		rapid.Check(t, func(rt *rapid.T) {
			m := genModel(rapidDrawer{rt})
			if ds := differential(m, rapidDrawer{rt}); len(ds) > 0 {
				var b strings.Builder
				for _, d := range ds {
					fmt.Fprintf(&b, "%v\n", d)
				}
				rt.Fatalf("%smodel: %v", b.String(), m)
			}
		})
	}
}

// seededBugs are the bugs seeded in the explorer (its mutant variable) that
// the differential test must catch.
var seededBugs = []string{
	"depth-bound-unchecked",
	"bound-drops-finding",
	"fair-whole-graph",
	"passes-ignore-ctx",
	"last-level",
	"no-init-check",
	"livelock-deadends-only",
	"fair-any-cycle",
	"fingerprint-proves",
}

// TestReferenceCatchesSeededBugs runs the differential test on seeded
// random models against the explorer with each seeded bug, and requires a
// disagreement that the explorer without the bug does not have on the same
// model and options.
func TestReferenceCatchesSeededBugs(t *testing.T) {
	seeds := uint64(1500)
	if testing.Short() {
		seeds = 300
	}
	run := func(seed uint64) map[string]bool {
		d := newSeededDrawer(seed)
		got := map[string]bool{}
		for _, x := range differential(genModel(d), d) {
			got[x.String()] = true
		}
		return got
	}
	clean := map[uint64]map[string]bool{}
	for _, bug := range seededBugs {
		t.Run(bug, func(t *testing.T) {
			for seed := range seeds {
				base, ok := clean[seed]
				if !ok {
					base = run(seed)
					clean[seed] = base
				}
				mutant = bug
				got := run(seed)
				mutant = ""
				for x := range got {
					if !base[x] {
						t.Logf("caught on seed %d by %s\nmodel: %v", seed, x, genModel(newSeededDrawer(seed)))
						return
					}
				}
			}
			t.Errorf("seeded bug %q: no disagreement with the reference in %d models", bug, seeds)
		})
	}
}

// c0Stays is 3 counters mod 4 with an invariant that fails at depth 1.
type c0Stays struct{ counters }

func (c0Stays) Properties() []Property[[]byte, int] {
	return []Property[[]byte, int]{Always[[]byte, int]("c0 stays 0", func(s []byte) bool { return s[0] == 0 })}
}

// TestStateBoundKeepsTheFinding: the state bound trips while the level
// with the bad state is merged; the violation is real and must win.
func TestStateBoundKeepsTheFinding(t *testing.T) {
	r := explore(t, Model[[]byte, int](c0Stays{counters{n: 3, k: 4}}), Options{MaxStates: 4})
	if r.Verdict != Violated || r.Violation.Kind != Invariant || len(r.Violation.Trace.Steps) != 1 {
		t.Fatalf("got %v (%s), want an invariant violation in 1 step", r.Verdict, r.Reason)
	}
}

// stuckAtTop forbids any move out of the deepest state of 2 counters mod 3.
type stuckAtTop struct{ counters }

func (stuckAtTop) Properties() []Property[[]byte, int] {
	return []Property[[]byte, int]{AlwaysStep[[]byte, int]("no move from the top", func(from []byte, a int, to []byte) bool {
		return from[0] != 2 || from[1] != 2
	})}
}

// TestDepthBoundChecksTheLastLevelsSteps: at the depth bound the last
// level's transitions are still checked.
func TestDepthBoundChecksTheLastLevelsSteps(t *testing.T) {
	r := explore(t, Model[[]byte, int](stuckAtTop{counters{n: 2, k: 3}}), Options{MaxDepth: 4})
	if r.Verdict != Violated || r.Violation.Kind != StepInvariant || len(r.Violation.Trace.Steps) != 5 {
		t.Fatalf("got %v (%s), want a step violation in 5 steps", r.Verdict, r.Reason)
	}
}

// TestFairCycleBesideATerminalStateWithActions: 0 is terminal and moves to
// 1; P cycles 1 -> 2 -> 1, and Q, disabled in 2, could go back to 0. The
// cycle is fair; the terminal state beside it must not hide it.
func TestFairCycleBesideATerminalStateWithActions(t *testing.T) {
	m := &randModel{init: []int{0}, kinds: 1, actors: 2,
		terminal: []bool{true, false, false},
		label:    []int{0, 0, 0},
		acts: [][]randAct{
			/* 0 */ {{1, 0, 0}},
			/* 1 */ {{2, 0, 0}, {0, 0, 1}},
			/* 2 */ {{1, 0, 0}},
		}}
	r := explore(t, Model[int, randAct](m), Options{Livelock: true, Fairness: true})
	if r.Verdict != Violated || r.Violation.Kind != NonProgress {
		t.Fatalf("got %v, want a non-progress cycle", r.Verdict)
	}
	if err := newReference[int, randAct](m).real(r.Violation); err != nil {
		t.Fatal(err)
	}
}

// fairGrid is grid with one actor per counter: no livelock (every state
// can count back to zero), but a fair cycle through the non-zero states.
type fairGrid struct{ grid }

func (fairGrid) Actors() []string { return []string{"0", "1", "2"} }
func (fairGrid) Actor(a int) int  { return a }
func (g fairGrid) String() string { return fmt.Sprintf("grid %dx%d", g.n, g.k) }

// TestGraphPassesHonourCancellation cancels the context as the livelock or
// fair-progress pass starts, on graphs large enough for the pass to look at
// the context on its way: the check must end incomplete.
func TestGraphPassesHonourCancellation(t *testing.T) {
	cases := []struct {
		phase Phase
		run   func(ctx context.Context, opt Options) (*Result[[8]byte, int], error)
	}{
		{PhaseLivelock, func(ctx context.Context, opt Options) (*Result[[8]byte, int], error) {
			return Explore(ctx, Model[[8]byte, int](livelockGrid{grid{n: 3, k: 26}}), opt)
		}},
		{PhaseFairness, func(ctx context.Context, opt Options) (*Result[[8]byte, int], error) {
			return Explore(ctx, Model[[8]byte, int](fairGrid{grid{n: 3, k: 26}}), opt)
		}},
	}
	for _, c := range cases {
		t.Run(c.phase.String(), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r, err := c.run(ctx, Options{Livelock: true, Fairness: c.phase == PhaseFairness, Progress: func(p Progress) {
				if p.Start && p.Phase == c.phase {
					cancel()
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != Incomplete {
				t.Fatalf("cancelled as the %v pass started: got %v, want incomplete", c.phase, r.Verdict)
			}
		})
	}
}

// livelockGrid is grid with no terminal state: one big livelock.
type livelockGrid struct{ grid }

func (livelockGrid) Terminal([8]byte) bool { return false }
