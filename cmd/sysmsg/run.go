package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sysmsg/sysmsg/impl/kernel/sim"
	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/model/workload"
)

func init() {
	commands["run"] = command{summary: "run a workload on the reference implementation", run: runMain}
}

func runMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	var (
		cf         configFlags
		wf         workloadFlags
		backend    = fs.String("backend", "sim", "back end: sim (deterministic) or os (real system calls)")
		seed       = fs.Uint64("seed", 1, "sim: seed of the schedule (the same seed repeats the run exactly)")
		sendsFirst = fs.Bool("sends-first", false, "sim: the schedule that prefers sends to completions, instead of a seeded one")
		tcp        = fs.Bool("tcp", false, "os: conns are loopback TCP connections instead of socket pairs")
		stuckAfter = fs.Duration("stuck-after", 2*time.Second, "os: the watchdog reports the run stuck after this long without progress")
		maxSteps   = fs.Int("max-steps", 1_000_000, "sim: bound on the moves of one run")
	)
	cf.register(fs)
	wf.register(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	capacity, pol := int(cf.cap), workload.Policy(cf.policy)
	if *stuckAfter <= 0 || *maxSteps <= 0 {
		fmt.Fprintf(stderr, "sysmsg run: --stuck-after and --max-steps must be positive\n")
		return exitUsage
	}
	w, _, err := wf.load()
	if err != nil {
		fmt.Fprintf(stderr, "sysmsg run: %v\n", err)
		return exitUsage
	}
	o := run.Options{Cap: capacity, Low: cf.low, Policy: pol, Seed: *seed,
		MaxSteps: *maxSteps, StuckAfter: *stuckAfter, TCP: *tcp}
	if *sendsFirst {
		o.Chooser = sim.SendsFirst()
	}
	var r *run.Result
	switch *backend {
	case "sim":
		r, err = run.Sim(w, o)
	case "os":
		r, err = run.OS(w, o)
	default:
		fmt.Fprintf(stderr, "sysmsg run: --backend %q: want sim or os\n", *backend)
		return exitUsage
	}
	if r == nil && err != nil {
		fmt.Fprintf(stderr, "sysmsg run: %v\n", err)
		if errors.Is(err, run.ErrRun) {
			return exitUsage
		}
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
	if err != nil {
		fmt.Fprintf(stderr, "sysmsg run: %v\n", err)
		return exitViolation
	}
	if r.Stuck {
		return exitViolation
	}
	return exitOK
}
