//go:build sysmsg_mutant

package properties_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/mutant"
	"github.com/sysmsg/sysmsg/impl/run"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// seededProperties are the properties TestSeededBugsCaught holds every
// seeded bug to, in order: the first that fails is the one said to catch
// the bug. To hold every bug to another property, add it here.
//
// Each is a catcher (port_test.go): a property run that returns what it
// found instead of failing, a *seededExample when it can name the smallest
// run that shows the failure. The port's own properties (conformance to
// the spec, linearizability) join as mutantCatchers lists them.
var seededProperties = append([]catcher{
	{"run.Check", safetyOnSimRuns},
	{"finishes", pollRunsFinish},
	{"stuck-vs-model", stuckWhereTheModelDeadlocks},
	{"runs are paths of the model", func(t testing.TB) error { return simRunsArePaths(t, 3) }},
}, mutantCatchers()...)

// seededSeeds is how many seeded schedules each configuration runs, with
// sends-first; seededSchedules the same for each cell of the model's table.
const (
	seededSeeds     = 30
	seededSchedules = 40
)

// seededExample is the smallest run found that breaks a property.
type seededExample struct {
	workload string
	cap      int
	policy   spec.Policy
	seed     int // −1: sends-first
	// steps is the number of moves: of the shortest prefix of the
	// schedule that shows a safety violation, or of the run that got
	// stuck.
	steps int
	what  string
}

func (e *seededExample) Error() string {
	return e.size() + ": " + e.what
}

// size is the example's size: workload, cap, policy, seed and steps.
func (e *seededExample) size() string {
	c := fmt.Sprint(e.cap)
	if e.cap == workload.Unlimited {
		c = "unlimited"
	}
	seed := fmt.Sprintf("seed %d", e.seed)
	if e.seed < 0 {
		seed = "sends-first"
	}
	steps := "steps"
	if e.steps == 1 {
		steps = "step"
	}
	return fmt.Sprintf("%s cap %s %v %s, %d %s", e.workload, c, e.policy, seed, e.steps, steps)
}

// smaller reports whether e is a smaller example than f (nil is largest).
func (e *seededExample) smaller(f *seededExample) bool {
	return f == nil || e.steps < f.steps || e.steps == f.steps && e.cap < f.cap
}

// seededConfig is one simulated run: a built-in at a cap, a policy and a
// seed (−1 for sends-first).
type seededConfig struct {
	name   string
	w      *workload.Workload
	cap    int
	policy spec.Policy
	seed   int
}

func (c seededConfig) options(maxSteps int) run.Options {
	o := run.Options{Cap: c.cap, Low: workload.Unset, Policy: c.policy, Seed: uint64(max(c.seed, 0)),
		MaxSteps: maxSteps, Record: true}
	if c.seed < 0 {
		o.Chooser = sim.SendsFirst()
	}
	return o
}

// simulate runs c for at most maxSteps moves (0: the default bound). A
// panic in the run is reported, not raised: a seeded bug may break the
// scheduler's own assertions, which is a catch like any other.
func (c seededConfig) simulate(maxSteps int) (r *run.Result, panicked string, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, panicked, err = nil, fmt.Sprint(p), nil
		}
	}()
	r, err = run.Sim(c.w, c.options(maxSteps))
	return r, "", err
}

// seededConfigs are the runs of every built-in under the given policies at
// the given caps, over seeded schedules and sends-first.
func seededConfigs(t testing.TB, caps []int, pols []spec.Policy) []seededConfig {
	var out []seededConfig
	for _, name := range workload.BuiltinNames() {
		w, _, err := workload.Load(name, workload.Params{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range caps {
			for _, pol := range pols {
				for seed := -1; seed < seededSeeds; seed++ {
					out = append(out, seededConfig{name: name, w: w, cap: c, policy: pol, seed: seed})
				}
			}
		}
	}
	return out
}

// safetyOnSimRuns is impl/run's Check over simulated runs of every
// built-in at caps 1 to 3 under every policy. A violation is shrunk to the
// shortest prefix of its schedule that still shows it.
func safetyOnSimRuns(t testing.TB) error {
	violation := func(r *run.Result, panicked string) string {
		switch {
		case panicked != "":
			return "panic: " + panicked
		case r == nil:
			return ""
		}
		if errs := run.Check(r); len(errs) > 0 {
			return errs[0]
		}
		return ""
	}
	var best *seededExample
	for _, c := range seededConfigs(t, []int{1, 2, 3}, spec.Policies()) {
		r, panicked, err := c.simulate(0)
		if r == nil && panicked == "" {
			t.Fatalf("%s cap %d %v: %v", c.name, c.cap, c.policy, err)
		}
		what := violation(r, panicked)
		if what == "" {
			continue
		}
		steps := 1_000_000 // the default bound, under which a panic came
		if r != nil {
			steps = r.Steps
		}
		// The shortest prefix of the same schedule that shows a
		// violation: a violation stays in every longer prefix.
		lo, hi := 1, steps
		for lo < hi {
			mid := (lo + hi) / 2
			if r, panicked, _ := c.simulate(mid); violation(r, panicked) != "" {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		r, panicked, _ = c.simulate(hi)
		what = violation(r, panicked)
		e := &seededExample{workload: c.name, cap: c.cap, policy: c.policy, seed: c.seed, steps: hi, what: what}
		if e.smaller(best) {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	return best
}

// pollRunsFinish: every run of every built-in under poll and poll-nohyst
// at caps 1 to 3, and under every policy with no cap, finishes and shuts
// down with nothing outstanding (the seed's design adds no deadlock).
func pollRunsFinish(t testing.TB) error {
	cfgs := seededConfigs(t, []int{1, 2, 3}, []spec.Policy{spec.Poll, spec.PollNoHyst})
	cfgs = append(cfgs, seededConfigs(t, []int{workload.Unlimited}, spec.Policies())...)
	var best *seededExample
	for _, c := range cfgs {
		r, panicked, err := c.simulate(0)
		e := &seededExample{workload: c.name, cap: c.cap, policy: c.policy, seed: c.seed}
		switch {
		case panicked != "":
			e.what = "panic: " + panicked
		case r == nil:
			t.Fatalf("%s cap %d %v: %v", c.name, c.cap, c.policy, err)
		case !r.Finished:
			e.steps, e.what = r.Steps, "not finished: "+r.Reason
		case err != nil:
			e.steps, e.what = r.Steps, err.Error()
		default:
			continue
		}
		if e.smaller(best) {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	return best
}

// stuckWhereTheModelDeadlocks holds every cell of the model's table of
// verdicts to simulated runs (run.Conform, as impl/run's
// TestStuckExactlyWhereTheModelDeadlocks does).
func stuckWhereTheModelDeadlocks(t testing.TB) error {
	f, err := os.Open("../model/testdata/verdicts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table, err := workload.ReadExpectations("verdicts.txt", f)
	if err != nil {
		t.Fatal(err)
	}
	var best *seededExample
	var other error
	for _, e := range table {
		c, panicked, err := conform(e)
		switch {
		case panicked != "":
			if other == nil {
				other = fmt.Errorf("%s: panic: %s", e.Key(), panicked)
			}
			continue
		case err != nil:
			if other == nil {
				other = err
			}
			continue
		case c.Agrees():
			continue
		}
		ex := &seededExample{workload: e.Workload, cap: e.Cap, policy: e.Policy, seed: c.SmallestSeed, what: c.String()}
		if c.Smallest != nil {
			ex.steps = c.Smallest.Steps
		} else {
			// No run got stuck where the model deadlocks: the example is
			// the cell, and no run is smaller than another.
			ex.seed, ex.steps = -1, 0
		}
		if ex.smaller(best) {
			best = ex
		}
	}
	if best != nil {
		return best
	}
	return other
}

func conform(e workload.Expectation) (c *run.Cell, panicked string, err error) {
	defer func() {
		if p := recover(); p != nil {
			c, panicked, err = nil, fmt.Sprint(p), nil
		}
	}()
	c, err = run.Conform(e, seededSchedules)
	return c, "", err
}

// TestSeededBugsCaught switches on each seeded bug of impl/ in turn and
// holds the implementation to every property of seededProperties: each bug
// must be caught by at least one. With no bug switched on, every property
// must hold, or a catch would mean nothing. It logs a table: the bug, the
// property that caught it first, the smallest example that property found,
// and the properties that caught it.
func TestSeededBugsCaught(t *testing.T) {
	mutant.Set("")
	for _, p := range seededProperties {
		if err := p.run(t); err != nil {
			t.Fatalf("%s fails with no seeded bug: %v", p.property, err)
		}
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "bug\tcaught first by\tsmallest example\tcaught by\ttime")
	for _, bug := range mutant.Bugs() {
		start := time.Now()
		mutant.Set(bug)
		var first error
		firstName, by := "", []string{}
		for _, p := range seededProperties {
			err := p.run(t)
			if err == nil {
				continue
			}
			by = append(by, p.property)
			if first == nil {
				first, firstName = err, p.property
			}
		}
		mutant.Set("")
		if first == nil {
			t.Errorf("seeded bug %s: no property caught it", bug)
			fmt.Fprintf(tw, "%s\tNOTHING\t-\t-\t%v\n", bug, time.Since(start).Round(time.Millisecond))
			continue
		}
		size := "-"
		var ex *seededExample
		if errors.As(first, &ex) {
			size = ex.size()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", bug, firstName, size, strings.Join(by, ", "), time.Since(start).Round(time.Millisecond))
		t.Logf("%s, caught by %s: %v", bug, firstName, first)
	}
	tw.Flush()
	t.Logf("seeded bugs:\n%s", b.String())
}
