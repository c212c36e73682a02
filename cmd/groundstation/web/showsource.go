package web

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// ShowSource is an in-process simulation of a show for the dashboard:
// each drone follows its track with a lag and a little noise, in virtual
// time advanced by Step, reproducible from a seed. It records the
// commands it is given and obeys them (START, PAUSE, RESUME, LAND,
// RETURN, HOLD). It serves demonstrations, tests and benchmarks of the
// dashboard; the swarm's protocols are not simulated here.
type ShowSource struct {
	mu     sync.Mutex
	show   *show.Show
	tracks []*show.Track
	grid   airspace.Grid
	rng    *rand.Rand
	now    time.Time
	born   time.Time
	// showT is the show time; running whether it advances.
	showT    time.Duration
	started  bool
	running  bool
	state    string
	drones   []simDrone
	log      []LogEntry
	commands []Command
	leader   uint16
}

type simDrone struct {
	pos     [3]float64
	battery float64
	loss    int
	applied uint32
}

// NewShowSource simulates s from start (the virtual clock's reading)
// with randomness from seed. Drone k of the show is drone ID k+1;
// drone 1 leads.
func NewShowSource(s *show.Show, seed uint64, start time.Time) (*ShowSource, error) {
	tr, err := s.Tracks()
	if err != nil {
		return nil, err
	}
	g, err := runner.ShowGrid(s)
	if err != nil {
		return nil, err
	}
	ss := &ShowSource{show: s, tracks: tr, grid: g, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now: start, born: start, state: "standby", leader: 1}
	ss.drones = make([]simDrone, len(s.Drones))
	for k := range ss.drones {
		h := s.Drones[k].Home
		ss.drones[k] = simDrone{pos: [3]float64{h.X, h.Y, h.Z}, battery: 95 + 5*ss.rng.Float64()}
	}
	return ss, nil
}

// Step advances the simulation by dt.
func (ss *ShowSource) Step(dt time.Duration) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.now = ss.now.Add(dt)
	if ss.running {
		ss.showT += dt
		if ss.showT >= ss.show.Duration() {
			ss.showT, ss.running, ss.state = ss.show.Duration(), false, "standby"
		}
	}
	a := 1 - math.Exp(-dt.Seconds()/0.3)
	for k := range ss.drones {
		d := &ss.drones[k]
		var want show.Vec3
		switch ss.state {
		case "flying":
			want = ss.tracks[k].At(ss.showT).Pos
		case "holding":
			want = show.Vec3{X: d.pos[0], Y: d.pos[1], Z: d.pos[2]}
		case "landing":
			want = show.Vec3{X: d.pos[0], Y: d.pos[1], Z: 0}
		default:
			want = ss.show.Drones[k].Home
			if ss.state == "returning" {
				want.Z = max(d.pos[2], 0)
				if math.Hypot(d.pos[0]-want.X, d.pos[1]-want.Y) < 0.5 {
					want.Z = 0
				}
			}
		}
		for i, w := range [3]float64{want.X, want.Y, want.Z} {
			d.pos[i] += a*(w-d.pos[i]) + 0.02*ss.rng.NormFloat64()
		}
		d.pos[2] = max(d.pos[2], 0)
		if ss.state != "standby" {
			d.battery = max(0, d.battery-dt.Seconds()/60)
		}
		d.loss = ss.rng.IntN(4)
	}
}

// Commands returns the commands given so far.
func (ss *ShowSource) Commands() []Command {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return append([]Command(nil), ss.commands...)
}

// Snapshot implements Source.
func (ss *ShowSource) Snapshot() Snapshot {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	n := len(ss.drones)
	out := Snapshot{
		At: ss.now, Leaders: []uint16{ss.leader}, Grid: GridOf(ss.grid),
		Drones: make([]Drone, n), Fence: ss.show.Fence.Polygon,
		Log: append([]LogEntry(nil), ss.log...),
		Show: ShowClock{Loaded: true, Running: ss.started, T: ss.showT.Seconds(),
			Duration: ss.show.Duration().Seconds(), SwarmTime: ss.now.UnixMilli()},
	}
	if out.Fence == nil {
		out.Fence = [][2]float64{}
	}
	if out.Show.Duration > 0 {
		out.Show.Progress = out.Show.T / out.Show.Duration
	}
	state := ss.state
	if state == "standby" && ss.started && ss.showT == 0 {
		state = "armed"
	}
	var loss float64
	for k := range ss.drones {
		d := &ss.drones[k]
		c := ss.tracks[k].Colour(ss.showT)
		v := Drone{
			ID: uint16(k + 1), Reported: true, Live: true, State: state, Mode: "synced pos show",
			Leader: uint16(k+1) == ss.leader, Battery: int(d.battery), GPSFix: 3, Satellites: 14,
			Loss: d.loss, Color: fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B),
			Cell: -1, Ready: true, Pos: d.pos, Applied: d.applied, AgeMS: int64(k % 300),
			ShowT: ss.showT.Seconds(),
		}
		if k%97 == 5 {
			// A few drones report a weak GPS: not ready.
			v.Satellites, v.Preflight, v.Ready = 5, 3, false
		}
		if ss.running {
			p := ss.tracks[k].At(ss.showT).Pos
			v.Planned = &[3]float64{p.X, p.Y, p.Z}
			if c, err := ss.grid.CellOf(airspace.Point{X: d.pos[0], Y: d.pos[1], Z: d.pos[2]}); err == nil {
				v.Cell, v.Cells = int(c), 1
			}
		}
		loss += float64(d.loss) / 100
		out.Drones[k] = v
	}
	if n > 0 {
		loss /= float64(n)
	}
	out.Channels = []Channel{{Airtime: 0.3 + 0.05*math.Sin(ss.now.Sub(ss.born).Seconds()/7), Loss: loss,
		ClockErrMS: 2 + math.Abs(math.Sin(ss.now.Sub(ss.born).Seconds()/11))}}
	return out
}

// Command implements Source: it records c and obeys it.
func (ss *ShowSource) Command(_ context.Context, c Command) (string, error) {
	if err := c.Check(); err != nil {
		return "", err
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.commands = append(ss.commands, c)
	name := map[string]string{"arm": "ARM", "start": "START", "pause": "PAUSE", "resume": "RESUME", "land": "LAND", "return": "RETURN", "hold": "HOLD"}[c.Op]
	e := LogEntry{At: ss.now, Command: name, Of: len(ss.drones), Applied: len(ss.drones)}
	if c.Emergency {
		e.Command = "EMERGENCY " + name
	} else {
		e.Index = uint32(len(ss.log) + 1)
		for k := range ss.drones {
			ss.drones[k].applied = e.Index
		}
	}
	ss.log = append(ss.log, e)
	switch c.Op {
	case "arm":
		ss.started = true
	case "start", "resume":
		ss.started, ss.running, ss.state = true, true, "flying"
	case "pause", "hold":
		ss.running, ss.state = false, "holding"
	case "land":
		ss.running, ss.state = false, "landing"
	case "return":
		ss.running, ss.state = false, "returning"
	}
	return fmt.Sprintf("%s applied by %d drones", e.Command, len(ss.drones)), nil
}
