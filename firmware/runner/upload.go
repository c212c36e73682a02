package runner

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// UploadFileName is the file in the state directory that keeps the part
// of a show the drone has received.
const UploadFileName = "show.upload"

// showUpload is the drone's side of a show upload (swarm/upload): it runs
// beside the node, from the first tick on, and keeps what it has received
// in its own state file, so that after a restart the drone asks only for
// what it still lacks.
type showUpload struct {
	rx    *upload.Receiver
	store Store
	saved []byte
}

// initUpload restores the receiver from its state file. A state file that
// cannot be read is dropped: it only saves airtime, and the show's SHA-256
// guards what the drone holds.
func (r *Runner) initUpload(store Store) error {
	u := &r.upload
	u.store = store
	// The seed only spreads the drones' reports: the vehicle ID and the
	// boot time make it differ from drone to drone and start to start.
	cfg := upload.ReceiverConfig{Seed: uint64(r.cfg.ID)<<48 ^ uint64(r.clock.Now().UnixNano())}
	if store != nil {
		b, err := store.Load()
		if err != nil {
			r.log.Warn("runner: the partial show is not read; it will be received again", "err", err)
		}
		if len(b) > 0 {
			cfg.Restored = b
			u.saved = b
		}
	}
	rx, err := upload.NewReceiver(cfg)
	if err != nil && cfg.Restored != nil {
		r.log.Warn("runner: the partial show is not restored; it will be received again", "err", err)
		cfg.Restored, u.saved = nil, nil
		rx, err = upload.NewReceiver(cfg)
	}
	if err != nil {
		return fmt.Errorf("runner: upload: %w", err)
	}
	u.rx = rx
	if rx.Lacks() >= 0 {
		r.log.Info("runner: resuming a show upload", "stored", rx.Stored(), "lacks", rx.Lacks())
	}
	return nil
}

// isUpload reports whether m belongs to the show upload.
func isUpload(m algorithms.Message) bool {
	switch m.(type) {
	case upload.Offer, upload.Symbol, upload.Need:
		return true
	}
	return false
}

// stepUpload hands an upload message to the receiver.
func (r *Runner) stepUpload(from algorithms.NodeID, m algorithms.Message) {
	if err := r.upload.rx.Step(from, m); err != nil {
		r.counters.StepErrors++
		r.log.Debug("runner: upload message rejected", "from", from, "kind", m.Kind(), "err", err)
	}
	r.flushUpload()
}

// flushUpload stores the receiver's state at its checkpoints and sends its
// reports.
func (r *Runner) flushUpload() {
	u := &r.upload
	rd := u.rx.Ready()
	store := false
	for _, ev := range rd.Events {
		switch ev := ev.(type) {
		case upload.HeldEvent:
			r.log.Info("runner: holds the show", "hash", ev.Hash.String())
			r.fly.received(r, u.rx.Show())
			store = true
		case upload.BadShowEvent:
			r.log.Warn("runner: the received show does not match its hash; receiving it again", "hash", ev.Hash.String())
			store = true
		case upload.CorruptEvent:
			r.log.Debug("runner: show symbol failed its check", "block", ev.Block, "index", ev.Index)
		case upload.ProgressEvent, upload.BlockEvent:
			store = true
		}
	}
	if store {
		r.saveUpload()
	}
	for _, s := range rd.Sends {
		r.sendRaw(s)
	}
}

// saveUpload stores the receiver's state if it changed: at its
// checkpoints, and when the drone stops.
func (r *Runner) saveUpload() {
	u := &r.upload
	if u.store == nil || u.rx == nil {
		return
	}
	b := u.rx.Persist()
	if b == nil || bytes.Equal(b, u.saved) {
		return
	}
	if err := u.store.Save(b); err != nil {
		r.counters.SaveErrors++
		r.log.Error("runner: partial show not stored", "err", err)
		return
	}
	u.saved = b
}

// HeldShow returns the show the drone holds, its SHA-256 checked, and its
// hash; nil when it holds none.
func (r *Runner) HeldShow() ([]byte, show.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.upload.rx.Show()
	if b == nil {
		return nil, show.Hash{}
	}
	return b, sha256.Sum256(b)
}
