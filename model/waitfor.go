package model

import (
	"fmt"
	"strings"

	"github.com/sysmsg/sysmsg/model/workload"
)

// The wait-for graph of a state says who waits for whom: a thread for its
// message, for a slot, for the thread that fills its queue; a message in
// the kernel for the thread or peer that will supply what it reads; a
// process's full set of slots for the messages holding them; a peer for
// the thread that writes to it. A cycle in it is why a deadlock cannot
// end, in one line.

// waitNode is a thread, a peer, a message (by index in State.Msgs) or a
// process's slots.
type waitNode struct {
	kind byte // 't', 'p', 'm', 's'
	i    int
}

// waitEdge is one wait: from waits for to, and why, in words that start
// with the waiter's name.
type waitEdge struct {
	to  waitNode
	why string
}

// WaitStory returns why the waiting in s never ends, as one sentence: a
// cycle of waits, "a cycle of waits: w0 needs a slot … → … → back to w0";
// else a chain that ends where no thread or peer will ever act, "a chain
// of waits that ends nowhere: timeout0 needs a slot … → … which no thread
// or peer will ever do"; or "" when there is neither: a thread or peer
// that can still move is no one's reason to wait forever.
func (m *Model) WaitStory(s State) string {
	if c := m.waitCycle(s); c != "" {
		return "a cycle of waits: " + c
	}
	if c := m.waitChain(s); c != "" {
		return "a chain of waits that ends nowhere: " + c
	}
	return ""
}

// waitChain returns the longest path of waits from a thread that ends at
// nobody (the first thread's, of equal lengths), or "": the longest tells
// the most, such as the cancel that waits for a slot held by the read it
// would end.
func (m *Model) waitChain(s State) string {
	var best []string
	for t := range m.w.Threads {
		seen := map[waitNode]bool{}
		var path []string
		var visit func(n waitNode) bool
		visit = func(n waitNode) bool {
			seen[n] = true
			for _, e := range m.waitsFor(s, n) {
				path = append(path, e.why)
				if e.to == nobody || !seen[e.to] && visit(e.to) {
					return true
				}
				path = path[:len(path)-1]
			}
			return false
		}
		if visit(waitNode{'t', t}) && len(path) > len(best) {
			best = path
		}
	}
	return strings.Join(best, " → ")
}

// waitCycle returns the first cycle of waits as one sentence, or "".
func (m *Model) waitCycle(s State) string {
	var starts []waitNode
	for t := range m.w.Threads {
		starts = append(starts, waitNode{'t', t})
	}
	for p := range m.w.Peers {
		starts = append(starts, waitNode{'p', p})
	}
	state := map[waitNode]int{} // 1 on the stack, 2 done
	var stack []waitEdge
	var cycle []waitEdge
	var visit func(n waitNode) bool
	visit = func(n waitNode) bool {
		state[n] = 1
		for _, e := range m.waitsFor(s, n) {
			stack = append(stack, e)
			switch state[e.to] {
			case 1:
				// The cycle is the stack from the edge that left e.to.
				k := len(stack) - 1
				for k > 0 && stack[k-1].to != e.to {
					k--
				}
				cycle = append(cycle, stack[k:]...)
				return true
			case 0:
				if visit(e.to) {
					return true
				}
			}
			stack = stack[:len(stack)-1]
		}
		state[n] = 2
		return false
	}
	for _, n := range starts {
		if state[n] == 0 && n != nobody {
			stack = stack[:0]
			if visit(n) {
				break
			}
		}
	}
	if cycle == nil {
		return ""
	}
	// Start the sentence at a thread, where a reader starts.
	first := 0
	for i := range cycle {
		if prev := cycle[(i+len(cycle)-1)%len(cycle)].to; prev.kind == 't' {
			first = i
			break
		}
	}
	var parts []string
	for i := range cycle {
		parts = append(parts, cycle[(first+i)%len(cycle)].why)
	}
	back := cycle[(first+len(cycle)-1)%len(cycle)].to
	return strings.Join(parts, " → ") + " → back to " + m.w.Threads[back.i].Name
}

// waitsFor returns whom n waits for in s, in a fixed order.
func (m *Model) waitsFor(s State, n waitNode) []waitEdge {
	w := m.w
	switch n.kind {
	case 't':
		t := n.i
		th := w.Threads[t]
		pc := s.PC[t]
		if int(pc) >= len(th.Ops) {
			return nil
		}
		op := th.Ops[pc]
		p := th.Process
		switch op.Kind {
		case workload.Push:
			if int(s.Items[2*op.Object]) < w.Objects[op.Object].Capacity {
				return nil
			}
			return toActor(th.Name+" waits to push onto "+w.Objects[op.Object].Name+", which is full until", m.taker(s, 2*op.Object))
		case workload.Pop:
			if s.Items[2*op.Object] > 0 {
				return nil
			}
			return toActor(th.Name+" waits to pop from "+w.Objects[op.Object].Name+", which is empty until", m.giver(s, 2*op.Object))
		case workload.Wait:
			if s.Ready[t] > 0 {
				return nil
			}
			var out []waitEdge
			for i, g := range s.Msgs {
				if int(g.Thread) == t {
					out = append(out, waitEdge{waitNode{'m', i}, th.Name + " waits for the result of its submitted " + m.callText(th.Ops[g.PC])})
				}
			}
			return out
		}
		if s.Cancel[t] != 0 {
			return nil
		}
		if i := msgOf(s, t, pc); !op.Async && i >= 0 {
			return []waitEdge{{waitNode{'m', i}, th.Name + " is parked on its " + m.callText(op)}}
		}
		switch {
		case m.waitsForSlot(s, t) && m.reserves[p] > 0 && m.isReserved(t, pc):
			return []waitEdge{{waitNode{'s', p}, fmt.Sprintf("%s needs a slot for its reserved %s, but all %d slots of %s are taken, the %d reserved ones too", th.Name, m.callText(op), m.caps[p], w.Processes[p].Name, m.reserves[p])}}
		case m.waitsForSlot(s, t) && m.reserves[p] > 0:
			return []waitEdge{{waitNode{'s', p}, fmt.Sprintf("%s needs a slot for %s, but the %d ordinary slots of %s are taken (%d more are reserved)", th.Name, m.callText(op), m.caps[p]-m.reserves[p], w.Processes[p].Name, m.reserves[p])}}
		case m.waitsForSlot(s, t):
			return []waitEdge{{waitNode{'s', p}, fmt.Sprintf("%s needs a slot for %s, but all %d slots of %s are taken", th.Name, m.callText(op), m.caps[p], w.Processes[p].Name)}}
		case s.Mode[p]&modeStopped != 0:
			return []waitEdge{{waitNode{'s', p}, fmt.Sprintf("%s wants %s, but %s issues nothing until in-flight <= %d", th.Name, m.callText(op), w.Processes[p].Name, m.lows[p])}}
		case s.Mode[p]&modePolling != 0 && !m.canProceed(s, op):
			return m.callWaits(s, op, th.Name+" retries "+m.callText(op)+" without a message; it goes through only when")
		}
		return nil
	case 'm':
		g := s.Msgs[n.i]
		th := w.Threads[g.Thread]
		op := th.Ops[g.PC]
		name := th.Name + "'s " + m.callText(op)
		switch {
		case g.Flags&msgStaged != 0 && w.Processes[th.Process].SubmitOnFull:
			return []waitEdge{{nobody, name + " is staged in " + w.Processes[th.Process].Name + "'s ring, which is submitted only when a thread finds it full (submit on-full)"}}
		case g.Flags&msgStaged != 0 && m.reaperBlocked(s, th.Process):
			r := w.Processes[th.Process].Reaper
			return []waitEdge{{waitNode{'t', r}, name + " is staged in " + w.Processes[th.Process].Name + "'s ring; the only submitter is " + w.Threads[r].Name}}
		case g.Flags&msgStaged != 0:
			return nil // the scheduler submits it
		case g.Flags&msgLost != 0:
			return []waitEdge{{nobody, name + " has completed, but " + w.Processes[th.Process].Name + "'s completion queue was full and the kernel dropped the reply, which will never arrive"}}
		case g.Flags&msgOverflow != 0 && w.Processes[th.Process].FlushNever:
			return []waitEdge{{nobody, name + " has completed, but its reply is on " + w.Processes[th.Process].Name + "'s overflow list, which nothing ever flushes (flush never)"}}
		case g.Flags&msgDone != 0:
			p := th.Process
			if r := w.Processes[p].Reaper; r >= 0 && m.reaperBlocked(s, p) {
				return []waitEdge{{waitNode{'t', r}, name + " has completed; its reply waits for the reaper " + w.Threads[r].Name}}
			}
			return nil
		case m.canProceed(s, op):
			return nil
		}
		return m.callWaits(s, op, name+" waits in the kernel until")
	case 's':
		var out []waitEdge
		for i, g := range s.Msgs {
			th := w.Threads[g.Thread]
			if th.Process == n.i && g.Flags&(msgPolled|msgFreed) == 0 {
				out = append(out, waitEdge{waitNode{'m', i}, "a slot of " + w.Processes[n.i].Name + " is held by " + th.Name + "'s " + m.callText(th.Ops[g.PC])})
			}
		}
		return out
	case 'p':
		pr := w.Peers[n.i]
		pc := int(s.PeerPC[n.i])
		if pc >= len(pr.Ops) || m.peerCan(s, pr.Ops[pc]) {
			return nil
		}
		op := pr.Ops[pc]
		obj := w.Objects[op.Object].Name
		sd := m.side(op.Object, op.Kind, true)
		if op.Kind == workload.Recv {
			return toActor(pr.Name+" waits to receive from "+obj+" until", m.giver(s, sd))
		}
		return toActor(pr.Name+" waits to send on "+obj+", which is full until", m.taker(s, sd))
	}
	return nil
}

// callWaits is the wait of a system call op that cannot proceed: for the
// actor that will supply what a read reads, or take what a full write
// fills.
func (m *Model) callWaits(s State, op workload.Op, prefix string) []waitEdge {
	if op.Kind == workload.Read {
		return toActor(prefix, m.giver(s, m.side(op.Object, workload.Read, false)))
	}
	return toActor(prefix, m.taker(s, m.side(op.Object, workload.Write, false)))
}

// actorRef is a thread or peer and what it will do on a channel: "client0
// sends on c0".
type actorRef struct {
	n    waitNode
	what string
}

// toActor is one wait for the actor a, with what it will do as the reason;
// none when there is no such actor.
func toActor(prefix string, a actorRef) []waitEdge {
	if a.n.kind == 0 {
		return nil
	}
	return []waitEdge{{a.n, prefix + " " + a.what}}
}

// nobody is the wait for an actor that does not exist: no remaining
// program will ever do what is waited for.
var nobody = waitNode{'x', 0}

// giver returns the first thread or peer whose remaining program puts an
// item on channel side sd, and what it does: "client0 sends on c0"; or
// nobody, when none will.
func (m *Model) giver(s State, sd int) actorRef {
	return m.orNobody(sd, "puts an item on", m.actorOn(s, func(op workload.Op, peer bool) bool {
		switch {
		case peer:
			return op.Kind == workload.Send && m.side(op.Object, op.Kind, true) == sd
		case op.Kind == workload.Push:
			return 2*op.Object == sd
		}
		return op.Kind == workload.Write && m.side(op.Object, op.Kind, false) == sd
	}))
}

// taker returns the first thread or peer whose remaining program takes an
// item off channel side sd, or nobody.
func (m *Model) taker(s State, sd int) actorRef {
	return m.orNobody(sd, "takes an item off", m.actorOn(s, func(op workload.Op, peer bool) bool {
		switch {
		case peer:
			return op.Kind == workload.Recv && m.side(op.Object, op.Kind, true) == sd
		case op.Kind == workload.Pop:
			return 2*op.Object == sd
		}
		return op.Kind == workload.Read && m.side(op.Object, op.Kind, false) == sd
	}))
}

// orNobody is a, or when there is no such actor the dead end: "someone
// puts an item on s0, which no thread or peer will ever do".
func (m *Model) orNobody(sd int, doing string, a actorRef) actorRef {
	if a.n.kind != 0 {
		return a
	}
	return actorRef{nobody, "someone " + doing + " " + m.w.Objects[sd/2].Name + ", which no thread or peer will ever do"}
}

// actorOn returns the first call in flight or kept, then thread, then
// peer, whose operation (or remaining program) match accepts.
func (m *Model) actorOn(s State, match func(op workload.Op, peer bool) bool) actorRef {
	// A call already sent or kept comes first: it is what will act.
	for i, g := range s.Msgs {
		th := m.w.Threads[g.Thread]
		if op := th.Ops[g.PC]; g.Flags&msgDone == 0 && match(op, false) {
			what := th.Name + "'s " + m.callText(op) + " completes"
			if g.Flags&msgPolled != 0 {
				what = "the scheduler's retry of " + th.Name + "'s kept " + m.callText(op) + " goes through"
			}
			return actorRef{waitNode{'m', i}, what}
		}
	}
	for t, th := range m.w.Threads {
		for _, op := range th.Ops[min(int(s.PC[t]), len(th.Ops)):] {
			if match(op, false) {
				return actorRef{waitNode{'t', t}, th.Name + " " + m.doing(op)}
			}
		}
	}
	for p, pr := range m.w.Peers {
		for _, op := range pr.Ops[min(int(s.PeerPC[p]), len(pr.Ops)):] {
			if match(op, true) {
				return actorRef{waitNode{'p', p}, pr.Name + " " + m.doing(op)}
			}
		}
	}
	return actorRef{}
}
