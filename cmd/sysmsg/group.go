package main

import (
	"fmt"
	"io"
)

// subcommand is one subcommand of a group.
type subcommand struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

// group is a command made of subcommands (workload, trace): one way to
// print its usage, answer help and dispatch.
type group struct {
	name     string // the command's name: "workload"
	synopsis string // after "usage: sysmsg NAME "
	what     string // one sentence on what it does
	subs     []subcommand
	// pending names subcommands that are planned but not built yet.
	pending []string
	// want lists the subcommands in the unknown-subcommand error.
	want string
}

func (g *group) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: sysmsg %s %s\n\n%s\n\nSubcommands:\n", g.name, g.synopsis, g.what)
	width := 0
	for _, s := range g.subs {
		width = max(width, len(s.name)+1)
	}
	for _, s := range g.subs {
		fmt.Fprintf(w, "  %-*s %s\n", width, s.name, s.summary)
	}
	help := "SUBCOMMAND"
	if len(g.subs) == 1 {
		help = g.subs[0].name
	}
	fmt.Fprintf(w, "\nRun 'sysmsg %s help %s' for its flags.\n", g.name, help)
}

func (g *group) run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		g.usage(stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		if args[0] == "help" && len(args) > 1 {
			return g.run(append(args[1:2:2], "--help"), stdout, stderr)
		}
		g.usage(stdout)
		return exitOK
	}
	for _, s := range g.subs {
		if s.name == args[0] {
			return s.run(args[1:], stdout, stderr)
		}
	}
	for _, p := range g.pending {
		if p == args[0] {
			fmt.Fprintf(stderr, "sysmsg %s: %s is not built yet; only %s is (see sysmsg %s --help)\n", g.name, p, g.want, g.name)
			return exitUsage
		}
	}
	fmt.Fprintf(stderr, "sysmsg %s: unknown subcommand %q (want %s; see sysmsg %s --help)\n", g.name, args[0], g.want, g.name)
	return exitUsage
}
