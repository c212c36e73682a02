package airspace

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
)

func members(n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(i + 1)
	}
	return out
}

func group(t *testing.T, n int, cfg Config) (map[algorithms.NodeID]*Locks, *algtest.Net) {
	t.Helper()
	q := mutex.Best(members(n))
	cores := map[algorithms.NodeID]*Locks{}
	plain := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range members(n) {
		c := cfg
		c.ID, c.Quorums = id, q
		l, err := New(c)
		require.NoError(t, err)
		cores[id], plain[id] = l, l
	}
	return cores, algtest.New(1, plain)
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	q := mutex.Best(members(7))
	l, err := New(Config{ID: 1, Quorums: q})
	require.NoError(t, err)
	assert.Equal(t, int64(3), l.GuardTicks(), "⌈1000 × 200 ppm⌉ + 2")
	assert.Equal(t, 100, l.cfg.MarginTicks)
	assert.Equal(t, 300, l.cfg.RenewTicks)
	for _, cfg := range []Config{
		{ID: 9, Quorums: q},
		{ID: 1, Quorums: q, LeaseTicks: 1},
		{ID: 1, Quorums: q, LeaseTicks: 10, MarginTicks: 10},
		{ID: 1, Quorums: q, LeaseTicks: 10, RenewTicks: 20},
		{ID: 1, Quorums: q, DriftPPM: -1},
	} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrConfig, "%+v", cfg)
	}
}

func TestMessageSizes(t *testing.T) {
	for m, want := range map[algorithms.Message]int{
		Request{}: 15, Yes{}: 23, Inquire{}: 15, Relinquish{}: 15, Release{}: 11, Renew{}: 15,
	} {
		assert.Equal(t, want, m.Size(), m.Kind())
	}
}

// One drone takes a path of several cells, renews its lease while it
// holds them for several leases, and releases; nobody votes during the
// quiet period after the start.
func TestAcquireRenewRelease(t *testing.T) {
	cores, net := group(t, 13, Config{LeaseTicks: 100})
	var events []algtest.NodeEvent
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		events = append(events, algtest.NodeEvent{ID: id, Event: ev})
	}
	require.NoError(t, cores[4].Acquire([]Cell{9, 2, 9, 5}))
	assert.ErrorIs(t, cores[4].Acquire([]Cell{1}), ErrBusy)
	assert.Equal(t, []Cell{2, 5, 9}, cores[4].Cells())
	net.Collect()
	quiet := 100 + int(cores[1].GuardTicks())
	net.RunTicks(quiet - 1)
	require.Empty(t, events, "no vote in the quiet period")
	net.RunTicks(2)
	require.Len(t, events, 1)
	acq := events[0].Event.(Acquired)
	assert.Equal(t, algorithms.NodeID(4), events[0].ID)
	assert.Equal(t, []Cell{2, 5, 9}, acq.Cells)
	assert.True(t, cores[4].Holding())

	// Held for five leases: renewals keep it, no expiry anywhere.
	net.RunTicks(500)
	assert.Len(t, events, 1, "%v", events)
	leave, ok := cores[4].LeaveBy()
	require.True(t, ok)
	assert.Greater(t, leave, cores[4].Now())
	assert.Greater(t, cores[4].Counters().Renewals, 3*5)

	require.NoError(t, cores[4].Release())
	assert.ErrorIs(t, cores[4].Release(), ErrNotHeld)
	net.RunTicks(5)
	for id, c := range cores {
		assert.Empty(t, c.voters, "drone %d still votes", id)
	}
}

// contention drives every drone through rounds of acquisitions of random
// paths over a few cells with algtest's seeded interleavings, checking
// ME1 at every grant and that every acquisition completes (no deadlock
// across cells, thanks to the global order).
func TestContentionME1AndLiveness(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		cores, net := group(t, 9, Config{LeaseTicks: 200})
		rng := rand.New(rand.NewPCG(seed, 9))
		holder := map[Cell]algorithms.NodeID{}
		left := map[algorithms.NodeID]int{}
		holdFor := map[algorithms.NodeID]int{}
		for id := range cores {
			left[id] = 3
		}
		net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
			switch ev := ev.(type) {
			case Acquired:
				for _, c := range ev.Cells {
					require.Zero(t, holder[c], "seed=%d: ME1: drone %d got cell %d held by %d", seed, id, c, holder[c])
					holder[c] = id
				}
				holdFor[id] = 1 + rng.IntN(30)
			case Expired:
				t.Fatalf("seed=%d: drone %d lost its lease without a fault", seed, id)
			}
		}
		ids := members(9)
		for tick := 0; tick < 20000; tick++ {
			for _, id := range ids {
				c := cores[id]
				switch {
				case c.Holding():
					holdFor[id]--
					if holdFor[id] <= 0 {
						for cell, h := range holder {
							if h == id {
								delete(holder, cell)
							}
						}
						require.NoError(t, c.Release())
						left[id]--
					}
				case c.acq == nil && left[id] > 0:
					var path []Cell
					for range 1 + rng.IntN(3) {
						path = append(path, Cell(rng.IntN(4)))
					}
					require.NoError(t, c.Acquire(path))
				}
			}
			net.Collect()
			net.Run(1 << 20)
			net.Tick()
			done := true
			for _, n := range left {
				done = done && n == 0
			}
			if done {
				break
			}
		}
		for id, n := range left {
			require.Zero(t, n, "seed=%d: drone %d has %d acquisitions unfinished", seed, id, n)
		}
	}
}

// A holder whose messages are all lost leaves (Expired) strictly before a
// waiting drone is granted the cell, and the voters' votes run out after.
func TestCutOffHolderLeavesFirst(t *testing.T) {
	cores, net := group(t, 7, Config{LeaseTicks: 100})
	var log []string
	at := map[string]int{}
	tick := 0
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev.(type) {
		case Acquired:
			k := "acquired" + string(rune('0'+id))
			at[k] = tick
			log = append(log, k)
		case Expired:
			k := "expired" + string(rune('0'+id))
			at[k] = tick
			log = append(log, k)
		case VoteExpired:
			log = append(log, "vote-expired")
		}
	}
	require.NoError(t, cores[3].Acquire([]Cell{1}))
	for ; tick < 200 && !cores[3].Holding(); tick++ {
		net.RunTicks(1)
	}
	require.True(t, cores[3].Holding())
	// Drone 3 falls silent both ways; drone 6 wants the cell.
	net.Drop = func(from, to algorithms.NodeID, _ algorithms.Message) bool { return from == 3 || to == 3 }
	require.NoError(t, cores[6].Acquire([]Cell{1}))
	for ; tick < 600 && !cores[6].Holding(); tick++ {
		net.RunTicks(1)
	}
	require.True(t, cores[6].Holding(), "%v", log)
	require.Less(t, at["expired3"], at["acquired6"], "%v", log)
	t.Logf("ticks: expired3 %d acquired6 %d; %v", at["expired3"], at["acquired6"], log)
	i := slices.Index(log, "expired3")
	j := slices.Index(log, "vote-expired")
	assert.True(t, i >= 0 && j > i, "the holder leaves before any vote runs out: %v", log)
}

// Stale messages change nothing: a YES for a vote given back, a RELEASE of
// a request that is not the candidate's, a RELINQUISH of another grant.
func TestStaleMessages(t *testing.T) {
	cores, _ := group(t, 7, Config{LeaseTicks: 10})
	l := cores[1]
	for range 20 {
		l.Tick()
	}
	q := l.Quorum()
	require.Greater(t, len(q), 1)
	peer := q[len(q)-1]
	if peer == 1 {
		peer = q[0]
	}
	require.NoError(t, l.Acquire([]Cell{3}))
	r := l.reqs[3]
	r.relinquished[peer] = 5
	require.NoError(t, l.Step(peer, Yes{Cell: 3, TS: r.stamp.T, Grant: 5, Sent: uint32(l.now), Lease: 10}))
	assert.NotContains(t, r.votes, peer)
	assert.Equal(t, 1, l.Counters().Stale)
	require.NoError(t, l.Step(peer, Yes{Cell: 3, TS: r.stamp.T + 7, Grant: 9, Sent: 0, Lease: 10}))
	assert.Equal(t, 2, l.Counters().Stale)
	require.NoError(t, l.Step(peer, Yes{Cell: 3, TS: r.stamp.T, Grant: 6, Sent: uint32(l.now), Lease: 10}))
	assert.Contains(t, r.votes, peer)
	// A YES for a cell nobody asked for is not released from here: it may
	// be the previous incarnation's vote.
	l.Ready()
	require.NoError(t, l.Step(peer, Yes{Cell: 8, TS: 1, Grant: 1, Sent: 0, Lease: 10}))
	assert.Empty(t, l.Ready().Sends)
	assert.Equal(t, 3, l.Counters().Stale)
	assert.Error(t, l.Step(1, Release{}))
	assert.ErrorIs(t, l.Step(peer, other{}), algorithms.ErrUnknownMessage)
}

type other struct{}

func (other) Kind() string { return "OTHER" }
func (other) Size() int    { return 1 }

// A vote for another incarnation's request, or one echoing a send time
// this incarnation's tick count has not reached, is not counted: times of
// a past incarnation mean nothing to this one.
func TestVotesOfOtherIncarnationsAreStale(t *testing.T) {
	q := mutex.Best(members(7))
	l, err := New(Config{ID: 1, Incarnation: 5, Quorums: q, LeaseTicks: 100})
	require.NoError(t, err)
	for range 20 {
		l.Tick()
	}
	require.NoError(t, l.Acquire([]Cell{1}))
	voter := l.others[0]
	for _, m := range []Yes{
		{Cell: 1, TS: 1, Grant: 1, Sent: 20, Lease: 100, Inc: 4},  // the previous incarnation's
		{Cell: 1, TS: 1, Grant: 2, Sent: 900, Lease: 100, Inc: 5}, // a send time still to come
	} {
		require.NoError(t, l.Step(voter, m))
		assert.NotContains(t, l.reqs[1].votes, voter, "%+v counted", m)
	}
	assert.Equal(t, 2, l.Counters().Stale)
	require.NoError(t, l.Step(voter, Yes{Cell: 1, TS: 1, Grant: 3, Sent: 20, Lease: 100, Inc: 5}))
	assert.Contains(t, l.reqs[1].votes, voter)
	assert.Equal(t, 2, l.Counters().Stale)
}

// On a channel busier than BusyShare a new acquisition sends nothing: its
// first REQUEST waits until the channel is less busy, or WaitTicks at most.
func TestBusyChannelHoldsBackAcquisition(t *testing.T) {
	const tick = int64(10_000_000)
	q := mutex.Best(members(9))
	newCore := func() *Locks {
		l, err := New(Config{ID: 1, Quorums: q, LeaseTicks: 100, TickNanos: tick, BusyShare: 0.3})
		require.NoError(t, err)
		return l
	}
	var busy int64
	run := func(l *Locks, share float64, ticks int) (requests int) {
		for range ticks {
			busy += int64(share * float64(tick))
			l.ChannelBusy(busy)
			l.Tick()
			for _, s := range l.Ready().Sends {
				if _, ok := s.Msg.(Request); ok {
					requests++
				}
			}
		}
		return requests
	}

	l := newCore()
	run(l, 0.8, 400)
	assert.InDelta(t, 0.8, l.BusyShare(), 0.02)
	require.NoError(t, l.Acquire([]Cell{4}))
	assert.Empty(t, l.Ready().Sends, "a REQUEST on a busy channel")
	assert.Equal(t, 1, l.Counters().HeldBack)
	assert.Zero(t, run(l, 0.8, 50))
	// The channel quietens: as the average falls, so does the wait it
	// asks (holdTicks), and the REQUEST goes once the drone has waited
	// that long, before the average is below 0.3 (about 130 ticks).
	assert.Zero(t, run(l, 0.1, 30))
	assert.Equal(t, 1, run(l, 0.1, 70))
	assert.Greater(t, l.BusyShare(), 0.3)

	// A channel that stays busy delays it by BusyHoldTicks at most.
	busy = 0
	l, err := New(Config{ID: 1, Quorums: q, LeaseTicks: 100, TickNanos: tick, BusyShare: 0.3, BusyHoldTicks: 400})
	require.NoError(t, err)
	run(l, 0.8, 400)
	require.NoError(t, l.Acquire([]Cell{4}))
	assert.Zero(t, run(l, 0.8, 399))
	assert.Equal(t, 1, run(l, 0.8, 2))

	// Without BusyShare the REQUEST goes at once.
	l, err = New(Config{ID: 1, Quorums: q, LeaseTicks: 100, TickNanos: tick})
	require.NoError(t, err)
	busy = 0
	run(l, 0.8, 400)
	require.NoError(t, l.Acquire([]Cell{4}))
	assert.Len(t, l.Ready().Sends, 1)
}

// A held-back acquisition waits for a busy channel the longer the busier
// it is: WaitTicks × (share − BusyShare)/BusyShare, so that a channel just
// above its budget delays crossings little and one far above it starts
// few. A fixed wait of WaitTicks let every held-back drone start after it
// on a channel that stayed busy, which kept it busy.
func TestBusyHoldGrowsWithShare(t *testing.T) {
	const tick = int64(10_000_000)
	q := mutex.Best(members(9))
	wait := func(share float64) int {
		l, err := New(Config{ID: 1, Quorums: q, LeaseTicks: 100, TickNanos: tick, BusyShare: 0.2})
		require.NoError(t, err)
		var busy int64
		for i := 0; i < 2000; i++ {
			busy += int64(share * float64(tick))
			l.ChannelBusy(busy)
			l.Tick()
			if i == 999 {
				require.NoError(t, l.Acquire([]Cell{4}))
			}
			for _, s := range l.Ready().Sends {
				if _, ok := s.Msg.(Request); ok {
					return i - 999
				}
			}
		}
		return -1
	}
	// WaitTicks is 300: 0.25 is a quarter of the budget above it, 0.3
	// half, 0.5 one and a half budgets, 0.8 three; 0.95 would be 3.75
	// budgets, capped at BusyHoldTicks (3 × WaitTicks by default).
	for _, c := range []struct {
		share float64
		ticks int
	}{{0.25, 75}, {0.3, 150}, {0.5, 450}, {0.8, 900}, {0.95, 900}} {
		assert.InDelta(t, c.ticks, wait(c.share), 2, "share %v", c.share)
	}
}

// A request that waits for a vote it cannot get (the voter is down) keeps
// the votes it has, renewing each only as it would stop counting
// (LeaseTicks − MarginTicks − RenewTicks), not every RenewTicks as a
// holder does.
func TestWaitingRequestRenewsOncePerKeep(t *testing.T) {
	q := mutex.Best(members(9))
	cores, net := group(t, 9, Config{LeaseTicks: 100})
	net.RunTicks(110)
	a := cores[1]
	var down algorithms.NodeID
	for _, v := range q[1] {
		if v != 1 {
			down = v
			break
		}
	}
	net.Crash(down)
	renews := map[algorithms.NodeID]int{}
	net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool {
		if _, ok := m.(Renew); ok && from == 1 {
			renews[to]++
		}
		return false
	}
	require.NoError(t, a.Acquire([]Cell{2}))
	net.RunTicks(250) // within WaitTicks (300)
	assert.False(t, a.Holding())
	// Keep = 100 − 10 − 30 = 60 ticks: four renewals of each vote in 250
	// ticks (renewing every RenewTicks would take eight). The voter that
	// is down is asked again, alone, after AnswerTicks (10), twice that,
	// then every RetryTicks (30): its answer may have been lost.
	for _, v := range q[1] {
		if v != 1 && v != down {
			assert.LessOrEqual(t, renews[v], 4, "renewals of voter %d's vote while waiting", v)
			assert.Positive(t, renews[v], "voter %d", v)
		}
	}
	assert.LessOrEqual(t, a.Counters().Renewals, 4+10, "renewal rounds while waiting")
	assert.Zero(t, a.Counters().Retries)
}

// Drones held back by the same busy channel do not all start in the tick
// it quietens: with BusyStagger each starts below its own share. Twenty
// drones acquire on a channel 0.8 busy, which then falls quiet; without
// the stagger all twenty REQUESTs go in one tick, with it they spread.
func TestBusyStaggerSpreadsStarts(t *testing.T) {
	const tick = int64(10_000_000)
	q := mutex.Best(members(20))
	starts := func(stagger float64) map[int]int {
		first := map[int]int{} // tick → drones whose first REQUEST went then
		for id := algorithms.NodeID(1); id <= 20; id++ {
			l, err := New(Config{ID: id, Quorums: q, LeaseTicks: 100, TickNanos: tick, BusyShare: 0.3, BusyStagger: stagger})
			require.NoError(t, err)
			var busy int64
			for i := 0; i < 600; i++ {
				share := 0.8
				if i >= 400 {
					share = 0
				}
				busy += int64(share * float64(tick))
				l.ChannelBusy(busy)
				l.Tick()
				if i == 399 {
					require.NoError(t, l.Acquire([]Cell{4}))
				}
				sent := false
				for _, s := range l.Ready().Sends {
					_, ok := s.Msg.(Request)
					sent = sent || ok
				}
				if sent {
					first[i]++
					break
				}
			}
		}
		return first
	}
	together := starts(0)
	require.Len(t, together, 1, "without the stagger every drone starts in one tick: %v", together)
	spread := starts(0.7)
	most := 0
	for _, n := range spread {
		most = max(most, n)
	}
	assert.GreaterOrEqual(t, len(spread), 10, "starts spread over %d ticks: %v", len(spread), spread)
	// Those held longest go as soon as the falling share's wait reaches
	// theirs, a few ticks apart at most for drones that started together.
	assert.LessOrEqual(t, most, 4, "%d drones started in one tick: %v", most, spread)
	_, err := New(Config{ID: 1, Quorums: q, LeaseTicks: 100, BusyShare: 0.3, BusyStagger: 1})
	assert.ErrorIs(t, err, ErrConfig)
}

// A YES lost on its plain frame is asked for again after AnswerTicks
// (LeaseTicks/10), not a lease later: the requester enters soon after.
func TestLostYesAskedAgain(t *testing.T) {
	q := mutex.Best(members(9))
	cores, net := group(t, 9, Config{LeaseTicks: 100})
	net.RunTicks(110) // past the voters' quiet period
	a := cores[1]
	var lost algorithms.NodeID
	for _, v := range q[1] {
		if v != 1 {
			lost = v
			break
		}
	}
	dropped := 0
	net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool {
		if _, ok := m.(Yes); ok && from == lost && to == 1 && dropped == 0 {
			dropped++
			return true
		}
		return false
	}
	require.NoError(t, a.Acquire([]Cell{3}))
	ticks := 0
	for ; ticks < 100 && !a.Holding(); ticks++ {
		net.RunTicks(1)
	}
	assert.Equal(t, 1, dropped, "the first YES of voter %d dropped", lost)
	assert.True(t, a.Holding(), "drone 1 holds cell 3 after %d ticks", ticks)
	// Asked again after AnswerTicks (10), answered at once.
	assert.LessOrEqual(t, ticks, 15, "ticks to enter with voter %d's first YES lost", lost)
}

// A holder whose answers come back late, as on a channel so full that
// frames wait in the sender's queue, asks no sooner than the round trip
// it measured: every YES to drone 1 arrives 40 ticks after it was sent,
// four times AnswerTicks. The renewals then go once every RenewTicks (30
// ticks), each answered 40 ticks later; asking again every AnswerTicks
// or a quarter of what is left of the vote adds an ask a round that the
// answer on its way makes useless (30 RENEWs to each voter in 600 ticks
// instead of 22). The holder keeps its cell either way.
func TestRenewalsPaceWithTheRoundTrip(t *testing.T) {
	const delay = 40
	cores, net := group(t, 9, Config{LeaseTicks: 100})
	net.RunTicks(110) // past the voters' quiet period
	a := cores[1]
	require.NoError(t, a.Acquire([]Cell{3}))
	net.RunTicks(5)
	require.True(t, a.Holding())

	type late struct {
		at   int
		from algorithms.NodeID
		m    algorithms.Message
	}
	var (
		now     int
		held    []late
		renewed = map[algorithms.NodeID]int{}
	)
	net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool {
		switch m.(type) {
		case Renew:
			if from == 1 {
				renewed[to]++
			}
		case Yes:
			if to == 1 && from != 1 {
				held = append(held, late{now + delay, from, m})
				return true
			}
		}
		return false
	}
	const ticks = 600
	for ; now < ticks; now++ {
		for len(held) > 0 && held[0].at <= now {
			require.NoError(t, a.Step(held[0].from, held[0].m))
			held = held[1:]
		}
		net.RunTicks(1)
		require.True(t, a.Holding(), "drone 1 lost its cell at tick %d", now)
	}
	assert.Zero(t, a.Counters().Expired)
	// One renewal every RenewTicks (20 in 600 ticks), and asks again
	// before the first answer, while the round trip is not yet known.
	require.NotEmpty(t, renewed)
	for v, n := range renewed {
		assert.LessOrEqual(t, n, ticks/30+3, "RENEWs to voter %d in %d ticks with answers %d ticks late", v, ticks, delay)
	}
}
