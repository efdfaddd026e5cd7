package check_test

import (
	"context"
	"fmt"

	"github.com/sysmsg/sysmsg/check"
)

// lock is a user's own model: two threads share a lock and each must take
// it once. The bug: a thread that finds the lock taken gives up its turn by
// spinning, and the holder, through a mistake, never releases it.
type lock struct{ releases bool }

// A state is: who holds the lock (0 free, 1 or 2), and whether each thread
// is done.
type lockState struct {
	holder       byte
	done1, done2 bool
}

type step struct {
	thread byte
	what   string // "acquire", "release", "spin"
}

func (lock) Init() []lockState { return []lockState{{}} }

func (m lock) Actions(s lockState, dst []step) []step {
	for t := byte(1); t <= 2; t++ {
		done := s.done1
		if t == 2 {
			done = s.done2
		}
		switch {
		case done:
		case s.holder == 0:
			dst = append(dst, step{t, "acquire"})
		case s.holder == t && m.releases:
			dst = append(dst, step{t, "release"})
		case s.holder != t:
			dst = append(dst, step{t, "spin"})
		}
	}
	return dst
}

func (lock) Next(s lockState, a step) lockState {
	switch a.what {
	case "acquire":
		s.holder = a.thread
	case "release":
		s.holder = 0
		if a.thread == 1 {
			s.done1 = true
		} else {
			s.done2 = true
		}
	}
	return s
}

func (lock) Encode(dst []byte, s lockState) []byte {
	return append(dst, s.holder, b2i(s.done1), b2i(s.done2))
}

func (lock) Decode(b []byte) lockState {
	return lockState{holder: b[0], done1: b[1] == 1, done2: b[2] == 1}
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func (lock) Terminal(s lockState) bool { return s.done1 && s.done2 }
func (lock) Kinds() []string           { return []string{"acquire", "release", "spin"} }
func (lock) Kind(a step) int {
	return map[string]int{"acquire": 0, "release": 1, "spin": 2}[a.what]
}
func (lock) Describe(s lockState, a step) check.Label {
	text := map[string]string{"acquire": "takes the lock", "release": "releases the lock", "spin": "spins: the lock is taken"}[a.what]
	return check.Label{Actor: fmt.Sprintf("T%d", a.thread), Text: text}
}
func (lock) Properties() []check.Property[lockState, step] {
	return []check.Property[lockState, step]{
		check.Sometimes[lockState, step]("T2 holds the lock", func(s lockState) bool { return s.holder == 2 }),
	}
}

// Spinning keeps the system moving, so there is no deadlock, but with the
// holder never releasing it, nothing can finish: the livelock check finds
// the cycle.
func Example() {
	res, err := check.Explore(context.Background(), lock{releases: false}, check.Options{Livelock: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Verdict, res.Violation.Kind, "with", res.Stats.States, "states")
	for i, st := range res.Violation.Trace.Steps {
		mark := ""
		if i == res.Violation.Trace.Loop {
			mark = "  <- cycle starts"
		}
		fmt.Printf("%d %s %s%s\n", i+1, st.Label.Actor, st.Label.Text, mark)
	}

	res, _ = check.Explore(context.Background(), lock{releases: true}, check.Options{Livelock: true})
	fmt.Println(res.Verdict, "with", res.Stats.States, "states; never fired:", res.Stats.NeverFired())
	// Output:
	// violation livelock with 3 states
	// 1 T1 takes the lock
	// 2 T2 spins: the lock is taken  <- cycle starts
	// ok with 8 states; never fired: []
}
