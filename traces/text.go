package traces

import (
	"fmt"

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

func steps(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}
