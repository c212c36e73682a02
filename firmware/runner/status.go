package runner

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// Every drone broadcasts SWARM_STATUS for the ground station at a period
// that keeps the status of all the members within a share of the channel
// (StatusPeriod), at a phase of its own, and once more soon after its
// flight state or its leader changes.

// DefaultStatusShare is the share of the channel the members' SWARM_STATUS
// frames take together, unless Config.StatusShare says otherwise.
const DefaultStatusShare = 0.05

// StatusPayloadBytes is the longest SWARM_STATUS payload (MAVLink 2 trims
// trailing zeros, so most frames are shorter).
const StatusPayloadBytes = 49

// statusBaud is the serial rate the status budget assumes when the
// configuration has none: a SiK radio's.
const statusBaud = 57600

// StatusAirtime is how long one signed SWARM_STATUS frame of the longest
// payload occupies a channel of baud bits per second, 10 bits a byte.
func StatusAirtime(baud int) time.Duration {
	if baud <= 0 {
		baud = statusBaud
	}
	return time.Duration(int64(StatusPayloadBytes+wire.Overhead) * 10 * int64(time.Second) / int64(baud))
}

// StatusPeriod is how often each of members drones sends its status, so
// that together they take share of a channel of baud bits per second: at
// least a second apart.
func StatusPeriod(members, baud int, share float64) time.Duration {
	if share <= 0 {
		share = DefaultStatusShare
	}
	p := time.Duration(float64(members) * float64(StatusAirtime(baud)) / share)
	return max(p, time.Second)
}

// statusGap is the shortest time between two status frames of one drone.
const statusGap = time.Second

// statusJitter is the variation of each period around StatusPeriod, so
// that drones whose phases came close drift apart again.
const statusJitter = 0.1

// reporter is the runner's status schedule and what the status reports
// since the last one.
type reporter struct {
	rng    *rand.Rand
	period int64 // ticks
	gap    int64 // ticks
	spread int64 // ticks over which an extra status is delayed
	next   int64 // tick of the next periodic status
	last   int64 // tick of the last status sent
	extra  int64 // tick of an extra status due, 0: none
	// state and leader as last sent (state 0 before the first status,
	// so that a drone reports soon after it starts).
	state  swarm.SWARM_MEMBER_STATE
	leader uint16
	// retrans is the reliable layer's retransmissions at the last status.
	retrans int
	// Frames heard and missed since the last status, from the MAVLink
	// sequence numbers of each stream.
	seq           map[stream]uint8
	heard, missed int
	// sends counts the status frames sent, extras those sent for a
	// change.
	sends, extras int
}

func (s *reporter) init(r *Runner) {
	tick := int64(r.cfg.Tick)
	s.rng = rand.New(rand.NewPCG(uint64(r.cfg.ID), uint64(r.inc)))
	p := StatusPeriod(len(r.cfg.Members), r.cfg.Baud, r.cfg.StatusShare)
	s.period = max(int64(p)/tick, 1)
	s.gap = max(int64(statusGap)/tick, 1)
	// A change the whole swarm sees at once (a START) makes every
	// drone report: their extra frames are spread so that they take at
	// most half of the channel while they last.
	s.spread = int64(len(r.cfg.Members)) * 2 * int64(StatusAirtime(r.cfg.Baud)) / tick
	s.next = s.rng.Int64N(s.period) + 1 // the drone's phase
	s.last = -s.gap
	s.seq = map[stream]uint8{}
}

// stream is one sender's sequence of frames: MAVLink numbers frames per
// system and component, and signing keeps a stream per link ID too, so
// two ground stations sharing system ID 255 on different link IDs are
// two streams.
type stream struct{ system, component, link uint8 }

// heardFrame counts frame f: the sequence numbers skipped since its
// stream's last frame are frames missed.
func (s *reporter) heardFrame(f wire.Frame) {
	k := stream{f.SystemID, f.ComponentID, f.LinkID}
	if last, ok := s.seq[k]; ok {
		if gap := f.Sequence - last - 1; gap < 128 {
			s.missed += int(gap)
		}
	}
	s.seq[k] = f.Sequence
	s.heard++
}

// tick sends the status when due: periodically, or soon after the flight
// state or the leader changed (checked every FlyEvery ticks).
func (s *reporter) tick(r *Runner) {
	now := r.ticks
	due := now >= s.next
	if !due && s.extra == 0 && now%int64(r.cfg.FlyEvery) == 0 {
		if m := r.status(); m.State != s.state || m.Leader != s.leader {
			s.extra = now + 1 + s.rng.Int64N(s.spread+1)
		}
	}
	extra := s.extra != 0 && now >= s.extra && now-s.last >= s.gap
	if !due && !extra {
		return
	}
	if due {
		jitter := 1 + statusJitter*(2*s.rng.Float64()-1)
		s.next = now + max(int64(float64(s.period)*jitter), 1)
	} else {
		s.extras++
	}
	m := r.status()
	if total := s.heard + s.missed; total > 0 {
		m.Loss = uint8(100 * s.missed / total)
	}
	retrans := r.ep.Counters().Retransmissions
	m.Retransmits = uint8(min(retrans-s.retrans, 255))
	s.retrans, s.heard, s.missed = retrans, 0, 0
	s.extra, s.last, s.state, s.leader = 0, now, m.State, m.Leader
	s.sends++
	r.transmit(m, link.Broadcast)
}

// status builds the drone's SWARM_STATUS now, without the counts since
// the last one (loss, retransmits).
func (r *Runner) status() *swarm.MessageSwarmStatus {
	m := &swarm.MessageSwarmStatus{
		SrcVehicle: uint16(r.cfg.ID), DstVehicle: uint16(algorithms.Everyone), NetworkId: r.cfg.Network,
		Cell: 0xFFFF, Battery: 255, Satellites: 255, State: swarm.SWARM_MEMBER_STATE_BOOTING,
	}
	var st VehicleState
	if v := r.cfg.Vehicle; v != nil {
		st = v.State()
		m.X, m.Y, m.Z = decimetres(st.Position.X), decimetres(st.Position.Y), decimetres(st.Position.Z)
		if st.HasBattery {
			m.Battery = uint8(math.Round(min(max(st.Battery, 0), 100)))
		}
		m.Voltage = uint16(math.Round(min(max(st.Voltage*100, 0), math.MaxUint16)))
		if st.HasGPS {
			m.GpsFix, m.Satellites = st.GPSFix, st.Satellites
		}
		m.Preflight = st.Preflight
		if st.HasPosition && !st.Silent {
			m.Flags |= swarm.SWARM_MEMBER_FLAGS_POSITION_OK
		}
	}
	c := r.fly.colour
	m.Color = [3]uint8{c.R, c.G, c.B}
	if r.fly.alarm != 0 {
		m.Flags |= swarm.SWARM_MEMBER_FLAGS_EMERGENCY
	}
	m.ShowDigest = r.fly.heldDigest(r)
	if r.node == nil {
		return m
	}
	lg := r.node.Log().Log()
	m.Applied, m.Term, m.Leader = lg.AppliedIndex(), lg.Term(), uint16(lg.Leader())
	if lg.Leading() {
		m.Flags |= swarm.SWARM_MEMBER_FLAGS_LEADER
	}
	if r.node.TimeSync().Synced() {
		m.Flags |= swarm.SWARM_MEMBER_FLAGS_TIME_SYNCED
	}
	p := r.node.Show()
	if _, digest, ok := p.Show(); ok && r.fly.hasShow && digest == r.fly.digest {
		m.Flags |= swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED
	}
	now := r.node.SwarmTime(r.clock.Now().UnixNano())
	ph := p.Phase(now)
	if ph == show.Running || ph == show.Paused {
		if t, ok := p.ShowTime(now); ok && t > 0 {
			m.ShowTime = uint32(min(t/int64(time.Millisecond), math.MaxUint32))
		}
	}
	if cells := r.node.Locks().Cells(); len(cells) > 0 && r.node.Locks().Holding() {
		m.Cell, m.Cells = uint16(cells[0]), uint8(min(len(cells), 255))
	}
	m.State = r.fly.memberState(r, st, ph)
	return m
}

// memberState is the flight state the status reports.
func (f *flight) memberState(r *Runner, st VehicleState, ph show.Phase) swarm.SWARM_MEMBER_STATE {
	switch {
	case r.cfg.Vehicle == nil:
		return swarm.SWARM_MEMBER_STATE_STANDBY
	case st.Silent:
		return swarm.SWARM_MEMBER_STATE_FAILSAFE
	case !st.Airborne && st.Armed:
		return swarm.SWARM_MEMBER_STATE_ARMED
	case !st.Airborne:
		return swarm.SWARM_MEMBER_STATE_STANDBY
	case f.alarm == emergency.Land:
		return swarm.SWARM_MEMBER_STATE_LANDING
	case f.alarm == emergency.Return || f.leave != nil:
		return swarm.SWARM_MEMBER_STATE_RETURNING
	case f.alarm == emergency.Hold || f.last == "hold" || ph == show.Paused:
		return swarm.SWARM_MEMBER_STATE_HOLDING
	case ph == show.Landing || f.last == "land":
		return swarm.SWARM_MEMBER_STATE_LANDING
	case ph == show.Returning || f.last == "return":
		return swarm.SWARM_MEMBER_STATE_RETURNING
	}
	return swarm.SWARM_MEMBER_STATE_FLYING
}

// decimetres rounds metres to decimetres within int16.
func decimetres(m float64) int16 {
	return int16(math.Round(min(max(m*10, math.MinInt16), math.MaxInt16)))
}
