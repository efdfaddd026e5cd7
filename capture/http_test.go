package capture

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// parse feeds stream to a parser in pieces cut at cuts, and returns the
// sizes of the messages it reports, and its error.
func parse(response bool, stream string, cuts []int, heads []bool) ([]int64, error) {
	p := newParser(response, 1<<20, !response)
	p.headRequest = func() bool { return len(heads) > 0 && heads[0] }
	var sizes []int64
	emit := func(m message) error {
		sizes = append(sizes, m.size)
		if len(heads) > 0 {
			heads = heads[1:]
		}
		return nil
	}
	prev := 0
	for _, c := range append(cuts, len(stream)) {
		if err := p.feed([]byte(stream[prev:c]), emit); err != nil {
			return sizes, err
		}
		prev = c
	}
	if m, ok := p.closeMessage(); ok {
		sizes = append(sizes, m.size)
	}
	return sizes, nil
}

// A stream parses alike however its segments cut it: whole, in two
// pieces cut anywhere, a byte at a time.
func TestParserSplitsAnywhere(t *testing.T) {
	requests := []string{
		"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", // an empty line before: not part of a message
		"POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
		"POST /c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\na;x=y\r\n0123456789\r\n0\r\nT: 1\r\n\r\n",
		"HEAD /h HTTP/1.1\nHost: bare LF\n\n",
	}
	responses := []string{
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", // to the HEAD
		"HTTP/1.0 200 OK\r\n\r\nto the end",
	}
	cases := []struct {
		response bool
		stream   string
		want     []int64
		heads    []bool
	}{
		{false, strings.Join(requests, ""), []int64{int64(len(requests[0]) - 2), int64(len(requests[1])), int64(len(requests[2])), int64(len(requests[3]))}, nil},
		{true, strings.Join(responses, ""), []int64{int64(len(responses[0]) - len("HTTP/1.1 100 Continue\r\n\r\n")), int64(len(responses[1])), int64(len(responses[2])), int64(len(responses[3])), int64(len(responses[4]))},
			[]bool{false, false, false, true, false}},
	}
	for _, tc := range cases {
		got, err := parse(tc.response, tc.stream, nil, tc.heads)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("whole: %v, %v, want %v", got, err, tc.want)
		}
		for i := 1; i < len(tc.stream); i++ {
			if got, err := parse(tc.response, tc.stream, []int{i}, tc.heads); err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("cut at %d: %v, %v, want %v", i, got, err, tc.want)
			}
		}
		var every []int
		for i := 1; i < len(tc.stream); i++ {
			every = append(every, i)
		}
		if got, err := parse(tc.response, tc.stream, every, tc.heads); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("byte by byte: %v, %v, want %v", got, err, tc.want)
		}
	}
}

func TestParserRefuses(t *testing.T) {
	cases := []struct {
		response bool
		stream   string
		want     string
	}{
		{false, "hello\r\n", `not an HTTP/1 request line: "hello"`},
		{false, "GET / HTTP/3\r\n", `not an HTTP/1 request line: "GET / HTTP/3"`},
		{false, "PRI * HTTP/2.0\r\n\r\n", "HTTP/2, not HTTP/1"},
		{true, "SSH-2.0-OpenSSH\r\n", `not an HTTP/1 status line: "SSH-2.0-OpenSSH"`},
		{false, "GET / HTTP/1.1\r\nno colon\r\n\r\n", `bad header field: "no colon"`},
		{false, "GET / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", "Content-Length 3 and 4"},
		{false, "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", `bad Content-Length: "-1"`},
		{false, "GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "request with a Transfer-Encoding that does not end in chunked"},
		{false, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", `bad chunk size: "zz"`},
		{false, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", `bad chunk size: "ffffffffffffffff"`},
		{false, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n", "chunk data longer than its size"},
		{false, "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeader) + "\r\n", "start line and headers longer than 65536 bytes"},
		{false, "POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", "request larger than the limit of 1048576 bytes (Content-Length 2000000)"},
	}
	for _, tc := range cases {
		_, err := parse(tc.response, tc.stream, nil, nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %s", tc.stream, err, tc.want)
		}
	}
	if _, err := parse(false, "POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", nil, nil); !errors.Is(err, errTooLarge) {
		t.Errorf("too large: %v", err)
	}
}
