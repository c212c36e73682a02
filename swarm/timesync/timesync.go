package timesync

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/internal/airtime"
)

// Defaults of Config.
const (
	DefaultShare     = 0.05
	DefaultWindow    = 8
	DefaultDriftPPM  = 100
	DefaultSlewPPM   = 10_000
	DefaultTickNanos = 10_000_000
	// DefaultSyncError is the default of Config.SyncError: two drones
	// that took up the swarm time within it of the leader's are at most
	// 40 ms apart.
	DefaultSyncError = 20_000_000
)

// ErrConfig is returned by New for a configuration that cannot work.
var ErrConfig = errors.New("timesync: bad configuration")

// Config configures a TimeSync.
type Config struct {
	// ID is this drone's vehicle ID.
	ID algorithms.NodeID
	// Leader is the time server at the start (optional; SetLeader sets it
	// later). A drone that is its own leader serves its own clock.
	Leader algorithms.NodeID
	// Members is the number of drones that poll on the channel, for the
	// airtime budget (optional, default 1).
	Members int
	// TickNanos is the length of one tick in nanoseconds (optional,
	// default 10 ms).
	TickNanos int64
	// Baud is the radio's serial rate (optional, default 57600).
	Baud int
	// Unsigned sizes frames without the MAVLink signature (optional).
	Unsigned bool
	// Share is the fraction of the channel the polls of all members and
	// the leader's beacons may take, an eighth of it the beacons'
	// (optional, default 0.05).
	Share float64
	// PollTicks overrides the poll period derived from the budget
	// (optional).
	PollTicks int
	// ReplyTicks is how long a reply may take before the request counts
	// as lost (optional, default 1 s worth of ticks).
	ReplyTicks int
	// FirstPollTicks bounds the wait before the first poll of a new
	// leader (optional, default one poll period, which spreads the swarm's
	// first polls over a period). Drones likely to lead next set it short,
	// so that they hold the swarm time before they have to serve it: a
	// leader elected without a sample of the previous one serves its own
	// clock, and swarm time jumps; one with samples that did not yet
	// bound its error within SyncError serves its estimate, off by up to
	// their half round trip.
	FirstPollTicks int
	// SyncPollTicks bounds the wait before the first poll while the drone
	// has no estimate of swarm time at all (optional, default no bound
	// beyond FirstPollTicks): a drone that does not know the swarm time
	// cannot fly a show, so it asks sooner than the budget would spread
	// it. SyncShare, when set, raises the bound so that the first polls of
	// every member take at most that share of the channel.
	SyncPollTicks int
	SyncShare     float64
	// SyncError is the largest error bound with which the drone takes up
	// the swarm time, in nanoseconds (optional, default 20 ms, and at
	// least the time on air of a request and its reply): a drone whose
	// samples do not yet bound its error within it keeps asking, after a
	// random wait within the first polls' spread, and is not Synced. The
	// bound doubles after every Window samples in a row that fall short,
	// so that a drone on a channel too busy for it still takes the swarm
	// time up in the end.
	SyncError int64
	// Window is how many recent samples the filter keeps (optional,
	// default 8).
	Window int
	// DriftPPM bounds the drift of one drone's clock, in parts per
	// million: two clocks drift apart at up to twice this (optional,
	// default 100).
	DriftPPM float64
	// SlewPPM bounds how fast the applied offset may change, in parts per
	// million of the elapsed local time (optional, default 10 000: 1 ms
	// per 100 ms).
	SlewPPM float64
	// GPSSlewPPM bounds how fast a leader with GPS time closes the gap
	// between the swarm time it serves and GPS time, in parts per
	// million of the elapsed time, at most SlewPPM − 2×DriftPPM
	// (optional, default DriftPPM: the followers' ErrorBound then holds
	// while it does; see doc.go, "GPS time").
	GPSSlewPPM float64
	// AwaitBeacons makes a drone that does not know the swarm time wait
	// for its leader's beacons, exact when on time, before it takes it up
	// from its polls (optional): for up to 16 beacon periods after it
	// began to follow the leader, or until it holds 8 beacons that do not
	// agree. A poll that bounds the error within SyncError may still be
	// 20 ms off, and taken up before the first beacons it spread the
	// swarm by up to 11 ms at 250 drones and 10% loss until they agreed.
	// It delays the first sync by seconds, which the drone runner's tests
	// do not allow yet, so swarm.Node leaves it off.
	AwaitBeacons bool
	// BeaconTicks overrides the period of the leader's beacons (optional,
	// default: one beacon frame per period takes an eighth of Share, the
	// polls of all members the rest).
	BeaconTicks int
	// Seed draws the poll phase and jitter.
	Seed uint64
	// Restored is what Persist returned before a restart (optional). The
	// drone takes up the swarm time it had at its first clock reading,
	// if its local clock has run on since and was down no longer than
	// RestoreError allows.
	Restored []byte
	// RestoreError bounds the drift that a restored swarm time may have
	// gathered while the drone was down: twice DriftPPM of the downtime
	// (optional, default 10 ms: 100 s at 50 ppm).
	RestoreError int64
}

// Request is a follower's TIMESYNC request.
type Request struct {
	// T1 is the follower's local clock at sending, in nanoseconds.
	T1 int64
}

// Reply is the leader's TIMESYNC answer.
type Reply struct {
	// T1 echoes the request.
	T1 int64
	// T2 and T3 are the leader's swarm time at receipt and at sending, in
	// nanoseconds.
	T2, T3 int64
}

// Kind implements algorithms.Message.
func (Request) Kind() string { return "TIMESYNC_REQUEST" }

// Size implements algorithms.Message: the longest payload of a request on
// air, less the sender's and the destination's vehicle IDs
// (airtime.AddressBytes). A request travels in the swarm dialect's
// SWARM_TIME_REQUEST, 13 bytes: t1, the vehicle IDs, network_id.
func (Request) Size() int { return 13 - airtime.AddressBytes }

// Unreliable implements algorithms.Unreliable.
func (Request) Unreliable() {}

// Kind implements algorithms.Message.
func (Reply) Kind() string { return "TIMESYNC_REPLY" }

// Size implements algorithms.Message: the longest payload of a reply on
// air, less the sender's and the destination's vehicle IDs
// (airtime.AddressBytes). A reply travels in the swarm dialect's
// SWARM_TIME_REPLY, 25 bytes: t1, t2, the vehicle IDs, network_id and
// hold, t3 - t2 in 32 bits, which MAVLink 2 trims when 0 (the core answers
// at once: 21 bytes).
func (Reply) Size() int { return 25 - airtime.AddressBytes }

// replyAtOnceBytes is the payload of a reply as the core sends it, less
// the two vehicle IDs: answered at once (t3 = t2), so without hold's 4
// bytes, which MAVLink 2 trims. The airtime correction uses it.
const replyAtOnceBytes = 21 - airtime.AddressBytes

// Unreliable implements algorithms.Unreliable.
func (Reply) Unreliable() {}

// OnAir returns the reply as it goes on air after waiting waited
// nanoseconds for the channel: t3 later by the wait, as the radio stamps
// it (sim.OnAir). The leader's swarm time runs at its clock's rate, to
// within the drift bound, so the local time waited is the swarm time
// waited.
func (r Reply) OnAir(waited int64) algorithms.Message {
	r.T3 += max(waited, 0)
	return r
}

// Synced is emitted once, when the drone first knows the swarm time.
type Synced struct {
	// Offset is swarm time minus local time, in nanoseconds.
	Offset int64
}

type sample struct {
	offset, rtt, at int64 // nanoseconds; at is the local time of t4
}

// TimeSync is the time synchronisation core of one drone. It is not safe
// for concurrent use.
type TimeSync struct {
	algorithms.Outbox
	cfg    Config
	poll   int // ticks
	rng    *rand.Rand
	ticks  int64
	now    int64 // local clock at the last SetClock
	clock  bool  // SetClock was called
	leader algorithms.NodeID
	synced bool
	// The estimate of the leader's swarm time is the line base +
	// freq × (t − baseAt) over local time t; the applied offset is off at
	// local time offAt, following the line's slope and slewing towards it.
	base, baseAt int64
	freq         float64
	off, offAt   int64
	samples      []sample
	// The beacons heard of the current leader, and whether freq was
	// fitted to them; on the leader, the beacon period and the tick the
	// next one is due.
	beacons    []beacon
	beaconFreq bool
	// wide caches the bounds the samples and beacons allow (widening).
	wide        widening
	beaconTicks int
	nextBeacon  int64
	leaderTick  int64 // the tick SetLeader made the current leader
	// asym is the difference between the reply's and the request's time
	// on air: the reply takes longer to send.
	asym               int64
	pending            bool
	misses             int     // requests in a row without a reply
	loss               float64 // moving average of requests without a reply
	t1                 int64
	sentTick, nextPoll int64
	jitter             int64 // ticks added to the last poll period
	// Before the drone is synced: the error bound it takes the swarm
	// time up with, the samples in a row that fell short of it, and the
	// spread of the polls that ask again.
	syncError   int64
	short       int
	retrySpread int
	// GPS time (gps.go): the recent readings; whether the gap to GPS
	// time is held, and the gap held.
	gps     []gpsReading
	hold    bool
	held    int64
	heldSet bool
	// restore is the persisted state, until the first clock reading.
	restore []byte
	// Counters.
	requests, replies, stale  int
	beaconsSent, beaconsHeard int
}

var (
	_ algorithms.Core      = (*TimeSync)(nil)
	_ algorithms.Persister = (*TimeSync)(nil)
)

// New returns the core of drone cfg.ID.
func New(cfg Config) (*TimeSync, error) {
	if cfg.TickNanos == 0 {
		cfg.TickNanos = DefaultTickNanos
	}
	if cfg.Members == 0 {
		cfg.Members = 1
	}
	if cfg.Baud == 0 {
		cfg.Baud = airtime.DefaultBaud
	}
	if cfg.Share == 0 {
		cfg.Share = DefaultShare
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.DriftPPM == 0 {
		cfg.DriftPPM = DefaultDriftPPM
	}
	if cfg.SlewPPM == 0 {
		cfg.SlewPPM = DefaultSlewPPM
	}
	if cfg.GPSSlewPPM == 0 {
		cfg.GPSSlewPPM = min(cfg.DriftPPM, cfg.SlewPPM-2*cfg.DriftPPM)
	}
	if cfg.RestoreError == 0 {
		cfg.RestoreError = 10_000_000
	}
	if cfg.ReplyTicks == 0 {
		cfg.ReplyTicks = int(max(1, 1e9/cfg.TickNanos))
	}
	switch {
	case cfg.TickNanos < 0:
		return nil, fmt.Errorf("%w: TickNanos %d", ErrConfig, cfg.TickNanos)
	case cfg.Window < 1:
		return nil, fmt.Errorf("%w: Window %d must be at least 1", ErrConfig, cfg.Window)
	case cfg.DriftPPM < 0:
		return nil, fmt.Errorf("%w: DriftPPM %v is negative", ErrConfig, cfg.DriftPPM)
	case !(cfg.SlewPPM > 2*cfg.DriftPPM && cfg.SlewPPM < 1e6):
		return nil, fmt.Errorf("%w: SlewPPM %v not in (2×DriftPPM, 1e6)", ErrConfig, cfg.SlewPPM)
	case !(cfg.GPSSlewPPM > 0 && cfg.GPSSlewPPM+2*cfg.DriftPPM <= cfg.SlewPPM):
		return nil, fmt.Errorf("%w: GPSSlewPPM %v not in (0, SlewPPM − 2×DriftPPM]", ErrConfig, cfg.GPSSlewPPM)
	case cfg.PollTicks < 0 || cfg.ReplyTicks < 1 || cfg.BeaconTicks < 0:
		return nil, fmt.Errorf("%w: PollTicks %d, ReplyTicks %d, BeaconTicks %d", ErrConfig, cfg.PollTicks, cfg.ReplyTicks, cfg.BeaconTicks)
	case cfg.Restored != nil && (len(cfg.Restored) != stateSize || cfg.Restored[0] != stateVersion):
		return nil, fmt.Errorf("%w: %d bytes of restored state, not a time sync state", ErrConfig, len(cfg.Restored))
	}
	poll := cfg.PollTicks
	if poll == 0 {
		var err error
		poll, err = airtime.Budget{
			Members:         cfg.Members,
			FramesPerPeriod: 2,
			FrameBytes:      airtime.FrameBytes(Reply{}.Size(), !cfg.Unsigned),
			Baud:            cfg.Baud,
			Share:           cfg.Share * (1 - beaconShare),
			TickNanos:       cfg.TickNanos,
		}.PeriodTicks()
		if err != nil {
			return nil, fmt.Errorf("%w: poll period: %w", ErrConfig, err)
		}
	}
	// A drone whose samples fall short of SyncError asks again within
	// the spread of the first polls at SyncShare (retryShare without
	// it), at most a poll period.
	retry := poll
	{
		spread, err := airtime.Budget{
			Members:         cfg.Members,
			FramesPerPeriod: 2,
			FrameBytes:      airtime.FrameBytes(Reply{}.Size(), !cfg.Unsigned),
			Baud:            cfg.Baud,
			Share:           cmp.Or(cfg.SyncShare, retryShare),
			TickNanos:       cfg.TickNanos,
		}.PeriodTicks()
		if err != nil {
			return nil, fmt.Errorf("%w: first polls: %w", ErrConfig, err)
		}
		retry = min(retry, spread)
		if cfg.SyncPollTicks > 0 && cfg.SyncShare > 0 {
			cfg.SyncPollTicks = max(cfg.SyncPollTicks, spread)
		}
	}
	onAir := airtime.Nanos(airtime.FrameBytes(Reply{}.Size(), !cfg.Unsigned), cfg.Baud) +
		airtime.Nanos(airtime.FrameBytes(Request{}.Size(), !cfg.Unsigned), cfg.Baud)
	if cfg.SyncError == 0 {
		cfg.SyncError = max(DefaultSyncError, onAir)
	}
	if cfg.SyncError < 0 {
		return nil, fmt.Errorf("%w: SyncError %d is negative", ErrConfig, cfg.SyncError)
	}
	c := &TimeSync{
		cfg:  cfg,
		poll: poll,
		rng:  rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.ID)<<32|0x7153)),
		asym: (airtime.Nanos(airtime.FrameBytes(replyAtOnceBytes, !cfg.Unsigned), cfg.Baud) -
			airtime.Nanos(airtime.FrameBytes(Request{}.Size(), !cfg.Unsigned), cfg.Baud)),
		restore:     cfg.Restored,
		syncError:   cfg.SyncError,
		retrySpread: max(retry, 1),
		beaconTicks: beaconPeriod(cfg),
	}
	c.SetLeader(cfg.Leader)
	return c, nil
}

// PollTicks returns the poll period derived from the budget.
func (c *TimeSync) PollTicks() int { return c.poll }

// SetClock passes the local clock reading, in nanoseconds. The driver
// calls it before every Step and Tick. A reading earlier than the previous
// one is taken as no time passing.
func (c *TimeSync) SetClock(local int64) {
	if c.clock && local <= c.now {
		return
	}
	if c.restore != nil {
		c.takeUp(local)
	}
	c.advance(local)
	c.now, c.clock = local, true
}

// The persisted state: a version, the local clock reading, and the
// applied offset then.
const (
	stateVersion = 1
	stateSize    = 1 + 8 + 8
)

// Persist returns the swarm time the drone has, to pass as
// Config.Restored after a restart, or nil while it has none. A drone that
// restarts while no leader is there to ask (the leader has crashed, and
// the next is not yet elected) and is then elected itself serves the
// swarm time it had rather than its own clock; without it, swarm time
// would jump by the drone's clock offset. It counts only if the local
// clock runs on across the restart (a real-time clock, not one that
// starts at zero at boot).
func (c *TimeSync) Persist() []byte {
	if !c.synced || !c.clock {
		return nil
	}
	b := []byte{stateVersion}
	b = binary.BigEndian.AppendUint64(b, uint64(c.now))
	return binary.BigEndian.AppendUint64(b, uint64(c.offsetAt(c.now)))
}

// takeUp takes up the restored swarm time at the first clock reading, if
// the clock ran on and the drone was down briefly enough.
func (c *TimeSync) takeUp(local int64) {
	saved := int64(binary.BigEndian.Uint64(c.restore[1:]))
	off := int64(binary.BigEndian.Uint64(c.restore[9:]))
	c.restore = nil
	down := local - saved
	if c.synced || down < 0 || float64(down)*c.maxDrift() > float64(c.cfg.RestoreError) {
		return
	}
	c.off, c.offAt, c.base, c.baseAt, c.freq = off, local, off, local, 0
	c.synced = true
	c.Emit(Synced{Offset: off})
}

// Leader returns the current time server (0 when none).
func (c *TimeSync) Leader() algorithms.NodeID { return c.leader }

// Synced reports whether the drone knows the swarm time: it is the leader,
// or it has had a sample of a leader.
func (c *TimeSync) Synced() bool { return c.synced }

// SetLeader makes id the time server (the driver calls it when the
// election reports a leader). The samples of the previous leader are
// dropped, but the applied offset is kept and only slews towards the new
// leader's time. When id is this drone, it serves its current swarm time,
// offset included, so that swarm time continues across the change.
func (c *TimeSync) SetLeader(id algorithms.NodeID) {
	if id == c.leader && id != 0 {
		return
	}
	// The estimate goes on from where it is now, without the samples of
	// the previous leader, and without its drift: the new leader's
	// clock runs at its own rate.
	c.advance(c.now)
	if c.synced && c.leader != c.cfg.ID {
		c.base, c.baseAt = c.targetAt(c.now), c.now
	}
	// A drone that has samples or beacons of the previous leader but has
	// not taken the swarm time up (they did not bound its error within
	// SyncError, or too few beacons agreed) still has its estimate of
	// it, off by no more than the samples allow, or by a beacon's delay
	// beyond its time on air: if it is elected, it serves that rather
	// than its own clock, which is up to the clocks' spread away from
	// what the synced followers have (under 30% loss, a next leader
	// whose polls all went unanswered, but which heard one beacon, served
	// its own clock 590 ms off, and its network flew apart by 514 ms).
	estimate, estimated := int64(0), !c.synced && (len(c.samples) > 0 || len(c.beacons) > 0)
	if estimated {
		estimate = c.targetAt(c.now)
	}
	if c.leader == c.cfg.ID {
		// A leader that steered by GPS time goes on from the swarm time
		// it served, not towards GPS time.
		c.base, c.baseAt = c.off, c.offAt
	}
	c.freq = 0
	c.leader = id
	c.samples = c.samples[:0]
	c.beacons, c.beaconFreq = c.beacons[:0], false
	c.wide = widening{}
	c.nextBeacon = c.ticks + 1
	c.leaderTick = c.ticks
	c.pending, c.misses = false, 0
	switch {
	case id == c.cfg.ID:
		// Serve the swarm time applied now, at the rate of this drone's
		// own clock: no jump, and, like the first leader's, the swarm
		// time served drifts from any follower's clock by at most twice
		// DriftPPM, which the followers' error bounds assume. (Following
		// the previous leader's estimated drift, or slewing on, would
		// make it run faster or slower than that by the estimate's
		// error.)
		if !c.synced {
			if estimated {
				c.off, c.offAt = estimate, c.now
			}
			c.synced = true
			c.Emit(Synced{Offset: c.off})
		}
		c.base, c.baseAt = c.off, c.offAt
		c.heldSet = false
		c.steer()
	case id != 0:
		first := c.poll
		if c.cfg.FirstPollTicks > 0 {
			first = min(first, c.cfg.FirstPollTicks)
		}
		if !c.synced && c.cfg.SyncPollTicks > 0 {
			first = min(first, c.cfg.SyncPollTicks)
		}
		c.nextPoll = c.ticks + 1 + c.rng.Int64N(int64(first))
	}
}

// SwarmTime returns the swarm time at local clock reading local, in
// nanoseconds. Before the drone is synced it is the local time.
func (c *TimeSync) SwarmTime(local int64) int64 { return local + c.offsetAt(local) }

// Offset returns the applied offset (swarm time − local time) at the last
// clock reading, the offset the drone slews towards, and the estimated
// drift of the leader's clock against this drone's (parts per million).
func (c *TimeSync) Offset() (applied, target int64, driftPPM float64) {
	return c.offsetAt(c.now), c.targetAt(c.now), c.freq * 1e6
}

// ErrorBound returns ErrorBoundAt the last clock reading.
func (c *TimeSync) ErrorBound() int64 { return c.ErrorBoundAt(c.now) }

// ErrorBoundAt returns a bound on the error of SwarmTime(local), in
// nanoseconds, assuming that no clock drifts by more than DriftPPM: the
// distance from the applied offset to the farther end of the offsets
// every sample of the leader allows (half its round trip, widened by
// twice DriftPPM of its age). It holds whatever the delays and whatever
// the drift estimate. It is 0 on the leader and MaxInt64 before the first
// sample of the current leader.
func (c *TimeSync) ErrorBoundAt(local int64) int64 {
	if c.leader == c.cfg.ID {
		return 0
	}
	lo, hi, ok := c.interval(local)
	if !c.synced || !ok {
		return math.MaxInt64
	}
	applied := c.offsetAt(local)
	return max(applied-lo, hi-applied)
}

// Counters returns the requests sent, the replies used, and the replies
// dropped as stale (another leader, an abandoned request).
func (c *TimeSync) Counters() (requests, replies, stale int) {
	return c.requests, c.replies, c.stale
}

// Beacons returns the beacons sent as leader and those heard of the
// leader followed.
func (c *TimeSync) Beacons() (sent, heard int) { return c.beaconsSent, c.beaconsHeard }

// Step implements algorithms.Core. Call SetClock first.
func (c *TimeSync) Step(from algorithms.NodeID, m algorithms.Message) error {
	switch m := m.(type) {
	case Request:
		if c.leader != c.cfg.ID {
			return nil // asked as leader by a drone that has not heard of the change
		}
		st := c.SwarmTime(c.now)
		c.Send(algorithms.To(from), Reply{T1: m.T1, T2: st, T3: st})
	case Reply:
		if m.IsBeacon() {
			if from != c.leader || c.leader == c.cfg.ID {
				return nil // a leader this drone does not follow, or no longer
			}
			if m.T3 < m.T2 {
				return fmt.Errorf("timesync: beacon from %d with t3 %d before t2 %d", from, m.T3, m.T2)
			}
			c.onBeacon(m)
			return nil
		}
		if from != c.leader || !c.pending || m.T1 != c.t1 {
			c.stale++
			return nil
		}
		if m.T3 < m.T2 || m.T3-m.T2 > math.MaxUint32 {
			return fmt.Errorf("timesync: reply from %d with t3 %d before t2 %d", from, m.T3, m.T2)
		}
		c.pending, c.misses = false, 0
		c.loss -= c.loss / lossWeight
		// The next poll waits longer while requests go unanswered, so that
		// with the repeats after a loss the polls keep to the budget.
		stretch := float64(c.poll) / (1 - min(c.loss, 0.5))
		c.nextPoll = c.sentTick + int64(stretch) + c.jitter
		c.replies++
		t4 := c.now
		rtt := max((t4-m.T1)-(m.T3-m.T2), 0)
		// The request reaches the leader as its last byte does, and so
		// does the reply: correct for the reply's longer time on air.
		c.add(sample{offset: ((m.T2 - m.T1) + (m.T3 - t4) + c.asym) / 2, rtt: rtt, at: t4})
		if !c.synced && !c.awaitBeacons() {
			// The samples do not bound the error well enough yet (the
			// exchange waited for a busy channel): ask again, at a random
			// time within the first polls' spread, so that the drones a
			// busy moment turned away do not all ask at once. A drone
			// that waits for the beacons asks again a period later.
			c.nextPoll = c.ticks + 1 + c.rng.Int64N(int64(c.retrySpread))
		}
	default:
		return algorithms.Unknown("timesync", m)
	}
	return nil
}

// Box implements algorithms.Boxed: Ready is the Outbox's.
func (c *TimeSync) Box() *algorithms.Outbox { return &c.Outbox }

// Tick implements algorithms.Core: poll the leader when due. Call
// SetClock first.
func (c *TimeSync) Tick() {
	c.ticks++
	if c.leader == c.cfg.ID {
		c.sendBeacon()
		return
	}
	if c.leader == 0 {
		return
	}
	if c.pending && c.ticks-c.sentTick > int64(c.cfg.ReplyTicks) {
		// Lost: ask again soon rather than a period later, when the
		// estimate has aged by two periods of drift. Back off by √2 a
		// miss while the leader does not answer (it may be down, and a
		// new leader not yet elected), up to the poll period.
		c.pending = false
		c.misses++
		c.loss += (1 - c.loss) / lossWeight
		back := float64(c.cfg.ReplyTicks) * math.Pow(math.Sqrt2, float64(min(c.misses-1, 64)))
		c.nextPoll = min(c.nextPoll, c.ticks+1+c.rng.Int64N(int64(min(back, float64(c.poll)))))
	}
	if c.ticks < c.nextPoll || c.pending {
		return
	}
	c.pending, c.t1, c.sentTick = true, c.now, c.ticks
	c.requests++
	c.Send(algorithms.To(c.leader), Request{T1: c.now})
	c.jitter = c.rng.Int64N(int64(c.poll/10) + 1)
	c.nextPoll = c.ticks + int64(c.poll) + c.jitter
}

// retryShare is the share of the channel that the repeated first polls
// of every member take at most without Config.SyncShare.
const retryShare = 0.25

// lossWeight is the number of requests over which the loss average runs.
const lossWeight = 8

func (c *TimeSync) add(s sample) {
	if len(c.samples) == c.cfg.Window {
		copy(c.samples, c.samples[1:])
		c.samples = c.samples[:len(c.samples)-1]
	}
	c.samples = append(c.samples, s)
	c.wide = widening{}
	c.advance(c.now) // the applied offset so far, under the old estimate
	if f, ok := c.slope(); ok && !c.beaconFreq {
		c.freq = f
	}
	// Once the drone knows the swarm time, a sample that does not bound
	// the error within syncError does not move the estimate to it: it
	// only narrows the offsets the samples allow, which the estimate is
	// kept within. Queueing delays one way, so such a sample is off by
	// most of its half round trip; after a change of leader, whose
	// first samples are often such, the followers moved from the swarm
	// time they had, which the new leader continues, to samples up to
	// 145 ms off (250 drones, 20% loss, deliveries up to 50 ms late).
	// With beacons the estimate is theirs (beacon.go): a poll only
	// narrows the offsets allowed. So it is for a drone that knows the
	// swarm time from beacons of a previous leader, until the new
	// leader's agree: a poll is off by up to half its round trip (4 ms
	// at 50 drones, against 0.1 ms for the beacons).
	if best := c.best(); len(c.beacons) == 0 && (!c.synced || best.rtt/2 <= c.syncError && c.beaconsHeard == 0) {
		c.base, c.baseAt = best.offset, best.at
	}
	if !c.synced && c.awaitBeacons() {
		return
	}
	if !c.synced {
		// Take the swarm time up only once the samples bound its error
		// within syncError: a first sample that waited for the channel
		// would otherwise set the clock far off, and slewing takes
		// seconds to undo it.
		lo, hi, _ := c.interval(c.now)
		target := c.targetAt(c.now)
		if max(target-lo, hi-target) > c.syncError {
			c.short++
			if c.short%c.cfg.Window == 0 && c.syncError < math.MaxInt64/2 {
				c.syncError *= 2
			}
			return
		}
		c.synced = true
		c.off, c.offAt = c.targetAt(c.now), c.now
		c.Emit(Synced{Offset: c.off})
	}
}

// slope estimates the drift of the leader's clock against this drone's by
// least squares over the samples whose round trip is at most twice the
// smallest (queueing makes the others noisy), once they span at least
// three poll periods; it is bounded by twice DriftPPM.
func (c *TimeSync) slope() (float64, bool) {
	minRTT := int64(math.MaxInt64)
	for _, s := range c.samples {
		minRTT = min(minRTT, s.rtt)
	}
	var (
		useful                      []sample
		first, last                 int64 = math.MaxInt64, math.MinInt64
		ref, refOffset                    = c.samples[0].at, c.samples[0].offset
		n, sumT, sumO, sumTT, sumTO float64
	)
	for _, s := range c.samples {
		if s.rtt <= 2*minRTT {
			useful = append(useful, s)
			first, last = min(first, s.at), max(last, s.at)
		}
	}
	if len(useful) < 3 || float64(last-first) < 3*float64(c.poll)*float64(c.cfg.TickNanos) {
		return 0, false
	}
	for _, s := range useful {
		t, o := float64(s.at-ref), float64(s.offset-refOffset)
		n++
		sumT += t
		sumO += o
		sumTT += t * t
		sumTO += t * o
	}
	den := n*sumTT - sumT*sumT
	if den <= 0 {
		return 0, false
	}
	f := (n*sumTO - sumT*sumO) / den
	bound := 2 * c.cfg.DriftPPM / 1e6
	return max(-bound, min(f, bound)), true
}

// best returns the sample the estimate starts from: the one with the
// smallest round trip, old samples penalised for the drift since (a tenth
// of the largest relative drift once the drift is estimated from the
// samples, or all of it), among those that bound the error within
// syncError if any does.
func (c *TimeSync) best() sample {
	var (
		out   sample
		bound int64 = math.MaxInt64
	)
	drift := c.maxDrift()
	if c.freq != 0 {
		drift /= 10
	}
	// A sample whose half round trip is above syncError moves the
	// estimate only while no sample bounds it within: queueing delays
	// one way, not both, so its offset is off by most of its half round
	// trip, while the penalty of an older, tighter sample assumes the
	// largest drift (a live swarm of 80 drones, polls 35 s apart,
	// followed such a sample 50 ms away).
	tight := slices.ContainsFunc(c.samples, func(s sample) bool { return s.rtt/2 <= c.syncError })
	for _, s := range c.samples {
		if tight && s.rtt/2 > c.syncError {
			continue
		}
		age := max(c.now-s.at, 0)
		b := s.rtt/2 + int64(float64(age)*drift)
		if b < bound {
			out, bound = s, b
		}
	}
	return out
}

// maxDrift is the largest drift of the leader's clock against this
// drone's: twice DriftPPM, as a fraction.
func (c *TimeSync) maxDrift() float64 { return 2 * c.cfg.DriftPPM / 1e6 }

// interval returns the offsets at local time t that every sample allows:
// the offset at a sample's time is within half its round trip of the
// sample's (widened by the drift over the exchange and a nanosecond of
// rounding), and changes by at most maxDrift of the time since. When the
// samples contradict each other (a clock drifted faster than DriftPPM),
// the newest alone counts. ok is false without samples.
func (c *TimeSync) interval(t int64) (lo, hi int64, ok bool) {
	if len(c.samples) == 0 {
		return 0, 0, false
	}
	lo, hi = c.sampleBounds(t)
	if lo > hi {
		s := c.samples[len(c.samples)-1]
		w := c.width(s, t)
		lo, hi = s.offset-w, s.offset+w
	}
	// A beacon shows an offset short of the leader's, never over it.
	if blo, ok := c.beaconLow(t); ok && blo > lo && blo <= hi {
		lo = blo
	}
	return lo, hi, true
}

// sampleBounds returns the offsets at local time t that every sample
// allows, lo above hi when they contradict each other.
func (c *TimeSync) sampleBounds(t int64) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	for _, s := range c.samples {
		w := c.width(s, t)
		lo, hi = max(lo, s.offset-w), min(hi, s.offset+w)
	}
	return lo, hi
}

// width is how far from sample s's offset the offset at local time t may
// be.
func (c *TimeSync) width(s sample, t int64) int64 {
	d := c.maxDrift()
	return s.rtt/2 + int64(math.Ceil(float64(s.rtt)*d+float64(abs(t-s.at))*d)) + 1
}

// widening holds the bounds targetAt clamps its line to, as they were at
// local time from, at or after every sample and beacon: from then on each
// sample's interval and each beacon's lower bound only widen, so a line
// within [lo, hi] at a later time is within the bounds of that time, and
// is the target. It is valid (ok) until a sample or beacon comes or goes.
// Without it, every clock reading (each tick and frame) would go over all
// the samples and beacons again.
type widening struct {
	from, lo, hi int64
	ok           bool
}

// widen returns the widening at local time t: not ok before the last
// sample or beacon, or while the samples contradict each other (interval
// then falls back on the newest).
func (c *TimeSync) widen(t int64) widening {
	for _, s := range c.samples {
		if s.at > t {
			return widening{}
		}
	}
	for _, b := range c.beacons {
		if b.at > t {
			return widening{}
		}
	}
	w := widening{from: t, lo: math.MinInt64, hi: math.MaxInt64, ok: true}
	if len(c.samples) > 0 {
		if w.lo, w.hi = c.sampleBounds(t); w.lo > w.hi {
			return widening{}
		}
	}
	if blo, ok := c.beaconLow(t); ok {
		w.lo = max(w.lo, blo)
	}
	return w
}

// targetAt is the estimate of the leader's offset at local time t: the
// line from the best sample along the estimated drift, kept within the
// offsets that the samples allow.
func (c *TimeSync) targetAt(t int64) int64 {
	line := c.base + int64(c.freq*float64(t-c.baseAt))
	if w := c.wide; w.ok && t >= w.from && line >= w.lo && line <= w.hi {
		return line
	}
	c.wide = c.widen(t)
	if lo, hi, ok := c.interval(t); ok {
		return max(lo, min(line, hi))
	}
	if lo, ok := c.beaconLow(t); ok {
		return max(lo, line)
	}
	return line
}

// offsetAt returns the applied offset at local time t: from off at offAt it
// follows the estimated drift and closes the gap to the estimate by at most
// SlewPPM − |drift| of the elapsed time, so that swarm time never runs
// faster or slower than local time by more than SlewPPM.
func (c *TimeSync) offsetAt(t int64) int64 {
	if !c.synced {
		return 0
	}
	elapsed := max(t-c.offAt, 0)
	rate := max(c.cfg.SlewPPM/1e6-math.Abs(c.freq), 0)
	if c.leader == c.cfg.ID {
		rate = c.cfg.GPSSlewPPM / 1e6 // steering by GPS time (gps.go)
	}
	step := int64(float64(elapsed) * rate)
	gap := c.targetAt(c.offAt) - c.off
	return c.off + int64(c.freq*float64(elapsed)) + max(-step, min(gap, step))
}

// advance moves the applied offset to local time t.
func (c *TimeSync) advance(t int64) {
	if t <= c.offAt {
		return
	}
	c.off = c.offsetAt(t)
	c.offAt = t
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

var _ algorithms.Boxed = (*TimeSync)(nil)
