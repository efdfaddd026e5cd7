package model

import (
	"context"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/traces"
)

// MinimisedTrace minimises a violation found in m with [check.Minimise]
// and turns it into its stored form, which says how many steps the search's
// trace had and how many were dropped and moved. The result is checked
// against m: a path of m that violates the same property.
func (m *Model) MinimisedTrace(ctx context.Context, name, text string, v *check.Violation[State, Action], st check.Stats) (*traces.Trace, error) {
	mv, ms, err := check.Minimise(ctx, m, v, check.MinimiseOptions{})
	if err != nil {
		return nil, err
	}
	t := m.Trace(name, text, mv, st)
	t.Minimised = &traces.Minimised{Before: ms.Before, Dropped: ms.Dropped, Moved: ms.Moved, CutShort: ms.CutShort}
	return t, nil
}

// Minimise minimises a stored trace in the model rebuilt from it. A trace
// already minimised is returned as it is.
func Minimise(ctx context.Context, t *traces.Trace) (*traces.Trace, error) {
	if t.Minimised != nil && !t.Minimised.CutShort {
		return t, nil
	}
	m, v, st, err := replayed(t)
	if err != nil {
		return nil, err
	}
	out, err := m.MinimisedTrace(ctx, t.Workload.Name, t.Workload.Text, v, st)
	if err != nil {
		return nil, err
	}
	if t.Minimised != nil {
		// Counted from the search's trace, not from the one cut short.
		out.Minimised.Before = t.Minimised.Before
		out.Minimised.Dropped += t.Minimised.Dropped
		out.Minimised.Moved += t.Minimised.Moved
	}
	return out, nil
}
