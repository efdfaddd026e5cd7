package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sysmsg/sysmsg/model/workload"
)

func init() {
	commands["workload"] = command{"list the built-in workloads, or print one", workloadCmd}
}

// workloadSubcommands are workload's subcommands, in the order its usage
// lists them.
var workloadSubcommands = []struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}{
	{"list", "list the built-in workloads, one a line: name and title", workloadList},
	{"show", "print a built-in workload, or a workload file, in the workload format", workloadShow},
}

func workloadUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: sysmsg workload list|show [ARGS] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "List the built-in workloads, or print one as a workload file to edit.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Subcommands:")
	for _, s := range workloadSubcommands {
		fmt.Fprintf(w, "  %-5s %s\n", s.name, s.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'sysmsg workload help SUBCOMMAND' for its flags.")
}

func workloadCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		workloadUsage(stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		if args[0] == "help" && len(args) > 1 {
			return workloadCmd(append(args[1:2:2], "--help"), stdout, stderr)
		}
		workloadUsage(stdout)
		return exitOK
	}
	for _, s := range workloadSubcommands {
		if s.name == args[0] {
			return s.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sysmsg workload: unknown subcommand %q (want list or show; see sysmsg workload --help)\n", args[0])
	return exitUsage
}

func workloadList(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("workload list", "", "List the built-in workloads, one a line: the name to give --workload, and\nthe title.\n", stdout, stderr)
	if _, code := c.parse(args, 0); code >= 0 {
		return code
	}
	for _, n := range workload.BuiltinNames() {
		text, _ := workload.Builtin(n, workload.Params{})
		w, err := workload.Parse(n, text)
		if err != nil {
			return c.failf("built-in %s: %v", n, err)
		}
		fmt.Fprintf(stdout, "%-10s %s\n", n, w.Title)
	}
	return exitOK
}

func workloadShow(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("workload show", "NAME|FILE [flags]", `Print a built-in workload, at the sizes the flags give, or a workload
file, in the workload format: a start for a workload of your own.
`, stdout, stderr)
	var wf workloadFlags
	wf.registerSizes(c)
	pos, code := c.parse(args, 1)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		return c.failf("name a built-in (%s) or a file", strings.Join(workload.BuiltinNames(), ", "))
	}
	wf.name = pos[0]
	if err := wf.checkSizes(pos); err != nil {
		return c.fail(err)
	}
	_, text, err := wf.load()
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprint(stdout, text)
	return exitOK
}
