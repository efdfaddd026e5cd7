package sched

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/impl/mutant"
	"github.com/sysmsg/sysmsg/impl/port"
)

// Kernel is a back end that runs system call messages. The scheduler calls
// it only from the goroutine that holds the baton; the kernel may complete
// messages from any goroutine.
type Kernel interface {
	// Submit takes an in-flight message. The kernel performs the operation
	// once it can proceed, sets m.Res and calls m.Port().Complete(m),
	// possibly before Submit returns.
	Submit(m *port.Msg)
	// Try performs m's operation at once if it can proceed, sets m.Res and
	// reports true; it reports false, doing nothing, if it would block.
	// It is the polling-mode system call: m belongs to no port.
	Try(m *port.Msg) bool
	// Cancel completes m with ECANCELED if the kernel holds it and has not
	// completed it, and reports whether it did.
	Cancel(m *port.Msg) bool
	// CancelThread completes with ECANCELED every message of thread on p
	// that the kernel holds and has not completed, and reports whether
	// there was one. It is a cancel's effect in the kernel.
	CancelThread(p *port.Port, thread int32) bool
}

// Explainer is an optional interface of a [Kernel]: why an in-flight
// message has not completed, for dumps ("c0 is empty").
type Explainer interface {
	Why(m *port.Msg) string
}

// Config configures a [Scheduler].
type Config struct {
	// Name names the process in dumps.
	Name string
	// Port configures the process's port: cap, low-water mark, policy.
	Port   port.Config
	Kernel Kernel
	// Reaper makes the process an event loop: its first thread, which must
	// be its only one, is the only reaper. It reaps while it waits for
	// anything except a free slot under Block, when it is inside the
	// submission and cannot (docs/model.md, "The reaper thread").
	Reaper bool
	// Describe names a file descriptor in dumps; nil prints "fd N".
	Describe func(fd int) string
	// Trace, if set, gets every event in order, on the goroutine that holds
	// the baton. Tests check the properties of one execution on it.
	Trace func(Event)

	_ struct{}
}

// Stats are a scheduler's counters, with its port's.
type Stats struct {
	port.Stats
	Polls       uint64 // polling-mode attempts
	WouldBlocks uint64 // of which would-block
	Steps       uint64 // thread runs
}

// Scheduler runs the user threads of one process.
type Scheduler struct {
	cfg     Config
	port    *port.Port
	k       Kernel
	threads []*Thread // by ID; nil for an ID free for reuse
	freeIDs []int32
	live    int // threads not done

	runq  deque
	slotq []*Thread // waiting for a free slot (Block)
	stopq []*Thread // waiting for the upcall (Stop)

	back    chan struct{} // the baton coming back from a thread
	cur     *Thread
	killing bool
	left    bool // the last reap made the port leave polling or stopped mode
	notes   []port.CancelNote

	kept     []*kept // submitted calls that would block in polling mode
	keptFree []*kept

	progress    uint64 // bumped by every step that changes the state
	polls       uint64
	wouldBlocks uint64
	steps       uint64
}

// New makes a scheduler and its port.
func New(c Config) (*Scheduler, error) {
	if c.Kernel == nil {
		return nil, errors.New("sched: no kernel")
	}
	s := &Scheduler{cfg: c, k: c.Kernel, back: make(chan struct{}, 1)}
	pc := c.Port
	pc.Upcall = s.upcall
	p, err := port.New(pc)
	if err != nil {
		return nil, err
	}
	s.port = p
	return s, nil
}

// Port is the process's port.
func (s *Scheduler) Port() *port.Port { return s.port }

// Name is the process's name.
func (s *Scheduler) Name() string { return s.cfg.Name }

// Go starts a user thread that runs fn. It may be called before the
// scheduler runs or by a running user thread; the new thread is runnable at
// the back of the run queue. Under Reaper the process may have one thread.
func (s *Scheduler) Go(name string, fn func(t *Thread)) *Thread {
	if s.cfg.Reaper && len(s.threads) > 0 {
		panic("sched: an event-loop process has one thread")
	}
	t := &Thread{s: s, name: name, fn: fn, wake: make(chan struct{}, 1)}
	port.Scratch(&t.try)
	if n := len(s.freeIDs); n > 0 {
		t.id = s.freeIDs[n-1]
		s.freeIDs = s.freeIDs[:n-1]
		s.threads[t.id] = t
	} else {
		t.id = int32(len(s.threads))
		s.threads = append(s.threads, t)
	}
	s.live++
	s.progress++
	t.state = Runnable
	s.runq.push(t)
	go t.main()
	return t
}

// Threads are the live threads, by ID.
func (s *Scheduler) Threads() []*Thread {
	var ts []*Thread
	for _, t := range s.threads {
		if t != nil {
			ts = append(ts, t)
		}
	}
	return ts
}

// Finished reports whether every thread has finished: its program done and
// none of its messages outstanding.
func (s *Scheduler) Finished() bool { return s.live == 0 }

// Runnable reports whether a thread is waiting to run.
func (s *Scheduler) Runnable() bool {
	s.sync()
	return s.runq.len() > 0
}

// RunQueue is the run queue, next to run first. The slice is the
// scheduler's own: read it before the next step.
func (s *Scheduler) RunQueue() []*Thread { return s.runq.items() }

// Progress counts the steps that changed something: sends, reaps, attempts
// that went through, threads started and finished. A would-block attempt
// does not count, so a spinning process makes no progress.
func (s *Scheduler) Progress() uint64 { return s.progress }

// Stats returns the counters.
func (s *Scheduler) Stats() Stats {
	return Stats{Stats: s.port.Stats(), Polls: s.polls, WouldBlocks: s.wouldBlocks, Steps: s.steps}
}

// Step runs the thread at the head of the run queue until it parks, yields
// or finishes, and reports whether there was one.
func (s *Scheduler) Step() bool {
	s.sync()
	t := s.runq.pop()
	if t == nil {
		return false
	}
	s.run(t)
	return true
}

// StepThread is [Scheduler.Step] of t instead of the head of the run queue:
// it reports false, doing nothing, if t is not in the run queue. It is for
// a simulated schedule that runs any runnable thread, as the model may.
func (s *Scheduler) StepThread(t *Thread) bool {
	s.sync()
	if !s.runq.remove(t) {
		return false
	}
	s.run(t)
	return true
}

// run runs t, just taken off the run queue, until it parks, yields or
// finishes.
func (s *Scheduler) run(t *Thread) {
	s.steps++
	s.cur = t
	t.state = Running
	t.wake <- struct{}{}
	<-s.back
	s.cur = nil
	switch t.state {
	case Polling:
		s.runq.push(t) // round-robin: a poller goes to the back
	case WaitSlot:
		s.slotq = append(s.slotq, t)
	case Stopped:
		s.stopq = append(s.stopq, t)
	case Done:
		s.retire(t)
	}
}

func (s *Scheduler) retire(t *Thread) {
	s.live--
	s.progress++
	s.threads[t.id] = nil
	s.freeIDs = append(s.freeIDs, t.id)
	s.trace(Event{Kind: EvDone, Thread: t.id})
}

// CanReap reports whether a reply is waiting and may be reaped now: not
// while an event loop's only thread waits for a slot under Block.
func (s *Scheduler) CanReap() bool {
	return s.reapAllowed() && s.port.Replies() > 0
}

func (s *Scheduler) reapAllowed() bool {
	if !s.cfg.Reaper || len(s.threads) == 0 || s.threads[0] == nil {
		return true
	}
	return s.threads[0].state != WaitSlot
}

// Reap reaps one reply, frees its slot and gives the result to the thread
// that sent it, and reports whether there was one to reap.
func (s *Scheduler) Reap() bool {
	s.sync()
	if !s.reapAllowed() {
		return false
	}
	r, ok := s.port.Reap() // may call s.upcall
	if !ok {
		return false
	}
	s.reaped(r)
	return true
}

// ReapMsg is [Scheduler.Reap] of m's reply instead of the oldest: it
// reports false, doing nothing, if m's reply is not waiting or may not be
// reaped now. It is for a simulated schedule that reaps any completed
// reply, as the model may; [port.Port.AppendReplies] lists them.
func (s *Scheduler) ReapMsg(m *port.Msg) bool {
	s.sync()
	if !s.reapAllowed() {
		return false
	}
	r, ok := s.port.ReapMsg(m) // may call s.upcall
	if !ok {
		return false
	}
	s.reaped(r)
	return true
}

// reaped gives a reaped reply to the thread that sent it and wakes the
// threads the reap lets go on.
func (s *Scheduler) reaped(r port.Reply) {
	s.progress++
	t := s.threads[r.Thread]
	if t == nil || t.outstanding == 0 {
		panic(fmt.Sprintf("sched: reply %d for thread %d, which has nothing outstanding", r.Seq, r.Thread))
	}
	t.forget(r.Seq)
	t.outstanding--
	s.trace(Event{Kind: EvReap, Thread: r.Thread, Seq: r.Seq, Op: r.Op, FD: r.FD, Res: r.Res, Reserved: r.Reserved})
	if s.left {
		s.left = false
		s.trace(Event{Kind: EvLeave, Thread: r.Thread, Seq: r.Seq})
	}
	switch {
	case r.Async:
		t.results.push(r)
		if t.state == UserWait && t.waitingResult {
			s.ready(t)
		}
	default:
		to := t
		if mutant.On(mutant.WrongThread) {
			to = s.otherParked(t)
		}
		to.reply = r
		s.ready(to)
	}
	if t.state == Draining && t.outstanding == 0 {
		s.ready(t)
	}
	if len(s.slotq) > 0 && !s.port.Full() {
		// Wake every slot waiter: each retries, and those that find the
		// slot gone wait again. Waking one would lose the wakeup if it
		// were cancelled and left the slot unused.
		for _, w := range s.slotq {
			s.ready(w)
		}
		s.slotq = s.slotq[:0]
	}
	if r.Reserved && len(s.stopq) > 0 {
		// A reserved slot is free, and a reserved call takes it whatever
		// the mode: wake the stopped threads whose call is reserved. The
		// others wait for the upcall.
		kept := s.stopq[:0]
		for _, w := range s.stopq {
			if w.reserved(w.callFD) {
				s.ready(w)
			} else {
				kept = append(kept, w)
			}
		}
		s.stopq = kept
	}
}

// upcall is the port's announcement that in-flight fell to the low-water
// mark: stopped threads may issue again.
func (s *Scheduler) upcall() {
	s.left = true // traced after the reap that caused it
	if mutant.On(mutant.LostUpcall) {
		return
	}
	for _, w := range s.stopq {
		s.ready(w)
	}
	s.stopq = s.stopq[:0]
}

// otherParked is the seeded bug WrongThread's choice: the first thread
// other than t parked on a synchronous call, or t if there is none.
func (s *Scheduler) otherParked(t *Thread) *Thread {
	for _, u := range s.threads {
		if u != nil && u != t && u.state == Parked {
			return u
		}
	}
	return t
}

func (s *Scheduler) ready(t *Thread) {
	if t.state == Runnable || t.state == Running || t.state == Polling {
		return
	}
	t.state = Runnable
	s.runq.push(t)
}

// unqueue takes t off the slot or stop queue, for a cancel that wakes it.
func (s *Scheduler) unqueue(t *Thread) {
	drop := func(q []*Thread) []*Thread {
		for i, w := range q {
			if w == t {
				return append(q[:i], q[i+1:]...)
			}
		}
		return q
	}
	s.slotq = drop(s.slotq)
	s.stopq = drop(s.stopq)
}

func (s *Scheduler) trace(e Event) {
	if s.cfg.Trace == nil {
		return
	}
	e.InFlight = s.port.InFlight()
	e.Mode = s.port.Mode()
	s.cfg.Trace(e)
}

// ErrStopped is returned by [Scheduler.Run] when its Stop channel closes.
var ErrStopped = errors.New("sched: stopped")

// StuckError is the watchdog's report: no progress for a while, and the
// state the process was stuck in.
type StuckError struct {
	After time.Duration
	Dump  Dump
}

func (e *StuckError) Error() string {
	return fmt.Sprintf("sched: process %s stuck: no progress for %v", e.Dump.Process, e.After)
}

// RunOptions configure [Scheduler.Run].
type RunOptions struct {
	// StuckAfter is the watchdog: Run returns a *StuckError after this long
	// without progress while the process is stuck. Zero disables it.
	StuckAfter time.Duration
	// Finite makes any unfinished thread count as stuck (a workload that
	// should end). Otherwise (a server, idle between clients) only threads
	// held by the cap count: waiting for a slot, or stopped. Pollers do
	// not: an idle server in polling mode spins without progress, and
	// cannot be told from a livelocked one by the clock.
	Finite bool
	// Stop makes Run return ErrStopped when it closes.
	Stop <-chan struct{}

	_ struct{}
}

// Run drives the scheduler on a real kernel: it reaps every reply, runs
// threads round-robin, and when nothing can run waits for a completion. It
// returns nil once every thread has finished, a *StuckError from the
// watchdog, or ErrStopped.
//
// When only would-block pollers are left it spins, as the seed says, but
// backs off from a yield to sleeps of up to a millisecond (cut short by a
// completion), so that a polling process does not starve the peers it waits
// for of the CPU.
func (s *Scheduler) Run(o RunOptions) error {
	lastProgress, since := s.progress, time.Now()
	var tick <-chan time.Time
	if o.StuckAfter > 0 {
		tk := time.NewTicker(min(o.StuckAfter/4, 100*time.Millisecond))
		defer tk.Stop()
		tick = tk.C
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	backoff := time.Duration(0)
	idleRound := 0 // steps since the last progress, to see a full round of would-blocks
	var n uint
	for {
		for s.Reap() {
		}
		if s.Finished() {
			return nil
		}
		before := s.progress
		for i := 0; i < len(s.kept); {
			if !s.Retry(i) {
				i++
			}
		}
		if s.Step() {
			n++
			if s.progress != before {
				idleRound, backoff = 0, 0
			} else {
				idleRound++
			}
			if idleRound <= s.runq.len() {
				if n%256 == 0 {
					select {
					case <-o.Stop:
						return ErrStopped
					default:
					}
				}
				continue
			}
			// A full round of would-blocks: back off before the next.
			idleRound = 0
			if backoff == 0 {
				backoff = 10 * time.Microsecond
				runtime.Gosched()
				continue
			}
			timer.Reset(backoff)
			backoff = min(2*backoff, time.Millisecond)
		}
		select {
		case <-s.port.Notify():
		case <-timer.C:
		case <-o.Stop:
			return ErrStopped
		case <-tick:
			if s.progress != lastProgress {
				lastProgress, since = s.progress, time.Now()
			} else if d := time.Since(since); d >= o.StuckAfter && s.stuck(o.Finite) {
				return &StuckError{After: d.Round(time.Millisecond), Dump: s.Dump()}
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (s *Scheduler) stuck(finite bool) bool {
	if finite {
		return !s.Finished()
	}
	for _, t := range s.threads {
		if t != nil && (t.state == WaitSlot || t.state == Stopped) {
			return true
		}
	}
	return false
}

// Shutdown ends the process with messages in flight: it cancels every
// message the kernel still holds, reaps every reply (waiting up to timeout
// for the kernel to post them), and ends every unfinished user thread. It
// reports an error if a message could not be reaped. Afterwards the port
// has nothing outstanding and no thread goroutine is left.
func (s *Scheduler) Shutdown(timeout time.Duration) error {
	for _, t := range s.threads {
		if t == nil {
			continue
		}
		for _, m := range t.msgs {
			s.k.Cancel(m)
		}
	}
	deadline := time.Now().Add(timeout)
	for s.port.InFlight() > 0 {
		if !s.reapForShutdown() {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			select {
			case <-s.port.Notify():
			case <-time.After(min(left, 10*time.Millisecond)):
			}
		}
	}
	for len(s.kept) > 0 {
		s.dropKept(0, ecanceled)
	}
	s.killing = true
	for _, t := range s.threads {
		if t == nil || t.state == Done {
			continue
		}
		t.wake <- struct{}{}
		<-s.back
		s.retire(t)
	}
	s.runq = deque{}
	s.slotq, s.stopq = nil, nil
	if n := s.port.InFlight(); n > 0 {
		return fmt.Errorf("sched: %d messages still in flight after shutdown", n)
	}
	if n := s.port.Outstanding(); n > 0 {
		return fmt.Errorf("sched: %d messages not returned to the free list", n)
	}
	return nil
}

// reapForShutdown reaps one reply regardless of the event-loop rule: the
// process is exiting and its threads will not run again.
func (s *Scheduler) reapForShutdown() bool {
	r, ok := s.port.Reap()
	if !ok {
		return false
	}
	if t := s.threads[r.Thread]; t != nil {
		t.forget(r.Seq)
		t.outstanding--
	}
	return true
}

// kept is a submitted call that would have blocked in polling mode: the
// scheduler retries it, without a message or a slot, until it goes through.
type kept struct {
	t *Thread
	m port.Msg
}

func (s *Scheduler) keep(t *Thread, a *port.Msg) {
	var k *kept
	if n := len(s.keptFree); n > 0 {
		k, s.keptFree = s.keptFree[n-1], s.keptFree[:n-1]
	} else {
		k = new(kept)
	}
	k.t, k.m = t, *a
	s.kept = append(s.kept, k)
	t.outstanding++
}

// Kept is the number of kept calls.
func (s *Scheduler) Kept() int { return len(s.kept) }

// KeptCall is kept call i's operation, for a driver that asks whether a
// retry would go through.
func (s *Scheduler) KeptCall(i int) *port.Msg { return &s.kept[i].m }

// Retry retries kept call i, oldest first, and reports whether it went
// through (and so left the list, moving the later ones down).
func (s *Scheduler) Retry(i int) bool {
	s.sync()
	k := s.kept[i]
	s.polls++
	if !s.k.Try(&k.m) {
		s.wouldBlocks++
		s.trace(Event{Kind: EvRetryWouldBlock, Thread: k.t.id, Op: k.m.Op, FD: k.m.FD})
		return false
	}
	s.progress++
	s.trace(Event{Kind: EvRetry, Thread: k.t.id, Op: k.m.Op, FD: k.m.FD, Res: k.m.Res})
	s.dropKept(i, k.m.Res)
	return true
}

// dropKept ends kept call i with result res, which goes to its thread.
func (s *Scheduler) dropKept(i int, res int64) {
	k := s.kept[i]
	t := k.t
	s.kept = append(s.kept[:i], s.kept[i+1:]...)
	t.results.push(port.Reply{Res: res, Thread: t.id, FD: k.m.FD, Op: k.m.Op, Async: true})
	t.outstanding--
	if t.state == UserWait && t.waitingResult || t.state == Draining && t.outstanding == 0 {
		s.ready(t)
	}
	k.t, k.m.Buf = nil, nil
	s.keptFree = append(s.keptFree, k)
}

// cancelKept ends t's kept calls with ECANCELED and returns how many.
func (s *Scheduler) cancelKept(t *Thread) int {
	n := 0
	for i := 0; i < len(s.kept); {
		if s.kept[i].t == t {
			s.dropKept(i, ecanceled)
			n++
		} else {
			i++
		}
	}
	return n
}

// ecanceled is the result of a cancelled system call.
var ecanceled = port.Errno(syscall.ECANCELED)

// deque is the run queue: a slice used as a FIFO, compacted as it drains,
// so that steady use does not allocate.
type deque struct {
	buf  []*Thread
	head int
}

func (d *deque) len() int { return len(d.buf) - d.head }

func (d *deque) push(t *Thread) {
	if d.head > 0 && d.head == len(d.buf) {
		d.buf, d.head = d.buf[:0], 0
	} else if d.head > 64 && d.head > len(d.buf)/2 {
		n := copy(d.buf, d.buf[d.head:])
		clear(d.buf[n:])
		d.buf, d.head = d.buf[:n], 0
	}
	d.buf = append(d.buf, t)
}

func (d *deque) pop() *Thread {
	if d.head == len(d.buf) {
		return nil
	}
	t := d.buf[d.head]
	d.buf[d.head] = nil
	d.head++
	return t
}

// remove takes t out of the queue, wherever it is, and reports whether it
// was there; the others keep their order.
func (d *deque) remove(t *Thread) bool {
	for i := d.head; i < len(d.buf); i++ {
		if d.buf[i] == t {
			copy(d.buf[i:], d.buf[i+1:])
			d.buf[len(d.buf)-1] = nil
			d.buf = d.buf[:len(d.buf)-1]
			return true
		}
	}
	return false
}

func (d *deque) items() []*Thread { return d.buf[d.head:] }
