package membership

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

func ids(n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(i + 1)
	}
	return out
}

// The period follows the budget: N × frame airtime / share.
func TestPeriodFromBudget(t *testing.T) {
	cases := []struct {
		n        int
		unsigned bool
		share    float64
		tick     int64
		want     int
	}{
		// 37-byte signed frame (SWARM_HEARTBEAT, 12-byte payload):
		// 6.424 ms; ×250 / 0.05 = 32.118 s.
		{250, false, 0.05, 10_000_000, 3212},
		{250, false, 0.10, 10_000_000, 1606},
		// 24-byte unsigned frame: 4.167 ms; ×250 / 0.05 = 20.833 s.
		{250, true, 0.05, 10_000_000, 2084},
		{50, false, 0.05, 100_000_000, 65},
		{1, false, 0.05, 10_000_000, 13},
	}
	for _, c := range cases {
		m, err := New(Config{ID: 1, Members: ids(c.n), Unsigned: c.unsigned, Share: c.share, TickNanos: c.tick})
		require.NoError(t, err)
		assert.Equal(t, c.want, m.PeriodTicks(), "%+v", c)
		assert.Equal(t, 8*(c.want+(c.want+9)/10)+1, m.TimeoutTicks(), "%+v", c)
	}
}

func TestMissedFor(t *testing.T) {
	assert.Equal(t, 8, MissedFor(0.1, 1e-8))
	assert.Equal(t, 9, MissedFor(0.1, 1e-9))
	assert.Equal(t, 12, MissedFor(0.2, 1e-8))
	assert.Equal(t, 2, MissedFor(0, 1e-9))
	assert.Equal(t, 2, MissedFor(0.5, 0.5))
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{ID: 9, Members: ids(3)},
		{ID: 1, Members: ids(3), Share: 1.5},
		{ID: 1, Members: ids(3), Missed: -1},
		{ID: 1, Members: ids(3), Baud: -5},
		{ID: 1, Members: ids(3), PeriodTicks: -1},
	} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrConfig, "%+v", cfg)
	}
}

func TestHeartbeatMessage(t *testing.T) {
	hb := Heartbeat{Incarnation: 3, Status: 5, Digest: 7}
	assert.Equal(t, 8, hb.Size(), "SWARM_HEARTBEAT with status, less the two vehicle IDs")
	assert.Equal(t, algorithms.ClassHeartbeat, algorithms.ClassOf(hb))
	assert.True(t, algorithms.IsUnreliable(hb))
}

// pair runs two cores by hand: drone 1 hears drone 2's heartbeats while
// deliver returns true.
func tickPair(a, b *Membership, deliver func(tick int) bool, ticks int, start int) []algorithms.Event {
	var events []algorithms.Event
	for i := range ticks {
		a.Tick()
		b.Tick()
		events = append(events, a.Ready().Events...)
		for _, s := range b.Ready().Sends {
			if deliver(start + i) {
				if err := a.Step(2, s.Msg); err != nil {
					panic(err)
				}
			}
		}
		events = append(events, a.Ready().Events...)
	}
	return events
}

func TestSuspectAndRecover(t *testing.T) {
	cfg := func(id algorithms.NodeID, inc uint32) Config {
		return Config{ID: id, Members: ids(2), PeriodTicks: 10, Jitter: -1, Missed: 3, Seed: 1, Incarnation: inc}
	}
	a, err := New(cfg(1, 0))
	require.NoError(t, err)
	b, err := New(cfg(2, 0))
	require.NoError(t, err)
	assert.Equal(t, 31, a.TimeoutTicks())

	// Fault-free: no events in 200 ticks, one heartbeat per 10 ticks.
	ev := tickPair(a, b, func(int) bool { return true }, 200, 0)
	assert.Empty(t, ev)
	assert.True(t, a.IsAlive(2))

	// Silence: suspected within 31 ticks of the last heartbeat heard.
	ev = tickPair(a, b, func(int) bool { return false }, 40, 200)
	require.Equal(t, []algorithms.Event{Down{ID: 2}}, ev)
	assert.False(t, a.IsAlive(2))
	assert.Equal(t, []algorithms.NodeID{1}, a.Alive())

	// Back: Up at the first heartbeat.
	ev = tickPair(a, b, func(int) bool { return true }, 20, 240)
	require.Equal(t, []algorithms.Event{Up{ID: 2}}, ev)

	// A restart (higher incarnation) seen without a suspicion: Down, Up.
	b2, err := New(cfg(2, 1))
	require.NoError(t, err)
	ev = tickPair(a, b2, func(int) bool { return true }, 20, 260)
	require.Equal(t, []algorithms.Event{Down{ID: 2}, Up{ID: 2, Incarnation: 1}}, ev)

	// A late heartbeat of the old incarnation changes nothing.
	require.NoError(t, a.Step(2, Heartbeat{Incarnation: 0}))
	assert.Empty(t, a.Ready().Events)

	// Any frame proves life.
	for range 25 {
		a.Tick()
	}
	a.Heard(2)
	for range 25 {
		a.Tick()
	}
	assert.Empty(t, a.Ready().Events)
	assert.True(t, a.IsAlive(2))
}

func TestStepRejects(t *testing.T) {
	m, err := New(Config{ID: 1, Members: ids(3)})
	require.NoError(t, err)
	assert.ErrorIs(t, m.Step(9, Heartbeat{}), ErrNotMember)
	assert.Error(t, m.Step(1, Heartbeat{}))
	assert.ErrorIs(t, m.Step(2, other{}), algorithms.ErrUnknownMessage)
}

type other struct{}

func (other) Kind() string { return "OTHER" }
func (other) Size() int    { return 1 }

func TestStatusAndDigest(t *testing.T) {
	a, _ := New(Config{ID: 1, Members: ids(3), PeriodTicks: 5, Missed: 2})
	b, _ := New(Config{ID: 2, Members: ids(3), PeriodTicks: 5, Missed: 2})
	b.SetStatus(0x42)
	assert.Equal(t, a.Digest(), b.Digest(), "same view, same digest")
	for range 10 {
		b.Tick()
	}
	for _, s := range b.Ready().Sends {
		require.NoError(t, a.Step(2, s.Msg))
	}
	st, dg, ok := a.Status(2)
	assert.True(t, ok)
	assert.Equal(t, uint8(0x42), st)
	assert.Equal(t, b.Digest(), dg)
	_, _, ok = a.Status(3)
	assert.False(t, ok)
	// Drone 3 never speaks: suspected, and a's digest moves away.
	for range 20 {
		a.Tick()
	}
	assert.Contains(t, a.Ready().Events, algorithms.Event(Down{ID: 3}))
	assert.NotEqual(t, b.Digest(), a.Digest())
}

func TestSetMembers(t *testing.T) {
	m, err := New(Config{ID: 1, Members: ids(250)})
	require.NoError(t, err)
	require.Equal(t, 3212, m.PeriodTicks())
	require.NoError(t, m.SetMembers(ids(125)))
	assert.Equal(t, 1606, m.PeriodTicks())
	assert.Len(t, m.Alive(), 125)
	assert.ErrorIs(t, m.SetMembers([]algorithms.NodeID{2, 3}), ErrConfig)
}

// The same seed gives the same schedule; another seed another phase.
func TestJitterIsSeeded(t *testing.T) {
	schedule := func(seed uint64) []int {
		m, _ := New(Config{ID: 1, Members: ids(10), PeriodTicks: 50, Seed: seed})
		var at []int
		for i := range 1000 {
			m.Tick()
			if len(m.Ready().Sends) > 0 {
				at = append(at, i)
			}
		}
		return at
	}
	a, b, c := schedule(7), schedule(7), schedule(8)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	for i := 1; i < len(a); i++ {
		gap := a[i] - a[i-1]
		assert.True(t, gap >= 50 && gap <= 55, "interval %d outside [50, 55]", gap)
	}
}

// A drone that restarts without state may come back with any incarnation
// (a random boot nonce), lower than its previous one: the restart is
// noticed, its heartbeats count from then on, and late frames of the old
// incarnation change nothing while the new one beats.
func TestRestartWithLowerIncarnation(t *testing.T) {
	a, err := New(Config{ID: 1, Members: ids(2), PeriodTicks: 10, Jitter: -1, Missed: 3, Seed: 1})
	require.NoError(t, err)
	beat := func(inc uint32, status uint8) {
		require.NoError(t, a.Step(2, Heartbeat{Incarnation: inc, Status: status}))
	}
	beat(0x9000_0000, 1)
	assert.Empty(t, a.Ready().Events)

	beat(0x1234, 2) // restarted with a lower incarnation
	require.Equal(t, []algorithms.Event{Down{ID: 2}, Up{ID: 2, Incarnation: 0x1234}}, a.Ready().Events)
	for range 100 {
		for range 9 {
			a.Tick()
		}
		beat(0x1234, 2)
		if got := a.Ready().Events; len(got) > 0 {
			t.Fatalf("heartbeats of the new incarnation raised %v", got)
		}
		require.True(t, a.IsAlive(2))
	}
	beat(0x9000_0000, 1) // a late frame of the old incarnation
	assert.Empty(t, a.Ready().Events)
	status, _, _ := a.Status(2)
	assert.Equal(t, uint8(2), status, "the late frame was taken for the current incarnation")

	// An old incarnation that outlives the current one by a timeout is
	// taken back: an incarnation's value says nothing of its age.
	for range a.TimeoutTicks() + 1 {
		a.Tick()
	}
	require.Equal(t, []algorithms.Event{Down{ID: 2}}, a.Ready().Events)
	beat(0x9000_0000, 3)
	require.Equal(t, []algorithms.Event{Up{ID: 2, Incarnation: 0x9000_0000}}, a.Ready().Events)
}

// Every drone holds one member per drone of its network: at 250 drones a
// network that is what most of a drone's memory goes to, so it stays at
// 32 bytes.
func TestMemberSize(t *testing.T) {
	assert.LessOrEqual(t, int(unsafe.Sizeof(member{})), 32)
}
