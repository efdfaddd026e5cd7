package traces

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sysmsg/sysmsg/model/workload"
)

// View is what a viewer shows of a trace, computed once from the trace
// alone by [NewView], a pure function: the terminal chart and the browser
// page both render a View and decide nothing themselves.
type View struct {
	Title    string `json:"title"`
	Headline string `json:"headline"`
	Config   string `json:"config"`
	Kind     string `json:"kind"`
	Property string `json:"property"`
	// Columns are the chart's columns, one per actor, with the short name a
	// narrow chart uses.
	Columns []Column `json:"columns"`
	// Processes names the processes whose slots each row shows, with caps.
	Processes []string `json:"processes"`
	Caps      []string `json:"caps"`
	Rows      []Row    `json:"rows"`
	// Vars names the state's variables; States[i] holds their values after
	// i steps (States[0] is the initial state). Both are empty for a trace
	// without state data.
	Vars   []string   `json:"vars"`
	States [][]string `json:"states"`
	// Loop is the first step of a lasso's cycle (1-based; the cycle runs
	// from it to the last step and returns to the state before it), or 0.
	// NoReturn is the first step after which finishing is impossible, or 0.
	Loop     int `json:"loop"`
	NoReturn int `json:"noReturn"`
	// ExplainTitle heads the explanation of the final state (or of the
	// cycle's state).
	ExplainTitle string   `json:"explainTitle"`
	Explain      []string `json:"explain"`
	// Minimised says how the steps were shortened, or "".
	Minimised string `json:"minimised"`
	// Figures are the search's figures in words.
	Figures string `json:"figures"`
}

// Column is one actor's column.
type Column struct {
	Name  string `json:"name"`
	Short string `json:"short"`
}

// Row is one step.
type Row struct {
	// Step is the step's number, from 1.
	Step int `json:"step"`
	// Actor is the column of the actor that moved, With the column of its
	// party (who the step is addressed to), or -1.
	Actor int    `json:"actor"`
	With  int    `json:"with"`
	Who   string `json:"who"`
	Text  string `json:"text"`
	Note  string `json:"note"`
	// Slots is each process's slots in use after the step ("2/2"), Modes
	// each one's mode; SlotsChanged and ModeChanged say whether the step
	// changed them.
	Slots        []string `json:"slots"`
	Modes        []string `json:"modes"`
	SlotsChanged bool     `json:"slotsChanged"`
	ModeChanged  bool     `json:"modeChanged"`
	// Changed are the indices in View.Vars of the variables the step
	// changed.
	Changed []int `json:"changed"`
	// InCycle marks the steps of a lasso's cycle.
	InCycle bool `json:"inCycle"`
}

// NewView computes what a viewer shows of t.
func NewView(t *Trace) View {
	v := View{
		Title: t.Title, Headline: t.Headline(), Config: t.Config(), Kind: t.Kind, Property: t.Property,
		Processes: t.Processes, Explain: t.Explain,
		Columns: columns(t), Vars: []string{}, States: [][]string{}, Rows: []Row{},
	}
	if v.Processes == nil {
		v.Processes = make([]string, len(t.Caps))
		for i := range v.Processes {
			v.Processes[i] = fmt.Sprintf("process %d", i+1)
		}
	}
	for _, c := range t.Caps {
		v.Caps = append(v.Caps, workload.CapText(c))
	}
	if v.Explain == nil {
		v.Explain = []string{}
	}
	if t.Loop >= 0 && t.Loop < len(t.Steps) {
		v.Loop = t.Loop + 1
		v.ExplainTitle = "On the cycle nothing finishes:"
		if t.Kind == "non-progress cycle" {
			v.ExplainTitle = "On the cycle, a fair scheduler may go on forever:"
		}
	} else if t.Kind == "deadlock" {
		v.ExplainTitle = "Why nothing can move:"
	} else {
		v.ExplainTitle = "The state at the end:"
	}
	if t.NoReturn >= 0 && t.Kind == "livelock" {
		v.NoReturn = t.NoReturn + 1
	}
	col := make(map[string]int, len(v.Columns))
	for i, c := range v.Columns {
		col[c.Name] = i
	}
	at := func(name string) int {
		if i, ok := col[name]; ok {
			return i
		}
		return -1
	}
	for _, x := range t.Init {
		v.Vars = append(v.Vars, x.Name)
	}
	if s := t.States(); s != nil {
		v.States = s
	}
	index := make(map[string]int, len(v.Vars))
	for i, n := range v.Vars {
		index[n] = i
	}
	prevSlots := make([]int, len(t.Caps))
	prevModes := make([]string, len(t.Caps))
	for i := range prevModes {
		prevModes[i] = "messaging"
	}
	for i, s := range t.Steps {
		r := Row{Step: i + 1, Actor: at(s.Actor), With: -1, Who: s.Actor, Text: s.Text, Note: s.Note, Changed: []int{}}
		if s.With != "" {
			r.With = at(s.With)
		}
		if len(s.Slots) == len(t.Caps) {
			for p, n := range s.Slots {
				r.Slots = append(r.Slots, fmt.Sprintf("%d/%s", n, workload.CapText(t.Caps[p])))
				r.SlotsChanged = r.SlotsChanged || n != prevSlots[p]
			}
			copy(prevSlots, s.Slots)
		}
		if len(s.Modes) == len(t.Caps) {
			r.Modes = append(r.Modes, s.Modes...)
			for p, m := range s.Modes {
				r.ModeChanged = r.ModeChanged || m != prevModes[p]
			}
			copy(prevModes, s.Modes)
		}
		if r.Slots == nil {
			r.Slots = []string{}
			r.Modes = []string{}
		}
		for _, c := range s.Changes {
			if k, ok := index[c.Var]; ok {
				r.Changed = append(r.Changed, k)
			}
		}
		r.InCycle = v.Loop > 0 && i+1 >= v.Loop
		v.Rows = append(v.Rows, r)
	}
	if m := t.Minimised; m != nil {
		v.Minimised = fmt.Sprintf("minimised from the search's %s: %s dropped", steps(m.Before), steps(m.Dropped))
		switch m.Moved {
		case 0:
			if m.Dropped == 0 {
				v.Minimised = fmt.Sprintf("minimised: none of the search's %s can be dropped or regrouped", steps(m.Before))
			}
		case 1:
			v.Minimised += ", 1 swap of independent steps to keep an actor's steps together"
		default:
			v.Minimised += fmt.Sprintf(", %d swaps of independent steps to keep each actor's steps together", m.Moved)
		}
		if m.CutShort {
			v.Minimised += "; cut short by an interrupt, so perhaps not the shortest"
		}
	}
	v.Figures = fmt.Sprintf("found after %d states, %d transitions, depth %d", t.Stats.States, t.Stats.Transitions, t.Stats.Depth)
	return v
}

// columns returns the chart's columns: the trace's actors, or for a trace
// without them (versions 1 and 2) every actor its steps name, in order of
// first appearance.
func columns(t *Trace) []Column {
	names := t.Actors
	if len(names) == 0 {
		seen := map[string]bool{}
		for _, s := range t.Steps {
			if !seen[s.Actor] {
				seen[s.Actor] = true
				names = append(names, s.Actor)
			}
		}
	}
	return abbreviate(names)
}

// abbreviate gives each name a short form of at most 4 characters, unique
// among them: the name itself when short enough, else its first letters
// and its trailing digits ("client0" is "cli0", "scheduler" is "sche").
func abbreviate(names []string) []Column {
	out := make([]Column, len(names))
	used := map[string]bool{}
	for i, n := range names {
		short := n
		if len([]rune(n)) > 4 {
			r := []rune(n)
			d := len(r)
			for d > 0 && r[d-1] >= '0' && r[d-1] <= '9' {
				d--
			}
			digits := string(r[d:])
			if len(digits) > 2 {
				digits = digits[len(digits)-2:]
			}
			short = string(r[:4-len(digits)]) + digits
		}
		base := short
		for k := 2; used[short]; k++ {
			suffix := strconv.Itoa(k)
			br := []rune(base)
			short = string(br[:min(len(br), 4-len(suffix))]) + suffix
		}
		used[short] = true
		out[i] = Column{Name: n, Short: short}
	}
	return out
}

// StateAt returns the variables after step n (0: the initial state) with
// those that step changed, and their values before it.
func (v View) StateAt(n int) (vars []Var, changed map[int]string, ok bool) {
	if n < 0 || n >= len(v.States) {
		return nil, nil, false
	}
	changed = map[int]string{}
	for i, name := range v.Vars {
		vars = append(vars, Var{Name: name, Value: v.States[n][i]})
		if n > 0 && v.States[n-1][i] != v.States[n][i] {
			changed[i] = v.States[n-1][i]
		}
	}
	return vars, changed, true
}

// oneLine flattens text from a trace for a single line of a chart: a
// control character shows as a space.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r >= 0x7f && r < 0xa0 {
			return ' '
		}
		return r
	}, s)
}
