// Package capture turns captured HTTP traffic into sysmsg's terms, and the
// server's own traffic into captures: it reads classic pcap and pcapng
// files with gopacket's pure-Go parts (pcapgo, layers, reassembly; never
// pcap, which needs cgo and libpcap), reassembles each TCP connection,
// parses the HTTP/1.1 messages of each direction, and keeps, per
// connection, the requests and the order in which requests and responses
// passed: the client's pipelining as it really happened. From that it
// writes a workload in the workload format, and it can send the captured
// requests again, with the captured pipelining, to a server. It also
// writes a server's traffic as pcapng.
package capture

import (
	"net/netip"
	"strconv"
	"time"
)

// Capture is what a capture file holds, in sysmsg's terms.
type Capture struct {
	// File is the name the capture was read from.
	File string
	// Packets counts the packets read; Skipped those that were not TCP to
	// or from the port, or could not be decoded.
	Packets, Skipped int
	// Seen counts the TCP connections to the port met in the capture,
	// those left out included.
	Seen int
	// Conns are the TCP connections to the port, in the order of their
	// first packet, at most Options.MaxConns of them.
	Conns []Conn
	// Cut says what the bounds left out, in words, one line each:
	// "12 connections beyond --max-conns 4".
	Cut []string
	// Warnings are the problems met that did not stop the reading, each
	// naming the packet: "packet 812: segment retransmitted, ignored".
	Warnings []Warning
}

// Conn is one TCP connection's HTTP exchange.
type Conn struct {
	Client, Server netip.AddrPort
	// First is the number (from 1) of the connection's first packet.
	First int
	// Events are the connection's requests and responses in the order
	// their last byte was captured: the client's pipelining.
	Events []Event
	// Requests are the requests' bytes, in order, for replay.
	Requests [][]byte
}

// Event is one request or response passing.
type Event struct {
	Kind EventKind
	// Packet is the number of the packet that completed it; Time its
	// capture time.
	Packet int
	Time   time.Time
	// Size is the message's size in bytes, headers and body.
	Size int
}

// EventKind says whether an event is a request or a response.
type EventKind uint8

const (
	Request EventKind = iota
	Response
)

func (k EventKind) String() string {
	if k == Response {
		return "response"
	}
	return "request"
}

// Warning is a problem in a capture that did not stop the reading.
type Warning struct {
	Packet int // the packet's number, from 1; 0 for the file as a whole
	Msg    string
}

func (w Warning) String() string {
	if w.Packet == 0 {
		return w.Msg
	}
	return "packet " + strconv.Itoa(w.Packet) + ": " + w.Msg
}

// Depths returns, for each response of c in order, how many requests the
// client had outstanding just before it arrived: a client that pipelines
// 8 deep shows 8.
func (c *Conn) Depths() []int {
	var out []int
	outstanding := 0
	for _, e := range c.Events {
		if e.Kind == Request {
			outstanding++
			continue
		}
		out = append(out, outstanding)
		outstanding = max(outstanding-1, 0)
	}
	return out
}
