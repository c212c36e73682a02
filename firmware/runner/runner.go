// Package runner is the loop that runs on a drone's companion computer:
// the thin I/O edge around the pure swarm node (package swarm). It lives
// under firmware/ because it is what the drone runs besides the flight
// controller; it binds swarm.Node to a radio (package radio), a state
// directory (package firmware/state), a clock and the flight controller
// (Vehicle), as the simulator does for every simulated drone.
//
// One goroutine, Run's, owns the node: it ticks it at its tick period,
// steps it with every verified frame from the radio, and transmits what
// the node's Ready emits, through the reliable delivery layer (radio/arq)
// or as plain frames. Before it transmits the sends of a Ready it stores
// the node's Persist bytes (algorithms.Persister's rule). It flies the
// show the node's player plays, and stops as Config.OnStop says.
// docs/drone.md describes the loop, the persistence contract,
// incarnations, how a drone that lost its state rejoins, and shutdown.
package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/firmware/state"
	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/show"

	swarmnode "github.com/skyquorum/skyquorum/swarm"
)

// StopAction is what an airborne drone does when its runner is told to
// stop.
type StopAction string

// Stop actions.
const (
	// OnStopLand lands where the drone is, releases its airspace cells
	// once it is down, then stops (the default).
	OnStopLand StopAction = "land"
	// OnStopHold holds position and stops at once. The drone stays in its
	// cells, so it does not release them: its leases run out, and by then
	// the flight controller's own failsafe (no companion computer) has
	// taken over.
	OnStopHold StopAction = "hold"
)

// Store keeps the node's persisted state (state.Dir does, durably).
type Store interface {
	// Load returns the last state saved, nil when there is none.
	Load() ([]byte, error)
	// Save stores b durably before it returns nil.
	Save(b []byte) error
}

// Config configures a Runner.
type Config struct {
	// ID is the drone's vehicle ID; Members lists the swarm (one radio
	// network), this drone included.
	ID      algorithms.NodeID
	Members []algorithms.NodeID
	// Tick is the node's tick period (optional, default 10 ms).
	Tick time.Duration
	// Radio is an open radio. Without it, the runner opens one on Link
	// with Key, Network, SystemID and Baud, its signing high-water mark in
	// the state directory, and closes it when Run returns. Network is
	// needed with Radio too: messages of other networks are dropped.
	Radio    *radio.Radio
	Link     link.Link
	Key      wire.Key
	Network  uint8
	SystemID uint8 // optional, default ID (1–250)
	Baud     int
	// StateDir holds the node's state and the signing high-water mark.
	StateDir string
	// Store replaces the state directory's store (optional; tests).
	Store Store
	// UploadStore keeps the part of a show the drone has received
	// (optional; default UploadFileName in the state directory, or none
	// when Store is given without a StateDir).
	UploadStore Store
	// Clock is the time source (optional, default SystemClock).
	Clock Clock
	// Logger (optional, default slog.Default()).
	Logger *slog.Logger
	// Vehicle is the flight controller (optional: without it the runner
	// only takes part in the swarm's protocols).
	Vehicle Vehicle
	// LinkLoss is what an airborne drone flying the show does once it has
	// been out of sync with its swarm (no leader heard lately, or a
	// command it knows of not applied) for LinkLossAfter: fly on by its
	// own show time (LinkContinue, the default), hold until it is in sync
	// again (LinkHold), or land for the rest of the run (LinkLand).
	// LinkLossAfter is optional, default 10 s.
	LinkLoss      LinkAction
	LinkLossAfter time.Duration
	// NoGeofence turns off the geofence failsafe: by default an airborne
	// drone outside the show's fence, or above its altitude limit, lands
	// for the rest of the run.
	NoGeofence bool
	// Grid is the swarm's airspace grid, whose cells a drone leaving the
	// show takes along its path home (LeaveShow; optional, default a grid
	// of about 10 m cells over the show's fence).
	Grid *airspace.Grid
	// Show is the show this drone flies its part of, once the swarm LOADs
	// a show with its digest (optional).
	Show *show.Show
	// ShowDrone is the show's drone whose part this drone flies, from 1
	// (optional, default ID: the show's k-th drone, from 0, is flown by
	// vehicle ID k+1). A show over several radio networks numbers its
	// drones 1 to N while each network's vehicle IDs start at 250×network
	// + 1, so a drone may fly a part other than its ID's.
	ShowDrone uint16
	// LowBattery is the charge in percent below which an airborne drone
	// leaves the show and returns home, for the rest of the run, as on an
	// emergency RETURN (optional, default 0: never; the flight
	// controller's own battery failsafe acts regardless).
	LowBattery float64
	// OnStop is what an airborne drone does when Run's context ends
	// (optional, default OnStopLand).
	OnStop StopAction
	// Swarm holds the node's other settings (Committee, timeouts, …); ID,
	// Members, TickNanos, Baud and Incarnation are set by the runner, and Key (which signs emergency commands) defaults to the
	// swarm key Key.
	Swarm swarmnode.Config
	// Listen is how long a drone that starts without state listens before
	// its node starts: if it hears a confirmed leader meanwhile, the swarm
	// is running and the drone rejoins as a learner (docs/drone.md;
	// optional, default the swarm's LeaderTimeout plus 5 s, 20 s at a
	// 10 ms tick: long enough for the swarm to replace a leader that
	// restarted without its state).
	Listen time.Duration
	// FlyEvery is how many ticks apart the runner gives the vehicle a
	// setpoint (optional, default 10: 10 Hz at a 10 ms tick).
	FlyEvery int
	// Rand is the source of the boot nonce (optional, crypto/rand).
	Rand io.Reader
	// StatusShare is the share of the channel that the members'
	// SWARM_STATUS frames for the ground station take together (optional,
	// default DefaultStatusShare): it sets their period (StatusPeriod).
	StatusShare float64

	// onSend, when set (tests), sees every message of the node as it goes
	// to the radio or to the reliable delivery layer.
	onSend func(r *Runner, m algorithms.Message)
}

// Errors.
var (
	ErrConfig = errors.New("runner: bad configuration")
)

// Runner runs one drone's swarm node.
type Runner struct {
	cfg      Config
	log      *slog.Logger
	clock    Clock
	radio    *radio.Radio
	ownRadio bool
	codec    *codec.Codec
	store    Store

	mu       sync.Mutex
	upload   showUpload
	node     *swarmnode.Node
	ep       *arq.Endpoint
	inc      uint32 // the node's incarnation
	arqInc   uint32
	restored []byte // the state the node starts from, nil: none
	saved    []byte // last bytes stored
	learner  bool   // withholding votes (empty state, rejoining)
	heard    *leaderMsg
	ticks    int64
	counters Counters
	fly      flight
	report   reporter
	awaited  []awaited // operator requests to answer once committed
	gps      gpsFeed
	leaveReq atomic.Pointer[string] // LeaveShow's reason, until the loop takes it
	started  chan struct{}          // closed once Run's ticker runs
	ran      bool
}

// leaderMsg is a confirmed APPEND or COMMIT heard while listening.
type leaderMsg struct {
	from algorithms.NodeID
	msg  algorithms.Message
}

// Counters are a runner's running totals.
type Counters struct {
	Ticks       int64
	Received    int // frames from the radio
	Frames      int // swarm frames handed on
	Saves       int // state stores
	SaveErrors  int // failed stores; the sends of that Ready were not transmitted
	Withheld    int // votes and leader messages a learner did not send
	SendErrors  int // messages the codec or the radio refused
	StepErrors  int // messages the node rejected
	DecodeDrops int // frames not for this drone: other networks, other destinations, undecodable
	Operator    int // a ground station's operator requests for this drone
	Accepted    int // ACCEPTED answers sent
}

// New prepares a runner: it loads the state, chooses the incarnation and
// opens the radio. Run starts it, and closes the radio it opened.
func New(cfg Config) (*Runner, error) {
	if cfg.ID == 0 || len(cfg.Members) == 0 {
		return nil, fmt.Errorf("%w: ID and Members are required", ErrConfig)
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 10 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.OnStop == "" {
		cfg.OnStop = OnStopLand
	}
	if cfg.OnStop != OnStopLand && cfg.OnStop != OnStopHold {
		return nil, fmt.Errorf("%w: OnStop %q: want %q or %q", ErrConfig, cfg.OnStop, OnStopLand, OnStopHold)
	}
	if cfg.Listen <= 0 {
		lt := cfg.Swarm.LeaderTimeout
		if lt <= 0 {
			lt = 1500 // swarm.Config's default
		}
		cfg.Listen = time.Duration(lt)*cfg.Tick + 5*time.Second
	}
	if cfg.FlyEvery <= 0 {
		cfg.FlyEvery = 10
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.SystemID == 0 {
		if cfg.ID > 250 {
			return nil, fmt.Errorf("%w: vehicle ID %d needs a SystemID (1–250)", ErrConfig, cfg.ID)
		}
		cfg.SystemID = uint8(cfg.ID)
	}
	r := &Runner{cfg: cfg, log: cfg.Logger.With("drone", cfg.ID), clock: cfg.Clock, store: cfg.Store, started: make(chan struct{})}
	if r.store == nil {
		if cfg.StateDir == "" {
			return nil, fmt.Errorf("%w: StateDir is required", ErrConfig)
		}
		d, err := state.Open(cfg.StateDir)
		if err != nil {
			return nil, err
		}
		r.store = d
	}
	uploadStore := cfg.UploadStore
	if uploadStore == nil && cfg.StateDir != "" {
		d, err := state.Open(cfg.StateDir)
		if err != nil {
			return nil, err
		}
		uploadStore = d.Named(UploadFileName)
	}
	if err := r.initUpload(uploadStore); err != nil {
		return nil, err
	}
	restored, err := r.store.Load()
	if err != nil {
		return nil, fmt.Errorf("runner: drone %d: %w", cfg.ID, err)
	}
	r.restored, r.saved = restored, restored
	if err := r.chooseIncarnation(); err != nil {
		return nil, err
	}
	r.radio = cfg.Radio
	if r.radio == nil {
		if cfg.Link == nil {
			return nil, fmt.Errorf("%w: a Radio or a Link is required", ErrConfig)
		}
		rc := radio.Config{
			Link: cfg.Link, Key: cfg.Key, Network: cfg.Network, SystemID: cfg.SystemID, Baud: cfg.Baud,
			Clock: cfg.Clock, Logger: cfg.Logger,
		}
		if cfg.StateDir != "" {
			rc.TimestampFile = filepath.Join(cfg.StateDir, "signing.ts")
		}
		if r.radio, err = radio.Open(rc); err != nil {
			return nil, fmt.Errorf("runner: drone %d: %w", cfg.ID, err)
		}
		r.ownRadio = true
	}
	if err := r.open(); err != nil {
		if r.ownRadio {
			_ = r.radio.Close()
		}
		return nil, err
	}
	return r, nil
}

// open builds what sits between the radio and the node.
func (r *Runner) open() error {
	cfg := r.cfg
	var err error
	if r.codec, err = codec.New(codec.Config{Network: cfg.Network}); err != nil {
		return err
	}
	// Reliable delivery orders the starts of a drone by incarnation; the
	// node's incarnation may be a random nonce, so the endpoint's is the
	// signing time in seconds, which grows across restarts.
	r.arqInc = uint32(r.radio.SigningTime() / wire.TimestampsPerSecond)
	r.ep = arq.New(arq.Config{ID: cfg.ID, Incarnation: r.arqInc, Peers: cfg.Members, TickNanos: int64(cfg.Tick)})
	if r.restored != nil {
		if err := r.startNode(false); err != nil {
			return err
		}
	}
	r.fly.init(r)
	r.report.init(r)
	return nil
}

// chooseIncarnation gives the start an incarnation distinct from every
// earlier one: the persisted one plus one, or a random boot nonce with
// the high bit set when there is no state (so it is no counter value).
func (r *Runner) chooseIncarnation() error {
	if r.restored != nil {
		cfg := r.nodeConfig()
		n, err := swarmnode.New(cfg, r.restored)
		if err != nil {
			return fmt.Errorf("runner: drone %d: state in %s: %w", r.cfg.ID, r.cfg.StateDir, err)
		}
		if r.inc = n.Incarnation(); r.inc != 0 {
			return nil
		}
	}
	var b [4]byte
	if _, err := io.ReadFull(r.cfg.Rand, b[:]); err != nil {
		return fmt.Errorf("runner: boot nonce: %w", err)
	}
	r.inc = binary.BigEndian.Uint32(b[:]) | 1<<31
	// The node starts after listening; check its configuration now.
	if _, err := swarmnode.New(r.nodeConfig(), nil); err != nil {
		return fmt.Errorf("runner: drone %d: %w", r.cfg.ID, err)
	}
	return nil
}

func (r *Runner) nodeConfig() swarmnode.Config {
	c := r.cfg.Swarm
	c.ID, c.Members, c.TickNanos, c.Baud = r.cfg.ID, r.cfg.Members, int64(r.cfg.Tick), r.cfg.Baud
	c.Incarnation = r.inc
	if len(c.Key) == 0 && r.cfg.Key != (wire.Key{}) {
		c.Key = r.cfg.Key[:]
	}
	return c
}

// startNode builds the node; rejoin: it has no state and heard a
// confirmed leader, so it starts as a learner.
func (r *Runner) startNode(rejoin bool) error {
	n, err := swarmnode.New(r.nodeConfig(), r.restored)
	if err != nil {
		return fmt.Errorf("runner: drone %d: %w", r.cfg.ID, err)
	}
	r.node, r.learner = n, rejoin
	n.SetLearner(rejoin)
	r.log.Info("runner: node started", "incarnation", r.inc, "reliable_incarnation", r.arqInc,
		"restored", r.restored != nil, "learner", rejoin)
	if rejoin && r.heard != nil {
		// Tell the node the leader it heard, so that it follows it rather
		// than wait to be told.
		r.node.SetClock(r.clock.Now().UnixNano())
		r.step(r.heard.from, r.heard.msg)
	}
	r.flush()
	return nil
}

// Incarnation returns the node's incarnation.
func (r *Runner) Incarnation() uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inc
}

// Learner reports whether the drone is withholding its votes: it started
// without state into a running swarm and has not caught up yet.
func (r *Runner) Learner() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.learner
}

// Counters returns the running totals.
func (r *Runner) Counters() Counters {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counters
	c.Ticks = r.ticks
	return c
}

// Radio returns the runner's radio.
func (r *Runner) Radio() *radio.Radio { return r.radio }

// Inspect calls fn with the node, on the loop's side of its lock; fn must
// not keep it. It returns false, without calling fn, while the node has
// not started (a drone without state listens first).
func (r *Runner) Inspect(fn func(n *swarmnode.Node)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node == nil {
		return false
	}
	fn(r.node)
	return true
}

// ErrNotStarted is returned by Propose before the node has started.
var ErrNotStarted = errors.New("runner: node not started yet")

// Propose appends a command to the swarm's log (only the leader
// sequences; swarm.Node.Propose) and transmits what follows.
func (r *Runner) Propose(c command.Command) (cmdlog.Position, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node == nil {
		return cmdlog.Position{}, ErrNotStarted
	}
	r.node.SetClock(r.clock.Now().UnixNano())
	p, err := r.node.Propose(c)
	r.flush()
	return p, err
}

// Run runs the drone until ctx ends, then stops as Config.OnStop says
// and stores the state. It returns nil after a clean stop. A Runner runs
// once; a restart is a new Runner on the same state directory.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	ran := r.ran
	r.ran = true
	r.mu.Unlock()
	if ran {
		return errors.New("runner: Run called twice")
	}
	ticker := r.clock.NewTicker(r.cfg.Tick)
	defer ticker.Stop()
	close(r.started)
	if r.ownRadio {
		defer r.radio.Close()
	}
	done := ctx.Done()
	var stop *stopping
	for {
		select {
		case <-done:
			done = nil
			r.mu.Lock()
			stop = r.beginStop()
			finished := stop.finished(r)
			r.mu.Unlock()
			if finished {
				return r.finish()
			}
		case <-ticker.C():
			r.mu.Lock()
			r.tick(stop == nil)
			finished := stop != nil && stop.finished(r)
			r.mu.Unlock()
			if finished {
				return r.finish()
			}
		case f, ok := <-r.radio.Received():
			if !ok {
				return errors.Join(errors.New("runner: the radio closed"), r.finish())
			}
			r.mu.Lock()
			r.receive(f)
			r.mu.Unlock()
		}
	}
}

// tick is one tick of the loop.
func (r *Runner) tick(flying bool) {
	r.ticks++
	r.upload.rx.Tick()
	r.flushUpload()
	if r.node == nil {
		if time.Duration(r.ticks)*r.cfg.Tick < r.cfg.Listen {
			r.report.tick(r)
			return
		}
		if err := r.startNode(r.heard != nil); err != nil {
			r.log.Error("runner: node not started", "err", err)
			return
		}
	}
	local := r.clock.Now().UnixNano()
	r.node.SetClock(local)
	if r.cfg.Baud > 0 {
		c := r.radio.Counters()
		busy := airtime(c.Link.BytesSent+c.Link.BytesReceived, r.cfg.Baud)
		r.node.ChannelBusy(busy)
		r.ep.ChannelBusy(busy)
	}
	r.ep.Tick()
	r.feedGPS(local)
	r.node.Tick()
	r.flush()
	r.checkAwaited()
	r.report.tick(r)
	if r.learner {
		if _, ok := r.node.Log().Log().SinceCaughtUp(); ok {
			r.learner = false
			r.node.SetLearner(false)
			r.log.Info("runner: caught up with the log; voting again", "applied", r.node.Log().Log().AppliedIndex())
		}
	}
	if flying && r.ticks%int64(r.cfg.FlyEvery) == 0 {
		r.fly.step(r, local)
	}
}

// airtime is how long bytes take on a channel of baud bits per second, 10
// bits a byte (the simulator's model): what the drone sent and heard is
// its estimate of how long the channel has been busy (frames it missed
// are not counted).
func airtime(bytes, baud int) int64 {
	return int64(bytes) * 10 * int64(time.Second) / int64(baud)
}

// receive hands a verified frame to the reliable delivery layer or to the
// node.
func (r *Runner) receive(f wire.Frame) {
	r.counters.Received++
	if f.IsRadioStatus() {
		return
	}
	if f.SystemID != r.cfg.SystemID {
		r.report.heardFrame(f)
	}
	// A ground station's messages and the drones' status frames for it
	// are the radio's own, not the node's: the codec does not decode them.
	switch m := f.Message.(type) {
	case *swarm.MessageSwarmOperatorCommand:
		r.operator(m, f.SystemID)
		return
	case *swarm.MessageSwarmStatus:
		return
	}
	switch f.Message.(type) {
	case *swarm.MessageSwarmData, *swarm.MessageSwarmAck:
		fr, err := r.codec.DecodeFrame(f.Message)
		if err == nil {
			if r.node == nil {
				return
			}
			r.counters.Frames++
			if err := r.ep.Step(fr); err != nil {
				r.counters.StepErrors++
			}
			r.node.SetClock(r.clock.Now().UnixNano())
			r.flush()
			return
		}
		if !errors.Is(err, codec.ErrUnknown) {
			r.counters.DecodeDrops++
			return
		}
	}
	h, m, err := r.codec.DecodeMessage(f.Message)
	if err != nil || h.Network != r.cfg.Network || (h.To != algorithms.Everyone && h.To != r.cfg.ID) || h.From == r.cfg.ID {
		r.counters.DecodeDrops++
		return
	}
	if isUpload(m) {
		r.counters.Frames++
		r.stepUpload(h.From, m)
		return
	}
	if r.node == nil {
		r.listen(h.From, m)
		return
	}
	r.counters.Frames++
	r.node.SetClock(r.clock.Now().UnixNano())
	r.step(h.From, m)
	r.flush()
}

// listen takes note of a confirmed leader while the node has not started.
func (r *Runner) listen(from algorithms.NodeID, m algorithms.Message) {
	switch m := m.(type) {
	case cmdlog.Append:
		if m.Confirmed && m.Term > 0 {
			r.heard = &leaderMsg{from, m}
		}
	case cmdlog.Commit:
		if m.Confirmed && m.Term > 0 {
			r.heard = &leaderMsg{from, m}
		}
	}
}

func (r *Runner) step(from algorithms.NodeID, m algorithms.Message) {
	if err := r.node.Step(from, m); err != nil {
		r.counters.StepErrors++
		r.log.Debug("runner: message rejected", "from", from, "kind", m.Kind(), "err", err)
	}
}

// flush moves the node's output along until nothing is left: it stores
// the state of each Ready before it transmits that Ready's sends, hands
// reliable sends to the endpoint, puts frames on air and delivers what
// the endpoint delivers.
func (r *Runner) flush() {
	for range 1000 {
		rd := r.node.Ready()
		r.events(rd.Events)
		sendable := true
		if len(rd.Sends) > 0 || len(rd.Events) > 0 {
			sendable = r.persist()
		}
		for _, s := range rd.Sends {
			if !sendable {
				continue
			}
			if r.learner && vote(s.Msg) {
				r.counters.Withheld++
				continue
			}
			if r.cfg.onSend != nil {
				r.cfg.onSend(r, s.Msg)
			}
			if algorithms.IsUnreliable(s.Msg) {
				r.sendRaw(s)
				continue
			}
			r.ep.Send(s.To, s.Msg)
		}
		frames, dels := r.ep.Ready()
		for _, f := range frames {
			msgs, err := r.codec.EncodeFrame(f)
			if err != nil {
				r.counters.SendErrors++
				r.log.Warn("runner: frame not encoded", "kind", f.Kind(), "err", err)
				continue
			}
			for _, m := range msgs {
				r.transmit(m, link.Broadcast)
			}
		}
		for _, d := range dels {
			r.step(d.From, d.Msg)
		}
		if rd.Empty() && len(frames) == 0 && len(dels) == 0 {
			return
		}
	}
	r.log.Warn("runner: the node's output did not settle")
}

// persist stores the node's state if it changed, and reports whether the
// sends that depend on it may go.
func (r *Runner) persist() bool {
	b := r.node.Persist()
	if bytes.Equal(b, r.saved) {
		return true
	}
	if err := r.store.Save(b); err != nil {
		r.counters.SaveErrors++
		r.log.Error("runner: state not stored; this Ready's sends are not transmitted", "err", err)
		return false
	}
	r.counters.Saves++
	r.saved = b
	return true
}

// vote reports whether m is a message a learner withholds: the command
// log's votes, acknowledgements and leader messages, and the election's.
// What it still sends: NAKs (to learn the log), heartbeats, time sync,
// airspace and emergency traffic.
func vote(m algorithms.Message) bool {
	switch m.(type) {
	case cmdlog.Promise, cmdlog.Ack, cmdlog.Recover, cmdlog.Fetch, cmdlog.Entries,
		cmdlog.Append, cmdlog.Commit, cmdlog.Stale, cmdlog.Coordinator:
		return true
	}
	return reflect.TypeOf(m).PkgPath() == electionPkg
}

const electionPkg = "github.com/skyquorum/skyquorum/algorithms/election"

// sendRaw transmits a message as a plain frame, one per destination.
func (r *Runner) sendRaw(s algorithms.Send) {
	to := s.To
	if to == nil {
		to = []algorithms.NodeID{algorithms.Everyone}
	}
	msg := s.Msg
	for _, id := range to {
		m, err := r.codec.EncodeMessage(codec.Header{From: r.cfg.ID, To: id}, msg)
		if err != nil {
			r.counters.SendErrors++
			r.log.Warn("runner: message not encoded", "kind", s.Msg.Kind(), "err", err)
			continue
		}
		r.transmit(m, link.Broadcast)
	}
}

func (r *Runner) transmit(m message.Message, to link.Dest) {
	if err := r.radio.Send(m, to); err != nil {
		r.counters.SendErrors++
		r.log.Debug("runner: frame not queued", "msg", m.GetID(), "err", err)
	}
}

func (r *Runner) events(evs []algorithms.Event) {
	for _, ev := range evs {
		switch ev := ev.(type) {
		case emergency.Obey:
			r.fly.obey(r, ev.Cmd.Op)
		case cmdlog.Applied:
			r.log.Debug("runner: applied", "index", ev.Index, "kind", ev.Entry.Kind)
		case swarmnode.Executed:
			r.fly.applied(r, ev.Command)
		case swarmnode.Duplicate:
			r.log.Info("runner: operator command committed again; carried out once", "index", ev.Index,
				"operator", ev.Operator, "first", ev.First)
		case swarmnode.Refused:
			r.log.Warn("runner: command refused", "index", ev.Index, "err", ev.Err)
		}
	}
}

// finish stores the state a last time after a stop.
func (r *Runner) finish() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saveUpload()
	if r.node == nil {
		return nil
	}
	b := r.node.Persist()
	if bytes.Equal(b, r.saved) {
		return nil
	}
	if err := r.store.Save(b); err != nil {
		return fmt.Errorf("runner: drone %d: stop: %w", r.cfg.ID, err)
	}
	r.counters.Saves++
	r.saved = b
	return nil
}

// showIndex is the index (from 0) of the show's drone this drone flies.
func (r *Runner) showIndex() int {
	if r.cfg.ShowDrone != 0 {
		return int(r.cfg.ShowDrone) - 1
	}
	return int(r.cfg.ID) - 1
}
