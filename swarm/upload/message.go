package upload

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// Errors.
var (
	ErrBadLayout = errors.New("upload: bad layout")
	ErrBadState  = errors.New("upload: bad persisted state")
)

// Scheme is how the sender repairs losses.
type Scheme uint8

// Repair schemes.
const (
	// Coded sends Reed–Solomon repair symbols, as many per block as the
	// neediest drone asks for.
	Coded Scheme = iota
	// NACK resends the source chunks that drones report missing.
	NACK
)

// String names the scheme as the command line does.
func (s Scheme) String() string {
	if s == NACK {
		return "nack"
	}
	return "coded"
}

// ID is the short identifier of a show in symbols and reports: the first
// 4 bytes of its SHA-256, big-endian.
func ID(h show.Hash) uint32 { return binary.BigEndian.Uint32(h[:4]) }

// Offer announces a show and, with Poll, asks drones that lack part of it
// to report.
type Offer struct {
	Hash   show.Hash
	Layout Layout
	Scheme Scheme
	// Round numbers the sender's polls; reports answer a round.
	Round uint8
	Poll  bool
}

// Kind implements algorithms.Message.
func (o Offer) Kind() string { return "OFFER" }

// Size is the payload: addresses and network (5), size (4), blocks (2),
// round, flags (1 each), hash (32).
func (o Offer) Size() int { return 5 + 4 + 2 + 1 + 1 + 32 }

// Unreliable implements algorithms.Unreliable: the upload does its own
// repair.
func (o Offer) Unreliable() {}

// Class implements algorithms.Classifier: a poll only asks for repair.
func (o Offer) Class() algorithms.Class {
	if o.Poll {
		return algorithms.ClassAck
	}
	return algorithms.ClassData
}

// Symbol is one source chunk (Index < K of its block) or one repair symbol
// of a block.
type Symbol struct {
	Show  uint32
	Block uint16
	Index uint8
	// Check is Checksum(Show, Block, Index, Data).
	Check uint32
	// Data is ChunkBytes long.
	Data []byte
	// Repeat marks a symbol sent after the first pass (a repair symbol or
	// a resent chunk); it is not on air.
	Repeat bool
}

// Kind implements algorithms.Message.
func (s Symbol) Kind() string { return "SYMBOL" }

// Size is the payload: addresses and network (5), show (4), check (4),
// block (2), index (1), data.
func (s Symbol) Size() int { return 16 + len(s.Data) }

// Unreliable implements algorithms.Unreliable.
func (s Symbol) Unreliable() {}

// Class implements algorithms.Classifier.
func (s Symbol) Class() algorithms.Class {
	if s.Repeat {
		return algorithms.ClassRetransmission
	}
	return algorithms.ClassData
}

// Checksum is a symbol's check: the first 4 bytes of the SHA-256 of its
// show ID, block, index and data.
func Checksum(id uint32, block uint16, index uint8, data []byte) uint32 {
	h := sha256.New()
	var hdr [7]byte
	binary.BigEndian.PutUint32(hdr[:], id)
	binary.BigEndian.PutUint16(hdr[4:], block)
	hdr[6] = index
	h.Write(hdr[:])
	h.Write(data)
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint32(h.Sum(sum[:0]))
}

// Need is a drone's report of what it still lacks.
type Need struct {
	Show  uint32
	Round uint8
	// Unknown asks for the offer of a show the drone has heard symbols of
	// but not the offer.
	Unknown bool
	Entries []Entry
}

// Entry is what a drone lacks of one block: Count more symbols (coded),
// or the chunks whose bits are set in Missing (NACK; bit i of byte i/8
// is index i).
type Entry struct {
	Block   uint16
	Count   uint8
	Missing []byte
}

// MaxNeedData is the room for entries in one report.
const MaxNeedData = 240

func (e Entry) size() int { return 2 + 1 + len(e.Missing) }

// Kind implements algorithms.Message.
func (n Need) Kind() string { return "NEED" }

// Size is the payload: addresses and network (5), show (4), round, flags,
// entry count (1 each), entries (block 2, count 1, bitmap).
func (n Need) Size() int {
	s := 5 + 4 + 3
	for _, e := range n.Entries {
		s += e.size()
	}
	return s
}

// Unreliable implements algorithms.Unreliable.
func (n Need) Unreliable() {}

// Class implements algorithms.Classifier: a report asks for repair.
func (n Need) Class() algorithms.Class { return algorithms.ClassAck }

// Symbols is the number of symbols the report asks for.
func (n Need) Symbols() int {
	s := 0
	for _, e := range n.Entries {
		if e.Missing != nil {
			for _, b := range e.Missing {
				for ; b != 0; b &= b - 1 {
					s++
				}
			}
			continue
		}
		s += int(e.Count)
	}
	return s
}
