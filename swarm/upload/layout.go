// Package upload sends a show from the ground station to every drone of a
// radio network in one broadcast, and repairs losses either with an erasure
// code (Reed–Solomon: one repair symbol serves every drone that missed any
// one chunk of a block) or, for comparison, by resending the chunks drones
// report missing.
//
// Both sides are pure, deterministic cores (algorithms.Core): the Sender
// runs on the ground station, a Receiver on every drone. The encoded show
// is cut into chunks of ChunkBytes; chunk c belongs to block c mod B at
// index c div B, so that the B blocks interleave and each holds at most
// MaxBlock source chunks. The sender broadcasts an Offer (the show's
// SHA-256, size and layout), every source chunk once, then polls: each
// drone that still lacks something reports, after a random delay, how many
// more symbols it needs per block (coded) or which chunks it misses (NACK),
// and stays silent for a block when it has already heard a report asking
// at least as much. The sender then sends, per block, as many fresh repair
// symbols as the neediest drone asked for (coded), or the union of the
// missing chunks (NACK), and polls again, until a poll goes unanswered.
//
// Every symbol carries a check (a truncated SHA-256 of its show, block,
// index and bytes); a symbol that fails it is dropped, never stored. A
// receiver counts the show as held only when the SHA-256 of the whole
// decoded show matches the offer. A receiver persists what it holds
// (algorithms.Persister), so a drone that restarts asks only for what it
// still lacks; a sender restarted from its persisted state polls instead of
// sending the whole show again.
package upload

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
)

// ChunkBytes is the payload of one symbol: the most that fits a MAVLink 2
// payload of 255 bytes beside the symbol's 16 bytes of header.
const ChunkBytes = 239

// MaxSymbols is the number of distinct symbols per block (source and
// repair): the Reed–Solomon code over GF(2^8) has at most 256 shards.
const MaxSymbols = 256

// MaxShowSize bounds the shows an upload carries, so that an offer
// cannot make a drone set aside more memory than a show needs.
const MaxShowSize = 16 << 20

// DefaultMaxBlock is the default largest number of source chunks in a
// block, leaving at least 96 repair symbols per block.
const DefaultMaxBlock = 160

// Layout is how a show is cut into blocks of chunks.
type Layout struct {
	// Size is the show's length in bytes.
	Size int
	// Blocks is the number of blocks.
	Blocks int
}

// NewLayout cuts a show of size bytes into the fewest blocks of at most
// maxBlock chunks (DefaultMaxBlock when 0).
func NewLayout(size, maxBlock int) (Layout, error) {
	if maxBlock == 0 {
		maxBlock = DefaultMaxBlock
	}
	if size <= 0 || size > MaxShowSize || maxBlock < 1 || maxBlock >= MaxSymbols {
		return Layout{}, fmt.Errorf("upload: layout of %d bytes in blocks of %d: %w", size, maxBlock, ErrBadLayout)
	}
	chunks := (size + ChunkBytes - 1) / ChunkBytes
	blocks := (chunks + maxBlock - 1) / maxBlock
	if blocks > 0xFFFF {
		return Layout{}, fmt.Errorf("upload: %d bytes need %d blocks: %w", size, blocks, ErrBadLayout)
	}
	return Layout{Size: size, Blocks: blocks}, nil
}

// Valid reports whether l could come from NewLayout.
func (l Layout) Valid() bool {
	if l.Size <= 0 || l.Size > MaxShowSize || l.Blocks < 1 || l.Blocks > 0xFFFF {
		return false
	}
	c := l.Chunks()
	return c >= l.Blocks && (c+l.Blocks-1)/l.Blocks < MaxSymbols
}

// Chunks is the number of source chunks.
func (l Layout) Chunks() int { return (l.Size + ChunkBytes - 1) / ChunkBytes }

// K is the number of source chunks in block b.
func (l Layout) K(b int) int {
	c := l.Chunks()
	k := c / l.Blocks
	if b < c%l.Blocks {
		k++
	}
	return k
}

// Chunk is the number of the chunk at index i of block b.
func (l Layout) Chunk(b, i int) int { return i*l.Blocks + b }

// chunkBytes returns the bytes of chunk c of show, zero-padded to
// ChunkBytes.
func chunkBytes(show []byte, c int) []byte {
	out := make([]byte, ChunkBytes)
	if lo := c * ChunkBytes; lo < len(show) {
		copy(out, show[lo:min(lo+ChunkBytes, len(show))])
	}
	return out
}

// Frame is the length on air of a frame with a payload of n bytes:
// MAVLink 2 header, checksum and signature.
func Frame(n int) int { return 10 + n + 2 + 13 }

var _ algorithms.Core = (*Sender)(nil)
var _ algorithms.Core = (*Receiver)(nil)
