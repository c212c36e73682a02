package timesync

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/internal/airtime"
)

// beaconAt hands follower f a beacon of leader 2 sent at true time at,
// waited for the channel waited ns and late by late ns beyond its time on
// air; the follower's clock reads at+fOff, the leader's swarm time is
// true time plus lOff.
func beaconAt(t *testing.T, f *TimeSync, at, fOff, lOff, waited, late int64) {
	t.Helper()
	st := at + lOff
	r := Reply{T1: BeaconT1, T2: st, T3: st}.OnAir(waited).(Reply)
	end := at + waited + f.beaconAir(r) + late
	f.SetClock(end + fOff)
	require.NoError(t, f.Step(2, r))
}

// The leader broadcasts one beacon every beacon period, an eighth of the
// time-sync share: one 50-byte frame (signed, at 57600 baud) every 1.74 s
// at the default 4% of the node.
func TestLeaderSendsBeacons(t *testing.T) {
	l, err := New(Config{ID: 2, Leader: 2, Share: 0.04, Members: 250})
	require.NoError(t, err)
	air := airtime.Nanos(airtime.FrameBytes(Reply{}.Size(), true), airtime.DefaultBaud)
	assert.Equal(t, 174, l.beaconTicks, "ticks of 10 ms")
	assert.InDelta(t, 0.005, float64(air)/float64(int64(l.beaconTicks)*DefaultTickNanos), 0.0002)
	beacons := 0
	for i := range 870 {
		l.SetClock(int64(i) * DefaultTickNanos)
		l.Tick()
		for _, snd := range l.Ready().Sends {
			r := snd.Msg.(Reply)
			assert.True(t, r.IsBeacon())
			assert.Nil(t, snd.To, "broadcast")
			assert.Equal(t, int64(i)*DefaultTickNanos, r.T2)
			beacons++
		}
	}
	assert.Equal(t, 5, beacons)
	sent, _ := l.Beacons()
	assert.Equal(t, 5, sent)
}

// A follower that hears three beacons on time takes up the leader's swarm
// time from them, exactly: each shows t3, stamped when the frame went on
// air, plus the frame's time on air, its hold's bytes included (a beacon
// that waited 12 ms for the channel carries 3 more bytes than one sent at
// once: 0.52 ms at 57600 baud). It needs no poll.
func TestBeaconsSync(t *testing.T) {
	f, err := New(Config{ID: 1, Leader: 2, PollTicks: 1_000_000})
	require.NoError(t, err)
	const fOff, lOff = -300 * ms, 200 * ms
	waits := []int64{0, 12 * ms, 3 * ms}
	for i, w := range waits {
		require.False(t, f.Synced(), "after %d beacons", i)
		beaconAt(t, f, int64(i+1)*870*ms, fOff, lOff, w, 0)
	}
	require.True(t, f.Synced())
	applied, _, _ := f.Offset()
	assert.Equal(t, lOff-fOff, applied, "exact")
	_, heard := f.Beacons()
	assert.Equal(t, 3, heard)
	req, _, _ := f.Counters()
	assert.Zero(t, req)
}

// Beacons late by the reordering of a busy channel (up to 40 ms here) do
// not agree, so a follower takes the swarm time up only from a full
// window, at the least delayed of them; a late beacon never moves a
// synced follower's estimate down, and a beacon of a drone it does not
// follow is ignored.
func TestLateBeacons(t *testing.T) {
	f, err := New(Config{ID: 1, Leader: 2, PollTicks: 1_000_000})
	require.NoError(t, err)
	const fOff, lOff = 100 * ms, -50 * ms
	at := int64(0)
	for i := range beaconWindow {
		require.False(t, f.Synced(), "after %d beacons", i)
		at += 870 * ms
		late := int64(10+(i*7)%31) * ms // 10 to 40 ms, never on time
		if i == 9 {
			late = 2 * ms
		}
		beaconAt(t, f, at, fOff, lOff, 0, late)
	}
	require.True(t, f.Synced())
	applied, _, _ := f.Offset()
	assert.Equal(t, lOff-fOff-2*ms, applied, "the least delayed beacon")
	at += 870 * ms
	beaconAt(t, f, at, fOff, lOff, 0, 40*ms)
	_, target, _ := f.Offset()
	assert.Equal(t, lOff-fOff-2*ms, target, "a late beacon does not move the estimate")
	// A beacon from drone 3, which this drone does not follow.
	f.SetClock(at + fOff + 10*ms)
	require.NoError(t, f.Step(3, Reply{T1: BeaconT1, T2: at + 999*ms, T3: at + 999*ms}))
	_, target, _ = f.Offset()
	assert.Equal(t, lOff-fOff-2*ms, target)
}

// After a change of leader a synced follower keeps its swarm time until
// the new leader's beacons agree, then moves to them by slewing: a poll
// of the new leader (off by half its round trip, 4 ms here) does not move
// it, and neither does the first beacon, 30 ms late.
func TestNewLeaderBeacons(t *testing.T) {
	f, err := New(Config{ID: 1, Leader: 3, PollTicks: 100})
	require.NoError(t, err)
	const fOff = 40 * ms
	at := int64(0)
	// from's beacon, sent at true time at when its swarm time is ahead
	// of true time by lOff, late by late.
	beacon := func(from algorithms.NodeID, lOff, late int64) {
		at += 870 * ms
		st := at + lOff
		r := Reply{T1: BeaconT1, T2: st, T3: st}
		f.SetClock(at + f.beaconAir(r) + late + fOff)
		require.NoError(t, f.Step(from, r))
	}
	for range 3 {
		beacon(3, 0, 0)
	}
	require.True(t, f.Synced())
	f.SetLeader(2) // serves 1 ms ahead of drone 3
	l, err := New(Config{ID: 2, Leader: 2})
	require.NoError(t, err)
	at += 870 * ms
	exchange(t, f, l, at, fOff, 1*ms, 8*ms, 0)
	_, _, stale := f.Counters()
	require.Zero(t, stale)
	require.Len(t, f.samples, 1)
	before, target, _ := f.Offset()
	assert.Equal(t, -fOff, target, "a poll does not move the estimate")
	beacon(2, 1*ms, 30*ms)
	_, target, _ = f.Offset()
	assert.Equal(t, -fOff, target, "one late beacon does not move it")
	for range 3 {
		beacon(2, 1*ms, 0)
	}
	applied, target, _ := f.Offset()
	assert.Equal(t, 1*ms-fOff, target)
	assert.LessOrEqual(t, applied-before, int64(float64(3*870*ms)*DefaultSlewPPM/1e6)+1, "slews")
	f.SetClock(at + fOff + 200*ms)
	applied, _, _ = f.Offset()
	assert.Equal(t, 1*ms-fOff, applied)
}

var _ algorithms.Unreliable = Reply{}

// A beacon sent at once on network 0 is a byte shorter on air than one
// on another network (MAVLink 2 trims the network ID 0 with the empty
// hold); the follower, which does not know the network, assumes the
// shorter frame, so that a beacon never shows an offset ahead of the
// leader's and its lower bound holds. It was 0.17 ms ahead at 57600 baud.
func TestBeaconNeverAhead(t *testing.T) {
	f, err := New(Config{ID: 1, Leader: 2, PollTicks: 1_000_000})
	require.NoError(t, err)
	const fOff, lOff = 10 * ms, 0
	air := airtime.Nanos(airtime.FrameBytes(replyAtOnceBytes-1, true), airtime.DefaultBaud)
	for i := range 3 {
		at := int64(i+1) * 870 * ms
		f.SetClock(at + air + fOff)
		require.NoError(t, f.Step(2, Reply{T1: BeaconT1, T2: at + lOff, T3: at + lOff}))
	}
	require.True(t, f.Synced())
	applied, _, _ := f.Offset()
	assert.LessOrEqual(t, applied, lOff-fOff)
	assert.GreaterOrEqual(t, applied, lOff-fOff-airtime.Nanos(1, airtime.DefaultBaud))
}

// A drone elected before it knows the swarm time, having heard a single
// beacon of the previous leader and no reply, serves the swarm time the
// beacon showed, not its own clock: the followers synced to the previous
// leader see it continue.
func TestUnsyncedNewLeaderServesBeaconTime(t *testing.T) {
	f, err := New(Config{ID: 1, Leader: 2, PollTicks: 1_000_000})
	require.NoError(t, err)
	const fOff, lOff = -300 * ms, 200 * ms
	beaconAt(t, f, 1000*ms, fOff, lOff, 0, 2*ms)
	require.False(t, f.Synced())
	f.SetClock(3000*ms + fOff)
	f.SetLeader(1)
	require.True(t, f.Synced())
	applied, _, _ := f.Offset()
	assert.Equal(t, []algorithms.Event{Synced{Offset: applied}}, f.Ready().Events)
	for at := int64(3000); at < 10_000; at += 1000 {
		f.SetClock(at*ms + fOff)
		got := f.SwarmTime(at*ms + fOff)
		assert.LessOrEqual(t, abs(got-(at*ms+lOff)), 3*ms, "at %d ms the new leader serves %d ms off the previous leader's swarm time", at, (got-(at*ms+lOff))/ms)
	}
}
