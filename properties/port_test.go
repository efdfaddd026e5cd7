package properties_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sysmsg/sysmsg/impl/port"
	spec "github.com/sysmsg/sysmsg/model/port"
	"pgregory.net/rapid"
)

// errDisagree is wrapped by every difference found between the port and
// the spec.
var errDisagree = errors.New("properties: the port and the spec disagree")

// specMode checks that the implementation reports one of the spec's modes
// (impl/port names its modes by the spec's type, so a mode is one value in
// both; a value outside the three is a bug of the port).
func specMode(m port.Mode) (spec.Mode, bool) {
	return m, m == spec.Messaging || m == spec.Polling || m == spec.Stopped
}

// pair is a real port and the spec's state, driven in step. The port is
// fresh, so its observable state starts as the spec's zero State.
type pair struct {
	cfg  spec.Config
	s    spec.State
	p    *port.Port
	left bool // the upcall ran during the last Reap

	pending   []*port.Msg     // sent, not completed, in the order sent
	completed []uint64        // sequence numbers completed, not reaped, oldest first
	reserved  map[uint64]bool // the sends that were reserved calls
	sends     uint64
	ops       []string // what was done, for the error of a plain run
}

func newPair(pol spec.Policy, c, reserve, low int) (*pair, error) {
	cfg, err := spec.NewReserveConfig(pol, c, reserve, low)
	if err != nil {
		return nil, err
	}
	pp := &pair{cfg: cfg, reserved: map[uint64]bool{}}
	pp.p, err = port.New(port.Config{Cap: c, Low: low, Reserve: reserve, Policy: pol, Upcall: func() { pp.left = true }})
	if err != nil {
		return nil, err
	}
	if pp.p.Low() != cfg.Low {
		return nil, fmt.Errorf("%w: low-water mark %d, spec %d", errDisagree, pp.p.Low(), cfg.Low)
	}
	return pp, nil
}

func (pp *pair) String() string {
	return fmt.Sprintf("%v cap %d reserve %d low %d", pp.cfg.Policy, pp.cfg.Cap, pp.cfg.Reserve, pp.cfg.Low)
}

// sendAgrees reports whether an Acquire that sent or not (went) and
// returned mode is the spec's outcome out. A sent message reports
// Messaging; a refused one reports why: Polling, Stopped, or Messaging when
// every slot is taken (Block's must-wait).
func sendAgrees(out spec.SendOutcome, went bool, mode port.Mode) bool {
	got, ok := specMode(mode)
	switch {
	case !ok || went != out.Went():
		return false
	case went:
		return got == spec.Messaging
	case out == spec.RefusedPolling:
		return got == spec.Polling
	case out == spec.RefusedStopped:
		return got == spec.Stopped
	}
	return got == spec.Messaging // MustWait
}

// send is a system call, a reserved call's when reserved is set: AcquireAs
// on the port, SendAs in the spec.
func (pp *pair) send(reserved bool) error {
	m, mode := pp.p.AcquireAs(reserved)
	next, out := pp.cfg.SendAs(pp.s, reserved)
	what := "send: "
	if reserved {
		what = "reserved send: "
	}
	pp.ops = append(pp.ops, what+out.String())
	if !sendAgrees(out, m != nil, mode) {
		return fmt.Errorf("%w: Acquire sent %t in %v mode, spec: %v", errDisagree, m != nil, mode, out)
	}
	pp.s = next
	if m != nil {
		pp.sends++
		if m.Seq != pp.sends {
			return fmt.Errorf("%w: send %d numbered %d", errDisagree, pp.sends, m.Seq)
		}
		pp.pending = append(pp.pending, m)
		pp.reserved[m.Seq] = reserved
	}
	return nil
}

// complete is the kernel completing the i-th message in flight and not yet
// completed (in the order sent). The spec counts, so any one will do there.
func (pp *pair) complete(i int) error {
	m := pp.pending[i]
	pp.pending = append(pp.pending[:i], pp.pending[i+1:]...)
	pp.ops = append(pp.ops, fmt.Sprintf("complete message %d", m.Seq))
	next, err := pp.cfg.Complete(pp.s)
	if err != nil {
		return fmt.Errorf("%w: the port had message %d in flight, spec: %w", errDisagree, m.Seq, err)
	}
	pp.s = next
	pp.p.Complete(m)
	pp.completed = append(pp.completed, m.Seq)
	return nil
}

// reap takes a reply, or finds none. The port must take the oldest, and
// leave polling or stopped mode (calling the upcall) exactly when the spec
// does.
func (pp *pair) reap() error {
	pp.left = false
	// The spec counts: it is told whether the reply the port must take,
	// the oldest, is a reserved call's.
	oldestReserved := len(pp.completed) > 0 && pp.reserved[pp.completed[0]]
	r, ok := pp.p.Reap()
	next, out, err := pp.cfg.ReapAs(pp.s, oldestReserved)
	switch {
	case err != nil && ok:
		return fmt.Errorf("%w: Reap took message %d, spec: %w", errDisagree, r.Seq, err)
	case err != nil:
		pp.ops = append(pp.ops, "reap: none")
		return nil
	case !ok:
		return fmt.Errorf("%w: Reap found no reply, spec: %v", errDisagree, out)
	}
	pp.ops = append(pp.ops, fmt.Sprintf("reap message %d: %v", r.Seq, out))
	pp.s = next
	if want := pp.completed[0]; r.Seq != want {
		return fmt.Errorf("%w: Reap took message %d, the oldest reply is %d", errDisagree, r.Seq, want)
	}
	pp.completed = pp.completed[1:]
	delete(pp.reserved, r.Seq)
	if pp.left != (out == spec.ReapedLeft) {
		return fmt.Errorf("%w: Reap left %t (upcall), spec: %v", errDisagree, pp.left, out)
	}
	return nil
}

// observe compares what can be observed, and checks the spec's invariants
// on the state both agree on.
func (pp *pair) observe() error {
	mode, ok := specMode(pp.p.Mode())
	got := spec.State{InFlight: pp.p.InFlight(), Replies: pp.p.Replies(), Mode: mode, Reserved: pp.p.Reserved()}
	switch {
	case !ok:
		return fmt.Errorf("%w: mode %v", errDisagree, pp.p.Mode())
	case got != pp.s:
		return fmt.Errorf("%w: port %+v, spec %+v", errDisagree, got, pp.s)
	}
	return pp.cfg.Check(pp.s)
}

// drawer is where a run's choices come from: rapid, which shrinks them, or
// a seeded generator, for a run that must return instead of failing.
type drawer interface {
	intn(label string, n int) int // in [0, n)
}

type rapidDrawer struct{ t *rapid.T }

func (d rapidDrawer) intn(label string, n int) int { return rapid.IntRange(0, n-1).Draw(d.t, label) }

type randDrawer struct{ r *rand.Rand }

func (d randDrawer) intn(_ string, n int) int { return d.r.IntN(n) }

// drawPair draws a configuration: a policy, a cap of 1 to 6 or Unlimited,
// a reserve (none half the time, else 0 to cap−1) and a low-water mark in
// range of the ordinary slots or Unset (the default).
func drawPair(d drawer) (*pair, error) {
	pol := spec.Policies()[d.intn("policy", len(spec.Policies()))]
	c := d.intn("cap", 7)
	if c == 0 {
		c = spec.Unlimited
	}
	reserve, low := 0, spec.Unset
	if c != spec.Unlimited {
		if d.intn("reserved", 2) == 1 {
			reserve = d.intn("reserve", c)
		}
		if l := d.intn("low", c-reserve+1); l < c-reserve {
			low = l
		}
	}
	return newPair(pol, c, reserve, low)
}

// portMatchesSpec is the conformance property as rapid runs it: rapid
// chooses the actions, and prints the shrunk list on failure.
func portMatchesSpec(t *rapid.T) {
	pp, err := drawPair(rapidDrawer{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", pp)
	must := func(t *rapid.T, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Repeat(map[string]func(*rapid.T){
		"send":          func(t *rapid.T) { must(t, pp.send(false)) },
		"reserved send": func(t *rapid.T) { must(t, pp.send(true)) },
		"complete": func(t *rapid.T) {
			if len(pp.pending) == 0 {
				t.Skip("nothing in flight to complete")
			}
			must(t, pp.complete(rapid.IntRange(0, len(pp.pending)-1).Draw(t, "message")))
		},
		"reap": func(t *rapid.T) { must(t, pp.reap()) },
		"":     func(t *rapid.T) { must(t, pp.observe()) },
	})
}

// TestPortMatchesSpec holds the port to the spec, step by step, over
// random configurations and operation sequences.
func TestPortMatchesSpec(t *testing.T) {
	rapid.Check(t, portMatchesSpec)
}

// FuzzPortMatchesSpec is TestPortMatchesSpec as a go test -fuzz target.
func FuzzPortMatchesSpec(f *testing.F) {
	// rapid reads the input as 64-bit words and skips an input that runs
	// out, so the seeds are long and varied.
	r := rand.New(rand.NewPCG(1, 0))
	for range 4 {
		seed := make([]byte, 8192)
		for i := range seed {
			seed[i] = byte(r.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(rapid.MakeFuzz(portMatchesSpec))
}

// checkPortMatchesSpec runs n random sequences of up to 100 operations
// from a fixed seed and returns the first disagreement, with the
// configuration and the operations that led to it; nil if there is none.
// It is the conformance property for a caller that must not fail: a test
// that switches on a seeded bug and demands that it is caught.
func checkPortMatchesSpec(seed uint64, n int) error {
	d := randDrawer{rand.New(rand.NewPCG(seed, 0))}
	for i := range n {
		pp, err := drawPair(d)
		if err != nil {
			return err
		}
		err = pp.observe()
		for steps := d.intn("steps", 100) + 1; err == nil && steps > 0; steps-- {
			switch k := d.intn("action", 4); {
			case k == 0:
				err = pp.send(false)
			case k == 3:
				err = pp.send(true)
			case k == 1 && len(pp.pending) > 0:
				err = pp.complete(d.intn("message", len(pp.pending)))
			default:
				err = pp.reap()
			}
			if err == nil {
				err = pp.observe()
			}
		}
		if err != nil {
			return fmt.Errorf("sequence %d (%v), after %s: %w", i, pp, strings.Join(pp.ops, "; "), err)
		}
	}
	return nil
}

// TestCheckPortMatchesSpec runs the plain form of the property, so that
// it is known to pass on the port as it is before a seeded bug is asked of
// it.
func TestCheckPortMatchesSpec(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	if err := checkPortMatchesSpec(1, n); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPortMatchesSpec measures the conformance check: sequences (of
// 1 to 100 operations, 50 on average) checked per second.
func BenchmarkPortMatchesSpec(b *testing.B) {
	start := time.Now()
	if err := checkPortMatchesSpec(1, b.N); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sequences/s")
}

// catcher is a property run that returns what it found instead of
// failing: nil when the property holds.
type catcher struct {
	property string
	run      func(t testing.TB) error
}

// mutantCatchers lists, per property, a run for a test that switches on a
// seeded bug in the port and demands that each property that matters
// catches it. The runs are deterministic where they can be (conformance,
// from a fixed seed) and bounded in time (linearizability, whose history
// depends on the scheduler); a linearizability check that runs out of
// time returns errUnknown, which is no catch.
func mutantCatchers() []catcher {
	return []catcher{
		{"TestPortMatchesSpec", func(testing.TB) error { return checkPortMatchesSpec(1, 500) }},
		{"TestPortIsLinearizable", func(t testing.TB) error {
			for _, cfg := range linearizabilityConfigs() {
				if err := checkPortIsLinearizable(cfg, 10_000, 5*time.Second, t.TempDir()); err != nil {
					return fmt.Errorf("%v cap %d low %d: %w", cfg.Policy, cfg.Cap, cfg.Low, err)
				}
			}
			return nil
		}},
	}
}

// TestMutantCatchersPassOnThePort runs every catcher on the port as it is:
// each must find nothing, or its catching a seeded bug would prove nothing.
func TestMutantCatchersPassOnThePort(t *testing.T) {
	for _, c := range mutantCatchers() {
		if err := c.run(t); err != nil {
			t.Errorf("%s: %v", c.property, err)
		}
	}
}
