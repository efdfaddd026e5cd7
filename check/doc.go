// Package check is an explicit-state model checker: it explores every state
// of a finite [Model] reachable from its initial states and checks
// properties over them. It knows nothing of what it checks.
//
// A model lists its initial states ([Model.Init]), the actions enabled in a
// state in a fixed order ([Model.Actions]), the state an action leads to
// ([Model.Next]), and a canonical byte encoding of a state
// ([Model.Encode], [Model.Decode]) that the visited set stores. Properties
// come in three kinds:
//
//   - [Always]: an invariant over states;
//   - [AlwaysStep]: an invariant over transitions (from, action, to);
//   - [Sometimes]: a reachability guard, reported when never reached, so that
//     a model in which nothing happens is not mistaken for a correct one.
//
// Besides the declared properties, [Explore] always checks for deadlock: a
// reachable state with no enabled action that [Model.Terminal] does not call
// finished. With [Options.Livelock] it also checks that every bottom strongly
// connected component of the reachable graph holds a terminal state, which
// is what catches a system that keeps moving (spinning, polling, retrying)
// but can never finish.
//
// The search is breadth first, so every counterexample is a shortest one.
// The visited set is exact: it stores full encodings, never hashes alone.
// For each state it keeps only its parent and the index of the action that
// reached it; a trace is rebuilt by re-running the model along those indices
// ([Replay]), which is also how a stored trace is replayed. Work is spread
// over [Options.Workers] goroutines, and results are merged in a fixed order,
// so the counts, the verdict and the trace do not depend on the number of
// workers.
//
// A bound ([Options.MaxStates], [Options.MaxDepth], [Options.Timeout],
// [Options.MemoryLimit]) or a cancelled context ends the check, in any of
// its passes, with [Incomplete] and the figures so far, never with [OK]; a
// violation found before the bound tripped is reported all the same. At
// [Options.MaxDepth] the last level's transitions are still checked, so a
// depth bound that covers the model gives a complete search.
//
// Before it searches, [Explore] holds the model to its contract
// ([Validate]), and it checks the contract again on a sample of the states
// it stores ([Options.Validate] for all of them). [Options.Progress]
// receives a [Progress] snapshot as each pass begins and about once a
// second; the caller decides how to show it.
//
// Findings are data: a violation is a [Violation] in the [Result]. The error
// from Explore says only that the check could not run: bad options, or a
// model that breaks its contract or panics ([ErrInvalidModel],
// [ErrModelPanic]), named by the path to the state.
package check
