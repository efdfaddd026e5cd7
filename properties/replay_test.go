package properties_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/impl/sched"
	"github.com/sysmsg/sysmsg/model"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// A run's event log is held to the model as a path: trace validation. The
// matching rule, event by event (a send with its EvEnter, a reap with its
// EvLeave, taken as one event):
//
//   - each logged event names exactly one model action kind and its actor:
//     EvSend is SendCall, or SendEnterPolling/SendStop when EvEnter follows;
//     EvComplete is CompleteCall and EvReap is ReapReply, or
//     ReapLeavePolling/ReapResume when EvLeave follows, of the model message
//     the event's Seq was mapped to at its send (thread and operation);
//     EvAttempt, EvWouldBlock, EvKeep, EvRetry, EvRetryWouldBlock and
//     EvCancelled are PollCall, PollWouldBlock, PollDefer, PollRetry,
//     PollRetryWouldBlock and CallCancelled of that thread; EvDeliver is a
//     wait (UserStep) unless it hands a synchronous call's reaped reply
//     back, which the model did at the reap; EvDone is no action, and the
//     thread's model program must be at its end. A send's operation (read,
//     write, close or shutdown, cancel) must be the thread's next one in
//     the model.
//   - The action must be enabled in one of the model's candidate states,
//     at once or after internal steps that the log does not show — a push
//     or pop on a user queue, a peer's step, and on the host back end a
//     kernel completion — at most maxHidden of them. Nothing else is ever
//     inserted.
//   - After each event, the process's slots and mode in the model equal
//     the port's as logged.
//   - The cancel's effect: the simulated kernel logs the cancelled
//     messages' completions (ECANCELED) before the cancel's own completion
//     (or polling attempt); they are held back and must be done in the
//     model once the cancel's action is taken.
//
// The hidden steps between two events can often be taken in several
// orders that the log cannot tell apart, so the validator keeps every
// model state the log so far can have led to (at most maxCandidates), and
// an event must be a step from at least one of them.
//
// What it does not cover: a log that is a path only through more than
// maxHidden hidden steps before one event is reported as not one; on the host
// back end the order of two processes' events is the order their
// goroutines traced them, which the kernel's real order can contradict
// (the tests use single-process workloads there); a finished run must end
// in a terminal model state, but a stuck run's end is not compared here
// (TestCounterexamplesReplayInTheImplementation does that).

const maxHidden = 64

var ecanceled = port.Errno(syscall.ECANCELED)

type key struct {
	thread int
	pc     uint16
}

type validator struct {
	m *model.Model
	w *workload.Workload
	// set holds every model state the log so far can have led to: the
	// hidden steps between two events can be taken in more than one order,
	// and the log alone does not say which. s is one of them, set[0], for
	// reports.
	set   []model.State
	s     model.State
	host  bool             // completions are hidden steps
	msgs  []map[uint64]key // per process: Seq → model message
	syncs map[int]int      // per thread: sync replies reaped, not yet delivered
	held  []key            // cancelled completions waiting for the cancel
}

func newValidator(m *model.Model, host bool) *validator {
	v := &validator{m: m, w: m.Workload(), s: m.Init()[0], host: host, syncs: map[int]int{}}
	v.set = []model.State{v.s}
	for range v.w.Processes {
		v.msgs = append(v.msgs, map[uint64]key{})
	}
	return v
}

func (v *validator) thread(e sched.Event) int { return v.w.Processes[e.Proc].Threads[e.Thread] }

func msgIndex(s model.State, k key) int {
	return slices.IndexFunc(s.Msgs, func(g model.Msg) bool { return int(g.Thread) == k.thread && g.PC == k.pc })
}

// portOp is the operation a thread's workload operation is on a back end.
func (v *validator) portOp(op workload.Op) port.Op {
	switch op.Kind {
	case workload.Read:
		return port.OpRead
	case workload.Write:
		return port.OpWrite
	case workload.Cancel:
		return port.OpCancel
	case workload.Close:
		if v.w.Objects[op.Object].Kind == workload.Conn {
			return port.OpShutdown
		}
		return port.OpClose
	}
	return port.Op(255)
}

func (v *validator) hidden(s model.State, a model.Action) bool {
	switch a.Kind {
	case model.PeerStep:
		return true
	case model.UserStep:
		op := v.w.Threads[a.Who].Ops[s.PC[a.Who]]
		return op.Kind != workload.Wait
	case model.CompleteCall:
		return v.host
	}
	return false
}

// step is one way the model can take a logged event: the action, the
// state it was taken in, and the state after it.
type step struct {
	a             model.Action
	before, after model.State
}

// maxCandidates bounds the states the validator keeps; past it the log is
// reported as too ambiguous to validate, never as a path.
const maxCandidates = 20000

// take finds every way to take an action that want accepts from the
// candidate states, enabled at once or after hidden steps (at most
// maxHidden), with each after-state once.
func (v *validator) take(want func(model.State, model.Action) bool) []step {
	var out []step
	seen := map[string]bool{}
	for _, s := range v.closure(func(s model.State) bool {
		return slices.ContainsFunc(v.m.Actions(s, nil), func(a model.Action) bool { return want(s, a) })
	}) {
		for _, a := range v.m.Actions(s, nil) {
			if !want(s, a) {
				continue
			}
			ns := v.m.Next(s, a)
			if k := string(v.m.Encode(nil, ns)); !seen[k] {
				seen[k] = true
				out = append(out, step{a, s, ns})
			}
		}
	}
	return out
}

// keep makes the after-states of steps the candidates.
func (v *validator) keep(steps []step) {
	v.set = v.set[:0]
	for _, st := range steps {
		v.set = append(v.set, st.after)
	}
	v.s = v.set[0]
}

// reach keeps the candidates that hidden steps can bring to a state where
// goal holds, as those states, and reports whether there is one.
func (v *validator) reach(goal func(model.State) bool) bool {
	set := v.closure(goal)
	if len(set) == 0 {
		return false
	}
	v.set, v.s = set, set[0]
	return true
}

// closure returns every state where goal holds that the candidates reach
// by at most maxHidden hidden steps, each once, in breadth-first order.
func (v *validator) closure(goal func(model.State) bool) []model.State {
	var out []model.State
	frontier := slices.Clone(v.set)
	seen := map[string]bool{}
	for _, s := range frontier {
		seen[string(v.m.Encode(nil, s))] = true
	}
	for depth := 0; depth <= maxHidden && len(frontier) > 0 && len(seen) <= maxCandidates; depth++ {
		var next []model.State
		for _, s := range frontier {
			if goal(s) {
				out = append(out, s)
			}
			for _, a := range v.m.Actions(s, nil) {
				if !v.hidden(s, a) {
					continue
				}
				ns := v.m.Next(s, a)
				if k := string(v.m.Encode(nil, ns)); !seen[k] {
					seen[k] = true
					next = append(next, ns)
				}
			}
		}
		frontier = next
	}
	return out
}

// state describes the model state for a report.
func (v *validator) state() string {
	var b strings.Builder
	for _, l := range v.m.Explain(v.s) {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	b.WriteString("  enabled:\n")
	for _, a := range v.m.Actions(v.s, nil) {
		l := v.m.Describe(v.s, a)
		fmt.Fprintf(&b, "    %s %s\n", l.Actor, strings.ReplaceAll(l.Text, "\t", "  "))
	}
	return b.String()
}

// validate walks the log; it returns "" or the first event that is not a
// step of the model, with the model's state there.
func (v *validator) validate(log []sched.Event, finished bool) string {
	fail := func(i int, e sched.Event, format string, args ...any) string {
		return fmt.Sprintf("event %d (%v): %s\n  the model's state:\n%s", i, e, fmt.Sprintf(format, args...), v.state())
	}
	for i := 0; i < len(log); i++ {
		e := log[i]
		t := v.thread(e)
		th := v.w.Threads[t]
		follows := func(k sched.EventKind) bool {
			if i+1 < len(log) && log[i+1].Kind == k && log[i+1].Proc == e.Proc {
				i++
				return true
			}
			return false
		}
		byThread := func(kinds ...model.ActKind) func(model.State, model.Action) bool {
			return func(_ model.State, a model.Action) bool { return slices.Contains(kinds, a.Kind) && int(a.Who) == t }
		}
		var want func(model.State, model.Action) bool
		what := ""
		cancelled := false // the action is a cancel's: held completions must be done after it
		switch e.Kind {
		case sched.EvSend:
			kind := model.SendCall
			if follows(sched.EvEnter) {
				kind = model.SendEnterPolling
				if v.m.Policy() == spec.Stop {
					kind = model.SendStop
				}
			}
			want, what = byThread(kind), kind.String()
		case sched.EvComplete:
			if e.Res == ecanceled { // a cancelled message, a cancel included
				k, ok := v.msgs[e.Proc][e.Seq]
				if !ok {
					return fail(i, e, "completion of a message never sent")
				}
				v.held = append(v.held, k)
				continue
			}
			k := v.msgs[e.Proc][e.Seq]
			want = func(s model.State, a model.Action) bool {
				return a.Kind == model.CompleteCall && int(s.Msgs[a.Who].Thread) == k.thread && s.Msgs[a.Who].PC == k.pc
			}
			what, cancelled = "kernel completion", e.Op == port.OpCancel
		case sched.EvReap:
			kind := model.ReapReply
			if follows(sched.EvLeave) {
				kind = model.ReapLeavePolling
				if v.m.Policy() == spec.Stop {
					kind = model.ReapResume
				}
			}
			k := v.msgs[e.Proc][e.Seq]
			want = func(s model.State, a model.Action) bool {
				return a.Kind == kind && int(s.Msgs[a.Who].Thread) == k.thread && s.Msgs[a.Who].PC == k.pc
			}
			what = kind.String()
			if !th.Ops[k.pc].Async {
				v.syncs[t]++
			}
		case sched.EvAttempt:
			want, what, cancelled = byThread(model.PollCall), model.PollCall.String(), e.Op == port.OpCancel
		case sched.EvWouldBlock:
			want, what = byThread(model.PollWouldBlock), model.PollWouldBlock.String()
		case sched.EvKeep:
			want, what = byThread(model.PollDefer), model.PollDefer.String()
		case sched.EvRetry, sched.EvRetryWouldBlock:
			kind := map[sched.EventKind]model.ActKind{sched.EvRetry: model.PollRetry, sched.EvRetryWouldBlock: model.PollRetryWouldBlock}[e.Kind]
			want = func(s model.State, a model.Action) bool {
				return a.Kind == kind && int(a.Thread) == t && v.portOp(th.Ops[a.PC]) == e.Op
			}
			what = kind.String()
		case sched.EvCancelled:
			want, what = byThread(model.CallCancelled), model.CallCancelled.String()
		case sched.EvDeliver:
			if v.syncs[t] > 0 {
				v.syncs[t]--
				continue // the model handed it back at the reap
			}
			want = func(s model.State, a model.Action) bool {
				return a.Kind == model.UserStep && int(a.Who) == t && th.Ops[s.PC[t]].Kind == workload.Wait
			}
			what = "wait"
		case sched.EvDone:
			if !v.reach(func(s model.State) bool { return int(s.PC[t]) == len(th.Ops) }) {
				return fail(i, e, "%s finished; in the model it is at operation %d of %d", th.Name, v.s.PC[t]+1, len(th.Ops))
			}
			continue
		default:
			return fail(i, e, "an event the model has no step for")
		}
		if e.Op == port.OpRead && (e.Kind == sched.EvComplete || e.Kind == sched.EvAttempt || e.Kind == sched.EvRetry) {
			want = v.readGets(want, e.Res)
		}
		steps := v.take(want)
		if len(steps) == 0 {
			return fail(i, e, "no enabled %s of this thread or message, even after %d hidden steps", what, maxHidden)
		}
		if a := steps[0].a; a.Kind == model.SendCall || a.Kind == model.SendEnterPolling || a.Kind == model.SendStop {
			// The thread's own program fixes which operation it sends,
			// whatever order the hidden steps took.
			pc := steps[0].before.PC[t]
			if got := v.portOp(th.Ops[pc]); got != e.Op {
				return fail(i, e, "%s's next operation in the model is %v, the log sends %v", th.Name, got, e.Op)
			}
			steps = slices.DeleteFunc(steps, func(st step) bool { return st.before.PC[t] != pc })
			v.msgs[e.Proc][e.Seq] = key{t, pc}
		}
		// Of the ways to take the event, keep those that agree with what
		// was logged with it: the cancel's done messages, the slots, the
		// mode. Only if none does is the log off the model's paths.
		var why string
		steps = slices.DeleteFunc(steps, func(st step) bool {
			if cancelled {
				for _, k := range v.held {
					j := msgIndex(st.after, k)
					if j < 0 || slices.ContainsFunc(v.m.Actions(st.after, nil), func(a model.Action) bool { return a.Kind == model.CompleteCall && int(a.Who) == j }) {
						why = fmt.Sprintf("the cancel completed %s's message (operation %d); in the model it is not done", v.w.Threads[k.thread].Name, k.pc+1)
						return true
					}
				}
			}
			if got := v.m.InFlight(st.after, e.Proc); got != e.InFlight {
				why = fmt.Sprintf("the model holds %d slots, the port %d", got, e.InFlight)
				return true
			}
			if got := modeOf(st.after, e.Proc); got != spec.Mode(e.Mode) {
				why = fmt.Sprintf("the model is in %v mode, the port in %v", got, e.Mode)
				return true
			}
			return false
		})
		if len(steps) == 0 {
			return fail(i, e, "%s", why)
		}
		if cancelled {
			v.held = v.held[:0]
		}
		v.keep(steps)
		if len(v.set) > maxCandidates {
			return fail(i, e, "more than %d model states fit the log so far: too ambiguous to validate", maxCandidates)
		}
	}
	if len(v.held) > 0 {
		return fmt.Sprintf("the log ends with %d cancelled completions no cancel explains", len(v.held))
	}
	if finished {
		if !v.reach(v.m.Terminal) {
			return "the run finished; the model cannot finish from here:\n" + v.state()
		}
	}
	return ""
}

// readGets narrows want to a read whose result in the model is the
// logged one, an item (res > 0) or end-of-file (0): the hidden steps
// before a read can let it proceed either way (a peer's send, or its
// close), and the log says which.
func (v *validator) readGets(want func(model.State, model.Action) bool, res int64) func(model.State, model.Action) bool {
	if res < 0 {
		return want
	}
	return func(s model.State, a model.Action) bool {
		if !want(s, a) {
			return false
		}
		t, pc := int(a.Who), uint16(0)
		switch a.Kind {
		case model.CompleteCall:
			t, pc = int(s.Msgs[a.Who].Thread), s.Msgs[a.Who].PC
		case model.PollRetry:
			t, pc = int(a.Thread), a.PC
		default:
			pc = s.PC[t]
		}
		op := v.w.Threads[t].Ops[pc]
		return op.Kind != workload.Read || (s.Items[2*op.Object] > 0) == (res > 0)
	}
}

// modeOf reads the model's mode of process p from what it enables.
func modeOf(s model.State, p int) spec.Mode {
	return spec.Mode(modeBits(s.Mode[p]))
}

func modeBits(b uint8) uint8 {
	switch {
	case b&1 != 0:
		return uint8(spec.Polling)
	case b&2 != 0:
		return uint8(spec.Stopped)
	}
	return uint8(spec.Messaging)
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
	for _, name := range workload.BuiltinNames() {
		w := loadBuiltin(t, name)
		for _, pol := range spec.Policies() {
			for c := 1; c <= 3; c++ {
				m, err := model.New(w, model.Config{Policy: pol, Cap: c, Low: workload.Unset})
				if err != nil {
					t.Fatal(err)
				}
				for seed := range seeds {
					r, err := run.Sim(w, run.Options{Policy: pol, Cap: c, Low: workload.Unset, Seed: uint64(seed), Record: true})
					if err != nil {
						t.Fatal(err)
					}
					if msg := newValidator(m, false).validate(r.Log, r.Finished); msg != "" {
						t.Fatalf("%s, %v, cap %d, seed %d: the run is not a path of the model:\n%s", name, pol, c, seed, msg)
					}
				}
			}
		}
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
			r, err := run.OS(w, run.Options{Policy: spec.Poll, Cap: c, Low: workload.Unset, Record: true, StuckAfter: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if msg := newValidator(m, true).validate(r.Log, r.Finished); msg != "" {
				t.Errorf("host %s, poll, cap %d: the run is not a path of the model:\n%s", name, c, msg)
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
				path, states := runsToPark(m, orig, tr.States)
				switch {
				case states == nil:
					t.Errorf("%s: no path of the model to its deadlock lets each thread run until it parks", cell)
					continue
				case !slices.Equal(path, orig):
					t.Logf("%s: the counterexample steps a thread that has not parked; followed instead: a path of %d steps that lets each run until it parks", cell, len(path))
				}
				f := &follower{m: m, w: w, path: path, states: states, sent: make([]uint64, len(w.Processes)), seqs: map[key]uint64{}}
				r, err := run.Sim(w, run.Options{Policy: pol, Cap: c, Low: workload.Unset, Chooser: f, Fine: true, Record: true, MaxSteps: 10 * len(f.path)})
				if err != nil {
					t.Fatal(err)
				}
				if f.left >= 0 {
					t.Errorf("%s: the schedule left the model's path at step %d of %d (%s)", cell, f.left+1, len(f.path), f.why)
					continue
				}
				if !r.Stuck {
					t.Errorf("%s: the model deadlocks after %d steps; the run followed them and did not get stuck:\n%s", cell, len(f.path), r.Summary())
					continue
				}
				v := newValidator(m, false)
				if msg := v.validate(r.Log, false); msg != "" {
					t.Errorf("%s: the followed run is not a path of the model:\n%s", cell, msg)
					continue
				}
				target := string(m.Encode(nil, tr.States[len(tr.States)-1]))
				if !v.reach(func(s model.State) bool { return string(m.Encode(nil, s)) == target }) {
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

// runsToPark returns path, with its states, if a simulated process can
// take it: once a thread steps, the next action is a step of the same
// thread for as long as it has one enabled, since the simulated thread
// runs until it parks. Otherwise it returns the shortest path of the
// model, breadth-first in the model's order of actions, from the same
// initial state to the same final state that keeps that rule, or nil
// states if there is none.
func runsToPark(m *model.Model, path []model.Action, states []model.State) ([]model.Action, []model.State) {
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
	case model.SendCall, model.SendEnterPolling, model.SendStop:
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
