package port_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/sysmsg/sysmsg/impl/port"
)

func newPort(t testing.TB, c port.Config) *port.Port {
	t.Helper()
	p, err := port.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func acquire(t testing.TB, p *port.Port) *port.Msg {
	t.Helper()
	m, mode := p.Acquire()
	if m == nil {
		t.Fatalf("no slot (mode %v, %d in flight)", mode, p.InFlight())
	}
	return m
}

// slotFreedOnlyOnReap reports what goes wrong, if anything, when a
// completed message's slot is wanted before its reap.
func slotFreedOnlyOnReap(p *port.Port) string {
	a, _ := p.Acquire()
	p.Acquire()
	p.Complete(a)
	if m, _ := p.Acquire(); m != nil {
		return "a slot was free after a completion, before the reap"
	}
	if n := p.InFlight(); n != 2 {
		return "in flight changed at the completion"
	}
	if _, ok := p.Reap(); !ok {
		return "no reply to reap"
	}
	if m, _ := p.Acquire(); m == nil {
		return "no slot after the reap"
	}
	return ""
}

func TestSlotFreedOnlyOnReap(t *testing.T) {
	if msg := slotFreedOnlyOnReap(newPort(t, port.Config{Cap: 2, Policy: port.Block})); msg != "" {
		t.Error(msg)
	}
}

func TestPollingModeAtCapUntilLow(t *testing.T) {
	ups := 0
	p := newPort(t, port.Config{Cap: 3, Low: port.Unset, Policy: port.Poll, Upcall: func() { ups++ }})
	if p.Low() != 1 {
		t.Fatalf("default low at cap 3 is %d, want 1", p.Low())
	}
	var ms []*port.Msg
	for i := range 3 {
		if p.Mode() != port.Messaging {
			t.Fatalf("polling before the cap, at %d in flight", i)
		}
		ms = append(ms, acquire(t, p))
	}
	if p.Mode() != port.Polling {
		t.Fatalf("mode %v at the cap, want polling", p.Mode())
	}
	if m, mode := p.Acquire(); m != nil || mode != port.Polling {
		t.Fatalf("a send in polling mode: %v %v", m, mode)
	}
	for _, m := range ms {
		p.Complete(m)
	}
	p.Reap()
	if p.Mode() != port.Polling || ups != 0 {
		t.Fatalf("left polling at 2 in flight, above low 1 (mode %v, upcalls %d)", p.Mode(), ups)
	}
	p.Reap()
	if p.Mode() != port.Messaging || ups != 1 {
		t.Fatalf("still %v at 1 in flight (upcalls %d), want messaging after one upcall", p.Mode(), ups)
	}
	if s := p.Stats(); s.ModeChanges != 2 || s.CapHits != 1 || s.MaxInFlight != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestStopAndBlockAtCap(t *testing.T) {
	p := newPort(t, port.Config{Cap: 2, Low: port.Unset, Policy: port.Stop})
	a, b := acquire(t, p), acquire(t, p)
	if p.Mode() != port.Stopped {
		t.Fatalf("stop: mode %v at the cap", p.Mode())
	}
	p.Complete(a)
	p.Complete(b)
	p.Reap()
	if p.Mode() != port.Stopped {
		t.Fatal("stop: resumed above low 0")
	}
	p.Reap()
	if p.Mode() != port.Messaging {
		t.Fatal("stop: not resumed at low")
	}

	q := newPort(t, port.Config{Cap: 1, Low: port.Unset, Policy: port.Block})
	m := acquire(t, q)
	if x, mode := q.Acquire(); x != nil || mode != port.Messaging {
		t.Fatalf("block: a second slot at cap 1 (%v, mode %v)", x, mode)
	}
	q.Complete(m)
	q.Reap()
	acquire(t, q)
}

// TestReapMsgTakesAnyReply: a reply reaped out of completion order leaves
// the others queued in their order, the tail included, and frees one slot;
// a message not waiting to be reaped is refused.
func TestReapMsgTakesAnyReply(t *testing.T) {
	p := newPort(t, port.Config{Cap: 4, Low: port.Unset, Policy: port.Block})
	a, b, c, d := acquire(t, p), acquire(t, p), acquire(t, p), acquire(t, p)
	for _, m := range []*port.Msg{a, b, c} {
		p.Complete(m)
	}
	sa, sb, sc := a.Seq, b.Seq, c.Seq
	if r, ok := p.ReapMsg(b); !ok || r.Seq != sb || p.InFlight() != 3 {
		t.Fatalf("reap of the middle reply: %+v %v, %d in flight", r, ok, p.InFlight())
	}
	if _, ok := p.ReapMsg(d); ok {
		t.Fatal("reaped a message still in flight")
	}
	if r, ok := p.ReapMsg(c); !ok || r.Seq != sc {
		t.Fatalf("reap of the last reply: %+v %v", r, ok)
	}
	p.Complete(d)
	if got := p.AppendReplies(nil); len(got) != 2 || got[0] != a || got[1] != d {
		t.Fatalf("replies after the out-of-order reaps: %v", got)
	}
	for _, want := range []uint64{sa, d.Seq} {
		if r, ok := p.Reap(); !ok || r.Seq != want {
			t.Fatalf("reap: %+v %v, want seq %d", r, ok, want)
		}
	}
	if p.InFlight() != 0 || p.Replies() != 0 || p.Outstanding() != 0 {
		t.Fatalf("%d in flight, %d replies, %d outstanding after every reap", p.InFlight(), p.Replies(), p.Outstanding())
	}
}

func TestPollNoHystLowIsCapMinusOne(t *testing.T) {
	p := newPort(t, port.Config{Cap: 4, Low: 0, Policy: port.PollNoHyst})
	if p.Low() != 3 {
		t.Fatalf("low %d, want 3", p.Low())
	}
}

func TestUnlimitedNeverPolls(t *testing.T) {
	p := newPort(t, port.Config{Cap: port.Unlimited, Low: port.Unset, Policy: port.Poll})
	for range 5000 {
		acquire(t, p)
	}
	if p.Mode() != port.Messaging || p.Stats().CapHits != 0 {
		t.Fatal("an unlimited cap was reached")
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []port.Config{
		{Cap: 0},
		{Cap: -2},
		{Cap: 2, Low: 2},
		{Cap: 1, Low: 1, Policy: port.Poll},
		{Cap: 2, Policy: port.Policy(9)},
	} {
		if _, err := port.New(c); !errors.Is(err, port.ErrConfig) {
			t.Errorf("%+v: error %v, want ErrConfig", c, err)
		}
	}
}

func TestCompletedTwicePanics(t *testing.T) {
	p := newPort(t, port.Config{Cap: 2, Policy: port.Poll})
	m := acquire(t, p)
	p.Complete(m)
	defer func() {
		if recover() == nil {
			t.Error("a second completion was accepted")
		}
	}()
	p.Complete(m)
}

// TestConcurrentCompletions: kernel goroutines complete while the owner
// sends and reaps; every message is reaped once and nothing leaks. Run it
// with -race.
func TestConcurrentCompletions(t *testing.T) {
	const n, workers = 20000, 4
	p := newPort(t, port.Config{Cap: 64, Low: port.Unset, Policy: port.Poll})
	work := make(chan *port.Msg, 64)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for m := range work {
				m.Res = int64(m.Seq)
				p.Complete(m)
			}
		})
	}
	seen := make(map[uint64]bool)
	sent := 0
	for len(seen) < n {
		if sent < n {
			if m, _ := p.Acquire(); m != nil {
				sent++
				work <- m
				continue
			}
		}
		if r, ok := p.Reap(); ok {
			if seen[r.Seq] || r.Res != int64(r.Seq) {
				t.Fatalf("reply %d: seen %v, res %d", r.Seq, seen[r.Seq], r.Res)
			}
			seen[r.Seq] = true
		} else {
			<-p.Notify()
		}
	}
	close(work)
	wg.Wait()
	if p.InFlight() != 0 || p.Outstanding() != 0 {
		t.Fatalf("after the run: %d in flight, %d outstanding", p.InFlight(), p.Outstanding())
	}
}
