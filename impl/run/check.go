package run

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sysmsg/sysmsg/impl/sched"
	spec "github.com/sysmsg/sysmsg/model/port"
)

// Check verifies the safety properties of DESIGN.md that one execution can
// show, on its event log (Options.Record), and returns each violation
// found. It does not restate the port's rules: it replays the log through
// the one sequential spec of the port (model/port), one spec state per
// process, configured as Result.Procs says:
//
//   - a send (EvSend) is the spec's Send, which must say the message went;
//     EvEnter follows it exactly when the spec's outcome enters polling or
//     stopped mode;
//   - a completion (EvComplete) is the spec's Complete; a reap (EvReap) its
//     Reap, followed by EvLeave exactly when the spec's reap leaves;
//   - a polling attempt (EvAttempt, EvWouldBlock, EvKeep) is the spec's
//     Attempt, an error outside polling mode;
//   - after every event the port's logged in-flight count and mode equal
//     the spec's, and the spec's invariants hold (Config.Check).
//
// What the spec does not track, because it counts slots and not messages,
// is checked here per message: each completes once and is reaped once,
// after its completion, as the thread that sent it, and a thread is given
// only results of messages it sent, once, after the reap.
func Check(r *Result) []string {
	type msg struct {
		thread           int32
		completes, reaps int
		delivers         int
	}
	type proc struct {
		cfg  spec.Config
		st   spec.State
		msgs map[uint64]*msg
		// want is the event that must come next for this process (an
		// EvEnter after a send that entered, an EvLeave after a reap that
		// left), or 0xff.
		want sched.EventKind
	}
	const none = sched.EventKind(0xff)
	var errs []string
	fail := func(i int, e sched.Event, format string, args ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf("event %d (%v): %s", i, e, fmt.Sprintf(format, args...)))
		}
	}
	procs := make([]proc, len(r.Procs))
	for i, p := range r.Procs {
		procs[i] = proc{cfg: spec.Config{Cap: p.Cap, Low: p.Low, Policy: p.Policy, Reserve: p.Reserve}, msgs: map[uint64]*msg{}, want: none}
	}
	for i, e := range r.Log {
		if e.Proc < 0 || e.Proc >= len(procs) {
			fail(i, e, "no such process")
			continue
		}
		p := &procs[e.Proc]
		m := p.msgs[e.Seq]
		if p.want != none && e.Kind != p.want {
			fail(i, e, "the spec's %v must be logged first", p.want)
			p.want = none
		}
		switch e.Kind {
		case sched.EvSend:
			if m != nil {
				fail(i, e, "message sent twice")
			}
			p.msgs[e.Seq] = &msg{thread: e.Thread}
			st, out := p.cfg.SendAs(p.st, e.Reserved)
			if !out.Went() {
				fail(i, e, "the spec does not send here (%v, %d in flight, %v mode): %v", p.cfg.Policy, p.st.InFlight, p.st.Mode, out)
				break
			}
			p.st = st
			if out == spec.SentEnteredPolling || out == spec.SentStopped {
				p.want = sched.EvEnter
			}
		case sched.EvEnter:
			if p.want != sched.EvEnter {
				fail(i, e, "entered %v mode; the spec's send before it did not (%d in flight, cap %d, %v)", e.Mode, p.st.InFlight, p.cfg.Cap, p.cfg.Policy)
			}
			p.want = none
		case sched.EvComplete:
			st, err := p.cfg.Complete(p.st)
			if err != nil {
				fail(i, e, "%v", err)
			} else {
				p.st = st
			}
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
			st, out, err := p.cfg.ReapAs(p.st, e.Reserved)
			if err != nil {
				fail(i, e, "%v", err)
			} else {
				p.st = st
				if out == spec.ReapedLeft {
					p.want = sched.EvLeave
				}
			}
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
		case sched.EvLeave:
			if p.want != sched.EvLeave {
				fail(i, e, "left polling or stopped mode; the spec's reap before it did not (%d in flight, low %d)", p.st.InFlight, p.cfg.Low)
			}
			p.want = none
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
		case sched.EvAttempt, sched.EvWouldBlock, sched.EvKeep:
			if _, err := p.cfg.Attempt(p.st); err != nil {
				fail(i, e, "%v", err)
			}
		}
		if e.InFlight != p.st.InFlight {
			what := "the port counts %d in flight; the spec %d"
			if e.Kind == sched.EvComplete {
				what = "the completion left %d in flight; the spec %d: a slot is free only at the reap"
			}
			fail(i, e, what, e.InFlight, p.st.InFlight)
		}
		if e.Mode != p.st.Mode {
			fail(i, e, "the port is in %v mode; the spec in %v", e.Mode, p.st.Mode)
		}
		if err := p.cfg.Check(p.st); err != nil {
			fail(i, e, "%v", err)
		}
	}
	for pi, p := range procs {
		if p.want != none {
			errs = append(errs, fmt.Sprintf("process %d: the log ends before the spec's %v", pi, p.want))
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
