package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Minimising a counterexample. The explorer's traces are shortest to the
// state it reports, but a shortest trace is not always the clearest one: a
// livelock's lasso runs to the first state of the component it reports, and
// the steps of an actor that has nothing to do with the fault may be on the
// way; a trace from elsewhere (a random walk, a stored trace) may wander;
// and steps of independent actors may be interleaved where they could come
// in blocks. [Minimise] takes any counterexample, drops the steps the fault
// does not need and regroups independent steps so that each actor's steps
// come together, and checks every candidate it keeps against the model: the
// trace it returns is a violation of the same property, of the same kind,
// from the same initial state, or the input itself.

// ErrNotViolation is returned by [Minimise] for a counterexample that does
// not hold in the model: its steps do not replay, or the property it names
// is not broken along them.
var ErrNotViolation = errors.New("check: the trace is not a violation of its kind in the model")

// ErrUnconfirmed is returned by [Minimise] for a livelock it could not
// confirm: the search for a terminal state from the loop state reached
// [MinimiseOptions.MaxStates].
var ErrUnconfirmed = errors.New("check: the violation could not be confirmed within the state bound")

// defaultMinimiseStates is MinimiseOptions.MaxStates when it is 0.
const defaultMinimiseStates = 1 << 20

// minimiseCheckEvery is how many states a forward search visits between
// looks at the context.
const minimiseCheckEvery = 1 << 10

// MinimiseOptions shape [Minimise]. The zero value drops and reorders, with
// searches bounded at 1<<20 states.
type MinimiseOptions struct {
	// MaxStates bounds each forward search that decides whether a terminal
	// state is reachable from a state (for a livelock, and its NoReturn);
	// 0 means 1<<20. A search that reaches the bound decides nothing: a
	// candidate it was for is rejected, never assumed.
	MaxStates int
	// KeepSteps turns dropping off: the trace is only reordered.
	KeepSteps bool
	// KeepOrder turns reordering off: steps are only dropped.
	KeepOrder bool

	_ struct{}
}

// MinimiseStats are the figures of a [Minimise] run.
type MinimiseStats struct {
	// Before and After are the number of steps of the trace given and of
	// the trace returned.
	Before, After int
	// Dropped is Before - After: the steps removed, by deleting single
	// steps, by cutting out the stretch between two visits of a state, by
	// starting a lasso's cycle where its prefix first meets it, or by
	// ending the trace where the property first fails.
	Dropped int
	// Moved counts the swaps of two adjacent steps that commute.
	Moved int
	// Candidates counts the candidate traces checked against the model.
	Candidates int
	// CutShort says the context ended the run before it was done; Reason
	// says how ("interrupted", "time bound reached"). The trace returned
	// is still a checked violation, only perhaps not a minimal one.
	CutShort bool
	Reason   string
}

// Minimise returns a counterexample for the same property as v, of the
// same kind (v.Kind, v.Property), that is a path of m from the same
// initial state, with the steps that do not matter removed and independent
// steps reordered so that the trace reads better. v itself is not changed.
//
// A step is identified by its action: to re-run a trace after a change,
// each recorded action is looked up (==) among the actions enabled in the
// new state; a candidate whose action is not enabled is not a path.
// Dropping tries, greedily and until nothing more goes, to cut out the
// steps between two visits of the same state (for a lasso, also to start
// the cycle where the prefix first meets it), then to delete single steps,
// last first. A candidate is kept only if it is still a violation of the
// same kind:
//
//   - [Invariant]: some state breaks the named [Always] property; the trace
//     ends at the first such state.
//   - [StepInvariant]: some step breaks the named [AlwaysStep] property; the
//     trace ends with the first such step.
//   - [Deadlock]: the last state has no enabled action and is not terminal.
//   - [Livelock]: a lasso (its last state equal, by Encode, to the state at
//     Loop) from whose loop state no terminal state is reachable, which a
//     forward search bounded by opt.MaxStates must show; a search that
//     reaches the bound rejects the candidate.
//   - [NonProgress]: a lasso whose cycle has only non-terminal states, on
//     which every actor ([Fair.Actor]) moves or is disabled in some state
//     (m must implement [Fair]).
//
// Reordering moves a step, by swaps of adjacent steps that commute (each
// is enabled before the other, and the state after both is the same either
// way), next to the nearest step of the same actor before it, or else
// after it (by [Fair.Actor] where m implements Fair, otherwise by the
// Actor of [Model.Describe]), when that leaves fewer switches between
// actors. Swaps stay within a lasso's prefix or within its cycle, never
// move the step that breaks an AlwaysStep property, and never make a new
// middle state or step break the property earlier; a non-progress cycle
// must stay fair. So the last state (for a lasso the loop state) stays the
// same. Each accepted move removes at least one switch, and dropping never
// adds one, so there are fewer than n moves of at most n swaps each, for a
// trace of n steps. After a move, dropping is tried again, until neither
// changes the trace.
//
// The returned violation is rebuilt in full: States, and each Step's Index
// (the action's position among those enabled in the new state) and Label;
// Loop; NoReturn, for a livelock the first state from which no terminal
// state is reachable (-1 for the other kinds, and where a search reached
// the bound or the context ended); and Explain, from [Explainer] as the
// explorer fills it. The run is deterministic: the same input gives the
// same output.
//
// When ctx ends, Minimise returns the best trace checked so far with
// CutShort set in the stats. The error is non-nil only when there is no
// checked trace to return: v does not hold in m ([ErrNotViolation]), a
// livelock could not be confirmed ([ErrUnconfirmed]), the context ended
// before v was confirmed, the model panicked ([ErrModelPanic]), or a trace
// that checked no longer replays ([ErrInvalidModel]).
func Minimise[S any, A comparable](ctx context.Context, m Model[S, A], v *Violation[S, A], opt MinimiseOptions) (out *Violation[S, A], stats MinimiseStats, err error) {
	if v == nil {
		return nil, stats, errors.New("check: Minimise of a nil violation")
	}
	if opt.MaxStates < 0 {
		return nil, stats, errors.New("check: negative MinimiseOptions.MaxStates")
	}
	stats.Before = len(v.Trace.Steps)
	z := &minimiser[S, A]{ctx: ctx, m: m, kind: v.Kind, maxStates: opt.MaxStates, finish: map[string]bool{}, stats: &stats}
	if z.maxStates == 0 {
		z.maxStates = defaultMinimiseStates
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: %v, minimising", ErrModelPanic, r)
		}
	}()
	if err := z.setup(v); err != nil {
		return nil, stats, err
	}
	cur, err := z.confirm(v)
	if err != nil {
		return nil, stats, err
	}
	z.confirmed = true
	// Dropping and reordering each run to their own fixed point. A move
	// may let dropping go further; a round after the first needs a move,
	// and reordering finds none in a trace it left and dropping did not
	// change, so the rounds end.
	for z.stop == "" {
		moved := stats.Moved
		if !opt.KeepSteps {
			cur = z.drop(cur)
		}
		if !opt.KeepOrder && z.stop == "" {
			cur = z.reorder(cur)
		}
		if stats.Moved == moved || opt.KeepSteps {
			break
		}
	}
	out, err = z.rebuild(cur, v)
	if err != nil {
		return nil, stats, err
	}
	stats.After = len(out.Trace.Steps)
	stats.Dropped = stats.Before - stats.After
	if z.stop != "" {
		stats.CutShort, stats.Reason = true, z.stop
	}
	return out, stats, nil
}

// answer is the answer to a question a bounded search may not settle.
type answer int

const (
	answerUnknown answer = iota
	answerYes
	answerNo
)

type minimiser[S any, A comparable] struct {
	ctx       context.Context
	m         Model[S, A]
	fair      Fair[A] // nil unless m has actors
	nactors   int
	kind      ViolationKind
	prop      Property[S, A] // for Invariant and StepInvariant
	init      S
	initIx    int
	maxStates int
	// finish caches, by encoding, whether a terminal state is reachable:
	// only settled answers are kept.
	finish map[string]bool
	stats  *MinimiseStats
	// stop says why the context ended the run, or "".
	stop string
	// bound is set when the last search reached MaxStates.
	bound bool
	// confirmed is set once the input is checked.
	confirmed bool
	acts      []A // scratch
}

// mtrace is a candidate: the actions, the states they lead through (one
// more), and the loop index of a lasso, -1 for a finite path.
type mtrace[S, A any] struct {
	acts   []A
	states []S
	loop   int
}

func (t mtrace[S, A]) lasso() bool { return t.loop >= 0 }

func (z *minimiser[S, A]) setup(v *Violation[S, A]) error {
	init := z.m.Init()
	if v.Trace.Init < 0 || v.Trace.Init >= len(init) {
		return fmt.Errorf("%w: initial state %d of %d", ErrNotViolation, v.Trace.Init, len(init))
	}
	z.init, z.initIx = init[v.Trace.Init], v.Trace.Init
	z.fair, _ = any(z.m).(Fair[A])
	if z.fair != nil {
		z.nactors = len(z.fair.Actors())
	}
	switch v.Kind {
	case Invariant, StepInvariant:
		want := AlwaysKind
		if v.Kind == StepInvariant {
			want = StepKind
		}
		found := false
		for _, p := range z.m.Properties() {
			if p.Name == v.Property && p.Kind == want {
				z.prop, found = p, true
				break
			}
		}
		if !found {
			return fmt.Errorf("%w: the model has no %v property %q", ErrNotViolation, want, v.Property)
		}
	case Deadlock, Livelock:
	case NonProgress:
		if z.fair == nil {
			return fmt.Errorf("%w: a non-progress cycle in a model that does not implement Fair", ErrNotViolation)
		}
	default:
		return fmt.Errorf("%w: unknown kind %v", ErrNotViolation, v.Kind)
	}
	return nil
}

// confirm replays v by its actions and checks it, ending it where the
// property first fails.
func (z *minimiser[S, A]) confirm(v *Violation[S, A]) (mtrace[S, A], error) {
	loop := -1
	if z.kind == Livelock || z.kind == NonProgress {
		loop = v.Trace.Loop
		if loop < 0 || loop >= len(v.Trace.Steps) {
			return mtrace[S, A]{}, fmt.Errorf("%w: a %v lasso with Loop %d and %d steps", ErrNotViolation, z.kind, loop, len(v.Trace.Steps))
		}
	}
	acts := make([]A, len(v.Trace.Steps))
	for i, st := range v.Trace.Steps {
		acts[i] = st.Action
	}
	t, ok := z.replay(mtrace[S, A]{}, 0, acts, loop)
	if !ok {
		return t, fmt.Errorf("%w: the steps do not replay from initial state %d", ErrNotViolation, z.initIx)
	}
	z.stats.Candidates++
	t, ans := z.judge(t)
	switch {
	case ans == answerYes:
		return t, nil
	case z.stop != "":
		return t, fmt.Errorf("check: minimising: %s before the violation was confirmed: %w", z.stop, z.ctx.Err())
	case z.bound:
		return t, fmt.Errorf("%w: no terminal state found from the loop state within %d states", ErrUnconfirmed, z.maxStates)
	}
	return t, fmt.Errorf("%w: not a %v of %q", ErrNotViolation, z.kind, v.Property)
}

// enabled returns the index of a among the actions enabled in s, or -1.
func (z *minimiser[S, A]) enabled(s S, a A) int {
	z.acts = z.m.Actions(s, z.acts[:0])
	return slices.Index(z.acts, a)
}

// replay runs acts from the initial state, reusing the first keep+1
// states of base (whose first keep actions must be the same), and
// reports false when an action is not enabled.
func (z *minimiser[S, A]) replay(base mtrace[S, A], keep int, acts []A, loop int) (mtrace[S, A], bool) {
	t := mtrace[S, A]{acts: acts, loop: loop, states: make([]S, 0, len(acts)+1)}
	if keep > 0 {
		t.states = append(t.states, base.states[:keep+1]...)
	} else {
		t.states = append(t.states, z.init)
		keep = 0
	}
	s := t.states[keep]
	for _, a := range acts[keep:] {
		if z.enabled(s, a) < 0 {
			return t, false
		}
		s = z.m.Next(s, a)
		t.states = append(t.states, s)
	}
	return t, true
}

// judge checks a replayed candidate: answerYes when it is a violation of
// the kind sought (ended where the property first fails), answerNo when it
// is not, answerUnknown when a search could not tell (z.bound or z.stop
// says why).
func (z *minimiser[S, A]) judge(t mtrace[S, A]) (mtrace[S, A], answer) {
	z.bound = false
	if mutant == "minimise-skips-verify" && z.confirmed {
		// Seeded bug: every candidate that replays is taken for a
		// violation (the input is still confirmed).
		return t, answerYes
	}
	switch z.kind {
	case Invariant:
		for i, s := range t.states {
			if !z.prop.State(s) {
				return z.truncate(t, i), answerYes
			}
		}
		return t, answerNo
	case StepInvariant:
		for i, a := range t.acts {
			if !z.prop.Step(t.states[i], a, t.states[i+1]) {
				return z.truncate(t, i+1), answerYes
			}
		}
		return t, answerNo
	case Deadlock:
		last := t.states[len(t.states)-1]
		if z.m.Terminal(last) || len(z.m.Actions(last, z.acts[:0])) > 0 {
			return t, answerNo
		}
		return t, answerYes
	}
	if !z.closes(t) {
		return t, answerNo
	}
	if z.kind == NonProgress {
		if z.fairCycle(t) {
			return t, answerYes
		}
		return t, answerNo
	}
	switch z.canFinish(t.states[t.loop]) {
	case answerNo:
		return t, answerYes
	case answerYes:
		return t, answerNo
	}
	return t, answerUnknown
}

// truncate ends a finite candidate after n steps.
func (z *minimiser[S, A]) truncate(t mtrace[S, A], n int) mtrace[S, A] {
	t.acts, t.states = t.acts[:n:n], t.states[:n+1:n+1]
	return t
}

// closes reports whether a lasso candidate is one: a cycle of at least one
// step back to the loop state.
func (z *minimiser[S, A]) closes(t mtrace[S, A]) bool {
	n := len(t.acts)
	if t.loop < 0 || t.loop >= n {
		return false
	}
	// A model that identifies renamings would call a cycle back to a
	// renaming of the loop state closed: compare real states.
	if sym, ok := any(z.m).(Symmetric[S]); ok && sym.Reduced() {
		return bytes.Equal(sym.EncodeExact(nil, t.states[t.loop]), sym.EncodeExact(nil, t.states[n]))
	}
	return bytes.Equal(z.m.Encode(nil, t.states[t.loop]), z.m.Encode(nil, t.states[n]))
}

// fairCycle reports whether a lasso's cycle is a fair non-progress cycle:
// no terminal state on it, and every actor moves on it or is disabled in
// one of its states.
func (z *minimiser[S, A]) fairCycle(t mtrace[S, A]) bool {
	ok := make([]bool, z.nactors)
	for _, a := range t.acts[t.loop:] {
		ok[z.fair.Actor(a)] = true
	}
	enabled := make([]bool, z.nactors)
	for _, s := range t.states[t.loop:] {
		if z.m.Terminal(s) {
			return false
		}
		clear(enabled)
		for _, a := range z.m.Actions(s, z.acts[:0]) {
			enabled[z.fair.Actor(a)] = true
		}
		for w, on := range enabled {
			ok[w] = ok[w] || !on
		}
	}
	return !slices.Contains(ok, false)
}

// canFinish says whether a terminal state is reachable from s (s itself
// included), by a breadth-first search bounded by maxStates; answerUnknown
// when the bound or the context stopped it.
func (z *minimiser[S, A]) canFinish(s S) answer {
	z.bound = false
	start := string(z.m.Encode(nil, s))
	if f, ok := z.finish[start]; ok {
		return answerOf(f)
	}
	seen := map[string]bool{start: true}
	order := []string{start}
	queue := []S{s}
	var enc []byte
	for n := 0; len(queue) > 0; n++ {
		if n%minimiseCheckEvery == 0 && z.interrupted() {
			return answerUnknown
		}
		x := queue[0]
		queue = queue[1:]
		if z.m.Terminal(x) {
			z.finish[start] = true
			return answerYes
		}
		for _, a := range z.m.Actions(x, nil) {
			y := z.m.Next(x, a)
			enc = z.m.Encode(enc[:0], y)
			f, known := z.finish[string(enc)]
			switch {
			case known && f:
				z.finish[start] = true
				return answerYes
			case known, seen[string(enc)]:
				continue
			}
			if len(seen) >= z.maxStates {
				z.bound = true
				return answerUnknown
			}
			k := string(enc)
			seen[k] = true
			order = append(order, k)
			queue = append(queue, y)
		}
	}
	// Nothing reachable finishes: neither does any state seen.
	for _, k := range order {
		z.finish[k] = false
	}
	return answerNo
}

func answerOf(finish bool) answer {
	if finish {
		return answerYes
	}
	return answerNo
}

// interrupted reports whether the context has ended, and records why.
func (z *minimiser[S, A]) interrupted() bool {
	if z.stop != "" {
		return true
	}
	if err := z.ctx.Err(); err != nil {
		z.stop = interruptReason(err)
		return true
	}
	return false
}

// try checks a candidate built from cur by keeping its first keep actions
// and running acts (the whole new list) with loop; it returns the
// candidate, ended where the property first fails, and whether it is a
// violation.
func (z *minimiser[S, A]) try(cur mtrace[S, A], keep int, acts []A, loop int) (mtrace[S, A], bool) {
	if z.interrupted() {
		return cur, false
	}
	z.stats.Candidates++
	t, ok := z.replay(cur, keep, acts, loop)
	if !ok {
		return cur, false
	}
	t, v := z.judge(t)
	return t, v == answerYes
}

// drop removes steps until no single removal, and no cut between two
// visits of a state, leaves a violation.
func (z *minimiser[S, A]) drop(cur mtrace[S, A]) mtrace[S, A] {
	for changed := true; changed && z.stop == ""; {
		changed = false
		if c, ok := z.cut(cur); ok {
			cur, changed = c, true
			continue
		}
		for k := len(cur.acts) - 1; k >= 0 && z.stop == ""; k-- {
			if k >= len(cur.acts) {
				continue // the last candidate ended earlier
			}
			loop := cur.loop
			if cur.lasso() {
				if k < loop {
					loop--
				} else if len(cur.acts)-loop == 1 {
					continue // the cycle's only step
				}
			}
			acts := slices.Concat(cur.acts[:k], cur.acts[k+1:])
			if c, ok := z.try(cur, k, acts, loop); ok {
				cur, changed = c, true
			}
		}
	}
	return cur
}

// cut tries to remove the stretch between two visits of the same state,
// longest first; for a lasso, also to start the cycle at the first state
// of the prefix that lies on it. It returns the first candidate that is
// still a violation.
func (z *minimiser[S, A]) cut(cur mtrace[S, A]) (mtrace[S, A], bool) {
	type span struct{ i, j, gone int }
	n, loop := len(cur.acts), cur.loop
	first := map[string][]int{} // earlier indices of each state
	var spans []span
	for j, s := range cur.states {
		k := string(z.m.Encode(nil, s))
		for _, i := range first[k] {
			gone := j - i
			switch {
			case !cur.lasso() || j <= loop:
			case i >= loop && (i != loop || j != n):
			case i < loop:
				gone = loop - i // start the cycle at i
			default:
				continue // the whole cycle
			}
			spans = append(spans, span{i, j, gone})
		}
		first[k] = append(first[k], j)
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.gone != b.gone {
			return b.gone - a.gone
		}
		if a.i != b.i {
			return a.i - b.i
		}
		return a.j - b.j
	})
	for _, sp := range spans {
		if z.stop != "" {
			break
		}
		i, j := sp.i, sp.j
		var acts []A
		newLoop := loop
		switch {
		case !cur.lasso() || j <= loop || i >= loop:
			acts = slices.Concat(cur.acts[:i], cur.acts[j:])
			if cur.lasso() && j <= loop {
				newLoop = loop - (j - i)
			}
		default:
			// states[i] is states[j] on the cycle: run the cycle from
			// there, from j round to j.
			acts = slices.Concat(cur.acts[:i], cur.acts[j:n], cur.acts[loop:j])
			newLoop = i
		}
		if c, ok := z.try(cur, i, acts, newLoop); ok {
			return c, true
		}
	}
	return cur, false
}

// actorOf names the actor of the step a from s.
func (z *minimiser[S, A]) actorOf(s S, a A) string {
	if z.fair != nil {
		return strconv.Itoa(z.fair.Actor(a))
	}
	return z.m.Describe(s, a).Actor
}

func switches(actors []string) int {
	n := 0
	for i := 1; i < len(actors); i++ {
		if actors[i] != actors[i-1] {
			n++
		}
	}
	return n
}

// segment returns the range [lo, hi) of step indices that step k may be
// moved within: a lasso's prefix or its cycle; for a step invariant every
// step but the last, which breaks the property.
func (z *minimiser[S, A]) segment(t mtrace[S, A], k int) (lo, hi int) {
	n := len(t.acts)
	switch {
	case t.lasso() && k < t.loop:
		return 0, t.loop
	case t.lasso():
		return t.loop, n
	case z.kind == StepInvariant:
		return 0, n - 1
	}
	return 0, n
}

// swap exchanges steps k and k+1 of t in place when they commute: each is
// enabled before the other and both orders end in the same state. It also
// refuses a swap whose new middle state or steps would break the property
// earlier, so that the trace stays one that dropping would keep.
func (z *minimiser[S, A]) swap(t mtrace[S, A], actors []string, k int) bool {
	s, a, b := t.states[k], t.acts[k], t.acts[k+1]
	if z.enabled(s, b) < 0 {
		return false
	}
	mid := z.m.Next(s, b)
	if z.enabled(mid, a) < 0 {
		return false
	}
	end := z.m.Next(mid, a)
	if mutant != "minimise-reorder-noncommuting" &&
		!bytes.Equal(z.m.Encode(nil, end), z.m.Encode(nil, t.states[k+2])) {
		return false
	}
	switch z.kind {
	case Invariant:
		if !z.prop.State(mid) {
			return false
		}
	case StepInvariant:
		if !z.prop.Step(s, b, mid) || !z.prop.Step(mid, a, end) {
			return false
		}
	}
	t.acts[k], t.acts[k+1] = b, a
	t.states[k+1] = mid
	actors[k], actors[k+1] = z.actorOf(s, b), z.actorOf(mid, a)
	return true
}

// reorder regroups commuting steps: it moves a step next to the nearest
// step of the same actor before it, then after it (or as near as the
// step's segment allows: a lasso's prefix or cycle), when the swaps that
// take it there all commute and the trace then switches actors fewer
// times.
func (z *minimiser[S, A]) reorder(cur mtrace[S, A]) mtrace[S, A] {
	n := len(cur.acts)
	actors := make([]string, n)
	for k, a := range cur.acts {
		actors[k] = z.actorOf(cur.states[k], a)
	}
	// move bubbles step from to position to, one swap at a time, in place;
	// it keeps the result when every swap commutes and there are fewer
	// switches between actors, and otherwise puts the steps back.
	move := func(from, to int) bool {
		if z.interrupted() {
			return false
		}
		z.stats.Candidates++
		a, b := min(from, to), max(from, to) // the steps that may change
		acts := slices.Clone(cur.acts[a : b+1])
		states := slices.Clone(cur.states[a : b+2])
		who := slices.Clone(actors[a : b+1])
		before := switches(actors[max(a-1, 0):min(b+2, n)])
		ok := true
		// Moving left swaps (from-1, from), then (from-2, from-1), ...;
		// moving right swaps (from, from+1), then (from+1, from+2), ...
		for k := from - 1; ok && k >= to; k-- {
			ok = z.swap(cur, actors, k)
		}
		for k := from; ok && k < to; k++ {
			ok = z.swap(cur, actors, k)
		}
		ok = ok && switches(actors[max(a-1, 0):min(b+2, n)]) < before
		if ok && z.kind == NonProgress && a >= cur.loop && cur.lasso() {
			ok = z.fairCycle(cur)
		}
		if !ok {
			copy(cur.acts[a:], acts)
			copy(cur.states[a:], states)
			copy(actors[a:], who)
			return false
		}
		z.stats.Moved += b - a
		return true
	}
	// Work on a copy: the trace given may share its arrays with others.
	cur = mtrace[S, A]{acts: slices.Clone(cur.acts), states: slices.Clone(cur.states), loop: cur.loop}
	for moved := true; moved && z.stop == ""; {
		moved = false
		for j := 1; j < n && z.stop == ""; j++ {
			lo, hi := z.segment(cur, j)
			if j == lo || j >= hi || actors[j-1] == actors[j] {
				continue
			}
			for i := j - 2; i >= 0; i-- {
				if actors[i] == actors[j] {
					if to := max(i+1, lo); to < j {
						moved = move(j, to) || moved
					}
					break
				}
			}
		}
		for i := 0; i < n-1 && z.stop == ""; i++ {
			_, hi := z.segment(cur, i)
			if i+1 >= hi || actors[i+1] == actors[i] {
				continue
			}
			for j := i + 2; j < n; j++ {
				if actors[j] == actors[i] {
					if to := min(j-1, hi-1); to > i {
						moved = move(i, to) || moved
					}
					break
				}
			}
		}
	}
	return cur
}

// rebuild replays the final actions from the initial state into a full
// violation.
func (z *minimiser[S, A]) rebuild(t mtrace[S, A], v *Violation[S, A]) (*Violation[S, A], error) {
	tr := Trace[S, A]{Init: z.initIx, Loop: t.loop, NoReturn: -1}
	s := z.init
	tr.States = append(tr.States, s)
	for n, a := range t.acts {
		i := z.enabled(s, a)
		if i < 0 {
			return nil, fmt.Errorf("%w: the minimised trace no longer replays at step %d: the model is not deterministic", ErrInvalidModel, n+1)
		}
		tr.Steps = append(tr.Steps, Step[A]{Index: i, Action: a, Label: z.m.Describe(s, a)})
		s = z.m.Next(s, a)
		tr.States = append(tr.States, s)
	}
	out := &Violation[S, A]{Kind: v.Kind, Property: v.Property, Trace: tr}
	if z.kind == Livelock {
		for i, s := range tr.States[:t.loop+1] {
			f := z.canFinish(s)
			if f == answerNo {
				out.Trace.NoReturn = i
			}
			if f != answerYes {
				break
			}
		}
	}
	x, ok := any(z.m).(Explainer[S])
	switch {
	case !ok:
	case z.kind == Deadlock:
		out.Explain = x.Explain(tr.States[len(tr.States)-1])
	case t.lasso():
		out.Explain = x.Explain(tr.States[t.loop])
	}
	return out, nil
}
