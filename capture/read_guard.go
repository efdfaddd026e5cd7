package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The guard reads a capture file one record (classic pcap) or block
// (pcapng) ahead of gopacket's reader, checks it, and only then lets the
// reader have its bytes. gopacket v1.1.19's readers trust the file:
//
//   - pcapgo.Reader allocates a buffer as large as a record's captured
//     length says (up to 4 GiB), checked only against the file header's
//     snap length, which the same file sets;
//   - pcapgo.NgReader does the same with an enhanced or simple packet
//     block's length, reads a block cut short by the end of the file as a
//     clean end (io.EOF), reads past a block whose options overrun it,
//     and divides by zero on an interface whose timestamp resolution is
//     2^-64 or finer (or 10^-64);
//   - both truncate link types to 8 bits (layers.LinkType is a uint8), so
//     that Linux cooked v2 (276) reads as 20.
//
// So the guard parses the framing itself: every length is checked against
// the bytes the record really holds and against limits, a file that ends
// inside a record is reported as truncated (naming the packet) rather than
// as an end, and the link type of every packet is taken from the guard's
// own reading of the headers. gopacket then reads only records that are
// whole and sane. The guard hands out one record per Read and loads the
// next only when the reader asks for bytes beyond the current one, so that
// when the reader returns packet n, the guard's last record is packet n.

// maxPacket is the most a packet record may hold: tcpdump's largest snap
// length (MAXIMUM_SNAPLEN). A record that claims more is corrupt.
const maxPacket = 262144

// maxBlock bounds a pcapng block, a packet and its options or a name
// resolution block: the guard holds one block in memory.
const maxBlock = 1 << 20

// maxInterfaces bounds the interfaces of one pcapng section: the readers
// keep every one.
const maxInterfaces = 1024

// Link types, as the file formats number them.
const (
	linkNull     = 0   // BSD loopback: a 4-byte family in the writer's byte order
	linkEthernet = 1   // Ethernet
	linkRawAlt   = 12  // raw IP, as some systems number DLT_RAW
	linkRaw      = 101 // raw IP: IPv4 or IPv6 by the version field
	linkLoop     = 108 // OpenBSD loopback: a 4-byte family, big-endian
	linkSLL      = 113 // Linux cooked capture
	linkIPv4     = 228 // raw IPv4
	linkIPv6     = 229 // raw IPv6
	linkSLL2     = 276 // Linux cooked capture, version 2
)

// linkKnown reports whether sysmsg decodes link type lt.
func linkKnown(lt int) bool {
	switch lt {
	case linkNull, linkEthernet, linkRawAlt, linkRaw, linkLoop, linkSLL, linkIPv4, linkIPv6, linkSLL2:
		return true
	}
	return false
}

// linkList names the link types sysmsg reads, for an error.
const linkList = "Ethernet (1), Linux cooked (113, 276), loopback (0, 108), raw IP (12, 101, 228, 229)"

type format uint8

const (
	formatPcap format = iota
	formatNg
)

// pcapng block types.
const (
	blockSection    = 0x0A0D0D0A
	blockInterface  = 1
	blockPacket     = 2 // obsolete packet block
	blockSimple     = 3
	blockStatistics = 5
	blockEnhanced   = 6
	ngByteOrder     = 0x1A2B3C4D
)

// ngInterface is what the guard keeps of a pcapng interface.
type ngInterface struct {
	link    int
	snaplen uint32
}

// guard is the reader of a capture file that gopacket's reader reads
// through. Its errors are [*Error]s naming the packet and the byte.
type guard struct {
	src  io.Reader
	file string
	fmt  format
	// off is the offset in src of the next byte to load.
	off int64
	// pending is what is left to hand out of the record last loaded; buf
	// holds it.
	pending, buf []byte
	// err is what Read returns once pending is empty and the next record
	// could not be loaded: io.EOF at a clean end.
	err error

	order  binary.ByteOrder
	header bool // the file header (pcap) or first section header (pcapng) is loaded

	// packets counts the packet records loaded; link is the link type of
	// the last, caplen its captured length.
	packets int
	link    int
	caplen  int

	// pcap: the file's link type.
	pcapLink int
	// pcapng: the current section's interfaces.
	ifaces []ngInterface
}

func newGuard(src io.Reader, file string, f format) *guard {
	return &guard{src: src, file: file, fmt: f}
}

// Read hands out the current record's bytes, loading the next record
// when they are all out.
func (g *guard) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.err != nil {
			return 0, g.err
		}
		if g.fmt == formatPcap {
			g.err = g.loadPcap()
		} else {
			g.err = g.loadNg()
		}
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// fail is a corrupt record at offset start, of packet (0: none).
func (g *guard) fail(packet int, start int64, format string, args ...any) error {
	return &Error{File: g.file, Packet: packet, Offset: start, Msg: fmt.Sprintf(format, args...)}
}

// truncated is the file ending inside a record: have of its want bytes
// are there.
func (g *guard) truncated(packet int, start int64, what string, have, want int) error {
	return &Error{File: g.file, Packet: packet, Offset: start, truncated: true,
		Msg: fmt.Sprintf("the file ends inside %s (%d of its %d bytes are there): the capture was cut short", what, have, want)}
}

// fill reads len(b) bytes of the record that starts at start. A clean end
// before the first byte is io.EOF when atStart; any other short read is
// truncation.
func (g *guard) fill(b []byte, packet int, start int64, what string, have, want int, atStart bool) error {
	n, err := io.ReadFull(g.src, b)
	g.off += int64(n)
	switch {
	case err == nil:
		return nil
	case err == io.EOF && atStart:
		return io.EOF
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return g.truncated(packet, start, what, have+n, want)
	}
	return &Error{File: g.file, Packet: packet, Offset: start, Msg: err.Error()}
}

// grow returns g.buf with room for n bytes, keeping what it holds.
func (g *guard) grow(n int) []byte {
	if cap(g.buf) < n {
		b := make([]byte, n)
		copy(b, g.buf[:cap(g.buf)])
		g.buf = b
	}
	return g.buf[:n]
}

// Classic pcap.

const (
	pcapMagicMicro = 0xA1B2C3D4
	pcapMagicNano  = 0xA1B23C4D
)

func (g *guard) loadPcap() error {
	if !g.header {
		h := g.grow(24)
		if err := g.fill(h[:4], 0, 0, "the file header", 0, 24, true); err != nil {
			if err == io.EOF {
				return g.fail(0, 0, "empty file")
			}
			return err
		}
		switch {
		case binary.LittleEndian.Uint32(h) == pcapMagicMicro || binary.LittleEndian.Uint32(h) == pcapMagicNano:
			g.order = binary.LittleEndian
		case binary.BigEndian.Uint32(h) == pcapMagicMicro || binary.BigEndian.Uint32(h) == pcapMagicNano:
			g.order = binary.BigEndian
		default:
			return g.fail(0, 0, "not a pcap or pcapng file")
		}
		if err := g.fill(h[4:], 0, 0, "the file header", 4, 24, false); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.truncated = false // no packet to keep
			}
			return err
		}
		if major, minor := g.order.Uint16(h[4:]), g.order.Uint16(h[6:]); major != 2 || minor != 4 {
			return g.fail(0, 0, "pcap version %d.%d; sysmsg reads 2.4", major, minor)
		}
		// The upper bits of the link type field say whether frames end
		// in a check sequence; the type is the lower 16.
		g.pcapLink = int(g.order.Uint32(h[20:]) & 0xFFFF)
		if !linkKnown(g.pcapLink) {
			return g.fail(0, 0, "link type %d is not one sysmsg reads: %s", g.pcapLink, linkList)
		}
		g.header = true
		g.pending = h
		return nil
	}
	packet, start := g.packets+1, g.off
	h := g.grow(16)
	if err := g.fill(h, packet, start, "this packet's record", 0, 16, true); err != nil {
		return err
	}
	caplen, length := g.order.Uint32(h[8:]), g.order.Uint32(h[12:])
	if caplen > maxPacket {
		return g.fail(packet, start, "captured length %d is more than %d bytes, the most a capture holds: the file is corrupt", caplen, maxPacket)
	}
	if caplen > length {
		return g.fail(packet, start, "captured length %d is more than the packet's length %d: the file is corrupt", caplen, length)
	}
	rec := g.grow(16 + int(caplen))
	if err := g.fill(rec[16:], packet, start, "this packet's record", 16, len(rec), false); err != nil {
		return err
	}
	g.packets, g.link, g.caplen = packet, g.pcapLink, int(caplen)
	g.pending = rec
	return nil
}

// pcapng.

func (g *guard) loadNg() error {
	packet, start := g.packets+1, g.off
	h := g.grow(12)
	if err := g.fill(h[:8], 0, start, fmt.Sprintf("the header of the block at byte %d", start), 0, 8, true); err != nil {
		if err == io.EOF && !g.header {
			return g.fail(0, 0, "empty file")
		}
		return err
	}
	typ := binary.LittleEndian.Uint32(h) // the section header's type reads the same either way
	if !g.header && typ != blockSection {
		return g.fail(0, 0, "not a pcapng file")
	}
	head := 8
	if typ == blockSection {
		if err := g.fill(h[8:12], 0, start, fmt.Sprintf("the section header at byte %d", start), 8, 12, false); err != nil {
			return err
		}
		switch {
		case binary.LittleEndian.Uint32(h[8:]) == ngByteOrder:
			g.order = binary.LittleEndian
		case binary.BigEndian.Uint32(h[8:]) == ngByteOrder:
			g.order = binary.BigEndian
		default:
			return g.fail(0, start, "section header with no byte-order mark: the file is corrupt")
		}
		head = 12
	} else {
		typ = g.order.Uint32(h)
	}
	length := g.order.Uint32(h[4:])
	what := fmt.Sprintf("the block at byte %d", start)
	if isPacketBlock(typ) {
		what = "this packet's block"
	} else {
		packet = 0 // the error names the byte, not a packet
	}
	switch {
	case length < uint32(head)+4 || length%4 != 0:
		return g.fail(packet, start, "block length %d is not a multiple of 4 of at least %d: the file is corrupt", length, head+4)
	case length > maxBlock:
		return g.fail(packet, start, "block length %d is more than %d bytes: the file is corrupt", length, maxBlock)
	}
	block := g.grow(int(length))
	if err := g.fill(block[head:], packet, start, what, head, int(length), false); err != nil {
		var e *Error
		if !g.header && errors.As(err, &e) {
			e.truncated = false
		}
		return err
	}
	if end := g.order.Uint32(block[length-4:]); end != length {
		return g.fail(packet, start, "block length %d at its end differs from %d at its start: the file is corrupt", end, length)
	}
	body := block[head : length-4]
	if err := g.checkBlock(typ, body, packet, start); err != nil {
		return err
	}
	g.header = true
	g.pending = block
	return nil
}

func isPacketBlock(typ uint32) bool {
	return typ == blockEnhanced || typ == blockSimple || typ == blockPacket
}

// checkBlock checks what gopacket's NgReader reads of a block's body: the
// fields it trusts, and the options it parses.
func (g *guard) checkBlock(typ uint32, body []byte, packet int, start int64) error {
	short := func(want int) error {
		return g.fail(packet, start, "block of type %d holds %d bytes, fewer than its %d fixed ones: the file is corrupt", typ, len(body), want)
	}
	iface := func(id uint32) error {
		if int64(id) >= int64(len(g.ifaces)) {
			return g.fail(packet, start, "interface %d is not described in its section (%d are): the file is corrupt", id, len(g.ifaces))
		}
		return nil
	}
	captured := func(caplen uint32, room int) error {
		if caplen > maxPacket {
			return g.fail(packet, start, "captured length %d is more than %d bytes, the most a capture holds: the file is corrupt", caplen, maxPacket)
		}
		if int64(caplen) > int64(room) {
			return g.fail(packet, start, "captured length %d is more than the %d bytes its block holds: the file is corrupt", caplen, room)
		}
		return nil
	}
	switch typ {
	case blockSection:
		// Version, section length, options.
		if len(body) < 12 {
			return short(12)
		}
		if major, minor := g.order.Uint16(body), g.order.Uint16(body[2:]); major != 1 || minor != 0 {
			return g.fail(0, start, "pcapng version %d.%d; sysmsg reads 1.0", major, minor)
		}
		if _, err := g.options(body[12:], typ, start); err != nil {
			return err
		}
		g.ifaces = g.ifaces[:0]
	case blockInterface:
		// Link type, reserved, snap length, options.
		if len(body) < 8 {
			return short(8)
		}
		if len(g.ifaces) == maxInterfaces {
			return g.fail(0, start, "more than %d interfaces in one section", maxInterfaces)
		}
		if _, err := g.options(body[8:], typ, start); err != nil {
			return err
		}
		g.ifaces = append(g.ifaces, ngInterface{link: int(g.order.Uint16(body)), snaplen: g.order.Uint32(body[4:])})
	case blockEnhanced, blockPacket:
		// Interface (32 bits, or 16 and 16 of drops), timestamp,
		// captured and original length, data, options.
		if len(body) < 20 {
			return short(20)
		}
		id := g.order.Uint32(body)
		if typ == blockPacket {
			id = uint32(g.order.Uint16(body))
		}
		if err := iface(id); err != nil {
			return err
		}
		caplen := g.order.Uint32(body[12:])
		if err := captured(caplen, len(body)-20); err != nil {
			return err
		}
		g.packets, g.link, g.caplen = packet, g.ifaces[id].link, int(caplen)
	case blockSimple:
		// Original length, data: the captured length is the original
		// one cut to the first interface's snap length, as NgReader
		// computes it.
		if len(body) < 4 {
			return short(4)
		}
		if err := iface(0); err != nil {
			return err
		}
		caplen := g.order.Uint32(body)
		if snap := g.ifaces[0].snaplen; snap != 0 && caplen > snap {
			caplen = snap
		}
		if err := captured(caplen, len(body)-4); err != nil {
			return err
		}
		g.packets, g.link, g.caplen = packet, g.ifaces[0].link, int(caplen)
	case blockStatistics:
		// Interface, timestamp, options.
		if len(body) < 12 {
			return short(12)
		}
		if err := iface(g.order.Uint32(body)); err != nil {
			return err
		}
		if _, err := g.options(body[12:], typ, start); err != nil {
			return err
		}
	}
	return nil
}

// options checks a block's options as NgReader reads them: each a code, a
// length and a value padded to 4 bytes, ending with the end-of-options
// option or exactly at the block's end; an interface's timestamp
// resolution one NgReader can scale. It returns the options' length.
func (g *guard) options(opts []byte, typ uint32, start int64) (int, error) {
	n := 0
	for len(opts) > 0 {
		if len(opts) < 4 {
			return 0, g.fail(0, start, "block of type %d: its options run past its end: the file is corrupt", typ)
		}
		code, l := g.order.Uint16(opts), int(g.order.Uint16(opts[2:]))
		if code == 0 {
			if l != 0 {
				return 0, g.fail(0, start, "block of type %d: end of options of length %d: the file is corrupt", typ, l)
			}
			return n, nil
		}
		padded := (l + 3) &^ 3
		if 4+padded > len(opts) {
			return 0, g.fail(0, start, "block of type %d: option %d of %d bytes runs past the block's end: the file is corrupt", typ, code, l)
		}
		// if_tsresol: a negative power of 10 (high bit clear) or of 2.
		// NgReader computes the power in 64 bits and divides by it, and
		// given an empty value reads the byte left from an earlier
		// option.
		if typ == blockInterface && code == 9 {
			if l != 1 {
				return 0, g.fail(0, start, "interface timestamp resolution of %d bytes (want 1): the file is corrupt", l)
			}
			r := opts[4]
			if exp := r & 0x7f; r&0x80 == 0 && exp > 19 || r&0x80 != 0 && exp > 63 {
				return 0, g.fail(0, start, "interface timestamp resolution %#x is finer than any clock: the file is corrupt", r)
			}
		}
		opts = opts[4+padded:]
		n += 4 + padded
	}
	return n, nil
}
