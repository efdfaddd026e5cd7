package port

import (
	"errors"
	"testing"
)

// reachable walks every state a port reaches from the zero state by
// sends, completions and reaps, with in-flight bounded by bound when the
// cap is unlimited.
func reachable(c Config, bound int) map[State]bool {
	seen := map[State]bool{{}: true}
	queue := []State{{}}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		var next []State
		if t, o := c.Send(s); o.Went() && (c.Cap != Unlimited || t.InFlight <= bound) {
			next = append(next, t)
		}
		if t, err := c.Complete(s); err == nil {
			next = append(next, t)
		}
		if t, _, err := c.Reap(s); err == nil {
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
