package swarm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/timesync"
)

// A live leader wrongly suspected: drone 2 hears nothing from drone 3
// (every frame from 3 to 2 is lost, its ANSWER and COORDINATOR too), so the
// bully declares both 3 and 2 leader of one term. Only the one that a
// committee majority promised the term acts as its leader: it alone
// sequences and announces commit points (APPEND, COMMIT) and serves swarm
// time, which drone 1 asks of both every half second.
func TestWronglySuspectedLeaderActsOnce(t *testing.T) {
	ids := []algorithms.NodeID{1, 2, 3}
	nodes := map[algorithms.NodeID]*swarm.Node{}
	for _, id := range ids {
		n, err := swarm.New(swarm.Config{
			ID: id, Members: ids, Seed: uint64(id), TickNanos: 10e6, Baud: 57600, Key: key,
			BullyTimeout: 20,
		}, nil)
		require.NoError(t, err)
		nodes[id] = n
	}
	lost := func(from, to algorithms.NodeID) bool { return from == 3 && to == 2 }
	type msg struct {
		from, to algorithms.NodeID
		m        algorithms.Message
	}
	var queue []msg
	elected := map[uint32]map[algorithms.NodeID]bool{}
	acting := map[uint32]map[algorithms.NodeID]bool{}
	act := func(term uint32, id algorithms.NodeID) {
		if acting[term] == nil {
			acting[term] = map[algorithms.NodeID]bool{}
		}
		acting[term][id] = true
	}
	drain := func(id algorithms.NodeID) {
		r := nodes[id].Ready()
		for _, ev := range r.Events {
			if e, ok := ev.(election.Elected); ok {
				if elected[e.Term] == nil {
					elected[e.Term] = map[algorithms.NodeID]bool{}
				}
				elected[e.Term][e.Leader] = true
			}
		}
		for _, s := range r.Sends {
			switch m := s.Msg.(type) {
			case cmdlog.Append:
				act(m.Term, id)
			case cmdlog.Commit:
				act(m.Term, id)
			case timesync.Reply:
				act(nodes[id].Log().Log().Term(), id)
			}
			to := s.To
			if to == nil {
				to = ids
			}
			for _, d := range to {
				if d != id && !lost(id, d) {
					queue = append(queue, msg{id, d, s.Msg})
				}
			}
		}
	}
	const ticks = 3000 // 30 s
	for tick := int64(1); tick <= ticks; tick++ {
		for _, id := range ids {
			nodes[id].SetClock(tick * 10e6)
			nodes[id].Tick()
			drain(id)
		}
		if tick%50 == 0 {
			for _, to := range []algorithms.NodeID{2, 3} {
				queue = append(queue, msg{1, to, timesync.Request{T1: tick * 10e6}})
			}
		}
		for len(queue) > 0 {
			q := queue[0]
			queue = queue[1:]
			nodes[q.to].SetClock(tick * 10e6)
			_ = nodes[q.to].Step(q.from, q.m)
			drain(q.to)
		}
	}
	twice := 0
	for term, ls := range elected {
		if len(ls) > 1 {
			twice++
			t.Logf("term %d: elected %v, acting as leader %v", term, ls, acting[term])
		}
	}
	require.Positive(t, twice, "the election never declared two drones in one term: the scenario does not test anything")
	for term, ls := range acting {
		assert.Len(t, ls, 1, "term %d: drones %v act as its leader", term, ls)
	}
}
