package workload

import (
	"errors"
	"fmt"
)

// Policy is what a process's scheduler does when it reaches its cap.
type Policy int

const (
	// Block: a thread whose next step is a system call waits for a free slot.
	Block Policy = iota
	// Stop: the scheduler issues no system call until an upcall says
	// in-flight is at most the low-water mark.
	Stop
	// Poll: the seed's design, a polling fallback with hysteresis.
	Poll
	// PollNoHyst: the polling fallback with the low-water mark at C-1.
	PollNoHyst
)

var policyNames = [...]string{Block: "block", Stop: "stop", Poll: "poll", PollNoHyst: "poll-nohyst"}

func (p Policy) String() string { return policyNames[p] }

// Policies lists every policy, in the order tables show them.
func Policies() []Policy { return []Policy{Block, Stop, Poll, PollNoHyst} }

// ErrPolicy is returned by ParsePolicy for an unknown name.
var ErrPolicy = errors.New("workload: unknown policy")

// ParsePolicy returns the policy with the given name.
func ParsePolicy(name string) (Policy, error) {
	for i, n := range policyNames {
		if n == name {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want block, stop, poll or poll-nohyst)", ErrPolicy, name)
}

// Polls reports whether the policy falls back to polling.
func (p Policy) Polls() bool { return p == Poll || p == PollNoHyst }

// DefaultLow is the low-water mark for cap c when none is given:
// floor((c-1)/2), so that leaving polling waits for about half the slots.
func DefaultLow(c int) int { return (c - 1) / 2 }
