package station_test

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/timesync"
)

var testKey = wire.Key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}

const testNetwork = 7

// fakeClock moves only when Advance is called.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 6, 1, 21, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			keep = append(keep, t)
			continue
		}
		t.ch <- t.at
	}
	c.timers = keep
}

// waitFor waits (in real time, generously) for cond, without moving the
// fake clock.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// poll is waitFor for goroutines other than the test's: it reports
// whether cond held in time.
func poll(cond func() bool) bool {
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// advanceUntil moves the fake clock in steps of 100 ms until cond holds,
// at most limit, and returns the simulated time it took.
func advanceUntil(t *testing.T, clk *fakeClock, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	var spent time.Duration
	for !cond() {
		if spent >= limit {
			t.Fatalf("%s: not after %s of simulated time", what, limit)
		}
		clk.Advance(100 * time.Millisecond)
		spent += 100 * time.Millisecond
		time.Sleep(2 * time.Millisecond) // let the station's goroutine run
	}
	return spent
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// net is an in-memory radio network with one station.
type testNet struct {
	t       *testing.T
	hub     *link.Hub
	clk     *fakeClock
	network uint8
	st      *station.Station
}

func newNet(t *testing.T, mod func(*station.Config)) *testNet {
	t.Helper()
	n := &testNet{t: t, hub: link.NewHub(), clk: newFakeClock(), network: testNetwork}
	l, err := n.hub.Join(station.SystemID)
	require.NoError(t, err)
	cfg := station.Config{Link: l, Key: testKey, Network: testNetwork, Clock: n.clk, Logger: quiet(), FirstSeq: 40}
	if mod != nil {
		mod(&cfg)
	}
	n.st, err = station.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.st.Close()) })
	return n
}

// fakeDrone is a scripted drone: MAVLink system ID sys, vehicle ID
// 100+sys, answering the station as the contract says.
type fakeDrone struct {
	t   *testing.T
	sys uint8
	id  uint16
	net uint8
	r   *radio.Radio
	cd  *codec.Codec
	clk *fakeClock

	mu sync.Mutex
	// Leadership: leading (its log says it leads term), else it follows
	// leader of term.
	leading bool
	leader  uint16
	term    uint32
	// The leader's command log: (issuer, seq) → index.
	log     map[[2]uint32]uint32
	entries []uint32 // seq of every entry, in log order
	// loseReplies is how many ACCEPTED answers are lost (not sent).
	loseReplies int
	// refuse, when set, is the reason every request is refused.
	refuse string
	// offset is the leader's swarm time minus the fake clock.
	offset time.Duration
	// answerAll addresses answers to every vehicle instead of the
	// station.
	answerAll bool

	requests    []swarm.MessageSwarmOperatorCommand
	timeReqs    int
	emergencies []swarm.MessageSwarmEmergency
	frames      []wire.Frame

	wg sync.WaitGroup
}

func (n *testNet) drone(sys uint8, key wire.Key) *fakeDrone {
	n.t.Helper()
	return n.droneOn(sys, key, nil)
}

// droneOn is drone with its link wrapped by wrap (when not nil).
func (n *testNet) droneOn(sys uint8, key wire.Key, wrap func(link.Link) link.Link) *fakeDrone {
	n.t.Helper()
	var l link.Link
	l, err := n.hub.Join(sys)
	require.NoError(n.t, err)
	if wrap != nil {
		l = wrap(l)
	}
	r, err := radio.Open(radio.Config{Link: l, Key: key, Network: n.network, SystemID: sys, Clock: n.clk, Logger: quiet()})
	require.NoError(n.t, err)
	cd, err := codec.New(codec.Config{Network: n.network})
	require.NoError(n.t, err)
	d := &fakeDrone{t: n.t, sys: sys, id: 100 + uint16(sys), net: n.network, r: r, cd: cd, clk: n.clk, log: map[[2]uint32]uint32{}}
	d.wg.Add(1)
	go d.run()
	n.t.Cleanup(func() {
		_ = r.Close()
		d.wg.Wait()
	})
	return d
}

func (d *fakeDrone) lead(term uint32) {
	d.mu.Lock()
	d.leading, d.leader, d.term = true, d.id, term
	d.mu.Unlock()
}

func (d *fakeDrone) follow(leader uint16, term uint32) {
	d.mu.Lock()
	d.leading, d.leader, d.term = false, leader, term
	d.mu.Unlock()
}

// set changes the drone's script.
func (d *fakeDrone) set(fn func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn()
}

func (d *fakeDrone) run() {
	defer d.wg.Done()
	for f := range d.r.Received() {
		d.mu.Lock()
		d.frames = append(d.frames, f)
		d.handle(f)
		d.mu.Unlock()
	}
}

// handle answers one frame. Call with d.mu held.
func (d *fakeDrone) handle(f wire.Frame) {
	switch m := f.Message.(type) {
	case *swarm.MessageSwarmOperatorCommand:
		if m.Kind != swarm.SWARM_OPERATOR_KIND_REQUEST || (m.DstVehicle != d.id && m.DstVehicle != station.Everyone) {
			return
		}
		d.requests = append(d.requests, *m)
		if !d.leading {
			if m.DstVehicle == d.id { // a broadcast request is the leader's alone
				d.send(&swarm.MessageSwarmOperatorCommand{Kind: swarm.SWARM_OPERATOR_KIND_NOT_LEADER, Seq: m.Seq, Issuer: m.Issuer,
					Leader: d.leader, Term: d.term, DstVehicle: m.SrcVehicle})
			}
			return
		}
		if d.refuse != "" {
			a := &swarm.MessageSwarmOperatorCommand{Kind: swarm.SWARM_OPERATOR_KIND_REFUSED, Seq: m.Seq, Issuer: m.Issuer,
				Term: d.term, DstVehicle: m.SrcVehicle, DataLen: uint8(len(d.refuse))}
			copy(a.Data[:], d.refuse)
			d.send(a)
			return
		}
		key := [2]uint32{uint32(m.Issuer), m.Seq}
		idx, ok := d.log[key]
		if !ok {
			d.entries = append(d.entries, m.Seq)
			idx = uint32(len(d.entries))
			d.log[key] = idx
		}
		if d.loseReplies > 0 {
			d.loseReplies--
			return
		}
		dst := m.SrcVehicle
		if d.answerAll {
			dst = station.Everyone
		}
		d.send(&swarm.MessageSwarmOperatorCommand{Kind: swarm.SWARM_OPERATOR_KIND_ACCEPTED, Seq: m.Seq, Issuer: m.Issuer,
			Index: idx, Term: d.term, DstVehicle: dst})
	case *swarm.MessageSwarmTimeRequest:
		if m.DstVehicle != d.id {
			return
		}
		d.timeReqs++
		if !d.leading {
			return
		}
		// The drones' own time sync core answers, as the leader, with its
		// clock offset from the fake clock; the drones' codec encodes it.
		ts, err := timesync.New(timesync.Config{ID: algorithms.NodeID(d.id), Leader: algorithms.NodeID(d.id)})
		if !assert.NoError(d.t, err) {
			return
		}
		ts.SetClock(d.clk.Now().Add(d.offset).UnixNano())
		_, req, err := d.cd.DecodeMessage(m)
		if !assert.NoError(d.t, err) {
			return
		}
		assert.NoError(d.t, ts.Step(algorithms.NodeID(m.SrcVehicle), req))
		for _, snd := range ts.Ready().Sends {
			msg, err := d.cd.EncodeMessage(codec.Header{From: algorithms.NodeID(d.id), To: snd.To[0]}, snd.Msg)
			if assert.NoError(d.t, err) {
				assert.NoError(d.t, d.r.Send(msg, link.Broadcast))
			}
		}
	case *swarm.MessageSwarmEmergency:
		d.emergencies = append(d.emergencies, *m)
	}
}

// send broadcasts a swarm message from this drone (as the drones do,
// with dst_vehicle naming the receiver). Call with d.mu held or not.
func (d *fakeDrone) send(m interface{ GetID() uint32 }) {
	d.t.Helper()
	switch m := m.(type) {
	case *swarm.MessageSwarmOperatorCommand:
		m.SrcVehicle, m.NetworkId = d.id, d.net
		assert.NoError(d.t, d.r.Send(m, link.Broadcast))
	case *swarm.MessageSwarmStatus:
		m.SrcVehicle, m.NetworkId = d.id, d.net
		assert.NoError(d.t, d.r.Send(m, link.Broadcast))
	case *swarm.MessageSwarmEmergency:
		m.SrcVehicle, m.NetworkId = d.id, d.net
		assert.NoError(d.t, d.r.Send(m, link.Broadcast))
	default:
		d.t.Fatalf("fake drone cannot send %T", m)
	}
}

// status broadcasts the drone's SWARM_STATUS with applied and the
// leadership it has, after mod.
func (d *fakeDrone) status(applied uint32, mod func(*swarm.MessageSwarmStatus)) {
	d.mu.Lock()
	m := &swarm.MessageSwarmStatus{
		Applied: applied, Term: d.term, Leader: d.leader, DstVehicle: station.Everyone,
		State: swarm.SWARM_MEMBER_STATE_STANDBY, Flags: swarm.SWARM_MEMBER_FLAGS_POSITION_OK,
		Battery: 87, Voltage: 1612, GpsFix: 3, Satellites: 14, X: 123, Y: -45, Z: 6, Cell: station.NoCell,
		Loss: 2, Retransmits: 1, Color: [3]uint8{255, 0, 16},
	}
	if d.leading {
		m.Flags |= swarm.SWARM_MEMBER_FLAGS_LEADER
	}
	d.mu.Unlock()
	if mod != nil {
		mod(m)
	}
	d.send(m)
}

func (d *fakeDrone) requestsSeen() []swarm.MessageSwarmOperatorCommand {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]swarm.MessageSwarmOperatorCommand(nil), d.requests...)
}

func (d *fakeDrone) emergenciesSeen() []swarm.MessageSwarmEmergency {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]swarm.MessageSwarmEmergency(nil), d.emergencies...)
}

func (d *fakeDrone) logSeqs() []uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]uint32(nil), d.entries...)
}

// decodeEmergency is what a drone's codec makes of a SWARM_EMERGENCY.
func (d *fakeDrone) decodeEmergency(m swarm.MessageSwarmEmergency) (emergency.Emergency, codec.Header) {
	d.t.Helper()
	h, cm, err := d.cd.DecodeMessage(&m)
	require.NoError(d.t, err)
	e, ok := cm.(emergency.Emergency)
	require.True(d.t, ok, "%T", cm)
	return e, h
}

// heard reports whether the station's picture has drone id with at least
// n statuses.
func (n *testNet) heard(id uint16, statuses int) func() bool {
	return func() bool {
		for _, d := range n.st.Snapshot().Drones {
			if d.ID == id {
				return d.Statuses >= statuses
			}
		}
		return false
	}
}

// lossy drops each packet sent or received with probability loss, drawn
// from a seeded source.
type lossy struct {
	link.Link
	mu      sync.Mutex
	rng     *rand.Rand
	loss    float64
	dropped int
}

func newLossy(seed uint64, loss float64) func(link.Link) link.Link {
	return func(l link.Link) link.Link {
		return &lossy{Link: l, rng: rand.New(rand.NewPCG(seed, 0x5157)), loss: loss}
	}
}

func (l *lossy) drop() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rng.Float64() < l.loss {
		l.dropped++
		return true
	}
	return false
}

func (l *lossy) Send(p []byte, to link.Dest) error {
	if l.drop() {
		return nil
	}
	return l.Link.Send(p, to)
}

func (l *lossy) Receive() (link.Packet, error) {
	for {
		p, err := l.Link.Receive()
		if err != nil || !l.drop() {
			return p, err
		}
	}
}
