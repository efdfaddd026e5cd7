package run_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/run"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata")

func load(t testing.TB, name string, p workload.Params) *workload.Workload {
	t.Helper()
	w, _, err := workload.Load(name, p)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// seeds is how many seeded schedules each configuration runs.
func seeds() int {
	if testing.Short() {
		return 25
	}
	return 200
}

var testCaps = []int{1, 2, 3, workload.Unlimited}

func simRun(t testing.TB, w *workload.Workload, o run.Options) *run.Result {
	t.Helper()
	o.Record = true
	r, err := run.Sim(w, o)
	if err != nil {
		t.Fatalf("%s %v cap %d: %v", w.Title, o.Policy, o.Cap, err)
	}
	if errs := run.Check(r); len(errs) > 0 {
		t.Fatalf("%s, policy %v, cap %d, seed %d: safety violated:\n%s\n%s", w.Title, o.Policy, o.Cap, o.Seed,
			strings.Join(errs, "\n"), r.Summary())
	}
	return r
}

// TestSafetyOnEveryRun checks the safety properties (in-flight ≤ cap,
// completed and reaped once by the sender, no send while polling,
// hysteresis) on every built-in, cap and policy, over seeded schedules and
// the sends-first one.
func TestSafetyOnEveryRun(t *testing.T) {
	for _, name := range workload.BuiltinNames() {
		w := load(t, name, workload.Params{})
		for _, c := range testCaps {
			for _, pol := range spec.Policies() {
				for seed := range seeds() {
					simRun(t, w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Seed: uint64(seed)})
				}
				simRun(t, w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Chooser: sim.SendsFirst()})
			}
		}
	}
}

// TestNoDeadlockUnderPoll: the seed's design finishes every built-in at
// caps 1, 2 and 3 on every schedule tried; so does every policy with an
// unlimited cap (the cap adds no deadlock).
func TestNoDeadlockUnderPoll(t *testing.T) {
	for _, name := range workload.BuiltinNames() {
		w := load(t, name, workload.Params{})
		for _, c := range testCaps {
			pols := []port.Policy{port.Poll, port.PollNoHyst}
			if c == workload.Unlimited {
				pols = spec.Policies()
			}
			for _, pol := range pols {
				for seed := range seeds() {
					if r := simRun(t, w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Seed: uint64(seed)}); !r.Finished {
						t.Errorf("%s, %v, cap %d, seed %d: stuck:\n%s", name, pol, c, seed, r.Summary())
					}
				}
				if r := simRun(t, w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Chooser: sim.SendsFirst()}); !r.Finished {
					t.Errorf("%s, %v, cap %d, sends-first: stuck:\n%s", name, pol, c, r.Summary())
				}
			}
		}
	}
}

// TestSameSeedSameRun: a simulated run is a function of its seed.
func TestSameSeedSameRun(t *testing.T) {
	w := load(t, "webserver", workload.Params{Conns: 3, Requests: 3, Window: 2})
	for _, pol := range spec.Policies() {
		for seed := range uint64(5) {
			a := simRun(t, w, run.Options{Cap: 2, Low: workload.Unset, Policy: pol, Seed: seed})
			b := simRun(t, w, run.Options{Cap: 2, Low: workload.Unset, Policy: pol, Seed: seed})
			if a.Summary() != b.Summary() || fmt.Sprint(a.Log) != fmt.Sprint(b.Log) {
				t.Fatalf("%v seed %d: two runs differ:\n%s\n%s", pol, seed, a.Summary(), b.Summary())
			}
		}
	}
}

// TestHysteresisPays: under poll, the mode changes at most twice per C−L
// replies; and over the same schedules, poll changes mode less often than
// poll-nohyst.
func TestHysteresisPays(t *testing.T) {
	w := load(t, "webserver", workload.Params{Conns: 4, Requests: 6, Window: 2})
	const c = 4 // low 1 under poll, 3 under poll-nohyst
	var changes [2]uint64
	for i, pol := range []port.Policy{port.Poll, port.PollNoHyst} {
		for seed := range seeds() {
			r := simRun(t, w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Seed: uint64(seed)})
			s := r.Totals()
			low := r.Procs[0].Low
			if bound := 2*s.Reaps/uint64(c-low) + 1; s.ModeChanges > bound {
				t.Errorf("%v seed %d: %d mode changes for %d replies, over the bound %d", pol, seed, s.ModeChanges, s.Reaps, bound)
			}
			changes[i] += s.ModeChanges
		}
	}
	if changes[0] >= changes[1] {
		t.Errorf("poll changed mode %d times, poll-nohyst %d: hysteresis did not pay", changes[0], changes[1])
	}
	t.Logf("mode changes over %d schedules: poll %d, poll-nohyst %d", seeds(), changes[0], changes[1])
}

// TestOutcomes pins, per built-in, policy and cap, how many of 30 seeded
// schedules get stuck and whether the sends-first one does
// (testdata/outcomes.txt; regenerate with -rewrite and review the diff).
func TestOutcomes(t *testing.T) {
	const n = 30
	var b strings.Builder
	for _, name := range workload.BuiltinNames() {
		w := load(t, name, workload.Params{})
		for _, pol := range spec.Policies() {
			fmt.Fprintf(&b, "%-10s %-12s", name, pol)
			for _, c := range testCaps {
				stuck := 0
				for seed := range n {
					if simRun(t, w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Seed: uint64(seed)}).Stuck {
						stuck++
					}
				}
				sf := "ok"
				if simRun(t, w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Chooser: sim.SendsFirst()}).Stuck {
					sf = "STUCK"
				}
				capName := fmt.Sprint(c)
				if c == workload.Unlimited {
					capName = "inf"
				}
				fmt.Fprintf(&b, "  cap %-3s %2d/%d %-5s", capName, stuck, n, sf)
			}
			b.WriteString("\n")
		}
	}
	golden(t, "outcomes.txt", b.String())
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *rewrite {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to make it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -rewrite and review the diff):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
