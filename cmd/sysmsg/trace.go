package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model"
	"github.com/sysmsg/sysmsg/properties/follow"
	"github.com/sysmsg/sysmsg/traces"
)

func init() {
	commands["trace"] = command{"replay a stored counterexample in the model, or the implementation", traceCmd}
}

// traceGroup is the trace command.
var traceGroup = &group{
	name:     "trace",
	synopsis: "view|html|replay FILE",
	what:     "Work with a counterexample that sysmsg check --trace wrote.",
	subs: []subcommand{
		{"view", "show it as a chart in the terminal, or the whole state at one step", traceView},
		{"html", "write it as an HTML page: the chart, and the state at the step you select", traceHTML},
		{"replay", "replay it in the model, and with --impl in the simulated implementation", traceReplay},
	},
	want: "view, html or replay",
}

func traceCmd(args []string, stdout, stderr io.Writer) int {
	return traceGroup.run(args, stdout, stderr)
}

func traceReplay(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("trace replay", "FILE [--impl]", `Replay a stored counterexample in the model: rebuild the model from the
trace's workload text, policy, caps and low-water marks, take the path's
actions, and check that every step is the stored one and that the end is
the stored violation (a deadlock, the cycle of a livelock, the broken
invariant). With --impl, follow a deadlock's path in the simulated
implementation too, and check that the run gets stuck exactly in the
model's deadlocked state: the same slots held by the same threads, the same
threads at the same operations.

Exit 0: it replays (and reproduces); 1: it does not; 2: bad usage or input.
`, stdout, stderr)
	impl := c.Bool("impl", false, "also replay a deadlock in the simulated implementation")
	file, code := c.traceFile(args)
	if code >= 0 {
		return code
	}
	t, err := readTrace(file)
	if err != nil {
		return c.fail(err)
	}
	m, cfg, err := model.FromTrace(t)
	if err != nil {
		return c.fail(err)
	}
	if *impl && t.Kind != check.Deadlock.String() {
		return c.failf("--impl replays deadlocks; this trace is a %s", t.Kind)
	}
	tr, err := check.Replay(m, t.Path)
	if err != nil {
		fmt.Fprintf(stdout, "does not replay in the model: %s\n", userText(err))
		return exitViolation
	}
	n := len(tr.Steps)
	for i, st := range tr.Steps {
		text, _, _ := strings.Cut(st.Label.Text, "\t")
		if want := t.Steps[i]; st.Label.Actor != want.Actor || text != want.Text {
			fmt.Fprintf(stdout, "does not replay in the model: step %d is %s %s; the trace has %s %s\n", i+1, st.Label.Actor, text, want.Actor, want.Text)
			return exitViolation
		}
	}
	if why := endDiffers(m, t, tr); why != "" {
		fmt.Fprintf(stdout, "replayed %d steps in the model: the same steps, but %s\n", n, why)
		return exitViolation
	}
	fmt.Fprintf(stdout, "replayed %d steps in the model: the same steps, ending in %s\n", n, ending(t))
	if !*impl {
		return exitOK
	}
	var path []model.Action
	for _, st := range tr.Steps {
		path = append(path, st.Action)
	}
	o, err := follow.Deadlock(m, cfg, path, tr.States)
	if err != nil {
		return c.fail(err)
	}
	if o.Replaced {
		fmt.Fprintf(stdout, "the path steps a thread before it parks, which a simulated thread cannot; followed instead: the model's shortest path of %d steps to the same deadlock that lets each thread run until it parks\n", len(o.Path))
	}
	switch {
	case o.States == nil:
		fmt.Fprintln(stdout, "the implementation cannot follow it: no path of the model to this deadlock lets each thread run until it parks")
	case o.Left >= 0:
		fmt.Fprintf(stdout, "the implementation left the path at step %d of %d: %s\n", o.Left+1, len(o.Path), o.Why)
	case !o.Run.Stuck:
		fmt.Fprintf(stdout, "the implementation followed the %d steps and did not get stuck:\n%s", len(o.Path), o.Run.Summary())
	case o.Invalid != "":
		fmt.Fprintf(stdout, "the implementation's run is not a path of the model:\n%s\n", o.Invalid)
	case !o.Reproduced:
		fmt.Fprintf(stdout, "the implementation is stuck elsewhere than the model:\n%s", o.Run.Summary())
	default:
		fmt.Fprintf(stdout, "the simulated implementation followed the %d steps and is stuck in the model's deadlocked state: the same slots held by the same threads, the same threads at the same operations\n", len(o.Path))
		return exitOK
	}
	return exitViolation
}

// traceFile parses a trace subcommand's arguments: its flags and one
// trace file. The code is the exit code to stop with, or -1 to go on.
func (c *cmdline) traceFile(args []string) (string, int) {
	pos, code := c.parse(args, 1)
	if code >= 0 {
		return "", code
	}
	if len(pos) == 0 {
		return "", c.failf("name a trace file (see sysmsg %s --help)", c.name)
	}
	return pos[0], -1
}

// readTrace reads and checks a stored trace.
func readTrace(path string) (*traces.Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %v", path, pe.Err)
		}
		return nil, err
	}
	defer f.Close()
	return traces.Read(path, f)
}

// viewOf reads a stored trace for a viewer. A trace from a version of the
// format without state data is replayed in its model to add it.
func viewOf(path string) (*traces.Trace, error) {
	t, err := readTrace(path)
	if err != nil {
		return nil, err
	}
	if len(t.Init) > 0 {
		return t, nil
	}
	nt, err := model.Refresh(t)
	if err != nil {
		return nil, fmt.Errorf("%s: a version %d trace holds no states, and replaying it to add them failed: %w", path, t.Version, err)
	}
	return nt, nil
}

func traceView(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("trace view", "FILE [--step N] [--minimise] [--no-color] [--width N]", `Show a stored counterexample as a message-sequence chart: one column per
thread, the scheduler, the kernel and each peer; one row per step, with an
arrow from who moved to whom the step concerns; each process's slots and
mode after the step, a change marked; the cycle of a livelock marked; then
why nothing can move at the end, or why the cycle never finishes. With
--step N, the whole state after step N (0: the initial state) instead,
what the step changed marked with its value before. With --minimise, the
counterexample with the steps it does not need dropped and each actor's
independent steps grouped, checked in the model rebuilt from the trace.

Colour and box-drawing are used only on a terminal (not with --no-color,
NO_COLOR or TERM=dumb); a chart longer than the terminal goes through
$PAGER (else less).

Exit 0: shown; 2: bad usage or input.
`, stdout, stderr)
	step := c.Int("step", 0, "show the whole state after step `N` (0: the initial state)")
	noColor := c.Bool("no-color", false, "plain ASCII, no colour, even on a terminal")
	width := c.Int("width", 0, "fit the chart in `N` columns (default: the terminal's, else $COLUMNS, else 100)")
	minimise := c.Bool("minimise", false, "drop the steps the counterexample does not need, and group each actor's steps")
	file, code := c.traceFile(args)
	if code >= 0 {
		return code
	}
	if *width < 0 || (*width > 0 && *width < 40) {
		return c.failf("--width %d: at least 40 columns", *width)
	}
	t, err := viewOf(file)
	if err != nil {
		return c.fail(err)
	}
	if *minimise {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		t, err = model.Minimise(ctx, t)
		stop()
		if err != nil {
			return c.failf("--minimise: %s", userText(err))
		}
	}
	v := traces.NewView(t)
	term := termOf(stdout)
	o := chartOptions(term, *noColor, *width)
	var b strings.Builder
	if c.set("step") {
		if *step < 0 {
			return c.failf("--step %d: a step is 0 (the initial state) or more", *step)
		}
		if err := traces.StateText(&b, v, *step, o); err != nil {
			return c.fail(err)
		}
	} else {
		traces.Chart(&b, v, o)
	}
	if err := page(stdout, term, b.String()); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// ending names the violation a trace ends in.
func ending(t *traces.Trace) string {
	switch t.Kind {
	case check.Deadlock.String():
		return "a deadlock"
	case check.Livelock.String(), check.NonProgress.String():
		return fmt.Sprintf("a %s (the cycle from state %d)", t.Kind, t.Loop)
	}
	return fmt.Sprintf("a violation of %q", t.Property)
}

// endDiffers says how the replayed trace's end is not the stored
// violation, or returns "".
func endDiffers(m *model.Model, t *traces.Trace, tr check.Trace[model.State, model.Action]) string {
	last := tr.States[len(tr.States)-1]
	switch t.Kind {
	case check.Deadlock.String():
		if m.Terminal(last) {
			return "the last state is terminal, not a deadlock"
		}
		if len(m.Actions(last, nil)) > 0 {
			return "the last state is not a deadlock: an action is enabled in it"
		}
		return ""
	case check.Livelock.String(), check.NonProgress.String():
		if t.Loop < 0 || string(m.Encode(nil, tr.States[t.Loop])) != string(m.Encode(nil, last)) {
			return fmt.Sprintf("the state at the loop (%d) is not the last state: no cycle", t.Loop)
		}
		return ""
	}
	for _, p := range m.Properties() {
		if p.Name != t.Property {
			continue
		}
		switch {
		case p.Kind == check.AlwaysKind && t.Kind == check.Invariant.String():
			if p.State(last) {
				return fmt.Sprintf("%q holds in the last state", p.Name)
			}
			return ""
		case p.Kind == check.StepKind && t.Kind == check.StepInvariant.String() && len(tr.Steps) > 0:
			if p.Step(tr.States[len(tr.States)-2], tr.Steps[len(tr.Steps)-1].Action, last) {
				return fmt.Sprintf("%q holds on the last step", p.Name)
			}
			return ""
		}
	}
	return fmt.Sprintf("the model has no %s property %q", t.Kind, t.Property)
}
