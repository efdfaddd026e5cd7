package traces

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// sample is a small version 3 trace: the pipe triangle's first two steps.
func sample() *Trace {
	return &Trace{
		Tool:     "sysmsg test",
		Title:    "pipe triangle",
		Workload: Workload{Name: "triangle", Text: "pipe a\n"},
		Sizes:    &Sizes{Processes: 1, Threads: 2, Objects: 2},
		Policy:   "stop", Processes: []string{"app"}, Caps: []int{2}, Lows: []int{0},
		Verdict: "violation", Kind: "deadlock", Property: "no deadlock",
		Path: []int{0, 0, 0}, Loop: -1, NoReturn: -1,
		Actors: []string{"ra", "rb", "scheduler", "kernel"},
		Init:   []Var{{"app slots", "0/2"}, {"app mode", "messaging"}, {"ra", "next read(a)"}, {"rb", "next read(b)"}},
		Steps: []Step{
			{Actor: "ra", Text: "sends read(a)", Note: "slots 1/2", With: "kernel", Slots: []int{1}, Modes: []string{"messaging"},
				Changes: []Change{{"app slots", "0/2", "1/2"}, {"ra", "next read(a)", "parked on read(a)"}}},
			{Actor: "rb", Text: "sends read(b)", Note: "slots 2/2  cap reached: stops issuing", With: "kernel", Slots: []int{2}, Modes: []string{"stopped until in-flight <= 0"},
				Changes: []Change{{"app slots", "1/2", "2/2"}, {"app mode", "messaging", "stopped until in-flight <= 0"}, {"rb", "next read(b)", "parked on read(b)"}}},
		},
		Explain: []string{"app: slots 2/2"},
		Stats:   Stats{States: 11, Transitions: 15, Depth: 2},
	}
}

func write(t testing.TB, tr *Trace) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, tr); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteReadRoundTrip(t *testing.T) {
	got, err := Read("t.json", strings.NewReader(write(t, sample())))
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	want.Format, want.Version = Format, Version
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestWriteStampsTheTool(t *testing.T) {
	tr := sample()
	tr.Tool = ""
	got, err := Read("t.json", strings.NewReader(write(t, tr)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Tool, "sysmsg ") {
		t.Errorf("tool %q", got.Tool)
	}
}

func TestReadRejects(t *testing.T) {
	text := write(t, sample())
	cases := []struct{ name, input, want string }{
		{"syntax", "{\n  \"format\": ,\n}", "t.json:2:13: invalid character ','"},
		{"truncated", text[:40], "unexpected end of input"},
		{"type", strings.Replace(text, `"loop": -1`, `"loop": "x"`, 1), `field "loop"`},
		{"unknown field", strings.Replace(text, `"loop": -1`, `"loop": -1, "colour": 1`, 1), `unknown field "colour"`},
		{"format", strings.Replace(text, Format, "other", 1), `format "other"`},
		{"version", strings.Replace(text, `"version": 3`, `"version": 4`, 1), "version 4, this reader knows versions 1 to 3"},
		{"processes", strings.Replace(text, `"app"`, `"app", "db"`, 1), "2 processes but 1 caps"},
		{"steps", strings.Replace(text, `"path": [
    0,
    0,
    0
  ]`, `"path": [0, 0]`, 1), "2 steps for a path of 1 actions"},
		{"negative", strings.Replace(text, `"path": [
    0,`, `"path": [
    -1,`, 1), "path element 0 is negative"},
		{"two values", text + "{}", "more than one JSON value"},
		{"actor", strings.Replace(text, `"actor": "rb"`, `"actor": "rc"`, 1), `step 2: actor "rc" is not among the actors`},
		{"party", strings.Replace(text, `"with": "kernel"`, `"with": "nobody"`, 1), `step 1: party "nobody" is not among the actors`},
		{"change from", strings.Replace(text, `"from": "1/2"`, `"from": "0/2"`, 1), `step 2: "app slots" changes from "0/2", but it was "1/2"`},
		{"unknown var", strings.Replace(text, `"var": "ra"`, `"var": "rz"`, 1), `step 1: change of unknown variable "rz"`},
		{"slots", strings.Replace(text, `"slots": [
        2
      ]`, `"slots": [3]`, 1), "step 2: process 1 has 3 slots in use, cap 2"},
		{"old version, new fields", strings.Replace(text, `"version": 3`, `"version": 2`, 1), "version 2 has no actors, init"},
	}
	for _, c := range cases {
		_, err := Read("t.json", strings.NewReader(c.input))
		if err == nil || !errors.Is(err, ErrTrace) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// oldVersion writes sample as version v (1 or 2) wrote it: without the
// state data, and for version 1 without the processes' names.
func oldVersion(t *testing.T, v int) string {
	old := sample()
	old.Tool, old.Sizes, old.Actors, old.Init = "", nil, nil, nil
	for i := range old.Steps {
		old.Steps[i].With, old.Steps[i].Slots, old.Steps[i].Modes, old.Steps[i].Changes = "", nil, nil, nil
	}
	if v == 1 {
		old.Processes = nil
	}
	text := strings.Replace(write(t, old), `"version": 3`, `"version": `+string(rune('0'+v)), 1)
	return strings.Replace(text, `"tool": "`+Tool()+`",`, "", 1)
}

// Traces written by versions 1 and 2 of the format still read; they hold
// no states, and a view of one has none to show.
func TestReadsOlderVersions(t *testing.T) {
	for _, v := range []int{1, 2} {
		got, err := Read("old.json", strings.NewReader(oldVersion(t, v)))
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		if got.Version != v || got.States() != nil {
			t.Errorf("version %d: read as version %d with states %v", v, got.Version, got.States())
		}
		if want := "policy stop, cap 2, low 0"; got.Config() != want {
			t.Errorf("version %d: config %q", v, got.Config())
		}
		view := NewView(got)
		if len(view.States) != 0 || len(view.Rows) != 2 || view.Rows[0].Actor != 0 || view.Rows[1].Actor != 1 {
			t.Errorf("version %d: view %+v", v, view)
		}
	}
}

func TestStatesRebuildsEveryStep(t *testing.T) {
	got := sample().States()
	want := [][]string{
		{"0/2", "messaging", "next read(a)", "next read(b)"},
		{"1/2", "messaging", "parked on read(a)", "next read(b)"},
		{"2/2", "stopped until in-flight <= 0", "parked on read(a)", "parked on read(b)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("states %q, want %q", got, want)
	}
}

func TestConfigNamesEachProcess(t *testing.T) {
	tr := sample()
	tr.Processes, tr.Caps, tr.Lows = []string{"app", "db"}, []int{2, -1}, []int{0, 0}
	if got, want := tr.Config(), "policy stop; app: cap 2, low 0; db: cap unlimited"; got != want {
		t.Errorf("config %q, want %q", got, want)
	}
}

// FuzzRead: no input makes Read panic, what it accepts is whole, and every
// accepted trace can be viewed: as a chart, as the state at each step, and
// as a page's data.
func FuzzRead(f *testing.F) {
	f.Add(write(f, sample()))
	f.Add("{}")
	f.Add(`{"format":"sysmsg-trace","version":1,"path":[0]}`)
	lasso := sample()
	lasso.Kind, lasso.Loop, lasso.NoReturn = "livelock", 1, 0
	f.Add(write(f, lasso))
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := Read("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		if len(tr.Steps) != len(tr.Path)-1 || tr.Loop >= len(tr.Path) {
			t.Fatalf("accepted an inconsistent trace: %+v", tr)
		}
		v := NewView(tr)
		if len(v.Rows) != len(tr.Steps) || (len(v.States) != 0 && len(v.States) != len(tr.Steps)+1) {
			t.Fatalf("view of %d steps has %d rows and %d states", len(tr.Steps), len(v.Rows), len(v.States))
		}
		var out strings.Builder
		Chart(&out, v, ChartOptions{Width: 60})
		for n := range v.States {
			StateText(&out, v, n, ChartOptions{Width: 60})
		}
		if strings.ContainsRune(out.String(), 0x1b) {
			t.Fatalf("an escape character reached a plain chart:\n%q", out.String())
		}
		var page strings.Builder
		if err := WritePage(&page, NewPage([]NamedView{{Name: "all steps", View: v}}, "")); err != nil {
			t.Fatalf("the page of an accepted trace: %v", err)
		}
		if n := strings.Count(strings.ToLower(page.String()), "<script"); n != 2 {
			t.Fatalf("the page has %d script elements, want its own 2", n)
		}
	})
}
