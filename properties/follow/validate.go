package follow

import (
	"fmt"
	"slices"
	"strings"
	"syscall"

	"github.com/sysmsg/sysmsg/impl/port"
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
// orders that the log cannot tell apart, so the Validator keeps every
// model state the log so far can have led to (at most maxCandidates), and
// an event must be a step from at least one of them.
//
// What it does not cover: a log that is a path only through more than
// maxHidden hidden steps before one event is reported as not one; on the host
// back end the order of two processes' events is the order their
// goroutines traced them, which the kernel's real order can contradict
// (the tests use single-process workloads there); a finished run must end
// in a terminal model state, but a stuck run's end is not compared here
// ([Deadlock] does that).

const maxHidden = 64

var ecanceled = port.Errno(syscall.ECANCELED)

type key struct {
	thread int
	pc     uint16
}

// Validator holds a run's event log to the model as a path (the rule
// above); [NewValidator] makes one, [Validator.Validate] walks a log.
type Validator struct {
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

// NewValidator returns a validator of m's runs; host says that the
// kernel's completions are hidden steps (the host back end logs none).
func NewValidator(m *model.Model, host bool) *Validator {
	v := &Validator{m: m, w: m.Workload(), s: m.Init()[0], host: host, syncs: map[int]int{}}
	v.set = []model.State{v.s}
	for range v.w.Processes {
		v.msgs = append(v.msgs, map[uint64]key{})
	}
	return v
}

func (v *Validator) thread(e sched.Event) int { return v.w.Processes[e.Proc].Threads[e.Thread] }

func msgIndex(s model.State, k key) int {
	return slices.IndexFunc(s.Msgs, func(g model.Msg) bool { return int(g.Thread) == k.thread && g.PC == k.pc })
}

// portOp is the operation a thread's workload operation is on a back end.
func (v *Validator) portOp(op workload.Op) port.Op {
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

func (v *Validator) hidden(s model.State, a model.Action) bool {
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

// maxCandidates bounds the states the Validator keeps; past it the log is
// reported as too ambiguous to validate, never as a path.
const maxCandidates = 20000

// take finds every way to take an action that want accepts from the
// candidate states, enabled at once or after hidden steps (at most
// maxHidden), with each after-state once.
func (v *Validator) take(want func(model.State, model.Action) bool) []step {
	var out []step
	seen := map[string]bool{}
	for _, s := range v.closure(func(s model.State) bool {
		return slices.ContainsFunc(v.m.Actions(s, nil), func(a model.Action) bool { return want(s, a) })
	}, maxHidden) {
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
func (v *Validator) keep(steps []step) {
	v.set = v.set[:0]
	for _, st := range steps {
		v.set = append(v.set, st.after)
	}
	v.s = v.set[0]
}

// Reach keeps the candidates that hidden steps can bring to a state where
// goal holds, as those states, and reports whether there is one.
func (v *Validator) Reach(goal func(model.State) bool) bool {
	return v.reachWithin(goal, maxHidden)
}

// reachWithin is Reach with at most depth hidden steps (any number when
// depth < 0).
func (v *Validator) reachWithin(goal func(model.State) bool, depth int) bool {
	set := v.closure(goal, depth)
	if len(set) == 0 {
		return false
	}
	v.set, v.s = set, set[0]
	return true
}

// closure returns every state where goal holds that the candidates reach
// by at most maxDepth hidden steps (any number when maxDepth < 0), each
// once, in breadth-first order.
func (v *Validator) closure(goal func(model.State) bool, maxDepth int) []model.State {
	var out []model.State
	frontier := slices.Clone(v.set)
	seen := map[string]bool{}
	for _, s := range frontier {
		seen[string(v.m.Encode(nil, s))] = true
	}
	for depth := 0; (maxDepth < 0 || depth <= maxDepth) && len(frontier) > 0 && (maxDepth < 0 || len(seen) <= maxCandidates); depth++ {
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

// State describes the model state where the validator is, for a report:
// what [model.Model.Explain] says of it, and what it enables.
func (v *Validator) State() string {
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

// Validate walks the log; it returns "" or the first event that is not a
// step of the model, with the model's state there.
func (v *Validator) Validate(log []sched.Event, finished bool) string {
	fail := func(i int, e sched.Event, format string, args ...any) string {
		return fmt.Sprintf("event %d (%v): %s\n  the model's state:\n%s", i, e, fmt.Sprintf(format, args...), v.State())
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
			if e.Reserved && kind == model.SendCall {
				// A reserved call goes into a free reserved slot or, with
				// them all held, an ordinary one; the model's state says
				// which, and the port agrees with the spec on it.
				want, what = byThread(model.SendCall, model.SendReserved), "send or "+model.SendReserved.String()
			}
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
			if !v.Reach(func(s model.State) bool { return int(s.PC[t]) == len(th.Ops) }) {
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
		if a := steps[0].a; a.Kind == model.SendCall || a.Kind == model.SendEnterPolling || a.Kind == model.SendStop || a.Kind == model.SendReserved {
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
			if got := v.m.PortState(st.after, e.Proc).Mode; got != e.Mode {
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
		if !v.Reach(v.m.Terminal) {
			return "the run finished; the model cannot finish from here:\n" + v.State()
		}
	}
	return ""
}

// readGets narrows want to a read whose result in the model is the
// logged one, an item (res > 0) or end-of-file (0): the hidden steps
// before a read can let it proceed either way (a peer's send, or its
// close), and the log says which.
func (v *Validator) readGets(want func(model.State, model.Action) bool, res int64) func(model.State, model.Action) bool {
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

// Settle reports whether the model can reach a state where goal holds
// from one of the validator's candidate states by hidden steps alone
// (pushes, pops and peers' steps, which the log does not show), however
// many: at the end of a log the model may owe more of them than the
// validator's bounded search takes before one event. Each hidden step
// moves a program on, so the search ends. Like [Validator.Reach], it keeps
// the states where goal holds.
func (v *Validator) Settle(goal func(model.State) bool) bool {
	return v.reachWithin(goal, -1)
}
