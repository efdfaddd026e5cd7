package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The reference explorer is the oracle of the differential test: the
// semantics of the package's documentation written as plainly as they can
// be, over Go maps and slices, with none of the explorer's machinery (no
// arena, no windows, no workers, no parent links, no Tarjan). It builds the
// whole reachable graph breadth first, then answers each question on it
// directly.
type reference[S, A any] struct {
	m     Model[S, A]
	props []Property[S, A]
	nodes []refNode[S, A] // in breadth-first order, which is the explorer's id order
	index map[string]int  // by encoding

	depth       int
	transitions int
	fired       []uint64
	through     []int // through[d] is the number of states on levels 0..d

	// The first finding of the search: the first level with a bad state
	// (an invariant false, or a deadlock), or failing that a bad
	// transition out of it. findLevel is -1 when there is none.
	findLevel int
	findKind  ViolationKind

	// reached[j] is the first level where the j-th Sometimes property
	// holds, or -1.
	reached []int

	canFinish []bool // per node: a terminal state is reachable from it
	fairCycle bool   // a cycle a weakly fair run can follow forever
}

type refNode[S, A any] struct {
	s     S
	level int
	acts  []A
	succ  []int
	term  bool
}

// refVerdict is what the reference expects of a check with given options.
type refVerdict struct {
	verdict Verdict
	kind    ViolationKind
	length  int // trace steps, for a violation found by the search
	level   int // level of a search finding, or -1
}

func (v refVerdict) String() string {
	switch {
	case v.verdict != Violated:
		return v.verdict.String()
	case v.kind == Livelock || v.kind == NonProgress:
		return fmt.Sprintf("%v (%v)", v.verdict, v.kind)
	}
	return fmt.Sprintf("%v (%v, %d steps)", v.verdict, v.kind, v.length)
}

func (v refVerdict) search() bool { return v.verdict == Violated && v.level >= 0 }

func newReference[S, A any](m Model[S, A]) *reference[S, A] {
	r := &reference[S, A]{m: m, props: m.Properties(), index: map[string]int{}, findLevel: -1}
	r.fired = make([]uint64, len(m.Kinds()))
	add := func(s S, level int) int {
		k := string(m.Encode(nil, s))
		if i, ok := r.index[k]; ok {
			return i
		}
		r.index[k] = len(r.nodes)
		r.nodes = append(r.nodes, refNode[S, A]{s: s, level: level})
		return len(r.nodes) - 1
	}
	for _, s := range m.Init() {
		add(s, 0)
	}
	badStep := map[int]bool{} // levels with a bad transition out of them
	badState := map[int]ViolationKind{}
	for i := 0; i < len(r.nodes); i++ {
		n := &r.nodes[i]
		n.term = m.Terminal(n.s)
		n.acts = m.Actions(n.s, nil)
		r.depth = max(r.depth, n.level)
		bad, kind := false, Invariant
		for _, p := range r.props {
			if p.Kind == AlwaysKind && !p.State(n.s) {
				bad = true
			}
		}
		if !bad && len(n.acts) == 0 && !n.term {
			bad, kind = true, Deadlock
		}
		if _, seen := badState[n.level]; bad && !seen {
			badState[n.level] = kind // the first bad state of the level wins
		}
		for _, a := range n.acts {
			t := m.Next(n.s, a)
			r.transitions++
			r.fired[m.Kind(a)]++
			for _, p := range r.props {
				if p.Kind == StepKind && !p.Step(n.s, a, t) {
					badStep[n.level] = true
				}
			}
			j := add(t, n.level+1)
			r.nodes[i].succ = append(r.nodes[i].succ, j)
		}
	}
	for d := 0; d <= r.depth; d++ {
		k, bad := badState[d]
		switch {
		case bad:
			r.findLevel, r.findKind = d, k
		case badStep[d]:
			r.findLevel, r.findKind = d, StepInvariant
		default:
			continue
		}
		break
	}
	r.through = make([]int, r.depth+1)
	for _, n := range r.nodes {
		for d := n.level; d <= r.depth; d++ {
			r.through[d]++
		}
	}
	for _, p := range r.props {
		if p.Kind != SometimesKind {
			continue
		}
		first := -1
		for _, n := range r.nodes {
			if p.State(n.s) {
				first = n.level
				break
			}
		}
		r.reached = append(r.reached, first)
	}

	// Livelock: from which states can a terminal state be reached?
	// Iterate to a fixed point; the graphs are small.
	r.canFinish = make([]bool, len(r.nodes))
	for changed := true; changed; {
		changed = false
		for i, n := range r.nodes {
			if r.canFinish[i] {
				continue
			}
			ok := n.term
			for _, j := range n.succ {
				ok = ok || r.canFinish[j]
			}
			if ok {
				r.canFinish[i], changed = true, true
			}
		}
	}

	// Fair progress: components of the graph without its terminal states.
	if f, ok := any(m).(Fair[A]); ok {
		r.fairCycle = r.findFairCycle(f)
	}
	return r
}

// reach returns the states reachable from i in zero or more steps through
// non-terminal states only.
func (r *reference[S, A]) reach(i int) []bool {
	seen := make([]bool, len(r.nodes))
	var visit func(int)
	visit = func(x int) {
		if seen[x] || r.nodes[x].term {
			return
		}
		seen[x] = true
		for _, y := range r.nodes[x].succ {
			visit(y)
		}
	}
	visit(i)
	return seen
}

// findFairCycle looks for a strongly connected component C of the graph
// restricted to non-terminal states, with an edge inside C, in which every
// actor either takes an edge inside C or is disabled in some state of C.
func (r *reference[S, A]) findFairCycle(f Fair[A]) bool {
	n := len(r.nodes)
	reach := make([][]bool, n)
	for i := range n {
		reach[i] = r.reach(i)
	}
	nactors := len(f.Actors())
	for u := range n {
		if r.nodes[u].term {
			continue
		}
		var comp []int
		in := make([]bool, n)
		for v := range n {
			if reach[u][v] && reach[v][u] {
				comp = append(comp, v)
				in[v] = true
			}
		}
		inner := false
		moves := make([]bool, nactors)
		disabled := make([]bool, nactors)
		for _, x := range comp {
			enabled := make([]bool, nactors)
			for j, a := range r.nodes[x].acts {
				enabled[f.Actor(a)] = true
				if in[r.nodes[x].succ[j]] {
					inner = true
					moves[f.Actor(a)] = true
				}
			}
			for w := range nactors {
				disabled[w] = disabled[w] || !enabled[w]
			}
		}
		fair := inner
		for w := range nactors {
			fair = fair && (moves[w] || disabled[w])
		}
		if fair {
			return true
		}
	}
	return false
}

// verdict is what a complete check with these options must report.
func (r *reference[S, A]) verdict(livelock, fairness bool) refVerdict {
	switch {
	case r.findLevel >= 0:
		v := refVerdict{verdict: Violated, kind: r.findKind, length: r.findLevel, level: r.findLevel}
		if r.findKind == StepInvariant {
			v.length++
		}
		return v
	case livelock && slices.Contains(r.canFinish, false):
		return refVerdict{verdict: Violated, kind: Livelock, level: -1}
	case livelock && fairness && r.fairCycle:
		return refVerdict{verdict: Violated, kind: NonProgress, level: -1}
	}
	return refVerdict{verdict: OK, level: -1}
}

func (r *reference[S, A]) node(s S) (int, bool) {
	i, ok := r.index[string(r.m.Encode(nil, s))]
	return i, ok
}

func (r *reference[S, A]) prop(name string) (Property[S, A], bool) {
	for _, p := range r.props {
		if p.Name == name {
			return p, true
		}
	}
	return Property[S, A]{}, false
}

// real checks that a violation is a real counterexample: its path replays
// to the states it shows, and the property it names is false along it.
func (r *reference[S, A]) real(v *Violation[S, A]) error {
	t, err := Replay(r.m, v.Trace.Path())
	if err != nil {
		return fmt.Errorf("%v trace does not replay: %v", v.Kind, err)
	}
	if len(t.States) != len(v.Trace.States) {
		return fmt.Errorf("%v trace: %d states, replay gives %d", v.Kind, len(v.Trace.States), len(t.States))
	}
	for i := range t.States {
		if !bytes.Equal(r.m.Encode(nil, t.States[i]), r.m.Encode(nil, v.Trace.States[i])) {
			return fmt.Errorf("%v trace: state %d differs from its replay", v.Kind, i)
		}
	}
	last := t.States[len(t.States)-1]
	switch v.Kind {
	case Invariant:
		p, ok := r.prop(v.Property)
		if !ok || p.Kind != AlwaysKind {
			return fmt.Errorf("invariant violation names %q, not an Always property", v.Property)
		}
		if p.State(last) {
			return fmt.Errorf("invariant %q holds in the last state of its counterexample", v.Property)
		}
	case Deadlock:
		if r.m.Terminal(last) || len(r.m.Actions(last, nil)) > 0 {
			return errors.New("deadlock trace ends in a state that can move or is terminal")
		}
	case StepInvariant:
		p, ok := r.prop(v.Property)
		if !ok || p.Kind != StepKind {
			return fmt.Errorf("step violation names %q, not an AlwaysStep property", v.Property)
		}
		n := len(t.Steps)
		if n == 0 {
			return errors.New("step violation with no step")
		}
		if p.Step(t.States[n-1], t.Steps[n-1].Action, last) {
			return fmt.Errorf("step property %q holds on the last step of its counterexample", v.Property)
		}
	case Livelock, NonProgress:
		if err := r.lasso(v.Kind, v.Trace.Loop, t); err != nil {
			return err
		}
		if v.Kind == Livelock {
			x, _ := r.node(t.States[v.Trace.Loop])
			if r.canFinish[x] {
				return errors.New("livelock loop state can still reach a terminal state")
			}
			first := -1
			for i, s := range t.States {
				if x, _ := r.node(s); !r.canFinish[x] {
					first = i
					break
				}
			}
			if v.Trace.NoReturn != first {
				return fmt.Errorf("livelock NoReturn %d, want %d", v.Trace.NoReturn, first)
			}
		} else if err := r.weaklyFair(v.Trace.Loop, t); err != nil {
			return err
		}
	}
	if (v.Kind == Livelock || v.Kind == NonProgress) != (v.Trace.Loop >= 0) {
		return fmt.Errorf("%v trace with Loop %d", v.Kind, v.Trace.Loop)
	}
	return nil
}

// lasso checks that t, from loop on, is a cycle of at least one step
// through non-terminal states.
func (r *reference[S, A]) lasso(k ViolationKind, loop int, t Trace[S, A]) error {
	n := len(t.States)
	if loop < 0 || loop >= n-1 {
		return fmt.Errorf("%v lasso: Loop %d in a trace of %d states", k, loop, n)
	}
	if !bytes.Equal(r.m.Encode(nil, t.States[loop]), r.m.Encode(nil, t.States[n-1])) {
		return fmt.Errorf("%v lasso: the last state is not States[Loop]", k)
	}
	for _, s := range t.States[loop:] {
		if r.m.Terminal(s) {
			return fmt.Errorf("%v lasso: the cycle passes a terminal state", k)
		}
	}
	return nil
}

// weaklyFair checks that on the cycle of t every actor moves or is
// disabled somewhere.
func (r *reference[S, A]) weaklyFair(loop int, t Trace[S, A]) error {
	f := any(r.m).(Fair[A])
	for w := range f.Actors() {
		ok := false
		for _, st := range t.Steps[loop:] {
			ok = ok || f.Actor(st.Action) == w
		}
		for _, s := range t.States[loop:] {
			enabled := false
			for _, a := range r.m.Actions(s, nil) {
				enabled = enabled || f.Actor(a) == w
			}
			ok = ok || !enabled
		}
		if !ok {
			return fmt.Errorf("non-progress cycle is not weakly fair: actor %d stays enabled and never moves", w)
		}
	}
	return nil
}

// counts compares the figures of a complete search.
func (r *reference[S, A]) counts(st Stats) error {
	var fired []uint64
	for _, k := range st.Fired {
		fired = append(fired, k.Count)
	}
	got := fmt.Sprint(st.States, st.Transitions, st.Depth, fired)
	exp := fmt.Sprint(len(r.nodes), r.transitions, r.depth, r.fired)
	if got != exp {
		return fmt.Errorf("states, transitions, depth, fired: got %s, want %s", got, exp)
	}
	return nil
}

// sometimes checks the guards: every guard reported reached holds at the
// end of a shortest trace; with exact, the reached set is the reference's
// over levels 0..upto.
func (r *reference[S, A]) sometimes(res []Reach[S, A], exact bool, upto int) error {
	if len(res) != len(r.reached) {
		return fmt.Errorf("%d guards reported, want %d", len(res), len(r.reached))
	}
	for j, g := range res {
		want := r.reached[j] >= 0 && r.reached[j] <= upto
		if exact && g.Reached != want {
			return fmt.Errorf("guard %q reached %v, want %v", g.Name, g.Reached, want)
		}
		if !g.Reached {
			continue
		}
		t, err := Replay(r.m, g.Trace.Path())
		if err != nil {
			return fmt.Errorf("guard %q: trace does not replay: %v", g.Name, err)
		}
		p, _ := r.prop(g.Name)
		if !p.State(t.States[len(t.States)-1]) {
			return fmt.Errorf("guard %q false at the end of its trace", g.Name)
		}
		if len(t.Steps) != r.reached[j] {
			return fmt.Errorf("guard %q: trace of %d steps, shortest is %d", g.Name, len(t.Steps), r.reached[j])
		}
	}
	return nil
}

// agree checks a result against the reference's verdict. With exact the
// run was unbounded and must match in full; otherwise it was bounded or
// cancelled, and may be Incomplete instead.
func (r *reference[S, A]) agree(want refVerdict, res *Result[S, A], exact bool) error {
	if res.Verdict == Incomplete && !exact {
		return r.sometimes(res.Sometimes, false, 0)
	}
	got := refVerdict{verdict: res.Verdict}
	if v := res.Violation; v != nil {
		got.kind = v.Kind
		if want.search() {
			got.length = len(v.Trace.Steps)
		}
	}
	want.level = 0
	if got != want {
		if res.Reason != "" {
			return fmt.Errorf("verdict %v (%s), want %v", got, res.Reason, want)
		}
		return fmt.Errorf("verdict %v, want %v", got, want)
	}
	if res.Violation != nil {
		if err := r.real(res.Violation); err != nil {
			return err
		}
	}
	upto := r.depth
	if res.Verdict == Violated && r.findLevel >= 0 {
		upto = r.findLevel
	} else if err := r.counts(res.Stats); err != nil {
		return err
	}
	return r.sometimes(res.Sometimes, true, upto)
}

// fingerprint is everything in a result that must not depend on the
// number of workers.
func fingerprint[S, A any](r *Result[S, A]) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %q %d %d %d %v", r.Verdict, r.Reason, r.Stats.States, r.Stats.Transitions, r.Stats.Depth, r.Stats.Fired)
	if v := r.Violation; v != nil {
		fmt.Fprintf(&b, " %v %q %v loop %d noreturn %d %q", v.Kind, v.Property, v.Trace.Path(), v.Trace.Loop, v.Trace.NoReturn, v.Explain)
	}
	for _, g := range r.Sometimes {
		fmt.Fprintf(&b, " %s:%v", g.Name, g.Reached)
		if g.Trace != nil {
			fmt.Fprint(&b, g.Trace.Path())
		}
	}
	return b.String()
}

// disagreement is one way the explorer departed from the reference, named
// by the part of the differential test that saw it.
type disagreement struct {
	check string
	err   error
}

func (d disagreement) String() string { return d.check + ": " + d.err.Error() }

// differential runs the explorer on m under options drawn from d and
// compares every result with the reference. It returns the disagreements;
// none means the explorer agrees.
func differential(m *randModel, d drawer) []disagreement {
	var out []disagreement
	fail := func(check string, err error) {
		if err != nil {
			out = append(out, disagreement{check, err})
		}
	}
	ref := newReference[int, randAct](m)
	livelock := d.intRange(0, 1, "livelock") == 1
	fairness := livelock && d.intRange(0, 1, "fairness") == 1
	want := ref.verdict(livelock, fairness)
	run := func(ctx context.Context, opt Options) *Result[int, randAct] {
		opt.Livelock, opt.Fairness = livelock, fairness
		res, err := Explore(ctx, m, opt)
		if err != nil {
			fail("error", err)
			return nil
		}
		return res
	}

	// Unbounded, on one worker and on three.
	r1 := run(context.Background(), Options{Workers: 1})
	r3 := run(context.Background(), Options{Workers: 3})
	if r1 == nil || r3 == nil {
		return out
	}
	fail("unbounded", ref.agree(want, r1, true))
	if a, b := fingerprint(r1), fingerprint(r3); a != b {
		fail("workers", fmt.Errorf("1 worker: %s\n3 workers: %s", a, b))
	}

	// Bounded: the same verdict or Incomplete, never the other definite
	// one; and a bound that cuts nothing the verdict needs must not hide it.
	var opt Options
	if d.intRange(0, 1, "bound states") == 1 {
		opt.MaxStates = d.intRange(1, len(ref.nodes)+1, "max states")
	}
	if d.intRange(0, 1, "bound depth") == 1 {
		opt.MaxDepth = d.intRange(1, ref.depth+1, "max depth")
	}
	opt.Workers = []int{1, 3}[d.intRange(0, 1, "workers")]
	if rb := run(context.Background(), opt); rb != nil {
		fail("bounds", ref.agree(want, rb, false))
		fail("bounds", boundsCover(ref, want, opt, rb))
	}

	// Cancelled as a pass starts: Incomplete, unless a violation found
	// before that pass ended the check.
	phases := []Phase{PhaseSearch}
	if livelock {
		phases = append(phases, PhaseLivelock)
	}
	if fairness {
		phases = append(phases, PhaseFairness)
	}
	phase := phases[d.intRange(0, len(phases)-1, "cancel phase")]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rc := run(ctx, Options{Workers: 1, Progress: func(p Progress) {
		if p.Start && p.Phase == phase {
			cancel()
		}
	}})
	if rc != nil {
		fail("cancel", cancelled(ref, want, phase, rc))
	}

	// Fingerprints, on three workers: the exact search's result, but
	// never OK. (No collision is likely among a random model's states.)
	if !livelock {
		if rf := run(context.Background(), Options{Workers: 3, Fingerprint: true}); rf != nil {
			fail("fingerprint", sameButProof(r1, rf))
		}
	}
	return out
}

// sameButProof checks a fingerprint search's result fp against the exact
// one: the same counterexample and figures, but where the exact search
// proved the model, Incomplete.
func sameButProof[S, A any](exact, fp *Result[S, A]) error {
	if !fp.Stats.Fingerprint || fp.Stats.MissProbability < 0 || (fp.Stats.States > 1) != (fp.Stats.MissProbability > 0) {
		return fmt.Errorf("the stats do not say it is a fingerprint search: %+v", fp.Stats)
	}
	if exact.Verdict != OK {
		if a, b := fingerprint(exact), fingerprint(fp); a != b {
			return fmt.Errorf("exact: %s\nfingerprints: %s", a, b)
		}
		return nil
	}
	if fp.Verdict != Incomplete {
		return fmt.Errorf("the exact search proves the model; with fingerprints got %v, want incomplete", fp.Verdict)
	}
	exact.Verdict, exact.Reason = fp.Verdict, fp.Reason
	defer func() { exact.Verdict, exact.Reason = OK, "" }()
	if a, b := fingerprint(exact), fingerprint(fp); a != b {
		return fmt.Errorf("exact: %s\nfingerprints: %s", a, b)
	}
	return nil
}

// boundsCover checks what a bounded run owes: a violation within the
// bounds is reported, a model within the bounds is checked in full, and
// an incomplete search stays within its bounds.
func boundsCover(ref *reference[int, randAct], want refVerdict, opt Options, res *Result[int, randAct]) error {
	statesOK := func(n int) bool { return opt.MaxStates == 0 || opt.MaxStates >= n }
	depthOK := func(d int) bool { return opt.MaxDepth == 0 || opt.MaxDepth >= d }
	switch {
	case want.search() && statesOK(ref.through[want.level]) && depthOK(want.level):
		if res.Verdict != Violated {
			return fmt.Errorf("the finding at level %d is within the bounds (%d states, depth %d), got %v (%s)",
				want.level, opt.MaxStates, opt.MaxDepth, res.Verdict, res.Reason)
		}
	case !want.search() && statesOK(len(ref.nodes)) && depthOK(ref.depth):
		if res.Verdict != want.verdict {
			return fmt.Errorf("the model is within the bounds (%d states, depth %d), got %v (%s), want %v",
				opt.MaxStates, opt.MaxDepth, res.Verdict, res.Reason, want)
		}
	}
	if res.Verdict == Incomplete {
		inits := ref.through[0]
		if opt.MaxStates > 0 && res.Stats.States > max(opt.MaxStates, inits) {
			return fmt.Errorf("incomplete with %d states under a bound of %d", res.Stats.States, opt.MaxStates)
		}
		if opt.MaxDepth > 0 && res.Stats.Depth > opt.MaxDepth {
			return fmt.Errorf("incomplete at depth %d under a bound of %d", res.Stats.Depth, opt.MaxDepth)
		}
	}
	return nil
}

// cancelled checks a run whose context was cancelled as phase started.
func cancelled(ref *reference[int, randAct], want refVerdict, phase Phase, res *Result[int, randAct]) error {
	earlier := phase > PhaseSearch && want.search() ||
		phase == PhaseFairness && want.verdict == Violated && want.kind == Livelock
	if earlier {
		return ref.agree(want, res, true)
	}
	if phase == PhaseSearch && want.search() && want.level == 0 && res.Verdict == Violated {
		// The initial states are checked before the search first looks
		// at the context, and a finding beats an interrupt.
		return ref.agree(want, res, true)
	}
	if res.Verdict != Incomplete {
		return fmt.Errorf("cancelled as the %v pass started: got %v, want incomplete", phase, res.Verdict)
	}
	return ref.agree(want, res, false)
}
