package model

import (
	"context"
	"fmt"
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// BenchmarkCheckWebServer is the whole check that `sysmsg check --policy
// poll --cap 2` makes of the seed's web server (safety, deadlock, the
// livelock pass and the fair-progress pass) at 3 connections x 3 requests,
// 129,421 states, on one and on two workers.
func BenchmarkCheckWebServer(b *testing.B) {
	w := builtin(b, "webserver", workload.Params{Conns: 3, Requests: 3, Window: 1})
	m, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset})
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("3x3/workers=%d", workers), func(b *testing.B) {
			var r *check.Result[State, Action]
			for b.Loop() {
				r, err = check.Explore(context.Background(), m, check.Options{Workers: workers, Livelock: true, Fairness: true})
				if err != nil {
					b.Fatal(err)
				}
			}
			if r.Verdict != check.OK || r.Stats.States != 129421 {
				b.Fatalf("%v with %d states, want ok with 129421", r.Verdict, r.Stats.States)
			}
			b.ReportMetric(r.Stats.StatesPerSecond, "states/s")
			b.ReportMetric(float64(r.Stats.PeakHeap)/float64(r.Stats.States), "heap-bytes/state")
		})
	}
}

// BenchmarkCheckWebServerSymmetry is the check of `sysmsg check --policy
// poll --cap 2 --symmetry` (safety, deadlock and the livelock pass; fair
// progress is not checked on the reduced graph) of the web server at 4
// connections x 3 requests, beside the same passes without the reduction,
// on two workers: 183,373 states against 3,889,921.
func BenchmarkCheckWebServerSymmetry(b *testing.B) {
	w := builtin(b, "webserver", workload.Params{Conns: 4, Requests: 3, Window: 1})
	for _, c := range []struct {
		name   string
		sym    bool
		states int
	}{{"4x3/symmetry", true, 183373}, {"4x3/full", false, 3889921}} {
		m, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset, Symmetry: c.sym})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) { benchCheck(b, m, check.Options{Workers: 2, Livelock: true}, c.states) })
	}
}

// BenchmarkCheckWebServerReductions is the check of safety and deadlock
// (no graph passes: the partial-order reduction does not keep cycles) of
// the web server at 4 connections x 3 requests, cap 2 under poll, on two
// workers: in full, with the partial-order reduction, and with it and the
// symmetry reduction.
func BenchmarkCheckWebServerReductions(b *testing.B) {
	w := builtin(b, "webserver", workload.Params{Conns: 4, Requests: 3, Window: 1})
	for _, c := range []struct {
		name     string
		sym, por bool
		states   int
	}{{"4x3/full", false, false, 3889921}, {"4x3/partial-order", false, true, 2487337}, {"4x3/symmetry+partial-order", true, true, 116403}} {
		m, err := New(w, Config{Policy: port.Poll, Cap: 2, Low: workload.Unset, Symmetry: c.sym})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) { benchCheck(b, m, check.Options{Workers: 2, PartialOrder: c.por}, c.states) })
	}
}

// benchCheck checks m with opt in a loop, requires that it holds with
// states states, and reports the states per second and the peak heap per
// state.
func benchCheck(b *testing.B, m *Model, opt check.Options, states int) {
	var r *check.Result[State, Action]
	var err error
	for b.Loop() {
		if r, err = check.Explore(context.Background(), m, opt); err != nil {
			b.Fatal(err)
		}
	}
	if r.Verdict != check.OK || r.Stats.States != states {
		b.Fatalf("%v with %d states, want ok with %d", r.Verdict, r.Stats.States, states)
	}
	b.ReportMetric(r.Stats.StatesPerSecond, "states/s")
	b.ReportMetric(float64(r.Stats.PeakHeap)/float64(r.Stats.States), "heap-bytes/state")
}
