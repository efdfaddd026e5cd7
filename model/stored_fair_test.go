package model

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

var rewrite = flag.Bool("rewrite", false, "write the stored traces this package makes anew (make traces)")

// storedFair is the gallery's fair non-progress cycle: the lasso the
// seeded bug one-retry-actor lets fair progress report on
// testdata/starved-retry.wl under poll at cap 1. A correct model has none
// that is not a livelock (docs/model.md), so it is found under the bug.
const storedFair = "../traces/testdata/fair-progress-one-retry-actor.json"

// TestStoredFairLassoDoesNotDrift finds the lasso again and compares it with
// the stored trace; -rewrite (make traces) writes it anew. The seconds are
// left out, as traces/stored_test.go leaves them out, for stable output.
// Replayed in the correct model, which the trace alone rebuilds, the loop
// is a path the model can take, but no fair one: the kept write's retry
// could proceed in every state of the loop and is never taken.
func TestStoredFairLassoDoesNotDrift(t *testing.T) {
	const name = keptWriteStarved
	w, text := load(t, name)
	m, r := run(t, w, Config{Policy: port.Poll, Cap: 1, Low: workload.Unset, mutant: "one-retry-actor"}, check.Options{})
	if r.Violation == nil || r.Violation.Kind != check.NonProgress {
		t.Fatalf("got %s, want a fair non-progress cycle", verdict(r))
	}
	tr := m.Trace(name, text, r.Violation, r.Stats)
	tr.Stats.Seconds = 0
	var b bytes.Buffer
	if err := traces.Write(&b, tr); err != nil {
		t.Fatal(err)
	}
	if *rewrite {
		if err := os.WriteFile(storedFair, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if want, err := os.ReadFile(storedFair); err != nil {
		t.Fatalf("%v (make traces writes it)", err)
	} else if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s drifted: the same check finds another trace now; review with make traces and git diff", storedFair)
	}

	correct, _, err := FromTrace(tr)
	if err != nil {
		t.Fatal(err)
	}
	again, err := check.Replay(correct, tr.Path)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range again.States[tr.Loop:] {
		starved := false
		for _, a := range correct.Actions(s, nil) {
			starved = starved || a.Kind == PollRetry
		}
		if !starved {
			t.Errorf("state %d of the loop: no kept call could proceed", tr.Loop+i)
		}
	}
	for _, st := range again.Steps[tr.Loop:] {
		if st.Action.Kind != PollRetryWouldBlock {
			t.Errorf("the loop takes %v (%s), want only retries that would block", st.Action.Kind, st.Label.Text)
		}
	}
}
