package run_test

import (
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
