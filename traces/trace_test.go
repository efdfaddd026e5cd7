package traces

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func sample() *Trace {
	return &Trace{
		Title:    "pipe triangle",
		Workload: Workload{Name: "triangle", Text: "pipe a\n"},
		Policy:   "stop", Processes: []string{"app"}, Caps: []int{2}, Lows: []int{0},
		Verdict: "violation", Kind: "deadlock", Property: "no deadlock",
		Path: []int{0, 0, 0}, Loop: -1, NoReturn: -1,
		Steps:   []Step{{Actor: "ra", Text: "sends read(a)", Note: "slots 1/2"}, {Actor: "rb", Text: "sends read(b)", Note: "slots 2/2"}},
		Explain: []string{"app: slots 2/2"},
		Stats:   Stats{States: 11, Transitions: 15, Depth: 2},
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := Read("t.json", &b)
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	want.Format, want.Version = Format, Version
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestReadRejects(t *testing.T) {
	var good bytes.Buffer
	Write(&good, sample())
	text := good.String()
	cases := []struct{ name, input, want string }{
		{"syntax", "{\n  \"format\": ,\n}", "t.json:2:13: invalid character ','"},
		{"truncated", text[:40], "unexpected end of input"},
		{"type", strings.Replace(text, `"loop": -1`, `"loop": "x"`, 1), `field "loop"`},
		{"unknown field", strings.Replace(text, `"loop": -1`, `"loop": -1, "colour": 1`, 1), `unknown field "colour"`},
		{"format", strings.Replace(text, Format, "other", 1), `format "other"`},
		{"version", strings.Replace(text, `"version": 2`, `"version": 3`, 1), "version 3, this reader knows versions 1 to 2"},
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
	}
	for _, c := range cases {
		_, err := Read("t.json", strings.NewReader(c.input))
		if err == nil || !errors.Is(err, ErrTrace) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// A version 1 trace, written before processes were named, still reads,
// and renders its configuration without names.
func TestReadsVersion1(t *testing.T) {
	old := sample()
	old.Processes = nil
	var b bytes.Buffer
	if err := Write(&b, old); err != nil {
		t.Fatal(err)
	}
	v1 := strings.Replace(b.String(), `"version": 2`, `"version": 1`, 1)
	got, err := Read("old.json", strings.NewReader(v1))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || got.Config() != "policy stop, cap 2, low 0" {
		t.Errorf("version %d, config %q", got.Version, got.Config())
	}
}

func TestConfigNamesEachProcess(t *testing.T) {
	tr := sample()
	tr.Processes, tr.Caps, tr.Lows = []string{"app", "db"}, []int{2, -1}, []int{0, 0}
	if got, want := tr.Config(), "policy stop; app: cap 2, low 0; db: cap unlimited"; got != want {
		t.Errorf("config %q, want %q", got, want)
	}
}

func TestTextRendersLassoMarkers(t *testing.T) {
	tr := sample()
	tr.Kind, tr.Property = "livelock", "no livelock"
	tr.Path = []int{0, 1, 0, 0}
	tr.Steps = append(tr.Steps, Step{Actor: "rb", Text: "tries read(b): would block"})
	tr.Loop, tr.NoReturn = 1, 0
	var b strings.Builder
	Text(&b, tr)
	out := b.String()
	for _, want := range []string{
		"pipe triangle — policy stop, cap 2, low 0: LIVELOCK: 1 step, then a cycle of 2 steps that never finishes",
		"-- from here on the system can no longer finish --",
		"-- the cycle starts here and repeats forever --",
		"-- back to the state before step 2 --",
		"on the cycle, nothing finishes:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "no longer finish") > strings.Index(out, "cycle starts") {
		t.Errorf("markers out of order:\n%s", out)
	}
}

// FuzzRead: no input makes Read panic, and what it accepts is whole.
func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	Write(&b, sample())
	f.Add(b.String())
	f.Add("{}")
	f.Add(`{"format":"sysmsg-trace","version":1,"path":[0]}`)
	f.Fuzz(func(t *testing.T, s string) {
		tr, err := Read("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		if len(tr.Steps) != len(tr.Path)-1 || tr.Loop >= len(tr.Path) {
			t.Fatalf("accepted an inconsistent trace: %+v", tr)
		}
		var out strings.Builder
		Text(&out, tr)
	})
}
