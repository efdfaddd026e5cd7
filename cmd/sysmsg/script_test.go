package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/script/*.txt")

// timing matches the figures that change from run to run.
var (
	timing = regexp.MustCompile(`\d+\.\d+s \(\d+ states/s, \d+ workers\)`)
	// A sweep table's seconds column: the number after the states.
	tableSeconds = regexp.MustCompile(`(?m)^(  \S+ +\S+ +\S+ +\d+) +\d+\.\d\d  `)
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
	out = strings.ReplaceAll(out, tmp, "$TMP")
	return out + fmt.Sprintf("[exit %d]\n", code)
}
