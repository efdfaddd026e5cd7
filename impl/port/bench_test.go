package port_test

import (
	"runtime"
	"testing"

	"github.com/sysmsg/sysmsg/impl/port"
)

// BenchmarkSendReap is the port's send and reap path: acquire a slot and a
// message, complete it, reap it. It must not allocate.
func BenchmarkSendReap(b *testing.B) {
	p := newPort(b, port.Config{Cap: 2, Low: port.Unset, Policy: port.Poll})
	b.ReportAllocs()
	for b.Loop() {
		m, _ := p.Acquire()
		m.Op = port.OpRead
		p.Complete(m)
		p.Reap()
	}
}

// BenchmarkInFlight100k holds 100,000 messages in flight on one port and
// reports the heap bytes each costs (the seed's estimate: 256).
func BenchmarkInFlight100k(b *testing.B) {
	const n = 100_000
	var perMsg float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p := newPort(b, port.Config{Cap: port.Unlimited, Policy: port.Poll})
		for range n {
			p.Acquire()
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if p.InFlight() != n {
			b.Fatal(p.InFlight())
		}
		perMsg = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(p)
	}
	b.ReportMetric(perMsg, "bytes/msg")
	b.ReportMetric(float64(port.MsgSize), "msg-struct-bytes")
}
