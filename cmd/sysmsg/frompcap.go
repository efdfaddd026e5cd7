package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/sysmsg/sysmsg/capture"
)

// fromPcapDoc is workload from-pcap's --help.
var fromPcapDoc = fmt.Sprintf(`Make a workload from a packet capture of HTTP/1.1 traffic to a server:
classic pcap or pcapng (gzipped or not), over Ethernet, Linux cooked
(v1, v2), loopback or raw IP, IPv4 or IPv6. Each TCP connection to --port
is reassembled and its requests and responses parsed; the workload has the
seed's web server (per connection a reader thread, a writer thread and a
queue; cap 2) and, per connection, a client that sends and receives in
the captured order: its pipelining as it happened. Check it with
sysmsg check --workload FILE, run it with sysmsg run --workload FILE.

The bounds keep the check quick: at the defaults (%d connections of %d
requests) it takes at most about 200,000 states. What they cut, and the
problems met (retransmissions, connections with no SYN, a message cut
short), the workload's header comment says, naming the packets; the
warnings also go to stderr. A file that cannot be read (not a capture, a
corrupt record, an unknown link type) is an error, and nothing is written.

Exit codes: 0 the workload was made; 2 bad usage or input, or no
connection to the port with a request; 3 interrupted.
`, capture.DefaultMaxConns, capture.DefaultMaxRequests)

func workloadFromPcap(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("workload from-pcap", "FILE [flags]", fromPcapDoc, stdout, stderr)
	var opt capture.Options
	c.Var(newIntFlag(&opt.Port, capture.DefaultPort, 1, 65535), "port", "the server's TCP port: the connections to it are read")
	c.Var(newIntFlag(&opt.MaxConns, capture.DefaultMaxConns, 1, capture.MaxConns),
		"max-conns", "connections kept: the first ones with a request")
	c.Var(newIntFlag(&opt.MaxRequests, capture.DefaultMaxRequests, 1, capture.MaxRequests),
		"max-requests", "requests kept of each connection, with their responses")
	asJSON := c.Bool("json", false, "print a summary as JSON (packets, connections, depths, cuts,\nwarnings) instead of the workload")
	out := c.String("o", "", "write the workload to `FILE` instead of stdout (whole or not at all)")
	pos, code := c.parse(args, 1)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		return c.failf("name a capture file: pcap or pcapng (see sysmsg workload from-pcap --help)")
	}
	file := pos[0]
	if *out != "" {
		if err := checkWritable(*out); err != nil {
			return c.failf("-o %s: %v", *out, err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress bool
	if !*asJSON && isTerminal(stderr) {
		opt.Progress = func(n int) {
			fmt.Fprintf(stderr, "\r\x1b[Kreading %s: %d packets", file, n)
			progress = true
		}
	}
	cp, err := capture.ReadFile(ctx, file, opt)
	if progress {
		fmt.Fprint(stderr, "\r\x1b[K")
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "sysmsg workload from-pcap: interrupted: nothing written\n")
		return exitIncomplete
	case err != nil:
		var pe *os.PathError
		if errors.As(err, &pe) {
			return c.failf("%s: %v", pe.Path, pe.Err)
		}
		return c.fail(err)
	}
	text, werr := cp.Workload()
	if *asJSON {
		writeJSON(stdout, summarise(cp, opt.Port))
	} else {
		for _, w := range cp.Warnings {
			fmt.Fprintf(stderr, "sysmsg workload from-pcap: warning: %s\n", w)
		}
	}
	if werr != nil {
		if errors.Is(werr, capture.ErrWorkload) && len(cp.Conns) == 0 {
			return c.failf("%s: no connection to port %d with a request (%d packets, %d skipped, %d connections to the port)",
				file, opt.Port, cp.Packets, cp.Skipped, cp.Seen)
		}
		return c.fail(werr)
	}
	switch {
	case *out != "":
		if err := writeFileWhole(*out, text); err != nil {
			return c.failf("-o %s: %v", *out, err)
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "%s: %d connections to port %d, %d requests, from %d packets of %s\n",
				*out, len(cp.Conns), opt.Port, countRequests(cp), cp.Packets, filepath.Base(file))
		}
	case !*asJSON:
		fmt.Fprint(stdout, text)
	}
	return exitOK
}

func countRequests(cp *capture.Capture) int {
	n := 0
	for _, c := range cp.Conns {
		n += len(c.Requests)
	}
	return n
}

// pcapSummary is workload from-pcap --json.
type pcapSummary struct {
	File        string        `json:"file"`
	Port        int           `json:"port"`
	Packets     int           `json:"packets"`
	Skipped     int           `json:"skipped"`
	Seen        int           `json:"connectionsSeen"`
	Connections []connSummary `json:"connections"`
	Cut         []string      `json:"cut"`
	Warnings    []warningJSON `json:"warnings"`
}

type connSummary struct {
	Name      string `json:"name"` // as the workload names its conn
	Client    string `json:"client"`
	Server    string `json:"server"`
	First     int    `json:"firstPacket"`
	Requests  int    `json:"requests"`
	Responses int    `json:"responses"`
	MaxDepth  int    `json:"maxDepth"`
	// Depths are the requests outstanding as each response came.
	Depths []int `json:"depths"`
}

type warningJSON struct {
	Packet  int    `json:"packet"` // 0: the file, or a connection as a whole
	Message string `json:"message"`
}

func summarise(cp *capture.Capture, port int) pcapSummary {
	s := pcapSummary{File: filepath.Base(cp.File), Port: port, Packets: cp.Packets, Skipped: cp.Skipped, Seen: cp.Seen,
		Connections: []connSummary{}, Cut: cp.Cut, Warnings: []warningJSON{}}
	if s.Cut == nil {
		s.Cut = []string{}
	}
	for i, c := range cp.Conns {
		d := c.Depths()
		cs := connSummary{Name: fmt.Sprintf("c%d", i), Client: c.Client.String(), Server: c.Server.String(), First: c.First,
			Requests: len(c.Requests), Responses: len(d), Depths: d}
		if d == nil {
			cs.Depths = []int{}
		}
		for _, v := range d {
			cs.MaxDepth = max(cs.MaxDepth, v)
		}
		s.Connections = append(s.Connections, cs)
	}
	for _, w := range cp.Warnings {
		s.Warnings = append(s.Warnings, warningJSON{w.Packet, w.Msg})
	}
	return s
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
}

// writeFileWhole writes text to path through a temporary file in the same
// directory, renamed into place once whole: a failure leaves nothing
// behind.
func writeFileWhole(path, text string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = io.WriteString(f, text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
