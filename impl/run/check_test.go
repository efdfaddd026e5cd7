package run_test

import (
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/impl/sched"
)

// TestCheckReplaysTheSpec: hand-made logs of one process at cap 2 under
// poll (low 0), each with one departure from the spec, and the words the
// check must find for it; the good log has none.
func TestCheckReplaysTheSpec(t *testing.T) {
	const msg, pol = port.Messaging, port.Polling
	send := func(seq uint64, n int, m port.Mode) sched.Event {
		return sched.Event{Kind: sched.EvSend, Seq: seq, InFlight: n, Mode: m}
	}
	ev := func(k sched.EventKind, seq uint64, n int, m port.Mode) sched.Event {
		return sched.Event{Kind: k, Seq: seq, InFlight: n, Mode: m}
	}
	good := []sched.Event{
		send(1, 1, msg), send(2, 2, pol), ev(sched.EvEnter, 2, 2, pol),
		ev(sched.EvWouldBlock, 0, 2, pol),
		ev(sched.EvComplete, 1, 2, pol), ev(sched.EvReap, 1, 1, pol),
		ev(sched.EvComplete, 2, 1, pol), ev(sched.EvReap, 2, 0, msg), ev(sched.EvLeave, 2, 0, msg),
	}
	for _, c := range []struct {
		name string
		log  []sched.Event
		want string // "" for no violation
	}{
		{"good", good, ""},
		{"no enter at the cap", []sched.Event{send(1, 1, msg), send(2, 2, pol), ev(sched.EvComplete, 1, 2, pol)}, "enter must be logged"},
		{"send while polling", append(good[:3:3], send(3, 3, pol)), "does not send"},
		{"attempt while messaging", []sched.Event{ev(sched.EvAttempt, 0, 0, msg)}, "outside polling"},
		{"slot freed at completion", []sched.Event{send(1, 1, msg), ev(sched.EvComplete, 1, 0, msg)}, "free only at the reap"},
		{"reap before completion", []sched.Event{send(1, 1, msg), ev(sched.EvReap, 1, 0, msg)}, "no reply waiting"},
		{"leave above low", []sched.Event{send(1, 1, msg), send(2, 2, pol), ev(sched.EvEnter, 2, 2, pol),
			ev(sched.EvComplete, 1, 2, pol), ev(sched.EvReap, 1, 1, msg), ev(sched.EvLeave, 1, 1, msg)}, "did not"},
		{"completed twice", []sched.Event{send(1, 1, msg), ev(sched.EvComplete, 1, 1, msg), send(2, 2, pol), ev(sched.EvEnter, 2, 2, pol),
			ev(sched.EvComplete, 1, 2, pol)}, "completed 2 times"},
	} {
		r := &run.Result{Procs: []run.Proc{{Cap: 2, Low: 0, Policy: port.Poll}}, Log: c.log}
		errs := strings.Join(run.Check(r), "\n")
		switch {
		case c.want == "" && errs != "":
			t.Errorf("%s: %s", c.name, errs)
		case c.want != "" && !strings.Contains(errs, c.want):
			t.Errorf("%s: want a violation saying %q, got %q", c.name, c.want, errs)
		}
	}
}
