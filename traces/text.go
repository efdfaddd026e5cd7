package traces

import (
	"fmt"
	"io"
	"strings"

	"github.com/sysmsg/sysmsg/model/workload"
)

// Config renders the policy and each process's cap and low-water mark, as
// the model's headings do: "policy poll, cap 2, low 0".
func (t *Trace) Config() string {
	return workload.ConfigText(t.Policy, t.Processes, t.Caps, t.Lows)
}

// Headline is the first line of a rendered trace: the workload, the
// configuration, and what went wrong after how many steps.
func (t *Trace) Headline() string {
	n := len(t.Steps)
	var what string
	switch t.Kind {
	case "deadlock":
		what = "DEADLOCK after " + steps(n)
	case "livelock":
		what = fmt.Sprintf("LIVELOCK: %s, then a cycle of %s that never finishes", steps(t.Loop), steps(n-t.Loop))
	case "non-progress cycle":
		what = fmt.Sprintf("NO FAIR PROGRESS: %s, then a fair cycle of %s that a fair scheduler may follow forever", steps(t.Loop), steps(n-t.Loop))
	default:
		what = fmt.Sprintf("VIOLATED %q after %s", t.Property, steps(n))
	}
	return fmt.Sprintf("%s — %s: %s", t.Title, t.Config(), what)
}

// Text renders t for a terminal: the headline, the numbered steps with the
// slots in a column, markers where finishing became impossible and where a
// cycle starts, and the explanation.
func Text(w io.Writer, t *Trace) error {
	var b strings.Builder
	b.WriteString(t.Headline() + "\n")
	actorW, textW := 0, 0
	for _, s := range t.Steps {
		actorW = max(actorW, len(s.Actor))
		textW = max(textW, len([]rune(s.Text)))
	}
	textW = min(textW, 64)
	numW := len(fmt.Sprint(len(t.Steps)))
	for i, s := range t.Steps {
		if i == t.NoReturn && t.Kind == "livelock" && t.NoReturn != t.Loop {
			fmt.Fprintf(&b, "  %*s  -- from here on the system can no longer finish --\n", numW, "")
		}
		if i == t.Loop {
			fmt.Fprintf(&b, "  %*s  -- the cycle starts here and repeats forever --\n", numW, "")
		}
		line := fmt.Sprintf("  %*d  %-*s  %s", numW, i+1, actorW, s.Actor, s.Text)
		if s.Note != "" {
			pad := textW - len([]rune(s.Text))
			line += strings.Repeat(" ", max(pad, 0)) + "  " + s.Note
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	if t.Loop >= 0 && t.Loop < len(t.Steps) {
		fmt.Fprintf(&b, "  %*s  -- back to the state before step %d --\n", numW, "", t.Loop+1)
	}
	if len(t.Explain) > 0 {
		if t.Loop >= 0 {
			b.WriteString("on the cycle, nothing finishes:\n")
		} else {
			b.WriteString("why nothing can move:\n")
		}
		for _, e := range t.Explain {
			b.WriteString("  " + e + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func steps(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}
