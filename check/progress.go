package check

import "time"

// Phase is one pass of a check.
type Phase int

const (
	// PhaseSearch is the breadth-first search of the reachable states, with
	// the invariants, step properties, guards and deadlock check.
	PhaseSearch Phase = iota
	// PhaseLivelock is the livelock pass over the stored graph
	// ([Options.Livelock]).
	PhaseLivelock
	// PhaseFairness is the fair-progress pass ([Options.Fairness]).
	PhaseFairness
)

func (p Phase) String() string {
	switch p {
	case PhaseSearch:
		return "search"
	case PhaseLivelock:
		return "livelock"
	case PhaseFairness:
		return "fair progress"
	}
	return "unknown"
}

// Progress is a snapshot of a running check, given to [Options.Progress].
// It is data: the caller decides whether and how to show it (a line on a
// terminal, a log, nothing), as the explorer knows nothing of terminals.
type Progress struct {
	Phase Phase
	// Start is set on the report that opens a pass.
	Start bool
	// States, Transitions and Depth are the search's figures so far.
	States      int
	Transitions uint64
	Depth       int
	// Settled counts, in a graph pass, the states it has dealt with so far
	// (of States); 0 during the search.
	Settled int
	// Elapsed is the time since the check began.
	Elapsed time.Duration
	// Heap is the Go heap in bytes when the snapshot was taken.
	Heap uint64
}
