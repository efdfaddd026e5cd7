package main

import "github.com/sysmsg/sysmsg/traces"

// views returns the views of a trace that trace html's page shows, the
// first one at first, with a toggle between them when there are two. For
// now there is one, all the steps; the minimised view, when it comes, goes
// first: {"minimised", traces.NewView(minimised(t))}, then {"all steps",
// traces.NewView(t)}.
func views(t *traces.Trace) []traces.NamedView {
	return []traces.NamedView{{Name: "all steps", View: traces.NewView(t)}}
}
