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
	"github.com/sysmsg/sysmsg/model/workload"
)

func init() {
	commands["serve"] = command{summary: "the pipelined HTTP server on the real back end", run: serveMain}
}

func serveMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	var (
		cf         configFlags
		addr       = fs.String("addr", "127.0.0.1:8080", "IPv4 address and port to listen on (loopback by default)")
		stuckAfter = fs.Duration("stuck-after", 2*time.Second, "the watchdog reports the server stuck after this long without progress while threads wait on the cap")
		duration   = fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	)
	cf.register(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if cf.cap == 0 {
		cf.cap = 2 // the seed's test setting
	}
	capacity, pol := int(cf.cap), workload.Policy(cf.policy)
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().Is4() {
		fmt.Fprintf(stderr, "sysmsg serve: --addr %q: want IPv4:PORT, such as 127.0.0.1:8080\n", *addr)
		return exitUsage
	}
	if *stuckAfter <= 0 || *duration < 0 {
		fmt.Fprintf(stderr, "sysmsg serve: --stuck-after must be positive and --duration not negative\n")
		return exitUsage
	}
	srv, err := httpd.New(httpd.Config{Addr: ap.Addr().As4(), Port: int(ap.Port()),
		Sched: port.Config{Cap: capacity, Low: cf.low, Policy: pol}, StuckAfter: *stuckAfter})
	if err != nil {
		fmt.Fprintf(stderr, "sysmsg serve: %v\n", err)
		if errors.Is(err, port.ErrConfig) {
			return exitUsage
		}
		return exitViolation
	}
	fmt.Fprintf(stdout, "listening on http://%s — policy %s, cap %s, low %d\n", srv.Addr(), pol, capName(capacity), lowOf(capacity, cf.low, pol))

	stop := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		var timeout <-chan time.Time
		if *duration > 0 {
			timeout = time.After(*duration)
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
		fmt.Fprintf(stderr, "sysmsg serve: %v\n", errors.Join(serveErr, closeErr))
		return exitViolation
	}
	return exitOK
}

func capName(c int) string {
	if c == port.Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(c)
}

// lowOf is the low-water mark the server's port uses, by the rule the
// port follows; httpd.New has already refused one that does not fit.
func lowOf(c, low int, pol port.Policy) int {
	l, _ := workload.LowFor(pol, c, low)
	return l
}
