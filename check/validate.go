package check

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidModel is returned when a model breaks the contract of [Model]:
// a verdict computed on such a model could be wrong, so none is given.
var ErrInvalidModel = errors.New("check: the model breaks its contract")

// validateWalk is how many states [Explore] walks with [Validate] before
// it searches.
const validateWalk = 256

// Validate checks that m keeps the contract of [Model] (and of [Fair],
// where it implements it) as go/analysis validates its analyzers before
// running them: property names are unique and each property has the
// predicate its kind needs; action kinds and actors are in range; and on
// the initial states and the first limit states of a breadth-first walk
// from them, the encoding round-trips (Encode(Decode(e)) == e), Actions
// gives the same list twice, Next leads to the same state twice and leaves
// its argument alone, and Terminal gives the same answer for a state and
// its decoded copy. [Explore] calls it, and repeats the per-state checks on
// a sample of the states it stores. The error names the state by the path
// to it.
func Validate[S, A any](m Model[S, A], limit int) (err error) {
	return validate(m, limit, Options{})
}

// validate is Validate, with the contracts that opt brings in: with
// PartialOrder, a [Reducer]'s.
func validate[S, A any](m Model[S, A], limit int, opt Options) (err error) {
	var path []int // the state being checked, for a panic's error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v, validating the model", ErrModelPanic, r)
			if path != nil {
				err = fmt.Errorf("%w at the state reached by the action indices %v", err, path)
			}
		}
	}()
	if err := validateStatic(m); err != nil {
		return err
	}
	e := newExplorer(m, Options{Workers: 1, PartialOrder: opt.PartialOrder})
	type item struct {
		s    S
		path []int
	}
	seen := map[string]bool{}
	var queue []item
	for i, s := range m.Init() {
		k := string(m.Encode(nil, s))
		if !seen[k] {
			seen[k] = true
			queue = append(queue, item{s, []int{i}})
		}
	}
	if len(queue) == 0 {
		return fmt.Errorf("%w: Init returned no state", ErrInvalidModel)
	}
	var sc scratch[S, A]
	for n := 0; n < len(queue) && n < limit; n++ {
		it := queue[n]
		path = it.path
		key := m.Encode(nil, it.s)
		sc.acts = m.Actions(it.s, sc.acts[:0])
		if msg := e.validateState(it.s, key, &sc); msg != "" {
			return fmt.Errorf("%w: %s, in the state reached by the action indices %v", ErrInvalidModel, msg, it.path)
		}
		for i, a := range sc.acts {
			t := m.Next(it.s, a)
			k := string(m.Encode(nil, t))
			if !seen[k] {
				seen[k] = true
				queue = append(queue, item{t, append(append([]int(nil), it.path...), i)})
			}
		}
	}
	return nil
}

// validateStatic checks what does not depend on a state.
func validateStatic[S, A any](m Model[S, A]) error {
	names := map[string]bool{}
	for _, p := range m.Properties() {
		if p.Name == "" || names[p.Name] {
			return fmt.Errorf("%w: property name %q is empty or used twice", ErrInvalidModel, p.Name)
		}
		names[p.Name] = true
		switch {
		case p.Kind == StepKind && p.Step == nil, p.Kind != StepKind && p.State == nil:
			return fmt.Errorf("%w: property %q has no predicate for its kind (%v)", ErrInvalidModel, p.Name, p.Kind)
		case p.Kind != AlwaysKind && p.Kind != SometimesKind && p.Kind != StepKind:
			return fmt.Errorf("%w: property %q has an unknown kind", ErrInvalidModel, p.Name)
		}
	}
	kinds := map[string]bool{}
	for _, k := range m.Kinds() {
		if kinds[k] {
			return fmt.Errorf("%w: action kind %q named twice", ErrInvalidModel, k)
		}
		kinds[k] = true
	}
	return nil
}

// validateState checks the per-state contract on s, whose encoding is key
// and whose actions are in sc.acts; it returns what is wrong, or "".
func (e *explorer[S, A]) validateState(s S, key []byte, sc *scratch[S, A]) string {
	m := e.m
	sc.enc2 = m.Encode(sc.enc2[:0], m.Decode(key))
	if !bytes.Equal(sc.enc2, key) {
		return fmt.Sprintf("Encode(Decode(e)) is %x, not e = %x", sc.enc2, key)
	}
	if m.Terminal(s) != m.Terminal(m.Decode(key)) {
		return "Terminal differs between a state and its decoded copy"
	}
	sc.again = m.Actions(s, sc.again[:0])
	if len(sc.again) != len(sc.acts) {
		return fmt.Sprintf("Actions gave %d actions, then %d", len(sc.acts), len(sc.again))
	}
	for i, a := range sc.acts {
		if k := m.Kind(a); k < 0 || k >= len(e.kinds) {
			return fmt.Sprintf("action %d has kind %d, not in 0..%d", i, k, len(e.kinds)-1)
		}
		if m.Kind(a) != m.Kind(sc.again[i]) {
			return fmt.Sprintf("Actions gave a different action %d the second time", i)
		}
		if e.fair != nil {
			if w := e.fair.Actor(a); w < 0 || w >= e.nactors {
				return fmt.Sprintf("action %d has actor %d, not in 0..%d", i, w, e.nactors-1)
			}
		}
		sc.enc = m.Encode(sc.enc[:0], m.Next(s, a))
		if sc.enc2 = m.Encode(sc.enc2[:0], s); !bytes.Equal(sc.enc2, key) {
			return fmt.Sprintf("Next changed the state it was given (action %d)", i)
		}
		if e.reuse != nil {
			sc.next = e.reuse.NextInto(sc.next, s, a)
			if sc.enc2 = m.Encode(sc.enc2[:0], sc.next); !bytes.Equal(sc.enc, sc.enc2) {
				return fmt.Sprintf("NextInto and Next lead to different states (action %d)", i)
			}
			if sc.enc2 = m.Encode(sc.enc2[:0], s); !bytes.Equal(sc.enc2, key) {
				return fmt.Sprintf("NextInto changed the state it was given (action %d)", i)
			}
		}
		sc.enc2 = m.Encode(sc.enc2[:0], m.Next(s, sc.again[i]))
		if !bytes.Equal(sc.enc, sc.enc2) {
			return fmt.Sprintf("action %d leads to two different states", i)
		}
	}
	if e.por != nil {
		if msg := e.validateAmple(s, key, sc.acts); msg != "" {
			return msg
		}
	}
	if e.sym != nil {
		return e.validateSymmetry(s, m.Decode(key), sc.acts)
	}
	return ""
}

// validateAmple checks what it can of the [Reducer] contract in s, whose
// encoding is key: the ample action changes the state but no state
// property, breaks no step property, and commutes with each other enabled
// action b: after b, an action of the ample one's kind is enabled and
// reaches a state that taking the ample action first, then some action,
// reaches too.
func (e *explorer[S, A]) validateAmple(s S, key []byte, acts []A) string {
	m := e.m
	i := e.por.Ample(s, acts)
	if i < 0 {
		return ""
	}
	if i >= len(acts) {
		return fmt.Sprintf("Ample named action %d of %d", i, len(acts))
	}
	a := acts[i]
	t := m.Next(s, a)
	if bytes.Equal(m.Encode(nil, t), key) {
		return fmt.Sprintf("the ample action %d leaves the state as it was", i)
	}
	for _, p := range e.props {
		switch {
		case p.Kind == StepKind && !p.Step(s, a, t):
			return fmt.Sprintf("the ample action %d breaks %q", i, p.Name)
		case p.Kind != StepKind && p.State(s) != p.State(t):
			return fmt.Sprintf("the ample action %d changes %q", i, p.Name)
		}
	}
	after := map[string]bool{}
	for _, x := range m.Actions(t, nil) {
		after[string(m.Encode(nil, m.Next(t, x)))] = true
	}
	for j, b := range acts {
		if j == i {
			continue
		}
		u := m.Next(s, b)
		closes := false
		for _, y := range m.Actions(u, nil) {
			if m.Kind(y) == m.Kind(a) && after[string(m.Encode(nil, m.Next(u, y)))] {
				closes = true
				break
			}
		}
		if !closes {
			return fmt.Sprintf("the ample action %d does not commute with action %d", i, j)
		}
	}
	return ""
}

// validateSymmetry checks that a reduced model's representative rep of s
// is s renamed, as far as the search can tell: the same successors (by
// their reduced encodings), the same terminal status, and the same answer
// from every state property. (Kinds may name what a renaming moves, a
// counter's own increment, and are not compared.) A symmetry that is not
// one of the model would merge states that differ.
func (e *explorer[S, A]) validateSymmetry(s, rep S, acts []A) string {
	m := e.m
	succ := func(x S, as []A) []string {
		var out []string
		for _, a := range as {
			out = append(out, string(m.Encode(nil, m.Next(x, a))))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(succ(s, acts), succ(rep, m.Actions(rep, nil))) {
		return "the state and its representative (Decode of its reduced encoding) have different successors: the model's symmetry is not one of its steps"
	}
	if m.Terminal(s) != m.Terminal(rep) {
		return "Terminal differs between the state and its representative"
	}
	for _, p := range e.props {
		if p.State != nil && p.State(s) != p.State(rep) {
			return fmt.Sprintf("property %q differs between the state and its representative", p.Name)
		}
	}
	return ""
}
