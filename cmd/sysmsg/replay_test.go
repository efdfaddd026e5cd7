package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/capture"
	"github.com/sysmsg/sysmsg/impl/httpd"
	"github.com/sysmsg/sysmsg/impl/port"
)

// replayWithCapture makes the command read c (or fail with err) whatever the
// file, for the test.
func replayWithCapture(t *testing.T, c *capture.Capture, err error) {
	t.Helper()
	old := readCapture
	readCapture = func(_ context.Context, path string, opt capture.Options) (*capture.Capture, error) {
		if c != nil {
			c.File = path
		}
		return c, err
	}
	t.Cleanup(func() { readCapture = old })
}

// replayCaseConn is a captured connection: "q" a request event, "s" a
// response event, with the requests.
func replayCaseConn(script string, reqs ...string) capture.Conn {
	c := capture.Conn{Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:80"), First: 1}
	for _, e := range script {
		k := capture.Request
		if e == 's' {
			k = capture.Response
		}
		c.Events = append(c.Events, capture.Event{Kind: k})
	}
	for _, r := range reqs {
		c.Requests = append(c.Requests, []byte(r))
	}
	return c
}

const (
	replayGet  = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	replayDrop = "GET /drop HTTP/1.1\r\nHost: x\r\n\r\n"
)

// replayTimeLine is the figure that changes from run to run.
var replayTimeLine = regexp.MustCompile(`(?m)^  time       .*$`)

func replayCase(ctx context.Context, args ...string) string {
	var stdout, stderr bytes.Buffer
	code := runReplay(ctx, args, &stdout, &stderr)
	out := replayTimeLine.ReplaceAllString(stdout.String()+stderr.String(), "  time       X")
	return out + "[exit " + string(rune('0'+code)) + "]\n"
}

// The captured requests, sent to the project's server at cap 2, all get
// their responses.
func TestReplayCommandAgainstTheServer(t *testing.T) {
	srv, err := httpd.New(httpd.Config{Addr: httpd.Loopback, Sched: port.Config{Cap: 2, Low: port.Unset, Policy: port.Poll}})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(stop) }()
	defer func() { close(stop); <-done; srv.Close() }()
	replayWithCapture(t, &capture.Capture{Packets: 40, Conns: []capture.Conn{
		replayCaseConn("qqsqss", replayGet, replayGet, replayGet),
		replayCaseConn("qsqs", replayGet, replayGet),
	}, Cut: []string{"3 connections beyond --max-conns 2"}}, nil)
	got := replayCase(context.Background(), "web.pcapng", "--addr", srv.Addr(), "--max-conns", "2")
	want := `replaying web.pcapng to ` + srv.Addr() + `: 2 connections, 5 requests
  cut: 3 connections beyond --max-conns 2
  requests   5 sent
  responses  5 of 5 (5 × 200)
  time       X
every response came, on all 2 connections
[exit 0]
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A response that does not come fails its connection, named with where
// it was captured and why; the command exits 1. A capture that cannot be
// read, or holds nothing to replay, is bad input; an interrupt ends the
// replay with the figures so far.
func TestReplayCommandFailures(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() { l.Close(); wg.Wait() }()
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil || req.URL.Path == "/drop" {
						io.Copy(io.Discard, br)
						return
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
				}
			})
		}
	})
	addr := l.Addr().String()
	replayWithCapture(t, &capture.Capture{Conns: []capture.Conn{
		replayCaseConn("qs", replayGet),
		replayCaseConn("qsqs", replayGet, replayDrop),
	}}, nil)
	got := replayCase(context.Background(), "web.pcapng", "--addr", addr, "--timeout", "100ms")
	want := `replaying web.pcapng to ` + addr + `: 2 connections, 3 requests
  requests   3 sent
  responses  2 of 3 (2 × 200)
  time       X
FAILED: 1 of 2 connections did not get every response
  connection 2 (captured 10.0.0.1:40000 → 10.0.0.2:80, from packet 1): 1 of 2 responses: no response 2 of 2 within 100ms (2 requests sent)
[exit 1]
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	replayWithCapture(t, &capture.Capture{Conns: []capture.Conn{replayCaseConn("qs", replayDrop)}}, nil)
	if got := replayCase(ctx, "web.pcapng", "--addr", addr); !strings.HasSuffix(got, "sysmsg replay: interrupted: 0 of 1 responses so far\n[exit 3]\n") {
		t.Errorf("interrupted:\n%s", got)
	}

	replayWithCapture(t, nil, errors.New("capture: web.pcapng: not a pcap or pcapng file"))
	if got, want := replayCase(context.Background(), "web.pcapng", "--addr", addr), "sysmsg replay: web.pcapng: not a pcap or pcapng file\n[exit 2]\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	replayWithCapture(t, &capture.Capture{Packets: 12, Skipped: 12}, nil)
	if got, want := replayCase(context.Background(), "web.pcapng", "--addr", addr), "sysmsg replay: web.pcapng: no HTTP connection to replay (12 packets, 12 not TCP to or from the port)\n[exit 2]\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	replayWithCapture(t, &capture.Capture{Conns: []capture.Conn{replayCaseConn("qs")}}, nil)
	if got, want := replayCase(context.Background(), "web.pcapng", "--addr", addr), "sysmsg replay: connection 1 (client 10.0.0.1:40000): 1 request events but 0 requests\n[exit 2]\n"; !strings.HasSuffix(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
