package capture

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrWorkload is a capture that makes no workload: it has no connection
// with a request, or more than a workload holds.
var ErrWorkload = errors.New("capture: no workload")

// Workload returns c as a workload in the workload format
// (docs/workload-format.md), with a header comment that says where it
// came from: the file, its packets and connections, what the bounds cut
// and the warnings.
//
// The server is the seed's web server, the shape of the webserver
// built-in: one process, cap 2, with per connection a reader thread that
// reads a request and hands it through a queue to the connection's
// writer thread, which writes the response. Each connection's client is
// a peer whose program is the captured order of its sends and receives:
// a client that had 8 requests outstanding before the first response
// came has 8 sent before its first receive. A request with no response
// captured is received at the client's end: the server answers every
// request.
func (c *Capture) Workload() (string, error) {
	switch {
	case len(c.Conns) == 0:
		return "", fmt.Errorf("%w: no connection with a request in %s", ErrWorkload, c.File)
	case len(c.Conns) > MaxConns:
		return "", fmt.Errorf("%w: %d connections; a workload holds %d", ErrWorkload, len(c.Conns), MaxConns)
	}
	port := c.Conns[0].Server.Port()
	name := filepath.Base(c.File)
	if c.File == "" {
		name = "capture"
	}
	var b strings.Builder
	comment := func(format string, args ...any) {
		for _, line := range wrap(safeText(fmt.Sprintf(format, args...)), 74) {
			b.WriteString("# " + line + "\n")
		}
	}
	comment("Made by sysmsg workload from-pcap from %s: %s, %d of them skipped (not TCP to or from port %d, or not decoded); %s to port %d, %d kept.",
		name, plural(c.Packets, "packet"), c.Skipped, port, plural(c.Seen, "connection"), port, len(c.Conns))
	if len(c.Cut) == 0 {
		comment("The bounds cut nothing.")
	}
	for _, cut := range c.Cut {
		comment("Cut: %s.", cut)
	}
	const shown = 8
	for i, w := range c.Warnings {
		if i == shown {
			comment("And %s more (sysmsg workload from-pcap --json lists them).", plural(len(c.Warnings)-shown, "warning"))
			break
		}
		comment("Warning: %s.", strings.TrimSuffix(w.String(), "."))
	}
	b.WriteString("#\n")
	comment("The server is the seed's web server: per connection a reader thread that reads a request, hands it to the connection's writer through a queue and at once reads ahead for the next, and a writer that sends the response. Each client sends its requests and receives its responses in the captured order: its pipelining as it happened. For each connection, how many requests its client had outstanding as each response came:")
	for i, conn := range c.Conns {
		n := conn.requests()
		if n > MaxRequests {
			return "", fmt.Errorf("%w: connection c%d has %d requests; a workload holds %d", ErrWorkload, i, n, MaxRequests)
		}
		// One line each, however long.
		fmt.Fprintf(&b, "#   c%d: %s -> %s, packet %d: %s, depths %s\n", i, conn.Client, conn.Server, conn.First, plural(n, "request"), depthList(conn.Depths(), 16))
	}
	fmt.Fprintf(&b, "workload %q\n", safeTitle(fmt.Sprintf("%s: %s to port %d", name, plural(len(c.Conns), "connection"), port)))
	for i := range c.Conns {
		fmt.Fprintf(&b, "conn c%d\nqueue q%d\n", i, i)
	}
	b.WriteString("\nprocess server cap 2\n")
	for i, conn := range c.Conns {
		n := conn.requests()
		fmt.Fprintf(&b, "  thread r%d\n    repeat %d\n      read c%d\n      push q%d\n    end\n  end\n", i, n, i, i)
		fmt.Fprintf(&b, "  thread w%d\n    repeat %d\n      pop q%d\n      write c%d\n    end\n  end\n", i, n, i, i)
	}
	b.WriteString("end\n")
	for i, conn := range c.Conns {
		fmt.Fprintf(&b, "\npeer client%d\n", i)
		writeProgram(&b, conn.program(), fmt.Sprintf("c%d", i))
		b.WriteString("end\n")
	}
	return b.String(), nil
}

// requests counts c's requests.
func (c *Conn) requests() int {
	n := 0
	for _, e := range c.Events {
		if e.Kind == Request {
			n++
		}
	}
	return n
}

// program is the client's operations: true a send, false a receive. The
// responses never captured come last.
func (c *Conn) program() []bool {
	var ops []bool
	outstanding := 0
	for _, e := range c.Events {
		if e.Kind == Request {
			ops = append(ops, true)
			outstanding++
		} else if outstanding > 0 {
			ops = append(ops, false)
			outstanding--
		}
	}
	for ; outstanding > 0; outstanding-- {
		ops = append(ops, false)
	}
	return ops
}

// writeProgram writes ops as a peer's statements, a run of the same
// operation, or of the same pair, as a repeat.
func writeProgram(b *strings.Builder, ops []bool, obj string) {
	op := func(send bool) string {
		if send {
			return "send " + obj
		}
		return "recv " + obj
	}
	for i := 0; i < len(ops); {
		// The period, 1 or 2, that covers the most.
		best, reps := 1, 1
		for p := 1; p <= 2; p++ {
			k := 1
			for i+(k+1)*p <= len(ops) && equal(ops[i:i+p], ops[i+k*p:i+(k+1)*p]) {
				k++
			}
			if k >= 2 && k*p > best*reps {
				best, reps = p, k
			}
		}
		if reps == 1 {
			fmt.Fprintf(b, "  %s\n", op(ops[i]))
			i++
			continue
		}
		fmt.Fprintf(b, "  repeat %d\n", reps)
		for _, o := range ops[i : i+best] {
			fmt.Fprintf(b, "    %s\n", op(o))
		}
		b.WriteString("  end\n")
		i += best * reps
	}
}

func equal(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// depthList shows at most n depths.
func depthList(d []int, n int) string {
	if len(d) == 0 {
		return "none (no response captured)"
	}
	var parts []string
	for i, v := range d {
		if i == n {
			parts = append(parts, fmt.Sprintf("... (%d more, max %d)", len(d)-n, maxOf(d)))
			break
		}
		parts = append(parts, fmt.Sprint(v))
	}
	return strings.Join(parts, " ")
}

func maxOf(d []int) int {
	m := 0
	for _, v := range d {
		m = max(m, v)
	}
	return m
}

// safeText is s as a comment holds it: UTF-8, with no control character
// (a file name may hold a newline).
func safeText(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// safeTitle is s as a workload title holds it: printable, no quote.
func safeTitle(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		if r == '"' || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

// wrap breaks s into lines of at most width characters where it can, at
// spaces; an indent at its start starts every line.
func wrap(s string, width int) []string {
	indent := s[:len(s)-len(strings.TrimLeft(s, " "))]
	var lines []string
	line := ""
	var words []string
	for _, w := range strings.Fields(s) {
		// A flag and its value stay on one line.
		if n := len(words); n > 0 && strings.HasPrefix(words[n-1], "--") && !strings.Contains(words[n-1], " ") {
			words[n-1] += " " + w
			continue
		}
		words = append(words, w)
	}
	for _, w := range words {
		switch {
		case line == "":
			line = indent + w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width:
			lines = append(lines, line)
			line = indent + w
			if indent != "" {
				line = indent + "  " + w // a list item's next line
			}
		default:
			line += " " + w
		}
	}
	return append(lines, line)
}
