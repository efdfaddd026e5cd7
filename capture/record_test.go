//go:build linux

package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/sysmsg/sysmsg/impl/httpd"
	"github.com/sysmsg/sysmsg/impl/port"
)

// recStartServer runs the project's HTTP server on 127.0.0.1 at cap 2 under
// poll, with tap. stop stops and closes it (once; the test's cleanup
// does it too) and returns its figures.
func recStartServer(t *testing.T, tap httpd.Tap) (srv *httpd.Server, stop func() httpd.Stats) {
	t.Helper()
	srv, err := httpd.New(httpd.Config{Addr: httpd.Loopback, Sched: port.Config{Cap: 2, Low: port.Unset, Policy: port.Poll},
		StuckAfter: 5 * time.Second, Tap: tap})
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- srv.Serve(quit) }()
	var once sync.Once
	stop = func() httpd.Stats {
		once.Do(func() {
			close(quit)
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			if err := srv.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return srv.Stats()
	}
	t.Cleanup(func() { stop() })
	return srv, stop
}

// recExchange is one test client's connection: the bytes it sent and those
// it received, which a recording must hold as the connection's two
// streams.
type recExchange struct {
	port      uint16 // the client's
	sent, got []byte
	requests  int
}

const (
	recGet      = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	recGetClose = "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
)

// recTalk runs three clients at once against addr, each in its own way: a
// pipelining one (rounds of 5 requests in one write, each round waiting
// for its responses), one that sends a body longer than a segment and
// ends with Connection: close, and one that waits for each response. The
// first and last close their side when done; every one reads to the end.
func recTalk(t *testing.T, addr string) []recExchange {
	t.Helper()
	body := strings.Repeat("b", 3000)
	post := fmt.Sprintf("POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	clients := [][]string{
		{strings.Repeat(recGet, 5), strings.Repeat(recGet, 5), strings.Repeat(recGet, 5)},
		{post + recGet + recGetClose},
		{recGet, recGet, recGet, recGet},
	}
	out := make([]recExchange, len(clients))
	var wg sync.WaitGroup
	for i, writes := range clients {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			var got bytes.Buffer
			br := bufio.NewReader(io.TeeReader(c, &got))
			ex := recExchange{port: uint16(c.LocalAddr().(*net.TCPAddr).Port)}
			for _, w := range writes {
				if _, err := io.WriteString(c, w); err != nil {
					t.Error(err)
					return
				}
				ex.sent = append(ex.sent, w...)
				n := strings.Count(w, "HTTP/1.1\r\n")
				ex.requests += n
				for range n {
					if _, err := replayReadResponse(br, "GET"); err != nil {
						t.Errorf("client %d: %v", i, err)
						return
					}
				}
			}
			if !strings.HasSuffix(writes[len(writes)-1], recGetClose) {
				c.(*net.TCPConn).CloseWrite()
			}
			if _, err := io.Copy(io.Discard, br); err != nil {
				t.Errorf("client %d: reading to the end: %v", i, err)
			}
			ex.got = got.Bytes()
			out[i] = ex
		})
	}
	wg.Wait()
	return out
}

// recordTraffic serves recTalk's clients with a recorder, and returns the file, the
// recorder's and the server's figures, and the exchanges.
func recordTraffic(t *testing.T, opt RecordOptions) ([]byte, RecordStats, httpd.Stats, []recExchange, uint16) {
	t.Helper()
	var file bytes.Buffer
	rec, err := NewRecorder(&file, opt)
	if err != nil {
		t.Fatal(err)
	}
	srv, stop := recStartServer(t, rec)
	exs := recTalk(t, srv.Addr())
	served := stop()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	_, p, _ := strings.Cut(srv.Addr(), ":")
	var port uint16
	fmt.Sscan(p, &port)
	return file.Bytes(), rec.Stats(), served, exs, port
}

// recPackets decodes a pcapng file's frames, and fails the test unless the
// file reads to its end.
func recPackets(t *testing.T, file []byte) []gopacket.Packet {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(file), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("link type %v", r.LinkType())
	}
	var out []gopacket.Packet
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("after %d packets: %v", len(out), err)
		}
		if ci.CaptureLength != ci.Length || len(data) > recordSnaplen {
			t.Errorf("packet %d: captured %d of %d bytes", len(out)+1, ci.CaptureLength, ci.Length)
		}
		out = append(out, gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.Default))
	}
}

// recStream is one connection as a TCP analyser follows it: each side's next
// sequence number, the bytes each way, the flags seen.
type recStream struct {
	next      [2]uint32
	data      [2][]byte
	syn, fin  [2]bool
	handshake int // SYN, SYN-ACK, ACK seen in order
}

// recFollow checks every packet as a TCP analyser would (checksums, each
// segment where its side's stream is, each acknowledgement of all the
// other side sent, a handshake first) and returns the streams by client
// port.
func recFollow(t *testing.T, pkts []gopacket.Packet, serverPort uint16) map[uint16]*recStream {
	t.Helper()
	streams := map[uint16]*recStream{}
	for i, p := range pkts {
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil || p.ErrorLayer() != nil {
			t.Fatalf("packet %d: not TCP/IPv4: %v", i+1, p)
		}
		// The checksums: serialised anew, the packet is the same.
		buf := gopacket.NewSerializeBuffer()
		tcp.SetNetworkLayerForChecksum(ip)
		eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(tcp.Payload)); err != nil || !bytes.Equal(buf.Bytes(), p.Data()) {
			t.Errorf("packet %d: checksums or lengths differ from a fresh serialisation (%v)", i+1, err)
		}
		side, cport := recClient, uint16(tcp.SrcPort)
		if uint16(tcp.SrcPort) == serverPort {
			side, cport = recServer, uint16(tcp.DstPort)
		}
		s := streams[cport]
		if s == nil {
			s = &recStream{}
			streams[cport] = s
		}
		other := 1 - side
		switch {
		case tcp.SYN && side == recClient && s.handshake == 0, tcp.SYN && side == recServer && s.handshake == 1:
			s.handshake++
			s.next[side] = tcp.Seq
		case s.handshake == 2 && side == recClient && tcp.ACK && len(tcp.Payload) == 0:
			s.handshake++
		case s.handshake < 3:
			t.Fatalf("packet %d: the handshake out of order (%d): %v", i+1, s.handshake, tcp)
		}
		if tcp.Seq != s.next[side] {
			t.Errorf("packet %d: seq %d, want %d", i+1, tcp.Seq, s.next[side])
		}
		if tcp.ACK != !(tcp.SYN && side == recClient) || tcp.ACK && tcp.Ack != s.next[other] {
			t.Errorf("packet %d: ack %v %d, want %d", i+1, tcp.ACK, tcp.Ack, s.next[other])
		}
		if len(tcp.Payload) > recordMSS || s.fin[side] && (len(tcp.Payload) > 0 || tcp.FIN) {
			t.Errorf("packet %d: %d bytes after FIN %v", i+1, len(tcp.Payload), s.fin[side])
		}
		s.data[side] = append(s.data[side], tcp.Payload...)
		s.next[side] += uint32(len(tcp.Payload))
		if tcp.SYN || tcp.FIN {
			s.next[side]++
		}
		s.syn[side] = s.syn[side] || tcp.SYN
		s.fin[side] = s.fin[side] || tcp.FIN
	}
	return streams
}

// TestRecordingHoldsTheStreams: decoded and followed as a TCP analyser
// follows it, the recording of a pipelining client, a long body and a
// closing request holds each connection's handshake, both of its streams
// byte for byte, and both FINs; each segment is where its stream is and
// acknowledges all the other side sent; the checksums are right.
func TestRecordingHoldsTheStreams(t *testing.T) {
	file, st, served, exs, sport := recordTraffic(t, RecordOptions{})
	pkts := recPackets(t, file)
	if len(pkts) != st.Packets || st.Conns != len(exs) || int64(len(file)) != st.Bytes || st.Stopped != nil {
		t.Errorf("%d packets in %d bytes; the recorder says %+v", len(pkts), len(file), st)
	}
	streams := recFollow(t, pkts, sport)
	if len(streams) != len(exs) {
		t.Errorf("%d connections recorded, want %d", len(streams), len(exs))
	}
	requests := 0
	for _, ex := range exs {
		s := streams[ex.port]
		if s == nil {
			t.Errorf("client port %d: not recorded", ex.port)
			continue
		}
		requests += ex.requests
		if !bytes.Equal(s.data[recClient], ex.sent) || !bytes.Equal(s.data[recServer], ex.got) {
			t.Errorf("client port %d: the recording holds %d and %d bytes, the client sent %d and got %d",
				ex.port, len(s.data[recClient]), len(s.data[recServer]), len(ex.sent), len(ex.got))
		}
		if s.handshake != 3 || !s.fin[recClient] && !bytes.HasSuffix(ex.sent, []byte(recGetClose)) || !s.fin[recServer] {
			t.Errorf("client port %d: handshake %d, FIN from the client %v, from the server %v", ex.port, s.handshake, s.fin[recClient], s.fin[recServer])
		}
	}
	if served.Requests != uint64(requests) {
		t.Errorf("the server parsed %d requests, the clients sent %d", served.Requests, requests)
	}
}

// TestRecordingStopsAtItsBound: a recorder whose next packet would pass
// its bound stops, says so once, and leaves a valid file of the packets
// before it, within the bound; what comes later is not recorded.
func TestRecordingStopsAtItsBound(t *testing.T) {
	const bound = 2500
	var file bytes.Buffer
	var stops []error
	rec, err := NewRecorder(&file, RecordOptions{MaxBytes: bound, Stopped: func(err error) { stops = append(stops, err) }})
	if err != nil {
		t.Fatal(err)
	}
	peer, local := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:8080")
	rec.Accepted(0, peer, local)
	rec.Read(0, []byte(strings.Repeat(recGet, 100)), nil) // 2700 bytes: the bound cuts it
	rec.Wrote(0, []byte("HTTP/1.1 200 OK\r\n\r\n"))
	rec.Closed(0)
	rec.Accepted(1, peer, local)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	st := rec.Stats()
	if len(stops) != 1 || !errors.Is(stops[0], ErrRecordFull) || !errors.Is(st.Stopped, ErrRecordFull) {
		t.Errorf("stopped %v, stats %+v: want one stop at the bound", stops, st)
	}
	if file.Len() > bound || int64(file.Len()) != st.Bytes || st.Conns != 1 {
		t.Errorf("%d bytes written, the bound %d, stats %+v", file.Len(), bound, st)
	}
	// The header (192 bytes), the handshake (272) and the first segment
	// (1548) fit; the second does not.
	if pkts := recPackets(t, file.Bytes()); len(pkts) != st.Packets || len(pkts) != 4 {
		t.Errorf("%d packets read, the recorder wrote %d, want 4", len(pkts), st.Packets)
	}
	if _, err := NewRecorder(io.Discard, RecordOptions{MaxBytes: 100}); !errors.Is(err, ErrRecordFull) {
		t.Errorf("a bound smaller than the header: %v", err)
	}
}

// TestRecorderIsSafeForConcurrentUse: connections recorded from many
// goroutines at once (as the server's threads and its Close may) each
// come out whole, in order. Run it with -race.
func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	var file bytes.Buffer
	rec, err := NewRecorder(&file, RecordOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const conns, rounds = 8, 20
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			peer := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+i))
			rec.Accepted(uint64(i), peer, netip.MustParseAddrPort("127.0.0.1:8080"))
			for r := range rounds {
				rec.Read(uint64(i), fmt.Appendf(nil, "GET /%d/%d HTTP/1.1\r\n\r\n", i, r), nil)
				rec.Wrote(uint64(i), fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nX: %d/%d\r\n\r\n", i, r))
			}
			rec.Read(uint64(i), nil, io.EOF)
			rec.Closed(uint64(i))
		})
	}
	wg.Wait()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	streams := recFollow(t, recPackets(t, file.Bytes()), 8080)
	ports := make([]uint16, 0, len(streams))
	for p, s := range streams {
		ports = append(ports, p)
		i := int(p - 40000)
		var sent, got []byte
		for r := range rounds {
			sent = fmt.Appendf(sent, "GET /%d/%d HTTP/1.1\r\n\r\n", i, r)
			got = fmt.Appendf(got, "HTTP/1.1 200 OK\r\nX: %d/%d\r\n\r\n", i, r)
		}
		if !bytes.Equal(s.data[recClient], sent) || !bytes.Equal(s.data[recServer], got) || !s.fin[recClient] || !s.fin[recServer] {
			t.Errorf("connection %d: streams %q / %q", i, s.data[recClient], s.data[recServer])
		}
	}
	slices.Sort(ports)
	if len(ports) != conns || ports[0] != 40000 {
		t.Errorf("connections %v", ports)
	}
}

// TestTsharkReadsTheRecording: Wireshark's tshark reads a recording of
// the three clients as clean TCP: as many frames as the recorder wrote,
// one TCP stream per connection, as many HTTP requests as the server
// parsed, checksums verified, and no expert finding above a note, and no
// note but the closing of a connection (no retransmission, lost or
// unseen segment, window problem). Skipped without tshark (apt-get
// install tshark).
func TestTsharkReadsTheRecording(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed (apt-get install tshark): the recording is not checked against Wireshark")
	}
	file, st, served, _, sport := recordTraffic(t, RecordOptions{})
	path := filepath.Join(t.TempDir(), "rec.pcapng")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tshark", "-r", path, "-n",
		"-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
		"-d", fmt.Sprintf("tcp.port==%d,http", sport),
		"-T", "fields", "-E", "separator=|", "-E", "aggregator=^",
		"-e", "frame.number", "-e", "tcp.stream", "-e", "http.request.method",
		"-e", "_ws.expert.severity", "-e", "_ws.expert.message")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	// Wireshark's severities (epan/proto.h).
	const note, warn = 0x00400000, 0x00600000
	closing := map[string]bool{"This frame initiates the connection closing": true, "This frame undergoes the connection closing": true}
	frames, requests := 0, 0
	streams := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 5 {
			t.Fatalf("tshark's line %q", line)
		}
		frames++
		streams[f[1]] = true
		if f[2] != "" {
			requests += len(strings.Split(f[2], "^"))
		}
		if f[3] == "" {
			continue
		}
		sev, msg := strings.Split(f[3], "^"), strings.Split(f[4], "^")
		for i, s := range sev {
			var n int
			fmt.Sscan(s, &n)
			if n >= warn || n >= note && (i >= len(msg) || !closing[msg[i]]) {
				t.Errorf("frame %s: expert finding of severity %#x: %q", f[0], n, f[4])
				break
			}
		}
	}
	if frames != st.Packets || len(streams) != st.Conns || uint64(requests) != served.Requests {
		t.Errorf("tshark read %d frames, %d TCP streams, %d HTTP requests; the recorder wrote %d packets of %d connections, the server parsed %d requests",
			frames, len(streams), requests, st.Packets, st.Conns, served.Requests)
	}
	t.Logf("tshark: %d frames, %d TCP streams, %d HTTP requests, no expert finding above a connection's closing", frames, len(streams), requests)
}
