package swarm

// LockBusyShare is the share of the channel above which a drone holds back
// a new airspace acquisition (airspace.Config.BusyShare): the swarm's
// periodic traffic is budgeted well below it, so what fills the channel
// beyond it is lock traffic and the retransmissions that loss costs, and
// starting more acquisitions then only lengthens the queue every answer
// waits in.
const LockBusyShare = 0.3

// ChannelBusy tells the node how long, in nanoseconds since the start, its
// radio channel has carried frames, its own and everyone's (a runner reads
// it from the radio's status, the simulator from its channel). Call it
// before each Tick; without it the node never holds back an acquisition.
func (n *Node) ChannelBusy(total int64) { n.locks.ChannelBusy(total) }
