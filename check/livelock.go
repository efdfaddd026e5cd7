package check

import (
	"context"
	"slices"
)

// The livelock check runs after a complete search, on the stored graph. A
// livelock is a bottom strongly connected component (one no edge leaves)
// without a terminal state: once there, the system can go on moving forever
// but never finish. That is equivalent to "from some reachable state no
// terminal state is reachable", since every path from such a state ends in a
// bottom component.
//
// Tarjan's algorithm finds the components in reverse topological order, so
// when a component is closed every component it has an edge to is already
// known, and both "is bottom" and "can still finish" are settled in the same
// pass.

// livelockBytes is what the livelock pass allocates per state: the
// component, index and low-link arrays, and at worst a stack entry and a
// call frame; fairBytes what the fair-progress pass adds: an arena offset,
// a member entry, a component start and two flags.
const (
	livelockBytes = 4 + 4 + 4 + 4 + 16
	fairBytes     = 8 + 4 + 4 + 1 + 1
)

// sccs computes the strongly connected components of the stored graph
// restricted to the states keep admits (every state when keep is nil) by
// Tarjan's algorithm, without recursion: a model may have millions of states
// in one chain. comp[v] is v's component number plus one, or 0 for a state
// left out. Components are numbered, and settle is called on each with its
// members, in reverse topological order: every component a component has an
// edge to is settled before it. It returns a reason when the context or a
// bound stopped it.
func (e *explorer[S, A]) sccs(ctx context.Context, keep func(uint32) bool, settle func(c uint32, members []uint32, comp []uint32)) (comp []uint32, ncomp uint32, reason string) {
	n := e.st.count
	comp = make([]uint32, n)
	index := make([]uint32, n)
	low := make([]uint32, n)
	onStack := make([]uint64, (n+63)/64)
	var stack []uint32
	type frame struct {
		v    uint32
		next uint64 // next edge of v to visit
	}
	var call []frame
	counter := uint32(1)
	steps := uint64(0)
	for root := range uint32(n) {
		if index[root] != 0 || (keep != nil && !keep(root)) {
			continue
		}
		index[root], low[root] = counter, counter
		counter++
		stack = append(stack, root)
		onStack[root/64] |= 1 << (root % 64)
		call = append(call[:0], frame{root, e.edgeFrom(root)})
		for len(call) > 0 {
			steps++
			if r := e.passCheck(ctx, steps, int(ncomp)); r != "" {
				return nil, 0, r
			}
			f := &call[len(call)-1]
			v := f.v
			if f.next < e.edgeFrom(v+1) {
				w := e.edges.at(f.next)
				f.next++
				switch {
				case keep != nil && !keep(w):
				case index[w] == 0:
					index[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w/64] |= 1 << (w % 64)
					call = append(call, frame{w, e.edgeFrom(w)})
				case onStack[w/64]&(1<<(w%64)) != 0:
					low[v] = min(low[v], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			// v roots a component: pop it, then settle it.
			ncomp++
			start := len(stack) - 1
			for stack[start] != v {
				start--
			}
			members := stack[start:]
			for _, x := range members {
				onStack[x/64] &^= 1 << (x % 64)
				comp[x] = ncomp
			}
			if settle != nil {
				settle(ncomp, members, comp)
			}
			stack = stack[:start]
		}
	}
	return comp, ncomp, ""
}

func (e *explorer[S, A]) isTerminal(v uint32) bool { return e.terminal[v/64]&(1<<(v%64)) != 0 }

// livelock looks for a bottom component without a terminal state, over the
// whole stored graph: a terminal state with actions still counts as
// completion for the states that can reach it.
func (e *explorer[S, A]) livelock(ctx context.Context) (v *Violation[S, A], comp []uint32, ncomp uint32, reason string) {
	var canFinish []bool // per component
	bad := uint32(noID)  // smallest state id in a bottom component that cannot finish
	settle := func(c uint32, members []uint32, comp []uint32) {
		finish, bottom, least := false, true, uint32(noID)
		for _, x := range members {
			least = min(least, x)
			finish = finish || e.isTerminal(x)
		}
		for _, x := range members {
			for _, w := range e.out(x) {
				if comp[w] != c {
					bottom = false
					finish = finish || canFinish[comp[w]-1]
				}
			}
		}
		if mutant == "livelock-deadends-only" {
			// Seeded bug: only components without any edge count, so a
			// spinning cycle passes.
			v := members[0]
			bottom = bottom && len(members) == 1 && e.edgeFrom(v) == e.edgeFrom(v+1)
		}
		canFinish = append(canFinish, finish)
		if bottom && !finish {
			bad = min(bad, least)
		}
	}
	comp, ncomp, reason = e.sccs(ctx, nil, settle)
	if reason != "" || bad == noID {
		return nil, comp, ncomp, reason
	}
	path := e.pathTo(bad)
	cycle := e.cycleThrough(bad, comp)
	t := e.trace(append(path, cycle...), bad)
	t.Loop = len(path) - 1
	e.closeLoop(&t, cycle, bad)
	// The first state on the path from which the system can no longer
	// finish.
	id := uint32(noParent)
	t.NoReturn = len(path) - 1
	for i, ix := range path {
		if i == 0 {
			id = e.initID(ix)
		} else {
			id = e.edges.at(e.edgeFrom(id) + uint64(ix))
		}
		if !canFinish[comp[id]-1] {
			t.NoReturn = i
			break
		}
	}
	return &Violation[S, A]{
		Kind:     Livelock,
		Property: "no livelock",
		Trace:    t,
		Explain:  e.explain(t.States[t.Loop], bad),
	}, comp, ncomp, ""
}

// fairCycle looks for a fair non-progress cycle once the livelock check has
// passed: a cycle through non-terminal states that a weakly fair run can
// follow forever. Such a cycle lies inside one strongly connected component
// of the graph without its terminal states (components of the whole graph
// would not do: a terminal state with actions would join a fair cycle
// beside it into one component, and hide it). Under weak fairness such a
// component C holds a fair cycle exactly when every actor either moves on
// an edge inside C or is disabled in some state of C: a walk through all
// of C is then fair. A component that fails has no fair cycle inside it
// either (any sub-cycle keeps the actor enabled throughout and still
// without a move), so the maximal components are the only ones to test.
//
// comp and ncomp are the livelock pass's components of the whole graph.
// A component without a terminal state is also a component of the graph
// without them; only those that hold a terminal state are split again.
func (e *explorer[S, A]) fairCycle(ctx context.Context, comp []uint32, ncomp uint32) (*Violation[S, A], string) {
	// A terminal state splits its component only if it lies on a cycle
	// there, that is, has an edge inside its component: most terminal
	// states have no actions, and most models then need no second pass.
	var split []bool // per component: to be split
	for x := range uint32(e.st.count) {
		if !e.isTerminal(x) {
			continue
		}
		for _, w := range e.out(x) {
			if comp[w] == comp[x] {
				if split == nil {
					split = make([]bool, ncomp)
				}
				split[comp[x]-1] = true
				break
			}
		}
	}
	if split != nil && mutant != "fair-whole-graph" {
		keep := func(v uint32) bool { return !e.isTerminal(v) && split[comp[v]-1] }
		sub, nsub, reason := e.sccs(ctx, keep, nil)
		if reason != "" {
			return nil, reason
		}
		for x, c := range sub {
			switch {
			case c != 0:
				comp[x] = ncomp + c
			case split[comp[x]-1]:
				comp[x] = 0 // a terminal state: left out
			}
		}
		ncomp += nsub
	}
	nactors := e.nactors
	n := uint32(e.st.count)
	// A candidate component has an edge inside it and no terminal state.
	// Group the candidates' states by component (ids ascending within
	// each), in counting-sort form.
	cand := make([]uint8, ncomp) // 1: has an internal edge; 2: has a terminal state
	for x := range n {
		if comp[x] == 0 {
			continue
		}
		c := comp[x] - 1
		if e.isTerminal(x) {
			cand[c] |= 2
		}
		for _, w := range e.out(x) {
			if comp[w]-1 == c {
				cand[c] |= 1
			}
		}
	}
	isCand := func(x uint32) (uint32, bool) {
		if comp[x] == 0 {
			return 0, false
		}
		c := comp[x] - 1
		return c, cand[c] == 1
	}
	start := make([]uint32, ncomp+1)
	for x := range n {
		if c, ok := isCand(x); ok {
			start[c+1]++
		}
	}
	for c := range ncomp {
		start[c+1] += start[c]
	}
	members := make([]uint32, start[ncomp])
	fill := append([]uint32(nil), start[:ncomp]...)
	for x := range n {
		if c, ok := isCand(x); ok {
			members[fill[c]] = x
			fill[c]++
		}
	}
	if len(members) == 0 {
		return nil, ""
	}
	offs := e.offsets()
	moves := make([]bool, nactors)
	disabled := make([]bool, nactors)
	enabled := make([]bool, nactors)
	edgeFrom := make([]uint32, nactors)
	edgeIndex := make([]int, nactors)
	offAt := make([]uint32, nactors)
	var acts []A
	done := make([]bool, ncomp)
	steps := uint64(0)
	// Components in the order of their smallest state, so that the one
	// reported is the one the shortest prefix reaches.
	for x := range n {
		c, ok := isCand(x)
		if !ok || done[c] {
			continue
		}
		done[c] = true
		clear(moves)
		clear(disabled)
		for _, y := range members[start[c]:start[c+1]] {
			steps++
			if r := e.passCheck(ctx, steps, int(x)); r != "" {
				return nil, r
			}
			_, key := e.st.entry(offs[y])
			e.doing, e.at = "listing the actions of", y
			acts = e.m.Actions(e.m.Decode(key), acts[:0])
			clear(enabled)
			for j, a := range acts {
				who := e.fair.Actor(a)
				enabled[who] = true
				if w := e.edges.at(e.edgeFrom(y) + uint64(j)); comp[w]-1 == c && !moves[who] {
					moves[who], edgeFrom[who], edgeIndex[who] = true, y, j
				}
			}
			e.doing, e.at = "", noID
			for who, on := range enabled {
				if !on && !disabled[who] {
					disabled[who], offAt[who] = true, y
				}
			}
		}
		isFair := true
		for who := range nactors {
			isFair = isFair && (moves[who] || disabled[who])
		}
		if mutant == "fair-any-cycle" {
			isFair = true // seeded bug: every cycle counts as fair
		}
		if !isFair {
			continue
		}
		// A closed walk from x through one move of each actor that moves
		// and one state where each other actor is disabled.
		path := e.pathTo(x)
		var cycle []int
		cur := x
		for who := range nactors {
			switch {
			case moves[who]:
				cycle = append(cycle, e.pathWithin(cur, edgeFrom[who], comp)...)
				cycle = append(cycle, edgeIndex[who])
				cur = e.edges.at(e.edgeFrom(edgeFrom[who]) + uint64(edgeIndex[who]))
			case disabled[who]:
				cycle = append(cycle, e.pathWithin(cur, offAt[who], comp)...)
				cur = offAt[who]
			}
		}
		cycle = append(cycle, e.pathWithin(cur, x, comp)...)
		if len(cycle) == 0 {
			cycle = e.cycleThrough(x, comp)
		}
		t := e.trace(append(path, cycle...), x)
		t.Loop = len(path) - 1
		e.closeLoop(&t, cycle, x)
		return &Violation[S, A]{
			Kind:     NonProgress,
			Property: "fair progress",
			Trace:    t,
			Explain:  e.explain(t.States[t.Loop], x),
		}, ""
	}
	return nil, ""
}

// offsets returns the arena offset of every state, by id.
func (e *explorer[S, A]) offsets() []uint64 {
	offs := make([]uint64, e.st.count)
	off := uint64(0)
	for i := range offs {
		offs[i] = off
		if i+1 < len(offs) {
			off = e.st.next(off)
		}
	}
	return offs
}

// pathWithin returns the action indices of a shortest path from a to b
// inside their component; empty when a is b.
func (e *explorer[S, A]) pathWithin(a, b uint32, comp []uint32) []int {
	if a == b {
		return nil
	}
	return e.shortest(a, b, comp)
}

// shortest is a breadth-first search from a to b, at least one step long,
// over the edges that stay inside a's component.
func (e *explorer[S, A]) shortest(a, b uint32, comp []uint32) []int {
	type link struct {
		from  uint32
		index int
	}
	prev := map[uint32]link{}
	queue := []uint32{a}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for i, w := range e.out(x) {
			if comp[w] != comp[a] {
				continue
			}
			if w == b {
				path := []int{i}
				for y := x; y != a; y = prev[y].from {
					path = append(path, prev[y].index)
				}
				slices.Reverse(path)
				return path
			}
			if _, seen := prev[w]; !seen && w != a {
				prev[w] = link{x, i}
				queue = append(queue, w)
			}
		}
	}
	return nil
}

// initID returns the id of the i-th initial state.
func (e *explorer[S, A]) initID(i int) uint32 {
	for id := range e.levels[1] {
		if int(e.act[id]) == i {
			return id
		}
	}
	// A duplicate initial state: its path starts from the first copy.
	return 0
}

// cycleThrough returns the action indices of a shortest cycle from v back to
// v inside v's component, or nil when v is alone there without a self-loop.
func (e *explorer[S, A]) cycleThrough(v uint32, comp []uint32) []int {
	return e.shortest(v, v, comp)
}
