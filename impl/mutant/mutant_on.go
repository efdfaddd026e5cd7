//go:build sysmsg_mutant

package mutant

import "fmt"

// active is the bug switched on; "" for none. It is set only while nothing
// runs, so it needs no lock.
var active Bug

// Bugs are every seeded bug, in a fixed order.
func Bugs() []Bug {
	return []Bug{FreeAtCompletion, NoHysteresis, HysteresisOffByOne, PollTakesSlot,
		WrongThread, LostUpcall, CheckThenPark, ReserveIgnored}
}

// Set switches bug b on, and every other off; "" switches all off. It
// panics on a name that is not a bug, so that a test cannot pass by
// switching on nothing. Call it only while no port or scheduler runs.
func Set(b Bug) {
	if b != "" && !known(b) {
		panic(fmt.Sprintf("mutant: no seeded bug %q", b))
	}
	active = b
}

// On reports whether bug b is switched on.
func On(b Bug) bool { return active == b }

func known(b Bug) bool {
	for _, k := range Bugs() {
		if k == b {
			return true
		}
	}
	return false
}
