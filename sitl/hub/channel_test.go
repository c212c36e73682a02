package hub

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testFrame is a MAVLink 2 frame of n bytes (n ≥ 12) from sysid, signed
// when n leaves room for a signature; only its header is meaningful.
func testFrame(n int, sysid uint8, fill byte) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = fill
	}
	plen := n - headerV2 - checksumBytes
	f[2] = 0
	if plen >= signatureBytes {
		plen -= signatureBytes
		f[2] = flagSigned
	}
	f[0], f[1], f[5] = magicV2, byte(plen), sysid
	return f
}

func newTestChannel(cfg channelConfig, seed uint64) *channel {
	if cfg.baud == 0 {
		cfg.baud = 57600
	}
	if cfg.queueBytes == 0 {
		cfg.queueBytes = 4096
	}
	return newChannel(cfg, rand.New(rand.NewPCG(seed, 1)), t0)
}

// run steps c through every event until nothing is left and returns the
// deliveries.
func run(c *channel) []delivery {
	var out []delivery
	for {
		at, ok := c.next()
		if !ok {
			return out
		}
		out = append(out, c.step(at)...)
	}
}

func TestFrameLenReadsTheHeaderOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     []byte
		n     int
		sysid uint8
	}{
		{"v2 unsigned", testFrame(32, 7, 0), 32, 7},
		{"v2 signed", testFrame(45, 9, 0), 45, 9},
		{"v2 largest", testFrame(280, 250, 0), 280, 250},
		{"v1", []byte{magicV1, 9, 0, 42, 1, 0}, 17, 42},
		{"short header", []byte{magicV2, 9, 0}, 0, 0},
		{"unknown incompatibility flag", []byte{magicV2, 9, 2, 0, 0, 1, 1, 0, 0, 0}, -1, 0},
		{"no magic", []byte{0x55}, -1, 0},
	} {
		n, sysid := frameLen(tc.b)
		assert.Equal(t, tc.n, n, tc.name)
		assert.Equal(t, tc.sysid, sysid, tc.name)
	}
}

func TestSplitterResynchronisesOnGarbage(t *testing.T) {
	a, b := testFrame(45, 1, 0x11), testFrame(32, 2, 0x22)
	stream := append([]byte("noise"), a...)
	stream = append(stream, 0xFD, 0x03, 0x80) // a magic byte with a bad flag
	stream = append(stream, b...)
	var s splitter
	var got [][]byte
	var ids []uint8
	// Byte by byte, as a serial port may deliver them.
	for i := range stream {
		s.feed(stream[i:i+1], func(f []byte, id uint8) { got = append(got, f); ids = append(ids, id) })
	}
	require.Len(t, got, 2)
	assert.Equal(t, a, got[0])
	assert.Equal(t, b, got[1])
	assert.Equal(t, []uint8{1, 2}, ids)
	assert.Equal(t, 5+3, s.garbage)
}

// TestChannelAirtime checks that frames take the shared channel in the
// order they were offered, each for bytes × 10 / baud, and reach every
// endpoint but their sender, unchanged, when their airtime ends.
func TestChannelAirtime(t *testing.T) {
	c := newTestChannel(channelConfig{baud: 57600}, 1)
	a, b, d := c.join("a"), c.join("b"), c.join("d")
	f1, f2, f3 := testFrame(45, 1, 1), testFrame(32, 1, 2), testFrame(280, 2, 3)
	require.True(t, c.offer(t0, a, f1, 1))
	require.True(t, c.offer(t0, a, f2, 1))
	require.True(t, c.offer(t0.Add(time.Millisecond), b, f3, 2))
	// 45 bytes: 7.8125 ms; 32 bytes: 5.555555 ms; 280 bytes: 48.611111 ms.
	air1, air2, air3 := 7812500*time.Nanosecond, 5555555*time.Nanosecond, 48611111*time.Nanosecond
	require.Equal(t, air1, Airtime(45, 57600))
	require.Equal(t, air2, Airtime(32, 57600))
	require.Equal(t, air3, Airtime(280, 57600))

	assert.Empty(t, c.step(t0.Add(air1-1)), "nothing arrives before the first frame's airtime ends")
	got := run(c)
	type arrival struct {
		to   *endpoint
		body []byte
		at   time.Duration
	}
	var arr []arrival
	for _, d := range got {
		arr = append(arr, arrival{d.to, d.frame, d.at.Sub(t0)})
	}
	assert.Equal(t, []arrival{
		{b, f1, air1}, {d, f1, air1},
		{b, f2, air1 + air2}, {d, f2, air1 + air2},
		{a, f3, air1 + air2 + air3}, {d, f3, air1 + air2 + air3},
	}, arr)
	nc := c.counters(1, t0.Add(time.Second))
	assert.Equal(t, 3, nc.Frames)
	assert.Equal(t, 357, nc.Bytes)
	assert.Equal(t, air1+air2+air3, nc.Airtime)
	assert.InDelta(t, (air1 + air2 + air3).Seconds(), nc.AirtimeShare, 1e-12)
	assert.Equal(t, air1+air2, nc.Endpoints[0].Airtime)
	assert.Equal(t, air3, nc.Endpoints[1].Airtime)
	assert.Equal(t, 6, nc.Delivered)
	assert.Equal(t, []int{1, 2, 3}, []int{nc.Endpoints[0].Received, nc.Endpoints[1].Received, nc.Endpoints[2].Received})
	assert.Equal(t, 0, nc.Queued)
}

// TestChannelBusiestWindow checks the busiest 10 s share against frames
// placed across a window boundary.
func TestChannelBusiestWindow(t *testing.T) {
	c := newTestChannel(channelConfig{baud: 1000}, 1) // 100 bytes a second
	a := c.join("a")
	c.join("b")
	// 500 bytes: 5 s on air, from 8 s to 13 s: 2 s in the first window, 3 s
	// in the second.
	require.True(t, c.offer(t0.Add(8*time.Second), a, testFrame(250, 1, 0), 1))
	require.True(t, c.offer(t0.Add(8*time.Second), a, testFrame(250, 1, 0), 1))
	run(c)
	assert.Equal(t, []time.Duration{2 * time.Second, 3 * time.Second}, c.windows)
	assert.InDelta(t, 0.3, c.busiest(t0.Add(20*time.Second)), 1e-12)
	assert.InDelta(t, 0.6, c.busiest(t0.Add(15*time.Second)), 1e-12, "the current window counts over its elapsed 5 s")
}

// TestChannelLossWithinBinomialBound checks the loss and duplication
// rates against their binomial distributions: each receiver draws its own
// fate for every frame.
func TestChannelLossWithinBinomialBound(t *testing.T) {
	const frames, receivers, loss, dup = 1000, 4, 0.1, 0.05
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 5)); seed++ {
		c := newTestChannel(channelConfig{loss: loss, duplicate: dup}, seed)
		a := c.join("a")
		for range receivers {
			c.join("r")
		}
		at := t0
		for range frames {
			require.True(t, c.offer(at, a, testFrame(45, 1, 0), 1))
			at = at.Add(10 * time.Millisecond)
			run(c)
		}
		nc := c.counters(1, at)
		trials := float64(frames * receivers)
		bound := func(p float64, n float64) float64 { return 5 * math.Sqrt(n*p*(1-p)) }
		assert.InDelta(t, loss*trials, float64(nc.Lost), bound(loss, trials), "seed=%d lost %d of %v", seed, nc.Lost, trials)
		kept := trials - float64(nc.Lost)
		assert.InDelta(t, dup*kept, float64(nc.Duplicated), bound(dup, kept), "seed=%d duplicated %d of %v", seed, nc.Duplicated, kept)
		assert.Equal(t, int(kept)+nc.Duplicated, nc.Delivered, "seed=%d", seed)
		for _, ep := range nc.Endpoints[1:] {
			assert.Equal(t, frames, ep.Lost+ep.Received-ep.Duplicated, "seed=%d %s", seed, ep.Endpoint)
		}
	}
}

// TestChannelSameSeedSameFate checks that the hub's choices replay.
func TestChannelSameSeedSameFate(t *testing.T) {
	trace := func(seed uint64) []time.Duration {
		c := newTestChannel(channelConfig{loss: 0.2, duplicate: 0.1, reorder: 30 * time.Millisecond}, seed)
		a := c.join("a")
		c.join("b")
		c.join("c")
		for i := range 200 {
			c.offer(t0.Add(time.Duration(i)*time.Millisecond), a, testFrame(45, 1, 0), 1)
		}
		var out []time.Duration
		for _, d := range run(c) {
			out = append(out, d.at.Sub(t0))
		}
		return out
	}
	assert.Equal(t, trace(7), trace(7))
	assert.NotEqual(t, trace(7), trace(8))
}

// TestChannelReorderDelaysWithinBound checks every copy arrives between
// the end of its airtime and Reorder later, and that some overtake.
func TestChannelReorderDelaysWithinBound(t *testing.T) {
	const reorder = 50 * time.Millisecond
	c := newTestChannel(channelConfig{reorder: reorder, queueBytes: 100 * 45}, 3)
	a := c.join("a")
	c.join("b")
	for i := range 100 {
		c.offer(t0, a, testFrame(45, 1, byte(i)), 1)
	}
	got := run(c)
	require.Equal(t, 100, len(got))
	air := Airtime(45, 57600)
	overtaken := 0
	for i, d := range got {
		n := int(d.frame[12]) // the fill byte: the order offered
		end := t0.Add(time.Duration(n+1) * air)
		assert.False(t, d.at.Before(end), "frame %d delivered before its airtime ended", n)
		assert.False(t, d.at.After(end.Add(reorder)), "frame %d delayed beyond the bound", n)
		if n != i {
			overtaken++
		}
	}
	assert.Positive(t, overtaken, "a 50 ms bound on 7.8 ms frames reorders some")
}

// TestChannelPartition checks that a partition blocks exactly the frames
// between groups, the unlisted IDs forming one more group, and that Heal
// restores them.
func TestChannelPartition(t *testing.T) {
	c := newTestChannel(channelConfig{}, 1)
	ids := []uint8{1, 2, 3, 255}
	eps := map[uint8]*endpoint{}
	for _, id := range ids {
		eps[id] = c.join("sys")
		c.offer(t0, eps[id], testFrame(45, id, 0), id) // learn the IDs
	}
	run(c)
	base := c.counters(1, t0).Delivered
	require.Equal(t, 12, base)
	pairs := func() map[[2]uint8]int {
		for _, id := range ids {
			require.True(t, c.offer(t0.Add(time.Second), eps[id], testFrame(45, id, 0), id))
		}
		out := map[[2]uint8]int{}
		for _, d := range run(c) {
			out[[2]uint8{d.frame[5], d.to.sysid}]++
		}
		return out
	}
	c.partition([][]uint8{{1, 2}, {3}})
	assert.Equal(t, map[[2]uint8]int{{1, 2}: 1, {2, 1}: 1}, pairs(), "255 is alone in the group of the unlisted")
	assert.Equal(t, 10, c.counters(1, t0).PartitionDrops)
	c.heal()
	got := pairs()
	assert.Len(t, got, 12)
	assert.Equal(t, 10, c.counters(1, t0).PartitionDrops, "nothing more is cut after Heal")
}

// TestChannelQueueOverflowCounted checks that a frame that does not fit
// its sender's transmit queue is dropped and counted, and that the queue's
// free share, which RADIO_STATUS reports, follows the bytes queued.
func TestChannelQueueOverflowCounted(t *testing.T) {
	c := newTestChannel(channelConfig{queueBytes: 100}, 1)
	a := c.join("a")
	c.join("b")
	assert.Equal(t, uint8(100), c.free(a))
	assert.True(t, c.offer(t0, a, testFrame(45, 1, 0), 1))
	assert.True(t, c.offer(t0, a, testFrame(45, 1, 0), 1))
	assert.False(t, c.offer(t0, a, testFrame(45, 1, 0), 1), "135 bytes do not fit 100")
	assert.Equal(t, uint8(10), c.free(a))
	c.step(t0.Add(Airtime(45, 57600)))
	assert.Equal(t, uint8(55), c.free(a), "a frame frees its space when its airtime ends")
	assert.True(t, c.offer(t0, a, testFrame(45, 1, 0), 1))
	run(c)
	nc := c.counters(1, t0)
	assert.Equal(t, 1, nc.QueueDrops)
	assert.Equal(t, 1, nc.Endpoints[0].QueueDrops)
	assert.Equal(t, 3, nc.Frames)
	assert.Equal(t, uint8(100), c.free(a))
}

// FuzzSplitter checks that any bytes, cut anywhere, come out as frames
// whose headers give their lengths, garbage, and a kept tail that adds up
// to what went in.
func FuzzSplitter(f *testing.F) {
	f.Add(append(append([]byte("xx"), testFrame(45, 1, 0)...), testFrame(32, 2, 0xFD)...), 3)
	f.Add([]byte{magicV1, 2, 0, 9, 1, 0, 1, 2, 3, 4, magicV2, 0, 1}, 1)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		var s splitter
		out := 0
		emit := func(frame []byte, sysid uint8) {
			n, id := frameLen(frame)
			if n != len(frame) || id != sysid {
				t.Fatalf("frame of %d bytes whose header says %d, system %d/%d", len(frame), n, id, sysid)
			}
			out += n
		}
		if cut < 0 || cut > len(b) {
			cut = len(b) / 2
		}
		s.feed(b[:cut], emit)
		s.feed(b[cut:], emit)
		if out+s.garbage+len(s.buf) != len(b) {
			t.Fatalf("%d bytes in, %d in frames, %d garbage, %d kept", len(b), out, s.garbage, len(s.buf))
		}
	})
}
