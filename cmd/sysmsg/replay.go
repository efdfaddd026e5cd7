package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/capture"
)

func init() {
	commands["replay"] = command{summary: "send a capture's HTTP requests to a server, with the captured pipelining", run: replayMain}
}

// readCapture reads a capture file: package capture's reader, a variable
// so that the tests can give the command connections of their own.
var readCapture = capture.ReadFile

func replayMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runReplay(ctx, args, stdout, stderr)
}

// runReplay is the replay command; an interrupt is ctx's cancellation.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCmdline("replay", "CAPTURE [flags]", `Send the HTTP requests of a packet capture (pcap or pcapng, such as
sysmsg serve --record writes) to a server, with the captured pipelining,
and check that every response comes back. Each captured connection is
replayed on a connection of its own, all at once: a captured request is
sent; where the captured client waited for a response, the replay waits
for the next one, up to --timeout; at the end it waits for those still
owed, one per request. It prints the requests, the responses and the
time, and each connection that failed, with why.

The server is on loopback unless --allow-remote: replaying a capture
sends its requests, cookies and all, to whoever listens.

Exit codes: 0 every response came; 1 a connection failed (a response did
not come, or the server closed early); 2 bad usage, or a capture that
cannot be read or has nothing to replay; 3 interrupted (Ctrl-C or
SIGTERM), with the figures so far.
`, stdout, stderr)
	var (
		addr        = c.String("addr", "127.0.0.1:8080", "the server's `HOST:PORT` (default 127.0.0.1:8080, where sysmsg serve listens)")
		allowRemote = c.Bool("allow-remote", false, "allow a server that is not on loopback")
		timeout     = 5 * time.Second
		opt         capture.Options
	)
	c.Var(&durationFlag{p: &timeout, positive: true}, "timeout", "the longest wait to connect, to send a request, or for a response")
	c.Var(newIntFlag(&opt.Port, capture.DefaultPort, 1, 65535), "port", "the HTTP server's TCP port in the capture")
	c.Var(newIntFlag(&opt.MaxConns, 0, 0, 0), "max-conns", "replay the first N connections of the capture only (0: all)")
	c.Var(newIntFlag(&opt.MaxRequests, 0, 0, 0), "max-requests", "replay the first N requests of each connection only (0: all)")
	pos, code := c.parse(args, 1)
	if code >= 0 {
		return code
	}
	if len(pos) == 0 {
		return c.failf("name a capture file, pcap or pcapng (see sysmsg replay --help)")
	}
	target, err := resolveServer(ctx, *addr, *allowRemote)
	if err != nil {
		return c.failf("--addr %s: %s", quoteArg(*addr), userText(err))
	}
	// Replay sends all that was captured unless told otherwise: the
	// reader's defaults keep a workload small, not a replay.
	if opt.MaxConns == 0 {
		opt.MaxConns = math.MaxInt
	}
	if opt.MaxRequests == 0 {
		opt.MaxRequests = math.MaxInt
	}
	capt, err := readCapture(ctx, pos[0], opt)
	if err != nil {
		return c.failf("%s", captureText(err))
	}
	if len(capt.Conns) == 0 {
		return c.failf("%s: no HTTP connection to replay (%d packets, %d not TCP to or from the port)", pos[0], capt.Packets, capt.Skipped)
	}
	requests := 0
	for _, cn := range capt.Conns {
		requests += len(cn.Requests)
	}
	fmt.Fprintf(stdout, "replaying %s to %s: %d connections, %d requests\n", pos[0], target, len(capt.Conns), requests)
	for _, cut := range capt.Cut {
		fmt.Fprintf(stdout, "  cut: %s\n", cut)
	}
	if n := len(capt.Warnings); n > 0 {
		fmt.Fprintf(stdout, "  %d warnings reading the capture, the first: %s\n", n, capt.Warnings[0])
	}
	res, err := capture.Replay(ctx, capt.Conns, target.String(), capture.ReplayOptions{Timeout: timeout})
	if err != nil {
		return c.failf("%s", captureText(err))
	}
	printReplay(stdout, capt.Conns, &res)
	switch {
	case res.Interrupted:
		fmt.Fprintf(stderr, "sysmsg replay: interrupted: %d of %d responses so far\n", res.Responses, res.Want)
		return exitIncomplete
	case res.Failed() > 0:
		return exitViolation
	}
	return exitOK
}

// printReplay prints the figures, and each connection that failed.
func printReplay(w io.Writer, conns []capture.Conn, res *capture.ReplayResult) {
	codes := map[int]int{}
	for _, cr := range res.Conns {
		for _, s := range cr.Status {
			codes[s]++
		}
	}
	statuses := make([]int, 0, len(codes))
	for s := range codes {
		statuses = append(statuses, s)
	}
	slices.Sort(statuses)
	var parts []string
	for _, s := range statuses {
		parts = append(parts, fmt.Sprintf("%d × %d", codes[s], s))
	}
	byStatus := ""
	if len(parts) > 0 {
		byStatus = " (" + strings.Join(parts, ", ") + ")"
	}
	fmt.Fprintf(w, "  requests   %d sent\n", res.Requests)
	fmt.Fprintf(w, "  responses  %d of %d%s\n", res.Responses, res.Want, byStatus)
	fmt.Fprintf(w, "  time       %v\n", res.Elapsed.Round(time.Millisecond))
	failed := res.Failed()
	if failed == 0 {
		fmt.Fprintf(w, "every response came, on all %d connections\n", len(res.Conns))
		return
	}
	fmt.Fprintf(w, "FAILED: %d of %d connections did not get every response\n", failed, len(res.Conns))
	for i, cr := range res.Conns {
		if cr.Err == nil {
			continue
		}
		cn := conns[i]
		fmt.Fprintf(w, "  connection %d (captured %v → %v, from packet %d): %d of %d responses: %v\n",
			i+1, cn.Client, cn.Server, cn.First, cr.Responses, cr.Want, cr.Err)
	}
}

// resolveServer reads --addr: a host (an address or a name) and a port.
// A name is resolved here, and the address dialled is the one checked:
// loopback, unless remote servers are allowed.
func resolveServer(ctx context.Context, s string, allowRemote bool) (netip.AddrPort, error) {
	host, portText, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return netip.AddrPort{}, errors.New("want HOST:PORT, such as 127.0.0.1:8080 or localhost:8080")
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, fmt.Errorf("port %s: want a port from 1 to 65535", quoteArg(portText))
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		found, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(found) == 0 {
			var de *net.DNSError
			if errors.As(err, &de) {
				err = errors.New(de.Err)
			}
			return netip.AddrPort{}, fmt.Errorf("cannot resolve %s: %v", host, err)
		}
		for _, a := range found {
			addrs = append(addrs, a.Unmap())
		}
	}
	// The first loopback address, else the first one.
	pick := addrs[0]
	for _, a := range addrs {
		if a.IsLoopback() {
			pick = a
			break
		}
	}
	if !pick.IsLoopback() && !allowRemote {
		what := pick.String()
		if what != host {
			what = host + " is " + what + ", which"
		}
		return netip.AddrPort{}, fmt.Errorf("%s is not a loopback address: replay sends to loopback only, unless --allow-remote", what)
	}
	return netip.AddrPortFrom(pick.WithZone(""), uint16(port)), nil
}

// captureText is an error of package capture as a command prints it:
// without the package's name and its sentinels' words.
func captureText(err error) string {
	msg := userText(err)
	for _, s := range []error{capture.ErrReplay, capture.ErrRecordFull} {
		if errors.Is(err, s) {
			msg = strings.Replace(msg, s.Error()+": ", "", 1)
		}
	}
	return strings.ReplaceAll(msg, "capture: ", "")
}
