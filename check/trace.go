package check

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrBadPath is returned by [Replay] for a path that does not fit the model.
var ErrBadPath = errors.New("check: path does not fit the model")

// Replay rebuilds a trace by re-running m along path: the index of an
// initial state, then the index of each step's action among the actions
// enabled before it. It is how the explorer builds its counterexamples from
// the parent links it stores, and how a stored trace is checked against a
// model. Loop and NoReturn of the result are -1.
func Replay[S, A any](m Model[S, A], path []int) (Trace[S, A], error) {
	var acts []A
	return walk(m, path, func(s S, i, _ int) (S, Step[A], error) {
		acts = m.Actions(s, acts[:0])
		if i < 0 || i >= len(acts) {
			var zero S
			return zero, Step[A]{}, fmt.Errorf("takes action %d of %d", i, len(acts))
		}
		a := acts[i]
		return m.Next(s, a), Step[A]{Index: i, Action: a, Label: m.Describe(s, a)}, nil
	})
}

// replayReduced is [Replay] of a path the explorer stored for a model that
// identifies symmetric states: each index is an action of the stored
// representative, which may be a renaming of the real state the trace has
// reached. Each step is matched to the first action of the real state
// whose successor encodes as the representative's does, so the trace is a
// path of the model as it is, with its own action indices.
//
// lastStep, when not nil, must also hold of the last step: a step
// invariant's counterexample ends on a step that breaks it, and of the
// actions that reach the same state only some may.
func replayReduced[S, A any](m Model[S, A], path []int, lastStep func(from S, a A, to S) bool) (Trace[S, A], error) {
	return walk(m, path, func(s S, i, n int) (S, Step[A], error) {
		var also func(S, A, S) bool
		if n == len(path)-1 {
			also = lastStep
		}
		return matchStep(m, s, i, also)
	})
}

// walk builds a trace from path's initial state, taking each later index
// by step, which is given the state, the index and the step's number
// (from 1). Loop and NoReturn of the result are -1.
func walk[S, A any](m Model[S, A], path []int, step func(s S, i, n int) (S, Step[A], error)) (Trace[S, A], error) {
	t := Trace[S, A]{Loop: -1, NoReturn: -1}
	if len(path) == 0 {
		return t, fmt.Errorf("%w: empty path", ErrBadPath)
	}
	init := m.Init()
	if path[0] < 0 || path[0] >= len(init) {
		return t, fmt.Errorf("%w: initial state %d of %d", ErrBadPath, path[0], len(init))
	}
	t.Init = path[0]
	s := init[path[0]]
	t.States = append(t.States, s)
	for n, i := range path[1:] {
		next, st, err := step(s, i, n+1)
		if err != nil {
			return t, fmt.Errorf("%w: step %d %v", ErrBadPath, n+1, err)
		}
		t.Steps = append(t.Steps, st)
		s = next
		t.States = append(t.States, s)
	}
	return t, nil
}

// matchStep takes, from the real state s, the step that the stored index
// i names in s's representative: the first action whose successor encodes
// as the representative's, and of which also, when not nil, holds.
func matchStep[S, A any](m Model[S, A], s S, i int, also func(from S, a A, to S) bool) (S, Step[A], error) {
	var zero S
	rep := m.Decode(m.Encode(nil, s))
	acts := m.Actions(rep, nil)
	if i < 0 || i >= len(acts) {
		return zero, Step[A]{}, fmt.Errorf("takes action %d of %d", i, len(acts))
	}
	want := m.Encode(nil, m.Next(rep, acts[i]))
	var got []byte
	for j, a := range m.Actions(s, nil) {
		next := m.Next(s, a)
		if got = m.Encode(got[:0], next); bytes.Equal(got, want) && (also == nil || also(s, a, next)) {
			return next, Step[A]{Index: j, Action: a, Label: m.Describe(s, a)}, nil
		}
	}
	return zero, Step[A]{}, errors.New("has no action that leads where its representative's does: the symmetry is not one of the model")
}

// maxLassoRounds bounds how often a lasso's cycle is followed round
// again to bring a reduced model's real state back to a state it has been
// in at the start of a round.
const maxLassoRounds = 5040

// closeLoop makes t, a lasso whose cycle (the stored indices cycle, from
// state t.Loop) was rebuilt in a reduced model, a real cycle. Each round
// of the cycle ends in a state whose representative is the loop state's,
// but the real state may be a renaming of it; the cycle is followed round
// again until the real state at the end of a round is one the lasso was
// in at the start of a round, and the loop is moved there. Which real
// actions a round takes depends on the real state's action order, so the
// rounds need not repeat the first one's renaming: comparing with every
// earlier round's start, not the first alone, is what makes this end.
func closeLoop[S, A any](m Model[S, A], sym Symmetric[S], t *Trace[S, A], cycle []int) error {
	starts := map[string]int{} // exact encoding of a round's first state -> its index in t.States
	for round := 0; ; round++ {
		end := string(sym.EncodeExact(nil, t.States[len(t.States)-1]))
		if round == 0 {
			starts[string(sym.EncodeExact(nil, t.States[t.Loop]))] = t.Loop
		}
		if at, ok := starts[end]; ok {
			t.Loop = at
			return nil
		}
		if round == maxLassoRounds || len(cycle) == 0 {
			return fmt.Errorf("%w: the cycle does not come back to a real state within %d rounds", ErrBadPath, maxLassoRounds)
		}
		starts[end] = len(t.States) - 1
		s := t.States[len(t.States)-1]
		for _, i := range cycle {
			next, step, err := matchStep(m, s, i, nil)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrBadPath, err)
			}
			t.Steps = append(t.Steps, step)
			t.States = append(t.States, next)
			s = next
		}
	}
}
