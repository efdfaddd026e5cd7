package capture

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/model/workload"
)

// FuzzRead reads any bytes as a capture. Whatever they are, the reading
// ends with a Capture or an *Error (never a panic, never an allocation
// that the bytes size), and a Capture's connections are consistent and
// make a workload that parses.
func FuzzRead(f *testing.F) {
	// The committed seeds (testdata/fuzz/FuzzRead) hold a pcap and a
	// pcapng, each whole, cut short and with a huge captured length;
	// these add the other link types and message framings.
	b := newBuilder(f)
	b.link, b.v6, b.mss = linkSLL, true, 25
	c := b.conn(0).handshake()
	c.send("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHEAD / HTTP/1.1\r\n\r\n")
	c.reply("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
	c.rst(true)
	f.Add(b.pcapng())
	b = newBuilder(f)
	b.link = linkNull
	b.exchange(0, 2, 1)
	b.swap(4, 5)
	f.Add(b.pcap())

	opt := Options{MaxConns: 3, MaxRequests: 5, MaxRequestBytes: 4096}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Read(context.Background(), bytes.NewReader(data), "fuzz.pcap", opt)
		if err != nil {
			var e *Error
			if c != nil || !errors.As(err, &e) || !errors.Is(err, ErrCapture) {
				t.Fatalf("got %v and %T %v, want only an *Error", c, err, err)
			}
			return
		}
		for _, w := range c.Warnings {
			if strings.Contains(w.Msg, "(a bug") {
				t.Fatalf("%s", w)
			}
		}
		if c.Skipped > c.Packets || len(c.Conns) > opt.MaxConns {
			t.Fatalf("%d packets, %d skipped, %d connections", c.Packets, c.Skipped, len(c.Conns))
		}
		for _, conn := range c.Conns {
			requests, responses, last := 0, 0, 0
			for _, e := range conn.Events {
				if e.Packet < last || e.Packet > c.Packets+1 {
					t.Fatalf("event at packet %d after %d, of %d", e.Packet, last, c.Packets)
				}
				last = e.Packet
				if e.Kind == Request {
					requests++
				} else if responses++; responses > requests {
					t.Fatalf("response %d before its request", responses)
				}
			}
			if requests == 0 || requests > opt.MaxRequests || requests != len(conn.Requests) {
				t.Fatalf("%d requests, %d kept", requests, len(conn.Requests))
			}
		}
		text, err := c.Workload()
		if len(c.Conns) == 0 {
			if !errors.Is(err, ErrWorkload) {
				t.Fatalf("no connection, and %v", err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := workload.Parse("fuzz.wl", text); err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
	})
}

// BenchmarkFromPcap reads a capture of more than 100,000 packets (16
// connections at once, 3,200 requests each pipelined 4 deep) from a
// file, every connection kept and parsed, and reports packets per
// second.
func BenchmarkFromPcap(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.pcap")
	if err := os.WriteFile(path, bigCapture(b), 0o644); err != nil {
		b.Fatal(err)
	}
	opt := Options{MaxConns: 16, MaxRequests: 4}
	packets := 0
	b.ResetTimer()
	for b.Loop() {
		c, err := ReadFile(context.Background(), path, opt)
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Conns) != 16 || len(c.Warnings) != 0 {
			b.Fatalf("%d connections, warnings %v", len(c.Conns), c.Warnings)
		}
		packets += c.Packets
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}
