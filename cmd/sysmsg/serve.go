package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/impl/httpd"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/sched"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

func init() {
	commands["serve"] = command{summary: "serve HTTP with the pipelined server on the real back end", run: serveMain}
}

func serveMain(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("serve", "[flags]", `Serve HTTP/1.1 with the seed's pipelined server on the real back end:
one reader (reading ahead) and one writer user thread per connection,
under the policy and cap. It listens on loopback only, and runs until
Ctrl-C or SIGTERM, or for --duration; then it prints its counters.

Exit codes: 0 served until stopped; 1 the watchdog found it stuck (with a
dump) or it failed; 2 bad usage, or an address it cannot listen on.
`, stdout, stderr)
	var (
		cf         configFlags
		addr       = c.String("addr", "127.0.0.1:8080", "loopback `ADDRESS:PORT` to listen on (port 0 picks a free one)")
		stuckAfter = 2 * time.Second
		duration   time.Duration
	)
	c.Var(&durationFlag{p: &stuckAfter, positive: true}, "stuck-after", "the watchdog reports the server stuck after this long without progress\nwhile threads wait on the cap")
	c.Var(&durationFlag{p: &duration}, "duration", "stop after this long (0: until interrupted)")
	cf.register(c, maxImplCap, "2, the seed's setting")
	if _, code := c.parse(args, 0); code >= 0 {
		return code
	}
	if cf.cap.n == 0 {
		cf.cap.n = 2 // the seed's test setting
	}
	capacity, pol := cf.cap.n, spec.Policy(cf.policy)
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil {
		return c.failf("--addr %s: want ADDRESS:PORT, such as 127.0.0.1:8080", quoteArg(*addr))
	}
	if ip := ap.Addr().Unmap(); !ip.Is4() || !ip.IsLoopback() {
		// The server has no authentication: it is a test bench, and
		// never exposed by accident.
		return c.failf("--addr %s: not an IPv4 loopback address; serve listens on loopback only (127.0.0.1, or any 127.x.y.z)", *addr)
	}
	srv, err := httpd.New(httpd.Config{Addr: ap.Addr().Unmap().As4(), Port: int(ap.Port()),
		Sched: port.Config{Cap: capacity, Low: cf.low, Policy: pol}, StuckAfter: stuckAfter})
	var errno syscall.Errno
	switch {
	case errors.Is(err, httpd.ErrListen) && errors.As(err, &errno):
		return c.failf("--addr %s: %v", *addr, errno)
	case errors.Is(err, httpd.ErrListen), errors.Is(err, port.ErrConfig):
		return c.fail(err)
	case err != nil:
		fmt.Fprintf(stderr, "sysmsg serve: %s\n", userText(err))
		return exitViolation
	}
	fmt.Fprintf(stdout, "listening on http://%s — policy %s, cap %s, low %d\n", srv.Addr(), pol, workload.CapText(capacity), lowOf(capacity, cf.low, pol))

	stop := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		var timeout <-chan time.Time
		if duration > 0 {
			timeout = time.After(duration)
		}
		select {
		case <-sig:
		case <-timeout:
		}
		close(stop)
	}()
	start := time.Now()
	serveErr := srv.Serve(stop)
	elapsed := time.Since(start)
	s := srv.Stats()
	closeErr := srv.Close()
	fmt.Fprintf(stdout, "served %d connections, %d requests, %d responses in %v (%.0f responses/s)\n",
		s.Conns, s.Requests, s.Responses, elapsed.Round(time.Millisecond), float64(s.Responses)/elapsed.Seconds())
	fmt.Fprintf(stdout, "sends %d, replies %d, polls %d (%d would block), mode changes %d, cap reached %d times, max in flight %d\n",
		s.Sched.Sends, s.Sched.Reaps, s.Sched.Polls, s.Sched.WouldBlocks, s.Sched.ModeChanges, s.Sched.CapHits, s.Sched.MaxInFlight)
	var se *sched.StuckError
	if errors.As(serveErr, &se) {
		fmt.Fprintf(stdout, "STUCK: the watchdog saw no progress for %v while threads waited on the cap\n%s", se.After, se.Dump)
		return exitViolation
	}
	if serveErr != nil || closeErr != nil {
		for _, err := range []error{serveErr, closeErr} {
			if err != nil {
				fmt.Fprintf(stderr, "sysmsg serve: %s\n", userText(err))
			}
		}
		return exitViolation
	}
	return exitOK
}

// lowOf is the low-water mark the server's port uses, by the rule the
// port follows; httpd.New has already refused one that does not fit.
func lowOf(c, low int, pol port.Policy) int {
	l, _ := spec.LowFor(pol, c, low)
	return l
}
