package capture

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var (
	rewrite = flag.Bool("rewrite", false, "rewrite the captures in testdata and the fuzz seeds from the builder")
	bigPcap = flag.String("bigpcap", "", "write a capture of more than 100,000 packets to `FILE` (TestWriteBigCapture)")
)

// The captures in testdata are the builder's, committed so that the
// command's scripts (cmd/sysmsg/testdata/script/frompcap.txt) can read
// them; TestFixtures checks that they are what the builder makes, and
// -rewrite writes them again.
var fixtures = []struct {
	file string
	make func(testing.TB) []byte
}{
	// Two clients that keep 2 of their 4 requests outstanding: under
	// block at cap 2 the readers' read-ahead holds both slots.
	{"pipelined.pcap", func(tb testing.TB) []byte {
		b := newBuilder(tb)
		b.exchange(0, 4, 2)
		b.exchange(1, 4, 2)
		return b.pcap()
	}},
	// Two clients that send all 4 requests at once, over IPv6 on Linux
	// cooked v2, as pcapng.
	{"allatonce.pcapng", func(tb testing.TB) []byte {
		b := newBuilder(tb)
		b.link, b.v6 = linkSLL2, true
		b.exchange(0, 4, 4)
		b.exchange(1, 4, 4)
		return b.pcapng()
	}},
	// Every problem that leaves the rest readable, and a file cut short.
	{"messy.pcap", func(tb testing.TB) []byte { return messy(tb).pcap() }},
	// A record claiming a captured length of 4 GiB.
	{"huge.pcap", func(tb testing.TB) []byte {
		b := newBuilder(tb)
		b.exchange(0, 1, 1)
		data := b.pcap()
		binary.LittleEndian.PutUint32(data[24+8:], 0xFFFFFFF0)
		return data
	}},
	// A link type sysmsg does not read (USB).
	{"usb.pcap", func(tb testing.TB) []byte {
		b := newBuilder(tb)
		b.exchange(0, 1, 1)
		b.link = 189
		return b.pcap()
	}},
}

// messy is a capture with a segment out of order and one retransmitted,
// a connection with no SYN, one reset in the middle of a request, and
// the file cut short inside its last packet.
func messy(tb testing.TB) *capBuilder {
	b := newBuilder(tb)
	b.mss = 20
	c := b.conn(0).handshake() // packets 1-3
	c.send(get(0))             // 4-5: swapped below
	c.reply(ok(0))             // 6-8
	c.send(get(1))             // 9-10
	b.dup(9)                   // 11: packet 9 again
	c.reply(ok(1))             // 12-14
	c.fin()                    // 15-17
	b.swap(4, 5)
	// A connection whose start the capture missed.
	m := b.conn(1)
	m.send(get(0)) // 18-19
	m.reply(ok(0)) // 20-22
	r := b.conn(2).handshake()
	r.send(get(0))                     // 26-27
	r.reply(ok(0))                     // 28-30
	r.send(get(1)[:25])                // 31-32: half a request
	r.rst(true)                        // 33
	b.conn(3).handshake().send(get(0)) // 34-38, the last cut short
	return b
}

func TestFixtures(t *testing.T) {
	for _, f := range fixtures {
		path := filepath.Join("testdata", f.file)
		data := f.make(t)
		if f.file == "messy.pcap" {
			// The file ends 10 bytes into the last packet's data.
			pkts := messy(t).pkts
			data = data[:len(data)-len(pkts[len(pkts)-1].data)+10]
		}
		if *rewrite {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, data) {
			t.Errorf("%s is not what the builder makes (go test ./capture -run TestFixtures -rewrite): %v", path, err)
		}
	}
	// The fuzzer's seeds: a small pcap and pcapng, each cut short, and
	// each with a captured length too large.
	b := newBuilder(t)
	b.mss = 30
	b.exchange(0, 2, 2)
	b.exchange(1, 2, 1)
	pcap, ng := b.pcap(), b.pcapng()
	hugePcap := bytes.Clone(pcap)
	binary.LittleEndian.PutUint32(hugePcap[24+8:], 0x7FFFFFFF)
	hugeNg := bytes.Clone(ng)
	epb := ngFirstBlock(t, hugeNg, blockEnhanced)
	binary.LittleEndian.PutUint32(hugeNg[epb+20:], 0x7FFFFFFF)
	seeds := map[string][]byte{
		"pcap":        pcap,
		"pcapng":      ng,
		"pcap-cut":    pcap[:len(pcap)-7],
		"pcapng-cut":  ng[:len(ng)-7],
		"pcap-huge":   hugePcap,
		"pcapng-huge": hugeNg,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	for name, data := range seeds {
		path := filepath.Join(dir, name)
		text := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		if *rewrite {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if old, err := os.ReadFile(path); err != nil || string(old) != text {
			t.Errorf("%s is not what the builder makes (go test ./capture -run TestFixtures -rewrite): %v", path, err)
		}
	}
}

// ngFirstBlock returns the offset of the first block of type typ.
func ngFirstBlock(tb testing.TB, data []byte, typ uint32) int {
	for off := 0; off+8 <= len(data); off += int(binary.LittleEndian.Uint32(data[off+4:])) {
		if binary.LittleEndian.Uint32(data[off:]) == typ {
			return off
		}
	}
	tb.Fatalf("no block of type %d", typ)
	return 0
}

// bigCapture is a capture of more than 100,000 packets: 16 connections at
// once, each with 3,200 requests pipelined 4 deep, their packets
// interleaved.
func bigCapture(tb testing.TB) []byte {
	b := newBuilder(tb)
	const conns, reqs, window = 16, 3200, 4
	cs := make([]*tconn, conns)
	for i := range cs {
		cs[i] = b.conn(i).handshake()
	}
	sent, got := make([]int, conns), make([]int, conns)
	for done := 0; done < conns; {
		done = 0
		for i, c := range cs {
			if got[i] == reqs {
				done++
				continue
			}
			for sent[i] < reqs && sent[i]-got[i] < window {
				c.send(get(sent[i]))
				sent[i]++
			}
			c.reply(ok(got[i]))
			got[i]++
			if got[i] == reqs {
				c.fin()
			}
		}
	}
	return b.pcap()
}

// TestWriteBigCapture writes bigCapture to the file -bigpcap names, for
// measuring the command: go test ./capture -run TestWriteBigCapture
// -bigpcap "$PWD/big.pcap", then /usr/bin/time -f %M bin/sysmsg workload
// from-pcap big.pcap.
func TestWriteBigCapture(t *testing.T) {
	if *bigPcap == "" {
		t.Skip("no -bigpcap FILE")
	}
	data := bigCapture(t)
	if err := os.WriteFile(*bigPcap, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s: %d bytes\n", *bigPcap, len(data))
}
