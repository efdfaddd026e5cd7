//go:build linux

package httpd_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/capture"
	"github.com/sysmsg/sysmsg/impl/httpd"
	"github.com/sysmsg/sysmsg/impl/port"
)

// BenchmarkPipelined is the web server's throughput under a pipelining
// client (32 connections, 16 requests per round, each round waiting for
// its responses) at cap 2 and at cap 1024, under poll, without and with
// a recorder of its traffic (capture.Recorder, writing pcapng to a file
// through its Tap). It reports requests per second and the polls and mode
// changes per request, and with the recorder the bytes recorded per
// request.
func BenchmarkPipelined(b *testing.B) {
	for _, c := range []int{2, 1024} {
		for _, rec := range []bool{false, true} {
			b.Run(fmt.Sprintf("cap=%d/record=%v", c, onOff(rec)), func(b *testing.B) {
				benchPipelined(b, c, rec)
			})
		}
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// benchPipelined is one of BenchmarkPipelined's runs.
func benchPipelined(b *testing.B, c int, record bool) {
	cfg := httpd.Config{Addr: httpd.Loopback, Sched: port.Config{Cap: c, Low: port.Unset, Policy: port.Poll}, StuckAfter: 10 * time.Second}
	var rec *capture.Recorder
	if record {
		f, err := os.Create(filepath.Join(b.TempDir(), "bench.pcapng"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if rec, err = capture.NewRecorder(f, capture.RecordOptions{}); err != nil {
			b.Fatal(err)
		}
		cfg.Tap = rec
	}
	srv, _, finish := startConfig(b, cfg)
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
	if rec != nil {
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rec.Stats().Bytes)/n, "rec-B/req")
	}
}
