package model

import (
	"encoding/binary"
	"slices"
	"sysmsg/model/workload"
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
	// wait.
	Ready []uint8
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
)

// clone copies s with three allocations: one for the program counters, one
// for every byte field and one for the messages (with room for one more, as
// a send adds one). Next is the explorer's hottest path.
func (s State) clone() State {
	pcs := make([]uint16, len(s.PC)+len(s.PeerPC))
	copy(pcs, s.PC)
	copy(pcs[len(s.PC):], s.PeerPC)
	nb := len(s.Items) + len(s.Closed) + len(s.Mode) + len(s.Ready) + len(s.Cancel)
	buf := make([]byte, 0, nb)
	take := func(b []byte) []byte {
		start := len(buf)
		buf = append(buf, b...)
		return buf[start:len(buf):len(buf)]
	}
	msgs := make([]Msg, len(s.Msgs), len(s.Msgs)+1)
	copy(msgs, s.Msgs)
	return State{
		PC: pcs[:len(s.PC):len(s.PC)], PeerPC: pcs[len(s.PC):],
		Items: take(s.Items), Closed: take(s.Closed), Mode: take(s.Mode), Ready: take(s.Ready), Cancel: take(s.Cancel),
		Msgs: msgs,
	}
}

// Encode appends the state's canonical encoding to dst.
func (m *Model) Encode(dst []byte, s State) []byte {
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
		dst = append(dst, s.Ready...)
	}
	if m.cancels {
		dst = append(dst, s.Cancel...)
	}
	dst = append(dst, byte(len(s.Msgs)))
	for _, g := range s.Msgs {
		dst = append(dst, g.Thread)
		dst = binary.AppendUvarint(dst, uint64(g.PC))
		dst = append(dst, g.Flags)
	}
	return dst
}

// Decode rebuilds a state from its encoding.
func (m *Model) Decode(b []byte) State {
	s := m.empty()
	uv := func() uint16 {
		v, n := binary.Uvarint(b)
		b = b[n:]
		return uint16(v)
	}
	for i := range s.PC {
		s.PC[i] = uv()
	}
	for i := range s.PeerPC {
		s.PeerPC[i] = uv()
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
		b = b[copy(s.Ready, b):]
	}
	if m.cancels {
		b = b[copy(s.Cancel, b):]
	}
	n := int(b[0])
	b = b[1:]
	s.Msgs = make([]Msg, n)
	for i := range n {
		s.Msgs[i].Thread = b[0]
		b = b[1:]
		s.Msgs[i].PC = uv()
		s.Msgs[i].Flags = b[0]
		b = b[1:]
	}
	return s
}

func (m *Model) empty() State {
	w := m.w
	nt, no := len(w.Threads), len(w.Objects)
	return State{
		PC: make([]uint16, nt), PeerPC: make([]uint16, len(w.Peers)),
		Items: make([]uint8, 2*no), Closed: make([]uint8, no),
		Mode: make([]uint8, len(w.Processes)), Ready: make([]uint8, nt),
		Cancel: make([]uint8, nt),
	}.clone()
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
	i, _ := slices.BinarySearchFunc(msgs, g, func(a, b Msg) int {
		if a.Thread != b.Thread {
			return int(a.Thread) - int(b.Thread)
		}
		return int(a.PC) - int(b.PC)
	})
	return slices.Insert(msgs, i, g)
}
