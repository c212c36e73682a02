package cmdlog

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
)

// ids returns the vehicle IDs 1..n.
func ids(n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(i + 1)
	}
	return out
}

// slot holds a drone's log and lets a test crash it and restart it from
// its persisted state, which algtest.Net.Crash cannot undo.
type slot struct {
	log   *Log
	dead  bool
	saved []byte
}

func (s *slot) Step(from algorithms.NodeID, m algorithms.Message) error {
	if s.dead {
		return nil
	}
	return s.log.Step(from, m)
}

func (s *slot) Tick() {
	if !s.dead {
		s.log.Tick()
	}
}

func (s *slot) Ready() algorithms.Ready {
	r := s.log.Ready()
	if s.dead {
		return algorithms.Ready{}
	}
	// The runner's rule: store the state before the sends go out.
	s.saved = slices.Clone(s.log.Persist())
	return r
}

// swarm is n drones running Log over algtest's reliable network, with a
// record of what each applied.
type swarm struct {
	t       testing.TB
	cfg     Config
	slots   map[algorithms.NodeID]*slot
	net     *algtest.Net
	applied map[algorithms.NodeID][]Applied
	leading map[uint32][]algorithms.NodeID
	deposed []Deposed
}

// Timeouts of the harness, in ticks: algtest delivers everything in flight
// before each tick, so one tick covers any round trip.
func harnessConfig(c int) Config {
	return Config{Committee: c, Retransmit: 3, NakDelay: 1, NakJitter: 1, RepairGap: 1, Beacon: 10, RecoverRetry: 3}
}

func newSwarm(t testing.TB, seed uint64, n int, cfg Config, states map[algorithms.NodeID][]byte) *swarm {
	t.Helper()
	sw := &swarm{
		t: t, cfg: cfg,
		slots:   map[algorithms.NodeID]*slot{},
		applied: map[algorithms.NodeID][]Applied{},
		leading: map[uint32][]algorithms.NodeID{},
	}
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range ids(n) {
		c := cfg
		c.ID, c.Members, c.Seed = id, ids(n), seed
		var opts []Option
		if st, ok := states[id]; ok {
			opts = append(opts, Restore(st))
		}
		l, err := New(c, opts...)
		require.NoError(t, err)
		sw.slots[id] = &slot{log: l}
		cores[id] = sw.slots[id]
	}
	sw.net = algtest.New(seed, cores)
	sw.net.OnEvent = sw.observe
	return sw
}

func (sw *swarm) observe(id algorithms.NodeID, ev algorithms.Event) {
	switch ev := ev.(type) {
	case Applied:
		prev := sw.applied[id]
		require.Equal(sw.t, uint32(len(prev)+1), ev.Index, "drone %d applied out of order", id)
		sw.applied[id] = append(prev, ev)
	case Leading:
		sw.leading[ev.Term] = append(sw.leading[ev.Term], id)
	case Deposed:
		sw.deposed = append(sw.deposed, ev)
	}
}

func (sw *swarm) log(id algorithms.NodeID) *Log { return sw.slots[id].log }

// elect tells every live drone that leader leads term.
func (sw *swarm) elect(leader algorithms.NodeID, term uint32, to ...algorithms.NodeID) {
	if len(to) == 0 {
		to = ids(len(sw.slots))
	}
	for _, id := range to {
		if !sw.slots[id].dead {
			sw.log(id).LeaderChanged(leader, term)
		}
	}
	sw.net.Collect()
}

func (sw *swarm) propose(id algorithms.NodeID, cmd string) Position {
	sw.t.Helper()
	p, err := sw.log(id).Propose([]byte(cmd))
	require.NoError(sw.t, err)
	sw.net.Collect()
	return p
}

func (sw *swarm) crash(id algorithms.NodeID) {
	sw.slots[id].dead = true
	for _, o := range ids(len(sw.slots)) {
		if o != id && !sw.slots[o].dead {
			sw.log(o).PeerDown(id)
		}
	}
	sw.net.Collect()
}

// restart rebuilds id from the state it stored last.
func (sw *swarm) restart(id algorithms.NodeID) {
	sw.t.Helper()
	s := sw.slots[id]
	c := sw.cfg
	c.ID, c.Members = id, ids(len(sw.slots))
	l, err := New(c, Restore(s.saved))
	require.NoError(sw.t, err)
	s.log, s.dead = l, false
	sw.applied[id] = nil
	for _, o := range ids(len(sw.slots)) {
		if o != id && !sw.slots[o].dead {
			sw.log(o).PeerUp(id)
		}
	}
	sw.net.Collect()
}

// commands returns what drone id applied, commands only, in order.
func (sw *swarm) commands(id algorithms.NodeID) []string {
	var out []string
	for _, a := range sw.applied[id] {
		if a.Entry.Kind == KindCommand {
			out = append(out, string(a.Entry.Data))
		}
	}
	return out
}

// agree checks that every pair of drones applied the same entry at every
// index both applied.
func (sw *swarm) agree() {
	sw.t.Helper()
	at := map[uint32]Applied{}
	for _, id := range ids(len(sw.slots)) {
		for _, a := range sw.applied[id] {
			if b, ok := at[a.Index]; ok {
				require.Equal(sw.t, b.Entry.Term, a.Entry.Term, "index %d at drone %d", a.Index, id)
				require.Equal(sw.t, string(b.Entry.Data), string(a.Entry.Data), "index %d at drone %d", a.Index, id)
			}
			at[a.Index] = a
		}
	}
}

// stateOf builds persisted bytes by hand: a drone's term, vote, commit
// point and log.
func stateOf(term uint32, vote algorithms.NodeID, commit uint32, es ...Entry) []byte {
	return encodeState(state{term: term, vote: vote, commit: commit, entries: es})
}

func cmd(term uint32, s string) Entry { return Entry{Term: term, Kind: KindCommand, Data: []byte(s)} }

func noop(term uint32) Entry { return Entry{Term: term, Kind: KindNoop} }
