package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/sysmsg/sysmsg/model/workload"
)

// Symmetry. A workload often holds copies: the web server's connections,
// each a reader, a writer, a conn, a queue and a client, the same program
// with other names. Two states that differ only by which copy is where are
// the same state up to renaming, and every property the model checks
// (sums over a process's slots, modes, "some state reaches ...") treats
// them alike. With Config.Symmetry the model's Encode writes one canonical
// encoding for all of them, so the explorer stores and expands one
// representative of each class: up to n! fewer states for n copies.
//
// The copies are found, not declared. The threads, objects and peers of a
// workload fall apart into components: a thread and the objects it
// operates on, a peer and the objects it operates on, a canceller and the
// thread it cancels, joined until nothing more joins (or joined through
// every object but the hubs, the objects shared by copies: see
// findSymmetry). Two components are
// copies when one is the other renamed: the same programs, object kinds,
// capacities, reserve membership and process, with every name mapped in
// order of first use. A group is a set of two or more copies whose
// threads are all in one process (the process's mode and slots are then
// shared, and untouched by a renaming).
//
// A state is made canonical by sorting each group's copies by the bytes
// of their part of the state (program counters, results, pending cancels,
// channel contents, closed bits, peers' counters, messages) and moving
// them into that order. The sort key describes a copy completely, so two
// states related by a renaming sort into the same state, and a canonical
// state is its own canonical form.
//
// What it does not preserve: the identity of actors, which weak fairness
// names one by one. The explorer refuses the fair-progress check on a
// reduced model (check.Symmetric), and builds every counterexample back
// in the model as it is, step by step (check.Replay matches each stored
// step to a real action).

// symGroup is a set of interchangeable copies: copy c's i-th thread is
// threads[c][i], and so on, in the same order for every copy.
type symGroup struct {
	threads, objects, peers [][]int
}

// findSymmetry returns the groups of copies of w; none when w has no two
// copies. It tries two ways of cutting w into components: joined through
// every object, and with the shared objects left out (hubs: an object
// whose user threads fall apart without it, as four renders fall apart
// without the file they all read). A hub stays where it is under every
// renaming, and a copy's signature names it as itself, so only copies
// that use it alike are grouped. The cut that permutes more is kept.
func findSymmetry(w *workload.Workload) []symGroup {
	plain := groupsOf(w, nil)
	hubs := hubObjects(w)
	if len(hubs) == 0 {
		return plain
	}
	if cut := groupsOf(w, hubs); reduction(cut) > reduction(plain) {
		return cut
	}
	return plain
}

// reduction is the logarithm of how many states the groups fold into one
// at most: the product of the factorials of their sizes.
func reduction(gs []symGroup) float64 {
	r := 0.0
	for _, g := range gs {
		for k := 2; k <= len(g.threads); k++ {
			r += math.Log(float64(k))
		}
	}
	return r
}

// hubObjects returns, in a set by object index, the objects shared by
// copies: those whose user threads, with the object joining nothing, fall
// into components of which at least two are copies of each other (the
// same signature, the object named as itself). An object private to one
// copy, whose reader and writer fall apart without it, is not one: the
// halves are not copies.
func hubObjects(w *workload.Workload) map[int]bool {
	hubs := map[int]bool{}
	for o := range w.Objects {
		uses := func(t int) bool {
			return slices.ContainsFunc(w.Threads[t].Ops, func(op workload.Op) bool { return op.Object == o })
		}
		cut := map[int]bool{o: true}
		seen := map[string]bool{}
		for _, c := range components(w, cut) {
			if !slices.ContainsFunc(c.threads, uses) {
				continue
			}
			sig, _ := signature(w, c.threads, c.peers, cut)
			if sig != "" && seen[sig] {
				hubs[o] = true
				break
			}
			seen[sig] = true
		}
	}
	return hubs
}

// component is a set of threads and peers joined by use, in index order;
// its objects are found from them (signature).
type component struct{ threads, peers []int }

// components cuts w into components, joining threads, objects and peers
// by use except through the objects in cut, and returns those with a
// thread, in order of their first member.
func components(w *workload.Workload, cut map[int]bool) []component {
	nt, no, np := len(w.Threads), len(w.Objects), len(w.Peers)
	// Union-find over threads (0..nt), objects (nt..nt+no) and peers.
	parent := make([]int, nt+no+np)
	for i := range parent {
		parent[i] = i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	union := func(a, b int) { parent[find(a)] = find(b) }
	for t, th := range w.Threads {
		for _, op := range th.Ops {
			if op.Object >= 0 && !cut[op.Object] {
				union(t, nt+op.Object)
			}
			if op.Kind == workload.Cancel {
				union(t, op.Target)
			}
		}
	}
	for p, pr := range w.Peers {
		for _, op := range pr.Ops {
			if !cut[op.Object] {
				union(nt+no+p, nt+op.Object)
			}
		}
	}
	var roots []int
	byRoot := map[int]*component{}
	add := func(x int) *component {
		r := find(x)
		if byRoot[r] == nil {
			roots = append(roots, r)
			byRoot[r] = &component{}
		}
		return byRoot[r]
	}
	for t := range nt {
		c := add(t)
		c.threads = append(c.threads, t)
	}
	for p := range np {
		c := add(nt + no + p)
		c.peers = append(c.peers, p)
	}
	var out []component
	for _, r := range roots {
		if c := byRoot[r]; len(c.threads) > 0 {
			out = append(out, *c) // an object or a peer with no thread: nothing to permute with
		}
	}
	return out
}

// groupsOf cuts w into components, joined through every object but the
// hubs, and groups the components that are copies of one another.
func groupsOf(w *workload.Workload, hubs map[int]bool) []symGroup {
	type copyOf struct {
		sig                     string
		threads, objects, peers []int
		process                 int
	}
	var copies []copyOf
	for _, comp := range components(w, hubs) {
		c := copyOf{threads: comp.threads, peers: comp.peers, process: w.Threads[comp.threads[0]].Process}
		c.sig, c.objects = signature(w, c.threads, c.peers, hubs)
		if c.sig != "" {
			copies = append(copies, c)
		}
	}
	// Group equal signatures, in order of first appearance.
	var groups []symGroup
	done := make([]bool, len(copies))
	for i := range copies {
		if done[i] {
			continue
		}
		g := symGroup{}
		for j := i; j < len(copies); j++ {
			if !done[j] && copies[j].sig == copies[i].sig && copies[j].process == copies[i].process {
				done[j] = true
				g.threads = append(g.threads, copies[j].threads)
				g.objects = append(g.objects, copies[j].objects)
				g.peers = append(g.peers, copies[j].peers)
			}
		}
		if len(g.threads) > 1 {
			groups = append(groups, g)
		}
	}
	return groups
}

// signature describes a component with its names replaced by their order
// of first use, a hub by its own index, and returns the component's
// objects in that order (hubs left out); "" for a component that cannot
// be a copy (its threads span processes, or one of them is a reaper, whose
// process is its alone).
func signature(w *workload.Workload, threads, peers []int, hubs map[int]bool) (string, []int) {
	proc := w.Threads[threads[0]].Process
	pr := w.Processes[proc]
	localT := map[int]int{}
	for i, t := range threads {
		if w.Threads[t].Process != proc || pr.Reaper == t {
			return "", nil
		}
		localT[t] = i
	}
	localO := map[int]int{}
	var objects []int
	obj := func(o int) string {
		if hubs[o] {
			return fmt.Sprintf("h%d", o)
		}
		if _, ok := localO[o]; !ok {
			localO[o] = len(objects)
			objects = append(objects, o)
		}
		return fmt.Sprintf("o%d", localO[o])
	}
	var b bytes.Buffer
	for _, t := range threads {
		fmt.Fprintf(&b, "thread reserved=%v:", slices.Contains(pr.ReserveThreads, t))
		for _, op := range w.Threads[t].Ops {
			fmt.Fprintf(&b, " %d/%v", op.Kind, op.Async)
			if op.Object >= 0 {
				fmt.Fprintf(&b, "/%s", obj(op.Object))
			}
			if op.Kind == workload.Cancel {
				fmt.Fprintf(&b, "/t%d", localT[op.Target])
			}
		}
		b.WriteByte('\n')
	}
	for _, p := range peers {
		b.WriteString("peer:")
		for _, op := range w.Peers[p].Ops {
			fmt.Fprintf(&b, " %d/%s", op.Kind, obj(op.Object))
		}
		b.WriteByte('\n')
	}
	for _, o := range objects {
		ob := w.Objects[o]
		fmt.Fprintf(&b, "object %d cap %d reserved=%v\n", ob.Kind, ob.Capacity, slices.Contains(pr.ReserveObjects, o))
	}
	return b.String(), objects
}

// canonical returns the canonical form of s: each group's copies sorted
// by their part of the state. s is not changed; the result may share
// nothing with it. It is on the search's hot path (every successor is
// encoded through it), so its scratch lives on the stack: the keys in one
// buffer, the order and the renaming in fixed arrays, the sort an
// insertion sort over the few copies a group has.
func (m *Model) canonical(s State) State {
	n := s
	var buf [1024]byte
	var offs [workload.MaxThreads + 1]int
	var order [workload.MaxThreads]int
	for _, g := range m.sym {
		copies := len(g.threads)
		keys := buf[:0]
		for c := range copies {
			offs[c] = len(keys)
			keys = m.appendCopyKey(keys, s, g, c)
		}
		offs[copies] = len(keys)
		key := func(c int) []byte { return keys[offs[c]:offs[c+1]] }
		sorted := true
		for c := range copies {
			order[c] = c
			// Insertion: stable, and a no-op on copies already in order.
			for j := c; j > 0 && bytes.Compare(key(order[j-1]), key(order[j])) > 0; j-- {
				order[j-1], order[j] = order[j], order[j-1]
				sorted = false
			}
		}
		if sorted {
			continue
		}
		// Read from s, write into a fresh copy: a permutation done in
		// place would read what it has just written.
		n = s.clone()
		var threadTo [workload.MaxThreads]uint8
		var moved [workload.MaxThreads]bool
		for c, from := range order[:copies] {
			for i, t := range g.threads[c] {
				f := g.threads[from][i]
				n.PC[t], n.Ready[t], n.Cancel[t] = s.PC[f], s.Ready[f], s.Cancel[f]
				threadTo[f], moved[f] = uint8(t), true
			}
			for i, o := range g.objects[c] {
				f := g.objects[from][i]
				n.Items[2*o], n.Items[2*o+1], n.Closed[o] = s.Items[2*f], s.Items[2*f+1], s.Closed[f]
			}
			for i, p := range g.peers[c] {
				n.PeerPC[p] = s.PeerPC[g.peers[from][i]]
			}
		}
		for i := range n.Msgs {
			if t := n.Msgs[i].Thread; moved[t] {
				n.Msgs[i].Thread = threadTo[t]
			}
		}
		slices.SortFunc(n.Msgs, msgOrder)
		// The next group sorts the state as this one left it.
		s = n
	}
	return n
}

// appendCopyKey appends copy c of group g's part of s to k, as bytes that
// order copies and tell apart every two different parts.
func (m *Model) appendCopyKey(k []byte, s State, g symGroup, c int) []byte {
	for i, t := range g.threads[c] {
		k = binary.AppendUvarint(k, uint64(s.PC[t]))
		k = binary.AppendUvarint(k, uint64(s.Ready[t]))
		k = append(k, s.Cancel[t])
		// The thread's messages, by operation: their order in s.Msgs is
		// by thread, then operation.
		for _, g := range s.Msgs {
			if int(g.Thread) == t {
				k = append(k, byte(i))
				k = binary.AppendUvarint(k, uint64(g.PC))
				k = append(k, g.Flags)
			}
		}
		k = append(k, 0xff)
	}
	for _, o := range g.objects[c] {
		k = append(k, s.Items[2*o], s.Items[2*o+1], s.Closed[o])
	}
	for _, p := range g.peers[c] {
		k = binary.AppendUvarint(k, uint64(s.PeerPC[p]))
	}
	return k
}

// Reduced reports whether the model identifies symmetric states: it was
// built with Config.Symmetry and the workload has copies.
func (m *Model) Reduced() bool { return len(m.sym) > 0 }

// Copies describes the groups of copies the symmetry reduction permutes:
// for each group, the number of copies and the first copy's threads.
func (m *Model) Copies() []string {
	var out []string
	for _, g := range m.sym {
		var names []string
		for _, t := range g.threads[0] {
			names = append(names, m.w.Threads[t].Name)
		}
		out = append(out, fmt.Sprintf("%d copies of %v", len(g.threads), names))
	}
	return out
}
