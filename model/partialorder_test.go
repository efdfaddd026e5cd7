package model

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// safety checks m for safety and deadlock, with or without the
// partial-order reduction.
func safety(m *Model, por bool) (*check.Result[State, Action], error) {
	return check.Explore(context.Background(), m, check.Options{PartialOrder: por, MaxStates: 2_000_000})
}

// fataler is what both searches need of a test: testing.T or rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// bothWays checks full for safety and deadlock in full, and red with the
// partial-order reduction.
func bothWays(t fataler, full, red *Model) (rf, rr *check.Result[State, Action]) {
	t.Helper()
	rf, err := safety(full, false)
	if err != nil {
		t.Fatalf("the full search: %v", err)
	}
	if rr, err = safety(red, true); err != nil {
		t.Fatalf("the reduced search: %v", err)
	}
	return rf, rr
}

// TestPartialOrderAgrees checks every built-in and incident, under every
// policy, at caps 1, 2, 3 and with no cap, with the partial-order
// reduction, alone and with the symmetry reduction, against the full
// search: the same verdict and property, no more states, a counterexample
// that is a path of the model as it is and ends as it says, and where the
// model holds, every guard reached or not alike and the same action kinds
// never fired. (A reduced counterexample may be longer: the
// reduction takes some steps first that the shortest path takes later.)
func TestPartialOrderAgrees(t *testing.T) {
	names := append(workload.BuiltinNames(), workload.IncidentNames()...)
	cut := 0
	for _, name := range names {
		w, _ := load(t, name)
		for _, pol := range port.Policies() {
			for _, c := range []int{1, 2, 3, workload.Unlimited} {
				for _, sym := range []bool{false, true} {
					full, err := New(w, Config{Policy: pol, Cap: c, Low: workload.Unset})
					if err != nil {
						continue // a reserve the cap cannot hold: refused alike
					}
					red, err := New(w, Config{Policy: pol, Cap: c, Low: workload.Unset, Symmetry: sym})
					if err != nil {
						t.Fatal(err)
					}
					rf, rr := bothWays(t, full, red)
					if err := agreeReduced(full, rf, rr); err != nil {
						t.Errorf("%s %v cap %s symmetry %v: %v", name, pol, workload.CapText(c), sym, err)
					}
					if !sym && rr.Stats.States < rf.Stats.States {
						cut++
					}
				}
			}
		}
	}
	if cut < 30 {
		t.Errorf("the reduction cut states in only %d configurations", cut)
	}
}

// agreeReduced compares rr, a search with the partial-order reduction,
// with rf, the full search of full.
func agreeReduced(full *Model, rf, rr *check.Result[State, Action]) error {
	if !rr.Stats.PartialOrder {
		return errors.New("the reduction was not on")
	}
	switch {
	case rf.Verdict != rr.Verdict || verdict(rf) != verdict(rr):
		return fmt.Errorf("full %s, reduced %s", verdict(rf), verdict(rr))
	case rr.Stats.States > rf.Stats.States:
		return fmt.Errorf("%d states reduced, %d in full", rr.Stats.States, rf.Stats.States)
	}
	if rf.Violation != nil {
		// Each search stops at its first violation, having seen
		// different parts of the graph: what fired or was reached by
		// then is not compared.
		if vf, vr := rf.Violation, rr.Violation; vf.Property != vr.Property || vf.Kind != vr.Kind {
			return fmt.Errorf("full breaks %q, reduced %q", vf.Property, vr.Property)
		}
		return realPath(full, rr.Violation)
	}
	for i := range rf.Sometimes {
		if rf.Sometimes[i].Reached != rr.Sometimes[i].Reached {
			return fmt.Errorf("guard %q: reached %v in full, %v reduced", rf.Sometimes[i].Name, rf.Sometimes[i].Reached, rr.Sometimes[i].Reached)
		}
	}
	if fmt.Sprint(rf.Stats.NeverFired()) != fmt.Sprint(rr.Stats.NeverFired()) {
		return fmt.Errorf("never fired: %v in full, %v reduced", rf.Stats.NeverFired(), rr.Stats.NeverFired())
	}
	return nil
}

// The reduction's size on the web server at cap 2 under poll, pinned.
func TestPartialOrderPinned(t *testing.T) {
	for _, c := range []struct {
		conns, requests int
		sym             bool
		full, reduced   int
	}{
		{2, 2, false, 1459, 1231},
		{3, 3, false, 129421, 95917},
		{3, 3, true, 22651, 16748},
	} {
		w := builtin(t, "webserver", workload.Params{Conns: c.conns, Requests: c.requests, Window: 1})
		m, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset, Symmetry: c.sym})
		if err != nil {
			t.Fatal(err)
		}
		rf, rr := bothWays(t, m, m)
		if rf.Verdict != check.OK || rr.Verdict != check.OK || rf.Stats.States != c.full || rr.Stats.States != c.reduced {
			t.Errorf("%dx%d symmetry %v: %v with %d states, %v with %d reduced; want ok with %d and %d",
				c.conns, c.requests, c.sym, rf.Verdict, rf.Stats.States, rr.Verdict, rr.Stats.States, c.full, c.reduced)
		}
	}
}

// sharedQueue has two threads pushing onto one queue of capacity 1: a
// push that must not be taken alone, as the other can fill the queue
// against it.
const sharedQueue = `workload "two pushers"
queue q capacity 1
process p
  thread a
    push q
  end
  thread b
    push q
  end
  thread c
    pop q
    pop q
  end
end
`

// TestPartialOrderSeededBug: with every userland step taken alone, a
// shared queue's too, the explorer's sample of the Reducer contract
// catches the push that does not commute; the correct model names no
// such push, and agrees with the full search.
func TestPartialOrderSeededBug(t *testing.T) {
	w, err := workload.Parse("two-pushers.wl", sharedQueue)
	if err != nil {
		t.Fatal(err)
	}
	good, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	rf, rr := bothWays(t, good, good)
	if err := agreeReduced(good, rf, rr); err != nil || rf.Verdict != check.OK {
		t.Fatalf("the correct model: %v, %v", verdict(rf), err)
	}
	bad, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset, mutant: "ample-any-userstep"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := safety(bad, true); !errors.Is(err, check.ErrInvalidModel) {
		t.Fatalf("seeded bug ample-any-userstep: got %v, want the contract broken", err)
	} else {
		t.Logf("caught: %v", err)
	}
}

// TestPartialOrderRefusesLivelock: the reduction does not keep cycles.
func TestPartialOrderRefusesLivelock(t *testing.T) {
	m, err := New(builtin(t, "webserver", workload.Params{}), Config{Policy: port.Poll, Cap: 2, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := check.Explore(context.Background(), m, check.Options{PartialOrder: true, Livelock: true}); !errors.Is(err, check.ErrReducedLivelock) {
		t.Errorf("got %v, want ErrReducedLivelock", err)
	}
}

// drawQueues draws a workload of one process whose threads push and pop
// queues (some shared by two pushers or two poppers), make calls on a
// pipe and a connection with a peer, submit and wait, with or without an
// event loop that is its process's reaper: the userland steps the reduction takes alone, beside
// the ones it must not.
func drawQueues(t *rapid.T) string {
	var b strings.Builder
	b.WriteString("workload \"queues\"\n")
	nq := rapid.IntRange(1, 2).Draw(t, "queues")
	for i := range nq {
		fmt.Fprintf(&b, "queue q%d capacity %d\n", i, rapid.IntRange(1, 2).Draw(t, "capacity"))
	}
	b.WriteString("pipe p capacity 1\nconn c capacity 1\n")
	caps := []string{"1", "2", "unlimited"}
	thread := func(name string, queues []string) {
		fmt.Fprintf(&b, "  thread %s\n", name)
		pending := 0
		for range rapid.IntRange(1, 4).Draw(t, "operations") {
			q := queues[rapid.IntRange(0, len(queues)-1).Draw(t, "queue")]
			ops := []string{"push " + q, "pop " + q, "write p", "read p", "read c", "write c", "submit read c"}
			if pending > 0 {
				ops = append(ops, "wait")
			}
			fmt.Fprintf(&b, "    %s\n", drawOp(t, ops, &pending))
		}
		b.WriteString("  end\n")
	}
	var queues []string
	for i := range nq {
		queues = append(queues, fmt.Sprintf("q%d", i))
	}
	fmt.Fprintf(&b, "process app cap %s\n", caps[rapid.IntRange(0, 2).Draw(t, "cap")])
	for i := range rapid.IntRange(2, 3).Draw(t, "threads") {
		thread(fmt.Sprintf("t%d", i), queues)
	}
	b.WriteString("end\n")
	// An event loop, the one thread and reaper of its process, with a
	// queue of its own: its userland steps decide whether its process
	// can reap.
	if rapid.Bool().Draw(t, "event loop") {
		b.WriteString("queue own capacity 1\n")
		fmt.Fprintf(&b, "process loop cap %s reaper r\n", caps[rapid.IntRange(0, 1).Draw(t, "loop cap")])
		thread("r", []string{"own"})
		b.WriteString("end\n")
	}
	b.WriteString("peer client\n")
	for range rapid.IntRange(1, 3).Draw(t, "peer operations") {
		b.WriteString([]string{"  send c\n", "  recv c\n"}[rapid.IntRange(0, 1).Draw(t, "peer op")])
	}
	b.WriteString("end\n")
	return b.String()
}

// TestPartialOrderAgreesOnDrawn holds the partial-order reduction, alone
// and with the symmetry reduction, to the full search on drawn workloads,
// as TestPartialOrderAgrees does on the built-ins and the incidents.
func TestPartialOrderAgreesOnDrawn(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sym := rapid.Bool().Draw(t, "symmetry")
		text, full, red := drawnModels(t, drawQueues, "queues.wl", sym)
		rf, rr := bothWays(t, full, red)
		if err := agreeReduced(full, rf, rr); err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
	})
}

// drawnModels draws a workload with gen and a policy, and returns the
// workload's text, its model and its model with the symmetry reduction
// when sym is true.
func drawnModels(t *rapid.T, gen func(*rapid.T) string, file string, sym bool) (text string, full, red *Model) {
	text = rapid.Custom(gen).Draw(t, "workload")
	pol := rapid.SampledFrom(port.Policies()).Draw(t, "policy")
	w, err := workload.Parse(file, text)
	if err != nil {
		t.Fatalf("the generator drew a workload the parser refuses: %v\n%s", err, text)
	}
	if full, err = New(w, Config{Policy: pol, Low: workload.Unset}); err != nil {
		t.Fatal(err)
	}
	if red, err = New(w, Config{Policy: pol, Low: workload.Unset, Symmetry: sym}); err != nil {
		t.Fatal(err)
	}
	return text, full, red
}

// drawOp draws one of a thread's operations, ops, and keeps count in
// pending of its submitted calls not yet waited for.
func drawOp(t *rapid.T, ops []string, pending *int) string {
	op := ops[rapid.IntRange(0, len(ops)-1).Draw(t, "operation")]
	switch {
	case strings.HasPrefix(op, "submit"):
		*pending++
	case op == "wait":
		*pending--
	}
	return op
}
