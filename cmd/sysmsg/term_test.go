package main

import (
	"bytes"
	"strings"
	"testing"
)

// Colour and box-drawing only on a terminal, and not with --no-color,
// NO_COLOR or TERM=dumb; box-drawing needs a UTF-8 locale too.
func TestChartOptions(t *testing.T) {
	tty := terminal{tty: true, width: 120, height: 40}
	cases := []struct {
		name           string
		t              terminal
		noColor        bool
		env            map[string]string
		color, unicode bool
	}{
		{"pipe", terminal{width: 100}, false, nil, false, false},
		{"terminal", tty, false, nil, true, true},
		{"--no-color", tty, true, nil, false, false},
		{"NO_COLOR", tty, false, map[string]string{"NO_COLOR": "1"}, false, false},
		{"TERM=dumb", tty, false, map[string]string{"TERM": "dumb"}, false, false},
		{"C locale", tty, false, map[string]string{"LANG": "C"}, true, false},
		{"LC_ALL wins", tty, false, map[string]string{"LANG": "C", "LC_ALL": "en_GB.UTF-8"}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"NO_COLOR", "LC_ALL", "LC_CTYPE"} {
				t.Setenv(k, "")
			}
			t.Setenv("TERM", "xterm-256color")
			t.Setenv("LANG", "C.UTF-8")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			o := chartOptions(c.t, c.noColor, 0)
			if o.Color != c.color || o.Unicode != c.unicode || o.Width != c.t.width {
				t.Errorf("got %+v, want colour %v, unicode %v, width %d", o, c.color, c.unicode, c.t.width)
			}
		})
	}
	if o := chartOptions(tty, false, 72); o.Width != 72 {
		t.Errorf("--width 72 gives width %d", o.Width)
	}
}

// A text longer than the terminal goes through $PAGER; a shorter one, or
// one not for a terminal, does not.
func TestPage(t *testing.T) {
	t.Setenv("PAGER", "sed s/^/paged:/")
	long := strings.Repeat("line\n", 10)
	for _, c := range []struct {
		name  string
		t     terminal
		text  string
		paged bool
	}{
		{"long on a terminal", terminal{tty: true, width: 80, height: 5}, long, true},
		{"short on a terminal", terminal{tty: true, width: 80, height: 50}, long, false},
		{"long on a pipe", terminal{width: 80}, long, false},
	} {
		var b bytes.Buffer
		if err := page(&b, c.t, c.text); err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(b.String(), "paged:line\n"); got != c.paged || strings.Count(b.String(), "line") != 10 {
			t.Errorf("%s: paged %v, want %v:\n%s", c.name, got, c.paged, b.String())
		}
	}
	// A pager that cannot be found leaves the text on the terminal.
	t.Setenv("PAGER", "no-such-pager-anywhere")
	var b bytes.Buffer
	page(&b, terminal{tty: true, width: 80, height: 5}, long)
	if b.String() != long {
		t.Errorf("without a pager: %q", b.String())
	}
}
