// Package port is the one sequential specification of a process's reply
// port: its slots, its modes, the hysteresis and the four policies. The
// model ([github.com/sysmsg/sysmsg/model]) builds its threads' and
// scheduler's steps on it, the implementation's run checker replays event
// logs through it, and the property tests hold the real, concurrent port
// (impl/port) to it, step by step and for linearizability. It is pure: no
// I/O, no time, no goroutines; a [State] is a value and every transition
// returns the next one.
//
// Why the rules are as they are:
//
//   - A slot is taken when a message is sent and freed only when its reply
//     is reaped, never when the kernel completes it. The kernel's
//     completion posts the reply to the port, where it still costs kernel
//     memory until the process takes it; freeing at completion would let a
//     process that never reaps keep sending without bound, which is what the
//     cap exists to prevent.
//   - The policy acts at the send that makes in-flight equal the cap, not
//     at the next send: that send goes out, and from then on the process is
//     in polling (or stopped) mode until in-flight falls to the low-water
//     mark. Acting one send later would let a send through while every slot
//     is taken.
//   - Leaving polling needs in-flight ≤ low, with low < cap. A low of cap−1
//     (poll-nohyst) leaves at the first reap and re-enters at the next send
//     that fills the cap: the mode flips on almost every reply. A lower mark
//     is the hysteresis that bounds mode changes per reply.
//   - In polling mode a system call sends nothing: it is a non-blocking
//     attempt that takes no slot, so polling can never add to what is in
//     flight, and the replies that are already there keep being reaped.
//     This is the seed's fallback: the program keeps working, inefficiently,
//     at any cap ≥ 1.
//   - Under block a send at the cap waits for a free slot; under stop the
//     scheduler sends nothing until an upcall says in-flight ≤ low. Both are
//     specified here because the model checks them: they are the designs
//     that deadlock.
//   - A reserve of K slots keeps K of the cap's slots for reserved calls
//     (a waker's re-arm, a canceller's cancel): in slots, the effect of
//     the fixes zio, commonware and Seastar chose, a waker that always
//     finds an entry. Every other call counts against C−K
//     slots, and the policy acts, the hysteresis included, on that count:
//     the port is full for them at C−K. A reserved call takes a free
//     reserved slot whatever the mode, so the waker is never refused for
//     want of a slot the others took; with every reserved slot held it
//     takes an ordinary one by the ordinary rules. Which slot a message
//     holds is not recorded, only how many reserved calls are in flight:
//     the first K of them hold the reserved slots, and the count of
//     ordinary slots taken is in-flight − min(reserved calls, K).
package port

import (
	"errors"
	"fmt"
)

// Policy is what a process's scheduler does when it reaches its cap.
type Policy int

const (
	// Block: a thread whose next step is a system call waits for a free slot.
	Block Policy = iota
	// Stop: the scheduler issues no system call until an upcall says
	// in-flight is at most the low-water mark.
	Stop
	// Poll: the seed's design, a polling fallback with hysteresis.
	Poll
	// PollNoHyst: the polling fallback with the low-water mark at C-1.
	PollNoHyst
)

var policyNames = [...]string{Block: "block", Stop: "stop", Poll: "poll", PollNoHyst: "poll-nohyst"}

func (p Policy) String() string {
	if p >= 0 && int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// Policies lists every policy, in the order tables show them.
func Policies() []Policy { return []Policy{Block, Stop, Poll, PollNoHyst} }

// ErrPolicy is returned by [ParsePolicy] for an unknown name.
var ErrPolicy = errors.New("port: unknown policy")

// ParsePolicy returns the policy with the given name.
func ParsePolicy(name string) (Policy, error) {
	for i, n := range policyNames {
		if n == name {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want block, stop, poll or poll-nohyst)", ErrPolicy, name)
}

// Polls reports whether the policy falls back to polling.
func (p Policy) Polls() bool { return p == Poll || p == PollNoHyst }

// Unlimited is a cap that is never reached.
const Unlimited = -1

// Unset marks a number that was not given: a low-water mark left to the
// default. It is the one convention for "not set".
const Unset = -1

// ErrLow is returned by [LowFor] for a cap or low-water mark that no port
// can use.
var ErrLow = errors.New("port: cap or low-water mark out of range")

// ErrReserve is returned by [NewReserveConfig] for a reserve no port can
// use.
var ErrReserve = errors.New("port: reserve out of range")

// LowFor is the one rule for the low-water mark: it returns the mark that a
// port with cap c uses under pol when low is asked for, or [Unset] for the
// default. The default is ⌊(c−1)/2⌋, so that leaving polling waits for about
// half the slots. Under PollNoHyst the mark is c−1 whatever is asked (that
// is the policy), and with no cap it is 0 and never used. Otherwise an
// asked low must satisfy 0 ≤ low < c; a cap must be ≥ 1 or [Unlimited].
func LowFor(pol Policy, c, low int) (int, error) {
	switch {
	case c == Unlimited:
		return 0, nil
	case c < 1:
		return 0, fmt.Errorf("%w: cap %d", ErrLow, c)
	case pol == PollNoHyst:
		return c - 1, nil
	case low == Unset:
		return (c - 1) / 2, nil
	case low < 0 || low >= c:
		return 0, fmt.Errorf("%w: low %d with cap %d", ErrLow, low, c)
	}
	return low, nil
}

// Config is a port's configuration with its low-water mark resolved (see
// [LowFor]): Cap ≥ 1 or Unlimited, 0 ≤ Reserve < Cap (0 with no cap),
// 0 ≤ Low < Cap−Reserve.
type Config struct {
	Cap, Low int
	Policy   Policy
	// Reserve is how many of the Cap slots are kept for reserved calls.
	Reserve int
}

// NewConfig resolves low by [LowFor] and returns the configuration.
func NewConfig(pol Policy, c, low int) (Config, error) {
	return NewReserveConfig(pol, c, 0, low)
}

// NewReserveConfig is [NewConfig] with reserve slots of the cap kept for
// reserved calls. The low-water mark is a level of the ordinary slots,
// c−reserve, so [LowFor] resolves it against that count: the default is
// ⌊(c−reserve−1)/2⌋, and under PollNoHyst it is c−reserve−1.
func NewReserveConfig(pol Policy, c, reserve, low int) (Config, error) {
	switch {
	case reserve == 0:
	case c == Unlimited:
		return Config{}, fmt.Errorf("%w: reserve %d with no cap: there is nothing to reserve", ErrReserve, reserve)
	case reserve < 0 || reserve >= c:
		return Config{}, fmt.Errorf("%w: reserve %d with cap %d (want 1 ≤ reserve < cap, leaving an ordinary slot)", ErrReserve, reserve, c)
	}
	ordinary := c
	if c != Unlimited {
		ordinary = c - reserve
	}
	l, err := LowFor(pol, ordinary, low)
	if err != nil {
		return Config{}, err
	}
	return Config{Cap: c, Low: l, Policy: pol, Reserve: reserve}, nil
}

// Limit is the number of slots ordinary calls share: the cap less the
// reserve, or Unlimited.
func (c Config) Limit() int {
	if c.Cap == Unlimited {
		return Unlimited
	}
	return c.Cap - c.Reserve
}

// Used is the number of ordinary slots taken in s: the messages in flight
// less those in reserved slots. The policy and the hysteresis act on it;
// without a reserve it is in-flight.
func (c Config) Used(s State) int { return s.InFlight - min(s.Reserved, c.Reserve) }

// Mode is the state of a port's send side.
type Mode uint8

const (
	// Messaging: a system call takes a slot and is sent as a message.
	Messaging Mode = iota
	// Polling: a system call sends nothing and is a non-blocking attempt.
	Polling
	// Stopped: no system call may be issued (policy Stop only).
	Stopped
)

var modeNames = [...]string{Messaging: "messaging", Polling: "polling", Stopped: "stopped"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", m)
}

// State is what can be observed of a port: the slots taken (messages sent
// and not yet reaped), how many of those the kernel has completed (the
// replies waiting in the reply queue), the mode, and how many of the
// messages in flight are reserved calls'. The zero value is a fresh port.
type State struct {
	InFlight int
	Replies  int
	Mode     Mode
	Reserved int
}

// SendOutcome is what a send does.
type SendOutcome uint8

const (
	// Sent: the message went out and took a slot.
	Sent SendOutcome = iota
	// SentEnteredPolling: it went out, took the last slot, and the port
	// entered polling mode (Poll, PollNoHyst).
	SentEnteredPolling
	// SentStopped: it went out, took the last slot, and the scheduler
	// stopped issuing (Stop).
	SentStopped
	// SentReserved: a reserved call went out into a free reserved slot,
	// whatever the mode; the mode does not change.
	SentReserved
	// RefusedPolling: the port is polling; nothing is sent, and the call
	// is a non-blocking attempt instead ([Config.Attempt]).
	RefusedPolling
	// RefusedStopped: the port is stopped; nothing is sent, and the thread
	// waits for the upcall.
	RefusedStopped
	// MustWait: every slot is taken (Block); nothing is sent, and the
	// thread waits for a free slot.
	MustWait
)

var sendNames = [...]string{Sent: "sent", SentEnteredPolling: "sent, entered polling", SentStopped: "sent, stopped",
	SentReserved:   "sent into a reserved slot",
	RefusedPolling: "refused: polling", RefusedStopped: "refused: stopped", MustWait: "must wait: no free slot"}

func (o SendOutcome) String() string {
	if int(o) < len(sendNames) {
		return sendNames[o]
	}
	return fmt.Sprintf("SendOutcome(%d)", o)
}

// Went reports whether the message went out (took a slot).
func (o SendOutcome) Went() bool { return o <= SentReserved }

// Send is an ordinary system call in s: the outcome and the state after
// it. A refused or waiting send leaves s as it was.
func (c Config) Send(s State) (State, SendOutcome) { return c.SendAs(s, false) }

// SendAs is a system call in s, a reserved call's when reserved is set.
// A reserved call takes a free reserved slot whatever the mode; otherwise
// it is sent, or refused, as an ordinary call is.
func (c Config) SendAs(s State, reserved bool) (State, SendOutcome) {
	if reserved && s.Reserved < c.Reserve {
		s.InFlight++
		s.Reserved++
		return s, SentReserved
	}
	switch {
	case s.Mode == Polling:
		return s, RefusedPolling
	case s.Mode == Stopped:
		return s, RefusedStopped
	case c.Cap != Unlimited && c.Used(s) >= c.Limit():
		// Only under Block: the other policies left messaging mode at
		// the send that filled the ordinary slots.
		return s, MustWait
	}
	s.InFlight++
	if reserved {
		s.Reserved++
	}
	if c.Cap == Unlimited || c.Used(s) < c.Limit() {
		return s, Sent
	}
	switch c.Policy {
	case Poll, PollNoHyst:
		s.Mode = Polling
		return s, SentEnteredPolling
	case Stop:
		s.Mode = Stopped
		return s, SentStopped
	}
	return s, Sent
}

// ErrNoMessage is returned by [Config.Complete] when no sent message waits
// for the kernel, and by [Config.Reap] when no reply waits.
var ErrNoMessage = errors.New("port: no such message")

// Complete is the kernel completing one message in flight: its reply is
// posted and waits to be reaped. The slot stays taken.
func (c Config) Complete(s State) (State, error) {
	if s.Replies >= s.InFlight {
		return s, fmt.Errorf("%w: a completion with %d in flight, all %d completed", ErrNoMessage, s.InFlight, s.Replies)
	}
	s.Replies++
	return s, nil
}

// ReapOutcome is what a reap does.
type ReapOutcome uint8

const (
	// Reaped: a reply was taken and its slot freed.
	Reaped ReapOutcome = iota
	// ReapedLeft: the reap brought in-flight to the low-water mark or
	// below, and the port left polling or stopped mode: the upcall.
	ReapedLeft
)

func (o ReapOutcome) String() string {
	if o == ReapedLeft {
		return "reaped, left polling or stopped mode"
	}
	return "reaped"
}

// Reap takes one reply of an ordinary call and frees its slot. It fails
// when no reply waits.
func (c Config) Reap(s State) (State, ReapOutcome, error) { return c.ReapAs(s, false) }

// ReapAs is [Config.Reap] of a reserved call's reply when reserved is set.
func (c Config) ReapAs(s State, reserved bool) (State, ReapOutcome, error) {
	if s.Replies == 0 {
		return s, Reaped, fmt.Errorf("%w: a reap with no reply waiting", ErrNoMessage)
	}
	if reserved && s.Reserved == 0 || !reserved && s.Reserved == s.InFlight {
		return s, Reaped, fmt.Errorf("%w: a reap of a reply of a kind of call with none in flight (reserved: %v)", ErrNoMessage, reserved)
	}
	s.Replies--
	s.InFlight--
	if reserved {
		s.Reserved--
	}
	if s.Mode != Messaging && c.Used(s) <= c.Low {
		s.Mode = Messaging
		return s, ReapedLeft, nil
	}
	return s, Reaped, nil
}

// ErrNotPolling is returned by [Config.Attempt] outside polling mode.
var ErrNotPolling = errors.New("port: a polling attempt outside polling mode")

// Attempt is a non-blocking attempt in polling mode, whether it goes
// through or would block: it takes no slot and changes nothing of the
// port. Outside polling mode an attempt is an error: a call there is a
// send.
func (c Config) Attempt(s State) (State, error) {
	if s.Mode != Polling {
		return s, fmt.Errorf("%w (%v)", ErrNotPolling, s.Mode)
	}
	return s, nil
}

// Check reports what is wrong with s under c, or nil: the invariants every
// reachable state keeps.
func (c Config) Check(s State) error {
	switch {
	case s.InFlight < 0 || s.Replies < 0 || s.Replies > s.InFlight:
		return fmt.Errorf("port: %d in flight, %d replies", s.InFlight, s.Replies)
	case s.Reserved < 0 || s.Reserved > s.InFlight:
		return fmt.Errorf("port: %d reserved calls of %d in flight", s.Reserved, s.InFlight)
	case c.Cap != Unlimited && s.InFlight > c.Cap:
		return fmt.Errorf("port: %d in flight, over the cap %d", s.InFlight, c.Cap)
	case c.Cap != Unlimited && c.Used(s) > c.Limit():
		return fmt.Errorf("port: %d ordinary slots taken, over the %d of cap %d less reserve %d", c.Used(s), c.Limit(), c.Cap, c.Reserve)
	case s.Mode == Polling && !c.Policy.Polls(), s.Mode == Stopped && c.Policy != Stop:
		return fmt.Errorf("port: %v mode under policy %v", s.Mode, c.Policy)
	case s.Mode != Messaging && c.Used(s) <= c.Low:
		// A port enters at in-flight = cap > low and leaves at the reap
		// that reaches low (counting ordinary slots, with a reserve).
		return fmt.Errorf("port: %v mode with %d in flight, at or below low %d", s.Mode, c.Used(s), c.Low)
	}
	return nil
}
