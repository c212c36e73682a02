package upload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// ReceiverConfig configures a drone's side.
type ReceiverConfig struct {
	// Seed draws the report delays.
	Seed uint64
	// Spread is the span, in ticks, over which reports to one poll are
	// spread (default 60); drones that need more report earlier.
	Spread int
	// IdleTicks is how long a drone that lacks part of the show waits
	// without hearing the sender before it reports unasked (default 500).
	IdleTicks int
	// Checkpoint is how many stored symbols make a Progress event, at which
	// the driver persists the receiver's state (default 16).
	Checkpoint int
	// Restored is the state a previous incarnation persisted, or nil.
	Restored []byte
}

func (c *ReceiverConfig) defaults() {
	if c.Spread == 0 {
		c.Spread = 60
	}
	if c.IdleTicks == 0 {
		c.IdleTicks = 500
	}
	if c.Checkpoint == 0 {
		c.Checkpoint = 16
	}
}

// Events of a receiver.
type (
	// HeldEvent: the drone holds the whole show, its SHA-256 checked.
	HeldEvent struct{ Hash show.Hash }
	// BlockEvent: block Block is complete.
	BlockEvent struct{ Block int }
	// ProgressEvent: more symbols are stored since the last event; a
	// checkpoint for the persisted state.
	ProgressEvent struct{ Stored int }
	// CorruptEvent: a symbol failed its check and was dropped.
	CorruptEvent struct{ Block, Index int }
	// BadShowEvent: the decoded show did not match the offer's SHA-256; the
	// drone dropped it and asks for it again.
	BadShowEvent struct{ Hash show.Hash }
	// AskedEvent: the drone sent a report of Bytes bytes asking for
	// Symbols symbols.
	AskedEvent struct{ Symbols, Bytes int }
)

// maxPending bounds the symbols a drone keeps before it knows the offer.
const maxPending = 1024

// Receiver gathers a show on a drone.
type Receiver struct {
	algorithms.Outbox
	cfg ReceiverConfig
	rng *rand.Rand

	offer   *Offer
	id      uint32
	held    [][][]byte // block → index → symbol, nil when not held
	count   []int      // block → symbols held
	done    [][]byte   // block → decoded source chunks, nil until complete
	show    []byte     // the checked show, once held
	pending []Symbol   // verified symbols heard before the offer

	round     uint8
	heardNeed []int
	heardMiss [][]byte
	reportIn  int // ticks until the report, 0 when none is due
	quiet     int // ticks since the sender was last heard
	unchecked int // stored symbols since the last checkpoint
}

// NewReceiver returns a receiver, restored from cfg.Restored if set.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	cfg.defaults()
	r := &Receiver{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x75706c6f6164))}
	if cfg.Restored != nil {
		if err := r.restore(cfg.Restored); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Show returns the checked show, or nil while the drone does not hold it.
func (r *Receiver) Show() []byte { return r.show }

// Holds reports whether the drone holds the show with hash h.
func (r *Receiver) Holds(h show.Hash) bool { return r.show != nil && r.offer.Hash == h }

// Lacks returns the number of symbols the drone still needs: per block,
// the block's source chunks minus the symbols it holds (coded), or its
// missing chunks (NACK). A drone that knows no offer lacks -1.
func (r *Receiver) Lacks() int {
	if r.offer == nil {
		return -1
	}
	n := 0
	for b := range r.offer.Layout.Blocks {
		if r.done[b] == nil {
			n += r.offer.Layout.K(b) - r.count[b]
		}
	}
	return n
}

// Stored returns the symbols the drone holds for incomplete blocks plus
// the source chunks of complete ones.
func (r *Receiver) Stored() int {
	if r.offer == nil {
		return 0
	}
	n := 0
	for b := range r.offer.Layout.Blocks {
		if r.done[b] != nil {
			n += r.offer.Layout.K(b)
		} else {
			n += r.count[b]
		}
	}
	return n
}

// adopt starts gathering the show of offer o, dropping any other.
func (r *Receiver) adopt(o *Offer) {
	c := *o
	c.Poll = false
	r.offer = &c
	r.id = ID(o.Hash)
	l := o.Layout
	r.held = make([][][]byte, l.Blocks)
	r.count = make([]int, l.Blocks)
	r.done = make([][]byte, l.Blocks)
	r.heardNeed = make([]int, l.Blocks)
	r.heardMiss = make([][]byte, l.Blocks)
	r.show = nil
	r.reportIn = 0
}

// Step takes an offer, a symbol, or another drone's report.
func (r *Receiver) Step(from algorithms.NodeID, m algorithms.Message) error {
	switch m := m.(type) {
	case Offer:
		if !m.Layout.Valid() {
			return fmt.Errorf("upload: offer from %d: %w", from, ErrBadLayout)
		}
		r.quiet = 0
		if r.offer == nil || r.offer.Hash != m.Hash {
			r.adopt(&m)
			pending := r.pending
			r.pending = nil
			for _, s := range pending {
				if s.Show == r.id {
					r.store(s)
				}
			}
		}
		if m.Poll {
			r.round = m.Round
			clear(r.heardNeed)
			for _, h := range r.heardMiss {
				clear(h)
			}
			r.reportIn = 0
			if r.show == nil {
				r.schedule()
			}
		}
		return nil
	case Symbol:
		r.quiet = 0
		if len(m.Data) != ChunkBytes {
			return fmt.Errorf("upload: symbol of %d bytes from %d", len(m.Data), from)
		}
		if Checksum(m.Show, m.Block, m.Index, m.Data) != m.Check {
			r.Emit(CorruptEvent{Block: int(m.Block), Index: int(m.Index)})
			return nil
		}
		if r.offer == nil || m.Show != r.id {
			if len(r.pending) < maxPending {
				r.pending = append(r.pending, m)
			}
			return nil
		}
		r.store(m)
		return nil
	case Need:
		if r.offer == nil || m.Show != r.id || m.Round != r.round {
			return nil
		}
		for _, e := range m.Entries {
			b := int(e.Block)
			if b >= len(r.heardNeed) {
				continue
			}
			r.heardNeed[b] = max(r.heardNeed[b], int(e.Count))
			if e.Missing != nil && r.heardMiss[b] == nil {
				r.heardMiss[b] = make([]byte, (r.offer.Layout.K(b)+7)/8)
			}
			for j := range min(len(e.Missing), len(r.heardMiss[b])) {
				r.heardMiss[b][j] |= e.Missing[j]
			}
		}
		return nil
	}
	return algorithms.Unknown("upload receiver", m)
}

// schedule draws when to answer the current poll: drones that lack more
// answer earlier, so that their reports silence the others'.
func (r *Receiver) schedule() {
	half := max(r.cfg.Spread/2, 1)
	frac := 0.0
	if c := r.offer.Layout.Chunks(); c > 0 {
		frac = min(float64(r.Lacks())/float64(c)*4, 1)
	}
	r.reportIn = 1 + int(float64(half)*(1-frac)) + r.rng.IntN(half)
}

// store keeps a checked symbol of the offered show, and completes its
// block when it holds enough.
func (r *Receiver) store(s Symbol) {
	b, i := int(s.Block), int(s.Index)
	l := r.offer.Layout
	if b >= l.Blocks || r.done[b] != nil {
		return
	}
	if r.held[b] == nil {
		// Blocks take memory once their first symbol arrives.
		r.held[b] = make([][]byte, MaxSymbols)
	}
	if r.held[b][i] != nil {
		return
	}
	k := l.K(b)
	if r.offer.Scheme == NACK && i >= k {
		return
	}
	r.held[b][i] = bytes.Clone(s.Data)
	r.count[b]++
	r.unchecked++
	if r.count[b] >= k {
		r.complete(b)
	}
	if r.unchecked >= r.cfg.Checkpoint {
		r.unchecked = 0
		r.Emit(ProgressEvent{Stored: r.Stored()})
	}
}

// complete decodes block b and, when every block is complete, checks the
// whole show.
func (r *Receiver) complete(b int) {
	l := r.offer.Layout
	k := l.K(b)
	shards := r.held[b]
	missing := false
	for i := range k {
		missing = missing || shards[i] == nil
	}
	if missing {
		enc, err := code(k)
		if err == nil {
			err = enc.ReconstructData(shards)
		}
		if err != nil {
			// Cannot happen with k checked symbols; start the block over.
			r.held[b] = make([][]byte, MaxSymbols)
			r.count[b] = 0
			return
		}
	}
	data := make([]byte, 0, k*ChunkBytes)
	for i := range k {
		data = append(data, shards[i][:ChunkBytes]...)
	}
	r.done[b] = data
	r.held[b] = nil
	r.Emit(BlockEvent{Block: b})
	for _, d := range r.done {
		if d == nil {
			return
		}
	}
	out := make([]byte, l.Size)
	for c := range l.Chunks() {
		b, i := c%l.Blocks, c/l.Blocks
		copy(out[c*ChunkBytes:], r.done[b][i*ChunkBytes:(i+1)*ChunkBytes])
	}
	if sha256.Sum256(out) != r.offer.Hash {
		r.Emit(BadShowEvent{Hash: r.offer.Hash})
		r.adopt(r.offer)
		return
	}
	r.show = out
	r.reportIn = 0
	r.Emit(HeldEvent{Hash: r.offer.Hash})
}

// Tick sends a due report, or reports unasked after a long silence.
func (r *Receiver) Tick() {
	if r.offer == nil {
		if len(r.pending) > 0 {
			r.quiet++
			if r.quiet >= r.cfg.IdleTicks {
				r.quiet = 0
				r.Send(nil, Need{Show: r.pending[0].Show, Unknown: true})
			}
		}
		return
	}
	if r.show != nil {
		return
	}
	r.quiet++
	if r.quiet >= r.cfg.IdleTicks && r.reportIn == 0 {
		r.quiet = 0
		r.schedule()
	}
	if r.reportIn == 0 {
		return
	}
	r.reportIn--
	if r.reportIn > 0 {
		return
	}
	n := r.report()
	if len(n.Entries) > 0 {
		r.Send(nil, n)
		r.Emit(AskedEvent{Symbols: n.Symbols(), Bytes: n.Size()})
	}
}

// report builds what the drone lacks beyond what others have asked this
// round, as many blocks as fit one report.
func (r *Receiver) report() Need {
	n := Need{Show: r.id, Round: r.round}
	room := MaxNeedData
	l := r.offer.Layout
	for b := range l.Blocks {
		if r.done[b] != nil {
			continue
		}
		k := l.K(b)
		e := Entry{Block: uint16(b)}
		if r.offer.Scheme == Coded {
			lack := k - r.count[b]
			if lack <= r.heardNeed[b] {
				continue
			}
			e.Count = uint8(lack)
		} else {
			e.Missing = make([]byte, (k+7)/8)
			any := false
			for i := range k {
				held := r.held[b] != nil && r.held[b][i] != nil
				heard := r.heardMiss[b] != nil && r.heardMiss[b][i/8]&(1<<(i%8)) != 0
				if !held && !heard {
					e.Missing[i/8] |= 1 << (i % 8)
					any = true
				}
			}
			if !any {
				continue
			}
		}
		if e.size() > room {
			break
		}
		room -= e.size()
		n.Entries = append(n.Entries, e)
	}
	return n
}

// Persist implements algorithms.Persister: the offer, the complete blocks
// and the symbols held of the others.
func (r *Receiver) Persist() []byte {
	if r.offer == nil {
		return nil
	}
	o := r.offer
	b := []byte{1, byte(o.Scheme)}
	b = append(b, o.Hash[:]...)
	b = binary.AppendUvarint(b, uint64(o.Layout.Size))
	b = binary.AppendUvarint(b, uint64(o.Layout.Blocks))
	for blk := range o.Layout.Blocks {
		if r.done[blk] != nil {
			b = append(b, 1)
			b = append(b, r.done[blk]...)
			continue
		}
		b = append(b, 0)
		b = binary.AppendUvarint(b, uint64(r.count[blk]))
		for i, s := range r.held[blk] {
			if s != nil {
				b = append(b, byte(i))
				b = append(b, s...)
			}
		}
	}
	return b
}

func (r *Receiver) restore(p []byte) error {
	bad := func(what string) error { return fmt.Errorf("upload: %s: %w", what, ErrBadState) }
	if len(p) < 2+sha256.Size || p[0] != 1 {
		return bad("header")
	}
	o := &Offer{Scheme: Scheme(p[1]), Hash: show.Hash(p[2 : 2+sha256.Size])}
	p = p[2+sha256.Size:]
	size, w := binary.Uvarint(p)
	if w <= 0 {
		return bad("size")
	}
	p = p[w:]
	blocks, w := binary.Uvarint(p)
	if w <= 0 {
		return bad("blocks")
	}
	p = p[w:]
	o.Layout = Layout{Size: int(size), Blocks: int(blocks)}
	if !o.Layout.Valid() {
		return bad("layout")
	}
	r.adopt(o)
	for blk := range o.Layout.Blocks {
		if len(p) < 1 {
			return bad("block")
		}
		k := o.Layout.K(blk)
		if p[0] == 1 {
			if len(p) < 1+k*ChunkBytes {
				return bad("block data")
			}
			r.done[blk] = bytes.Clone(p[1 : 1+k*ChunkBytes])
			r.held[blk] = nil
			p = p[1+k*ChunkBytes:]
			continue
		}
		n, w := binary.Uvarint(p[1:])
		if w <= 0 || n >= uint64(k) {
			return bad("symbol count")
		}
		p = p[1+w:]
		if n > 0 {
			r.held[blk] = make([][]byte, MaxSymbols)
		}
		for range n {
			if len(p) < 1+ChunkBytes {
				return bad("symbol")
			}
			i := p[0]
			if r.held[blk][i] == nil {
				r.count[blk]++
			}
			r.held[blk][i] = bytes.Clone(p[1 : 1+ChunkBytes])
			p = p[1+ChunkBytes:]
		}
	}
	if len(p) != 0 {
		return bad("trailing bytes")
	}
	// A state persisted just before the last block completed holds every
	// block: check the show again.
	for blk, d := range r.done {
		if d == nil {
			return nil
		}
		if blk == len(r.done)-1 {
			r.done[blk] = nil
			r.held[blk] = make([][]byte, MaxSymbols)
			kb := o.Layout.K(blk)
			for i := range kb {
				r.held[blk][i] = d[i*ChunkBytes : (i+1)*ChunkBytes]
			}
			r.count[blk] = kb
			r.complete(blk)
			r.Ready() // the restored drone reports nothing it already held
		}
	}
	return nil
}
