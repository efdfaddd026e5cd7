//go:build linux

package httpd

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// Tap sees a server's traffic as the server sees it: bytes read and
// written on each connection, never packets. Set [Config.Tap] to one to
// record the traffic (package capture's Recorder writes it as pcapng);
// with none, the server pays one nil check per read and per write.
//
// The server calls a Tap from its user threads, one connection's calls in
// the order they happened: Accepted first, then Read and Wrote as the
// reader and writer threads read and write, then Closed. The calls of
// different connections interleave, and [Server.Close] may call Closed
// from the goroutine that closes the server, so a Tap must be safe for
// concurrent use. A call must not block for long: it runs on the
// server's user thread, and no other user thread runs meanwhile. A Tap
// must not keep b after the call returns: the server reuses it.
type Tap interface {
	// Accepted is called when the server accepts connection conn (numbered
	// from 0 in the order accepted) from peer on local, before any of
	// its bytes is read. peer is the zero AddrPort if the connection
	// was reset before the server could ask for its address.
	Accepted(conn uint64, peer, local netip.AddrPort)
	// Read is called with the bytes of each read from the client, in
	// order, and, when a read fails, once more with none and its error:
	// io.EOF when the client closed its side, or another, such as a
	// reset. A reader that stops after a request that closes the
	// connection, or that the server's Close ends, makes no such call.
	Read(conn uint64, b []byte, err error)
	// Wrote is called with the bytes each write sent to the client, in
	// order: the part of the buffer the write took.
	Wrote(conn uint64, b []byte)
	// Closed is called when the server has closed the connection.
	Closed(conn uint64)
}

// tapAccept tells the tap of a new connection, with the addresses the
// socket has: the peer's from getpeername (a direct system call, outside
// the port and its cap: the tap is instrumentation, not the server's
// work), the local one from the listening address.
func (srv *Server) tapAccept(c *conn) {
	var peer netip.AddrPort
	if sa, err := unix.Getpeername(c.fd); err == nil {
		if in, ok := sa.(*unix.SockaddrInet4); ok {
			peer = netip.AddrPortFrom(netip.AddrFrom4(in.Addr), uint16(in.Port))
		}
	}
	local := netip.AddrPortFrom(netip.AddrFrom4(srv.cfg.Addr), uint16(srv.port))
	srv.cfg.Tap.Accepted(c.id, peer, local)
}
