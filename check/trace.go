package check

import (
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
	var acts []A
	for n, i := range path[1:] {
		acts = m.Actions(s, acts[:0])
		if i < 0 || i >= len(acts) {
			return t, fmt.Errorf("%w: step %d takes action %d of %d", ErrBadPath, n+1, i, len(acts))
		}
		a := acts[i]
		t.Steps = append(t.Steps, Step[A]{Index: i, Action: a, Label: m.Describe(s, a)})
		s = m.Next(s, a)
		t.States = append(t.States, s)
	}
	return t, nil
}
