package traces

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ChartOptions say how a terminal can show a chart.
type ChartOptions struct {
	// Width is the number of columns to fit in; 0 is 100.
	Width int
	// Color allows ANSI colour and bold; Unicode allows box-drawing
	// characters. Without them the chart is plain ASCII.
	Color, Unicode bool
}

// glyphs are the characters of a chart, as box-drawing or ASCII.
type glyphs struct {
	life, dot, line, right, left, top, mid, bottom, ellipsis string
}

var (
	boxGlyphs   = glyphs{"│", "●", "─", "▶", "◀", "╭", "│", "╰", "…"}
	asciiGlyphs = glyphs{"|", "o", "-", ">", "<", "+", "|", "+", "..."}
)

// ANSI styles, used only when ChartOptions.Color is set.
const (
	styleBold    = "\x1b[1m"
	styleDim     = "\x1b[2m"
	styleActor   = "\x1b[1;36m"
	styleChanged = "\x1b[1;33m"
	styleCycle   = "\x1b[35m"
	styleReset   = "\x1b[0m"
)

type painter struct {
	ChartOptions
	g glyphs
}

func newPainter(o ChartOptions) painter {
	p := painter{ChartOptions: o, g: asciiGlyphs}
	if o.Unicode {
		p.g = boxGlyphs
	}
	return p
}

// headline writes v's headline in bold, wrapped to the width.
func (p painter) headline(b *strings.Builder, v View) {
	for _, line := range wrap(oneLine(v.Headline), p.Width) {
		b.WriteString(p.paint(styleBold, line) + "\n")
	}
}

func (p painter) paint(style, s string) string {
	if !p.Color || s == "" {
		return s
	}
	return style + s + styleReset
}

// Chart renders v as a message-sequence chart for a terminal: one column
// per actor, one row per step with an arrow from the actor to whom the
// step is addressed, each process's slots and mode (what changed
// highlighted), the step in words; the cycle of a lasso marked; then a
// legend and the final state explained.
func Chart(w io.Writer, v View, o ChartOptions) error {
	if o.Width <= 0 {
		o.Width = 100
	}
	p := newPainter(o)
	var b strings.Builder
	p.headline(&b, v)
	if v.Minimised != "" {
		b.WriteString(fit("  "+v.Minimised, o.Width, p.g.ellipsis) + "\n")
	}
	b.WriteString("\n")

	cw := 4
	for _, c := range v.Columns {
		cw = max(cw, utf8.RuneCountInString(c.Short)+1)
	}
	slotsW := 0
	for _, r := range v.Rows {
		slotsW = max(slotsW, utf8.RuneCountInString(slotsCell(r)))
	}
	slotsW = max(slotsW, len("slots"))
	numW := max(len(fmt.Sprint(len(v.Rows))), 2)
	lead := 2 + numW + 2 // gutter, number, space
	chartW := len(v.Columns) * cw
	textW := max(o.Width-lead-chartW-2-slotsW-2, 16)

	// The header: the columns' short names over their lifelines.
	head := []rune(strings.Repeat(" ", chartW))
	for i, c := range v.Columns {
		copy(head[i*cw:], []rune(c.Short))
	}
	fmt.Fprintf(&b, "%s%s  %-*s  %s\n", strings.Repeat(" ", lead), p.paint(styleBold, string(head)), slotsW, "slots", "step")

	idle := lifelines(len(v.Columns), cw, p.g)
	marker := func(gutter, text string) {
		fmt.Fprintf(&b, "%s %s%s\n", gutter, strings.Repeat(" ", lead-2), p.paint(styleDim, fit(text, o.Width-lead, p.g.ellipsis)))
	}
	for i, r := range v.Rows {
		gutter := " "
		if v.NoReturn > 0 && r.Step == v.NoReturn && v.NoReturn != v.Loop {
			marker(" ", strings.Repeat(p.g.line, 2)+" from here on the system can no longer finish "+strings.Repeat(p.g.line, 2))
		}
		if r.Step == v.Loop {
			marker(p.paint(styleCycle, p.g.top), strings.Repeat(p.g.line, 2)+" the cycle starts here and repeats forever "+strings.Repeat(p.g.line, 2))
		}
		if r.InCycle {
			gutter = p.paint(styleCycle, p.g.mid)
		}
		cells := arrow(idle, r, cw, p)
		plain := slotsCell(r)
		slots := paintSlots(plain, p)
		pad := slotsW - utf8.RuneCountInString(plain)
		text := r.Who + " " + r.Text
		if extra := noteExtra(r.Note); extra != "" {
			text += ": " + extra
		}
		text = fit(oneLine(text), textW, p.g.ellipsis)
		fmt.Fprintf(&b, "%s %*d  %s  %s%s  %s\n", gutter, numW, r.Step, cells, slots, strings.Repeat(" ", max(pad, 0)), text)
		if i == len(v.Rows)-1 && v.Loop > 0 {
			marker(p.paint(styleCycle, p.g.bottom), strings.Repeat(p.g.line, 2)+fmt.Sprintf(" back to the state before step %d ", v.Loop)+strings.Repeat(p.g.line, 2))
		}
	}

	b.WriteString("\n")
	var legend []string
	for _, c := range v.Columns {
		if c.Short != c.Name {
			legend = append(legend, c.Short+" = "+c.Name)
		}
	}
	procs := ""
	if len(v.Processes) > 1 {
		procs = " (" + strings.Join(v.Processes, ", ") + ")"
	}
	change := "* marks"
	if o.Color {
		change = "yellow marks"
	}
	legendText := fmt.Sprintf("slots: in use/cap per process%s, and the mode when not messaging; %s a change", procs, change)
	if len(legend) > 0 {
		legendText = "columns: " + strings.Join(legend, ", ") + ". " + legendText
	}
	for _, line := range wrap(oneLine(legendText), o.Width-2) {
		b.WriteString(p.paint(styleDim, "  "+line) + "\n")
	}
	if len(v.Explain) > 0 {
		b.WriteString("\n" + p.paint(styleBold, v.ExplainTitle) + "\n")
		for _, e := range v.Explain {
			b.WriteString("  " + oneLine(e) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lifelines returns an idle row: every column's lifeline.
func lifelines(n, cw int, g glyphs) []string {
	out := make([]string, n*cw)
	for i := range out {
		out[i] = " "
	}
	for c := range n {
		out[c*cw] = g.life
	}
	return out
}

// arrow draws row r over the idle lifelines: the actor's dot and, when the
// step is addressed to another column, a line to it with an arrowhead.
func arrow(idle []string, r Row, cw int, p painter) string {
	cells := append([]string(nil), idle...)
	if r.Actor < 0 {
		return strings.Join(cells, "")
	}
	a := r.Actor * cw
	lo, hi := a, a
	if r.With >= 0 && r.With != r.Actor {
		b := r.With * cw
		lo, hi = min(a, b), max(a, b)
		for i := lo + 1; i < hi; i++ {
			cells[i] = p.g.line
		}
		cells[b] = p.g.right
		if b < a {
			cells[b] = p.g.left
		}
	}
	cells[a] = p.g.dot
	return strings.Join(cells[:lo], "") + p.paint(styleActor, strings.Join(cells[lo:hi+1], "")) + strings.Join(cells[hi+1:], "")
}

// slotsCell renders a row's slots and modes: "2/2", "1/1 poll".
func slotsCell(r Row) string {
	var parts []string
	for i, s := range r.Slots {
		cell := s
		if i < len(r.Modes) {
			switch m := r.Modes[i]; {
			case m == "polling":
				cell += " poll"
			case strings.HasPrefix(m, "stopped"):
				cell += " stop"
			}
		}
		parts = append(parts, cell)
	}
	out := strings.Join(parts, " ")
	if r.SlotsChanged || r.ModeChanged {
		out += "*"
	}
	return out
}

// paintSlots highlights a changed slots cell: in colour, instead of its
// star.
func paintSlots(cell string, p painter) string {
	if p.Color && strings.HasSuffix(cell, "*") {
		return p.paint(styleChanged, strings.TrimSuffix(cell, "*")) + " "
	}
	return cell
}

// noteExtra is a note without its leading slot count, which the slots
// column shows: "slots 2/2  cap reached" is "cap reached".
func noteExtra(note string) string {
	if !strings.HasPrefix(note, "slots ") {
		return note
	}
	rest := strings.TrimPrefix(note, "slots ")
	if i := strings.Index(rest, "  "); i >= 0 {
		return strings.TrimSpace(rest[i:])
	}
	return ""
}

// fit cuts s to width runes, ending it with an ellipsis when cut.
func fit(s string, width int, ellipsis string) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	e := utf8.RuneCountInString(ellipsis)
	if width <= e {
		return string(r[:max(width, 0)])
	}
	return string(r[:width-e]) + ellipsis
}

// wrap breaks text into lines of at most width runes at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// StateText renders the whole state after step n (0: the initial state)
// as a table, each variable the step changed marked with its value
// before.
func StateText(w io.Writer, v View, n int, o ChartOptions) error {
	if o.Width <= 0 {
		o.Width = 100
	}
	p := newPainter(o)
	vars, changed, ok := v.StateAt(n)
	if !ok {
		if len(v.States) == 0 {
			return fmt.Errorf("this trace holds no states (written by an older version): replay it to add them")
		}
		return fmt.Errorf("step %d is outside the trace: it has steps 1 to %d (0 is the initial state)", n, len(v.Rows))
	}
	var b strings.Builder
	p.headline(&b, v)
	b.WriteString("\n")
	if n == 0 {
		b.WriteString("The initial state:\n")
	} else {
		r := v.Rows[n-1]
		fmt.Fprintf(&b, "The state after step %d of %d: %s\n", n, len(v.Rows), fit(oneLine(r.Who+" "+r.Text), o.Width-30, p.g.ellipsis))
		if r.InCycle {
			fmt.Fprintf(&b, "(on the cycle, steps %d to %d)\n", v.Loop, len(v.Rows))
		}
	}
	nameW := 0
	for _, x := range vars {
		nameW = max(nameW, utf8.RuneCountInString(oneLine(x.Name)))
	}
	for i, x := range vars {
		mark := " "
		value := oneLine(x.Value)
		if before, ok := changed[i]; ok {
			mark = "*"
			value = p.paint(styleChanged, value) + p.paint(styleDim, "  (was "+oneLine(before)+")")
		}
		name := oneLine(x.Name)
		fmt.Fprintf(&b, " %s %s%s  %s\n", mark, name, strings.Repeat(" ", nameW-utf8.RuneCountInString(name)), value)
	}
	if n > 0 {
		b.WriteString(p.paint(styleDim, "  * the step changed it") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
