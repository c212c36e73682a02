package swarm

// LockBusyShare is the share of the channel above which a drone holds back
// a new airspace acquisition (airspace.Config.BusyShare), the longer the
// farther the channel is above it: 30 s (WaitTicks) for each LockBusyShare
// above the acquisition's own share, 90 s at most. The swarm's periodic
// traffic is budgeted below it (heartbeats 0.05, time sync 0.04, the log's
// beacons), so what fills the channel beyond it is lock traffic and the
// retransmissions that loss costs, and starting more acquisitions then
// only lengthens the queue every answer waits in. LockBusyStagger spreads
// each acquisition's own share down to 0.3 of LockBusyShare, so that they
// do not all start in the tick the channel quietens. With both, the
// heavy-loss show keeps the channel under half busy (docs/swarm.md,
// "Heavy loss").
const (
	LockBusyShare   = 0.15
	LockBusyStagger = 0.7
)

// ChannelBusy tells the node how long, in nanoseconds since the start, its
// radio channel has carried frames, its own and everyone's (a runner reads
// it from the radio's status, the simulator from its channel). Call it
// before each Tick; without it the node never holds back an acquisition.
func (n *Node) ChannelBusy(total int64) { n.locks.ChannelBusy(total) }
