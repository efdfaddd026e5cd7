package model

import (
	"strings"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/traces"
)

// Trace turns a violation found in m into its stored form. name and text
// are the workload's name (a built-in's or a file's) and its full text, so
// that the trace can be replayed without anything else.
func (m *Model) Trace(name, text string, v *check.Violation[State, Action], st check.Stats) *traces.Trace {
	t := &traces.Trace{
		Title:     m.w.Title,
		Workload:  traces.Workload{Name: name, Text: text},
		Policy:    m.policy.String(),
		Processes: m.processNames(),
		Caps:      append([]int(nil), m.caps...),
		Lows:      append([]int(nil), m.lows...),
		Verdict:   check.Violated.String(),
		Kind:      v.Kind.String(),
		Property:  v.Property,
		Path:      v.Trace.Path(),
		Loop:      v.Trace.Loop,
		NoReturn:  v.Trace.NoReturn,
		Explain:   v.Explain,
		Stats:     traces.Stats{States: st.States, Transitions: st.Transitions, Depth: st.Depth, Seconds: st.Seconds},
	}
	for _, s := range v.Trace.Steps {
		text, note, _ := strings.Cut(s.Label.Text, "\t")
		t.Steps = append(t.Steps, traces.Step{Actor: s.Label.Actor, Text: text, Note: note})
	}
	return t
}
