package live_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/sitl/hub"
	"github.com/skyquorum/skyquorum/sitl/live"
	swarmnode "github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// rig is a live swarm on a hub with a ground station.
type rig struct {
	t    *testing.T
	seed uint64
	hub  *hub.Hub
	sw   *live.Swarm
	gs   *station.Station
}

// newRig starts drones drone processes on a hub at 57600 baud with loss,
// and a ground station.
func newRig(t *testing.T, drones int, loss float64, seed uint64) *rig {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := hub.Start(hub.Config{Baud: 57600, Loss: loss, Seed: seed, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	sw, err := live.Start(live.Config{Drones: drones, Program: program(t), Dir: t.TempDir(), Seed: seed,
		HubAddr: func(int) string { return h.Addr(1) }, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { sw.Stop() })
	key, err := wire.LoadKeyFile(sw.KeyFile())
	require.NoError(t, err)
	l, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0", Peers: []string{h.Addr(1)}, Hub: true})
	require.NoError(t, err)
	gs, err := station.Open(station.Config{Link: l, Key: key, Network: 0, Baud: 57600, Members: sw.Members(0), Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { gs.Close() })
	for _, p := range sw.Procs() {
		t.Logf("drone %d: clock offset %+.1f ms, drift %+.1f ppm", p.ID, float64(p.Offset)/1e6, p.Drift)
	}
	return &rig{t: t, seed: seed, hub: h, sw: sw, gs: gs}
}

// leader waits until every live drone reports following one leader that
// reports itself leading, and returns it.
func (r *rig) leader(within time.Duration, not uint16) uint16 {
	r.t.Helper()
	var id uint16
	ok := waitUntil(within, 100*time.Millisecond, func() bool {
		id = agreed(r.sw, not)
		return id != 0
	})
	if !ok {
		r.t.Fatalf("seed %d: no leader every live drone follows within %v", r.seed, within)
	}
	return id
}

// agreed reads the journals: the leader every running drone's latest
// reading follows while that leader reads itself leading, or 0.
func agreed(sw *live.Swarm, not uint16) uint16 {
	var id uint16
	for _, p := range sw.Procs() {
		if !p.Running() {
			continue
		}
		j, err := live.ReadJournal(p.Journal)
		if err != nil || len(j.Clock) == 0 {
			return 0
		}
		c := j.Clock[len(j.Clock)-1]
		if c.Leader == 0 || c.Leader == not || (id != 0 && c.Leader != id) {
			return 0
		}
		id = c.Leader
	}
	if l := sw.Proc(id); l == nil || !l.Running() {
		return 0
	}
	j, err := live.ReadJournal(sw.Proc(id).Journal)
	if err != nil || len(j.Clock) == 0 || !j.Clock[len(j.Clock)-1].Leading {
		return 0
	}
	return id
}

func waitUntil(within, every time.Duration, f func() bool) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if f() {
			return true
		}
		time.Sleep(every)
	}
	return f()
}

// applied returns drone p's applied operator commands in log order, as
// "issuer/seq command", skipping the names it had already applied (the
// drones carry out a name once), and the number of duplicates skipped.
func applied(t *testing.T, j *live.Journal) (names []string, dups int) {
	seen := map[swarmnode.OperatorID]bool{}
	last := uint32(0)
	for _, a := range j.Applied {
		if a.Index <= last {
			continue // a restarted drone applies its log again from index 1
		}
		last = a.Index
		kind, data, _ := strings.Cut(a.Data, ":")
		if kind != fmt.Sprint(int(cmdlog.KindCommand)) {
			continue
		}
		b, err := hex.DecodeString(data)
		require.NoError(t, err)
		e, err := swarmnode.DecodeEntry(b)
		if err != nil || e.Operator.Issuer == 0 {
			continue
		}
		if seen[e.Operator] {
			dups++
			continue
		}
		seen[e.Operator] = true
		names = append(names, e.Operator.String()+" "+e.Command.String())
	}
	return names, dups
}

// TestLiveSwarm is the live SITL acceptance test: ten drone processes on
// a radio hub at 57600 baud losing 5% of frames at every receiver, each
// with its own clock error. They elect one leader; the leader's process
// is killed (SIGKILL) while the ground station sends 100 commands, and a
// new leader takes over; every surviving drone applies the 100 commands
// in one order, each once. Two drones told to take one airspace cell hold
// it one at a time (their journals' lock events converted to real time
// with each process's clock error), and every two drones agree on swarm
// time within 50 ms.
func TestLiveSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ten drone processes in real time for minutes")
	}
	const seed = 1
	r := newRig(t, 10, 0.05, seed)
	born := time.Now()
	lead := r.leader(3*time.Minute, 0)
	t.Logf("leader %d, followed by every drone %.1f s after the start", lead, time.Since(born).Seconds())
	require.True(t, waitUntil(time.Minute, 200*time.Millisecond, func() bool {
		l, _ := r.gs.Leader()
		_, _, synced := r.gs.SwarmTime(time.Now())
		return l == lead && synced
	}), "seed %d: the ground station learns leader %d and the swarm time", seed, lead)

	// 100 commands, the leader killed after the 30th.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var want []string
	var killed time.Time
	for i := range 100 {
		if i == 30 {
			require.NoError(t, r.sw.Kill(lead))
			killed = time.Now()
			t.Logf("killed leader %d (SIGKILL) after 30 commands", lead)
		}
		c := command.Lights{R: uint8(i), G: uint8(2 * i), B: uint8(3 * i)}
		res, err := r.gs.Send(ctx, c)
		require.NoError(t, err, "seed %d: command %d", seed, i)
		want = append(want, fmt.Sprintf("%d/%d %v", r.gs.Issuer(), res.Seq, c))
		if i == 30 {
			t.Logf("command 31 accepted %.1f s after the kill, by leader %d in term %d after %d attempts",
				time.Since(killed).Seconds(), res.Leader, res.Term, res.Attempts)
		}
	}
	newLead := r.leader(time.Minute, lead)
	t.Logf("new leader %d", newLead)
	// Every surviving drone applies all 100.
	var survivors []*live.Proc
	for _, p := range r.sw.Procs() {
		if p.ID != lead {
			survivors = append(survivors, p)
		}
	}
	ok := waitUntil(time.Minute, 250*time.Millisecond, func() bool {
		for _, p := range survivors {
			j, err := live.ReadJournal(p.Journal)
			if err != nil {
				return false
			}
			if names, _ := applied(t, j); len(names) < len(want) {
				return false
			}
		}
		return true
	})
	// The failover, from the journals: the first reading after the kill
	// at which every survivor follows the new leader.
	var takeover time.Time
	for _, p := range survivors {
		j, err := live.ReadJournal(p.Journal)
		require.NoError(t, err)
		for _, c := range j.Clock {
			if c.Real.After(killed) && c.Leader == newLead {
				if c.Real.After(takeover) {
					takeover = c.Real
				}
				break
			}
		}
	}
	t.Logf("failover: every surviving drone follows leader %d %.2f s after the kill", newLead, takeover.Sub(killed).Seconds())
	for _, p := range survivors {
		j, err := live.ReadJournal(p.Journal)
		require.NoError(t, err)
		names, dups := applied(t, j)
		assert.Equal(t, want, names, "seed %d: drone %d applies the 100 commands in the order sent, each once", seed, p.ID)
		if dups > 0 {
			t.Logf("drone %d skipped %d commands committed twice", p.ID, dups)
		}
	}
	require.True(t, ok, "seed %d: every surviving drone applied the 100 commands", seed)

	// Two drones take one cell.
	a, b := survivors[0], survivors[1]
	require.NoError(t, a.Control("acquire 7"))
	require.NoError(t, b.Control("acquire 7"))
	holds := func(p *live.Proc) []live.Hold {
		j, err := live.ReadJournal(p.Journal)
		require.NoError(t, err)
		return j.Holds
	}
	for _, p := range []*live.Proc{a, b} {
		// Whoever holds the cell keeps it 2 s and releases it; then the
		// other gets it.
		var first *live.Proc
		require.True(t, waitUntil(2*time.Minute, 50*time.Millisecond, func() bool {
			for _, q := range []*live.Proc{a, b} {
				if h := holds(q); len(h) > 0 && h[len(h)-1].To.IsZero() {
					first = q
					return true
				}
			}
			return false
		}), "seed %d: a drone gets cell 7 (round for drone %d)", seed, p.ID)
		time.Sleep(2 * time.Second)
		require.NoError(t, first.Control("release"))
		require.True(t, waitUntil(30*time.Second, 50*time.Millisecond, func() bool {
			h := holds(first)
			return !h[len(h)-1].To.IsZero()
		}))
	}
	ha, hb := holds(a), holds(b)
	require.Len(t, ha, 1, "drone %d held the cell once", a.ID)
	require.Len(t, hb, 1, "drone %d held the cell once", b.ID)
	for _, x := range ha {
		for _, y := range hb {
			assert.True(t, !x.From.Before(y.To) || !y.From.Before(x.To),
				"seed %d: drones %d and %d held cell 7 at once: %v–%v and %v–%v", seed, a.ID, b.ID,
				x.From.Format("15:04:05.000"), x.To.Format("15:04:05.000"), y.From.Format("15:04:05.000"), y.To.Format("15:04:05.000"))
		}
	}
	gap := hb[0].From.Sub(ha[0].To)
	if hb[0].From.Before(ha[0].From) {
		gap = ha[0].From.Sub(hb[0].To)
	}
	t.Logf("cell 7: drone %d held it %.2f s, drone %d %.2f s, %.0f ms apart",
		a.ID, ha[0].To.Sub(ha[0].From).Seconds(), b.ID, hb[0].To.Sub(hb[0].From).Seconds(), float64(gap)/1e6)

	// Swarm time agreement, at 10 Hz, between every two surviving drones,
	// from 10 s after the last of them first synchronised (the first
	// seconds are reported apart: each drone's first estimate comes from
	// one exchange with the leader on a channel every drone is asking on).
	var journals []*live.Journal
	var allSynced time.Time
	for _, p := range survivors {
		j, err := live.ReadJournal(p.Journal)
		require.NoError(t, err)
		journals = append(journals, j)
		for _, c := range j.Clock {
			if c.Synced {
				if c.Real.After(allSynced) {
					allSynced = c.Real
				}
				break
			}
		}
	}
	spread := func(from, to time.Time) (worst time.Duration, at time.Time, lo, hi uint16, samples int) {
		for t0 := from; t0.Before(to); t0 = t0.Add(100 * time.Millisecond) {
			var min, max time.Time
			var minID, maxID uint16
			n := 0
			for _, j := range journals {
				st, ok := j.SwarmAt(t0, 300*time.Millisecond)
				if !ok {
					continue
				}
				n++
				if min.IsZero() || st.Before(min) {
					min, minID = st, j.ID
				}
				if max.IsZero() || st.After(max) {
					max, maxID = st, j.ID
				}
			}
			if n < len(journals) {
				continue
			}
			samples++
			if d := max.Sub(min); d > worst {
				worst, at, lo, hi = d, t0, minID, maxID
			}
		}
		return
	}
	early, _, _, _, _ := spread(allSynced, allSynced.Add(10*time.Second))
	worst, at, lo, hi, samples := spread(allSynced.Add(10*time.Second), time.Now().Add(-time.Second))
	t.Logf("swarm time: every drone synchronised %.1f s after the start; in the 10 s after, the worst difference between two drones was %.1f ms",
		allSynced.Sub(born).Seconds(), float64(early)/1e6)
	t.Logf("swarm time from then on: worst difference between two drones %.1f ms (drones %d and %d, %.1f s after the leader's kill) over %d instants at 10 Hz",
		float64(worst)/1e6, lo, hi, at.Sub(killed).Seconds(), samples)
	assert.Positive(t, samples)
	assert.LessOrEqual(t, worst, 50*time.Millisecond, "seed %d: drones agree on swarm time within 50 ms", seed)
}

// holdsOf reads drone p's hold intervals from its journal.
func holdsOf(t *testing.T, p *live.Proc) []live.Hold {
	j, err := live.ReadJournal(p.Journal)
	require.NoError(t, err)
	return j.Holds
}

// TestLivePartition cuts a minority of three drones (the leader and a
// drone holding an airspace cell among them) off through the hub. The
// majority elects a leader and commits commands; a majority drone asks
// for the cell and gets it only after the cut-off holder has stopped
// holding it (its lease ran out: it could not renew). After the heal, the
// minority follows the majority's leader and applies what was committed
// meanwhile.
func TestLivePartition(t *testing.T) {
	if testing.Short() {
		t.Skip("runs seven drone processes in real time for minutes")
	}
	const seed = 2
	r := newRig(t, 7, 0.05, seed)
	lead := r.leader(3*time.Minute, 0)
	var holder, taker *live.Proc
	var minority, majority []uint8
	minority = append(minority, uint8(lead))
	for _, p := range r.sw.Procs() {
		switch {
		case p.ID == lead:
		case holder == nil:
			holder = p
			minority = append(minority, uint8(p.ID))
		case len(minority) < 3:
			minority = append(minority, uint8(p.ID))
		default:
			if taker == nil {
				taker = p
			}
			majority = append(majority, uint8(p.ID))
		}
	}
	majority = append(majority, 255) // the ground station
	require.NoError(t, holder.Control("acquire 7"))
	require.True(t, waitUntil(time.Minute, 50*time.Millisecond, func() bool {
		h := holdsOf(t, holder)
		return len(h) == 1 && h[0].To.IsZero()
	}), "seed %d: drone %d gets cell 7", seed, holder.ID)

	r.hub.Partition(1, minority, majority)
	cut := time.Now()
	t.Logf("partition: minority %v (leader %d, drone %d holding cell 7), majority %v", minority, lead, holder.ID, majority)
	require.NoError(t, taker.Control("acquire 7"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var want []string
	for i := range 5 {
		c := command.Lights{R: 200, G: uint8(i), B: 0}
		res, err := r.gs.Send(ctx, c)
		require.NoError(t, err, "seed %d: the majority commits command %d", seed, i)
		want = append(want, fmt.Sprintf("%d/%d %v", r.gs.Issuer(), res.Seq, c))
	}
	l, term := r.gs.Leader()
	t.Logf("the majority committed 5 commands under leader %d (term %d), %.1f s after the cut", l, term, time.Since(cut).Seconds())
	assert.NotContains(t, minority, uint8(l), "seed %d: the majority's leader is one of its own", seed)
	require.True(t, waitUntil(2*time.Minute, 50*time.Millisecond, func() bool {
		h := holdsOf(t, taker)
		return len(h) == 1
	}), "seed %d: majority drone %d gets cell 7", seed, taker.ID)
	hh, ht := holdsOf(t, holder), holdsOf(t, taker)
	require.Len(t, hh, 1)
	require.False(t, hh[0].To.IsZero(), "seed %d: cut-off drone %d still holds cell 7 while drone %d holds it", seed, holder.ID, taker.ID)
	assert.True(t, hh[0].To.Before(ht[0].From), "seed %d: drone %d held cell 7 until %v, drone %d from %v", seed,
		holder.ID, hh[0].To.Format("15:04:05.000"), taker.ID, ht[0].From.Format("15:04:05.000"))
	t.Logf("cell 7: the cut-off drone %d stopped holding it %.1f s after the cut; drone %d got it %.1f s after that",
		holder.ID, hh[0].To.Sub(cut).Seconds(), taker.ID, ht[0].From.Sub(hh[0].To).Seconds())
	require.NoError(t, taker.Control("release"))

	r.hub.Heal(1)
	healed := time.Now()
	for _, id := range minority {
		p := r.sw.Proc(uint16(id))
		ok := waitUntil(2*time.Minute, 250*time.Millisecond, func() bool {
			j, err := live.ReadJournal(p.Journal)
			if err != nil {
				return false
			}
			names, _ := applied(t, j)
			return len(names) >= len(want)
		})
		j, err := live.ReadJournal(p.Journal)
		require.NoError(t, err)
		names, _ := applied(t, j)
		require.True(t, ok, "seed %d: drone %d caught up with the log after the heal: %v", seed, id, names)
		assert.Equal(t, want, names, "seed %d: drone %d", seed, id)
	}
	t.Logf("after the heal the minority applied the 5 commands within %.1f s", time.Since(healed).Seconds())
	assert.NotZero(t, r.leader(time.Minute, 0), "seed %d: one leader again", seed)
}
