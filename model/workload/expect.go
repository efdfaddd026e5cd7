package workload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sysmsg/sysmsg/model/port"
)

// Expectation is one line of a table of expected verdicts: a built-in
// workload (default sizes), a cap and a policy, and the verdict of the
// exhaustive check. make check holds the command to such a table
// (model/testdata/verdicts.txt), and the implementation's tests hold its
// runs to the same one.
type Expectation struct {
	Workload string
	// Cap is a cap from 1 up, or Unlimited; CapText is as written.
	Cap     int
	CapText string
	Policy  port.Policy
	// Verdict is ok, deadlock, livelock, violation or incomplete.
	Verdict string
}

// Key is "WORKLOAD CAP POLICY", as the table writes a cell.
func (e Expectation) Key() string { return e.Workload + " " + e.CapText + " " + e.Policy.String() }

// ReadExpectations reads a table of expected verdicts: lines of
// "WORKLOAD CAP POLICY VERDICT", # starting a comment. An error names the
// line.
func ReadExpectations(name string, r io.Reader) ([]Expectation, error) {
	var out []Expectation
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s:%d: %s", ErrWorkload, name, n, fmt.Sprintf(format, args...))
		}
		if len(f) != 4 {
			return nil, bad("want WORKLOAD CAP POLICY VERDICT, got %d fields", len(f))
		}
		e := Expectation{Workload: f[0], CapText: f[1], Verdict: f[3], Cap: Unlimited}
		if f[1] != "unlimited" {
			c, err := strconv.Atoi(f[1])
			if err != nil || c < 1 || c > MaxCapacity {
				return nil, bad("cap %q: want 1..%d or unlimited", f[1], MaxCapacity)
			}
			e.Cap = c
		}
		p, err := port.ParsePolicy(f[2])
		if err != nil {
			return nil, bad("%v", err)
		}
		e.Policy = p
		switch e.Verdict {
		case "ok", "deadlock", "livelock", "violation", "incomplete":
		default:
			return nil, bad("unknown verdict %q", e.Verdict)
		}
		if prev, dup := seen[e.Key()]; dup {
			return nil, bad("%s is listed at line %d already", e.Key(), prev)
		}
		seen[e.Key()] = n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: no expectations", ErrWorkload, name)
	}
	return out, nil
}

// Load returns built-in or incident name, parsed, with its text. An
// incident has no sizes: p is ignored for one.
func Load(name string, p Params) (*Workload, string, error) {
	text, err := Builtin(name, p)
	if inc, ok := Incident(name); ok && errors.Is(err, ErrUnknownBuiltin) {
		text, err = inc, nil
	}
	if err != nil {
		return nil, "", err
	}
	w, err := Parse(name, text)
	if err != nil {
		return nil, "", err
	}
	return w, text, nil
}
