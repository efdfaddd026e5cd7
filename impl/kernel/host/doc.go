// Package host is the real kernel back end: system call messages run as
// non-blocking system calls on real file descriptors (pipes, socket pairs,
// TCP sockets) through golang.org/x/sys/unix, and completions are driven
// by epoll.
//
// [Kernel.Submit] tries a message's operation at once; if it would block,
// the message waits on its descriptor's list (linked through
// [port.Msg.Next], so a waiting message costs no memory beyond itself)
// until an edge-triggered epoll event says the descriptor is ready, when
// one goroutine per Kernel (not per message) retries the waiters in order
// and posts each completion to the message's port. Sleeps wait in a
// deadline heap that sets the epoll timeout.
//
// Every descriptor the kernel runs operations on must be registered with
// [Kernel.Register] (or made by [Kernel.Pipe], [Kernel.Socketpair],
// [Kernel.ListenTCP] or an accept). Linux only.
package host
