//go:build sysmsg_mutant

package port_test

import (
	"testing"

	"github.com/sysmsg/sysmsg/impl/mutant"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/model/workload"
)

// leavesAtLow reports what goes wrong, if anything, with the hysteresis of
// a poll port at cap 3 (low 1): it enters polling at the third send and
// leaves only at the reap that brings in-flight to 1.
func leavesAtLow(p *port.Port) string {
	var ms []*port.Msg
	for range 3 {
		m, _ := p.Acquire()
		if m == nil {
			return "no slot before the cap"
		}
		ms = append(ms, m)
	}
	if p.Mode() != port.Polling {
		return "not polling at the cap"
	}
	if m, _ := p.Acquire(); m != nil || p.InFlight() != 3 {
		return "a polling-mode attempt changed the slots"
	}
	for _, m := range ms {
		p.Complete(m)
	}
	p.Reap()
	if p.Mode() != port.Polling {
		return "left polling at 2 in flight, above low 1"
	}
	p.Reap()
	if p.Mode() != port.Messaging {
		return "still polling at low"
	}
	return ""
}

// TestSeededPortBugsAreCaught: each bug seeded in the port fails a unit
// check of the port and the safety check of simulated runs of the
// built-ins. (properties/ holds every seeded bug to every property.)
func TestSeededPortBugsAreCaught(t *testing.T) {
	if msg := leavesAtLow(newPort(t, port.Config{Cap: 3, Low: port.Unset, Policy: port.Poll})); msg != "" {
		t.Fatalf("with no bug: %s", msg)
	}
	for _, c := range []struct {
		bug    mutant.Bug
		unit   func() string
		policy port.Policy
		cap    int
	}{
		{mutant.FreeAtCompletion, func() string {
			return slotFreedOnlyOnReap(newPort(t, port.Config{Cap: 2, Policy: port.Block}))
		}, port.Block, 2},
		{mutant.NoHysteresis, func() string {
			return leavesAtLow(newPort(t, port.Config{Cap: 3, Low: port.Unset, Policy: port.Poll}))
		}, port.Poll, 3},
		{mutant.HysteresisOffByOne, func() string {
			return leavesAtLow(newPort(t, port.Config{Cap: 3, Low: port.Unset, Policy: port.Poll}))
		}, port.Poll, 3},
		{mutant.PollTakesSlot, func() string {
			return leavesAtLow(newPort(t, port.Config{Cap: 3, Low: port.Unset, Policy: port.Poll}))
		}, port.Poll, 2},
	} {
		t.Run(string(c.bug), func(t *testing.T) {
			mutant.Set(c.bug)
			defer mutant.Set("")
			if msg := c.unit(); msg == "" {
				t.Error("the unit check missed the seeded bug")
			} else {
				t.Logf("unit check: %s", msg)
			}
			if !caughtInSim(t, c.policy, c.cap) {
				t.Error("no simulated run's safety check caught the seeded bug")
			}
		})
	}
}

func caughtInSim(t *testing.T, pol port.Policy, c int) bool {
	for _, name := range workload.BuiltinNames() {
		src, err := workload.Builtin(name, workload.Params{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := workload.Parse(name, src)
		if err != nil {
			t.Fatal(err)
		}
		for seed := range uint64(20) {
			r, err := run.Sim(w, run.Options{Cap: c, Low: workload.Unset, Policy: pol, Seed: seed, Record: true})
			if r == nil {
				t.Fatal(err)
			}
			if errs := run.Check(r); len(errs) > 0 {
				t.Logf("caught on %s seed %d: %s", name, seed, errs[0])
				return true
			}
		}
	}
	return false
}
