package election_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/election"
)

// Timeouts of the harness, in ticks. algtest's RunTicks delivers every
// message in flight before each tick, so one tick covers any round trip;
// two leaves a margin.
const (
	ackTimeout   = 2
	timeout      = 2
	coordTimeout = 4
	// settle is enough ticks for any election of the harness to end.
	settle = 40
)

// algo builds the cores of one algorithm.
type algo struct {
	name string
	make func(t testing.TB, id algorithms.NodeID, members []algorithms.NodeID, opts ...election.Option) election.Election
}

var algos = []algo{
	{"ring", func(t testing.TB, id algorithms.NodeID, members []algorithms.NodeID, opts ...election.Option) election.Election {
		c, err := election.NewRing(election.RingConfig{ID: id, Members: members, AckTimeout: ackTimeout, AutoCampaign: true}, opts...)
		require.NoError(t, err)
		return c
	}},
	{"bully", func(t testing.TB, id algorithms.NodeID, members []algorithms.NodeID, opts ...election.Option) election.Election {
		c, err := election.NewBully(election.BullyConfig{ID: id, Members: members, Timeout: timeout, CoordinatorTimeout: coordTimeout, AutoCampaign: true}, opts...)
		require.NoError(t, err)
		return c
	}},
}

// ids returns the vehicle IDs 1..n.
func ids(n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(i + 1)
	}
	return out
}

// slot holds a drone's core and lets a test crash the drone and restart it
// with a new core, which algtest.Net.Crash cannot undo.
type slot struct {
	core election.Election
	dead bool
}

func (s *slot) Step(from algorithms.NodeID, m algorithms.Message) error {
	if s.dead {
		return nil
	}
	return s.core.Step(from, m)
}

func (s *slot) Tick() {
	if !s.dead {
		s.core.Tick()
	}
}

func (s *slot) Ready() algorithms.Ready {
	r := s.core.Ready()
	if s.dead {
		return algorithms.Ready{}
	}
	return r
}

// swarm is a group of drones 1..n of one algorithm on an algtest.Net.
type swarm struct {
	t     testing.TB
	a     algo
	n     int
	net   *algtest.Net
	slots map[algorithms.NodeID]*slot
}

func newSwarm(t testing.TB, a algo, n int, seed uint64) *swarm {
	s := &swarm{t: t, a: a, n: n, slots: map[algorithms.NodeID]*slot{}}
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range ids(n) {
		s.slots[id] = &slot{core: a.make(t, id, ids(n))}
		cores[id] = s.slots[id]
	}
	s.net = algtest.New(seed, cores)
	return s
}

func (s *swarm) core(id algorithms.NodeID) election.Election { return s.slots[id].core }

// live returns the IDs of the drones that have not crashed, ascending.
func (s *swarm) live() []algorithms.NodeID {
	var out []algorithms.NodeID
	for _, id := range ids(s.n) {
		if !s.slots[id].dead {
			out = append(out, id)
		}
	}
	return out
}

// crash stops id; its output from now on is lost.
func (s *swarm) crash(id algorithms.NodeID) {
	s.net.Collect()
	s.slots[id].dead = true
}

// restart replaces id's core with one restored from state.
func (s *swarm) restart(id algorithms.NodeID, state []byte) election.Election {
	c := s.a.make(s.t, id, ids(s.n), election.Restore(state))
	s.slots[id].core, s.slots[id].dead = c, false
	return c
}

// bootstrap elects the highest drone in term 1 from a cold start.
func (s *swarm) bootstrap(initiator algorithms.NodeID) {
	s.core(initiator).Campaign()
	s.net.RunTicks(settle)
	s.requireAllFollow(algorithms.NodeID(s.n), 1)
}

// requireAllFollow checks that every live drone follows leader in term.
func (s *swarm) requireAllFollow(leader algorithms.NodeID, term uint32) {
	s.t.Helper()
	for _, id := range s.live() {
		l, tm, ok := s.core(id).Leader()
		require.True(s.t, ok, "drone %d knows no leader (term %d)", id, tm)
		require.Equal(s.t, leader, l, "drone %d's leader", id)
		require.Equal(s.t, term, tm, "drone %d's term", id)
		require.Equal(s.t, term, s.core(id).Term(), "drone %d's highest term", id)
		require.False(s.t, s.core(id).Participating(), "drone %d still takes part", id)
	}
}

// elections returns, for every Elected event from index from on, the
// leaders announced per term.
func elections(evs []algtest.NodeEvent, from int) map[uint32]map[algorithms.NodeID]bool {
	out := map[uint32]map[algorithms.NodeID]bool{}
	for _, e := range evs[from:] {
		if el, ok := e.Event.(election.Elected); ok {
			if out[el.Term] == nil {
				out[el.Term] = map[algorithms.NodeID]bool{}
			}
			out[el.Term][el.Leader] = true
		}
	}
	return out
}

// requireOneLeaderPerTerm checks that no two drones were announced leader
// of the same term.
func requireOneLeaderPerTerm(t testing.TB, evs []algtest.NodeEvent, msg string) {
	t.Helper()
	per := elections(evs, 0)
	for _, term := range slices.Sorted(maps.Keys(per)) {
		require.Len(t, per[term], 1, "%s: leaders of term %d: %v", msg, term, slices.Sorted(maps.Keys(per[term])))
	}
}

// diff returns the messages per kind counted since before.
func diff(before, after map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func seedMsg(seed uint64) string { return fmt.Sprintf("seed=%d", seed) }
