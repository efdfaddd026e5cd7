package check

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"math/bits"
	"sync/atomic"
)

// The visited set is exact: it stores every state's full encoding and
// compares encodings byte for byte, so two states are merged only when they
// are equal. A fingerprint store (Options.Fingerprint) is smaller, but a
// proof must not rest on the odds of a collision: its search is never OK.
//
// Encodings live in an arena of fixed-size pages, so that growing it never
// copies what is already there, and so that workers can read the entries of
// the level they expand while the main goroutine appends the next level's:
// pages never move, the page table is a fixed array, and a page's final
// length is published atomically when it is closed. Each entry is the state's id (4 bytes,
// little-endian), the length of its encoding (a uvarint), and the encoding.
// The hash table is open addressing with linear probing; a slot holds the
// entry's arena offset plus one in its low 40 bits (zero means empty) and the
// top 24 bits of the hash as a tag, so most mismatches are rejected without
// touching the arena.
//
// Only the main goroutine inserts, but the workers look successors up while
// it does, so that the probes of states already stored (most of them) are
// made in parallel and the sequential merge inserts only what the look-up
// did not find. A slot is written once, atomically, after its entry, so a
// look-up that finds a slot finds its entry whole; growing the table
// publishes a new one, and a look-up still on the old one may miss a state
// stored since, never find a wrong one: a miss is settled by the insert.

const (
	pageBits   = 22 // 4 MiB pages
	pageSize   = 1 << pageBits
	maxPages   = 1 << 18 // a 1 TiB arena
	offsetBits = 40
	offsetMask = 1<<offsetBits - 1
	idBytes    = 4
)

var errStateTooLarge = errors.New("check: a state's encoding is larger than an arena page")

type page [pageSize]byte

type store struct {
	seed    maphash.Seed
	pages   [maxPages]*page
	pageLen [maxPages]atomic.Uint32 // length of a closed page; 0 while open
	npages  int
	used    int                             // bytes used in the open page, pages[npages-1]
	slots   []atomic.Uint64                 // the main goroutine's table
	shared  atomic.Pointer[[]atomic.Uint64] // the same, for the workers' look-ups
	count   int
	// lastOff is the arena offset of the entry inserted last.
	lastOff uint64

	// fp: a fingerprint store. A slot holds the state's 64-bit
	// fingerprint (never zero) and nothing else, so two states with one
	// fingerprint are taken for one; the arena keeps the entries only for
	// the levels still to expand: pages before freed are gone.
	fp    bool
	freed int
}

func newStore(fingerprints bool) *store {
	t := &store{fp: fingerprints}
	t.seed = maphash.MakeSeed()
	t.setSlots(make([]atomic.Uint64, 1<<12))
	return t
}

// hash is the key's hash: a random one in an exact store, where it only
// spreads the keys, and a fixed one in a fingerprint store, where it
// decides which states are taken for one, so that a run is repeatable.
func (t *store) hash(key []byte) uint64 {
	if t.fp {
		return fingerprint64(key)
	}
	return maphash.Bytes(t.seed, key)
}

// fingerprint64 is a fixed 64-bit hash of b, never zero: eight bytes at a
// time, each folded in by a 64x64-to-128-bit multiply (the mixing of
// wyhash).
func fingerprint64(b []byte) uint64 {
	const p0, p1, p2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0x8ebc6af09c88c6e3
	h := uint64(len(b)) ^ p0
	for ; len(b) >= 8; b = b[8:] {
		h = mix(binary.LittleEndian.Uint64(b)^p1, h^p2)
	}
	var last uint64
	for i, c := range b {
		last |= uint64(c) << (8 * i)
	}
	h = mix(last^p1, h^p2)
	h = mix(h^p0, uint64(len(b))^p1^p2)
	if h == 0 {
		h = 1
	}
	return h
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// slotFor is what a slot holds for an entry at arena offset off whose key
// hashes to h.
func (t *store) slotFor(h, off uint64) uint64 {
	if t.fp {
		return h
	}
	return h>>offsetBits<<offsetBits | (off + 1)
}

// entry returns the id and encoding stored at arena offset off.
func (t *store) entry(off uint64) (uint32, []byte) {
	p := t.pages[off>>pageBits]
	i := off & (pageSize - 1)
	id := binary.LittleEndian.Uint32(p[i:])
	n, w := binary.Uvarint(p[i+idBytes:])
	start := i + idBytes + uint64(w)
	return id, p[start : start+n]
}

func (t *store) setSlots(slots []atomic.Uint64) {
	t.slots = slots
	t.shared.Store(&slots)
}

// lookup returns the id of key if it is stored. It does not modify the
// store, and any number of goroutines may call it while the main goroutine
// inserts; it may then miss a state being stored, but it never returns a
// wrong id.
func (t *store) lookup(key []byte, h uint64) (uint32, bool) {
	slots := *t.shared.Load()
	mask := uint64(len(slots) - 1)
	tag := h >> offsetBits
	for i := h & mask; ; i = (i + 1) & mask {
		s := slots[i].Load()
		if s == 0 {
			return 0, false
		}
		if t.fp {
			if s == h {
				return 0, true // a fingerprint store keeps no ids
			}
			continue
		}
		if mutant == "lookup-unchecked" {
			// Seeded bug: the first entry probed is taken for the key.
			id, _ := t.entry(s&offsetMask - 1)
			return id, true
		}
		if s>>offsetBits == tag {
			id, k := t.entry(s&offsetMask - 1)
			if bytes.Equal(k, key) {
				return id, true
			}
		}
	}
}

// insert stores key under the next id unless it is there already, and
// returns its id and whether it was new.
func (t *store) insert(key []byte, h uint64) (uint32, bool, error) {
	mask := uint64(len(t.slots) - 1)
	tag := h >> offsetBits
	i := h & mask
	for ; ; i = (i + 1) & mask {
		s := t.slots[i].Load()
		if s == 0 {
			break
		}
		if t.fp {
			if s == h {
				return 0, false, nil
			}
			continue
		}
		if s>>offsetBits == tag {
			id, k := t.entry(s&offsetMask - 1)
			if bytes.Equal(k, key) {
				return id, false, nil
			}
		}
	}
	id := uint32(t.count)
	off, err := t.appendEntry(id, key)
	if err != nil {
		return 0, false, err
	}
	t.slots[i].Store(t.slotFor(h, off))
	t.lastOff = off
	t.count++
	if uint64(t.count)*10 > uint64(len(t.slots))*7 {
		t.grow()
	}
	return id, true, nil
}

func (t *store) appendEntry(id uint32, key []byte) (uint64, error) {
	need := idBytes + binary.MaxVarintLen64 + len(key)
	if need > pageSize {
		return 0, errStateTooLarge
	}
	if t.npages == 0 || t.used+need > pageSize {
		if t.npages == maxPages {
			return 0, errors.New("check: the state arena is full")
		}
		if t.npages > 0 {
			t.pageLen[t.npages-1].Store(uint32(t.used))
		}
		t.pages[t.npages] = new(page)
		t.npages++
		t.used = 0
	}
	last := t.npages - 1
	p := t.pages[last][:t.used:pageSize]
	off := uint64(last)<<pageBits | uint64(t.used)
	p = binary.LittleEndian.AppendUint32(p, id)
	p = binary.AppendUvarint(p, uint64(len(key)))
	p = append(p, key...)
	t.used = len(p)
	return off, nil
}

func (t *store) grow() {
	old := t.slots
	slots := make([]atomic.Uint64, 2*len(old))
	mask := uint64(len(slots) - 1)
	for j := range old {
		s := old[j].Load()
		if s == 0 {
			continue
		}
		h := s // a fingerprint
		if !t.fp {
			_, k := t.entry(s&offsetMask - 1)
			h = t.hash(k)
		}
		i := h & mask
		for slots[i].Load() != 0 {
			i = (i + 1) & mask
		}
		slots[i].Store(s)
	}
	t.setSlots(slots)
}

// next returns the offset of the entry after the one at off. It may run
// while the main goroutine appends: it reads only entries already written
// and the lengths of closed pages.
func (t *store) next(off uint64) uint64 {
	pi := off >> pageBits
	p := t.pages[pi]
	i := off & (pageSize - 1)
	n, w := binary.Uvarint(p[i+idBytes:])
	i += idBytes + uint64(w) + n
	if l := t.pageLen[pi].Load(); l != 0 && i >= uint64(l) {
		return (pi + 1) << pageBits
	}
	return pi<<pageBits | i
}

// free lets go of the arena's pages before the one that holds offset off:
// a fingerprint store needs an entry only until its state is expanded.
func (t *store) free(off uint64) {
	for ; t.freed < int(off>>pageBits); t.freed++ {
		t.pages[t.freed] = nil
	}
}

// bytes is the memory the store holds.
func (t *store) bytes() uint64 {
	return uint64(len(t.slots))*8 + uint64(t.npages-t.freed)*pageSize
}
