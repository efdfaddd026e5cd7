package check

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
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
	// MemoryLimit stops the check, in any pass, once the Go heap exceeds
	// this many bytes; 0 means no limit. The explorer does not touch the
	// runtime's own soft memory limit: that is the program's to set
	// (debug.SetMemoryLimit), as it is process-wide.
	MemoryLimit uint64
	// Livelock turns on the livelock check: every bottom strongly connected
	// component of the reachable graph must hold a terminal state. It stores
	// every edge, so it costs memory.
	Livelock bool
	// Fairness, with Livelock, also checks fair progress: no cycle without
	// a terminal state that a weakly fair run can follow forever. The model
	// must implement [Fair].
	Fairness bool
	// Progress, when not nil, is called with a snapshot of the check at the
	// start of each pass and about once a ProgressEvery (default one
	// second) while it runs, always from the goroutine that called
	// [Explore]. The final figures are in the [Result].
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Validate checks the model's contract ([Validate]) on every state the
	// search stores, not only on a sample: slower, for debugging a model.
	Validate bool
	// Fingerprint stores a 64-bit fingerprint of each state instead of
	// its encoding, and keeps an encoding only until the state is
	// expanded: a few bytes a state, for models past exact storage. Two
	// states with one fingerprint are taken for one, so the search may
	// miss a state and what lies beyond it: a violation it finds is real
	// (its trace is a path of the model), but a search that finds none is
	// [Incomplete], never OK, with the estimated odds of a miss in
	// Stats.MissProbability. It keeps no graph, so it cannot be asked
	// with Livelock.
	Fingerprint bool
	// PartialOrder turns on the partial-order reduction when the model is
	// a [Reducer]: a state where the model names an action that may be
	// taken alone is expanded by that action only. Deadlocks and the
	// violations of Always, AlwaysStep and Sometimes properties are found
	// as without it, and a counterexample is a path of the model (an
	// action's index is its index among all the state's actions); counts
	// are of the reduced graph. It cannot be asked with Livelock
	// ([ErrReducedLivelock]).
	PartialOrder bool

	_ struct{}
}

// ErrModelPanic is returned when the model panics, in any pass of a check.
var ErrModelPanic = errors.New("check: the model panicked")

// ErrReducedFairness is returned by [Explore] when Options.Fairness is
// asked of a model that identifies symmetric states ([Symmetric]): weak
// fairness names each actor, and the reduction permutes actors, so a fair
// cycle of the model need not show as one in the reduced graph.
var ErrReducedFairness = errors.New("check: fair progress is not checked on a symmetry-reduced model: weak fairness names each actor, and the reduction permutes them")

// ErrReducedLivelock is returned by [Explore] when Options.PartialOrder is
// asked with Options.Livelock: the reduced graph keeps every deadlock and
// every reachable violation, but not the cycles the livelock and
// fair-progress checks look for.
var ErrReducedLivelock = errors.New("check: the partial-order reduction keeps deadlocks and safety, not the cycles the livelock and fair-progress checks look at")

// ErrTooManyActions is returned when a state has more enabled actions than a
// trace step can index.
var ErrTooManyActions = errors.New("check: more than 65535 enabled actions in one state")

const (
	blockSize  = 256 // states per unit of parallel work; a multiple of 64
	windowSize = 32  // blocks expanded before the results are merged
	noParent   = math.MaxUint32
	noID       = math.MaxUint32
	// validateEvery is how often, in state ids, the search checks the
	// model's contract on a stored state when Options.Validate is off.
	validateEvery = 1024
	// passCheckEvery is how many steps a graph pass takes between looks
	// at the context, the memory bound and the progress callback.
	passCheckEvery = 1 << 14
)

// mutant names a deliberately seeded bug, set only by this package's tests to
// show that the tests catch it. Empty in every real run.
var mutant string

// Explore searches every state of m reachable from its initial states,
// breadth first, checking each property, deadlock freedom and, with
// opt.Livelock, livelock freedom. It stops at the first violation, which it
// reports with a shortest trace.
//
// Before searching it checks the model against its contract ([Validate]),
// and during the search it checks the contract again on a sample of the
// states it stores (on all of them with opt.Validate).
//
// The returned error is non-nil only when the search could not run: bad
// options, a model that breaks its contract, or a model that panicked, each
// naming the state. A violated property or a cut-short search is reported
// in the [Result].
func Explore[S, A any](ctx context.Context, m Model[S, A], opt Options) (res *Result[S, A], err error) {
	if opt.Workers < 0 || opt.MaxStates < 0 || opt.MaxDepth < 0 || opt.Timeout < 0 || opt.ProgressEvery < 0 {
		return nil, errors.New("check: negative bound in Options")
	}
	if opt.PartialOrder && opt.Livelock {
		return nil, ErrReducedLivelock
	}
	if opt.Fingerprint && opt.Livelock {
		return nil, errors.New("check: Options.Fingerprint keeps no graph of the states, which the livelock and fair-progress checks need")
	}
	if opt.Fairness {
		if _, ok := any(m).(Fair[A]); !ok || !opt.Livelock {
			return nil, errors.New("check: Options.Fairness needs Options.Livelock and a model that implements Fair")
		}
		if sym, ok := any(m).(Symmetric[S]); ok && sym.Reduced() {
			return nil, ErrReducedFairness
		}
	}
	if err := validate(m, validateWalk, opt); err != nil {
		return nil, err
	}
	if opt.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opt.Timeout)
		defer cancel()
	}
	e := newExplorer(m, opt)
	defer func() {
		// A model that panics outside the workers (in Init, in a graph
		// pass, while a trace is rebuilt) is a bug in the model too: say
		// where, as an error, rather than crash the caller.
		if r := recover(); r != nil {
			res, err = nil, e.panicError(r)
		}
	}()
	return e.run(ctx)
}

type explorer[S, A any] struct {
	m       Model[S, A]
	sym     Symmetric[S]  // nil unless the model identifies symmetric states
	fair    Fair[A]       // nil unless the model has actors
	reuse   Reuser[S, A]  // nil unless the model builds successors in place
	por     Reducer[S, A] // nil unless the partial-order reduction is on
	nactors int           // len(fair.Actors())
	opt     Options
	props   []Property[S, A]
	kinds   []string

	always, steps, sometimes []int // indices into props

	st       *store
	parent   []uint32
	act      []uint16
	blockOff []uint64 // arena offset of each state whose id is a multiple of blockSize
	levels   []uint32 // first id of each breadth-first level, then the total
	terminal []uint64 // bitset

	// Only with the livelock check: successors of state i are
	// edges[edgeStart[i]:edgeStart[i+1]], in action order.
	edgeStart paged[uint64]
	edges     paged[uint32]
	edgeBuf   []uint32 // scratch for an edge list that spans two pages

	fired       []uint64
	transitions uint64
	reached     []uint32 // per sometimes property: first id where it held, or noID

	start    time.Time
	lastShow time.Time
	peak     uint64
	sample   []metrics.Sample
	workers  int
	depth    int   // the level being searched, for progress reports
	phase    Phase // the pass under way, for progress reports

	// doing says what the main goroutine is doing with the model, for the
	// error when the model panics there; at is the state concerned, or
	// noID.
	doing string
	at    uint32
}

func newExplorer[S, A any](m Model[S, A], opt Options) *explorer[S, A] {
	e := &explorer[S, A]{m: m, opt: opt, props: m.Properties(), kinds: m.Kinds(), at: noID}
	if e.fair, _ = any(m).(Fair[A]); e.fair != nil {
		e.nactors = len(e.fair.Actors())
	}
	if sym, ok := any(m).(Symmetric[S]); ok && sym.Reduced() {
		e.sym = sym
	}
	e.reuse, _ = any(m).(Reuser[S, A])
	if opt.PartialOrder {
		e.por, _ = any(m).(Reducer[S, A])
	}
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
	e.st = newStore(opt.Fingerprint)
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

func (f finding) found() bool { return f.state != noID || f.parent != noID }

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
	// to is the id of the successor found by the worker's look-up, or
	// noID; then, below the depth bound, its encoding is keys[off:off+n].
	to uint32
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
	depthCut bool // only for the seeded bug "depth-bound-unchecked"
	err      error
}

type scratch[S, A any] struct {
	acts, again []A
	enc, enc2   []byte
	next        S // the storage NextInto reuses (Reuser)
}

// level gathers what the windows of one breadth-first level found.
type level struct {
	find     finding
	reached  []uint32
	depthCut bool   // a transition at the depth bound leads to a state not stored
	stop     string // why the search must stop now: a bound, a timeout, an interrupt
}

func (e *explorer[S, A]) run(ctx context.Context) (*Result[S, A], error) {
	e.start = time.Now()
	e.lastShow = e.start
	e.doing = "computing the initial states"
	for i, s := range e.m.Init() {
		key := e.m.Encode(nil, s)
		if _, _, err := e.add(key, e.st.hash(key), noParent, i); err != nil {
			return nil, err
		}
	}
	e.doing = ""
	e.levels = []uint32{0, uint32(e.st.count)}
	e.begin(PhaseSearch)
	outs := [2][]blockOut{make([]blockOut, windowSize), make([]blockOut, windowSize)}
	scr := make([]scratch[S, A], e.workers)
	for depth := 0; ; depth++ {
		e.depth = depth
		lo, hi := e.levels[depth], e.levels[depth+1]
		// At the depth bound the level's transitions are still taken and
		// checked, and their successors looked up: the search is complete
		// only if every one is stored already.
		atBound := e.opt.MaxDepth > 0 && depth >= e.opt.MaxDepth
		lv := level{find: noFinding(), reached: append([]uint32(nil), e.reached...)}
		// Blocks are aligned to multiples of blockSize. The helpers expand
		// one window of blocks while the main goroutine merges the one
		// before, then joins them: expansion reads only the current
		// level's entries, which the merge never changes, and its
		// look-ups of successors never return a wrong id while the
		// merge inserts (see store).
		lastBlock := (hi - 1) / blockSize
		window := func(b uint32) int { return min(windowSize, int(lastBlock-b+1)) }
		blockOff := e.blockOff[:len(e.blockOff):len(e.blockOff)]
		if e.opt.Fingerprint {
			e.st.free(blockOff[lo/blockSize])
		}
		cur := 0
		job := e.startWindow(lo/blockSize, lo, hi, window(lo/blockSize), atBound, blockOff, outs[cur], scr)
		job.finish(scr)
		for b := lo / blockSize; b <= lastBlock; b += windowSize {
			nb := window(b)
			next := b + windowSize
			job = nil
			if next <= lastBlock {
				job = e.startWindow(next, lo, hi, window(next), atBound, blockOff, outs[1-cur], scr)
			}
			err := e.mergeWindow(ctx, outs[cur][:nb], &lv, atBound)
			// A later bad state has a larger id, and bad states come
			// first; a bound ends the level where it tripped.
			stop := err != nil || lv.stop != "" || lv.find.state != noID
			if job != nil {
				if stop {
					job.cancel()
				}
				job.finish(scr)
			}
			if err != nil {
				return nil, err
			}
			if stop {
				break
			}
			cur = 1 - cur
		}
		// This is the one place that decides how the search ends. A
		// finding beats a bound: the violation is real whatever was cut.
		last := uint32(e.st.count) == hi
		if !(mutant == "last-level" && last) {
			e.reached = lv.reached
			if lv.find.found() {
				return e.violation(depth, lv.find), nil
			}
		}
		switch {
		case lv.stop != "":
			return e.incomplete(depth, lv.stop), nil
		case lv.depthCut:
			return e.incomplete(depth, fmt.Sprintf("depth bound of %d reached", e.opt.MaxDepth)), nil
		case last:
			return e.finish(ctx, depth)
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

// mergeWindow folds a window's findings into the level's, then merges its
// blocks in order. It sets lv.stop when a bound or the context ends the
// search; the findings of every block of the window are kept even so.
func (e *explorer[S, A]) mergeWindow(ctx context.Context, outs []blockOut, lv *level, atBound bool) error {
	for i := range outs {
		o := &outs[i]
		if o.err != nil {
			return e.blockError(o.err)
		}
		if o.find.before(lv.find) {
			lv.find = o.find
		}
		for j, r := range o.reached {
			lv.reached[j] = min(lv.reached[j], r)
		}
		lv.depthCut = lv.depthCut || o.depthCut
	}
	for i := range outs {
		full, cut, err := e.merge(&outs[i], atBound)
		if err != nil {
			return err
		}
		lv.depthCut = lv.depthCut || cut
		if full {
			lv.stop = fmt.Sprintf("state bound of %d reached", e.opt.MaxStates)
			if mutant == "bound-drops-finding" {
				lv.find = noFinding() // seeded bug: the bound hides the finding
			}
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		lv.stop = interruptReason(err)
		return nil
	}
	lv.stop = e.watch()
	return nil
}

// windowJob is the expansion of one window of blocks: the helpers take
// its blocks one at a time, and the main goroutine joins them when it has
// merged the window before, so that Workers goroutines in all expand and
// one of them also merges.
type windowJob[S, A any] struct {
	e        *explorer[S, A]
	first    uint32 // the window's first block
	lo, hi   uint32 // the level's states
	nb       int    // blocks in the window
	atBound  bool
	blockOff []uint64
	outs     []blockOut // outs[i] receives block first+i
	next     atomic.Int64
	wg       sync.WaitGroup
}

// startWindow starts expanding the nb blocks of the level's states [lo,
// hi) from block number first on Workers-1 helpers, each with its own
// scratch scr[w]; the main goroutine's is the last. blockOff is the arena
// offset of each block's first entry.
func (e *explorer[S, A]) startWindow(first, lo, hi uint32, nb int, atBound bool, blockOff []uint64, outs []blockOut, scr []scratch[S, A]) *windowJob[S, A] {
	j := &windowJob[S, A]{e: e, first: first, lo: lo, hi: hi, nb: nb, atBound: atBound, blockOff: blockOff, outs: outs}
	for w := range min(len(scr)-1, nb) {
		j.wg.Add(1)
		go func() {
			defer j.wg.Done()
			j.work(&scr[w])
		}()
	}
	return j
}

// work expands blocks of the window until none is left.
func (j *windowJob[S, A]) work(sc *scratch[S, A]) {
	for {
		i := int(j.next.Add(1) - 1)
		if i >= j.nb {
			return
		}
		start := (j.first + uint32(i)) * blockSize
		j.e.expandBlock(max(j.lo, start), min(start+blockSize, j.hi), j.atBound, j.blockOff, &j.outs[i], sc)
	}
}

// finish has the main goroutine expand what is left of the window, with
// the last scratch, and waits for the helpers.
func (j *windowJob[S, A]) finish(scr []scratch[S, A]) {
	j.work(&scr[len(scr)-1])
	j.wg.Wait()
}

// cancel leaves the window's remaining blocks unexpanded: the search is
// stopping.
func (j *windowJob[S, A]) cancel() { j.next.Store(int64(j.nb)) }

// stateError is a failure of the model at one stored state, found by a
// worker; the main goroutine names the state by its path before reporting.
type stateError struct {
	id   uint32
	what string
	err  error
}

func (x *stateError) Error() string { return fmt.Sprintf("%v: %s state %d", x.err, x.what, x.id) }
func (x *stateError) Unwrap() error { return x.err }

func (e *explorer[S, A]) expandBlock(lo, hi uint32, atBound bool, blockOff []uint64, o *blockOut, sc *scratch[S, A]) {
	id := lo
	defer func() {
		// A model that panics is a bug in the model; say where, as an
		// error, rather than crash the program that runs the search.
		if r := recover(); r != nil {
			o.err = &stateError{id: id, what: fmt.Sprintf("%v, expanding", r), err: ErrModelPanic}
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
			o.err = &stateError{id: id, what: "in", err: ErrTooManyActions}
			return
		}
		if e.opt.Validate || id%validateEvery == 0 {
			if msg := e.validateState(s, key, sc); msg != "" {
				o.err = &stateError{id: id, what: msg + ", in", err: ErrInvalidModel}
				return
			}
		}
		if len(sc.acts) == 0 && !term && o.find.state == noID {
			o.find.state, o.find.prop = id, -1
		}
		if atBound && mutant == "depth-bound-unchecked" {
			// Seeded bug: at the depth bound only look the successors
			// up, leaving their transitions unchecked and uncounted.
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
		// With the partial-order reduction, only the ample action, by
		// its index among them all.
		acts, first := sc.acts, 0
		if e.por != nil {
			if i := e.por.Ample(s, acts); i >= 0 && i < len(acts) {
				acts, first = acts[i:i+1], i
			}
		}
		for i, a := range acts {
			i += first
			t := e.next(s, a, sc)
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
			c := cand{hash: h, parent: id, index: uint16(i), to: noID}
			// With more than one worker, the look-up runs while the
			// merge inserts, and may miss a state stored meanwhile: the
			// merge settles a miss (on one worker it leaves them all to
			// the merge). At the depth bound nothing is inserted, and a
			// miss is final.
			if atBound || e.workers > 1 {
				if to, ok := e.st.lookup(sc.enc, h); ok {
					c.to = to
				}
			}
			if c.to == noID && !atBound {
				c.off, c.n = uint32(len(o.keys)), uint32(len(sc.enc))
				o.keys = append(o.keys, sc.enc...)
			}
			o.cands = append(o.cands, c)
		}
	}
}

// next is m.Next(s, a), built in sc's reused storage when the model is a
// [Reuser]; the state returned is valid until the next call with sc.
func (e *explorer[S, A]) next(s S, a A, sc *scratch[S, A]) S {
	if e.reuse == nil {
		return e.m.Next(s, a)
	}
	sc.next = e.reuse.NextInto(sc.next, s, a)
	return sc.next
}

// merge adds a block's new states to the store in order, and its edges
// and terminal bits; at the depth bound it adds no state, and reports cut
// when a successor is not stored. It reports full when the state bound
// stopped it.
func (e *explorer[S, A]) merge(o *blockOut, atBound bool) (full, cut bool, err error) {
	for k, c := range o.fired {
		e.fired[k] += c
	}
	e.transitions += o.trans
	for i, w := range o.term {
		if w != 0 {
			e.terminal[int(o.first)/64+i] |= w
		}
	}
	if e.opt.Livelock && e.edgeStart.len() == 0 {
		e.edgeStart.add(0)
	}
	for _, c := range o.cands {
		id := c.to
		if atBound {
			cut = cut || id == noID
		} else if id == noID {
			key := o.keys[c.off : c.off+c.n]
			if e.opt.MaxStates > 0 && e.st.count >= e.opt.MaxStates {
				if _, ok := e.st.lookup(key, c.hash); !ok {
					return true, cut, nil
				}
			}
			if id, _, err = e.add(key, c.hash, c.parent, int(c.index)); err != nil {
				return false, cut, err
			}
		}
		if e.opt.Livelock {
			e.edges.add(id)
		}
	}
	if e.opt.Livelock {
		for _, d := range o.deg {
			e.edgeStart.add(e.edgeStart.last() + uint64(d))
		}
	}
	return false, cut, nil
}

// begin opens a pass and tells the progress callback.
func (e *explorer[S, A]) begin(p Phase) {
	e.phase = p
	if e.opt.Progress != nil {
		e.lastShow = time.Now()
		e.opt.Progress(e.snapshot(true, 0))
	}
}

// watch enforces the memory bound and reports progress; it returns a
// reason to stop, or "". settled is how far a graph pass has got.
func (e *explorer[S, A]) watch(settled ...int) string {
	metrics.Read(e.sample)
	heap := e.sample[0].Value.Uint64()
	e.peak = max(e.peak, heap)
	if e.opt.MemoryLimit > 0 && heap > e.opt.MemoryLimit {
		return fmt.Sprintf("memory bound of %d bytes reached", e.opt.MemoryLimit)
	}
	if e.opt.Progress != nil {
		if now := time.Now(); now.Sub(e.lastShow) >= e.opt.ProgressEvery {
			e.lastShow = now
			n := 0
			if len(settled) > 0 {
				n = settled[0]
			}
			e.opt.Progress(e.snapshot(false, n))
		}
	}
	return ""
}

func (e *explorer[S, A]) snapshot(start bool, settled int) Progress {
	metrics.Read(e.sample)
	heap := e.sample[0].Value.Uint64()
	e.peak = max(e.peak, heap)
	return Progress{
		Phase: e.phase, Start: start, States: e.st.count, Transitions: e.transitions,
		Depth: e.depth, Settled: settled, Elapsed: time.Since(e.start), Heap: heap,
	}
}

// passCheck is how a graph pass looks at the context and the bounds every
// passCheckEvery steps; it returns a reason to stop, or "".
func (e *explorer[S, A]) passCheck(ctx context.Context, steps uint64, settled int) string {
	// The first step looks too, so that even a small pass notices a
	// context cancelled before it began.
	if (steps != 1 && steps%passCheckEvery != 0) || mutant == "passes-ignore-ctx" {
		return ""
	}
	if err := ctx.Err(); err != nil {
		return interruptReason(err) + " during the " + e.phase.String() + " pass"
	}
	if r := e.watch(settled); r != "" {
		return r + " during the " + e.phase.String() + " pass"
	}
	return ""
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
	s := Stats{
		States:       e.st.count,
		Transitions:  e.transitions,
		Depth:        depth,
		Seconds:      secs,
		PeakHeap:     e.peak,
		Workers:      e.workers,
		Fingerprint:  e.opt.Fingerprint,
		PartialOrder: e.por != nil,
		StoredBytes: e.st.bytes() + uint64(cap(e.parent))*4 + uint64(cap(e.act))*2 +
			uint64(cap(e.blockOff))*8 + uint64(cap(e.terminal))*8 +
			e.edgeStart.bytes(8) + e.edges.bytes(4),
	}
	if secs > 0 {
		s.StatesPerSecond = float64(s.States) / secs
	}
	if e.opt.Fingerprint {
		// Each pair of the n states stored shares a fingerprint with
		// odds 2^-64: the union bound over the pairs (hash compaction's
		// estimate, for a hash that spreads the encodings evenly).
		n := float64(s.States)
		s.MissProbability = min(1, n*(n-1)/2/math.Exp2(64))
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
			t := e.trace(e.pathTo(id), id)
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
		v.Trace = e.trace(e.pathTo(f.state), f.state)
	case f.state != noID:
		v.Kind, v.Property = Deadlock, "no deadlock"
		v.Trace = e.trace(e.pathTo(f.state), f.state)
		v.Explain = e.explain(v.Trace.States[len(v.Trace.States)-1], f.state)
	default:
		v.Kind, v.Property = StepInvariant, e.props[f.sprop].Name
		p := e.props[f.sprop]
		v.Trace = e.traceEnding(append(e.pathTo(f.parent), f.index), f.parent, func(from S, a A, to S) bool { return !p.Step(from, a, to) })
	}
	return e.violated(depth, v)
}

func (e *explorer[S, A]) violated(depth int, v *Violation[S, A]) *Result[S, A] {
	return &Result[S, A]{Verdict: Violated, Violation: v, Sometimes: e.reaches(), Stats: e.stats(depth)}
}

func (e *explorer[S, A]) explain(s S, id uint32) []string {
	x, ok := any(e.m).(Explainer[S])
	if !ok {
		return nil
	}
	// Not deferred: after a panic, Explore's recovery reads what was
	// being done.
	e.doing, e.at = "explaining", id
	lines := x.Explain(s)
	e.doing, e.at = "", noID
	return lines
}

// finish runs the graph passes after a complete search: each honours the
// context and the bounds as the search does.
func (e *explorer[S, A]) finish(ctx context.Context, depth int) (*Result[S, A], error) {
	if e.opt.Fingerprint && mutant != "fingerprint-proves" {
		st := e.stats(depth)
		return &Result[S, A]{Verdict: Incomplete, Reason: fmt.Sprintf(
			"fingerprint search: a state may have been missed, with estimated odds %.1e", st.MissProbability),
			Sometimes: e.reaches(), Stats: st}, nil
	}
	if !e.opt.Livelock {
		return &Result[S, A]{Verdict: OK, Sometimes: e.reaches(), Stats: e.stats(depth)}, nil
	}
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
	// Each pass looks at the context as it begins, however little work
	// it then has: a check interrupted before a pass is incomplete.
	e.begin(PhaseLivelock)
	v, comp, ncomp, reason := e.livelock(ctx)
	if reason == "" && v == nil && e.opt.Fairness {
		e.begin(PhaseFairness)
		if reason = e.passCheck(ctx, 1, 0); reason == "" {
			v, reason = e.fairCycle(ctx, comp, ncomp)
		}
	}
	switch {
	case reason != "":
		return e.incomplete(depth, reason), nil
	case v != nil:
		return e.violated(depth, v), nil
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

// errNondeterministic is what trace panics with when a stored path does not
// replay; Explore's recovery turns it into its error.
type errNondeterministic struct{ err error }

// trace rebuilds the trace along path, a path the search stored to state
// id (or through it).
func (e *explorer[S, A]) trace(path []int, id uint32) Trace[S, A] {
	return e.traceEnding(path, id, nil)
}

// traceEnding is trace for a counterexample whose last step must break a
// step invariant: in a reduced model, of the real actions that reach the
// stored successor, one that breaks it (see replayReduced).
func (e *explorer[S, A]) traceEnding(path []int, id uint32, lastStep func(from S, a A, to S) bool) Trace[S, A] {
	e.doing, e.at = "rebuilding the trace to", id
	t, err := e.replay(path, lastStep)
	e.doing, e.at = "", noID
	if err != nil {
		// The path came from this search, so the model did not replay the
		// same way twice: it is not deterministic.
		panic(errNondeterministic{fmt.Errorf("%w: the path to state %d no longer replays (%v): the model is not deterministic", ErrInvalidModel, id, err)})
	}
	return t
}

// edgeFrom returns where state x's edges begin in e.edges; edgeFrom(x+1) is
// where they end.
func (e *explorer[S, A]) edgeFrom(x uint32) uint64 { return e.edgeStart.at(uint64(x)) }

// out returns the successors of state x, in its action order. The slice
// is the graph's own, or the explorer's scratch: read it before the next
// call.
func (e *explorer[S, A]) out(x uint32) []uint32 {
	return e.edges.span(e.edgeFrom(x), e.edgeFrom(x+1), &e.edgeBuf)
}

// closeLoop closes a lasso rebuilt in a reduced model (see [closeLoop]);
// it does nothing for a model that is not reduced.
func (e *explorer[S, A]) closeLoop(t *Trace[S, A], cycle []int, id uint32) {
	if e.sym == nil {
		return
	}
	if err := closeLoop(e.m, e.sym, t, cycle); err != nil {
		panic(errNondeterministic{fmt.Errorf("%w: the lasso through state %d: %v", ErrInvalidModel, id, err)})
	}
}

// replay rebuilds the trace along a stored path: by Replay, or in a
// reduced model by matching each step (replayReduced, with lastStep).
func (e *explorer[S, A]) replay(path []int, lastStep func(from S, a A, to S) bool) (Trace[S, A], error) {
	if e.sym != nil {
		return replayReduced(e.m, path, lastStep)
	}
	return Replay(e.m, path)
}

// panicError turns a panic in the main goroutine into Explore's error.
func (e *explorer[S, A]) panicError(r any) error {
	if x, ok := r.(errNondeterministic); ok {
		return x.err
	}
	where := e.doing
	if where == "" {
		where = "in the " + e.phase.String() + " pass"
	}
	if e.at != noID {
		return e.blockError(&stateError{id: e.at, what: fmt.Sprintf("%v, %s", r, where), err: ErrModelPanic})
	}
	return fmt.Errorf("%w: %v, %s", ErrModelPanic, r, where)
}

// blockError names the state of a stateError by the path that reaches it,
// so that a person can find it in the model.
func (e *explorer[S, A]) blockError(err error) error {
	var x *stateError
	if !errors.As(err, &x) || int(x.id) >= len(e.parent) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, e.describe(x.id))
}

// describe names a stored state by the labels of the path to it; it falls
// back to the action indices when the model cannot replay them.
func (e *explorer[S, A]) describe(id uint32) (out string) {
	path := e.pathTo(id)
	defer func() {
		if recover() != nil {
			out = fmt.Sprintf("reached by the action indices %v", path)
		}
	}()
	t, err := e.replay(path, nil)
	if err != nil {
		return fmt.Sprintf("reached by the action indices %v", path)
	}
	if len(t.Steps) == 0 {
		return fmt.Sprintf("initial state %d", t.Init)
	}
	var labels []string
	for _, s := range t.Steps {
		labels = append(labels, strings.TrimSpace(s.Label.Actor+" "+s.Label.Text))
	}
	const most = 12
	if len(labels) > most {
		labels = append([]string{fmt.Sprintf("... %d steps", len(labels)-most)}, labels[len(labels)-most:]...)
	}
	return "reached by: " + strings.Join(labels, "; ")
}
