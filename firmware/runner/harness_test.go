package runner

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/firmware/state"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/show"

	swarmnode "github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
)

const (
	testTick    = 10 * time.Millisecond
	testNetwork = 7
)

var testStart = time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)

// harness runs runners on one in-memory radio network, with a fake clock
// that the test advances tick by tick.
type harness struct {
	t       *testing.T
	seed    uint64
	clk     *FakeClock
	hub     *link.Hub
	key     wire.Key
	members []algorithms.NodeID
	loss    float64
	show    *show.Show
	onStop  StopAction
	root    string
	// lowBattery is Config.LowBattery; linkLoss Config.LinkLoss.
	lowBattery float64
	linkLoss   LinkAction
	// listen is Config.Listen: 3 s unless a test wants the default (0).
	listen time.Duration
	// statusShare is Config.StatusShare.
	statusShare float64

	rngMu sync.Mutex
	rng   *rand.Rand
	deaf  map[algorithms.NodeID]bool // drones that hear nothing (under rngMu)

	drones map[algorithms.NodeID]*drone
}

// drone is one runner of the harness and what the test observes of it.
type drone struct {
	id     algorithms.NodeID
	dir    string
	r      *Runner
	store  *spyStore
	veh    *fakeVehicle
	cancel context.CancelFunc
	done   chan error
	expect int64 // ticks it should have processed
	// stopping: its context is cancelled and stop waits for Run.
	stopping bool

	mu sync.Mutex
	// Every PROMISE and ACK it sent, and those sent while the command log
	// it vouches for was not stored yet.
	votes, unsaved, learnerVotes int
	kinds                        map[string]int // messages sent, by kind
}

func newHarness(t *testing.T, n int, loss float64, seed uint64) *harness {
	key, err := wire.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t: t, seed: seed, clk: NewFakeClock(testStart), hub: link.NewHub(), key: key, loss: loss,
		rng: rand.New(rand.NewPCG(seed, 1)), drones: map[algorithms.NodeID]*drone{},
		listen: 3 * time.Second,
	}
	// Not t.TempDir: a runner stopAll gave up on may still be writing its
	// state, and TempDir's cleanup fails the test on a directory that is
	// not empty.
	if h.root, err = os.MkdirTemp("", "runner-harness-"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		h.members = append(h.members, algorithms.NodeID(i))
	}
	t.Cleanup(func() {
		h.stopAll()
		for range 5 {
			if err = os.RemoveAll(h.root); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("harness state left in %s: %v", h.root, err)
	})
	return h
}

func (h *harness) drop(id algorithms.NodeID) bool {
	h.rngMu.Lock()
	defer h.rngMu.Unlock()
	return h.deaf[id] || h.rng.Float64() < h.loss
}

// setDeaf makes drone id hear nothing, or hear again.
func (h *harness) setDeaf(id algorithms.NodeID, deaf bool) {
	h.rngMu.Lock()
	defer h.rngMu.Unlock()
	if h.deaf == nil {
		h.deaf = map[algorithms.NodeID]bool{}
	}
	h.deaf[id] = deaf
}

// lossy loses each packet drone id receives with the harness's
// probability, and every one while it is deaf.
type lossy struct {
	link.Link
	h  *harness
	id algorithms.NodeID
}

func (l *lossy) Receive() (link.Packet, error) {
	for {
		p, err := l.Link.Receive()
		if err != nil || !l.h.drop(l.id) {
			return p, err
		}
	}
}

// spyStore is a state directory that remembers the command log part of
// what it stored last.
type spyStore struct {
	dir     *state.Dir
	mu      sync.Mutex
	lastLog []byte
	saves   int
}

func (s *spyStore) Load() ([]byte, error) {
	b, err := s.dir.Load()
	if err == nil && b != nil {
		s.mu.Lock()
		s.lastLog = logPart(b)
		s.mu.Unlock()
	}
	return b, err
}

func (s *spyStore) Save(b []byte) error {
	if err := s.dir.Save(b); err != nil {
		return err
	}
	s.mu.Lock()
	s.lastLog, s.saves = logPart(b), s.saves+1
	s.mu.Unlock()
	return nil
}

func (s *spyStore) saveCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

func (s *spyStore) stored() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastLog
}

// logPart is the command log's part of a swarm node's state: after the
// marker and version, the first length-prefixed part.
func logPart(b []byte) []byte {
	if len(b) < 6 {
		return nil
	}
	n := binary.BigEndian.Uint32(b[2:])
	if uint64(len(b)-6) < uint64(n) {
		return nil
	}
	return bytes.Clone(b[6 : 6+n])
}

// fakeVehicle records what the runner asks of the flight controller.
type fakeVehicle struct {
	mu        sync.Mutex
	st        VehicleState
	setpoints []show.Vec3
	colours   int
	holds     int
	lands     int
	returns   int
	// stray, when set, is where the vehicle is whatever it is told.
	stray *show.Vec3
	// gps, when set, is the flight controller's GPS time (GPSTime).
	gps func() (time.Time, bool)
}

func (v *fakeVehicle) State() VehicleState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.st
}

func (v *fakeVehicle) Arm() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.st.Armed = true
	return nil
}

func (v *fakeVehicle) Follow(pos, vel show.Vec3) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.st.Armed {
		return fmt.Errorf("not armed")
	}
	v.st.Airborne = true
	if v.stray == nil {
		v.st.Position = pos
	} else {
		v.st.Position = *v.stray
	}
	v.setpoints = append(v.setpoints, pos)
	return nil
}

func (v *fakeVehicle) Hold() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.holds++
	return nil
}

func (v *fakeVehicle) Land() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lands++
	return nil
}

func (v *fakeVehicle) Return() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.returns++
	return nil
}

func (v *fakeVehicle) SetColour(show.RGB) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.colours++
	return nil
}

// setBattery makes the vehicle report pct percent of charge left.
func (v *fakeVehicle) setBattery(pct float64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.st.Battery, v.st.HasBattery = pct, true
}

func (v *fakeVehicle) touchDown() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.st.Airborne = false
}

func (v *fakeVehicle) counts() (setpoints, holds, lands int, last show.Vec3) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.setpoints) > 0 {
		last = v.setpoints[len(v.setpoints)-1]
	}
	return len(v.setpoints), v.holds, v.lands, last
}

// start starts (or restarts) drone id from its state directory.
func (h *harness) start(id algorithms.NodeID) *drone {
	h.t.Helper()
	d := h.drones[id]
	if d == nil {
		d = &drone{id: id, dir: filepath.Join(h.root, fmt.Sprintf("drone%d", id)), veh: &fakeVehicle{}}
		h.drones[id] = d
	}
	mem, err := h.hub.Join(uint8(id))
	if err != nil {
		h.t.Fatal(err)
	}
	dir, err := state.Open(d.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	d.store = &spyStore{dir: dir}
	d.expect, d.stopping = 0, false
	r, err := New(Config{
		ID: id, Members: h.members, Tick: testTick, Link: &lossy{Link: mem, h: h, id: id}, Key: h.key, Network: testNetwork,
		StateDir: d.dir, Store: d.store, Clock: h.clk, Vehicle: d.veh, Show: h.show, OnStop: h.onStop, Listen: h.listen,
		LowBattery: h.lowBattery, LinkLoss: h.linkLoss, StatusShare: h.statusShare,
		Logger: slog.New(slog.NewTextHandler(testLogOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
		onSend: func(r *Runner, m algorithms.Message) { d.checkVote(r, m) },
	})
	if err != nil {
		h.t.Fatalf("seed %d: drone %d: %v", h.seed, id, err)
	}
	d.r = r
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done = cancel, make(chan error, 1)
	go func() { d.done <- r.Run(ctx) }()
	<-r.started
	return d
}

// checkVote runs on the runner's loop, with its lock held, for every
// message it sends: a PROMISE or ACK must vouch only for a command log
// already stored, and a learner sends none.
func (d *drone) checkVote(r *Runner, m algorithms.Message) {
	d.mu.Lock()
	if d.kinds == nil {
		d.kinds = map[string]int{}
	}
	d.kinds[m.Kind()]++
	d.mu.Unlock()
	switch m.(type) {
	case cmdlog.Promise, cmdlog.Ack:
	default:
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.votes++
	if !bytes.Equal(r.node.Log().Persist(), d.store.stored()) {
		d.unsaved++
	}
	if r.learner {
		d.learnerVotes++
	}
}

// stop cancels drone id's runner and waits for Run to return, advancing
// the clock meanwhile; it returns Run's error.
func (h *harness) stop(id algorithms.NodeID) error {
	h.t.Helper()
	d := h.drones[id]
	d.stopping = true
	d.cancel()
	for range 10000 {
		select {
		case err := <-d.done:
			d.cancel = nil
			return err
		default:
		}
		h.advance(1)
	}
	h.t.Fatalf("seed %d: drone %d did not stop", h.seed, id)
	return nil
}

func (h *harness) stopAll() {
	for _, d := range h.drones {
		if d.cancel != nil {
			d.cancel()
		}
	}
	for _, d := range h.drones {
		if d.cancel != nil {
			// Run may wait for a landing that never comes: advance until
			// it returns, or give up (the goroutine ends with the test
			// binary).
			for range 1000 {
				select {
				case <-d.done:
					d.cancel = nil
				default:
					h.clk.Advance(testTick)
					time.Sleep(100 * time.Microsecond)
				}
				if d.cancel == nil {
					break
				}
			}
		}
	}
}

func (h *harness) running() []*drone {
	var out []*drone
	for _, id := range h.members {
		if d := h.drones[id]; d != nil && d.cancel != nil && !d.stopping {
			out = append(out, d)
		}
	}
	return out
}

// advance moves the clock n ticks, one at a time, and lets every running
// runner take each tick and the frames it causes.
func (h *harness) advance(n int) {
	for range n {
		h.clk.Advance(testTick)
		live := h.running()
		for _, d := range live {
			d.expect++
		}
		deadline := time.Now().Add(10 * time.Second) // a hang guard, not a speed check
		for _, d := range live {
			for d.r.Counters().Ticks < d.expect {
				select {
				case err := <-d.done:
					h.t.Fatalf("seed %d: drone %d stopped: %v", h.seed, d.id, err)
				default:
				}
				if time.Now().After(deadline) {
					h.t.Fatalf("seed %d: drone %d stuck at tick %d of %d", h.seed, d.id, d.r.Counters().Ticks, d.expect)
				}
				time.Sleep(20 * time.Microsecond)
			}
		}
		// Let the frames of this tick arrive: wait until the runners take
		// no new frame for a while.
		prev := -1
		for range 50 {
			total := 0
			for _, d := range live {
				total += d.r.Counters().Received
			}
			if total == prev {
				break
			}
			prev = total
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// until advances at most n ticks until cond holds, and reports whether it
// did.
func (h *harness) until(n int, cond func() bool) bool {
	for range n {
		if cond() {
			return true
		}
		h.advance(1)
	}
	return cond()
}

// leader returns the drone whose log is leading, and whether every running
// drone names it leader.
func (h *harness) leader() (*drone, bool) {
	var lead *drone
	agree := true
	var named algorithms.NodeID
	for _, d := range h.running() {
		var leading bool
		var l algorithms.NodeID
		if !d.r.Inspect(func(n *swarmNode) { leading, l = n.Log().Log().Leading(), n.Log().Log().Leader() }) {
			agree = false
			continue
		}
		if leading {
			lead = d
		}
		if named == 0 {
			named = l
		}
		agree = agree && l == named && l != 0
	}
	return lead, lead != nil && agree && named == lead.id
}

// applied returns the highest log index every running drone applied.
func (h *harness) applied() uint32 {
	low := ^uint32(0)
	for _, d := range h.running() {
		var a uint32
		d.r.Inspect(func(n *swarmNode) { a = n.Log().Log().AppliedIndex() })
		low = min(low, a)
	}
	return low
}

type swarmNode = swarmnode.Node

type airspaceCell = airspace.Cell

// testLogOut receives the runners' warnings: set SKYQUORUM_RUNNER_LOG=1
// to see them.
var testLogOut io.Writer = func() io.Writer {
	if os.Getenv("SKYQUORUM_RUNNER_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}()
