package run_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/model/workload"
)

// TestOSPollFinishesTheBuiltins: on real pipes and socket pairs, and on
// loopback TCP, the seed's design finishes every built-in at caps 1, 2, 3.
func TestOSPollFinishesTheBuiltins(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		for _, name := range workload.BuiltinNames() {
			w := load(t, name, workload.Params{})
			for _, c := range []int{1, 2, 3} {
				r, err := run.OS(w, run.Options{Cap: c, Low: workload.Unset, Policy: port.Poll, TCP: tcp, StuckAfter: 5 * time.Second})
				if err != nil {
					t.Fatalf("%s cap %d tcp %v: %v", name, c, tcp, err)
				}
				if !r.Finished || r.Totals().MaxInFlight > c {
					t.Errorf("%s cap %d tcp %v:\n%s", name, c, tcp, r.Summary())
				}
			}
		}
	}
}

// TestOSWatchdogReportsTheEventLoopHang: under block at cap 2 the event
// loop gets stuck for real (it waits for a slot inside the submission, so
// nobody reaps the log write that would free one), and the watchdog returns
// the dump instead of hanging; the exit with messages in flight cancels and
// reaps them, leaking nothing. (The web server's deadlock on the host
// kernel depends on how fast completions race the scheduler; the
// simulated runs and the HTTP server's test show it deterministically.)
func TestOSWatchdogReportsTheEventLoopHang(t *testing.T) {
	before := runtime.NumGoroutine()
	w := load(t, "eventloop", workload.Params{})
	r, err := run.OS(w, run.Options{Cap: 2, Low: workload.Unset, Policy: port.Block, TCP: true, StuckAfter: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("shutdown: %v", err) // messages left in flight or off the free list
	}
	if !r.Stuck {
		t.Fatalf("not stuck:\n%s", r.Summary())
	}
	for _, want := range []string{"watchdog", "ev           waiting for a slot in write sock", "slot 2",
		"submit read sock: pending", "submit write log: completed, not reaped"} {
		if !strings.Contains(r.Dump, want) {
			t.Errorf("the dump lacks %q:\n%s", want, r.Dump)
		}
	}
	// Every user thread, peer and kernel goroutine has ended.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines before the run, %d after", before, n)
	}
}

// TestOSStuckUnderStop: the pipe triangle under stop, for real.
func TestOSStuckUnderStop(t *testing.T) {
	r, err := run.OS(load(t, "triangle", workload.Params{}), run.Options{Cap: 2, Low: workload.Unset, Policy: port.Stop, StuckAfter: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Stuck || !strings.Contains(r.Dump, "stopped in write a") {
		t.Fatalf("want stuck with w stopped:\n%s", r.Summary())
	}
}
