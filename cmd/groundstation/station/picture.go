package station

import (
	"fmt"
	"slices"
	"time"

	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// NoCell is SWARM_STATUS.cell when the drone holds no airspace cell.
const NoCell = 0xFFFF

// drone is what the station knows of one vehicle.
type drone struct {
	id       uint16
	frames   int       // frames heard from it
	heard    time.Time // last frame of any kind
	statuses int
	at       time.Time // last status
	st       swarm.MessageSwarmStatus
	emAck    uint32 // last emergency command it acknowledged
}

// Drone is one drone of the live picture.
type Drone struct {
	// ID is the drone's vehicle ID; SystemID its MAVLink system ID in the
	// network (0 until heard).
	ID       uint16
	SystemID uint8
	// Reported is false for a member that has sent no status yet: the
	// fields below, up to Age, are then zero.
	Reported bool
	State    swarm.SWARM_MEMBER_STATE
	Flags    swarm.SWARM_MEMBER_FLAGS
	// Leading is the LEADER flag: the drone believes it leads Term.
	Leading bool
	// Leader is the leader the drone follows (0 when none), Term its term.
	Leader uint16
	Term   uint32
	// Applied is the log index of the last command the drone applied.
	Applied uint32
	// Battery is the remaining capacity in percent, -1 when unknown.
	Battery int
	// Voltage is the battery voltage in volts.
	Voltage float64
	// GPSFix is the GPS fix type (GPS_FIX_TYPE); Satellites the satellites
	// visible, -1 when unknown.
	GPSFix     uint8
	Satellites int
	// X, Y, Z are the position in metres in the show frame: X north,
	// Y west, Z up (0.1 m resolution).
	X, Y, Z float64
	// Loss is the share of the other drones' frames the drone missed
	// lately, in percent; Retransmits its retransmissions between its
	// last two statuses.
	Loss        int
	Retransmits int
	// Cell is the first airspace cell the drone holds (NoCell when none),
	// Cells how many it holds.
	Cell  uint16
	Cells int
	// Color is the colour of its lights: red, green, blue.
	Color [3]uint8
	// Preflight is 0 when the preflight checks pass, else the number of
	// the first failing check.
	Preflight uint8
	// ShowTime is the drone's show time (0 while no show runs).
	ShowTime time.Duration
	// Show is the digest of the show the drone holds verified (the
	// first 8 bytes of its SHA-256, as a LOAD names it; 0: none): the
	// loaded show when it holds that one, else the show it received
	// last, else the one it was configured with.
	Show uint64
	// Age is the time since its last status (data age), by the station's
	// clock; Live reports Age within Config.Live.
	Age  time.Duration
	Live bool
	// Statuses and Frames count the statuses and all frames heard from
	// it; Heard is the time since the last frame of any kind (-1 when
	// never heard).
	Statuses int
	Frames   int
	Heard    time.Duration
	// EmergencyAck is the ID of the last emergency command of this
	// station the drone acknowledged (0 when none).
	EmergencyAck uint32
}

// Counters are a station's running totals.
type Counters struct {
	// Frames counts the verified frames heard; Statuses the SWARM_STATUS
	// among them.
	Frames, Statuses int
	// Malformed counts verified frames the station ignored as invalid
	// (sender 0 or 65535 or the station's own ID, field values out of
	// range); Ignored frames of other dialects and requests meant for
	// the leader;
	// OtherStations frames of other ground stations; Echoes the
	// station's own frames relayed back to it.
	Malformed, Ignored, OtherStations, Echoes int
	// Rejected counts frames the radio rejected before they reached the
	// station: bad signature, replay, bad CRC, another network (the
	// radio's reader counters tell which).
	Rejected int
	// Sent counts frames queued, SendErrors frames the radio refused.
	Sent, SendErrors int
	// Requests counts command requests sent, first sends and retries;
	// Retries the retries among them. Accepted, NotLeader and Refused
	// count the answers; Stale answers to no waiting command.
	Requests, Retries, Accepted, NotLeader, Refused, Stale int
	// LeaderChanges counts changes of the leader the station believes in.
	LeaderChanges int
	// TimeRequests, TimeReplies and TimeStale count the swarm time
	// exchange with the leader.
	TimeRequests, TimeReplies, TimeStale int
	// Emergencies counts emergency frames sent; EmergencyAcks the
	// acknowledgements heard.
	Emergencies, EmergencyAcks int
	// Radio are the radio's own counters.
	Radio radio.Counters
}

// Snapshot is the live picture of a network at one clock reading.
type Snapshot struct {
	// At is the clock reading the picture was taken at.
	At      time.Time
	Network uint8
	Issuer  uint16
	// Leader is the leader the station believes in (0 when none), Term
	// its term, LeaderHeard the time since the station last heard it (-1
	// when never: it is known from the other drones).
	Leader      uint16
	Term        uint32
	LeaderHeard time.Duration
	// SwarmTime is the swarm time at At, TimeBound its error bound, and
	// TimeSynced whether the station has heard the leader's time.
	SwarmTime  time.Time
	TimeBound  time.Duration
	TimeSynced bool
	// StatusPeriod is the status period the station expects of each
	// drone; Live the age up to which a drone counts as live.
	StatusPeriod, Live time.Duration
	// Drones are the drones heard and the expected members, by ID.
	Drones   []Drone
	Counters Counters
}

// LiveDrones reports the IDs of the live drones of the picture.
func (sn Snapshot) LiveDrones() []uint16 {
	var out []uint16
	for _, d := range sn.Drones {
		if d.Live {
			out = append(out, d.ID)
		}
	}
	return out
}

// statusPayload is the largest SWARM_STATUS payload, in bytes.
const statusPayload = 49

// statusPeriod is the period at which the drones send their status: all
// of them within StatusShare of the channel, at least 1 s. Call with s.mu
// held.
func (s *Station) statusPeriod() time.Duration {
	n := max(len(s.members), s.droneCount())
	baud := s.cfg.Baud
	if baud <= 0 {
		baud = 57600
	}
	frame := time.Duration(statusPayload+wire.Overhead) * 10 * time.Second / time.Duration(baud)
	p := time.Duration(float64(n) * float64(frame) / s.cfg.StatusShare)
	return max(time.Second, p)
}

// droneCount is the number of drones that have sent a status.
func (s *Station) droneCount() int {
	n := 0
	for _, d := range s.drones {
		if d.statuses > 0 {
			n++
		}
	}
	return n
}

// live is the age up to which a drone's status counts as live. Call with
// s.mu held.
func (s *Station) live() time.Duration {
	if s.cfg.Live > 0 {
		return s.cfg.Live
	}
	return 3*s.statusPeriod() + 2*time.Second
}

// isLive reports whether d sent a status within the live age.
func (s *Station) isLive(d *drone, now time.Time, live time.Duration) bool {
	return d != nil && d.statuses > 0 && now.Sub(d.at) <= live
}

// status takes in a drone's SWARM_STATUS. Call with s.mu held.
func (s *Station) status(now time.Time, from uint16, m *swarm.MessageSwarmStatus) {
	if m.State > swarm.SWARM_MEMBER_STATE_FAILSAFE || m.Flags >= 1<<5 || m.Loss > 100 ||
		(m.Battery > 100 && m.Battery != 255) || m.Cells > 0 && m.Cell == NoCell {
		s.counters.Malformed++
		return
	}
	s.counters.Statuses++
	d := s.drone(from)
	d.statuses++
	d.at = now
	d.st = *m
	leading := m.Flags&swarm.SWARM_MEMBER_FLAGS_LEADER != 0
	switch {
	case leading && m.Term >= s.term:
		s.setLeader(now, from, m.Term, "status")
	case from == s.leader && !leading && m.Term >= s.term:
		// The drone we took for the leader says it does not lead.
		if m.Leader != from {
			s.setLeader(now, m.Leader, m.Term, "status")
		}
	case m.Leader != 0 && (m.Term > s.term || s.leader == 0 && m.Term == s.term):
		s.setLeader(now, m.Leader, m.Term, "status")
	}
	s.notify()
}

// Snapshot returns the live picture now.
func (s *Station) Snapshot() Snapshot {
	c := s.radio.Counters()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	live := s.live()
	sn := Snapshot{
		At:           now,
		Network:      s.cfg.Network,
		Issuer:       s.cfg.Issuer,
		Leader:       s.leader,
		Term:         s.term,
		StatusPeriod: s.statusPeriod(),
		Live:         live,
		Counters:     s.counters,
	}
	sn.LeaderHeard = -1
	if h := s.leaderHeard(); !h.IsZero() {
		sn.LeaderHeard = now.Sub(h)
	}
	sn.SwarmTime = time.Unix(0, s.ts.SwarmTime(now.UnixNano()))
	sn.TimeBound = time.Duration(s.ts.ErrorBoundAt(now.UnixNano()))
	sn.TimeSynced = s.ts.Synced()
	sn.Counters.Radio = c
	sn.Counters.Rejected = c.Reader.TotalRejected()
	ids := make([]uint16, 0, len(s.drones)+len(s.members))
	for id := range s.drones {
		ids = append(ids, id)
	}
	ids = append(ids, s.members...)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		sn.Drones = append(sn.Drones, s.view(id, now, live))
	}
	return sn
}

// view is the picture of drone id. Call with s.mu held.
func (s *Station) view(id uint16, now time.Time, live time.Duration) Drone {
	v := Drone{ID: id, SystemID: s.sysIDs[id], Heard: -1, Battery: -1, Satellites: -1, Cell: NoCell}
	d := s.drones[id]
	if d == nil {
		return v
	}
	v.Frames, v.Statuses, v.EmergencyAck = d.frames, d.statuses, d.emAck
	if !d.heard.IsZero() {
		v.Heard = now.Sub(d.heard)
	}
	if d.statuses == 0 {
		return v
	}
	m := d.st
	v.Reported = true
	v.State, v.Flags = m.State, m.Flags
	v.Leading = m.Flags&swarm.SWARM_MEMBER_FLAGS_LEADER != 0
	v.Leader, v.Term, v.Applied = m.Leader, m.Term, m.Applied
	if m.Battery != 255 {
		v.Battery = int(m.Battery)
	}
	v.Voltage = float64(m.Voltage) / 100
	v.GPSFix = m.GpsFix
	if m.Satellites != 255 {
		v.Satellites = int(m.Satellites)
	}
	v.X, v.Y, v.Z = float64(m.X)/10, float64(m.Y)/10, float64(m.Z)/10
	v.Loss, v.Retransmits = int(m.Loss), int(m.Retransmits)
	v.Cell, v.Cells = m.Cell, int(m.Cells)
	v.Color = m.Color
	v.Preflight = m.Preflight
	v.ShowTime = time.Duration(m.ShowTime) * time.Millisecond
	v.Show = m.ShowDigest
	v.Age = now.Sub(d.at)
	v.Live = s.isLive(d, now, live)
	return v
}

// StateName names a drone's flight state as the ground station's views
// show it: "standby", "flying", ….
func StateName(s swarm.SWARM_MEMBER_STATE) string {
	switch s {
	case swarm.SWARM_MEMBER_STATE_BOOTING:
		return "booting"
	case swarm.SWARM_MEMBER_STATE_STANDBY:
		return "standby"
	case swarm.SWARM_MEMBER_STATE_ARMED:
		return "armed"
	case swarm.SWARM_MEMBER_STATE_FLYING:
		return "flying"
	case swarm.SWARM_MEMBER_STATE_HOLDING:
		return "holding"
	case swarm.SWARM_MEMBER_STATE_LANDING:
		return "landing"
	case swarm.SWARM_MEMBER_STATE_RETURNING:
		return "returning"
	case swarm.SWARM_MEMBER_STATE_FAILSAFE:
		return "failsafe"
	}
	return fmt.Sprintf("state %d", s)
}
