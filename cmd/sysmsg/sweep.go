package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

func init() {
	commands["sweep"] = command{"check a grid of caps x policies x workloads, as tables", sweepCmd}
}

// cell is one check of a sweep, as the table and --json show it: read off
// the check's [model.Summary].
type cell struct {
	Workload string `json:"workload"`
	Cap      string `json:"cap"`
	Policy   string `json:"policy"`
	Verdict  string `json:"verdict"` // the summary's outcome: ok, deadlock, livelock, violation, incomplete
	Property string `json:"property,omitempty"`
	Reason   string `json:"reason,omitempty"`
	States   int    `json:"states"`
	// Steps is the counterexample's length; 0 with none.
	Steps    int     `json:"steps,omitempty"`
	Seconds  float64 `json:"seconds"`
	Expected string  `json:"expected,omitempty"`
	// Vacuous lists the guards never reached and the action kinds that
	// never fired, of a complete search that found nothing wrong.
	Vacuous []string `json:"vacuous,omitempty"`
	// NotChecked names what the check left out, with why: fair progress
	// under --symmetry.
	NotChecked []string      `json:"notChecked,omitempty"`
	Trace      *traces.Trace `json:"-"`
}

func newCell(name, capText string, p spec.Policy, sum model.Summary) cell {
	x := cell{Workload: name, Cap: capText, Policy: p.String(), Verdict: sum.Outcome, Property: sum.Property,
		Reason: sum.Reason, States: sum.Stats.States, Seconds: sum.Stats.Seconds, NotChecked: sum.NotChecked}
	for _, g := range sum.Guards {
		if g.Status == model.GuardNever {
			x.Vacuous = append(x.Vacuous, "never: "+g.Name)
		}
	}
	if len(sum.NeverFired) > 0 {
		x.Vacuous = append(x.Vacuous, "never fired: "+strings.Join(sum.NeverFired, ", "))
	}
	return x
}

func sweepCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runSweep(ctx, args, stdout, stderr, nil)
}

// runSweep is the sweep command; an interrupt is ctx's cancellation, which
// ends the whole sweep. beforeCell, when not nil, is called before each
// cell with the number of cells done: the tests' way to interrupt a sweep
// at a given cell without a signal.
func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer, beforeCell func(done int)) int {
	c := newCmdline("sweep", "[flags]", `Check every workload under every policy at every cap, and print one table
per cap (or, with --json, one array of cells).

Exit codes: 0 every cell ran to a verdict, whatever it is: a deadlock
under block or stop is a finding of the grid, not a failure; 1 only with
--expect, when a cell's verdict differs from the file's; 2 bad usage or
input; 3 a cell is incomplete (a bound, or an interrupt: Ctrl-C or
SIGTERM, which ends the whole sweep).
`, stdout, stderr)
	workloads := c.String("workloads", strings.Join(workload.BuiltinNames(), ","), "comma-separated built-ins or workload `FILES`")
	capsFlag := c.String("caps", "2,1,3,unlimited", fmt.Sprintf("comma-separated `CAPS`, each 1 to %d or unlimited; one table each", maxModelCap))
	policies := c.String("policies", "block,stop,poll,poll-nohyst", "comma-separated `POLICIES`")
	expect := c.String("expect", "", "a `FILE` of expected verdicts; exit 1 naming every cell that differs")
	show := c.String("show", "2", "print the counterexamples found at this `CAP` (one of --caps),\nor all or none")
	asJSON := c.Bool("json", false, "print the cells as a JSON array instead of tables")
	symmetry := c.Bool("symmetry", false, "store one state for all that differ only by which copy is where\n(as check --symmetry); fair progress is then not checked")
	var wf workloadFlags
	wf.registerSizes(c)
	var bf boundFlags
	bf.register(c)
	if _, code := c.parse(args, 0); code >= 0 {
		return code
	}
	fail := c.fail
	var caps []capValue
	for _, s := range strings.Split(*capsFlag, ",") {
		cv := capValue{max: maxModelCap}
		if err := cv.Set(strings.TrimSpace(s)); err != nil {
			return c.failf("--caps %s: %q: %v", quoteArg(*capsFlag), s, err)
		}
		caps = append(caps, cv)
	}
	if *show != "all" && *show != "none" && !slices.ContainsFunc(caps, func(cv capValue) bool { return cv.String() == *show }) {
		return c.failf("--show %s: want one of --caps (%s), all or none", quoteArg(*show), *capsFlag)
	}
	var pols []spec.Policy
	for _, s := range strings.Split(*policies, ",") {
		p, err := spec.ParsePolicy(strings.TrimSpace(s))
		if err != nil {
			return c.failf("--policies %s: %v", quoteArg(*policies), err)
		}
		pols = append(pols, p)
	}
	names := strings.Split(*workloads, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	if err := wf.checkSizes(names); err != nil {
		return fail(err)
	}
	type loaded struct {
		name, text string
		w          *workload.Workload
	}
	var ws []loaded
	for _, name := range names {
		wf.name = name
		w, text, err := wf.load()
		if err != nil {
			return fail(err)
		}
		ws = append(ws, loaded{wf.name, text, w})
	}
	var expected map[string]string
	if *expect != "" {
		f, err := os.Open(*expect)
		if err != nil {
			return fail(err)
		}
		table, err := workload.ReadExpectations(*expect, f)
		f.Close()
		if err != nil {
			return fail(err)
		}
		expected = map[string]string{}
		for _, e := range table {
			expected[e.Key()] = e.Verdict
		}
	}
	opt := bf.options()
	progress := !*asJSON && isTerminal(stderr)
	total := len(caps) * len(ws) * len(pols)

	// The workload column is as wide as the longest name.
	nameWidth := 12
	for _, l := range ws {
		nameWidth = max(nameWidth, len(l.name))
	}
	var cells []cell
	code := exitOK
	var differ []string
	interrupted := false
	for _, cv := range caps {
		if !*asJSON {
			printTableHead(stdout, cv.String(), nameWidth)
		}
		first := len(cells)
	row:
		for _, l := range ws {
			for _, p := range pols {
				if beforeCell != nil {
					beforeCell(len(cells))
				}
				m, err := model.New(l.w, model.Config{Policy: p, Cap: cv.n, Low: workload.Unset, Symmetry: *symmetry})
				if err != nil {
					return fail(err)
				}
				o := fairFor(m, opt)
				var pl *progressLine
				if progress {
					pl = &progressLine{w: stderr, prefix: fmt.Sprintf("checking %s, cap %s, %s: ", l.name, cv.String(), p)}
					o.Progress = pl.show
				}
				res, err := check.Explore(ctx, m, o)
				pl.clear()
				if err != nil {
					return fail(err)
				}
				sum := model.Summarize(m, res)
				x := newCell(l.name, cv.String(), p, sum)
				if res.Violation != nil {
					x.Trace = m.Trace(l.name, l.text, res.Violation, res.Stats)
					x.Steps = len(x.Trace.Steps)
				}
				interrupted = ctx.Err() != nil
				// A cell cut short by the interrupt is not held to the
				// expectations: it says nothing of the verdict.
				if expected != nil && !(interrupted && sum.Verdict == check.Incomplete) {
					key := workload.Expectation{Workload: l.name, CapText: x.Cap, Policy: p}.Key()
					x.Expected = expected[key]
					if x.Expected == "" {
						differ = append(differ, fmt.Sprintf("%s: no expected verdict in %s (got %s)", key, *expect, x.Verdict))
					} else if x.Expected != x.Verdict {
						differ = append(differ, fmt.Sprintf("%s: got %s, expected %s", key, x.Verdict, x.Expected))
					}
				}
				if sum.Verdict == check.Incomplete && code == exitOK {
					code = exitIncomplete
				}
				if !*asJSON {
					printRow(stdout, x, nameWidth)
				}
				cells = append(cells, x)
				if interrupted {
					break row
				}
			}
		}
		if !*asJSON && (*show == "all" || *show == cv.String()) {
			for _, x := range cells[first:] {
				if x.Trace != nil {
					fmt.Fprintln(stdout)
					traces.Chart(stdout, traces.NewView(x.Trace), chartOptions(termOf(stdout), false, 0))
				}
			}
			fmt.Fprintln(stdout)
		}
		if interrupted {
			break
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(cells)
	}
	if interrupted {
		// The cells not run are left out of the tables: none of them
		// was checked.
		last := cells[len(cells)-1]
		fmt.Fprintf(stderr, "sysmsg sweep: interrupted at %s, cap %s, %s; %d of %d cells not run, and left out\n",
			last.Workload, last.Cap, last.Policy, total-len(cells), total)
		code = exitIncomplete
	}
	if len(differ) > 0 {
		// A finding beats an interrupt, as in a check.
		if len(differ) == 1 {
			fmt.Fprintf(stdout, "1 cell differs from %s:\n", *expect)
		} else {
			fmt.Fprintf(stdout, "%d cells differ from %s:\n", len(differ), *expect)
		}
		for _, d := range differ {
			fmt.Fprintln(stdout, "  "+d)
		}
		return exitViolation
	}
	if expected != nil && !*asJSON && !interrupted {
		fmt.Fprintf(stdout, "all %d verdicts are the expected ones (%s)\n", len(cells), *expect)
	}
	return code
}

// printTableHead starts one cap's table.
func printTableHead(w io.Writer, capText string, nameWidth int) {
	fmt.Fprintf(w, "cap %s\n", capText)
	fmt.Fprintf(w, "  %-*s %-12s %-11s %9s %8s  %s\n", nameWidth, "workload", "policy", "verdict", "states", "seconds", "notes")
}

// printRow prints one cell as a row of its cap's table.
func printRow(w io.Writer, x cell, nameWidth int) {
	var notes []string
	switch {
	case x.Verdict == "ok" && len(x.NotChecked) > 0:
		notes = append(notes, "verified but for fair progress (--symmetry)")
		if len(x.Vacuous) > 0 {
			notes = append(notes, strings.Join(x.Vacuous, "; "))
		}
	case x.Verdict == "ok" && len(x.Vacuous) == 0:
		notes = append(notes, "verified")
	case x.Verdict == "ok":
		notes = append(notes, "verified, but "+strings.Join(x.Vacuous, "; "))
	case x.Verdict == "incomplete":
		notes = append(notes, "not a proof ("+x.Reason+")")
	default:
		notes = append(notes, fmt.Sprintf("counterexample: %s, %s", x.Property, plural(x.Steps, "step")))
	}
	if x.Expected != "" {
		if x.Expected == x.Verdict {
			notes = append(notes, "as expected")
		} else {
			notes = append(notes, "EXPECTED "+x.Expected)
		}
	}
	fmt.Fprintf(w, "  %-*s %-12s %-11s %9d %8.2f  %s\n", nameWidth, x.Workload, x.Policy, x.Verdict, x.States, x.Seconds, strings.Join(notes, ", "))
}
