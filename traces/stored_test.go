package traces_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

var rewrite = flag.Bool("rewrite", false, "write the stored traces in testdata anew (make traces)")

// stored are the counterexamples kept in testdata: the seed's story (the
// web server under block and stop at cap 2), the pipe triangle, and a
// livelock that the cap makes of a deadlock. TestStoredTracesDoNotDrift
// finds each again and compares; -rewrite (make traces) writes them anew.
var stored = []struct {
	file, workload string
	policy         port.Policy
	cap            int
}{
	{"webserver-block-cap2.json", "webserver", port.Block, 2},
	{"webserver-stop-cap2.json", "webserver", port.Stop, 2},
	{"triangle-block-cap2.json", "triangle", port.Block, 2},
	{"livelock-poll-cap1.json", "testdata/livelock.wl", port.Poll, 1},
}

// find checks the workload as `sysmsg check` does and returns its
// counterexample in the stored form.
func find(t *testing.T, name string, pol port.Policy, c int) *traces.Trace {
	t.Helper()
	w, text, err := workload.Load(name, workload.Params{})
	if err != nil {
		b, ferr := os.ReadFile(name)
		if ferr != nil {
			t.Fatal(err)
		}
		text = string(b)
		if w, err = workload.Parse(name, text); err != nil {
			t.Fatal(err)
		}
	}
	m, err := model.New(w, model.Config{Policy: pol, Cap: c, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	res, err := check.Explore(context.Background(), m, check.Options{Livelock: true, Fairness: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Violation == nil {
		t.Fatalf("%s under %v at cap %d: %v, want a counterexample", name, pol, c, res.Verdict)
	}
	return m.Trace(name, text, res.Violation, res.Stats)
}

// encode writes tr as a stored trace, with the one figure that changes
// from run to run, the seconds, left out.
func encode(t *testing.T, tr *traces.Trace) []byte {
	t.Helper()
	tr.Stats.Seconds = 0
	var b bytes.Buffer
	if err := traces.Write(&b, tr); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStoredTracesDoNotDrift(t *testing.T) {
	for _, s := range stored {
		t.Run(s.file, func(t *testing.T) {
			got := encode(t, find(t, s.workload, s.policy, s.cap))
			path := filepath.Join("testdata", s.file)
			if *rewrite {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (make traces writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s drifted: the same check finds another trace now; review with make traces and git diff", path)
			}
		})
	}
}

// TestStoredTracesReadAndReplay reads every stored trace and replays it in
// the model built from the trace alone: the same steps, as labelled.
func TestStoredTracesReadAndReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < len(stored) {
		t.Fatalf("%d stored traces (%v), want at least %d", len(files), err, len(stored))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			tr := readStored(t, file)
			m, _, err := model.FromTrace(tr)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := check.Replay(m, tr.Path)
			if err != nil {
				t.Fatal(err)
			}
			for i, st := range rt.Steps {
				text, _, _ := strings.Cut(st.Label.Text, "\t")
				if st.Label.Actor != tr.Steps[i].Actor || text != tr.Steps[i].Text {
					t.Fatalf("step %d replays as %q %q; the trace says %q %q", i+1, st.Label.Actor, text, tr.Steps[i].Actor, tr.Steps[i].Text)
				}
			}
			if tr.Loop >= 0 {
				last := m.Encode(nil, rt.States[len(rt.States)-1])
				if !bytes.Equal(last, m.Encode(nil, rt.States[tr.Loop])) {
					t.Errorf("the lasso does not close: the last state is not state %d", tr.Loop)
				}
			}
			if tr.Version < traces.Version {
				t.Fatalf("stored as version %d: write it anew with make traces", tr.Version)
			}
			// The states the trace stores are the model's, step by step.
			fresh, err := model.Refresh(tr)
			if err != nil {
				t.Fatal(err)
			}
			fresh.Format, fresh.Version, fresh.Tool = tr.Format, tr.Version, tr.Tool
			if !reflect.DeepEqual(fresh, tr) {
				t.Errorf("the stored state data differs from the model's replay")
			}
			// The same trace as version 2 wrote it, without the state
			// data, gets it back by replay.
			old := *tr
			old.Version, old.Tool, old.Sizes, old.Actors, old.Init = 2, "", nil, nil, nil
			old.Steps = nil
			for _, st := range tr.Steps {
				old.Steps = append(old.Steps, traces.Step{Actor: st.Actor, Text: st.Text, Note: st.Note})
			}
			up, err := model.Refresh(&old)
			if err != nil {
				t.Fatal(err)
			}
			up.Format, up.Version, up.Tool = tr.Format, tr.Version, tr.Tool
			if !reflect.DeepEqual(up, tr) {
				t.Errorf("a version 2 copy, refreshed, differs from the stored trace")
			}
		})
	}
}

// Every stored counterexample of the correct model minimises to one that
// still reads, replays and ends in the same violation; the fair lasso,
// found with a seeded bug, is refused: in the correct model it is no
// violation.
func TestStoredTracesMinimise(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			tr := readStored(t, file)
			mt, err := model.Minimise(context.Background(), tr)
			if strings.Contains(file, "one-retry-actor") {
				if !errors.Is(err, check.ErrNotViolation) {
					t.Fatalf("the seeded bug's lasso minimised in the correct model: err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := traces.Write(&b, mt); err != nil {
				t.Fatal(err)
			}
			back, err := traces.Read("minimised", &b)
			if err != nil {
				t.Fatal(err)
			}
			if back.Minimised == nil || back.Minimised.Before != len(tr.Steps) || len(back.Steps) > len(tr.Steps) || back.Kind != tr.Kind || back.Property != tr.Property {
				t.Fatalf("minimised %+v: %d steps of %d, kind %q", back.Minimised, len(back.Steps), len(tr.Steps), back.Kind)
			}
			fresh, err := model.Refresh(back)
			if err != nil {
				t.Fatal(err)
			}
			fresh.Format, fresh.Version, fresh.Tool = back.Format, back.Version, back.Tool
			if !reflect.DeepEqual(fresh, back) {
				t.Errorf("the minimised trace's data differs from its replay")
			}
		})
	}
}

// readStored reads a stored trace, failing the test when it does not read.
func readStored(t *testing.T, file string) *traces.Trace {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := traces.Read(file, f)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
