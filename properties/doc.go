// Package properties holds the real, concurrent port (impl/port) to the one
// sequential specification of the port (model/port). It has no code of its
// own outside its tests; this file says what they check and how to run them.
//
// Two properties, one spec:
//
//   - Conformance (TestPortMatchesSpec): rapid draws a configuration (a
//     policy, a cap of 1 to 6 or unlimited, a low-water mark or the default)
//     and a random sequence of sends, completions of a message chosen among
//     those in flight, and reaps, and applies each to a fresh port and to the
//     spec. After every step the two must agree on the outcome (a send went
//     out, or was refused in polling or stopped mode, or must wait; a reap
//     took a reply, and left polling or stopped mode or not) and on what can
//     be observed (in-flight, replies, mode), and the spec's invariants
//     (Config.Check) must hold. A failure shrinks to a short sequence, which
//     rapid prints, and is saved under testdata/rapid/ for -rapid.failfile.
//     FuzzPortMatchesSpec is the same property as a go test -fuzz target.
//   - Linearizability (TestPortIsLinearizable): senders, a kernel completing
//     what was sent in random order, a reaper and observers drive one port
//     from their own goroutines; every call and return is timed, and
//     porcupine checks that the history has a linearization that the spec,
//     stepped as a porcupine model, accepts. The spec counts, so a
//     completion is "one more reply", not a named message: sound because
//     everything the port lets one observe is a count. A check that runs
//     out of time is reported as unknown, never as a pass; a history that is
//     not linearizable is written as porcupine's HTML visualization, and the
//     failure names the file.
//
// Run them with
//
//	go test -short ./properties/    # 20k-operation histories, fewer checks
//	go test ./properties/           # 50k-operation histories, more checks
//	go test ./properties/ -run TestPortMatchesSpec -rapid.checks=20000
//	go test ./properties/ -run '^$' -fuzz FuzzPortMatchesSpec -fuzztime 1m
//	go test ./properties/ -run '^$' -bench 'PortMatchesSpec|Linearizability'
//
// A run that must return instead of failing has its own form:
// checkPortMatchesSpec draws the same configurations and operations from a
// fixed seed (TestCheckPortMatchesSpec runs it), and
// checkPortIsLinearizable records and checks one history. mutantCatchers
// lists them per property, so that the tests built with the seeded bugs
// (go test -tags sysmsg_mutant, see impl/mutant) can demand that each bug
// in the port is caught by each property.
package properties
