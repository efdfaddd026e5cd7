package main

import (
	"context"

	"github.com/sysmsg/sysmsg/model"
	"github.com/sysmsg/sysmsg/traces"
)

// views returns the views of a trace that trace html's page shows, the
// first one at first, with a toggle between them when there are two: the
// minimised counterexample first, then all the steps as found. When
// minimising changes nothing, the one view says so; when it cannot be done
// (a trace found with a seeded bug is no violation of the correct model),
// the page shows the trace as it is and why.
func views(ctx context.Context, t *traces.Trace) ([]traces.NamedView, string) {
	all := traces.NamedView{Name: "all steps", View: traces.NewView(t)}
	mt, err := model.Minimise(ctx, t)
	if err != nil {
		return []traces.NamedView{all}, "not minimised: " + userText(err)
	}
	min := traces.NamedView{Name: "minimised", View: traces.NewView(mt)}
	if mt.Minimised.Dropped == 0 && mt.Minimised.Moved == 0 {
		return []traces.NamedView{min}, ""
	}
	return []traces.NamedView{min, all}, ""
}
