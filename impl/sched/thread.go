package sched

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/impl/mutant"
	"github.com/sysmsg/sysmsg/impl/port"
)

// State is what a user thread is doing.
type State uint8

const (
	// Runnable: in the run queue.
	Runnable State = iota
	// Running: holds the baton.
	Running
	// Parked: a synchronous system call is in flight.
	Parked
	// WaitSlot: under Block, waiting for a free slot.
	WaitSlot
	// Stopped: under Stop, waiting for the upcall.
	Stopped
	// Polling: yielded after a would-block attempt; in the run queue.
	Polling
	// UserWait: waiting in userland, on a [Queue] or in [Thread.Wait].
	UserWait
	// Draining: its program is done; replies are still outstanding.
	Draining
	// Done: finished.
	Done
)

var stateNames = [...]string{Runnable: "runnable", Running: "running", Parked: "parked",
	WaitSlot: "waiting for a slot", Stopped: "stopped", Polling: "polling",
	UserWait: "waiting in userland", Draining: "draining", Done: "done"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// Thread is a user thread. Its methods are for the thread itself, called
// while it runs; [Thread.Cancel] and [Queue] take the running thread too.
type Thread struct {
	s     *Scheduler
	id    int32
	name  string
	fn    func(*Thread)
	wake  chan struct{}
	state State

	doing         string // the userland operation it is in, for dumps
	inCall        bool   // in a system call: callOp on callFD (or callTarget)
	callOp        port.Op
	callFD        int
	callTarget    *Thread
	cancelled     bool        // its next system call returns ECANCELED
	outstanding   int         // messages sent and not reaped
	msgs          []*port.Msg // those of them the kernel may still hold
	reply         port.Reply  // a synchronous call's reaped result
	results       replies     // reaped results of submitted calls
	waitingResult bool
	try           port.Msg // the polling-mode attempt, never sent

	reserveAll bool  // every system call of the thread is a reserved call
	reserveFDs []int // its system calls on these fds are
}

// Reserve makes the thread's system calls reserved calls of its port
// ([port.Port.AcquireAs]): all of them, or those on the given fds. Call it
// before the thread runs.
func (t *Thread) Reserve(all bool, fds ...int) {
	t.reserveAll = all
	t.reserveFDs = append(t.reserveFDs[:0], fds...)
}

// ReservedSlotFree reports whether the thread is in a reserved call and a
// reserved slot of its port is free: a polling thread that would send on
// its next turn, whatever the mode.
func (t *Thread) ReservedSlotFree() bool {
	return t.inCall && t.reserved(t.callFD) && t.s.port.Reserved() < t.s.port.Reserve()
}

// reserved reports whether a call on fd is a reserved call.
func (t *Thread) reserved(fd int) bool {
	return t.reserveAll || slices.Contains(t.reserveFDs, fd)
}

// ID is the thread's number in its process, as messages carry it. IDs of
// finished threads are reused.
func (t *Thread) ID() int32 { return t.id }

// Name is the thread's name.
func (t *Thread) Name() string { return t.name }

// State is what the thread is doing.
func (t *Thread) State() State { return t.state }

// Cancelled reports whether the thread's next system call will return
// ECANCELED.
func (t *Thread) Cancelled() bool { return t.cancelled }

// Attempt is the operation a polling thread retries when it next runs, or
// nil if the thread is not polling.
func (t *Thread) Attempt() *port.Msg {
	if t.state != Polling {
		return nil
	}
	return &t.try
}

// Scheduler is the thread's scheduler.
func (t *Thread) Scheduler() *Scheduler { return t.s }

func (t *Thread) main() {
	<-t.wake
	defer func() {
		t.state = Done
		t.s.back <- struct{}{}
	}()
	if t.s.killing {
		return
	}
	t.fn(t)
	t.doing = "finishing"
	for t.outstanding > 0 {
		t.park(Draining)
	}
}

// park gives the baton back in state st and waits for it.
func (t *Thread) park(st State) {
	t.state = st
	t.s.back <- struct{}{}
	<-t.wake
	if t.s.killing {
		runtime.Goexit() // the process is exiting: run the defers, end
	}
}

// Yield lets the other runnable threads run first.
func (t *Thread) Yield() {
	t.s.runq.push(t)
	t.park(Runnable)
}

func (t *Thread) forget(seq uint64) {
	for i, m := range t.msgs {
		if m.Seq == seq {
			last := len(t.msgs) - 1
			t.msgs[i] = t.msgs[last]
			t.msgs[last] = nil
			t.msgs = t.msgs[:last]
			return
		}
	}
}

// call is every system call: a message in messaging mode, a wait at a full
// cap (Block) or while stopped (Stop), a non-blocking attempt in polling
// mode. It returns the result of a synchronous call; a submitted call
// returns 0 once sent, attempted or kept, its result going to Wait.
func (t *Thread) call(op port.Op, fd int, buf []byte, arg int64, async bool, target *Thread) int64 {
	s := t.s
	// The description for dumps is made only when a dump asks: formatting
	// it here would allocate on every call.
	t.inCall, t.callOp, t.callFD, t.callTarget = true, op, fd, target
	defer t.endCall()
	for {
		s.sync()
		if t.cancelled {
			t.cancelled = false
			s.progress++
			s.trace(Event{Kind: EvCancelled, Thread: t.id, Op: op, FD: int32(fd)})
			if async {
				t.results.push(port.Reply{Res: ecanceled, Thread: t.id, FD: int32(fd), Op: op, Async: true})
				return 0
			}
			return ecanceled
		}
		before := s.port.Mode()
		reserved := t.reserved(fd)
		m, mode := s.port.AcquireAs(reserved)
		if m != nil {
			m.Op, m.FD, m.Buf, m.Arg, m.Thread, m.Async = op, int32(fd), buf, arg, t.id, async
			t.msgs = append(t.msgs, m)
			t.outstanding++
			s.progress++
			s.trace(Event{Kind: EvSend, Thread: t.id, Seq: m.Seq, Op: op, FD: int32(fd), ModeBefore: before, Reserved: reserved})
			if after := s.port.Mode(); after != before {
				s.trace(Event{Kind: EvEnter, Thread: t.id, Seq: m.Seq, ModeBefore: before})
			}
			s.k.Submit(m)
			if async {
				return 0
			}
			t.reply = port.Reply{}
			if mutant.On(mutant.CheckThenPark) && t.reply.Seq == 0 {
				// The seeded bug: no reply yet, so let the others run
				// and then park without looking again. A reply reaped
				// meanwhile found the thread runnable and woke nobody.
				t.Yield()
			}
			t.park(Parked)
			r := t.reply
			s.trace(Event{Kind: EvDeliver, Thread: t.id, Seq: r.Seq, Op: r.Op, FD: r.FD, Res: r.Res})
			return r.Res
		}
		switch mode {
		case port.Messaging: // Block, every slot taken
			t.park(WaitSlot)
		case port.Stopped:
			t.park(Stopped)
		case port.Polling:
			a := &t.try
			a.Op, a.FD, a.Buf, a.Arg, a.Thread, a.Async, a.Res = op, int32(fd), buf, arg, t.id, async, 0
			s.polls++
			ok := true
			if op == port.OpCancel {
				s.cancelNow(target)
			} else {
				ok = s.k.Try(a)
			}
			if ok {
				s.progress++
				s.trace(Event{Kind: EvAttempt, Thread: t.id, Op: op, FD: int32(fd), Res: a.Res})
				res := a.Res
				a.Buf = nil
				if async {
					t.results.push(port.Reply{Res: res, Thread: t.id, FD: int32(fd), Op: op, Async: true})
					return 0
				}
				return res
			}
			s.wouldBlocks++
			if async {
				// A submitted call is kept by the scheduler and retried
				// while the thread goes on, as if it had been sent: making
				// the thread retry it would livelock a thread whose own
				// later steps complete it (the submitter built-in).
				s.keep(t, a)
				a.Buf = nil
				s.progress++
				s.trace(Event{Kind: EvKeep, Thread: t.id, Op: op, FD: int32(fd)})
				return 0
			}
			s.trace(Event{Kind: EvWouldBlock, Thread: t.id, Op: op, FD: int32(fd)})
			t.park(Polling)
		}
	}
}

func (t *Thread) endCall() { t.inCall, t.callTarget = false, nil }

// Doing describes the operation the thread is in, for dumps.
func (t *Thread) Doing() string {
	if t.inCall {
		return t.s.describeOp(t.callOp, t.callFD, t.callTarget)
	}
	return t.doing
}

// cancelNow is the effect of a cancel attempted in polling mode, done at
// once: the kernel's part, then the scheduler's.
func (s *Scheduler) cancelNow(target *Thread) {
	if target == nil || target.state == Done {
		return
	}
	hit := s.k.CancelThread(s.port, target.id)
	s.applyCancel(target, hit)
}

// applyCancel finishes a cancel of target whose kernel part is done (hit
// says whether it completed a message the kernel held): the target's kept
// calls complete with ECANCELED; if it had nothing at all in progress, its
// next system call returns ECANCELED, and a thread waiting for a slot or
// the upcall is woken to find that out.
func (s *Scheduler) applyCancel(target *Thread, hit bool) {
	if s.cancelKept(target) > 0 || hit {
		return
	}
	target.cancelled = true
	switch target.state {
	case WaitSlot, Stopped:
		s.unqueue(target)
		s.ready(target)
	}
}

// sync applies the cancels the kernel has noted on the port since the last
// look. It runs before every step of the scheduler, so a cancel's effect is
// in place before the target can move.
func (s *Scheduler) sync() {
	s.notes = s.port.TakeCancels(s.notes[:0])
	for _, n := range s.notes {
		if int(n.Thread) < len(s.threads) {
			if t := s.threads[n.Thread]; t != nil && t.state != Done {
				s.applyCancel(t, n.Hit)
			}
		}
	}
}

func (s *Scheduler) describeOp(op port.Op, fd int, target *Thread) string {
	switch op {
	case port.OpCancel:
		if target == nil {
			return "cancel"
		}
		return "cancel " + target.name
	case port.OpSleep:
		return "sleep"
	}
	return op.String() + " " + s.describeFD(fd)
}

func (s *Scheduler) describeFD(fd int) string {
	if s.cfg.Describe != nil {
		return s.cfg.Describe(fd)
	}
	return fmt.Sprintf("fd %d", fd)
}

func result(res int64) (int, error) {
	if res < 0 {
		return 0, port.ResErr(res)
	}
	return int(res), nil
}

// Read reads into buf. At end-of-file it returns 0, [io.EOF].
func (t *Thread) Read(fd int, buf []byte) (int, error) {
	n, err := result(t.call(port.OpRead, fd, buf, 0, false, nil))
	if err == nil && n == 0 && len(buf) > 0 {
		return 0, io.EOF
	}
	return n, err
}

// Write writes buf, or a part of it: the count says how much.
func (t *Thread) Write(fd int, buf []byte) (int, error) {
	return result(t.call(port.OpWrite, fd, buf, 0, false, nil))
}

// Accept accepts a connection on a listening socket and returns its fd.
func (t *Thread) Accept(fd int) (int, error) {
	return result(t.call(port.OpAccept, fd, nil, 0, false, nil))
}

// Close closes fd.
func (t *Thread) Close(fd int) error {
	_, err := result(t.call(port.OpClose, fd, nil, 0, false, nil))
	return err
}

// Shutdown closes the outbound side of a connection: the peer reads
// end-of-file, and the inbound side stays open.
func (t *Thread) Shutdown(fd int) error {
	_, err := result(t.call(port.OpShutdown, fd, nil, 0, false, nil))
	return err
}

// Sleep waits for d to pass. It is a system call like the others: it takes
// a slot in messaging mode and is polled in polling mode.
func (t *Thread) Sleep(d time.Duration) error {
	_, err := result(t.call(port.OpSleep, -1, nil, time.Now().Add(d).UnixNano(), false, nil))
	return err
}

// Cancel cancels target's system calls: when the kernel completes the
// cancel, target's messages it has not completed, and its kept calls,
// complete with ECANCELED; if it has none, its next system call returns
// ECANCELED at once. Cancel is itself a system call and needs a slot in
// messaging mode. A thread cannot cancel itself, nor one of another
// process.
func (t *Thread) Cancel(target *Thread) error {
	if target == t {
		return fmt.Errorf("sched: thread %s cancels itself: %w", t.name, syscall.EINVAL)
	}
	if target.s != t.s {
		return fmt.Errorf("sched: thread %s cancels %s of another process: %w", t.name, target.name, syscall.EINVAL)
	}
	_, err := result(t.call(port.OpCancel, -1, nil, int64(target.id), false, target))
	return err
}

// Submit sends a read or write without waiting for it; [Thread.Wait]
// collects the result. In polling mode it is a non-blocking attempt that
// retries until it goes through, and its result is then at once available.
func (t *Thread) Submit(op port.Op, fd int, buf []byte) {
	t.call(op, fd, buf, 0, true, nil)
}

// Result is the outcome of a submitted call.
type Result struct {
	Op  port.Op
	FD  int
	N   int
	Err error
	// Seq is the message's sequence number; 0 for a polling attempt.
	Seq uint64
}

// Wait returns one result of the thread's submitted calls, waiting in
// userland while none is available.
func (t *Thread) Wait() Result {
	t.doing = "wait"
	for t.results.len() == 0 {
		t.waitingResult = true
		t.park(UserWait)
	}
	t.waitingResult = false
	t.doing = ""
	r := t.results.pop()
	t.s.progress++
	t.s.trace(Event{Kind: EvDeliver, Thread: t.id, Seq: r.Seq, Op: r.Op, FD: r.FD, Res: r.Res})
	n, err := result(r.Res)
	return Result{Op: r.Op, FD: int(r.FD), N: n, Err: err, Seq: r.Seq}
}

// Outstanding is the number of the thread's messages sent and not reaped.
func (t *Thread) Outstanding() int { return t.outstanding }

// replies is a FIFO of reaped results.
type replies struct {
	buf  []port.Reply
	head int
}

func (r *replies) len() int { return len(r.buf) - r.head }

func (r *replies) push(x port.Reply) {
	if r.head == len(r.buf) {
		r.buf, r.head = r.buf[:0], 0
	}
	r.buf = append(r.buf, x)
}

func (r *replies) pop() port.Reply {
	x := r.buf[r.head]
	r.head++
	return x
}
