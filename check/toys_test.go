package check

import (
	"fmt"
	"strings"
)

// The toy models here have answers known by hand. They are written plainly,
// with one byte per variable, so that a reader can check each count.

// counters is N independent counters mod K: K^N states, N*K^N transitions,
// and the deepest state (all counters at K-1) at depth N*(K-1). With bad
// set, "not all at K-1" is an invariant that fails only there, on the
// deepest level; with badInit, "c0 is not 0" fails in the initial state.
type counters struct {
	n, k         int
	bad, badInit bool
}

func (c counters) Init() [][]byte { return [][]byte{make([]byte, c.n)} }
func (c counters) Actions(s []byte, dst []int) []int {
	for i := range c.n {
		dst = append(dst, i)
	}
	return dst
}
func (c counters) Next(s []byte, a int) []byte {
	t := append([]byte(nil), s...)
	t[a] = byte((int(t[a]) + 1) % c.k)
	return t
}
func (c counters) Encode(dst []byte, s []byte) []byte { return append(dst, s...) }
func (c counters) Decode(src []byte) []byte           { return append([]byte(nil), src...) }
func (c counters) Terminal([]byte) bool               { return false }
func (c counters) Kinds() []string {
	var k []string
	for i := range c.n {
		k = append(k, fmt.Sprintf("inc c%d", i))
	}
	return k
}
func (c counters) Kind(a int) int { return a }
func (c counters) Describe(s []byte, a int) Label {
	return Label{Actor: fmt.Sprintf("c%d", a), Text: fmt.Sprintf("c%d := %d", a, (int(s[a])+1)%c.k)}
}
func (c counters) Properties() []Property[[]byte, int] {
	var ps []Property[[]byte, int]
	if c.bad {
		ps = append(ps, Always[[]byte, int]("not all at K-1", func(s []byte) bool {
			for _, v := range s {
				if int(v) != c.k-1 {
					return true
				}
			}
			return false
		}))
	}
	if c.badInit {
		ps = append(ps, Always[[]byte, int]("c0 is not 0", func(s []byte) bool { return s[0] != 0 }))
	}
	ps = append(ps, Sometimes[[]byte, int]("c0 wraps to K-1", func(s []byte) bool { return int(s[0]) == c.k-1 }))
	ps = append(ps, Sometimes[[]byte, int]("c0 exceeds K", func(s []byte) bool { return int(s[0]) > c.k }))
	return ps
}

// philosophers is a ring of n philosophers, each of whom eats once. Fork p
// is philosopher p's left fork and fork p+1 (mod n) the right. Each takes
// the left fork first, then the right, eats, and puts both down. When all
// hold their left fork, nobody can move: a deadlock after exactly n steps.
// With fixed, the last philosopher takes the right fork first, which breaks
// the cycle of waiting.
type philosophers struct {
	n     int
	fixed bool
}

const (
	hungry = iota
	holdsFirst
	eating
	done
)

func (p philosophers) forks(i int) (first, second int) {
	l, r := i, (i+1)%p.n
	if p.fixed && i == p.n-1 {
		return r, l
	}
	return l, r
}

func (p philosophers) held(s []byte, f int) bool {
	for i, pc := range s {
		first, second := p.forks(i)
		if (pc == holdsFirst || pc == eating) && first == f || pc == eating && second == f {
			return true
		}
	}
	return false
}

// philAct is philosopher who taking the step that follows pc step.
type philAct struct{ who, step byte }

func (p philosophers) Init() [][]byte { return [][]byte{make([]byte, p.n)} }
func (p philosophers) Actions(s []byte, dst []philAct) []philAct {
	for i, pc := range s {
		first, second := p.forks(i)
		switch {
		case pc == hungry && !p.held(s, first),
			pc == holdsFirst && !p.held(s, second),
			pc == eating:
			dst = append(dst, philAct{byte(i), pc})
		}
	}
	return dst
}
func (p philosophers) Next(s []byte, a philAct) []byte {
	t := append([]byte(nil), s...)
	t[a.who]++
	return t
}
func (p philosophers) Encode(dst []byte, s []byte) []byte { return append(dst, s...) }
func (p philosophers) Decode(src []byte) []byte           { return append([]byte(nil), src...) }
func (p philosophers) Terminal(s []byte) bool {
	for _, pc := range s {
		if pc != done {
			return false
		}
	}
	return true
}
func (p philosophers) Kinds() []string {
	return []string{"take first fork", "take second fork", "eat and release"}
}
func (p philosophers) Kind(a philAct) int { return int(a.step) }
func (p philosophers) Describe(s []byte, a philAct) Label {
	first, second := p.forks(int(a.who))
	text := [...]string{
		fmt.Sprintf("takes fork %d", first),
		fmt.Sprintf("takes fork %d", second),
		"eats and puts both forks down",
	}[a.step]
	return Label{Actor: fmt.Sprintf("philosopher %d", a.who), Text: text}
}
func (p philosophers) Properties() []Property[[]byte, philAct] {
	return []Property[[]byte, philAct]{
		Always[[]byte, philAct]("each fork held once", func(s []byte) bool {
			count := make([]int, p.n)
			for i, pc := range s {
				first, second := p.forks(i)
				if pc == holdsFirst || pc == eating {
					count[first]++
				}
				if pc == eating {
					count[second]++
				}
			}
			for _, c := range count {
				if c > 1 {
					return false
				}
			}
			return true
		}),
	}
}
func (p philosophers) Explain(s []byte) []string {
	var out []string
	for i, pc := range s {
		if pc == holdsFirst {
			first, second := p.forks(i)
			out = append(out, fmt.Sprintf("philosopher %d holds fork %d, waits for fork %d", i, first, second))
		}
	}
	return out
}

// spinner is the smallest livelock. From state 0 a process may go to 1,
// from where it can retry (back to 0) or finish (2, terminal); with trap, it
// may also go from 0 to 3, where it spins between 3 and 4 forever (or, with
// selfLoop, on 3 alone). The cycle 0-1-0 can always still finish; the cycle
// 3-4-3 never can.
type spinner struct{ trap, selfLoop bool }

type spin struct {
	to   byte
	name string
}

func (m spinner) Init() []byte { return []byte{0} }
func (m spinner) Actions(s byte, dst []spin) []spin {
	switch s {
	case 0:
		dst = append(dst, spin{1, "try"})
		if m.trap {
			dst = append(dst, spin{3, "enter spin"})
		}
	case 1:
		dst = append(dst, spin{0, "retry"}, spin{2, "finish"})
	case 3:
		if m.selfLoop {
			return append(dst, spin{3, "spin"})
		}
		dst = append(dst, spin{4, "spin"})
	case 4:
		dst = append(dst, spin{3, "spin"})
	}
	return dst
}
func (spinner) Next(s byte, a spin) byte           { return a.to }
func (spinner) Encode(dst []byte, s byte) []byte   { return append(dst, s) }
func (spinner) Decode(src []byte) byte             { return src[0] }
func (spinner) Terminal(s byte) bool               { return s == 2 }
func (spinner) Kinds() []string                    { return []string{"try", "retry", "finish", "enter spin", "spin"} }
func (spinner) Describe(s byte, a spin) Label      { return Label{Actor: "p", Text: a.name} }
func (spinner) Properties() []Property[byte, spin] { return nil }
func (m spinner) Kind(a spin) int                  { return indexOf(m.Kinds(), a.name) }
func (spinner) Explain(s byte) []string            { return []string{fmt.Sprintf("spinning in state %d", s)} }
func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	panic("no kind " + s)
}

// peterson is Peterson's mutual exclusion for two processes, each looping
// forever: set its flag, give the turn away, wait until the other's flag is
// down or the turn is its own, enter, leave and lower its flag. Variants
// drop the turn variable: "set-then-test" waits for the other's flag to be
// down after raising its own (both can wait forever: a deadlock);
// "test-then-set" checks first and raises after (both can enter).
type peterson struct{ variant string }

// Peterson's state: pc0, pc1, flag0, flag1, turn.
const (
	pIdle = iota
	pFlagged
	pWaiting
	pCritical
)

func (m peterson) Init() [][5]byte { return [][5]byte{{}} }
func (m peterson) Actions(s [5]byte, dst []int) []int {
	for i := range 2 {
		j := 1 - i
		otherDown := s[2+j] == 0
		var enabled bool
		switch m.variant {
		case "": // set flag, give turn, wait for flag down or own turn
			enabled = s[i] != pWaiting || otherDown || s[4] == byte(i)
		case "set-then-test":
			enabled = s[i] != pFlagged || otherDown
		case "test-then-set":
			enabled = s[i] != pIdle || otherDown
		}
		if enabled {
			dst = append(dst, i)
		}
	}
	return dst
}
func (m peterson) Next(s [5]byte, i int) [5]byte {
	switch {
	case s[i] == pCritical:
		s[2+i], s[i] = 0, pIdle
	case m.variant == "" && s[i] == pIdle:
		s[2+i], s[i] = 1, pFlagged
	case m.variant == "" && s[i] == pFlagged:
		s[4], s[i] = byte(1-i), pWaiting
	case m.variant == "" && s[i] == pWaiting:
		s[i] = pCritical
	case m.variant == "set-then-test" && s[i] == pIdle:
		s[2+i], s[i] = 1, pFlagged
	case m.variant == "test-then-set" && s[i] == pFlagged:
		s[2+i], s[i] = 1, pCritical
	default: // the test of either variant passed
		s[i]++
	}
	return s
}
func (peterson) Encode(dst []byte, s [5]byte) []byte { return append(dst, s[:]...) }
func (peterson) Decode(src []byte) [5]byte           { return [5]byte(src) }
func (peterson) Terminal([5]byte) bool               { return false }
func (peterson) Kinds() []string                     { return []string{"P0", "P1"} }
func (peterson) Kind(a int) int                      { return a }
func (m peterson) Describe(s [5]byte, a int) Label {
	other := fmt.Sprintf("P%d", 1-a)
	var text string
	switch {
	case s[a] == pCritical:
		text = "leaves and lowers its flag"
	case m.variant == "test-then-set" && s[a] == pIdle:
		text = "sees " + other + "'s flag down"
	case m.variant == "test-then-set":
		text = "raises its flag and enters"
	case s[a] == pIdle:
		text = "raises its flag"
	case m.variant == "" && s[a] == pFlagged:
		text = "gives the turn to " + other
	default:
		text = "enters"
	}
	return Label{Actor: fmt.Sprintf("P%d", a), Text: text}
}
func (peterson) Properties() []Property[[5]byte, int] {
	return []Property[[5]byte, int]{
		Always[[5]byte, int]("mutual exclusion", func(s [5]byte) bool { return !(s[0] == pCritical && s[1] == pCritical) }),
		AlwaysStep[[5]byte, int]("turn changes only when a flag is raised", func(from [5]byte, a int, to [5]byte) bool {
			return from[4] == to[4] || from[a] == pFlagged
		}),
		Sometimes[[5]byte, int]("P0 enters", func(s [5]byte) bool { return s[0] == pCritical }),
	}
}

// texts returns the trace's labels as "actor: text" lines.
func texts[S, A any](t Trace[S, A]) string {
	var b strings.Builder
	for _, s := range t.Steps {
		fmt.Fprintf(&b, "%s: %s\n", s.Label.Actor, s.Label.Text)
	}
	return b.String()
}

// fairToy tests fair progress. In the poller, P spins until Q raises a
// flag: finishing is reachable, and the spin is not fair (Q stays enabled
// and never moves on it). In the conflict, P steps ahead and Q knocks it
// back, over and over; P could commit when ahead, but a weakly fair run
// need not ever let it: both keep moving on the cycle.
type fairToy struct{ conflict bool }

type fairAct struct {
	who  int
	to   byte
	name string
}

// States: poller 0 (flag down), 1 (flag up), 2 (done); conflict 0 (both
// want), 1 (P ahead), 2 (done).
func (fairToy) Init() []byte { return []byte{0} }
func (m fairToy) Actions(s byte, dst []fairAct) []fairAct {
	switch {
	case !m.conflict && s == 0:
		return append(dst, fairAct{0, 0, "spin"}, fairAct{1, 1, "raise"})
	case !m.conflict && s == 1:
		return append(dst, fairAct{0, 2, "finish"})
	case m.conflict && s == 0:
		return append(dst, fairAct{0, 1, "step ahead"})
	case m.conflict && s == 1:
		return append(dst, fairAct{0, 2, "commit"}, fairAct{1, 0, "knock back"})
	}
	return dst
}
func (fairToy) Next(s byte, a fairAct) byte      { return a.to }
func (fairToy) Encode(dst []byte, s byte) []byte { return append(dst, s) }
func (fairToy) Decode(src []byte) byte           { return src[0] }
func (fairToy) Terminal(s byte) bool             { return s == 2 }
func (fairToy) Kinds() []string                  { return []string{"step"} }
func (fairToy) Kind(fairAct) int                 { return 0 }
func (fairToy) Describe(s byte, a fairAct) Label {
	return Label{Actor: [...]string{"P", "Q"}[a.who], Text: a.name}
}
func (fairToy) Properties() []Property[byte, fairAct] { return nil }
func (fairToy) Actors() []string                      { return []string{"P", "Q"} }
func (fairToy) Actor(a fairAct) int                   { return a.who }
