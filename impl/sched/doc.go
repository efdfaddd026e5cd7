// Package sched is the userland scheduler: user threads of one process,
// run one at a time as on one kernel thread, whose system calls go out as
// messages through a [port.Port] to a [Kernel].
//
// Each user thread is a goroutine that runs only while it holds the baton:
// the [Scheduler] hands it over with [Scheduler.Step] and gets it back when
// the thread parks (on a system call in flight, a full cap, a user-level
// [Queue]) or yields (a would-block attempt in polling mode). So exactly one
// user thread of a process runs at a time, and the scheduler is driven by
// explicit calls: [Scheduler.Step] runs one thread, [Scheduler.Reap] reaps
// one reply. A simulated kernel's driver makes those calls in the order a
// chooser picks; [Scheduler.Run] makes them in a loop for a real kernel,
// with a watchdog that returns a [*StuckError] holding a [Dump] instead of
// hanging.
//
// A thread calls [Thread.Read], [Thread.Write], [Thread.Accept],
// [Thread.Close], [Thread.Shutdown], [Thread.Sleep] and [Thread.Cancel];
// [Thread.Submit] and [Thread.Wait] are the asynchronous form. What happens
// at the cap is the port's [port.Policy]: under Block the thread waits for a
// free slot; under Stop it waits for the upcall; under Poll and PollNoHyst
// the call is a non-blocking attempt ([Kernel.Try]) and the thread yields
// on would-block, to the back of a round-robin run queue, while the
// scheduler keeps reaping. docs/model.md is the semantics; docs/impl.md says
// how this package follows it.
package sched
