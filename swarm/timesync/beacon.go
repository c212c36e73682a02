package timesync

import (
	"math"
	"math/bits"

	"github.com/skyquorum/skyquorum/swarm/internal/airtime"
)

// The leader's time beacons (doc.go, "Beacons").

// BeaconT1 is the t1 of a beacon: a reply that answers no request, which
// the leader broadcasts every beacon period with its swarm time when the
// frame goes on air (t3, stamped by the radio as a reply's hold).
const BeaconT1 int64 = math.MinInt64

// IsBeacon reports whether r is a beacon rather than the answer to a
// request.
func (r Reply) IsBeacon() bool { return r.T1 == BeaconT1 }

// beaconShare is the part of Config.Share the beacons take; the polls
// take the rest. An eighth: a beacon every 1.74 s at 57600 baud, signed,
// and 4% of the channel (a quarter, every 0.87 s, agreed no better and
// took more of the channel at 50 drones than the polls it saved).
const beaconShare = 0.125

// How many beacons a follower keeps, and what they must show before it
// takes the swarm time up from them alone: the beaconTakeUp least
// delayed must lie within beaconAgree of each other (nothing but the
// frame's time on air delayed them), or it waits for beaconWindow.
const (
	beaconWindow = 16
	beaconTakeUp = 3
	beaconAgree  = 1_000_000 // ns
	// beaconFitRMS is the residual (root mean square) under which the
	// drift fitted to the beacons is trusted: without queueing or late
	// delivery every beacon lies on the line.
	beaconFitRMS = 1_000_000 // ns
	// beaconFitSpan is the span of local time the beacons must cover for
	// the fit.
	beaconFitSpan = 4_000_000_000 // ns
)

// awaitBeacons reports whether a drone that does not know the swarm time
// waits for its leader's beacons rather than take it up from its polls
// (Config.AwaitBeacons).
func (c *TimeSync) awaitBeacons() bool {
	return c.cfg.AwaitBeacons && len(c.beacons) < beaconWindow/2 &&
		c.ticks-c.leaderTick < int64(beaconWindow*c.beaconTicks)
}

// beacon is one beacon heard: the local time it ended, and the offset
// it shows (its t3 plus its time on air, less that local time), short
// of the leader's by the delay beyond the time on air.
type beacon struct{ at, offset int64 }

// beaconPeriod returns the beacon period in ticks: one beacon frame per
// period takes beaconShare of Share, and at least one tick.
func beaconPeriod(cfg Config) int {
	if cfg.BeaconTicks > 0 {
		return cfg.BeaconTicks
	}
	air := float64(airtime.Nanos(airtime.FrameBytes(Reply{}.Size(), !cfg.Unsigned), cfg.Baud))
	return max(1, int(math.Ceil(air/(cfg.Share*beaconShare)/float64(cfg.TickNanos))))
}

// beaconAir is the time on air of beacon r: the frame ends that much
// after t3, at the least. Its hold (t3 − t2) takes as many bytes as it
// needs: MAVLink 2 trims the trailing zero bytes of a payload, and
// without a hold the network ID, the last byte before it, too when it is
// 0 (the core does not know it: the shorter frame is assumed, so that a
// beacon is never taken for ahead of the leader).
func (c *TimeSync) beaconAir(r Reply) int64 {
	payload := replyAtOnceBytes - 1
	if holdBytes := (bits.Len64(uint64(r.T3-r.T2)) + 7) / 8; holdBytes > 0 {
		payload = replyAtOnceBytes + min(holdBytes, 4)
	}
	return airtime.Nanos(airtime.FrameBytes(payload, !c.cfg.Unsigned), c.cfg.Baud)
}

// sendBeacon broadcasts the leader's swarm time when a beacon is due.
func (c *TimeSync) sendBeacon() {
	if c.ticks < c.nextBeacon {
		return
	}
	c.nextBeacon = c.ticks + int64(c.beaconTicks)
	st := c.SwarmTime(c.now)
	c.beaconsSent++
	c.Send(nil, Reply{T1: BeaconT1, T2: st, T3: st})
}

// onBeacon takes in a beacon of the leader: the estimate moves to the
// least delayed of the recent beacons, along the drift, and a drone that
// does not know the swarm time takes it up once the beacons agree.
func (c *TimeSync) onBeacon(r Reply) {
	if len(c.beacons) == beaconWindow {
		copy(c.beacons, c.beacons[1:])
		c.beacons = c.beacons[:len(c.beacons)-1]
	}
	c.beacons = append(c.beacons, beacon{at: c.now, offset: r.T3 + c.beaconAir(r) - c.now})
	c.wide = widening{}
	c.beaconsHeard++
	c.advance(c.now) // the applied offset so far, under the old estimate
	if f, ok := c.beaconSlope(); ok {
		c.freq, c.beaconFreq = f, true
	}
	// The beacons make the estimate once they agree or fill the window;
	// until then a drone that knows the swarm time (restored, or from the
	// previous leader) keeps its estimate, which the beacons only bound
	// from below: one beacon may be late by anything.
	top, third := c.envelope(c.now)
	n := len(c.beacons)
	agree := (n >= beaconTakeUp && top-third <= beaconAgree) || n >= beaconWindow
	if agree || !c.synced {
		c.base, c.baseAt = top, c.now
	}
	if !c.synced && agree {
		c.synced = true
		c.off, c.offAt = c.targetAt(c.now), c.now
		c.Emit(Synced{Offset: c.off})
		// The first poll, asked soon so that the drone knows the swarm
		// time, is no longer urgent: it goes within a poll period, as
		// the budget spreads the polls, instead of all drones' within
		// the first seconds.
		if !c.pending {
			c.nextPoll = max(c.nextPoll, c.ticks+1+c.rng.Int64N(int64(c.poll)))
		}
	}
}

// envelope returns the largest and the third largest offset the beacons
// show at local time t, each carried along the estimated drift: a
// beacon's offset is short of the leader's by its delay beyond its time
// on air, never over it (math.MinInt64 when there are not three).
func (c *TimeSync) envelope(t int64) (top, third int64) {
	var best [3]int64
	for i := range best {
		best[i] = math.MinInt64
	}
	for _, b := range c.beacons {
		o := b.offset + int64(c.freq*float64(t-b.at))
		switch {
		case o > best[0]:
			best = [3]int64{o, best[0], best[1]}
		case o > best[1]:
			best[1], best[2] = o, best[1]
		case o > best[2]:
			best[2] = o
		}
	}
	return best[0], best[2]
}

// beaconSlope fits a line to the beacons by least squares; ok only when
// they span beaconFitSpan and lie within beaconFitRMS of it, the
// drift then bounded by twice DriftPPM.
func (c *TimeSync) beaconSlope() (float64, bool) {
	n := len(c.beacons)
	if n < 4 || c.beacons[n-1].at-c.beacons[0].at < beaconFitSpan {
		return 0, false
	}
	ref, refOffset := c.beacons[0].at, c.beacons[0].offset
	var sumT, sumO, sumTT, sumTO float64
	for _, b := range c.beacons {
		t, o := float64(b.at-ref), float64(b.offset-refOffset)
		sumT += t
		sumO += o
		sumTT += t * t
		sumTO += t * o
	}
	fn := float64(n)
	den := fn*sumTT - sumT*sumT
	if den <= 0 {
		return 0, false
	}
	f := (fn*sumTO - sumT*sumO) / den
	o0 := (sumO - f*sumT) / fn
	var sq float64
	for _, b := range c.beacons {
		r := float64(b.offset-refOffset) - (o0 + f*float64(b.at-ref))
		sq += r * r
	}
	if math.Sqrt(sq/fn) > beaconFitRMS {
		return 0, false
	}
	bound := c.maxDrift()
	return max(-bound, min(f, bound)), true
}

// beaconLow returns the lowest offset the beacons allow at local time t:
// each shows an offset short of the leader's, which moves by at most
// maxDrift of the time since; ok is false without beacons.
func (c *TimeSync) beaconLow(t int64) (lo int64, ok bool) {
	lo = math.MinInt64
	d := c.maxDrift()
	for _, b := range c.beacons {
		lo = max(lo, b.offset-int64(math.Ceil(float64(abs(t-b.at))*d))-1)
	}
	return lo, len(c.beacons) > 0
}
