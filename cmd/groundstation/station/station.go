package station

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/timesync"
)

// Identity of a ground station on the wire.
const (
	// SystemID is a ground station's MAVLink system ID.
	SystemID = radio.GroundStationSystemID
	// ComponentID is a ground station's MAVLink component ID
	// (MAV_COMP_ID_MISSIONPLANNER).
	ComponentID = 190
	// DefaultIssuer is a ground station's default vehicle ID.
	DefaultIssuer uint16 = 65000
	// Everyone is the vehicle ID that addresses every drone.
	Everyone = uint16(algorithms.Everyone)
)

// Clock is the station's only time source: the wall clock, or a fake one
// in tests (it is radio.Clock; firmware/runner's FakeClock is one).
type Clock = radio.Clock

// ErrConfig is returned by Open for a configuration that cannot work.
var ErrConfig = errors.New("station: bad configuration")

// Store keeps one state blob; firmware/state's Dir is one.
type Store interface {
	// Load returns the blob last saved, nil when there is none.
	Load() ([]byte, error)
	// Save replaces it.
	Save(b []byte) error
}

// Config configures a Station.
type Config struct {
	// Link is the transport to the network's radio channel; the Station
	// closes it on Close.
	Link link.Link
	// Key is the swarm key.
	Key wire.Key
	// Network is the swarm radio network the station joins.
	Network uint8
	// Issuer is the station's vehicle ID, the src_vehicle of its frames
	// and the issuer of its commands (optional, default 65000). It must
	// not be a drone's ID.
	Issuer uint16
	// LinkID is the station's MAVLink signing link ID (optional, default
	// 1); two ground stations must not share one.
	LinkID uint8
	// Baud paces the station's frames at this serial rate (optional;
	// zero sends as fast as the link takes them), and sizes the expected
	// status period (57600 when zero).
	Baud int
	// Clock is the time source (optional, default the wall clock).
	Clock Clock
	// Logger receives operational messages (optional, default
	// slog.Default()).
	Logger *slog.Logger
	// Members are the drones expected in the network (optional): the
	// picture lists them before they are heard, and WaitApplied reports
	// them when they are silent.
	Members []uint16
	// FirstSeq is the sequence number of the first command (optional,
	// default the clock's Unix seconds). The leader commits a command once
	// per issuer and sequence number: a restarted station must not reuse
	// the numbers of its previous run, and numbers that follow the clock
	// do not as long as it sent at most one command a second on average.
	FirstSeq uint32
	// Retry is the wait before a command is sent again with the same
	// sequence number (optional, default 1 s).
	Retry time.Duration
	// UploadStore keeps the sending side of a show upload (its round and
	// the next repair symbol of each block; upload.Sender's Persist), so
	// that a station restarted from it resumes an upload of the same show
	// with a poll, the drones asking only for what they lack, instead of
	// sending the whole show again (optional: without it every upload
	// starts over).
	UploadStore Store
	// TimePoll is the period of the swarm time requests to the leader
	// (optional, default 5 s).
	TimePoll time.Duration
	// StatusShare is the share of the channel the drones' status frames
	// take, from which the station expects their period (optional,
	// default 0.05, as the drones use).
	StatusShare float64
	// Live is how old a drone's status may be for the drone to count as
	// live (optional, default three expected status periods plus 2 s).
	Live time.Duration
	// EmergencyRepeats is how many times an emergency command is sent
	// (optional, default 5), EmergencyEvery the wait between copies
	// (optional, default 300 ms).
	EmergencyRepeats int
	EmergencyEvery   time.Duration
}

// tick is the period of the station's timers: retries, emergency
// repeats and the time sync core's ticks.
const tick = 100 * time.Millisecond

// Station is a ground station joined to one swarm radio network. Its
// methods are safe for concurrent use.
type Station struct {
	cfg   Config
	log   *slog.Logger
	clock Clock
	radio *radio.Radio
	codec *codec.Codec

	mu       sync.Mutex
	started  time.Time
	lastTick time.Time
	// lastBeat is when the station last sent its HEARTBEAT.
	lastBeat time.Time
	changed  chan struct{} // closed and replaced when the picture changes

	// The leader the station believes in, and the term it learnt it for.
	leader uint16
	term   uint32

	drones  map[uint16]*drone
	sysIDs  map[uint16]uint8 // vehicle ID → MAVLink system ID, as heard
	members []uint16

	seq     uint32
	pending map[uint32]*request

	ts *timesync.TimeSync

	emID      uint32
	emRepeats []*emRepeat

	up *stationUpload

	counters Counters

	done chan struct{}
	wg   sync.WaitGroup
}

// Open joins the network of cfg.Link and starts the station.
func Open(cfg Config) (*Station, error) {
	if cfg.Link == nil {
		return nil, fmt.Errorf("%w: no link", ErrConfig)
	}
	if cfg.Issuer == 0 {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.LinkID == 0 {
		cfg.LinkID = 1
	}
	if cfg.Clock == nil {
		cfg.Clock = radio.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.TimePoll <= 0 {
		cfg.TimePoll = 5 * time.Second
	}
	if cfg.StatusShare <= 0 {
		cfg.StatusShare = 0.05
	}
	if cfg.EmergencyRepeats <= 0 {
		cfg.EmergencyRepeats = 5
	}
	if cfg.EmergencyEvery <= 0 {
		cfg.EmergencyEvery = 300 * time.Millisecond
	}
	if cfg.Issuer == Everyone {
		return nil, fmt.Errorf("%w: issuer %d is the broadcast address; use a vehicle ID no drone has (default %d)", ErrConfig, cfg.Issuer, DefaultIssuer)
	}
	if slices.Contains(cfg.Members, cfg.Issuer) {
		return nil, fmt.Errorf("%w: issuer %d is a member drone's ID; a ground station needs an ID of its own", ErrConfig, cfg.Issuer)
	}
	if slices.Contains(cfg.Members, 0) || slices.Contains(cfg.Members, Everyone) {
		return nil, fmt.Errorf("%w: member IDs 0 and %d are not vehicle IDs", ErrConfig, Everyone)
	}
	cd, err := codec.New(codec.Config{Network: cfg.Network})
	if err != nil {
		return nil, fmt.Errorf("station: %w", err)
	}
	now := cfg.Clock.Now()
	baud := cfg.Baud
	if baud == 0 {
		baud = 57600
	}
	ts, err := timesync.New(timesync.Config{
		ID:             algorithms.NodeID(cfg.Issuer),
		TickNanos:      int64(tick),
		Baud:           baud,
		PollTicks:      int(max(1, cfg.TimePoll/tick)),
		ReplyTicks:     int(max(1, time.Second/tick)),
		FirstPollTicks: 1,
		Seed:           uint64(now.UnixNano()),
	})
	if err != nil {
		return nil, fmt.Errorf("station: time sync: %w", err)
	}
	log := cfg.Logger.With("network", cfg.Network)
	r, err := radio.Open(radio.Config{
		Link: cfg.Link, Key: cfg.Key, Network: cfg.Network,
		SystemID: SystemID, ComponentID: ComponentID, LinkID: cfg.LinkID,
		Baud: cfg.Baud, Clock: cfg.Clock, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("station: %w", err)
	}
	s := &Station{
		cfg:      cfg,
		log:      log,
		clock:    cfg.Clock,
		radio:    r,
		codec:    cd,
		started:  now,
		lastTick: now,
		changed:  make(chan struct{}),
		drones:   map[uint16]*drone{},
		sysIDs:   map[uint16]uint8{},
		members:  slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(cfg.Members))))),
		pending:  map[uint32]*request{},
		ts:       ts,
		done:     make(chan struct{}),
	}
	s.seq = cfg.FirstSeq
	if s.seq == 0 {
		s.seq = clockNumber(now)
	}
	s.seq-- // the first command takes FirstSeq
	s.ts.SetClock(now.UnixNano())
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

// clockNumber is a number that grows with the clock, one a second, so
// that numbers a station takes from it after a restart follow the ones of
// its previous run.
func clockNumber(t time.Time) uint32 {
	u := t.Unix()
	if u < 1 {
		return 1
	}
	return uint32(min(u, 1<<32-1<<20)) // keep room to count on
}

// Network returns the station's network.
func (s *Station) Network() uint8 { return s.cfg.Network }

// Issuer returns the station's vehicle ID.
func (s *Station) Issuer() uint16 { return s.cfg.Issuer }

// Close stops the station and its radio. Commands still waiting for an
// answer fail with ErrClosed.
func (s *Station) Close() error {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return nil
	default:
	}
	close(s.done)
	s.mu.Unlock()
	err := s.radio.Close()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("station: %w", err)
	}
	return nil
}

// ErrClosed is returned by the methods of a closed Station.
var ErrClosed = errors.New("station: closed")

func (s *Station) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// loop receives frames and runs the timers until Close.
func (s *Station) loop() {
	defer s.wg.Done()
	var timer <-chan time.Time
	for {
		if timer == nil {
			timer = s.clock.After(tick)
		}
		select {
		case <-s.done:
			return
		case f, ok := <-s.radio.Received():
			if !ok {
				return
			}
			s.receive(f)
		case <-timer:
			timer = nil
			s.onTick()
		}
	}
}

// onTick retries commands, repeats emergency commands and runs the time
// sync core, by the clock: a late wake-up makes up the ticks it missed.
func (s *Station) onTick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	n := int(now.Sub(s.lastTick) / tick)
	if n <= 0 {
		return
	}
	s.lastTick = s.lastTick.Add(time.Duration(n) * tick)
	for range min(n, 100) {
		s.ts.SetClock(now.UnixNano())
		s.ts.Tick()
	}
	if now.Sub(s.lastBeat) >= HeartbeatEvery {
		s.lastBeat = now
		s.heartbeat()
	}
	s.flushTimeSync()
	s.retry(now)
	s.repeatEmergencies(now)
	s.tickUpload(n)
	s.notify() // drones' data ages: waiters see live drones go silent
}

// HeartbeatEvery is the period of the station's MAVLink HEARTBEAT (type
// GCS), as ground control stations send it: it tells the radio (and a
// SITL radio hub, which learns its endpoints from what they send) that the
// station is there before it has anything else to say, for 0.6% of a
// 57600-baud channel.
const HeartbeatEvery = time.Second

// heartbeat sends the station's HEARTBEAT. Call with s.mu held.
func (s *Station) heartbeat() {
	hb := &ardupilotmega.MessageHeartbeat{Type: ardupilotmega.MAV_TYPE_GCS, Autopilot: ardupilotmega.MAV_AUTOPILOT_INVALID,
		SystemStatus: ardupilotmega.MAV_STATE_ACTIVE, MavlinkVersion: 3}
	if err := s.radio.Send(hb, link.Broadcast); err != nil {
		s.counters.SendErrors++
		return
	}
	s.counters.Sent++
}

// flushTimeSync sends the time sync core's requests. Call with s.mu held.
func (s *Station) flushTimeSync() {
	for _, snd := range s.ts.Ready().Sends {
		to := Everyone
		if len(snd.To) == 1 {
			to = uint16(snd.To[0])
		}
		msg, err := s.codec.EncodeMessage(codec.Header{From: algorithms.NodeID(s.cfg.Issuer), To: algorithms.NodeID(to)}, snd.Msg)
		if err != nil {
			s.counters.SendErrors++
			s.log.Warn("station: time request not encoded", "err", err)
			continue
		}
		if s.send(msg, to) == nil {
			s.counters.TimeRequests++
		}
	}
}

// send queues msg for dst (a vehicle ID, or Everyone). Call with s.mu
// held.
func (s *Station) send(msg message.Message, dst uint16) error {
	to := link.Broadcast
	if id, ok := s.sysIDs[dst]; ok && dst != Everyone {
		to = link.Dest(id)
	}
	if err := s.radio.Send(msg, to); err != nil {
		s.counters.SendErrors++
		s.log.Debug("station: frame not queued", "msg", msg.GetID(), "to", dst, "err", err)
		return err
	}
	s.counters.Sent++
	return nil
}

// notify wakes the waiters on the picture. Call with s.mu held.
func (s *Station) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// receive takes in one verified frame.
func (s *Station) receive(f wire.Frame) {
	if f.IsRadioStatus() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.counters.Frames++
	h, ok := addressing(f.Message)
	if !ok {
		s.counters.Ignored++ // a frame of another dialect
		return
	}
	from := uint16(h.From)
	switch {
	case f.SystemID == SystemID && f.LinkID == s.cfg.LinkID:
		s.counters.Echoes++ // our own frame, relayed back by a hub
		return
	case f.SystemID == SystemID:
		s.counters.OtherStations++ // another ground station's traffic
		return
	case h.Network != s.cfg.Network, from == 0, from == Everyone:
		s.counters.Malformed++
		return
	case from == s.cfg.Issuer:
		// Another station (or a replay) using our vehicle ID.
		s.counters.Malformed++
		s.log.Warn("station: a frame from system ID carries this station's vehicle ID; give each ground station its own Issuer",
			"system", f.SystemID, "issuer", s.cfg.Issuer)
		return
	}
	if f.SystemID >= 1 && f.SystemID <= 250 {
		s.sysIDs[from] = f.SystemID
	}
	d := s.drone(from)
	d.frames++
	d.heard = now
	to := uint16(h.To)
	if to != Everyone && to != s.cfg.Issuer {
		return // unicast between drones: heard, not for us
	}
	switch m := f.Message.(type) {
	case *swarm.MessageSwarmStatus:
		s.status(now, from, m)
	case *swarm.MessageSwarmOperatorCommand:
		s.answer(now, from, m)
	case *swarm.MessageSwarmTimeReply:
		_, cm, err := s.codec.DecodeMessage(m)
		if err != nil {
			s.counters.Malformed++
			return
		}
		s.ts.SetClock(now.UnixNano())
		_, before, _ := s.ts.Counters()
		if err := s.ts.Step(algorithms.NodeID(from), cm); err != nil {
			s.counters.Malformed++
			s.log.Debug("station: time reply rejected", "from", from, "err", err)
			return
		}
		// The leader's beacon to everyone answers no request: it refines
		// the swarm time, and counts as neither reply nor stale.
		r, _ := cm.(timesync.Reply)
		if _, after, _ := s.ts.Counters(); after > before {
			s.counters.TimeReplies++
		} else if !r.IsBeacon() {
			s.counters.TimeStale++ // not the leader's, or not to the pending request
		}
		s.ts.Ready() // a follower's core sends nothing on a reply
	case *swarm.MessageSwarmEmergency:
		s.emergencyAck(from, m)
	case *swarm.MessageSwarmShowNeed:
		s.uploadNeed(from, m)
	}
}

// drone returns the record of vehicle id, created on first sight. Call
// with s.mu held.
func (s *Station) drone(id uint16) *drone {
	d := s.drones[id]
	if d == nil {
		d = &drone{id: id}
		s.drones[id] = d
	}
	return d
}

// setLeader believes in leader id of term. Call with s.mu held.
func (s *Station) setLeader(now time.Time, id uint16, term uint32, why string) {
	if id == s.leader && term <= s.term {
		return
	}
	if term > s.term {
		s.term = term
	}
	if id == s.leader {
		return
	}
	s.log.Info("station: leader", "leader", id, "term", s.term, "was", s.leader, "from", why)
	s.leader = id
	s.counters.LeaderChanges++
	if id != 0 {
		s.ts.SetClock(now.UnixNano())
		s.ts.SetLeader(algorithms.NodeID(id))
	}
	s.notify()
}

// leaderHeard is when the station last heard a frame from the leader
// (zero when never). Call with s.mu held.
func (s *Station) leaderHeard() time.Time {
	if d := s.drones[s.leader]; d != nil && s.leader != 0 {
		return d.heard
	}
	return time.Time{}
}

// Leader returns the leader the station believes in (0 when it knows
// none) and its term.
func (s *Station) Leader() (id uint16, term uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader, s.term
}

// SwarmTime returns the swarm time (the leader's clock, as the drones
// follow it) at clock reading now, an error bound, and whether the
// station has heard the leader's time yet (before it has, the swarm time
// is its own clock and the bound is unknown: math.MaxInt64).
func (s *Station) SwarmTime(now time.Time) (t time.Time, bound time.Duration, synced bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ts.SwarmTime(now.UnixNano())
	return time.Unix(0, st), time.Duration(s.ts.ErrorBoundAt(now.UnixNano())), s.ts.Synced()
}

// addressing returns the network, sender and destination of a swarm
// message: the codec's, and those of the operator's messages, which have
// no core message to bind.
func addressing(msg message.Message) (codec.Header, bool) {
	switch m := msg.(type) {
	case *swarm.MessageSwarmOperatorCommand:
		return codec.Header{Network: m.NetworkId, From: algorithms.NodeID(m.SrcVehicle), To: algorithms.NodeID(m.DstVehicle)}, true
	case *swarm.MessageSwarmStatus:
		return codec.Header{Network: m.NetworkId, From: algorithms.NodeID(m.SrcVehicle), To: algorithms.NodeID(m.DstVehicle)}, true
	}
	return codec.Addressing(msg)
}
