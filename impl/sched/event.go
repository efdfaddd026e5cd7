package sched

import (
	"fmt"

	"github.com/sysmsg/sysmsg/impl/port"
)

// EventKind is the kind of an [Event].
type EventKind uint8

const (
	// EvSend: a thread sent a message (took a slot).
	EvSend EventKind = iota
	// EvEnter: that send made in-flight reach the cap and the port entered
	// polling or stopped mode.
	EvEnter
	// EvComplete: the kernel completed a message (a simulated kernel's
	// driver records it; the scheduler does not see completions).
	EvComplete
	// EvReap: the scheduler reaped a reply and freed its slot.
	EvReap
	// EvLeave: that reap brought in-flight to the low-water mark and the
	// port returned to messaging mode (the upcall).
	EvLeave
	// EvDeliver: a thread got a result: after its synchronous call, or from
	// Wait. Recorded by the thread itself, so a check can compare it with
	// what the thread sent.
	EvDeliver
	// EvAttempt: a polling-mode attempt that went through.
	EvAttempt
	// EvWouldBlock: a polling-mode attempt that would block.
	EvWouldBlock
	// EvKeep: a submitted call's attempt would block in polling mode and
	// the scheduler kept it to retry; the thread went on.
	EvKeep
	// EvRetry: the scheduler retried a kept call and it went through.
	EvRetry
	// EvRetryWouldBlock: a retry of a kept call that would block again.
	EvRetryWouldBlock
	// EvCancelled: a cancelled thread's system call returned ECANCELED at
	// once, without a message.
	EvCancelled
	// EvDone: a thread finished.
	EvDone
)

var eventNames = [...]string{EvSend: "send", EvEnter: "enter", EvComplete: "complete", EvReap: "reap",
	EvLeave: "leave", EvDeliver: "deliver", EvAttempt: "attempt", EvWouldBlock: "would-block", EvKeep: "keep", EvRetry: "retry", EvRetryWouldBlock: "retry-would-block",
	EvCancelled: "cancelled", EvDone: "done"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// Event is one step of an execution, as [Config.Trace] gets it.
type Event struct {
	Kind EventKind
	// Proc is the process, numbered by whoever drives several; the
	// scheduler leaves it 0.
	Proc   int
	Thread int32
	Seq    uint64
	Op     port.Op
	FD     int32
	Res    int64
	// InFlight and Mode are the port's after the event; ModeBefore its mode
	// before a send.
	InFlight   int
	Mode       port.Mode
	ModeBefore port.Mode
	// Reserved marks the send and the reap of a reserved call.
	Reserved bool
}

func (e Event) String() string {
	s := fmt.Sprintf("p%d t%d %s #%d %s fd%d res %d inflight %d %s", e.Proc, e.Thread, e.Kind, e.Seq, e.Op, e.FD, e.Res, e.InFlight, e.Mode)
	if e.Reserved {
		s += " reserved"
	}
	return s
}
