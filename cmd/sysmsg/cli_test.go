package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildCommand builds the command into a temporary directory, for the
// tests that need a process of its own: signals and pipes.
func buildCommand(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command; not with -short")
	}
	bin := filepath.Join(t.TempDir(), "sysmsg")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// A command whose reader has gone (sysmsg check ... | head -1) ends with
// its own status, not killed by SIGPIPE, and says nothing of the pipe.
func TestClosedPipeKeepsTheExitCode(t *testing.T) {
	bin := buildCommand(t)
	args := []string{"check", "--workload", "triangle", "--policy", "block", "--cap", "2"}
	for _, readFirst := range []bool{true, false} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = w, &stderr
		if !readFirst {
			// The reader is gone before the first write: every write
			// fails, deterministically.
			r.Close()
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if readFirst {
			line, err := bufio.NewReader(r).ReadString('\n')
			if err != nil || !strings.Contains(line, "DEADLOCK") {
				t.Errorf("first line %q, %v", line, err)
			}
			r.Close()
		}
		err = cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if code != exitViolation || stderr.Len() > 0 {
			t.Errorf("read first %v: exit %d (%v), stderr %q; want exit 1 and nothing on stderr", readFirst, code, err, stderr.String())
		}
	}
}

// SIGTERM ends a check as Ctrl-C does: incomplete, with the figures so
// far, exit 3.
func TestSIGTERMEndsTheCheck(t *testing.T) {
	bin := buildCommand(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "check", "--conns", "4", "--requests", "4", "--policy", "poll", "--cap", "2")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A check that ignored the signal would run for long: end it.
	defer time.AfterFunc(time.Minute, func() { cmd.Process.Kill() }).Stop()
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitIncomplete || !strings.Contains(stdout.String(), "INCOMPLETE (interrupted)") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
	}
}

// A trace that cannot be written after the search still leaves the
// counterexample on stdout and the violation's exit code, with the write's
// error on stderr.
func TestUnwritableTraceKeepsTheCounterexample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	// The check before the search passes (the directory takes files); the
	// write, through path+".tmp", fails.
	if err := os.Mkdir(path+".tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runCheck(context.Background(), []string{"--workload", "triangle", "--policy", "block", "--cap", "2", "--trace", path}, &stdout, &stderr)
	if code != exitViolation || !strings.Contains(stdout.String(), "DEADLOCK after 2 steps") || strings.Contains(stdout.String(), "written") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout.String())
	}
	want := "sysmsg check: --trace " + path + ": the counterexample was not written: "
	if !strings.HasPrefix(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q, want one line starting %q", stderr.String(), want)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("%s was written", path)
	}
}

// serve on a port that is taken is bad input, in words a user can act on.
func TestServeOnABusyPort(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	defer l.Close()
	addr := l.Addr().String()
	var stdout, stderr bytes.Buffer
	code := serveMain([]string{"--addr", addr, "--duration", "1ms"}, &stdout, &stderr)
	want := "sysmsg serve: --addr " + addr + ": address already in use\n"
	if code != exitUsage || stderr.String() != want || stdout.Len() > 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout.String(), stderr.String(), want)
	}
}

// Usage asked for goes to stdout, with exit 0 and nothing on stderr, for
// every command and subcommand and every way of asking; the scripts show
// its text.
func TestHelpGoesToStdout(t *testing.T) {
	var all []string
	for _, cmd := range []string{"", "check", "sweep", "run", "serve", "workload", "workload show", "workload list"} {
		for _, ask := range []string{"--help", "-h", "help"} {
			all = append(all, cmd+" "+ask)
		}
		if cmd != "" {
			all = append(all, "help "+cmd)
		}
		if sub, ok := strings.CutPrefix(cmd, "workload "); ok {
			all = append(all, "workload help "+sub)
		}
	}
	for _, line := range all {
		args := strings.Fields(line)
		var stdout, stderr bytes.Buffer
		code := dispatch(args, &stdout, &stderr)
		if code != exitOK || stderr.Len() > 0 || !strings.HasPrefix(stdout.String(), "usage: sysmsg ") {
			t.Errorf("sysmsg %s: exit %d, stdout %q, stderr %q", line, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := dispatch(nil, &stdout, &stderr); code != exitUsage || stdout.Len() > 0 || !strings.HasPrefix(stderr.String(), "usage: sysmsg ") {
		t.Errorf("bare sysmsg: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
