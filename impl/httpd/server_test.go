//go:build linux

package httpd_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/impl/httpd"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
)

// start runs a server on 127.0.0.1. It returns the server, a channel
// closed when Serve returns, and a function that stops the server (if it
// is still serving), closes it and returns Serve's error.
func start(t testing.TB, c port.Config, stuckAfter time.Duration) (*httpd.Server, <-chan struct{}, func() error) {
	t.Helper()
	return startConfig(t, httpd.Config{Addr: httpd.Loopback, Sched: c, StuckAfter: stuckAfter})
}

// startConfig is start with the whole configuration.
func startConfig(t testing.TB, cfg httpd.Config) (*httpd.Server, <-chan struct{}, func() error) {
	t.Helper()
	srv, err := httpd.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	var serveErr error
	go func() { serveErr = srv.Serve(stop); close(done) }()
	var once sync.Once
	finish := func() error {
		once.Do(func() {
			close(stop)
			<-done
			if err := srv.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return serveErr
	}
	t.Cleanup(func() { finish() })
	return srv, done, finish
}

func request(close bool) string {
	if close {
		return "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	}
	return "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
}

// countResponses reads responses from r until n have come or the
// connection ends, and returns the status codes.
func countResponses(r *bufio.Reader, n int) ([]int, error) {
	var codes []int
	for len(codes) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			return codes, err
		}
		var code int
		if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &code); err != nil {
			return codes, fmt.Errorf("status line %q", line)
		}
		length := 0
		for {
			h, err := r.ReadString('\n')
			if err != nil {
				return codes, err
			}
			if h == "\r\n" {
				break
			}
			if v, ok := strings.CutPrefix(h, "Content-Length: "); ok {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if _, err := io.CopyN(io.Discard, r, int64(length)); err != nil {
			return codes, err
		}
		codes = append(codes, code)
	}
	return codes, nil
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second)) // bounded: a stuck server fails the test, not hangs it
	return c
}

// TestPipelinedRequestsAnsweredAtCap2UnderPoll: at the seed's cap of 2,
// with polling, every pipelined request of several connections, written
// on raw connections, is answered, in rounds that wait for the responses
// (as a pipelining client does).
func TestPipelinedRequestsAnsweredAtCap2UnderPoll(t *testing.T) {
	for _, pol := range []port.Policy{port.Poll, port.PollNoHyst} {
		srv, _, finish := start(t, port.Config{Cap: 2, Low: port.Unset, Policy: pol}, 5*time.Second)
		const conns, rounds, depth = 8, 5, 20
		var wg sync.WaitGroup
		errs := make(chan error, conns)
		for range conns {
			wg.Go(func() {
				c := dial(t, srv.Addr())
				defer c.Close()
				r := bufio.NewReader(c)
				for range rounds {
					if _, err := io.WriteString(c, strings.Repeat(request(false), depth)); err != nil {
						errs <- err
						return
					}
					codes, err := countResponses(r, depth)
					if err != nil || len(codes) != depth {
						errs <- fmt.Errorf("%d of %d responses: %v", len(codes), depth, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%v: %v", pol, err)
		}
		if err := finish(); err != nil {
			t.Errorf("%v: serve: %v", pol, err)
		}
		s := srv.Stats()
		if s.Responses != conns*rounds*depth || s.Sched.CapHits == 0 || s.Sched.MaxInFlight > 2 {
			t.Errorf("%v: stats %+v: want %d responses, the cap reached, at most 2 in flight", pol, s, conns*rounds*depth)
		}
	}
}

// TestBlockDeadlocksAndTheWatchdogSaysSo: under block at cap 2, the
// acceptor's accept and the reader's read-ahead hold both slots, the
// writer waits for one, and the client waits for its responses: the seed's
// deadlock, for real. Serve returns the watchdog's dump.
func TestBlockDeadlocksAndTheWatchdogSaysSo(t *testing.T) {
	srv, done, finish := start(t, port.Config{Cap: 2, Low: port.Unset, Policy: port.Block}, 300*time.Millisecond)
	c := dial(t, srv.Addr())
	defer c.Close()
	if _, err := io.WriteString(c, request(false)+request(false)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done: // Serve returns by itself when the watchdog fires
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return: the watchdog did not fire")
	}
	err := finish()
	var se *sched.StuckError
	if !errors.As(err, &se) {
		t.Fatalf("Serve returned %v, want the watchdog's StuckError", err)
	}
	d := se.Dump.String()
	for _, want := range []string{"waiting for a slot in write", "slot 2", "read conn", "accept listener: pending"} {
		if !strings.Contains(d, want) {
			t.Errorf("the dump lacks %q:\n%s", want, d)
		}
	}
	if s := srv.Stats(); s.Responses != 0 || s.Requests != 2 {
		t.Errorf("stats %+v: want both requests read and none answered", s)
	}
}

// TestRequestLimitsAndClose: malformed and oversized requests are answered
// with an error and the connection closes; HTTP/1.0 and Connection: close
// close after the response.
func TestRequestLimitsAndClose(t *testing.T) {
	srv, _, _ := start(t, port.Config{Cap: 2, Low: port.Unset, Policy: port.Poll}, 5*time.Second)
	for _, tc := range []struct {
		name, req string
		codes     []int
	}{
		{"garbage", "HELLO\r\n\r\n", []int{400}},
		{"header too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 9000) + "\r\n\r\n", []int{431}},
		{"no end of header within the limit", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 9000), []int{431}},
		{"body too large", "POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", []int{413}},
		{"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", []int{501}},
		{"body then a second request", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + request(true), []int{200, 200}},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n" + request(false), []int{200}},
		{"Connection: close", request(false) + request(true) + request(false), []int{200, 200}},
	} {
		c := dial(t, srv.Addr())
		if _, err := io.WriteString(c, tc.req); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(c)
		codes, err := countResponses(r, len(tc.codes))
		if err != nil || fmt.Sprint(codes) != fmt.Sprint(tc.codes) {
			t.Errorf("%s: codes %v (%v), want %v", tc.name, codes, err, tc.codes)
		}
		if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
			t.Errorf("%s: after the responses: %q, %v; want the connection closed", tc.name, rest, err)
		}
		c.Close()
	}
}

// TestWrkPipelining: wrk with the pipelining script, many connections, at
// cap 2 under poll: every response is a 200 and none is missing. Skipped
// without wrk (apt-get install wrk) and under -short.
func TestWrkPipelining(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run: not under -short")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed (apt-get install wrk)")
	}
	srv, _, finish := start(t, port.Config{Cap: 2, Low: port.Unset, Policy: port.Poll}, 5*time.Second)
	out, err := exec.Command("wrk", "-t2", "-c64", "-d1s", "--timeout", "5s", "-s", "testdata/pipeline.lua",
		"http://"+srv.Addr()+"/", "--", "16").CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	if err := finish(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if bytes.Contains(out, []byte("Socket errors")) || bytes.Contains(out, []byte("Non-2xx")) {
		t.Errorf("wrk saw errors:\n%s", out)
	}
	m := regexp.MustCompile(`(\d+) requests in`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no request count in wrk's output:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	if s := srv.Stats(); n == 0 || s.Responses < uint64(n) {
		t.Errorf("wrk counted %d responses, the server sent %d", n, s.Responses)
	}
	t.Logf("wrk at cap 2 under poll:\n%s", out)
}
