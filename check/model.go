package check

// Model is a finite transition system the explorer can search. S is the
// state type and A the action type. A Model must be deterministic and safe
// for concurrent use: the explorer calls its methods from several goroutines
// at once, and the same state must always yield the same actions, in the same
// order, with the same successors. Nondeterminism is expressed as several
// enabled actions, never as randomness inside [Model.Next].
type Model[S, A any] interface {
	// Init returns the initial states, in a fixed order.
	Init() []S
	// Actions appends the actions enabled in s to dst, in a fixed order, and
	// returns the extended slice. A trace is stored as the index of each
	// step's action in this list, so the order is part of the model.
	Actions(s S, dst []A) []A
	// Next returns the state reached from s by taking the enabled action a.
	// It must not modify s.
	Next(s S, a A) S
	// Encode appends a canonical encoding of s to dst. Two states are the
	// same state exactly when their encodings are equal; the visited set
	// stores encodings, never states.
	Encode(dst []byte, s S) []byte
	// Decode rebuilds a state from an encoding made by Encode. The explorer
	// does not keep the bytes alive after the call returns.
	Decode(src []byte) S
	// Terminal reports whether s is a finished state: one where having no
	// enabled action is not a deadlock, and which counts as completion for
	// the livelock check.
	Terminal(s S) bool
	// Kinds names the kinds of action, so that the figures can say how often
	// each fired and which never did.
	Kinds() []string
	// Kind returns the index in Kinds of a's kind.
	Kind(a A) int
	// Describe says, for a trace, who takes a in s and what happens.
	Describe(s S, a A) Label
	// Properties returns the properties to check, in the order they are
	// reported.
	Properties() []Property[S, A]
}

// Reducer is implemented by a model that can name, in a state, one
// enabled action that may be taken alone, the others left for later: the
// partial-order reduction (Options.PartialOrder) then expands the state by
// that action only. The explorer can only sample the contract, which is
// the model's to keep. The action Ample names must
//
//   - be independent of every action of the model: in any state where both
//     are enabled, neither disables the other and the two orders reach the
//     same state (so that it stays enabled, and means the same, until it is
//     taken, whatever else moves: a persistent set of one);
//   - be invisible: change the value of no Always or Sometimes property,
//     break no AlwaysStep property, and leave unchanged what the step
//     properties read of another action's transition;
//   - never lie on a cycle: every such action raises a measure of the
//     state that no action lowers (a program counter in straight-line
//     code), so that no state is left unexpanded for ever (the cycle
//     proviso).
//
// The reduced search then reaches a state of every deadlock and of every
// violation of an Always, AlwaysStep or Sometimes property that the full
// one does. It does not keep the cycles the livelock and fair-progress
// checks look at, and [Explore] refuses them with it.
type Reducer[S, A any] interface {
	// Ample returns the index in acts, the actions enabled in s in
	// Actions order, of an action that may be taken alone, or -1.
	Ample(s S, acts []A) int
}

// Reuser is implemented by a model that can build a successor in the
// storage of a state the explorer no longer needs, so that the search does
// not allocate a state per transition. The explorer passes back, as dst,
// only the zero S or a state that NextInto returned before, once it has
// finished with it; NextInto must return the state Next(s, a) would, and
// must not modify s. The explorer checks that it does on a sample of the
// states it stores, as it checks the rest of the contract.
type Reuser[S, A any] interface {
	NextInto(dst S, s S, a A) S
}

// Explainer is implemented by a model that can say, in its own words, why
// nothing can move in a state. The explorer calls Explain on a deadlocked
// state and on the states of a livelock's cycle, and stores the lines in the
// [Violation].
type Explainer[S any] interface {
	Explain(s S) []string
}

// Label is what a trace says about one step: the actor that moved and what
// it did.
type Label struct {
	Actor string
	Text  string
}

// PropertyKind says how a [Property] is checked.
type PropertyKind int

const (
	// AlwaysKind properties must hold in every reachable state.
	AlwaysKind PropertyKind = iota
	// SometimesKind properties must hold in at least one reachable state; one
	// that never does is reported as a sign of a vacuous model.
	SometimesKind
	// StepKind properties must hold for every reachable transition.
	StepKind
)

func (k PropertyKind) String() string {
	switch k {
	case AlwaysKind:
		return "always"
	case SometimesKind:
		return "sometimes"
	case StepKind:
		return "step"
	}
	return "unknown"
}

// Property is a named predicate over states or transitions. Build one with
// [Always], [Sometimes] or [AlwaysStep].
type Property[S, A any] struct {
	Name  string
	Kind  PropertyKind
	State func(s S) bool
	Step  func(from S, a A, to S) bool
}

// Always is an invariant: pred must hold in every reachable state.
func Always[S, A any](name string, pred func(S) bool) Property[S, A] {
	return Property[S, A]{Name: name, Kind: AlwaysKind, State: pred}
}

// Sometimes is a reachability guard: pred must hold in some reachable state.
// It catches a model in which the interesting thing never happens, so that a
// property that holds does not hold only because nothing was tried.
func Sometimes[S, A any](name string, pred func(S) bool) Property[S, A] {
	return Property[S, A]{Name: name, Kind: SometimesKind, State: pred}
}

// AlwaysStep is a transition invariant: pred must hold for every transition
// from a reachable state.
func AlwaysStep[S, A any](name string, pred func(from S, a A, to S) bool) Property[S, A] {
	return Property[S, A]{Name: name, Kind: StepKind, Step: pred}
}

// Fair is implemented by a model whose actions belong to actors (threads,
// a kernel, peers), for the fair-progress check ([Options.Fairness]). Under
// weak fairness every actor that stays enabled moves again.
type Fair[A any] interface {
	// Actors names the actors.
	Actors() []string
	// Actor returns the index in Actors of the actor that takes a.
	Actor(a A) int
}

// Symmetric is implemented by a model whose Encode may identify states that
// are the same up to a symmetry of the model (a renaming of interchangeable
// threads, say): the explorer then stores one representative of each
// class. Every property must treat the states of a class alike.
//
// With such a model, and Reduced true, the explorer
//   - refuses the fair-progress check ([ErrReducedFairness]): weak fairness
//     names actors one by one, and the reduction permutes them;
//   - rebuilds each counterexample in the model as it is: each stored step
//     is matched to the action of the real state whose successor encodes
//     as the stored one, so the trace is a path of the unreduced model that
//     [Replay] replays; a lasso's cycle is followed round again until the
//     real state repeats, compared by EncodeExact.
type Symmetric[S any] interface {
	// Reduced reports whether Encode identifies any two distinct states.
	Reduced() bool
	// EncodeExact appends an encoding that tells every state apart.
	EncodeExact(dst []byte, s S) []byte
}
