package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
)

// Peer is an actor outside every cap (a client, another machine), stepped
// by the [World].
type Peer interface {
	// Name names the peer in choices and dumps.
	Name() string
	// Ready reports whether its next operation can proceed now.
	Ready() bool
	// Step performs its next operation; called only when Ready.
	Step()
	// Done reports whether its script is finished.
	Done() bool
	// Doing describes its next operation, for dumps.
	Doing() string
}

// ChoiceKind is the kind of a [Choice].
type ChoiceKind uint8

const (
	// RunThread: a process runs the thread at the head of its run queue,
	// or Choice.Thread when the world is [World.Fine].
	RunThread ChoiceKind = iota
	// PeerStep: a peer takes its next step.
	PeerStep
	// CompleteMsg: the kernel completes a message.
	CompleteMsg
	// RetryKept: a process retries one of its kept calls (polling mode),
	// offered only when the retry would go through.
	RetryKept
	// ReapReply: a process reaps its oldest reply, or Choice.Msg's when the
	// world is [World.Fine].
	ReapReply
)

// Choice is one move the world can make.
type Choice struct {
	Kind ChoiceKind
	// Proc is the process (RunThread, ReapReply, and CompleteMsg's owner).
	Proc int
	// Peer is the peer (PeerStep).
	Peer int
	// Msg is the message (CompleteMsg; ReapReply when Fine).
	Msg *port.Msg
	// Thread is the thread to run (RunThread when Fine).
	Thread *sched.Thread
	// Kept is the index of the kept call (RetryKept).
	Kept int
}

// Chooser picks the next move: an index into choices, which are never
// empty and come in a fixed order (processes' runs, peers, completions in
// send order, retries of kept calls, reaps; when the world is Fine, a
// process's runs in run-queue order and its reaps in completion order).
type Chooser interface {
	Choose(choices []Choice) int
}

// ChooserFunc adapts a function to a [Chooser].
type ChooserFunc func([]Choice) int

// Choose calls f.
func (f ChooserFunc) Choose(cs []Choice) int { return f(cs) }

// Random picks uniformly with a generator seeded by seed: the same seed
// gives the same schedule.
func Random(seed uint64) Chooser {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	return ChooserFunc(func(cs []Choice) int { return r.IntN(len(cs)) })
}

// SendsFirst prefers running threads (which send), then peers, then
// completions, then retries, then reaps, taking the first of a kind: the schedule that
// fills the slots before anything completes.
func SendsFirst() Chooser {
	return ChooserFunc(func(cs []Choice) int {
		best := 0
		for i, c := range cs {
			if c.Kind < cs[best].Kind {
				best = i
			}
		}
		return best
	})
}

// World is processes, a kernel and peers, driven one move at a time.
type World struct {
	Kernel *Kernel
	Procs  []*sched.Scheduler
	Peers  []Peer
	// Log, when Record is set, holds every event of every process, with
	// completions, in order.
	Log    []sched.Event
	Record bool
	// Fine widens the choices to the moves the model lets any thread and
	// reply make: a RunThread for each runnable thread of a process whose
	// run can change anything (not a poller whose attempt would block),
	// not only for the head of its run queue, and a ReapReply for each
	// reply waiting, not only the oldest. It is for a chooser that follows
	// a given path, a model counterexample; off, the choices, and so every
	// seeded schedule, are the coarse ones.
	Fine bool
	// Interrupt, when it closes, ends a Run between two moves, reported as
	// an Outcome with Interrupted set; nil never does.
	Interrupt <-chan struct{}

	replies []*port.Msg // scratch for Fine's reaps
}

// record logs a completion (the kernel's OnComplete, set by Run).
func (w *World) record(m *port.Msg) {
	if !w.Record {
		return
	}
	proc := w.owner(m)
	p := m.Port()
	// Logged just after the port took it, so that a completion that
	// wrongly freed a slot shows in the in-flight count.
	w.Log = append(w.Log, sched.Event{Kind: sched.EvComplete, Proc: proc, Thread: m.Thread, Seq: m.Seq,
		Op: m.Op, FD: m.FD, Res: m.Res, InFlight: p.InFlight(), Mode: p.Mode()})
}

// Tracer returns the [sched.Config.Trace] function for process proc: it
// records the process's events in the world's log.
func (w *World) Tracer(proc int) func(sched.Event) {
	return func(e sched.Event) {
		if w.Record {
			e.Proc = proc
			w.Log = append(w.Log, e)
		}
	}
}

// Outcome is how a run ended.
type Outcome struct {
	// Finished: every thread and peer finished.
	Finished bool
	// Stuck: it could not go on (Reason says why).
	Stuck  bool
	Reason string
	// Interrupted: World.Interrupt closed before the run could end.
	Interrupted bool
	// Steps is the number of moves made.
	Steps int
	// Dumps are every process's state at the end; Peers each peer's.
	Dumps []sched.Dump
	Peers []string
}

// Run makes moves until the world finishes or is stuck, or maxSteps moves
// have been made (reported as stuck: a run of the built-ins needs far
// fewer).
func (w *World) Run(c Chooser, maxSteps int) Outcome {
	w.Kernel.OnComplete = w.record
	var cs []Choice
	for step := 0; ; step++ {
		cs = w.choices(cs[:0])
		if len(cs) == 0 || step == maxSteps {
			o := Outcome{Steps: step}
			switch {
			case w.finished():
				o.Finished = true
			case step == maxSteps:
				o.Stuck, o.Reason = true, fmt.Sprintf("no end within %d steps", maxSteps)
			case w.polling():
				o.Stuck, o.Reason = true, "livelock: the only threads that could run are polling, and every attempt would block"
			default:
				o.Stuck, o.Reason = true, "deadlock: nothing can move"
			}
			w.dump(&o)
			return o
		}
		if w.Interrupt != nil && step%1024 == 0 {
			select {
			case <-w.Interrupt:
				return Outcome{Steps: step, Interrupted: true, Reason: "interrupted"}
			default:
			}
		}
		i := c.Choose(cs)
		if i < 0 || i >= len(cs) {
			panic(fmt.Sprintf("sim: chooser picked %d of %d choices", i, len(cs)))
		}
		w.apply(cs[i])
	}
}

func (w *World) finished() bool {
	for _, s := range w.Procs {
		if !s.Finished() {
			return false
		}
	}
	for _, p := range w.Peers {
		if !p.Done() {
			return false
		}
	}
	return true
}

func (w *World) polling() bool {
	for _, s := range w.Procs {
		for _, t := range s.RunQueue() {
			if t.State() == sched.Polling {
				return true
			}
		}
	}
	return false
}

// useful reports whether running s's next threads can change anything: a
// thread that is not a would-block poller, or a poller whose attempt would
// now go through (or that is cancelled, or whose process left polling, or
// whose reserved call finds a reserved slot free).
func (w *World) useful(s *sched.Scheduler) bool {
	for _, t := range s.RunQueue() {
		if w.usefulThread(s, t) {
			return true
		}
	}
	return false
}

// usefulThread reports whether running t, in s's run queue, can change
// anything.
func (w *World) usefulThread(s *sched.Scheduler, t *sched.Thread) bool {
	a := t.Attempt()
	return a == nil || t.Cancelled() || s.Port().Mode() != port.Polling || a.Op == port.OpCancel ||
		w.Kernel.Completable(a) || t.ReservedSlotFree()
}

func (w *World) choices(cs []Choice) []Choice {
	for i, s := range w.Procs {
		switch {
		case w.Fine && s.Runnable():
			for _, t := range s.RunQueue() {
				if w.usefulThread(s, t) {
					cs = append(cs, Choice{Kind: RunThread, Proc: i, Thread: t})
				}
			}
		case s.Runnable() && w.useful(s):
			cs = append(cs, Choice{Kind: RunThread, Proc: i})
		}
	}
	for i, p := range w.Peers {
		if !p.Done() && p.Ready() {
			cs = append(cs, Choice{Kind: PeerStep, Peer: i})
		}
	}
	for _, m := range w.Kernel.Pending() {
		if w.Kernel.Completable(m) {
			cs = append(cs, Choice{Kind: CompleteMsg, Proc: w.owner(m), Msg: m})
		}
	}
	for i, s := range w.Procs {
		for j := range s.Kept() {
			if w.Kernel.Completable(s.KeptCall(j)) {
				cs = append(cs, Choice{Kind: RetryKept, Proc: i, Kept: j})
			}
		}
	}
	for i, s := range w.Procs {
		switch {
		case w.Fine && s.CanReap():
			w.replies = s.Port().AppendReplies(w.replies[:0])
			for _, m := range w.replies {
				cs = append(cs, Choice{Kind: ReapReply, Proc: i, Msg: m})
			}
		case s.CanReap():
			cs = append(cs, Choice{Kind: ReapReply, Proc: i})
		}
	}
	return cs
}

func (w *World) owner(m *port.Msg) int {
	for i, s := range w.Procs {
		if s.Port() == m.Port() {
			return i
		}
	}
	return -1
}

func (w *World) apply(c Choice) {
	switch c.Kind {
	case RunThread:
		if c.Thread != nil {
			w.Procs[c.Proc].StepThread(c.Thread)
		} else {
			w.Procs[c.Proc].Step()
		}
	case PeerStep:
		w.Peers[c.Peer].Step()
	case CompleteMsg:
		w.Kernel.Complete(c.Msg)
	case RetryKept:
		w.Procs[c.Proc].Retry(c.Kept)
	case ReapReply:
		if c.Msg != nil {
			w.Procs[c.Proc].ReapMsg(c.Msg)
		} else {
			w.Procs[c.Proc].Reap()
		}
	}
}

func (w *World) dump(o *Outcome) {
	for _, s := range w.Procs {
		o.Dumps = append(o.Dumps, s.Dump())
	}
	for _, p := range w.Peers {
		st := "done"
		if !p.Done() {
			st = "waiting to " + p.Doing()
			if p.Ready() {
				st = "ready to " + p.Doing()
			}
		}
		o.Peers = append(o.Peers, p.Name()+": "+st)
	}
}

func (o Outcome) String() string {
	var b strings.Builder
	switch {
	case o.Finished:
		fmt.Fprintf(&b, "finished after %d steps\n", o.Steps)
	default:
		fmt.Fprintf(&b, "STUCK after %d steps: %s\n", o.Steps, o.Reason)
	}
	for _, d := range o.Dumps {
		b.WriteString(d.String())
	}
	if len(o.Peers) > 0 {
		b.WriteString("peers:\n")
		for _, p := range o.Peers {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	return b.String()
}
