package port

import (
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/sysmsg/sysmsg/impl/mutant"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// ErrConfig is wrapped by every error that [New] and [ParsePolicy] return.
var ErrConfig = errors.New("port: bad configuration")

// Unlimited is a cap that is never reached.
const Unlimited = workload.Unlimited

// Unset is a low-water mark left to the default (workload.Unset, the one
// convention for "not set").
const Unset = workload.Unset

// Policy is what a process does when its in-flight messages reach the cap:
// the one set of policies the model checks and the implementation runs.
type Policy = spec.Policy

// The policies, as in [spec.Policy].
const (
	Block      = spec.Block
	Stop       = spec.Stop
	Poll       = spec.Poll
	PollNoHyst = spec.PollNoHyst
)

// Mode is the state of a port's send side, in the spec's words: the port
// implements the spec's modes, and the property tests compare the two.
type Mode = spec.Mode

// The modes, as in [spec.Mode].
const (
	// Messaging: a system call takes a slot and is sent as a message.
	Messaging = spec.Messaging
	// Polling: a system call sends nothing and is a non-blocking attempt.
	Polling = spec.Polling
	// Stopped: no system call may be issued (policy Stop only).
	Stopped = spec.Stopped
)

// Op is the operation a message asks of the kernel.
type Op uint8

const (
	// OpRead reads into Msg.Buf; Res is the count, 0 at end-of-file.
	OpRead Op = iota + 1
	// OpWrite writes Msg.Buf; Res is the count written.
	OpWrite
	// OpAccept accepts a connection on a listening FD; Res is the new fd.
	OpAccept
	// OpClose closes FD.
	OpClose
	// OpShutdown closes the outbound side of a connection.
	OpShutdown
	// OpSleep completes once the clock passes Msg.Arg (Unix nanoseconds).
	OpSleep
	// OpCancel cancels the messages of thread Msg.Arg of the same port.
	// The kernel completes it at once: first the target's messages it
	// holds, with ECANCELED, then it notes the cancel on the port
	// ([Port.NoteCancel]) for the scheduler to finish.
	OpCancel
)

var opNames = [...]string{OpRead: "read", OpWrite: "write", OpAccept: "accept", OpClose: "close",
	OpShutdown: "shutdown", OpSleep: "sleep", OpCancel: "cancel"}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", o)
}

// message states, checked so that a kernel bug (a double completion) shows
// at once instead of corrupting the lists.
const (
	stFree uint8 = iota
	stInFlight
	stCompleted
	stScratch // a thread's own message for polling attempts: never sent
)

// Msg is a system call message. Between [Port.Acquire] and [Port.Complete]
// it belongs to the kernel; the port owns it otherwise.
type Msg struct {
	// Buf is the data of a read or write.
	Buf []byte
	// Arg is the deadline of a sleep, in Unix nanoseconds.
	Arg int64
	// Res is the result the kernel sets before Complete: a count or fd when
	// ≥ 0, a negated errno when < 0.
	Res int64
	// Seq numbers the port's sends from 1, for traces and checks; 0 marks a
	// polling attempt, which is never sent.
	Seq uint64
	// Next is for the kernel's own lists while the message is in flight.
	Next *Msg
	// Thread is the issuing thread, as the scheduler numbers them.
	Thread int32
	// FD is the file descriptor operated on.
	FD int32
	// Op is the operation.
	Op Op
	// Async marks a submitted call whose result goes to a later wait.
	Async bool

	state    uint8
	reserved bool // sent as a reserved call
	link     *Msg // free list or reply queue
	port     *Port
}

// Port returns the port the message belongs to, which its completion goes
// to; nil for a polling attempt's scratch message.
func (m *Msg) Port() *Port { return m.port }

// Err is the message's result as an error: nil when Res ≥ 0, otherwise the
// errno.
func (m *Msg) Err() error { return ResErr(m.Res) }

// ResErr turns a result into an error: nil when res ≥ 0, otherwise the
// negated errno as a [syscall.Errno].
func ResErr(res int64) error {
	if res >= 0 {
		return nil
	}
	return syscall.Errno(-res)
}

// Errno makes the result that reports err.
func Errno(err syscall.Errno) int64 { return -int64(err) }

// Scratch prepares m as a thread's scratch message for polling attempts: it
// belongs to no port and is never sent.
func Scratch(m *Msg) { *m = Msg{state: stScratch} }

// Reply is a reaped result, copied out of its message so that the message
// can go back to the free list at once.
type Reply struct {
	Seq    uint64
	Res    int64
	Thread int32
	FD     int32
	Op     Op
	Async  bool
	// Reserved: the call was sent as a reserved call ([Port.AcquireAs]).
	Reserved bool
}

// Config configures a port. Its zero value is a cap of 0, which is refused;
// set Cap.
type Config struct {
	// Cap bounds the messages in flight (≥ 1), or is Unlimited.
	Cap int
	// Low is the hysteresis low-water mark, 0 ≤ Low < Cap, or Unset for
	// the default ⌊(Cap−1)/2⌋. Under PollNoHyst it is Cap−1 whatever is
	// set. spec.LowFor is the rule; the zero value is a mark of 0.
	Low    int
	Policy Policy
	// Reserve is how many of the Cap slots are kept for reserved calls
	// ([Port.AcquireAs]): 0 ≤ Reserve < Cap, and 0 with no cap. The
	// policy and Low act on the other Cap−Reserve slots, as the spec's
	// [spec.NewReserveConfig] says.
	Reserve int
	// Upcall, if set, is called by Reap (after the port's lock is released)
	// when the reap brings in-flight to Low or below and the port leaves
	// polling or stopped mode.
	Upcall func()

	_ struct{}
}

// Stats are a port's counters since it was made.
type Stats struct {
	Sends       uint64 // messages sent
	Completions uint64 // completions posted by the kernel
	Reaps       uint64 // replies reaped
	ModeChanges uint64 // entries into and exits from polling or stopped mode
	CapHits     uint64 // sends that made in-flight equal the cap
	MaxInFlight int    // the most messages in flight at once
}

// Port is a process's reply port and slot accounting. It is safe for
// concurrent use: the kernel completes from its own goroutines while the
// scheduler sends and reaps.
type Port struct {
	mu       sync.Mutex
	cap, low int
	reserve  int
	limit    int // the slots ordinary calls share: the spec's Config.Limit
	policy   Policy
	mode     Mode
	inflight int
	nres     int // reserved calls in flight
	upcall   func()

	free       *Msg
	nfree      int
	allocated  int
	slabs      [][]Msg // kept so that the slabs stay reachable and countable
	head, tail *Msg    // reply queue: completed, not yet reaped
	replies    int
	seq        uint64
	stats      Stats

	notify chan struct{}

	cancels []CancelNote // cancels completed by the kernel, for the scheduler
}

// CancelNote is a cancel the kernel completed: the thread it was aimed at,
// and whether it hit a message the kernel held. The scheduler applies the
// rest of the cancel (the thread's kept calls, or its next call).
type CancelNote struct {
	Thread int32
	Hit    bool
}

// New makes a port. It refuses a cap below 1 (other than Unlimited) and a
// low-water mark outside 0 ≤ low < cap.
func New(c Config) (*Port, error) {
	if c.Policy < Block || c.Policy > PollNoHyst {
		return nil, fmt.Errorf("%w: %v", ErrConfig, c.Policy)
	}
	cfg, err := spec.NewReserveConfig(c.Policy, c.Cap, c.Reserve, c.Low)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p := &Port{cap: c.Cap, low: cfg.Low, reserve: c.Reserve, limit: cfg.Limit(), policy: c.Policy, upcall: c.Upcall, notify: make(chan struct{}, 1)}
	n := 64
	if c.Cap != Unlimited {
		n = min(c.Cap, 1024)
	}
	p.grow(n)
	return p, nil
}

// grow adds a slab of n messages to the free list. Called with p.mu held.
func (p *Port) grow(n int) {
	slab := make([]Msg, n)
	for i := range slab {
		slab[i].port = p
		slab[i].link = p.free
		p.free = &slab[i]
	}
	p.slabs = append(p.slabs, slab)
	p.nfree += n
	p.allocated += n
}

// Acquire takes a slot and a message for a send. The message's Seq, Thread
// and Async are set by the caller, who fills the operation and hands it to
// the kernel. Acquire refuses (returns nil) in polling or stopped mode,
// reported in the returned mode, and under Block while every slot is taken
// (nil with mode Messaging).
//
// The send that makes in-flight equal the cap is where the policy acts: it
// enters Polling (Poll, PollNoHyst) or Stopped (Stop).
func (p *Port) Acquire() (*Msg, Mode) { return p.AcquireAs(false) }

// AcquireAs is [Port.Acquire] for a reserved call when reserved is set: it
// takes a free reserved slot whatever the mode, and otherwise follows the
// ordinary rules, which count the slots that the reserve leaves.
func (p *Port) AcquireAs(reserved bool) (*Msg, Mode) {
	p.mu.Lock()
	intoReserve := reserved && p.nres < p.reserve && !mutant.On(mutant.ReserveIgnored)
	if !intoReserve && (p.mode != Messaging || p.used() == p.limit) {
		mode := p.mode
		if mode == Polling && mutant.On(mutant.PollTakesSlot) {
			p.inflight++
		}
		p.mu.Unlock()
		return nil, mode
	}
	if p.free == nil {
		// Only when every message is in use: the slabs double, so the
		// send path allocates O(log n) times over a port's life.
		p.grow(min(max(p.allocated, 64), 1<<16))
	}
	m := p.free
	p.free = m.link
	p.nfree--
	m.link = nil
	m.state = stInFlight
	m.reserved = reserved
	m.Res = 0
	p.seq++
	m.Seq = p.seq
	p.inflight++
	if reserved {
		p.nres++
	}
	p.stats.Sends++
	if p.inflight > p.stats.MaxInFlight {
		p.stats.MaxInFlight = p.inflight
	}
	if !intoReserve && p.used() == p.limit {
		p.stats.CapHits++
		switch p.policy {
		case Poll, PollNoHyst:
			p.mode = Polling
			p.stats.ModeChanges++
		case Stop:
			p.mode = Stopped
			p.stats.ModeChanges++
		}
	}
	p.mu.Unlock()
	return m, Messaging
}

// used is the number of ordinary slots taken: in-flight less the reserved
// slots held. Called with p.mu held.
func (p *Port) used() int { return p.inflight - min(p.nres, p.reserve) }

// Complete posts a completed message to the reply port. The kernel calls it
// once per message, from any goroutine, after setting m.Res; the message
// keeps its slot until it is reaped.
func (p *Port) Complete(m *Msg) {
	p.mu.Lock()
	if m.port != p || m.state != stInFlight {
		p.mu.Unlock()
		panic(fmt.Sprintf("port: completion of message %d, which is not in flight", m.Seq))
	}
	m.state = stCompleted
	m.Next = nil
	if p.tail == nil {
		p.head = m
	} else {
		p.tail.link = m
	}
	p.tail = m
	p.replies++
	p.stats.Completions++
	if mutant.On(mutant.FreeAtCompletion) {
		p.inflight--
	}
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// Reap takes the oldest reply, frees its slot, returns its message to the
// free list and reports the result. ok is false when no reply is waiting.
// When the reap brings in-flight to the low-water mark or below in polling
// or stopped mode, the port returns to messaging mode and Reap calls the
// upcall before it returns.
func (p *Port) Reap() (r Reply, ok bool) {
	p.mu.Lock()
	m := p.head
	if m == nil {
		p.mu.Unlock()
		return Reply{}, false
	}
	return p.take(m, nil), true
}

// ReapMsg is [Port.Reap] of m's reply, which need not be the oldest: a
// simulated schedule that reaps in another order than completion. ok is
// false, doing nothing, when m is not a reply of p waiting to be reaped.
func (p *Port) ReapMsg(m *Msg) (r Reply, ok bool) {
	if m == nil {
		return Reply{}, false
	}
	p.mu.Lock()
	var prev *Msg
	for x := p.head; x != m; x = x.link {
		if x == nil {
			p.mu.Unlock()
			return Reply{}, false
		}
		prev = x
	}
	return p.take(m, prev), true
}

// AppendReplies appends the messages whose replies wait to be reaped to
// dst, oldest first, for a simulated schedule that picks one to reap with
// [Port.ReapMsg]. They stay the port's: read them before the next reap.
func (p *Port) AppendReplies(dst []*Msg) []*Msg {
	p.mu.Lock()
	for m := p.head; m != nil; m = m.link {
		dst = append(dst, m)
	}
	p.mu.Unlock()
	return dst
}

// take unlinks m, which follows prev (nil: m is the head) in the reply
// queue, and reaps it. Called with p.mu held, which it releases.
func (p *Port) take(m, prev *Msg) Reply {
	if prev == nil {
		p.head = m.link
	} else {
		prev.link = m.link
	}
	if p.tail == m {
		p.tail = prev
	}
	p.replies--
	if !mutant.On(mutant.FreeAtCompletion) {
		p.inflight--
	}
	wasReserved := m.reserved
	if m.reserved {
		p.nres--
		m.reserved = false
	}
	p.stats.Reaps++
	left := false
	if p.mode != Messaging && p.leaves() {
		p.mode = Messaging
		p.stats.ModeChanges++
		left = true
	}
	r := Reply{Seq: m.Seq, Res: m.Res, Thread: m.Thread, FD: m.FD, Op: m.Op, Async: m.Async, Reserved: wasReserved}
	m.Buf = nil // do not keep the caller's buffer reachable from the free list
	m.Next = nil
	m.state = stFree
	m.link = p.free
	p.free = m
	p.nfree++
	up := p.upcall
	p.mu.Unlock()
	if left && up != nil {
		up()
	}
	return r
}

// leaves reports whether in-flight is low enough to leave polling or
// stopped mode. Called with p.mu held.
func (p *Port) leaves() bool {
	switch {
	case mutant.On(mutant.NoHysteresis):
		return true
	case mutant.On(mutant.HysteresisOffByOne):
		return p.used() <= p.low+1
	}
	return p.used() <= p.low
}

// Notify returns a channel that receives a value after a completion, for a
// scheduler with nothing to run to wait on. It holds at most one value, so a
// waiter must reap everything after it wakes.
func (p *Port) Notify() <-chan struct{} { return p.notify }

// Mode is the current mode.
func (p *Port) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// InFlight is the number of slots taken: messages sent and not yet reaped.
func (p *Port) InFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight
}

// Replies is the number of completed messages waiting to be reaped.
func (p *Port) Replies() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.replies
}

// Full reports whether every slot is taken, the reserved ones too.
func (p *Port) Full() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inflight == p.cap
}

// Reserved is the number of reserved calls in flight.
func (p *Port) Reserved() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nres
}

// Reserve is the number of slots kept for reserved calls.
func (p *Port) Reserve() int { return p.reserve }

// Outstanding is the number of messages not on the free list: zero once
// everything sent has been reaped, which is how a test sees a leak.
func (p *Port) Outstanding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.allocated - p.nfree
}

// Cap is the cap, or Unlimited.
func (p *Port) Cap() int { return p.cap }

// Low is the low-water mark in use.
func (p *Port) Low() int { return p.low }

// Policy is the port's policy.
func (p *Port) Policy() Policy { return p.policy }

// Stats returns the counters.
func (p *Port) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// NoteCancel records a cancel that the kernel completed. The kernel calls
// it as it completes the cancel message, after completing the target's
// messages it held.
func (p *Port) NoteCancel(thread int32, hit bool) {
	p.mu.Lock()
	p.cancels = append(p.cancels, CancelNote{Thread: thread, Hit: hit})
	p.mu.Unlock()
}

// TakeCancels appends the noted cancels to dst, oldest first, and forgets
// them.
func (p *Port) TakeCancels(dst []CancelNote) []CancelNote {
	p.mu.Lock()
	dst = append(dst, p.cancels...)
	p.cancels = p.cancels[:0]
	p.mu.Unlock()
	return dst
}

// IsCompleted reports whether m has been completed and waits to be reaped.
func (p *Port) IsCompleted(m *Msg) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return m.port == p && m.state == stCompleted
}
