package check

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/maphash"
)

// The visited set is exact: it stores every state's full encoding and
// compares encodings byte for byte, so two states are merged only when they
// are equal. A hash-compacted set would be smaller, but a proof must not rest
// on the odds of a collision.
//
// Encodings live in an arena of fixed-size pages, so that growing it never
// copies what is already there. Each entry is the state's id (4 bytes,
// little-endian), the length of its encoding (a uvarint), and the encoding.
// The hash table is open addressing with linear probing; a slot holds the
// entry's arena offset plus one in its low 40 bits (zero means empty) and the
// top 24 bits of the hash as a tag, so most mismatches are rejected without
// touching the arena.

const (
	pageBits   = 22 // 4 MiB pages
	pageSize   = 1 << pageBits
	offsetBits = 40
	offsetMask = 1<<offsetBits - 1
	idBytes    = 4
)

var errStateTooLarge = errors.New("check: a state's encoding is larger than an arena page")

type store struct {
	seed  maphash.Seed
	pages [][]byte
	slots []uint64
	count int
	// lastOff is the arena offset of the entry inserted last.
	lastOff uint64
}

func newStore() *store {
	return &store{seed: maphash.MakeSeed(), slots: make([]uint64, 1<<12)}
}

func (t *store) hash(key []byte) uint64 { return maphash.Bytes(t.seed, key) }

// entry returns the id and encoding stored at arena offset off.
func (t *store) entry(off uint64) (uint32, []byte) {
	p := t.pages[off>>pageBits]
	i := off & (pageSize - 1)
	id := binary.LittleEndian.Uint32(p[i:])
	n, w := binary.Uvarint(p[i+idBytes:])
	start := i + idBytes + uint64(w)
	return id, p[start : start+n]
}

// lookup returns the id of key if it is stored. It does not modify the
// store, so any number of goroutines may call it while no one inserts.
func (t *store) lookup(key []byte, h uint64) (uint32, bool) {
	mask := uint64(len(t.slots) - 1)
	tag := h >> offsetBits
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
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
		s := t.slots[i]
		if s == 0 {
			break
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
	t.slots[i] = tag<<offsetBits | (off + 1)
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
	last := len(t.pages) - 1
	if last < 0 || len(t.pages[last])+need > pageSize {
		t.pages = append(t.pages, make([]byte, 0, pageSize))
		last++
	}
	p := t.pages[last]
	off := uint64(last)<<pageBits | uint64(len(p))
	p = binary.LittleEndian.AppendUint32(p, id)
	p = binary.AppendUvarint(p, uint64(len(key)))
	p = append(p, key...)
	t.pages[last] = p
	return off, nil
}

func (t *store) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		_, k := t.entry(s&offsetMask - 1)
		i := t.hash(k) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// next returns the offset of the entry after the one at off.
func (t *store) next(off uint64) uint64 {
	p := t.pages[off>>pageBits]
	i := off & (pageSize - 1)
	n, w := binary.Uvarint(p[i+idBytes:])
	i += idBytes + uint64(w) + n
	if i >= uint64(len(p)) && int(off>>pageBits)+1 < len(t.pages) {
		return (off>>pageBits + 1) << pageBits
	}
	return off&^(pageSize-1) | i
}

// bytes is the memory the store holds.
func (t *store) bytes() uint64 {
	n := uint64(len(t.slots)) * 8
	for _, p := range t.pages {
		n += uint64(len(p))
	}
	return n
}
