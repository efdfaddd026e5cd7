package model

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// randomDeadlock walks the model at random from the initial state until no
// action is enabled, and returns the walk as a violation when it ended in
// a deadlock.
func randomDeadlock(m *Model, seed uint64) *check.Violation[State, Action] {
	r := rand.New(rand.NewPCG(seed, 1))
	s := m.Init()[0]
	tr := check.Trace[State, Action]{States: []State{s}, Loop: -1, NoReturn: -1}
	for {
		acts := m.Actions(s, nil)
		if len(acts) == 0 {
			break
		}
		i := r.IntN(len(acts))
		tr.Steps = append(tr.Steps, check.Step[Action]{Index: i, Action: acts[i], Label: m.Describe(s, acts[i])})
		s = m.Next(s, acts[i])
		tr.States = append(tr.States, s)
	}
	if m.Terminal(s) {
		return nil
	}
	return &check.Violation[State, Action]{Kind: check.Deadlock, Property: "no deadlock", Trace: tr}
}

// A deadlock reached by a random walk wanders between actors; minimised,
// it is a deadlock again, never longer, and regrouped. No step of it can
// be dropped: every step moves a program on, and the deadlocked state
// needs every one.
func TestMinimiseRandomWalks(t *testing.T) {
	m, err := New(builtin(t, "webserver", workload.Params{Conns: 2, Requests: 3}), Config{Policy: port.Block, Cap: 2, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	walks, dropped, moved := 0, 0, 0
	for seed := uint64(1); seed <= 40; seed++ {
		v := randomDeadlock(m, seed)
		if v == nil {
			continue
		}
		walks++
		tr, err := m.MinimisedTrace(context.Background(), "webserver", "", v, check.Stats{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		rt, err := check.Replay(m, tr.Path)
		if err != nil {
			t.Fatalf("seed %d: the minimised trace does not replay: %v", seed, err)
		}
		last := rt.States[len(rt.States)-1]
		if m.Terminal(last) || len(m.Actions(last, nil)) > 0 {
			t.Fatalf("seed %d: the minimised trace does not end in a deadlock", seed)
		}
		if len(tr.Steps) > len(v.Trace.Steps) || tr.Minimised.Before != len(v.Trace.Steps) || tr.Minimised.Before-tr.Minimised.Dropped != len(tr.Steps) {
			t.Fatalf("seed %d: %d steps from %d, %+v", seed, len(tr.Steps), len(v.Trace.Steps), tr.Minimised)
		}
		dropped += tr.Minimised.Dropped
		moved += tr.Minimised.Moved
	}
	t.Logf("%d random walks ended in a deadlock: %d steps dropped, %d swaps", walks, dropped, moved)
	if walks != 15 || dropped != 0 || moved != 57 {
		t.Errorf("%d walks, %d dropped, %d moved; want 15, 0 and 57", walks, dropped, moved)
	}
}

// A livelock's lasso closed late by a random walk goes round its cycle
// many times; minimised, it goes round once, from the first state that
// cannot finish.
func TestMinimiseRandomLasso(t *testing.T) {
	w, text := load(t, "../traces/testdata/livelock.wl")
	m, err := New(w, Config{Policy: port.Poll, Cap: 1, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 1))
	s := m.Init()[0]
	tr := check.Trace[State, Action]{States: []State{s}, Loop: -1, NoReturn: -1}
	for range 30 {
		acts := m.Actions(s, nil)
		i := r.IntN(len(acts))
		tr.Steps = append(tr.Steps, check.Step[Action]{Index: i, Action: acts[i], Label: m.Describe(s, acts[i])})
		s = m.Next(s, acts[i])
		tr.States = append(tr.States, s)
	}
	last := string(m.Encode(nil, s))
	for i, st := range tr.States {
		if string(m.Encode(nil, st)) == last {
			tr.Loop = i
			break
		}
	}
	v := &check.Violation[State, Action]{Kind: check.Livelock, Property: "no livelock", Trace: tr}
	mt, err := m.MinimisedTrace(context.Background(), "livelock.wl", text, v, check.Stats{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mt.Minimised; got.Before != 30 || len(mt.Steps) != 2 || got.Dropped != 28 || mt.Loop != 1 || mt.NoReturn != 0 {
		t.Errorf("minimised %+v to %d steps, loop %d, no return %d; want 30 steps to 2, loop 1, no return 0", got, len(mt.Steps), mt.Loop, mt.NoReturn)
	}
	rt, err := check.Replay(m, mt.Path)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Encode(nil, rt.States[len(rt.States)-1])) != string(m.Encode(nil, rt.States[mt.Loop])) {
		t.Error("the minimised lasso does not close")
	}
}
