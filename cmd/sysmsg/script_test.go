package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/script/*.txt")

// timing matches the figures that change from run to run.
var (
	timing = regexp.MustCompile(`\d+\.\d+s \(\d+ states/s, \d+ workers\)`)
	// A sweep table's seconds column: the number after the states.
	tableSeconds = regexp.MustCompile(`(?m)^(  \S+ +\S+ +\S+ +\d+) +\d+\.\d\d  `)
	// The figures of a --json report that change from run to run.
	jsonFigures = regexp.MustCompile(`"(seconds|statesPerSecond|peakHeapBytes|workers)": [0-9.e+-]+`)
)

// TestScripts runs the command scripts in testdata/script. Each case is a
// line "$ sysmsg ARGS" followed by the expected output (stdout, then
// stderr) and a last line "[exit N]". $TMP in a command is a fresh
// directory. Run with -rewrite to regenerate, and review the diff.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	// A chart fits $COLUMNS when it is not on a terminal: the same width
	// wherever the tests run.
	t.Setenv("COLUMNS", "100")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			var out strings.Builder
			for _, c := range splitCases(string(data)) {
				out.WriteString(c.header)
				got := runCase(c.command, tmp)
				out.WriteString(got)
				if !*rewrite && got != c.want {
					t.Errorf("%s\n--- got\n%s--- want\n%s", c.command, got, c.want)
				}
			}
			if *rewrite {
				if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

type scriptCase struct {
	header  string // comments and the command line, as written
	command string
	want    string
}

func splitCases(s string) []scriptCase {
	var cases []scriptCase
	var cur *scriptCase
	inHeader := true
	for _, line := range strings.SplitAfter(s, "\n") {
		if line == "" {
			continue
		}
		switch {
		case strings.HasPrefix(line, "$ "):
			if cur == nil || !inHeader {
				cases = append(cases, scriptCase{})
				cur = &cases[len(cases)-1]
			}
			cur.header += line
			cur.command = strings.TrimSpace(strings.TrimPrefix(line, "$ "))
			inHeader = false
		case strings.HasPrefix(line, "#") && (cur == nil || inHeader || strings.HasPrefix(cur.want, "")) && isCommentBlock(cur, inHeader):
			if cur == nil || !inHeader {
				cases = append(cases, scriptCase{})
				cur = &cases[len(cases)-1]
				inHeader = true
			}
			cur.header += line
		default:
			cur.want += line
		}
	}
	return cases
}

// isCommentBlock reports whether a "#" line starts or continues a case's
// header: only after a case's "[exit N]" line or at the top.
func isCommentBlock(cur *scriptCase, inHeader bool) bool {
	return cur == nil || inHeader || strings.HasSuffix(strings.TrimRight(cur.want, "\n"), "]") && strings.Contains(lastLine(cur.want), "[exit ")
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}

func runCase(command, tmp string) string {
	args := strings.Fields(strings.ReplaceAll(command, "$TMP", tmp))
	if len(args) == 0 || args[0] != "sysmsg" {
		return "script error: a command starts with sysmsg\n"
	}
	var stdout, stderr bytes.Buffer
	code := dispatch(args[1:], &stdout, &stderr)
	out := stdout.String() + stderr.String()
	out = timing.ReplaceAllString(out, "Xs (X states/s, N workers)")
	out = tableSeconds.ReplaceAllString(out, "$1     X.XX  ")
	out = jsonFigures.ReplaceAllString(out, `"$1": X`)
	out = strings.ReplaceAll(out, tmp, "$TMP")
	return out + fmt.Sprintf("[exit %d]\n", code)
}

// runWith runs a command function with ctx and returns its output as a
// script case shows it.
func runWith(ctx context.Context, f func(context.Context, []string, io.Writer, io.Writer) int, args string) string {
	var stdout, stderr bytes.Buffer
	code := f(ctx, strings.Fields(args), &stdout, &stderr)
	out := timing.ReplaceAllString(stdout.String()+stderr.String(), "Xs (X states/s, N workers)")
	out = tableSeconds.ReplaceAllString(out, "$1     X.XX  ")
	return out + fmt.Sprintf("[exit %d]\n", code)
}

// An interrupt during a sweep ends the whole sweep: the cells done are
// printed, the cell it cut short is incomplete with its figures and held to
// no expectation, and the cells never run are left out and counted.
func TestInterruptEndsTheSweep(t *testing.T) {
	const args = "--workloads triangle,eventloop --caps 2,unlimited --policies block,poll --show none --expect testdata/expect.txt"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := runWith(ctx, func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return runSweep(ctx, args, stdout, stderr, func(done int) {
			if done == 2 {
				cancel()
			}
		})
	}, args)
	want := `cap 2
  workload     policy       verdict        states  seconds  notes
  triangle     block        deadlock           11     X.XX  counterexample: no deadlock, 2 steps, as expected
  triangle     poll         ok                 69     X.XX  verified, as expected
  eventloop    block        incomplete          2     X.XX  not a proof (interrupted)
sysmsg sweep: interrupted at eventloop, cap 2, block; 5 of 8 cells not run, and left out
[exit 3]
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The same with --json: the array holds the cells run, the last one
// incomplete.
func TestInterruptEndsTheSweepJSON(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := runSweep(ctx, strings.Fields("--workloads triangle --caps 2,3 --policies block,poll --json"), &stdout, &stderr, func(done int) {
		if done == 1 {
			cancel()
		}
	})
	var cells []cell
	if err := json.Unmarshal(stdout.Bytes(), &cells); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if code != exitIncomplete || len(cells) != 2 || cells[0].Verdict != "deadlock" || cells[1].Verdict != "incomplete" || cells[1].Reason != "interrupted" {
		t.Errorf("exit %d, cells %+v", code, cells)
	}
	if want := "sysmsg sweep: interrupted at triangle, cap 2, poll; 2 of 4 cells not run, and left out\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

func TestInterruptedCheckIsIncomplete(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := runWith(ctx, runCheck, "--workload webserver --policy poll --cap 2")
	want := `web server, 2 connections x 2 requests, window 1 — policy poll, cap 2, low 0: INCOMPLETE (interrupted): no violation found so far, which proves nothing
  5 states, 4 transitions, depth 0, Xs (X states/s, N workers)
  guard: the cap is reached: not seen so far
  guard: polling mode is entered: not seen so far
  guard: polling mode is left: not seen so far
[exit 3]
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Progress goes to the writer a command was given, and only when that is a
// terminal: never to a buffer, a pipe or a file.
func TestProgressOnlyOnATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, x := range []io.Writer{new(bytes.Buffer), w, f, null} {
		if isTerminal(x) {
			t.Errorf("%T is taken for a terminal", x)
		}
	}
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test with: %v", err)
	}
	defer pty.Close()
	if !isTerminal(pty) {
		t.Error("a pseudo-terminal is not taken for a terminal")
	}
}

// An interrupt ends a run at once: incomplete, exit 3, with the figures so
// far, on either back end; the sim one before its first move.
func TestInterruptedRunIsIncomplete(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := runWith(ctx, runRun, "--workload webserver --policy poll --cap 2")
	if !strings.Contains(got, "INCOMPLETE: interrupted, which shows nothing") || !strings.Contains(got, "time          0 steps (simulated)") || !strings.HasSuffix(got, "[exit 3]\n") {
		t.Errorf("sim:\n%s", got)
	}
	// On the host, a run that can never end is interrupted long before
	// the watchdog's 30 seconds.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	got = runWith(ctx, runRun, "--workload testdata/forever.wl --backend os --stuck-after 30s")
	if !strings.Contains(got, "INCOMPLETE: interrupted, which shows nothing") || strings.Contains(got, "STUCK") || !strings.HasSuffix(got, "[exit 3]\n") {
		t.Errorf("os:\n%s", got)
	}
}
