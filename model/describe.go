package model

import (
	"fmt"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/workload"
)

// callText renders a thread's system call: "read(c0)", "cancel(ra)".
func (m *Model) callText(op workload.Op) string {
	if op.Kind == workload.Cancel {
		return fmt.Sprintf("cancel(%s)", m.w.Threads[op.Target].Name)
	}
	if op.Object < 0 {
		return op.Kind.String()
	}
	return fmt.Sprintf("%s(%s)", op.Kind, m.w.Objects[op.Object].Name)
}

// slots renders process p's slots in s: "slots 1/2", or with a reserve
// "slots 2/3 (1 reserved)", the reserved calls among them.
func (m *Model) slots(s State, p int) string {
	if m.caps[p] == workload.Unlimited {
		return fmt.Sprintf("slots %d/unlimited", m.InFlight(s, p))
	}
	out := fmt.Sprintf("slots %d/%d", m.InFlight(s, p), m.caps[p])
	if m.reserves[p] > 0 {
		out += fmt.Sprintf(" (%d reserved)", m.reservedInFlight(s, p))
	}
	return out
}

// Describe says who takes a in s and what happens. The text may hold one
// tab: before it the story, after it the process's slots and mode once the
// step is taken, which a printer aligns in a column.
func (m *Model) Describe(s State, a Action) check.Label {
	w := m.w
	switch a.Kind {
	case PeerStep:
		pr := w.Peers[a.Who]
		op := pr.Ops[s.PeerPC[a.Who]]
		obj := w.Objects[op.Object].Name
		sd := m.side(op.Object, op.Kind, true)
		text := map[workload.OpKind]string{workload.Send: "sends on " + obj, workload.Recv: "receives from " + obj, workload.Close: "closes " + obj}[op.Kind]
		if op.Kind == workload.Recv && s.Items[sd] == 0 {
			text += ": end of file"
		}
		return check.Label{Actor: pr.Name, Text: text}
	case PollRetry, PollRetryWouldBlock:
		g := s.Msgs[a.Who]
		th := w.Threads[g.Thread]
		text := fmt.Sprintf("retries %s's submitted %s without a message: ", th.Name, m.callText(th.Ops[g.PC]))
		if a.Kind == PollRetry {
			text += "done"
		} else {
			text += "would block"
		}
		return check.Label{Actor: "scheduler", Text: text}
	case CompleteCall:
		g := s.Msgs[a.Who]
		th := w.Threads[g.Thread]
		op := th.Ops[g.PC]
		text := fmt.Sprintf("completes %s's %s", th.Name, m.callText(op))
		if op.Kind == workload.Read && s.Items[m.side(op.Object, workload.Read, false)] == 0 {
			text += ": end of file"
		}
		if op.Kind == workload.Cancel {
			text += ": " + w.Threads[op.Target].Name + " is cancelled"
		}
		// With a bounded completion queue, where the reply went is read
		// off the state after: a cancel's targets are posted before it,
		// and may fill the queue.
		var after uint8
		if w.Processes[th.Process].CQ > 0 {
			n := m.Next(s, a)
			after = n.Msgs[msgOf(n, int(g.Thread), g.PC)].Flags
		}
		switch {
		case after&msgLost != 0:
			text += "; completion queue full: reply dropped"
		case after&msgOverflow != 0:
			text += "; completion queue full: reply to the overflow list"
		default:
			text += "; reply posted"
		}
		return check.Label{Actor: "kernel", Text: text}
	case SubmitRing:
		p := int(a.Proc)
		actor := "scheduler"
		if r := w.Processes[p].Reaper; r >= 0 {
			actor = w.Threads[r].Name
		}
		return check.Label{Actor: actor, Text: fmt.Sprintf("submits %s's staged calls (%d) before anything parks", w.Processes[p].Name, m.staged(s, p))}
	case FlushOverflow:
		g := s.Msgs[a.Who]
		th := w.Threads[g.Thread]
		actor := "scheduler"
		if r := w.Processes[th.Process].Reaper; r >= 0 {
			actor = w.Threads[r].Name
		}
		return check.Label{Actor: actor, Text: fmt.Sprintf("enters the kernel for events: %s's reply to %s moves from the overflow list to the completion queue",
			th.Name, m.callText(th.Ops[g.PC]))}
	case ReapReply, ReapLeavePolling, ReapResume:
		g := s.Msgs[a.Who]
		th := w.Threads[g.Thread]
		p := th.Process
		actor := "scheduler"
		if r := w.Processes[p].Reaper; r >= 0 {
			actor = w.Threads[r].Name
		}
		result := ""
		if g.Flags&msgCancelled != 0 {
			result = " (cancelled)"
		}
		text := fmt.Sprintf("reaps %s's reply to %s%s", th.Name, m.callText(th.Ops[g.PC]), result)
		return check.Label{Actor: actor, Text: text + "\t" + m.slotsAfter(s, a, p)}
	}
	t := int(a.Who)
	th := w.Threads[t]
	op := th.Ops[s.PC[t]]
	call := m.callText(op)
	if op.Async {
		call = "submitted " + call
	}
	var text string
	switch a.Kind {
	case SendCall, SendEnterPolling, SendStop, SendReserved:
		verb := "sends "
		if op.Async {
			verb = "submits "
			call = m.callText(op)
		}
		if w.Processes[th.Process].SQ > 0 {
			// The call takes its slot and waits in the ring for a submit.
			verb, call = "stages ", call+" in the ring"
		}
		if a.Kind == SendReserved {
			call += " into a reserved slot"
		}
		text = verb + call + "\t" + m.slotsAfter(s, a, th.Process)
	case StageFull:
		p := th.Process
		text = fmt.Sprintf("finds %s's ring full: submits its staged calls (%d)", w.Processes[p].Name, m.staged(s, p))
	case CancelDropped:
		text = call + " finds no free slot: dropped, and the thread goes on"
	case PollCall:
		text = "tries " + call + " without a message: done"
	case PollWouldBlock:
		text = "tries " + call + " without a message: would block, yields"
	case PollDefer:
		text = "tries " + call + " without a message: would block; the scheduler keeps it to retry"
	case CallCancelled:
		text = call + " returns cancelled at once"
	case UserStep:
		obj := ""
		if op.Object >= 0 {
			obj = w.Objects[op.Object].Name
		}
		text = map[workload.OpKind]string{workload.Push: "pushes onto " + obj, workload.Pop: "pops from " + obj, workload.Wait: "collects a submitted call's result"}[op.Kind]
	}
	return check.Label{Actor: th.Name, Text: text}
}

// slotsAfter renders process p's slots and mode once a is taken.
func (m *Model) slotsAfter(s State, a Action, p int) string {
	n := m.Next(s, a)
	out := m.slots(n, p)
	switch a.Kind {
	case SendEnterPolling:
		out += "  cap reached: enters polling"
	case SendStop:
		out += "  cap reached: stops issuing"
	case ReapLeavePolling:
		out += "  leaves polling"
	case ReapResume:
		out += "  upcall: resumes issuing"
	case SendCall, SendReserved:
		if m.caps[p] != workload.Unlimited && m.InFlight(n, p) == m.caps[p] {
			out += "  cap reached"
		}
	}
	return out
}

// Explain says, for a state where the system is stuck, who holds each slot
// and what every unfinished thread and peer waits for.
func (m *Model) Explain(s State) []string {
	w := m.w
	var out []string
	if c := m.WaitStory(s); c != "" {
		out = append(out, "in short, "+c)
	}
	for p, proc := range w.Processes {
		out = append(out, fmt.Sprintf("%s: %s, %s", proc.Name, m.slots(s, p), m.modeText(s, p)))
		k := 0
		for _, g := range s.Msgs {
			th := w.Threads[g.Thread]
			if th.Process != p {
				continue
			}
			op := th.Ops[g.PC]
			if g.Flags&msgPolled == 0 {
				k++
			}
			line := fmt.Sprintf("  slot %d  %s's %s: ", k, th.Name, m.callText(op))
			if g.Flags&msgPolled != 0 {
				out = append(out, fmt.Sprintf("  %s's submitted %s: kept by the scheduler without a slot, retried: %s",
					th.Name, m.callText(op), m.retryOutcome(s, op)))
				continue
			}
			switch {
			case g.Flags&msgStaged != 0 && proc.SubmitOnFull:
				line += "staged in the ring, never submitted: the ring is submitted only when a thread finds it full"
			case g.Flags&msgStaged != 0 && m.reaperBlocked(s, p):
				line += fmt.Sprintf("staged in the ring, never submitted: the only submitter, %s, is waiting for a slot", w.Threads[proc.Reaper].Name)
			case g.Flags&msgStaged != 0:
				line += "staged in the ring, waiting for the scheduler's submit"
			case g.Flags&msgLost != 0:
				line += "completed, but the completion queue was full and the kernel dropped the reply: never reaped"
			case g.Flags&msgOverflow != 0 && proc.FlushNever:
				line += "completed; the reply is on the overflow list, which nothing flushes (flush never)"
			case g.Flags&msgOverflow != 0:
				line += "completed; the reply is on the overflow list until a flush"
			case g.Flags&msgDone != 0 && m.reaperBlocked(s, p):
				r := w.Threads[proc.Reaper].Name
				line += fmt.Sprintf("completed, never reaped: the only reaper, %s, is waiting for a slot", r)
			case g.Flags&msgDone != 0:
				line += "completed, waiting to be reaped"
			case m.canProceed(s, op):
				line += "in the kernel, which can complete it now"
			default:
				line += "waits in the kernel: " + m.why(s, op)
			}
			out = append(out, line)
		}
	}
	for t, th := range w.Threads {
		pc := s.PC[t]
		if int(pc) >= len(th.Ops) {
			if hasMsgs(s, t) {
				out = append(out, fmt.Sprintf("%s: done, but its submitted calls hold slots", th.Name))
			}
			continue
		}
		op := th.Ops[pc]
		p := th.Process
		var line string
		switch {
		case op.Kind == workload.Push:
			line = fmt.Sprintf("waits to push onto %s: full", w.Objects[op.Object].Name)
		case op.Kind == workload.Pop:
			line = fmt.Sprintf("waits to pop from %s: empty", w.Objects[op.Object].Name)
		case op.Kind == workload.Wait:
			line = "waits for the result of a submitted call"
		case !op.Async && msgOf(s, t, pc) >= 0:
			line = fmt.Sprintf("is parked on its %s", m.callText(op))
		case s.Mode[p]&modeStopped != 0:
			line = fmt.Sprintf("wants %s: the scheduler issues nothing until in-flight <= %d", m.callText(op), m.lows[p])
		case s.Mode[p]&modePolling != 0:
			if m.canProceed(s, op) {
				line = fmt.Sprintf("can try %s", m.callText(op))
			} else {
				line = fmt.Sprintf("retries %s without a message: %s; it spins", m.callText(op), m.why(s, op))
			}
		case m.waitsForSlot(s, t):
			line = fmt.Sprintf("wants %s: no free slot (%s), waits", m.callText(op), m.slots(s, p))
		default:
			line = fmt.Sprintf("can %s", m.callText(op))
		}
		out = append(out, th.Name+" "+line)
	}
	for i, pr := range w.Peers {
		pc := s.PeerPC[i]
		if int(pc) >= len(pr.Ops) {
			continue
		}
		op := pr.Ops[pc]
		obj := w.Objects[op.Object].Name
		switch {
		case m.peerCan(s, op):
			out = append(out, fmt.Sprintf("%s can %s %s", pr.Name, op.Kind, obj))
		case op.Kind == workload.Recv:
			out = append(out, fmt.Sprintf("%s waits to receive from %s: nothing there yet", pr.Name, obj))
		default:
			out = append(out, fmt.Sprintf("%s waits to send on %s: full", pr.Name, obj))
		}
	}
	return out
}

// retryOutcome says what the next retry of a kept call would do in s. It
// asks the state rather than assuming the call still blocks: on a cycle
// that a scheduler may follow, some kept calls can proceed, and saying
// otherwise (a pipe both empty and full) would hide why the cycle exists.
func (m *Model) retryOutcome(s State, op workload.Op) string {
	if m.canProceed(s, op) {
		return "it would go through now"
	}
	return "it would block: " + m.why(s, op)
}

// why says what a system call, which cannot proceed in s, waits for and,
// for a read, who would supply the item.
func (m *Model) why(s State, op workload.Op) string {
	name := m.w.Objects[op.Object].Name
	switch op.Kind {
	case workload.Read:
		out := name + " has nothing to read"
		if who := m.supplier(s, m.side(op.Object, workload.Read, false)); who != "" {
			out += "; " + who
		}
		return out
	case workload.Write:
		return name + " is full"
	}
	return "nothing"
}

// supplier names the first thread or peer whose remaining program puts an
// item on channel side sd, and what it must do first: "client0 sends on it
// only after it receives from c0".
func (m *Model) supplier(s State, sd int) string {
	for t, th := range m.w.Threads {
		pc := min(int(s.PC[t]), len(th.Ops))
		for i, op := range th.Ops[pc:] {
			if op.Kind != workload.Write || m.side(op.Object, workload.Write, false) != sd {
				continue
			}
			if i > 0 {
				return fmt.Sprintf("%s writes it only after it %s", th.Name, m.doing(th.Ops[pc]))
			}
			switch p := th.Process; {
			case m.waitsForSlot(s, t):
				return th.Name + " would write it, but waits for a free slot"
			case s.Mode[p]&modeStopped != 0:
				return th.Name + " would write it, but the scheduler is stopped"
			}
			return th.Name + " is about to write it"
		}
	}
	for p, pr := range m.w.Peers {
		pc := int(s.PeerPC[p])
		for i, op := range pr.Ops[pc:] {
			if op.Kind != workload.Send || m.side(op.Object, workload.Send, true) != sd {
				continue
			}
			if i > 0 {
				return fmt.Sprintf("%s sends on it only after it %s", pr.Name, m.doing(pr.Ops[pc]))
			}
			return pr.Name + " is about to send on it"
		}
	}
	return ""
}

// doing renders an operation as what an actor must get done: "receives
// from c0", "pops from q0", "reads a".
func (m *Model) doing(op workload.Op) string {
	obj := ""
	if op.Object >= 0 {
		obj = m.w.Objects[op.Object].Name
	}
	switch op.Kind {
	case workload.Recv:
		return "receives from " + obj
	case workload.Send:
		return "sends on " + obj
	case workload.Push:
		return "pushes onto " + obj
	case workload.Pop:
		return "pops from " + obj
	case workload.Wait:
		return "collects a submitted call's result"
	case workload.Cancel:
		return "cancels " + m.w.Threads[op.Target].Name
	}
	return op.Kind.String() + "s " + obj
}
