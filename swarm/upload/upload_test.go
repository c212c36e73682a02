package upload

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/skyquorum/skyquorum/algorithms"
)

// swarm is a minimal deterministic harness: every tick, the sender and the
// receivers tick, and every frame they send reaches each other party
// unless the seeded loss drops it.
type swarm struct {
	t       *testing.T
	seed    uint64
	rng     *rand.Rand
	loss    float64
	sender  *Sender
	rx      []*Receiver
	up      []bool
	frames  int
	symbols int   // symbols the sender sent
	asked   []int // per receiver, symbols asked in reports
	first   []int // per receiver, symbols asked in its first report
	corrupt func(m algorithms.Message) algorithms.Message
	events  []algorithms.Event
}

const station = algorithms.NodeID(1000)

func testShow(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func newSwarm(t *testing.T, n int, loss float64, seed uint64, cfg SenderConfig) *swarm {
	t.Helper()
	s, err := NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &swarm{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 1)), loss: loss, sender: s, asked: make([]int, n), first: make([]int, n)}
	for i := range n {
		r, err := NewReceiver(ReceiverConfig{Seed: seed*1000 + uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		w.rx = append(w.rx, r)
		w.up = append(w.up, true)
	}
	return w
}

func (w *swarm) deliver(from int, sends []algorithms.Send) {
	for _, snd := range sends {
		w.frames++
		m := snd.Msg
		if _, ok := m.(Symbol); ok && from < 0 {
			w.symbols++
		}
		if w.corrupt != nil && from < 0 {
			m = w.corrupt(m)
		}
		if from >= 0 {
			if w.rng.Float64() >= w.loss {
				if err := w.sender.Step(algorithms.NodeID(from+1), m); err != nil {
					w.t.Fatalf("seed %d: sender: %v", w.seed, err)
				}
			}
		}
		for i, r := range w.rx {
			if i == from || !w.up[i] || w.rng.Float64() < w.loss {
				continue
			}
			if err := r.Step(station, m); err != nil {
				w.t.Fatalf("seed %d: drone %d: %v", w.seed, i+1, err)
			}
		}
	}
}

func (w *swarm) step() {
	w.sender.Tick()
	w.deliver(-1, w.sender.Ready().Sends)
	for i, r := range w.rx {
		if !w.up[i] {
			continue
		}
		r.Tick()
		rd := r.Ready()
		w.events = append(w.events, rd.Events...)
		for _, ev := range rd.Events {
			if a, ok := ev.(AskedEvent); ok {
				w.asked[i] += a.Symbols
				if w.first[i] < 0 {
					w.first[i] = a.Symbols
				}
			}
		}
		w.deliver(i, rd.Sends)
	}
}

func (w *swarm) held() int {
	n := 0
	for i, r := range w.rx {
		if w.up[i] && r.Holds(w.sender.Hash()) {
			n++
		}
	}
	return n
}

func (w *swarm) run(limit int) int {
	for tick := range limit {
		if w.held() == len(w.rx) {
			return tick
		}
		w.step()
	}
	return limit
}

func TestEveryDroneHoldsTheShow(t *testing.T) {
	for _, scheme := range []Scheme{Coded, NACK} {
		for _, loss := range []float64{0, 0.1, 0.3} {
			const seed = 3
			show := testShow(20000, seed)
			w := newSwarm(t, 40, loss, seed, SenderConfig{Show: show, Scheme: scheme, MaxBlock: 30})
			w.run(20000)
			if got := w.held(); got != 40 {
				t.Fatalf("seed %d, %s, loss %v: %d of 40 drones hold the show", seed, scheme, loss, got)
			}
			for i, r := range w.rx {
				if !bytes.Equal(r.Show(), show) {
					t.Fatalf("seed %d: drone %d holds other bytes", seed, i+1)
				}
			}
			t.Logf("%s loss %v: %d frames for %d chunks", scheme, loss, w.frames, w.sender.Layout().Chunks())
		}
	}
}

func TestCorruptSymbolIsNeverStored(t *testing.T) {
	const seed = 5
	show := testShow(5000, seed)
	w := newSwarm(t, 3, 0, seed, SenderConfig{Show: show, MaxBlock: 8})
	bad := 0
	w.corrupt = func(m algorithms.Message) algorithms.Message {
		s, ok := m.(Symbol)
		if !ok || s.Block != 1 || s.Index != 2 || s.Repeat {
			return m
		}
		s.Data = bytes.Clone(s.Data)
		s.Data[17] ^= 0x40
		bad++
		return s
	}
	// Up to the first poll: the corrupted chunk must not count as held.
	for range 200 {
		w.step()
		if w.sender.round > 0 {
			break
		}
	}
	if bad != 1 {
		t.Fatalf("seed %d: corrupted %d symbols, want 1", seed, bad)
	}
	for i, r := range w.rx {
		if r.held[1] == nil || r.held[1][2] != nil {
			t.Fatalf("seed %d: drone %d stored the corrupted symbol", seed, i+1)
		}
		if got := r.Lacks(); got != 1 {
			t.Fatalf("seed %d: drone %d lacks %d symbols, want 1", seed, i+1, got)
		}
	}
	corrupt := 0
	for _, ev := range w.events {
		if _, ok := ev.(CorruptEvent); ok {
			corrupt++
		}
	}
	if corrupt != 3 {
		t.Fatalf("seed %d: %d corrupt events, want 3", seed, corrupt)
	}
	w.run(5000)
	if got := w.held(); got != 3 {
		t.Fatalf("seed %d: %d of 3 drones hold the show after the corrupted symbol", seed, got)
	}
	// One drone asked for the one symbol; the others heard it and kept quiet.
	total := 0
	for _, a := range w.asked {
		total += a
	}
	if total != 1 {
		t.Fatalf("seed %d: drones asked for %d symbols, want 1", seed, total)
	}
}

func TestRestartAsksOnlyForWhatItLacks(t *testing.T) {
	const seed = 9
	show := testShow(30000, seed)
	// One drone, so that no other drone's report silences part of its own.
	w := newSwarm(t, 1, 0.1, seed, SenderConfig{Show: show, MaxBlock: 40})
	var saved []byte
	for range 5000 {
		w.step()
		if w.rx[0].Stored() >= 60 {
			saved = w.rx[0].Persist()
			break
		}
	}
	w.up[0] = false
	held := w.rx[0].Stored()
	// Down for a while: the rest of the first pass goes by.
	for range 150 {
		w.step()
	}
	r, err := NewReceiver(ReceiverConfig{Seed: 77, Restored: saved})
	if err != nil {
		t.Fatal(err)
	}
	if r.Stored() != held {
		t.Fatalf("seed %d: restored %d symbols, persisted %d", seed, r.Stored(), held)
	}
	lacks := r.Lacks()
	w.rx[0], w.up[0] = r, true
	w.asked[0], w.first[0] = 0, -1
	w.run(50000)
	if got := w.held(); got != 1 {
		t.Fatalf("seed %d: the restarted drone does not hold the show", seed)
	}
	chunks := w.sender.Layout().Chunks()
	// Its first report asks for what it lacks, not the show: later
	// reports ask again for repair symbols the radio lost.
	if held < chunks/2 || lacks != chunks-held || w.first[0] != lacks || w.asked[0] > 2*lacks {
		t.Fatalf("seed %d: restarted drone held %d of %d, lacked %d, asked for %d first and %d in all", seed, held, chunks, lacks, w.first[0], w.asked[0])
	}
	t.Logf("restarted drone held %d of %d chunks, asked for %d symbols first and %d in all", held, chunks, w.first[0], w.asked[0])
	if !bytes.Equal(w.rx[0].Show(), show) || sha256.Sum256(w.rx[0].Show()) != w.sender.Hash() {
		t.Fatalf("seed %d: restarted drone holds other bytes", seed)
	}
}

// A ground station restarted from its persisted state polls and sends what
// the drones lack, not the whole show again.
func TestRestartedSenderResumes(t *testing.T) {
	for _, scheme := range []Scheme{Coded, NACK} {
		const seed = 11
		show := testShow(30000, seed)
		cfg := SenderConfig{Show: show, Scheme: scheme, MaxBlock: 40, BytesPerTick: float64(Frame(255))}
		w := newSwarm(t, 20, 0.1, seed, cfg)
		chunks := w.sender.Layout().Chunks()
		for w.frames < chunks/2 {
			w.step()
		}
		saved := w.sender.Persist()
		cfg.Restored = saved
		s, err := NewSender(cfg)
		if err != nil {
			t.Fatal(err)
		}
		w.sender = s
		least := chunks // symbols held by the drone that holds fewest
		for _, r := range w.rx {
			least = min(least, r.Stored()+len(r.pending))
		}
		before := w.symbols
		w.run(50000)
		if got := w.held(); got != 20 {
			t.Fatalf("seed %d, %s: %d of 20 drones hold the show after the sender restarted", seed, scheme, got)
		}
		sent := w.symbols - before
		t.Logf("%s: restarted after %d of %d chunks; %d symbols after, every drone held at least %d", scheme, before, chunks, sent, least)
		// NACK resends the union of what the drones miss, more than the
		// show here: only coded repair is bounded by what drones lack.
		if scheme == Coded && (sent >= chunks || sent < chunks-least || sent > 2*(chunks-least)) {
			t.Fatalf("seed %d, %s: %d symbols after the restart, for %d chunks of which every drone held %d", seed, scheme, sent, chunks, least)
		}
	}
}

// An offer larger than any show is refused; the largest takes memory per
// block only as symbols arrive.
func TestOfferBounds(t *testing.T) {
	r, err := NewReceiver(ReceiverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Step(station, Offer{Layout: Layout{Size: MaxShowSize + 1, Blocks: 0xFFFF}}); err == nil {
		t.Fatal("an offer of more than MaxShowSize bytes was taken")
	}
	big := Layout{Size: MaxShowSize, Blocks: 0xFFFF}
	if err := r.Step(station, Offer{Layout: big, Poll: true}); err != nil {
		t.Fatal(err)
	}
	allocated := 0
	for _, h := range r.held {
		if h != nil {
			allocated++
		}
	}
	if r.Lacks() != big.Chunks() || allocated != 0 {
		t.Fatalf("lacks %d of %d chunks, %d blocks allocated before any symbol", r.Lacks(), big.Chunks(), allocated)
	}
	// Its report fits one frame: the first blocks, the rest next time.
	for range 100 {
		r.Tick()
	}
	rd := r.Ready()
	if len(rd.Sends) != 1 || rd.Sends[0].Msg.Size() > 255 {
		t.Fatalf("report: %d sends", len(rd.Sends))
	}
}

// A report that answers an earlier poll arrives after the sender has sent
// that poll's repairs: it asks for nothing more.
func TestLateReportIsIgnored(t *testing.T) {
	s, err := NewSender(SenderConfig{Show: testShow(5000, 1), MaxBlock: 8})
	if err != nil {
		t.Fatal(err)
	}
	id := ID(s.Hash())
	repairs := func() int {
		n := 0
		for _, snd := range s.Ready().Sends {
			if sym, ok := snd.Msg.(Symbol); ok && sym.Repeat {
				n++
			}
		}
		return n
	}
	for s.round == 0 || s.phase != collecting {
		s.Tick()
	}
	repairs()
	if err := s.Step(3, Need{Show: id, Round: 1, Entries: []Entry{{Block: 0, Count: 3}}}); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for range s.cfg.Window + 1 {
		s.Tick()
		sent += repairs()
	}
	// The repairs of round 1 are out and round 2's poll too; drone 4's
	// answer to round 1 comes late.
	if err := s.Step(4, Need{Show: id, Round: 1, Entries: []Entry{{Block: 0, Count: 5}}}); err != nil {
		t.Fatal(err)
	}
	for range 3 * s.cfg.Window {
		s.Tick()
		sent += repairs()
	}
	if sent != 3 {
		t.Fatalf("%d repair symbols for a report asking 3 and a late one", sent)
	}
}
