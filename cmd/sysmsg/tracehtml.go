package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sysmsg/sysmsg/traces"
)

func traceHTML(args []string, stdout, stderr io.Writer) int {
	c := newCmdline("trace html", "FILE [-o OUT.html] [--porcupine FILE]", `Write a stored counterexample as one HTML page to open in a browser: the
message-sequence chart of trace view (one column per actor, one row per
step, an arrow from who moved to whom the step concerns, the slots and
mode, a lasso's cycle drawn as a loop), the whole state after the step
selected (click a row, or the arrow keys, j and k, Home and End), what
that step changed marked with its value before, and why nothing can move
at the end.

The page is self-contained: its style, script and data are inline, it
loads nothing and works from a file. Every text from the trace is shown as
text, never run. Without -o, the page goes next to FILE, named as FILE
with .html in place of .json. It is written through a temporary file, so a
failed write leaves nothing behind. The page shows the counterexample
minimised (trace view --minimise) with a toggle to all its steps, unless
--minimise=false. With --porcupine, the page links to a
porcupine visualization of a linearizability failure (the link is
relative to the page).

Exit 0: written; 2: bad usage or input.
`, stdout, stderr)
	out := c.String("o", "", "write the page to `OUT.html` (default: FILE with .html in place of .json)")
	porc := c.String("porcupine", "", "link the page to this porcupine visualization `FILE` (an HTML file)")
	minimise := c.Bool("minimise", true, "show the minimised counterexample first, with a toggle to all the steps; --minimise=false shows the steps as stored")
	file, code := c.traceFile(args)
	if code >= 0 {
		return code
	}
	in := file
	dest := *out
	if dest == "" {
		if strings.EqualFold(filepath.Ext(in), ".html") {
			return c.failf("%s: name the page with -o OUT.html", in)
		}
		dest = strings.TrimSuffix(in, ".json") + ".html"
	}
	if same(in, dest) {
		return c.failf("-o %s: that is the trace itself", dest)
	}
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		return c.failf("-o %s: is a directory", dest)
	}
	link := ""
	if *porc != "" {
		var err error
		if link, err = relativeLink(dest, *porc); err != nil {
			return c.failf("--porcupine %s: %v", *porc, err)
		}
	}
	t, err := viewOf(in)
	if err != nil {
		return c.fail(err)
	}
	vs := []traces.NamedView{{Name: "all steps", View: traces.NewView(t)}}
	if *minimise {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		var note string
		vs, note = views(ctx, t)
		stop()
		if note != "" {
			fmt.Fprintln(stdout, note)
		}
	}
	p := traces.NewPage(vs, link)
	if err := writePage(dest, p); err != nil {
		return c.failf("%s: %v", dest, err)
	}
	fmt.Fprintf(stdout, "page written to %s\n", dest)
	return exitOK
}

// same reports whether two paths name one existing file.
func same(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// relativeLink is the link from the page at page to the file at target,
// which must be a file: its path relative to the page's directory, as a
// URL path.
func relativeLink(page, target string) (string, error) {
	fi, err := os.Stat(target)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", pe.Err
		}
		return "", err
	}
	if fi.IsDir() {
		return "", errors.New("is a directory, want the visualization's HTML file")
	}
	from, err := filepath.Abs(filepath.Dir(page))
	if err != nil {
		return "", err
	}
	to, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(from, to)
	if err != nil {
		return "", err
	}
	return (&url.URL{Path: filepath.ToSlash(rel)}).String(), nil
}

// writePage writes the page to path through a temporary file in the same
// directory, renamed into place once whole: a failure leaves nothing
// behind, and no half a page.
func writePage(path string, p traces.Page) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("directory %s: %v", filepath.Dir(path), pe.Err)
		}
		return err
	}
	tmp := f.Name()
	err = traces.WritePage(f, p)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
