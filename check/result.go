package check

import "fmt"

// Verdict is the outcome of a search.
type Verdict int

const (
	// OK means the search was complete and every property held.
	OK Verdict = iota
	// Violated means a property failed; the [Result] holds the counterexample.
	Violated
	// Incomplete means the search stopped before it was complete (a bound, a
	// time limit, a memory limit or cancellation) without finding a
	// violation. It is never to be read as OK.
	Incomplete
)

func (v Verdict) String() string {
	switch v {
	case OK:
		return "ok"
	case Violated:
		return "violation"
	case Incomplete:
		return "incomplete"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// ViolationKind says which kind of property a [Violation] broke.
type ViolationKind int

const (
	// Invariant is an [Always] property false in a reachable state.
	Invariant ViolationKind = iota
	// StepInvariant is an [AlwaysStep] property false on a transition.
	StepInvariant
	// Deadlock is a reachable state that is not terminal and has no enabled
	// action.
	Deadlock
	// Livelock is a reachable set of states that can never reach a terminal
	// state and never leaves itself: the system keeps moving but cannot
	// finish.
	Livelock
	// NonProgress is a cycle without a terminal state that a weakly fair
	// run can follow forever: every actor that stays enabled on it moves on
	// it. Finishing may still be reachable, but a fair scheduler need not
	// ever get there.
	NonProgress
)

func (k ViolationKind) String() string {
	switch k {
	case Invariant:
		return "invariant"
	case StepInvariant:
		return "step invariant"
	case Deadlock:
		return "deadlock"
	case Livelock:
		return "livelock"
	case NonProgress:
		return "non-progress cycle"
	}
	return fmt.Sprintf("ViolationKind(%d)", int(k))
}

// Result is what a search found. A counterexample is data in the result, not
// an error: an error from [Explore] means the search could not run at all.
type Result[S, A any] struct {
	Verdict Verdict
	// Violation is the counterexample when Verdict is Violated.
	Violation *Violation[S, A]
	// Reason says why the search is incomplete when Verdict is Incomplete.
	Reason string
	// Sometimes has one entry per [Sometimes] property, in declaration
	// order. A guard never reached says the model may be vacuous.
	Sometimes []Reach[S, A]
	Stats     Stats
}

// Violation is a counterexample.
type Violation[S, A any] struct {
	Kind ViolationKind
	// Property names the broken property: an Always or AlwaysStep name, or
	// "no deadlock", "no livelock" or "fair progress".
	Property string
	Trace    Trace[S, A]
	// Explain is the model's account of why nothing can move, when it
	// implements [Explainer]: of the deadlocked state, or of the state where
	// a livelock's cycle starts.
	Explain []string
}

// Reach is the outcome of one [Sometimes] property.
type Reach[S, A any] struct {
	Name    string
	Reached bool
	// Trace is a shortest trace to a state where the property holds.
	Trace *Trace[S, A]
}

// Trace is a path through the model, rebuilt by re-running it along the
// stored action indices.
type Trace[S, A any] struct {
	// Init is the index of the first state in the model's Init.
	Init int
	// States has one more element than Steps: States[i+1] is the state after
	// Steps[i].
	States []S
	Steps  []Step[A]
	// Loop is, for a lasso, the index in States where the cycle starts: the
	// last state equals States[Loop]. It is -1 for a finite path.
	Loop int
	// NoReturn is the index of the first state in States from which no
	// terminal state can be reached, or -1 where it is not known.
	NoReturn int
}

// Path returns the trace as the initial state's index followed by the index
// of each step's action among the enabled actions: the form in which a trace
// can be stored and replayed.
func (t Trace[S, A]) Path() []int {
	p := make([]int, 0, len(t.Steps)+1)
	p = append(p, t.Init)
	for _, s := range t.Steps {
		p = append(p, s.Index)
	}
	return p
}

// Step is one step of a trace.
type Step[A any] struct {
	// Index is the position of Action in the enabled actions of the state
	// before it.
	Index  int
	Action A
	Label  Label
}

// Stats are the figures of a search.
type Stats struct {
	States      int
	Transitions uint64
	// Depth is the number of the deepest breadth-first level reached; the
	// initial states are level 0.
	Depth int
	// Fired counts, per action kind and in the model's Kinds order, how many
	// transitions of that kind the search took.
	Fired []KindCount
	// Seconds is the wall-clock time of the search.
	Seconds float64
	// StatesPerSecond is States divided by Seconds.
	StatesPerSecond float64
	// PeakHeap is the largest Go heap seen while searching, in bytes.
	PeakHeap uint64
	// StoredBytes is the memory held for the visited states at the end: the
	// arena (in a fingerprint search, its pages not yet freed), hash table,
	// parent links and, with the livelock check, edges.
	StoredBytes uint64
	Workers     int
	// Fingerprint says the search stored fingerprints, not states
	// (Options.Fingerprint); MissProbability is then the estimated odds
	// that two states shared one, so that a state and what lies beyond it
	// may have gone unexplored.
	Fingerprint     bool
	MissProbability float64
	// PartialOrder says the partial-order reduction was on: the counts
	// are of the reduced graph.
	PartialOrder bool
}

// KindCount is how often one action kind fired.
type KindCount struct {
	Kind  string
	Count uint64
}

// NeverFired returns the action kinds that never fired, in Kinds order. In a
// complete search, an action that never fired is dead code in the model or a
// sign that a guard is stronger than intended.
func (s Stats) NeverFired() []string {
	var out []string
	for _, k := range s.Fired {
		if k.Count == 0 {
			out = append(out, k.Kind)
		}
	}
	return out
}

// BytesPerState is StoredBytes divided by States.
func (s Stats) BytesPerState() float64 {
	if s.States == 0 {
		return 0
	}
	return float64(s.StoredBytes) / float64(s.States)
}
