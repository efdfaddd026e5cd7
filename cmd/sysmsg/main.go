// Command sysmsg checks and runs asynchronous system calls sent as kernel
// messages under a per-process cap.
//
//	sysmsg check     check every state of a workload under a policy and cap
//	sysmsg sweep     a grid of caps x policies x workloads, as tables
//	sysmsg run       a workload on the reference implementation
//	sysmsg serve     the pipelined HTTP server on the real back end (--record: its traffic as pcapng)
//	sysmsg replay    a capture's HTTP requests sent to a server, with the captured pipelining
//	sysmsg trace     view a stored counterexample (a chart, a page), or replay it
//	sysmsg workload  list the built-in workloads, print one, or make one from a packet capture
//	sysmsg help      a command's usage (as does COMMAND --help)
//
// Flags may come before or after a command's arguments. Errors are one line
// on stderr, prefixed with the command.
//
// Exit codes: 0 all properties hold and the work was complete; 1 a property
// is violated (or a run got stuck); 2 bad usage or input; 3 incomplete.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// Exit codes shared by every subcommand.
const (
	exitOK         = 0
	exitViolation  = 1
	exitUsage      = 2
	exitIncomplete = 3
)

// command is one subcommand: it parses its own flags and returns the exit
// code. Given --help, it prints its usage on stdout and returns 0.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is filled by each subcommand's file in its init function.
var commands = map[string]command{}

func main() {
	// A write to a closed pipe (sysmsg check ... | head -1) returns EPIPE
	// instead of killing the process with SIGPIPE, so that the command
	// ends with its own status. Nothing reads the channel: the commands
	// ignore a failed write to stdout.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		if args[0] == "help" && len(args) > 1 {
			// sysmsg help COMMAND [SUBCOMMAND]: the command's own --help.
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(stderr, "sysmsg help: unknown command %q (see sysmsg --help)\n", args[1])
				return exitUsage
			}
			return c.run(append(slices.Clone(args[2:]), "--help"), stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	if strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "sysmsg: flag %s before a command; flags follow the command (see sysmsg --help)\n", args[0])
		return exitUsage
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sysmsg: unknown command %q (see sysmsg --help)\n", args[0])
		return exitUsage
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sysmsg COMMAND [ARGS] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "sysmsg checks and runs asynchronous system calls sent as kernel messages")
	fmt.Fprintln(w, "under a per-process cap.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-9s %s\n", "help", "a command's usage: sysmsg help COMMAND, or sysmsg COMMAND --help")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Exit codes: 0 ok, 1 a property violated or a run stuck, 2 bad usage or input,")
	fmt.Fprintln(w, "3 incomplete.")
}
