// Package httpd is the seed's web server, for real: an HTTP/1.1 server
// with keep-alive and pipelining, built on the userland scheduler and the
// host kernel, so that its cap and policy are the port's.
//
// One acceptor thread accepts connections; each connection gets a reader
// thread, which reads requests and at once reads ahead for the next ones,
// handing each parsed request to the connection's writer thread through a
// user-level [sched.Queue]; the writer sends the responses in order,
// batching those that are ready. Responses are small and fixed; requests
// are limited in size (a header over [Config.MaxHeader] gets 431, a body
// over [Config.MaxBody] 413, a malformed request 400, and the connection
// closes after each of those).
//
// At cap 2 under poll it answers every request of a pipelining load
// client. Under block its readers' read-ahead and the acceptor's accept
// hold both slots while the writers wait for one, and the clients wait for
// the responses: the seed's deadlock, which the watchdog reports from
// [Server.Serve] as a [*sched.StuckError].
//
// A [Tap] in [Config.Tap] is told of every connection's accept, the bytes
// of each read and write, and its close: package capture's Recorder
// writes them as a pcapng file of clean TCP (sysmsg serve --record).
package httpd
