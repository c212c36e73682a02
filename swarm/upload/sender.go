package upload

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// SenderConfig configures the ground station's side.
type SenderConfig struct {
	// Show is the encoded show.
	Show []byte
	// Scheme is how losses are repaired.
	Scheme Scheme
	// MaxBlock bounds the source chunks per block (DefaultMaxBlock when 0).
	MaxBlock int
	// BytesPerTick is the share of the channel the upload may use, in
	// frame bytes per tick; 0 sends without pacing.
	BytesPerTick float64
	// Window is how many ticks the sender waits for reports after a poll
	// has gone out (default 100): longer than the receivers' Spread, so
	// that reports queued behind each other still count.
	Window int
	// QuietPolls is how many polls in a row must go unanswered before the
	// sender falls idle (default 2).
	QuietPolls int
	// IdlePoll is how many ticks an idle sender waits before it polls
	// again (default 1000).
	IdlePoll int
	// OfferEvery repeats the offer after this many symbols of the first
	// pass (default 64), so that a drone that missed it learns the show.
	OfferEvery int
	// Restored is the state a previous run persisted, or nil.
	Restored []byte
}

func (c *SenderConfig) defaults() {
	if c.Window == 0 {
		c.Window = 100
	}
	if c.QuietPolls == 0 {
		c.QuietPolls = 2
	}
	if c.IdlePoll == 0 {
		c.IdlePoll = 1000
	}
	if c.OfferEvery == 0 {
		c.OfferEvery = 64
	}
}

type phase int

const (
	sending phase = iota
	collecting
	idle
)

// Sender broadcasts a show and repairs what drones report missing.
type Sender struct {
	algorithms.Outbox
	cfg     SenderConfig
	hash    show.Hash
	id      uint32
	layout  Layout
	symbols [][][]byte // block → index → symbol
	queue   []algorithms.Message
	budget  float64

	phase  phase
	wait   int // ticks left in the window, or before an idle poll
	round  uint8
	silent int
	heard  bool
	next   []int    // block → next symbol index to send as repair
	need   []int    // coded: block → largest count asked this round
	miss   [][]byte // nack: block → union of missing bitmaps
}

// RoundEvent reports a finished poll: what the sender is about to resend.
type RoundEvent struct {
	Round   uint8
	Symbols int
}

// NewSender returns a sender that starts with the whole show, or, when
// restored, with a poll.
func NewSender(cfg SenderConfig) (*Sender, error) {
	cfg.defaults()
	l, err := NewLayout(len(cfg.Show), cfg.MaxBlock)
	if err != nil {
		return nil, err
	}
	s := &Sender{cfg: cfg, hash: sha256.Sum256(cfg.Show), layout: l}
	s.id = ID(s.hash)
	s.symbols = make([][][]byte, l.Blocks)
	s.next = make([]int, l.Blocks)
	s.need = make([]int, l.Blocks)
	s.miss = make([][]byte, l.Blocks)
	for b := range l.Blocks {
		k := l.K(b)
		shards := make([][]byte, MaxSymbols)
		for i := range MaxSymbols {
			if i < k {
				shards[i] = chunkBytes(cfg.Show, l.Chunk(b, i))
			} else {
				shards[i] = make([]byte, ChunkBytes)
			}
		}
		if cfg.Scheme == Coded {
			enc, err := code(k)
			if err != nil {
				return nil, err
			}
			if err := enc.Encode(shards); err != nil {
				return nil, fmt.Errorf("upload: encode block %d: %w", b, err)
			}
		}
		s.symbols[b] = shards
		s.next[b] = k
		s.miss[b] = make([]byte, (k+7)/8)
	}
	if cfg.Restored != nil {
		if err := s.restore(cfg.Restored); err != nil {
			return nil, err
		}
		s.poll()
		return s, nil
	}
	s.queue = append(s.queue, s.offer(false))
	for c := range l.Chunks() {
		if c > 0 && c%cfg.OfferEvery == 0 {
			s.queue = append(s.queue, s.offer(false))
		}
		b, i := c%l.Blocks, c/l.Blocks
		s.queue = append(s.queue, s.symbol(b, i, false))
	}
	return s, nil
}

// Hash returns the show's SHA-256.
func (s *Sender) Hash() show.Hash { return s.hash }

// Layout returns how the show is cut.
func (s *Sender) Layout() Layout { return s.layout }

// Idle reports whether the sender has nothing to send and has fallen
// silent after unanswered polls.
func (s *Sender) Idle() bool { return s.phase == idle }

func (s *Sender) offer(poll bool) Offer {
	return Offer{Hash: s.hash, Layout: s.layout, Scheme: s.cfg.Scheme, Round: s.round, Poll: poll}
}

func (s *Sender) symbol(b, i int, repeat bool) Symbol {
	d := s.symbols[b][i]
	return Symbol{Show: s.id, Block: uint16(b), Index: uint8(i), Check: Checksum(s.id, uint16(b), uint8(i), d), Data: d, Repeat: repeat}
}

// poll queues a poll of a new round.
func (s *Sender) poll() {
	s.round++
	s.heard = false
	s.queue = append(s.queue, s.offer(true))
	s.phase = sending
}

// Step takes a drone's report.
func (s *Sender) Step(from algorithms.NodeID, m algorithms.Message) error {
	n, ok := m.(Need)
	if !ok {
		if _, ok := m.(Symbol); ok {
			return nil
		}
		if _, ok := m.(Offer); ok {
			return nil
		}
		return algorithms.Unknown("upload sender", m)
	}
	if n.Show != s.id {
		return nil
	}
	if !n.Unknown && n.Round != s.round && s.phase != idle {
		// A late answer to an earlier poll: the repairs it asks for are
		// on their way, and the next poll asks again.
		return nil
	}
	if n.Unknown {
		s.queue = append(s.queue, s.offer(false))
		return nil
	}
	for _, e := range n.Entries {
		b := int(e.Block)
		if b >= s.layout.Blocks {
			return fmt.Errorf("upload: report from %d names block %d of %d", from, b, s.layout.Blocks)
		}
		if s.cfg.Scheme == Coded {
			s.need[b] = max(s.need[b], int(e.Count))
		} else {
			for j := range min(len(e.Missing), len(s.miss[b])) {
				s.miss[b][j] |= e.Missing[j]
			}
		}
		s.heard = true
	}
	if s.phase == idle && s.heard {
		s.phase = collecting
		s.wait = s.cfg.Window
	}
	return nil
}

// Tick sends what the channel share allows and closes polling windows.
func (s *Sender) Tick() {
	switch s.phase {
	case collecting:
		s.wait--
		if s.wait <= 0 {
			s.finishRound()
		}
	case idle:
		s.wait--
		if s.wait <= 0 {
			s.silent = 0
			s.poll()
		}
	}
	if s.cfg.BytesPerTick > 0 {
		s.budget = min(s.budget+s.cfg.BytesPerTick, s.cfg.BytesPerTick+float64(Frame(255)))
	}
	for len(s.queue) > 0 {
		m := s.queue[0]
		cost := float64(Frame(m.Size()))
		if s.cfg.BytesPerTick > 0 {
			if s.budget < cost {
				break
			}
			s.budget -= cost
		}
		s.queue = s.queue[1:]
		s.Send(nil, m)
		if o, ok := m.(Offer); ok && o.Poll {
			s.phase = collecting
			s.wait = s.cfg.Window
		}
	}
	if s.phase == sending && len(s.queue) == 0 {
		s.poll()
	}
}

// finishRound closes a poll's window: it queues the repairs asked for, or
// polls again, or falls idle.
func (s *Sender) finishRound() {
	if !s.heard {
		s.silent++
		if s.silent >= s.cfg.QuietPolls {
			s.phase = idle
			s.wait = s.cfg.IdlePoll
			return
		}
		s.poll()
		return
	}
	s.silent = 0
	count := 0
	for b := range s.layout.Blocks {
		if s.cfg.Scheme == Coded {
			for range s.need[b] {
				i := s.next[b] % MaxSymbols
				s.next[b]++
				s.queue = append(s.queue, s.symbol(b, i, true))
				count++
			}
			s.need[b] = 0
			continue
		}
		for i := range s.layout.K(b) {
			if s.miss[b][i/8]&(1<<(i%8)) != 0 {
				s.queue = append(s.queue, s.symbol(b, i, true))
				count++
			}
		}
		clear(s.miss[b])
	}
	s.Emit(RoundEvent{Round: s.round, Symbols: count})
	s.poll()
}

// Persist implements algorithms.Persister: the round and the next repair
// symbol of each block, so that a restarted sender neither resends the
// whole show nor repeats repair symbols.
func (s *Sender) Persist() []byte {
	b := []byte{1, s.round}
	b = append(b, s.hash[:]...)
	for _, n := range s.next {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return b
}

func (s *Sender) restore(p []byte) error {
	if len(p) < 2+sha256.Size || p[0] != 1 {
		return ErrBadState
	}
	if show.Hash(p[2:2+sha256.Size]) != s.hash {
		return fmt.Errorf("upload: persisted state is of another show: %w", ErrBadState)
	}
	s.round = p[1]
	p = p[2+sha256.Size:]
	for b := range s.next {
		n, w := binary.Uvarint(p)
		if w <= 0 {
			return ErrBadState
		}
		s.next[b] = int(n)
		p = p[w:]
	}
	return nil
}
