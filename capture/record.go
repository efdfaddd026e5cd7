package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// The shape of a recording's packets. The segment size is Ethernet's
// (1500 bytes less the IPv4 and TCP headers), not the loopback's 65483:
// every frame then fits the snapshot length that tools take by default,
// a reader that assumes Ethernet-sized frames reads it, and the cost is
// 54 bytes of headers per 1460 of data. The window is the largest
// without the window-scale option, and the receiver acknowledges before
// the sender could fill it.
const (
	recordMSS     = 1460
	recordSnaplen = 65535
	recordWindow  = 65535
)

// ErrRecordFull is wrapped by the error a [Recorder] stops with when its
// file reached [RecordOptions.MaxBytes].
var ErrRecordFull = errors.New("capture: recording bound reached")

// RecordOptions configures a [Recorder].
type RecordOptions struct {
	// MaxBytes bounds the file's size; 0 is no bound. When the next
	// packet would pass it, the recorder stops: the file keeps every
	// packet before that one, whole, and stays a valid pcapng file.
	MaxBytes int64
	// Stopped, when set, is called once if recording stops before
	// [Recorder.Close]: with an error wrapping [ErrRecordFull] when
	// MaxBytes is reached, or with the error of a write that failed. It
	// is called from the server's thread that met the bound: it must not
	// block for long.
	Stopped func(error)

	_ struct{}
}

// RecordStats are a [Recorder]'s figures.
type RecordStats struct {
	// Conns counts the connections recorded, Packets the packets
	// written.
	Conns, Packets int
	// Bytes is the file's size once flushed: its header and every
	// packet written.
	Bytes int64
	// Stopped is why recording stopped before Close, or nil: it wraps
	// ErrRecordFull, or is a write's error.
	Stopped error
}

// Recorder writes a server's traffic as pcapng. The server sees bytes,
// not packets, so the recorder makes the packets a TCP analyser expects
// of a clean loopback connection (Ethernet frames with zero addresses,
// as Linux captures its loopback interface; IPv4 with don't-fragment;
// TCP with checksums): at accept a SYN, SYN-ACK, ACK handshake with the
// MSS option; for each read the client's data in segments of at most
// 1460 bytes, the last one pushed, then the server's acknowledgement; the
// same the other way for each write; a FIN and its acknowledgement when
// the client closes its side and when the server closes the connection;
// a reset when a read meets one. Sequence and acknowledgement numbers
// follow the bytes; timestamps are the time of each read, write, accept
// or close. Each connection's initial sequence numbers are derived from
// its number, so two recordings of the same exchange differ only in
// their timestamps and ports.
//
// A Recorder is what package httpd's Config.Tap takes: its methods
// Accepted, Read, Wrote and Closed are the tap's, called by the server;
// Close ends the recording. It is safe for concurrent use. It records
// IPv4 connections only (the server listens on IPv4); the calls of any
// other are ignored.
type Recorder struct {
	opt     RecordOptions
	stopped atomic.Bool // full, failed or closed: the calls return at once

	mu      sync.Mutex
	ng      *pcapgo.NgWriter
	bw      *bufio.Writer // under ng
	size    int64         // what the file holds once flushed
	packets int
	nconns  int
	conns   map[uint64]*recConn
	err     error     // why recording stopped early
	last    time.Time // timestamps never go back
	buf     gopacket.SerializeBuffer
	eth     layers.Ethernet
	ip      layers.IPv4
	tcp     layers.TCP
}

// recConn is the state of one recorded connection's TCP: each side's
// next sequence number and IP identification, and what it has sent that
// the other side has not acknowledged. Index 0 is the client, 1 the
// server.
type recConn struct {
	addr    [2]net.IP
	port    [2]layers.TCPPort
	seq     [2]uint32
	ipID    [2]uint16
	unacked [2]int
	fin     [2]bool
	reset   bool
}

const (
	recClient = 0
	recServer = 1
)

// NewRecorder returns a recorder that writes a pcapng file to w. It
// buffers what it writes, the file's header first: nothing reaches w
// before a connection closes, the buffer fills, or Close. Close flushes
// the buffer; it does not close w.
func NewRecorder(w io.Writer, opt RecordOptions) (*Recorder, error) {
	if opt.MaxBytes < 0 {
		return nil, fmt.Errorf("capture: a record bound of %d bytes", opt.MaxBytes)
	}
	// The header's size, from a twin written to nowhere: the real one
	// stays in the writer's buffer.
	head := &recCountWriter{w: io.Discard}
	twin, err := newRecordWriter(head)
	if err == nil {
		err = twin.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("capture: the recording's header: %w", err)
	}
	if opt.MaxBytes > 0 && head.n > opt.MaxBytes {
		return nil, fmt.Errorf("%w: the header alone takes %d bytes, more than the bound of %d", ErrRecordFull, head.n, opt.MaxBytes)
	}
	// pcapgo's writer buffers 4 KiB; a larger buffer under it makes a
	// tenth of the system calls.
	bw := bufio.NewWriterSize(w, 64<<10)
	ng, err := newRecordWriter(bw)
	if err != nil {
		return nil, fmt.Errorf("capture: the recording's header: %w", err)
	}
	r := &Recorder{opt: opt, ng: ng, bw: bw, size: head.n, conns: map[uint64]*recConn{}, buf: gopacket.NewSerializeBuffer()}
	r.eth = layers.Ethernet{SrcMAC: make(net.HardwareAddr, 6), DstMAC: make(net.HardwareAddr, 6), EthernetType: layers.EthernetTypeIPv4}
	return r, nil
}

// newRecordWriter writes a recording's header, one section of one interface,
// to w's buffer.
func newRecordWriter(w io.Writer) (*pcapgo.NgWriter, error) {
	return pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{
		Name:                "httpd",
		Description:         "the server's reads and writes, as TCP segments",
		OS:                  runtime.GOOS,
		LinkType:            layers.LinkTypeEthernet,
		SnapLength:          recordSnaplen,
		TimestampResolution: 9,
	}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware:    runtime.GOARCH,
		OS:          runtime.GOOS,
		Application: "sysmsg serve --record",
	}})
}

// recCountWriter counts the bytes written through it.
type recCountWriter struct {
	w io.Writer
	n int64
}

func (c *recCountWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// Accepted records the handshake of connection conn from peer to local.
func (r *Recorder) Accepted(conn uint64, peer, local netip.AddrPort) {
	if r.stopped.Load() || !peer.Addr().Unmap().Is4() || !local.Addr().Unmap().Is4() {
		return
	}
	isn := uint32(conn+1) * 0x9e3779b9 // spread, so that no two connections' numbers are near
	c := &recConn{
		addr: [2]net.IP{peer.Addr().Unmap().AsSlice(), local.Addr().Unmap().AsSlice()},
		port: [2]layers.TCPPort{layers.TCPPort(peer.Port()), layers.TCPPort(local.Port())},
		seq:  [2]uint32{isn, ^isn},
	}
	r.record(func(now time.Time) error {
		r.conns[conn] = c
		before := r.packets
		err := r.segments(c, now, recSeg{recClient, recSYN}, recSeg{recServer, recSYN | recACK}, recSeg{recClient, recACK})
		if r.packets > before {
			r.nconns++ // its SYN at least is in the file
		}
		return err
	})
}

// Read records the bytes the server read on connection conn as the
// client's segments, or, with none, the client's FIN (err io.EOF) or
// reset (err ECONNRESET); other errors are the server's own and leave no
// trace on the wire.
func (r *Recorder) Read(conn uint64, b []byte, err error) {
	if r.stopped.Load() {
		return
	}
	r.record(func(now time.Time) error {
		c := r.conns[conn]
		switch {
		case c == nil || c.reset:
			return nil
		case len(b) > 0:
			return r.data(c, recClient, b, now)
		case errors.Is(err, io.EOF) && !c.fin[recClient]:
			c.fin[recClient] = true
			return r.segments(c, now, recSeg{recClient, recFIN | recACK}, recSeg{recServer, recACK})
		case errors.Is(err, syscall.ECONNRESET):
			c.reset = true
			return r.segments(c, now, recSeg{recClient, recRST | recACK})
		}
		return nil
	})
}

// Wrote records the bytes the server wrote on connection conn as its
// segments.
func (r *Recorder) Wrote(conn uint64, b []byte) {
	if r.stopped.Load() || len(b) == 0 {
		return
	}
	r.record(func(now time.Time) error {
		if c := r.conns[conn]; c != nil && !c.reset && !c.fin[recServer] {
			return r.data(c, recServer, b, now)
		}
		return nil
	})
}

// Closed records the server's FIN on connection conn and its
// acknowledgement, and flushes the file, so that what it holds on disk
// ends with a whole packet.
func (r *Recorder) Closed(conn uint64) {
	if r.stopped.Load() {
		return
	}
	r.record(func(now time.Time) error {
		c := r.conns[conn]
		if c == nil {
			return nil
		}
		delete(r.conns, conn)
		if !c.reset && !c.fin[recServer] {
			c.fin[recServer] = true
			if err := r.segments(c, now, recSeg{recServer, recFIN | recACK}, recSeg{recClient, recACK}); err != nil {
				return err
			}
		}
		return r.flush()
	})
}

// Close ends the recording and flushes what is buffered; later calls
// record nothing. It returns the error of a write that failed, if any
// did; reaching the bound is not one. It does not close the writer.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped.Store(true)
	err := r.flush()
	if r.err != nil && !errors.Is(r.err, ErrRecordFull) {
		return r.err
	}
	return err
}

// flush writes out what both buffers hold.
func (r *Recorder) flush() error {
	err := r.ng.Flush()
	if err == nil {
		err = r.bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("capture: writing the recording: %w", err)
	}
	return nil
}

// Stats returns the recorder's figures so far.
func (r *Recorder) Stats() RecordStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RecordStats{Conns: r.nconns, Packets: r.packets, Bytes: r.size, Stopped: r.err}
}

// record runs f, which writes packets, under the lock at a timestamp no
// earlier than the last one; if f stops the recording, it says so.
func (r *Recorder) record(f func(now time.Time) error) {
	r.mu.Lock()
	if r.stopped.Load() {
		r.mu.Unlock()
		return
	}
	// The wall clock alone (Round(0) drops the monotonic reading): it is
	// what the file holds, and it may be set back.
	now := time.Now().Round(0)
	if now.Before(r.last) {
		now = r.last
	}
	r.last = now
	err := f(now)
	if err != nil {
		r.stopped.Store(true)
		r.err = err
	}
	r.mu.Unlock()
	if err != nil && r.opt.Stopped != nil {
		r.opt.Stopped(err)
	}
}

// recSeg is a segment with no data: who sends it, with which flags.
type recSeg struct {
	side  int
	flags recFlags
}

// segments writes segs in order, and none after one that fails.
func (r *Recorder) segments(c *recConn, now time.Time, segs ...recSeg) error {
	for _, s := range segs {
		if err := r.segment(c, s.side, s.flags, nil, now); err != nil {
			return err
		}
	}
	return nil
}

// data writes b as side's segments, each acknowledged by the other side
// before the window could fill, the last of them at the end.
func (r *Recorder) data(c *recConn, side int, b []byte, now time.Time) error {
	for len(b) > 0 {
		n := min(len(b), recordMSS)
		flags := recACK
		if n == len(b) {
			flags |= recPSH
		}
		if err := r.segment(c, side, flags, b[:n], now); err != nil {
			return err
		}
		b = b[n:]
		if len(b) == 0 || c.unacked[side]+recordMSS > recordWindow {
			if err := r.segment(c, 1-side, recACK, nil, now); err != nil {
				return err
			}
		}
	}
	return nil
}

type recFlags uint8

const (
	recSYN recFlags = 1 << iota
	recACK
	recPSH
	recFIN
	recRST
)

// recMSSOption is the MSS option of a SYN: 1460.
var recMSSOption = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{recordMSS >> 8, recordMSS & 0xff}}}

// segment writes one TCP segment from side with the flags and payload, and
// advances side's sequence number by what it takes. With the ACK flag it
// acknowledges all the other side has sent.
func (r *Recorder) segment(c *recConn, side int, flags recFlags, payload []byte, now time.Time) error {
	other := 1 - side
	r.ip = layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Flags: layers.IPv4DontFragment, Id: c.ipID[side],
		Protocol: layers.IPProtocolTCP, SrcIP: c.addr[side], DstIP: c.addr[other],
	}
	r.tcp = layers.TCP{
		SrcPort: c.port[side], DstPort: c.port[other], Seq: c.seq[side], Window: recordWindow,
		SYN: flags&recSYN != 0, ACK: flags&recACK != 0, PSH: flags&recPSH != 0,
		FIN: flags&recFIN != 0, RST: flags&recRST != 0,
	}
	if r.tcp.ACK {
		r.tcp.Ack = c.seq[other]
		c.unacked[other] = 0
	}
	if r.tcp.SYN {
		r.tcp.Options = recMSSOption
	}
	r.tcp.SetNetworkLayerForChecksum(&r.ip)
	opts := gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}
	if err := gopacket.SerializeLayers(r.buf, opts, &r.eth, &r.ip, &r.tcp, gopacket.Payload(payload)); err != nil {
		return fmt.Errorf("capture: making a packet: %w", err)
	}
	frame := r.buf.Bytes()
	block := int64(len(frame)+32+3) &^ 3 // an enhanced packet block, padded to 4 bytes
	if r.opt.MaxBytes > 0 && r.size+block > r.opt.MaxBytes {
		return fmt.Errorf("%w: %d bytes of at most %d, %d packets", ErrRecordFull, r.size, r.opt.MaxBytes, r.packets)
	}
	ci := gopacket.CaptureInfo{Timestamp: now, CaptureLength: len(frame), Length: len(frame)}
	if err := r.ng.WritePacket(ci, frame); err != nil {
		return fmt.Errorf("capture: writing the recording: %w", err)
	}
	r.size += block
	r.packets++
	c.ipID[side]++
	c.seq[side] += uint32(len(payload))
	if r.tcp.SYN || r.tcp.FIN {
		c.seq[side]++
	}
	c.unacked[side] += len(payload)
	return nil
}
