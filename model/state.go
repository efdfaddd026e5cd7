package model

import (
	"encoding/binary"
	"slices"

	"github.com/sysmsg/sysmsg/model/workload"
)

// State is one state of the system. Its slices are never shared between
// states: Next clones before it changes anything.
type State struct {
	// PC is, per thread, the index of its next operation; len(Ops) when its
	// program is done.
	PC []uint16
	// PeerPC is, per peer, the index of its next operation.
	PeerPC []uint16
	// Items holds two counts per object: side 0 (a pipe's or queue's items,
	// a conn's inbound items) and side 1 (a conn's outbound items).
	Items []uint8
	// Closed holds one byte per object: bit 0 for side 0, bit 1 for side 1.
	Closed []uint8
	// Mode is, per process, modePolling and modeStopped bits.
	Mode []uint8
	// Ready is, per thread, the results of its submitted calls available to
	// wait. A thread may submit up to workload.MaxOps calls before it waits,
	// so a byte would not do.
	Ready []uint16
	// Cancel is, per thread, 1 when a cancel is pending for its next call.
	Cancel []uint8
	// Msgs are the messages holding slots, sorted by thread then by the
	// operation that sent them.
	Msgs []Msg
}

// Msg is a syscall message holding a slot, sent and not yet reaped, or a
// submitted call the scheduler keeps retrying in polling mode (msgPolled).
type Msg struct {
	Thread uint8
	PC     uint16 // the operation that sent it
	Flags  uint8  // msgDone, msgCancelled, msgFreed
}

// The parser's limits keep every fixed-width field of a State and an Action
// in range, so that an accepted workload never wraps a field and merges
// states: these constants do not compile if a limit outgrows its field.
const (
	_ uint8  = workload.MaxThreads - 1 // Msg.Thread, Action.Proc (a process has a thread)
	_ uint8  = workload.MaxCapacity    // Items, the counts an object holds
	_ uint16 = workload.MaxOps         // PC, PeerPC, Msg.PC, Ready
)

const (
	modePolling = 1 << iota
	modeStopped
)

const (
	msgDone      = 1 << iota // the kernel has completed it and posted the reply
	msgCancelled             // it completed as cancelled
	msgEOF                   // a read that completed with end-of-file
	msgFreed                 // seeded bug only: the slot was freed at completion
	// msgPolled marks a submitted call made in polling mode that would have
	// blocked: no message and no slot; the scheduler keeps it and retries
	// it, so that the submitting thread goes on as it would have.
	msgPolled
	// msgOverflow marks a completed call whose reply found the process's
	// completion queue full and waits on the kernel's overflow list until
	// a flush returns it; it cannot be reaped before.
	msgOverflow
	// msgLost marks a completed call whose reply the kernel dropped, the
	// queue being full (overflow drop): it is never reaped, and its slot
	// is never freed.
	msgLost
	// msgStaged marks a sent call still staged in its process's
	// submission ring: it holds its slot, but the kernel has not been
	// given it and cannot complete it until the ring is submitted.
	msgStaged
)

// clone copies s with three allocations (see alloc), with room for one
// more message, as a send adds one. Next is the explorer's hottest path.
func (s State) clone() State {
	t := alloc(len(s.PC), len(s.PeerPC), len(s.Ready), len(s.Items), len(s.Closed), len(s.Mode), len(s.Cancel), len(s.Msgs), len(s.Msgs)+1)
	s.copyTo(t)
	return t
}

// cloneInto copies s into d's storage and returns it, or returns a clone
// of s when d's fields are not the lengths of s's (d is the zero State, or
// a state of another workload). Like clone, it leaves room for one more
// message.
func (s State) cloneInto(d State) State {
	if len(d.PC) != len(s.PC) || len(d.PeerPC) != len(s.PeerPC) || len(d.Ready) != len(s.Ready) ||
		len(d.Items) != len(s.Items) || len(d.Closed) != len(s.Closed) || len(d.Mode) != len(s.Mode) ||
		len(d.Cancel) != len(s.Cancel) {
		return s.clone()
	}
	if cap(d.Msgs) < len(s.Msgs)+1 {
		d.Msgs = make([]Msg, len(s.Msgs), 2*len(s.Msgs)+1)
	}
	d.Msgs = d.Msgs[:len(s.Msgs)]
	s.copyTo(d)
	return d
}

// copyTo copies every field of s into d's, which have their lengths.
func (s State) copyTo(d State) {
	copy(d.PC, s.PC)
	copy(d.PeerPC, s.PeerPC)
	copy(d.Ready, s.Ready)
	copy(d.Items, s.Items)
	copy(d.Closed, s.Closed)
	copy(d.Mode, s.Mode)
	copy(d.Cancel, s.Cancel)
	copy(d.Msgs, s.Msgs)
}

// alloc returns a zero state with fields of the given lengths, in three
// allocations: one for the program counters and result counts, one for
// every byte field and one for the messages (nmsg of them, with room for
// capmsg). Each field's capacity is its length, so that an append to one
// never writes over the next.
func alloc(npc, npeer, nready, nitems, nclosed, nmode, ncancel, nmsg, capmsg int) State {
	pcs := make([]uint16, npc+npeer+nready)
	buf := make([]byte, nitems+nclosed+nmode+ncancel)
	take := func(n int) []byte {
		b := buf[:n:n]
		buf = buf[n:]
		return b
	}
	return State{
		PC: pcs[:npc:npc], PeerPC: pcs[npc : npc+npeer : npc+npeer], Ready: pcs[npc+npeer:],
		Items: take(nitems), Closed: take(nclosed), Mode: take(nmode), Cancel: take(ncancel),
		Msgs: make([]Msg, nmsg, capmsg),
	}
}

// Encode appends the state's canonical encoding to dst: with the symmetry
// reduction, that of its canonical form (symmetry.go), so that states the
// same up to a renaming of copies encode alike; otherwise EncodeExact's.
func (m *Model) Encode(dst []byte, s State) []byte {
	if m.sym != nil {
		s = m.canonical(s)
	}
	return m.EncodeExact(dst, s)
}

// EncodeExact appends an encoding of s that tells every state apart. Every
// count that can pass a byte (program counters, results ready, the number
// of messages) is a uvarint, one byte while it is below 128; the rest fit
// a byte by the parser's limits (workload.MaxThreads, MaxCapacity).
func (m *Model) EncodeExact(dst []byte, s State) []byte {
	for _, pc := range s.PC {
		dst = binary.AppendUvarint(dst, uint64(pc))
	}
	for _, pc := range s.PeerPC {
		dst = binary.AppendUvarint(dst, uint64(pc))
	}
	// Only a conn uses side 1, and only pipes and conns can be closed: the
	// encoding leaves out what is always zero, and packs the closed bits.
	for o, obj := range m.w.Objects {
		dst = append(dst, s.Items[2*o])
		if obj.Kind == workload.Conn {
			dst = append(dst, s.Items[2*o+1])
		}
	}
	var bits byte
	nbits := 0
	for o, obj := range m.w.Objects {
		if obj.Kind == workload.Queue {
			continue
		}
		bits |= (s.Closed[o] & 3) << (nbits % 8)
		nbits += 2
		if nbits%8 == 0 {
			dst = append(dst, bits)
			bits = 0
		}
	}
	if nbits%8 != 0 {
		dst = append(dst, bits)
	}
	dst = append(dst, s.Mode...)
	if m.async {
		for _, r := range s.Ready {
			dst = binary.AppendUvarint(dst, uint64(r))
		}
	}
	if m.cancels {
		dst = append(dst, s.Cancel...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.Msgs)))
	for _, g := range s.Msgs {
		dst = append(dst, g.Thread)
		dst = binary.AppendUvarint(dst, uint64(g.PC))
		dst = append(dst, g.Flags)
	}
	return dst
}

// Decode rebuilds a state from its encoding.
func (m *Model) Decode(b []byte) State {
	s := m.blank(0)
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		b = b[n:]
		return v
	}
	for i := range s.PC {
		s.PC[i] = uint16(uv())
	}
	for i := range s.PeerPC {
		s.PeerPC[i] = uint16(uv())
	}
	for o, obj := range m.w.Objects {
		s.Items[2*o], b = b[0], b[1:]
		if obj.Kind == workload.Conn {
			s.Items[2*o+1], b = b[0], b[1:]
		}
	}
	nbits := 0
	for o, obj := range m.w.Objects {
		if obj.Kind == workload.Queue {
			continue
		}
		s.Closed[o] = b[0] >> (nbits % 8) & 3
		nbits += 2
		if nbits%8 == 0 {
			b = b[1:]
		}
	}
	if nbits%8 != 0 {
		b = b[1:]
	}
	b = b[copy(s.Mode, b):]
	if m.async {
		for i := range s.Ready {
			s.Ready[i] = uint16(uv())
		}
	}
	if m.cancels {
		b = b[copy(s.Cancel, b):]
	}
	n := int(uv())
	s.Msgs = make([]Msg, n)
	for i := range n {
		s.Msgs[i].Thread = b[0]
		b = b[1:]
		s.Msgs[i].PC = uint16(uv())
		s.Msgs[i].Flags = b[0]
		b = b[1:]
	}
	return s
}

func (m *Model) empty() State { return m.blank(1) }

// blank is the zero state of the workload, with room for capmsg messages.
func (m *Model) blank(capmsg int) State {
	w := m.w
	nt, no := len(w.Threads), len(w.Objects)
	return alloc(nt, len(w.Peers), nt, 2*no, no, len(w.Processes), nt, 0, capmsg)
}

// InFlight returns the number of slots process p holds in s: its messages
// sent and not yet reaped.
func (m *Model) InFlight(s State, p int) int {
	n := 0
	for _, g := range s.Msgs {
		if m.w.Threads[g.Thread].Process == p && g.Flags&(msgFreed|msgPolled) == 0 {
			n++
		}
	}
	return n
}

// reservedInFlight returns how many of process p's messages in s are
// reserved calls'.
func (m *Model) reservedInFlight(s State, p int) int {
	if m.reserved == nil {
		return 0
	}
	n := 0
	for _, g := range s.Msgs {
		if m.w.Threads[g.Thread].Process == p && g.Flags&(msgFreed|msgPolled) == 0 && m.reserved[g.Thread][g.PC] {
			n++
		}
	}
	return n
}

// cqFull reports whether process p's completion queue is full in s: as
// many replies posted and not reaped, outside the overflow list, as its
// bound.
func (m *Model) cqFull(s State, p int) bool {
	bound := m.w.Processes[p].CQ
	return bound > 0 && m.cqHeld(s, p) >= bound
}

// cqHeld returns how many replies process p's completion queue holds in
// s: its messages completed and reapable, not on the overflow list or
// lost.
func (m *Model) cqHeld(s State, p int) int {
	n := 0
	for _, g := range s.Msgs {
		if reapable(g) && m.w.Threads[g.Thread].Process == p {
			n++
		}
	}
	return n
}

// staged returns the number of process p's calls staged in its
// submission ring in s.
func (m *Model) staged(s State, p int) int {
	n := 0
	for _, g := range s.Msgs {
		if g.Flags&msgStaged != 0 && m.w.Threads[g.Thread].Process == p {
			n++
		}
	}
	return n
}

// reapable reports whether g's reply waits in the completion queue.
func reapable(g Msg) bool { return g.Flags&(msgDone|msgOverflow|msgLost) == msgDone }

// msgOf returns the index in s.Msgs of thread t's message sent at pc, or -1.
func msgOf(s State, t int, pc uint16) int {
	for i, g := range s.Msgs {
		if int(g.Thread) == t && g.PC == pc {
			return i
		}
	}
	return -1
}

// hasMsgs reports whether thread t holds any slot.
func hasMsgs(s State, t int) bool {
	for _, g := range s.Msgs {
		if int(g.Thread) == t {
			return true
		}
	}
	return false
}

func insertMsg(msgs []Msg, g Msg) []Msg {
	i, _ := slices.BinarySearchFunc(msgs, g, msgOrder)
	return slices.Insert(msgs, i, g)
}

// msgOrder is the order of State.Msgs: by thread, then by the operation
// that sent the message.
func msgOrder(a, b Msg) int {
	if a.Thread != b.Thread {
		return int(a.Thread) - int(b.Thread)
	}
	return int(a.PC) - int(b.PC)
}
