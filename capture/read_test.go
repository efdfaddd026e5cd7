package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// readCapture reads data, failing the test on an error.
func readCapture(t *testing.T, data []byte, opt Options) *Capture {
	t.Helper()
	c, err := Read(context.Background(), bytes.NewReader(data), "test.pcap", opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func allDepths(c *Capture) [][]int {
	var out [][]int
	for _, conn := range c.Conns {
		out = append(out, conn.Depths())
	}
	return out
}

func warnings(c *Capture) []string {
	var out []string
	for _, w := range c.Warnings {
		out = append(out, w.String())
	}
	return out
}

// A client's pipelining is measured exactly: the requests it had sent
// and not had answered as each response came.
func TestPipeliningDepthExact(t *testing.T) {
	b := newBuilder(t)
	b.exchange(0, 8, 8) // all 8 sent before the first response
	b.exchange(1, 6, 3) // 3 outstanding at most
	b.exchange(2, 3, 1) // one at a time
	c := readCapture(t, b.pcap(), Options{MaxConns: 3, MaxRequests: 8})
	want := [][]int{{8, 7, 6, 5, 4, 3, 2, 1}, {3, 3, 3, 3, 2, 1}, {1, 1, 1}}
	if got := allDepths(c); !reflect.DeepEqual(got, want) {
		t.Errorf("depths %v, want %v", got, want)
	}
	if len(c.Warnings) != 0 || len(c.Cut) != 0 {
		t.Errorf("warnings %q, cut %q", warnings(c), c.Cut)
	}
	// At the default bound of 4 requests the client that had 8
	// outstanding is 4 deep: the requests beyond are counted, not kept.
	c = readCapture(t, b.pcap(), Options{MaxConns: 3})
	want = [][]int{{4, 3, 2, 1}, {3, 3, 2, 1}, {1, 1, 1}}
	if got := allDepths(c); !reflect.DeepEqual(got, want) {
		t.Errorf("default bounds: depths %v, want %v", got, want)
	}
	wantCut := []string{"connection c0 (10.0.0.2:40000): 4 requests beyond --max-requests 4",
		"connection c1 (10.0.0.3:40001): 2 requests beyond --max-requests 4"}
	if !reflect.DeepEqual(c.Cut, wantCut) {
		t.Errorf("cut %q, want %q", c.Cut, wantCut)
	}
}

// Bodies are framed by Content-Length (over many segments), by chunked
// coding (with extensions and trailers), or by the server's close; a
// response to HEAD, a 1xx, a 204 and a 304 have none, and an interim
// 100 Continue is not the response.
func TestBodies(t *testing.T) {
	post := "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 100)
	chunkedPost := "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: t\r\n\r\n"
	head := "HEAD /h HTTP/1.1\r\n\r\n"
	expect := "PUT /e HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc"
	get1, get2 := "GET /a HTTP/1.0\r\n\r\n", "GET /b HTTP/1.1\r\n\r\n"

	r1 := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n12345"
	r2 := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	r3 := "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" // HEAD: no body
	cont := "HTTP/1.1 100 Continue\r\n\r\n"
	r4 := "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
	r5 := "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
	r6 := "HTTP/1.0 200 OK\r\n\r\nuntil the server closes"

	b := newBuilder(t)
	b.mss = 7
	c := b.conn(0).handshake()
	c.send(post).reply(r1)
	c.send(chunkedPost).reply(r2)
	c.send(head).reply(r3)
	c.send(expect[:strings.Index(expect, "abc")]).reply(cont).send("abc").reply(r4)
	c.send(get1).send(get2).reply(r5).reply(r6)
	c.fin()
	for _, data := range [][]byte{b.pcap(), b.pcapng()} {
		cp := readCapture(t, data, Options{MaxRequests: 10})
		if len(cp.Conns) != 1 || len(cp.Warnings) != 0 {
			t.Fatalf("conns %d, warnings %q", len(cp.Conns), warnings(cp))
		}
		conn := cp.Conns[0]
		var sizes []int
		for _, e := range conn.Events {
			sizes = append(sizes, e.Size)
		}
		want := []int{len(post), len(r1), len(chunkedPost), len(r2), len(head), len(r3), len(expect), len(r4),
			len(get1), len(get2), len(r5), len(r6)}
		if !reflect.DeepEqual(sizes, want) {
			t.Errorf("sizes %v, want %v", sizes, want)
		}
		reqs := []string{post, chunkedPost, head, expect, get1, get2}
		if len(conn.Requests) != len(reqs) {
			t.Fatalf("%d requests, want %d", len(conn.Requests), len(reqs))
		}
		for i, r := range conn.Requests {
			if string(r) != reqs[i] {
				t.Errorf("request %d: %q, want %q", i, r, reqs[i])
			}
		}
		if got, want := conn.Depths(), []int{1, 1, 1, 1, 2, 1}; !reflect.DeepEqual(got, want) {
			t.Errorf("depths %v, want %v", got, want)
		}
	}
}

// Segments out of order, retransmitted and overlapping are reassembled
// into the stream that was sent, with a warning naming each packet.
func TestReassemblyRepairsTheStream(t *testing.T) {
	clean := func() *capBuilder {
		b := newBuilder(t)
		b.mss = 10
		b.exchange(0, 3, 2)
		return b
	}
	want := readCapture(t, clean().pcap(), Options{})
	strip := func(c *Capture) (kinds []EventKind, sizes []int, reqs [][]byte) {
		for _, e := range c.Conns[0].Events {
			kinds, sizes = append(kinds, e.Kind), append(sizes, e.Size)
		}
		return kinds, sizes, c.Conns[0].Requests
	}
	wk, ws, wr := strip(want)

	b := clean()
	b.swap(5, 6)   // the client's first request: its 2nd and 3rd segments
	b.swap(10, 12) // the second request's last segment after the server's first
	// The third request's last segment twice in a row: a retransmission.
	b.pkts = append(b.pkts[:20], append([]builtPacket{b.pkts[19]}, b.pkts[20:]...)...)
	got := readCapture(t, b.pcap(), Options{})
	gk, gs, gr := strip(got)
	if !reflect.DeepEqual(gk, wk) || !reflect.DeepEqual(gs, ws) || !reflect.DeepEqual(gr, wr) {
		t.Errorf("reassembled %v %v, want %v %v", gk, gs, wk, ws)
	}
	wantWarn := []string{
		"packet 5: connection 10.0.0.2:40000 -> 10.0.0.1:80: segment out of order, 10 bytes ahead of the client's stream: held until the bytes before it come",
		"packet 11: connection 10.0.0.2:40000 -> 10.0.0.1:80: segment out of order, 10 bytes ahead of the client's stream: held until the bytes before it come",
		"packet 21: connection 10.0.0.2:40000 -> 10.0.0.1:80: segment retransmitted (8 bytes of the client's stream already seen): ignored",
	}
	if w := warnings(got); !reflect.DeepEqual(w, wantWarn) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(w, "\n"), strings.Join(wantWarn, "\n"))
	}

	// A segment that overlaps what came before: its new bytes are used.
	b = newBuilder(t)
	c := b.conn(0).handshake()
	req := get(0)
	c.seg(true, c.cseq, "PA", req[:20])
	c.seg(true, c.cseq+10, "PA", req[10:]) // bytes 10..20 again, then the rest
	c.cseq += uint32(len(req))
	c.reply(ok(0)).fin()
	got = readCapture(t, b.pcap(), Options{})
	if len(got.Conns) != 1 || string(got.Conns[0].Requests[0]) != req {
		t.Fatalf("overlap: %+v", got.Conns)
	}
	if w := warnings(got); len(w) != 1 || w[0] != "packet 5: connection 10.0.0.2:40000 -> 10.0.0.1:80: segment overlaps 10 bytes of the client's stream already seen: only its 18 new bytes are used" {
		t.Errorf("overlap warnings %q", w)
	}
}

// Every link type, over IPv4 and IPv6, in pcap and pcapng, reads alike.
func TestLinkTypes(t *testing.T) {
	links := []int{linkEthernet, linkSLL, linkSLL2, linkNull, linkLoop, linkRaw}
	want := [][]int{{2, 2, 1}, {1, 1}}
	for _, link := range links {
		for _, v6 := range []bool{false, true} {
			b := newBuilder(t)
			b.link, b.v6 = link, v6
			b.exchange(0, 3, 2)
			b.exchange(1, 2, 1)
			for i, data := range [][]byte{b.pcap(), b.pcapng()} {
				name := fmt.Sprintf("link %d, IPv6 %v, pcapng %v", link, v6, i == 1)
				c := readCapture(t, data, Options{})
				if got := allDepths(c); !reflect.DeepEqual(got, want) || c.Skipped != 0 || len(c.Warnings) != 0 {
					t.Errorf("%s: depths %v, skipped %d, warnings %q", name, got, c.Skipped, warnings(c))
				}
				if v6 && c.Conns[0].Client.Addr().Is4() {
					t.Errorf("%s: client %v", name, c.Conns[0].Client)
				}
			}
		}
	}
	// Raw IPv4 and IPv6 link types.
	for _, lt := range []struct {
		link int
		v6   bool
	}{{linkIPv4, false}, {linkIPv6, true}, {linkRawAlt, false}} {
		b := newBuilder(t)
		b.link, b.v6 = linkRaw, lt.v6
		b.exchange(0, 2, 2)
		b.link = lt.link
		c := readCapture(t, b.pcap(), Options{})
		if got := allDepths(c); !reflect.DeepEqual(got, [][]int{{2, 1}}) {
			t.Errorf("link %d: depths %v", lt.link, got)
		}
	}
}

// The bounds keep the first connections with a request and the first
// requests of each; what they cut is said, and the header comment says
// it too.
func TestBounds(t *testing.T) {
	b := newBuilder(t)
	b.conn(9).handshake().fin() // a connection with no request: no place taken
	for i := range 5 {
		b.exchange(i, 6, 2)
	}
	c := readCapture(t, b.pcap(), Options{MaxConns: 2, MaxRequests: 3})
	if c.Seen != 6 || len(c.Conns) != 2 || c.Conns[0].First != 7 {
		t.Fatalf("seen %d, conns %d, first %d", c.Seen, len(c.Conns), c.Conns[0].First)
	}
	wantCut := []string{"3 connections beyond --max-conns 2",
		"connection c0 (10.0.0.2:40000): 3 requests beyond --max-requests 3",
		"connection c1 (10.0.0.3:40001): 3 requests beyond --max-requests 3"}
	if !reflect.DeepEqual(c.Cut, wantCut) {
		t.Errorf("cut %q, want %q", c.Cut, wantCut)
	}
	if w := warnings(c); len(w) != 1 || w[0] != "packet 1: connection 10.0.0.11:40009 -> 10.0.0.1:80 carried no request: left out" {
		t.Errorf("warnings %q", w)
	}
	if got := allDepths(c); !reflect.DeepEqual(got, [][]int{{2, 2, 1}, {2, 2, 1}}) {
		t.Errorf("depths %v", got)
	}
	text, err := c.Workload()
	if err != nil {
		t.Fatal(err)
	}
	head := text[:strings.Index(text, "\nworkload ")+1]
	wantHead := `# Made by sysmsg workload from-pcap from test.pcap: 96 packets, 0 of them
# skipped (not TCP to or from port 80, or not decoded); 6 connections to
# port 80, 2 kept.
# Cut: 3 connections beyond --max-conns 2.
# Cut: connection c0 (10.0.0.2:40000): 3 requests beyond --max-requests 3.
# Cut: connection c1 (10.0.0.3:40001): 3 requests beyond --max-requests 3.
# Warning: packet 1: connection 10.0.0.11:40009 -> 10.0.0.1:80 carried no
# request: left out.
#
# The server is the seed's web server: per connection a reader thread that
# reads a request, hands it to the connection's writer through a queue and
# at once reads ahead for the next, and a writer that sends the response.
# Each client sends its requests and receives its responses in the captured
# order: its pipelining as it happened. For each connection, how many
# requests its client had outstanding as each response came:
#   c0: 10.0.0.2:40000 -> 10.0.0.1:80, packet 7: 3 requests, depths 2 2 1
#   c1: 10.0.0.3:40001 -> 10.0.0.1:80, packet 25: 3 requests, depths 2 2 1
`
	if head != wantHead {
		t.Errorf("header\n%s\nwant\n%s", head, wantHead)
	}
}

// Bad captures: the ones that cannot be read are an error naming the
// packet (or the byte), and nothing else; the ones whose rest is good
// give a warning naming the packet. Nothing panics, and no captured
// length is believed before it is checked.
func TestBadCaptures(t *testing.T) {
	good := func() *capBuilder {
		b := newBuilder(t)
		b.exchange(0, 2, 2)
		return b
	}
	pcap, ng := good().pcap(), good().pcapng()
	set32 := func(data []byte, off int, v uint32) []byte {
		data = bytes.Clone(data)
		binary.LittleEndian.PutUint32(data[off:], v)
		return data
	}
	epb := ngFirstBlock(t, ng, blockEnhanced)
	idb := ngFirstBlock(t, ng, blockInterface)
	errorCases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "test.pcap: empty file"},
		{"short", []byte("ab"), "test.pcap: not a pcap or pcapng file: 2 bytes"},
		{"text", []byte("hello, world\n"), "test.pcap: not a pcap or pcapng file"},
		{"pcap header cut", pcap[:20], "test.pcap: the file ends inside the file header (20 of its 24 bytes are there): the capture was cut short"},
		{"pcap version", set32(pcap, 4, 0x00030002), "test.pcap: pcap version 2.3; sysmsg reads 2.4"},
		{"pcap huge caplen", set32(pcap, 24+8, 0xFFFFFFFF), "test.pcap: packet 1 (byte 24): captured length 4294967295 is more than 262144 bytes, the most a capture holds: the file is corrupt"},
		{"pcap caplen over length", set32(pcap, 24+12, 10), "test.pcap: packet 1 (byte 24): captured length 60 is more than the packet's length 10: the file is corrupt"},
		{"pcap link type", set32(pcap, 20, 147), "test.pcap: link type 147 is not one sysmsg reads: Ethernet (1), Linux cooked (113, 276), loopback (0, 108), raw IP (12, 101, 228, 229)"},
		{"pcapng huge caplen", set32(ng, epb+20, 0xFFFFFFFF), fmt.Sprintf("test.pcap: packet 1 (byte %d): captured length 4294967295 is more than 262144 bytes, the most a capture holds: the file is corrupt", epb)},
		{"pcapng caplen over block", set32(ng, epb+20, 1000), fmt.Sprintf("test.pcap: packet 1 (byte %d): captured length 1000 is more than the 60 bytes its block holds: the file is corrupt", epb)},
		{"pcapng block length", set32(ng, epb+4, 1<<30), fmt.Sprintf("test.pcap: packet 1 (byte %d): block length 1073741824 is more than 1048576 bytes: the file is corrupt", epb)},
		{"pcapng odd block length", set32(ng, epb+4, 90), fmt.Sprintf("test.pcap: packet 1 (byte %d): block length 90 is not a multiple of 4 of at least 12: the file is corrupt", epb)},
		{"pcapng end length", set32(ng, epb+4, 84), fmt.Sprintf("test.pcap: packet 1 (byte %d): block length 0 at its end differs from 84 at its start: the file is corrupt", epb)},
		{"pcapng interface", set32(ng, epb+8, 7), fmt.Sprintf("test.pcap: packet 1 (byte %d): interface 7 is not described in its section (1 are): the file is corrupt", epb)},
		{"pcapng version", set32(ng, 12, 0x00000002), "test.pcap: pcapng version 2.0; sysmsg reads 1.0"},
		{"pcapng no section", ng[idb:], "test.pcap: not a pcap or pcapng file"},
		{"pcapng resolution", ngWithResolution(t, 0xC0), fmt.Sprintf("test.pcap: byte %d: interface timestamp resolution 0xc0 is finer than any clock: the file is corrupt", idb)},
		{"pcapng resolution decimal", ngWithResolution(t, 0x40), fmt.Sprintf("test.pcap: byte %d: interface timestamp resolution 0x40 is finer than any clock: the file is corrupt", idb)},
	}
	for _, tc := range errorCases {
		c, err := Read(context.Background(), bytes.NewReader(tc.data), "test.pcap", Options{})
		var e *Error
		if c != nil || !errors.As(err, &e) || !errors.Is(err, ErrCapture) || err.Error() != tc.want {
			t.Errorf("%s: got %v, %v\nwant error %s", tc.name, c, err, tc.want)
		}
	}

	warnCases := []struct {
		name  string
		data  func() []byte
		conns int
		want  []string
	}{
		{"pcap cut short", func() []byte { return pcap[:len(pcap)-5] },
			1, []string{"packet 10: the file ends inside this packet's record (71 of its 76 bytes are there): the capture was cut short"}},
		{"pcapng cut short", func() []byte { return ng[:len(ng)-5] },
			1, []string{"packet 10: the file ends inside this packet's block (87 of its 92 bytes are there): the capture was cut short"}},
		{"pcapng cut in a block header", func() []byte { return ng[:epb+5] },
			0, []string{fmt.Sprintf("the file ends inside the header of the block at byte %d (5 of its 8 bytes are there): the capture was cut short", epb)}},
		{"no SYN", func() []byte { b := good(); b.drop(1); return b.pcap() },
			0, []string{"packet 1: connection 10.0.0.2:40000 -> 10.0.0.1:80 has no SYN (the capture began after it opened): left out"}},
		{"reset mid-request", func() []byte {
			b := newBuilder(t)
			b.conn(0).handshake().send(get(0)).reply(ok(0)).send(get(1)[:10]).rst(true)
			return b.pcap()
		}, 1, []string{"packet 7: connection 10.0.0.2:40000 -> 10.0.0.1:80: the client reset the connection in the middle of request 2: the request is left out"}},
		{"reset mid-response", func() []byte {
			b := newBuilder(t)
			b.conn(0).handshake().send(get(0)).reply(ok(0)[:20]).rst(false)
			return b.pcap()
		}, 1, []string{"packet 6: connection 10.0.0.2:40000 -> 10.0.0.1:80: the server reset the connection in the middle of response 1: the response is left out",
			"connection c0 (10.0.0.2:40000): 1 request with no response captured: its client receives 1 response at its end"}},
		{"request over the limit", func() []byte {
			b := newBuilder(t)
			big := "POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n"
			b.conn(0).handshake().send(get(0)).reply(ok(0)).send(big + strings.Repeat("x", 3000))
			return b.pcap()
		}, 1, []string{"packet 6: connection 10.0.0.2:40000 -> 10.0.0.1:80: request 2: request larger than the limit of 1048576 bytes (Content-Length 2000000): the connection is cut here"}},
		{"chunked request over the limit", func() []byte {
			b := newBuilder(t)
			big := "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("100\r\n"+strings.Repeat("y", 256)+"\r\n", 5000)
			b.conn(0).handshake().send(big)
			return b.pcap()
		}, 0, []string{"packet 722: connection 10.0.0.2:40000 -> 10.0.0.1:80: request 1: request larger than the limit of 1048576 bytes: the connection is cut here",
			"packet 1: connection 10.0.0.2:40000 -> 10.0.0.1:80 carried no request: left out"}},
		{"bytes never captured", func() []byte {
			b := newBuilder(t)
			b.mss = 10
			b.exchange(0, 1, 1)
			b.drop(5)
			return b.pcap()
		}, 0, []string{"packet 5: connection 10.0.0.2:40000 -> 10.0.0.1:80: segment out of order, 10 bytes ahead of the client's stream: held until the bytes before it come",
			"packet 6: connection 10.0.0.2:40000 -> 10.0.0.1:80: segment out of order, 20 bytes ahead of the client's stream: held until the bytes before it come",
			"packet 11: connection 10.0.0.2:40000 -> 10.0.0.1:80: a response with no request outstanding: left out",
			"packet 5: connection 10.0.0.2:40000 -> 10.0.0.1:80: 10 bytes of the client's stream never captured: the connection is cut here",
			"packet 1: connection 10.0.0.2:40000 -> 10.0.0.1:80 carried no request: left out"}},
		{"snap length", func() []byte {
			b := newBuilder(t)
			b.conn(0).handshake().send(get(0)).reply(ok(0))
			b.snap = 60
			b.conn(0).send(get(1))
			return b.pcap()
		}, 1, []string{"packet 6: connection 10.0.0.2:40000 -> 10.0.0.1:80: only 60 of the packet's 92 bytes were captured (the snap length): the connection is cut here"}},
		{"not HTTP", func() []byte {
			b := newBuilder(t)
			b.conn(0).handshake().send("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n")
			return b.pcap()
		}, 0, []string{`packet 4: connection 10.0.0.2:40000 -> 10.0.0.1:80: request 1: not an HTTP/1 request line: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03": the connection is cut here`,
			"packet 1: connection 10.0.0.2:40000 -> 10.0.0.1:80 carried no request: left out"}},
		{"HTTP/2", func() []byte {
			b := newBuilder(t)
			b.conn(0).handshake().send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
			return b.pcap()
		}, 0, []string{"packet 4: connection 10.0.0.2:40000 -> 10.0.0.1:80: request 1: HTTP/2, not HTTP/1: the connection is cut here",
			"packet 1: connection 10.0.0.2:40000 -> 10.0.0.1:80 carried no request: left out"}},
		{"pcapng unknown link type", func() []byte {
			b := good()
			b.link = 189
			return b.pcapng()
		}, 0, []string{"packet 1: link type 189 is not one sysmsg reads: packets of that link type are skipped"}},
	}
	for _, tc := range warnCases {
		c := readCapture(t, tc.data(), Options{})
		if w := warnings(c); len(c.Conns) != tc.conns || !reflect.DeepEqual(w, tc.want) {
			t.Errorf("%s: %d conns, warnings\n%s\nwant %d,\n%s", tc.name, len(c.Conns), strings.Join(w, "\n"), tc.conns, strings.Join(tc.want, "\n"))
		}
	}

	// Packets that are not TCP to the port are skipped, and counted.
	b := good()
	b.udp()
	b.port = 8080
	b.exchange(1, 1, 1)
	b.udp()
	c := readCapture(t, b.pcap(), Options{})
	if c.Packets != 20 || c.Skipped != 10 || len(c.Conns) != 1 || len(c.Warnings) != 0 {
		t.Errorf("packets %d, skipped %d, conns %d, warnings %q", c.Packets, c.Skipped, len(c.Conns), warnings(c))
	}
}

// ngWithResolution is a small pcapng whose interface has the timestamp
// resolution r.
func ngWithResolution(t *testing.T, r byte) []byte {
	b := newBuilder(t)
	b.exchange(0, 1, 1)
	ng := b.pcapng()
	idb := ngFirstBlock(t, ng, blockInterface)
	// The writer's interface has options: find if_tsresol (9).
	end := idb + int(binary.LittleEndian.Uint32(ng[idb+4:])) - 4
	for off := idb + 16; off+4 <= end; {
		code, l := binary.LittleEndian.Uint16(ng[off:]), int(binary.LittleEndian.Uint16(ng[off+2:]))
		if code == 9 {
			ng[off+4] = r
			return ng
		}
		off += 4 + (l+3)&^3
	}
	t.Fatal("no if_tsresol option")
	return nil
}

// Memory stays bounded on a long capture: connections long idle are
// forgotten, and the reassembly holds only recent ones.
func TestMemoryBounded(t *testing.T) {
	b := newBuilder(t)
	b.mss = 100
	for i := range 600 {
		// One every second; every one's client speaks TLS, so that each
		// is tracked, cut, and its place given to the next.
		c := b.conn(i).handshake()
		c.send("\x16\x03\x01 hello\n")
		b.t = b.t.Add(time.Second)
	}
	rd := newReader(context.Background(), "test.pcap", Options{}.withDefaults())
	if err := rd.readPcap(bufio.NewReader(bytes.NewReader(b.pcap()))); err != nil {
		t.Fatal(err)
	}
	// Two minutes of connections (120), and those since the last look
	// (256 packets: 64).
	if n := len(rd.conns); n > 184 {
		t.Errorf("%d connections remembered, want at most 184 of 600", n)
	}
	if n := rd.asm.FlushAll(); n > 184 {
		t.Errorf("%d connections in the reassembly, want at most 184 of 600", n)
	}
}

func TestInterrupted(t *testing.T) {
	b := newBuilder(t)
	for i := range 300 {
		b.exchange(i, 1, 1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := Read(ctx, bytes.NewReader(b.pcap()), "test.pcap", Options{})
	if c != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, %v", c, err)
	}
}

// The formats: pcap in either byte order, pcapng of several sections,
// either gzipped.
func TestFormats(t *testing.T) {
	b := newBuilder(t)
	b.exchange(0, 3, 3)
	pcap := b.pcap()
	b2 := newBuilder(t)
	b2.link, b2.v6 = linkSLL2, true
	b2.exchange(1, 2, 1)
	twoSections := append(b.pcapng(), b2.pcapng()...)
	gz := func(data []byte) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
		return buf.Bytes()
	}
	cases := []struct {
		name string
		data []byte
		want [][]int
	}{
		{"pcap", pcap, [][]int{{3, 2, 1}}},
		{"big-endian pcap", bigEndian(pcap), [][]int{{3, 2, 1}}},
		{"pcapng of two sections", twoSections, [][]int{{3, 2, 1}, {1, 1}}},
		{"gzipped pcap", gz(pcap), [][]int{{3, 2, 1}}},
		{"gzipped pcapng", gz(twoSections), [][]int{{3, 2, 1}, {1, 1}}},
	}
	for _, tc := range cases {
		c := readCapture(t, tc.data, Options{})
		if got := allDepths(c); !reflect.DeepEqual(got, tc.want) || len(c.Warnings) != 0 {
			t.Errorf("%s: depths %v, warnings %q", tc.name, got, warnings(c))
		}
	}
	if c := readCapture(t, twoSections, Options{}); c.Conns[1].First != 13 || c.Packets != 22 {
		t.Errorf("two sections: packets %d, second connection from packet %d", c.Packets, c.Conns[1].First)
	}
}

// bigEndian rewrites a little-endian pcap file in big-endian order.
func bigEndian(le []byte) []byte {
	be := bytes.Clone(le)
	swap32 := func(off int) { binary.BigEndian.PutUint32(be[off:], binary.LittleEndian.Uint32(le[off:])) }
	swap16 := func(off int) { binary.BigEndian.PutUint16(be[off:], binary.LittleEndian.Uint16(le[off:])) }
	swap32(0)
	swap16(4)
	swap16(6)
	for off := 8; off < 24; off += 4 {
		swap32(off)
	}
	for off := 24; off < len(le); {
		for f := 0; f < 16; f += 4 {
			swap32(off + f)
		}
		off += 16 + int(binary.LittleEndian.Uint32(le[off+8:]))
	}
	return be
}
