package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/cmd/groundstation/web"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/sitl/hub"
	"github.com/skyquorum/skyquorum/sitl/live"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// flight is what fly needs.
type flight struct {
	flags    sitlFlags
	show     *show.Show
	hub      *hub.Hub
	swarm    *live.Swarm
	progress func(format string, a ...any)
	// serve serves the dashboard of the flight's picture (it outlives
	// the flight).
	serve func(*web.GroupSource)
}

// flightResult is what the summary reports of a flight.
type flightResult struct {
	// elected is the time from the start to a leader on every network.
	elected time.Duration
	// commands are the commands sent, with how long each took to be
	// applied by every live drone.
	commands []sentCommand
	// last is the final picture of each network.
	last []station.Snapshot
	// startAt is each network's START in its own swarm time: one
	// instant, by the ground station's estimate of each network's swarm
	// time. offsets is the largest difference between the networks' swarm
	// times, bounds the sum of the estimates' error bounds.
	startAt         []time.Time
	offsets, bounds time.Duration
	landed          int
}

type sentCommand struct {
	network uint8
	cmd     command.Command
	res     station.Result
	applied time.Duration
	prog    station.Progress
}

// fly joins every network, waits for a leader on each, commits LOAD, ARM
// and START, follows the show and waits for every drone to land.
func fly(ctx context.Context, fl flight) (flightResult, error) {
	var res flightResult
	born := time.Now()
	key, err := wire.LoadKeyFile(fl.swarm.KeyFile())
	if err != nil {
		return res, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var cfgs []station.Config
	for j := range fl.flags.networks {
		l, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0", Peers: []string{fl.hub.Addr(j + 1)}, Hub: true})
		if err != nil {
			for _, c := range cfgs {
				c.Link.Close()
			}
			return res, err
		}
		cfgs = append(cfgs, station.Config{Link: l, Key: key, Network: uint8(j), Baud: fl.flags.baud,
			Members: fl.swarm.Members(uint8(j)), Logger: quiet})
	}
	group, err := station.OpenGroup(cfgs)
	if err != nil {
		for _, c := range cfgs {
			c.Link.Close()
		}
		return res, err
	}
	defer group.Close()
	stations := group.Stations()
	fl.progress("ground station joined %d network(s) as system 255; waiting for a leader", len(stations))
	dash := web.NewGroupSource(group, fl.flags.baud)
	if err := dash.SetShow(fl.show); err != nil {
		return res, err
	}
	if fl.serve != nil {
		fl.serve(dash)
	}

	// A leader, its swarm time, and every drone's status on each network.
	fl.progress("a drone without state listens for a running swarm for 20 s before it starts afresh")
	for j, s := range stations {
		var sn station.Snapshot
		last, lastAt := "", time.Time{}
		err := waitFor(ctx, 200*time.Millisecond, func() bool {
			sn = s.Snapshot()
			return sn.Leader != 0 && sn.TimeSynced && len(sn.LiveDrones()) == len(fl.swarm.Members(uint8(j)))
		}, func() {
			sn := s.Snapshot()
			leader := "no leader yet"
			if sn.Leader != 0 {
				leader = fmt.Sprintf("leader %d (swarm time synced: %v)", sn.Leader, sn.TimeSynced)
			}
			line := fmt.Sprintf("network %d: %s, %d of %d drones reporting",
				j, leader, len(sn.LiveDrones()), len(fl.swarm.Members(uint8(j))))
			if line != last || time.Since(lastAt) > 10*time.Second {
				fl.progress("%s", line)
				last, lastAt = line, time.Now()
			}
		})
		if err != nil {
			return res, fmt.Errorf("network %d: no leader with every drone reporting: %w", j, err)
		}
		fl.progress("network %d: leader %d in term %d; %d drones reporting; swarm time ±%v",
			j, sn.Leader, sn.Term, len(sn.LiveDrones()), sn.TimeBound.Round(time.Millisecond))
	}
	res.elected = time.Since(born)

	hash, err := fl.show.Hash()
	if err != nil {
		return res, err
	}
	// send commits c(j) on every network j.
	send := func(c func(j int) command.Command) error {
		for j, s := range stations {
			c := c(j)
			t0 := time.Now()
			r, err := s.Send(ctx, c)
			dash.Record(s.Network(), c, r, err)
			if err != nil {
				return fmt.Errorf("network %d: %v: %w", j, c, err)
			}
			p, err := s.WaitApplied(ctx, r.Index)
			if err != nil {
				return fmt.Errorf("network %d: %v: %s: %w", j, c, p, err)
			}
			res.commands = append(res.commands, sentCommand{network: uint8(j), cmd: c, res: r, applied: time.Since(t0), prog: p})
			fl.progress("network %d: %v committed at index %d by leader %d, applied by %d drones in %.1f s",
				j, c, r.Index, r.Leader, len(p.Applied), time.Since(t0).Seconds())
		}
		return nil
	}
	if err := send(func(int) command.Command { return command.Load{Show: 1, Digest: hash.Digest()} }); err != nil {
		return res, err
	}
	if err := send(func(int) command.Command { return command.Arm{} }); err != nil {
		return res, err
	}
	// One START instant for every network: each network's swarm time is
	// its own leader's, so the ground station, which follows every
	// leader's time, gives each network that instant in its own time.
	instant := time.Now().Add(fl.flags.lead)
	for _, s := range stations {
		t, bound, _ := s.SwarmTime(instant)
		res.startAt = append(res.startAt, t)
		res.bounds += bound
	}
	for j, t := range res.startAt {
		dash.Started(uint8(j), t)
		res.offsets = max(res.offsets, t.Sub(res.startAt[0]).Abs())
	}
	if err := send(func(j int) command.Command { return command.Start{At: res.startAt[j].UnixNano()} }); err != nil {
		return res, err
	}
	at := res.startAt[0]
	if len(stations) > 1 {
		fl.progress("START in %v on every network; their swarm times differ by up to %v", fl.flags.lead, res.offsets.Round(time.Millisecond))
	} else {
		fl.progress("START at swarm time %s (in %v)", at.UTC().Format("15:04:05.000"), fl.flags.lead)
	}

	// Follow the show until every drone is down again.
	end := at.Add(fl.show.Duration())
	lastPrint := time.Time{}
	err = waitFor(ctx, 250*time.Millisecond, func() bool {
		t, _, _ := stations[0].SwarmTime(time.Now())
		if t.Before(end) {
			return false
		}
		for _, s := range stations {
			for _, d := range s.Snapshot().Drones {
				if d.Live && d.State != swarm.SWARM_MEMBER_STATE_STANDBY {
					return false
				}
			}
		}
		return true
	}, func() {
		if time.Since(lastPrint) < 5*time.Second {
			return
		}
		lastPrint = time.Now()
		t, _, _ := stations[0].SwarmTime(time.Now())
		counts := map[swarm.SWARM_MEMBER_STATE]int{}
		for _, s := range stations {
			for _, d := range s.Snapshot().Drones {
				if d.Live {
					counts[d.State]++
				}
			}
		}
		fl.progress("show %5.1f / %.1f s: %s", max(t.Sub(at), 0).Seconds(), fl.show.Duration().Seconds(), stateCounts(counts))
	})
	for _, s := range stations {
		sn := s.Snapshot()
		res.last = append(res.last, sn)
		for _, d := range sn.Drones {
			if d.Live && d.State == swarm.SWARM_MEMBER_STATE_STANDBY {
				res.landed++
			}
		}
	}
	if err != nil {
		return res, fmt.Errorf("waiting for the show to end and every drone to land: %w", err)
	}
	fl.progress("every drone has landed")
	return res, nil
}

// stateCounts writes "8 flying, 2 landing".
func stateCounts(c map[swarm.SWARM_MEMBER_STATE]int) string {
	var keys []swarm.SWARM_MEMBER_STATE
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := ""
	for _, k := range keys {
		if out != "" {
			out += ", "
		}
		out += fmt.Sprintf("%d %s", c[k], station.StateName(k))
	}
	if out == "" {
		return "no drone reporting"
	}
	return out
}

// waitFor calls done every period until it returns true, calling tick
// between tries, or until ctx ends.
func waitFor(ctx context.Context, period time.Duration, done func() bool, tick func()) error {
	t := time.NewTicker(period)
	defer t.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if tick != nil {
				tick()
			}
		}
	}
	return nil
}

// summary prints the run's figures.
func summary(w io.Writer, f sitlFlags, sw *live.Swarm, h *hub.Hub, res flightResult, wall time.Duration) {
	fmt.Fprintf(w, "\nsummary: %d drones on %d network(s) at %d baud, loss %.0f%%, wall time %.1f s\n",
		f.drones, f.networks, f.baud, 100*f.loss, wall.Seconds())
	if res.elected > 0 {
		fmt.Fprintf(w, "  leader on every network after %.1f s\n", res.elected.Seconds())
	}
	for _, c := range res.commands {
		fmt.Fprintf(w, "  network %d: %-28v index %3d, %d attempt(s), applied by %d drones in %.1f s\n",
			c.network, c.cmd, c.res.Index, c.res.Attempts, len(c.prog.Applied), c.applied.Seconds())
	}
	if f.networks > 1 {
		fmt.Fprintf(w, "  networks' swarm times differ by up to %v; START given in each one's own (estimates within ±%v)\n",
			res.offsets.Round(time.Millisecond), res.bounds.Round(time.Millisecond))
	}
	if sk, ok := showSkew(sw, res.startAt); ok && f.networks > 1 {
		fmt.Fprintf(w, "  show time, any two drones at one instant (10 Hz, from their journals): within a network %.1f ms, across networks %.1f ms\n",
			float64(sk.within)/1e6, float64(sk.across)/1e6)
	} else if ok {
		fmt.Fprintf(w, "  show time, any two drones at one instant (10 Hz, from their journals): within %.1f ms\n", float64(sk.within)/1e6)
	}
	status := map[uint16]station.Drone{}
	for _, sn := range res.last {
		for _, d := range sn.Drones {
			status[d.ID] = d
		}
	}
	hc := h.Counters()
	air := map[[2]int]hub.EndpointCounters{}
	for _, n := range hc.Networks {
		for _, e := range n.Endpoints {
			air[[2]int{n.Network, int(e.SystemID)}] = e
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  drone\tnet\tstate\tbattery\tclock offset\tdrift ppm\tCPU s\tframes\tairtime\t")
	var cpu []time.Duration
	procs := sw.Procs()
	sort.Slice(procs, func(i, j int) bool { return procs[i].ID < procs[j].ID })
	for _, p := range procs {
		d := status[p.ID]
		e := air[[2]int{int(p.Network) + 1, int(p.ID) - 250*int(p.Network)}]
		cpu = append(cpu, p.CPU())
		state := "-"
		if d.Reported {
			state = station.StateName(d.State)
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%d%%\t%+.0f ms\t%+.1f\t%.1f\t%d\t%.3f\t\n", p.ID, p.Network, state, d.Battery,
			float64(p.Offset)/1e6, p.Drift, p.CPU().Seconds(), e.Frames, e.AirtimeShare)
	}
	tw.Flush()
	if len(cpu) > 0 {
		slices.Sort(cpu)
		var sum time.Duration
		for _, c := range cpu {
			sum += c
		}
		fmt.Fprintf(w, "  CPU per drone process: mean %.1f s, max %.1f s (%.1f%% of one core on average)\n",
			(sum / time.Duration(len(cpu))).Seconds(), cpu[len(cpu)-1].Seconds(),
			100*float64(sum)/float64(len(cpu))/float64(wall))
	}
	var worst float64
	worstID := uint16(0)
	for _, p := range procs {
		if j, err := live.ReadJournal(p.Journal); err == nil {
			if m, ok := j.MissedTicks(10 * time.Millisecond); ok && m >= worst {
				worst, worstID = m, p.ID
			}
		}
	}
	if worstID != 0 {
		fmt.Fprintf(w, "  real time kept: the worst drone (%d) missed %.2f%% of its 10 ms ticks\n", worstID, 100*worst)
	}
	for _, n := range hc.Networks {
		fmt.Fprintf(w, "  network %d channel: %d frames, airtime share %.3f (busiest 10 s %.3f), lost %d, queue drops %d\n",
			n.Network-1, n.Frames, n.AirtimeShare, n.BusiestShare, n.Lost, n.QueueDrops)
	}
	fmt.Fprintf(w, "  landed: %d of %d\n", res.landed, f.drones)
}

// skew is the spread of show time over the drones at one instant.
type skew struct{ within, across time.Duration }

// showSkew reads the drones' journals and returns the largest difference
// of show time (swarm time less its network's START) between two drones
// of one network, and between two drones of different networks, at 10 Hz
// over the show.
func showSkew(sw *live.Swarm, startAt []time.Time) (skew, bool) {
	if len(startAt) == 0 {
		return skew{}, false
	}
	var js []*live.Journal
	var nets []uint8
	for _, p := range sw.Procs() {
		j, err := live.ReadJournal(p.Journal)
		if err != nil || len(j.Clock) == 0 {
			continue
		}
		js, nets = append(js, j), append(nets, p.Network)
	}
	var from, to time.Time
	for i, j := range js {
		for _, c := range j.Clock {
			// The show runs from its network's START.
			if c.Synced && !c.Swarm.Before(startAt[nets[i]]) && (from.IsZero() || c.Real.Before(from)) {
				from = c.Real
			}
		}
		if last := j.Clock[len(j.Clock)-1].Real; to.IsZero() || last.Before(to) {
			to = last
		}
	}
	var out skew
	any := false
	for at := from; !from.IsZero() && at.Before(to); at = at.Add(100 * time.Millisecond) {
		show := make([]time.Duration, len(js))
		ok := true
		for i, j := range js {
			st, have := j.SwarmAt(at, 300*time.Millisecond)
			if !have {
				ok = false
				break
			}
			show[i] = st.Sub(startAt[nets[i]])
		}
		if !ok {
			continue
		}
		any = true
		for a := range js {
			for b := a + 1; b < len(js); b++ {
				d := (show[a] - show[b]).Abs()
				if nets[a] == nets[b] {
					out.within = max(out.within, d)
				} else {
					out.across = max(out.across, d)
				}
			}
		}
	}
	return out, any
}
