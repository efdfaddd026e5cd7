package model

import (
	"slices"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// Property names, as reports print them.
const (
	PropCap        = "in-flight never exceeds the cap"
	PropNoSendPoll = "no message is sent in polling or stopped mode"
	PropSlotReap   = "a slot is freed only by a reap"
	PropHysteresis = "mode changes obey the hysteresis rule"
	PropReapOnce   = "each message completes once and is reaped once, by its sender"
	PropCQ         = "the completion queue never holds more replies than its bound"
	PropReserve    = "ordinary calls never hold more than the slots the reserve leaves"
	PropSQ         = "the submission ring never holds more staged calls than its bound"
	GuardRingFull  = "the submission ring fills"
	GuardCap       = "the cap is reached"
	GuardPolling   = "polling mode is entered"
	GuardStopped   = "the scheduler stops at the cap"
	GuardLeft      = "polling mode is left"
	GuardResumed   = "the upcall resumes issuing"
	GuardReserve   = "a reserved call holds a slot while every ordinary slot is taken"
	GuardOverflow  = "the completion queue overflows"
	GuardFlushed   = "the overflow list is flushed"
)

// ActionGuard is a guard read off the search's firing counts rather than a
// state: it holds when its action kind fired at least once.
type ActionGuard struct {
	Name string
	Kind string // as in Kinds
}

// ActionGuards returns the guards that are events, not states: leaving
// polling mode, the upcall after a stop.
func (m *Model) ActionGuards() []ActionGuard {
	var out []ActionGuard
	if m.kindIndex[ReapLeavePolling] >= 0 {
		out = append(out, ActionGuard{GuardLeft, ReapLeavePolling.String()})
	}
	if m.kindIndex[ReapResume] >= 0 {
		out = append(out, ActionGuard{GuardResumed, ReapResume.String()})
	}
	if m.kindIndex[FlushOverflow] >= 0 {
		out = append(out, ActionGuard{GuardFlushed, FlushOverflow.String()})
	}
	return out
}

// Properties returns the safety properties and the sometimes-guards of
// docs/model.md. Deadlock and livelock freedom are checked by the explorer
// itself.
func (m *Model) Properties() []check.Property[State, Action] {
	procs := len(m.w.Processes)
	ps := []check.Property[State, Action]{
		check.Always[State, Action](PropCap, func(s State) bool {
			for p := range procs {
				if m.caps[p] != workload.Unlimited && m.InFlight(s, p) > m.caps[p] {
					return false
				}
			}
			return true
		}),
		check.AlwaysStep(PropNoSendPoll, func(from State, a Action, to State) bool {
			switch a.Kind {
			case SendCall, SendEnterPolling, SendStop:
				return from.Mode[m.w.Threads[a.Who].Process] == 0
			case SendReserved:
				// The one exception: a reserved call into a free
				// reserved slot, whatever the mode.
				t := int(a.Who)
				p := m.w.Threads[t].Process
				return m.isReserved(t, from.PC[t]) && m.reservedInFlight(from, p) < m.reserves[p]
			}
			return true
		}),
		check.AlwaysStep(PropSlotReap, func(from State, a Action, to State) bool {
			for p := range procs {
				before, after := m.InFlight(from, p), m.InFlight(to, p)
				switch {
				case after == before:
				case after == before+1:
					if !isSend(a.Kind) || m.w.Threads[a.Who].Process != p {
						return false
					}
				case after == before-1:
					if !isReap(a.Kind) || m.w.Threads[from.Msgs[a.Who].Thread].Process != p {
						return false
					}
				default:
					return false
				}
			}
			return true
		}),
		check.AlwaysStep(PropHysteresis, func(from State, a Action, to State) bool {
			for p := range procs {
				was, is := from.Mode[p] != 0, to.Mode[p] != 0
				switch {
				case !was && is:
					c := m.portConfig(p)
					if !isSend(a.Kind) || c.Used(m.PortState(to, p)) != c.Limit() {
						return false
					}
				case was && !is:
					c := m.portConfig(p)
					if !isReap(a.Kind) || c.Used(m.PortState(to, p)) > m.lows[p] {
						return false
					}
				}
			}
			return true
		}),
		check.AlwaysStep(PropReapOnce, func(from State, a Action, to State) bool {
			switch {
			case a.Kind == CompleteCall:
				g := from.Msgs[a.Who]
				i := msgOf(to, int(g.Thread), g.PC)
				return g.Flags&msgDone == 0 && i >= 0 && to.Msgs[i].Flags&msgDone != 0
			case isReap(a.Kind):
				g := from.Msgs[a.Who]
				if g.Flags&msgDone == 0 || len(to.Msgs) != len(from.Msgs)-1 || msgOf(to, int(g.Thread), g.PC) >= 0 {
					return false
				}
				// Only the sender moves on: its pc or its results.
				for t := range from.PC {
					moved := from.PC[t] != to.PC[t] || from.Ready[t] != to.Ready[t]
					if moved != (t == int(g.Thread)) {
						return false
					}
				}
			}
			return true
		}),
	}
	capped := slices.ContainsFunc(m.caps, func(c int) bool { return c != workload.Unlimited })
	if capped {
		ps = append(ps, check.Sometimes[State, Action](GuardCap, func(s State) bool {
			for p := range procs {
				if m.caps[p] != workload.Unlimited && m.InFlight(s, p) == m.caps[p] {
					return true
				}
			}
			return false
		}))
		mode, name := uint8(0), ""
		switch {
		case m.policy.Polls():
			mode, name = modePolling, GuardPolling
		case m.policy == port.Stop:
			mode, name = modeStopped, GuardStopped
		}
		if mode != 0 {
			ps = append(ps, check.Sometimes[State, Action](name, func(s State) bool {
				return slices.ContainsFunc(s.Mode, func(x uint8) bool { return x&mode != 0 })
			}))
		}
	}
	if slices.ContainsFunc(m.w.Processes, func(p workload.Process) bool { return p.SQ > 0 }) {
		ps = append(ps, check.Always[State, Action](PropSQ, func(s State) bool {
			for p := range procs {
				if sq := m.w.Processes[p].SQ; sq > 0 && m.staged(s, p) > sq {
					return false
				}
			}
			return true
		}), check.Sometimes[State, Action](GuardRingFull, func(s State) bool {
			for p := range procs {
				if sq := m.w.Processes[p].SQ; sq > 0 && m.staged(s, p) == sq {
					return true
				}
			}
			return false
		}))
	}
	if slices.ContainsFunc(m.reserves, func(k int) bool { return k > 0 }) {
		ps = append(ps, check.Always[State, Action](PropReserve, func(s State) bool {
			for p := range procs {
				if c := m.portConfig(p); c.Reserve > 0 && c.Used(m.PortState(s, p)) > c.Limit() {
					return false
				}
			}
			return true
		}))
	}
	if m.reserved != nil {
		ps = append(ps, check.Sometimes[State, Action](GuardReserve, func(s State) bool {
			for p := range procs {
				c, ps := m.portConfig(p), m.PortState(s, p)
				if c.Reserve > 0 && ps.Reserved > 0 && c.Used(ps) >= c.Limit() {
					return true
				}
			}
			return false
		}))
	}
	if slices.ContainsFunc(m.w.Processes, func(p workload.Process) bool { return p.CQ > 0 }) {
		ps = append(ps, check.Always[State, Action](PropCQ, func(s State) bool {
			for p := range procs {
				if cq := m.w.Processes[p].CQ; cq > 0 && m.cqHeld(s, p) > cq {
					return false
				}
			}
			return true
		}))
		ps = append(ps, check.Sometimes[State, Action](GuardOverflow, func(s State) bool {
			return slices.ContainsFunc(s.Msgs, func(g Msg) bool { return g.Flags&(msgOverflow|msgLost) != 0 })
		}))
	}
	return ps
}

func isSend(k ActKind) bool {
	return k == SendCall || k == SendEnterPolling || k == SendStop || k == SendReserved
}
func isReap(k ActKind) bool { return k == ReapReply || k == ReapLeavePolling || k == ReapResume }
