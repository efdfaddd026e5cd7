package model

import (
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// The public hangs of the incident gallery, each at the cap that shows it:
// the naive design (block or stop) deadlocks after the pinned number of
// steps, and the design the project moved to (the polling fallback, or the
// larger pool it recommended) is verified, with its state count pinned.
func TestIncidents(t *testing.T) {
	cases := []struct {
		file   string
		policy port.Policy
		cap    int
		steps  int // of the deadlock; -1 when verified
		states int
	}{
		{"envoy-listener", port.Block, 3, 15, 739},
		{"envoy-listener", port.Stop, 3, 14, 776},
		{"envoy-listener", port.Block, 4, -1, 2855},
		{"envoy-listener", port.Poll, 3, -1, 3436},
		{"envoy-listener", port.Poll, 1, -1, 920},
		{"zio-cancel", port.Block, 2, 2, 23},
		{"zio-cancel", port.Poll, 2, -1, 94},
		{"glommio-queued", port.Stop, 2, 5, 8},
		{"glommio-queued", port.Poll, 2, -1, 19},
		{"glommio-queued", port.Poll, 1, -1, 16},
		{"node-sass-pool", port.Block, 4, 8, 834},
		{"node-sass-pool", port.Block, 5, -1, 39650},
		{"node-sass-pool", port.Stop, 5, 11, 3108},
		{"ring-of-one", port.Block, 1, 2, 4},
		{"ring-of-one", port.Poll, 1, -1, 11},
	}
	for _, c := range cases {
		w, _ := load(t, c.file)
		_, r := run(t, w, Config{Policy: c.policy, Cap: c.cap, Low: workload.Unset}, check.Options{})
		switch {
		case c.steps < 0 && r.Verdict != check.OK:
			t.Errorf("%s, %v at cap %d: %v, want verified", c.file, c.policy, c.cap, verdict(r))
		case c.steps >= 0 && (r.Verdict != check.Violated || r.Violation.Kind != check.Deadlock):
			t.Errorf("%s, %v at cap %d: %v, want a deadlock", c.file, c.policy, c.cap, verdict(r))
		case c.steps >= 0 && len(r.Violation.Trace.Steps) != c.steps:
			t.Errorf("%s, %v at cap %d: a deadlock after %d steps, want %d", c.file, c.policy, c.cap, len(r.Violation.Trace.Steps), c.steps)
		case r.Stats.States != c.states:
			t.Errorf("%s, %v at cap %d: %d states, want %d", c.file, c.policy, c.cap, r.Stats.States, c.states)
		}
	}
}
