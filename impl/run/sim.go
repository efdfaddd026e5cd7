package run

import (
	"fmt"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
	"github.com/sysmsg/sysmsg/model/workload"
)

// Chooser picks the simulated schedule; see [sim.Chooser].
type Chooser = sim.Chooser

// Sim runs w on the simulated kernel until it finishes, is stuck, or has
// made Options.MaxSteps moves (Result.Bounded). The error is for a run that
// could not start (a bad cap or low for the workload); a stuck run is a
// result, not an error.
func Sim(w *workload.Workload, o Options) (*Result, error) {
	world, procs, err := buildSim(w, o)
	if err != nil {
		return nil, err
	}
	c := o.Chooser
	if c == nil {
		c = sim.Random(o.Seed)
	}
	max := o.MaxSteps
	if max == 0 {
		max = 1_000_000
	}
	world.Interrupt = o.Interrupt
	out := world.Run(c, max)
	r := &Result{Title: w.Title, Backend: "sim", Finished: out.Finished, Stuck: out.Stuck, Reason: out.Reason,
		Steps: out.Steps, Log: world.Log, Interrupted: out.Interrupted}
	if out.Stuck && out.Steps == max {
		// The world reports the bound as stuck; it is not: the run was
		// cut short.
		r.Stuck, r.Bounded = false, true
	}
	if r.Stuck {
		r.Dump = out.String()
	}
	for i, s := range world.Procs {
		procs[i].Stats = s.Stats()
		r.Procs = append(r.Procs, procs[i])
	}
	for _, s := range world.Procs {
		if err := s.Shutdown(0); err != nil {
			return r, fmt.Errorf("run: process %s: %w", s.Name(), err)
		}
	}
	return r, nil
}

func buildSim(w *workload.Workload, o Options) (*sim.World, []Proc, error) {
	k := sim.New()
	world := &sim.World{Kernel: k, Record: o.Record, Fine: o.Fine}
	objs := make([]fds, len(w.Objects))
	for i, ob := range w.Objects {
		f := fds{kind: ob.Kind, capacity: ob.Capacity}
		switch ob.Kind {
		case workload.Pipe:
			f.r, f.w = k.NewPipe(ob.Name, ob.Capacity)
		case workload.Conn:
			f.local, f.remote = k.NewConn(ob.Name, ob.Capacity)
		case workload.Queue:
			f.queue = sched.NewQueue[int](ob.Name, ob.Capacity)
		}
		objs[i] = f
	}
	threads := make([]*sched.Thread, len(w.Threads))
	var procs []Proc
	pcs, err := portConfigs(w, o)
	if err != nil {
		return nil, nil, err
	}
	for pi, p := range w.Processes {
		pc := pcs[pi]
		s, err := sched.New(sched.Config{Name: p.Name, Port: pc, Kernel: k, Reaper: p.Reaper >= 0,
			Describe: k.Name, Trace: world.Tracer(pi)})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: process %s: %w", ErrRun, p.Name, err)
		}
		for _, ti := range p.Threads {
			threads[ti] = s.Go(w.Threads[ti].Name, program(w.Threads[ti], objs, threads))
			reserve(w, objs, threads, ti)
		}
		world.Procs = append(world.Procs, s)
		procs = append(procs, Proc{Name: p.Name, Cap: pc.Cap, Low: s.Port().Low(), Reserve: pc.Reserve, Policy: pc.Policy})
	}
	for _, p := range w.Peers {
		world.Peers = append(world.Peers, &simPeer{w: w, k: k, objs: objs, peer: p})
	}
	return world, procs, nil
}

// simPeer is a workload peer on the simulated kernel: each operation is
// done outside the cap when it can proceed.
type simPeer struct {
	w    *workload.Workload
	k    *sim.Kernel
	objs []fds
	peer workload.Peer
	pc   int
	buf  [1]byte
}

func (p *simPeer) Name() string { return p.peer.Name }
func (p *simPeer) Done() bool   { return p.pc == len(p.peer.Ops) }

func (p *simPeer) Doing() string {
	if p.Done() {
		return "nothing"
	}
	return describeOp(p.peer.Ops[p.pc], p.w)
}

func (p *simPeer) op() (port.Op, int) {
	op := p.peer.Ops[p.pc]
	fd, _ := p.objs[op.Object].peerFD(op.Kind)
	switch op.Kind {
	case workload.Send:
		return port.OpWrite, fd
	case workload.Recv:
		return port.OpRead, fd
	}
	return port.OpClose, fd
}

func (p *simPeer) Ready() bool {
	op, fd := p.op()
	return p.k.Can(op, fd)
}

func (p *simPeer) Step() {
	op, fd := p.op()
	p.buf[0] = 'x'
	if _, ok := p.k.Do(op, fd, p.buf[:]); ok {
		p.pc++
	}
}
