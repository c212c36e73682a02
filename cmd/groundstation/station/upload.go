package station

import (
	"bytes"
	"fmt"
	"maps"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// DefaultUploadShare is the share of the channel a show upload takes
// unless told otherwise; the rest stays free for the swarm's coordination.
const DefaultUploadShare = 0.6

// uploadTick is the upload core's tick: its windows and report delays are
// counted in ticks of 10 ms, ten for each of the station's timer ticks.
const uploadTick = 10 * time.Millisecond

// UploadOptions configure an upload.
type UploadOptions struct {
	// Repair is how losses are repaired (default upload.Coded).
	Repair upload.Scheme
	// Share is the share of the channel the upload may use, in (0, 1]
	// (default DefaultUploadShare), at the station's Baud (57600 when 0).
	Share float64
}

// UploadProgress is how an upload stands.
type UploadProgress struct {
	Hash   show.Hash
	Chunks int
	Blocks int
	// Symbols counts the symbols sent, Repairs those sent after the
	// first pass; Rounds the polls that drew reports.
	Symbols, Repairs, Rounds int
	// Asked is, per drone that reported in the last answered poll, the
	// symbols it asked for: the slowest drones, as that round saw them.
	Asked map[uint16]int
	// Lacks is what the neediest drone of each block asked for in the
	// last answered poll, summed over the blocks (coded repair: symbols;
	// NACK: chunks): the part of the show some drone still lacked then.
	Lacks int
	// Idle: the station fell silent after polls that no drone answered;
	// every drone that heard them holds the show.
	Idle bool
	// Resumed: the upload went on from the state an earlier run of the
	// station stored (Config.UploadStore): it began with a poll, not the
	// whole show.
	Resumed bool
}

// stationUpload is the sender's side of an upload in progress.
type stationUpload struct {
	snd      *upload.Sender
	progress UploadProgress
	asking   map[uint16]int // reports since the last answered poll
	saved    []byte         // the state last stored
}

// Upload starts broadcasting an encoded show to every drone of the
// network (swarm/upload); it replaces an upload in progress. Progress
// reports how it stands.
func (s *Station) Upload(showBytes []byte, opt UploadOptions) (show.Hash, error) {
	if opt.Share == 0 {
		opt.Share = DefaultUploadShare
	}
	if opt.Share < 0 || opt.Share > 1 {
		return show.Hash{}, fmt.Errorf("%w: upload share %v not in (0, 1]", ErrConfig, opt.Share)
	}
	baud := s.cfg.Baud
	if baud == 0 {
		baud = 57600
	}
	cfg := upload.SenderConfig{
		Show: showBytes, Scheme: opt.Repair,
		BytesPerTick: opt.Share * float64(baud) / 10 * uploadTick.Seconds(),
	}
	// The stored state resumes an upload of the same show; the sender
	// refuses the state of another show, which is then dropped.
	if st := s.cfg.UploadStore; st != nil {
		b, err := st.Load()
		if err != nil {
			s.log.Warn("station: the stored upload state is not read; the upload starts over", "err", err)
		}
		cfg.Restored = b
	}
	snd, err := upload.NewSender(cfg)
	if err != nil && cfg.Restored != nil {
		cfg.Restored = nil
		snd, err = upload.NewSender(cfg)
	}
	if err != nil {
		return show.Hash{}, fmt.Errorf("station: upload: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := snd.Layout()
	s.up = &stationUpload{snd: snd, progress: UploadProgress{
		Hash: snd.Hash(), Chunks: l.Chunks(), Blocks: l.Blocks, Asked: map[uint16]int{}, Resumed: cfg.Restored != nil,
	}, asking: map[uint16]int{}}
	s.log.Info("station: uploading a show", "hash", snd.Hash().String(), "bytes", len(showBytes), "chunks", l.Chunks(),
		"repair", opt.Repair.String(), "resumed", cfg.Restored != nil)
	s.saveUpload()
	return snd.Hash(), nil
}

// saveUpload stores the sender's state when it changed: when the upload
// starts, and after each poll. Call with s.mu held.
func (s *Station) saveUpload() {
	st, u := s.cfg.UploadStore, s.up
	if st == nil || u == nil {
		return
	}
	b := u.snd.Persist()
	if bytes.Equal(b, u.saved) {
		return
	}
	if err := st.Save(b); err != nil {
		s.log.Warn("station: upload state not stored", "err", err)
		return
	}
	u.saved = b
}

// UploadProgress returns how the upload stands; ok is false when there is
// none.
func (s *Station) UploadProgress() (p UploadProgress, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up == nil {
		return UploadProgress{}, false
	}
	p = s.up.progress
	p.Asked = maps.Clone(p.Asked)
	p.Idle = s.up.snd.Idle()
	return p, true
}

// tickUpload runs the upload core for n station ticks and sends what it
// emits. Call with s.mu held.
func (s *Station) tickUpload(n int) {
	u := s.up
	if u == nil {
		return
	}
	for range min(n, 100) * int(tick/uploadTick) {
		u.snd.Tick()
		rd := u.snd.Ready()
		for _, ev := range rd.Events {
			if ev, ok := ev.(upload.RoundEvent); ok {
				u.progress.Rounds++
				u.progress.Lacks = ev.Symbols
				u.progress.Asked, u.asking = u.asking, map[uint16]int{}
			}
		}
		for _, snd := range rd.Sends {
			msg, err := s.codec.EncodeMessage(codec.Header{From: algorithms.NodeID(s.cfg.Issuer), To: algorithms.Everyone}, snd.Msg)
			if err != nil {
				s.counters.SendErrors++
				s.log.Warn("station: upload message not encoded", "err", err)
				continue
			}
			if s.send(msg, Everyone) != nil {
				continue
			}
			if sym, ok := snd.Msg.(upload.Symbol); ok {
				u.progress.Symbols++
				if sym.Repeat {
					u.progress.Repairs++
				}
			}
		}
	}
	s.saveUpload()
}

// uploadNeed takes a drone's report. Call with s.mu held.
func (s *Station) uploadNeed(from uint16, m *swarm.MessageSwarmShowNeed) {
	if s.up == nil {
		return
	}
	_, cm, err := s.codec.DecodeMessage(m)
	if err != nil {
		s.counters.Malformed++
		return
	}
	n := cm.(upload.Need)
	if err := s.up.snd.Step(algorithms.NodeID(from), n); err != nil {
		s.counters.Malformed++
		s.log.Debug("station: upload report rejected", "from", from, "err", err)
		return
	}
	if n.Show == upload.ID(s.up.progress.Hash) {
		s.up.asking[from] += n.Symbols()
	}
}
