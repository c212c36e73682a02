// Package algtest is a small in-memory network for the unit tests of the
// protocol cores: reliable channels, FIFO per pair of drones, and a seeded
// choice of which pending message is delivered next, so that tests explore
// many interleavings reproducibly. Faults, airtime and the radio belong to
// the full simulator (sitl/sim); this package only exercises a core's logic.
package algtest

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Delivered is one message handed to a core, in delivery order.
type Delivered struct {
	From, To algorithms.NodeID
	Msg      algorithms.Message
}

// Net connects cores by reliable FIFO channels.
type Net struct {
	cores   map[algorithms.NodeID]algorithms.Core
	ids     []algorithms.NodeID
	crashed map[algorithms.NodeID]bool
	// queues[from][to] holds messages in flight, in send order.
	queues map[[2]algorithms.NodeID][]algorithms.Message
	rng    *rand.Rand

	// Messages counts point-to-point messages as the textbook does.
	Messages int
	// Frames counts transmissions: one per Send, however many destinations.
	Frames int
	// ByKind counts point-to-point messages per message kind.
	ByKind map[string]int
	// Events holds every event in the order the cores emitted them.
	Events []NodeEvent
	// Log holds every delivery in order.
	Log []Delivered
	// OnEvent, when set, is called for every event as it is emitted.
	OnEvent func(id algorithms.NodeID, ev algorithms.Event)
	// Drop, when set, is asked before each delivery; returning true loses
	// the message (for tests of a core's own timeouts).
	Drop func(from, to algorithms.NodeID, m algorithms.Message) bool
}

// NodeEvent is an event with the drone that emitted it.
type NodeEvent struct {
	ID    algorithms.NodeID
	Event algorithms.Event
}

// New connects the given cores; seed picks the interleaving.
func New(seed uint64, cores map[algorithms.NodeID]algorithms.Core) *Net {
	n := &Net{
		cores:   cores,
		crashed: map[algorithms.NodeID]bool{},
		queues:  map[[2]algorithms.NodeID][]algorithms.Message{},
		rng:     rand.New(rand.NewPCG(seed, 0x5eed)),
		ByKind:  map[string]int{},
	}
	for id := range cores {
		n.ids = append(n.ids, id)
	}
	slices.Sort(n.ids)
	return n
}

// Core returns the core of id.
func (n *Net) Core(id algorithms.NodeID) algorithms.Core { return n.cores[id] }

// Crash stops id: it receives nothing more and its queued output is lost.
func (n *Net) Crash(id algorithms.NodeID) {
	n.crashed[id] = true
	for k := range n.queues {
		if k[0] == id || k[1] == id {
			delete(n.queues, k)
		}
	}
}

// Collect drains the output of every live core into the channels.
func (n *Net) Collect() {
	for _, id := range n.ids {
		if n.crashed[id] {
			continue
		}
		n.collect(id)
	}
}

func (n *Net) collect(id algorithms.NodeID) {
	rd := n.cores[id].Ready()
	for _, ev := range rd.Events {
		n.Events = append(n.Events, NodeEvent{ID: id, Event: ev})
		if n.OnEvent != nil {
			n.OnEvent(id, ev)
		}
	}
	for _, s := range rd.Sends {
		n.Frames++
		c := s.Count(len(n.ids))
		n.Messages += c
		n.ByKind[s.Msg.Kind()] += c
		to := s.To
		if to == nil {
			to = n.others(id)
		}
		for _, dst := range to {
			if dst == id {
				panic(fmt.Sprintf("algtest: drone %d sent %s to itself", id, s.Msg.Kind()))
			}
			if _, ok := n.cores[dst]; !ok {
				panic(fmt.Sprintf("algtest: drone %d sent %s to unknown drone %d", id, s.Msg.Kind(), dst))
			}
			if n.crashed[dst] {
				continue
			}
			k := [2]algorithms.NodeID{id, dst}
			n.queues[k] = append(n.queues[k], s.Msg)
		}
	}
}

func (n *Net) others(id algorithms.NodeID) []algorithms.NodeID {
	out := make([]algorithms.NodeID, 0, len(n.ids)-1)
	for _, x := range n.ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// Pending is the number of messages in flight.
func (n *Net) Pending() int {
	total := 0
	for _, q := range n.queues {
		total += len(q)
	}
	return total
}

// DeliverOne delivers the head of one nonempty channel, chosen by the seed,
// and collects the receiver's output. It returns false when nothing is in
// flight. A Step error fails with a panic: cores under test must accept
// every message their peers send.
func (n *Net) DeliverOne() bool {
	n.Collect()
	keys := make([][2]algorithms.NodeID, 0, len(n.queues))
	for k, q := range n.queues {
		if len(q) > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return false
	}
	slices.SortFunc(keys, func(a, b [2]algorithms.NodeID) int {
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		return int(a[1]) - int(b[1])
	})
	k := keys[n.rng.IntN(len(keys))]
	m := n.queues[k][0]
	n.queues[k] = n.queues[k][1:]
	if n.Drop != nil && n.Drop(k[0], k[1], m) {
		return true
	}
	n.Log = append(n.Log, Delivered{From: k[0], To: k[1], Msg: m})
	if err := n.cores[k[1]].Step(k[0], m); err != nil {
		panic(fmt.Sprintf("algtest: drone %d rejected %s from %d: %v", k[1], m.Kind(), k[0], err))
	}
	n.collect(k[1])
	return true
}

// Run delivers until nothing is in flight, at most limit deliveries; it
// returns the number delivered.
func (n *Net) Run(limit int) int {
	count := 0
	for count < limit && n.DeliverOne() {
		count++
	}
	return count
}

// Tick ticks every live core once and collects their output.
func (n *Net) Tick() {
	for _, id := range n.ids {
		if !n.crashed[id] {
			n.cores[id].Tick()
		}
	}
	n.Collect()
}

// RunTicks alternates delivering everything in flight and ticking, for the
// given number of ticks.
func (n *Net) RunTicks(ticks int) {
	for range ticks {
		n.Run(1 << 20)
		n.Tick()
	}
	n.Run(1 << 20)
}
