package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/fcvehicle"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/demo"

	swarmnode "github.com/skyquorum/skyquorum/swarm"
)

const (
	network = 7
	loss    = 0.05
	// px4Drone flies a PX4; the others fly ArduPilots.
	px4Drone = 2
)

// clockOffsets give every drone's companion computer a clock of its own.
var clockOffsets = []time.Duration{0, 1300 * time.Millisecond, -800 * time.Millisecond, 2100 * time.Millisecond, -1700 * time.Millisecond}

// offsetClock is the wall clock, off by d.
type offsetClock struct{ d time.Duration }

func (c offsetClock) Now() time.Time                         { return time.Now().Add(c.d) }
func (c offsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (c offsetClock) NewTicker(d time.Duration) runner.Ticker {
	return runner.SystemClock{}.NewTicker(d)
}

// lossy loses each packet it receives with probability p.
type lossy struct {
	link.Link
	mu  sync.Mutex
	rng *rand.Rand
	p   float64
}

func (l *lossy) Receive() (link.Packet, error) {
	for {
		pk, err := l.Link.Receive()
		if err != nil {
			return pk, err
		}
		l.mu.Lock()
		drop := l.rng.Float64() < l.p
		l.mu.Unlock()
		if !drop {
			return pk, nil
		}
	}
}

// drone is one runner and its simulated flight controller.
type drone struct {
	id     algorithms.NodeID
	ap     vehicle.Autopilot
	clock  offsetClock
	fc     *vehicle.FCServer
	client *autopilot.Client
	veh    *fcvehicle.Vehicle
	r      *runner.Runner
	cancel context.CancelFunc
	done   chan error
}

// rig is a swarm of drones flying a show in real time.
type rig struct {
	// dropped counts the samples that took longer than sampleSpan.
	dropped int
	t       *testing.T
	seed    uint64
	show    *show.Show
	digest  uint64
	frame   autopilot.Frame
	tracks  []*show.Track
	drones  []*drone
	born    time.Time
}

func logger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("SKYQUORUM_E2E_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// newRig starts n drones on a lossy in-memory radio network, each with a
// simulated flight controller on loopback UDP standing at its show home
// (so each with its own EKF origin and altitude above sea level), and a
// runner whose clock is off by its clockOffsets entry. mod adjusts a
// drone's runner configuration.
func newRig(t *testing.T, sh *show.Show, seed uint64, mod func(*runner.Config)) *rig {
	t.Helper()
	h, err := sh.Hash()
	if err != nil {
		t.Fatal(err)
	}
	tracks, err := sh.Tracks()
	if err != nil {
		t.Fatal(err)
	}
	key, err := wire.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := &rig{t: t, seed: seed, show: sh, digest: h.Digest(), frame: autopilot.FrameOf(sh), tracks: tracks}
	n := len(sh.Drones)
	var members []algorithms.NodeID
	for i := 1; i <= n; i++ {
		members = append(members, algorithms.NodeID(i))
	}
	hub := link.NewHub()
	log := logger()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		id := algorithms.NodeID(i + 1)
		d := &drone{id: id, ap: vehicle.ArduPilot, clock: offsetClock{clockOffsets[i%len(clockOffsets)]}}
		if id == px4Drone {
			d.ap = vehicle.PX4
		}
		home := sh.Drones[i].Home
		lat, lon := rg.frame.LatLon(home)
		d.fc, err = vehicle.ServeFC(vehicle.FCServerConfig{FC: vehicle.FCConfig{
			Autopilot: d.ap, SystemID: uint8(id), Lat: lat, Lon: lon,
			AMSL: sh.Origin.AMSL + home.Z + 0.7*float64(i), Noise: 0.1, Seed: seed*100 + uint64(id),
			TimeOffset: time.Duration(i) * 3 * time.Second,
		}})
		if err != nil {
			t.Fatalf("seed %d: drone %d: %v", seed, id, err)
		}
		t.Cleanup(d.fc.Close)
		d.client, err = autopilot.New(autopilot.Config{
			Endpoint: gomavlib.EndpointUDPClient{Address: d.fc.Addr()}, SystemID: uint8(id), Logger: log.With("drone", id),
		})
		if err != nil {
			t.Fatalf("seed %d: drone %d: %v", seed, id, err)
		}
		t.Cleanup(d.client.Close)
		ap, err := d.client.WaitHeartbeat(ctx)
		if err != nil {
			t.Fatalf("seed %d: drone %d: %v", seed, id, err)
		}
		if err := d.client.RequestTelemetry(ctx); err != nil {
			t.Fatalf("seed %d: drone %d: %v", seed, id, err)
		}
		d.veh, err = fcvehicle.New(fcvehicle.Config{
			Client: d.client, Autopilot: ap, Frame: rg.frame, Home: home, Logger: log.With("drone", id),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.veh.Close)
		mem, err := hub.Join(uint8(id))
		if err != nil {
			t.Fatal(err)
		}
		cfg := runner.Config{
			ID: id, Members: members, Link: &lossy{Link: mem, rng: rand.New(rand.NewPCG(seed, uint64(id))), p: loss},
			Key: key, Network: network, StateDir: filepath.Join(t.TempDir(), fmt.Sprint(id)), Clock: d.clock,
			Vehicle: d.veh, Show: sh, Listen: 2 * time.Second, Logger: log,
		}
		if mod != nil {
			mod(&cfg)
		}
		d.r, err = runner.New(cfg)
		if err != nil {
			t.Fatalf("seed %d: drone %d: %v", seed, id, err)
		}
		rg.drones = append(rg.drones, d)
	}
	rg.born = time.Now()
	for _, d := range rg.drones {
		rctx, rcancel := context.WithCancel(context.Background())
		d.cancel, d.done = rcancel, make(chan error, 1)
		go func() { d.done <- d.r.Run(rctx) }()
	}
	t.Cleanup(rg.stop)
	return rg
}

// stop stops every runner (on the ground they return at once).
func (rg *rig) stop() {
	for _, d := range rg.drones {
		if d.cancel != nil {
			d.cancel()
		}
	}
	for _, d := range rg.drones {
		if d.cancel == nil {
			continue
		}
		select {
		case err := <-d.done:
			if err != nil {
				rg.t.Errorf("seed %d: drone %d: Run: %v", rg.seed, d.id, err)
			}
		case <-time.After(60 * time.Second):
			rg.t.Errorf("seed %d: drone %d: Run did not return", rg.seed, d.id)
		}
		d.cancel = nil
	}
}

// within polls cond every 20 ms until it holds or limit passes (a hang
// guard, not a speed check).
func within(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// leader returns the drone every drone names leader, once all agree.
func (rg *rig) leader() *drone {
	var lead *drone
	var named algorithms.NodeID
	for _, d := range rg.drones {
		var leading bool
		var l algorithms.NodeID
		if !d.r.Inspect(func(n *swarmnode.Node) { leading, l = n.Log().Log().Leading(), n.Log().Log().Leader() }) {
			return nil
		}
		if l == 0 || (named != 0 && l != named) {
			return nil
		}
		named = l
		if leading {
			lead = d
		}
	}
	if lead == nil || lead.id != named {
		return nil
	}
	return lead
}

// applied returns the lowest log index applied by every drone.
func (rg *rig) applied() uint32 {
	low := ^uint32(0)
	for _, d := range rg.drones {
		var a uint32
		d.r.Inspect(func(n *swarmnode.Node) { a = n.Log().Log().AppliedIndex() })
		low = min(low, a)
	}
	return low
}

// commit proposes c at the leader and returns how long it took to be
// applied at every drone.
func (rg *rig) commit(lead *drone, c command.Command) time.Duration {
	rg.t.Helper()
	t0 := time.Now()
	p, err := lead.r.Propose(c)
	if err != nil {
		rg.t.Fatalf("seed %d: propose %v at leader %d: %v", rg.seed, c, lead.id, err)
	}
	if !within(30*time.Second, func() bool { return rg.applied() >= p.Index }) {
		rg.t.Fatalf("seed %d: %v (index %d) not applied everywhere in 30 s (lowest %d)", rg.seed, c, p.Index, rg.applied())
	}
	return time.Since(t0)
}

// showTime returns the show time drone d flies now, false before the
// start.
func (d *drone) showTime() (time.Duration, bool) {
	var st int64
	var ok bool
	d.r.Inspect(func(n *swarmnode.Node) {
		st, _, ok = n.Show().FlightTime(n.SwarmTime(d.clock.Now().UnixNano()))
	})
	return time.Duration(st), ok
}

// truth returns where drone d's simulated vehicle really is, in the
// show's frame, whether it is armed, and its light.
func (rg *rig) truth(d *drone) (pos show.Vec3, armed bool, light show.RGB) {
	var lat, lon, z float64
	var rgb [3]uint8
	d.fc.Do(func(f *vehicle.FC) {
		p := f.Vehicle().Position()
		lat, lon = f.LatLon(p)
		z, armed = p.Z, f.Armed()
		rgb, _ = f.Light()
	})
	x, y := rg.frame.Local(lat, lon)
	return show.Vec3{X: x, Y: y, Z: rg.show.Drones[d.id-1].Home.Z + z}, armed, show.RGB{R: rgb[0], G: rgb[1], B: rgb[2]}
}

// start elects a leader and commits LOAD, ARM and START (lead ahead of the
// leader's swarm time); it returns the leader.
func (rg *rig) start(lead time.Duration) *drone {
	t := rg.t
	var l *drone
	if !within(60*time.Second, func() bool { l = rg.leader(); return l != nil }) {
		t.Fatalf("seed %d: no leader every drone agrees on in 60 s", rg.seed)
	}
	t.Logf("leader %d, agreed by every drone %.1f s after the runners started (%v of it listening)",
		l.id, time.Since(rg.born).Seconds(), 2*time.Second)
	load := rg.commit(l, command.Load{Show: 1, Digest: rg.digest})
	arm := rg.commit(l, command.Arm{})
	var now int64
	l.r.Inspect(func(n *swarmnode.Node) { now = n.SwarmTime(l.clock.Now().UnixNano()) })
	start := rg.commit(l, command.Start{At: now + int64(lead)})
	t.Logf("applied at every drone after: LOAD %v, ARM %v, START %v",
		load.Round(time.Millisecond), arm.Round(time.Millisecond), start.Round(time.Millisecond))
	return l
}

// sample is one look at a drone during the show.
type sample struct {
	at     time.Duration // show time
	dev    float64       // m from its planned position
	light  show.RGB
	want   show.RGB
	armed  bool
	height float64 // above its home
}

// watch samples every drone every 50 ms while the leader's show time is
// below until, and returns the samples by drone.
func (rg *rig) watch(lead *drone, until time.Duration, each func(st time.Duration)) [][]sample {
	out := make([][]sample, len(rg.drones))
	deadline := time.Now().Add(until + 60*time.Second) // a hang guard
	for time.Now().Before(deadline) {
		st, ok := lead.showTime()
		if ok && st > until {
			break
		}
		if ok {
			if each != nil {
				each(st)
			}
			// Read every vehicle, then the show time again: a sample
			// whose reading took longer than sampleSpan (the test
			// process starved on a loaded machine) says nothing about
			// the vehicles, and is dropped and counted.
			got := make([]sample, len(rg.drones))
			for i, d := range rg.drones {
				pos, armed, light := rg.truth(d)
				want, _ := rg.tracks[i].Position(st)
				got[i] = sample{at: st, dev: pos.Dist(want), light: light,
					want: rg.tracks[i].Colour(st), armed: armed, height: pos.Z - rg.show.Drones[i].Home.Z}
			}
			if st2, ok2 := lead.showTime(); ok2 && st2-st <= sampleSpan {
				for i := range got {
					out[i] = append(out[i], got[i])
				}
			} else {
				rg.dropped++
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return out
}

// sampleSpan is the longest a sample of every vehicle may take to read.
const sampleSpan = 20 * time.Millisecond

// The light is set with every setpoint, ten times a second: it may lag
// the show by that much and a little more, which in the demo's fastest
// fade (a cyan-magenta cycle every 4 s) is tens of levels. A sample
// agrees when the light is within lightLevels of the show's colour at a
// show time up to lightLag before.
const (
	lightLevels = 8
	lightLag    = 200 * time.Millisecond
)

func (rg *rig) lightFollows(i int, s sample) bool {
	for lag := time.Duration(0); lag <= lightLag; lag += 10 * time.Millisecond {
		if near(s.light, rg.tracks[i].Colour(max(s.at-lag, 0)), lightLevels) {
			return true
		}
	}
	return false
}

func near(a, b show.RGB, levels int) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) <= levels && d(a.G, b.G) <= levels && d(a.B, b.B) <= levels
}

// TestSwarmFliesShowOnFlightControllers is the acceptance test: five
// runners on a radio network that loses 5% of frames at every receiver,
// each driving a simulated flight controller (one PX4, four ArduPilot,
// each with its own EKF origin) over MAVLink on loopback UDP, each with a
// clock of its own, elect a leader; the ground station's commands LOAD,
// ARM and START commit; the drones arm, take off, fly the 60 s demo show
// and land. Every vehicle's true position stays within half the show's
// minimum distance of its planned position at the same show time, and
// the ArduPilots' lights show the show's colours.
func TestSwarmFliesShowOnFlightControllers(t *testing.T) {
	if testing.Short() {
		t.Skip("flies a 60 s show in real time")
	}
	const seed = 1
	sh, err := demo.NewWith(5, demo.Options{Duration: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rg := newRig(t, sh, seed, nil)
	lead := rg.start(5 * time.Second)
	end := sh.Drones[0].Landing
	for _, d := range sh.Drones {
		end = max(end, d.Landing)
	}
	samples := rg.watch(lead, end, nil)

	limit := sh.Limits.MinDistance / 2
	worst, worstAt, worstDrone := 0.0, time.Duration(0), 0
	for i, ss := range samples {
		d := rg.drones[i]
		if len(ss) < 500 {
			t.Errorf("seed %d: drone %d: %d samples over the show, want at least 500", seed, d.id, len(ss))
		}
		w, aloft, top := 0.0, 0.0, 0.0
		agree, exact, lit := 0, 0, 0
		for _, s := range ss {
			w = max(w, s.dev)
			if s.at >= 2*time.Second {
				aloft = max(aloft, s.dev)
			}
			if s.dev > worst {
				worst, worstAt, worstDrone = s.dev, s.at, int(d.id)
			}
			top = max(top, s.height)
			if d.ap == vehicle.ArduPilot {
				lit++
				if near(s.light, s.want, lightLevels) {
					exact++
				}
				if rg.lightFollows(i, s) {
					agree++
				} else if os.Getenv("SKYQUORUM_E2E_LOG") != "" {
					t.Logf("drone %d at %v: light %v, show %v", d.id, s.at, s.light, s.want)
				}
			}
			if s.dev > 0.3 && os.Getenv("SKYQUORUM_E2E_LOG") != "" {
				t.Logf("drone %d at %v: %.3f m off, %.2f m up", d.id, s.at, s.dev, s.height)
			}
		}
		msg := fmt.Sprintf("drone %d (%v): %d samples, worst deviation %.3f m (%.3f m after the first 2 s), highest %.1f m above home",
			d.id, d.ap, len(ss), w, aloft, top)
		if lit > 0 {
			msg += fmt.Sprintf(", light within %d levels of the show's in %d of %d samples (%.1f%%; %.1f%% at the same show time)",
				lightLevels, agree, lit, 100*float64(agree)/float64(lit), 100*float64(exact)/float64(lit))
			if float64(agree) < 0.95*float64(lit) {
				t.Errorf("seed %d: drone %d: light agrees in %d of %d samples, want at least 95%%", seed, d.id, agree, lit)
			}
		}
		t.Log(msg)
		if top < demo.Base-1 {
			t.Errorf("seed %d: drone %d: highest %.1f m above home, want above %.1f m: it did not fly the show", seed, d.id, top, demo.Base-1)
		}
	}
	t.Logf("worst deviation %.3f m (drone %d at show time %v); limit %.2f m; %d samples dropped for taking over %v to read", worst, worstDrone, worstAt.Round(time.Millisecond), limit, rg.dropped, sampleSpan)
	if worst >= limit {
		t.Errorf("seed %d: worst deviation %.3f m (drone %d at %v), want below half the minimum distance, %.2f m", seed, worst, worstDrone, worstAt, limit)
	}

	// Every drone lands on its landing point and disarms.
	if !within(30*time.Second, func() bool {
		for _, d := range rg.drones {
			if _, armed, _ := rg.truth(d); armed {
				return false
			}
		}
		return true
	}) {
		t.Errorf("seed %d: not every drone disarmed within 30 s of the show's end", seed)
	}
	for i, d := range rg.drones {
		pos, armed, _ := rg.truth(d)
		if off := pos.Dist(sh.Drones[i].Land); armed || off > 0.5 {
			t.Errorf("seed %d: drone %d: armed %v, %.2f m from its landing point %v; want disarmed within 0.5 m", seed, d.id, armed, off, sh.Drones[i].Land)
		}
		if err := d.veh.Err(); err != nil {
			t.Logf("drone %d: last command error: %v", d.id, err)
		}
	}
}
