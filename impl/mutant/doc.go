// Package mutant names the bugs seeded in the implementation for the tests
// that must catch them, and switches one on at a time.
//
// The bugs are compiled in only with the build tag sysmsg_mutant. Without
// it, [On] is a function that returns false and [Set] does not exist, so
// the normal build has no bug switch and the compiler drops every seeded
// bug's code. With the tag, [Set] switches one bug on by name:
//
//	go test -tags sysmsg_mutant ./properties/
//
// Each bug is a [Bug] constant below; the package that carries it checks
// [On] at the place where the real rule is applied, so that a test runs
// the real paths with one rule broken. properties/mutants_test.go runs the
// project's properties against each one and asserts each is caught.
package mutant

// Bug names a seeded bug.
type Bug string

// The seeded bugs, with where each lives.
const (
	// FreeAtCompletion frees a slot when the kernel completes its message
	// instead of when the scheduler reaps it (impl/port, Complete).
	FreeAtCompletion Bug = "free-at-completion"
	// NoHysteresis leaves polling or stopped mode at the first reap,
	// whatever the low-water mark (impl/port, Reap).
	NoHysteresis Bug = "no-hysteresis"
	// HysteresisOffByOne leaves polling or stopped mode at low+1 in
	// flight instead of at low (impl/port, Reap).
	HysteresisOffByOne Bug = "hysteresis-off-by-one"
	// PollTakesSlot makes a polling-mode attempt take a slot, which no
	// reap gives back (impl/port, Acquire).
	PollTakesSlot Bug = "poll-takes-slot"
	// WrongThread gives a synchronous call's reply to another thread
	// parked on a call of its own (impl/sched, Reap).
	WrongThread Bug = "wrong-thread"
	// LostUpcall: the port leaves stopped mode and calls the upcall, and
	// the scheduler does not resume the stopped threads (impl/sched,
	// upcall).
	LostUpcall Bug = "lost-upcall"
	// CheckThenPark: a thread that sent a synchronous call looks for its
	// reply, lets the others run, then parks without looking again, so a
	// reply reaped in between wakes nobody (impl/sched, the call path).
	CheckThenPark Bug = "check-then-park"
	// ReserveIgnored sends a reserved call by the ordinary rules, as if
	// no slot were kept for it (impl/port, AcquireAs).
	ReserveIgnored Bug = "reserve-ignored"
)
