package workload

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sysmsg/sysmsg/model/port"
)

// ErrSetting is wrapped by every [*SettingError]: a cap or low-water mark
// that no process can use.
var ErrSetting = errors.New("workload: cap or low-water mark out of range")

// SettingError is a cap or low-water mark that does not fit: a cap below 1,
// or a low outside 0 ≤ low < cap. Its text has no prefix of its own, so
// that each command wraps it in its own words.
type SettingError struct {
	// Process names the process, or is empty for a bare port.
	Process string
	// Cap is the cap in use; Low the low-water mark asked for.
	Cap, Low int
	// File and Pos are where the workload file sets the low, when it is
	// the file's low that does not fit a cap given in place of the file's.
	File string
	Pos  Pos
	// FileCap is then the file's own cap.
	FileCap int
	// Ordinary is the slots the file's reserve leaves of Cap, when it is
	// the reserve that makes the low not fit.
	Ordinary int
	// Reserve is the file's reserve when it is the reserve that does not
	// fit the cap given in place of the file's (File and Pos name it).
	Reserve int
}

func (e *SettingError) Error() string {
	msg := fmt.Sprintf("low %d (want 0 ≤ low < cap %d)", e.Low, e.Cap)
	switch {
	case e.Cap < 1 && e.Cap != Unlimited:
		msg = fmt.Sprintf("cap %d (want ≥ 1 or unlimited)", e.Cap)
	case e.Reserve > 0:
		msg = fmt.Sprintf("process %s: reserve %d needs a cap of at least %d, and cap %s is given in place of the file's %s",
			e.Process, e.Reserve, e.Reserve+1, CapText(e.Cap), CapText(e.FileCap))
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, msg)
	case e.Ordinary > 0:
		msg = fmt.Sprintf("low %d (want 0 ≤ low < %d, the slots that the reserve leaves of cap %d)", e.Low, e.Ordinary, e.Cap)
	}
	if e.Process != "" {
		msg = "process " + e.Process + ": " + msg
	}
	if e.Pos.Line > 0 {
		msg = fmt.Sprintf("%s:%d:%d: %s: the file's low was for its cap %s, and cap %d is given in its place",
			e.File, e.Pos.Line, e.Pos.Col, msg, CapText(e.FileCap), e.Cap)
	}
	return msg
}

func (e *SettingError) Unwrap() error { return ErrSetting }

// CapText names a cap as outputs write it: a number, or "unlimited".
func CapText(c int) string {
	if c == Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(c)
}

// Setting is a process's effective cap ([Unlimited] for none), low-water
// mark and reserve.
type Setting struct{ Cap, Low, Reserve int }

// Effective returns, per process of w, the cap and low-water mark that a
// check or a run of w under pol uses: the one place that reads a file's
// settings together with the command line's. capOverride, unless 0,
// replaces every process's cap; lowOverride, unless [Unset], every
// process's low. Each process's low then follows [port.LowFor]. A low the file
// sets for its own cap that does not fit the overriding cap is refused,
// naming the line, rather than quietly replaced by the default: the user
// asked for that mark. The error is a [*SettingError].
func Effective(w *Workload, pol port.Policy, capOverride, lowOverride int) ([]Setting, error) {
	out := make([]Setting, 0, len(w.Processes))
	for _, p := range w.Processes {
		c, low := p.Cap, p.Low
		if capOverride != 0 {
			c = capOverride
		}
		fromFile := lowOverride == Unset && low != Unset
		if lowOverride != Unset {
			low = lowOverride
		}
		// A reserve is the file's, kept for named calls: a cap given in
		// place of the file's must leave an ordinary slot beside it. With
		// no cap every call is sent, and there is nothing to reserve.
		reserve := p.Reserve
		if c == Unlimited {
			reserve = 0
		}
		if reserve > 0 && c > 0 && c <= reserve {
			return nil, &SettingError{Process: p.Name, Cap: c, Low: low, File: w.File, Pos: p.ReservePos, FileCap: p.Cap, Reserve: reserve}
		}
		cfg, err := port.NewReserveConfig(pol, c, reserve, low)
		if err != nil {
			e := &SettingError{Cap: c, Low: low}
			e.Process = p.Name
			if reserve > 0 && c >= 1 {
				e.Ordinary = c - reserve
			}
			if fromFile && c >= 1 {
				e.File, e.Pos, e.FileCap = w.File, p.LowPos, p.Cap
			}
			return nil, e
		}
		out = append(out, Setting{Cap: c, Low: cfg.Low, Reserve: reserve})
	}
	return out, nil
}

// ConfigText is how every output names a configuration, from the model's
// headings to a stored trace's: "policy poll, cap 2, low 0". With several
// processes each is named: "policy poll; app: cap 2, low 0; db: cap
// unlimited". The low-water mark is left out under block, which has no
// hysteresis, and with no cap. names may be empty (a trace stored before
// names were); caps and lows are per process.
func ConfigText(policy string, names []string, caps, lows []int) string {
	parts := make([]string, len(caps))
	for i, c := range caps {
		switch {
		case c == Unlimited:
			parts[i] = "cap unlimited"
		case policy == port.Block.String() || i >= len(lows):
			parts[i] = fmt.Sprintf("cap %d", c)
		default:
			parts[i] = fmt.Sprintf("cap %d, low %d", c, lows[i])
		}
		if len(caps) > 1 && i < len(names) {
			parts[i] = names[i] + ": " + parts[i]
		}
	}
	if len(caps) > 1 {
		return "policy " + policy + "; " + strings.Join(parts, "; ")
	}
	return "policy " + policy + ", " + strings.Join(parts, "; ")
}
