package runner

import "time"

// GPSClock is a Vehicle whose flight controller reports GPS time
// (fcvehicle's does, from SYSTEM_TIME). The runner passes it to the swarm
// node, whose leader steers swarm time towards it (docs/swarm.md, "Swarm
// time and GPS time").
type GPSClock interface {
	// GPSTime returns the flight controller's GPS time now, false while
	// it has none (no fix, or not heard lately).
	GPSTime() (time.Time, bool)
}

// gpsEvery is how often the runner passes GPS time to the node.
const gpsEvery = time.Second

// gpsFeed is the runner's part of GPS time: when it last passed a reading,
// and whether the drone's swarm time is GPS time.
type gpsFeed struct {
	at     int64 // local clock reading of the last reading passed (0: none)
	based  bool
	warned bool // the gap was reported too large to close soon
}

// gpsFar is a gap to GPS time that the leader closes too slowly for a
// show: at the default 200 ppm, a second takes 5000 s.
const gpsFar = int64(time.Second)

// gpsBasedWithin is how close to GPS time the drone's swarm time must be
// for the runner to report it GPS time: the leader's gap once closed
// (0.5 ms) and a follower's error against it (a few ms).
const gpsBasedWithin = int64(5 * time.Millisecond)

// feedGPS passes the vehicle's GPS time to the node every gpsEvery of
// local time, with the local clock reading it was taken at, and logs when
// the drone's swarm time becomes, or stops being, GPS time.
func (r *Runner) feedGPS(local int64) {
	g, ok := r.cfg.Vehicle.(GPSClock)
	if !ok || r.gps.at != 0 && local-r.gps.at < int64(gpsEvery) {
		return
	}
	r.gps.at = local
	gps, ok := g.GPSTime()
	now := r.clock.Now().UnixNano()
	if ok {
		r.node.SetGPSTime(now, gps.UnixNano())
	} else {
		r.node.LoseGPS()
	}
	gap, ok := r.node.GPSGap()
	if ok && max(gap, -gap) > gpsFar && !r.gps.warned {
		r.gps.warned = true
		r.log.Warn("runner: swarm time is far from GPS time and closes on it at the drift bound only (200 ppm by default: 5000 s a second); set the companion computers' clocks from GPS or NTP before the swarm starts",
			"gap", time.Duration(gap))
	}
	based := ok && max(gap, -gap) <= gpsBasedWithin
	if based != r.gps.based {
		r.gps.based = based
		if based {
			r.log.Info("runner: swarm time is GPS time", "gap", time.Duration(gap), "leader", r.node.TimeSync().Leader())
		} else {
			r.log.Info("runner: swarm time is not GPS time", "known", ok, "gap", time.Duration(gap), "leader", r.node.TimeSync().Leader())
		}
	}
}

// GPSGap returns the drone's swarm time minus its GPS time, false while
// it has either not (swarm.Node.GPSGap).
func (r *Runner) GPSGap() (gap time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node == nil {
		return 0, false
	}
	g, ok := r.node.GPSGap()
	return time.Duration(g), ok
}
