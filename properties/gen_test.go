package properties_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/sysmsg/sysmsg/model/workload"
)

// genWorkload is the one generator of workloads: it draws a small
// workload as text in the workload format (docs/workload-format.md), the
// form a person writes and the parser reads, so that a failure shrinks to
// a file that can be saved and run with sysmsg check and sysmsg run. The
// step-by-step test (TestImplementationFollowsTheModel) and its fuzz
// target draw from it; a later fuzzer of the workload should too, rather
// than grow a second generator.
//
// What it draws: an optional title; 1 to 3 objects, the first a pipe or a
// conn, each a pipe, conn or queue with capacity 1 or 2; 1 or 2 processes,
// each with no cap (the default, 2), a cap of 1 to 3 or unlimited, a low
// below a finite cap or none, and 1 to 3 threads, a process of one thread
// sometimes being its own reaper; 1 to 5 operations per thread, among
// read, write, submit read, submit write and close of a pipe or conn, push
// and pop of a queue (by the first process's threads: a queue is one
// process's), wait (only where a submit is left to wait for) and
// cancel of another thread of the same process; 0 to 2 peers (when there
// is a conn), each with 1 to 5 of send, recv and close on conns; and in
// each thread or peer an optional repeat of 2 or 3 around a run of its
// operations (of 1 when a turn would wait more than it submits, which the
// parser refuses).
//
// Every choice is a rapid draw, so the text is a function of rapid's
// choices alone and shrinks with them: toward fewer objects, processes,
// threads, operations and peers, toward pipes and reads, and toward no
// repeat, no low and the default cap. TestGeneratedWorkloadsParse holds
// every text to the parser.
var genWorkload = rapid.Custom(drawWorkload)

type genObject struct {
	name string
	kind workload.ObjectKind
}

// one draws an index in [0, n) that shrinks to 0.
func one(t *rapid.T, n int, label string) int { return rapid.IntRange(0, n-1).Draw(t, label) }

// rarely draws a choice that is true about one time in four and shrinks to
// false.
func rarely(t *rapid.T, label string) bool { return rapid.IntRange(0, 3).Draw(t, label) == 3 }

func drawWorkload(t *rapid.T) string {
	var b strings.Builder
	if rarely(t, "title") {
		b.WriteString("workload \"generated\"\n")
	}
	var objs []genObject
	counts := [3]int{}
	for i := range rapid.IntRange(1, 3).Draw(t, "objects") {
		kinds := []workload.ObjectKind{workload.Pipe, workload.Conn, workload.Queue}
		if i == 0 {
			kinds = kinds[:2] // something for a system call to use
		}
		k := kinds[one(t, len(kinds), "object kind")]
		counts[k]++
		o := genObject{fmt.Sprintf("%c%d", "pcq"[k], counts[k]), k}
		objs = append(objs, o)
		fmt.Fprintf(&b, "%s %s capacity %d\n", k, o.name, rapid.IntRange(1, 2).Draw(t, "capacity"))
	}
	channels := filterObjects(objs, workload.Pipe, workload.Conn)
	queues := filterObjects(objs, workload.Queue)
	conns := filterObjects(objs, workload.Conn)

	for p := range rapid.IntRange(1, 2).Draw(t, "processes") {
		proc := fmt.Sprintf("proc%d", p)
		threads := make([]string, rapid.IntRange(1, 3).Draw(t, "threads"))
		for i := range threads {
			threads[i] = fmt.Sprintf("t%d%c", p, 'a'+i)
		}
		fmt.Fprintf(&b, "process %s", proc)
		c := 2 // the default
		switch one(t, 5, "cap") {
		case 1, 2, 3:
			c = rapid.IntRange(1, 3).Draw(t, "cap value")
			fmt.Fprintf(&b, " cap %d", c)
		case 4:
			c = workload.Unlimited
			b.WriteString(" cap unlimited")
		}
		low := false
		if c != workload.Unlimited && rarely(t, "low") {
			fmt.Fprintf(&b, " low %d", one(t, c, "low value"))
			low = true
		}
		if len(threads) == 1 && rarely(t, "reaper") {
			fmt.Fprintf(&b, " reaper %s", threads[0])
		}
		b.WriteString("\n")
		// A reserve of 1 for a thread or a channel, where it leaves an
		// ordinary slot (and the low, if any, is not in the way).
		if c >= 2 && !low && rarely(t, "reserve") {
			names := slices.Clone(threads)
			for _, o := range channels {
				names = append(names, o.name)
			}
			fmt.Fprintf(&b, "  reserve 1 for %s\n", names[one(t, len(names), "reserved")])
		}
		for i, th := range threads {
			var ops []genOp
			balance := 0 // submits not yet waited for
			for range rapid.IntRange(1, 5).Draw(t, "operations") {
				var cands []genOp
				for _, o := range channels {
					cands = append(cands,
						genOp{text: "read " + o.name}, genOp{text: "write " + o.name},
						genOp{text: "submit read " + o.name, net: 1}, genOp{text: "submit write " + o.name, net: 1},
						genOp{text: "close " + o.name})
				}
				// A user-level queue is one process's: the first's.
				for _, o := range queues {
					if p == 0 {
						cands = append(cands, genOp{text: "push " + o.name}, genOp{text: "pop " + o.name})
					}
				}
				if balance > 0 {
					cands = append(cands, genOp{text: "wait", net: -1})
				}
				for j, other := range threads {
					if j != i {
						cands = append(cands, genOp{text: "cancel " + other})
					}
				}
				op := cands[one(t, len(cands), "operation")]
				balance += op.net
				ops = append(ops, op)
			}
			fmt.Fprintf(&b, "  thread %s\n", th)
			writeOps(t, &b, ops, "    ")
			b.WriteString("  end\n")
		}
		b.WriteString("end\n")
	}

	if len(conns) > 0 {
		for p := range rapid.IntRange(0, 2).Draw(t, "peers") {
			var ops []genOp
			for range rapid.IntRange(1, 5).Draw(t, "peer operations") {
				o := conns[one(t, len(conns), "peer conn")]
				ops = append(ops, genOp{text: []string{"send ", "recv ", "close "}[one(t, 3, "peer operation")] + o.name})
			}
			fmt.Fprintf(&b, "peer client%d\n", p)
			writeOps(t, &b, ops, "  ")
			b.WriteString("end\n")
		}
	}
	return b.String()
}

// genOp is an operation's line and what it does to the count of submits
// not yet waited for.
type genOp struct {
	text string
	net  int
}

// writeOps writes a program, maybe with a run of it in a repeat. A turn of
// the repeat that waits more than it submits would wait, on its second
// turn, for a submit that is not there: such a run repeats once.
func writeOps(t *rapid.T, b *strings.Builder, ops []genOp, indent string) {
	from, to, count := 0, 0, 0
	if rarely(t, "repeat") {
		from = one(t, len(ops), "repeat from")
		to = from + 1 + one(t, len(ops)-from, "repeat length")
		count = rapid.IntRange(2, 3).Draw(t, "repeat count")
		net := 0
		for _, op := range ops[from:to] {
			net += op.net
		}
		if net < 0 {
			count = 1
		}
	}
	for i, op := range ops {
		if count > 0 && i == from {
			fmt.Fprintf(b, "%srepeat %d\n", indent, count)
		}
		in := indent
		if count > 0 && i >= from && i < to {
			in += "  "
		}
		fmt.Fprintf(b, "%s%s\n", in, op.text)
		if count > 0 && i == to-1 {
			fmt.Fprintf(b, "%send\n", indent)
		}
	}
}

func filterObjects(objs []genObject, kinds ...workload.ObjectKind) []genObject {
	var out []genObject
	for _, o := range objs {
		for _, k := range kinds {
			if o.kind == k {
				out = append(out, o)
			}
		}
	}
	return out
}

// TestGeneratedWorkloadsParse: every text the generator draws is a
// workload the parser accepts, within the generator's stated bounds.
func TestGeneratedWorkloadsParse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := genWorkload.Draw(t, "workload")
		w, err := workload.Parse("generated.wl", text)
		if err != nil {
			t.Fatalf("the generator drew a workload the parser refuses: %v\n%s", err, text)
		}
		if n := len(w.Processes); n < 1 || n > 2 {
			t.Fatalf("%d processes", n)
		}
		for _, p := range w.Processes {
			if n := len(p.Threads); n < 1 || n > 3 {
				t.Fatalf("process %s: %d threads", p.Name, n)
			}
		}
		if n := len(w.Peers); n > 2 {
			t.Fatalf("%d peers", n)
		}
		for _, o := range w.Objects {
			if o.Capacity < 1 || o.Capacity > 2 {
				t.Fatalf("%s: capacity %d", o.Name, o.Capacity)
			}
		}
	})
}

// genFeatures names what a workload uses, for the generator's coverage.
func genFeatures(w *workload.Workload, text string) []string {
	var out []string
	add := func(ok bool, name string) {
		if ok {
			out = append(out, name)
		}
	}
	ops := map[string]bool{}
	for _, th := range w.Threads {
		for _, op := range th.Ops {
			name := op.Kind.String()
			if op.Async {
				name = "submit " + name
			}
			if op.Object >= 0 {
				name += " " + w.Objects[op.Object].Kind.String()
			}
			ops[name] = true
		}
	}
	for _, pr := range w.Peers {
		for _, op := range pr.Ops {
			ops["peer "+op.Kind.String()] = true
		}
	}
	for _, name := range genOpNames {
		add(ops[name], name)
	}
	add(len(w.Processes) == 2, "two processes")
	add(strings.Contains(text, "cap unlimited"), "cap unlimited")
	add(strings.Contains(text, " low "), "low")
	add(strings.Contains(text, " reaper "), "reaper")
	add(strings.Contains(text, "  reserve "), "reserve")
	add(strings.Contains(text, "repeat 1\n"), "repeat 1")
	add(strings.Contains(text, "repeat 2\n") || strings.Contains(text, "repeat 3\n"), "repeat 2 or 3")
	add(len(w.Peers) == 2, "two peers")
	add(strings.HasPrefix(text, "workload "), "title")
	return out
}

var genOpNames = []string{
	"read pipe", "read conn", "write pipe", "write conn", "submit read pipe", "submit read conn",
	"submit write pipe", "submit write conn", "close pipe", "close conn", "push queue", "pop queue",
	"wait", "cancel", "peer send", "peer recv", "peer close",
}

// TestGeneratorCoverage: the generator is not vacuous: 500 fixed draws use
// every operation and every setting it is meant to draw.
func TestGeneratorCoverage(t *testing.T) {
	seen := map[string]int{}
	for i := range 500 {
		text := genWorkload.Example(i)
		w, err := workload.Parse("generated.wl", text)
		if err != nil {
			t.Fatalf("example %d: %v\n%s", i, err, text)
		}
		for _, f := range genFeatures(w, text) {
			seen[f]++
		}
	}
	all := append(slices.Clone(genOpNames), "two processes", "cap unlimited", "low", "reaper", "reserve", "repeat 1", "repeat 2 or 3", "two peers", "title")
	var report []string
	for _, f := range all {
		report = append(report, fmt.Sprintf("%s %d", f, seen[f]))
		if seen[f] == 0 {
			t.Errorf("no draw of 500 has %s", f)
		}
	}
	t.Logf("workloads of 500 with each feature: %s", strings.Join(report, ", "))
}
