package traces

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// NamedView is one view of a trace with the name its toggle shows:
// "minimised", "all steps".
type NamedView struct {
	Name string
	View View
}

// Page is what the browser page shows of a trace, computed from its views
// by [NewPage], a pure function, and written as one self-contained HTML
// file by [WritePage]. The page's script renders it and decides nothing
// itself: every word it shows of the trace is here.
type Page struct {
	// Title is the document's title: the first view's headline.
	Title string `json:"title"`
	// Porcupine is a relative link to a porcupine visualization of a
	// linearizability failure, or "".
	Porcupine string `json:"porcupine,omitempty"`
	// Views are the views the page can show: the first at first, and a
	// toggle between them when there are two or more.
	Views []PageView `json:"views"`
}

// PageView is one view laid out for the page.
type PageView struct {
	Name string `json:"name"`
	// Heading is the page's heading: the workload's title; Verdict says
	// what went wrong after how many steps ("DEADLOCK after 14 steps") and
	// Config the policy and caps. When the headline cannot be split so,
	// Heading is the whole headline and the others are empty.
	Heading string `json:"heading"`
	Verdict string `json:"verdict"`
	Config  string `json:"config"`
	// Notes are how the steps were shortened, if they were, and the
	// search's figures.
	Notes []string `json:"notes"`
	// Actors name the chart's columns; Slots head each process's slots
	// column.
	Actors []string  `json:"actors"`
	Slots  []string  `json:"slots"`
	Rows   []PageRow `json:"rows"`
	// Markers are the chart's lines between rows: where finishing became
	// impossible, where the cycle starts and where it goes back, where a
	// deadlock ends.
	Markers []Marker `json:"markers"`
	// Cycle, for a lasso, spans its rows, which the page brackets as a
	// loop; nil otherwise.
	Cycle *Cycle `json:"cycle,omitempty"`
	// Vars name the state's variables and Init holds their initial values;
	// each row sets some of them, so that the page rebuilds the state
	// after any step without storing every state whole.
	Vars []string `json:"vars"`
	Init []string `json:"init"`
	// ExplainTitle heads Explain, which says why nothing can move at the
	// end (or on the cycle), one line each, nested by Depth.
	ExplainTitle string     `json:"explainTitle"`
	Explain      []PageLine `json:"explain"`
	// Legend says how to read the chart and use the page.
	Legend []string `json:"legend"`
}

// PageRow is one step of the chart.
type PageRow struct {
	Step int `json:"step"`
	// Actor is the column of who moved, With that of whom the step is
	// addressed to, or -1 (as in [Row]).
	Actor int    `json:"actor"`
	With  int    `json:"with"`
	Who   string `json:"who"`
	Text  string `json:"text"`
	// Extra is the step's note beyond the slots, which have their own
	// column: "cap reached".
	Extra string `json:"extra,omitempty"`
	// Slots are each process's slots and mode after the step.
	Slots []Slot `json:"slots"`
	// Set are the variables the step changed, as indices in Vars, and
	// Values their values after it.
	Set    []int    `json:"set"`
	Values []string `json:"values"`
	// Cycle marks a step of a lasso's cycle.
	Cycle bool `json:"cycle,omitempty"`
}

// Slot is one process's slots cell: "2/2", with the mode when it is not
// messaging ("poll", "stop"; Full in words), marked when the step changed
// either.
type Slot struct {
	Text    string `json:"text"`
	Mode    string `json:"mode,omitempty"`
	Full    string `json:"full,omitempty"`
	Changed bool   `json:"changed,omitempty"`
}

// Marker is a line of the chart before step Before (after the last step
// when Before is one more than the steps). Kind is "noreturn", "cycle",
// "back" or "end" (a deadlock's).
type Marker struct {
	Before int    `json:"before"`
	Kind   string `json:"kind"`
	Text   string `json:"text"`
}

// Cycle spans a lasso's cycle, steps First to Last; after Last the system
// is back in the state before First. Label names the loop.
type Cycle struct {
	First int    `json:"first"`
	Last  int    `json:"last"`
	Label string `json:"label"`
}

// PageLine is one line of an explanation, nested Depth levels.
type PageLine struct {
	Depth int    `json:"depth"`
	Text  string `json:"text"`
}

// NewPage lays out views for the browser page; porcupine, when not "", is
// a relative link to a porcupine visualization of a linearizability
// failure.
func NewPage(views []NamedView, porcupine string) Page {
	p := Page{Porcupine: porcupine, Views: []PageView{}}
	for _, nv := range views {
		p.Views = append(p.Views, newPageView(nv))
	}
	if len(views) > 0 {
		p.Title = views[0].View.Headline
	}
	return p
}

func newPageView(nv NamedView) PageView {
	v := nv.View
	pv := PageView{
		Name: nv.Name, Heading: v.Headline,
		Notes: []string{}, Actors: []string{}, Slots: []string{}, Rows: []PageRow{}, Markers: []Marker{},
		Vars: append([]string{}, v.Vars...), Init: []string{},
		ExplainTitle: v.ExplainTitle, Explain: []PageLine{},
	}
	if rest, ok := strings.CutPrefix(v.Headline, v.Title+" — "+v.Config+": "); ok && v.Title != "" {
		pv.Heading, pv.Verdict, pv.Config = v.Title, rest, v.Config
	}
	if v.Minimised != "" {
		pv.Notes = append(pv.Notes, v.Minimised)
	}
	if v.Figures != "" {
		pv.Notes = append(pv.Notes, v.Figures)
	}
	for _, c := range v.Columns {
		pv.Actors = append(pv.Actors, c.Name)
	}
	for _, p := range v.Processes {
		pv.Slots = append(pv.Slots, p+" slots")
	}
	if len(v.States) > 0 {
		pv.Init = append(pv.Init, v.States[0]...)
	}

	prevSlots := make([]string, len(v.Caps))
	prevModes := make([]string, len(v.Caps))
	for p, c := range v.Caps {
		prevSlots[p], prevModes[p] = "0/"+c, "messaging"
	}
	for i, r := range v.Rows {
		row := PageRow{
			Step: r.Step, Actor: r.Actor, With: r.With, Who: r.Who, Text: r.Text, Extra: noteExtra(r.Note),
			Slots: []Slot{}, Set: []int{}, Values: []string{}, Cycle: r.InCycle,
		}
		if row.With == row.Actor {
			row.With = -1
		}
		for p, s := range r.Slots {
			cell := Slot{Text: s}
			if p < len(r.Modes) {
				cell.Mode = modeWord(r.Modes[p])
				if cell.Mode != "" {
					cell.Full = r.Modes[p]
				}
				cell.Changed = p < len(prevSlots) && (s != prevSlots[p] || r.Modes[p] != prevModes[p])
				if p < len(prevSlots) {
					prevSlots[p], prevModes[p] = s, r.Modes[p]
				}
			}
			row.Slots = append(row.Slots, cell)
		}
		if i+1 < len(v.States) {
			before, after := v.States[i], v.States[i+1]
			for k := range min(len(before), len(after)) {
				if before[k] != after[k] {
					row.Set = append(row.Set, k)
					row.Values = append(row.Values, after[k])
				}
			}
		}
		pv.Rows = append(pv.Rows, row)
	}

	n := len(v.Rows)
	if v.NoReturn > 0 && v.NoReturn <= n && v.NoReturn != v.Loop {
		pv.Markers = append(pv.Markers, Marker{Before: v.NoReturn, Kind: "noreturn", Text: "from here on the system can no longer finish"})
	}
	if v.Loop > 0 && v.Loop <= n {
		pv.Cycle = &Cycle{First: v.Loop, Last: n, Label: "repeats forever"}
		pv.Markers = append(pv.Markers,
			Marker{Before: v.Loop, Kind: "cycle", Text: "the cycle starts here and repeats forever"},
			Marker{Before: n + 1, Kind: "back", Text: fmt.Sprintf("back to the state before step %d: repeats forever", v.Loop)})
	}

	if v.Kind == "deadlock" && v.Loop == 0 && n > 0 {
		pv.Markers = append(pv.Markers, Marker{Before: n + 1, Kind: "end", Text: "the end: nothing can move any more (why: above)"})
	}
	for _, e := range v.Explain {
		text := strings.TrimLeft(e, " ")
		pv.Explain = append(pv.Explain, PageLine{Depth: (len(e) - len(text)) / 2, Text: text})
	}
	pv.Legend = legend(v)
	return pv
}

// modeWord is the word a slots cell shows for a process's mode: "" for
// messaging, "poll", "stop", or the mode itself.
func modeWord(m string) string {
	switch {
	case m == "messaging" || m == "":
		return ""
	case m == "polling":
		return "poll"
	case strings.HasPrefix(m, "stopped"):
		return "stop"
	}
	return m
}

// legend says how to read the chart and use the page.
func legend(v View) []string {
	procs := "each process"
	if len(v.Processes) == 1 {
		procs = v.Processes[0]
	}
	out := []string{
		"● marks who moved; the arrow points to whom the step is addressed.",
		fmt.Sprintf("slots: the messages %s has in flight out of its cap after the step, and its mode when it is not messaging (poll: polling; stop: stopped issuing); yellow marks a change.", procs),
	}
	if v.Loop > 0 {
		out = append(out, fmt.Sprintf("The bracket on the left is the cycle: after step %d the system is back in the state before step %d, and it can go round forever.", len(v.Rows), v.Loop))
	}
	return append(out, "Click a step, or press ↓ → j for the next and ↑ ← k for the previous, Home and End for the initial state and the end, to see the state after it: yellow marks what the step changed, with its value before.")
}

// The page's assets, built into the program: the page works from a file,
// alone, and loads nothing.
var (
	//go:embed page/page.html
	pageHTML string
	//go:embed page/page.css
	pageCSS string
	//go:embed page/page.js
	pageJS string

	pageTemplate = template.Must(template.New("page").Parse(pageHTML))
)

// pageData is what the template fills in: the page, and the style and
// script with their hashes, which the page's content security policy
// names as the only ones that may run.
type pageData struct {
	Page                  Page
	Style                 template.CSS
	Script                template.JS
	StyleHash, ScriptHash string
}

// WritePage writes p as one HTML file that needs nothing else: its style,
// script and data inline. Every text from the trace is escaped; the
// script shows it as text, never as markup.
func WritePage(w io.Writer, p Page) error {
	var b bytes.Buffer
	err := pageTemplate.Execute(&b, pageData{
		Page: p, Style: template.CSS(pageCSS), Script: template.JS(pageJS),
		StyleHash: hash(pageCSS), ScriptHash: hash(pageJS),
	})
	if err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

// hash is a content security policy's hash of an inline style or script.
func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}
