package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/run"
	spec "github.com/sysmsg/sysmsg/model/port"
)

func init() {
	commands["run"] = command{summary: "run a workload on the reference implementation", run: runMain}
}

// The flags that apply to one back end only: given for the other, they
// would be silently ignored.
var (
	simOnlyFlags = []string{"seed", "sends-first", "max-steps"}
	osOnlyFlags  = []string{"tcp", "stuck-after"}
)

func runMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runRun(ctx, args, stdout, stderr)
}

// runRun is the run command; an interrupt is ctx's cancellation.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCmdline("run", "[flags]", `Run a workload on the reference implementation: on the deterministic
simulated kernel (--backend sim) or on real non-blocking descriptors
driven by epoll (--backend os). It prints the time, replies, polls and
mode changes; a stuck run prints a dump of every thread and slot.

Exit codes: 0 the run finished; 1 it got stuck (a deadlock or a
livelock); 2 bad usage or input; 3 incomplete: a simulated run reached
--max-steps without finishing, or was interrupted (Ctrl-C or SIGTERM end
a run at once), with the figures so far.
`, stdout, stderr)
	var (
		cf         configFlags
		wf         workloadFlags
		backend    = c.String("backend", "sim", "the `BACKEND`: sim (deterministic) or os (real system calls)")
		seed       = c.Uint64("seed", 1, "sim: `SEED` of the schedule (the same seed repeats the run exactly)")
		sendsFirst = c.Bool("sends-first", false, "sim: the schedule that prefers sends to completions, instead of a seeded one")
		tcp        = c.Bool("tcp", false, "os: conns are loopback TCP connections instead of socket pairs")
		stuckAfter = 2 * time.Second
		maxSteps   int
	)
	c.Var(&durationFlag{p: &stuckAfter, positive: true}, "stuck-after", "os: the watchdog reports the run stuck after this long without progress")
	c.Var(newIntFlag(&maxSteps, 1_000_000, 1, 0), "max-steps", "sim: bound on the moves of one run; a run that reaches it is\nincomplete")
	cf.register(c, maxImplCap, "the workload's own")
	wf.register(c)
	if _, code := c.parse(args, 0); code >= 0 {
		return code
	}
	var other []string
	switch *backend {
	case "sim":
		other = osOnlyFlags
	case "os":
		other = simOnlyFlags
	default:
		return c.failf("--backend %s: want sim or os", quoteArg(*backend))
	}
	for _, f := range other {
		if c.set(f) {
			return c.failf("--%s does not apply to --backend %s", f, *backend)
		}
	}
	if err := wf.checkSizes([]string{wf.name}); err != nil {
		return c.fail(err)
	}
	pol := spec.Policy(cf.policy)
	w, _, err := wf.load()
	if err != nil {
		return c.fail(err)
	}
	o := run.Options{Cap: cf.cap.n, Low: cf.low, Policy: pol, Seed: *seed,
		MaxSteps: maxSteps, StuckAfter: stuckAfter, TCP: *tcp, Interrupt: ctx.Done()}
	if *sendsFirst {
		o.Chooser = sim.SendsFirst()
	}
	var r *run.Result
	if *backend == "sim" {
		r, err = run.Sim(w, o)
	} else {
		r, err = run.OS(w, o)
	}
	if r == nil && err != nil {
		if errors.Is(err, run.ErrRun) {
			return c.fail(err)
		}
		fmt.Fprintf(stderr, "sysmsg run: %s\n", userText(err))
		return exitViolation
	}
	header := fmt.Sprintf("backend %s, policy %s", r.Backend, pol)
	if r.Backend == "sim" {
		if *sendsFirst {
			header += ", schedule sends-first"
		} else {
			header += fmt.Sprintf(", seed %d", *seed)
		}
	}
	fmt.Fprintf(stdout, "%s\n%s", header, r.Summary())
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "sysmsg run: %s\n", userText(err))
		return exitViolation
	case r.Stuck:
		return exitViolation
	case r.Bounded, r.Interrupted:
		return exitIncomplete
	}
	return exitOK
}
