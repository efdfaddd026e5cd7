package capture

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The HTTP/1.1 parser reads one direction of a connection as its bytes
// come, a segment at a time, and reports each message when its last byte
// is in: a request's or a response's size, and for a request its bytes.
// It knows of a message only what its framing needs (RFC 9112, section
// 6): the start line, Content-Length, Transfer-Encoding, and for a
// response the request's method and its own status. It keeps at most one
// line and, for a request, the request's bytes; a body it only counts.

// maxHeader bounds a message's start line and header fields together.
const maxHeader = 64 << 10

// maxChunkLine bounds a chunk-size line, extensions included.
const maxChunkLine = 4096

type parseState uint8

const (
	stStart      parseState = iota // before a start line; empty lines are skipped
	stHeaders                      // reading header lines
	stBody                         // remain bytes of a body with a length
	stChunkSize                    // reading a chunk-size line
	stChunkData                    // remain bytes of a chunk, then its CRLF
	stChunkEnd                     // the line that ends a chunk's data
	stTrailers                     // trailer lines after the last chunk
	stUntilClose                   // a response body that ends when the server closes
)

// message is one HTTP message, complete.
type message struct {
	size int64
	// A request's method was HEAD or CONNECT.
	head, connect bool
	// A response's status code.
	status int
	// A request's bytes, when kept.
	bytes []byte
}

// errTooLarge is a request larger than the limit.
var errTooLarge = errors.New("larger than the limit")

// httpParser parses one direction of a connection.
type httpParser struct {
	response bool
	// headRequest, for a response, says whether the request it answers
	// was a HEAD: its response has no body.
	headRequest func() bool
	// limit bounds a request's size in bytes; keep says whether to keep
	// its bytes.
	limit int64
	keep  bool

	state  parseState
	line   []byte
	header int64 // bytes of the start line and header fields so far
	size   int64 // bytes of the message so far
	remain int64 // body or chunk bytes still to come

	// The message's framing, from its headers.
	length     int64 // Content-Length, or -1
	chunked    bool
	otherCode  bool // Transfer-Encoding without chunked last
	head       bool
	connect    bool
	status     int
	bytes      []byte
	inMessage  bool // some of a message is in
	interimEnd bool // the message ending is a 1xx response, not reported
}

func newParser(response bool, limit int64, keep bool) *httpParser {
	p := &httpParser{response: response, limit: limit, keep: keep}
	p.reset()
	return p
}

// busy reports whether part of a message has been read.
func (p *httpParser) busy() bool { return p.inMessage }

// closeMessage ends a response whose body runs until the server closes:
// the close completes it. It reports the message, or false if none was
// waiting for the close.
func (p *httpParser) closeMessage() (message, bool) {
	if p.state != stUntilClose {
		return message{}, false
	}
	return p.finish(), true
}

// feed parses data, calling emit for each message it completes. An error
// is a message that is not HTTP/1.1 or is over a limit; the parser is of
// no more use after one.
func (p *httpParser) feed(data []byte, emit func(message) error) error {
	for len(data) > 0 {
		n, done, err := p.step(data)
		if p.inMessage || done {
			// The bytes belong to a message, not to empty lines
			// before one.
			if p.keep && !p.response {
				p.bytes = append(p.bytes, data[:n]...)
			}
			p.size += int64(n)
		}
		data = data[n:]
		if err != nil {
			return err
		}
		if !p.response && p.size > p.limit {
			return fmt.Errorf("request %w of %d bytes", errTooLarge, p.limit)
		}
		if done {
			if p.interimEnd {
				p.reset()
				continue
			}
			if err := emit(p.finish()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *httpParser) reset() {
	p.state, p.header, p.size, p.remain = stStart, 0, 0, 0
	p.length, p.chunked, p.otherCode, p.head, p.connect, p.status = -1, false, false, false, false, 0
	p.bytes, p.inMessage, p.interimEnd = nil, false, false
}

func (p *httpParser) finish() message {
	m := message{size: p.size, head: p.head, connect: p.connect, status: p.status, bytes: p.bytes}
	p.reset()
	return m
}

// step consumes some of data: n bytes, and done when they end a message.
func (p *httpParser) step(data []byte) (n int, done bool, err error) {
	switch p.state {
	case stBody:
		n = int(min(p.remain, int64(len(data))))
		p.remain -= int64(n)
		return n, p.remain == 0, nil
	case stChunkData:
		n = int(min(p.remain, int64(len(data))))
		p.remain -= int64(n)
		if p.remain == 0 {
			p.state = stChunkEnd
		}
		return n, false, nil
	case stUntilClose:
		return len(data), false, nil
	}
	// A line-based state: take up to the end of the line.
	i := bytes.IndexByte(data, '\n')
	n = len(data)
	if i >= 0 {
		n = i + 1
	}
	max := maxHeader
	if p.state == stChunkSize || p.state == stChunkEnd {
		max = maxChunkLine
	}
	if len(p.line)+n > max {
		if max == maxChunkLine {
			return n, false, fmt.Errorf("chunk-size line longer than %d bytes", max)
		}
		return n, false, fmt.Errorf("start line and headers longer than %d bytes", max)
	}
	if p.state == stStart || p.state == stHeaders || p.state == stTrailers {
		p.header += int64(n)
		if p.header > maxHeader {
			return n, false, fmt.Errorf("start line and headers longer than %d bytes", maxHeader)
		}
	}
	if i < 0 {
		p.line = append(p.line, data...)
		// A message has begun unless all there is of the line is the
		// CR of an empty one.
		p.inMessage = p.inMessage || len(bytes.TrimLeft(p.line, "\r")) > 0
		return n, false, nil
	}
	line := data[:i]
	if len(p.line) > 0 {
		p.line = append(p.line, line...)
		line = p.line
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	done, err = p.onLine(line)
	p.line = p.line[:0]
	return n, done, err
}

// onLine handles one whole line, its ending taken off.
func (p *httpParser) onLine(line []byte) (done bool, err error) {
	switch p.state {
	case stStart:
		if len(line) == 0 && !p.inMessage {
			// An empty line before a message is tolerated; it counts
			// in no message.
			p.header = 0
			return false, nil
		}
		p.inMessage = true
		p.length = -1
		if p.response {
			err = p.statusLine(line)
		} else {
			err = p.requestLine(line)
		}
		p.state = stHeaders
		return false, err
	case stHeaders:
		if len(line) == 0 {
			return p.endHeaders()
		}
		return false, p.field(line)
	case stChunkSize:
		size, err := chunkSize(line)
		if err != nil {
			return false, err
		}
		if size == 0 {
			p.state = stTrailers
			return false, nil
		}
		if !p.response && p.size+size > p.limit {
			return false, fmt.Errorf("request %w of %d bytes", errTooLarge, p.limit)
		}
		p.state, p.remain = stChunkData, size
		return false, nil
	case stChunkEnd:
		if len(line) != 0 {
			return false, errors.New("chunk data longer than its size")
		}
		p.state = stChunkSize
		return false, nil
	case stTrailers:
		if len(line) == 0 {
			return true, nil
		}
		return false, nil
	}
	return false, nil
}

func (p *httpParser) requestLine(line []byte) error {
	f := bytes.Split(line, []byte(" "))
	if len(f) != 3 || !isToken(f[0]) || len(f[1]) == 0 {
		return fmt.Errorf("not an HTTP/1 request line: %s", quoteBytes(line))
	}
	if string(f[2]) == "HTTP/2.0" {
		return errors.New("HTTP/2, not HTTP/1")
	}
	if !httpVersion(f[2]) {
		return fmt.Errorf("not an HTTP/1 request line: %s", quoteBytes(line))
	}
	p.head = string(f[0]) == "HEAD"
	p.connect = string(f[0]) == "CONNECT"
	return nil
}

func (p *httpParser) statusLine(line []byte) error {
	f := bytes.SplitN(line, []byte(" "), 3)
	if len(f) < 2 || !httpVersion(f[0]) || len(f[1]) != 3 {
		return fmt.Errorf("not an HTTP/1 status line: %s", quoteBytes(line))
	}
	code, err := strconv.Atoi(string(f[1]))
	if err != nil || code < 100 || code > 999 {
		return fmt.Errorf("not an HTTP/1 status line: %s", quoteBytes(line))
	}
	p.status = code
	return nil
}

// field reads a header field, keeping what framing needs.
func (p *httpParser) field(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		return nil // an obsolete folded continuation: no framing field is folded
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return fmt.Errorf("bad header field: %s", quoteBytes(line))
	}
	name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		// A list of equal values is one value (RFC 9110, 8.6).
		for _, v := range bytes.Split(value, []byte(",")) {
			n, ok := decimal(bytes.TrimSpace(v))
			if !ok {
				return fmt.Errorf("bad Content-Length: %s", quoteBytes(value))
			}
			if p.length >= 0 && n != p.length {
				return fmt.Errorf("Content-Length %d and %d", p.length, n)
			}
			p.length = n
		}
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		codes := bytes.Split(value, []byte(","))
		last := bytes.TrimSpace(codes[len(codes)-1])
		// A later field adds codings after an earlier one's.
		p.chunked = bytes.EqualFold(last, []byte("chunked"))
		p.otherCode = !p.chunked
	}
	return nil
}

// endHeaders decides the body, at the empty line that ends the headers.
func (p *httpParser) endHeaders() (done bool, err error) {
	if p.response {
		switch {
		case p.status >= 100 && p.status < 200 && p.status != 101:
			// An interim response: the final one follows.
			p.interimEnd = true
			return true, nil
		case p.status == 101 || p.status == 204 || p.status == 304 || p.headRequest != nil && p.headRequest():
			return true, nil
		case p.chunked:
			p.state = stChunkSize
		case p.otherCode:
			p.state = stUntilClose
		case p.length >= 0:
			p.state, p.remain = stBody, p.length
		default:
			p.state = stUntilClose
		}
	} else {
		switch {
		case p.chunked:
			p.state = stChunkSize
		case p.otherCode:
			return false, errors.New("request with a Transfer-Encoding that does not end in chunked")
		case p.length > 0:
			if p.size+p.length > p.limit {
				return false, fmt.Errorf("request %w of %d bytes (Content-Length %d)", errTooLarge, p.limit, p.length)
			}
			p.state, p.remain = stBody, p.length
		}
	}
	if p.state == stHeaders {
		return true, nil // no body
	}
	if p.state == stBody && p.remain == 0 {
		return true, nil
	}
	return false, nil
}

// chunkSize reads a chunk-size line: hex digits, then extensions.
func chunkSize(line []byte) (int64, error) {
	end := 0
	for end < len(line) && isHex(line[end]) {
		end++
	}
	if end == 0 || end > 15 {
		return 0, fmt.Errorf("bad chunk size: %s", quoteBytes(line))
	}
	if rest := bytes.TrimLeft(line[end:], " \t"); len(rest) > 0 && rest[0] != ';' {
		return 0, fmt.Errorf("bad chunk size: %s", quoteBytes(line))
	}
	n, _ := strconv.ParseInt(string(line[:end]), 16, 64)
	return n, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// decimal reads a Content-Length: digits, at most 18 of them.
func decimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func httpVersion(b []byte) bool {
	return len(b) == 8 && string(b[:7]) == "HTTP/1." && b[7] >= '0' && b[7] <= '9'
}

// isToken reports whether b is an HTTP token (RFC 9110, 5.6.2).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// quoteBytes quotes b for a warning as Go's %q does, cut after 40 bytes.
func quoteBytes(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}
