package scenario

import (
	"crypto/sha256"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// The log scenario with --upload-size runs a show upload beside the
// command log, as a drone's runner does: the ground station (one more
// vehicle on the channel) broadcasts the show, and every drone runs an
// upload receiver beside its log node.

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
	switch m.(type) {
	case upload.Offer, upload.Symbol, upload.Need:
		return d.rx.Step(from, m)
	}
	return d.Node.Step(from, m)
}

// Tick ticks both.
func (d *logDrone) Tick() {
	d.Node.Tick()
	d.rx.Tick()
}

// Ready merges both.
func (d *logDrone) Ready() algorithms.Ready {
	rd := d.Node.Ready()
	up := d.rx.Ready()
	rd.Sends = append(rd.Sends, up.Sends...)
	rd.Events = append(rd.Events, up.Events...)
	return rd
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

// logUpload is the upload of a log run.
type logUpload struct {
	station algorithms.NodeID
	show    []byte
	hash    [32]byte
	sender  *uploadStation
}

func newLogUpload(l Log, baud int, tick float64) (*logUpload, error) {
	u := &logUpload{station: algorithms.NodeID(l.Drones + 1), show: UploadShow(l.UploadSize, l.Seed)}
	u.hash = sha256.Sum256(u.show)
	snd, err := upload.NewSender(upload.SenderConfig{Show: u.show, BytesPerTick: l.UploadShare * float64(baud) / 10 * tick})
	if err != nil {
		return nil, err
	}
	u.sender = &uploadStation{Sender: snd}
	return u, nil
}

// drone wraps a drone's log node with a fresh receiver (a restarted
// drone receives the show again from its start: the log scenario does
// not persist the receiver).
func (u *logUpload) drone(id algorithms.NodeID, n *cmdlog.Node, seed uint64) (*logDrone, error) {
	rx, err := upload.NewReceiver(upload.ReceiverConfig{Seed: seed*0x9e3779b97f4a7c15 + uint64(id)})
	if err != nil {
		return nil, err
	}
	return &logDrone{Node: n, rx: rx}, nil
}
