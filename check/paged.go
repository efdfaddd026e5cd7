package check

// paged is an array that grows by whole pages: appending never copies
// what is stored, and the memory held is what is stored plus at most one
// page. The explorer's graph (its edges, and where each state's edges
// start) grows to tens of millions of entries while the search runs; a
// slice grown by append would copy all of it again at every growth, on
// the search's one sequential path, and hold two copies at once while it
// did.
type paged[T any] struct {
	pages [][]T
	n     uint64
}

const (
	pageShift = 20
	pageLen   = 1 << pageShift
	pageMask  = pageLen - 1
)

// add appends v. The first page grows as a slice does, so that a small
// graph holds little; every later page is made whole.
func (p *paged[T]) add(v T) {
	switch {
	case p.n == 0:
		p.pages = append(p.pages, make([]T, 0, 1024))
	case p.n&pageMask == 0:
		p.pages = append(p.pages, make([]T, 0, pageLen))
	}
	last := len(p.pages) - 1
	if pg := p.pages[last]; len(pg) == cap(pg) {
		// Only the first page fills before it is whole: double it, up
		// to a page.
		grown := make([]T, len(pg), min(2*cap(pg), pageLen))
		copy(grown, pg)
		p.pages[last] = grown
	}
	p.pages[last] = append(p.pages[last], v)
	p.n++
}

// at returns the i-th value.
func (p *paged[T]) at(i uint64) T { return p.pages[i>>pageShift][i&pageMask] }

// last returns the last value; the array must not be empty.
func (p *paged[T]) last() T { return p.at(p.n - 1) }

// len returns the number of values.
func (p *paged[T]) len() uint64 { return p.n }

// span returns the values from a to b (a ≤ b ≤ len) as one slice: the
// page's own when they lie in one page, else a copy in buf, which it may
// grow. The caller must not change it.
func (p *paged[T]) span(a, b uint64, buf *[]T) []T {
	if a == b {
		return nil
	}
	if a>>pageShift == (b-1)>>pageShift {
		pg := p.pages[a>>pageShift]
		return pg[a&pageMask : a&pageMask+(b-a)]
	}
	*buf = (*buf)[:0]
	for i := a; i < b; i++ {
		*buf = append(*buf, p.at(i))
	}
	return *buf
}

// bytes is the memory the pages hold.
func (p *paged[T]) bytes(size uint64) uint64 {
	n := uint64(0)
	for _, pg := range p.pages {
		n += uint64(cap(pg))
	}
	return n * size
}
