package capture

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/google/gopacket/reassembly"

	"github.com/sysmsg/sysmsg/model/workload"
)

// ErrCapture is wrapped by every [*Error]: a capture that cannot be read.
var ErrCapture = errors.New("capture: bad capture")

// Error is a capture that cannot be read: what is wrong, and where.
type Error struct {
	File string
	// Packet is the number, from 1, of the packet whose record is bad;
	// 0 when the error is not one packet's.
	Packet int
	// Offset is where the bad record starts, in bytes from the start of
	// the file (of its uncompressed bytes, for a gzipped one).
	Offset int64
	Msg    string

	truncated bool // the file ends inside a record: what comes before it is good
}

func (e *Error) Error() string {
	where := e.File + ": "
	switch {
	case e.Packet > 0:
		where += "packet " + strconv.Itoa(e.Packet) + " (byte " + strconv.FormatInt(e.Offset, 10) + "): "
	case e.Offset > 0:
		where += "byte " + strconv.FormatInt(e.Offset, 10) + ": "
	}
	return where + e.Msg
}

func (e *Error) Unwrap() error { return ErrCapture }

// The bounds on what a workload made from a capture can hold: a
// connection takes two threads, and a request two operations of its
// reader and of its client.
const (
	MaxConns    = workload.MaxThreads / 2
	MaxRequests = workload.MaxOps / 2
)

// The defaults of [Options].
const (
	DefaultPort = 80
	// DefaultMaxConns and DefaultMaxRequests keep the workload small
	// enough that sysmsg check exhausts it in about a second whatever
	// the pipelining: 2 connections of 4 requests take 7,000 states
	// (poll, cap 2) when each client waits for every response and
	// 187,000 when both send all 4 at once, where 3 connections of 3
	// take 130,000 and 4.5 million (docs/capture.md has the figures).
	// Two connections are enough for the seed's deadlock at cap 2, and
	// four requests show a client's pipelining depth.
	DefaultMaxConns        = 2
	DefaultMaxRequests     = 4
	DefaultMaxRequestBytes = 1 << 20
)

// Options say which connections of a capture to read and how much of
// them to keep. Zero fields take the defaults.
type Options struct {
	// Port is the server's TCP port: the connections read are those to
	// it (default 80).
	Port int
	// MaxConns bounds the connections kept (default DefaultMaxConns):
	// the first connections to the port that carry a request, in the
	// order of their first packet.
	MaxConns int
	// MaxRequests bounds the requests kept of each connection (default
	// DefaultMaxRequests), with their responses; the rest are counted.
	MaxRequests int
	// MaxRequestBytes bounds one request, headers and body (default
	// 1 MiB): a larger request ends what is kept of its connection.
	MaxRequestBytes int
	// Progress, when not nil, is called every 65536 packets with the
	// count read so far.
	Progress func(packets int)

	_ struct{}
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Port, DefaultPort)
	def(&o.MaxConns, DefaultMaxConns)
	def(&o.MaxRequests, DefaultMaxRequests)
	def(&o.MaxRequestBytes, DefaultMaxRequestBytes)
	return o
}

// ReadFile reads the capture in the file at path: classic pcap or
// pcapng, either of them gzipped. See [Read].
func ReadFile(ctx context.Context, path string, opt Options) (*Capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(ctx, f, path, opt)
}

// Read reads a capture, classic pcap or pcapng (either gzipped), from r;
// name is the file's name for errors and for the Capture. It reassembles
// each TCP connection to opt.Port, parses the HTTP/1.1 messages of both
// directions, and keeps, per connection, its requests and the order in
// which requests and responses passed.
//
// A capture that cannot be read (not a capture, an unknown link type, a
// corrupt record) is an [*Error] naming the packet and the byte, and no
// Capture. A problem that leaves the rest readable is a Warning naming
// the packet: a file that ends inside a packet (what comes before it is
// used), a segment out of order, retransmitted or overlapping, a
// connection with no SYN (left out), bytes never captured, a message
// that is not HTTP/1.1, a request larger than opt.MaxRequestBytes, a
// connection reset in the middle of a message. Memory stays bounded
// whatever the file holds: records are checked before they are read, the
// reassembly is flushed as the capture's clock advances, and only the
// connections kept are parsed. When ctx is done, Read returns its error.
func Read(ctx context.Context, r io.Reader, name string, opt Options) (*Capture, error) {
	opt = opt.withDefaults()
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// gzip: pcapgo would unzip it itself, beneath the guard;
		// unzipped here, the guard sees the capture's own bytes.
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &Error{File: name, Msg: "gzip: " + err.Error()}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		magic, err = br.Peek(4)
		if err != nil && len(magic) < 4 {
			return nil, tooShort(name, "gzipped ", magic, err)
		}
	} else if err != nil && len(magic) < 4 {
		return nil, tooShort(name, "", magic, err)
	}
	rd := newReader(ctx, name, opt)
	if binary.LittleEndian.Uint32(magic) == blockSection {
		err = rd.readNg(br)
	} else {
		err = rd.readPcap(br)
	}
	if err != nil {
		return nil, err
	}
	return rd.finish(), nil
}

// tooShort is the error of a file that ends before its format can be
// told: magic holds what there is of it.
func tooShort(name, what string, magic []byte, err error) error {
	switch {
	case err != io.EOF:
		return &Error{File: name, Msg: err.Error()}
	case len(magic) == 0:
		return &Error{File: name, Msg: "empty " + what + "file"}
	}
	return &Error{File: name, Msg: fmt.Sprintf("not a pcap or pcapng file: %s%s", what, plural(len(magic), "byte"))}
}

// packetSource is gopacket's reader of either format.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

func (rd *reader) readPcap(br *bufio.Reader) error {
	g := newGuard(br, rd.c.File, formatPcap)
	pr, err := pcapgo.NewReader(g)
	if err != nil {
		return rd.openError(g, err)
	}
	// The guard checks each record's captured length against the most
	// any capture holds; the file's own snap length is not to be trusted
	// either way (writers exceed it), as tcpdump does not trust it.
	pr.SetSnaplen(maxPacket)
	return rd.loop(g, pr)
}

func (rd *reader) readNg(br *bufio.Reader) error {
	g := newGuard(br, rd.c.File, formatNg)
	// Mixed link types: every packet block comes back, so that packets
	// are numbered as the guard numbers them; the guard says each one's
	// link type.
	nr, err := pcapgo.NewNgReader(g, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return rd.openError(g, err)
	}
	return rd.loop(g, nr)
}

// openError is the error of a file whose header could not be read.
func (rd *reader) openError(g *guard, err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.truncated = false
		return e
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &Error{File: rd.c.File, Msg: "the file ends inside its header"}
	}
	return &Error{File: rd.c.File, Msg: err.Error()}
}

// loop reads every packet.
func (rd *reader) loop(g *guard, src packetSource) error {
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				if e.truncated {
					rd.warn(kindTruncated, e.Packet, "%s", e.Msg)
					return nil
				}
				return e
			}
			return &Error{File: rd.c.File, Packet: g.packets, Msg: err.Error()}
		}
		if len(data) != g.caplen || g.packets != rd.c.Packets+1 {
			// The guard and the reader read the file alike, or the
			// guard checked the wrong records.
			return &Error{File: rd.c.File, Packet: rd.c.Packets + 1, Msg: "gopacket's reader out of step with the guard (a bug)"}
		}
		rd.c.Packets++
		rd.packet(g.link, data, ci)
		if rd.c.Packets%65536 == 0 {
			if rd.opt.Progress != nil {
				rd.opt.Progress(rd.c.Packets)
			}
		}
		if rd.c.Packets%256 == 0 {
			if err := rd.ctx.Err(); err != nil {
				return err
			}
			rd.maintain()
		}
	}
}

// Reassembly and connections.

// Time the reassembly waits, in capture time, for the bytes of a gap
// before it gives up on them; and that a connection may be idle before
// its reassembly state is dropped.
const (
	gapWait  = 10 * time.Second
	idleDrop = 2 * time.Minute
)

// Warning kinds: each kind keeps at most maxWarnings warnings, and the
// rest are counted.
type warnKind uint8

const (
	kindTruncated warnKind = iota
	kindOutOfOrder
	kindRetransmitted
	kindNoSYN
	kindGap
	kindCut
	kindNotHTTP
	kindTooLarge
	kindIncomplete
	kindUnanswered
	kindNoRequest
	kindLink
	kindFragment
	kindBug
	nKinds
)

var kindWords = [nKinds]string{"the file cut short", "segments out of order", "segments retransmitted or overlapping",
	"connections with no SYN", "bytes never captured", "packets cut short by the snap length", "messages that are not HTTP/1.1",
	"requests larger than the limit", "messages cut short", "responses with no request", "connections with no request",
	"unknown link types", "IP fragments", "failures"}

const maxWarnings = 10

// tuple is a connection's two ends.
type tuple struct{ client, server netip.AddrPort }

// conn is a connection being read.
type conn struct {
	id  uint64
	key tuple
	out Conn
	// tracked: its packets go to the reassembly; otherwise it is left
	// out (no SYN, or beyond MaxConns) and its packets are dropped.
	tracked bool
	// finished: nothing more of it is read (both sides closed, reset,
	// or cut short by a problem).
	finished bool
	lastSeen time.Time
	isn      uint32 // the client's initial sequence number

	req, resp *httpParser
	// heads holds, for each request whose response has not come, whether
	// it was a HEAD.
	heads []bool
	// Requests and responses parsed, kept ones and the rest.
	nReq, nResp  int
	kept, beyond int
	closed       [2]bool // the client's side, the server's side ended
	rst          bool    // a reset was seen
	synAck       bool    // the server's side has started
}

// reader is one Read.
type reader struct {
	ctx   context.Context
	opt   Options
	c     *Capture
	dec   decoder
	asm   *reassembly.Assembler
	conns map[tuple]*conn
	byID  map[uint64]*conn
	// order holds the tracked connections in the order of their first
	// packet; slots counts those that take a place under MaxConns.
	order  []*conn
	slots  int
	nextID uint64
	// clock is the latest capture time seen; lastFlush when the
	// reassembly was last flushed.
	clock, lastFlush time.Time
	warned           [nKinds]int
	cutConns         int
	links            map[int]bool // unknown link types warned of
}

func newReader(ctx context.Context, name string, opt Options) *reader {
	return &reader{ctx: ctx, opt: opt, c: &Capture{File: name},
		conns: map[tuple]*conn{}, byID: map[uint64]*conn{}, links: map[int]bool{}}
}

// assembler returns the reassembly, made at the first connection kept
// (its page cache starts at 2 MB).
func (rd *reader) assembler() *reassembly.Assembler {
	if rd.asm == nil {
		rd.asm = reassembly.NewAssembler(reassembly.NewStreamPool(factory{rd}))
		// The page caches hold out-of-order data; bounded, a connection
		// that would need more gives up waiting and reports a gap.
		rd.asm.MaxBufferedPagesPerConnection = 1024
		rd.asm.MaxBufferedPagesTotal = 4096
	}
	return rd.asm
}

func (rd *reader) warn(kind warnKind, packet int, format string, args ...any) {
	rd.warned[kind]++
	if rd.warned[kind] <= maxWarnings {
		rd.c.Warnings = append(rd.c.Warnings, Warning{Packet: packet, Msg: fmt.Sprintf(format, args...)})
	}
}

// packetContext is what the reassembly carries of a packet.
type packetContext struct {
	ci     gopacket.CaptureInfo
	packet int
}

func (c *packetContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// packetOf is the number of the packet of an assembler context, or 0.
func packetOf(ac reassembly.AssemblerContext) (int, time.Time) {
	if c, ok := ac.(*packetContext); ok && c != nil {
		return c.packet, c.ci.Timestamp
	}
	return 0, time.Time{}
}

// packet handles one packet.
func (rd *reader) packet(link int, data []byte, ci gopacket.CaptureInfo) {
	n := rd.c.Packets
	if !linkKnown(link) {
		rd.c.Skipped++
		if !rd.links[link] && len(rd.links) < 64 {
			rd.links[link] = true
			rd.warn(kindLink, n, "link type %d is not one sysmsg reads: packets of that link type are skipped", link)
		}
		return
	}
	d := &rd.dec
	ok := rd.decode(link, data)
	if !ok {
		rd.c.Skipped++
		return
	}
	port := layers.TCPPort(rd.opt.Port)
	tcp := &d.tcp
	var key tuple
	switch {
	case tcp.DstPort == port:
		key = tuple{netip.AddrPortFrom(d.src, uint16(tcp.SrcPort)), netip.AddrPortFrom(d.dst, uint16(tcp.DstPort))}
	case tcp.SrcPort == port:
		key = tuple{netip.AddrPortFrom(d.dst, uint16(tcp.DstPort)), netip.AddrPortFrom(d.src, uint16(tcp.SrcPort))}
	default:
		rd.c.Skipped++
		return
	}
	fromClient := tcp.DstPort == port
	if ts := ci.Timestamp; ts.After(rd.clock) {
		rd.clock = ts
	}
	c := rd.conns[key]
	switch {
	case tcp.SYN && !tcp.ACK && fromClient && (c == nil || c.isn != tcp.Seq):
		// A new connection, or a new one on the same ports: the old
		// one ended unseen.
		if c != nil && c.tracked {
			rd.end(c)
		}
		c = rd.open(key, n, tcp.Seq)
	case c == nil:
		c = &conn{key: key}
		rd.conns[key] = c
		rd.c.Seen++
		if rd.slots < rd.opt.MaxConns {
			rd.warn(kindNoSYN, n, "connection %s has no SYN (the capture began after it opened): left out", key)
		} else {
			// It would not have been kept anyway.
			rd.cutConns++
		}
	}
	c.lastSeen = rd.clock
	if !c.tracked || c.finished {
		return
	}
	if d.cut && len(tcp.Payload) > 0 {
		rd.stop(c, kindCut, n, "only %d of the packet's %d bytes were captured (the snap length): the connection is cut here", ci.CaptureLength, ci.Length)
		return
	}
	if rd.clock.After(ci.Timestamp) {
		// The reassembly times its pages by the capture's clock,
		// which must not go back.
		ci.Timestamp = rd.clock
	}
	rd.safely(n, func() {
		rd.assembler().AssembleWithContext(connFlow(c.id, fromClient), tcp, &packetContext{ci: ci, packet: n})
	})
}

// safely runs f, a call into the reassembly (which calls back into the
// streams' parsing). gopacket's reassembly was not written for hostile
// input; should it, or the parsing, panic on some packet, the reading
// does not crash: the reassembly, whose state is then unknown, is
// dropped, with the connections it held, and a warning says so. The
// fuzzer (FuzzRead) fails on that warning.
func (rd *reader) safely(n int, f func()) {
	defer func() {
		if r := recover(); r != nil {
			rd.warn(kindBug, n, "the reassembly failed (a bug: %v): the connections it held are cut here", r)
			rd.asm = nil
			for _, c := range rd.order {
				rd.end(c)
			}
		}
	}()
	f()
}

// decode decodes a packet; a panic in gopacket's layers on a malformed
// packet skips the packet rather than ending the reading.
func (rd *reader) decode(link int, data []byte) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			rd.warn(kindBug, rd.c.Packets, "the packet could not be decoded (a bug: %v): skipped", r)
			ok = false
		}
	}()
	ok, _ = rd.dec.decode(link, data)
	if !ok && rd.dec.fragment {
		rd.warn(kindFragment, rd.c.Packets, "IP fragment: fragments are not reassembled, and the packet is skipped")
	}
	return ok
}

// connFlow is the network flow under which a connection's packets go to
// the reassembly: not its addresses but its id, so that a new connection
// on the same ports is a new stream to the reassembly, and so that the
// stream finds its conn. The reassembly needs only that a flow and its
// reverse name the two directions.
func connFlow(id uint64, fromClient bool) gopacket.Flow {
	var a, b [16]byte
	binary.BigEndian.PutUint64(a[:], id)
	binary.BigEndian.PutUint64(b[:], id)
	a[15], b[15] = 'c', 's'
	if fromClient {
		return gopacket.NewFlow(layers.EndpointIPv6, a[:], b[:])
	}
	return gopacket.NewFlow(layers.EndpointIPv6, b[:], a[:])
}

// open starts a connection at its client's SYN, packet n.
func (rd *reader) open(key tuple, n int, isn uint32) *conn {
	rd.c.Seen++
	c := &conn{key: key, isn: isn}
	rd.conns[key] = c
	if rd.slots >= rd.opt.MaxConns {
		rd.cutConns++
		return c
	}
	rd.nextID++
	c.id, c.tracked = rd.nextID, true
	c.out = Conn{Client: key.client, Server: key.server, First: n}
	c.req = newParser(false, int64(rd.opt.MaxRequestBytes), true)
	c.resp = newParser(true, 0, false)
	c.resp.headRequest = func() bool { return len(c.heads) > 0 && c.heads[0] }
	rd.byID[c.id] = c
	rd.order = append(rd.order, c)
	rd.slots++
	return c
}

// stop ends what is read of c at packet n, with a warning.
func (rd *reader) stop(c *conn, kind warnKind, n int, format string, args ...any) {
	rd.warn(kind, n, "connection %s: %s", c.key, fmt.Sprintf(format, args...))
	rd.end(c)
}

// end finishes c: nothing more of it is read. A connection with no
// request gives its place under MaxConns to a later one.
func (rd *reader) end(c *conn) {
	if c.finished {
		return
	}
	c.finished = true
	c.req, c.resp, c.heads = nil, nil, nil
	delete(rd.byID, c.id)
	if c.nReq == 0 {
		rd.slots--
	}
}

func (t tuple) String() string { return t.client.String() + " -> " + t.server.String() }

// maintain flushes the reassembly as the capture's clock advances, and
// forgets connections long idle: on a long capture, memory holds only
// what recent packets need.
func (rd *reader) maintain() {
	if rd.clock.Sub(rd.lastFlush) < time.Second {
		return
	}
	rd.lastFlush = rd.clock
	// Bytes waited for longer than gapWait are given up (the stream
	// reports a gap); connections idle longer than idleDrop are closed in
	// the reassembly (a kept one starts again if it has more).
	if rd.asm != nil {
		rd.safely(rd.c.Packets, func() {
			rd.asm.FlushWithOptions(reassembly.FlushOptions{T: rd.clock.Add(-gapWait), TC: rd.clock.Add(-idleDrop)})
		})
	}
	for k, c := range rd.conns {
		if (!c.tracked || c.finished) && rd.clock.Sub(c.lastSeen) > idleDrop {
			delete(rd.conns, k)
		}
	}
}

// factory makes the reassembly's streams: each is a kept connection.
type factory struct{ rd *reader }

func (f factory) New(netFlow, _ gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	src := netFlow.Src().Raw()
	return &stream{rd: f.rd, id: binary.BigEndian.Uint64(src), serverFirst: src[15] == 's'}
}

// stream is the reassembly's view of a connection. The reassembly takes
// the side of a stream's first packet for the client: the client's SYN,
// unless the reassembly dropped the connection while it was idle and a
// packet of the server's came first after.
type stream struct {
	rd          *reader
	id          uint64
	serverFirst bool
}

// fromClient reports whether the reassembly's direction dir is the
// client's.
func (s *stream) fromClient(dir reassembly.TCPFlowDirection) bool {
	return (dir == reassembly.TCPDirClientToServer) != s.serverFirst
}

func (s *stream) conn() *conn { return s.rd.byID[s.id] }

func (s *stream) Accept(tcp *layers.TCP, _ gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	c := s.conn()
	if c == nil {
		return false
	}
	n, _ := packetOf(ac)
	if tcp.RST {
		c.rst = true
	}
	client := s.fromClient(dir)
	if nextSeq == -1 && !*start {
		// This side has not started: its SYN (the server's SYN-ACK) was
		// not captured, or the reassembly dropped the connection while
		// it was idle. Take its stream from here.
		if !client && !c.synAck && len(tcp.Payload) > 0 {
			s.rd.warn(kindNoSYN, n, "connection %s: no SYN-ACK captured: the server's stream is taken from here", c.key)
		}
		*start = true
	}
	if !client {
		c.synAck = true
	}
	if nextSeq != -1 && len(tcp.Payload) > 0 {
		switch d := nextSeq.Difference(reassembly.Sequence(tcp.Seq)); {
		case d > 0:
			s.rd.warn(kindOutOfOrder, n, "connection %s: segment out of order, %d bytes ahead of the %s's stream: held until the bytes before it come", c.key, d, side(client))
		case -d >= len(tcp.Payload):
			s.rd.warn(kindRetransmitted, n, "connection %s: segment retransmitted (%d bytes of the %s's stream already seen): ignored", c.key, len(tcp.Payload), side(client))
		case d < 0:
			s.rd.warn(kindRetransmitted, n, "connection %s: segment overlaps %d bytes of the %s's stream already seen: only its %d new bytes are used", c.key, -d, side(client), len(tcp.Payload)+d)
		}
	}
	return true
}

func side(client bool) string {
	if client {
		return "client"
	}
	return "server"
}

func (s *stream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	c := s.conn()
	if c == nil || c.finished {
		return
	}
	rd := s.rd
	dir, _, end, skip := sg.Info()
	fromClient := s.fromClient(dir)
	n, ts := packetOf(ac)
	avail, _ := sg.Lengths()
	if skip > 0 || skip < 0 && avail > 0 {
		what := strconv.Itoa(skip) + " bytes"
		if skip < 0 {
			what = "the start"
		}
		rd.stop(c, kindGap, n, "%s of the %s's stream never captured: the connection is cut here", what, side(fromClient))
		return
	}
	if avail > 0 {
		data := sg.Fetch(avail)
		p := c.resp
		if fromClient {
			p = c.req
		}
		err := p.feed(data, func(m message) error { return rd.message(c, fromClient, m, n, ts) })
		if err != nil {
			if c.finished {
				return
			}
			kind, what := kindNotHTTP, "response"
			if fromClient {
				what = "request"
			}
			if errors.Is(err, errTooLarge) {
				kind = kindTooLarge
			}
			rd.stop(c, kind, n, "%s %d: %v: the connection is cut here", what, c.count(fromClient)+1, err)
			return
		}
	}
	if end {
		rd.closeSide(c, fromClient, n, ts)
	}
}

func (s *stream) ReassemblyComplete(reassembly.AssemblerContext) bool {
	// Both sides are closed in the reassembly: by their FIN or reset,
	// which closeSide has seen, or by a flush of an idle connection,
	// which ends nothing.
	return true
}

// count is how many requests (or responses) of c have been parsed.
func (c *conn) count(request bool) int {
	if request {
		return c.nReq
	}
	return c.nResp
}

// message records a message of c completed by packet n.
func (rd *reader) message(c *conn, request bool, m message, n int, ts time.Time) error {
	if request {
		c.nReq++
		if len(c.heads) >= 1<<16 {
			return fmt.Errorf("more than %d requests outstanding", 1<<16)
		}
		c.heads = append(c.heads, m.head)
		if c.kept < rd.opt.MaxRequests {
			c.kept++
			c.out.Events = append(c.out.Events, Event{Kind: Request, Packet: n, Time: ts, Size: int(m.size)})
			c.out.Requests = append(c.out.Requests, m.bytes)
			if c.kept == rd.opt.MaxRequests {
				// The rest of the connection's requests are only
				// counted: their bytes are not kept, nor is their
				// size bounded.
				c.req.keep, c.req.limit = false, math.MaxInt64
			}
		} else {
			c.beyond++
		}
		if m.connect {
			rd.stop(c, kindNotHTTP, n, "request %d is a CONNECT: the connection becomes a tunnel, and the rest of it is left out", c.nReq)
			return errStopped
		}
		return nil
	}
	if len(c.heads) == 0 {
		rd.warn(kindUnanswered, n, "connection %s: a response with no request outstanding: left out", c.key)
		return nil
	}
	c.heads = c.heads[1:]
	c.nResp++
	if c.nResp <= c.kept {
		c.out.Events = append(c.out.Events, Event{Kind: Response, Packet: n, Time: ts, Size: int(m.size)})
	}
	if m.status == 101 {
		rd.stop(c, kindNotHTTP, n, "response %d switches protocols: the rest of the connection is left out", c.nResp)
		return errStopped
	}
	return nil
}

// errStopped ends a feed whose connection was stopped by its message.
var errStopped = errors.New("stopped")

// closeSide handles the end (FIN or reset) of one side of c, at packet n.
func (rd *reader) closeSide(c *conn, client bool, n int, ts time.Time) {
	how := "closed the connection"
	if c.rst {
		how = "reset the connection"
	}
	if client {
		c.closed[0] = true
		if c.req.busy() && c.kept < rd.opt.MaxRequests {
			rd.warn(kindIncomplete, n, "connection %s: the client %s in the middle of request %d: the request is left out", c.key, how, c.nReq+1)
		}
	} else {
		c.closed[1] = true
		if !c.rst {
			if m, ok := c.resp.closeMessage(); ok {
				if err := rd.message(c, false, m, n, ts); err != nil {
					return
				}
			}
		}
		if c.resp != nil && c.resp.busy() && c.nResp < c.kept {
			rd.warn(kindIncomplete, n, "connection %s: the server %s in the middle of response %d: the response is left out", c.key, how, c.nResp+1)
		}
	}
	if c.rst || c.closed[0] && c.closed[1] {
		rd.end(c)
	}
}

// finish ends the reading: what the reassembly still holds is flushed,
// messages cut short by the end of the capture are reported, and the
// connections with a request are the Capture's.
func (rd *reader) finish() *Capture {
	if rd.asm != nil {
		rd.safely(0, func() { rd.asm.FlushAll() })
	}
	for _, c := range rd.order {
		if c.finished {
			continue
		}
		if c.req.busy() && c.kept < rd.opt.MaxRequests {
			rd.warn(kindIncomplete, 0, "connection %s: the capture ends in the middle of request %d: the request is left out", c.key, c.nReq+1)
		}
		if c.resp.busy() && c.nResp < c.kept {
			rd.warn(kindIncomplete, 0, "connection %s: the capture ends in the middle of response %d: the response is left out", c.key, c.nResp+1)
		}
		rd.end(c)
	}
	out := rd.c
	if rd.cutConns > 0 {
		out.Cut = append(out.Cut, fmt.Sprintf("%s beyond --max-conns %d", plural(rd.cutConns, "connection"), rd.opt.MaxConns))
	}
	for _, c := range rd.order {
		if c.nReq == 0 {
			rd.warn(kindNoRequest, c.out.First, "connection %s carried no request: left out", c.key)
			continue
		}
		i := len(out.Conns)
		out.Conns = append(out.Conns, c.out)
		if c.beyond > 0 {
			out.Cut = append(out.Cut, fmt.Sprintf("connection c%d (%s): %s beyond --max-requests %d", i, c.key.client, plural(c.beyond, "request"), rd.opt.MaxRequests))
		}
		if missing := c.kept - min(c.nResp, c.kept); missing > 0 {
			rd.warn(kindUnanswered, 0, "connection c%d (%s): %s with no response captured: its client receives %s at its end", i, c.key.client, plural(missing, "request"), plural(missing, "response"))
		}
	}
	for k, n := range rd.warned {
		if n > maxWarnings {
			out.Warnings = append(out.Warnings, Warning{Msg: fmt.Sprintf("%d more warnings of %s", n-maxWarnings, kindWords[k])})
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
