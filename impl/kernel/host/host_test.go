//go:build linux

package host_test

import (
	"errors"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/impl/kernel/host"
	"github.com/sysmsg/sysmsg/impl/port"
	"golang.org/x/sys/unix"
)

func setup(t *testing.T) (*host.Kernel, *port.Port) {
	t.Helper()
	k, err := host.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	p, err := port.New(port.Config{Cap: port.Unlimited, Policy: port.Poll})
	if err != nil {
		t.Fatal(err)
	}
	return k, p
}

// reap waits (bounded) for one reply.
func reap(t *testing.T, p *port.Port) port.Reply {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if r, ok := p.Reap(); ok {
			return r
		}
		select {
		case <-p.Notify():
		case <-deadline:
			t.Fatal("no reply within 5s")
		}
	}
}

func send(t *testing.T, k *host.Kernel, p *port.Port, op port.Op, fd int, buf []byte) *port.Msg {
	t.Helper()
	m, _ := p.Acquire()
	m.Op, m.FD, m.Buf = op, int32(fd), buf
	k.Submit(m)
	return m
}

// TestReadCompletesWhenDataArrives: a read of an empty pipe waits in the
// kernel, and the epoll goroutine completes it when a write arrives.
func TestReadCompletesWhenDataArrives(t *testing.T) {
	k, p := setup(t)
	r, w, err := k.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(r)
	defer unix.Close(w)
	buf := make([]byte, 8)
	send(t, k, p, port.OpRead, r, buf)
	if p.Replies() != 0 {
		t.Fatal("a read of an empty pipe completed")
	}
	if n, err := unix.Write(w, []byte("hi")); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	if rep := reap(t, p); rep.Res != 2 || string(buf[:2]) != "hi" {
		t.Fatalf("reply %+v, buf %q", rep, buf[:2])
	}
	// Polling: an attempt on the empty pipe would block.
	var a port.Msg
	port.Scratch(&a)
	a.Op, a.FD, a.Buf = port.OpRead, int32(r), buf
	if k.Try(&a) {
		t.Fatal("an attempt on an empty pipe went through")
	}
}

// TestCancelAndSleep: a cancelled read completes with ECANCELED; a sleep
// completes after its deadline.
func TestCancelAndSleep(t *testing.T) {
	k, p := setup(t)
	local, remote, err := k.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(local)
	defer unix.Close(remote)
	m := send(t, k, p, port.OpRead, local, make([]byte, 1))
	m.Thread = 3
	if !k.CancelThread(p, 3) {
		t.Fatal("nothing cancelled")
	}
	if rep := reap(t, p); !errors.Is(port.ResErr(rep.Res), syscall.ECANCELED) {
		t.Fatalf("reply %+v", rep)
	}
	s, _ := p.Acquire()
	s.Op, s.Arg = port.OpSleep, time.Now().Add(20*time.Millisecond).UnixNano()
	k.Submit(s)
	rep := reap(t, p)
	if rep.Op != port.OpSleep || rep.Res != 0 || time.Now().UnixNano() < s.Arg {
		t.Fatalf("sleep reply %+v", rep)
	}
}

// TestAcceptOnLoopback: an accept completes with a new registered fd when
// a client connects to 127.0.0.1.
func TestAcceptOnLoopback(t *testing.T) {
	k, p := setup(t)
	lfd, pt, err := k.ListenTCP([4]byte{127, 0, 0, 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lfd)
	send(t, k, p, port.OpAccept, lfd, nil)
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	if err := unix.Connect(c, &unix.SockaddrInet4{Port: pt, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	rep := reap(t, p)
	if rep.Res < 0 {
		t.Fatal(port.ResErr(rep.Res))
	}
	nfd := int(rep.Res)
	defer unix.Close(nfd)
	unix.Write(c, []byte("x"))
	buf := make([]byte, 4)
	send(t, k, p, port.OpRead, nfd, buf)
	if rep := reap(t, p); rep.Res != 1 {
		t.Fatalf("read on the accepted fd: %+v", rep)
	}
}

// BenchmarkInFlight100k holds 100,000 reads in flight on one pipe (waiting
// in the kernel, with their port) and reports the heap bytes each costs.
func BenchmarkInFlight100k(b *testing.B) {
	const n = 100_000
	var perMsg float64
	for b.Loop() {
		k, err := host.New()
		if err != nil {
			b.Fatal(err)
		}
		r, w, err := k.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p, _ := port.New(port.Config{Cap: port.Unlimited, Policy: port.Poll})
		buf := make([]byte, 1)
		for range n {
			m, _ := p.Acquire()
			m.Op, m.FD, m.Buf = port.OpRead, int32(r), buf
			k.Submit(m)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if p.InFlight() != n || p.Replies() != 0 {
			b.Fatal(p.InFlight(), p.Replies())
		}
		perMsg = float64(after.HeapAlloc-before.HeapAlloc) / n
		k.Close() // completes them all with ECANCELED
		for {
			if _, ok := p.Reap(); !ok {
				break
			}
		}
		unix.Close(r)
		unix.Close(w)
	}
	b.ReportMetric(perMsg, "bytes/msg")
}
