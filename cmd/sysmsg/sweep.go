package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"sysmsg/check"
	"sysmsg/model"
	"sysmsg/model/workload"
	"sysmsg/traces"
)

func init() {
	commands["sweep"] = command{"a grid of caps x policies x workloads, as a table", sweepCmd}
}

// cell is one check of a sweep.
type cell struct {
	Workload string  `json:"workload"`
	Cap      string  `json:"cap"`
	Policy   string  `json:"policy"`
	Verdict  string  `json:"verdict"` // ok, deadlock, livelock, violation, incomplete
	Property string  `json:"property,omitempty"`
	States   int     `json:"states"`
	Seconds  float64 `json:"seconds"`
	Expected string  `json:"expected,omitempty"`
	// Vacuous lists the guards never reached and, for ok cells, the action
	// kinds that never fired.
	Vacuous []string      `json:"vacuous,omitempty"`
	Trace   *traces.Trace `json:"-"`
}

// outcome is a result's one-word verdict for tables: the kind of violation
// rather than the word "violation".
func outcome(res *result) string {
	switch res.Verdict {
	case check.Violated:
		switch res.Violation.Kind {
		case check.Deadlock, check.Livelock:
			return res.Violation.Kind.String()
		}
		return "violation"
	}
	return res.Verdict.String()
}

func sweepCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sweep", stderr)
	workloads := fs.String("workloads", strings.Join(workload.BuiltinNames(), ","), "comma-separated built-ins or workload files")
	capsFlag := fs.String("caps", "2,1,3,unlimited", "comma-separated caps; each is a table")
	policies := fs.String("policies", "block,stop,poll,poll-nohyst", "comma-separated policies")
	expect := fs.String("expect", "", "a file of expected verdicts; exit 1 naming every cell that differs")
	show := fs.String("show", "2", "print the counterexamples found at this cap (a number, unlimited, all or none)")
	asJSON := fs.Bool("json", false, "print the cells as a JSON array instead of tables")
	var wf workloadFlags
	wf.registerSizes(fs)
	var bf boundFlags
	bf.register(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "sysmsg sweep: %v\n", err)
		return exitUsage
	}
	var caps []capValue
	for _, s := range strings.Split(*capsFlag, ",") {
		var c capValue
		if err := c.Set(strings.TrimSpace(s)); err != nil {
			return fail(fmt.Errorf("-caps: %q: %v", s, err))
		}
		caps = append(caps, c)
	}
	var pols []workload.Policy
	for _, s := range strings.Split(*policies, ",") {
		p, err := workload.ParsePolicy(strings.TrimSpace(s))
		if err != nil {
			return fail(fmt.Errorf("-policies: %v", err))
		}
		pols = append(pols, p)
	}
	type loaded struct {
		name, text string
		w          *workload.Workload
	}
	var ws []loaded
	for _, name := range strings.Split(*workloads, ",") {
		wf.name = strings.TrimSpace(name)
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
	opt, err := bf.options()
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var cells []cell
	code := exitOK
	var differ []string
	for _, c := range caps {
		var row []cell
		for _, l := range ws {
			for _, p := range pols {
				m, err := model.New(l.w, model.Config{Policy: p, Cap: int(c), Low: workload.Unset})
				if err != nil {
					return fail(err)
				}
				if !*asJSON && isTerminal(os.Stderr) {
					fmt.Fprintf(stderr, "\rchecking %s, cap %s, %s ...      ", l.name, c.String(), p)
				}
				res, err := check.Explore(ctx, m, opt)
				if err != nil {
					return fail(err)
				}
				x := cell{Workload: l.name, Cap: c.String(), Policy: p.String(), Verdict: outcome(res),
					States: res.Stats.States, Seconds: res.Stats.Seconds}
				if res.Violation != nil {
					x.Property = res.Violation.Property
					x.Trace = m.Trace(l.name, l.text, res.Violation, res.Stats)
				} else {
					for _, g := range res.Sometimes {
						if !g.Reached {
							x.Vacuous = append(x.Vacuous, "never: "+g.Name)
						}
					}
					for _, g := range m.ActionGuards() {
						if res.Verdict == check.OK && fired(res, g.Kind) == 0 {
							x.Vacuous = append(x.Vacuous, "never: "+g.Name)
						}
					}
					if nf := res.Stats.NeverFired(); res.Verdict == check.OK && len(nf) > 0 {
						x.Vacuous = append(x.Vacuous, "never fired: "+strings.Join(nf, ", "))
					}
				}
				if expected != nil {
					key := l.name + " " + x.Cap + " " + x.Policy
					x.Expected = expected[key]
					if x.Expected == "" {
						differ = append(differ, fmt.Sprintf("%s: no expected verdict in %s (got %s)", key, *expect, x.Verdict))
					} else if x.Expected != x.Verdict {
						differ = append(differ, fmt.Sprintf("%s: got %s, expected %s", key, x.Verdict, x.Expected))
					}
				}
				if res.Verdict == check.Incomplete && code == exitOK {
					code = exitIncomplete
				}
				row = append(row, x)
				if ctx.Err() != nil {
					break
				}
			}
		}
		if !*asJSON && isTerminal(os.Stderr) {
			fmt.Fprint(stderr, "\r\033[K")
		}
		if !*asJSON {
			printTable(stdout, c.String(), row)
			if *show == "all" || *show == c.String() {
				for _, x := range row {
					if x.Trace != nil {
						fmt.Fprintln(stdout)
						traces.Text(stdout, x.Trace)
					}
				}
				fmt.Fprintln(stdout)
			}
		}
		cells = append(cells, row...)
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "sysmsg sweep: interrupted; the table is incomplete")
			return exitIncomplete
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(cells)
	}
	if len(differ) > 0 {
		fmt.Fprintf(stdout, "%d cells differ from %s:\n", len(differ), *expect)
		for _, d := range differ {
			fmt.Fprintln(stdout, "  "+d)
		}
		return exitViolation
	}
	if expected != nil && !*asJSON {
		fmt.Fprintf(stdout, "all %d verdicts are the expected ones (%s)\n", len(cells), *expect)
	}
	return code
}

// printTable prints one cap's cells: a row per workload and policy.
func printTable(w io.Writer, capText string, row []cell) {
	fmt.Fprintf(w, "cap %s\n", capText)
	fmt.Fprintf(w, "  %-12s %-12s %-11s %9s %8s  %s\n", "workload", "policy", "verdict", "states", "seconds", "notes")
	for _, x := range row {
		var notes []string
		switch {
		case x.Verdict == "ok" && len(x.Vacuous) == 0:
			notes = append(notes, "verified")
		case x.Verdict == "ok":
			notes = append(notes, "verified, but "+strings.Join(x.Vacuous, "; "))
		case x.Verdict == "incomplete":
			notes = append(notes, "not a proof")
		default:
			notes = append(notes, "counterexample: "+x.Property)
		}
		if x.Expected != "" {
			if x.Expected == x.Verdict {
				notes = append(notes, "as expected")
			} else {
				notes = append(notes, "EXPECTED "+x.Expected)
			}
		}
		fmt.Fprintf(w, "  %-12s %-12s %-11s %9d %8.2f  %s\n", x.Workload, x.Policy, x.Verdict, x.States, x.Seconds, strings.Join(notes, ", "))
	}
}
