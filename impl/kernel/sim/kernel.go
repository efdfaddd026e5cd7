package sim

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/sysmsg/sysmsg/impl/port"
)

// ErrBadFD is returned for an fd the kernel did not make.
var ErrBadFD = errors.New("sim: bad file descriptor")

// channel is one direction of a pipe or connection: a ring of bytes.
type channel struct {
	name   string
	buf    []byte
	head   int
	n      int
	closed bool
}

func newChannel(name string, capacity int) *channel {
	return &channel{name: name, buf: make([]byte, max(capacity, 1))}
}

func (c *channel) room() int { return len(c.buf) - c.n }

func (c *channel) take(p []byte) int {
	k := min(len(p), c.n)
	for i := range k {
		p[i] = c.buf[(c.head+i)%len(c.buf)]
	}
	c.head = (c.head + k) % len(c.buf)
	c.n -= k
	return k
}

func (c *channel) put(p []byte) int {
	k := min(len(p), c.room())
	for i := range k {
		c.buf[(c.head+c.n+i)%len(c.buf)] = p[i]
	}
	c.n += k
	return k
}

type listener struct {
	name    string
	pending []int // accepted-side fds of connections not yet accepted
	conns   int
}

// file is what an fd refers to: the channel it reads, the one it writes,
// or a listener.
type file struct {
	name string
	in   *channel
	out  *channel
	lst  *listener
}

// Kernel is the simulated kernel. It is not safe for concurrent use: the
// [World] drives it from one goroutine at a time (threads hold the baton).
type Kernel struct {
	files    []*file
	inflight []*port.Msg // pending messages, in send order
	// OnComplete, if set, is called with each message just after its
	// completion is posted, cancellations included: the World's log.
	OnComplete func(m *port.Msg)
}

// New makes an empty kernel.
func New() *Kernel { return &Kernel{} }

func (k *Kernel) add(f *file) int {
	k.files = append(k.files, f)
	return len(k.files) - 1
}

// NewPipe makes a one-way pipe holding up to capacity bytes and returns its
// read and write ends.
func (k *Kernel) NewPipe(name string, capacity int) (r, w int) {
	c := newChannel(name, capacity)
	return k.add(&file{name: name, in: c}), k.add(&file{name: name, out: c})
}

// NewConn makes a connection, each direction holding up to capacity bytes,
// and returns the process's end and the peer's end.
func (k *Kernel) NewConn(name string, capacity int) (local, remote int) {
	in := newChannel(name+" inbound", capacity)
	out := newChannel(name+" outbound", capacity)
	return k.add(&file{name: name, in: in, out: out}), k.add(&file{name: name + " (peer)", in: out, out: in})
}

// Listen makes a listening socket.
func (k *Kernel) Listen(name string) int {
	return k.add(&file{name: name, lst: &listener{name: name}})
}

// Connect makes a connection to listener l, pending until accepted, and
// returns the peer's end.
func (k *Kernel) Connect(l int, capacity int) (int, error) {
	f, err := k.file(l)
	if err != nil || f.lst == nil {
		return -1, fmt.Errorf("%w: %d is not a listener", ErrBadFD, l)
	}
	f.lst.conns++
	local, remote := k.NewConn(fmt.Sprintf("%s#%d", f.name, f.lst.conns), capacity)
	f.lst.pending = append(f.lst.pending, local)
	return remote, nil
}

func (k *Kernel) file(fd int) (*file, error) {
	if fd < 0 || fd >= len(k.files) {
		return nil, fmt.Errorf("%w: %d", ErrBadFD, fd)
	}
	return k.files[fd], nil
}

// Name names an fd, for dumps.
func (k *Kernel) Name(fd int) string {
	f, err := k.file(fd)
	if err != nil {
		return fmt.Sprintf("fd %d", fd)
	}
	return f.name
}

// Can reports whether op on fd can proceed now: a read when there is data
// or end-of-file, a write when there is room (or the channel is closed, when
// it fails at once), an accept when a connection is pending; the rest always.
func (k *Kernel) Can(op port.Op, fd int) bool {
	f, err := k.file(fd)
	switch op {
	case port.OpRead:
		return err != nil || f.in == nil || f.in.n > 0 || f.in.closed
	case port.OpWrite:
		return err != nil || f.out == nil || f.out.closed || f.out.room() > 0
	case port.OpAccept:
		return err != nil || f.lst == nil || len(f.lst.pending) > 0
	}
	return true
}

// Do performs op on fd now, outside every cap, if it can proceed, and
// returns the result. It is a peer's system call, and the polling attempt.
func (k *Kernel) Do(op port.Op, fd int, buf []byte) (res int64, ok bool) {
	if !k.Can(op, fd) {
		return 0, false
	}
	f, err := k.file(fd)
	if err != nil && op != port.OpSleep && op != port.OpCancel {
		return port.Errno(syscall.EBADF), true
	}
	switch op {
	case port.OpRead:
		if f.in == nil {
			return port.Errno(syscall.EBADF), true
		}
		return int64(f.in.take(buf)), true
	case port.OpWrite:
		switch {
		case f.out == nil:
			return port.Errno(syscall.EBADF), true
		case f.out.closed:
			return port.Errno(syscall.EPIPE), true
		}
		return int64(f.out.put(buf)), true
	case port.OpAccept:
		if f.lst == nil {
			return port.Errno(syscall.EINVAL), true
		}
		fd := f.lst.pending[0]
		f.lst.pending = f.lst.pending[1:]
		return int64(fd), true
	case port.OpClose, port.OpShutdown:
		// A close closes what the fd writes (a pipe's write end, a
		// connection's outbound side), or what it reads if it writes
		// nothing (a pipe's read end): docs/model.md, close.
		if f.out != nil {
			f.out.closed = true
		} else if f.in != nil {
			f.in.closed = true
		}
		return 0, true
	}
	return 0, true // sleep, cancel: at once (time is not simulated)
}

// Submit records an in-flight message. Nothing completes it until the
// driver calls [Kernel.Complete] (or [Kernel.Cancel]).
func (k *Kernel) Submit(m *port.Msg) { k.inflight = append(k.inflight, m) }

// Try is the polling-mode attempt: [Kernel.Do] on m's operation.
func (k *Kernel) Try(m *port.Msg) bool {
	res, ok := k.Do(m.Op, int(m.FD), m.Buf)
	if ok {
		m.Res = res
	}
	return ok
}

// Cancel completes m with ECANCELED if it is pending.
func (k *Kernel) Cancel(m *port.Msg) bool {
	i := k.index(m)
	if i < 0 {
		return false
	}
	k.remove(i)
	m.Res = port.Errno(syscall.ECANCELED)
	k.post(m)
	return true
}

// Pending lists the messages sent and not completed, in send order. The
// slice is the kernel's own: read it before the next step.
func (k *Kernel) Pending() []*port.Msg { return k.inflight }

// Completable reports whether m's operation can proceed now.
func (k *Kernel) Completable(m *port.Msg) bool { return k.Can(m.Op, int(m.FD)) }

// Complete performs a pending message's operation and posts the reply. It
// reports false, doing nothing, if m is not pending or cannot proceed.
func (k *Kernel) Complete(m *port.Msg) bool {
	i := k.index(m)
	if i < 0 || !k.Completable(m) {
		return false
	}
	k.remove(i)
	if m.Op == port.OpCancel {
		// The cancel's effect, at its completion: the target's messages
		// first, then the note for the scheduler, then the cancel's reply.
		hit := k.CancelThread(m.Port(), int32(m.Arg))
		m.Port().NoteCancel(int32(m.Arg), hit)
		m.Res = 0
	} else {
		m.Res, _ = k.Do(m.Op, int(m.FD), m.Buf)
	}
	k.post(m)
	return true
}

// CancelThread completes with ECANCELED every pending message of thread on
// p, in send order, and reports whether there was one.
func (k *Kernel) CancelThread(p *port.Port, thread int32) bool {
	hit := false
	for i := 0; i < len(k.inflight); {
		m := k.inflight[i]
		if m.Port() == p && m.Thread == thread {
			k.remove(i)
			m.Res = port.Errno(syscall.ECANCELED)
			k.post(m)
			hit = true
			continue
		}
		i++
	}
	return hit
}

func (k *Kernel) post(m *port.Msg) {
	m.Port().Complete(m)
	if k.OnComplete != nil {
		k.OnComplete(m) // m stays valid until it is reaped
	}
}

// Why says why a pending message has not completed, for dumps.
func (k *Kernel) Why(m *port.Msg) string {
	if k.index(m) < 0 {
		return ""
	}
	if k.Completable(m) {
		return "can complete"
	}
	f, _ := k.file(int(m.FD))
	switch m.Op {
	case port.OpRead:
		return f.in.name + " is empty"
	case port.OpWrite:
		return f.out.name + " is full"
	case port.OpAccept:
		return "no connection waiting on " + f.name
	}
	return ""
}

func (k *Kernel) index(m *port.Msg) int {
	for i, x := range k.inflight {
		if x == m {
			return i
		}
	}
	return -1
}

func (k *Kernel) remove(i int) {
	k.inflight = append(k.inflight[:i], k.inflight[i+1:]...)
}
