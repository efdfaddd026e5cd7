package port

import (
	"errors"
	"testing"
)

// reachable walks every state a port reaches from the zero state by
// sends, completions and reaps, with in-flight bounded by bound when the
// cap is unlimited.
func reachable(c Config, bound int) map[State]bool { return walkPort(c, bound, false) }

// walkPort is reachable, with reserved calls too when reserved is set:
// every send and every reap either ordinary or reserved. The spec does not
// tell a reserved call's reply from another's, so the walk may then reap
// a reserved one whose reply is an ordinary call's: it over-approximates,
// which only makes an invariant check stronger.
func walkPort(c Config, bound int, reserved bool) map[State]bool {
	kinds := []bool{false}
	if reserved {
		kinds = append(kinds, true)
	}
	seen := map[State]bool{{}: true}
	queue := []State{{}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		var next []State
		for _, r := range kinds {
			if t, o := c.SendAs(s, r); o.Went() && (c.Cap != Unlimited || t.InFlight <= bound) {
				next = append(next, t)
			}
			if t, _, err := c.ReapAs(s, r); err == nil {
				next = append(next, t)
			}
		}
		if t, err := c.Complete(s); err == nil {
			next = append(next, t)
		}
		for _, t := range next {
			if !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	return seen
}

func TestEveryReachableStateKeepsTheInvariants(t *testing.T) {
	for _, pol := range Policies() {
		for c := 1; c <= 5; c++ {
			for low := 0; low < c; low++ {
				cfg, err := NewConfig(pol, c, low)
				if err != nil {
					t.Fatal(err)
				}
				for s := range reachable(cfg, 0) {
					if err := cfg.Check(s); err != nil {
						t.Errorf("%v cap %d low %d: %+v: %v", pol, c, low, s, err)
					}
				}
			}
		}
	}
}

// The states of a port with cap C are pinned: messaging with 0..C in
// flight (C only under block) and 0..in-flight replies, plus polling or
// stopped with low+1..C in flight.
func TestReachableStatesPinned(t *testing.T) {
	cases := []struct {
		pol      Policy
		cap, low int
		want     int
	}{
		{Block, 2, 0, 6},          // (0,0) (1,0) (1,1) (2,0) (2,1) (2,2)
		{Poll, 2, 0, 3 + 5},       // messaging (0,0) (1,0) (1,1); polling in-flight 1..2: (1,0) (1,1) (2,0) (2,1) (2,2)
		{Stop, 2, 0, 3 + 5},       // the same, stopped
		{PollNoHyst, 2, 1, 3 + 3}, // polling only at 2 in flight
		{Poll, 3, 1, 6 + 7},       // messaging 0..2; polling 2..3: 3 + 4 states
	}
	for _, c := range cases {
		cfg, err := NewConfig(c.pol, c.cap, c.low)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(reachable(cfg, 0)); got != c.want {
			t.Errorf("%v cap %d low %d: %d states, want %d", c.pol, c.cap, c.low, got, c.want)
		}
	}
}

func TestSendAtTheCap(t *testing.T) {
	cases := []struct {
		pol  Policy
		want SendOutcome
		mode Mode
	}{
		{Block, Sent, Messaging}, {Stop, SentStopped, Stopped}, {Poll, SentEnteredPolling, Polling}, {PollNoHyst, SentEnteredPolling, Polling},
	}
	for _, c := range cases {
		cfg, _ := NewConfig(c.pol, 2, Unset)
		s, o := cfg.Send(State{InFlight: 1})
		if o != c.want || s.Mode != c.mode || s.InFlight != 2 {
			t.Errorf("%v: %v %+v", c.pol, o, s)
		}
		if _, o := cfg.Send(s); o.Went() {
			t.Errorf("%v: a send at the cap went out: %v", c.pol, o)
		}
	}
}

// The slot is freed at the reap, never at the completion; polling is left
// at the reap that reaches low, not before.
func TestSlotFreedOnlyOnReapAndHysteresis(t *testing.T) {
	cfg, _ := NewConfig(Poll, 4, 1)
	s := State{}
	for range 4 {
		s, _ = cfg.Send(s)
	}
	if s.Mode != Polling {
		t.Fatalf("after 4 sends: %+v", s)
	}
	s, _ = cfg.Complete(s)
	if s.InFlight != 4 {
		t.Fatalf("a completion freed a slot: %+v", s)
	}
	var outcomes []ReapOutcome
	for range 3 {
		s, _ = cfg.Complete(s)
	}
	for range 4 {
		var o ReapOutcome
		var err error
		s, o, err = cfg.Reap(s)
		if err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, o)
	}
	want := []ReapOutcome{Reaped, Reaped, ReapedLeft, Reaped}
	for i := range want {
		if outcomes[i] != want[i] {
			t.Fatalf("reaps: %v, want %v", outcomes, want)
		}
	}
	if _, _, err := cfg.Reap(s); !errors.Is(err, ErrNoMessage) {
		t.Errorf("reap of nothing: %v", err)
	}
	if _, err := cfg.Attempt(s); !errors.Is(err, ErrNotPolling) {
		t.Errorf("attempt in messaging mode: %v", err)
	}
}

func TestLowFor(t *testing.T) {
	cases := []struct {
		pol          Policy
		cap, low, is int
		bad          bool
	}{
		{Poll, 2, Unset, 0, false}, {Poll, 4, Unset, 1, false}, {Poll, 4, 3, 3, false}, {PollNoHyst, 4, 0, 3, false},
		{Poll, Unlimited, 3, 0, false}, {Poll, 0, Unset, 0, true}, {Poll, 2, 2, 0, true}, {Stop, 2, -2, 0, true},
	}
	for _, c := range cases {
		got, err := LowFor(c.pol, c.cap, c.low)
		if (err != nil) != c.bad || (!c.bad && got != c.is) {
			t.Errorf("LowFor(%v, %d, %d) = %d, %v", c.pol, c.cap, c.low, got, err)
		}
	}
}

func TestReserveKeepsTheInvariants(t *testing.T) {
	for _, pol := range Policies() {
		for c := 2; c <= 5; c++ {
			for k := 1; k < c; k++ {
				for low := 0; low < c-k; low++ {
					cfg, err := NewReserveConfig(pol, c, k, low)
					if err != nil {
						t.Fatal(err)
					}
					for s := range walkPort(cfg, 0, true) {
						if err := cfg.Check(s); err != nil {
							t.Errorf("%v cap %d reserve %d low %d: %+v: %v", pol, c, k, low, s, err)
						}
					}
				}
			}
		}
	}
}

// A reserve of 0 is no reserve: the walk with reserved calls reaches
// exactly the states of the one without, with Reserved counting along.
func TestReserveZeroIsTheCap(t *testing.T) {
	cfg, _ := NewConfig(Poll, 3, 1)
	plain := reachable(cfg, 0)
	for s := range walkPort(cfg, 0, true) {
		s.Reserved = 0
		if !plain[s] {
			t.Errorf("with reserve 0, %+v is reached only by reserved calls", s)
		}
	}
}

// The reserve at work, under each policy at cap 3 with 1 reserved: two
// ordinary calls fill the ordinary slots, the policy acts there, and a
// reserved call still goes out, whatever the mode, into the reserved
// slot; a second reserved call then meets the ordinary rules.
func TestReserveAtTheOrdinaryLimit(t *testing.T) {
	for _, c := range []struct {
		pol  Policy
		mode Mode
		last SendOutcome
	}{{Block, Messaging, MustWait}, {Stop, Stopped, RefusedStopped}, {Poll, Polling, RefusedPolling}, {PollNoHyst, Polling, RefusedPolling}} {
		cfg, err := NewReserveConfig(c.pol, 3, 1, Unset)
		if err != nil {
			t.Fatal(err)
		}
		s := State{}
		s, _ = cfg.Send(s)
		s, o := cfg.Send(s)
		if s.Mode != c.mode || s.InFlight != 2 || cfg.Used(s) != cfg.Limit() {
			t.Fatalf("%v: after two ordinary sends %+v (%v), want mode %v", c.pol, s, o, c.mode)
		}
		if _, o := cfg.Send(s); o.Went() {
			t.Errorf("%v: an ordinary call took the reserved slot: %v", c.pol, o)
		}
		s, o = cfg.SendAs(s, true)
		if o != SentReserved || s.InFlight != 3 || s.Reserved != 1 || s.Mode != c.mode {
			t.Errorf("%v: the reserved call: %v %+v", c.pol, o, s)
		}
		if _, o := cfg.SendAs(s, true); o != c.last {
			t.Errorf("%v: a reserved call with the reserve held: %v, want %v", c.pol, o, c.last)
		}
		// Reaping the reserved call's reply frees the reserved slot and
		// leaves the mode alone: the ordinary count did not change.
		s, _ = cfg.Complete(s)
		s, out, err := cfg.ReapAs(s, true)
		if err != nil || out != Reaped || s.Reserved != 0 || s.Mode != c.mode {
			t.Errorf("%v: reap of the reserved reply: %v %v %+v", c.pol, out, err, s)
		}
	}
	// A reserved call with the reserve free takes it before an ordinary
	// slot, so the ordinary slots stay for the others.
	cfg, _ := NewReserveConfig(Block, 2, 1, Unset)
	s, _ := cfg.SendAs(State{}, true)
	if _, o := cfg.Send(s); o != Sent {
		t.Errorf("an ordinary call after the reserved one: %v, want sent", o)
	}
}

func TestNewReserveConfig(t *testing.T) {
	cases := []struct {
		pol          Policy
		c, k, low    int
		wantLow      int
		bad, reserve bool
	}{
		{Poll, 3, 1, Unset, 0, false, false}, {Poll, 5, 1, Unset, 1, false, false}, {PollNoHyst, 4, 1, 0, 2, false, false},
		{Block, 2, 2, Unset, 0, true, true}, {Block, Unlimited, 1, Unset, 0, true, true}, {Poll, 3, -1, Unset, 0, true, true},
		{Poll, 3, 1, 2, 0, true, false}, // low must be below the 2 ordinary slots
	}
	for _, c := range cases {
		cfg, err := NewReserveConfig(c.pol, c.c, c.k, c.low)
		if (err != nil) != c.bad || c.bad && errors.Is(err, ErrReserve) != c.reserve || !c.bad && cfg.Low != c.wantLow {
			t.Errorf("NewReserveConfig(%v, %d, %d, %d) = %+v, %v", c.pol, c.c, c.k, c.low, cfg, err)
		}
	}
}
