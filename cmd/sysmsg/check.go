package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

func init() {
	commands["check"] = command{"exhaustive check of a workload under a policy and cap", checkCmd}
}

// workloadFlags are the flags that choose a workload: a built-in's name or a
// file, and a built-in's sizes.
type workloadFlags struct {
	name   string
	params workload.Params
}

func (wf *workloadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&wf.name, "workload", "webserver", "a built-in workload ("+strings.Join(workload.BuiltinNames(), ", ")+") or a workload file")
	wf.registerSizes(fs)
}

// registerSizes registers the built-ins' size flags alone, for a command
// that names its workloads another way.
func (wf *workloadFlags) registerSizes(fs *flag.FlagSet) {
	fs.IntVar(&wf.params.Conns, "conns", 2, "webserver: connections")
	fs.IntVar(&wf.params.Requests, "requests", 2, "webserver: requests per connection")
	fs.IntVar(&wf.params.Window, "window", 1, "webserver: requests the client keeps outstanding")
	fs.IntVar(&wf.params.Stages, "stages", 3, "pipeline: stages")
	fs.IntVar(&wf.params.Items, "items", 2, "pipeline: items")
}

// load returns the workload, parsed, with its text. A name that is a
// built-in is one; anything else is read as a file.
func (wf *workloadFlags) load() (*workload.Workload, string, error) {
	p := wf.params
	for _, f := range []struct {
		name string
		v    int
	}{{"conns", p.Conns}, {"requests", p.Requests}, {"window", p.Window}, {"stages", p.Stages}, {"items", p.Items}} {
		if f.v < 1 {
			return nil, "", fmt.Errorf("-%s %d: want at least 1", f.name, f.v)
		}
	}
	w, text, err := workload.Load(wf.name, wf.params)
	if !errors.Is(err, workload.ErrUnknownBuiltin) {
		return w, text, err
	}
	b, ferr := os.ReadFile(wf.name)
	if ferr != nil {
		if errors.Is(ferr, os.ErrNotExist) {
			return nil, "", fmt.Errorf("%v, and there is no file of that name", err)
		}
		return nil, "", ferr
	}
	text = string(b)
	if w, err = workload.Parse(wf.name, text); err != nil {
		return nil, "", err
	}
	return w, text, nil
}

// maxCapFlag is the largest --cap the flags take; the model refuses caps
// above workload.MaxCapacity, the implementation takes them.
const maxCapFlag = 1 << 20

// capValue is a --cap flag: a number or "unlimited"; 0 keeps the
// workload's own caps.
type capValue int

func (c *capValue) String() string {
	if *c == workload.Unlimited {
		return "unlimited"
	}
	return strconv.Itoa(int(*c))
}

func (c *capValue) Set(s string) error {
	if s == "unlimited" {
		*c = workload.Unlimited
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxCapFlag {
		return fmt.Errorf("want a number from 1 to %d, or unlimited", maxCapFlag)
	}
	*c = capValue(n)
	return nil
}

// configFlags choose the policy, the cap and the low-water mark: the same
// three flags for check, sweep, run and serve.
type configFlags struct {
	policy policyValue
	cap    capValue
	low    int
}

func (c *configFlags) register(fs *flag.FlagSet) {
	c.policy = policyValue(workload.Poll)
	fs.Var(&c.policy, "policy", "what the scheduler does at the cap: block, stop, poll or poll-nohyst")
	fs.Var(&c.cap, "cap", "in-flight messages per process, or unlimited (default: the workload's own)")
	fs.IntVar(&c.low, "low", workload.Unset, "hysteresis low-water mark; -1 means the workload's own, or (cap-1)/2")
}

// policyValue is a --policy flag.
type policyValue workload.Policy

func (p *policyValue) String() string { return workload.Policy(*p).String() }
func (p *policyValue) Set(s string) error {
	v, err := workload.ParsePolicy(s)
	*p = policyValue(v)
	return err
}

// boundFlags are the explorer's bounds.
type boundFlags struct {
	maxStates, maxDepth, workers int
	timeout                      time.Duration
	memory                       string
}

func (b *boundFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&b.maxStates, "max-states", 0, "stop after this many distinct states (0: no bound)")
	fs.IntVar(&b.maxDepth, "max-depth", 0, "stop at this depth (0: no bound)")
	fs.DurationVar(&b.timeout, "timeout", 0, "stop after this long, e.g. 10m (0: no limit)")
	fs.StringVar(&b.memory, "memory", "", "stop when the heap exceeds this, e.g. 8GiB (default: 4/5 of the machine's memory)")
	fs.IntVar(&b.workers, "workers", 0, "goroutines expanding states (0: one per core)")
}

func (b *boundFlags) options() (check.Options, error) {
	opt := check.Options{MaxStates: b.maxStates, MaxDepth: b.maxDepth, Timeout: b.timeout, Workers: b.workers, Livelock: true, Fairness: true}
	if b.maxStates < 0 || b.maxDepth < 0 || b.timeout < 0 || b.workers < 0 {
		return opt, errors.New("bounds must not be negative")
	}
	if b.memory != "" {
		n, err := parseBytes(b.memory)
		if err != nil {
			return opt, fmt.Errorf("-memory: %v", err)
		}
		opt.MemoryLimit = n
	} else if total := physicalMemory(); total > 0 {
		// No bound asked for: stop at four fifths of the machine, with the
		// figures so far, rather than be killed by the kernel.
		opt.MemoryLimit = total / 5 * 4
	}
	if opt.MemoryLimit > 0 {
		// The same figure is the runtime's soft limit, so that the
		// collector works harder as the heap nears it. The command sets
		// it: it is process-wide, and so not the explorer's to set.
		debug.SetMemoryLimit(int64(min(opt.MemoryLimit, math.MaxInt64)))
	}
	return opt, nil
}

// progressLine shows a check's progress on a terminal as one line that is
// rewritten in place, and cleared before the result is printed.
type progressLine struct {
	w io.Writer
	// prefix starts the line: in a sweep, which cell is running.
	prefix string
	shown  bool
}

func (p *progressLine) show(pr check.Progress) {
	secs := pr.Elapsed.Seconds()
	line := fmt.Sprintf("%d states, %d transitions, depth %d, %.0f states/s, heap %d MiB, %.0fs",
		pr.States, pr.Transitions, pr.Depth, float64(pr.States)/max(secs, 1e-9), pr.Heap>>20, secs)
	if pr.Phase != check.PhaseSearch {
		line = fmt.Sprintf("%d states explored; checking %s (%d of %d states settled), %.0fs", pr.States, pr.Phase, pr.Settled, pr.States, secs)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s%s", p.prefix, line)
	p.shown = true
}

func (p *progressLine) clear() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// physicalMemory returns the machine's memory in bytes, or 0 if unknown.
func physicalMemory() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func parseBytes(s string) (uint64, error) {
	units := []struct {
		suffix string
		mul    uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseUint(num, 10, 64)
			if err != nil || n == 0 {
				return 0, fmt.Errorf("%q is not a size such as 512MiB or 8GiB", s)
			}
			return n * u.mul, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size", s)
}

// isTerminal reports whether w, the writer a command was given for its
// messages, is a terminal, where progress lines belong: a file that is a
// character device. A buffer or a pipe is not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newFlagSet makes a subcommand's flag set that reports to stderr and does
// not exit.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sysmsg "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// A bad flag gets its error and this hint; -h gets every flag.
	fs.Usage = func() { fmt.Fprintf(stderr, "run 'sysmsg %s -h' for its flags\n", name) }
	return fs
}

// parseFlags parses args and returns the exit code to stop with, or -1 to go
// on.
func parseFlags(fs *flag.FlagSet, args []string) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(fs.Output(), "usage of %s:\n", fs.Name())
			fs.PrintDefaults()
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage
	}
	return -1
}

func checkCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCheck(ctx, args, stdout, stderr)
}

// runCheck is the check command; an interrupt is ctx's cancellation.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr)
	var wf workloadFlags
	wf.register(fs)
	var cf configFlags
	cf.register(fs)
	tracePath := fs.String("trace", "", "write a counterexample to this file")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	var bf boundFlags
	bf.register(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "sysmsg check: %v\n", err)
		return exitUsage
	}
	w, text, err := wf.load()
	if err != nil {
		return fail(err)
	}
	m, err := model.New(w, model.Config{Policy: workload.Policy(cf.policy), Cap: int(cf.cap), Low: cf.low})
	if err != nil {
		return fail(err)
	}
	opt, err := bf.options()
	if err != nil {
		return fail(err)
	}
	var pl *progressLine
	if !*asJSON && isTerminal(stderr) {
		pl = &progressLine{w: stderr}
		opt.Progress = pl.show
	}
	res, err := check.Explore(ctx, m, opt)
	pl.clear()
	if err != nil {
		return fail(err)
	}
	sum := model.Summarize(m, res)
	var tr *traces.Trace
	if res.Violation != nil {
		tr = m.Trace(wf.name, text, res.Violation, res.Stats)
		if *tracePath != "" {
			if err := writeTrace(*tracePath, tr); err != nil {
				return fail(err)
			}
		}
	}
	if *asJSON {
		printJSON(stdout, m, sum, tr, *tracePath)
	} else {
		printReport(stdout, m, sum, tr)
		if tr != nil && *tracePath != "" {
			fmt.Fprintf(stdout, "counterexample written to %s\n", *tracePath)
		}
	}
	return exitCode(sum.Verdict)
}

func exitCode(v check.Verdict) int {
	switch v {
	case check.Violated:
		return exitViolation
	case check.Incomplete:
		return exitIncomplete
	}
	return exitOK
}

// writeTrace writes tr to path through a temporary file, so that a failed
// write leaves no half a trace behind.
func writeTrace(path string, tr *traces.Trace) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := traces.Write(f, tr); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// printReport prints a check's summary as a person reads it: the
// counterexample or the verdict, the figures, the guards.
func printReport(w io.Writer, m *model.Model, sum model.Summary, tr *traces.Trace) {
	switch {
	case tr != nil:
		traces.Text(w, tr)
	case sum.Verdict == check.Incomplete:
		fmt.Fprintf(w, "%s — %s: INCOMPLETE (%s): no violation found so far, which proves nothing\n", m.Workload().Title, m, sum.Reason)
	default:
		fmt.Fprintf(w, "%s — %s: VERIFIED: every property holds\n", m.Workload().Title, m)
	}
	if len(sum.Checked) > 0 {
		fmt.Fprintf(w, "  checked: %s\n", strings.Join(sum.Checked, "; "))
	}
	st := sum.Stats
	fmt.Fprintf(w, "  %d states, %d transitions, depth %d, %.2fs (%.0f states/s, %d workers)\n",
		st.States, st.Transitions, st.Depth, st.Seconds, st.StatesPerSecond, st.Workers)
	for _, g := range sum.Guards {
		fmt.Fprintf(w, "  guard: %s: %s\n", g.Name, guardText(g))
	}
	if len(sum.NeverFired) > 0 {
		fmt.Fprintf(w, "  never fired: %s\n", strings.Join(sum.NeverFired, "; "))
	}
}

// guardText says what the check found of a guard.
func guardText(g model.Guard) string {
	switch {
	case g.Status == model.GuardNever:
		return "NEVER — the verdict may hold only because this never happened"
	case g.Status == model.GuardNotSeen:
		return "not seen so far"
	case g.Kind != "":
		return fmt.Sprintf("yes, on %d transitions", g.Transitions)
	}
	return "yes, after " + plural(g.Steps, "step")
}

// report is the --json object (docs/trace-format.md, "The check --json
// report"). Every list is in a fixed order, so the output is stable.
type report struct {
	Verdict         string        `json:"verdict"`
	Outcome         string        `json:"outcome"`
	Property        string        `json:"property"`
	Kind            string        `json:"kind,omitempty"`
	Reason          string        `json:"reason,omitempty"`
	Workload        string        `json:"workload"`
	Policy          string        `json:"policy"`
	Caps            []int         `json:"caps"`
	Lows            []int         `json:"lows"`
	States          int           `json:"states"`
	Transitions     uint64        `json:"transitions"`
	Depth           int           `json:"depth"`
	Seconds         float64       `json:"seconds"`
	StatesPerSecond float64       `json:"statesPerSecond"`
	PeakHeap        uint64        `json:"peakHeapBytes"`
	Workers         int           `json:"workers"`
	Checked         []string      `json:"checked"`
	Guards          []model.Guard `json:"guards"`
	Fired           []firedCount  `json:"fired"`
	NeverFired      []string      `json:"neverFired"`
	TraceFile       string        `json:"traceFile,omitempty"`
	Trace           *traces.Trace `json:"trace"`
}

// firedCount is how often one action kind fired, in the model's Kinds order.
type firedCount struct {
	Kind  string `json:"kind"`
	Count uint64 `json:"count"`
}

func newReport(m *model.Model, sum model.Summary, tr *traces.Trace) report {
	st := sum.Stats
	r := report{
		Verdict: sum.Verdict.String(), Outcome: sum.Outcome, Property: sum.Property, Kind: sum.Kind, Reason: sum.Reason,
		Workload: m.Workload().Title, Policy: m.Policy().String(),
		States: st.States, Transitions: st.Transitions, Depth: st.Depth, Seconds: st.Seconds,
		StatesPerSecond: st.StatesPerSecond, PeakHeap: st.PeakHeap, Workers: st.Workers,
		// The lists are never null: empty when there is nothing to say,
		// as neverFired is for any search but a complete one that held.
		Checked: nonNil(sum.Checked), Guards: nonNil(sum.Guards), Fired: []firedCount{}, NeverFired: nonNil(sum.NeverFired),
	}
	if tr != nil {
		// The embedded trace is the trace format, stamped as the file is,
		// so that it can be cut out and read back.
		c := *tr
		c.Format, c.Version = traces.Format, traces.Version
		r.Trace = &c
	}
	for p := range m.Workload().Processes {
		r.Caps = append(r.Caps, m.Cap(p))
		r.Lows = append(r.Lows, m.Low(p))
	}
	for _, k := range st.Fired {
		r.Fired = append(r.Fired, firedCount{k.Kind, k.Count})
	}
	return r
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func printJSON(w io.Writer, m *model.Model, sum model.Summary, tr *traces.Trace, traceFile string) {
	r := newReport(m, sum, tr)
	if tr != nil {
		r.TraceFile = traceFile
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(r)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
