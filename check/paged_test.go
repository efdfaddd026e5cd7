package check

import (
	"slices"
	"testing"
)

// A paged array reads back what was added, across the first page, which
// grows as a slice does, and the whole pages after it; a span that crosses
// a page is copied into the buffer, one inside a page is the page's own.
func TestPaged(t *testing.T) {
	var p paged[uint32]
	n := uint64(2*pageLen + 10)
	for i := range n {
		p.add(uint32(i * 7))
	}
	if p.len() != n || p.last() != uint32((n-1)*7) {
		t.Fatalf("len %d, last %d", p.len(), p.last())
	}
	for _, i := range []uint64{0, 1023, 1024, pageLen - 1, pageLen, 2 * pageLen, n - 1} {
		if p.at(i) != uint32(i*7) {
			t.Errorf("at(%d) = %d", i, p.at(i))
		}
	}
	var buf []uint32
	for _, r := range [][2]uint64{{0, 0}, {5, 9}, {pageLen - 3, pageLen + 2}, {2*pageLen - 1, 2*pageLen + 10}} {
		got := p.span(r[0], r[1], &buf)
		var want []uint32
		for i := r[0]; i < r[1]; i++ {
			want = append(want, uint32(i*7))
		}
		if !slices.Equal(got, want) {
			t.Errorf("span(%d, %d) = %v, want %v", r[0], r[1], got, want)
		}
	}
	if got := p.bytes(4); got != (pageLen+2*pageLen)*4 {
		t.Errorf("bytes %d", got) // the first page grown to a whole page, and two more
	}
}
