package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/sysmsg/sysmsg/model/workload"
)

func init() {
	commands["workload"] = command{"list the built-in workloads, print one, or make one from a capture", workloadCmd}
}

// workloadGroup is the workload command: its subcommands, in the order its
// usage lists them.
var workloadGroup = &group{
	name:     "workload",
	synopsis: "list|show|from-pcap [ARGS] [flags]",
	what:     "List the built-in workloads, print one as a workload file to edit, or make\none from a packet capture of HTTP traffic.",
	subs: []subcommand{
		{"list", "list the built-in workloads, one a line: name and title", workloadList},
		{"show", "print a built-in workload, or a workload file, in the workload format", workloadShow},
		{"from-pcap", "make a workload from a pcap or pcapng capture of HTTP/1.1 traffic", workloadFromPcap},
	},
	want: "list, show or from-pcap",
}

func workloadCmd(args []string, stdout, stderr io.Writer) int {
	return workloadGroup.run(args, stdout, stderr)
}

func workloadList(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("workload list", "", "List the built-in workloads, then the incident gallery (public hangs of\nbounded submission queues), one a line: the name to give --workload, and\nthe title.\n", stdout, stderr)
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
	fmt.Fprintln(stdout, "\nincidents (docs/incidents-design.md):")
	for _, n := range workload.IncidentNames() {
		w, _, err := workload.Load(n, workload.Params{})
		if err != nil {
			return c.failf("incident %s: %v", n, err)
		}
		fmt.Fprintf(stdout, "%-21s %s\n", n, w.Title)
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
