package multicast

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
)

func seqIDs(n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(i + 1)
	}
	return out
}

// maker builds one core of a group.
type maker func(c Config) (Multicast, error)

var (
	makeBasic    maker = func(c Config) (Multicast, error) { return NewBasic(c) }
	makeReliable maker = func(c Config) (Multicast, error) { return NewReliable(c) }
	makeFIFO     maker = func(c Config) (Multicast, error) { return NewFIFO(c) }
	makeCausal   maker = func(c Config) (Multicast, error) { return NewCausal(c) }
	makeSeq      maker = func(c Config) (Multicast, error) { return NewSequencer(c, 1) }
	makeISIS     maker = func(c Config) (Multicast, error) { return NewISIS(c) }
)

// testGroup is a group of cores on an algtest network.
type testGroup struct {
	t     *testing.T
	ids   []algorithms.NodeID
	cores map[algorithms.NodeID]Multicast
	net   *algtest.Net
	// sent holds the payload of every multicast.
	sent map[ID][]byte
}

func newTestGroup(t *testing.T, seed uint64, n int, mk maker, rel Reliability) *testGroup {
	t.Helper()
	g := &testGroup{t: t, ids: seqIDs(n), cores: map[algorithms.NodeID]Multicast{}, sent: map[ID][]byte{}}
	plain := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range g.ids {
		c, err := mk(Config{ID: id, Members: g.ids, Reliability: rel})
		require.NoError(t, err)
		g.cores[id], plain[id] = c, c
	}
	g.net = algtest.New(seed, plain)
	return g
}

// broadcast has id multicast a payload that names it.
func (g *testGroup) broadcast(id algorithms.NodeID) ID {
	g.t.Helper()
	payload := []byte(fmt.Sprintf("from %d #%d", id, len(g.sent)))
	mid, err := g.cores[id].Broadcast(payload)
	require.NoError(g.t, err)
	g.sent[mid] = payload
	g.net.Collect()
	return mid
}

// crash stops id and tells every other drone, as the failure detector would.
func (g *testGroup) crash(id algorithms.NodeID) {
	g.net.Crash(id)
	for _, o := range g.ids {
		if o != id {
			g.cores[o].PeerDown(id)
		}
	}
	g.net.Collect()
}

// delivered returns every drone's deliveries in order.
func (g *testGroup) delivered() map[algorithms.NodeID][]ID {
	out := map[algorithms.NodeID][]ID{}
	for _, e := range g.net.Events {
		if d, ok := e.Event.(Delivered); ok {
			out[e.ID] = append(out[e.ID], d.ID)
			require.Equal(g.t, string(g.sent[d.ID]), string(d.Payload), "drone %d delivered %v with another payload", e.ID, d.ID)
		}
	}
	return out
}

// frames counts first transmissions per kind (one per Send, however many
// destinations), from the textbook counts algtest keeps.
func (g *testGroup) framesOf(kind string) int {
	n := len(g.ids) - 1
	if n == 0 {
		return 0
	}
	return g.net.ByKind[kind] / n
}

// checkIntegrity: no drone delivers a message twice or one never sent.
func (g *testGroup) checkIntegrity(d map[algorithms.NodeID][]ID) {
	g.t.Helper()
	for id, got := range d {
		seen := map[ID]bool{}
		for _, m := range got {
			_, ok := g.sent[m]
			require.True(g.t, ok, "drone %d delivered %v, never multicast", id, m)
			require.False(g.t, seen[m], "drone %d delivered %v twice", id, m)
			seen[m] = true
		}
	}
}

// checkFIFO: each drone delivers each origin's messages as 1, 2, 3, ….
func (g *testGroup) checkFIFO(d map[algorithms.NodeID][]ID) {
	g.t.Helper()
	for id, got := range d {
		next := map[algorithms.NodeID]uint32{}
		for _, m := range got {
			require.Equal(g.t, next[m.Origin]+1, m.Seq, "drone %d delivered %v out of FIFO order: %v", id, m, got)
			next[m.Origin] = m.Seq
		}
	}
}

// checkAll: every listed drone delivered every multicast.
func (g *testGroup) checkAll(d map[algorithms.NodeID][]ID, drones []algorithms.NodeID) {
	g.t.Helper()
	want := make([]ID, 0, len(g.sent))
	for m := range g.sent {
		want = append(want, m)
	}
	slices.SortFunc(want, compareIDs)
	for _, id := range drones {
		got := slices.Clone(d[id])
		slices.SortFunc(got, compareIDs)
		require.Equal(g.t, want, got, "drone %d", id)
	}
}

// checkTotal: any two drones deliver in the same order, one a prefix of
// the other.
func (g *testGroup) checkTotal(d map[algorithms.NodeID][]ID) {
	g.t.Helper()
	var longest []ID
	for _, got := range d {
		if len(got) > len(longest) {
			longest = got
		}
	}
	for id, got := range d {
		require.Equal(g.t, longest[:len(got)], got, "drone %d delivers in another order", id)
	}
}

// lossy drops each message with probability p, drawn from seed.
func lossy(seed uint64, p float64) func(from, to algorithms.NodeID, m algorithms.Message) bool {
	rng := rand.New(rand.NewPCG(seed, 77))
	return func(algorithms.NodeID, algorithms.NodeID, algorithms.Message) bool { return rng.Float64() < p }
}

func live(ids []algorithms.NodeID, dead ...algorithms.NodeID) []algorithms.NodeID {
	var out []algorithms.NodeID
	for _, id := range ids {
		if !slices.Contains(dead, id) {
			out = append(out, id)
		}
	}
	return out
}
