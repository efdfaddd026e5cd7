package check

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
// pass. It runs without recursion: a model may have millions of states in
// one chain.

// livelockBytes is what the livelock pass allocates per state: the
// component, index and low-link arrays, and at worst a stack entry and a
// call frame.
const livelockBytes = 4 + 4 + 4 + 4 + 16

func (e *explorer[S, A]) livelock() *Violation[S, A] {
	n := e.st.count
	comp := make([]uint32, n) // component id + 1; 0 while unassigned
	index := make([]uint32, n)
	low := make([]uint32, n)
	onStack := make([]uint64, (n+63)/64)
	var stack []uint32
	type frame struct {
		v    uint32
		next uint64 // next edge of v to visit
	}
	var call []frame
	var canFinish []bool // per component
	counter := uint32(1)
	ncomp := uint32(0)
	bad := uint32(noID) // smallest state id in a bottom component that cannot finish

	isTerminal := func(v uint32) bool { return e.terminal[v/64]&(1<<(v%64)) != 0 }

	for root := range uint32(n) {
		if index[root] != 0 {
			continue
		}
		index[root], low[root] = counter, counter
		counter++
		stack = append(stack, root)
		onStack[root/64] |= 1 << (root % 64)
		call = append(call[:0], frame{root, e.edgeStart[root]})
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.next < e.edgeStart[v+1] {
				w := e.edges[f.next]
				f.next++
				switch {
				case index[w] == 0:
					index[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w/64] |= 1 << (w % 64)
					call = append(call, frame{w, e.edgeStart[w]})
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
			finish, bottom, least := false, true, uint32(noID)
			for _, x := range members {
				onStack[x/64] &^= 1 << (x % 64)
				comp[x] = ncomp
				least = min(least, x)
				finish = finish || isTerminal(x)
			}
			for _, x := range members {
				for _, w := range e.edges[e.edgeStart[x]:e.edgeStart[x+1]] {
					if comp[w] != ncomp {
						bottom = false
						finish = finish || canFinish[comp[w]-1]
					}
				}
			}
			if mutant == "livelock-deadends-only" {
				// Seeded bug: only components without any edge count, so a
				// spinning cycle passes.
				bottom = bottom && len(members) == 1 && e.edgeStart[v] == e.edgeStart[v+1]
			}
			canFinish = append(canFinish, finish)
			if bottom && !finish {
				bad = min(bad, least)
			}
			stack = stack[:start]
		}
	}
	if bad == noID {
		return nil
	}
	path := e.pathTo(bad)
	cycle := e.cycleThrough(bad, comp)
	t := e.trace(append(path, cycle...))
	t.Loop = len(path) - 1
	// The first state on the path from which the system can no longer
	// finish.
	id := uint32(noParent)
	t.NoReturn = len(path) - 1
	for i, ix := range path {
		if i == 0 {
			id = e.initID(ix)
		} else {
			id = e.edges[e.edgeStart[id]+uint64(ix)]
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
		Explain:  e.explain(t.States[t.Loop]),
	}
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
// v inside v's component.
func (e *explorer[S, A]) cycleThrough(v uint32, comp []uint32) []int {
	type link struct {
		from  uint32
		index int
	}
	prev := map[uint32]link{}
	queue := []uint32{v}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for i, w := range e.edges[e.edgeStart[x]:e.edgeStart[x+1]] {
			if comp[w] != comp[v] {
				continue
			}
			if w == v {
				path := []int{i}
				for y := x; y != v; y = prev[y].from {
					path = append(path, prev[y].index)
				}
				for a, b := 0, len(path)-1; a < b; a, b = a+1, b-1 {
					path[a], path[b] = path[b], path[a]
				}
				return path
			}
			if _, seen := prev[w]; !seen {
				prev[w] = link{x, i}
				queue = append(queue, w)
			}
		}
	}
	return nil // v is alone in its component with no self-loop
}
