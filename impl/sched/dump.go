package sched

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sysmsg/sysmsg/impl/port"
)

// Dump is a process's state for a person: each thread and each slot.
type Dump struct {
	Process  string
	Policy   port.Policy
	Cap, Low int
	Mode     port.Mode
	InFlight int
	Replies  int // completed, not reaped
	Threads  []ThreadDump
	Slots    []SlotDump
	Stats    Stats
}

// ThreadDump is one thread in a [Dump].
type ThreadDump struct {
	ID          int32
	Name        string
	State       State
	Doing       string // the operation it is in, if any
	Cancelled   bool
	Outstanding int
}

// SlotDump is one message in flight in a [Dump].
type SlotDump struct {
	Seq       uint64
	Thread    string
	Op        string
	Completed bool   // completed by the kernel, not yet reaped
	Why       string // why the kernel has not completed it, if it knows
}

// Dump describes the process now. Call it between steps.
func (s *Scheduler) Dump() Dump {
	p := s.port
	d := Dump{Process: s.cfg.Name, Policy: p.Policy(), Cap: p.Cap(), Low: p.Low(), Mode: p.Mode(),
		InFlight: p.InFlight(), Replies: p.Replies(), Stats: s.Stats()}
	ex, _ := s.k.(Explainer)
	for _, t := range s.threads {
		if t == nil {
			continue
		}
		d.Threads = append(d.Threads, ThreadDump{ID: t.id, Name: t.name, State: t.state, Doing: t.Doing(),
			Cancelled: t.cancelled, Outstanding: t.outstanding})
		for _, m := range t.msgs {
			sd := SlotDump{Seq: m.Seq, Thread: t.name, Op: s.describeMsg(m), Completed: p.IsCompleted(m)}
			if !sd.Completed && ex != nil {
				sd.Why = ex.Why(m)
			}
			d.Slots = append(d.Slots, sd)
		}
	}
	slices.SortFunc(d.Slots, func(a, b SlotDump) int { return int(a.Seq) - int(b.Seq) })
	return d
}

func (s *Scheduler) describeMsg(m *port.Msg) string {
	if m.Op == port.OpCancel || m.Op == port.OpSleep {
		return m.Op.String()
	}
	if m.Async {
		return "submit " + s.describeOp(m.Op, int(m.FD), nil)
	}
	return s.describeOp(m.Op, int(m.FD), nil)
}

func (d Dump) String() string {
	var b strings.Builder
	capText := fmt.Sprint(d.Cap)
	if d.Cap == port.Unlimited {
		capText = "unlimited"
	}
	fmt.Fprintf(&b, "process %s: policy %s, cap %s, low %d, %s mode, %d in flight, %d replies not reaped\n",
		d.Process, d.Policy, capText, d.Low, d.Mode, d.InFlight, d.Replies)
	fmt.Fprintf(&b, "  threads:\n")
	for _, t := range d.Threads {
		fmt.Fprintf(&b, "    %-12s %s", t.Name, t.State)
		if t.Doing != "" {
			fmt.Fprintf(&b, " in %s", t.Doing)
		}
		if t.Cancelled {
			b.WriteString(", cancelled")
		}
		if t.Outstanding > 0 {
			fmt.Fprintf(&b, ", %d outstanding", t.Outstanding)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "  slots:\n")
	if len(d.Slots) == 0 {
		b.WriteString("    (none in flight)\n")
	}
	for i, sl := range d.Slots {
		fmt.Fprintf(&b, "    slot %d  #%d %s's %s", i+1, sl.Seq, sl.Thread, sl.Op)
		switch {
		case sl.Completed:
			b.WriteString(": completed, not reaped")
		case sl.Why != "":
			fmt.Fprintf(&b, ": pending, %s", sl.Why)
		default:
			b.WriteString(": pending")
		}
		b.WriteByte('\n')
	}
	return b.String()
}
