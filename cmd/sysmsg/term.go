package main

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sysmsg/sysmsg/traces"
)

// terminal is what a command knows of where its output goes.
type terminal struct {
	tty           bool // a real terminal, not a pipe, a file or /dev/null
	width, height int
}

// termOf describes w: a terminal when it is a file on which the terminal
// size can be read; its size, or for anything else $COLUMNS (else 100
// columns) and no height.
func termOf(w io.Writer) terminal {
	t := terminal{width: 100}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		t.width = c
	}
	f, ok := w.(*os.File)
	if !ok {
		return t
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return t
	}
	t.tty = true
	if ws.Col > 0 {
		t.width = int(ws.Col)
	}
	t.height = int(ws.Row)
	return t
}

// chartOptions decides how a chart is drawn on t: colour and box-drawing
// only on a terminal that can show them, not with noColor, $NO_COLOR or
// TERM=dumb; box-drawing also needs a UTF-8 locale. width, when above 0,
// overrides the terminal's.
func chartOptions(t terminal, noColor bool, width int) traces.ChartOptions {
	o := traces.ChartOptions{Width: t.width}
	if width > 0 {
		o.Width = width
	}
	if !t.tty || noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return o
	}
	o.Color = true
	loc := os.Getenv("LC_ALL")
	if loc == "" {
		loc = os.Getenv("LC_CTYPE")
	}
	if loc == "" {
		loc = os.Getenv("LANG")
	}
	loc = strings.ToLower(loc)
	o.Unicode = strings.Contains(loc, "utf-8") || strings.Contains(loc, "utf8")
	return o
}

// page writes text to w, through $PAGER (else less) when w is a terminal
// that the text does not fit. When no pager can be started, it writes the
// text straight to w.
func page(w io.Writer, t terminal, text string) error {
	if !t.tty || t.height <= 0 || strings.Count(text, "\n") < t.height-1 {
		_, err := io.WriteString(w, text)
		return err
	}
	pager := strings.Fields(os.Getenv("PAGER"))
	if len(pager) == 0 {
		pager = []string{"less"}
	}
	path, err := exec.LookPath(pager[0])
	if err != nil {
		_, err := io.WriteString(w, text)
		return err
	}
	cmd := exec.Command(path, pager[1:]...)
	cmd.Stdin = strings.NewReader(text)
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	cmd.Env = os.Environ()
	if os.Getenv("LESS") == "" {
		// Colours through, quit when it fits, keep the screen.
		cmd.Env = append(cmd.Env, "LESS=FRX")
	}
	if err := cmd.Start(); err != nil {
		_, err := io.WriteString(w, text)
		return err
	}
	cmd.Wait() // a pager quit early is not an error
	return nil
}
