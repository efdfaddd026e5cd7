package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Options bound and shape a search. The zero value is an unbounded search on
// every core, without the livelock check.
type Options struct {
	// Workers is the number of goroutines that expand states; 0 means
	// runtime.GOMAXPROCS(0). The result does not depend on it.
	Workers int
	// MaxStates stops the search once this many distinct states are stored;
	// 0 means no bound.
	MaxStates int
	// MaxDepth stops expanding at this breadth-first level; 0 means no
	// bound. States at the bound are still checked.
	MaxDepth int
	// Timeout stops the search after this long; 0 means no limit.
	Timeout time.Duration
	// MemoryLimit stops the search once the Go heap exceeds this many bytes,
	// and is passed to the runtime as its soft memory limit for the search;
	// 0 means no limit.
	MemoryLimit uint64
	// Livelock turns on the livelock check: every bottom strongly connected
	// component of the reachable graph must hold a terminal state. It stores
	// every edge, so it costs memory.
	Livelock bool
	// Fairness, with Livelock, also checks fair progress: no cycle without
	// a terminal state that a weakly fair run can follow forever. The model
	// must implement [Fair].
	Fairness bool
	// Progress, when not nil, receives a progress line about once a
	// ProgressEvery (default one second), each starting with a carriage
	// return, and a final newline.
	Progress      io.Writer
	ProgressEvery time.Duration

	_ struct{}
}

// ErrModelPanic is returned when the model panics during the search.
var ErrModelPanic = errors.New("check: the model panicked")

// ErrTooManyActions is returned when a state has more enabled actions than a
// trace step can index.
var ErrTooManyActions = errors.New("check: more than 65535 enabled actions in one state")

const (
	blockSize  = 256 // states per unit of parallel work; a multiple of 64
	windowSize = 32  // blocks expanded before the results are merged
	noParent   = math.MaxUint32
	noID       = math.MaxUint32
)

// mutant names a deliberately seeded bug, set only by this package's tests to
// show that the tests catch it. Empty in every real run.
var mutant string

// Explore searches every state of m reachable from its initial states,
// breadth first, checking each property, deadlock freedom and, with
// opt.Livelock, livelock freedom. It stops at the first violation, which it
// reports with a shortest trace.
//
// The returned error is non-nil only when the search could not run; a
// violated property or a cut-short search is reported in the [Result].
func Explore[S, A any](ctx context.Context, m Model[S, A], opt Options) (*Result[S, A], error) {
	if opt.Workers < 0 || opt.MaxStates < 0 || opt.MaxDepth < 0 || opt.Timeout < 0 {
		return nil, errors.New("check: negative bound in Options")
	}
	if opt.Fairness {
		if _, ok := any(m).(Fair[A]); !ok || !opt.Livelock {
			return nil, errors.New("check: Options.Fairness needs Options.Livelock and a model that implements Fair")
		}
	}
	e := newExplorer(m, opt)
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	if opt.MemoryLimit > 0 {
		old := debug.SetMemoryLimit(int64(min(opt.MemoryLimit, math.MaxInt64)))
		defer debug.SetMemoryLimit(old)
	}
	res, err := e.run(ctx)
	if err != nil {
		return nil, err
	}
	return res, nil
}

type explorer[S, A any] struct {
	m     Model[S, A]
	opt   Options
	props []Property[S, A]
	kinds []string

	always, steps, sometimes []int // indices into props

	st       *store
	parent   []uint32
	act      []uint16
	blockOff []uint64 // arena offset of each state whose id is a multiple of blockSize
	levels   []uint32 // first id of each breadth-first level, then the total
	terminal []uint64 // bitset

	// Only with the livelock check: successors of state i are
	// edges[edgeStart[i]:edgeStart[i+1]], in action order.
	edgeStart []uint64
	edges     []uint32

	fired       []uint64
	transitions uint64
	reached     []uint32 // per sometimes property: first id where it held, or noID

	start    time.Time
	lastShow time.Time
	peak     uint64
	sample   []metrics.Sample
	workers  int
}

func newExplorer[S, A any](m Model[S, A], opt Options) *explorer[S, A] {
	e := &explorer[S, A]{m: m, opt: opt, props: m.Properties(), kinds: m.Kinds()}
	for i, p := range e.props {
		switch p.Kind {
		case AlwaysKind:
			e.always = append(e.always, i)
		case StepKind:
			e.steps = append(e.steps, i)
		case SometimesKind:
			e.sometimes = append(e.sometimes, i)
		}
	}
	e.workers = opt.Workers
	if e.workers == 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	if e.opt.ProgressEvery == 0 {
		e.opt.ProgressEvery = time.Second
	}
	e.fired = make([]uint64, len(e.kinds))
	e.reached = make([]uint32, len(e.sometimes))
	for i := range e.reached {
		e.reached[i] = noID
	}
	e.st = newStore()
	e.sample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	return e
}

// finding is the first violation seen in one block, in breadth-first order.
type finding struct {
	state  uint32 // a state violating an Always property or deadlocked; noID if none
	prop   int    // index into props, or -1 for deadlock
	parent uint32 // a transition violating an AlwaysStep property; noID if none
	index  int
	sprop  int
}

func noFinding() finding { return finding{state: noID, parent: noID} }

// before reports whether f comes before g in the order in which findings are
// reported: a bad state before a bad transition (its trace is shorter), and
// otherwise by id and action index.
func (f finding) before(g finding) bool {
	if f.state != g.state {
		return f.state < g.state
	}
	if f.state != noID {
		return false
	}
	if f.parent != g.parent {
		return f.parent < g.parent
	}
	return f.index < g.index
}

type cand struct {
	hash   uint64
	parent uint32
	index  uint16
	off    uint32 // into keys
	n      uint32
}

// blockOut is what expanding one block produces, merged in block order so
// that ids, and so everything reported, do not depend on the workers.
type blockOut struct {
	first    uint32 // the block's first state id, a multiple of blockSize
	cands    []cand // every transition, in order
	keys     []byte
	deg      []uint16 // per state, with the livelock check
	term     [blockSize / 64]uint64
	fired    []uint64
	trans    uint64
	find     finding
	reached  []uint32
	depthCut bool
	err      error
}

type scratch[A any] struct {
	acts []A
	enc  []byte
}

func (e *explorer[S, A]) run(ctx context.Context) (*Result[S, A], error) {
	e.start = time.Now()
	e.lastShow = e.start
	for i, s := range e.m.Init() {
		key := e.m.Encode(nil, s)
		if _, _, err := e.add(key, e.st.hash(key), noParent, i); err != nil {
			return nil, err
		}
	}
	e.levels = []uint32{0, uint32(e.st.count)}
	outs := [2][]blockOut{make([]blockOut, windowSize), make([]blockOut, windowSize)}
	scr := make([]scratch[A], e.workers)
	for depth := 0; ; depth++ {
		lo, hi := e.levels[depth], e.levels[depth+1]
		expand := e.opt.MaxDepth == 0 || depth < e.opt.MaxDepth
		find := noFinding()
		depthCut := false
		reached := append([]uint32(nil), e.reached...)
		// Blocks are aligned to multiples of blockSize. The workers expand
		// one window of blocks while the main goroutine merges the one
		// before: expansion reads only the current level's entries, which
		// the merge never changes, and looks nothing up in the hash table.
		lastBlock := (hi - 1) / blockSize
		window := func(b uint32) int { return min(windowSize, int(lastBlock-b+1)) }
		blockOff := e.blockOff[:len(e.blockOff):len(e.blockOff)]
		cur := 0
		e.expandWindow(lo/blockSize, lo, hi, window(lo/blockSize), expand, blockOff, outs[cur], scr)
		for b := lo / blockSize; b <= lastBlock; b += windowSize {
			nb := window(b)
			next := b + windowSize
			done := make(chan struct{})
			if next <= lastBlock {
				go func() {
					defer close(done)
					// One core merges meanwhile: expand on the others.
					e.expandWindow(next, lo, hi, window(next), expand, blockOff, outs[1-cur], scr[:max(1, len(scr)-1)])
				}()
			} else {
				close(done)
			}
			stop, res, err := e.mergeWindow(ctx, depth, outs[cur][:nb], &find, reached, &depthCut)
			<-done
			if err != nil || res != nil {
				return res, err
			}
			if stop {
				break // a later bad state has a larger id, and bad states come first
			}
			cur = 1 - cur
		}
		last := uint32(e.st.count) == hi
		if !(mutant == "last-level" && last) {
			e.reached = reached
			if find.state != noID || find.parent != noID {
				return e.violation(depth, find), nil
			}
		}
		if depthCut {
			return e.incomplete(depth, fmt.Sprintf("depth bound of %d reached", e.opt.MaxDepth)), nil
		}
		if last {
			return e.finish(depth)
		}
		e.levels = append(e.levels, uint32(e.st.count))
	}
}

// add stores a state found from parent by its index-th action, and records
// how to rebuild the path to it.
func (e *explorer[S, A]) add(key []byte, h uint64, parent uint32, index int) (uint32, bool, error) {
	if e.st.count >= noID-1 {
		return 0, false, errors.New("check: more than 2^32-2 states")
	}
	id, isNew, err := e.st.insert(key, h)
	if err != nil || !isNew {
		return id, false, err
	}
	e.parent = append(e.parent, parent)
	e.act = append(e.act, uint16(index))
	if id%blockSize == 0 {
		e.blockOff = append(e.blockOff, e.st.lastOff)
	}
	if id%64 == 0 {
		e.terminal = append(e.terminal, 0)
	}
	return id, true, nil
}

// mergeWindow merges a window's blocks in order and folds their findings
// into the level's. It returns a result when the search must end here, and
// stop when a bad state was found (the rest of the level cannot hold an
// earlier one).
func (e *explorer[S, A]) mergeWindow(ctx context.Context, depth int, outs []blockOut, find *finding, reached []uint32, depthCut *bool) (bool, *Result[S, A], error) {
	for i := range outs {
		o := &outs[i]
		if o.err != nil {
			return false, nil, o.err
		}
		if o.find.before(*find) {
			*find = o.find
		}
		for j, r := range o.reached {
			reached[j] = min(reached[j], r)
		}
		*depthCut = *depthCut || o.depthCut
		full, err := e.merge(o)
		if err != nil {
			return false, nil, err
		}
		if full {
			return false, e.incomplete(depth, fmt.Sprintf("state bound of %d reached", e.opt.MaxStates)), nil
		}
	}
	if err := ctx.Err(); err != nil {
		return false, e.incomplete(depth, interruptReason(err)), nil
	}
	if reason := e.watch(depth); reason != "" {
		return false, e.incomplete(depth, reason), nil
	}
	return find.state != noID, nil, nil
}

// expandWindow expands the level's states [lo, hi) that fall in nb blocks
// from block number first, spread over the workers; outs[i] receives block
// first+i. blockOff is the arena offset of each block's first entry.
func (e *explorer[S, A]) expandWindow(first, lo, hi uint32, nb int, expand bool, blockOff []uint64, outs []blockOut, scr []scratch[A]) {
	work := func(w int, i int) {
		start := (first + uint32(i)) * blockSize
		e.expandBlock(max(lo, start), min(start+blockSize, hi), expand, blockOff, &outs[i], &scr[w])
	}
	workers := min(len(scr), nb)
	if workers <= 1 {
		for i := range nb {
			work(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= nb {
					return
				}
				work(w, i)
			}
		}()
	}
	wg.Wait()
}

func (e *explorer[S, A]) expandBlock(lo, hi uint32, expand bool, blockOff []uint64, o *blockOut, sc *scratch[A]) {
	id := lo
	defer func() {
		// A model that panics is a bug in the model; say where, as an
		// error, rather than crash the program that runs the search.
		if r := recover(); r != nil {
			o.err = fmt.Errorf("%w: expanding state %d: %v", ErrModelPanic, id, r)
		}
	}()
	o.first = lo &^ (blockSize - 1)
	o.cands = o.cands[:0]
	o.keys = o.keys[:0]
	o.deg = o.deg[:0]
	o.term = [blockSize / 64]uint64{}
	if o.fired == nil {
		o.fired = make([]uint64, len(e.kinds))
	}
	clear(o.fired)
	o.trans = 0
	o.find = noFinding()
	o.reached = append(o.reached[:0], e.reached...)
	o.depthCut = false
	o.err = nil
	checkInit := !(mutant == "no-init-check" && lo < e.levels[1])
	off := blockOff[lo/blockSize]
	for range lo % blockSize {
		off = e.st.next(off)
	}
	for ; id < hi; id++ {
		_, key := e.st.entry(off)
		off = e.st.next(off)
		s := e.m.Decode(key)
		if checkInit && o.find.state == noID {
			for _, p := range e.always {
				if !e.props[p].State(s) {
					o.find.state, o.find.prop = id, p
					break
				}
			}
		}
		for j, p := range e.sometimes {
			if o.reached[j] == noID && e.props[p].State(s) {
				o.reached[j] = id
			}
		}
		term := e.m.Terminal(s)
		if term {
			o.term[(id-o.first)/64] |= 1 << (id % 64)
		}
		sc.acts = e.m.Actions(s, sc.acts[:0])
		if len(sc.acts) > math.MaxUint16 {
			o.err = ErrTooManyActions
			return
		}
		if len(sc.acts) == 0 && !term && o.find.state == noID {
			o.find.state, o.find.prop = id, -1
		}
		if !expand {
			// At the depth bound the search is complete only if every
			// successor is already stored. Nothing is merged at this level,
			// so the lookups race with no insertion.
			for _, a := range sc.acts {
				sc.enc = e.m.Encode(sc.enc[:0], e.m.Next(s, a))
				if _, ok := e.st.lookup(sc.enc, e.st.hash(sc.enc)); !ok {
					o.depthCut = true
					break
				}
			}
			if e.opt.Livelock {
				o.deg = append(o.deg, 0)
			}
			continue
		}
		if e.opt.Livelock {
			o.deg = append(o.deg, uint16(len(sc.acts)))
		}
		for i, a := range sc.acts {
			t := e.m.Next(s, a)
			o.fired[e.m.Kind(a)]++
			o.trans++
			if o.find.parent == noID {
				for _, p := range e.steps {
					if !e.props[p].Step(s, a, t) {
						o.find.parent, o.find.index, o.find.sprop = id, i, p
						break
					}
				}
			}
			sc.enc = e.m.Encode(sc.enc[:0], t)
			h := e.st.hash(sc.enc)
			o.cands = append(o.cands, cand{hash: h, parent: id, index: uint16(i), off: uint32(len(o.keys)), n: uint32(len(sc.enc))})
			o.keys = append(o.keys, sc.enc...)
		}
	}
}

// merge adds a block's new states to the store in order, and its edges
// and terminal bits. It reports whether the state bound stopped it.
func (e *explorer[S, A]) merge(o *blockOut) (bool, error) {
	for k, c := range o.fired {
		e.fired[k] += c
	}
	e.transitions += o.trans
	for i, w := range o.term {
		if w != 0 {
			e.terminal[int(o.first)/64+i] |= w
		}
	}
	if e.opt.Livelock && len(e.edgeStart) == 0 {
		e.edgeStart = append(e.edgeStart, 0)
	}
	for _, c := range o.cands {
		key := o.keys[c.off : c.off+c.n]
		if e.opt.MaxStates > 0 && e.st.count >= e.opt.MaxStates {
			if _, ok := e.st.lookup(key, c.hash); !ok {
				return true, nil
			}
		}
		id, _, err := e.add(key, c.hash, c.parent, int(c.index))
		if err != nil {
			return false, err
		}
		if e.opt.Livelock {
			e.edges = append(e.edges, id)
		}
	}
	if e.opt.Livelock {
		for _, d := range o.deg {
			e.edgeStart = append(e.edgeStart, e.edgeStart[len(e.edgeStart)-1]+uint64(d))
		}
	}
	return false, nil
}

// watch shows progress and enforces the memory bound; it returns a reason
// to stop, or "".
func (e *explorer[S, A]) watch(depth int) string {
	metrics.Read(e.sample)
	heap := e.sample[0].Value.Uint64()
	e.peak = max(e.peak, heap)
	if e.opt.MemoryLimit > 0 && heap > e.opt.MemoryLimit {
		return fmt.Sprintf("memory bound of %d bytes reached", e.opt.MemoryLimit)
	}
	if e.opt.Progress != nil {
		if now := time.Now(); now.Sub(e.lastShow) >= e.opt.ProgressEvery {
			e.lastShow = now
			e.showProgress(depth, now)
		}
	}
	return ""
}

func (e *explorer[S, A]) showProgress(depth int, now time.Time) {
	secs := now.Sub(e.start).Seconds()
	fmt.Fprintf(e.opt.Progress, "\r%d states, %d transitions, depth %d, %.0f states/s, heap %d MiB, %.0fs ",
		e.st.count, e.transitions, depth, float64(e.st.count)/max(secs, 1e-9), e.peak>>20, secs)
}

func interruptReason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "time bound reached"
	}
	return "interrupted"
}

func (e *explorer[S, A]) stats(depth int) Stats {
	secs := time.Since(e.start).Seconds()
	metrics.Read(e.sample)
	e.peak = max(e.peak, e.sample[0].Value.Uint64())
	if e.opt.Progress != nil {
		e.showProgress(depth, time.Now())
		fmt.Fprintln(e.opt.Progress)
	}
	s := Stats{
		States:      e.st.count,
		Transitions: e.transitions,
		Depth:       depth,
		Seconds:     secs,
		PeakHeap:    e.peak,
		Workers:     e.workers,
		StoredBytes: e.st.bytes() + uint64(cap(e.parent))*4 + uint64(cap(e.act))*2 +
			uint64(cap(e.blockOff))*8 + uint64(cap(e.terminal))*8 +
			uint64(cap(e.edgeStart))*8 + uint64(cap(e.edges))*4,
	}
	if secs > 0 {
		s.StatesPerSecond = float64(s.States) / secs
	}
	for i, k := range e.kinds {
		s.Fired = append(s.Fired, KindCount{Kind: k, Count: e.fired[i]})
	}
	return s
}

func (e *explorer[S, A]) reaches() []Reach[S, A] {
	out := make([]Reach[S, A], len(e.sometimes))
	for j, p := range e.sometimes {
		out[j] = Reach[S, A]{Name: e.props[p].Name}
		if id := e.reached[j]; id != noID {
			t := e.trace(e.pathTo(id))
			out[j].Reached, out[j].Trace = true, &t
		}
	}
	return out
}

func (e *explorer[S, A]) incomplete(depth int, reason string) *Result[S, A] {
	return &Result[S, A]{Verdict: Incomplete, Reason: reason, Sometimes: e.reaches(), Stats: e.stats(depth)}
}

func (e *explorer[S, A]) violation(depth int, f finding) *Result[S, A] {
	v := &Violation[S, A]{}
	switch {
	case f.state != noID && f.prop >= 0:
		v.Kind, v.Property = Invariant, e.props[f.prop].Name
		v.Trace = e.trace(e.pathTo(f.state))
	case f.state != noID:
		v.Kind, v.Property = Deadlock, "no deadlock"
		v.Trace = e.trace(e.pathTo(f.state))
		v.Explain = e.explain(v.Trace.States[len(v.Trace.States)-1])
	default:
		v.Kind, v.Property = StepInvariant, e.props[f.sprop].Name
		v.Trace = e.trace(append(e.pathTo(f.parent), f.index))
	}
	return &Result[S, A]{Verdict: Violated, Violation: v, Sometimes: e.reaches(), Stats: e.stats(depth)}
}

func (e *explorer[S, A]) explain(s S) []string {
	if x, ok := any(e.m).(Explainer[S]); ok {
		return x.Explain(s)
	}
	return nil
}

func (e *explorer[S, A]) finish(depth int) (*Result[S, A], error) {
	if e.opt.Livelock {
		if lim := e.opt.MemoryLimit; lim > 0 {
			metrics.Read(e.sample)
			per := uint64(livelockBytes)
			if e.opt.Fairness {
				per += fairBytes
			}
			if need := uint64(e.st.count) * per; e.sample[0].Value.Uint64()+need > lim {
				return e.incomplete(depth, fmt.Sprintf("memory bound of %d bytes: no room for the livelock check's %d bytes", lim, need)), nil
			}
		}
		if e.opt.Progress != nil {
			e.showProgress(depth, time.Now())
			fmt.Fprintf(e.opt.Progress, "\n%d states explored; checking for livelock ...", e.st.count)
		}
		if v := e.livelock(); v != nil {
			return &Result[S, A]{Verdict: Violated, Violation: v, Sometimes: e.reaches(), Stats: e.stats(depth)}, nil
		}
	}
	return &Result[S, A]{Verdict: OK, Sometimes: e.reaches(), Stats: e.stats(depth)}, nil
}

// pathTo returns the stored path to id: the index of its initial state, then
// the action index of each step.
func (e *explorer[S, A]) pathTo(id uint32) []int {
	var rev []int
	for id != noParent {
		rev = append(rev, int(e.act[id]))
		id = e.parent[id]
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

func (e *explorer[S, A]) trace(path []int) Trace[S, A] {
	t, err := Replay(e.m, path)
	if err != nil {
		// The path came from this search, so the model did not replay the
		// same way twice: it is not deterministic.
		panic(fmt.Sprintf("check: model is not deterministic: %v", err))
	}
	return t
}
