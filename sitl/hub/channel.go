package hub

import (
	"container/heap"
	"math/rand/v2"
	"time"
)

// AirtimeWindow is the width of the windows over which Counters report a
// network's busiest share of airtime.
const AirtimeWindow = 10 * time.Second

// Airtime is how long a frame of n bytes occupies a serial radio channel
// at baud bits per second with 8N1 framing (10 bits a byte).
func Airtime(n, baud int) time.Duration {
	return time.Duration(int64(n) * 10 * int64(time.Second) / int64(baud))
}

// endpoint is one radio of a network as the channel sees it: a UDP
// address or a pty, its system ID once it has sent a frame, its transmit
// queue and its totals.
type endpoint struct {
	name   string
	sysid  uint8
	known  bool
	queued int // bytes waiting for the channel or on it

	frames, bytes  int // put on air
	airtime        time.Duration
	queueDrops     int
	received       int // frames handed to it (a duplicate counts twice)
	lost           int
	duplicated     int
	partitionDrops int
	overruns       int // frames it did not read in time (pty)
	status         int // RADIO_STATUS frames sent to it
	garbage        int // bytes between frames that were skipped
}

type pending struct {
	from  *endpoint
	frame []byte
	at    time.Time // when it was offered
}

type delivery struct {
	to    *endpoint
	frame []byte
	at    time.Time
	seq   uint64 // ties in at keep the order they were made in
}

type deliveries []delivery

func (d deliveries) Len() int { return len(d) }
func (d deliveries) Less(i, j int) bool {
	if !d[i].at.Equal(d[j].at) {
		return d[i].at.Before(d[j].at)
	}
	return d[i].seq < d[j].seq
}
func (d deliveries) Swap(i, j int) { d[i], d[j] = d[j], d[i] }
func (d *deliveries) Push(x any)   { *d = append(*d, x.(delivery)) }
func (d *deliveries) Pop() any {
	old := *d
	x := old[len(old)-1]
	old[len(old)-1] = delivery{}
	*d = old[:len(old)-1]
	return x
}

type channelConfig struct {
	baud       int
	queueBytes int
	loss       float64
	duplicate  float64
	reorder    time.Duration
}

// channel is one radio network's shared half-duplex channel. It is pure:
// no goroutines, no clock (the time comes in as an argument), one seeded
// random source, so that the same frames offered at the same times give
// the same losses, duplicates and delays.
//
// Frames wait in their sender's transmit queue and take the channel in the
// order they were offered (an ideal MAC: no collisions, no idle gaps); a
// frame holds its sender's queue space until its airtime ends. Then every
// other endpoint of the network independently misses it, or receives it
// once or twice, each copy after an extra delay drawn from [0, reorder].
type channel struct {
	cfg   channelConfig
	rng   *rand.Rand
	start time.Time

	eps       []*endpoint
	fifo      []pending
	onAir     *pending
	airEnd    time.Time // when onAir ends
	busyUntil time.Time
	out       deliveries
	seq       uint64
	groups    map[uint8]int // partition group by system ID; nil: whole

	frames, bytes, delivered               int
	airtime                                time.Duration
	windows                                []time.Duration
	queueDrops, lost, duplicated, cutDrops int
}

func newChannel(cfg channelConfig, rng *rand.Rand, start time.Time) *channel {
	return &channel{cfg: cfg, rng: rng, start: start, busyUntil: start}
}

// join adds an endpoint to the network.
func (c *channel) join(name string) *endpoint {
	ep := &endpoint{name: name}
	c.eps = append(c.eps, ep)
	return ep
}

// offer queues frame from ep at now, and learns ep's system ID from it.
// It reports false, and counts a queue drop, when ep's transmit queue has
// no room for the frame.
func (c *channel) offer(now time.Time, ep *endpoint, frame []byte, sysid uint8) bool {
	ep.sysid, ep.known = sysid, true
	if ep.queued+len(frame) > c.cfg.queueBytes {
		ep.queueDrops++
		c.queueDrops++
		return false
	}
	ep.queued += len(frame)
	c.fifo = append(c.fifo, pending{from: ep, frame: frame, at: now})
	return true
}

// free is the free share of ep's transmit queue, in percent.
func (c *channel) free(ep *endpoint) uint8 {
	return uint8(100 * (c.cfg.queueBytes - ep.queued) / c.cfg.queueBytes)
}

// step runs the channel up to now and returns the deliveries due by then,
// in the order of their times.
func (c *channel) step(now time.Time) []delivery {
	for {
		if c.onAir == nil {
			if len(c.fifo) == 0 {
				break
			}
			p := c.fifo[0]
			c.fifo[0] = pending{}
			c.fifo = c.fifo[1:]
			start := p.at
			if c.busyUntil.After(start) {
				start = c.busyUntil
			}
			c.onAir = &p
			c.airEnd = start.Add(Airtime(len(p.frame), c.cfg.baud))
			c.countWindows(start, c.airEnd)
		}
		if c.airEnd.After(now) {
			break
		}
		c.finish()
	}
	var due []delivery
	for len(c.out) > 0 && !c.out[0].at.After(now) {
		d := heap.Pop(&c.out).(delivery)
		d.to.received++
		c.delivered++
		due = append(due, d)
	}
	return due
}

// next is when step has something to do next; ok is false when nothing is
// queued, on air or on its way.
func (c *channel) next() (at time.Time, ok bool) {
	if c.onAir != nil || len(c.fifo) > 0 {
		at, ok = c.airEnd, true
		if c.onAir == nil {
			at = c.fifo[0].at // step starts it
		}
	}
	if len(c.out) > 0 && (!ok || c.out[0].at.Before(at)) {
		at, ok = c.out[0].at, true
	}
	return at, ok
}

// finish ends the frame on air: its airtime is counted, its sender's
// queue space freed, and its copies scheduled for the other endpoints.
func (c *channel) finish() {
	p, end := c.onAir, c.airEnd
	c.onAir = nil
	c.busyUntil = end
	n := len(p.frame)
	air := Airtime(n, c.cfg.baud)
	from := p.from
	from.queued -= n
	from.frames++
	from.bytes += n
	from.airtime += air
	c.frames++
	c.bytes += n
	c.airtime += air
	for _, r := range c.eps {
		if r == from {
			continue
		}
		if c.cut(from, r) {
			r.partitionDrops++
			c.cutDrops++
			continue
		}
		if c.cfg.loss > 0 && c.rng.Float64() < c.cfg.loss {
			r.lost++
			c.lost++
			continue
		}
		copies := 1
		if c.cfg.duplicate > 0 && c.rng.Float64() < c.cfg.duplicate {
			copies = 2
			r.duplicated++
			c.duplicated++
		}
		for range copies {
			var delay time.Duration
			if c.cfg.reorder > 0 {
				delay = time.Duration(c.rng.Int64N(int64(c.cfg.reorder) + 1))
			}
			c.seq++
			heap.Push(&c.out, delivery{to: r, frame: p.frame, at: end.Add(delay), seq: c.seq})
		}
	}
}

// cut reports whether a partition separates the two endpoints. An
// endpoint whose system ID is not listed, or not known yet, is in the
// group of everything not listed.
func (c *channel) cut(a, b *endpoint) bool {
	if c.groups == nil {
		return false
	}
	return c.group(a) != c.group(b)
}

func (c *channel) group(ep *endpoint) int {
	if !ep.known {
		return -1
	}
	if g, ok := c.groups[ep.sysid]; ok {
		return g
	}
	return -1
}

// partition splits the network by system ID; frames on their way are
// still delivered.
func (c *channel) partition(groups [][]uint8) {
	c.groups = map[uint8]int{}
	for i, g := range groups {
		for _, id := range g {
			c.groups[id] = i
		}
	}
}

func (c *channel) heal() { c.groups = nil }

// countWindows adds the channel time from start to end to the windows it
// falls in.
func (c *channel) countWindows(start, end time.Time) {
	from, to := start.Sub(c.start), end.Sub(c.start)
	for t := from; t < to; {
		i := int(t / AirtimeWindow)
		for len(c.windows) <= i {
			c.windows = append(c.windows, 0)
		}
		next := min(to, time.Duration(i+1)*AirtimeWindow)
		c.windows[i] += next - t
		t = next
	}
}

// busiest is the largest share of a window the channel was busy, over the
// windows begun by now (the current one counts over its elapsed part).
func (c *channel) busiest(now time.Time) float64 {
	elapsed := now.Sub(c.start)
	var share float64
	for i, air := range c.windows {
		begin := time.Duration(i) * AirtimeWindow
		if begin >= elapsed {
			break
		}
		span := min(AirtimeWindow, elapsed-begin)
		share = max(share, min(1, float64(air)/float64(span)))
	}
	return share
}
