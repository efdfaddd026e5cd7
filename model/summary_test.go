package model

import (
	"reflect"
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// summarize checks a built-in at its default sizes and summarizes the
// result, with the figures that change from run to run (time, memory,
// workers) and the firing counts zeroed for comparison.
func summarize(t *testing.T, name string, cfg Config, opt check.Options) Summary {
	t.Helper()
	m, r := run(t, builtin(t, name, workload.Params{Conns: 2, Requests: 2, Window: 1, Stages: 3, Items: 2}), cfg, opt)
	s := Summarize(m, r)
	s.Stats = check.Stats{States: s.Stats.States, Transitions: s.Stats.Transitions, Depth: s.Stats.Depth}
	return s
}

var allChecked = []string{PropCap, PropNoSendPoll, PropSlotReap, PropHysteresis, PropReapOnce, "no deadlock", "no livelock", "fair progress"}

func TestSummaryOfADeadlock(t *testing.T) {
	got := summarize(t, "triangle", Config{Policy: port.Block, Cap: 2, Low: workload.Unset}, check.Options{})
	want := Summary{
		Verdict: check.Violated, Outcome: "deadlock", Property: "no deadlock", Kind: "deadlock",
		Guards: []Guard{{Name: GuardCap, Status: GuardReached, Steps: 2}},
		Stats:  check.Stats{States: 11, Transitions: 15, Depth: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// A violation found by the search stops it: a guard not reached by then is
// not seen so far, never "never", and nothing is listed as never fired.
func TestSummaryOfADeadlockUnderStop(t *testing.T) {
	got := summarize(t, "triangle", Config{Policy: port.Stop, Cap: 2, Low: workload.Unset}, check.Options{})
	want := Summary{
		Verdict: check.Violated, Outcome: "deadlock", Property: "no deadlock", Kind: "deadlock",
		Guards: []Guard{
			{Name: GuardCap, Status: GuardReached, Steps: 2},
			{Name: GuardStopped, Status: GuardReached, Steps: 2},
			{Name: GuardResumed, Kind: ReapResume.String(), Status: GuardNotSeen},
		},
		Stats: check.Stats{States: 11, Transitions: 15, Depth: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestSummaryOfTheWebServerUnderPoll(t *testing.T) {
	got := summarize(t, "webserver", Config{Policy: port.Poll, Cap: 2, Low: workload.Unset}, check.Options{})
	want := Summary{
		Verdict: check.OK, Outcome: "ok", Checked: allChecked,
		Guards: []Guard{
			{Name: GuardCap, Status: GuardReached, Steps: 2},
			{Name: GuardPolling, Status: GuardReached, Steps: 2},
			{Name: GuardLeft, Kind: ReapLeavePolling.String(), Status: GuardReached, Transitions: 210},
		},
		Stats: check.Stats{States: 1459, Transitions: 4064, Depth: 32},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestSummaryListsNeverFiredKindsOfACompleteSearch(t *testing.T) {
	got := summarize(t, "eventloop", Config{Policy: port.Poll, Cap: 2, Low: workload.Unset}, check.Options{})
	want := Summary{
		Verdict: check.OK, Outcome: "ok", Checked: allChecked,
		Guards: []Guard{
			{Name: GuardCap, Status: GuardReached, Steps: 2},
			{Name: GuardPolling, Status: GuardReached, Steps: 2},
			{Name: GuardLeft, Kind: ReapLeavePolling.String(), Status: GuardReached, Transitions: 6},
		},
		NeverFired: []string{"polling attempt would block", "polling attempt of a submitted call would block: kept", "retry of a kept call", "retry of a kept call would block"},
		Stats:      check.Stats{States: 43, Transitions: 80, Depth: 12},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// A search cut short proves nothing: no property is listed as checked, no
// guard as never reached and no kind as never fired, although four kinds
// (and the guard's) have fired on no transition so far.
func TestSummaryOfAnIncompleteSearchHasNoNeverFired(t *testing.T) {
	got := summarize(t, "eventloop", Config{Policy: port.Poll, Cap: 2, Low: workload.Unset}, check.Options{MaxStates: 10})
	want := Summary{
		Verdict: check.Incomplete, Outcome: "incomplete", Reason: "state bound of 10 reached",
		Guards: []Guard{
			{Name: GuardCap, Status: GuardReached, Steps: 2},
			{Name: GuardPolling, Status: GuardReached, Steps: 2},
			{Name: GuardLeft, Kind: ReapLeavePolling.String(), Status: GuardNotSeen},
		},
		Stats: check.Stats{States: 10, Transitions: 18, Depth: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// At cap 4 the triangle never reaches its cap: the verdict holds, but every
// guard says it may hold only because nothing interesting happened.
func TestSummaryOfAVacuousVerdict(t *testing.T) {
	got := summarize(t, "triangle", Config{Policy: port.Stop, Cap: 4, Low: workload.Unset}, check.Options{})
	want := Summary{
		Verdict: check.OK, Outcome: "ok", Checked: allChecked,
		Guards: []Guard{
			{Name: GuardCap, Status: GuardNever},
			{Name: GuardStopped, Status: GuardNever},
			{Name: GuardResumed, Kind: ReapResume.String(), Status: GuardNever},
		},
		NeverFired: []string{SendStop.String(), ReapResume.String()},
		Stats:      check.Stats{States: 64, Transitions: 134, Depth: 12},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// Only deadlocks and livelocks get their own word in a table; every other
// violation, a non-progress cycle among them, is "violation" with its
// property and kind, as an expectations table writes it.
func TestSummaryOutcomeWords(t *testing.T) {
	m, err := New(builtin(t, "triangle", workload.Params{}), Config{Policy: port.Poll, Cap: 2, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind           check.ViolationKind
		property, want string
	}{
		{check.Deadlock, "no deadlock", "deadlock"},
		{check.Livelock, "no livelock", "livelock"},
		{check.NonProgress, "fair progress", "violation"},
		{check.Invariant, PropCap, "violation"},
		{check.StepInvariant, PropSlotReap, "violation"},
	} {
		res := &check.Result[State, Action]{Verdict: check.Violated, Violation: &check.Violation[State, Action]{Kind: c.kind, Property: c.property}}
		s := Summarize(m, res)
		if s.Outcome != c.want || s.Property != c.property || s.Kind != c.kind.String() || s.Checked != nil || s.NeverFired != nil {
			t.Errorf("%v: got outcome %q, property %q, kind %q, checked %v, never fired %v", c.kind, s.Outcome, s.Property, s.Kind, s.Checked, s.NeverFired)
		}
	}
}
