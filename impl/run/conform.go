package run

import (
	"fmt"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/model/workload"
)

// Cell is one verdict of the model's table (model/testdata/verdicts.txt)
// held against simulated runs of the implementation: where the model finds
// a deadlock some schedule should get the implementation stuck, and where
// it verifies the cell none should.
type Cell struct {
	Expectation workload.Expectation
	// Runs is the number of schedules tried: seeds 0 to Runs−2, then
	// sends-first. Stuck is how many got stuck.
	Runs, Stuck int
	// First is the first stuck run; Smallest the stuck run of fewest
	// steps, and SmallestSeed its seed (−1 for sends-first). Both are nil
	// when no run got stuck.
	First, Smallest *Result
	SmallestSeed    int
}

// Agrees reports whether the runs agree with the model's verdict.
func (c *Cell) Agrees() bool {
	if c.Expectation.Verdict == "deadlock" {
		return c.Stuck > 0
	}
	return c.Stuck == 0
}

// String says how the runs went against the verdict.
func (c *Cell) String() string {
	switch {
	case c.Expectation.Verdict == "deadlock" && c.Stuck == 0:
		return fmt.Sprintf("%s: the model deadlocks, but no schedule of %d got the implementation stuck", c.Expectation.Key(), c.Runs)
	case c.Expectation.Verdict == "ok" && c.Stuck > 0:
		return fmt.Sprintf("%s: the model verifies it, but %d of %d schedules got the implementation stuck", c.Expectation.Key(), c.Stuck, c.Runs)
	}
	return fmt.Sprintf("%s: %s, %d of %d schedules stuck", c.Expectation.Key(), c.Expectation.Verdict, c.Stuck, c.Runs)
}

// Conform runs e's built-in workload (default sizes) at e's cap and policy
// on schedules seeded 0 to schedules−1 and on sends-first, and reports the
// cell. The error is for a run that could not start or did not shut down
// cleanly, or a verdict other than "deadlock" or "ok", which a run has no
// counterpart for.
func Conform(e workload.Expectation, schedules int) (*Cell, error) {
	if e.Verdict != "deadlock" && e.Verdict != "ok" {
		return nil, fmt.Errorf("%w: %s: verdict %q has no counterpart in a run", ErrRun, e.Key(), e.Verdict)
	}
	w, _, err := workload.Load(e.Workload, workload.Params{})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRun, e.Key(), err)
	}
	c := &Cell{Expectation: e, Runs: schedules + 1}
	for i := 0; i <= schedules; i++ {
		o := Options{Cap: e.Cap, Low: workload.Unset, Policy: e.Policy, Seed: uint64(i)}
		seed := i
		if i == schedules {
			o.Chooser, seed = sim.SendsFirst(), -1
		}
		r, err := Sim(w, o)
		if err != nil {
			return nil, fmt.Errorf("%s, seed %d: %w", e.Key(), seed, err)
		}
		if !r.Stuck {
			continue
		}
		c.Stuck++
		if c.First == nil {
			c.First = r
		}
		if c.Smallest == nil || r.Steps < c.Smallest.Steps {
			c.Smallest, c.SmallestSeed = r, seed
		}
	}
	return c, nil
}
