package sim

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

// The airtime figure of a MAVLink v2 frame on a serial radio: a signed frame with a
// 20-byte payload is 45 bytes and takes 7.8125 ms at 57600 baud.
func TestFrameAirtime(t *testing.T) {
	cases := []struct {
		payload int
		signed  bool
		baud    int
		bytes   int
		air     Time
	}{
		{20, true, 57600, 45, 7812500},
		{20, false, 57600, 32, 5555555},
		{9, false, 57600, 21, 3645833}, // HEARTBEAT
		{20, true, 115200, 45, 3906250},
	}
	for _, c := range cases {
		n := FrameBytes(c.payload, c.signed)
		assert.Equal(t, c.bytes, n)
		assert.Equal(t, c.air, Airtime(n, c.baud))
	}
	assert.InDelta(t, 7.8125, Airtime(45, 57600).Milliseconds(), 1e-9)
}

// gossip is a test core: on every tick it may send a message to a random
// peer or everyone (drawn from the run's seed by the test), and answers
// every message it receives with an echo to the sender.
type gossip struct {
	algorithms.Outbox
	id  algorithms.NodeID
	got int
}

type note struct{ echo bool }

func (note) Kind() string { return "NOTE" }
func (note) Size() int    { return 20 }

func (g *gossip) Step(from algorithms.NodeID, m algorithms.Message) error {
	g.got++
	if n, ok := m.(note); ok && !n.echo {
		g.Send(algorithms.To(from), note{echo: true})
	}
	return nil
}
func (g *gossip) Tick() {}

func runGossip(t *testing.T, seed uint64, trace io.Writer) *Sim {
	s, err := New(Config{
		Drones: 8, Seed: seed, Loss: 0.2, Dup: 0.1, Reorder: 40 * Millisecond,
		DetectAfter: 200 * Millisecond, ClockOffset: 100 * Millisecond, ClockDriftPPM: 50,
		TrackCausality: true, Trace: trace,
	}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	for i := range 200 {
		at := Time(i) * 15 * Millisecond
		s.At(at, func() {
			from := algorithms.NodeID(1 + s.Rand().IntN(8))
			var to []algorithms.NodeID
			if s.Rand().IntN(3) > 0 {
				to = algorithms.To(algorithms.NodeID(1 + (int(from)+s.Rand().IntN(7))%8))
			}
			s.Call(from, func(c algorithms.Core) { c.(*gossip).Send(to, note{}) })
		})
	}
	s.At(1*Second, func() { s.Crash(3) })
	s.At(1500*Millisecond, func() { s.Partition([]algorithms.NodeID{1, 2}) })
	s.At(2*Second, func() { require.NoError(t, s.Restart(3, false)) })
	s.At(2500*Millisecond, func() { s.Heal() })
	s.Run(20*Second, nil)
	return s
}

// The same seed gives the same trace, with every fault on; another seed
// gives another.
func TestSameSeedSameTrace(t *testing.T) {
	var a, b bytes.Buffer
	s1 := runGossip(t, 42, &a)
	s2 := runGossip(t, 42, &b)
	require.Equal(t, s1.TraceHash(), s2.TraceHash(), "seed=42: two runs of one seed differ")
	require.Equal(t, a.String(), b.String())
	for _, ev := range []string{`"ev":"tx"`, `"ev":"rx"`, `"ev":"drop"`, `"ev":"deliver"`, `"ev":"crash"`, `"ev":"restart"`, `"ev":"send"`} {
		assert.Contains(t, a.String(), ev)
	}
	assert.Greater(t, s1.Stats().Duplicated, 0)
	assert.Greater(t, s1.Stats().Lost, 0)
	s3 := runGossip(t, 43, nil)
	assert.NotEqual(t, s1.TraceHash(), s3.TraceHash())
	// Every line is one JSON object.
	for _, line := range strings.Split(strings.TrimSpace(a.String()), "\n") {
		require.True(t, strings.HasPrefix(line, `{"t":`) && strings.HasSuffix(line, "}"), line)
	}
}

// Transmissions on one network wait for the channel: two frames queued at
// once end one airtime apart.
func TestChannelIsShared(t *testing.T) {
	s, err := New(Config{Drones: 3, Seed: 1, Unsigned: true}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	var buf bytes.Buffer
	s.cfg.Trace = &buf
	s.Call(1, func(c algorithms.Core) { c.(*gossip).Send(algorithms.To(2), note{}) })
	s.Call(3, func(c algorithms.Core) { c.(*gossip).Send(algorithms.To(2), note{}) })
	assert.Contains(t, buf.String(), `"start":0,`)
	first := Airtime(FrameBytes(5+6+20, false), 57600)
	assert.Contains(t, buf.String(), `"start":`+strconv.FormatInt(int64(first), 10)+`,`)
	s.Run(Second, nil)
	assert.Equal(t, 2, s.Core(2).(*gossip).got)
}

// The busiest window counts each frame's airtime in the windows it is on
// air in, per network.
func TestBusiestWindowShare(t *testing.T) {
	s, err := New(Config{Drones: 2, Seed: 1, Unsigned: true, Raw: true}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	air := Airtime(FrameBytes(2+20+2, false), 57600) // a raw unicast
	s.At(AirtimeWindow-air/2, func() { s.Call(1, func(c algorithms.Core) { c.(*gossip).Send(algorithms.To(2), note{echo: true}) }) })
	for range 4 {
		s.At(AirtimeWindow+Second, func() { s.Call(1, func(c algorithms.Core) { c.(*gossip).Send(algorithms.To(2), note{echo: true}) }) })
	}
	s.Run(3*AirtimeWindow, nil)
	st := s.Stats()
	require.Len(t, st.AirtimeWindows, 1)
	require.Len(t, st.AirtimeWindows[0], 2)
	assert.Equal(t, air/2, st.AirtimeWindows[0][0])
	assert.Equal(t, air/2+4*air, st.AirtimeWindows[0][1])
	assert.InDelta(t, float64(air/2+4*air)/float64(AirtimeWindow), st.BusiestWindowShare(3*AirtimeWindow), 1e-12)
	// A last, partial window is taken as a share of its own length.
	assert.InDelta(t, float64(air/2+4*air)/float64(Second+air), st.BusiestWindowShare(AirtimeWindow+Second+air), 1e-12)
}

// Clocks have their own offset and drift, within the configured bounds.
func TestLocalClocks(t *testing.T) {
	s, err := New(Config{Drones: 50, Seed: 7, ClockOffset: 500 * Millisecond, ClockDriftPPM: 50},
		func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) { return &gossip{id: id}, nil })
	require.NoError(t, err)
	s.Run(100*Second, nil)
	distinct := map[Time]bool{}
	for id := algorithms.NodeID(1); id <= 50; id++ {
		off := s.LocalTime(id) - s.Now()
		assert.LessOrEqual(t, off.Milliseconds(), 500+100*50e-3+1e-9)
		assert.GreaterOrEqual(t, off.Milliseconds(), -500-100*50e-3-1e-9)
		distinct[off] = true
	}
	assert.Greater(t, len(distinct), 40)
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Drones: 0}, {Drones: 65535}, {Drones: 2, Loss: 1}, {Drones: 2, Dup: -0.1}, {Drones: 2, Reorder: -1}, {Drones: 2, Networks: 3}} {
		_, err := New(cfg, nil)
		assert.ErrorIs(t, err, ErrBadConfig, "%+v", cfg)
	}
}

type hb struct{}

func (hb) Kind() string            { return "HEARTBEAT" }
func (hb) Size() int               { return 9 }
func (hb) Class() algorithms.Class { return algorithms.ClassHeartbeat }

// Raw mode sends each core message as one frame, unacknowledged, counted by
// the message's class; heartbeats are not textbook messages.
func TestRawFrames(t *testing.T) {
	s, err := New(Config{Drones: 4, Seed: 5, Raw: true}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	s.Call(1, func(c algorithms.Core) {
		c.(*gossip).Send(nil, note{echo: true})
		c.(*gossip).Send(nil, hb{})
	})
	s.Run(Second, nil)
	st := s.Stats()
	assert.Equal(t, 1, st.DataFrames)
	assert.Equal(t, 1, st.HeartbeatFrames)
	assert.Equal(t, 0, st.AckFrames)
	assert.Equal(t, 3, st.Messages, "one broadcast to 3 peers counts 3; the heartbeat none")
	for id := algorithms.NodeID(2); id <= 4; id++ {
		assert.Equal(t, 2, s.Core(id).(*gossip).got)
	}
	want := Airtime(FrameBytes(2+2+20, true), 57600) + Airtime(FrameBytes(2+2+9, true), 57600)
	assert.Equal(t, want, st.Airtime)
}

type probe struct{}

func (probe) Kind() string            { return "PROBE" }
func (probe) Size() int               { return 4 }
func (probe) Unreliable()             {}
func (probe) Class() algorithms.Class { return algorithms.ClassHeartbeat }

// Unreliable messages go out raw beside reliable ones: no acknowledgement,
// and a lost one stays lost.
func TestUnreliableMessagesGoRaw(t *testing.T) {
	s, err := New(Config{Drones: 2, Seed: 1}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	s.Call(1, func(c algorithms.Core) {
		c.(*gossip).Send(nil, probe{})
		c.(*gossip).Send(nil, note{echo: true})
	})
	s.Run(5*Second, nil)
	st := s.Stats()
	assert.Equal(t, 1, st.HeartbeatFrames)
	assert.Equal(t, 1, st.DataFrames)
	assert.Equal(t, 1, st.AckFrames, "only the reliable message is acknowledged")
	assert.Equal(t, 2, s.Core(2).(*gossip).got)
}

// After Calm, the radio model loses, duplicates and delays nothing, and
// the configuration still reads as given.
func TestCalm(t *testing.T) {
	s, err := New(Config{Drones: 4, Seed: 3, Loss: 0.5, Dup: 0.5, Reorder: 40 * Millisecond}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	s.Partition([]algorithms.NodeID{1})
	s.Calm()
	for i := range 50 {
		s.At(Time(i)*100*Millisecond, func() {
			s.Call(1, func(c algorithms.Core) { c.(*gossip).Send(nil, note{}) })
		})
	}
	s.Run(10*Second, nil)
	st := s.Stats()
	assert.Zero(t, st.Lost, "seed=3")
	assert.Zero(t, st.Duplicated, "seed=3")
	for id := algorithms.NodeID(2); id <= 4; id++ {
		assert.Equal(t, 50, s.Core(id).(*gossip).got, "seed=3 drone %d", id)
	}
	assert.Equal(t, 0.5, s.Config().Loss)
}

// onAirProbe is stamped with the time it waited for the channel.
type onAirProbe struct{ waited int64 }

func (onAirProbe) Kind() string { return "ON_AIR_PROBE" }
func (onAirProbe) Size() int    { return 10 }
func (onAirProbe) Unreliable()  {}
func (p onAirProbe) OnAir(waited int64) algorithms.Message {
	p.waited += waited
	return p
}

type recorder struct {
	algorithms.Outbox
	got []algorithms.Message
}

func (r *recorder) Step(_ algorithms.NodeID, m algorithms.Message) error {
	r.got = append(r.got, m)
	return nil
}
func (r *recorder) Tick() {}

// A message stamped on air (a time-sync reply) learns how long it waited
// for the channel: the frames queued before it, one airtime each.
func TestOnAirStampsTheWait(t *testing.T) {
	s, err := New(Config{Drones: 2, Seed: 1}, func(algorithms.NodeID, []byte) (algorithms.Core, error) {
		return &recorder{}, nil
	})
	require.NoError(t, err)
	s.Call(1, func(c algorithms.Core) {
		for range 3 {
			c.(*recorder).Send(algorithms.To(2), onAirProbe{})
		}
	})
	s.Run(Second, nil)
	air := int64(Airtime(FrameBytes(2+2+10, true), 57600))
	assert.Equal(t, []algorithms.Message{onAirProbe{0}, onAirProbe{air}, onAirProbe{2 * air}}, s.Core(2).(*recorder).got)
}

type repeated struct{}

func (repeated) Kind() string            { return "REPEATED" }
func (repeated) Size() int               { return 4 }
func (repeated) Unreliable()             {}
func (repeated) Class() algorithms.Class { return algorithms.ClassRetransmission }

// FamilyFrames counts a family's frames, its raw repeats as the class they
// name (with causality tracking too), and a share of the acknowledgement
// frames in proportion to the acknowledgements the family is owed.
func TestFamilyFrames(t *testing.T) {
	s, err := New(Config{Drones: 3, Seed: 1, TrackCausality: true, Family: func(m algorithms.Message) string {
		if n, ok := m.(note); ok && !n.echo {
			return "note"
		}
		if _, ok := m.(repeated); ok {
			return "note"
		}
		return ""
	}}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	// One reliable NOTE to both others (one frame, two acknowledgements
	// owed), whose echoes are another family's (one each, one owed each),
	// and one raw repeat.
	s.Call(1, func(c algorithms.Core) {
		c.(*gossip).Send(algorithms.To(2, 3), note{})
		c.(*gossip).Send(algorithms.To(2), repeated{})
	})
	s.Run(5*Second, nil)
	st := s.Stats()
	assert.Equal(t, 1, st.Retransmissions, "a raw repeat counts as its class says")
	assert.Equal(t, 3, st.DataFrames)
	require.Positive(t, st.AckFrames)
	assert.InDelta(t, 2+float64(st.AckFrames)*2/4, s.FamilyFrames("note"), 1e-9)
	// Its airtime is that of its two frames: some, not all, and no one
	// else's.
	assert.Positive(t, s.FamilyAirtime("note"))
	assert.Less(t, s.FamilyAirtime("note"), st.Airtime*2/4)
	assert.Zero(t, s.FamilyAirtime("other"))
}

// A reliable message to everyone is for the sender's network: each of its
// drones gets it once, the other network hears nothing, and the sender
// waits for no acknowledgement from the other network, so its endpoint
// falls quiet without retransmitting.
func TestEveryoneIsOwnNetwork(t *testing.T) {
	s, err := New(Config{Drones: 8, Networks: 2, Seed: 3}, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		return &gossip{id: id}, nil
	})
	require.NoError(t, err)
	s.Call(6, func(c algorithms.Core) { c.(*gossip).Send(nil, note{echo: true}) })
	s.Run(10*Second, nil)
	for id := algorithms.NodeID(1); id <= 8; id++ {
		want := 0
		if s.Network(id) == s.Network(6) && id != 6 {
			want = 1
		}
		assert.Equal(t, want, s.Core(id).(*gossip).got, "seed=3: drone %d", id)
	}
	assert.Zero(t, s.Endpoint(6).Pending(), "seed=3")
	assert.Zero(t, s.Stats().Retransmissions, "seed=3")
	assert.True(t, s.Quiet(), "seed=3")
}

// ticker is a test core that sends on its own ticks: every id+2 ticks a
// note to the next drone, every 7th time to everyone.
type ticker struct {
	gossip
	n, ticks int
}

func (k *ticker) Tick() {
	k.ticks++
	if k.ticks%(int(k.id)+2) != 0 {
		return
	}
	var to []algorithms.NodeID
	if k.ticks%7 != 0 {
		to = algorithms.To(algorithms.NodeID(int(k.id)%k.n + 1))
	}
	k.Send(to, note{})
}

// Drones ticked on several goroutines make the same run as drones ticked
// one after the other: the same trace, faults, crashes and restarts
// included. A frame heard by many drones at once (no reordering, or calm)
// is stepped by them on the workers too, over reliable delivery or raw,
// with vector clocks or without.
func TestWorkersSameTrace(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"reordered", Config{Drones: 12, Networks: 2, Loss: 0.2, Dup: 0.1, Reorder: 40 * Millisecond}},
		{"at once", Config{Drones: 80, Networks: 2, Loss: 0.2, Dup: 0.1}},
		{"raw", Config{Drones: 80, Networks: 2, Loss: 0.1, Dup: 0.1, Raw: true}},
		{"causal", Config{Drones: 70, Loss: 0.1, TrackCausality: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(workers int) *Sim {
				cfg := c.cfg
				cfg.Seed, cfg.DetectAfter, cfg.Workers = 9, 200*Millisecond, workers
				s, err := New(cfg, func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
					return &ticker{gossip: gossip{id: id}, n: cfg.Drones}, nil
				})
				require.NoError(t, err)
				s.At(300*Millisecond, func() { s.Crash(3) })
				s.At(900*Millisecond, func() { require.NoError(t, s.Restart(3, false)) })
				s.At(2*Second, func() { s.Calm() })
				s.Run(3*Second, nil)
				return s
			}
			one := run(1)
			assert.Greater(t, one.Stats().Delivered, 200, "seed=9")
			for _, w := range []int{2, 3, 16} {
				assert.Equal(t, one.TraceHash(), run(w).TraceHash(), "seed=9: %d workers", w)
			}
		})
	}
}

// TestAppendQuote: the trace's quoting is strconv's, byte for byte, so
// that trace_hash stays what it was.
func TestAppendQuote(t *testing.T) {
	for _, s := range []string{"", "id", "APPEND", "kind", `a"b`, `back\slash`, "tab\there", "é", "\x00", "\x7f", "日本", "airspace: REQUEST from the drone itself"} {
		if got, want := string(appendQuote(nil, s)), strconv.Quote(s); got != want {
			t.Errorf("appendQuote(%q) = %s, want %s", s, got, want)
		}
	}
}
