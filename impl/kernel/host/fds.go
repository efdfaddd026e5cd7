//go:build linux

package host

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Pipe makes a registered non-blocking pipe.
func (k *Kernel) Pipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return -1, -1, fmt.Errorf("host: pipe2: %w", err)
	}
	for _, fd := range p {
		if err := k.Register(fd); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return -1, -1, err
		}
	}
	return p[0], p[1], nil
}

// Socketpair makes a connected pair of Unix stream sockets: local is
// registered with the kernel, remote is left for a peer (non-blocking,
// unregistered).
func (k *Kernel) Socketpair() (local, remote int, err error) {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("host: socketpair: %w", err)
	}
	if err := k.Register(p[0]); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return -1, -1, err
	}
	return p[0], p[1], nil
}

// ListenTCP makes a registered listening TCP socket on the IPv4 loopback
// address at port (0 picks one) and returns it with its port.
func (k *Kernel) ListenTCP(addr [4]byte, port int) (fd, boundPort int, err error) {
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("host: socket: %w", err)
	}
	fail := func(what string, err error) (int, int, error) {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("host: %s: %w", what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: addr}); err != nil {
		return fail(fmt.Sprintf("bind %d.%d.%d.%d:%d", addr[0], addr[1], addr[2], addr[3], port), err)
	}
	if err := unix.Listen(fd, 1024); err != nil {
		return fail("listen", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	if err := k.Register(fd); err != nil {
		unix.Close(fd)
		return -1, 0, err
	}
	return fd, sa.(*unix.SockaddrInet4).Port, nil
}

// LoopbackPair makes a TCP connection over 127.0.0.1: local, the accepted
// end, is registered with the kernel; remote, the connecting end, is left
// for a peer (non-blocking, unregistered).
func (k *Kernel) LoopbackPair() (local, remote int, err error) {
	lfd, p, err := listenBlocking()
	if err != nil {
		return -1, -1, err
	}
	defer unix.Close(lfd)
	remote, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("host: socket: %w", err)
	}
	if err := unix.Connect(remote, &unix.SockaddrInet4{Port: p, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(remote)
		return -1, -1, fmt.Errorf("host: connect 127.0.0.1:%d: %w", p, err)
	}
	local, _, err = unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err != nil {
		unix.Close(remote)
		return -1, -1, fmt.Errorf("host: accept: %w", err)
	}
	_ = unix.SetsockoptInt(local, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	_ = unix.SetsockoptInt(remote, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := unix.SetNonblock(remote, true); err != nil {
		unix.Close(local)
		unix.Close(remote)
		return -1, -1, err
	}
	if err := k.Register(local); err != nil {
		unix.Close(local)
		unix.Close(remote)
		return -1, -1, err
	}
	return local, remote, nil
}

func listenBlocking() (fd, port int, err error) {
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("host: socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("host: bind 127.0.0.1:0: %w", err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("host: listen: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("host: getsockname: %w", err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port, nil
}

// PeerIO performs a peer's read or write on a non-blocking fd outside every
// kernel, waiting for readiness with poll(2) in slices of wait so that a
// caller can give up (stop returns true). It returns the count, or the
// errno.
func PeerIO(write bool, fd int, buf []byte, wait int, stop func() bool) (int, error) {
	ev := int16(unix.POLLIN)
	if write {
		ev = unix.POLLOUT
	}
	for {
		var n int
		var err error
		if write {
			n, err = unix.Write(fd, buf)
		} else {
			n, err = unix.Read(fd, buf)
		}
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if stop() {
				return 0, unix.ECANCELED
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: ev}}
			_, _ = unix.Poll(pfd, wait)
		default:
			return 0, err
		}
	}
}
