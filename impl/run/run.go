package run

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
	"github.com/sysmsg/sysmsg/model/workload"
)

// ErrRun is wrapped by the errors of a run that could not start: a bad
// configuration for the workload.
var ErrRun = errors.New("run: bad configuration")

// Options configure a run.
type Options struct {
	// Cap, when not 0, replaces every process's cap (≥ 1, or
	// workload.Unlimited).
	Cap int
	// Low, unless workload.Unset, replaces every process's low-water mark;
	// workload.Effective gives the rule, the same as the model's. The zero
	// value is a mark of 0: set Low to workload.Unset for the workload's
	// own or the default ⌊(cap−1)/2⌋.
	Low    int
	Policy port.Policy

	// Seed picks the simulated schedule when Chooser is nil.
	Seed uint64
	// Chooser picks the simulated schedule; nil is sim.Random(Seed).
	Chooser Chooser
	// MaxSteps bounds a simulated run; 0 is 1,000,000.
	MaxSteps int
	// Fine offers the chooser every runnable thread and every waiting
	// reply, not only the head of a run queue and the oldest reply (see
	// sim.World.Fine): for a chooser that follows a model path. The
	// host back end ignores it.
	Fine bool
	// Record keeps the event log in Result.Log, for [Check]. A host run's
	// log has no completions (the host kernel makes them) and is in the
	// order the processes traced their events.
	Record bool

	// Interrupt, when it closes, ends the run at once with
	// Result.Interrupted and the figures so far (Ctrl-C, SIGTERM); nil
	// never does.
	Interrupt <-chan struct{}

	// StuckAfter is the host back end's watchdog; 0 is 2 seconds.
	StuckAfter time.Duration
	// TCP makes the host back end's conns loopback TCP connections instead
	// of socket pairs.
	TCP bool

	_ struct{}
}

// Proc is one process's configuration and counters after a run.
type Proc struct {
	Name    string
	Cap     int
	Low     int
	Reserve int
	Policy  port.Policy
	Stats   sched.Stats
}

// Result is how a run ended.
type Result struct {
	Title    string
	Backend  string
	Finished bool
	// Stuck: the run could not go on; Reason says why and Dump shows it.
	Stuck bool
	// Bounded: a simulated run made Options.MaxSteps moves without
	// finishing or getting stuck; Reason says so. It shows neither.
	Bounded bool
	// Interrupted: Options.Interrupt closed before the run ended; like a
	// bounded run it shows nothing.
	Interrupted bool
	Reason      string
	Dump        string
	// Steps is the number of simulated moves; Elapsed the host run's time.
	Steps   int
	Elapsed time.Duration
	Procs   []Proc
	// Log is the event log, when Options.Record is set.
	Log []sched.Event
}

// Totals sums the processes' counters.
func (r *Result) Totals() sched.Stats {
	var t sched.Stats
	for _, p := range r.Procs {
		t.Sends += p.Stats.Sends
		t.Completions += p.Stats.Completions
		t.Reaps += p.Stats.Reaps
		t.ModeChanges += p.Stats.ModeChanges
		t.CapHits += p.Stats.CapHits
		t.MaxInFlight = max(t.MaxInFlight, p.Stats.MaxInFlight)
		t.Polls += p.Stats.Polls
		t.WouldBlocks += p.Stats.WouldBlocks
		t.Steps += p.Stats.Steps
	}
	return t
}

// Summary is the report sysmsg run prints. A simulated run's has no wall
// time, so that the same seed prints the same text.
func (r *Result) Summary() string {
	var b strings.Builder
	verdict := "finished"
	switch {
	case r.Stuck:
		verdict = "STUCK: " + r.Reason
	case r.Bounded:
		verdict = "INCOMPLETE: " + r.Reason + ", which shows nothing"
	case r.Interrupted:
		verdict = "INCOMPLETE: interrupted, which shows nothing"
	}
	fmt.Fprintf(&b, "%s — %s\n", r.Title, verdict)
	if r.Backend == "sim" {
		fmt.Fprintf(&b, "  time          %d steps (simulated)\n", r.Steps)
	} else {
		fmt.Fprintf(&b, "  time          %v\n", r.Elapsed.Round(time.Microsecond))
	}
	t := r.Totals()
	fmt.Fprintf(&b, "  replies       %d\n", t.Reaps)
	fmt.Fprintf(&b, "  polls         %d (%d would block)\n", t.Polls, t.WouldBlocks)
	fmt.Fprintf(&b, "  mode changes  %d\n", t.ModeChanges)
	for _, p := range r.Procs {
		fmt.Fprintf(&b, "  process %s: policy %s, cap %s, low %d: sends %d, replies %d, polls %d, mode changes %d, cap reached %d times, max in flight %d\n",
			p.Name, p.Policy, capText(p.Cap), p.Low, p.Stats.Sends, p.Stats.Reaps, p.Stats.Polls,
			p.Stats.ModeChanges, p.Stats.CapHits, p.Stats.MaxInFlight)
	}
	if r.Stuck {
		b.WriteString(r.Dump)
	}
	return b.String()
}

func capText(c int) string {
	if c == workload.Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(c)
}

// portConfigs are the processes' ports under o: the caps and low-water
// marks of workload.Effective, the rule the model follows too, so that a
// run and a check of the same workload and flags agree or are both
// refused.
func portConfigs(w *workload.Workload, o Options) ([]port.Config, error) {
	set, err := workload.Effective(w, o.Policy, o.Cap, o.Low)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRun, err)
	}
	// The completion-queue bound and the dropped cancel are kernel and
	// runtime behaviours the model checks; the scheduler and the kernels
	// here do not have them, and a run of them would be a run of another
	// design.
	for _, p := range w.Processes {
		switch {
		case p.CQ > 0:
			return nil, fmt.Errorf("%w: %s:%d:%d: process %s: a completion-queue bound (cq %d) is checked by the model, not run: the kernels here have no completion queue to bound",
				ErrRun, w.File, p.CQPos.Line, p.CQPos.Col, p.Name, p.CQ)
		case p.SQ > 0:
			return nil, fmt.Errorf("%w: %s:%d:%d: process %s: a submission ring (sq %d) is checked by the model, not run: the scheduler here submits every call as it sends it",
				ErrRun, w.File, p.SQPos.Line, p.SQPos.Col, p.Name, p.SQ)
		case p.DropCancels:
			return nil, fmt.Errorf("%w: %s:%d:%d: process %s: cancels drop is checked by the model, not run: the scheduler here never drops a cancel",
				ErrRun, w.File, p.Pos.Line, p.Pos.Col, p.Name)
		}
	}
	out := make([]port.Config, len(set))
	for i, st := range set {
		// The port reads a low of Unset as its default; st.Low is the
		// resolved one, the same.
		out[i] = port.Config{Cap: st.Cap, Low: st.Low, Reserve: st.Reserve, Policy: o.Policy}
	}
	return out, nil
}

// reserve makes each thread's reserved calls, by its process's reserve,
// reserved calls of the scheduler's threads: all of a named thread's, and
// those on the fds of a named object.
func reserve(w *workload.Workload, objs []fds, threads []*sched.Thread, ti int) {
	pr := w.Processes[w.Threads[ti].Process]
	if pr.Reserve == 0 {
		return
	}
	var fdsOf []int
	for _, o := range pr.ReserveObjects {
		if f := objs[o]; f.kind == workload.Conn {
			fdsOf = append(fdsOf, f.local)
		} else {
			fdsOf = append(fdsOf, f.r, f.w)
		}
	}
	threads[ti].Reserve(slices.Contains(pr.ReserveThreads, ti), fdsOf...)
}

// fds are an object's file descriptors on a back end.
type fds struct {
	kind     workload.ObjectKind
	r, w     int // a pipe's ends
	local    int // a conn's process end
	remote   int // a conn's peer end
	queue    *sched.Queue[int]
	capacity int
}

// threadFD is the fd a thread's operation uses, and whether a close is a
// shutdown (a conn's outbound side).
func (f *fds) threadFD(k workload.OpKind) (fd int, shutdown bool) {
	if f.kind == workload.Conn {
		return f.local, k == workload.Close
	}
	if k == workload.Read {
		return f.r, false
	}
	return f.w, false // write, and close: a thread's close closes the pipe
}

// peerFD is the fd a peer's operation uses.
func (f *fds) peerFD(k workload.OpKind) (fd int, shutdown bool) {
	if f.kind == workload.Conn {
		return f.remote, k == workload.Close
	}
	if k == workload.Recv {
		return f.r, false
	}
	return f.w, false
}

// program is a workload thread as a user thread: its operations as system
// calls and queue operations. Results are not needed: a workload says
// what is done, not what comes back.
func program(th workload.Thread, objs []fds, threads []*sched.Thread) func(*sched.Thread) {
	return func(t *sched.Thread) {
		bufs := make([]byte, len(th.Ops)) // one byte each: an item
		for i, op := range th.Ops {
			buf := bufs[i : i+1 : i+1]
			switch op.Kind {
			case workload.Read, workload.Write, workload.Close:
				fd, shut := objs[op.Object].threadFD(op.Kind)
				switch {
				case op.Async && op.Kind == workload.Read:
					t.Submit(port.OpRead, fd, buf)
				case op.Async:
					buf[0] = 'x'
					t.Submit(port.OpWrite, fd, buf)
				case op.Kind == workload.Read:
					_, _ = t.Read(fd, buf)
				case op.Kind == workload.Write:
					buf[0] = 'x'
					_, _ = t.Write(fd, buf)
				case shut:
					_ = t.Shutdown(fd)
				default:
					_ = t.Close(fd)
				}
			case workload.Cancel:
				// The parser admits only a cancel of a thread of the same
				// process, the one the scheduler can carry out.
				_ = t.Cancel(threads[op.Target])
			case workload.Push:
				objs[op.Object].queue.Push(t, i)
			case workload.Pop:
				objs[op.Object].queue.Pop(t)
			case workload.Wait:
				t.Wait()
			}
		}
	}
}

func describeOp(op workload.Op, w *workload.Workload) string {
	if op.Object >= 0 {
		return op.Kind.String() + " " + w.Objects[op.Object].Name
	}
	return op.Kind.String()
}
