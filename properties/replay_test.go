package properties_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/impl/sched"
	"github.com/sysmsg/sysmsg/model"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/properties/follow"
)

// validator is follow.Validator (see its package for the matching rule),
// under the names the tests call.
type validator struct{ *follow.Validator }

func newValidator(m *model.Model, host bool) validator {
	return validator{follow.NewValidator(m, host)}
}

func (v validator) validate(log []sched.Event, finished bool) string {
	return v.Validate(log, finished)
}

func loadBuiltin(t testing.TB, name string) *workload.Workload {
	t.Helper()
	w, _, err := workload.Load(name, workload.Params{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestRunsArePathsOfTheModel: every simulated run of every built-in, under
// every policy at caps 1 to 3, and host runs of the single-process
// built-ins under poll, log a path of the model (see the matching rule
// above).
func TestRunsArePathsOfTheModel(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 4
	}
	if err := simRunsArePaths(t, seeds); err != nil {
		t.Fatal(err)
	}
	for _, name := range workload.BuiltinNames() {
		w := loadBuiltin(t, name)
		if len(w.Processes) != 1 {
			continue
		}
		// A host channel holds a page or more where the workload says one
		// item: the host run is held to the model of the same workload
		// with every pipe and conn as large as the model allows (queues are
		// the scheduler's own and keep their capacity).
		big := *w
		big.Objects = slices.Clone(w.Objects)
		for i := range big.Objects {
			if big.Objects[i].Kind != workload.Queue {
				big.Objects[i].Capacity = workload.MaxCapacity
			}
		}
		for c := 1; c <= 2; c++ {
			m, err := model.New(&big, model.Config{Policy: spec.Poll, Cap: c, Low: workload.Unset})
			if err != nil {
				t.Fatal(err)
			}
			// Real pipes and socket pairs, then, where the workload has
			// conns, loopback TCP connections.
			tcps := []bool{false}
			if slices.ContainsFunc(w.Objects, func(o workload.Object) bool { return o.Kind == workload.Conn }) {
				tcps = append(tcps, true)
			}
			for _, tcp := range tcps {
				r, err := run.OS(w, run.Options{Policy: spec.Poll, Cap: c, Low: workload.Unset, Record: true, TCP: tcp, StuckAfter: 5 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				if msg := newValidator(m, true).validate(r.Log, r.Finished); msg != "" {
					t.Errorf("host %s, poll, cap %d, tcp %v: the run is not a path of the model:\n%s", name, c, tcp, msg)
				}
				t.Logf("host %s, poll, cap %d, tcp %v: %d events, finished %v: a path of the model", name, c, tcp, len(r.Log), r.Finished)
			}
		}
	}
}

// TestALogOffThePathIsReported: the validation is not vacuous: a run's log
// with its first completion dropped is not a path, and the report names
// the reap that lost it.
func TestALogOffThePathIsReported(t *testing.T) {
	w := loadBuiltin(t, "triangle")
	m, err := model.New(w, model.Config{Policy: spec.Poll, Cap: 2, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	r, err := run.Sim(w, run.Options{Policy: spec.Poll, Cap: 2, Low: workload.Unset, Record: true})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(r.Log, func(e sched.Event) bool { return e.Kind == sched.EvComplete })
	if i < 0 {
		t.Fatal("no completion in the log")
	}
	log := slices.Delete(slices.Clone(r.Log), i, i+1)
	msg := newValidator(m, false).validate(log, r.Finished)
	if !strings.Contains(msg, "reap") || !strings.Contains(msg, "the model's state") {
		t.Errorf("want the reap reported, with the model's state; got %q", msg)
	}
}

// TestCounterexamplesReplayInTheImplementation holds the model's
// counterexamples to the simulated kernel: for every built-in under block
// and stop at caps 1 to 3, the counterexample's path is turned into a
// schedule, one simulated choice per model action (a thread's step is
// "run thread T", a completion or a reap the message that thread sent at
// that operation, a peer's step that peer), and the run must end stuck in
// the model's deadlocked state: its log, validated as above, must lead to
// that state (same slots held by the same threads, the same threads at the
// same operations). Every one of the 25 deadlocks must be reproduced. The
// same workload under poll must finish on every seed tried.
//
// The model lets any runnable thread step and any completed reply be
// reaped, where a simulated process by default runs the head of its run
// queue and reaps its oldest reply; the runs here are Fine (see
// run.Options), so that the chooser can pick the thread and the reply.
// A simulated thread still runs until it parks, as user threads on one
// kernel thread do, where the model may step another thread between two
// operations of one that has not parked (webserver under stop at cap 2):
// such a path is replaced by the shortest path of the model to the same
// deadlock that lets each thread run until it parks (runsToPark).
func TestCounterexamplesReplayInTheImplementation(t *testing.T) {
	reproduced, cells := 0, 0
	for _, name := range workload.BuiltinNames() {
		w := loadBuiltin(t, name)
		for _, pol := range []spec.Policy{spec.Block, spec.Stop} {
			for c := 1; c <= 3; c++ {
				m, err := model.New(w, model.Config{Policy: pol, Cap: c, Low: workload.Unset})
				if err != nil {
					t.Fatal(err)
				}
				res, err := check.Explore(context.Background(), m, check.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if res.Violation == nil || res.Violation.Kind != check.Deadlock {
					continue
				}
				cells++
				tr := res.Violation.Trace
				var orig []model.Action
				for _, st := range tr.Steps {
					orig = append(orig, st.Action)
				}
				cell := fmt.Sprintf("%s, %v, cap %d", name, pol, c)
				o, err := follow.Deadlock(m, model.Config{Policy: pol, Cap: c, Low: workload.Unset}, orig, tr.States)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case o.States == nil:
					t.Errorf("%s: no path of the model to its deadlock lets each thread run until it parks", cell)
					continue
				case o.Replaced:
					t.Logf("%s: the counterexample steps a thread that has not parked; followed instead: a path of %d steps that lets each run until it parks", cell, len(o.Path))
				}
				r := o.Run
				if o.Left >= 0 {
					t.Errorf("%s: the schedule left the model's path at step %d of %d (%s)", cell, o.Left+1, len(o.Path), o.Why)
					continue
				}
				if !r.Stuck {
					t.Errorf("%s: the model deadlocks after %d steps; the run followed them and did not get stuck:\n%s", cell, len(o.Path), r.Summary())
					continue
				}
				if o.Invalid != "" {
					t.Errorf("%s: the followed run is not a path of the model:\n%s", cell, o.Invalid)
					continue
				}
				if !o.Reproduced {
					t.Errorf("%s: the run is stuck elsewhere than the model:\n%s\nthe model's deadlock:\n  %s", cell, r.Summary(),
						strings.Join(res.Violation.Explain, "\n  "))
					continue
				}
				reproduced++
			}
		}
		for seed := range 20 {
			for c := 1; c <= 3; c++ {
				r, err := run.Sim(w, run.Options{Policy: spec.Poll, Cap: c, Low: workload.Unset, Seed: uint64(seed)})
				if err != nil {
					t.Fatal(err)
				}
				if !r.Finished {
					t.Errorf("%s, poll, cap %d, seed %d: not finished:\n%s", name, c, seed, r.Summary())
				}
			}
		}
	}
	t.Logf("%d of %d deadlocks reproduced in the implementation", reproduced, cells)
	if cells != 25 || reproduced != cells {
		t.Errorf("%d of %d deadlocks reproduced; want all of 25", reproduced, cells)
	}
}

// simRunsArePaths runs every built-in under every policy at caps 1-3 on
// the simulated kernel, on the given number of seeds, and returns the
// first run whose log is not a path of the model. A panic of the
// implementation (a seeded bug may cause one) is returned too.
func simRunsArePaths(t testing.TB, seeds int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	for _, name := range workload.BuiltinNames() {
		w := loadBuiltin(t, name)
		for _, pol := range spec.Policies() {
			for c := 1; c <= 3; c++ {
				m, err := model.New(w, model.Config{Policy: pol, Cap: c, Low: workload.Unset})
				if err != nil {
					return err
				}
				for seed := range seeds {
					r, err := run.Sim(w, run.Options{Policy: pol, Cap: c, Low: workload.Unset, Seed: uint64(seed), Record: true})
					if err != nil {
						return fmt.Errorf("%s, %v, cap %d, seed %d: %w", name, pol, c, seed, err)
					}
					if msg := newValidator(m, false).validate(r.Log, r.Finished); msg != "" {
						return fmt.Errorf("%s, %v, cap %d, seed %d: the run is not a path of the model:\n%s", name, pol, c, seed, msg)
					}
				}
			}
		}
	}
	return nil
}
