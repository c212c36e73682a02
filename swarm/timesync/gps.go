package timesync

import "math"

// GPS time at the leader (doc.go, "GPS time").

// gpsReading is one GPS time reading: the local clock reading at which it
// was taken, and GPS time minus that reading.
type gpsReading struct{ at, off int64 }

// How many GPS readings the leader fits its line to, and for how long it
// keeps them; GPS time counts once the readings span gpsSpan, enough to
// estimate the drift of the local clock against it (at 50 ppm, 1.5 ms
// over the span) and to find the least delayed readings.
const (
	gpsReadings = 128
	gpsKeep     = 120_000_000_000 // ns of local time
	gpsSpan     = 30_000_000_000
)

// SetGPSTime passes a reading of GPS time, gps (nanoseconds, the flight
// controller's Unix time once it has a fix), taken at local clock reading
// local. The driver passes one every second or so while the flight
// controller has a fix, and calls LoseGPS when it has none. Every drone
// may be given them; only the leader steers by them (doc.go).
func (c *TimeSync) SetGPSTime(local, gps int64) {
	c.SetClock(local)
	if n := len(c.gps); n > 0 && local <= c.gps[n-1].at {
		return
	}
	if len(c.gps) == gpsReadings {
		copy(c.gps, c.gps[1:])
		c.gps = c.gps[:len(c.gps)-1]
	}
	c.gps = append(c.gps, gpsReading{at: local, off: gps - local})
	c.steer()
}

// LoseGPS tells that the flight controller has no GPS time (its fix is
// lost): the leader keeps the swarm time it serves, at its own clock's
// rate, until GPS time returns.
func (c *TimeSync) LoseGPS() {
	if len(c.gps) == 0 {
		return
	}
	c.gps = c.gps[:0]
	c.steer()
}

// HoldGPSGap tells the leader whether swarm time must keep its gap to GPS
// time (the swarm flies a show, or waits for a time it named) or may close
// it. The driver (swarm.Node) sets it from the commands applied.
func (c *TimeSync) HoldGPSGap(hold bool) {
	if hold == c.hold {
		return
	}
	c.hold = hold
	c.steer()
}

// GPSGap returns the drone's swarm time minus GPS time at the last clock
// reading, from its own GPS readings; ok is false while it has no swarm
// time or no GPS time. On the leader it is the gap it steers; on a
// follower with GPS time it is that gap plus the follower's error against
// its leader, so that every drone can tell whether the swarm time it
// flies by is GPS time.
func (c *TimeSync) GPSGap() (gap int64, ok bool) {
	if !c.synced {
		return 0, false
	}
	g, _, ok := c.gpsLine(c.now)
	if !ok {
		return 0, false
	}
	return c.offsetAt(c.now) - g, true
}

// steer sets the leader's target from GPS time: GPS time itself while the
// gap may be closed, GPS time plus the gap held while it must be kept,
// and the applied offset (the leader's own clock) without GPS time. The
// applied offset moves from where it is (advance), so swarm time does not
// jump.
func (c *TimeSync) steer() {
	if c.leader != c.cfg.ID || !c.synced {
		return
	}
	c.advance(c.now)
	g, slope, ok := c.gpsLine(c.now)
	if !ok {
		c.base, c.baseAt, c.freq, c.heldSet = c.off, c.offAt, 0, false
		return
	}
	target := g
	if c.hold {
		if !c.heldSet {
			c.held, c.heldSet = c.off-g, true
		}
		target += c.held
	} else {
		c.heldSet = false
	}
	c.base, c.baseAt, c.freq = target, c.now, slope
}

// gpsLine returns GPS time minus local time at local time t, and its
// drift against the local clock, from the readings of the last gpsKeep
// once they span gpsSpan: a least-squares line, moved up to the second
// highest of them.
func (c *TimeSync) gpsLine(t int64) (off int64, slope float64, ok bool) {
	keep := 0
	for keep < len(c.gps) && t-c.gps[keep].at > gpsKeep {
		keep++
	}
	rs := c.gps[keep:]
	if len(rs) == 0 || rs[len(rs)-1].at-rs[0].at < gpsSpan {
		return 0, 0, false
	}
	ref, refOff := rs[0].at, rs[0].off
	var n, sumT, sumO, sumTT, sumTO float64
	for _, r := range rs {
		x, y := float64(r.at-ref), float64(r.off-refOff)
		n++
		sumT += x
		sumO += y
		sumTT += x * x
		sumTO += x * y
	}
	meanT, meanO := sumT/n, sumO/n
	if den := n*sumTT - sumT*sumT; den > 0 {
		bound := c.maxDrift()
		slope = max(-bound, min((n*sumTO-sumT*sumO)/den, bound))
	}
	// A reading is late, never early: the message waited on the link and
	// in the flight controller's and the runner's queues. The line runs
	// through the least delayed one, not through the mean; through the
	// second least, so that one reading that is early (a glitch of the
	// flight controller's time) does not move it.
	first, second := math.Inf(-1), math.Inf(-1)
	for _, r := range rs {
		d := float64(r.off-refOff) - (meanO + slope*(float64(r.at-ref)-meanT))
		if d > first {
			first, second = d, first
		} else if d > second {
			second = d
		}
	}
	if math.IsInf(second, -1) {
		second = first
	}
	return refOff + int64(math.Round(meanO+second+slope*(float64(t-ref)-meanT))), slope, true
}
