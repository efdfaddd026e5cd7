package run

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
)

// Check verifies the safety properties of DESIGN.md that one execution can
// show, on its event log (Options.Record), and returns each violation
// found. It recomputes everything from the events rather than trusting the
// port's counters:
//
//   - in flight ≤ cap, counting sends minus reaps, and the port agrees;
//   - each message completes once and is reaped once, after its
//     completion, as the thread that sent it, and a thread is given only
//     results of messages it sent;
//   - no message is sent in polling or stopped mode;
//   - the mode changes only at the send that makes in-flight equal the cap
//     and at the first reap that brings it to low or below.
func Check(r *Result) []string {
	type msg struct {
		thread           int32
		completes, reaps int
		delivers         int
	}
	type proc struct {
		inflight int
		mode     port.Mode
		msgs     map[uint64]*msg
	}
	var errs []string
	fail := func(i int, e sched.Event, format string, args ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf("event %d (%v): %s", i, e, fmt.Sprintf(format, args...)))
		}
	}
	procs := make([]proc, len(r.Procs))
	for i := range procs {
		procs[i].msgs = map[uint64]*msg{}
	}
	for i, e := range r.Log {
		if e.Proc < 0 || e.Proc >= len(procs) {
			fail(i, e, "no such process")
			continue
		}
		p, cfg := &procs[e.Proc], r.Procs[e.Proc]
		m := p.msgs[e.Seq]
		switch e.Kind {
		case sched.EvSend:
			if m != nil {
				fail(i, e, "message sent twice")
			}
			if e.ModeBefore != port.Messaging || p.mode != port.Messaging {
				fail(i, e, "message sent in %v mode", p.mode)
			}
			p.msgs[e.Seq] = &msg{thread: e.Thread}
			p.inflight++
			if cfg.Cap != port.Unlimited && p.inflight > cfg.Cap {
				fail(i, e, "%d messages in flight, over the cap %d", p.inflight, cfg.Cap)
			}
			if p.inflight == cfg.Cap && cfg.Policy != port.Block && !next(r.Log, i, sched.EvEnter) {
				fail(i, e, "the send reached the cap and the port did not enter %s", wantMode(cfg.Policy))
			}
		case sched.EvEnter:
			if p.inflight != cfg.Cap || cfg.Policy == port.Block {
				fail(i, e, "entered %v mode with %d in flight, cap %d, policy %v", e.Mode, p.inflight, cfg.Cap, cfg.Policy)
			}
			p.mode = wantMode(cfg.Policy)
		case sched.EvComplete:
			switch {
			case m == nil:
				fail(i, e, "completion of a message never sent")
			case m.reaps > 0:
				fail(i, e, "completion after the reap")
			default:
				m.completes++
				if m.completes > 1 {
					fail(i, e, "message completed %d times", m.completes)
				}
			}
		case sched.EvReap:
			if m == nil {
				fail(i, e, "reap of a message never sent")
				break
			}
			m.reaps++
			if m.reaps > 1 {
				fail(i, e, "message reaped %d times", m.reaps)
			}
			if m.completes == 0 {
				fail(i, e, "reaped before the kernel completed it")
			}
			if e.Thread != m.thread {
				fail(i, e, "reaped for thread %d; thread %d sent it", e.Thread, m.thread)
			}
			p.inflight--
			leaves := next(r.Log, i, sched.EvLeave)
			if p.mode != port.Messaging && p.inflight <= cfg.Low && !leaves {
				fail(i, e, "the reap brought in-flight to %d ≤ low %d and the port stayed in %v mode", p.inflight, cfg.Low, p.mode)
			}
		case sched.EvLeave:
			if p.mode == port.Messaging || p.inflight > cfg.Low {
				fail(i, e, "left %v mode with %d in flight, low %d", p.mode, p.inflight, cfg.Low)
			}
			p.mode = port.Messaging
		case sched.EvDeliver:
			if e.Seq == 0 {
				break // the result of a polling attempt or a cancelled call: no message
			}
			switch {
			case m == nil:
				fail(i, e, "thread given the result of a message never sent")
			case m.thread != e.Thread:
				fail(i, e, "thread %d given the result of thread %d's message", e.Thread, m.thread)
			case m.reaps == 0:
				fail(i, e, "result given before the reap")
			default:
				m.delivers++
				if m.delivers > 1 {
					fail(i, e, "result given %d times", m.delivers)
				}
			}
		case sched.EvAttempt, sched.EvWouldBlock:
			if p.mode != port.Polling {
				fail(i, e, "polling attempt in %v mode", p.mode)
			}
		}
		if e.Kind != sched.EvComplete && e.InFlight != p.inflight {
			fail(i, e, "the port counts %d in flight; sends minus reaps are %d", e.InFlight, p.inflight)
		}
		if e.Kind == sched.EvComplete && e.InFlight != p.inflight {
			fail(i, e, "the completion changed in-flight to %d (sends minus reaps are %d): a slot is free only at the reap", e.InFlight, p.inflight)
		}
		// A send or reap that changed the mode is followed by its
		// EvEnter or EvLeave, where the mode is checked.
		changing := next(r.Log, i, sched.EvEnter) || next(r.Log, i, sched.EvLeave)
		if e.Mode != p.mode && !changing {
			fail(i, e, "the port is in %v mode; the events say %v", e.Mode, p.mode)
		}
	}
	if r.Finished {
		for pi, p := range procs {
			for _, seq := range slices.Sorted(maps.Keys(p.msgs)) {
				m := p.msgs[seq]
				if m.completes != 1 || m.reaps != 1 {
					errs = append(errs, fmt.Sprintf("process %d message %d: completed %d times, reaped %d times in a finished run", pi, seq, m.completes, m.reaps))
				}
			}
		}
	}
	return errs
}

// next reports whether event i is followed at once by an event of kind k
// (the scheduler traces a mode change right after its cause).
func next(log []sched.Event, i int, k sched.EventKind) bool {
	return i+1 < len(log) && log[i+1].Kind == k && log[i+1].Proc == log[i].Proc
}

func wantMode(p port.Policy) port.Mode {
	if p == port.Stop {
		return port.Stopped
	}
	return port.Polling
}
