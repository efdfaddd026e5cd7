// Command sysmsg checks, runs and explains asynchronous system calls sent as
// kernel messages under a per-process cap.
//
//	sysmsg check    exhaustive check of a workload under a policy and cap
//	sysmsg sweep    a grid of caps x policies x workloads, as a table
//	sysmsg run      a workload on the reference implementation
//	sysmsg serve    the pipelined HTTP server on the real back end
//	sysmsg trace    view, render or replay a stored counterexample
//	sysmsg workload print a built-in workload, or make one from a capture
//
// Exit codes: 0 all properties hold and the work was complete; 1 a property
// is violated (or a run got stuck); 2 bad usage or input; 3 incomplete.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// Exit codes shared by every subcommand.
const (
	exitOK         = 0
	exitViolation  = 1
	exitUsage      = 2
	exitIncomplete = 3
)

// command is one subcommand: it parses its own flags and returns the exit
// code.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is filled by each subcommand's file in its init function.
var commands = map[string]command{}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sysmsg: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sysmsg COMMAND [flags]")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "Run 'sysmsg COMMAND -h' for a command's flags.")
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 violation, 2 bad usage or input, 3 incomplete.")
}
