package capture

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/sysmsg/sysmsg/model/workload"
)

// The workload made from a capture parses, has the seed's web server's
// shape, and each client's program is the captured order of its sends
// and receives, with the responses never captured received at its end.
func TestWorkloadParses(t *testing.T) {
	b := newBuilder(t)
	b.exchange(0, 4, 4)
	b.exchange(1, 4, 2)
	c := b.conn(2).handshake()
	c.send(get(0)).send(get(1)).reply(ok(0)).fin() // response 2 never comes
	cp := readCapture(t, b.pcapng(), Options{MaxConns: 3})
	cp.File = "dir/we\"ird\nname.pcapng"
	text, err := cp.Workload()
	if err != nil {
		t.Fatal(err)
	}
	w, err := workload.Parse("out.wl", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if want := `we?ird?name.pcapng: 3 connections to port 80`; w.Title != want {
		t.Errorf("title %q, want %q", w.Title, want)
	}
	if len(w.Processes) != 1 || w.Processes[0].Cap != 2 || len(w.Threads) != 6 || len(w.Peers) != 3 || len(w.Objects) != 6 {
		t.Fatalf("shape: %d processes, %d threads, %d peers, %d objects", len(w.Processes), len(w.Threads), len(w.Peers), len(w.Objects))
	}
	want := []string{"ssssrrrr", "ssrsrsrr", "ssrr"}
	for i, p := range w.Peers {
		var got strings.Builder
		for _, op := range p.Ops {
			got.WriteByte(op.Kind.String()[0])
			if w.Objects[op.Object].Name != fmt.Sprintf("c%d", i) {
				t.Errorf("peer %s uses %s", p.Name, w.Objects[op.Object].Name)
			}
		}
		if got.String() != want[i] {
			t.Errorf("peer %s: %s, want %s", p.Name, got.String(), want[i])
		}
	}
	for i, th := range w.Threads {
		if len(th.Ops) != 2*[]int{4, 4, 2}[i/2] {
			t.Errorf("thread %s: %d operations", th.Name, len(th.Ops))
		}
	}
}

// writeProgram's repeats unroll to the program they were made from.
func TestProgramRepeatsUnroll(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 500 {
		ops := make([]bool, 1+r.IntN(40))
		for i := range ops {
			// Runs and alternations, as clients make them.
			switch r.IntN(3) {
			case 0:
				ops[i] = i%2 == 0
			case 1:
				ops[i] = i > 0 && ops[i-1]
			default:
				ops[i] = r.IntN(2) == 0
			}
		}
		var b strings.Builder
		b.WriteString("conn c\nprocess s\n  thread t\n    read c\n  end\nend\npeer p\n")
		writeProgram(&b, ops, "c")
		b.WriteString("end\n")
		w, err := workload.Parse("p.wl", b.String())
		if err != nil {
			t.Fatalf("%d: %v\n%s", n, err, b.String())
		}
		var got []bool
		for _, op := range w.Peers[0].Ops {
			got = append(got, op.Kind == workload.Send)
		}
		if !reflect.DeepEqual(got, ops) {
			t.Fatalf("%d: %v unrolls to %v\n%s", n, ops, got, b.String())
		}
	}
}

func TestWorkloadBounds(t *testing.T) {
	if _, err := (&Capture{File: "x.pcap"}).Workload(); !errors.Is(err, ErrWorkload) {
		t.Errorf("no connection: %v", err)
	}
	conn := Conn{Server: netip.MustParseAddrPort("10.0.0.1:80"), Events: []Event{{Kind: Request}, {Kind: Response}}}
	many := &Capture{Conns: make([]Conn, MaxConns+1)}
	for i := range many.Conns {
		many.Conns[i] = conn
	}
	if _, err := many.Workload(); !errors.Is(err, ErrWorkload) {
		t.Errorf("%d connections: %v", MaxConns+1, err)
	}
	long := &Capture{Conns: []Conn{{Server: conn.Server}}}
	for range MaxRequests + 1 {
		long.Conns[0].Events = append(long.Conns[0].Events, Event{Kind: Request})
	}
	if _, err := long.Workload(); !errors.Is(err, ErrWorkload) {
		t.Errorf("%d requests: %v", MaxRequests+1, err)
	}
	// At the bounds, it parses.
	many.Conns = many.Conns[:MaxConns]
	long.Conns[0].Events = long.Conns[0].Events[:MaxRequests]
	for _, c := range []*Capture{many, long} {
		text, err := c.Workload()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := workload.Parse("w.wl", text); err != nil {
			t.Fatal(err)
		}
	}
}
