package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrReplay is wrapped by the error of a [Replay] that could not start:
// connections whose events and requests do not agree.
var ErrReplay = errors.New("capture: cannot replay")

// ReplayOptions configures [Replay].
type ReplayOptions struct {
	// Timeout bounds each wait of a connection: to connect, to send a
	// request, and for each response; 0 is 5 seconds.
	Timeout time.Duration

	_ struct{}
}

// ReplayResult is what a [Replay] found: a response count per
// connection, and why a connection failed.
type ReplayResult struct {
	// Conns are the connections' results, in the order given.
	Conns []ConnResult
	// Requests and Responses are the totals sent and received; Want
	// the responses owed, one per request captured.
	Requests, Responses, Want int
	// Elapsed is the time from the first connection to the last
	// response.
	Elapsed time.Duration
	// Interrupted says that the context ended the replay before every
	// connection was done.
	Interrupted bool
}

// Failed counts the connections that failed.
func (r *ReplayResult) Failed() int {
	n := 0
	for _, c := range r.Conns {
		if c.Err != nil {
			n++
		}
	}
	return n
}

// ConnResult is one connection's replay.
type ConnResult struct {
	// Requests counts the requests sent, Responses the whole responses
	// read, Want the responses owed: one per request captured.
	Requests, Responses, Want int
	// Status holds each response's status code, in order.
	Status []int
	// Elapsed is the time from dialling to the last response.
	Elapsed time.Duration
	// Err says why the connection failed, or is nil when every response
	// came: it could not connect, a request could not be sent, a
	// response did not come within the timeout, the server closed the
	// connection early, or sent something that is not an HTTP response.
	Err error
}

// Replay sends the captured requests of conns to the server at addr (a
// host:port that the caller has vetted: Replay dials whatever it is
// given) with the captured pipelining, and checks that every response
// comes back. The connections run at once, each on its own TCP
// connection. Each walks its events: a request event sends the next
// request's bytes; a response event waits until one more response has
// come, as the captured client waited, when one is outstanding. After the
// last event it waits for the responses still owed. Responses are read as
// they come (status line, headers, and the body by Content-Length,
// chunked, or to the end of the connection; none for HEAD, 1xx, 204 and
// 304), and counted in order: HTTP/1.1 answers pipelined requests in the
// order they were sent, so the nth response is the nth request's.
// Timing within a connection follows the pipelining, not the captured
// gaps.
//
// A connection's failure is a finding, in its [ConnResult]; the error is
// for conns that cannot be replayed (wrapping [ErrReplay]). When ctx ends,
// every connection stops, and the result says Interrupted.
func Replay(ctx context.Context, conns []Conn, addr string, opt ReplayOptions) (ReplayResult, error) {
	if opt.Timeout == 0 {
		opt.Timeout = 5 * time.Second
	}
	for i, c := range conns {
		n := 0
		for _, e := range c.Events {
			if e.Kind == Request {
				n++
			}
		}
		if n != len(c.Requests) {
			return ReplayResult{}, fmt.Errorf("%w: connection %d (client %v): %d request events but %d requests", ErrReplay, i+1, c.Client, n, len(c.Requests))
		}
	}
	res := ReplayResult{Conns: make([]ConnResult, len(conns))}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { res.Conns[i] = replayConn(ctx, &conns[i], addr, opt) })
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Interrupted = ctx.Err() != nil
	for _, c := range res.Conns {
		res.Requests += c.Requests
		res.Responses += c.Responses
		res.Want += c.Want
	}
	return res, nil
}

// replayResponse is what a connection's reader hands its sender: a response's
// status, or why no more will come.
type replayResponse struct {
	status int
	err    error
}

// replayConn replays one connection. Its reader goroutine reads the
// responses as they come, so that a server that answers while the client
// still sends is never held up by the replay; the sender consumes them
// one by one where the capture's client waited.
func replayConn(ctx context.Context, c *Conn, addr string, opt ReplayOptions) (res ConnResult) {
	res.Want = len(c.Requests)
	start := time.Now()
	defer func() { res.Elapsed = time.Since(start) }()
	d := net.Dialer{Timeout: opt.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		res.Err = replayDialError(err)
		return res
	}
	defer nc.Close()
	// An interrupt ends every wait on the connection at once.
	defer context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })()

	resps := make(chan replayResponse, len(c.Requests)+1)
	done := make(chan struct{})
	defer func() { nc.Close(); <-done }()
	go func() {
		defer close(done)
		br := bufio.NewReader(nc)
		for i, req := range c.Requests {
			status, err := replayReadResponse(br, replayMethod(req))
			if err != nil {
				resps <- replayResponse{err: replayReadError(err, i+1, len(c.Requests))}
				return
			}
			resps <- replayResponse{status: status}
		}
	}()

	timer := time.NewTimer(opt.Timeout)
	defer timer.Stop()
	// await takes the next response, or ends the connection with why it
	// did not come.
	await := func() bool {
		timer.Reset(opt.Timeout)
		select {
		case r := <-resps:
			if r.err != nil {
				res.Err = r.err
				return false
			}
			res.Status = append(res.Status, r.status)
			res.Responses++
			return true
		case <-timer.C:
			res.Err = fmt.Errorf("no response %d of %d within %v (%d requests sent)", res.Responses+1, res.Want, opt.Timeout, res.Requests)
			return false
		case <-ctx.Done():
			res.Err = fmt.Errorf("interrupted after %d of %d responses", res.Responses, res.Want)
			return false
		}
	}
	for _, e := range c.Events {
		switch {
		case e.Kind == Request:
			nc.SetWriteDeadline(time.Now().Add(opt.Timeout))
			if _, err := nc.Write(c.Requests[res.Requests]); err != nil {
				if ctx.Err() != nil {
					res.Err = fmt.Errorf("interrupted after %d of %d responses", res.Responses, res.Want)
				} else {
					res.Err = fmt.Errorf("sending request %d of %d: %w", res.Requests+1, res.Want, replayNetError(err))
				}
				return res
			}
			res.Requests++
		case res.Responses < res.Requests:
			if !await() {
				return res
			}
		}
	}
	for res.Responses < res.Want {
		if !await() {
			return res
		}
	}
	return res
}

// replayReadResponse reads one whole response to a request with the method,
// passing over interim (1xx) ones, and returns its status.
func replayReadResponse(br *bufio.Reader, method string) (int, error) {
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		// 101 Switching Protocols ends HTTP on the connection: it is
		// the answer.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp.StatusCode, nil
		}
	}
}

// replayMethod is a request's method: what its first line has before the
// space.
func replayMethod(req []byte) string {
	m, _, _ := bytes.Cut(req, []byte(" "))
	return string(m)
}

// replayReadError says why response i of n could not be read.
func replayReadError(err error, i, n int) error {
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the server closed the connection after %d of %d responses", i-1, n)
	case errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled):
		return fmt.Errorf("the connection ended after %d of %d responses", i-1, n)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("reading response %d of %d: %w", i, n, replayNetError(err))
	}
	return fmt.Errorf("response %d of %d is not an HTTP response: %w", i, n, err)
}

// replayDialError is a failed dial's error without Go's "dial tcp ADDR:"
// prefix, which the command's line already names.
func replayDialError(err error) error {
	return fmt.Errorf("cannot connect: %w", replayNetError(err))
}

// replayNetError is the innermost error of a network operation's: "connection
// refused", not "dial tcp 127.0.0.1:1: connect: connection refused".
func replayNetError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		err = op.Err
	}
	// An os.SyscallError says which call failed; the errno says why.
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		inner := u.Unwrap()
		if inner == nil {
			return err
		}
		err = inner
	}
}
