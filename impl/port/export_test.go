package port

// SetBugFreeAtCompletion turns on the seeded bug that frees a slot when the
// kernel completes its message instead of when it is reaped.
func SetBugFreeAtCompletion(on bool) { bugFreeAtCompletion = on }

// SetBugNoHysteresis turns on the seeded bug that leaves polling (or
// stopped) mode at the first reap, whatever the low-water mark.
func SetBugNoHysteresis(on bool) { bugNoHysteresis = on }
