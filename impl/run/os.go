package run

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysmsg/sysmsg/impl/kernel/host"
	"github.com/sysmsg/sysmsg/impl/sched"
	"github.com/sysmsg/sysmsg/model/workload"
	"golang.org/x/sys/unix"
)

// OS runs w on the host kernel: pipes are pipes, conns socket pairs (or
// loopback TCP connections with Options.TCP), each item one byte, each
// process a scheduler in its own goroutine, each peer a goroutine outside
// every cap. The watchdog (Options.StuckAfter) turns a run that makes no
// progress into a stuck result with the dump. Channels hold more than the
// workload's capacities (a pipe holds a page or more), so a write can go
// through where the model's would wait.
func OS(w *workload.Workload, o Options) (*Result, error) {
	pcs, err := portConfigs(w, o)
	if err != nil {
		return nil, err
	}
	stuckAfter := o.StuckAfter
	if stuckAfter == 0 {
		stuckAfter = 2 * time.Second
	}
	k, err := host.New()
	if err != nil {
		return nil, err
	}
	defer k.Close()

	objs := make([]fds, len(w.Objects))
	names := map[int]string{}
	var owned []int // descriptors to close at the end
	defer func() {
		for _, fd := range owned {
			k.Forget(fd)
			unix.Close(fd)
		}
	}()
	for i, ob := range w.Objects {
		f := fds{kind: ob.Kind, capacity: ob.Capacity}
		switch ob.Kind {
		case workload.Pipe:
			f.r, f.w, err = k.Pipe()
			owned = append(owned, f.r, f.w)
			names[f.r], names[f.w] = ob.Name, ob.Name
		case workload.Conn:
			if o.TCP {
				f.local, f.remote, err = k.LoopbackPair()
			} else {
				f.local, f.remote, err = k.Socketpair()
			}
			owned = append(owned, f.local, f.remote)
			names[f.local], names[f.remote] = ob.Name, ob.Name+" (peer)"
		case workload.Queue:
			f.queue = sched.NewQueue[int](ob.Name, ob.Capacity)
		}
		if err != nil {
			return nil, err
		}
		objs[i] = f
	}
	describe := func(fd int) string {
		if n, ok := names[fd]; ok {
			return n
		}
		return fmt.Sprintf("fd %d", fd)
	}

	threads := make([]*sched.Thread, len(w.Threads))
	var procs []Proc
	var scheds []*sched.Scheduler
	// With Options.Record every process's events go to one log, in the
	// order the processes' goroutines trace them. Completions happen in
	// the host kernel and peers' steps in their goroutines: neither is
	// logged.
	var logMu sync.Mutex
	var log []sched.Event
	for pi, p := range w.Processes {
		pc := pcs[pi]
		var trace func(sched.Event)
		if o.Record {
			trace = func(e sched.Event) {
				logMu.Lock()
				e.Proc = pi
				log = append(log, e)
				logMu.Unlock()
			}
		}
		s, err := sched.New(sched.Config{Name: p.Name, Port: pc, Kernel: k, Reaper: p.Reaper >= 0, Describe: describe, Trace: trace})
		if err != nil {
			return nil, fmt.Errorf("%w: process %s: %w", ErrRun, p.Name, err)
		}
		for _, ti := range p.Threads {
			threads[ti] = s.Go(w.Threads[ti].Name, program(w.Threads[ti], objs, threads))
			reserve(w, objs, threads, ti)
		}
		scheds = append(scheds, s)
		procs = append(procs, Proc{Name: p.Name, Cap: pc.Cap, Low: s.Port().Low(), Reserve: pc.Reserve, Policy: pc.Policy})
	}

	start := time.Now()
	stop := make(chan struct{})
	var stopped atomic.Bool
	halt := sync.OnceFunc(func() { stopped.Store(true); close(stop) })
	defer halt()

	peers := make([]*osPeer, len(w.Peers))
	var peerWG sync.WaitGroup
	for i, p := range w.Peers {
		op := &osPeer{w: w, objs: objs, peer: p}
		peers[i] = op
		peerWG.Go(func() { op.run(stopped.Load) })
	}

	var interrupted atomic.Bool
	if o.Interrupt != nil {
		go func() {
			select {
			case <-o.Interrupt:
				interrupted.Store(true)
				halt()
			case <-stop:
			}
		}()
	}

	errs := make([]error, len(scheds))
	var procWG sync.WaitGroup
	for i, s := range scheds {
		procWG.Go(func() {
			errs[i] = s.Run(sched.RunOptions{StuckAfter: stuckAfter, Finite: true, Stop: stop})
			var se *sched.StuckError
			if errors.As(errs[i], &se) {
				halt() // one stuck process ends the run
			}
		})
	}
	procWG.Wait()

	r := &Result{Title: w.Title, Backend: "os", Log: log}
	var dumps []string
	for i, err := range errs {
		var se *sched.StuckError
		switch {
		case errors.As(err, &se):
			r.Stuck = true
			r.Reason = fmt.Sprintf("watchdog: process %s made no progress for %v", scheds[i].Name(), se.After)
			dumps = append(dumps, se.Dump.String())
		case err == nil:
		default:
			dumps = append(dumps, scheds[i].Dump().String())
		}
	}
	if !r.Stuck && !interrupted.Load() {
		// The processes are done; the peers must finish too.
		done := make(chan struct{})
		go func() { peerWG.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(stuckAfter):
			r.Stuck = true
			r.Reason = fmt.Sprintf("watchdog: the processes finished and a peer made no progress for %v", stuckAfter)
		}
	}
	halt()
	peerWG.Wait()
	r.Elapsed = time.Since(start)
	if interrupted.Load() {
		// Whatever the threads did when the run was halted, it was cut
		// short: neither finished nor stuck.
		r.Interrupted, r.Stuck, r.Reason, dumps = true, false, "interrupted", nil
	}
	r.Finished = !r.Stuck && !r.Interrupted
	var pb strings.Builder
	for _, p := range peers {
		fmt.Fprintf(&pb, "  %s: %s\n", p.peer.Name, p.state())
	}
	if r.Stuck {
		r.Dump = "STUCK: " + r.Reason + "\n" + strings.Join(dumps, "") + "peers:\n" + pb.String()
	}
	var shutErr error
	for i, s := range scheds {
		procs[i].Stats = s.Stats()
		if err := s.Shutdown(time.Second); err != nil && shutErr == nil {
			shutErr = fmt.Errorf("run: process %s: %w", s.Name(), err)
		}
	}
	r.Procs = procs
	return r, shutErr
}

// osPeer is a workload peer on the host kernel: a goroutine doing its
// operations on the peer ends, outside every cap.
type osPeer struct {
	w    *workload.Workload
	objs []fds
	peer workload.Peer
	pc   atomic.Int64
}

func (p *osPeer) state() string {
	pc := int(p.pc.Load())
	if pc >= len(p.peer.Ops) {
		return "done"
	}
	return "waiting to " + describeOp(p.peer.Ops[pc], p.w)
}

func (p *osPeer) run(stop func() bool) {
	buf := []byte{'x'}
	for i, op := range p.peer.Ops {
		fd, shut := p.objs[op.Object].peerFD(op.Kind)
		var err error
		switch {
		case op.Kind == workload.Send:
			_, err = host.PeerIO(true, fd, buf, 20, stop)
		case op.Kind == workload.Recv:
			_, err = host.PeerIO(false, fd, buf, 20, stop)
		case shut:
			err = unix.Shutdown(fd, unix.SHUT_WR)
		default:
			err = unix.Close(fd) // a peer's close of a pipe
		}
		if errors.Is(err, unix.ECANCELED) {
			return
		}
		p.pc.Store(int64(i + 1))
	}
}
