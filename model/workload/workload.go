package workload

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sysmsg/sysmsg/model/port"
)

// ErrWorkload is wrapped by every error that Parse returns.
var ErrWorkload = errors.New("workload: bad input")

// Limits on a workload, so that a file cannot ask the model for more than it
// can encode.
const (
	MaxThreads  = 64             // user threads in all processes together
	MaxPeers    = 64             // peers
	MaxObjects  = 128            // pipes, conns and queues together
	MaxOps      = 10000          // operations of one thread or peer, loops unrolled
	MaxRepeat   = 10000          // count of one repeat
	MaxCapacity = 255            // items an object holds; also the largest cap
	MaxDepth    = 64             // blocks open at once: a process, a thread and its repeats
	Unlimited   = port.Unlimited // a process cap that is never reached
)

// Unset marks a number that was not given: a process's low-water mark the
// file leaves out, or a --low flag left at its default. It is the one
// convention for "not set" in the workload, the model and the
// implementation; [Effective] turns it into the default.
const Unset = port.Unset

// ObjectKind is the kind of a [Object].
type ObjectKind int

const (
	// Pipe is a one-way kernel channel: threads read and write it with
	// system calls; peers may send into it and receive from it.
	Pipe ObjectKind = iota
	// Conn is a connection between the process and a peer, two channels in
	// one: threads read what the peer sends and write what the peer
	// receives.
	Conn
	// Queue is a user-level queue between threads of one process: push and
	// pop are not system calls and take no slot.
	Queue
)

var objectWords = [...]string{Pipe: "pipe", Conn: "conn", Queue: "queue"}

func (k ObjectKind) String() string { return objectWords[k] }

// Object is a pipe, connection or queue.
type Object struct {
	Name     string
	Kind     ObjectKind
	Capacity int // items it holds in each direction
	Pos      Pos
}

// OpKind is the kind of an [Op].
type OpKind int

const (
	// Read takes one item from a pipe or from a conn's inbound side; on a
	// closed, empty channel it returns end-of-file. A system call.
	Read OpKind = iota
	// Write puts one item into a pipe or a conn's outbound side; it can
	// proceed while there is room. A system call.
	Write
	// Close closes a pipe, or a thread's side of a conn (a peer's Close
	// closes the conn's inbound side). A system call for a thread.
	Close
	// Cancel aborts the in-flight message of another thread. It is itself a
	// system call and needs a slot.
	Cancel
	// Push puts one item into a user-level queue, waiting while it is full.
	Push
	// Pop takes one item from a user-level queue, waiting while it is empty.
	Pop
	// Wait waits for one result of this thread's submitted (asynchronous)
	// system calls.
	Wait
	// Send is a peer putting one item into a conn's inbound side or a pipe.
	Send
	// Recv is a peer taking one item from a conn's outbound side or a pipe.
	Recv
)

var opWords = [...]string{Read: "read", Write: "write", Close: "close", Cancel: "cancel",
	Push: "push", Pop: "pop", Wait: "wait", Send: "send", Recv: "recv"}

func (k OpKind) String() string { return opWords[k] }

// Syscall reports whether a thread's operation of this kind is a system
// call, and so needs a slot in messaging mode.
func (k OpKind) Syscall() bool { return k <= Cancel }

// Op is one operation of a thread or peer.
type Op struct {
	Kind OpKind
	// Object is the index in Workload.Objects of the object operated on, or
	// -1 (Cancel, Wait).
	Object int
	// Target is, for Cancel, the index in Workload.Threads of the thread
	// whose message is cancelled; -1 otherwise.
	Target int
	// Async marks a submitted system call ("submit read p"): the thread goes
	// on at once, and collects the result with Wait.
	Async bool
	Pos   Pos

	target ref // the thread named by a Cancel, until resolved
}

// Process is a heavy-weight process: a cap on in-flight messages and the
// user threads that share it.
type Process struct {
	Name string
	// Cap bounds the messages in flight; Unlimited means no bound.
	Cap int
	// Low is the hysteresis low-water mark, or [Unset] for the default;
	// [Effective] says which mark a check or a run uses.
	Low int
	// LowPos is where the file sets Low.
	LowPos Pos
	// Reaper is the index in Workload.Threads of the one thread that reaps
	// replies (an event loop), or -1 when the scheduler reaps.
	Reaper  int
	Threads []int
	Pos     Pos
	// Reserve is how many of the cap's slots are kept for the reserved
	// calls: those of the threads in ReserveThreads and those on the
	// objects in ReserveObjects ("reserve K for X..."). 0 for none.
	Reserve        int
	ReserveThreads []int
	ReserveObjects []int
	ReservePos     Pos
	// DropCancels: a cancel that finds no free slot is dropped, doing
	// nothing ("cancels drop"), as zio did before its fix; otherwise it
	// waits, or is attempted, as any call.
	DropCancels bool
	// CQ bounds the kernel's completion queue: the replies posted and not
	// yet reaped. 0 is no bound. A completion that finds the queue full
	// goes to the overflow list (Overflow), or is lost (OverflowDrop).
	CQ       int
	Overflow Overflow
	// FlushNever: nothing ever returns the overflow list's replies to the
	// queue ("flush never"), the runtime that never enters the kernel to
	// get events; otherwise the scheduler flushes it when there is room.
	FlushNever bool
	CQPos      Pos
	// SQ bounds the submission ring: the calls staged and not yet
	// submitted to the kernel ("sq N"). 0 is no ring: a call is submitted
	// as it is sent. SubmitOnFull: the ring is submitted only when a
	// thread finds it full ("submit on-full"), as glommio's and
	// commonware's loops did; otherwise the scheduler submits whatever is
	// staged before it lets anything park ("submit before-park").
	SQ           int
	SubmitOnFull bool
	SQPos        Pos
}

// Overflow is what the kernel does with a completion that finds a
// process's completion queue full.
type Overflow uint8

const (
	// OverflowList keeps it on an overflow list until a flush returns it.
	OverflowList Overflow = iota
	// OverflowDrop loses it: the reply never arrives.
	OverflowDrop
)

// Reserved reports whether thread t's operation op is a reserved call of
// its process.
func (w *Workload) Reserved(t int, op Op) bool {
	pr := &w.Processes[w.Threads[t].Process]
	if pr.Reserve == 0 || !op.Kind.Syscall() {
		return false
	}
	return slices.Contains(pr.ReserveThreads, t) || op.Object >= 0 && slices.Contains(pr.ReserveObjects, op.Object)
}

// Thread is a user thread: a straight-line program (loops are unrolled).
type Thread struct {
	Name    string
	Process int
	Ops     []Op
	Pos     Pos
}

// Peer is an actor outside every cap: a client or another machine.
type Peer struct {
	Name string
	Ops  []Op
	Pos  Pos
}

// Workload is a parsed workload file.
type Workload struct {
	// Title is the workload's own description ("web server, 2
	// connections..."), or its file name.
	Title string
	// File is the name given to Parse, for errors that name a line.
	File      string
	Objects   []Object
	Processes []Process
	Threads   []Thread
	Peers     []Peer
}

// Pos is a place in a workload file.
type Pos struct{ Line, Col int }

// Error is a bad workload file: where, and what is wrong.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

func (e *Error) Unwrap() error { return ErrWorkload }

type token struct {
	text   string
	col    int
	quoted bool
}

// tokenize splits a line into words and quoted strings. A column counts
// characters (runes), as a person sees them. The whole line, comment
// included, must be UTF-8: a trace stores the file's text in JSON, which
// would replace a bad byte and so replay a different file.
func tokenize(line string) ([]token, error) {
	if !utf8.ValidString(line) {
		col := 1
		for i, r := range line {
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(line[i:]); size == 1 {
					return nil, &Error{Pos: Pos{Col: col}, Msg: fmt.Sprintf("byte %s is not UTF-8 (a workload file is UTF-8 text)", quote(line[i:i+1]))}
				}
			}
			col++
		}
	}
	var toks []token
	col := 1 // of line[i]
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == '#':
			return toks, nil
		case unicode.IsSpace(r):
			i += size
			col++
		case r == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, &Error{Pos: Pos{Col: col}, Msg: "unterminated string"}
			}
			text := line[i+1 : i+1+j]
			toks = append(toks, token{text, col, true})
			col += utf8.RuneCountInString(text) + 2
			i += j + 2
		default:
			start, startCol := i, col
			for i < len(line) {
				r, size := utf8.DecodeRuneInString(line[i:])
				if unicode.IsSpace(r) || r == '#' || r == '"' {
					break
				}
				i += size
				col++
			}
			toks = append(toks, token{line[start:i], startCol, false})
		}
	}
	return toks, nil
}

// maxQuoted is how many bytes of input, once escaped, an error quotes: a
// megabyte line or binary garbage still gives a short, printable error.
const maxQuoted = 40

// quote is s as %q writes it, cut after maxQuoted bytes of the quoted
// form with "..." after the closing quote. The cut falls between
// characters, so that it never splits an escape or a rune.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	n := 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		q := strconv.Quote(s[i : i+size])
		q = q[1 : len(q)-1]
		if n+len(q) > maxQuoted {
			b.WriteString(`"...`)
			return b.String()
		}
		b.WriteString(q)
		n += len(q)
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// ref is a name used before it can be resolved.
type ref struct {
	name string
	pos  Pos
}

type parser struct {
	file string
	w    *Workload
	line int
	toks []token

	objects map[string]int
	threads map[string]int
	names   map[string]Pos // every declared name, which must be unique

	reaperRefs  map[int]ref   // process index
	reserveRefs map[int][]ref // process index: the names after "reserve K for"
}

func (p *parser) errAt(col int, format string, args ...any) error {
	return &Error{File: p.file, Pos: Pos{p.line, col}, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a workload. name is used in error messages and as the title
// when the file has none. On error nothing is returned but the error, which
// is an [*Error] naming the line and column.
func Parse(name, src string) (*Workload, error) {
	p := &parser{
		file: name, w: &Workload{File: name},
		objects: map[string]int{}, threads: map[string]int{}, names: map[string]Pos{},
		reaperRefs: map[int]ref{}, reserveRefs: map[int][]ref{},
	}
	// An editor may start a UTF-8 file with a byte-order mark; it is not
	// part of the text, and columns on line 1 count from after it.
	src = strings.TrimPrefix(src, "\uFEFF")
	if err := p.parse(strings.Split(src, "\n")); err != nil {
		return nil, err
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	if p.w.Title == "" {
		p.w.Title = name
	}
	return p.w, nil
}

// frame is an open block: a process, thread, peer or repeat.
type frame struct {
	kind  string
	actor string // "thread" or "peer" whose operations the block holds, or ""
	pos   Pos
	ops   *[]Op // where operations go
	count int   // for repeat
	start int   // len(*ops) at the repeat
}

func (p *parser) parse(lines []string) error {
	var stack []frame
	for i, text := range lines {
		p.line = i + 1
		toks, err := tokenize(text)
		if err != nil {
			e := err.(*Error)
			e.File, e.Pos.Line = p.file, p.line
			return e
		}
		if len(toks) == 0 {
			continue
		}
		p.toks = toks
		word := toks[0]
		if word.quoted {
			return p.errAt(word.col, "a line starts with a keyword, not a string")
		}
		top := ""
		if len(stack) > 0 {
			top = stack[len(stack)-1].kind
		}
		switch {
		case word.text == "end":
			if len(stack) == 0 {
				return p.errAt(word.col, "end without an open block")
			}
			if err := p.noMore(1); err != nil {
				return err
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if err := p.closeBlock(f); err != nil {
				return err
			}
		case top == "":
			f, err := p.topLevel()
			if err != nil {
				return err
			}
			if f != nil {
				stack = append(stack, *f)
			}
		case top == "process" && word.text == "reserve":
			if err := p.reserve(); err != nil {
				return err
			}
		case top == "process":
			if word.text != "thread" {
				return p.errAt(word.col, "a process holds threads and a reserve: want \"thread NAME\", \"reserve K for NAME...\" or \"end\", got %s", quote(word.text))
			}
			name, err := p.declare(1, "thread")
			if err != nil {
				return err
			}
			if err := p.noMore(2); err != nil {
				return err
			}
			if len(p.w.Threads) == MaxThreads {
				return p.errAt(word.col, "more than %d threads", MaxThreads)
			}
			proc := len(p.w.Processes) - 1
			p.threads[name] = len(p.w.Threads)
			p.w.Processes[proc].Threads = append(p.w.Processes[proc].Threads, len(p.w.Threads))
			p.w.Threads = append(p.w.Threads, Thread{Name: name, Process: proc, Pos: Pos{p.line, word.col}})
			t := &p.w.Threads[len(p.w.Threads)-1]
			stack = append(stack, frame{kind: "thread", actor: "thread", pos: Pos{p.line, word.col}, ops: &t.Ops})
		default: // inside a thread, peer or repeat
			// The frame carries its actor, so that a line costs the same
			// however deep it is nested.
			actor := stack[len(stack)-1].actor
			ops := stack[len(stack)-1].ops
			if word.text == "repeat" {
				if len(stack) == MaxDepth {
					return p.errAt(word.col, "blocks nested more than %d deep", MaxDepth)
				}
				n, err := p.number(1, "repeat count", 1, MaxRepeat)
				if err != nil {
					return err
				}
				if err := p.noMore(2); err != nil {
					return err
				}
				stack = append(stack, frame{kind: "repeat", actor: actor, pos: Pos{p.line, word.col}, ops: ops, count: n, start: len(*ops)})
				continue
			}
			if err := p.op(actor, ops); err != nil {
				return err
			}
		}
	}
	if len(stack) > 0 {
		f := stack[len(stack)-1]
		return &Error{File: p.file, Pos: f.pos, Msg: fmt.Sprintf("%s is never closed with end", f.kind)}
	}
	return nil
}

func (p *parser) closeBlock(f frame) error {
	switch f.kind {
	case "repeat":
		n := len(*f.ops) - f.start
		if n == 0 {
			return &Error{File: p.file, Pos: f.pos, Msg: "empty repeat"}
		}
		if len(*f.ops)+n*(f.count-1) > MaxOps {
			return &Error{File: p.file, Pos: f.pos, Msg: fmt.Sprintf("more than %d operations once loops are unrolled", MaxOps)}
		}
		// Appending from the slice itself: the body is copied count-1
		// times and not at all for repeat 1, so an operation is copied
		// once per enclosing repeat at most (MaxDepth), never once per
		// line of the file.
		for range f.count - 1 {
			*f.ops = append(*f.ops, (*f.ops)[f.start:f.start+n]...)
		}
	case "thread":
		return p.checkWaits(&p.w.Threads[len(p.w.Threads)-1])
	case "process":
		if len(p.w.Processes[len(p.w.Processes)-1].Threads) == 0 {
			return &Error{File: p.file, Pos: f.pos, Msg: "process has no thread"}
		}
	}
	return nil
}

// checkWaits refuses a wait that nothing submitted before it can answer:
// along the thread's program, loops unrolled, the submits so far must
// outnumber the waits so far. Such a wait would wait forever, and the
// check would report a deadlock of the file rather than of the design.
func (p *parser) checkWaits(t *Thread) error {
	submits, waits := 0, 0
	for _, op := range t.Ops {
		switch {
		case op.Async:
			submits++
		case op.Kind == Wait:
			if waits == submits {
				return &Error{File: p.file, Pos: op.Pos, Msg: fmt.Sprintf(
					"wait has nothing to wait for: before it, thread %s submits %s and waits %s (loops unrolled)",
					t.Name, plural(submits, "call"), times(waits))}
			}
			waits++
		}
	}
	return nil
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func (p *parser) topLevel() (*frame, error) {
	word := p.toks[0]
	pos := Pos{p.line, word.col}
	switch word.text {
	case "workload":
		if p.w.Title != "" {
			return nil, p.errAt(word.col, "second workload title")
		}
		if len(p.toks) < 2 || !p.toks[1].quoted {
			return nil, p.errAt(word.col, "want workload \"TITLE\"")
		}
		title := p.toks[1]
		col := title.col + 1
		for _, r := range title.text {
			if !unicode.IsPrint(r) {
				return nil, p.errAt(col, "the title holds %s, which is not printable", quote(string(r)))
			}
			col++
		}
		p.w.Title = title.text
		return nil, p.noMore(2)
	case "pipe", "conn", "queue":
		kind := map[string]ObjectKind{"pipe": Pipe, "conn": Conn, "queue": Queue}[word.text]
		name, err := p.declare(1, word.text)
		if err != nil {
			return nil, err
		}
		capacity := MaxCapacity
		i := 2
		for i < len(p.toks) {
			switch p.toks[i].text {
			case "capacity":
				capacity, err = p.number(i+1, "capacity", 1, MaxCapacity)
				if err != nil {
					return nil, err
				}
				i += 2
			default:
				return nil, p.errAt(p.toks[i].col, "unknown %s setting %s (want capacity)", word.text, quote(p.toks[i].text))
			}
		}
		if len(p.w.Objects) == MaxObjects {
			return nil, p.errAt(word.col, "more than %d objects", MaxObjects)
		}
		p.objects[name] = len(p.w.Objects)
		p.w.Objects = append(p.w.Objects, Object{Name: name, Kind: kind, Capacity: capacity, Pos: pos})
		return nil, nil
	case "process":
		name, err := p.declare(1, "process")
		if err != nil {
			return nil, err
		}
		proc := Process{Name: name, Cap: 2, Low: Unset, Reaper: -1, Pos: pos}
		var cqWords, sqWords []token
		for i := 2; i < len(p.toks); {
			switch p.toks[i].text {
			case "cap":
				if i+1 < len(p.toks) && p.toks[i+1].text == "unlimited" {
					proc.Cap = Unlimited
				} else if proc.Cap, err = p.number(i+1, "cap", 1, MaxCapacity); err != nil {
					return nil, err
				}
			case "low":
				if proc.Low, err = p.number(i+1, "low", 0, MaxCapacity-1); err != nil {
					return nil, err
				}
				proc.LowPos = Pos{p.line, p.toks[i+1].col}
			case "reaper":
				if i+1 >= len(p.toks) {
					return nil, p.errAt(p.toks[i].col, "reaper wants a thread name")
				}
				p.reaperRefs[len(p.w.Processes)] = ref{p.toks[i+1].text, Pos{p.line, p.toks[i+1].col}}
			case "cancels":
				v, err := p.choice(i, "cancels", "wait", "drop")
				if err != nil {
					return nil, err
				}
				proc.DropCancels = v == "drop"
			case "cq":
				if proc.CQ, err = p.number(i+1, "cq", 1, MaxCapacity); err != nil {
					return nil, err
				}
				proc.CQPos = Pos{p.line, p.toks[i].col}
			case "overflow":
				v, err := p.choice(i, "overflow", "list", "drop")
				if err != nil {
					return nil, err
				}
				if v == "drop" {
					proc.Overflow = OverflowDrop
				}
				cqWords = append(cqWords, p.toks[i])
			case "sq":
				if proc.SQ, err = p.number(i+1, "sq", 1, MaxCapacity); err != nil {
					return nil, err
				}
				proc.SQPos = Pos{p.line, p.toks[i].col}
			case "submit":
				v, err := p.choice(i, "submit", "before-park", "on-full")
				if err != nil {
					return nil, err
				}
				proc.SubmitOnFull = v == "on-full"
				sqWords = append(sqWords, p.toks[i])
			case "flush":
				v, err := p.choice(i, "flush", "getevents", "never")
				if err != nil {
					return nil, err
				}
				proc.FlushNever = v == "never"
				cqWords = append(cqWords, p.toks[i])
			default:
				return nil, p.errAt(p.toks[i].col, "unknown process setting %s (want cap, low, reaper, cancels, cq, overflow, flush, sq or submit)", quote(p.toks[i].text))
			}
			i += 2
		}
		// How the completion queue overflows is a setting of a bounded
		// one: without cq it would be quietly ignored.
		if proc.CQ == 0 && len(cqWords) > 0 {
			return nil, p.errAt(cqWords[0].col, "%s needs a completion queue bound: add cq N", cqWords[0].text)
		}
		if proc.SQ == 0 && len(sqWords) > 0 {
			return nil, p.errAt(sqWords[0].col, "submit needs a submission ring: add sq N")
		}
		// A flush returns the overflow list's replies; a queue that drops
		// them has no list, and a flush setting would mean nothing.
		if proc.Overflow == OverflowDrop {
			for _, t := range cqWords {
				if t.text == "flush" {
					return nil, p.errAt(t.col, "flush is for the overflow list, and overflow drop keeps none")
				}
			}
		}
		// A low-water mark is a level of the cap; with no cap there is
		// none, and a low would be quietly ignored.
		if proc.Cap == Unlimited && proc.Low != Unset {
			return nil, &Error{File: p.file, Pos: proc.LowPos, Msg: fmt.Sprintf("low %d needs a cap: process %s has cap unlimited", proc.Low, name)}
		}
		if proc.Cap != Unlimited && proc.Low >= proc.Cap {
			return nil, p.errAt(word.col, "low %d must be below cap %d", proc.Low, proc.Cap)
		}
		p.w.Processes = append(p.w.Processes, proc)
		return &frame{kind: "process", pos: pos}, nil
	case "peer":
		name, err := p.declare(1, "peer")
		if err != nil {
			return nil, err
		}
		if err := p.noMore(2); err != nil {
			return nil, err
		}
		if len(p.w.Peers) == MaxPeers {
			return nil, p.errAt(word.col, "more than %d peers", MaxPeers)
		}
		p.w.Peers = append(p.w.Peers, Peer{Name: name, Pos: pos})
		return &frame{kind: "peer", actor: "peer", pos: pos, ops: &p.w.Peers[len(p.w.Peers)-1].Ops}, nil
	case "thread":
		return nil, p.errAt(word.col, "a thread belongs inside a process block")
	}
	return nil, p.errAt(word.col, "unknown declaration %s (want workload, pipe, conn, queue, process or peer)", quote(word.text))
}

// threadOnly and peerOnly are the operations only a thread, or only a
// peer, may do.
var (
	threadOnly = map[OpKind]bool{Read: true, Write: true, Cancel: true, Push: true, Pop: true, Wait: true}
	peerOnly   = map[OpKind]bool{Send: true, Recv: true}
)

// op parses one operation of a thread or peer onto ops.
func (p *parser) op(actor string, ops *[]Op) error {
	i := 0
	op := Op{Object: -1, Target: -1, Pos: Pos{p.line, p.toks[0].col}}
	if p.toks[0].text == "submit" {
		if actor != "thread" {
			return p.errAt(p.toks[0].col, "only a thread submits system calls")
		}
		op.Async = true
		i = 1
		if len(p.toks) < 2 {
			return p.errAt(p.toks[0].col, "submit wants read or write")
		}
	}
	word := p.toks[i]
	kind := -1
	for k, w := range opWords {
		if w == word.text {
			kind = k
		}
	}
	if kind < 0 {
		return p.errAt(word.col, "unknown operation %s", quote(word.text))
	}
	op.Kind = OpKind(kind)
	switch {
	case actor == "peer" && threadOnly[op.Kind]:
		return p.errAt(word.col, "a peer cannot %s (a peer sends, receives and closes)", word.text)
	case actor == "thread" && peerOnly[op.Kind]:
		return p.errAt(word.col, "a thread cannot %s (a thread reads and writes)", word.text)
	case op.Async && op.Kind != Read && op.Kind != Write:
		return p.errAt(word.col, "only read and write can be submitted")
	}
	switch op.Kind {
	case Wait:
		if err := p.noMore(i + 1); err != nil {
			return err
		}
	default:
		if i+1 >= len(p.toks) {
			what := "an object"
			if op.Kind == Cancel {
				what = "a thread"
			}
			return p.errAt(word.col, "%s wants %s", word.text, what)
		}
		arg := p.toks[i+1]
		if err := p.noMore(i + 2); err != nil {
			return err
		}
		if op.Kind == Cancel {
			op.target = ref{arg.text, Pos{p.line, arg.col}}
			break
		}
		o, ok := p.objects[arg.text]
		if !ok {
			return p.errAt(arg.col, "%s of undeclared object %s (declare objects before the processes)", word.text, quote(arg.text))
		}
		kind := p.w.Objects[o].Kind
		if (op.Kind == Push || op.Kind == Pop) != (kind == Queue) {
			if kind == Queue {
				return p.errAt(arg.col, "%s is a queue: threads push and pop it", quote(arg.text))
			}
			return p.errAt(arg.col, "%s is a %s: push and pop are for queues", quote(arg.text), kind)
		}
		op.Object = o
	}
	*ops = append(*ops, op)
	return p.checkLength(ops)
}

func (p *parser) checkLength(ops *[]Op) error {
	if len(*ops) > MaxOps {
		return p.errAt(p.toks[0].col, "more than %d operations", MaxOps)
	}
	return nil
}

// declare reads a new, unique name at token i.
func (p *parser) declare(i int, what string) (string, error) {
	if i >= len(p.toks) {
		return "", p.errAt(p.toks[0].col, "%s wants a name", what)
	}
	t := p.toks[i]
	if !validName(t.text) || t.quoted {
		return "", p.errAt(t.col, "bad %s name %s (letters, digits, _ and -, starting with a letter)", what, quote(t.text))
	}
	if keywords[t.text] {
		return "", p.errAt(t.col, "%s is a keyword, not a name", quote(t.text))
	}
	if prev, ok := p.names[t.text]; ok {
		return "", p.errAt(t.col, "%s is already declared at line %d", quote(t.text), prev.Line)
	}
	p.names[t.text] = Pos{p.line, t.col}
	return t.text, nil
}

var keywords = map[string]bool{"workload": true, "pipe": true, "conn": true, "queue": true, "process": true,
	"thread": true, "peer": true, "end": true, "repeat": true, "submit": true, "cap": true, "low": true,
	"reaper": true, "capacity": true, "unlimited": true, "reserve": true, "for": true, "cancels": true,
	"cq": true, "overflow": true, "flush": true, "sq": true}

func validName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		ok := r < 128 && (unicode.IsLetter(r) || i > 0 && (unicode.IsDigit(r) || r == '_' || r == '-'))
		if !ok {
			return false
		}
	}
	return true
}

func (p *parser) number(i int, what string, lo, hi int) (int, error) {
	if i >= len(p.toks) {
		return 0, p.errAt(p.toks[i-1].col, "%s wants a number", what)
	}
	t := p.toks[i]
	n, err := strconv.Atoi(t.text)
	if err != nil || t.quoted {
		return 0, p.errAt(t.col, "%s: %s is not a number", what, quote(t.text))
	}
	if n < lo || n > hi {
		return 0, p.errAt(t.col, "%s %d is out of range %d..%d", what, n, lo, hi)
	}
	return n, nil
}

// choice reads the word after the setting at i, one of words.
func (p *parser) choice(i int, what string, words ...string) (string, error) {
	want := strings.Join(words, " or ")
	if i+1 >= len(p.toks) {
		return "", p.errAt(p.toks[i].col, "%s wants %s", what, want)
	}
	t := p.toks[i+1]
	if t.quoted || !slices.Contains(words, t.text) {
		return "", p.errAt(t.col, "%s %s: want %s", what, quote(t.text), want)
	}
	return t.text, nil
}

// reserve reads "reserve K for NAME..." in a process block. The names are
// threads of the process or kernel objects, resolved with the rest of the
// file's names.
func (p *parser) reserve() error {
	pi := len(p.w.Processes) - 1
	proc := &p.w.Processes[pi]
	word := p.toks[0]
	if proc.Reserve != 0 {
		return p.errAt(word.col, "a second reserve for process %s: one reserve names every reserved thread and object", quote(proc.Name))
	}
	k, err := p.number(1, "reserve", 1, MaxCapacity-1)
	if err != nil {
		return err
	}
	if len(p.toks) < 3 || p.toks[2].text != "for" || p.toks[2].quoted {
		col := word.col
		if len(p.toks) >= 3 {
			col = p.toks[2].col
		}
		return p.errAt(col, "reserve %d wants \"for\" and the threads or objects whose calls it is kept for", k)
	}
	if len(p.toks) == 3 {
		return p.errAt(p.toks[2].col, "reserve %d for nothing: name the threads or objects whose calls it is kept for", k)
	}
	switch {
	case proc.Cap == Unlimited:
		return p.errAt(word.col, "reserve %d needs a cap: process %s has cap unlimited, so there is nothing to reserve", k, quote(proc.Name))
	case k >= proc.Cap:
		return p.errAt(p.toks[1].col, "reserve %d must be below cap %d: the other calls need a slot", k, proc.Cap)
	case proc.Low != Unset && proc.Low >= proc.Cap-k:
		return p.errAt(p.toks[1].col, "reserve %d leaves %s of cap %d, and low %d (line %d) must be below that", k, plural(proc.Cap-k, "ordinary slot"), proc.Cap, proc.Low, proc.LowPos.Line)
	}
	proc.Reserve, proc.ReservePos = k, Pos{p.line, word.col}
	for _, t := range p.toks[3:] {
		p.reserveRefs[pi] = append(p.reserveRefs[pi], ref{t.text, Pos{p.line, t.col}})
	}
	return nil
}

func (p *parser) noMore(i int) error {
	if i < len(p.toks) {
		return p.errAt(p.toks[i].col, "unexpected %s", quote(p.toks[i].text))
	}
	return nil
}

// resolveReserve binds the names of process i's reserve: each a thread of
// the process or a kernel object (a pipe or a conn), named once.
func (p *parser) resolveReserve(i int) error {
	pr := &p.w.Processes[i]
	seen := map[string]bool{}
	for _, r := range p.reserveRefs[i] {
		fail := func(format string, args ...any) error {
			return &Error{File: p.file, Pos: r.pos, Msg: fmt.Sprintf(format, args...)}
		}
		if seen[r.name] {
			return fail("reserve names %s twice", quote(r.name))
		}
		seen[r.name] = true
		if t, ok := p.threads[r.name]; ok {
			if p.w.Threads[t].Process != i {
				return fail("reserve for %s, a thread of process %s: a reserve is kept for a process's own threads",
					quote(r.name), quote(p.w.Processes[p.w.Threads[t].Process].Name))
			}
			pr.ReserveThreads = append(pr.ReserveThreads, t)
			continue
		}
		if o, ok := p.objects[r.name]; ok {
			if p.w.Objects[o].Kind == Queue {
				return fail("reserve for queue %s: push and pop are not system calls and take no slot", quote(r.name))
			}
			pr.ReserveObjects = append(pr.ReserveObjects, o)
			continue
		}
		return fail("reserve for %s, which is neither a thread nor a pipe or conn", quote(r.name))
	}
	return nil
}

// resolve binds the names used in operations, after the whole file is read
// so that a thread may name a thread declared below it.
func (p *parser) resolve() error {
	fail := func(r ref, format string, args ...any) error {
		return &Error{File: p.file, Pos: r.pos, Msg: fmt.Sprintf(format, args...)}
	}
	for ti := range p.w.Threads {
		for i := range p.w.Threads[ti].Ops {
			op := &p.w.Threads[ti].Ops[i]
			if op.Kind != Cancel {
				continue
			}
			t, ok := p.threads[op.target.name]
			if !ok {
				return fail(op.target, "cancel of undeclared thread %s", quote(op.target.name))
			}
			if t == ti {
				return fail(op.target, "a thread cannot cancel its own message: it is waiting for it")
			}
			// A cancel is a message to the process's own kernel port: the
			// implementation has no way to reach another process's
			// threads, so neither may the model.
			if tp := p.w.Threads[t].Process; tp != p.w.Threads[ti].Process {
				return fail(op.target, "cancel of %s, a thread of process %s: a thread cancels only threads of its own process",
					quote(op.target.name), quote(p.w.Processes[tp].Name))
			}
			// A cancel reaches only what the kernel holds; a call still
			// staged in the process's ring is not modelled as a target.
			if pr := p.w.Processes[p.w.Threads[ti].Process]; pr.SQ > 0 {
				return fail(op.target, "cancel in process %s, which has a submission ring (sq %d): the cancel of a staged call is not modelled", quote(pr.Name), pr.SQ)
			}
			op.Target, op.target = t, ref{}
		}
	}
	// A user-level queue lives in one process's memory: its scheduler
	// wakes the threads waiting on it, and has no way to reach another
	// process's threads, so neither may the model.
	owner := map[int]int{} // queue object -> the thread that used it first
	for ti, th := range p.w.Threads {
		for _, op := range th.Ops {
			if op.Kind != Push && op.Kind != Pop {
				continue
			}
			first, seen := owner[op.Object]
			if !seen {
				owner[op.Object] = ti
				continue
			}
			if fp := p.w.Threads[first].Process; fp != th.Process {
				return &Error{File: p.file, Pos: op.Pos, Msg: fmt.Sprintf("queue %s is a user-level queue of process %s (thread %s uses it): a thread of process %s cannot use it",
					quote(p.w.Objects[op.Object].Name), quote(p.w.Processes[fp].Name), quote(p.w.Threads[first].Name), quote(p.w.Processes[th.Process].Name))}
			}
		}
	}
	for i := range p.w.Processes {
		if err := p.resolveReserve(i); err != nil {
			return err
		}
	}
	for i := range p.w.Processes {
		r, ok := p.reaperRefs[i]
		if !ok {
			continue
		}
		t, ok := p.threads[r.name]
		if !ok || p.w.Threads[t].Process != i {
			return fail(r, "reaper %s is not a thread of process %s", quote(r.name), quote(p.w.Processes[i].Name))
		}
		if len(p.w.Processes[i].Threads) != 1 {
			return fail(r, "a process with a reaper thread has that one thread only (an event loop)")
		}
		p.w.Processes[i].Reaper = t
	}
	if len(p.w.Threads) == 0 {
		return &Error{File: p.file, Pos: Pos{1, 1}, Msg: "no process with a thread"}
	}
	return nil
}
