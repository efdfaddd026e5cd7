package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sysmsg/sysmsg/capture"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runServe(ctx, args, stdout, stderr)
}

// defaultRecordMax is --record-max when not given.
const defaultRecordMax = 64 << 20

// runServe is the serve command; an interrupt is ctx's cancellation.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCmdline("serve", "[flags]", `Serve HTTP/1.1 with the seed's pipelined server on the real back end:
one reader (reading ahead) and one writer user thread per connection,
under the policy and cap. It listens on loopback only, and runs until
Ctrl-C or SIGTERM, or for --duration; then it prints its counters.

With --record FILE it writes its own traffic to FILE as pcapng, for
Wireshark, tshark or sysmsg replay: the server sees bytes, not packets,
so the packets are made from its accepts, reads, writes and closes, as
clean TCP. The file grows to --record-max at most; there recording stops,
the file stays valid, and serve says so once.

Exit codes: 0 served until stopped; 1 the watchdog found it stuck (with a
dump), or it or the recording failed; 2 bad usage, an address it cannot
listen on, or a file it cannot record to.
`, stdout, stderr)
	var (
		cf         configFlags
		addr       = c.String("addr", "127.0.0.1:8080", "loopback `ADDRESS:PORT` to listen on (port 0 picks a free one)")
		recordTo   = c.String("record", "", "write the server's traffic to `FILE` as pcapng")
		recordMax  = sizeFlag{bytesValue: bytesValue{n: defaultRecordMax}, min: minRecordMax}
		stuckAfter = 2 * time.Second
		duration   time.Duration
	)
	c.Var(&recordMax, "record-max", "stop recording before the file passes this size (none: no bound)")
	c.Var(&durationFlag{p: &stuckAfter, positive: true}, "stuck-after", "the watchdog reports the server stuck after this long without progress\nwhile threads wait on the cap")
	c.Var(&durationFlag{p: &duration}, "duration", "stop after this long (0: until interrupted)")
	cf.register(c, maxImplCap, "2, the seed's setting")
	if _, code := c.parse(args, 0); code >= 0 {
		return code
	}
	if c.set("record-max") && *recordTo == "" {
		return c.failf("--record-max without --record: name the file to record to")
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
	// stderr takes the recorder's word from the server's threads too.
	stderr = &lockedWriter{w: stderr}
	var rec *recording
	if *recordTo != "" {
		var err error
		if rec, err = newRecording(*recordTo, recordMax, stderr); err != nil {
			return c.failf("--record %s: %s", *recordTo, captureText(err))
		}
	}
	cfg := httpd.Config{Addr: ap.Addr().Unmap().As4(), Port: int(ap.Port()),
		Sched: port.Config{Cap: capacity, Low: cf.low, Policy: pol}, StuckAfter: stuckAfter}
	if rec != nil {
		cfg.Tap = rec.r
	}
	srv, err := httpd.New(cfg)
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
	if rec != nil {
		// Only now, with the server listening, is the file created (or
		// emptied): a server that cannot start leaves it as it was.
		if err := rec.open(); err != nil {
			srv.Close()
			return c.failf("--record %s: %s", *recordTo, userText(err))
		}
	}
	fmt.Fprintf(stdout, "listening on http://%s — policy %s, cap %s, low %d\n", srv.Addr(), pol, workload.CapText(capacity), lowOf(capacity, cf.low, pol))
	if rec != nil {
		fmt.Fprintf(stdout, "recording to %s, %s\n", rec.path, rec.bound())
	}

	stop := make(chan struct{})
	go func() {
		var timeout <-chan time.Time
		if duration > 0 {
			timeout = time.After(duration)
		}
		select {
		case <-ctx.Done():
		case <-timeout:
		}
		close(stop)
	}()
	start := time.Now()
	serveErr := srv.Serve(stop)
	elapsed := time.Since(start)
	s := srv.Stats()
	closeErr := srv.Close()
	var recErr error
	if rec != nil {
		// After the server's Close, which records the FINs of the
		// connections still open.
		recErr = rec.finish()
	}
	fmt.Fprintf(stdout, "served %d connections, %d requests, %d responses in %v (%.0f responses/s)\n",
		s.Conns, s.Requests, s.Responses, elapsed.Round(time.Millisecond), float64(s.Responses)/elapsed.Seconds())
	fmt.Fprintf(stdout, "sends %d, replies %d, polls %d (%d would block), mode changes %d, cap reached %d times, max in flight %d\n",
		s.Sched.Sends, s.Sched.Reaps, s.Sched.Polls, s.Sched.WouldBlocks, s.Sched.ModeChanges, s.Sched.CapHits, s.Sched.MaxInFlight)
	if rec != nil {
		rec.report(stdout)
	}
	var se *sched.StuckError
	if errors.As(serveErr, &se) {
		fmt.Fprintf(stdout, "STUCK: the watchdog saw no progress for %v while threads waited on the cap\n%s", se.After, se.Dump)
		return exitViolation
	}
	if serveErr != nil || closeErr != nil || recErr != nil {
		for _, err := range []error{serveErr, closeErr, recErr} {
			if err != nil {
				fmt.Fprintf(stderr, "sysmsg serve: %s\n", captureText(err))
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

// minRecordMax is the smallest --record-max: a bound that holds the
// file's header and a few packets.
const minRecordMax = 1 << 10

// recording is serve's --record: the file and its recorder.
type recording struct {
	path string
	max  sizeFlag
	f    *os.File // nil until open
	r    *capture.Recorder
}

// newRecording checks that a file can be written at path, and makes a
// recorder for it, bounded by max, that says once on stderr when the
// bound stops it or a write fails. The recorder buffers the file's header
// until open creates the file.
func newRecording(path string, max sizeFlag, stderr io.Writer) (*recording, error) {
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	rec := &recording{path: path, max: max}
	opt := capture.RecordOptions{Stopped: func(err error) {
		if errors.Is(err, capture.ErrRecordFull) {
			fmt.Fprintf(stderr, "sysmsg serve: --record-max %s reached: recording stopped; %s holds what came before, and is valid\n", max.String(), path)
			return
		}
		fmt.Fprintf(stderr, "sysmsg serve: recording to %s failed, and stopped: %s\n", path, captureText(err))
	}}
	if !max.none {
		opt.MaxBytes = int64(max.n)
	}
	var err error
	rec.r, err = capture.NewRecorder(writerFunc(rec.write), opt)
	return rec, err
}

// open creates the file, or empties it.
func (rec *recording) open() error {
	f, err := os.Create(rec.path)
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	rec.f = f
	return err
}

func (rec *recording) write(b []byte) (int, error) {
	if rec.f == nil {
		return 0, errors.New("the file is not open") // cannot happen: nothing is flushed before the server runs
	}
	return rec.f.Write(b)
}

// writerFunc is a function as an io.Writer.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// bound says how large the file may grow.
func (rec *recording) bound() string {
	if rec.max.none {
		return "with no bound"
	}
	return "at most " + rec.max.String()
}

// finish ends the recording and closes the file.
func (rec *recording) finish() error {
	err := rec.r.Close()
	if cerr := rec.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("recording to %s: %w", rec.path, cerr)
	}
	return err
}

// report prints what the file holds.
func (rec *recording) report(stdout io.Writer) {
	st := rec.r.Stats()
	note := ""
	if errors.Is(st.Stopped, capture.ErrRecordFull) {
		note = ", stopped at --record-max " + rec.max.String()
	}
	fmt.Fprintf(stdout, "recorded %d connections, %d packets to %s (%d bytes%s)\n", st.Conns, st.Packets, rec.path, st.Bytes, note)
}

// lockedWriter serialises the writes of several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// sizeFlag is a size flag with a least value, or none for no bound.
type sizeFlag struct {
	bytesValue
	min uint64
}

func (f *sizeFlag) Set(s string) error {
	if err := f.bytesValue.Set(s); err != nil {
		return err
	}
	if !f.none && f.n < f.min {
		return fmt.Errorf("want %s or more, or none", sizeText(f.min))
	}
	return nil
}

func (f *sizeFlag) String() string {
	if f == nil {
		return ""
	}
	if f.none {
		return "none"
	}
	return sizeText(f.n)
}

// sizeText writes a size as a flag takes it: in the largest unit that
// divides it, 64MiB, or in bytes.
func sizeText(n uint64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatUint(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatUint(n, 10) + "B"
}
