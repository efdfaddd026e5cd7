package properties_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/model"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// stepwiseMaxSteps bounds a simulated run of a generated workload: one
// finishes or is stuck in far fewer moves; a run cut short by it is held
// to the model as a path, and its end is not compared.
const stepwiseMaxSteps = 20_000

// stepwiseMaxStates bounds the model check of a generated workload: most
// have a few hundred states, a few millions; past the bound the verdicts
// are not compared (the path and the end still are).
const stepwiseMaxStates = 20_000

// stepwiseSeeds is how many seeds after the drawn one are tried for a run
// that finishes, when the model says every run can.
const stepwiseSeeds = 20

// implementationFollowsTheModel is the property of
// TestImplementationFollowsTheModel as rapid runs it. rapid draws a
// workload (genWorkload), a policy, a cap in place of the file's (1 to 3,
// or none) and the simulated schedule's seed; the run's event log is
// recorded and held to the model:
//
//   - The log is a path of the model, step by step, by replay_test.go's
//     matching rule: after every event, the process's slots and mode and
//     the thread's place in its program agree.
//   - The end agrees. A finished run ends where the model can reach a
//     terminal state by steps the log does not show (a queue's push or
//     pop, a peer's step). A stuck run ends where the model can reach, by
//     such steps, a state that is not terminal and from which every
//     enabled action leads back to itself: a deadlock, or only attempts
//     and retries that would block.
//   - The verdicts agree: the model checked with the livelock check
//     (check.Explore) reports a deadlock or a livelock whenever the run got
//     stuck; and whenever the model verifies, the run finishes on the
//     drawn seed or on one of the next stepwiseSeeds.
//
// A cap and a file's low that do not fit together must be refused by both
// the model and the implementation, with nothing run.
func implementationFollowsTheModel(t *rapid.T) {
	text := genWorkload.Draw(t, "workload")
	pol := rapid.SampledFrom(spec.Policies()).Draw(t, "policy")
	c := rapid.IntRange(0, 3).Draw(t, "cap") // 0: each process's own
	seed := rapid.Uint64().Draw(t, "seed")
	if msg := followsTheModel(text, pol, c, seed); msg != "" {
		capText := "the file's"
		if c != 0 {
			capText = fmt.Sprint(c)
		}
		t.Fatalf("policy %v, cap %s, seed %d: %s\nthe workload:\n%s", pol, capText, seed, msg, text)
	}
}

// followsTheModel checks one drawn case; it returns "" or what went wrong.
func followsTheModel(text string, pol spec.Policy, c int, seed uint64) string {
	w, err := workload.Parse("generated.wl", text)
	if err != nil {
		return fmt.Sprintf("the generator drew a workload the parser refuses: %v", err)
	}
	m, merr := model.New(w, model.Config{Policy: pol, Cap: c, Low: workload.Unset})
	opt := run.Options{Policy: pol, Cap: c, Low: workload.Unset, Seed: seed, Record: true, MaxSteps: stepwiseMaxSteps}
	r, rerr, hung := simWithin(w, opt)
	if hung {
		return fmt.Sprintf("the simulated run did not return within %v", stepwiseHang)
	}
	switch {
	case merr != nil && rerr != nil:
		return "" // both refuse the setting
	case merr != nil || rerr != nil:
		return fmt.Sprintf("one refuses the setting and the other does not: the model: %v; the run: %v", merr, rerr)
	}
	v := newValidator(m, false)
	if msg := v.validate(r.Log, false); msg != "" {
		return "the run is not a path of the model:\n" + msg + "\nthe run:\n" + r.Summary()
	}
	switch {
	case r.Finished && !v.Settle(m.Terminal):
		return "the run finished; the model cannot finish from where the run ended:\n" + v.State() + "the run:\n" + r.Summary()
	case r.Stuck && !v.Settle(func(s model.State) bool { return !m.Terminal(s) && onlySelfLoops(m, s) }):
		return "the run is stuck; the model can still move from where the run ended:\n" + v.State() + "the run:\n" + r.Summary()
	}

	res, err := check.Explore(context.Background(), m, check.Options{Workers: 1, Livelock: true, MaxStates: stepwiseMaxStates})
	if err != nil {
		return fmt.Sprintf("the model could not be checked: %v", err)
	}
	switch {
	case res.Verdict == check.Incomplete:
		return "" // too large to cross-check: the path was checked
	case res.Verdict == check.Violated && res.Violation.Kind != check.Deadlock && res.Violation.Kind != check.Livelock:
		return fmt.Sprintf("the model breaks its own property %q", res.Violation.Property)
	case r.Stuck && res.Verdict == check.OK:
		return "the run is stuck; the model verifies (no deadlock, no livelock):\n" + r.Summary()
	case res.Verdict == check.OK && !r.Finished:
		for k := range uint64(stepwiseSeeds) {
			opt.Seed, opt.Record = seed+1+k, false
			r2, err, hung := simWithin(w, opt)
			if hung {
				return fmt.Sprintf("seed %d: the simulated run did not return within %v", opt.Seed, stepwiseHang)
			}
			if err != nil {
				return fmt.Sprintf("seed %d: %v", opt.Seed, err)
			}
			if r2.Finished {
				return ""
			}
		}
		return fmt.Sprintf("the model verifies; no run finished on seeds %d to %d:\n%s", seed, seed+stepwiseSeeds, r.Summary())
	}
	return ""
}

// stepwiseHang is how long a simulated run of a generated workload may
// take: one takes milliseconds; one that has not returned by then is
// hung (its goroutines are left parked), and is a finding.
const stepwiseHang = 5 * time.Second

// simWithin is run.Sim, reporting a run that does not return within
// stepwiseHang as hung rather than hanging the test.
func simWithin(w *workload.Workload, opt run.Options) (*run.Result, error, bool) {
	type out struct {
		r   *run.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		r, err := run.Sim(w, opt)
		done <- out{r, err}
	}()
	select {
	case o := <-done:
		return o.r, o.err, false
	case <-time.After(stepwiseHang):
		return nil, nil, true
	}
}

// onlySelfLoops reports whether every action enabled in s leads back to s:
// nothing can change, whatever is scheduled.
func onlySelfLoops(m *model.Model, s model.State) bool {
	here := string(m.Encode(nil, s))
	for _, a := range m.Actions(s, nil) {
		if string(m.Encode(nil, m.Next(s, a))) != here {
			return false
		}
	}
	return true
}

// stepwiseRounds is how many times TestImplementationFollowsTheModel runs
// rapid's checks: rapid makes -rapid.checks of them (100 by default, a
// fifth under -short) per round, each from a new random seed. A round is
// enough to reproduce a failure from -rapid.failfile or -rapid.seed.
func stepwiseRounds() int {
	for _, name := range []string{"rapid.failfile", "rapid.seed"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != f.DefValue {
			return 1
		}
	}
	if testing.Short() {
		return 5
	}
	return 10
}

// TestImplementationFollowsTheModel holds the implementation on the
// simulated kernel to the model, step by step and at the end, on
// generated workloads (see implementationFollowsTheModel). About 100
// checks under -short, 1000 without.
func TestImplementationFollowsTheModel(t *testing.T) {
	for range stepwiseRounds() {
		rapid.Check(t, implementationFollowsTheModel)
	}
}

// FuzzImplementationFollowsTheModel is TestImplementationFollowsTheModel
// as a go test -fuzz target.
func FuzzImplementationFollowsTheModel(f *testing.F) {
	// rapid reads the input as 64-bit words and skips an input that runs
	// out, so the seeds are long and varied.
	r := rand.New(rand.NewPCG(2, 0))
	for range 4 {
		seed := make([]byte, 2048)
		for i := range seed {
			seed[i] = byte(r.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(rapid.MakeFuzz(implementationFollowsTheModel))
}
