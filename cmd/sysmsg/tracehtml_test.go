package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A page is written whole, readable by all, with nothing else left in its
// directory; a failure leaves the directory as it was, an older page
// untouched.
func TestTraceHTMLWritesWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "page.html")
	porc := filepath.Join(dir, "porcupine", "put get.html")
	if err := os.Mkdir(filepath.Dir(porc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(porc, []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := traceHTML([]string{"../../traces/testdata/webserver-block-cap2.json", "-o", out, "--porcupine", porc}, io.Discard, io.Discard); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("the page's mode is %v, want 0644", fi.Mode().Perm())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Errorf("not a whole page: %.40q ... %.40q", page, page[max(0, len(page)-40):])
	}
	if !strings.Contains(page, `<a href="porcupine/put%20get.html">`) {
		t.Error("no relative link to the porcupine visualization")
	}

	if err := os.WriteFile(out, []byte("older"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if code := traceHTML([]string{"testdata/corrupt.json", "-o", out}, io.Discard, &stderr); code != exitUsage {
		t.Fatalf("corrupt input: exit %d (%s)", code, stderr.String())
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "older" {
		t.Errorf("a failure touched the older page: %.20q, %v", b, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "page.html porcupine" {
		t.Errorf("the directory holds %q, want the page and the porcupine directory only", names)
	}
}

func TestRelativeLink(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/page.html", "b/c:d.html", "a/x#y?.html", "a/javascript:alert(1)"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page := filepath.Join(dir, "a", "page.html")
	for target, want := range map[string]string{
		"b/c:d.html":  "../b/c:d.html",
		"a/x#y?.html": "x%23y%3F.html",
		// A first segment with a colon is not taken for a scheme.
		"a/javascript:alert(1)": "./javascript:alert%281%29",
	} {
		got, err := relativeLink(page, filepath.Join(dir, target))
		if err != nil || got != want {
			t.Errorf("link to %s: %q, %v; want %q", target, got, err, want)
		}
	}
}

// Without -o the page goes next to the trace: .json turned .html, or .html
// added to a name without .json.
func TestTraceHTMLNamesThePage(t *testing.T) {
	b, err := os.ReadFile("../../traces/testdata/triangle-block-cap2.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for in, want := range map[string]string{"t.json": "t.html", "trace": "trace.html", "a.b.json": "a.b.html"} {
		path := filepath.Join(dir, in)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout strings.Builder
		if code := traceHTML([]string{path}, &stdout, io.Discard); code != exitOK {
			t.Fatalf("%s: exit %d", in, code)
		}
		if got := stdout.String(); got != "page written to "+filepath.Join(dir, want)+"\n" {
			t.Errorf("%s: %q", in, got)
		}
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Error(err)
		}
	}
}
