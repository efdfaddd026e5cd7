package sim_test

import (
	"syscall"
	"testing"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/port"
)

// TestCompletionWaitsForItsOperation: a read completes only once there is
// data or end-of-file, a write only while there is room, and nothing
// completes by itself.
func TestCompletionWaitsForItsOperation(t *testing.T) {
	k := sim.New()
	r, w := k.NewPipe("p", 1)
	p, err := port.New(port.Config{Cap: port.Unlimited, Policy: port.Poll})
	if err != nil {
		t.Fatal(err)
	}
	send := func(op port.Op, fd int) *port.Msg {
		m, _ := p.Acquire()
		m.Op, m.FD, m.Buf = op, int32(fd), make([]byte, 1)
		k.Submit(m)
		return m
	}
	rd := send(port.OpRead, r)
	if k.Completable(rd) || k.Complete(rd) || p.Replies() != 0 {
		t.Fatal("a read of an empty pipe completed")
	}
	if why := k.Why(rd); why != "p is empty" {
		t.Fatalf("why: %q", why)
	}
	w1, w2 := send(port.OpWrite, w), send(port.OpWrite, w)
	if !k.Complete(w1) || k.Completable(w2) {
		t.Fatal("capacity 1: the first write must go, the second wait")
	}
	if !k.Complete(rd) || !k.Complete(w2) {
		t.Fatal("the read and then the second write should complete")
	}
	if res, ok := k.Do(port.OpClose, w, nil); !ok || res != 0 {
		t.Fatal("close")
	}
	// The pipe holds one item, then end-of-file.
	buf := make([]byte, 1)
	if res, ok := k.Do(port.OpRead, r, buf); !ok || res != 1 {
		t.Fatalf("read after close: %d %v", res, ok)
	}
	if res, ok := k.Do(port.OpRead, r, buf); !ok || res != 0 {
		t.Fatalf("end-of-file: %d %v", res, ok)
	}
	if res, ok := k.Do(port.OpWrite, w, buf); !ok || res != port.Errno(syscall.EPIPE) {
		t.Fatalf("write to a closed pipe: %d %v", res, ok)
	}
	if p.Replies() != 3 {
		t.Fatalf("%d replies, want 3", p.Replies())
	}
}

// TestSendsFirstPrefersThreads: the chooser takes the first choice of the
// lowest kind.
func TestSendsFirstPrefersThreads(t *testing.T) {
	cs := []sim.Choice{{Kind: sim.ReapReply}, {Kind: sim.CompleteMsg}, {Kind: sim.RunThread, Proc: 1}, {Kind: sim.RunThread}}
	if i := sim.SendsFirst().Choose(cs); i != 2 {
		t.Fatalf("picked %d, want 2", i)
	}
	a, b := sim.Random(7), sim.Random(7)
	for range 20 {
		if a.Choose(cs) != b.Choose(cs) {
			t.Fatal("the same seed chose differently")
		}
	}
}
