package scenario

import (
	"crypto/sha256"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// The log and show scenarios with --upload-size run a show upload beside
// the swarm, as a drone's runner does: the ground station (one more
// vehicle on the channel, after the drones) broadcasts the show, and
// every drone runs an upload receiver beside its node.

// logDrone is a drone's log node and its upload receiver as one core.
type logDrone struct {
	*cmdlog.Node
	rx *upload.Receiver
}

var (
	_ algorithms.Core         = (*logDrone)(nil)
	_ algorithms.PeerObserver = (*logDrone)(nil)
	_ algorithms.Persister    = (*logDrone)(nil)
)

// Step hands upload messages to the receiver, the rest to the log node.
func (d *logDrone) Step(from algorithms.NodeID, m algorithms.Message) error {
	if isUpload(m) {
		return d.rx.Step(from, m)
	}
	return d.Node.Step(from, m)
}

// isUpload reports whether m belongs to the show upload.
func isUpload(m algorithms.Message) bool {
	switch m.(type) {
	case upload.Offer, upload.Symbol, upload.Need:
		return true
	}
	return false
}

// withUpload adds what the receiver rx has to send and report to rd.
func withUpload(rd algorithms.Ready, rx *upload.Receiver) algorithms.Ready {
	up := rx.Ready()
	rd.Sends = append(rd.Sends, up.Sends...)
	rd.Events = append(rd.Events, up.Events...)
	return rd
}

// Tick ticks both.
func (d *logDrone) Tick() {
	d.Node.Tick()
	d.rx.Tick()
}

// Ready merges both.
func (d *logDrone) Ready() algorithms.Ready {
	return withUpload(d.Node.Ready(), d.rx)
}

// uploadStation is the ground station's upload sender, idle until the
// measured part of the run begins.
type uploadStation struct {
	*upload.Sender
	on bool
}

// Tick ticks the sender once the upload has begun.
func (u *uploadStation) Tick() {
	if u.on {
		u.Sender.Tick()
	}
}

// sideUpload is the upload of a log or show run: a show of size bytes
// drawn from seed, sent by the ground station, vehicle drones+1, at
// share of the channel.
type sideUpload struct {
	station algorithms.NodeID
	seed    uint64
	show    []byte
	hash    [32]byte
	sender  *uploadStation
}

func newSideUpload(drones, size int, share float64, seed uint64, baud int, tick float64) (*sideUpload, error) {
	u := &sideUpload{station: algorithms.NodeID(drones + 1), seed: seed, show: UploadShow(size, seed)}
	u.hash = sha256.Sum256(u.show)
	snd, err := upload.NewSender(upload.SenderConfig{Show: u.show, BytesPerTick: share * float64(baud) / 10 * tick})
	if err != nil {
		return nil, err
	}
	u.sender = &uploadStation{Sender: snd}
	return u, nil
}

// receiver is a fresh receiver for drone id (a restarted drone receives
// the show again from its start: the scenarios do not persist the
// receiver).
func (u *sideUpload) receiver(id algorithms.NodeID) (*upload.Receiver, error) {
	return upload.NewReceiver(upload.ReceiverConfig{Seed: u.seed*0x9e3779b97f4a7c15 + uint64(id)})
}

// drone wraps a drone's log node with a fresh receiver.
func (u *sideUpload) drone(id algorithms.NodeID, n *cmdlog.Node) (*logDrone, error) {
	rx, err := u.receiver(id)
	if err != nil {
		return nil, err
	}
	return &logDrone{Node: n, rx: rx}, nil
}
