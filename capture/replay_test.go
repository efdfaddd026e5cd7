//go:build linux

package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// replayConnOf builds a connection to replay from a script of events: "q" a
// request (the next of reqs), "s" a response.
func replayConnOf(script string, reqs ...string) Conn {
	c := Conn{
		Client: netip.MustParseAddrPort("10.0.0.1:40000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80"),
		First:  1,
	}
	for _, e := range script {
		k := Request
		if e == 's' {
			k = Response
		}
		c.Events = append(c.Events, Event{Kind: k})
	}
	for _, r := range reqs {
		c.Requests = append(c.Requests, []byte(r))
	}
	return c
}

// TestReplayGetsEveryResponse: connections replayed against the
// project's server, pipelined, one request at a time, with a body, and
// ending with Connection: close, each get every response, in order.
func TestReplayGetsEveryResponse(t *testing.T) {
	srv, stop := recStartServer(t, nil)
	post := "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	conns := []Conn{
		replayConnOf("qqqsqsss", recGet, recGet, recGet, recGet),
		replayConnOf("qsqsqs", recGet, recGet, recGet),
		replayConnOf("qqsqss", post, recGet, recGetClose),
		replayConnOf("qqqqq", recGet, recGet, recGet, recGet, recGet), // no response captured: all owed at the end
	}
	res, err := Replay(context.Background(), conns, srv.Addr(), ReplayOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range res.Conns {
		if c.Err != nil || c.Requests != len(conns[i].Requests) || c.Responses != c.Want || c.Want != c.Requests || fmt.Sprint(c.Status) != fmt.Sprint(repeatInt(200, c.Want)) ||
			c.Elapsed <= 0 || c.Elapsed > res.Elapsed {
			t.Errorf("connection %d: %+v", i+1, c)
		}
	}
	if res.Requests != 15 || res.Responses != 15 || res.Want != 15 || res.Failed() != 0 || res.Interrupted {
		t.Errorf("result %+v", res)
	}
	if st := stop(); st.Requests != 15 || st.Responses != 15 {
		t.Errorf("the server parsed %d requests and answered %d, want 15", st.Requests, st.Responses)
	}
}

func repeatInt(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// replayFakeServer serves each connection with handle, on loopback, until the
// test ends.
func replayFakeServer(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c, bufio.NewReader(c))
			})
		}
	})
	return l.Addr().String()
}

// TestReplayReportsAMissingResponse: against a server that drops the
// second response of the connections that ask for /drop and then waits
// (as a stuck server does), those connections fail, saying which response
// did not come; the other connections succeed; it takes the timeout, not
// longer.
func TestReplayReportsAMissingResponse(t *testing.T) {
	addr := replayFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		for i := 1; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if req.URL.Path == "/drop" && i == 2 {
				io.Copy(io.Discard, br) // until the client gives up
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	drop := "GET /drop HTTP/1.1\r\nHost: x\r\n\r\n"
	conns := []Conn{
		replayConnOf("qqqsss", drop, drop, drop),
		replayConnOf("qsqsqs", recGet, recGet, recGet),
		replayConnOf("qsqsqs", drop, drop, drop),
	}
	start := time.Now()
	res, err := Replay(context.Background(), conns, addr, ReplayOptions{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("the replay took %v with a timeout of 200ms", time.Since(start))
	}
	want := []struct {
		requests, responses int
		err                 string
	}{
		{3, 1, "no response 2 of 3 within 200ms (3 requests sent)"},
		{3, 3, ""},
		{2, 1, "no response 2 of 3 within 200ms (2 requests sent)"},
	}
	for i, w := range want {
		c := res.Conns[i]
		got := ""
		if c.Err != nil {
			got = c.Err.Error()
		}
		if c.Requests != w.requests || c.Responses != w.responses || got != w.err {
			t.Errorf("connection %d: %d requests, %d responses, %q; want %d, %d, %q", i+1, c.Requests, c.Responses, got, w.requests, w.responses, w.err)
		}
	}
	if res.Failed() != 2 || res.Responses != 5 || res.Want != 9 {
		t.Errorf("result %+v", res)
	}
}

// TestReplayReadsEveryKindOfResponse: bodies by length, chunked with a
// trailer, none for HEAD, 204 and 304, an interim 100 passed over, and a
// body that ends with the connection; then a server that closes early, and
// one that answers with something else than HTTP.
func TestReplayReadsEveryKindOfResponse(t *testing.T) {
	answers := map[string]string{
		"/len":     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"/head":    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
		"/204":     "HTTP/1.1 204 No Content\r\n\r\n",
		"/304":     "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n",
		"/100":     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
		"/eof":     "HTTP/1.1 200 OK\r\n\r\nto the end",
		"/garbage": "SMTP ready\r\n\r\n",
	}
	addr := replayFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.WriteString(c, answers[req.URL.Path])
			if req.URL.Path == "/eof" || req.URL.Path == "/close" {
				return
			}
		}
	})
	r := func(method, path string) string { return method + " " + path + " HTTP/1.1\r\nHost: x\r\n\r\n" }
	conns := []Conn{
		replayConnOf("qqqqqqqsssssss", r("GET", "/len"), r("GET", "/chunked"), r("HEAD", "/head"), r("GET", "/204"), r("GET", "/304"), r("POST", "/100"), r("GET", "/eof")),
		replayConnOf("qsqs", r("GET", "/len"), r("GET", "/close")),
		replayConnOf("qs", r("GET", "/garbage")),
	}
	res, err := Replay(context.Background(), conns, addr, ReplayOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Conns[0]; c.Err != nil || fmt.Sprint(c.Status) != "[200 200 200 204 304 201 200]" {
		t.Errorf("connection 1: %v, statuses %v", c.Err, c.Status)
	}
	if c := res.Conns[1]; c.Err == nil || c.Err.Error() != "the server closed the connection after 1 of 2 responses" {
		t.Errorf("connection 2: %v", c.Err)
	}
	if c := res.Conns[2]; c.Err == nil || !strings.HasPrefix(c.Err.Error(), "response 1 of 1 is not an HTTP response: ") {
		t.Errorf("connection 3: %v", c.Err)
	}
}

// TestReplayKeepsTheCapturedPipelining: where the captured client waited
// for a response, the replay waits; where it did not, the replay does not.
// The server holds each first response until it has seen whether the
// second request comes without it.
func TestReplayKeepsTheCapturedPipelining(t *testing.T) {
	var mu sync.Mutex
	early := map[string]bool{} // by path: the second request came before the first response
	addr := replayFakeServer(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		wait := 300 * time.Millisecond
		if req.URL.Path == "/pipelined" {
			wait = 3 * time.Second // it comes: no need to wait that long
		}
		c.SetReadDeadline(time.Now().Add(wait))
		_, err = br.Peek(1)
		mu.Lock()
		early[req.URL.Path] = err == nil
		mu.Unlock()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		if err == nil {
			http.ReadRequest(br)
		} else if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	})
	pipelined := "GET /pipelined HTTP/1.1\r\nHost: x\r\n\r\n"
	waits := "GET /waits HTTP/1.1\r\nHost: x\r\n\r\n"
	res, err := Replay(context.Background(), []Conn{replayConnOf("qqss", pipelined, pipelined), replayConnOf("qsqs", waits, waits)}, addr, ReplayOptions{Timeout: 5 * time.Second})
	if err != nil || res.Failed() != 0 {
		t.Fatalf("%v %+v", err, res)
	}
	mu.Lock()
	defer mu.Unlock()
	if !early["/pipelined"] || early["/waits"] {
		t.Errorf("second request before the first response: %v; want only for the pipelined connection", early)
	}
}

// TestReplayInterrupted: a cancelled context ends every connection's
// wait at once, and the result says so.
func TestReplayInterrupted(t *testing.T) {
	addr := replayFakeServer(t, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	res, err := Replay(ctx, []Conn{replayConnOf("qs", recGet), replayConnOf("qqs", recGet, recGet)}, addr, ReplayOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Failed() != 2 || time.Since(start) > 3*time.Second {
		t.Errorf("interrupted %v, %d failed, after %v", res.Interrupted, res.Failed(), time.Since(start))
	}
	if c := res.Conns[1]; c.Err == nil || c.Err.Error() != "interrupted after 0 of 2 responses" {
		t.Errorf("connection 2: %v", c.Err)
	}
}

// TestReplayRefusesConnectionsThatDisagree: a connection whose request
// events and requests differ in number cannot be replayed; a server that
// is not there is each connection's failure.
func TestReplayRefusesConnectionsThatDisagree(t *testing.T) {
	_, err := Replay(context.Background(), []Conn{replayConnOf("qqs", recGet)}, "127.0.0.1:1", ReplayOptions{})
	if !errors.Is(err, ErrReplay) || !strings.Contains(err.Error(), "connection 1 (client 10.0.0.1:40000): 2 request events but 1 requests") {
		t.Errorf("error %v", err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	res, err := Replay(context.Background(), []Conn{replayConnOf("qs", recGet)}, addr, ReplayOptions{})
	if err != nil || res.Conns[0].Err == nil || res.Conns[0].Err.Error() != "cannot connect: connection refused" {
		t.Errorf("%v %+v", err, res)
	}
}
