package workload

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sysmsg/sysmsg/model/port"
)

func TestParseErrorsNameLineAndColumn(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{"pipe a\nprocess p\n  thread t\n    reed a\n  end\nend\n", "f:4:5: unknown operation \"reed\""},
		{"process p\n  thread t\n    read a\n  end\nend\n", "f:3:10: read of undeclared object \"a\" (declare objects before the processes)"},
		{"pipe a\npipe a\n", "f:2:6: \"a\" is already declared at line 1"},
		{"pipe a capacity 0\n", "f:1:17: capacity 0 is out of range 1..255"},
		{"pipe a capacity x\n", "f:1:17: capacity: \"x\" is not a number"},
		{"pipe a\nprocess p\n  thread t\n    read a\n", "f:3:3: thread is never closed with end"},
		{"end\n", "f:1:1: end without an open block"},
		{"thread t\n", "f:1:1: a thread belongs inside a process block"},
		{"process p cap 2 low 2\n", "f:1:1: low 2 must be below cap 2"},
		{"process p speed 3\n", "f:1:11: unknown process setting \"speed\" (want cap, low, reaper, cancels, cq, overflow, flush, sq or submit)"},
		{"process p cap 2\n  reserve 2 for t\n", "f:2:11: reserve 2 must be below cap 2: the other calls need a slot"},
		{"process p cap unlimited\n  reserve 1 for t\n", "f:2:3: reserve 1 needs a cap: process \"p\" has cap unlimited, so there is nothing to reserve"},
		{"process p cap 3\n  reserve 1 t\n", "f:2:13: reserve 1 wants \"for\" and the threads or objects whose calls it is kept for"},
		{"process p cap 3\n  reserve 1 for\n", "f:2:13: reserve 1 for nothing: name the threads or objects whose calls it is kept for"},
		{"process p cap 3 low 1\n  reserve 2 for t\n", "f:2:11: reserve 2 leaves 1 ordinary slot of cap 3, and low 1 (line 1) must be below that"},
		{"process p cap 3\n  reserve 1 for t\n  reserve 1 for u\n", "f:3:3: a second reserve for process \"p\": one reserve names every reserved thread and object"},
		{"process p cap 3\n  reserve 1 for ghost\n  thread t\n  end\nend\n", "f:2:17: reserve for \"ghost\", which is neither a thread nor a pipe or conn"},
		{"queue q\nprocess p cap 3\n  reserve 1 for q\n  thread t\n  end\nend\n", "f:3:17: reserve for queue \"q\": push and pop are not system calls and take no slot"},
		{"process p cap 3\n  reserve 1 for t t\n  thread t\n  end\nend\n", "f:2:19: reserve names \"t\" twice"},
		{"process p cap 3\n  thread t\n  end\nend\nprocess q cap 3\n  reserve 1 for t\n  thread u\n  end\nend\n", "f:6:17: reserve for \"t\", a thread of process \"p\": a reserve is kept for a process's own threads"},
		{"process p cap 3\n  shutdown\n", "f:2:3: a process holds threads and a reserve: want \"thread NAME\", \"reserve K for NAME...\" or \"end\", got \"shutdown\""},
		{"process p cancels never\n", "f:1:19: cancels \"never\": want wait or drop"},
		{"process p cancels\n", "f:1:11: cancels wants wait or drop"},
		{"process p cq 0\n", "f:1:14: cq 0 is out of range 1..255"},
		{"process p overflow drop\n", "f:1:11: overflow needs a completion queue bound: add cq N"},
		{"process p flush never\n", "f:1:11: flush needs a completion queue bound: add cq N"},
		{"process p cq 2 overflow spill\n", "f:1:25: overflow \"spill\": want list or drop"},
		{"process p cq 2 flush sometimes\n", "f:1:22: flush \"sometimes\": want getevents or never"},
		{"process p cq 2 overflow drop flush never\n", "f:1:30: flush is for the overflow list, and overflow drop keeps none"},
		{"process p submit on-full\n", "f:1:11: submit needs a submission ring: add sq N"},
		{"process p sq 2 submit later\n", "f:1:23: submit \"later\": want before-park or on-full"},
		{"process p sq 300\n", "f:1:14: sq 300 is out of range 1..255"},
		{"process p sq 1\n  thread a\n    cancel b\n  end\n  thread b\n  end\nend\n", "f:3:12: cancel in process \"p\", which has a submission ring (sq 1): the cancel of a staged call is not modelled"},
		{"process p\nend\n", "f:1:1: process has no thread"},
		{"queue q\nprocess p\n  thread t\n    read q\n  end\nend\n", "f:4:10: \"q\" is a queue: threads push and pop it"},
		{"pipe a\nprocess p\n  thread t\n    push a\n  end\nend\n", "f:4:10: \"a\" is a pipe: push and pop are for queues"},
		{"pipe a\npeer c\n  read a\nend\n", "f:3:3: a peer cannot read (a peer sends, receives and closes)"},
		{"pipe a\nprocess p\n  thread t\n    send a\n  end\nend\n", "f:4:5: a thread cannot send (a thread reads and writes)"},
		{"pipe a\nprocess p\n  thread t\n    submit close a\n  end\nend\n", "f:4:12: only read and write can be submitted"},
		{"pipe a\nprocess p\n  thread t\n    cancel u\n  end\nend\n", "f:4:12: cancel of undeclared thread \"u\""},
		{"pipe a\nprocess p\n  thread t\n    cancel t\n  end\nend\n", "f:4:12: a thread cannot cancel its own message: it is waiting for it"},
		{"pipe a\nprocess p\n  thread t\n    read a\n  end\nend\nprocess q\n  thread u\n    cancel t\n  end\nend\n",
			"f:9:12: cancel of \"t\", a thread of process \"p\": a thread cancels only threads of its own process"},
		{"queue q\nprocess p\n  thread t\n    push q\n  end\nend\nprocess r\n  thread u\n    pop q\n  end\nend\n",
			"f:9:5: queue \"q\" is a user-level queue of process \"p\" (thread \"t\" uses it): a thread of process \"r\" cannot use it"},
		{"pipe a\nprocess p reaper u\n  thread t\n    read a\n  end\nend\n", "f:2:18: reaper \"u\" is not a thread of process \"p\""},
		{"pipe a\nprocess p\n  thread t\n    repeat 2\n    end\n  end\nend\n", "f:4:5: empty repeat"},
		{"pipe a\nprocess p\n  thread t\n    repeat 100\n      repeat 101\n        read a\n      end\n    end\n  end\nend\n",
			"f:4:5: more than 10000 operations once loops are unrolled"},
		{"workload \"x\nprocess p\n", "f:1:10: unterminated string"},
		{"workload x\n", "f:1:1: want workload \"TITLE\""},
		{"pipe 9a\n", "f:1:6: bad pipe name \"9a\" (letters, digits, _ and -, starting with a letter)"},
		{"pipe end\n", "f:1:6: \"end\" is a keyword, not a name"},
		{"pipe a extra\n", "f:1:8: unknown pipe setting \"extra\" (want capacity)"},
		{"# nothing\n", "f:1:1: no process with a thread"},
		{"pipe a\nprocess p\n  thread t\n    read a b\n  end\nend\n", "f:4:12: unexpected \"b\""},
		{"pipe a\nprocess p cap unlimited low 3\n  thread t\n    read a\n  end\nend\n", "f:2:29: low 3 needs a cap: process p has cap unlimited"},
		{"pipe a\nprocess p low 0 cap unlimited\n  thread t\n    read a\n  end\nend\n", "f:2:15: low 0 needs a cap: process p has cap unlimited"},
		{"pipe a\nprocess p\n  thread t\n    read a\n    wait\n  end\nend\n",
			"f:5:5: wait has nothing to wait for: before it, thread t submits 0 calls and waits 0 times (loops unrolled)"},
		{"pipe a\nprocess p\n  thread t\n    submit read a\n    repeat 2\n      wait\n    end\n  end\nend\n",
			"f:6:7: wait has nothing to wait for: before it, thread t submits 1 call and waits once (loops unrolled)"},
		{"pipe a\nprocess p\n  thread t\n    repeat 3\n      submit read a\n      wait\n      wait\n    end\n  end\nend\n",
			"f:7:7: wait has nothing to wait for: before it, thread t submits 1 call and waits once (loops unrolled)"},
		{"workload \"caf\xe9\"\n", "f:1:14: byte \"\\xe9\" is not UTF-8 (a workload file is UTF-8 text)"},
		{"workload \"a\x1b[31mb\"\n", "f:1:12: the title holds \"\\x1b\", which is not printable"},
		{"pipe \xe9\n", "f:1:6: byte \"\\xe9\" is not UTF-8 (a workload file is UTF-8 text)"},
		{"pipe a # caf\xe9\n", "f:1:13: byte \"\\xe9\" is not UTF-8 (a workload file is UTF-8 text)"},
		{"workload \"\u00e9t\u00e9\" x\n", "f:1:16: unexpected \"x\""},
		{"\uFEFFpipe a\npipe a\n", "f:2:6: \"a\" is already declared at line 1"},
		{"\uFEFFreed a\n", "f:1:1: unknown declaration \"reed\" (want workload, pipe, conn, queue, process or peer)"},
		{"pipe \uFEFFa\n", "f:1:6: bad pipe name \"\\ufeffa\" (letters, digits, _ and -, starting with a letter)"},
		{"\x00\x01\x7f\n", "f:1:1: unknown declaration \"\\x00\\x01\\x7f\" (want workload, pipe, conn, queue, process or peer)"},
		{"pipe " + strings.Repeat("\x00", 100) + "\n", "f:1:6: bad pipe name \"" + strings.Repeat(`\x00`, 10) + "\"... (letters, digits, _ and -, starting with a letter)"},
		{"pipe a\nprocess p\n  thread t\n    read " + strings.Repeat("\u00e9", 30) + "\n  end\nend\n",
			"f:4:10: read of undeclared object \"" + strings.Repeat("\u00e9", 20) + "\"... (declare objects before the processes)"},
	}
	for _, c := range cases {
		_, err := Parse("f", c.src)
		if err == nil {
			t.Errorf("%q: no error, want %s", c.src, c.want)
			continue
		}
		if !errors.Is(err, ErrWorkload) {
			t.Errorf("%q: error %v does not wrap ErrWorkload", c.src, err)
		}
		if err.Error() != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.src, err, c.want)
		}
	}
}

// TestErrorsQuoteAShortPrintablePart: an error quotes a word of the input
// with %q and cuts it after 40 bytes, so that a megabyte line gives a
// one-line error.
func TestErrorsQuoteAShortPrintablePart(t *testing.T) {
	long := strings.Repeat("a", 1<<20)
	cases := []struct {
		src, want string
	}{
		{long + "\n", "f:1:1: unknown declaration \"" + long[:40] + "\"... (want workload, pipe, conn, queue, process or peer)"},
		{"pipe a\nprocess p\n  thread t\n    read a " + long + "\n  end\nend\n", "f:4:12: unexpected \"" + long[:40] + "\"..."},
		{"pipe a capacity " + strings.Repeat("9", 1<<20) + "\n", "f:1:17: capacity: \"" + strings.Repeat("9", 40) + "\"... is not a number"},
		{"pipe a\nprocess p\n  thread t\n    cancel " + long + "\n  end\nend\n", "f:4:12: cancel of undeclared thread \"" + long[:40] + "\"..."},
	}
	for _, c := range cases {
		_, err := Parse("f", c.src)
		if err == nil || err.Error() != c.want {
			t.Errorf("%.40q:\n got %.300v\nwant %s", c.src, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{strings.Repeat("x", 40), `"` + strings.Repeat("x", 40) + `"`},
		{strings.Repeat("x", 41), `"` + strings.Repeat("x", 40) + `"...`},
		{strings.Repeat("x", 38) + "\x00", `"` + strings.Repeat("x", 38) + `"...`}, // \x00 would make 42
		{"a\"b", `"a\"b"`},
	} {
		if got := quote(c.in); got != c.want {
			t.Errorf("quote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestParseTakesAByteOrderMark: a UTF-8 byte-order mark at the start of
// the file is not part of the text, and columns count from after it.
func TestParseTakesAByteOrderMark(t *testing.T) {
	w, err := Parse("f", "\uFEFFworkload \"t\"\npipe a\nprocess p\n  thread t\n    read a\n  end\nend\n")
	if err != nil || w.Title != "t" {
		t.Fatalf("%v %+v", w, err)
	}
}

// TestWaitsMatchedBySubmitsAreAccepted: a wait is accepted wherever the
// submits before it, loops unrolled, outnumber the waits before it.
func TestWaitsMatchedBySubmitsAreAccepted(t *testing.T) {
	for _, body := range []string{
		"submit read a\nwait\n",
		"repeat 3\nsubmit read a\nwait\nend\n",
		"repeat 3\nsubmit read a\nend\nrepeat 3\nwait\nend\n",
		"submit read a\nrepeat 2\nsubmit write a\nwait\nend\nwait\n",
		"repeat 2\nrepeat 2\nsubmit read a\nend\nwait\nwait\nend\n",
	} {
		if _, err := Parse("f", "pipe a\nprocess p\nthread t\n"+body+"end\nend\n"); err != nil {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// TestDeepNestingIsRefusedAtTheLimit: blocks nest at most MaxDepth deep, a
// process and a thread (or a peer) included; the repeat past the limit is
// named. The input is 200,000 nested repeats, which took minutes when each
// line looked down the whole stack and each repeat copied its body.
func TestDeepNestingIsRefusedAtTheLimit(t *testing.T) {
	const n = 200000
	deep := strings.Repeat("repeat 1\n", n) + "read a\n" + strings.Repeat("end\n", n)
	cases := []struct {
		src, want string
	}{
		{"pipe a\nprocess p\n  thread t\n" + deep + "  end\nend\n", fmt.Sprintf("f:%d:1: blocks nested more than %d deep", 4+MaxDepth-2, MaxDepth)},
		{"pipe a\npeer c\n" + strings.ReplaceAll(deep, "read", "recv") + "end\n", fmt.Sprintf("f:%d:1: blocks nested more than %d deep", 3+MaxDepth-1, MaxDepth)},
	}
	for _, c := range cases {
		_, err := Parse("f", c.src)
		if err == nil || err.Error() != c.want {
			t.Errorf("%.40q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
	// At the limit: 62 repeats in a thread, the most operations inside.
	const depth = MaxDepth - 2
	src := "pipe a\nprocess p\n  thread t\n" + strings.Repeat("repeat 1\n", depth) + strings.Repeat("write a\n", MaxOps) +
		strings.Repeat("end\n", depth) + "  end\nend\n"
	w, err := Parse("f", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Threads[0].Ops) != MaxOps {
		t.Errorf("%d operations, want %d", len(w.Threads[0].Ops), MaxOps)
	}
}

// TestLargeFlatFileParses: 100,000 operations in 10 threads, and 64 peers
// of 10,000 operations each, parse; a parser quadratic in the lines of the
// file would hang here.
func TestLargeFlatFileParses(t *testing.T) {
	var b strings.Builder
	b.WriteString("pipe a\nprocess p cap 4 low 1\n")
	for i := range 10 {
		fmt.Fprintf(&b, "  thread t%d\n", i)
		b.WriteString(strings.Repeat("    submit write a\n    wait\n", MaxOps/2))
		b.WriteString("  end\n")
	}
	b.WriteString("end\n")
	for i := range MaxPeers {
		fmt.Fprintf(&b, "peer c%d\n", i)
		b.WriteString(strings.Repeat("  recv a\n", MaxOps))
		b.WriteString("end\n")
	}
	w, err := Parse("f", b.String())
	if err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, th := range w.Threads {
		ops += len(th.Ops)
	}
	for _, pe := range w.Peers {
		ops += len(pe.Ops)
	}
	if want := 10*MaxOps + MaxPeers*MaxOps; ops != want {
		t.Errorf("%d operations, want %d", ops, want)
	}
}

// TestParseRefusesWhatCannotBeEncoded: past each limit the parser refuses
// the file and names the line and column of the declaration or operation
// that goes over, so that the model never wraps a count silently.
func TestParseRefusesWhatCannotBeEncoded(t *testing.T) {
	var threads, peers, objects strings.Builder
	threads.WriteString("pipe a\nprocess p\n")
	for i := range MaxThreads + 1 {
		fmt.Fprintf(&threads, "  thread t%d\n    read a\n  end\n", i)
	}
	threads.WriteString("end\n")
	peers.WriteString("pipe a\nprocess p\n  thread t\n    read a\n  end\nend\n")
	for i := range MaxPeers + 1 {
		fmt.Fprintf(&peers, "peer c%d\n  send a\nend\n", i)
	}
	for i := range MaxObjects + 1 {
		fmt.Fprintf(&objects, "pipe a%d\n", i)
	}
	cases := []struct {
		src, want string
	}{
		{threads.String(), fmt.Sprintf("f:%d:3: more than %d threads", 3+3*MaxThreads, MaxThreads)},
		{peers.String(), fmt.Sprintf("f:%d:1: more than %d peers", 7+3*MaxPeers, MaxPeers)},
		{objects.String(), fmt.Sprintf("f:%d:1: more than %d objects", MaxObjects+1, MaxObjects)},
		{"pipe a capacity 256\n", "f:1:17: capacity 256 is out of range 1..255"},
		{"process p cap 256\n", "f:1:15: cap 256 is out of range 1..255"},
		{"process p cap unlimited low 255\n", "f:1:29: low 255 is out of range 0..254"},
		{"pipe a\nprocess p\n  thread t\n    repeat 10001\n      submit read a\n    end\n  end\nend\n",
			"f:4:12: repeat count 10001 is out of range 1..10000"},
		{"pipe a\nprocess p\n  thread t\n    read a\n    repeat 10000\n      submit read a\n    end\n  end\nend\n",
			"f:5:5: more than 10000 operations once loops are unrolled"},
	}
	for _, c := range cases {
		_, err := Parse("f", c.src)
		if err == nil {
			t.Errorf("%.40q: no error, want %s", c.src, c.want)
			continue
		}
		if !errors.Is(err, ErrWorkload) || err.Error() != c.want {
			t.Errorf("%.40q:\n got %v\nwant %s", c.src, err, c.want)
		}
	}
}

func TestParseUnrollsLoopsAndResolvesNames(t *testing.T) {
	src := `workload "two processes"
pipe a capacity 3
conn c
queue q
process one cap 3 low 1
  thread t
    repeat 2
      read a   # a comment
      push q
    end
    cancel u
  end
  thread u
    pop q
    write c
  end
end
process two cap unlimited reaper ev
  thread ev
    submit write a
    wait
  end
end
peer client
  recv c
  close c
end
`
	w, err := Parse("f", src)
	if err != nil {
		t.Fatal(err)
	}
	if w.Title != "two processes" || len(w.Processes) != 2 || len(w.Threads) != 3 || len(w.Peers) != 1 {
		t.Fatalf("parsed %+v", w)
	}
	var ops []string
	for _, op := range w.Threads[0].Ops {
		ops = append(ops, op.Kind.String())
	}
	if got := strings.Join(ops, " "); got != "read push read push cancel" {
		t.Errorf("thread t: %s", got)
	}
	if w.Threads[0].Ops[4].Target != 1 {
		t.Errorf("cancel targets %d, want thread 1 (u)", w.Threads[0].Ops[4].Target)
	}
	p1, p2 := w.Processes[0], w.Processes[1]
	if p1.Cap != 3 || p1.Low != 1 || p1.Reaper != -1 || p2.Cap != Unlimited || p2.Reaper != 2 {
		t.Errorf("processes %+v %+v", p1, p2)
	}
	if w.Objects[0].Capacity != 3 || w.Objects[1].Capacity != MaxCapacity || !w.Threads[2].Ops[0].Async {
		t.Errorf("objects %+v", w.Objects)
	}
}

func builtin(t testing.TB, name string, p Params) *Workload {
	t.Helper()
	w, _, err := Load(name, p)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestBuiltinsParseAndReject(t *testing.T) {
	for _, n := range BuiltinNames() {
		builtin(t, n, Params{})
	}
	if _, err := Builtin("webserver", Params{Conns: 2, Requests: 2, Window: 3}); !errors.Is(err, ErrWorkload) {
		t.Errorf("window above requests: %v", err)
	}
	if _, err := Builtin("nginx", Params{}); !errors.Is(err, ErrUnknownBuiltin) {
		t.Errorf("unknown built-in: %v", err)
	}
	w := builtin(t, "webserver", Params{Conns: 3, Requests: 4, Window: 2})
	if len(w.Threads) != 6 || len(w.Peers) != 3 || len(w.Peers[0].Ops) != 8 {
		t.Errorf("webserver 3x4 window 2: %d threads, %d peers, %d client ops", len(w.Threads), len(w.Peers), len(w.Peers[0].Ops))
	}
	// The client keeps the window full: two sends, then recv/send pairs,
	// then the last two receives.
	var ops []string
	for _, op := range w.Peers[0].Ops {
		ops = append(ops, op.Kind.String())
	}
	if got := strings.Join(ops, " "); got != "send send recv send recv send recv recv" {
		t.Errorf("client script: %s", got)
	}
}

// FuzzParse: no input makes the parser panic, and whatever it accepts is
// within the limits the model relies on. The seed corpus is in
// testdata/fuzz/FuzzParse, plus the built-ins.
func FuzzParse(f *testing.F) {
	for _, n := range BuiltinNames() {
		src, _ := Builtin(n, Params{})
		f.Add(src)
	}
	for _, n := range IncidentNames() {
		src, _ := Incident(n)
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		w, err := Parse("fuzz", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Fatalf("error without a place: %.300q", err)
			}
			// An error is one short, printable line, whatever the input.
			msg := err.Error()
			if len(msg) > 200 {
				t.Fatalf("error of %d bytes: %.300q", len(msg), msg)
			}
			if !utf8.ValidString(msg) || strings.IndexFunc(msg, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
				t.Fatalf("error with an unprintable character: %q", msg)
			}
			return
		}
		if len(w.Threads) == 0 || len(w.Threads) > MaxThreads || len(w.Objects) > MaxObjects {
			t.Fatalf("accepted out of limits: %d threads, %d objects", len(w.Threads), len(w.Objects))
		}
		for _, th := range w.Threads {
			if len(th.Ops) > MaxOps {
				t.Fatalf("thread %s has %d ops", th.Name, len(th.Ops))
			}
			for _, op := range th.Ops {
				if op.Kind == Cancel && (op.Target < 0 || op.Target >= len(w.Threads)) {
					t.Fatalf("unresolved cancel target")
				}
				if op.Kind != Cancel && op.Kind != Wait && (op.Object < 0 || op.Object >= len(w.Objects)) {
					t.Fatalf("unresolved object")
				}
			}
		}
		for _, p := range w.Processes {
			if p.Cap != Unlimited && p.Low >= p.Cap {
				t.Fatalf("accepted low %d at cap %d", p.Low, p.Cap)
			}
		}
	})
}

func TestReadExpectations(t *testing.T) {
	table, err := ReadExpectations("v", strings.NewReader("# cells\nwebserver 2 block deadlock\ntriangle unlimited poll ok # a note\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(table) != 2 || table[0].Key() != "webserver 2 block" || table[1].Cap != Unlimited || table[1].Verdict != "ok" {
		t.Errorf("table %+v", table)
	}
	for _, c := range []struct{ src, want string }{
		{"webserver 2 block\n", "v:1: want WORKLOAD CAP POLICY VERDICT, got 3 fields"},
		{"webserver two block ok\n", `v:1: cap "two": want 1..255 or unlimited`},
		{"webserver 2 spin ok\n", `v:1: port: unknown policy "spin"`},
		{"webserver 2 block fine\n", `v:1: unknown verdict "fine"`},
		{"webserver 2 block ok\n\nwebserver 2 block ok\n", "v:3: webserver 2 block is listed at line 1 already"},
		{"# nothing\n", "v: no expectations"},
	} {
		_, err := ReadExpectations("v", strings.NewReader(c.src))
		if err == nil || !errors.Is(err, ErrWorkload) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err %v, want %q", c.src, err, c.want)
		}
	}
}

// TestEffectiveSettings pins the one rule for caps and low-water marks.
func TestEffectiveSettings(t *testing.T) {
	w, err := Parse("f.wl", "pipe a\nprocess p cap 4 low 3\n  thread t\n    read a\n  end\nend\nprocess q cap 5\n  thread u\n    write a\n  end\nend\n")
	if err != nil {
		t.Fatal(err)
	}
	cases := []settingCase{
		{port.Poll, 0, Unset, "[{4 3 0} {5 2 0}]"},
		{port.Poll, 3, Unset, "f.wl:2:21: process p: low 3 (want 0 ≤ low < cap 3): the file's low was for its cap 4, and cap 3 is given in its place"},
		{port.Poll, 3, 1, "[{3 1 0} {3 1 0}]"},
		{port.Poll, 0, 4, "process p: low 4 (want 0 ≤ low < cap 4)"},
		{port.Poll, 2, -2, "process p: low -2 (want 0 ≤ low < cap 2)"},
		{port.PollNoHyst, 2, Unset, "[{2 1 0} {2 1 0}]"},
		{port.Block, Unlimited, Unset, "[{-1 0 0} {-1 0 0}]"},
		{port.Block, -3, Unset, "process p: cap -3 (want ≥ 1 or unlimited)"},
	}
	checkSettings(t, w, cases)
}

// Every incident file is listed, and every listed one parses, with a title
// and a header comment naming its public reference.
func TestIncidentsParse(t *testing.T) {
	files, err := incidentFiles.ReadDir("incidents")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(IncidentNames()) {
		t.Errorf("%d incident files, %d listed", len(files), len(IncidentNames()))
	}
	for _, n := range IncidentNames() {
		w, text, err := Load(n, Params{})
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if w.Title == "" || !strings.HasPrefix(text, "# ") || !regexp.MustCompile(`[a-z]/[a-z-]+ (pull request )?#\d+`).MatchString(text) {
			t.Errorf("%s: no title, or no header comment naming its public report (owner/repo #N)", n)
		}
		if lines := strings.Count(text, "\n"); lines > 60 {
			t.Errorf("%s: %d lines", n, lines)
		}
	}
	if _, ok := Incident("no-such"); ok {
		t.Error("an unknown incident was found")
	}
}

// TestReserveSettings: the file's reserve goes with every cap a check or a
// run gives in place of the file's, and one that leaves no ordinary slot
// is refused, naming the reserve's line; with no cap there is nothing to
// reserve; the low is a level of the ordinary slots.
func TestReserveSettings(t *testing.T) {
	w, err := Parse("r.wl", "pipe wake\nprocess p cap 3\n  reserve 1 for wake\n  thread t\n    read wake\n  end\nend\npeer q\n  send wake\nend\n")
	if err != nil {
		t.Fatal(err)
	}
	if pr := w.Processes[0]; pr.Reserve != 1 || len(pr.ReserveObjects) != 1 || !w.Reserved(0, w.Threads[0].Ops[0]) {
		t.Fatalf("reserve not read: %+v", pr)
	}
	cases := []settingCase{
		{port.Poll, 0, Unset, "[{3 0 1}]"},
		{port.Poll, 5, Unset, "[{5 1 1}]"},
		{port.PollNoHyst, 4, Unset, "[{4 2 1}]"},
		{port.Block, 1, Unset, "r.wl:3:3: process p: reserve 1 needs a cap of at least 2, and cap 1 is given in place of the file's 3"},
		{port.Block, Unlimited, Unset, "[{-1 0 0}]"}, // no cap: nothing to reserve
		{port.Poll, 3, 2, "process p: low 2 (want 0 ≤ low < 2, the slots that the reserve leaves of cap 3)"},
	}
	checkSettings(t, w, cases)
}

// settingCase is what Effective gives under a policy, a cap and a low
// given in place of the file's: the settings, or the error's text.
type settingCase struct {
	pol      port.Policy
	cap, low int
	want     string
}

func checkSettings(t *testing.T, w *Workload, cases []settingCase) {
	t.Helper()
	for _, c := range cases {
		set, err := Effective(w, c.pol, c.cap, c.low)
		got := fmt.Sprint(set)
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrSetting) {
				t.Errorf("%v cap %d low %d: %v does not wrap ErrSetting", c.pol, c.cap, c.low, err)
			}
		}
		if got != c.want {
			t.Errorf("%v cap %d low %d:\n got %s\nwant %s", c.pol, c.cap, c.low, got, c.want)
		}
	}
}
