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
	cases := []incidentCase{
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
	checkIncidents(t, cases)
}

// The fixes the gallery adds extensions for, pinned as the naive designs
// are: a dropped cancel deadlocks under every policy, the polling fallback
// too; a completion queue that overflows into a list nobody flushes
// deadlocks above its bound and not at or below it (libuv's cap at the
// queue's size); a flush, a reserve for the cancels, the wake entry or the
// importers verifies.
func TestIncidentFixes(t *testing.T) {
	cases := []incidentCase{
		{"zio-dropped-cancel", port.Block, 2, 4, 69},
		{"zio-dropped-cancel", port.Poll, 2, 4, 77},
		{"zio-dropped-cancel", port.Poll, 4, -1, 116},
		{"zio-reserved-cancel", port.Block, 2, -1, 72},
		{"zio-reserved-cancel", port.Stop, 2, -1, 72},
		{"tokio-uring-overflow", port.Block, workload.Unlimited, 10, 390},
		{"tokio-uring-overflow", port.Block, 2, -1, 176},
		{"tokio-uring-overflow", port.Poll, 3, 9, 404},
		{"tokio-uring-getevents", port.Block, workload.Unlimited, -1, 391},
		{"tokio-uring-getevents", port.Poll, 3, -1, 404},
		{"node-sass-reserved", port.Block, 4, -1, 114904},
		{"ring-of-one-reserved", port.Block, 2, -1, 20},
		{"ring-of-one-reserved", port.Stop, 2, -1, 20},
		// The submission ring: a loop that submits only a full ring parks
		// with a call staged at any cap, the polling fallback included;
		// one that submits before it parks finishes with no cap.
		{"glommio-staged", port.Poll, workload.Unlimited, 4, 8},
		{"glommio-staged", port.Block, 1, 2, 4},
		{"glommio-before-park", port.Block, workload.Unlimited, -1, 31},
		{"glommio-before-park", port.Stop, 2, 7, 12},
		{"ring-of-one-staged", port.Block, workload.Unlimited, 4, 8},
		{"ring-of-one-flushed", port.Block, workload.Unlimited, -1, 25},
		{"ring-of-one-flushed", port.Poll, 1, -1, 17},
	}
	checkIncidents(t, cases)
}

// TestSeededIncidentBugsCaught: a model that ignores the reserve deadlocks
// on the fixes that rely on it, and one that flushes the overflow list
// into a full completion queue breaks the queue's bound; the correct
// model verifies each.
func TestSeededIncidentBugsCaught(t *testing.T) {
	cases := []struct {
		mutant, file, property string
		policy                 port.Policy
		cap, steps             int
	}{
		{"reserve-ignored", "ring-of-one-reserved", "no deadlock", port.Block, 2, 2},
		{"reserve-ignored", "zio-reserved-cancel", "no deadlock", port.Stop, 2, 1},
		{"flush-when-full", "tokio-uring-getevents", PropCQ, port.Block, 4, 7},
		{"ordinary-into-reserve", "zio-reserved-cancel", PropReserve, port.Block, 2, 2},
		{"stage-past-full", "ring-of-one-flushed", PropSQ, port.Block, workload.Unlimited, 2},
	}
	for _, c := range cases {
		w, _ := load(t, c.file)
		cfg := Config{Policy: c.policy, Cap: c.cap, Low: workload.Unset}
		if _, r := run(t, w, cfg, check.Options{}); r.Verdict != check.OK {
			t.Errorf("seeded bug %s: the correct model gives %s on %s, want ok", c.mutant, verdict(r), c.file)
		}
		cfg.mutant = c.mutant
		_, r := run(t, w, cfg, check.Options{})
		if r.Violation == nil || r.Violation.Property != c.property {
			t.Errorf("seeded bug %s on %s: got %s (%v), want %q violated", c.mutant, c.file, verdict(r), r.Violation, c.property)
			continue
		}
		if n := len(r.Violation.Trace.Steps); n != c.steps {
			t.Errorf("seeded bug %s on %s caught after %d steps, want %d", c.mutant, c.file, n, c.steps)
		}
	}
}

// incidentCase is one pinned check of an incident file: a deadlock after
// steps, or verified when steps is -1, with the states the search stored.
type incidentCase struct {
	file   string
	policy port.Policy
	cap    int
	steps  int
	states int
}

func checkIncidents(t *testing.T, cases []incidentCase) {
	t.Helper()
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
