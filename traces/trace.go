package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Format and Version identify the trace file format. A reader accepts the
// versions it knows and rejects others with a clear error, never a guess.
const (
	Format  = "sysmsg-trace"
	Version = 3
)

// ErrTrace is wrapped by every error that Read returns for bad input.
var ErrTrace = errors.New("trace: bad input")

// Trace is a stored counterexample (or, for a sometimes-guard, a witness):
// enough to print it again, and to replay it, since it holds the
// workload's full text and the path of action indices.
type Trace struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Tool names the program that wrote the trace and its version (since
	// version 3).
	Tool string `json:"tool,omitempty"`
	// Title is the workload's title.
	Title string `json:"title"`
	// Workload is the workload the trace was found in.
	Workload Workload `json:"workload"`
	// Sizes counts the workload's parts (since version 3).
	Sizes *Sizes `json:"sizes,omitempty"`
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
	// Actors are the chart's columns, each a step's actor or party: the
	// threads, the scheduler, the kernel and the peers (since version 3).
	Actors []string `json:"actors,omitempty"`
	// Init is the initial state as variables (since version 3); each
	// step's Changes rewrite some of them, so that the state after any
	// step can be shown without the model.
	Init []Var `json:"init,omitempty"`
	// Steps are the steps as a person reads them, one per path element
	// after the first.
	Steps []Step `json:"steps"`
	// Explain says why nothing can move at the end (deadlock) or on the
	// cycle (livelock).
	Explain []string `json:"explain,omitempty"`
	Stats   Stats    `json:"stats"`
	// Minimised, when set, says the steps are a shortened counterexample
	// (since version 3).
	Minimised *Minimised `json:"minimised,omitempty"`
}

// Sizes counts a workload's parts.
type Sizes struct {
	Processes int `json:"processes"`
	Threads   int `json:"threads"`
	Peers     int `json:"peers"`
	Objects   int `json:"objects"`
}

// Var is one variable of a state as a person reads it: "server slots" is
// "2/2", "r0" is "parked on read(c0) (op 1 of 4)".
type Var struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Change is one variable's change in a step.
type Change struct {
	Var  string `json:"var"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Minimised says how a counterexample was shortened: the search's trace
// had Before steps; Dropped were removed and Moved pairs of independent
// steps swapped. CutShort says an interrupt stopped the minimising early:
// the steps are still a checked counterexample, perhaps not the shortest.
type Minimised struct {
	Before   int  `json:"before"`
	Dropped  int  `json:"dropped"`
	Moved    int  `json:"moved"`
	CutShort bool `json:"cutShort,omitempty"`
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
	// With is who the step is addressed to, one of the trace's Actors, or
	// "" for a step that stays with its actor (since version 3).
	With string `json:"with,omitempty"`
	// Slots and Modes are each process's slots in use and mode after the
	// step; Changes are the variables it changed, in Init's order (since
	// version 3).
	Slots   []int    `json:"slots,omitempty"`
	Modes   []string `json:"modes,omitempty"`
	Changes []Change `json:"changes,omitempty"`
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
	if c.Tool == "" {
		c.Tool = Tool()
	}
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Tool names this program and its version, as a trace records it:
// "sysmsg v1.2.0", or "sysmsg (devel)" for a build outside a release.
func Tool() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return "sysmsg " + v
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
		return nil, bad("version %d, this reader knows versions 1 to %d: a newer sysmsg wrote it", t.Version, Version)
	case t.Version < 3 && (t.Actors != nil || t.Init != nil || t.Sizes != nil || t.Tool != "" || t.Minimised != nil):
		return nil, bad("version %d has no actors, init, sizes, tool or minimised; they came with version 3", t.Version)
	case t.Version >= 2 && len(t.Processes) != len(t.Caps):
		return nil, bad("%d processes but %d caps", len(t.Processes), len(t.Caps))
	case len(t.Path) == 0:
		return nil, bad("empty path")
	case len(t.Steps) != len(t.Path)-1:
		return nil, bad("%d steps for a path of %d actions", len(t.Steps), len(t.Path)-1)
	case t.Loop < -1 || t.Loop >= len(t.Path):
		return nil, bad("loop %d outside the %d states", t.Loop, len(t.Path))
	case t.Minimised != nil && (t.Minimised.Before < 0 || t.Minimised.Dropped < 0 || t.Minimised.Moved < 0 || t.Minimised.Before-t.Minimised.Dropped != len(t.Steps)):
		return nil, bad("minimised from %d steps with %d dropped, but %d steps", t.Minimised.Before, t.Minimised.Dropped, len(t.Steps))
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
	if t.Version >= 3 {
		if err := t.checkStates(); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTrace, name, err)
		}
	}
	return &t, nil
}

// checkStates checks a version 3 trace's state data: the actors are
// named, every step's actor and party are among them, its slots and modes
// are one per process, and its changes start from the values the state
// held, so that States rebuilds every state.
func (t *Trace) checkStates() error {
	if len(t.Actors) == 0 {
		return errors.New("no actors")
	}
	if len(t.Init) == 0 {
		return errors.New("no initial state (init)")
	}
	actor := make(map[string]bool, len(t.Actors))
	for _, a := range t.Actors {
		actor[a] = true
	}
	vars := make(map[string]int, len(t.Init))
	for i, v := range t.Init {
		if _, dup := vars[v.Name]; dup || v.Name == "" {
			return fmt.Errorf("init: variable %d: name %q empty or repeated", i+1, v.Name)
		}
		vars[v.Name] = i
	}
	cur := make([]string, len(t.Init))
	for i, v := range t.Init {
		cur[i] = v.Value
	}
	for i, s := range t.Steps {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("step %d: %s", i+1, fmt.Sprintf(format, args...))
		}
		switch {
		case !actor[s.Actor]:
			return bad("actor %q is not among the actors", s.Actor)
		case s.With != "" && !actor[s.With]:
			return bad("party %q is not among the actors", s.With)
		case len(s.Slots) != len(t.Caps):
			return bad("%d slot counts for %d processes", len(s.Slots), len(t.Caps))
		case len(s.Modes) != len(t.Caps):
			return bad("%d modes for %d processes", len(s.Modes), len(t.Caps))
		}
		for p, n := range s.Slots {
			if n < 0 || (t.Caps[p] >= 0 && n > t.Caps[p]) {
				return bad("process %d has %d slots in use, cap %d", p+1, n, t.Caps[p])
			}
		}
		last := -1
		for _, c := range s.Changes {
			k, ok := vars[c.Var]
			switch {
			case !ok:
				return bad("change of unknown variable %q", c.Var)
			case k <= last:
				return bad("change of %q out of order or repeated", c.Var)
			case cur[k] != c.From:
				return bad("%q changes from %q, but it was %q", c.Var, c.From, cur[k])
			case c.From == c.To:
				return bad("%q changes to the value it had", c.Var)
			}
			last = k
			cur[k] = c.To
		}
	}
	return nil
}

// States rebuilds the value of every variable after each step from Init
// and the steps' changes: States()[0] is the initial state, States()[i]
// the state after step i. It returns nil for a trace without state data
// (versions 1 and 2).
func (t *Trace) States() [][]string {
	if len(t.Init) == 0 {
		return nil
	}
	index := make(map[string]int, len(t.Init))
	cur := make([]string, len(t.Init))
	for i, v := range t.Init {
		index[v.Name] = i
		cur[i] = v.Value
	}
	out := [][]string{append([]string(nil), cur...)}
	for _, s := range t.Steps {
		for _, c := range s.Changes {
			if k, ok := index[c.Var]; ok {
				cur[k] = c.To
			}
		}
		out = append(out, append([]string(nil), cur...))
	}
	return out
}

// Diff returns the changes from one state's variables to the next's, in
// their order. Both must name the same variables in the same order.
func Diff(from, to []Var) []Change {
	var out []Change
	for i := range min(len(from), len(to)) {
		if from[i].Value != to[i].Value {
			out = append(out, Change{Var: to[i].Name, From: from[i].Value, To: to[i].Value})
		}
	}
	return out
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
