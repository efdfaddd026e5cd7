// Package sim is the simulated kernel: in-memory pipes, connections and
// listeners, and a [World] that drives processes, kernel and peers one step
// at a time in the order a [Chooser] picks.
//
// The [Kernel] never completes a message on its own: [Kernel.Submit] only
// records it. At each step the World lists every move that can be made (a
// process runs its next thread, the kernel completes a message whose
// operation can proceed, a process reaps a reply, a peer takes its next
// step) as [Choice] values in a fixed order, and the chooser picks one.
// [Random] picks with a seeded generator, so a schedule is repeated exactly
// by its seed; [SendsFirst] prefers threads, then peers, then completions,
// then reaps, which drives the naive policies into the seed's deadlocks.
// A process runs the thread at the head of its run queue and reaps its
// oldest reply; a [World] that is Fine offers every runnable thread and
// every waiting reply instead, so that a chooser can follow any path of
// the model.
//
// A run that cannot go on is found by inspection, not by a timeout: when
// no move is left and work remains it is a deadlock, and when the only
// threads that could run are pollers whose attempts would block it is a
// livelock. [World.Run] reports either in an [Outcome] with a dump of every
// process.
package sim
