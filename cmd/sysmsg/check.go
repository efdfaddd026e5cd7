package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

func init() {
	commands["check"] = command{"check every state of a workload under a policy and cap", checkCmd}
}

// workloadFlags are the flags that choose a workload: a built-in's name or a
// file, and a built-in's sizes.
type workloadFlags struct {
	name   string
	params workload.Params
	c      *cmdline
}

func (wf *workloadFlags) register(c *cmdline) {
	c.StringVar(&wf.name, "workload", "webserver", "the workload: a built-in `NAME`, or a FILE in the workload format;\nthe built-ins: "+strings.Join(workload.BuiltinNames(), ", "))
	wf.registerSizes(c)
}

// sizeFlags are the built-ins' sizes: the flag, and the one built-in that
// has it.
var sizeFlags = []struct{ flag, builtin string }{
	{"conns", "webserver"}, {"requests", "webserver"}, {"window", "webserver"},
	{"stages", "pipeline"}, {"items", "pipeline"},
}

// registerSizes registers the built-ins' size flags alone, for a command
// that names its workloads another way.
func (wf *workloadFlags) registerSizes(c *cmdline) {
	wf.c = c
	p := &wf.params
	c.Var(newIntFlag(&p.Conns, 2, 1, 0), "conns", "webserver: connections")
	c.Var(newIntFlag(&p.Requests, 2, 1, 0), "requests", "webserver: requests per connection")
	c.Var(newIntFlag(&p.Window, 1, 1, 0), "window", "webserver: requests the client keeps outstanding")
	c.Var(newIntFlag(&p.Stages, 3, 1, 0), "stages", "pipeline: stages")
	c.Var(newIntFlag(&p.Items, 2, 1, 0), "items", "pipeline: items")
}

// checkSizes refuses a size flag given for workloads of which none has
// that size: it would be silently ignored.
func (wf *workloadFlags) checkSizes(names []string) error {
	for _, sf := range sizeFlags {
		if !wf.c.set(sf.flag) || slices.Contains(names, sf.builtin) {
			continue
		}
		what := "workload " + names[0]
		if len(names) > 1 {
			what = "any of the workloads " + strings.Join(names, ", ")
		}
		return fmt.Errorf("--%s is a size of the %s workload, not of %s", sf.flag, sf.builtin, what)
	}
	return nil
}

// load returns the workload, parsed, with its text. A name that is a
// built-in is one; anything else is read as a file.
func (wf *workloadFlags) load() (*workload.Workload, string, error) {
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

// configFlags choose the policy, the cap and the low-water mark: the same
// three flags for check, sweep, run and serve. Each command takes caps up
// to its own limit: the model's, or the implementation's.
type configFlags struct {
	policy policyValue
	cap    capValue
	low    int
}

func (c *configFlags) register(fs *cmdline, maxCap int, capDefault string) {
	c.policy = policyValue(spec.Poll)
	c.cap.max = maxCap
	fs.Var(&c.policy, "policy", "what the scheduler does at the cap: block, stop, poll or\npoll-nohyst")
	fs.Var(&c.cap, "cap", capUsage(maxCap, capDefault))
	low := newIntFlag(&c.low, workload.Unset, -1, 0)
	low.want = "want 0 or more, or -1 for the workload's own"
	fs.Var(low, "low", "hysteresis low-water mark, 0 or more; -1 (the default) is the\nworkload's own, or (cap-1)/2")
}

// boundFlags are the explorer's bounds.
type boundFlags struct {
	maxStates, maxDepth, workers int
	timeout                      time.Duration
	memory                       bytesValue
}

func (b *boundFlags) register(c *cmdline) {
	c.Var(newIntFlag(&b.maxStates, 0, 0, 0), "max-states", "stop after this many distinct states (0: no bound)")
	c.Var(newIntFlag(&b.maxDepth, 0, 0, 0), "max-depth", "stop at this depth (0: no bound)")
	c.Var(&durationFlag{p: &b.timeout}, "timeout", "stop after this long, such as 10m (0: no limit)")
	c.Var(&b.memory, "memory", "stop when the heap exceeds this, such as 512MiB, 512MB\nor 8G (K, M, G and T are powers of 1024), or none (default: 4/5 of the machine's memory)")
	c.Var(newIntFlag(&b.workers, 0, 0, 0), "workers", "goroutines expanding states (0: one per core)")
}

func (b *boundFlags) options() check.Options {
	opt := check.Options{MaxStates: b.maxStates, MaxDepth: b.maxDepth, Timeout: b.timeout, Workers: b.workers, Livelock: true, Fairness: true}
	switch {
	case b.memory.n > 0:
		opt.MemoryLimit = b.memory.n
	case b.memory.none:
	default:
		if total := physicalMemory(); total > 0 {
			// No bound asked for: stop at four fifths of the machine,
			// with the figures so far, rather than be killed by the
			// kernel.
			opt.MemoryLimit = total / 5 * 4
		}
	}
	if opt.MemoryLimit > 0 {
		// The same figure is the runtime's soft limit, so that the
		// collector works harder as the heap nears it. The command sets
		// it: it is process-wide, and so not the explorer's to set.
		debug.SetMemoryLimit(int64(min(opt.MemoryLimit, math.MaxInt64)))
	}
	return opt
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

// fairFor is opt for checking m: without the fair-progress pass when m is
// symmetry-reduced, which check.Explore refuses (check.ErrReducedFairness)
// and the summary reports as not checked.
func fairFor(m *model.Model, opt check.Options) check.Options {
	if m.Reduced() {
		opt.Fairness = false
	}
	return opt
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

// isTerminal reports whether w, the writer a command was given for its
// messages, is a terminal, where progress lines belong (see termOf): a
// buffer, a pipe, a file or /dev/null is not.
func isTerminal(w io.Writer) bool { return termOf(w).tty }

func checkCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCheck(ctx, args, stdout, stderr)
}

// runCheck is the check command; an interrupt is ctx's cancellation.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCmdline("check", "[flags]", `Check every state of a workload under a policy and cap: the safety
properties, deadlock, livelock and fair progress. A violation prints a
counterexample, step by step, with why nothing can move.

Exit codes: 0 every property holds and the search was complete; 1 a
property is violated; 2 bad usage or input; 3 incomplete (a bound, or an
interrupt: Ctrl-C or SIGTERM), with the figures so far.
`, stdout, stderr)
	var wf workloadFlags
	wf.register(c)
	var cf configFlags
	cf.register(c, maxModelCap, "the workload's own")
	tracePath := c.String("trace", "", "write a counterexample to this `FILE` (checked before the search)")
	asJSON := c.Bool("json", false, "print one JSON object instead of text")
	minimise := c.Bool("minimise", false, "drop the steps a counterexample does not need, and group each actor's steps")
	symmetry := c.Bool("symmetry", false, "store one state for all that differ only by which copy of a\nthread, object and peer is where (the web server's connections):\nfewer states; fair progress is then not checked")
	partialOrder := c.Bool("partial-order", false, "take a thread's userland step alone where nothing else can\ndisturb it, the other orders left out: fewer states, the same\ndeadlocks and safety verdicts; livelock and fair progress are\nthen not checked")
	fingerprints := c.Bool("fingerprint", false, "store a 64-bit fingerprint of each state, not the state: a few\nbytes a state, for workloads past exact storage; a state may be\nmissed, so finding nothing is never a proof (exit 3, with the\nestimated odds of a miss), and livelock and fair progress are not\nchecked")
	var bf boundFlags
	bf.register(c)
	if _, code := c.parse(args, 0); code >= 0 {
		return code
	}
	if err := wf.checkSizes([]string{wf.name}); err != nil {
		return c.fail(err)
	}
	if *tracePath != "" {
		// Find out now, not after an hour's search, that the
		// counterexample could not be kept.
		if err := checkWritable(*tracePath); err != nil {
			return c.failf("--trace %s: %v", *tracePath, err)
		}
	}
	w, text, err := wf.load()
	if err != nil {
		return c.fail(err)
	}
	m, err := model.New(w, model.Config{Policy: spec.Policy(cf.policy), Cap: cf.cap.n, Low: cf.low, Symmetry: *symmetry})
	if err != nil {
		return c.fail(err)
	}
	opt := fairFor(m, bf.options())
	if *fingerprints {
		opt.Fingerprint, opt.Livelock, opt.Fairness = true, false, false
	}
	if *partialOrder {
		opt.PartialOrder, opt.Livelock, opt.Fairness = true, false, false
	}
	var pl *progressLine
	if !*asJSON && isTerminal(stderr) {
		pl = &progressLine{w: stderr}
		opt.Progress = pl.show
	}
	res, err := check.Explore(ctx, m, opt)
	pl.clear()
	if err != nil {
		return c.fail(err)
	}
	sum := model.Summarize(m, res)
	var tr *traces.Trace
	var traceErr error
	written := ""
	if res.Violation != nil {
		tr = m.Trace(wf.name, text, res.Violation, res.Stats)
		if *minimise {
			mt, err := m.MinimisedTrace(ctx, wf.name, text, res.Violation, res.Stats)
			if err != nil {
				fmt.Fprintf(stderr, "sysmsg check: --minimise: the counterexample is shown as found: %s\n", userText(err))
			} else {
				tr = mt
			}
		}
		if *tracePath != "" {
			// A trace that cannot be written still leaves the
			// counterexample on stdout, and the verdict stands.
			if traceErr = writeTrace(*tracePath, tr); traceErr == nil {
				written = *tracePath
			}
		}
	}
	if *asJSON {
		printJSON(stdout, m, sum, tr, written)
	} else {
		printReport(stdout, m, sum, tr)
		if written != "" {
			fmt.Fprintf(stdout, "counterexample written to %s\n", written)
		}
	}
	if traceErr != nil {
		fmt.Fprintf(stderr, "sysmsg check: --trace %s: the counterexample was not written: %s\n", *tracePath, userText(traceErr))
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
		traces.Chart(w, traces.NewView(tr), chartOptions(termOf(w), false, 0))
	case sum.Verdict == check.Incomplete:
		found := "no violation found so far"
		if sum.Stats.Fingerprint && strings.HasPrefix(sum.Reason, "fingerprint") {
			found = "no violation found"
		}
		fmt.Fprintf(w, "%s — %s: INCOMPLETE (%s): %s, which proves nothing\n", m.Workload().Title, m, sum.Reason, found)
	default:
		fmt.Fprintf(w, "%s — %s: VERIFIED: every property holds\n", m.Workload().Title, m)
	}
	if len(sum.Reduced) > 0 {
		fmt.Fprintf(w, "  symmetry: %s\n", strings.Join(sum.Reduced, "; "))
	}
	if len(sum.Checked) > 0 {
		fmt.Fprintf(w, "  checked: %s\n", strings.Join(sum.Checked, "; "))
	}
	if len(sum.NotChecked) > 0 {
		fmt.Fprintf(w, "  not checked: %s\n", strings.Join(sum.NotChecked, "; "))
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
	NotChecked      []string      `json:"notChecked,omitempty"`
	Symmetry        []string      `json:"symmetry,omitempty"`
	Fingerprint     bool          `json:"fingerprint,omitempty"`
	MissProbability float64       `json:"missProbability,omitempty"`
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
		NotChecked: sum.NotChecked, Symmetry: sum.Reduced,
		Fingerprint: st.Fingerprint, MissProbability: st.MissProbability,
	}
	if tr != nil {
		// The embedded trace is the trace format, stamped as the file is,
		// so that it can be cut out and read back.
		c := *tr
		c.Format, c.Version, c.Tool = traces.Format, traces.Version, traces.Tool()
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
