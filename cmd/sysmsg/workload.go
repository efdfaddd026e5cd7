package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sysmsg/sysmsg/model/workload"
)

func init() {
	commands["workload"] = command{"list or print the built-in workloads", workloadCmd}
}

func workloadCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sysmsg workload list | show NAME [-conns N -requests R -window W -stages S -items K]")
		return exitUsage
	}
	switch args[0] {
	case "list":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "sysmsg workload list: unexpected argument %q\n", args[1])
			return exitUsage
		}
		for _, n := range workload.BuiltinNames() {
			text, _ := workload.Builtin(n, workload.Params{})
			w, err := workload.Parse(n, text)
			if err != nil {
				fmt.Fprintf(stderr, "sysmsg workload: built-in %s: %v\n", n, err)
				return exitUsage
			}
			fmt.Fprintf(stdout, "%-10s %s\n", n, w.Title)
		}
		return exitOK
	case "show":
		fs := newFlagSet("workload show", stderr)
		var wf workloadFlags
		wf.register(fs)
		rest := args[1:]
		if len(rest) == 0 || rest[0] == "" || rest[0][0] == '-' {
			fmt.Fprintln(stderr, "sysmsg workload show: name a built-in ("+strings.Join(workload.BuiltinNames(), ", ")+") or a file")
			return exitUsage
		}
		wf.name, rest = rest[0], rest[1:]
		if code := parseFlags(fs, rest); code >= 0 {
			return code
		}
		_, text, err := wf.load()
		if err != nil {
			fmt.Fprintf(stderr, "sysmsg workload show: %v\n", err)
			return exitUsage
		}
		fmt.Fprint(stdout, text)
		return exitOK
	}
	fmt.Fprintf(stderr, "sysmsg workload: unknown subcommand %q (want list or show)\n", args[0])
	return exitUsage
}
