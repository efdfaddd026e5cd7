// Package follow replays a model path in the simulated implementation: a
// counterexample found by the explorer in [model] is turned into a
// schedule of the simulated kernel (impl/kernel/sim), one simulated choice
// per model action, and the run is held to the model.
//
// [Deadlock] follows a deadlock's path and reports whether the run gets
// stuck exactly where the model deadlocks: its event log, validated by a
// [Validator], must lead to the model's deadlocked state (the same slots
// held by the same threads, the same threads at the same operations).
// [Validator] holds any run's event log to the model as a path (trace
// validation). The property tests and sysmsg trace replay --impl use both.
//
// It lives apart from impl/, which does not import the model, and from
// traces/, which the model imports.
package follow

import (
	"slices"
	"strings"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/model"
	"github.com/sysmsg/sysmsg/model/workload"
)

// Outcome is how a simulated run that followed a model path to a deadlock
// ended.
type Outcome struct {
	// Path is the path followed, with its States: the model's own, or,
	// when that steps a thread that has not parked (Replaced), the
	// shortest path of the model to the same state that lets each thread
	// run until it parks. Path and States are nil when there is none, and
	// then nothing was run.
	Path     []model.Action
	States   []model.State
	Replaced bool
	// Left is the step (from 0) where the schedule left the path, or -1
	// when it followed it all; Why says why.
	Left int
	Why  string
	// Run is the simulated run.
	Run *run.Result
	// Invalid says why the run's log is not a path of the model, or is "".
	Invalid string
	// Reproduced: the run followed the path, got stuck, and its log leads
	// to the model's deadlocked state.
	Reproduced bool
}

// Deadlock follows path, a path of m from its initial state to a deadlock
// with its states (one more than the actions), in a Fine simulated run of
// m's workload under cfg, the configuration m was made with, and holds the
// run to the model. An error means the run could not be set up.
//
// The model lets any runnable thread step and any completed reply be
// reaped, where a simulated process by default runs the head of its run
// queue and reaps its oldest reply; the run is Fine (see run.Options), so
// that the chooser can pick the thread and the reply. A simulated thread
// still runs until it parks, as user threads on one kernel thread do,
// where the model may step another thread between two operations of one
// that has not parked: such a path is replaced (see Outcome.Path).
func Deadlock(m *model.Model, cfg model.Config, path []model.Action, states []model.State) (*Outcome, error) {
	o := &Outcome{Left: -1}
	o.Path, o.States = RunsToPark(m, path, states)
	if o.States == nil {
		return o, nil
	}
	o.Replaced = !slices.Equal(o.Path, path)
	w := m.Workload()
	f := &follower{m: m, w: w, path: o.Path, states: o.States, last: -1, left: -1, init: true, sent: make([]uint64, len(w.Processes)), seqs: map[key]uint64{}}
	r, err := run.Sim(w, run.Options{Policy: cfg.Policy, Cap: cfg.Cap, Low: cfg.Low, Chooser: f, Fine: true, Record: true, MaxSteps: 10 * len(f.path)})
	if err != nil {
		return nil, err
	}
	o.Run, o.Left, o.Why = r, f.left, f.why
	if f.left >= 0 || !r.Stuck {
		return o, nil
	}
	v := NewValidator(m, false)
	if o.Invalid = v.Validate(r.Log, false); o.Invalid != "" {
		return o, nil
	}
	target := string(m.Encode(nil, states[len(states)-1]))
	o.Reproduced = v.Reach(func(s model.State) bool { return string(m.Encode(nil, s)) == target })
	return o, nil
}

// follower is a chooser that follows a model path, one choice per action,
// in a Fine world.
type follower struct {
	m      *model.Model
	w      *workload.Workload
	path   []model.Action
	states []model.State
	k      int
	last   int // the thread the last choice ran, or -1
	left   int // the step where it left the path, or -1 once it did not
	why    string
	init   bool
	sent   []uint64       // per process: the sends of the path so far
	seqs   map[key]uint64 // model message (thread, operation) → its Seq in the port
}

func (f *follower) Choose(cs []sim.Choice) int {
	if !f.init {
		f.init, f.left, f.last = true, -1, -1
	}
	for f.left < 0 && f.k < len(f.path) {
		a, s := f.path[f.k], f.states[f.k]
		for i, c := range cs {
			if f.matches(s, a, c) {
				f.pass(s, a)
				f.k++
				f.last = -1
				if c.Kind == sim.RunThread {
					f.last = int(a.Who)
				}
				return i
			}
		}
		if isThreadStep(a) && int(a.Who) == f.last {
			// The thread that ran last did not park: one run of it
			// took this step too.
			f.pass(s, a)
			f.k++
			continue
		}
		f.left = f.k
		f.why = "no simulated choice for: " + f.m.Describe(s, a).Actor + " " + strings.ReplaceAll(f.m.Describe(s, a).Text, "\t", " ")
	}
	if f.left < 0 {
		// After the path: running a thread that the model says cannot
		// move only parks it (waiting for a slot, stopped); the final
		// validation checks that nothing else happened.
		if i := slices.IndexFunc(cs, func(c sim.Choice) bool { return c.Kind == sim.RunThread }); i >= 0 {
			return i
		}
		f.left, f.why = f.k, "the run went on after the path's end"
	}
	return 0
}

func isThreadStep(a model.Action) bool {
	switch a.Kind {
	case model.PeerStep, model.CompleteCall, model.ReapReply, model.ReapLeavePolling, model.ReapResume, model.PollRetry, model.PollRetryWouldBlock:
		return false
	}
	return true
}

// RunsToPark returns path, with its states, if a simulated process can
// take it: once a thread steps, the next action is a step of the same
// thread for as long as it has one enabled, since the simulated thread
// runs until it parks. Otherwise it returns the shortest path of the
// model, breadth-first in the model's order of actions, from the same
// initial state to the same final state that keeps that rule, or nil
// states if there is none.
func RunsToPark(m *model.Model, path []model.Action, states []model.State) ([]model.Action, []model.State) {
	// running is the thread that must take the next action after a, taken
	// in s (which it left in next), or -1 for any.
	running := func(a model.Action, next model.State) int {
		if !isThreadStep(a) {
			return -1
		}
		if slices.ContainsFunc(m.Actions(next, nil), func(b model.Action) bool { return isThreadStep(b) && b.Who == a.Who }) {
			return int(a.Who)
		}
		return -1
	}
	keeps := func(last int, a model.Action) bool { return last < 0 || isThreadStep(a) && int(a.Who) == last }
	ok, last := true, -1
	for i, a := range path {
		if !keeps(last, a) {
			ok = false
			break
		}
		last = running(a, states[i+1])
	}
	if ok {
		return path, states
	}
	type node struct {
		s      model.State
		last   int
		parent int
		a      model.Action
	}
	target := string(m.Encode(nil, states[len(states)-1]))
	nodes := []node{{s: states[0], last: -1, parent: -1}}
	seen := map[string]bool{}
	mark := func(s model.State, last int) bool {
		k := string(append(m.Encode(nil, s), byte(last+1)))
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	mark(states[0], -1)
	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		if string(m.Encode(nil, n.s)) == target {
			var p []model.Action
			st := []model.State{n.s}
			for j := i; nodes[j].parent >= 0; j = nodes[j].parent {
				p = append(p, nodes[j].a)
				st = append(st, nodes[nodes[j].parent].s)
			}
			slices.Reverse(p)
			slices.Reverse(st)
			return p, st
		}
		for _, a := range m.Actions(n.s, nil) {
			if !keeps(n.last, a) {
				continue
			}
			ns := m.Next(n.s, a)
			l := running(a, ns)
			if mark(ns, l) {
				nodes = append(nodes, node{s: ns, last: l, parent: i, a: a})
			}
		}
	}
	return nil, nil
}

// pass notes a path step the schedule took: a send gives the model's
// message the port's next Seq in its process, which numbers its sends
// from 1.
func (f *follower) pass(s model.State, a model.Action) {
	switch a.Kind {
	case model.SendCall, model.SendEnterPolling, model.SendStop, model.SendReserved:
		p := f.w.Threads[a.Who].Process
		f.sent[p]++
		f.seqs[key{int(a.Who), s.PC[a.Who]}] = f.sent[p]
	}
}

// seq is the port's Seq of model message i of s.
func (f *follower) seq(s model.State, i uint32) uint64 {
	g := s.Msgs[i]
	return f.seqs[key{int(g.Thread), g.PC}]
}

func (f *follower) matches(s model.State, a model.Action, c sim.Choice) bool {
	switch a.Kind {
	case model.PeerStep:
		return c.Kind == sim.PeerStep && c.Peer == int(a.Who)
	case model.CompleteCall:
		return c.Kind == sim.CompleteMsg && c.Proc == f.w.Threads[s.Msgs[a.Who].Thread].Process && c.Msg.Seq == f.seq(s, a.Who)
	case model.ReapReply, model.ReapLeavePolling, model.ReapResume:
		return c.Kind == sim.ReapReply && c.Proc == int(a.Proc) && c.Msg != nil && c.Msg.Seq == f.seq(s, a.Who)
	case model.PollRetry, model.PollRetryWouldBlock:
		return c.Kind == sim.RetryKept && c.Proc == int(a.Proc)
	}
	th := f.w.Threads[a.Who]
	local := slices.Index(f.w.Processes[th.Process].Threads, int(a.Who))
	return c.Kind == sim.RunThread && c.Proc == th.Process && c.Thread != nil && int(c.Thread.ID()) == local
}
