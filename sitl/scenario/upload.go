package scenario

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// Choices of the upload scenario's --repair flag.
var UploadRepairs = []string{"coded", "nack"}

// DefaultUploadShare is the share of the channel an upload may use unless
// told otherwise: the rest stays free for heartbeats, the leader, the
// command log and the airspace locks.
const DefaultUploadShare = 0.6

// Upload configures the upload scenario.
type Upload struct {
	Common
	// Size is the length of the encoded show in bytes.
	Size int
	// Share is the share of the channel the upload may use (0, 1].
	Share float64
	// Crash is the probability that each drone crashes at a random time
	// of the first pass.
	Crash float64
	// Restart brings every crashed drone back, from its persisted state,
	// 2 to 10 s after its crash.
	Restart bool
	// Repair is one of UploadRepairs.
	Repair string
	// MaxBlock bounds the source chunks per block (optional, default
	// upload.DefaultMaxBlock).
	MaxBlock int
}

// UploadResult holds the fields of the upload scenario.
type UploadResult struct {
	CommonResult
	Size    int     `json:"size"`
	Share   float64 `json:"share"`
	Crash   float64 `json:"crash"`
	Restart bool    `json:"restart"`
	Repair  string  `json:"repair"`
	// Chunks and Blocks describe how the show is cut.
	Chunks int `json:"chunks"`
	Blocks int `json:"blocks"`
	// OneCopyAirtimeMs is the airtime of the show's chunks sent once,
	// signed; Ratio is AirtimeMs over it.
	OneCopyAirtimeMs float64 `json:"one_copy_airtime_ms"`
	Ratio            float64 `json:"ratio"`
	// PerDroneBaselineAirtimeMs is the airtime of sending the show to each
	// drone in turn by request and reply per 239-byte chunk, as MAVLink
	// FTP does, lossless and signed, summed over the drones.
	PerDroneBaselineAirtimeMs float64 `json:"per_drone_baseline_airtime_ms"`
	// CompletedDrones counts live drones holding the show with the right
	// hash.
	CompletedDrones int `json:"completed_drones"`
	// UploadSeconds is when the last live drone came to hold the show.
	UploadSeconds float64 `json:"upload_seconds"`
	// RepairFrames counts symbols sent after the first pass (repair
	// symbols, or resent chunks); ReportFrames the drones' reports;
	// PollFrames the sender's polls; Rounds the polls answered.
	RepairFrames int `json:"repair_frames"`
	ReportFrames int `json:"report_frames"`
	PollFrames   int `json:"poll_frames"`
	Rounds       int `json:"rounds"`
	// ReportAirtimeMs is the airtime of the drones' reports.
	ReportAirtimeMs float64 `json:"report_airtime_ms"`
	// CommitLatencyMsP99 is the p99 commit latency of commands proposed
	// during a coded upload of the same size and share beside the command
	// log (a committee of 5), one a second (commitBesideUpload); null when
	// none was.
	CommitLatencyMsP99 *float64 `json:"commit_latency_ms_p99"`
	Crashed            int      `json:"crashed"`
	// AskedAfterRestart counts the symbols restarted drones asked for;
	// LackedAtRestart what they lacked when they came back.
	AskedAfterRestart int `json:"asked_after_restart"`
	LackedAtRestart   int `json:"lacked_at_restart"`
	// CorruptSymbols counts symbols dropped for a bad check.
	CorruptSymbols int `json:"corrupt_symbols"`
	// HashViolations counts drones that held bytes other than the show.
	HashViolations int `json:"hash_violations"`
	// UploadUnfinished counts live drones without the show at the end.
	UploadUnfinished int `json:"upload_unfinished"`
	StepErrors       int `json:"step_errors"`
}

// Validate checks the scenario's own flags, naming the bad one.
func (u Upload) Validate() error {
	switch {
	case !slices.Contains(UploadRepairs, u.Repair):
		return fmt.Errorf("--repair %q: %w (want one of %v)", u.Repair, ErrUnknownAlgorithm, UploadRepairs)
	case u.Size < 1 || u.Size > upload.MaxShowSize:
		return fmt.Errorf("--size %d: must be 1 to %d bytes", u.Size, upload.MaxShowSize)
	case u.Share <= 0 || u.Share > 1:
		return fmt.Errorf("--share %v: must be in (0, 1]", u.Share)
	case u.Crash < 0 || u.Crash > 1:
		return fmt.Errorf("--crash %v: must be in [0, 1]", u.Crash)
	case u.Drones > 65533:
		return fmt.Errorf("--drones %d: the ground station takes one vehicle ID, at most 65533 drones", u.Drones)
	case u.MaxBlock < 0 || u.MaxBlock >= upload.MaxSymbols:
		return fmt.Errorf("max block %d: must be below %d", u.MaxBlock, upload.MaxSymbols)
	}
	return nil
}

// UploadShow returns the show bytes of a run: Size bytes drawn from the
// seed, standing in for an encoded show (the upload neither reads nor
// compresses them).
func UploadShow(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x73686f77))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// FTP framing of the baseline: FILE_TRANSFER_PROTOCOL carries 3 bytes of
// addressing and a 12-byte FTP header before up to 239 bytes of data.
const (
	ftpHeader = 3 + 12
	ftpData   = 239
)

// RunUpload runs the upload scenario: a ground station (vehicle ID
// Drones+1) broadcasts a show of Size bytes to Drones drones on one
// channel, pacing itself to Share of the channel, and repairs losses as
// Repair says, until every live drone holds the show and the ground
// station has fallen silent. Crashed drones come back, with --restart,
// from what they persisted.
func RunUpload(u Upload) (UploadResult, error) {
	if err := u.Validate(); err != nil {
		return UploadResult{}, err
	}
	cfg, err := u.simConfig()
	if err != nil {
		return UploadResult{}, err
	}
	cfg.Drones = u.Drones + 1
	cfg.Raw = true
	if cfg.Baud == 0 {
		cfg.Baud = 57600
	}
	if cfg.Tick == 0 {
		cfg.Tick = 10 * sim.Millisecond
	}
	showBytes := UploadShow(u.Size, u.Seed)
	hash := sha256.Sum256(showBytes)
	scheme := upload.Coded
	if u.Repair == "nack" {
		scheme = upload.NACK
	}
	station := algorithms.NodeID(u.Drones + 1)
	bytesPerTick := u.Share * float64(cfg.Baud) / 10 * cfg.Tick.Seconds()
	var sender *upload.Sender
	factory := func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		if id == station {
			s, err := upload.NewSender(upload.SenderConfig{Show: showBytes, Scheme: scheme, MaxBlock: u.MaxBlock, BytesPerTick: bytesPerTick, Restored: restored})
			sender = s
			return s, err
		}
		return upload.NewReceiver(upload.ReceiverConfig{Seed: u.Seed*0x9e3779b97f4a7c15 + uint64(id), Restored: restored})
	}
	s, err := sim.New(cfg, factory)
	if err != nil {
		return UploadResult{}, err
	}
	layout := sender.Layout()
	res := UploadResult{
		Size: u.Size, Share: u.Share, Crash: u.Crash, Restart: u.Restart, Repair: u.Repair,
		Chunks: layout.Chunks(), Blocks: layout.Blocks,
	}
	symbolAir := sim.Airtime(sim.FrameBytes(16+upload.ChunkBytes, true), cfg.Baud)
	res.OneCopyAirtimeMs = (sim.Time(layout.Chunks()) * symbolAir).Milliseconds()
	ftpChunks := (u.Size + ftpData - 1) / ftpData
	perChunk := sim.Airtime(sim.FrameBytes(ftpHeader, true), cfg.Baud) + sim.Airtime(sim.FrameBytes(ftpHeader+ftpData, true), cfg.Baud)
	res.PerDroneBaselineAirtimeMs = (sim.Time(u.Drones) * sim.Time(ftpChunks) * perChunk).Milliseconds()

	n := u.Drones
	held := make([]bool, n+1)
	live := n
	holding := 0
	restarted := make([]bool, n+1)
	var done sim.Time
	reportAir := sim.Time(0)
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev := ev.(type) {
		case upload.HeldEvent:
			if id != station && !held[id] {
				if ev.Hash != hash {
					res.HashViolations++
					s.Violation("hash", "drone %d holds show %x, want %x", id, ev.Hash[:8], hash[:8])
					return
				}
				held[id] = true
				holding++
				done = s.Now()
			}
		case upload.AskedEvent:
			res.ReportFrames++
			reportAir += sim.Airtime(sim.FrameBytes(ev.Bytes, !cfg.Unsigned), cfg.Baud)
			if restarted[id] {
				res.AskedAfterRestart += ev.Symbols
			}
		case upload.CorruptEvent:
			res.CorruptSymbols++
		case upload.RoundEvent:
			res.Rounds++
		}
	})
	// Crashes: each drone with probability Crash, at a time drawn from the
	// first pass.
	pass := sim.Time(float64(layout.Chunks()) * float64(symbolAir) / u.Share)
	for id := algorithms.NodeID(1); id <= algorithms.NodeID(n); id++ {
		if u.Crash == 0 || s.Rand().Float64() >= u.Crash {
			continue
		}
		at := sim.Time(s.Rand().Int64N(int64(pass)))
		back := at + 2*sim.Second + sim.Time(s.Rand().Int64N(int64(8*sim.Second)))
		s.At(at, func() {
			if held[id] {
				return
			}
			s.Crash(id)
			res.Crashed++
			live--
			if !u.Restart {
				return
			}
			s.At(back, func() {
				if err := s.Restart(id, true); err != nil {
					s.Violation("restart", "drone %d: %v", id, err)
					return
				}
				live++
				restarted[id] = true
				if r, ok := s.Core(id).(*upload.Receiver); ok {
					if r.Holds(hash) && !held[id] {
						held[id] = true
						holding++
					}
					if l := r.Lacks(); l > 0 {
						res.LackedAtRestart += l
					} else if l < 0 {
						res.LackedAtRestart += layout.Chunks()
					}
				}
			})
		})
	}
	limit := 600*sim.Second + 20*pass
	finished := func() bool { return holding == live && sender.Idle() }
	s.Run(limit, finished)

	res.CommonResult = commonResult(u.Common, s)
	res.Drones = n
	st := s.Stats()
	res.RepairFrames = st.Retransmissions
	res.PollFrames = st.AckFrames - res.ReportFrames
	res.ReportAirtimeMs = reportAir.Milliseconds()
	if res.OneCopyAirtimeMs > 0 {
		res.Ratio = res.AirtimeMs / res.OneCopyAirtimeMs
	}
	res.UploadSeconds = done.Seconds()
	for id := algorithms.NodeID(1); id <= algorithms.NodeID(n); id++ {
		if !s.Up(id) {
			continue
		}
		r, ok := s.Core(id).(*upload.Receiver)
		switch {
		case ok && r.Holds(hash) && bytes.Equal(r.Show(), showBytes):
			res.CompletedDrones++
		case ok && r.Show() != nil:
			res.HashViolations++
			res.UploadUnfinished++
		default:
			res.UploadUnfinished++
		}
	}
	res.StepErrors = st.StepErrors
	res.CommitLatencyMsP99, err = commitBesideUpload(u, res.UploadSeconds)
	return res, err
}

// commitBesideUpload measures commands committed during an upload: the log
// scenario with the same drones, seed, channel and faults runs one command
// a second beside a coded upload of the same size and share (Log's
// UploadSize) for as long as this upload took and 10 s more, and its p99
// commit latency of the commands proposed before every drone held the
// show is the figure (nil when none was).
func commitBesideUpload(u Upload, seconds float64) (*float64, error) {
	c := u.Common
	c.Progress = nil
	lr, err := RunLog(Log{
		Common: c, Commands: int(math.Ceil(seconds)) + 10, Interval: sim.Second, Committee: min(5, c.Drones),
		Crash: u.Crash, Restart: u.Restart && u.Crash > 0,
		UploadSize: u.Size, UploadShare: u.Share,
	})
	if err != nil {
		return nil, fmt.Errorf("commands beside the upload: %w", err)
	}
	return lr.CommitLatencyMsP99Upload, nil
}
