package sched_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
)

// instant is a kernel that completes every message inside Submit and lets
// every attempt through: the scheduler's own costs, with no I/O.
type instant struct{}

func (instant) Submit(m *port.Msg) {
	if m.Op == port.OpCancel {
		m.Port().NoteCancel(int32(m.Arg), false) // it holds nothing to cancel
	}
	m.Res = int64(len(m.Buf))
	m.Port().Complete(m)
}
func (instant) Try(m *port.Msg) bool                { m.Res = int64(len(m.Buf)); return true }
func (instant) Cancel(*port.Msg) bool               { return false }
func (instant) CancelThread(*port.Port, int32) bool { return false }

func newSched(t testing.TB, c port.Config) *sched.Scheduler {
	t.Helper()
	s, err := sched.New(sched.Config{Name: "p", Port: c, Kernel: instant{}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drive steps and reaps until nothing is left.
func drive(s *sched.Scheduler) {
	for {
		for s.Reap() {
		}
		if !s.Step() {
			return
		}
	}
}

// TestRoundRobin: threads that yield run in turn, in the order they were
// started: a polling thread cannot starve the others.
func TestRoundRobin(t *testing.T) {
	s := newSched(t, port.Config{Cap: 2, Policy: port.Poll})
	var order []string
	for _, name := range []string{"a", "b", "c"} {
		s.Go(name, func(th *sched.Thread) {
			for range 3 {
				order = append(order, th.Name())
				th.Yield()
			}
		})
	}
	drive(s)
	if got := fmt.Sprint(order); got != "[a b c a b c a b c]" {
		t.Fatalf("order %s", got)
	}
	if !s.Finished() {
		t.Fatal("not finished")
	}
}

// TestQueueAndWait: a user-level queue hands values between threads in
// order, waiting in userland; Wait collects submitted calls' results.
func TestQueueAndWait(t *testing.T) {
	s := newSched(t, port.Config{Cap: 2, Policy: port.Poll})
	q := sched.NewQueue[int]("q", 1)
	var got []int
	s.Go("producer", func(th *sched.Thread) {
		for i := range 4 {
			q.Push(th, i)
		}
	})
	s.Go("consumer", func(th *sched.Thread) {
		for range 4 {
			got = append(got, q.Pop(th))
		}
		th.Submit(port.OpWrite, 0, make([]byte, 3))
		th.Submit(port.OpWrite, 0, make([]byte, 5))
		a, b := th.Wait(), th.Wait()
		got = append(got, a.N, b.N)
	})
	drive(s)
	if fmt.Sprint(got) != "[0 1 2 3 3 5]" {
		t.Fatalf("got %v", got)
	}
	if st := s.Stats(); st.Sends != 2 || st.Reaps != 2 || s.Port().Outstanding() != 0 {
		t.Fatalf("stats %+v, outstanding %d", st, s.Port().Outstanding())
	}
}

// TestCancelledThreadsNextCallReturnsAtOnce: a cancel of a thread with
// nothing in flight makes its next system call return ECANCELED without a
// message.
func TestCancelledThreadsNextCallReturnsAtOnce(t *testing.T) {
	s := newSched(t, port.Config{Cap: 2, Policy: port.Poll})
	var err error
	var target *sched.Thread
	s.Go("canceller", func(th *sched.Thread) { _ = th.Cancel(target) })
	target = s.Go("target", func(th *sched.Thread) { _, err = th.Write(0, []byte("x")) })
	drive(s)
	if err != syscall.ECANCELED {
		t.Fatalf("target's write: %v, want ECANCELED", err)
	}
	if st := s.Stats(); st.Sends != 1 { // the cancel only
		t.Fatalf("%d sends, want 1", st.Sends)
	}
}

// TestStepThreadAndReapMsgPickAny: StepThread runs a thread that is not at
// the head of the run queue, the others keeping their order, and ReapMsg
// hands a reply that is not the oldest to the thread that sent it.
func TestStepThreadAndReapMsgPickAny(t *testing.T) {
	s := newSched(t, port.Config{Cap: 3, Policy: port.Block})
	var order []string
	var ths []*sched.Thread
	for _, name := range []string{"a", "b", "c"} {
		ths = append(ths, s.Go(name, func(th *sched.Thread) {
			order = append(order, th.Name())
			n, _ := th.Write(0, make([]byte, len(th.Name())+int(th.ID())))
			order = append(order, fmt.Sprintf("%s:%d", th.Name(), n))
		}))
	}
	if !s.StepThread(ths[2]) || s.StepThread(ths[2]) {
		t.Fatal("StepThread: c should run once, then be parked")
	}
	s.Step()
	s.Step()
	// Every write completed at its send, in the order a, b, c ran: c, a, b.
	replies := s.Port().AppendReplies(nil)
	if len(replies) != 3 || !s.ReapMsg(replies[1]) {
		t.Fatalf("replies %v: the middle one should be reaped", replies)
	}
	if q := s.RunQueue(); len(q) != 1 || q[0] != ths[0] {
		t.Fatalf("run queue after reaping a's reply: %v", q)
	}
	drive(s)
	if got := fmt.Sprint(order); got != "[c a b a:1 c:3 b:2]" {
		t.Fatalf("order %s", got)
	}
}

// BenchmarkSyscall is one synchronous system call through the scheduler:
// send, park (the baton goes back), reap, resume. Its cost is mostly the
// two goroutine switches.
func BenchmarkSyscall(b *testing.B) {
	s := newSched(b, port.Config{Cap: 2, Policy: port.Poll})
	buf := make([]byte, 1)
	n := b.N
	s.Go("t", func(th *sched.Thread) {
		for range n {
			_, _ = th.Write(0, buf)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	drive(s)
}
