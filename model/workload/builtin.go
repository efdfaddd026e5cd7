package workload

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownBuiltin is returned by [Builtin] for a name it does not know.
var ErrUnknownBuiltin = errors.New("workload: unknown built-in")

// Params are the sizes of a built-in workload. Zero fields take the
// defaults: 2 connections, 2 requests, window 1, 3 stages, 2 items.
type Params struct {
	Conns, Requests, Window int // web server
	Stages, Items           int // pipeline

	_ struct{}
}

func (p Params) withDefaults() Params {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.Conns, 2)
	def(&p.Requests, 2)
	def(&p.Window, 1)
	def(&p.Stages, 3)
	def(&p.Items, 2)
	return p
}

// BuiltinNames lists the built-in workloads, in the order sweeps show them.
func BuiltinNames() []string {
	return []string{"webserver", "triangle", "pipeline", "eventloop", "cancel", "submitter"}
}

// Builtin returns the text of a built-in workload in the workload format,
// so that a user can print it, copy it and change it.
func Builtin(name string, p Params) (string, error) {
	p = p.withDefaults()
	switch name {
	case "webserver":
		return webServer(p)
	case "triangle":
		return triangle, nil
	case "pipeline":
		return pipeline(p)
	case "eventloop":
		return eventLoop, nil
	case "cancel":
		return cancel, nil
	case "submitter":
		return submitter, nil
	}
	return "", fmt.Errorf("%w %q (built-ins: %s; incidents: %s)", ErrUnknownBuiltin, name, strings.Join(BuiltinNames(), ", "), strings.Join(incidentNames, ", "))
}

func webServer(p Params) (string, error) {
	switch {
	case p.Conns < 1 || p.Conns > MaxThreads/2:
		return "", fmt.Errorf("%w: webserver: --conns %d out of range 1..%d", ErrWorkload, p.Conns, MaxThreads/2)
	case p.Requests < 1 || p.Requests > MaxRepeat/2:
		return "", fmt.Errorf("%w: webserver: --requests %d out of range 1..%d", ErrWorkload, p.Requests, MaxRepeat/2)
	case p.Window < 1 || p.Window > p.Requests:
		return "", fmt.Errorf("%w: webserver: --window %d out of range 1..%d (the requests)", ErrWorkload, p.Window, p.Requests)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# The seed's pipelined web server. Each connection has a reader thread that
# reads a request, hands it to the connection's writer through a user-level
# queue, and at once reads ahead for the next one; the writer sends the
# response. The client pipelines: it keeps %s outstanding and sends
# request k+%d only once response k has arrived.
workload "web server, %s x %s, window %d"
`, plural(p.Window, "request"), p.Window, plural(p.Conns, "connection"), plural(p.Requests, "request"), p.Window)
	for c := range p.Conns {
		fmt.Fprintf(&b, "conn c%d\nqueue q%d\n", c, c)
	}
	b.WriteString("\nprocess server cap 2\n")
	for c := range p.Conns {
		fmt.Fprintf(&b, "  thread r%d\n    repeat %d\n      read c%d\n      push q%d\n    end\n  end\n", c, p.Requests, c, c)
		fmt.Fprintf(&b, "  thread w%d\n    repeat %d\n      pop q%d\n      write c%d\n    end\n  end\n", c, p.Requests, c, c)
	}
	b.WriteString("end\n")
	for c := range p.Conns {
		fmt.Fprintf(&b, "\npeer client%d\n", c)
		fmt.Fprintf(&b, "  repeat %d\n    send c%d\n  end\n", p.Window, c)
		if n := p.Requests - p.Window; n > 0 {
			fmt.Fprintf(&b, "  repeat %d\n    recv c%d\n    send c%d\n  end\n", n, c, c)
		}
		fmt.Fprintf(&b, "  repeat %d\n    recv c%d\n  end\nend\n", p.Window, c)
	}
	return b.String(), nil
}

const triangle = `# The pipe triangle. Two readers each block on an empty pipe; the writer
# that would fill both comes last. At cap 2 the two reads hold both slots and
# the write that would complete them cannot be sent.
workload "pipe triangle"
pipe a
pipe b

process app cap 2
  thread ra
    read a
  end
  thread rb
    read b
  end
  thread w
    write a
    write b
  end
end
`

func pipeline(p Params) (string, error) {
	if p.Stages < 1 || p.Stages > MaxThreads {
		return "", fmt.Errorf("%w: pipeline: --stages %d out of range 1..%d", ErrWorkload, p.Stages, MaxThreads)
	}
	if p.Items < 1 || p.Items > MaxRepeat/2 {
		return "", fmt.Errorf("%w: pipeline: --items %d out of range 1..%d", ErrWorkload, p.Items, MaxRepeat/2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# A pipeline of %s joined by pipes that hold one item. A source sends
# %s into p0; stage i reads p(i-1) and writes p(i); a sink receives
# from the last pipe. Every idle stage holds a slot with its read.
workload "pipeline, %s x %s"
`, plural(p.Stages, "stage"), plural(p.Items, "item"), plural(p.Stages, "stage"), plural(p.Items, "item"))
	for i := 0; i <= p.Stages; i++ {
		fmt.Fprintf(&b, "pipe p%d capacity 1\n", i)
	}
	b.WriteString("\nprocess stages cap 2\n")
	for i := 1; i <= p.Stages; i++ {
		fmt.Fprintf(&b, "  thread s%d\n    repeat %d\n      read p%d\n      write p%d\n    end\n  end\n", i, p.Items, i-1, i)
	}
	b.WriteString("end\n")
	fmt.Fprintf(&b, "\npeer source\n  repeat %d\n    send p0\n  end\nend\n", p.Items)
	fmt.Fprintf(&b, "\npeer sink\n  repeat %d\n    recv p%d\n  end\nend\n", p.Items, p.Stages)
	return b.String(), nil
}

const eventLoop = `# One event-loop thread that is also the only reaper: it submits system
# calls without waiting and collects their results later. It submits a read
# of the client's next request, a log write that completes at once, and the
# response the client waits for before it sends the request. If the loop
# blocks waiting for a slot, nobody reaps the log write's reply, so its slot
# is never freed.
workload "event loop, the only reaper"
conn sock
pipe log

process loop cap 2 reaper ev
  thread ev
    submit read sock
    submit write log
    submit write sock
    wait
    wait
    wait
  end
end

peer client
  recv sock
  send sock
end
`

const cancel = `# A cancellation that itself needs a slot. Two readers wait on pipes that
# nobody writes; a third thread cancels both. At cap 2 the reads hold both
# slots, and the cancel, a system call, needs one of them.
workload "cancellation that needs a slot"
pipe a
pipe b

process app cap 2
  thread ra
    read a
  end
  thread rb
    read b
  end
  thread canceller
    cancel ra
    cancel rb
  end
end
`

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

const submitter = `# A thread that submits two reads and only then writes what they read. At
# cap 1 the first read fills the cap; the second is submitted in polling
# mode and would block. A fallback that made the thread retry it, instead of
# keeping it and letting the thread go on, would spin forever: the writes
# that complete both reads come after it in the same thread.
workload "submitter whose reads wait on its own later writes"
pipe a
pipe b

process app cap 2
  thread t
    submit read a
    submit read b
    write a
    write b
    wait
    wait
  end
end
`
