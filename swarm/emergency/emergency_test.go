package emergency

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func ids(n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(i + 1)
	}
	return out
}

func core(t *testing.T, id algorithms.NodeID, mut ...func(*Config)) *Core {
	t.Helper()
	cfg := Config{ID: id, Key: key, Members: ids(5), Seed: 1}
	for _, m := range mut {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

func TestSignVerify(t *testing.T) {
	cmd := Sign(key, 255, 7, Land)
	assert.True(t, Verify(key, cmd))
	for _, bad := range []Command{
		{Issuer: 254, ID: 7, Op: Land, MAC: cmd.MAC},
		{Issuer: 255, ID: 8, Op: Land, MAC: cmd.MAC},
		{Issuer: 255, ID: 7, Op: Hold, MAC: cmd.MAC},
		Sign([]byte("another key, sixteen bytes+"), 255, 7, Land),
	} {
		assert.False(t, Verify(key, bad), "%+v", bad)
	}
	assert.Equal(t, "RETURN", Return.String())
}

func TestMessages(t *testing.T) {
	assert.Equal(t, 16, Emergency{}.Size())
	assert.Equal(t, 16+32, Emergency{Acked: make([]byte, 32)}.Size(), "250 members")
	assert.Equal(t, 7, Ack{}.Size())
	assert.True(t, algorithms.IsUnreliable(Emergency{}))
	assert.True(t, algorithms.IsUnreliable(Ack{}))
	assert.Equal(t, algorithms.ClassAck, algorithms.ClassOf(Ack{}))
}

// Obeyed once, at once; a forged or older command is rejected and counted.
func TestObeyOnceRejectForgedAndReplayed(t *testing.T) {
	c := core(t, 2)
	land := Sign(key, 255, 3, Land)
	require.NoError(t, c.Step(7, Emergency{Cmd: land}))
	assert.Equal(t, []algorithms.Event{Obey{Cmd: land}}, c.Ready().Events)
	require.NoError(t, c.Step(8, Emergency{Cmd: land}))
	assert.Empty(t, c.Ready().Events, "idempotent")

	forged := land
	forged.Op = Return
	assert.ErrorIs(t, c.Step(7, Emergency{Cmd: forged}), ErrForged)
	old := Sign(key, 255, 2, Hold)
	assert.ErrorIs(t, c.Step(7, Emergency{Cmd: old}), ErrReplayed)
	assert.Empty(t, c.Ready().Events)
	// Another issuer's IDs are its own.
	other := Sign(key, 254, 1, Hold)
	require.NoError(t, c.Step(254, Emergency{Cmd: other}))
	assert.Equal(t, []algorithms.Event{Obey{Cmd: other}}, c.Ready().Events)

	n := c.Counters()
	assert.Equal(t, Counters{Obeyed: 2, Duplicates: 1, Forged: 1, Replayed: 1}, n)
	assert.NoError(t, c.Step(1, Ack{}), "an acknowledgement to someone else")
	assert.ErrorIs(t, c.Step(1, other2{}), algorithms.ErrUnknownMessage)
}

type other2 struct{}

func (other2) Kind() string { return "OTHER" }
func (other2) Size() int    { return 1 }

// The receiver relays in the first round unless it heard enough copies,
// and stops after MaxRelays rounds; it acknowledges to the issuer once.
func TestDefaults(t *testing.T) {
	c := core(t, 1, func(cfg *Config) { cfg.Members = ids(250) })
	assert.Equal(t, 500, c.cfg.AckSpreadTicks)
	assert.Equal(t, 20*7+500+50, c.cfg.RepeatTicks)
	assert.Equal(t, 16, c.cfg.MaxRepeats)
}

func TestRelayAndAck(t *testing.T) {
	run := func(copies int) (relays, acks int) {
		c := core(t, 2, func(cfg *Config) { cfg.RelayTicks = 10; cfg.MaxRelays = 3; cfg.AckSpreadTicks = 5 })
		cmd := Sign(key, 1, 1, Hold)
		require.NoError(t, c.Step(1, Emergency{Cmd: cmd}))
		for i := range copies {
			require.NoError(t, c.Step(algorithms.NodeID(3+i), Emergency{Cmd: cmd}))
		}
		for range 200 {
			c.Tick()
		}
		for _, s := range c.Ready().Sends {
			switch m := s.Msg.(type) {
			case Emergency:
				relays++
				assert.Nil(t, s.To)
				assert.Nil(t, m.Acked)
			case Ack:
				acks++
				assert.Equal(t, []algorithms.NodeID{1}, s.To)
				assert.Equal(t, Ack{Issuer: 1, ID: 1}, m)
			}
		}
		return relays, acks
	}
	r, a := run(0)
	assert.Equal(t, 3, r, "one relay per round, nothing heard")
	assert.Equal(t, 1, a)
	r, _ = run(2)
	assert.Equal(t, 2, r, "two copies heard: the first round is skipped")
}

// The issuer repeats until every member acknowledged, with the bitmap of
// who did; a member whose bit is clear acknowledges again.
func TestIssuerRepeatsUntilAcknowledged(t *testing.T) {
	gs := core(t, 1, func(cfg *Config) { cfg.RepeatTicks = 10; cfg.MaxRepeats = 5 })
	assert.Equal(t, 50, gs.cfg.AckSpreadTicks)
	cmd := gs.Issue(Return)
	rd := gs.Ready()
	assert.Equal(t, []algorithms.Event{Obey{Cmd: cmd}}, rd.Events)
	require.Len(t, rd.Sends, 1)
	first := rd.Sends[0].Msg.(Emergency)
	assert.Equal(t, []byte{0b00001}, first.Acked)

	for _, id := range []algorithms.NodeID{2, 3, 4} {
		require.NoError(t, gs.Step(id, Ack{Issuer: 1, ID: cmd.ID}))
	}
	for range 10 {
		gs.Tick()
	}
	rd = gs.Ready()
	require.Len(t, rd.Sends, 1)
	rep := rd.Sends[0].Msg.(Emergency)
	assert.Equal(t, []byte{0b01111}, rep.Acked)

	// Drone 4 has acknowledged: the repeat does not make it ack again;
	// drone 5 has not.
	d4, d5 := core(t, 4), core(t, 5)
	for _, d := range []*Core{d4, d5} {
		require.NoError(t, d.Step(1, first))
		for range 300 {
			d.Tick()
		}
		d.Ready()
		require.NoError(t, d.Step(1, rep))
		for range 300 {
			d.Tick()
		}
	}
	countAcks := func(c *Core) int {
		n := 0
		for _, s := range c.Ready().Sends {
			if _, ok := s.Msg.(Ack); ok {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 0, countAcks(d4))
	assert.Equal(t, 1, countAcks(d5))

	require.NoError(t, gs.Step(5, Ack{Issuer: 1, ID: cmd.ID}))
	assert.Equal(t, []algorithms.Event{Delivered{Cmd: cmd}}, gs.Ready().Events)
	for range 100 {
		gs.Tick()
	}
	assert.Empty(t, gs.Ready().Sends, "no repeats once delivered")

	// Without acknowledgements it gives up after MaxRepeats.
	cmd2 := gs.Issue(Land)
	assert.Equal(t, uint32(2), cmd2.ID)
	for range 100 {
		gs.Tick()
	}
	rd = gs.Ready()
	assert.Len(t, rd.Sends, 1+5)
	assert.Contains(t, rd.Events, algorithms.Event(Unacknowledged{Cmd: cmd2, Missing: []algorithms.NodeID{2, 3, 4, 5}}))
}

// The last IDs survive a restart: a replay is still rejected, and the
// issuer's IDs keep growing.
func TestPersist(t *testing.T) {
	c := core(t, 1)
	c.Issue(Hold)
	require.NoError(t, c.Step(9, Emergency{Cmd: Sign(key, 255, 40, Land)}))
	state := c.Persist()

	r := core(t, 1, func(cfg *Config) { cfg.State = state })
	assert.ErrorIs(t, r.Step(9, Emergency{Cmd: Sign(key, 255, 39, Hold)}), ErrReplayed)
	assert.Equal(t, uint32(40), r.LastObeyed(255))
	assert.Equal(t, uint32(2), r.Issue(Land).ID)

	_, err := New(Config{ID: 1, Key: key, State: []byte{1, 2}})
	assert.ErrorIs(t, err, ErrState)
	_, err = New(Config{ID: 1, Key: key[:8]})
	assert.ErrorIs(t, err, ErrConfig)
}
