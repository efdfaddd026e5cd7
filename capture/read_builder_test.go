package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// capBuilder makes the captures the tests read: TCP connections to a
// server, with their handshakes, the client's and the server's data
// segments and their ends, serialised with gopacket's layers over a link
// type, and written with pcapgo's writers as pcap or pcapng. Its packets
// can then be reordered, duplicated or dropped.
type capBuilder struct {
	tb   testing.TB
	link int
	v6   bool
	port uint16
	// mss is the most payload a segment carries: longer data is split.
	mss  int
	pkts []builtPacket
	t    time.Time
	// snap, when not 0, cuts every packet's captured bytes to it.
	snap int
}

type builtPacket struct {
	ts   time.Time
	data []byte
	size int // the packet's length on the wire
}

func newBuilder(tb testing.TB) *capBuilder {
	return &capBuilder{tb: tb, link: linkEthernet, port: 80, mss: 1460,
		t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// tconn is one connection being built.
type tconn struct {
	b              *capBuilder
	client, server netip.AddrPort
	cseq, sseq     uint32 // the next sequence number of each side
}

// conn returns connection i: client 10.0.0.(2+i) (or fd00::(2+i)) port
// 40000+i to the server's port on 10.0.0.1 (fd00::1).
func (b *capBuilder) conn(i int) *tconn {
	srv, cli := netip.MustParseAddr("10.0.0.1"), netip.AddrFrom4([4]byte{10, 0, byte((2 + i) >> 8), byte(2 + i)})
	if b.v6 {
		srv = netip.MustParseAddr("fd00::1")
		a := srv.As16()
		binary.BigEndian.PutUint16(a[14:], uint16(2+i))
		cli = netip.AddrFrom16(a)
	}
	return &tconn{b: b, client: netip.AddrPortFrom(cli, uint16(40000+i)), server: netip.AddrPortFrom(srv, b.port),
		cseq: 1000 + uint32(i)*100000, sseq: 5000 + uint32(i)*100000}
}

// handshake adds the SYN, SYN-ACK and ACK.
func (c *tconn) handshake() *tconn {
	c.seg(true, c.cseq, "S", "")
	c.cseq++
	c.seg(false, c.sseq, "SA", "")
	c.sseq++
	c.seg(true, c.cseq, "A", "")
	return c
}

// send adds the client's data, in segments of at most mss bytes.
func (c *tconn) send(data string) *tconn { return c.data(true, data) }

// reply adds the server's data.
func (c *tconn) reply(data string) *tconn { return c.data(false, data) }

func (c *tconn) data(client bool, data string) *tconn {
	for len(data) > 0 {
		n := min(len(data), c.b.mss)
		if client {
			c.seg(true, c.cseq, "PA", data[:n])
			c.cseq += uint32(n)
		} else {
			c.seg(false, c.sseq, "PA", data[:n])
			c.sseq += uint32(n)
		}
		data = data[n:]
	}
	return c
}

// fin adds the client's FIN, the server's FIN and the last ACK.
func (c *tconn) fin() *tconn {
	c.seg(true, c.cseq, "FA", "")
	c.cseq++
	c.seg(false, c.sseq, "FA", "")
	c.sseq++
	c.seg(true, c.cseq, "A", "")
	return c
}

// rst adds a reset from the client (or the server).
func (c *tconn) rst(client bool) *tconn {
	if client {
		c.seg(true, c.cseq, "R", "")
	} else {
		c.seg(false, c.sseq, "R", "")
	}
	return c
}

// seg adds one segment with the given flags (S, A, F, R, P) and payload.
func (c *tconn) seg(client bool, seq uint32, flags, payload string) {
	tcp := &layers.TCP{Seq: seq, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		case 'P':
			tcp.PSH = true
		}
	}
	src, dst := c.client, c.server
	if client {
		tcp.Ack = c.sseq
	} else {
		src, dst = dst, src
		tcp.Ack = c.cseq
	}
	c.b.add(src, dst, tcp, []byte(payload))
}

// add serialises a segment over the builder's link type.
func (b *capBuilder) add(src, dst netip.AddrPort, tcp *layers.TCP, payload []byte) {
	tcp.SrcPort, tcp.DstPort = layers.TCPPort(src.Port()), layers.TCPPort(dst.Port())
	var net_ gopacket.SerializableLayer
	ether := layers.EthernetTypeIPv4
	if b.v6 {
		ip := &layers.IPv6{Version: 6, NextHeader: layers.IPProtocolTCP, HopLimit: 64,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		tcp.SetNetworkLayerForChecksum(ip)
		net_, ether = ip, layers.EthernetTypeIPv6
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		tcp.SetNetworkLayerForChecksum(ip)
		net_ = ip
	}
	ls := []gopacket.SerializableLayer{net_, tcp, gopacket.Payload(payload)}
	switch b.link {
	case linkEthernet:
		ls = append([]gopacket.SerializableLayer{&layers.Ethernet{
			SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: ether}}, ls...)
	case linkNull:
		fam := layers.ProtocolFamilyIPv4
		if b.v6 {
			fam = layers.ProtocolFamilyIPv6Linux
		}
		ls = append([]gopacket.SerializableLayer{&layers.Loopback{Family: fam}}, ls...)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		b.tb.Fatal(err)
	}
	data := buf.Bytes()
	// gopacket serialises no Linux cooked header, and no big-endian
	// loopback one: they are written here.
	var head []byte
	switch b.link {
	case linkSLL:
		head = make([]byte, 16)
		binary.BigEndian.PutUint16(head[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(head[4:], 6)
		copy(head[6:], []byte{2, 0, 0, 0, 0, 2})
		binary.BigEndian.PutUint16(head[14:], uint16(ether))
	case linkSLL2:
		head = make([]byte, 20)
		binary.BigEndian.PutUint16(head, uint16(ether))
		binary.BigEndian.PutUint32(head[4:], 1) // interface index
		binary.BigEndian.PutUint16(head[8:], 1) // ARPHRD_ETHER
		head[11] = 6
		copy(head[12:], []byte{2, 0, 0, 0, 0, 2})
	case linkLoop:
		head = make([]byte, 4)
		fam := uint32(afInet)
		if b.v6 {
			fam = afInet6BSD
		}
		binary.BigEndian.PutUint32(head, fam)
	}
	data = append(head, data...)
	size := len(data)
	if b.snap > 0 && len(data) > b.snap {
		data = data[:b.snap]
	}
	b.t = b.t.Add(100 * time.Microsecond)
	b.pkts = append(b.pkts, builtPacket{ts: b.t, data: data, size: size})
}

// swap exchanges packets i and j (from 1): a capture out of order.
func (b *capBuilder) swap(i, j int) {
	b.pkts[i-1].data, b.pkts[j-1].data = b.pkts[j-1].data, b.pkts[i-1].data
	b.pkts[i-1].size, b.pkts[j-1].size = b.pkts[j-1].size, b.pkts[i-1].size
}

// dup puts a copy of packet i (from 1) after the last packet: a
// retransmission.
func (b *capBuilder) dup(i int) {
	p := b.pkts[i-1]
	b.t = b.t.Add(100 * time.Microsecond)
	p.ts = b.t
	b.pkts = append(b.pkts, p)
}

// drop removes packet i (from 1).
func (b *capBuilder) drop(i int) {
	b.pkts = append(b.pkts[:i-1], b.pkts[i:]...)
}

// pcap writes the packets as a classic pcap file.
func (b *capBuilder) pcap() []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(262144, 0); err != nil {
		b.tb.Fatal(err)
	}
	// layers.LinkType is 8 bits: the link type goes in by hand.
	binary.LittleEndian.PutUint32(buf.Bytes()[20:], uint32(b.link))
	for _, p := range b.pkts {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: p.size}, p.data); err != nil {
			b.tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapng writes the packets as a pcapng file.
func (b *capBuilder) pcapng() []byte {
	var buf bytes.Buffer
	// The default interface names the running system: fixed here, so
	// that the bytes are the same wherever the tests run.
	intf := pcapgo.DefaultNgInterface
	intf.Name, intf.OS = "test0", ""
	w, err := pcapgo.NewNgWriterInterface(&buf, intf, pcapgo.NgWriterOptions{})
	if err != nil {
		b.tb.Fatal(err)
	}
	for _, p := range b.pkts {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: p.size}, p.data); err != nil {
			b.tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.tb.Fatal(err)
	}
	out := buf.Bytes()
	// The interface's link type, by hand as for pcap: it is the first
	// field of the interface block, after the section header.
	shb := binary.LittleEndian.Uint32(out[4:])
	if binary.LittleEndian.Uint32(out[shb:]) != blockInterface {
		b.tb.Fatal("no interface block after the section header")
	}
	binary.LittleEndian.PutUint16(out[shb+8:], uint16(b.link))
	return out
}

// exchange adds a connection i that sends reqs and gets a response to
// each: window requests outstanding at most, then FIN.
func (b *capBuilder) exchange(i, reqs, window int) *tconn {
	c := b.conn(i).handshake()
	sent, got := 0, 0
	for got < reqs {
		for sent < reqs && sent-got < window {
			c.send(get(sent))
			sent++
		}
		c.reply(ok(got))
		got++
	}
	return c.fin()
}

// get is request k, with no body.
func get(k int) string {
	return fmt.Sprintf("GET /%d HTTP/1.1\r\nHost: example.com\r\n\r\n", k)
}

// ok is response k, with a body given by Content-Length.
func ok(k int) string {
	body := fmt.Sprintf("response %d\n", k)
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// udp adds a UDP datagram (DNS, say) between the first connection's
// addresses: not TCP.
func (b *capBuilder) udp() {
	c := b.conn(0)
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP(c.client.Addr().AsSlice()), DstIP: net.IP(c.server.Addr().AsSlice())}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, EthernetType: layers.EthernetTypeIPv4}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload("query")); err != nil {
		b.tb.Fatal(err)
	}
	b.t = b.t.Add(100 * time.Microsecond)
	b.pkts = append(b.pkts, builtPacket{ts: b.t, data: buf.Bytes(), size: len(buf.Bytes())})
}
