package run_test

import (
	"os"
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
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
		w := load(t, e.Workload, workload.Params{})
		stuck := 0
		var first *run.Result
		for i := 0; i <= schedules; i++ {
			o := run.Options{Cap: e.Cap, Low: workload.Unset, Policy: e.Policy, Seed: uint64(i)}
			if i == schedules {
				o.Chooser = sim.SendsFirst()
			}
			r, err := run.Sim(w, o)
			if err != nil {
				t.Fatalf("%s: %v", e.Key(), err)
			}
			if r.Stuck {
				stuck++
				if first == nil {
					first = r
				}
			}
		}
		switch e.Verdict {
		case "deadlock":
			if stuck == 0 {
				t.Errorf("%s: the model deadlocks, but no schedule of %d got the implementation stuck", e.Key(), schedules+1)
				break
			}
			held := map[spec.Policy]string{spec.Block: "waiting for a slot", spec.Stop: "stopped in"}[e.Policy]
			if !strings.Contains(first.Dump, "slot 1 ") || !strings.Contains(first.Dump, held) || !strings.Contains(first.Reason, "deadlock") {
				t.Errorf("%s: the dump does not show a slot and a thread %s:\n%s", e.Key(), held, first.Dump)
			}
		case "ok":
			if stuck > 0 {
				t.Errorf("%s: the model verifies it, but %d of %d schedules got the implementation stuck", e.Key(), stuck, schedules+1)
			}
		default:
			t.Errorf("%s: verdict %q has no counterpart in a run", e.Key(), e.Verdict)
		}
	}
	cells := len(table)
	if cells < 4*4*len(workload.BuiltinNames()) {
		t.Errorf("only %d cells read", cells)
	}
}
