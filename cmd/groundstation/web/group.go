package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// GroupSource feeds the dashboard from live stations, one per radio
// network (a station.Group), and sends its commands through them.
type GroupSource struct {
	stations []*station.Station
	baud     int
	// Now is the clock for the swarm time of new commands (START,
	// PAUSE, RESUME); nil means time.Now.
	Now func() time.Time
	// Lead is how far ahead of the swarm time START, PAUSE and RESUME
	// are set (default 5 s), so that every drone has them in time.
	Lead time.Duration

	mu      sync.Mutex
	show    *show.Show
	tracks  []*show.Track
	grid    *Grid
	ended   string
	startAt []time.Time // per station, zero before START
	log     []logged
	air     []airWindow
}

type logged struct {
	at      time.Time
	network uint8
	index   uint32
	cmd     string
	err     string
}

// airWindow tracks a station's radio bytes to estimate the channel's
// busy share: on a broadcast radio the station hears every frame of its
// network.
type airWindow struct {
	at    time.Time
	bytes int
	share float64
}

// NewGroupSource returns the source of g; baud is the radios' serial
// rate (for the airtime share).
func NewGroupSource(g *station.Group, baud int) *GroupSource {
	return NewStationSource(baud, g.Stations()...)
}

// NewStationSource returns the source of stations of distinct networks
// (groundstation connect has one).
func NewStationSource(baud int, stations ...*station.Station) *GroupSource {
	return &GroupSource{stations: stations, baud: baud, Lead: 5 * time.Second}
}

// SetShow gives the show flown, for planned positions, the fence, the
// show clock and the airspace grid (the one the drones use when their
// configuration gives none: runner.ShowGrid).
func (gs *GroupSource) SetShow(s *show.Show) error {
	tr, err := s.Tracks()
	if err != nil {
		return err
	}
	g, err := runner.ShowGrid(s)
	if err != nil {
		return err
	}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.show, gs.tracks, gs.grid = s, tr, GridOf(g)
	return nil
}

// SetGrid gives the airspace grid of the drones' configuration.
func (gs *GroupSource) SetGrid(g airspace.Grid) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.grid = GridOf(g)
}

// End marks the picture as no longer followed, saying why: the page
// shows it.
func (gs *GroupSource) End(why string) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.ended = why
}

// Started records the START of network (its swarm time), for the show
// clock.
func (gs *GroupSource) Started(network uint8, at time.Time) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	for i, st := range gs.stations {
		if st.Network() == network {
			for len(gs.startAt) <= i {
				gs.startAt = append(gs.startAt, time.Time{})
			}
			gs.startAt[i] = at
		}
	}
}

// Record adds a command sent by other means (the flight's own LOAD, ARM
// and START) to the log.
func (gs *GroupSource) Record(network uint8, c command.Command, r station.Result, err error) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	e := logged{at: time.Now(), network: network, index: r.Index, cmd: c.String()}
	if err != nil {
		e.err = err.Error()
	}
	gs.log = append(gs.log, e)
}

// Note adds a command sent by other means, as text (groundstation
// command through connect's control socket), to the log: index 0 for an
// emergency command or one not accepted, errText empty when it did not
// fail.
func (gs *GroupSource) Note(network uint8, index uint32, cmd, errText string) {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	gs.log = append(gs.log, logged{at: time.Now(), network: network, index: index, cmd: cmd, err: errText})
}

// Snapshot implements Source.
func (gs *GroupSource) Snapshot() Snapshot {
	sns := make([]station.Snapshot, len(gs.stations))
	for i, st := range gs.stations {
		sns[i] = st.Snapshot()
	}
	gs.mu.Lock()
	defer gs.mu.Unlock()
	var out Snapshot
	out.Fence = [][2]float64{}
	out.Grid, out.Ended = gs.grid, gs.ended
	if gs.show != nil {
		out.Fence = gs.show.Fence.Polygon
		out.Show.Loaded = true
		out.Show.Duration = gs.show.Duration().Seconds()
	}
	for len(gs.air) < len(sns) {
		gs.air = append(gs.air, airWindow{})
	}
	applied := map[uint8][]uint32{}
	for i, sn := range sns {
		if out.At.IsZero() || sn.At.After(out.At) {
			out.At = sn.At
		}
		out.Leaders = append(out.Leaders, sn.Leader)
		ch := Channel{Network: sn.Network, ClockErrMS: clockErrMS(sn)}
		var lossSum, lossN int
		for _, d := range sn.Drones {
			out.Drones = append(out.Drones, gs.drone(sn, d))
			applied[sn.Network] = append(applied[sn.Network], d.Applied)
			if d.Live {
				lossSum += d.Loss
				lossN++
			}
		}
		if lossN > 0 {
			ch.Loss = float64(lossSum) / float64(lossN) / 100
		}
		ch.Airtime = gs.airtime(i, sn)
		out.Channels = append(out.Channels, ch)
		if i == 0 && sn.TimeSynced {
			out.Show.SwarmTime = sn.SwarmTime.UnixMilli()
		}
		if i < len(gs.startAt) && !gs.startAt[i].IsZero() && sn.TimeSynced && out.Show.Loaded {
			t := sn.SwarmTime.Sub(gs.startAt[i]).Seconds()
			if t >= 0 {
				out.Show.Running = true
				out.Show.T = max(out.Show.T, min(t, out.Show.Duration))
			}
		}
	}
	// Drones report their own show time: it stops while paused.
	var flying []float64
	for _, d := range out.Drones {
		if d.Live && (d.State == "flying" || d.State == "holding") {
			flying = append(flying, d.ShowT)
		}
	}
	if len(flying) > 0 {
		slices.Sort(flying)
		out.Show.T = flying[len(flying)/2]
	}
	if out.Show.Duration > 0 {
		out.Show.Progress = min(1, out.Show.T/out.Show.Duration)
	}
	for _, e := range gs.log {
		le := LogEntry{At: e.at, Network: e.network, Index: e.index, Command: e.cmd, Error: e.err}
		for _, a := range applied[e.network] {
			le.Of++
			if e.index > 0 && a >= e.index {
				le.Applied++
			}
		}
		out.Log = append(out.Log, le)
	}
	return out
}

// clockErrMS is the error bound of the station's swarm time in ms, -1
// while it has none: before the station heard the leader's time, and
// after a change of leader until it has heard the new one's (the bound
// is then unbounded: math.MaxInt64).
func clockErrMS(sn station.Snapshot) float64 {
	if !sn.TimeSynced || sn.TimeBound < 0 || sn.TimeBound >= time.Duration(math.MaxInt64) {
		return -1
	}
	return float64(sn.TimeBound) / 1e6
}

// airtime estimates network i's busy share over the last second or more
// from the bytes its station sent and heard.
func (gs *GroupSource) airtime(i int, sn station.Snapshot) float64 {
	if gs.baud <= 0 {
		return 0
	}
	l := sn.Counters.Radio.Link
	bytes := l.BytesSent + l.BytesReceived
	w := &gs.air[i]
	if w.at.IsZero() {
		w.at, w.bytes = sn.At, bytes
		return 0
	}
	if dt := sn.At.Sub(w.at); dt >= time.Second {
		w.share = min(1, float64(bytes-w.bytes)*10/float64(gs.baud)/dt.Seconds())
		w.at, w.bytes = sn.At, bytes
	}
	return w.share
}

// drone converts a station's view of one drone. Call with gs.mu held.
func (gs *GroupSource) drone(sn station.Snapshot, d station.Drone) Drone {
	v := Drone{
		ID: d.ID, Network: sn.Network, Reported: d.Reported, Live: d.Live,
		State: station.StateName(d.State), Mode: ModeName(d.Flags),
		Leader:  d.ID == sn.Leader && sn.Leader != 0,
		Battery: d.Battery, GPSFix: d.GPSFix, Satellites: d.Satellites,
		Loss: d.Loss, Retransmits: d.Retransmits,
		Color: fmt.Sprintf("#%02x%02x%02x", d.Color[0], d.Color[1], d.Color[2]),
		Cell:  -1, Cells: d.Cells, Preflight: d.Preflight,
		Pos: [3]float64{d.X, d.Y, d.Z}, Applied: d.Applied, AgeMS: -1,
	}
	if !d.Reported {
		v.State = "silent"
	}
	if d.Cells > 0 && d.Cell != station.NoCell {
		v.Cell = int(d.Cell)
	}
	if d.Reported {
		v.AgeMS = d.Age.Milliseconds()
	}
	v.Ready = d.Live && d.Reported && d.Preflight == 0 && d.Flags&swarm.SWARM_MEMBER_FLAGS_POSITION_OK != 0
	k := int(d.ID) - 1
	if gs.show != nil && k >= 0 && k < len(gs.tracks) && d.ShowTime > 0 {
		p := gs.tracks[k].At(d.ShowTime).Pos
		v.Planned = &[3]float64{p.X, p.Y, p.Z}
	}
	v.ShowT = d.ShowTime.Seconds()
	if d.Show != 0 {
		v.Show = fmt.Sprintf("%#016x", d.Show)
	}
	return v
}

// ModeName writes a drone's flags in words.
func ModeName(f swarm.SWARM_MEMBER_FLAGS) string {
	var w []string
	for _, n := range []struct {
		f    swarm.SWARM_MEMBER_FLAGS
		name string
	}{
		{swarm.SWARM_MEMBER_FLAGS_LEADER, "leader"},
		{swarm.SWARM_MEMBER_FLAGS_TIME_SYNCED, "synced"},
		{swarm.SWARM_MEMBER_FLAGS_POSITION_OK, "pos"},
		{swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED, "show"},
		{swarm.SWARM_MEMBER_FLAGS_EMERGENCY, "emergency"},
	} {
		if f&n.f != 0 {
			w = append(w, n.name)
		}
	}
	return strings.Join(w, " ")
}

// Command implements Source: ordinary commands are committed through
// every network's leader, emergency ones sent to every drone at once.
func (gs *GroupSource) Command(ctx context.Context, c Command) (string, error) {
	if err := c.Check(); err != nil {
		return "", err
	}
	if c.Emergency {
		op := map[string]emergency.Op{"hold": emergency.Hold, "land": emergency.Land, "return": emergency.Return}[c.Op]
		// Every network at once: an emergency waits for no one.
		cmds := make([]emergency.Command, len(gs.stations))
		errs := make([]error, len(gs.stations))
		var wg sync.WaitGroup
		for i, st := range gs.stations {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmds[i], errs[i] = st.Emergency(ctx, op)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("network %d: %w", st.Network(), errs[i])
				}
			}()
		}
		wg.Wait()
		gs.mu.Lock()
		for i, st := range gs.stations {
			e := logged{at: time.Now(), network: st.Network(), cmd: fmt.Sprintf("EMERGENCY %v (#%d)", op, cmds[i].ID)}
			if errs[i] != nil {
				e.err = errs[i].Error()
			}
			gs.log = append(gs.log, e)
		}
		gs.mu.Unlock()
		if err := errors.Join(errs...); err != nil {
			return "", err
		}
		return fmt.Sprintf("emergency %v sent to every drone", op), nil
	}
	now := time.Now
	if gs.Now != nil {
		now = gs.Now
	}
	var msgs []string
	var errs []error
	for _, st := range gs.stations {
		t, _, synced := st.SwarmTime(now().Add(gs.Lead))
		var cmd command.Command
		switch c.Op {
		case "arm":
			cmd = command.Arm{}
		case "land":
			cmd = command.Land{}
		case "return":
			cmd = command.Return{}
		case "start", "pause", "resume":
			if !synced {
				errs = append(errs, fmt.Errorf("network %d: swarm time unknown yet", st.Network()))
				continue
			}
			switch c.Op {
			case "start":
				cmd = command.Start{At: t.UnixNano()}
				gs.Started(st.Network(), t)
			case "pause":
				cmd = command.Pause{At: t.UnixNano()}
			default:
				cmd = command.Resume{At: t.UnixNano()}
			}
		}
		if err := station.ShowGate(st.Snapshot(), cmd); err != nil {
			// Not sent: the log says why, naming the drones that lack the show.
			gs.Record(st.Network(), cmd, station.Result{}, err)
			errs = append(errs, fmt.Errorf("network %d: %v not sent: %w", st.Network(), cmd, err))
			continue
		}
		r, err := st.Send(ctx, cmd)
		gs.Record(st.Network(), cmd, r, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("network %d: %v: %w", st.Network(), cmd, err))
			continue
		}
		msgs = append(msgs, fmt.Sprintf("network %d: %v committed at index %d", st.Network(), cmd, r.Index))
	}
	if len(errs) > 0 {
		return strings.Join(msgs, "; "), errors.Join(errs...)
	}
	return strings.Join(msgs, "; "), nil
}
