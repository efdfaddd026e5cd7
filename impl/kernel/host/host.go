//go:build linux

package host

import (
	"container/heap"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/impl/port"
	"golang.org/x/sys/unix"
)

// ErrClosed is returned by a Kernel's methods after Close.
var ErrClosed = errors.New("host: kernel closed")

// waitList is a FIFO of messages linked through Msg.Next.
type waitList struct{ head, tail *port.Msg }

func (l *waitList) empty() bool { return l.head == nil }

func (l *waitList) push(m *port.Msg) {
	m.Next = nil
	if l.tail == nil {
		l.head = m
	} else {
		l.tail.Next = m
	}
	l.tail = m
}

func (l *waitList) pop() *port.Msg {
	m := l.head
	l.head = m.Next
	if l.head == nil {
		l.tail = nil
	}
	m.Next = nil
	return m
}

// remove unlinks m and reports whether it was there.
func (l *waitList) remove(m *port.Msg) bool {
	var prev *port.Msg
	for x := l.head; x != nil; prev, x = x, x.Next {
		if x != m {
			continue
		}
		if prev == nil {
			l.head = x.Next
		} else {
			prev.Next = x.Next
		}
		if l.tail == x {
			l.tail = prev
		}
		x.Next = nil
		return true
	}
	return false
}

// file is a registered descriptor and the messages waiting on it.
type file struct {
	readers waitList // reads and accepts
	writers waitList
}

// sleepHeap orders sleeping messages by deadline.
type sleepHeap []*port.Msg

func (h sleepHeap) Len() int           { return len(h) }
func (h sleepHeap) Less(i, j int) bool { return h[i].Arg < h[j].Arg }
func (h sleepHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sleepHeap) Push(x any)        { *h = append(*h, x.(*port.Msg)) }
func (h *sleepHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return m
}

// Kernel is the host back end. It is safe for concurrent use: schedulers
// submit from their goroutines, and its own goroutine completes.
type Kernel struct {
	epfd, evfd int

	mu      sync.Mutex
	files   []*file // by fd
	sleeps  sleepHeap
	closing bool
	done    chan struct{}
}

// New makes a kernel and starts its epoll goroutine.
func New() (*Kernel, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("host: epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("host: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(evfd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, fmt.Errorf("host: epoll_ctl: %w", err)
	}
	k := &Kernel{epfd: epfd, evfd: evfd, done: make(chan struct{})}
	go k.loop()
	return k, nil
}

// Register makes fd non-blocking and watches it (edge-triggered) so that
// messages on it complete when it is ready.
func (k *Kernel) Register(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return fmt.Errorf("host: set non-blocking fd %d: %w", fd, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.registerLocked(fd)
}

func (k *Kernel) registerLocked(fd int) error {
	if k.closing {
		return ErrClosed
	}
	for fd >= len(k.files) {
		k.files = append(k.files, nil)
	}
	if k.files[fd] != nil {
		return nil
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(k.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("host: epoll_ctl add fd %d: %w", fd, err)
	}
	k.files[fd] = &file{}
	return nil
}

// Forget stops watching fd, which its owner is about to close, and
// completes its waiting messages with EBADF.
func (k *Kernel) Forget(fd int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.forgetLocked(fd, port.Errno(syscall.EBADF))
}

func (k *Kernel) forgetLocked(fd int, res int64) {
	f := k.fileOf(fd)
	if f == nil {
		return
	}
	for _, l := range []*waitList{&f.readers, &f.writers} {
		for !l.empty() {
			m := l.pop()
			m.Res = res
			m.Port().Complete(m)
		}
	}
	_ = unix.EpollCtl(k.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	k.files[fd] = nil
}

func (k *Kernel) fileOf(fd int) *file {
	if fd < 0 || fd >= len(k.files) {
		return nil
	}
	return k.files[fd]
}

// Close stops the epoll goroutine and completes every waiting message with
// ECANCELED. It closes no registered descriptor: their owners do.
func (k *Kernel) Close() error {
	k.mu.Lock()
	if k.closing {
		k.mu.Unlock()
		return nil
	}
	k.closing = true
	k.mu.Unlock()
	k.wake()
	<-k.done
	k.mu.Lock()
	for fd := range k.files {
		k.forgetLocked(fd, port.Errno(syscall.ECANCELED))
	}
	for len(k.sleeps) > 0 {
		m := heap.Pop(&k.sleeps).(*port.Msg)
		m.Res = port.Errno(syscall.ECANCELED)
		m.Port().Complete(m)
	}
	k.mu.Unlock()
	unix.Close(k.evfd)
	return unix.Close(k.epfd)
}

func (k *Kernel) wake() {
	one := [8]byte{1}
	_, _ = unix.Write(k.evfd, one[:])
}

// do runs m's operation once, non-blocking. It reports would-block, or the
// result. Called with k.mu held.
func (k *Kernel) do(m *port.Msg) (res int64, wouldBlock bool) {
	fd := int(m.FD)
	for {
		var n int
		var err error
		switch m.Op {
		case port.OpRead:
			n, err = unix.Read(fd, m.Buf)
		case port.OpWrite:
			n, err = unix.Write(fd, m.Buf)
		case port.OpAccept:
			n, _, err = unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			if err == nil {
				if rerr := k.registerLocked(n); rerr != nil {
					unix.Close(n)
					return port.Errno(syscall.EMFILE), false
				}
			}
		case port.OpClose:
			k.forgetLocked(fd, port.Errno(syscall.EBADF))
			err = unix.Close(fd)
		case port.OpShutdown:
			err = unix.Shutdown(fd, unix.SHUT_WR)
			if f := k.fileOf(fd); f != nil {
				defer k.drain(&f.writers) // they fail now with EPIPE
			}
		case port.OpSleep:
			if time.Now().UnixNano() < m.Arg {
				return 0, true
			}
		case port.OpCancel:
			hit := k.cancelThreadLocked(m.Port(), int32(m.Arg))
			m.Port().NoteCancel(int32(m.Arg), hit)
		default:
			err = syscall.EINVAL
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, true
		case err != nil:
			var en syscall.Errno
			if errors.As(err, &en) {
				return port.Errno(en), false
			}
			return port.Errno(syscall.EIO), false
		}
		return int64(n), false
	}
}

// list is the wait list m's operation joins on its descriptor, or nil if
// the descriptor is not registered.
func (k *Kernel) list(m *port.Msg) *waitList {
	f := k.fileOf(int(m.FD))
	if f == nil {
		return nil
	}
	if m.Op == port.OpWrite {
		return &f.writers
	}
	return &f.readers
}

// Submit takes an in-flight message. It runs the operation at once if it
// can proceed and nothing is queued before it; otherwise the message waits
// for its descriptor (or deadline) and the epoll goroutine completes it.
func (k *Kernel) Submit(m *port.Msg) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closing {
		m.Res = port.Errno(syscall.ECANCELED)
		m.Port().Complete(m)
		return
	}
	switch m.Op {
	case port.OpRead, port.OpWrite, port.OpAccept:
		l := k.list(m)
		if l == nil {
			m.Res = port.Errno(syscall.EBADF)
			m.Port().Complete(m)
			return
		}
		if l.empty() {
			if res, wb := k.do(m); !wb {
				m.Res = res
				m.Port().Complete(m)
				return
			}
		}
		l.push(m)
	case port.OpSleep:
		if res, wb := k.do(m); !wb {
			m.Res = res
			m.Port().Complete(m)
			return
		}
		heap.Push(&k.sleeps, m)
		k.wake() // the epoll timeout may need to be shorter
	default:
		m.Res, _ = k.do(m)
		m.Port().Complete(m)
	}
}

// Try is the polling-mode attempt: the operation once, non-blocking.
func (k *Kernel) Try(m *port.Msg) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if m.Op == port.OpRead || m.Op == port.OpWrite || m.Op == port.OpAccept {
		if k.list(m) == nil {
			m.Res = port.Errno(syscall.EBADF)
			return true
		}
	}
	res, wb := k.do(m)
	if wb {
		return false
	}
	m.Res = res
	return true
}

// Cancel completes m with ECANCELED if it is waiting.
func (k *Kernel) Cancel(m *port.Msg) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cancelLocked(m)
}

func (k *Kernel) cancelLocked(m *port.Msg) bool {
	found := false
	if m.Op == port.OpSleep {
		for i, x := range k.sleeps {
			if x == m {
				heap.Remove(&k.sleeps, i)
				found = true
				break
			}
		}
	} else if l := k.list(m); l != nil {
		found = l.remove(m)
	}
	if found {
		m.Res = port.Errno(syscall.ECANCELED)
		m.Port().Complete(m)
	}
	return found
}

// CancelThread completes with ECANCELED every waiting message of thread on
// p, and reports whether there was one. It scans every descriptor: cancels
// are rare, waiting messages cost nothing extra for them.
func (k *Kernel) CancelThread(p *port.Port, thread int32) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cancelThreadLocked(p, thread)
}

func (k *Kernel) cancelThreadLocked(p *port.Port, thread int32) bool {
	var victims []*port.Msg
	for _, f := range k.files {
		if f == nil {
			continue
		}
		for _, l := range []*waitList{&f.readers, &f.writers} {
			for x := l.head; x != nil; x = x.Next {
				if x.Port() == p && x.Thread == thread {
					victims = append(victims, x)
				}
			}
		}
	}
	for _, x := range k.sleeps {
		if x.Port() == p && x.Thread == thread {
			victims = append(victims, x)
		}
	}
	for _, x := range victims {
		k.cancelLocked(x)
	}
	return len(victims) > 0
}

// Why says what a waiting message waits for, for dumps.
func (k *Kernel) Why(m *port.Msg) string {
	switch m.Op {
	case port.OpRead:
		return "waiting for data"
	case port.OpWrite:
		return "waiting for room"
	case port.OpAccept:
		return "waiting for a connection"
	case port.OpSleep:
		return "sleeping"
	}
	return ""
}

// drain retries the waiters of l in order until one would block, and
// completes those that went through. Called with k.mu held.
func (k *Kernel) drain(l *waitList) {
	for !l.empty() {
		m := l.head
		res, wb := k.do(m)
		if wb {
			return
		}
		l.pop()
		m.Res = res
		m.Port().Complete(m)
	}
}

func (k *Kernel) loop() {
	defer close(k.done)
	events := make([]unix.EpollEvent, 128)
	var buf [8]byte
	for {
		timeout := -1
		k.mu.Lock()
		if len(k.sleeps) > 0 {
			d := time.Until(time.Unix(0, k.sleeps[0].Arg))
			timeout = max(int((d+time.Millisecond-1)/time.Millisecond), 0)
		}
		k.mu.Unlock()
		n, err := unix.EpollWait(k.epfd, events, timeout)
		if err != nil && err != syscall.EINTR {
			panic(fmt.Sprintf("host: epoll_wait: %v", err))
		}
		k.mu.Lock()
		if k.closing {
			k.mu.Unlock()
			return
		}
		for _, ev := range events[:max(n, 0)] {
			fd := int(ev.Fd)
			if fd == k.evfd {
				_, _ = unix.Read(k.evfd, buf[:])
				continue
			}
			f := k.fileOf(fd)
			if f == nil {
				continue
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				k.drain(&f.readers)
			}
			if ev.Events&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				k.drain(&f.writers)
			}
		}
		now := time.Now().UnixNano()
		for len(k.sleeps) > 0 && k.sleeps[0].Arg <= now {
			m := heap.Pop(&k.sleeps).(*port.Msg)
			m.Res = 0
			m.Port().Complete(m)
		}
		k.mu.Unlock()
	}
}
