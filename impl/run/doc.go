// Package run runs a workload (model's format, the same files sysmsg check
// reads) on the reference implementation: each process a [sched.Scheduler]
// with its cap and policy, its threads interpreting their operations as
// real system calls, its peers as actors outside the cap.
//
// [Sim] runs on the simulated kernel, deterministically: the schedule comes
// from [Options.Chooser] or, by default, from [Options.Seed], and a run
// that cannot go on is reported as stuck, with the dump, by inspection.
// [OS] runs on the host kernel with pipes, socket pairs or loopback TCP
// connections, peers as goroutines, and the watchdog to say when it is
// stuck. [Check] verifies the safety properties of one execution on the
// event log that [Options.Record] keeps.
package run
