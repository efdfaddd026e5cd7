package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
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
		Sizes:     &traces.Sizes{Processes: len(m.w.Processes), Threads: len(m.w.Threads), Peers: len(m.w.Peers), Objects: len(m.w.Objects)},
		Actors:    m.chartActors(),
	}
	states := v.Trace.States
	prev := m.Snapshot(states[0])
	t.Init = prev
	for i, s := range v.Trace.Steps {
		text, note, _ := strings.Cut(s.Label.Text, "\t")
		next := m.Snapshot(states[i+1])
		t.Steps = append(t.Steps, traces.Step{
			Actor: s.Label.Actor, Text: text, Note: note,
			With:    m.party(states[i], s.Action),
			Slots:   m.Slots(states[i+1]),
			Modes:   m.Modes(states[i+1]),
			Changes: traces.Diff(prev, next),
		})
		prev = next
	}
	return t
}

// Refresh rebuilds a stored trace in this version of the format: it
// replays the path in the trace's model and writes every step's data
// anew, keeping the search's figures. It is how a trace from an older
// version (without state data) is viewed, and how a trace is checked to
// be what its model says.
func Refresh(t *traces.Trace) (*traces.Trace, error) {
	m, v, st, err := replayed(t)
	if err != nil {
		return nil, err
	}
	out := m.Trace(t.Workload.Name, t.Workload.Text, v, st)
	out.Kind, out.Minimised = t.Kind, t.Minimised
	return out, nil
}

// replayed rebuilds a stored trace's model and replays its path there, as
// the violation and the search's figures the trace records.
func replayed(t *traces.Trace) (*Model, *check.Violation[State, Action], check.Stats, error) {
	m, _, err := FromTrace(t)
	if err != nil {
		return nil, nil, check.Stats{}, err
	}
	tr, err := check.Replay(m, t.Path)
	if err != nil {
		return nil, nil, check.Stats{}, err
	}
	tr.Loop, tr.NoReturn = t.Loop, t.NoReturn
	v := &check.Violation[State, Action]{Kind: kindOf(t.Kind), Property: t.Property, Trace: tr, Explain: t.Explain}
	st := check.Stats{States: t.Stats.States, Transitions: t.Stats.Transitions, Depth: t.Stats.Depth, Seconds: t.Stats.Seconds}
	return m, v, st, nil
}

// kindOf is the violation kind a trace names, or -1.
func kindOf(name string) check.ViolationKind {
	for k := check.Invariant; k <= check.NonProgress; k++ {
		if k.String() == name {
			return k
		}
	}
	return -1
}

// FromTrace builds the model a stored trace was found in, from the trace
// alone: its workload text, its policy and each process's cap and low.
// It is how a trace is replayed. A trace whose processes cannot all be
// given their stored cap and low (a cap or low that differs between
// processes is taken from the workload's own) is refused.
func FromTrace(t *traces.Trace) (*Model, Config, error) {
	cfg := Config{Cap: 0, Low: workload.Unset}
	w, err := workload.Parse(t.Workload.Name, t.Workload.Text)
	if err != nil {
		return nil, cfg, err
	}
	if cfg.Policy, err = port.ParsePolicy(t.Policy); err != nil {
		return nil, cfg, err
	}
	if len(t.Caps) != len(w.Processes) {
		return nil, cfg, fmt.Errorf("the trace has %d caps for the workload's %d processes", len(t.Caps), len(w.Processes))
	}
	same := func(xs []int) bool { return !slices.ContainsFunc(xs, func(x int) bool { return x != xs[0] }) }
	if same(t.Caps) {
		cfg.Cap = t.Caps[0]
	}
	if same(t.Lows) {
		cfg.Low = t.Lows[0]
	}
	m, err := New(w, cfg)
	if err != nil {
		return nil, cfg, err
	}
	for p := range w.Processes {
		if m.Cap(p) != t.Caps[p] || m.Low(p) != t.Lows[p] {
			return nil, cfg, fmt.Errorf("the model cannot be configured as the trace was: process %d has cap %s and low %d in the trace, and %s and %d in the model",
				p+1, workload.CapText(t.Caps[p]), t.Lows[p], workload.CapText(m.Cap(p)), m.Low(p))
		}
	}
	return m, cfg, nil
}
