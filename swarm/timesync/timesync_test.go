package timesync

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/internal/airtime"
)

const ms = int64(1_000_000)

var (
	airRequest = airtime.Nanos(airtime.FrameBytes(Request{}.Size(), true), airtime.DefaultBaud)
	airReply   = airtime.Nanos(airtime.FrameBytes(replyAtOnceBytes, true), airtime.DefaultBaud)
)

// exchange runs one poll by hand at true time at: the follower's clock
// reads at+fOff, the leader's at+lOff; the request takes dReq, the reply
// dRep (plus the frames' airtime).
func exchange(t *testing.T, f, l *TimeSync, at, fOff, lOff, dReq, dRep int64) {
	t.Helper()
	f.SetClock(at + fOff)
	f.nextPoll = f.ticks + 1
	f.Tick()
	sends := f.Ready().Sends
	require.Len(t, sends, 1)
	req := sends[0].Msg.(Request)
	at += dReq + airRequest
	l.SetClock(at + lOff)
	require.NoError(t, l.Step(1, req))
	sends = l.Ready().Sends
	require.Len(t, sends, 1)
	assert.Equal(t, []algorithms.NodeID{1}, sends[0].To)
	at += dRep + airReply
	f.SetClock(at + fOff)
	require.NoError(t, f.Step(2, sends[0].Msg))
}

func pair(t *testing.T) (f, l *TimeSync) {
	t.Helper()
	return pairWith(t, Config{})
}

// pairWith is pair with the follower's Config fields that cfg sets.
func pairWith(t *testing.T, cfg Config) (f, l *TimeSync) {
	t.Helper()
	cfg.ID, cfg.Leader, cfg.PollTicks = 1, 2, 100
	f, err := New(cfg)
	require.NoError(t, err)
	l, err = New(Config{ID: 2, Leader: 2})
	require.NoError(t, err)
	return f, l
}

// The NTP formula: with symmetric delays the offset is exact, and the error
// of an asymmetric exchange is half the asymmetry, within half the round
// trip.
func TestOffsetAndRoundTrip(t *testing.T) {
	f, l := pair(t)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 3*ms, 3*ms)
	require.True(t, f.Synced())
	assert.Equal(t, []algorithms.Event{Synced{Offset: 500 * ms}}, f.Ready().Events)
	assert.Equal(t, 1500*ms, f.SwarmTime(1000*ms))
	_, _, st := f.Counters()
	assert.Zero(t, st)

	f, l = pair(t)
	exchange(t, f, l, 1000*ms, 0, -200*ms, 10*ms, 0)
	applied, _, _ := f.Offset()
	assert.Equal(t, -200*ms+5*ms, applied, "half the asymmetry")
	s := f.samples[0]
	assert.Equal(t, 10*ms+airRequest+airReply, s.rtt)
	assert.LessOrEqual(t, abs(applied+200*ms), s.rtt/2)
}

// The filter keeps the sample with the smallest round trip, and the
// applied offset slews towards it at no more than SlewPPM: swarm time never
// runs backwards.
func TestFilterAndSlew(t *testing.T) {
	f, l := pairWith(t, Config{SyncError: 30 * ms}) // takes up the first sample, bound 27.6 ms
	exchange(t, f, l, 1000*ms, 0, 500*ms, 40*ms, 0) // error +20 ms
	applied, _, _ := f.Offset()
	assert.Equal(t, 520*ms, applied)
	exchange(t, f, l, 2000*ms, 0, 500*ms, 0, 0) // exact, smaller round trip
	exchange(t, f, l, 3000*ms, 0, 500*ms, 0, 30*ms)
	applied, target, _ := f.Offset()
	assert.Equal(t, 500*ms, target, "the smallest round trip wins")
	assert.Greater(t, applied, target, "still slewing")
	// 20 ms at 1 ms per 100 ms takes 2 s from the second sample.
	prev := f.SwarmTime(int64(2000*ms) + airRequest + airReply)
	for now := int64(3100 * ms); now <= 5000*ms; now += 100 * ms {
		st := f.SwarmTime(now)
		assert.Greater(t, st, prev)
		prev = st
	}
	f.SetClock(4100 * ms)
	applied, _, _ = f.Offset()
	assert.Equal(t, 500*ms, applied)
}

// A new leader serves the swarm time it had estimated, so that followers
// see no jump; a reply from the old leader is then stale.
func TestLeaderChange(t *testing.T) {
	f, l := pair(t)
	third, err := New(Config{ID: 3, Leader: 2, PollTicks: 100})
	require.NoError(t, err)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 0, 0)
	// Drone 3's clock is 300 ms ahead of drone 1's, 200 ms behind the
	// leader's.
	third.SetClock(1300 * ms)
	third.nextPoll = third.ticks + 1
	third.Tick()
	req := third.Ready().Sends[0].Msg.(Request)
	l.SetClock(1500*ms + airRequest)
	require.NoError(t, l.Step(3, req))
	third.SetClock(1300*ms + airRequest + airReply)
	require.NoError(t, third.Step(2, l.Ready().Sends[0].Msg))
	require.True(t, third.Synced())
	applied, _, _ := third.Offset()
	require.Equal(t, 200*ms, applied)

	// Leader 2 is gone; drone 3 takes over and keeps serving 2's time.
	before := third.SwarmTime(2300 * ms)
	third.SetLeader(3)
	assert.Equal(t, before, third.SwarmTime(2300*ms))
	assert.Equal(t, int64(0), third.ErrorBound())
	f.SetLeader(3)
	assert.Equal(t, int64(1<<63-1), f.ErrorBound(), "no sample of the new leader yet")

	// Follower 1 polls 3: offset 500 ms again, nothing to slew.
	f.SetClock(3000 * ms)
	f.nextPoll = f.ticks + 1
	f.Tick()
	req = f.Ready().Sends[0].Msg.(Request)
	third.SetClock(3300*ms + airRequest)
	require.NoError(t, third.Step(1, req))
	rep := third.Ready().Sends[0].Msg
	f.SetClock(3000*ms + airRequest + airReply)
	require.NoError(t, f.Step(3, rep))
	applied, target, _ := f.Offset()
	assert.Equal(t, 500*ms, applied, "swarm time continues across the change")
	assert.Equal(t, 500*ms, target)

	// The old leader's late reply, and a request to a non-leader, change
	// nothing.
	require.NoError(t, f.Step(2, Reply{T1: 1, T2: 2, T3: 2}))
	_, _, stale := f.Counters()
	assert.Equal(t, 1, stale)
	require.NoError(t, l.Step(1, Request{T1: 5}))
	l.SetLeader(3)
	require.NoError(t, l.Step(1, Request{T1: 5}))
	assert.Len(t, l.Ready().Sends, 1, "answered only while leader")
}

func TestRejects(t *testing.T) {
	f, _ := pair(t)
	f.SetClock(1)
	f.nextPoll = f.ticks + 1
	f.Tick()
	t1 := f.Ready().Sends[0].Msg.(Request).T1
	assert.Error(t, f.Step(2, Reply{T1: t1, T2: 10, T3: 5}), "t3 before t2")
	assert.ErrorIs(t, f.Step(2, other{}), algorithms.ErrUnknownMessage)
}

type other struct{}

func (other) Kind() string { return "OTHER" }
func (other) Size() int    { return 1 }

func TestMessages(t *testing.T) {
	assert.Equal(t, 9, Request{}.Size(), "SWARM_TIME_REQUEST, less the two vehicle IDs")
	assert.Equal(t, 21, Reply{}.Size(), "SWARM_TIME_REPLY with hold, less the two vehicle IDs")
	assert.True(t, algorithms.IsUnreliable(Request{}))
	assert.True(t, algorithms.IsUnreliable(Reply{}))
	assert.Equal(t, algorithms.ClassData, algorithms.ClassOf(Reply{}))
}

// The poll period follows the budget: N × (request + reply airtime) / the
// polls' share (seven eighths of Share, the beacons take the rest); one
// beacon frame per beacon period takes the other eighth.
func TestPollFromBudget(t *testing.T) {
	for _, c := range []struct{ n, want int }{{50, 1985}, {250, 9921}} {
		ts, err := New(Config{ID: 1, Members: c.n})
		require.NoError(t, err)
		assert.Equal(t, c.want, ts.PollTicks(), "N=%d", c.n)
	}
	for _, cfg := range []Config{{Window: -1}, {SlewPPM: 50}, {Share: 2}, {DriftPPM: -1}} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrConfig, "%+v", cfg)
	}
}

// A drone without any estimate of swarm time polls a new leader within
// SyncPollTicks, however long the budget's period; once synchronised, a
// change of leader waits the period (or FirstPollTicks) again.
func TestSyncPollTicks(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		f, err := New(Config{ID: 1, PollTicks: 10_000, SyncPollTicks: 50, Seed: seed})
		require.NoError(t, err)
		f.SetLeader(2)
		polled := -1
		for i := range 10_000 {
			f.Tick()
			if len(f.Ready().Sends) > 0 {
				polled = i
				break
			}
		}
		require.GreaterOrEqual(t, polled, 0, "seed=%d", seed)
		assert.Less(t, polled, 50, "seed=%d: an unsynchronised drone waited %d ticks", seed, polled)
	}
	// Synchronised: the next leader's first poll is drawn from the
	// period (100 ticks in pair()), not from SyncPollTicks.
	longest := int64(0)
	for leader := algorithms.NodeID(3); leader < 23; leader++ {
		f, l := pair(t)
		f.cfg.SyncPollTicks = 1
		exchange(t, f, l, 1000*ms, 0, 500*ms, 3*ms, 3*ms)
		require.True(t, f.Synced())
		f.SetLeader(leader)
		wait := f.nextPoll - f.ticks
		assert.LessOrEqual(t, wait, int64(101))
		longest = max(longest, wait)
	}
	assert.Greater(t, longest, int64(2), "a synchronised drone polled as soon as an unsynchronised one")
}

// SyncShare spreads the first polls of a large swarm so that they take at
// most that share of the channel: at 2000 drones and a quarter of a
// 57600-baud channel, over about two minutes rather than SyncPollTicks.
func TestSyncShare(t *testing.T) {
	c, err := New(Config{ID: 1, Members: 2000, TickNanos: 10 * ms, SyncPollTicks: 2000, SyncShare: 0.25})
	require.NoError(t, err)
	// The budget counts two frames of the longest reply.
	exchange := 2 * airtime.Nanos(airtime.FrameBytes(Reply{}.Size(), true), airtime.DefaultBaud)
	want := 2000 * exchange / (10 * ms) * 4
	assert.InDelta(t, float64(want), float64(c.cfg.SyncPollTicks), float64(want)/50, "ticks for 2000 drones' first polls")
	c, err = New(Config{ID: 1, Members: 50, TickNanos: 10 * ms, SyncPollTicks: 2000, SyncShare: 0.25})
	require.NoError(t, err)
	assert.Equal(t, 2000, c.cfg.SyncPollTicks, "a small swarm keeps SyncPollTicks")
}

// The error bound holds whatever the drift estimate: here one asymmetric
// exchange among exact ones makes the least-squares drift −75 ppm while
// the clocks do not drift at all, and 200 s after the last sample the
// estimate is 15 ms off. The bound says so, and the estimate stays within
// the offsets that the samples allow.
func TestErrorBoundHoldsWithAWrongDrift(t *testing.T) {
	f, err := New(Config{ID: 1, Leader: 2, PollTicks: 100, DriftPPM: 50})
	require.NoError(t, err)
	l, err := New(Config{ID: 2, Leader: 2})
	require.NoError(t, err)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 10*ms, 0) // +5 ms
	for at := int64(21_000); at <= 61_000; at += 20_000 {
		exchange(t, f, l, at*ms, 0, 500*ms, 0, 0)
	}
	_, _, drift := f.Offset()
	require.Less(t, drift, -50.0, "the noisy sample tilts the drift estimate")
	for at := int64(61_100); at <= 261_000; at += 100 {
		local := at * ms
		f.SetClock(local)
		e := abs(f.SwarmTime(local) - (local + 500*ms))
		require.LessOrEqual(t, e, f.ErrorBoundAt(local), "at %d ms: error %d ns above the bound", at, e)
		require.LessOrEqual(t, e, f.ErrorBound())
	}
}

// A lost poll is asked again within about a reply timeout, not a period
// later, and while the leader does not answer the repeats back off to the
// poll period.
func TestRetryAfterLoss(t *testing.T) {
	f, err := New(Config{ID: 1, Leader: 2, PollTicks: 10_000, Seed: 3})
	require.NoError(t, err)
	l, err := New(Config{ID: 2, Leader: 2})
	require.NoError(t, err)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 3*ms, 3*ms)
	f.nextPoll = f.ticks + 1
	var sent []int64
	for range 200_000 {
		f.Tick()
		if len(f.Ready().Sends) > 0 {
			sent = append(sent, f.ticks)
		}
	}
	require.Greater(t, len(sent), 3)
	reply := int64(f.cfg.ReplyTicks)
	assert.LessOrEqual(t, sent[1]-sent[0], 2*reply+1, "the first repeat")
	gaps := []int64{}
	for i := 1; i < len(sent); i++ {
		gaps = append(gaps, sent[i]-sent[i-1])
	}
	assert.LessOrEqual(t, gaps[len(gaps)-1], int64(f.poll)+reply+1, "backed off to the period: %v", gaps)
	assert.Greater(t, gaps[len(gaps)-1]+gaps[len(gaps)-2], int64(f.poll)/2, "backed off to the period: %v", gaps)
}

// A drone that becomes leader serves the swarm time it had, at its own
// clock's rate, not at the drift it had estimated of the previous leader:
// the followers' error bounds assume that swarm time drifts from their
// clocks by at most twice DriftPPM.
func TestNewLeaderServesItsOwnRate(t *testing.T) {
	f, l := pair(t)
	f.cfg.DriftPPM = 50
	exchange(t, f, l, 1000*ms, 0, 500*ms, 0, 0)
	f.freq = 80e-6 // as estimated of leader 2
	f.SetClock(2000 * ms)
	before := f.SwarmTime(2000 * ms)
	f.SetLeader(1)
	assert.Equal(t, before, f.SwarmTime(2000*ms), "no jump")
	for at := int64(3000); at < 100_000; at += 1000 {
		f.SetClock(at * ms)
		assert.Equal(t, before+(at-2000)*ms, f.SwarmTime(at*ms), "at %d ms", at)
	}
}

// A drone restarted from its persisted state takes up the swarm time it
// had, if its clock ran on and it was down briefly enough, and serves it
// if it is elected before it could ask anyone: swarm time goes on where it
// was, not at the drone's own clock, 500 ms off.
func TestRestoredSwarmTime(t *testing.T) {
	f, l := pair(t)
	require.Nil(t, f.Persist(), "nothing to persist before the first sample")
	exchange(t, f, l, 1000*ms, 0, 500*ms, 0, 0)
	f.SetClock(3000 * ms)
	state := f.Persist()
	require.NotNil(t, state)

	restart := func(cfg Config) *TimeSync {
		cfg.ID, cfg.Restored = 1, state
		c, err := New(cfg)
		require.NoError(t, err)
		return c
	}
	c := restart(Config{})
	c.SetClock(9000 * ms) // down 6 s
	require.True(t, c.Synced())
	assert.Equal(t, []algorithms.Event{Synced{Offset: 500 * ms}}, c.Ready().Events)
	assert.Equal(t, 9500*ms, c.SwarmTime(9000*ms))
	assert.Equal(t, int64(1<<63-1), c.ErrorBound(), "no sample of a leader yet")
	c.SetLeader(1)
	assert.Equal(t, 10_500*ms, c.SwarmTime(10_000*ms), "elected: serves the restored swarm time")
	require.NoError(t, c.Step(3, Request{T1: 7}))
	assert.Equal(t, Reply{T1: 7, T2: 9500 * ms, T3: 9500 * ms}, c.Ready().Sends[0].Msg)

	// Down too long for the drift bound (200 s × 100 ppm = 20 ms, above
	// the default 10 ms), or a clock that started again from zero: the
	// drone does not know the swarm time.
	for _, local := range []int64{203_001 * ms, 2000 * ms} {
		c = restart(Config{DriftPPM: 50})
		c.SetClock(local)
		assert.False(t, c.Synced(), "local %d ms", local/ms)
		assert.Equal(t, local, c.SwarmTime(local))
	}
	c = restart(Config{DriftPPM: 50, RestoreError: 50 * ms})
	c.SetClock(203_001 * ms)
	assert.True(t, c.Synced(), "RestoreError allows 500 s at 50 ppm")

	_, err := New(Config{ID: 1, Restored: []byte{9, 1, 2}})
	assert.ErrorIs(t, err, ErrConfig)
}

// A drone takes the swarm time up only once its samples bound the error
// within SyncError: a first reply that waited 200 ms for the channel (its
// error up to 107.6 ms) does not set the clock 100 ms off; the drone asks
// again, within the first polls' spread, and syncs on the next sample
// that bounds it.
func TestSyncWaitsForABoundedSample(t *testing.T) {
	f, l := pair(t)
	require.Equal(t, int64(DefaultSyncError), f.cfg.SyncError)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 0, 200*ms)
	assert.False(t, f.Synced(), "error bound %d ms", (200*ms+airRequest+airReply)/2/ms)
	assert.Empty(t, f.Ready().Events)
	assert.Equal(t, int64(1000*ms), f.SwarmTime(1000*ms), "local time before the sync")
	assert.Equal(t, int64(math.MaxInt64), f.ErrorBound())
	assert.LessOrEqual(t, f.nextPoll-f.ticks, int64(f.retrySpread), "asks again within the spread")
	assert.Less(t, f.retrySpread, f.poll)

	exchange(t, f, l, 2000*ms, 0, 500*ms, 4*ms, 2*ms)
	require.True(t, f.Synced())
	assert.Equal(t, []algorithms.Event{Synced{Offset: 501 * ms}}, f.Ready().Events, "the bounded sample (half its 2 ms asymmetry), not the first")
	assert.LessOrEqual(t, f.ErrorBound(), int64(DefaultSyncError))
}

// On a channel too busy for any sample to bound the error within
// SyncError, the bound doubles after every Window samples in a row that
// fall short, so that the drone syncs in the end.
func TestSyncErrorRelaxes(t *testing.T) {
	f, l := pairWith(t, Config{Window: 4})
	for i := range 4 {
		assert.False(t, f.Synced(), "sample %d", i)
		exchange(t, f, l, int64(i+1)*1000*ms, 0, 500*ms, 30*ms, 30*ms) // bound 37.6 ms
	}
	assert.False(t, f.Synced())
	assert.Equal(t, int64(40*ms), f.syncError)
	exchange(t, f, l, 5000*ms, 0, 500*ms, 30*ms, 30*ms)
	require.True(t, f.Synced())
	assert.LessOrEqual(t, f.ErrorBound(), int64(40*ms))
}

// Once synced, a sample whose half round trip is above SyncError does not
// move the estimate while a tighter one is in the window, however old:
// its reply waited 40 ms one way (half its round trip 27.7 ms, and the
// estimate moved 20 ms to it), while the old sample's penalty of 200 ppm
// over 120 s (24 ms on top of 7.7 ms) is what the drift could be at
// most, not what it is.
func TestLooseSampleDoesNotMoveEstimate(t *testing.T) {
	f, l := pair(t)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 0, 0)
	require.True(t, f.Synced())
	exchange(t, f, l, 121_000*ms, 0, 500*ms, 0, 40*ms)
	applied, target, _ := f.Offset()
	assert.Equal(t, int64(500*ms), target, "the tight sample")
	assert.Equal(t, int64(500*ms), applied)
	exchange(t, f, l, 122_000*ms, 0, 500*ms, 4*ms, 0)
	_, target, _ = f.Offset()
	assert.Equal(t, int64(502*ms), target, "a newer tight sample counts")
}

// A reply that waited for the channel goes on air with t3 later by the
// wait: the follower's round trip and offset leave the wait out.
func TestReplyOnAir(t *testing.T) {
	f, l := pair(t)
	f.SetClock(1000 * ms)
	f.nextPoll = f.ticks + 1
	f.Tick()
	req := f.Ready().Sends[0].Msg.(Request)
	l.SetClock(1500*ms + airRequest)
	require.NoError(t, l.Step(1, req))
	rep := l.Ready().Sends[0].Msg.(Reply).OnAir(80 * ms).(Reply)
	assert.Equal(t, rep.T2+80*ms, rep.T3)
	f.SetClock(1000*ms + airRequest + 80*ms + airReply)
	require.NoError(t, f.Step(2, rep))
	assert.Equal(t, airRequest+airReply, f.samples[0].rtt, "the wait is not in the round trip")
	applied, _, _ := f.Offset()
	assert.Equal(t, int64(500*ms), applied)
}

// A drone elected before its samples bound its error within SyncError
// (at 250 drones under loss, the next leader had four replies in 44 s,
// each of them 43 ms or more off) serves its estimate of the previous
// leader's swarm time, not its own clock: the followers, synced to the
// previous leader, see it move by at most the estimate's error, not by
// the clocks' spread (910 ms in that show).
func TestUnsyncedNewLeaderServesItsEstimate(t *testing.T) {
	f, l := pair(t)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 0, 60*ms) // error bound 37.6 ms
	require.False(t, f.Synced())
	lo, hi, ok := f.interval(2000 * ms)
	require.True(t, ok)
	f.SetClock(2000 * ms)
	f.SetLeader(1)
	require.True(t, f.Synced())
	applied, _, _ := f.Offset()
	assert.Equal(t, []algorithms.Event{Synced{Offset: applied}}, f.Ready().Events)
	assert.GreaterOrEqual(t, applied, lo)
	assert.LessOrEqual(t, applied, hi)
	assert.LessOrEqual(t, abs(applied-500*ms), 38*ms, "served %d ms off the previous leader's swarm time", (applied-500*ms)/ms)
	for at := int64(3000); at < 10_000; at += 1000 {
		f.SetClock(at * ms)
		assert.Equal(t, at*ms+applied, f.SwarmTime(at*ms), "at its own clock's rate, at %d ms", at)
	}

	// Without any sample, the drone has nothing but its own clock.
	c, err := New(Config{ID: 3, Leader: 2})
	require.NoError(t, err)
	c.SetClock(2000 * ms)
	c.SetLeader(3)
	assert.Equal(t, int64(2000*ms), c.SwarmTime(2000*ms))
}

// Across a change of leader, a synced follower keeps the swarm time it
// had while its samples of the new leader are loose (a reply that waited
// 100 ms for a busy channel, off by 50 ms): they narrow the offsets it
// allows, but do not move its estimate to them. A tight sample does.
func TestLooseSampleOfNewLeaderKeepsSwarmTime(t *testing.T) {
	f, l := pair(t)
	exchange(t, f, l, 1000*ms, 0, 500*ms, 0, 0)
	require.True(t, f.Synced())
	// Leader 2 is replaced by another drone 2 (exchange answers as 2)
	// that serves the same swarm time.
	f.SetClock(2000 * ms)
	f.SetLeader(3)
	f.SetLeader(2)
	n, err := New(Config{ID: 2, Leader: 2})
	require.NoError(t, err)
	exchange(t, f, n, 3000*ms, 0, 500*ms, 0, 100*ms)
	applied, target, _ := f.Offset()
	assert.Equal(t, int64(500*ms), target, "the swarm time it had, not the loose sample's %d ms", f.samples[0].offset/ms)
	assert.Equal(t, int64(500*ms), applied)
	assert.LessOrEqual(t, f.ErrorBound(), 100*ms+airRequest+airReply+2*ms, "within the loose sample's offsets")
	exchange(t, f, n, 4000*ms, 0, 500*ms, 4*ms, 0)
	_, target, _ = f.Offset()
	assert.Equal(t, int64(502*ms), target, "a tight sample counts")
}
