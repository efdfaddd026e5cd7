package run_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"sysmsg/impl/kernel/sim"
	"sysmsg/impl/run"
	"sysmsg/model/workload"
)

// TestStuckExactlyWhereTheModelDeadlocks holds the implementation to the
// model's verdicts, read from the table make check holds the model to
// (model/testdata/verdicts.txt): where the model finds a deadlock, some
// schedule of the simulated kernel gets the implementation stuck; where the
// model verifies the cell, no schedule does. The table is read, not
// imported, so impl/ stays free of the explorer.
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
	sc := bufio.NewScanner(f)
	cells := 0
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name, capText, polText, want := fields[0], fields[1], fields[2], fields[3]
		c := workload.Unlimited
		if capText != "unlimited" {
			if c, err = strconv.Atoi(capText); err != nil {
				t.Fatalf("%s: cap %q", name, capText)
			}
		}
		pol, err := workload.ParsePolicy(polText)
		if err != nil {
			t.Fatal(err)
		}
		w := load(t, name, workload.Params{})
		stuck := 0
		for i := 0; i <= schedules; i++ {
			o := run.Options{Cap: c, Policy: pol, Seed: uint64(i)}
			if i == schedules {
				o.Chooser = sim.SendsFirst()
			}
			r, err := run.Sim(w, o)
			if err != nil {
				t.Fatalf("%s cap %s %s: %v", name, capText, polText, err)
			}
			if r.Stuck {
				stuck++
			}
		}
		switch want {
		case "deadlock":
			if stuck == 0 {
				t.Errorf("%s cap %s %s: the model deadlocks, but no schedule of %d got the implementation stuck", name, capText, polText, schedules+1)
			}
		case "ok":
			if stuck > 0 {
				t.Errorf("%s cap %s %s: the model verifies it, but %d of %d schedules got the implementation stuck", name, capText, polText, stuck, schedules+1)
			}
		default:
			t.Errorf("%s cap %s %s: verdict %q has no counterpart in a run", name, capText, polText, want)
		}
		cells++
	}
	if cells < 4*4*len(workload.BuiltinNames()) {
		t.Errorf("only %d cells read", cells)
	}
}
