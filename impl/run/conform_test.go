package run_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/impl/run"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// TestStuckExactlyWhereTheModelDeadlocks holds the implementation to the
// model's verdicts, read from the table make check holds the model to
// (model/testdata/verdicts.txt): where the model finds a deadlock, some
// schedule of the simulated kernel gets the implementation stuck, and the
// run says so with a dump of the slots and the waiting thread instead of
// hanging; where the model verifies the cell, no schedule does. The table is
// read, not imported, so impl/ stays free of the explorer.
func TestStuckExactlyWhereTheModelDeadlocks(t *testing.T) {
	f, err := os.Open("../../model/testdata/verdicts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schedules := 40
	if testing.Short() {
		schedules = 15
	}
	table, err := workload.ReadExpectations("verdicts.txt", f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range table {
		c, err := run.Conform(e, schedules)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Agrees() {
			t.Error(c)
			continue
		}
		if e.Verdict == "deadlock" {
			held := map[spec.Policy]string{spec.Block: "waiting for a slot", spec.Stop: "stopped in"}[e.Policy]
			if d := c.First.Dump; !strings.Contains(d, "slot 1 ") || !strings.Contains(d, held) || !strings.Contains(c.First.Reason, "deadlock") {
				t.Errorf("%s: the dump does not show a slot and a thread %s:\n%s", e.Key(), held, d)
			}
		}
	}
	cells := len(table)
	if cells < 4*4*len(workload.BuiltinNames()) {
		t.Errorf("only %d cells read", cells)
	}
}

// TestIncidentsStuckExactlyWhereTheModelDeadlocks is the same for the
// incident gallery (model/testdata/incidents.txt), the reserved slots
// included: the scheduler sends a reserved call into a reserved slot
// whatever the mode, and a run gets stuck where the model deadlocks and
// nowhere else. The files with a completion-queue bound or dropped
// cancels are the model's alone: a run refuses them, saying so.
func TestIncidentsStuckExactlyWhereTheModelDeadlocks(t *testing.T) {
	f, err := os.Open("../../model/testdata/incidents.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table, err := workload.ReadExpectations("incidents.txt", f)
	if err != nil {
		t.Fatal(err)
	}
	schedules := 20
	if testing.Short() {
		schedules = 8
	}
	ran, refused, reserved := 0, 0, 0
	for _, e := range table {
		w, _, err := workload.Load(e.Workload, workload.Params{})
		if err != nil {
			t.Fatal(err)
		}
		modelOnly := false
		for _, p := range w.Processes {
			modelOnly = modelOnly || p.CQ > 0 || p.DropCancels || p.SQ > 0
			if p.Reserve > 0 {
				reserved++
			}
		}
		if modelOnly {
			_, err := run.Sim(w, run.Options{Cap: e.Cap, Low: workload.Unset, Policy: e.Policy})
			if !errors.Is(err, run.ErrRun) || !strings.Contains(err.Error(), "checked by the model, not run") {
				t.Errorf("%s: a run of a model-only setting: %v, want it refused", e.Key(), err)
			}
			refused++
			continue
		}
		c, err := run.Conform(e, schedules)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Agrees() {
			t.Error(c)
		}
		ran++
	}
	if ran < 100 || refused < 30 || reserved < 30 {
		t.Errorf("%d cells run, %d refused, %d with a reserve: the table is not the gallery", ran, refused, reserved)
	}
}
