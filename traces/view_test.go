package traces

import (
	"reflect"
	"strings"
	"testing"
)

// NewView is a pure function of the trace: pinned here by deep comparison.
func TestNewView(t *testing.T) {
	got := NewView(sample())
	want := View{
		Title:    "pipe triangle",
		Headline: "pipe triangle — policy stop, cap 2, low 0: DEADLOCK after 2 steps",
		Config:   "policy stop, cap 2, low 0",
		Kind:     "deadlock", Property: "no deadlock",
		Columns:   []Column{{"ra", "ra"}, {"rb", "rb"}, {"scheduler", "sche"}, {"kernel", "kern"}},
		Processes: []string{"app"}, Caps: []string{"2"},
		Rows: []Row{
			{Step: 1, Actor: 0, With: 3, Who: "ra", Text: "sends read(a)", Note: "slots 1/2",
				Slots: []string{"1/2"}, Modes: []string{"messaging"}, SlotsChanged: true, Changed: []int{0, 2}},
			{Step: 2, Actor: 1, With: 3, Who: "rb", Text: "sends read(b)", Note: "slots 2/2  cap reached: stops issuing",
				Slots: []string{"2/2"}, Modes: []string{"stopped until in-flight <= 0"}, SlotsChanged: true, ModeChanged: true, Changed: []int{0, 1, 3}},
		},
		Vars: []string{"app slots", "app mode", "ra", "rb"},
		States: [][]string{
			{"0/2", "messaging", "next read(a)", "next read(b)"},
			{"1/2", "messaging", "parked on read(a)", "next read(b)"},
			{"2/2", "stopped until in-flight <= 0", "parked on read(a)", "parked on read(b)"},
		},
		ExplainTitle: "Why nothing can move:",
		Explain:      []string{"app: slots 2/2"},
		Figures:      "found after 11 states, 15 transitions, depth 2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("view\n got %+v\nwant %+v", got, want)
	}
}

// A lasso's view marks the cycle's steps and the step from which
// finishing is impossible, counted from 1.
func TestNewViewMarksTheCycle(t *testing.T) {
	tr := sample()
	tr.Kind, tr.Property, tr.Loop, tr.NoReturn = "livelock", "no livelock", 1, 0
	v := NewView(tr)
	if v.Loop != 2 || v.NoReturn != 1 || v.Rows[0].InCycle || !v.Rows[1].InCycle || v.ExplainTitle != "On the cycle nothing finishes:" {
		t.Errorf("loop %d, no return %d, in cycle %v %v, title %q", v.Loop, v.NoReturn, v.Rows[0].InCycle, v.Rows[1].InCycle, v.ExplainTitle)
	}
}

func TestAbbreviate(t *testing.T) {
	got := abbreviate([]string{"r0", "scheduler", "kernel", "client0", "client10", "clientA", "clientB", "écrivain"})
	want := []string{"r0", "sche", "kern", "cli0", "cl10", "clie", "cli2", "écri"}
	for i, c := range got {
		if c.Short != want[i] {
			t.Errorf("%s: short %q, want %q", c.Name, c.Short, want[i])
		}
	}
}

func TestChartPlain(t *testing.T) {
	var b strings.Builder
	if err := Chart(&b, NewView(sample()), ChartOptions{Width: 80}); err != nil {
		t.Fatal(err)
	}
	want := `pipe triangle — policy stop, cap 2, low 0: DEADLOCK after 2 steps

      ra   rb   sche kern   slots      step
   1  o-------------->      1/2*       ra sends read(a)
   2  |    o--------->      2/2 stop*  rb sends read(b): cap reached: stops i...

  columns: sche = scheduler, kern = kernel. slots: in use/cap per process, and
  the mode when not messaging; * marks a change

Why nothing can move:
  app: slots 2/2
`
	if got := b.String(); got != want {
		t.Errorf("chart:\n%s\nwant:\n%s", got, want)
	}
}

// On a colour terminal the chart uses box-drawing and colour; text from a
// trace never carries its own escape sequences to the terminal.
func TestChartColourAndEscapes(t *testing.T) {
	tr := sample()
	tr.Title = "evil\x1b[2J title"
	tr.Steps[0].Text = "sends \x1b]0;pwned\x07read(a)"
	var b strings.Builder
	Chart(&b, NewView(tr), ChartOptions{Width: 80, Color: true, Unicode: true})
	out := b.String()
	for _, want := range []string{"●", "▶", styleActor, styleChanged} {
		if !strings.Contains(out, want) {
			t.Errorf("colour chart lacks %q", want)
		}
	}
	for _, bad := range []string{"\x1b[2J", "\x1b]0", "\x07"} {
		if strings.Contains(out, bad) {
			t.Errorf("the trace's escape %q reached the terminal", bad)
		}
	}
}

func TestChartLasso(t *testing.T) {
	tr := sample()
	tr.Kind, tr.Property, tr.Loop, tr.NoReturn = "livelock", "no livelock", 1, 0
	var b strings.Builder
	Chart(&b, NewView(tr), ChartOptions{Width: 120})
	out := b.String()
	for _, want := range []string{
		"LIVELOCK: 1 step, then a cycle of 1 step that never finishes",
		"-- from here on the system can no longer finish --",
		"+     -- the cycle starts here and repeats forever --",
		"|  2  |    o",
		"+     -- back to the state before step 2 --",
		"On the cycle nothing finishes:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lasso chart lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "no longer finish") > strings.Index(out, "cycle starts") {
		t.Errorf("markers out of order:\n%s", out)
	}
}

func TestChartFitsTheWidth(t *testing.T) {
	tr := sample()
	tr.Steps[1].Text = strings.Repeat("very long ", 20)
	for _, w := range []int{60, 80, 120} {
		var b strings.Builder
		Chart(&b, NewView(tr), ChartOptions{Width: w})
		for _, line := range strings.Split(b.String(), "\n") {
			if n := len([]rune(line)); n > w {
				t.Errorf("width %d: a line of %d: %q", w, n, line)
			}
		}
	}
}

func TestStateText(t *testing.T) {
	v := NewView(sample())
	var b strings.Builder
	if err := StateText(&b, v, 2, ChartOptions{Width: 80}); err != nil {
		t.Fatal(err)
	}
	want := `pipe triangle — policy stop, cap 2, low 0: DEADLOCK after 2 steps

The state after step 2 of 2: rb sends read(b)
 * app slots  2/2  (was 1/2)
 * app mode   stopped until in-flight <= 0  (was messaging)
   ra         parked on read(a)
 * rb         parked on read(b)  (was next read(b))
  * the step changed it
`
	if got := b.String(); got != want {
		t.Errorf("state:\n%s\nwant:\n%s", got, want)
	}
	for _, n := range []int{-1, 3} {
		if err := StateText(&b, v, n, ChartOptions{}); err == nil || !strings.Contains(err.Error(), "outside the trace: it has steps 1 to 2") {
			t.Errorf("step %d: err %v", n, err)
		}
	}
}
