package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"sysmsg/impl/kernel/sim"
	"sysmsg/impl/port"
	"sysmsg/impl/run"
	"sysmsg/model"
)

func init() {
	commands["run"] = command{summary: "run a workload on the reference implementation", run: runMain}
}

// implFlags are the flags run and serve share: the port's configuration.
type implFlags struct {
	cap    string
	low    int
	policy string
}

func (f *implFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cap, "cap", "", "cap on in-flight messages per process: a number ≥ 1 or unlimited (default: the workload's)")
	fs.IntVar(&f.low, "low", -1, "hysteresis low-water mark, 0 ≤ low < cap (default: (cap-1)/2)")
	fs.StringVar(&f.policy, "policy", "poll", "policy at the cap: block, stop, poll or poll-nohyst")
}

// parse checks the flags, with caps up to maxCap; cap 0 means "not given".
func (f *implFlags) parse(maxCap int) (capacity int, pol port.Policy, err error) {
	pol, err = port.ParsePolicy(f.policy)
	if err != nil {
		return 0, 0, fmt.Errorf("--policy: %w", err)
	}
	switch f.cap {
	case "":
	case "unlimited":
		capacity = model.Unlimited
	default:
		capacity, err = strconv.Atoi(f.cap)
		if err != nil || capacity < 1 || capacity > maxCap {
			return 0, 0, fmt.Errorf("--cap %q: want a number 1..%d or unlimited", f.cap, maxCap)
		}
	}
	if f.low < -1 || capacity > 0 && f.low >= capacity {
		return 0, 0, fmt.Errorf("--low %d: want 0 ≤ low < cap", f.low)
	}
	return capacity, pol, nil
}

// implWorkload loads a built-in by name, or a workload file.
func implWorkload(name string, p model.Params) (*model.Workload, error) {
	if name == "" {
		return nil, errors.New("--workload is required (a built-in name or a file)")
	}
	if slices.Contains(model.BuiltinNames(), name) {
		src, err := model.Builtin(name, p)
		if err != nil {
			return nil, err
		}
		return model.Parse(name, src)
	}
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("--workload %q is neither a built-in (%v) nor a readable file: %w", name, model.BuiltinNames(), err)
	}
	return model.Parse(name, string(src))
}

func runMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sysmsg run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		f          implFlags
		workload   = fs.String("workload", "", "built-in workload name or workload file")
		backend    = fs.String("backend", "sim", "back end: sim (deterministic) or os (real system calls)")
		seed       = fs.Uint64("seed", 1, "sim: seed of the schedule (the same seed repeats the run exactly)")
		sendsFirst = fs.Bool("sends-first", false, "sim: the schedule that prefers sends to completions, instead of a seeded one")
		tcp        = fs.Bool("tcp", false, "os: conns are loopback TCP connections instead of socket pairs")
		stuckAfter = fs.Duration("stuck-after", 2*time.Second, "os: the watchdog reports the run stuck after this long without progress")
		maxSteps   = fs.Int("max-steps", 1_000_000, "sim: bound on the moves of one run")
		params     model.Params
	)
	f.register(fs)
	fs.IntVar(&params.Conns, "conns", 0, "webserver: connections (default 2)")
	fs.IntVar(&params.Requests, "requests", 0, "webserver: requests per connection (default 2)")
	fs.IntVar(&params.Window, "window", 0, "webserver: client window (default 1)")
	fs.IntVar(&params.Stages, "stages", 0, "pipeline: stages (default 3)")
	fs.IntVar(&params.Items, "items", 0, "pipeline: items (default 2)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sysmsg run: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	capacity, pol, err := f.parse(model.MaxCapacity)
	if err != nil {
		fmt.Fprintf(stderr, "sysmsg run: %v\n", err)
		return exitUsage
	}
	if *stuckAfter <= 0 || *maxSteps <= 0 {
		fmt.Fprintf(stderr, "sysmsg run: --stuck-after and --max-steps must be positive\n")
		return exitUsage
	}
	w, err := implWorkload(*workload, params)
	if err != nil {
		fmt.Fprintf(stderr, "sysmsg run: %v\n", err)
		return exitUsage
	}
	o := run.Options{Cap: capacity, Low: f.low, HasLow: f.low >= 0, Policy: pol, Seed: *seed,
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
