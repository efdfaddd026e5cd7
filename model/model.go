package model

import (
	"fmt"
	"slices"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// Config chooses the policy and, for every process, the cap and low-water
// mark.
type Config struct {
	Policy port.Policy
	// Cap overrides every process's cap when not 0; Unlimited means no cap.
	Cap int
	// Low overrides every process's low-water mark unless it is
	// workload.Unset. workload.Effective gives the rule.
	Low int
	// Symmetry identifies states that are the same up to a renaming of the
	// workload's copies (symmetry.go): fewer states, the same verdicts for
	// the safety properties, deadlock and livelock. Fair progress is not
	// checked on such a model.
	Symmetry bool

	mutant string // a seeded bug, set only by this package's tests
	_      struct{}
}

// Model is the syscall-messaging system of one workload under one
// configuration, as a model for the explorer. It is immutable and safe for
// concurrent use.
type Model struct {
	w        *workload.Workload
	policy   port.Policy
	caps     []int // per process; Unlimited for none
	lows     []int
	reserves []int
	mutant   string

	// reserved is, per thread and operation, whether the call is a
	// reserved one of its process (workload.Reserved); nil when no
	// process has a reserve.
	reserved [][]bool

	// sym are the groups of copies that Encode identifies; nil without
	// Config.Symmetry or without copies.
	sym []symGroup

	async, cancels bool // whether the workload submits calls or cancels
	kinds          []string
	kindIndex      [numActKinds]int

	// retryActor is, per thread and operation, the index among the retry
	// actors of the kept call that operation may leave, or -1; nil when no
	// call can be kept.
	retryActor [][]int
	// ample is, per thread and operation, whether the userland step may
	// be taken alone in the partial-order reduction (partialorder.go).
	ample      [][]bool
	retryNames []string
}

// New builds the model of w under cfg.
func New(w *workload.Workload, cfg Config) (*Model, error) {
	m := &Model{w: w, policy: cfg.Policy, mutant: cfg.mutant}
	if cfg.Policy < port.Block || cfg.Policy > port.PollNoHyst {
		return nil, fmt.Errorf("%w %d", port.ErrPolicy, cfg.Policy)
	}
	set, err := workload.Effective(w, cfg.Policy, cfg.Cap, cfg.Low)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	for _, st := range set {
		// The implementation takes larger caps; the model's encoding holds
		// the items of a full channel in a byte, and its cap is bounded
		// with them.
		if st.Cap != workload.Unlimited && st.Cap > workload.MaxCapacity {
			return nil, fmt.Errorf("model: cap %d out of range 1..%d", st.Cap, workload.MaxCapacity)
		}
		m.caps = append(m.caps, st.Cap)
		m.lows = append(m.lows, st.Low)
		m.reserves = append(m.reserves, st.Reserve)
	}
	if slices.ContainsFunc(m.reserves, func(k int) bool { return k > 0 }) && m.mutant != "reserve-ignored" {
		m.reserved = make([][]bool, len(w.Threads))
		for t, th := range w.Threads {
			m.reserved[t] = make([]bool, len(th.Ops))
			for pc, op := range th.Ops {
				m.reserved[t][pc] = w.Reserved(t, op)
			}
		}
	}
	for _, t := range w.Threads {
		for _, op := range t.Ops {
			m.async = m.async || op.Async
			m.cancels = m.cancels || op.Kind == workload.Cancel
		}
	}
	m.buildKinds()
	m.buildRetryActors()
	m.buildAmple()
	if cfg.Symmetry {
		m.sym = findSymmetry(w)
	}
	return m, nil
}

// buildRetryActors makes one actor per submitted call that the scheduler
// may keep: see [Model.Actors].
func (m *Model) buildRetryActors() {
	if m.kindIndex[PollRetry] < 0 {
		return
	}
	m.retryActor = make([][]int, len(m.w.Threads))
	for t, th := range m.w.Threads {
		m.retryActor[t] = make([]int, len(th.Ops))
		for pc, op := range th.Ops {
			m.retryActor[t][pc] = -1
			if op.Async {
				m.retryActor[t][pc] = len(m.retryNames)
				m.retryNames = append(m.retryNames, fmt.Sprintf("retry of %s's submitted %s (operation %d)", th.Name, m.callText(op), pc+1))
			}
		}
	}
}

// Workload returns the workload the model was built from.
func (m *Model) Workload() *workload.Workload { return m.w }

// Cap returns process p's cap (Unlimited for none).
func (m *Model) Cap(p int) int { return m.caps[p] }

// Low returns process p's low-water mark.
func (m *Model) Low(p int) int { return m.lows[p] }

// Policy returns the model's policy.
func (m *Model) Policy() port.Policy { return m.policy }

// ActKind is the kind of an [Action].
type ActKind uint8

const (
	// SendCall: a thread sends a system call as a message, taking a slot.
	SendCall ActKind = iota
	// SendEnterPolling: the send that reaches the cap; the process enters
	// polling mode.
	SendEnterPolling
	// SendStop: the send that reaches the cap; the process stops issuing.
	SendStop
	// SendReserved: a reserved call is sent into a free reserved slot,
	// whatever the mode.
	SendReserved
	// PollCall: in polling mode, a non-blocking attempt that proceeds.
	PollCall
	// PollWouldBlock: in polling mode, an attempt that would block; the
	// thread yields and retries later.
	PollWouldBlock
	// PollDefer: in polling mode, a submitted call that would block; it
	// takes no slot, the scheduler keeps it to retry, and the thread goes on.
	PollDefer
	// PollRetry: the scheduler retries a kept submitted call, which now
	// proceeds; its result is available to wait.
	PollRetry
	// PollRetryWouldBlock: the scheduler retries a kept submitted call,
	// which would still block.
	PollRetryWouldBlock
	// CallCancelled: a call returns "cancelled" at once, a cancel being
	// pending for its thread.
	CallCancelled
	// CancelDropped: a cancel finds no free slot and is dropped, doing
	// nothing (a process with "cancels drop").
	CancelDropped
	// UserStep: push, pop or wait, in userland.
	UserStep
	// CompleteCall: the kernel completes a message and posts the reply.
	CompleteCall
	// ReapReply: the scheduler (or the reaper thread) reaps a reply.
	ReapReply
	// ReapLeavePolling: the reap that brings in-flight to the low-water
	// mark; the process leaves polling mode.
	ReapLeavePolling
	// ReapResume: the reap that brings in-flight to the low-water mark under
	// stop; the upcall lets the scheduler issue calls again.
	ReapResume
	// StageFull: a thread whose call finds its process's submission ring
	// full submits every staged call first (submit on-full).
	StageFull
	// SubmitRing: the scheduler submits every staged call before it lets
	// anything park (submit before-park).
	SubmitRing
	// FlushOverflow: the scheduler (or the reaper thread) enters the
	// kernel to get events, and a reply on the overflow list moves into
	// the completion queue, which has room.
	FlushOverflow
	// PeerStep: a peer sends, receives or closes.
	PeerStep
	numActKinds
)

var actKindNames = [numActKinds]string{
	SendCall: "send", SendEnterPolling: "send reaching the cap: enter polling", SendStop: "send reaching the cap: stop issuing",
	SendReserved: "send into a reserved slot", CancelDropped: "cancel dropped: no free slot", FlushOverflow: "flush of the overflow list",
	StageFull: "submit of a full ring", SubmitRing: "submit of the staged calls",
	PollCall: "polling attempt", PollWouldBlock: "polling attempt would block", CallCancelled: "call cancelled at once",
	PollDefer: "polling attempt of a submitted call would block: kept", PollRetry: "retry of a kept call",
	PollRetryWouldBlock: "retry of a kept call would block",
	UserStep:            "userland step", CompleteCall: "kernel completion", ReapReply: "reap",
	ReapLeavePolling: "reap: leave polling", ReapResume: "reap: upcall, resume issuing", PeerStep: "peer step",
}

func (k ActKind) String() string { return actKindNames[k] }

// Action is one step of the system.
type Action struct {
	Kind ActKind
	// Who is a thread (thread steps), a peer (PeerStep) or an index into
	// the state's Msgs (retries, completions and reaps). A thread may hold
	// thousands of submitted calls, so a message index needs more than a
	// byte.
	Who uint32
	// Proc is, for a reap or a retry of a kept call, the process whose
	// scheduler takes it; for a reap, the actor for fair progress.
	Proc uint8
	// PC is, for a retry of a kept call, the operation that submitted it;
	// with the thread it names the retry's actor (see [Model.Actors]).
	PC     uint16
	Thread uint8
}

// buildKinds lists the action kinds that can fire under this policy, cap
// and workload, so that one that never fires is a real finding (a cap that
// is never reached, a fallback never used) and not noise.
func (m *Model) buildKinds() {
	capped := false
	for _, c := range m.caps {
		capped = capped || c != workload.Unlimited
	}
	usesQueue := false
	for _, t := range m.w.Threads {
		for _, op := range t.Ops {
			usesQueue = usesQueue || !op.Kind.Syscall()
		}
	}
	// At cap 1 under a fallback, every send reaches the cap and every reap
	// leaves it: the plain kinds cannot fire.
	allOne := !slices.ContainsFunc(m.caps, func(c int) bool { return c != 1 })
	fallback := m.policy != port.Block
	for k := range numActKinds {
		on := true
		switch k {
		case SendCall, ReapReply:
			on = !(allOne && fallback)
		case SendEnterPolling, PollCall, PollWouldBlock, ReapLeavePolling:
			on = capped && m.policy.Polls()
		case PollDefer, PollRetry, PollRetryWouldBlock:
			on = capped && m.policy.Polls() && m.async
		case SendStop, ReapResume:
			on = capped && m.policy == port.Stop
		case CallCancelled:
			on = m.cancels
		case SendReserved:
			on = m.reserved != nil
		case CancelDropped:
			on = m.cancels && slices.ContainsFunc(m.w.Processes, func(p workload.Process) bool { return p.DropCancels })
		case StageFull:
			on = slices.ContainsFunc(m.w.Processes, func(p workload.Process) bool { return p.SQ > 0 && p.SubmitOnFull })
		case SubmitRing:
			on = slices.ContainsFunc(m.w.Processes, func(p workload.Process) bool { return p.SQ > 0 && !p.SubmitOnFull })
		case FlushOverflow:
			on = slices.ContainsFunc(m.w.Processes, func(p workload.Process) bool {
				return p.CQ > 0 && !p.FlushNever && p.Overflow == workload.OverflowList
			})
		case UserStep:
			on = usesQueue
		case PeerStep:
			on = len(m.w.Peers) > 0
		}
		m.kindIndex[k] = -1
		if on {
			m.kindIndex[k] = len(m.kinds)
			m.kinds = append(m.kinds, actKindNames[k])
		}
	}
}

// Kinds names the action kinds that can fire in this model.
func (m *Model) Kinds() []string { return m.kinds }

// Kind returns the index of a's kind in Kinds.
func (m *Model) Kind(a Action) int { return m.kindIndex[a.Kind] }

// Init returns the one initial state: every program at its start, every
// channel empty and open, no message in flight, every process messaging.
func (m *Model) Init() []State { return []State{m.empty()} }

// Terminal reports whether every thread and peer has finished.
func (m *Model) Terminal(s State) bool {
	if len(s.Msgs) > 0 {
		return false
	}
	for t, pc := range s.PC {
		if int(pc) < len(m.w.Threads[t].Ops) {
			return false
		}
	}
	for p, pc := range s.PeerPC {
		if int(pc) < len(m.w.Peers[p].Ops) {
			return false
		}
	}
	return true
}

// side returns the index into State.Items of the channel a thread's (or, with
// peer set, a peer's) operation on object o touches.
func (m *Model) side(o int, k workload.OpKind, peer bool) int {
	if m.w.Objects[o].Kind != workload.Conn {
		return 2 * o
	}
	// A conn: side 0 carries peer to process, side 1 process to peer.
	inbound := !peer && k == workload.Read || peer && (k == workload.Send || k == workload.Close)
	if inbound {
		return 2 * o
	}
	return 2*o + 1
}

func closed(s State, side int) bool { return s.Closed[side/2]&(1<<(side%2)) != 0 }

// canProceed reports whether thread t's system call op can proceed now: in
// the kernel, for a message, or as a non-blocking attempt in polling mode.
func (m *Model) canProceed(s State, op workload.Op) bool {
	switch op.Kind {
	case workload.Read:
		sd := m.side(op.Object, workload.Read, false)
		return s.Items[sd] > 0 || closed(s, sd)
	case workload.Write:
		sd := m.side(op.Object, workload.Write, false)
		return closed(s, sd) || int(s.Items[sd]) < m.w.Objects[op.Object].Capacity
	}
	return true // close and cancel
}

// perform applies the effect of thread t's system call op, which can
// proceed, to s (already a clone). It reports end-of-file for a read.
func (m *Model) perform(s *State, t int, op workload.Op) (eof bool) {
	switch op.Kind {
	case workload.Read:
		sd := m.side(op.Object, workload.Read, false)
		if s.Items[sd] == 0 {
			return true
		}
		s.Items[sd]--
	case workload.Write:
		if sd := m.side(op.Object, workload.Write, false); !closed(*s, sd) {
			s.Items[sd]++
		}
	case workload.Close:
		sd := m.side(op.Object, workload.Close, false)
		s.Closed[sd/2] |= 1 << (sd % 2)
	case workload.Cancel:
		target := op.Target
		hit := false
		// A kept call holds no slot and has no reply to reap: it ends
		// here, and "cancelled" is its result for wait.
		kept := s.Msgs[:0]
		for _, g := range s.Msgs {
			if int(g.Thread) == target && g.Flags&(msgDone|msgPolled) == msgPolled {
				s.Ready[target]++
				hit = true
				continue
			}
			kept = append(kept, g)
		}
		s.Msgs = kept
		for i := range s.Msgs {
			if g := &s.Msgs[i]; int(g.Thread) == target && g.Flags&msgDone == 0 {
				m.post(s, i)
				g.Flags |= msgCancelled
				if m.mutant == "slot-freed-at-completion" {
					g.Flags |= msgFreed
				}
				hit = true
			}
		}
		if !hit {
			s.Cancel[target] = 1
		}
	}
	return false
}

// post marks message i of s completed: its reply is posted to the
// process's completion queue or, with the queue full, to the overflow
// list, or nowhere (overflow drop).
func (m *Model) post(s *State, i int) {
	g := &s.Msgs[i]
	p := m.w.Threads[g.Thread].Process
	if m.cqFull(*s, p) {
		if m.w.Processes[p].Overflow == workload.OverflowDrop {
			g.Flags |= msgLost
		} else {
			g.Flags |= msgOverflow
		}
	}
	g.Flags |= msgDone
}

// isReserved reports whether thread t's operation at pc is a reserved call.
func (m *Model) isReserved(t int, pc uint16) bool {
	return m.reserved != nil && m.reserved[t][pc]
}

// sendsAs is whether thread t's call at pc is sent as a reserved call: as
// isReserved says, except under the seeded bug ordinary-into-reserve,
// which lets every call into a free reserved slot while the slots count
// it as what it is.
func (m *Model) sendsAs(t int, pc uint16) bool {
	return m.isReserved(t, pc) || m.mutant == "ordinary-into-reserve" && m.reserved != nil
}

// sendOutcome is what the spec's port says of thread t's system call at
// pc in s.
func (m *Model) sendOutcome(s State, t int, pc uint16) port.SendOutcome {
	p := m.w.Threads[t].Process
	_, out := m.portConfig(p).SendAs(m.PortState(s, p), m.sendsAs(t, pc))
	return out
}

// dropsCancel reports whether op is a cancel that its process drops when
// it finds no free slot.
func (m *Model) dropsCancel(t int, op workload.Op) bool {
	return op.Kind == workload.Cancel && m.w.Processes[m.w.Threads[t].Process].DropCancels
}

// reaperBlocked reports whether process p's reaping is impossible: p's only
// reaper thread is waiting for a free slot under block.
func (m *Model) reaperBlocked(s State, p int) bool {
	r := m.w.Processes[p].Reaper
	if r < 0 {
		return false
	}
	return m.waitsForSlot(s, r)
}

// waitsForSlot reports whether thread t's next step is a system call that
// block makes wait for a free slot.
func (m *Model) waitsForSlot(s State, t int) bool {
	th := m.w.Threads[t]
	pc := s.PC[t]
	if m.policy != port.Block || int(pc) >= len(th.Ops) || !th.Ops[pc].Kind.Syscall() || s.Cancel[t] != 0 {
		return false
	}
	if !th.Ops[pc].Async && msgOf(s, t, pc) >= 0 {
		return false // parked on its own call
	}
	if m.dropsCancel(t, th.Ops[pc]) {
		return false // dropped at once, never waiting
	}
	return m.sendOutcome(s, t, pc) == port.MustWait
}

// Actions appends the enabled actions of s: each thread's next step, in
// thread order; then each kernel completion and each reap, in message
// order; then each peer's next step.
func (m *Model) Actions(s State, dst []Action) []Action {
	for t, th := range m.w.Threads {
		pc := s.PC[t]
		if int(pc) >= len(th.Ops) {
			continue
		}
		op := th.Ops[pc]
		if k, ok := m.threadStep(s, t, op); ok {
			dst = append(dst, Action{Kind: k, Who: uint32(t)})
		}
	}
	for i, g := range s.Msgs {
		if g.Flags&msgPolled != 0 {
			k := PollRetryWouldBlock
			if m.canProceed(s, m.w.Threads[g.Thread].Ops[g.PC]) {
				k = PollRetry
			}
			dst = append(dst, Action{Kind: k, Who: uint32(i), Proc: uint8(m.w.Threads[g.Thread].Process), PC: g.PC, Thread: g.Thread})
		}
	}
	for i, g := range s.Msgs {
		if g.Flags&(msgDone|msgPolled|msgStaged) == 0 && m.canProceed(s, m.w.Threads[g.Thread].Ops[g.PC]) {
			dst = append(dst, Action{Kind: CompleteCall, Who: uint32(i)})
		}
	}
	// The passes for a submission ring and an overflow list run only in
	// a model that has one: the kinds say so (buildKinds).
	for p := range m.w.Processes {
		if m.kindIndex[SubmitRing] < 0 {
			break
		}
		if pr := &m.w.Processes[p]; pr.SQ > 0 && !pr.SubmitOnFull && m.staged(s, p) > 0 && !m.reaperBlocked(s, p) {
			dst = append(dst, Action{Kind: SubmitRing, Proc: uint8(p)})
		}
	}
	for i, g := range s.Msgs {
		if !reapable(g) {
			continue
		}
		p := m.w.Threads[g.Thread].Process
		if m.reaperBlocked(s, p) {
			continue
		}
		dst = append(dst, Action{Kind: m.reapKind(s, p, m.isReserved(int(g.Thread), g.PC)), Who: uint32(i), Proc: uint8(p)})
	}
	for i, g := range s.Msgs {
		if m.kindIndex[FlushOverflow] < 0 {
			break
		}
		if g.Flags&msgOverflow == 0 {
			continue
		}
		p := m.w.Threads[g.Thread].Process
		full := m.cqFull(s, p) && m.mutant != "flush-when-full"
		if m.w.Processes[p].FlushNever || full || m.reaperBlocked(s, p) {
			continue
		}
		dst = append(dst, Action{Kind: FlushOverflow, Who: uint32(i), Proc: uint8(p)})
	}
	for p, pr := range m.w.Peers {
		pc := s.PeerPC[p]
		if int(pc) < len(pr.Ops) && m.peerCan(s, pr.Ops[pc]) {
			dst = append(dst, Action{Kind: PeerStep, Who: uint32(p)})
		}
	}
	return dst
}

// threadStep returns the kind of thread t's next step, op, if it can take
// one.
func (m *Model) threadStep(s State, t int, op workload.Op) (ActKind, bool) {
	switch op.Kind {
	case workload.Push:
		return UserStep, int(s.Items[2*op.Object]) < m.w.Objects[op.Object].Capacity
	case workload.Pop:
		return UserStep, s.Items[2*op.Object] > 0
	case workload.Wait:
		return UserStep, s.Ready[t] > 0
	}
	// A system call.
	if !op.Async && msgOf(s, t, s.PC[t]) >= 0 {
		return 0, false // parked on it
	}
	if s.Cancel[t] != 0 {
		return CallCancelled, true
	}
	// The port's rules are the spec's: what a system call does in this
	// mode with this many slots taken.
	out := m.sendOutcome(s, t, s.PC[t])
	if !out.Went() && m.dropsCancel(t, op) {
		return CancelDropped, true
	}
	// A call that would go out is staged in the submission ring first;
	// with the ring full it waits for the scheduler's submit, or (submit
	// on-full) submits the ring itself.
	p := m.w.Threads[t].Process
	if pr := &m.w.Processes[p]; out.Went() && pr.SQ > 0 && m.staged(s, p) >= pr.SQ && m.mutant != "stage-past-full" {
		if pr.SubmitOnFull {
			return StageFull, true
		}
		return 0, false
	}
	switch out {
	case port.RefusedStopped, port.MustWait:
		return 0, false
	case port.RefusedPolling:
		switch {
		case m.canProceed(s, op):
			return PollCall, true
		case op.Async && m.mutant != "poll-submit-synchronous":
			return PollDefer, true
		}
		return PollWouldBlock, true
	case port.SentEnteredPolling:
		return SendEnterPolling, true
	case port.SentStopped:
		return SendStop, true
	case port.SentReserved:
		if !m.isReserved(t, s.PC[t]) {
			return SendCall, true // only under ordinary-into-reserve
		}
		return SendReserved, true
	}
	return SendCall, true
}

// portConfig is process p's port in the spec's terms.
func (m *Model) portConfig(p int) port.Config {
	return port.Config{Cap: m.caps[p], Low: m.lows[p], Policy: m.policy, Reserve: m.reserves[p]}
}

// PortState is process p's port in s, in the spec's terms: the slots its
// messages hold and its mode. The spec's reply count is not needed to
// decide a send, and a reap is decided with its own reply counted.
func (m *Model) PortState(s State, p int) port.State {
	ps := port.State{InFlight: m.InFlight(s, p), Reserved: m.reservedInFlight(s, p)}
	switch {
	case s.Mode[p]&modeStopped != 0:
		ps.Mode = port.Stopped
	case s.Mode[p]&modePolling != 0:
		ps.Mode = port.Polling
	}
	return ps
}

func (m *Model) reapKind(s State, p int, reserved bool) ActKind {
	c := m.portConfig(p)
	if m.mutant == "leave-at-low-plus-one" {
		c.Low++
	}
	ps := m.PortState(s, p)
	ps.Replies = 1 // the reply this reap takes
	if _, out, _ := c.ReapAs(ps, reserved); out != port.ReapedLeft {
		return ReapReply
	}
	if ps.Mode == port.Polling {
		return ReapLeavePolling
	}
	return ReapResume
}

func (m *Model) peerCan(s State, op workload.Op) bool {
	sd := m.side(op.Object, op.Kind, true)
	switch op.Kind {
	case workload.Send:
		return int(s.Items[sd]) < m.w.Objects[op.Object].Capacity || closed(s, sd)
	case workload.Recv:
		return s.Items[sd] > 0 || closed(s, sd)
	}
	return true
}

// Next returns the state after a.
func (m *Model) Next(s State, a Action) State { return m.step(s.clone(), s, a) }

// NextInto returns the state after a, built in dst's storage when dst is
// a state of this model (one Next or NextInto returned), so that the
// explorer's search does not allocate a state per transition
// (check.Reuser).
func (m *Model) NextInto(dst, s State, a Action) State { return m.step(s.cloneInto(dst), s, a) }

// step applies a to n, a copy of s, and returns it.
func (m *Model) step(n, s State, a Action) State {
	switch a.Kind {
	case SendCall, SendEnterPolling, SendStop, SendReserved:
		t := int(a.Who)
		op := m.w.Threads[t].Ops[s.PC[t]]
		var flags uint8
		if m.w.Processes[m.w.Threads[t].Process].SQ > 0 {
			flags = msgStaged
		}
		n.Msgs = insertMsg(n.Msgs, Msg{Thread: uint8(t), PC: s.PC[t], Flags: flags})
		if op.Async {
			n.PC[t]++
		}
		p := m.w.Threads[t].Process
		switch a.Kind {
		case SendEnterPolling:
			n.Mode[p] |= modePolling
		case SendStop:
			n.Mode[p] |= modeStopped
		}
	case PollCall:
		t := int(a.Who)
		op := m.w.Threads[t].Ops[s.PC[t]]
		m.perform(&n, t, op)
		m.advance(&n, t, op)
	case PollWouldBlock, PollRetryWouldBlock:
		// The thread, or the scheduler, yields; nothing changes until
		// something else moves.
	case PollDefer:
		t := int(a.Who)
		n.Msgs = insertMsg(n.Msgs, Msg{Thread: uint8(t), PC: s.PC[t], Flags: msgPolled})
		n.PC[t]++
	case PollRetry:
		g := n.Msgs[a.Who]
		m.perform(&n, int(g.Thread), m.w.Threads[g.Thread].Ops[g.PC])
		n.Msgs = append(n.Msgs[:a.Who], n.Msgs[a.Who+1:]...)
		n.Ready[g.Thread]++
	case CallCancelled:
		t := int(a.Who)
		n.Cancel[t] = 0
		m.advance(&n, t, m.w.Threads[t].Ops[s.PC[t]])
	case CancelDropped:
		t := int(a.Who)
		m.advance(&n, t, m.w.Threads[t].Ops[s.PC[t]])
	case FlushOverflow:
		n.Msgs[a.Who].Flags &^= msgOverflow
	case StageFull, SubmitRing:
		p := int(a.Proc)
		if a.Kind == StageFull {
			p = m.w.Threads[a.Who].Process
		}
		for i := range n.Msgs {
			if m.w.Threads[n.Msgs[i].Thread].Process == p {
				n.Msgs[i].Flags &^= msgStaged
			}
		}
	case UserStep:
		t := int(a.Who)
		op := m.w.Threads[t].Ops[s.PC[t]]
		switch op.Kind {
		case workload.Push:
			n.Items[2*op.Object]++
		case workload.Pop:
			n.Items[2*op.Object]--
		case workload.Wait:
			n.Ready[t]--
		}
		n.PC[t]++
	case CompleteCall:
		g0 := s.Msgs[a.Who]
		t := int(g0.Thread)
		// A cancel may remove kept calls from n.Msgs: find the message
		// again after performing it.
		eof := m.perform(&n, t, m.w.Threads[t].Ops[g0.PC])
		i := msgOf(n, t, g0.PC)
		m.post(&n, i)
		g := &n.Msgs[i]
		if eof {
			g.Flags |= msgEOF
		}
		if m.mutant == "slot-freed-at-completion" {
			g.Flags |= msgFreed
		}
	case ReapReply, ReapLeavePolling, ReapResume:
		g := n.Msgs[a.Who]
		t := int(g.Thread)
		n.Msgs = append(n.Msgs[:a.Who], n.Msgs[a.Who+1:]...)
		op := m.w.Threads[t].Ops[g.PC]
		if op.Async {
			n.Ready[t]++
		} else {
			n.PC[t]++
		}
		p := m.w.Threads[t].Process
		switch a.Kind {
		case ReapLeavePolling:
			n.Mode[p] &^= modePolling
		case ReapResume:
			n.Mode[p] &^= modeStopped
		}
	case PeerStep:
		pr := m.w.Peers[a.Who]
		op := pr.Ops[s.PeerPC[a.Who]]
		sd := m.side(op.Object, op.Kind, true)
		switch op.Kind {
		case workload.Send:
			if !closed(s, sd) {
				n.Items[sd]++
			}
		case workload.Recv:
			if n.Items[sd] > 0 {
				n.Items[sd]--
			}
		case workload.Close:
			n.Closed[sd/2] |= 1 << (sd % 2)
		}
		n.PeerPC[a.Who]++
	}
	return n
}

// advance moves thread t past op, done without a message: a submitted
// call's result becomes available to wait.
func (m *Model) advance(s *State, t int, op workload.Op) {
	if op.Async {
		s.Ready[t]++
	}
	s.PC[t]++
}

// String is a one-line summary of the configuration, for headings.
func (m *Model) String() string {
	return workload.ConfigText(m.policy.String(), m.processNames(), m.caps, m.lows)
}

// processNames returns the names of the workload's processes, in order.
func (m *Model) processNames() []string {
	names := make([]string, len(m.w.Processes))
	for i, p := range m.w.Processes {
		names[i] = p.Name
	}
	return names
}

// Actors names the actors for fair progress: each thread, the kernel, each
// process's reaping, each submitted call the scheduler may keep, and each
// peer. Under weak fairness each keeps moving while it stays enabled: the
// round-robin scheduler of docs/model.md, which on every turn reaps and
// then retries every kept call in turn (impl/sched's Run), so that neither
// retrying nor one kept call can crowd out another. One actor for all of a
// process's retries would be too coarse: it could retry a kept read that
// would block forever while a kept write that could proceed never is,
// a cycle no real scheduler follows. Reaping needs no such split: a reap
// moves its thread on, so it is never part of a cycle.
func (m *Model) Actors() []string {
	var out []string
	for _, t := range m.w.Threads {
		out = append(out, t.Name)
	}
	out = append(out, "kernel")
	for _, p := range m.w.Processes {
		out = append(out, "reaper of "+p.Name)
	}
	if m.oneRetryActor() {
		for _, p := range m.w.Processes {
			out = append(out, "retries of "+p.Name+"'s kept calls")
		}
	} else {
		out = append(out, m.retryNames...)
	}
	for _, p := range m.w.Peers {
		out = append(out, p.Name)
	}
	return out
}

// Actor returns the index in Actors of the actor that takes a.
func (m *Model) Actor(a Action) int {
	nt, np, nr := len(m.w.Threads), len(m.w.Processes), len(m.retryNames)
	if m.oneRetryActor() {
		nr = np
	}
	switch a.Kind {
	case CompleteCall:
		return nt
	case ReapReply, ReapLeavePolling, ReapResume, FlushOverflow, SubmitRing:
		return nt + 1 + int(a.Proc)
	case PollRetry, PollRetryWouldBlock:
		if m.oneRetryActor() {
			return nt + 1 + np + int(a.Proc)
		}
		return nt + 1 + np + m.retryActor[a.Thread][a.PC]
	case PeerStep:
		return nt + 1 + np + nr + int(a.Who)
	}
	return int(a.Who)
}

// oneRetryActor reports the seeded bug one-retry-actor: one actor retries
// all of a process's kept calls, the coarse split [Model.Actors] warns of.
func (m *Model) oneRetryActor() bool {
	return m.mutant == "one-retry-actor" && m.retryActor != nil
}

var (
	_ check.Model[State, Action] = (*Model)(nil)
	_ check.Fair[Action]         = (*Model)(nil)
	_ check.Symmetric[State]     = (*Model)(nil)
)
