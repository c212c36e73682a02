package swarm

// LockBusyShare is the share of the channel above which a drone holds back
// a new airspace acquisition (airspace.Config.BusyShare), for the
// acquisition's WaitTicks at most (30 s by default). The swarm's periodic
// traffic is budgeted below it (heartbeats 0.05, time sync 0.04, the log's
// beacons), so what fills the channel beyond it is lock traffic and the
// retransmissions that loss costs, and starting more acquisitions then
// only lengthens the queue every answer waits in. LockBusyStagger spreads
// the share at which held-back drones start down to 0.3 of it, so that
// they do not all start in the tick the channel quietens. With both, the
// heavy-loss show keeps the channel about half busy at most (0.51 in the
// worst of 500 runs at 50 drones; docs/swarm.md, "Heavy loss").
const (
	LockBusyShare   = 0.15
	LockBusyStagger = 0.7
)

// ChannelBusy tells the node how long, in nanoseconds since the start, its
// radio channel has carried frames, its own and everyone's (a runner reads
// it from the radio's status, the simulator from its channel). Call it
// before each Tick; without it the node never holds back an acquisition.
func (n *Node) ChannelBusy(total int64) { n.locks.ChannelBusy(total) }
