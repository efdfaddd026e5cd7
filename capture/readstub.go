package capture

// TEMPORARY STUB, to be deleted when the capture reader is merged: it
// holds the names the reader provides, so that sysmsg replay compiles
// before it lands. The reader's own Options and ReadFile replace these.

import "errors"

// Options bounds the reading of a capture (stub; see above).
type Options struct {
	// Port is the HTTP server's TCP port in the capture.
	Port int
	// MaxConns and MaxRequests bound the connections kept and the
	// requests per connection.
	MaxConns, MaxRequests int
}

// ReadFile reads a capture file (stub; see above): not built yet.
func ReadFile(path string, opt Options) (*Capture, error) {
	return nil, errors.New("capture: reading captures is not built yet")
}
