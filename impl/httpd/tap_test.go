//go:build linux

package httpd_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/impl/httpd"
	"github.com/sysmsg/sysmsg/impl/port"
)

// tapLog is a Tap that keeps what it is told, per connection.
type tapLog struct {
	mu    sync.Mutex
	conns map[uint64]*tapConn
	order []string // protocol errors: a call out of order
}

type tapConn struct {
	peer, local netip.AddrPort
	read, wrote []byte
	readErr     error
	closed      int
}

func (l *tapLog) Accepted(c uint64, peer, local netip.AddrPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns[c] != nil {
		l.order = append(l.order, "accepted twice")
	}
	l.conns[c] = &tapConn{peer: peer, local: local}
}

func (l *tapLog) conn(c uint64, what string) *tapConn {
	tc := l.conns[c]
	if tc == nil || tc.closed > 0 {
		l.order = append(l.order, what+" before Accepted or after Closed")
		return &tapConn{}
	}
	return tc
}

func (l *tapLog) Read(c uint64, b []byte, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tc := l.conn(c, "Read")
	tc.read = append(tc.read, b...)
	if err != nil {
		tc.readErr = err
	}
}

func (l *tapLog) Wrote(c uint64, b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tc := l.conn(c, "Wrote")
	tc.wrote = append(tc.wrote, b...)
}

func (l *tapLog) Closed(c uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn(c, "Closed").closed++
}

// TestTapSeesEveryByte: a tap is told of each connection with its
// addresses, every byte the client sent and got, in order, the client's
// end of file, and the close, once; a connection the server still holds
// when it is closed is closed too, with no read error: its reader thread
// is ended, not woken.
func TestTapSeesEveryByte(t *testing.T) {
	tap := &tapLog{conns: map[uint64]*tapConn{}}
	srv, _, finish := startConfig(t, httpd.Config{Addr: httpd.Loopback, Sched: port.Config{Cap: 2, Low: port.Unset, Policy: port.Poll},
		StuckAfter: 5 * time.Second, Tap: tap})
	type client struct {
		port      uint16
		sent, got []byte
	}
	clients := make([]client, 4)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c := dial(t, srv.Addr())
			defer c.Close()
			req := strings.Repeat(request(false), 5+i)
			if _, err := io.WriteString(c, req); err != nil {
				t.Error(err)
				return
			}
			c.(*net.TCPConn).CloseWrite()
			got, err := io.ReadAll(c)
			if err != nil {
				t.Error(err)
			}
			clients[i] = client{uint16(c.LocalAddr().(*net.TCPAddr).Port), []byte(req), got}
		})
	}
	wg.Wait()
	// One more, left open: the server's Close closes it.
	open := dial(t, srv.Addr())
	defer open.Close()
	io.WriteString(open, request(false))
	if _, err := countResponses(bufio.NewReader(open), 1); err != nil {
		t.Fatal(err)
	}
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	tap.mu.Lock()
	defer tap.mu.Unlock()
	if len(tap.order) > 0 || len(tap.conns) != len(clients)+1 {
		t.Fatalf("%d connections; out of order: %v", len(tap.conns), tap.order)
	}
	byPort := map[uint16]*tapConn{}
	for _, tc := range tap.conns {
		byPort[tc.peer.Port()] = tc
		if tc.closed != 1 || tc.local.String() != srv.Addr() || !tc.peer.Addr().IsLoopback() {
			t.Errorf("connection %v on %v: closed %d times", tc.peer, tc.local, tc.closed)
		}
	}
	for _, c := range clients {
		tc := byPort[c.port]
		if tc == nil || !bytes.Equal(tc.read, c.sent) || !bytes.Equal(tc.wrote, c.got) || !errors.Is(tc.readErr, io.EOF) {
			t.Errorf("client port %d: the tap saw %+v", c.port, tc)
		}
	}
	if tc := byPort[uint16(open.LocalAddr().(*net.TCPAddr).Port)]; tc == nil || tc.readErr != nil || string(tc.read) != request(false) || tc.closed != 1 {
		t.Errorf("the connection left open: %+v; want its request, no end of file, and the close", tc)
	}
}
