// Package traces defines the stored form of a counterexample, a versioned
// JSON document ([Trace], [Write], [Read]), and renders it for a terminal
// ([Chart], [StateText]) and as a self-contained HTML page ([NewPage], [WritePage]).
//
// A trace holds the workload's full text, the configuration, and the path of
// action indices (the initial state's index, then each step's action among
// the enabled actions in the model's fixed order), so that it can be
// replayed by re-running the model, as well as the readable steps and the
// explanation of why nothing can move, so that it can be read without the
// model. docs/trace-format.md describes the fields.
package traces
