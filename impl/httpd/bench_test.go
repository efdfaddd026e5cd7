//go:build linux

package httpd_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/impl/port"
)

// BenchmarkPipelined is the web server's throughput under a pipelining
// client (32 connections, 16 requests per round, each round waiting for
// its responses) at cap 2 and at cap 1024, under poll. It reports
// requests per second and the polls and mode changes per request.
func BenchmarkPipelined(b *testing.B) {
	for _, c := range []int{2, 1024} {
		b.Run(fmt.Sprintf("cap=%d", c), func(b *testing.B) {
			srv, _, finish := start(b, port.Config{Cap: c, Low: port.Unset, Policy: port.Poll}, 10*time.Second)
			const conns, depth = 32, 16
			rounds := max(b.N/(conns*depth), 1)
			batch := strings.Repeat(request(false), depth)
			var wg sync.WaitGroup
			b.ResetTimer()
			startT := time.Now()
			for range conns {
				wg.Go(func() {
					cn := dial(b, srv.Addr())
					cn.SetDeadline(time.Now().Add(time.Minute))
					defer cn.Close()
					r := bufio.NewReaderSize(cn, 64<<10)
					for range rounds {
						if _, err := io.WriteString(cn, batch); err != nil {
							b.Error(err)
							return
						}
						if codes, err := countResponses(r, depth); err != nil || len(codes) != depth {
							b.Errorf("%d responses: %v", len(codes), err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(startT)
			b.StopTimer()
			if err := finish(); err != nil {
				b.Fatal(err)
			}
			s := srv.Stats()
			n := float64(conns * depth * rounds)
			b.ReportMetric(n/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(s.Sched.Polls)/n, "polls/req")
			b.ReportMetric(float64(s.Sched.ModeChanges), "mode-changes")
			b.ReportMetric(float64(s.Sched.Sends)/n, "sends/req")
		})
	}
}
