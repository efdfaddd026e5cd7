package model

import (
	"fmt"
	"strings"

	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

// Snapshot renders s as the variables a trace stores and a viewer shows,
// in a fixed order: per process its slots, mode, the calls holding slots
// and the calls the scheduler keeps; per thread where it is; per peer
// where it is; per object what it holds. Two states with the same
// snapshot may still differ in a detail no viewer shows (a cancel's
// bookkeeping), never in what the chart explains.
func (m *Model) Snapshot(s State) []traces.Var {
	w := m.w
	var out []traces.Var
	add := func(name, value string) { out = append(out, traces.Var{Name: name, Value: value}) }
	for p, proc := range w.Processes {
		add(proc.Name+" slots", strings.TrimPrefix(m.slots(s, p), "slots "))
		add(proc.Name+" mode", m.modeText(s, p))
		var held, kept []string
		for _, g := range s.Msgs {
			th := w.Threads[g.Thread]
			if th.Process != p {
				continue
			}
			call := th.Name + " " + m.callText(th.Ops[g.PC])
			switch {
			case g.Flags&msgPolled != 0:
				kept = append(kept, call)
				continue
			case g.Flags&msgStaged != 0:
				call += " (staged)"
			case g.Flags&msgLost != 0:
				call += " (reply dropped)"
			case g.Flags&msgOverflow != 0:
				call += " (reply on the overflow list)"
			case g.Flags&msgCancelled != 0:
				call += " (cancelled, reply posted)"
			case g.Flags&msgDone != 0:
				call += " (reply posted)"
			}
			held = append(held, call)
		}
		add(proc.Name+" held by", listOr(held, "none"))
		if m.policy.Polls() || len(kept) > 0 {
			add(proc.Name+" kept calls", listOr(kept, "none"))
		}
	}
	for t, th := range w.Threads {
		add(th.Name, m.threadText(s, t))
	}
	for i, pr := range w.Peers {
		pc := int(s.PeerPC[i])
		v := "done"
		if pc < len(pr.Ops) {
			op := pr.Ops[pc]
			v = fmt.Sprintf("next %s %s (op %d of %d)", op.Kind, w.Objects[op.Object].Name, pc+1, len(pr.Ops))
		}
		add(pr.Name, v)
	}
	for o, obj := range w.Objects {
		add(obj.Name, m.objectText(s, o))
	}
	return out
}

// modeText names process p's mode in s.
func (m *Model) modeText(s State, p int) string {
	switch {
	case s.Mode[p]&modePolling != 0:
		return "polling"
	case s.Mode[p]&modeStopped != 0:
		return fmt.Sprintf("stopped until in-flight <= %d", m.lows[p])
	}
	return "messaging"
}

// Modes names each process's mode in s, in the workload's order.
func (m *Model) Modes(s State) []string {
	out := make([]string, len(m.w.Processes))
	for p := range out {
		out[p] = m.modeText(s, p)
	}
	return out
}

// Slots returns each process's slots in use in s, in the workload's order.
func (m *Model) Slots(s State) []int {
	out := make([]int, len(m.w.Processes))
	for p := range out {
		out[p] = m.InFlight(s, p)
	}
	return out
}

// threadText says where thread t is in s: its next operation and whether
// it is parked on a message, or done.
func (m *Model) threadText(s State, t int) string {
	th := m.w.Threads[t]
	pc := int(s.PC[t])
	var b strings.Builder
	if pc >= len(th.Ops) {
		b.WriteString("done")
	} else {
		op := th.Ops[pc]
		call := m.callText(op)
		if op.Async {
			call = "submit " + call
		}
		if !op.Async && msgOf(s, t, s.PC[t]) >= 0 {
			fmt.Fprintf(&b, "parked on %s", call)
		} else {
			fmt.Fprintf(&b, "next %s", call)
		}
		fmt.Fprintf(&b, " (op %d of %d)", pc+1, len(th.Ops))
	}
	if s.Ready[t] > 0 {
		fmt.Fprintf(&b, ", %d results ready", s.Ready[t])
	}
	if s.Cancel[t] != 0 {
		b.WriteString(", cancel pending")
	}
	return b.String()
}

// objectText says what object o holds in s: "empty", "1 item", for a conn
// each direction, and which sides are closed.
func (m *Model) objectText(s State, o int) string {
	obj := m.w.Objects[o]
	items := func(n uint8) string {
		switch n {
		case 0:
			return "empty"
		case 1:
			return "1 item"
		}
		return fmt.Sprintf("%d items", n)
	}
	var v string
	if obj.Kind == workload.Conn {
		v = fmt.Sprintf("to the process: %s; to the peer: %s", items(s.Items[2*o]), items(s.Items[2*o+1]))
	} else {
		v = items(s.Items[2*o])
	}
	switch c := s.Closed[o] & 3; {
	case obj.Kind == workload.Conn && c == 3:
		v += "; closed both ways"
	case obj.Kind == workload.Conn && c == 1:
		v += "; closed to the process"
	case obj.Kind == workload.Conn && c == 2:
		v += "; closed to the peer"
	case c != 0:
		v += "; closed"
	}
	return v
}

func listOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, ", ")
}

// party names who a step is addressed to, for a chart's arrow: the kernel
// for a system call or a peer's send, the reaper for a completion, the
// thread for a reap; "" for a step that stays with its actor.
func (m *Model) party(s State, a Action) string {
	w := m.w
	switch a.Kind {
	case SendCall, SendEnterPolling, SendStop, SendReserved, CancelDropped, StageFull, SubmitRing, PollCall, PollWouldBlock, PollDefer, PollRetry, PollRetryWouldBlock, PeerStep:
		return "kernel"
	case CompleteCall:
		g := s.Msgs[a.Who]
		if r := w.Processes[w.Threads[g.Thread].Process].Reaper; r >= 0 {
			return w.Threads[r].Name
		}
		return "scheduler"
	case ReapReply, ReapLeavePolling, ReapResume:
		return w.Threads[s.Msgs[a.Who].Thread].Name
	}
	return ""
}

// chartActors names the columns of a trace's chart: each thread, then the
// scheduler and the kernel, then each peer.
func (m *Model) chartActors() []string {
	var out []string
	for _, t := range m.w.Threads {
		out = append(out, t.Name)
	}
	out = append(out, "scheduler", "kernel")
	for _, p := range m.w.Peers {
		out = append(out, p.Name)
	}
	return out
}
