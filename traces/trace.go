package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Format and Version identify the trace file format. A reader accepts the
// versions it knows and rejects others with a clear error, never a guess.
const (
	Format  = "sysmsg-trace"
	Version = 2
)

// ErrTrace is wrapped by every error that Read returns for bad input.
var ErrTrace = errors.New("trace: bad input")

// Trace is a stored counterexample (or, for a sometimes-guard, a witness):
// enough to print it again, and to replay it, since it holds the
// workload's full text and the path of action indices.
type Trace struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Title is the workload's title.
	Title string `json:"title"`
	// Workload is the workload the trace was found in.
	Workload Workload `json:"workload"`
	// Policy is the policy's name; Processes names the processes (since
	// version 2; a version 1 trace has none), and Caps and Lows are per
	// process, a cap of -1 meaning unlimited.
	Policy    string   `json:"policy"`
	Processes []string `json:"processes,omitempty"`
	Caps      []int    `json:"caps"`
	Lows      []int    `json:"lows"`
	// Verdict is "violation"; Kind is "invariant", "step invariant",
	// "deadlock", "livelock" or "non-progress cycle"; Property names the
	// broken property.
	Verdict  string `json:"verdict"`
	Kind     string `json:"kind"`
	Property string `json:"property"`
	// Path is the index of the initial state, then each step's action index
	// among the enabled actions, in the model's fixed order.
	Path []int `json:"path"`
	// Loop is, for a lasso (a livelock or a fair non-progress cycle), the
	// index of the state where the cycle starts (state 0 is the initial state); -1 otherwise. NoReturn is
	// the first state from which finishing was no longer possible, or -1.
	Loop     int `json:"loop"`
	NoReturn int `json:"noReturn"`
	// Steps are the steps as a person reads them, one per path element
	// after the first.
	Steps []Step `json:"steps"`
	// Explain says why nothing can move at the end (deadlock) or on the
	// cycle (livelock).
	Explain []string `json:"explain,omitempty"`
	Stats   Stats    `json:"stats"`
}

// Workload names the workload and holds its text.
type Workload struct {
	// Name is a built-in's name or the file's path.
	Name string `json:"name"`
	// Text is the workload in the workload format.
	Text string `json:"text"`
}

// Step is one step: who moved, what happened, and the slots afterwards.
type Step struct {
	Actor string `json:"actor"`
	Text  string `json:"text"`
	// Note is the process's slots and mode after the step, where it
	// matters ("slots 2/2  cap reached").
	Note string `json:"note,omitempty"`
}

// Stats are the search's figures when the trace was found.
type Stats struct {
	States      int     `json:"states"`
	Transitions uint64  `json:"transitions"`
	Depth       int     `json:"depth"`
	Seconds     float64 `json:"seconds"`
}

// Write stores t as indented JSON, stamped with this Format and Version.
func Write(w io.Writer, t *Trace) error {
	c := *t
	c.Format, c.Version = Format, Version
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Read parses a stored trace and checks that it is whole: the right format
// and version, a path, and one step per path element after the first. An
// error names the line and column where the input went wrong.
func Read(name string, r io.Reader) (*Trace, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Trace
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %s:%s", ErrTrace, name, describeJSONError(data, err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: %s:%s: more than one JSON value", ErrTrace, name, lineCol(data, dec.InputOffset()))
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrTrace, name, fmt.Sprintf(format, args...))
	}
	switch {
	case t.Format != Format:
		return nil, bad("format %q, want %q", t.Format, Format)
	case t.Version < 1 || t.Version > Version:
		return nil, bad("version %d, this reader knows versions 1 to %d", t.Version, Version)
	case t.Version >= 2 && len(t.Processes) != len(t.Caps):
		return nil, bad("%d processes but %d caps", len(t.Processes), len(t.Caps))
	case len(t.Path) == 0:
		return nil, bad("empty path")
	case len(t.Steps) != len(t.Path)-1:
		return nil, bad("%d steps for a path of %d actions", len(t.Steps), len(t.Path)-1)
	case t.Loop < -1 || t.Loop >= len(t.Path):
		return nil, bad("loop %d outside the %d states", t.Loop, len(t.Path))
	case t.NoReturn < -1 || t.NoReturn >= len(t.Path):
		return nil, bad("noReturn %d outside the %d states", t.NoReturn, len(t.Path))
	case strings.TrimSpace(t.Workload.Text) == "":
		return nil, bad("no workload text")
	case len(t.Caps) != len(t.Lows):
		return nil, bad("%d caps but %d low-water marks", len(t.Caps), len(t.Lows))
	}
	for i, p := range t.Path {
		if p < 0 {
			return nil, bad("path element %d is negative", i)
		}
	}
	return &t, nil
}

func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("%s: %v", lineCol(data, syn.Offset-1), err) // Offset is just past the bad byte
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: field %q: %v", lineCol(data, typ.Offset), typ.Field, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s: unexpected end of input", lineCol(data, int64(len(data))))
	}
	return " " + err.Error()
}

// lineCol renders a byte offset as "line:col".
func lineCol(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("%d:%d", line, col)
}
