package check

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"pgregory.net/rapid"
)

// randModel is a small random transition system for the differential test
// against the reference explorer: states are small ints, each with a label
// of two bits that the properties look at, and a fixed list of actions, each
// with a target, a kind and an actor. It is deterministic, as a model must
// be: all of it is drawn before the check starts.
type randModel struct {
	init     []int
	acts     [][]randAct // per state, in order
	terminal []bool
	label    []int
	kinds    int
	actors   int
	wide     bool // two-byte encoding

	always    []int      // per Always property: the label it forbids
	steps     []stepRule // per AlwaysStep property: the transitions it forbids
	sometimes []int      // per Sometimes property: the label it looks for
}

type randAct struct{ to, kind, actor int }

// stepRule forbids the transitions from a state labelled from, by an action
// of kind kind, to a state labelled to; -1 matches anything.
type stepRule struct{ from, kind, to int }

func (m *randModel) Init() []int { return m.init }
func (m *randModel) Actions(s int, dst []randAct) []randAct {
	return append(dst, m.acts[s]...)
}
func (m *randModel) Next(s int, a randAct) int { return a.to }
func (m *randModel) Encode(dst []byte, s int) []byte {
	if m.wide {
		return append(dst, byte(s), byte(s)^0xa5)
	}
	return append(dst, byte(s))
}
func (m *randModel) Decode(src []byte) int { return int(src[0]) }
func (m *randModel) Terminal(s int) bool   { return m.terminal[s] }
func (m *randModel) Kinds() []string {
	var k []string
	for i := range m.kinds {
		k = append(k, fmt.Sprintf("k%d", i))
	}
	return k
}
func (m *randModel) Kind(a randAct) int { return a.kind }
func (m *randModel) Describe(s int, a randAct) Label {
	return Label{Actor: fmt.Sprintf("a%d", a.actor), Text: fmt.Sprintf("%d -> %d", s, a.to)}
}
func (m *randModel) Actors() []string {
	var a []string
	for i := range m.actors {
		a = append(a, fmt.Sprintf("a%d", i))
	}
	return a
}
func (m *randModel) Actor(a randAct) int { return a.actor }

func (m *randModel) Properties() []Property[int, randAct] {
	var ps []Property[int, randAct]
	for i, bad := range m.always {
		ps = append(ps, Always[int, randAct](fmt.Sprintf("always%d", i), func(s int) bool { return m.label[s] != bad }))
	}
	for i, r := range m.steps {
		ps = append(ps, AlwaysStep(fmt.Sprintf("step%d", i), func(from int, a randAct, to int) bool {
			return !((r.from < 0 || m.label[from] == r.from) && (r.kind < 0 || a.kind == r.kind) && (r.to < 0 || m.label[to] == r.to))
		}))
	}
	for i, want := range m.sometimes {
		ps = append(ps, Sometimes[int, randAct](fmt.Sprintf("sometimes%d", i), func(s int) bool { return m.label[s] == want }))
	}
	return ps
}

// String prints the model as Go, so that a failing case can be pasted
// into a regression test.
func (m *randModel) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "&randModel{init: %#v, kinds: %d, actors: %d, wide: %v,\n", m.init, m.kinds, m.actors, m.wide)
	fmt.Fprintf(&b, "\tterminal: %#v,\n\tlabel: %#v,\n\tacts: [][]randAct{\n", m.terminal, m.label)
	for s, as := range m.acts {
		fmt.Fprintf(&b, "\t\t/* %d */ {", s)
		for i, a := range as {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "{%d, %d, %d}", a.to, a.kind, a.actor)
		}
		b.WriteString("},\n")
	}
	fmt.Fprintf(&b, "\t},\n\talways: %#v, steps: %#v, sometimes: %#v}", m.always, m.steps, m.sometimes)
	return b.String()
}

// drawer is where the random choices come from: rapid in the property
// test, so that a failure shrinks, or a seeded generator where the test
// must not fail on a disagreement but count it (the seeded bugs).
type drawer interface {
	intRange(lo, hi int, label string) int
}

type rapidDrawer struct{ t *rapid.T }

func (d rapidDrawer) intRange(lo, hi int, label string) int {
	return rapid.IntRange(lo, hi).Draw(d.t, label)
}

type seededDrawer struct{ r *rand.Rand }

func newSeededDrawer(seed uint64) seededDrawer {
	return seededDrawer{rand.New(rand.NewPCG(seed, 0x5eed))}
}

func (d seededDrawer) intRange(lo, hi int, _ string) int { return lo + d.r.IntN(hi-lo+1) }

// genModel draws a random model: 1 to 12 states, 0 to 3 actions each, 1 to
// 3 initial states (possibly the same one twice), terminal states with and
// without actions. Half the models are drawn without dead ends outside the
// terminal states, so that the livelock and fair-progress passes get to run.
func genModel(d drawer) *randModel {
	n := d.intRange(1, 12, "states")
	m := &randModel{
		kinds:  d.intRange(1, 3, "kinds"),
		actors: d.intRange(1, 3, "actors"),
		wide:   d.intRange(0, 1, "wide") == 1,
	}
	for range d.intRange(1, 3, "inits") {
		m.init = append(m.init, d.intRange(0, n-1, "init"))
	}
	noDeadEnds := d.intRange(0, 1, "no dead ends") == 1
	for range n {
		term := d.intRange(0, 3, "terminal") == 0
		m.terminal = append(m.terminal, term)
		m.label = append(m.label, d.intRange(0, 3, "label"))
		lo := 0
		if noDeadEnds && !term {
			lo = 1
		}
		var as []randAct
		for range d.intRange(lo, 3, "actions") {
			as = append(as, randAct{
				to:    d.intRange(0, n-1, "to"),
				kind:  d.intRange(0, m.kinds-1, "kind"),
				actor: d.intRange(0, m.actors-1, "actor"),
			})
		}
		m.acts = append(m.acts, as)
	}
	// Labels 0..3 exist; a property over label 4..7 never fires, so that
	// about half the properties are vacuous and the graph passes run.
	for range d.intRange(0, 2, "always") {
		m.always = append(m.always, d.intRange(0, 7, "always label"))
	}
	for range d.intRange(0, 1, "step") {
		m.steps = append(m.steps, stepRule{
			from: d.intRange(-1, 7, "step from"),
			kind: d.intRange(-1, m.kinds-1, "step kind"),
			to:   d.intRange(-1, 7, "step to"),
		})
	}
	for range d.intRange(0, 2, "sometimes") {
		m.sometimes = append(m.sometimes, d.intRange(0, 4, "sometimes label"))
	}
	return m
}
