//go:build linux

package httpd

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/impl/kernel/host"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
	"golang.org/x/sys/unix"
)

// Config configures a [Server].
type Config struct {
	// Addr is the IPv4 address to listen on; the zero value is refused so
	// that a server is never exposed by accident: use Loopback.
	Addr [4]byte
	// Port is the TCP port; 0 picks a free one.
	Port int
	// Port configures the process's port: cap, low-water mark, policy.
	Sched port.Config
	// MaxHeader bounds a request's line and headers; 0 is 8 KiB.
	MaxHeader int
	// MaxBody bounds a request's body; 0 is 4 KiB.
	MaxBody int
	// ReadAhead is how many parsed requests a reader may queue for its
	// writer before it stops reading; 0 is 64.
	ReadAhead int
	// StuckAfter is the watchdog's time without progress while threads
	// wait for a slot or the upcall; 0 is 2 seconds.
	StuckAfter time.Duration
	// Tap, when set, sees every connection's accept, reads, writes and
	// close: a recorder of the server's traffic.
	Tap Tap

	_ struct{}
}

// Loopback is 127.0.0.1.
var Loopback = [4]byte{127, 0, 0, 1}

// ErrListen is wrapped by the error of a [New] that could not listen on the
// address: it is in use, or not the machine's to listen on. The system
// call's error (such as syscall.EADDRINUSE) is wrapped too.
var ErrListen = errors.New("httpd: cannot listen")

// Stats are the server's counters.
type Stats struct {
	Conns     uint64 // connections accepted
	Requests  uint64 // requests parsed
	Responses uint64 // responses written in full
	Sched     sched.Stats
}

// Server is the HTTP server. Its methods other than Serve are for before
// Serve or after it returns.
type Server struct {
	cfg   Config
	k     *host.Kernel
	s     *sched.Scheduler
	lfd   int
	port  int
	stats Stats
	conns map[*conn]bool
}

// New listens and prepares the server; Serve runs it.
func New(c Config) (*Server, error) {
	if c.Addr == [4]byte{} {
		return nil, errors.New("httpd: no listen address (use httpd.Loopback)")
	}
	if c.MaxHeader == 0 {
		c.MaxHeader = 8 << 10
	}
	if c.MaxBody == 0 {
		c.MaxBody = 4 << 10
	}
	if c.ReadAhead == 0 {
		c.ReadAhead = 64
	}
	if c.StuckAfter == 0 {
		c.StuckAfter = 2 * time.Second
	}
	k, err := host.New()
	if err != nil {
		return nil, err
	}
	lfd, p, err := k.ListenTCP(c.Addr, c.Port)
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("%w: %w", ErrListen, err)
	}
	srv := &Server{cfg: c, k: k, lfd: lfd, port: p, conns: map[*conn]bool{}}
	srv.s, err = sched.New(sched.Config{Name: "httpd", Port: c.Sched, Kernel: k, Describe: srv.describe})
	if err != nil {
		k.Forget(lfd)
		unix.Close(lfd)
		k.Close()
		return nil, err
	}
	srv.s.Go("acceptor", srv.acceptor)
	return srv, nil
}

func (srv *Server) describe(fd int) string {
	if fd == srv.lfd {
		return "listener"
	}
	return fmt.Sprintf("conn fd %d", fd)
}

// Addr is the address the server listens on, host:port.
func (srv *Server) Addr() string {
	a := srv.cfg.Addr
	return fmt.Sprintf("%d.%d.%d.%d:%d", a[0], a[1], a[2], a[3], srv.port)
}

// Serve runs the server until stop closes (it returns nil) or the watchdog
// finds it stuck (a *sched.StuckError with the dump).
func (srv *Server) Serve(stop <-chan struct{}) error {
	err := srv.s.Run(sched.RunOptions{StuckAfter: srv.cfg.StuckAfter, Stop: stop})
	if errors.Is(err, sched.ErrStopped) {
		return nil
	}
	return err
}

// Stats returns the counters.
func (srv *Server) Stats() Stats {
	st := srv.stats
	st.Sched = srv.s.Stats()
	return st
}

// Close ends the server: it cancels and reaps every message in flight,
// ends every thread, and closes every descriptor.
func (srv *Server) Close() error {
	err := srv.s.Shutdown(time.Second)
	// In the order accepted, so that a tap sees the same closes run
	// after run.
	open := make([]*conn, 0, len(srv.conns))
	for c := range srv.conns {
		open = append(open, c)
	}
	slices.SortFunc(open, func(a, b *conn) int { return cmp.Compare(a.id, b.id) })
	for _, c := range open {
		srv.k.Forget(c.fd)
		unix.Close(c.fd)
		if srv.cfg.Tap != nil {
			srv.cfg.Tap.Closed(c.id)
		}
	}
	srv.k.Forget(srv.lfd)
	unix.Close(srv.lfd)
	if kerr := srv.k.Close(); err == nil {
		err = kerr
	}
	return err
}

func (srv *Server) acceptor(t *sched.Thread) {
	var n uint64
	for {
		fd, err := t.Accept(srv.lfd)
		switch {
		case errors.Is(err, syscall.ECANCELED) || errors.Is(err, syscall.EBADF):
			return
		case err != nil:
			_ = t.Sleep(10 * time.Millisecond) // out of descriptors: let connections close
			continue
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		srv.stats.Conns++
		c := &conn{srv: srv, fd: fd, id: n, tap: srv.cfg.Tap, q: sched.NewQueue[reply](fmt.Sprintf("q%d", n), srv.cfg.ReadAhead)}
		srv.conns[c] = true
		if c.tap != nil {
			srv.tapAccept(c)
		}
		srv.s.Go(fmt.Sprintf("r%d", n), c.reader)
		srv.s.Go(fmt.Sprintf("w%d", n), c.writer)
		n++
	}
}

// reply is what the reader hands the writer: a response to send, and
// whether the connection closes after it (or, with none, only that).
type reply struct {
	resp  []byte
	close bool
}

var (
	respOK    = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n")
	respOKEnd = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
	resp400   = []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	resp413   = []byte("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	resp431   = []byte("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	resp501   = []byte("HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
)

// conn is one connection: its reader and writer threads share the fd and
// the queue between them.
type conn struct {
	srv *Server
	fd  int
	id  uint64 // the number in the order accepted, from 0
	tap Tap    // the server's, or nil
	q   *sched.Queue[reply]
}

// reader reads requests and reads ahead: after each read it parses every
// complete request, queues its response, and reads again at once.
func (c *conn) reader(t *sched.Thread) {
	buf := make([]byte, c.srv.cfg.MaxHeader+c.srv.cfg.MaxBody)
	have := 0
	for {
		n, err := t.Read(c.fd, buf[have:])
		if c.tap != nil {
			c.tap.Read(c.id, buf[have:have+n], err)
		}
		if err != nil {
			c.q.Push(t, reply{close: true}) // EOF or error: the writer closes
			return
		}
		have += n
		for {
			used, r, ok := parse(buf[:have], c.srv.cfg.MaxHeader, c.srv.cfg.MaxBody)
			if !ok {
				break // incomplete: read more
			}
			c.srv.stats.Requests++
			c.q.Push(t, r)
			if r.close {
				return
			}
			have = copy(buf, buf[used:have])
		}
	}
}

// parse reads one request from b: the bytes it takes, the reply, and
// whether b held a whole request (or an error to answer).
func parse(b []byte, maxHeader, maxBody int) (used int, r reply, ok bool) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) >= maxHeader {
			return len(b), reply{resp: resp431, close: true}, true
		}
		return 0, reply{}, false
	}
	if end+4 > maxHeader {
		return len(b), reply{resp: resp431, close: true}, true
	}
	head := b[:end]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	method, rest1, ok1 := bytes.Cut(line, []byte(" "))
	target, proto, ok2 := bytes.Cut(rest1, []byte(" "))
	if !ok1 || !ok2 || len(method) == 0 || len(target) == 0 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(proto) != 8 {
		return len(b), reply{resp: resp400, close: true}, true
	}
	closeAfter := proto[7] == '0' // HTTP/1.0 closes unless it asks to keep alive
	body := 0
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, found := bytes.Cut(h, []byte(":"))
		if !found || len(name) == 0 {
			return len(b), reply{resp: resp400, close: true}, true
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 {
				return len(b), reply{resp: resp400, close: true}, true
			}
			if n > maxBody {
				return len(b), reply{resp: resp413, close: true}, true
			}
			body = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return len(b), reply{resp: resp501, close: true}, true
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				closeAfter = true
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				closeAfter = false
			}
		}
	}
	used = end + 4 + body
	if len(b) < used {
		return 0, reply{}, false // the body is still coming
	}
	if closeAfter {
		return used, reply{resp: respOKEnd, close: true}, true
	}
	return used, reply{resp: respOK}, true
}

// writer sends the responses in order, batching those already queued into
// one write, and closes the connection when told to.
func (c *conn) writer(t *sched.Thread) {
	out := make([]byte, 0, 16<<10)
	for {
		r := c.q.Pop(t)
		out = append(out[:0], r.resp...)
		done := r.close
		count := 0
		if r.resp != nil {
			count++
		}
		for !done && len(out) < cap(out)-256 {
			more, ok := c.q.TryPop(t)
			if !ok {
				break
			}
			out = append(out, more.resp...)
			if more.resp != nil {
				count++
			}
			done = more.close
		}
		for len(out) > 0 {
			n, err := t.Write(c.fd, out)
			if err != nil {
				c.finish(t, done)
				return
			}
			if c.tap != nil {
				c.tap.Wrote(c.id, out[:n])
			}
			out = out[n:]
		}
		c.srv.stats.Responses += uint64(count)
		if done {
			c.finish(t, true)
			return
		}
	}
}

// finish closes the connection. If the reader may still be running (the
// write failed), closing the fd ends its read, and the writer takes what it
// queues until its end marker so that it does not wait on a full queue.
func (c *conn) finish(t *sched.Thread, readerDone bool) {
	_ = t.Close(c.fd)
	delete(c.srv.conns, c)
	if c.tap != nil {
		c.tap.Closed(c.id)
	}
	for !readerDone {
		readerDone = c.q.Pop(t).close
	}
}
