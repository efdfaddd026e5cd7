package check

import (
	"context"
	"fmt"
	"testing"
)

// grid is n counters mod k held in a fixed array, so that the benchmark
// measures the explorer rather than the model's allocations: k^n states.
type grid struct{ n, k int }

func (g grid) Init() [][8]byte { return [][8]byte{{}} }
func (g grid) Actions(s [8]byte, dst []int) []int {
	for i := range g.n {
		dst = append(dst, i)
	}
	return dst
}
func (g grid) Next(s [8]byte, a int) [8]byte {
	s[a] = byte((int(s[a]) + 1) % g.k)
	return s
}
func (g grid) Encode(dst []byte, s [8]byte) []byte { return append(dst, s[:g.n]...) }
func (g grid) Decode(src []byte) (s [8]byte)       { copy(s[:], src); return s }
func (g grid) Terminal(s [8]byte) bool             { return s == [8]byte{} }
func (g grid) Kinds() []string                     { return []string{"inc"} }
func (g grid) Kind(int) int                        { return 0 }
func (g grid) Describe(s [8]byte, a int) Label     { return Label{Actor: fmt.Sprint(a), Text: "inc"} }
func (g grid) Properties() []Property[[8]byte, int] {
	return []Property[[8]byte, int]{
		Always[[8]byte, int]("in range", func(s [8]byte) bool { return int(s[0]) < g.k }),
		Sometimes[[8]byte, int]("all at k-1", func(s [8]byte) bool {
			for _, v := range s[:g.n] {
				if int(v) != g.k-1 {
					return false
				}
			}
			return true
		}),
	}
}

func benchExplore(b *testing.B, g grid, opt Options) {
	want := 1
	for range g.n {
		want *= g.k
	}
	var r *Result[[8]byte, int]
	for b.Loop() {
		var err error
		r, err = Explore(context.Background(), g, opt)
		if err != nil {
			b.Fatal(err)
		}
		if r.Verdict != OK || r.Stats.States != want {
			b.Fatalf("verdict %v with %d states, want ok with %d", r.Verdict, r.Stats.States, want)
		}
	}
	b.ReportMetric(r.Stats.StatesPerSecond, "states/s")
	b.ReportMetric(r.Stats.BytesPerState(), "bytes/state")
	b.ReportMetric(float64(r.Stats.PeakHeap)/float64(want), "heap-bytes/state")
}

// BenchmarkExplore10M explores 10^7 states (7 counters mod 10, 7-byte
// encodings, 7*10^7 transitions) on one and on two workers, with and
// without the edges the livelock check stores. Run with -benchtime=1x.
func BenchmarkExplore10M(b *testing.B) {
	g := grid{n: 7, k: 10}
	for _, livelock := range []bool{false, true} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("livelock=%v/workers=%d", livelock, w), func(b *testing.B) {
				benchExplore(b, g, Options{Workers: w, Livelock: livelock})
			})
		}
	}
}

// BenchmarkExplore1M is the same at 10^6 states, quick enough to repeat.
func BenchmarkExplore1M(b *testing.B) {
	g := grid{n: 6, k: 10}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			benchExplore(b, g, Options{Workers: w})
		})
	}
}
