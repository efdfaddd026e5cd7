package properties_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/sysmsg/sysmsg/impl/port"
	spec "github.com/sysmsg/sysmsg/model/port"
)

// errNotLinearizable is wrapped when porcupine finds no linearization;
// errUnknown when it ran out of time, which is no pass.
var (
	errNotLinearizable = errors.New("properties: the port's history is not linearizable")
	errUnknown         = errors.New("properties: linearizability unknown: the check ran out of time")
)

// opKind is an operation on the port, as the history records it.
type opKind uint8

const (
	opSend opKind = iota
	opComplete
	opReap
	opMode
	opInFlight
	opReplies
)

// opResult is what an operation returned: for a send, whether it went and
// the mode Acquire reported; for a reap, whether it took a reply and
// whether the upcall ran; for a query, its answer.
type opResult struct {
	went, ok, left bool
	mode           port.Mode
	n              int
}

// portModel is the spec as a porcupine model: its state is a spec.State
// and Step is the spec's transition for the operation, accepting it only
// when the spec's outcome is the one the port returned. A completion is
// "one more reply" because the spec counts; the port names the message,
// but nothing of it but counts can be observed.
func portModel(cfg spec.Config) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return spec.State{} },
		Step: func(state, input, output any) (bool, any) {
			s, out := state.(spec.State), output.(opResult)
			switch input.(opKind) {
			case opSend:
				next, o := cfg.Send(s)
				return sendAgrees(o, out.went, out.mode), next
			case opComplete:
				next, err := cfg.Complete(s)
				return err == nil, next
			case opReap:
				next, o, err := cfg.Reap(s)
				if !out.ok {
					return err != nil, s
				}
				return err == nil && out.left == (o == spec.ReapedLeft), next
			case opMode:
				m, ok := specMode(out.mode)
				return ok && m == s.Mode, s
			case opInFlight:
				return out.n == s.InFlight, s
			case opReplies:
				return out.n == s.Replies, s
			}
			return false, s
		},
		Hash: func(state any) uint64 {
			s := state.(spec.State)
			return uint64(s.InFlight)<<32 ^ uint64(s.Replies)<<8 ^ uint64(s.Mode)
		},
		DescribeOperation: func(input, output any) string {
			out := output.(opResult)
			switch input.(opKind) {
			case opSend:
				if out.went {
					return "send → sent"
				}
				return fmt.Sprintf("send → refused (%v)", out.mode)
			case opComplete:
				return "complete"
			case opReap:
				switch {
				case !out.ok:
					return "reap → none"
				case out.left:
					return "reap → reaped, left"
				}
				return "reap → reaped"
			case opMode:
				return fmt.Sprintf("mode → %v", out.mode)
			case opInFlight:
				return fmt.Sprintf("in-flight → %d", out.n)
			case opReplies:
				return fmt.Sprintf("replies → %d", out.n)
			}
			return "?"
		},
		DescribeState: func(state any) string {
			s := state.(spec.State)
			return fmt.Sprintf("%d in flight, %d replies, %v", s.InFlight, s.Replies, s.Mode)
		},
	}
}

// The goroutines that drive one port, each a porcupine client.
const (
	histSenders   = 2
	histObservers = 2
	histClients   = histSenders + 1 + 1 + histObservers // senders, kernel, reaper, observers
)

// recordHistory drives one port of configuration cfg from its own
// goroutines until size operations are recorded: senders (Acquire), a
// kernel completing what was sent in random order, a reaper, and
// observers (Mode, InFlight, Replies). Each operation is timed from just
// before its call to just after its return, on the monotonic clock, so
// its interval contains the moment it took effect.
func recordHistory(cfg spec.Config, size int, seed uint64) ([]porcupine.Operation, port.Stats, error) {
	var left bool // written by the upcall, which Reap calls on the reaper's goroutine
	p, err := port.New(port.Config{Cap: cfg.Cap, Low: cfg.Low, Policy: cfg.Policy, Upcall: func() { left = true }})
	if err != nil {
		return nil, port.Stats{}, err
	}
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) }
	var (
		budget  atomic.Int64
		done    = make(chan struct{})
		stop    sync.Once
		sent    = make(chan *port.Msg, size)
		history = make([][]porcupine.Operation, histClients)
		wg      sync.WaitGroup
	)
	// take reserves one operation of the budget; false when it is spent.
	take := func() bool {
		if budget.Add(1) > int64(size) {
			stop.Do(func() { close(done) })
			return false
		}
		return true
	}
	// begin and record bracket an operation. Each yields inside the
	// interval, so that the other goroutines run during it: on few cores
	// the operations would otherwise hardly overlap, and a history with no
	// overlap checks little. A wider interval is still sound: it still
	// contains the moment the operation took effect.
	begin := func() int64 {
		call := now()
		runtime.Gosched()
		return call
	}
	record := func(client int, kind opKind, call int64, out opResult) {
		runtime.Gosched()
		history[client] = append(history[client], porcupine.Operation{
			ClientId: client, Input: kind, Call: call, Output: out, Return: now()})
	}
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	for c := range histSenders {
		run(func() {
			for take() {
				call := begin()
				m, mode := p.Acquire()
				record(c, opSend, call, opResult{went: m != nil, mode: mode})
				if m != nil {
					sent <- m
				}
			}
		})
	}
	run(func() { // the kernel
		const c = histSenders
		r := rand.New(rand.NewPCG(seed, 1))
		var held []*port.Msg
		for {
			for more := true; more; {
				select {
				case m := <-sent:
					held = append(held, m)
				default:
					more = false
				}
			}
			if len(held) == 0 {
				select {
				case m := <-sent:
					held = append(held, m)
				case <-done:
					return
				}
			}
			if !take() {
				return
			}
			i := r.IntN(len(held))
			m := held[i]
			held[i] = held[len(held)-1]
			held = held[:len(held)-1]
			call := begin()
			p.Complete(m)
			record(c, opComplete, call, opResult{})
		}
	})
	run(func() { // the reaper
		const c = histSenders + 1
		for take() {
			left = false
			call := begin()
			_, ok := p.Reap()
			record(c, opReap, call, opResult{ok: ok, left: left})
			if !ok {
				select {
				case <-p.Notify():
				case <-done:
				}
			}
		}
	})
	for o := range histObservers {
		run(func() {
			c := histSenders + 2 + o
			for i := 0; take(); i++ {
				call := begin()
				switch i % 3 {
				case 0:
					record(c, opMode, call, opResult{mode: p.Mode()})
				case 1:
					record(c, opInFlight, call, opResult{n: p.InFlight()})
				default:
					record(c, opReplies, call, opResult{n: p.Replies()})
				}
			}
		})
	}
	wg.Wait()
	var ops []porcupine.Operation
	for _, h := range history {
		ops = append(ops, h...)
	}
	return ops, p.Stats(), nil
}

// checkHistory checks ops against the spec under cfg within timeout. A
// history that is not linearizable is written as porcupine's
// visualization into dir, which the error names.
func checkHistory(cfg spec.Config, ops []porcupine.Operation, timeout time.Duration, dir string) error {
	model := portModel(cfg)
	switch porcupine.CheckOperationsTimeout(model, ops, timeout) {
	case porcupine.Ok:
		return nil
	case porcupine.Unknown:
		return fmt.Errorf("%w (%d operations, %v)", errUnknown, len(ops), timeout)
	}
	// Again, verbose, for the partial linearizations the page shows.
	_, info := porcupine.CheckOperationsVerbose(model, ops, 0)
	path := filepath.Join(dir, fmt.Sprintf("linearizability-%v-cap%d-low%d.html", cfg.Policy, cfg.Cap, cfg.Low))
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return fmt.Errorf("%w (%d operations; no visualization: %w)", errNotLinearizable, len(ops), err)
	}
	return fmt.Errorf("%w (%d operations; visualization: %s)", errNotLinearizable, len(ops), path)
}

// checkPortIsLinearizable records a history of size operations on one port
// of configuration cfg and checks it. It also demands that the history did
// something: messages were sent and reaped and, at a cap, the policy acted.
// Which goroutine runs when is the Go scheduler's: on a loaded machine the
// senders and observers may spend the budget before the kernel completes
// anything. A vacuous history is then recorded again, up to
// vacuousRetries times; every history recorded is checked.
func checkPortIsLinearizable(cfg spec.Config, size int, timeout time.Duration, dir string) error {
	var vacuous error
	for seed := uint64(1); seed <= vacuousRetries; seed++ {
		ops, st, err := recordHistory(cfg, size, seed)
		if err != nil {
			return err
		}
		if err := checkHistory(cfg, ops, timeout, dir); err != nil {
			return err
		}
		switch {
		case st.Sends == 0 || st.Reaps == 0:
			vacuous = fmt.Errorf("properties: a vacuous history: %d sends, %d reaps", st.Sends, st.Reaps)
		case cfg.Cap != spec.Unlimited && st.CapHits == 0:
			vacuous = fmt.Errorf("properties: a vacuous history: the cap %d was never reached", cfg.Cap)
		case cfg.Cap != spec.Unlimited && cfg.Policy != spec.Block && st.ModeChanges < 2:
			vacuous = fmt.Errorf("properties: a vacuous history: %d mode changes", st.ModeChanges)
		default:
			return nil
		}
	}
	return fmt.Errorf("%w, %d times", vacuous, vacuousRetries)
}

// vacuousRetries is how many histories checkPortIsLinearizable records
// before it calls the property vacuous.
const vacuousRetries = 5

// linearizabilityConfigs are the configurations the property runs on: each
// policy at a small cap, with and without hysteresis, and no cap.
func linearizabilityConfigs() []spec.Config {
	var cfgs []spec.Config
	for _, c := range []struct {
		pol    spec.Policy
		c, low int
	}{
		{spec.Block, 2, spec.Unset},
		{spec.Stop, 3, 0},
		{spec.Poll, 4, 1},
		{spec.PollNoHyst, 3, spec.Unset},
		{spec.Poll, spec.Unlimited, spec.Unset},
	} {
		cfg, err := spec.NewConfig(c.pol, c.c, c.low)
		if err != nil {
			panic(err)
		}
		cfgs = append(cfgs, cfg)
	}
	return cfgs
}

// TestPortIsLinearizable checks histories of one port driven from several
// goroutines against the spec.
func TestPortIsLinearizable(t *testing.T) {
	// Checking time grows faster than the history and varies with it: on
	// two cores 20k operations take 0.05 to 0.2 s, 50k 0.15 to 2 s. The
	// timeouts are far above either, so that a loaded machine does not
	// turn a pass into an unknown.
	size, timeout := 50_000, 30*time.Second
	if testing.Short() {
		size, timeout = 20_000, 10*time.Second
	}
	for _, cfg := range linearizabilityConfigs() {
		t.Run(fmt.Sprintf("%v/cap=%d/low=%d", cfg.Policy, cfg.Cap, cfg.Low), func(t *testing.T) {
			if err := checkPortIsLinearizable(cfg, size, timeout, t.TempDir()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLinearizabilityRejectsStaleRead shows that the model is not
// vacuous: a read of in-flight that misses a send that returned before it
// began has no linearization, and the failure names a visualization.
func TestLinearizabilityRejectsStaleRead(t *testing.T) {
	cfg, err := spec.NewConfig(spec.Poll, 2, spec.Unset)
	if err != nil {
		t.Fatal(err)
	}
	ops := []porcupine.Operation{
		{ClientId: 0, Input: opSend, Call: 0, Output: opResult{went: true}, Return: 10},
		{ClientId: 1, Input: opInFlight, Call: 20, Output: opResult{n: 0}, Return: 30},
	}
	err = checkHistory(cfg, ops, time.Second, t.TempDir())
	if !errors.Is(err, errNotLinearizable) {
		t.Fatalf("got %v, want %v", err, errNotLinearizable)
	}
	// Overlapping, the same read is fine: it linearizes before the send.
	ops[1].Call = 5
	if err := checkHistory(cfg, ops, time.Second, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLinearizability measures porcupine's check of a recorded
// history (the recording is not timed) of 1k, 10k and 50k operations on a
// port under Poll at cap 4, low 1.
func BenchmarkLinearizability(b *testing.B) {
	cfg, err := spec.NewConfig(spec.Poll, 4, 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("ops=%d", size), func(b *testing.B) {
			for i := range b.N {
				b.StopTimer()
				ops, _, err := recordHistory(cfg, size, uint64(i))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := checkHistory(cfg, ops, time.Minute, b.TempDir()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
