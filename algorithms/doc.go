// Package algorithms holds the contract that every protocol core of the
// swarm follows, and the types the cores share.
//
// A core is a deterministic state machine. It has no goroutines, never reads
// the wall clock, never draws from global randomness and does no I/O. It is
// driven by three kinds of input:
//
//   - Step(from, msg): a message that the reliable delivery layer handed up;
//   - Tick(): one unit of logical time (timeouts are counted in ticks);
//   - local calls specific to the core (Request and Release for a mutex,
//     Campaign for an election, Broadcast for a multicast, …).
//
// Its output is collected with Ready, which returns the messages to send and
// the events that happened since the previous call, and clears them (it is
// etcd-io/raft's Ready and Advance in one call). A Send addresses one peer
// (unicast), an explicit list of peers (one broadcast frame that those peers
// accept), or every peer (To == nil). The radio is a broadcast medium, so a
// message that goes to many peers is one frame, while the textbook counts it
// once per destination (see Send.Count).
//
// The same core then runs unchanged in the deterministic simulator
// (sitl/sim), thousands of drones in one process, and on a drone, where a
// runner owns the clock and the radio.
//
// A minimal core that answers every PING with a PONG:
//
//	type pinger struct {
//		algorithms.Outbox
//	}
//
//	func (p *pinger) Step(from algorithms.NodeID, m algorithms.Message) error {
//		if _, ok := m.(ping); ok {
//			p.Send(algorithms.To(from), pong{})
//		}
//		return nil
//	}
//
//	func (p *pinger) Tick() {}
package algorithms
