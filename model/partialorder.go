package model

import "github.com/sysmsg/sysmsg/model/workload"

// The partial-order reduction (check.Reducer): in a state where some
// thread's next step is a userland step that nothing else can disturb,
// the explorer takes that step alone and leaves the other actions for the
// state after it. Such a step is one of
//
//   - a wait: it takes one of the thread's own results, which only its
//     own waits take and other actions only add to;
//   - a push onto a queue that no other thread pushes onto, or a pop from
//     a queue that no other thread pops from, where nothing but threads'
//     pushes and pops touches the queue: a push and a pop by others
//     commute with it, and only the thread itself can fill the queue
//     against its push or empty it against its pop;
//
// by a thread that is not its process's reaper (whose next step decides
// whether the process can reap). It changes only the thread's program
// counter and results, and the queue's count, which no property, no
// guard and no step property of another action reads, and it raises the
// thread's program counter, which nothing lowers: programs are straight
// lines, so no cycle is made of such steps (the cycle proviso). The
// reduced graph keeps every deadlock and every violation of the safety
// properties; it does not keep the cycles the livelock and fair-progress
// checks look at, and check.Explore refuses those with it.

// buildAmple marks, per thread and operation, the userland steps that may
// be taken alone.
func (m *Model) buildAmple() {
	w := m.w
	pushers := make([]map[int]bool, len(w.Objects))
	poppers := make([]map[int]bool, len(w.Objects))
	other := make([]bool, len(w.Objects)) // touched by anything but a thread's push or pop
	for o := range w.Objects {
		pushers[o], poppers[o] = map[int]bool{}, map[int]bool{}
		other[o] = w.Objects[o].Kind != workload.Queue
	}
	for t, th := range w.Threads {
		for _, op := range th.Ops {
			switch {
			case op.Kind == workload.Push:
				pushers[op.Object][t] = true
			case op.Kind == workload.Pop:
				poppers[op.Object][t] = true
			case op.Kind != workload.Wait && op.Kind != workload.Cancel:
				other[op.Object] = true
			}
		}
	}
	for _, pr := range w.Peers {
		for _, op := range pr.Ops {
			other[op.Object] = true
		}
	}
	reaper := map[int]bool{}
	for _, p := range w.Processes {
		if p.Reaper >= 0 {
			reaper[p.Reaper] = true
		}
	}
	m.ample = make([][]bool, len(w.Threads))
	for t, th := range w.Threads {
		m.ample[t] = make([]bool, len(th.Ops))
		if reaper[t] && m.mutant != "ample-any-userstep" {
			continue
		}
		for pc, op := range th.Ops {
			if m.mutant == "ample-any-userstep" {
				// Seeded bug: every userland step taken alone, a
				// shared queue's and a reaper's too.
				m.ample[t][pc] = op.Kind == workload.Push || op.Kind == workload.Pop || op.Kind == workload.Wait
				continue
			}
			switch op.Kind {
			case workload.Wait:
				m.ample[t][pc] = true
			case workload.Push:
				m.ample[t][pc] = !other[op.Object] && len(pushers[op.Object]) == 1
			case workload.Pop:
				m.ample[t][pc] = !other[op.Object] && len(poppers[op.Object]) == 1
			}
		}
	}
}

// Ample returns the index in acts, the actions enabled in s, of the first
// userland step that may be taken alone, or -1 (check.Reducer).
func (m *Model) Ample(s State, acts []Action) int {
	for i, a := range acts {
		if a.Kind == UserStep && m.ample[a.Who][s.PC[a.Who]] {
			return i
		}
	}
	return -1
}
