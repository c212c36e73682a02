package sim

import (
	"container/heap"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
	"github.com/skyquorum/skyquorum/radio/arq"
)

// Config describes a run.
type Config struct {
	// Drones is the swarm size; drones are numbered 1…Drones.
	Drones int
	// Seed is the only source of randomness.
	Seed uint64
	// Baud is the radios' serial rate (optional, default 57600).
	Baud int
	// Unsigned drops the 13-byte signature from every frame.
	Unsigned bool
	// Loss is the probability that a given drone misses a given frame.
	Loss float64
	// Dup is the probability that a received frame is received twice.
	Dup float64
	// Reorder is the largest extra delay of a received frame.
	Reorder Time
	// Networks splits the swarm into this many radio networks, each its own
	// channel, drones in contiguous blocks (optional, default 1).
	Networks int
	// Tick is the period of every core's and endpoint's Tick (optional,
	// default 10 ms).
	Tick Time
	// DetectAfter, when positive, runs the simulator's failure detector:
	// every live drone learns of a crash or a restart this long after it.
	DetectAfter Time
	// ClockOffset bounds each drone's initial clock offset (±).
	ClockOffset Time
	// ClockDriftPPM bounds each drone's clock drift in parts per million (±).
	ClockDriftPPM float64
	// Raw sends every core message as one frame of its own, without the
	// reliable delivery layer, for cores that do their own reliability
	// (their messages say how they count through algorithms.Classifier).
	// Without it, only messages that implement algorithms.Unreliable go
	// raw.
	Raw bool
	// TrackCausality keeps a vector clock per drone, merged on every core
	// message, for happened-before checks (costs N words per message).
	TrackCausality bool
	// Family, when set, names the family of a core message (say "lock"
	// for the airspace locks); FamilyFrames then tells what each family
	// put on air.
	Family func(algorithms.Message) string
	// Wire sizes every frame as the radio encodes it (radio/codec's Codec
	// does). Without it, a frame's payload is estimated from the messages'
	// Size, arq's frame header and 2 bytes per address, which falls short
	// of the wire by up to 39 bytes a message: set it for airtime figures.
	Wire Wire
	// Workers, above 1, ticks the drones on that many goroutines at once
	// (optional, default 1), and steps a frame heard by many drones at
	// once on as many. Each drone's tick or step then touches only its own
	// endpoint and core, and what they produced is sent and traced drone
	// by drone in ID order afterwards. Only for cores whose Tick and Step
	// touch nothing outside the drone's own core, and scenarios whose
	// event observer (OnEvent) calls no core at once (it may schedule):
	// then a run is the same, trace hash included, whatever Workers.
	Workers int
	// Trace, when set, receives every event as a JSON line.
	Trace io.Writer
	// Logger receives violations (optional, default slog.Default()).
	Logger *slog.Logger
}

// Wire sizes frames: the MAVLink 2 payload lengths, trailing zero bytes
// truncated, of the dialect messages that carry them.
type Wire interface {
	// MessageBytes is the payload length of core message m sent on its own
	// from from to to (algorithms.Everyone for several or all peers).
	MessageBytes(from, to algorithms.NodeID, m algorithms.Message) (int, error)
	// FrameBytes are the payload lengths of the messages that carry
	// reliable delivery frame f, one MAVLink frame each.
	FrameBytes(f *arq.Frame) ([]int, error)
}

// Factory builds the core of drone id; restored is the state its previous
// incarnation persisted, or nil.
type Factory func(id algorithms.NodeID, restored []byte) (algorithms.Core, error)

// Errors of New.
var (
	ErrBadConfig = errors.New("sim: bad configuration")
)

// Stats are the totals of a run.
type Stats struct {
	// Messages counts core messages as the textbook does.
	Messages int
	// MessagesByKind splits Messages by message kind.
	MessagesByKind map[string]int
	// DataFrames, AckFrames and Retransmissions count transmissions as
	// docs/simulate.md defines them.
	DataFrames      int
	AckFrames       int
	Retransmissions int
	// HeartbeatFrames counts membership traffic.
	HeartbeatFrames int
	// Airtime is the channel time of every frame, summed over networks.
	Airtime Time
	// AirtimeByNetwork is the channel time per network.
	AirtimeByNetwork []Time
	// HeartbeatAirtimeByNetwork is the channel time of membership traffic
	// per network.
	HeartbeatAirtimeByNetwork []Time
	// AirtimeWindows is the channel time per network in consecutive
	// windows of AirtimeWindow, by when frames are on air (a frame that
	// straddles two windows counts in both, each for its part).
	AirtimeWindows [][]Time
	// Bytes counts frame bytes on air.
	Bytes int
	// Received, Lost and Duplicated count per-receiver frame outcomes.
	Received, Lost, Duplicated int
	// Delivered counts messages handed to cores.
	Delivered int
	// StepErrors counts messages a core rejected.
	StepErrors int
	// Violations counts checker violations by name.
	Violations map[string]int
}

// AirtimeWindow is the width of the windows of Stats.AirtimeWindows.
const AirtimeWindow = 10 * Second

// BusiestWindowShare returns the largest share of the channel that frames
// took in one window of AirtimeWindow on any network, over the windows that
// start before end.
func (s Stats) BusiestWindowShare(end Time) float64 {
	share := 0.0
	for _, ws := range s.AirtimeWindows {
		for i, air := range ws {
			start := Time(i) * AirtimeWindow
			if start >= end {
				break
			}
			share = max(share, float64(air)/float64(min(AirtimeWindow, end-start)))
		}
	}
	return share
}

// Frames is DataFrames + AckFrames + Retransmissions.
func (s Stats) Frames() int { return s.DataFrames + s.AckFrames + s.Retransmissions }

type drone struct {
	id      algorithms.NodeID
	up      bool
	inc     uint32
	core    algorithms.Core
	ep      *arq.Endpoint
	state   []byte
	offset  Time
	drift   float64 // ppm
	network int
	vc      clock.Vector
}

// Sim is one simulated swarm.
type Sim struct {
	cfg     Config
	factory Factory
	rng     *rand.Rand
	now     Time
	seq     uint64
	events  eventQueue
	drones  []*drone // index id-1
	// nets holds the drones of each network in ID order, the IDs alone
	// in netIDs: a network's peers.
	nets    [][]*drone
	netIDs  [][]algorithms.NodeID
	busy    []Time // per network: the channel is busy until then
	air     []Time // per network: airtime of the frames that have ended
	groups  map[algorithms.NodeID]int
	stats   Stats
	hash    hash.Hash
	line    []byte
	log     *slog.Logger
	onEvent func(id algorithms.NodeID, ev algorithms.Event)
	calm    bool // Calm was called: no loss, duplication or reordering
	// upScratch holds the live drones of a parallel tick.
	upScratch []*drone
	fam       familyCounts
	// Drop, when set, is asked for every frame a drone would receive;
	// returning true loses it (for targeted faults in tests).
	Drop func(from, to algorithms.NodeID) bool
}

// New builds a swarm of cfg.Drones drones, each running the core factory
// returns.
func New(cfg Config, factory Factory) (*Sim, error) {
	if cfg.Baud == 0 {
		cfg.Baud = 57600
	}
	if cfg.Networks == 0 {
		cfg.Networks = 1
	}
	if cfg.Tick == 0 {
		cfg.Tick = 10 * Millisecond
	}
	switch {
	case cfg.Drones < 1 || cfg.Drones > 65534:
		return nil, fmt.Errorf("%w: drones %d not in 1…65534", ErrBadConfig, cfg.Drones)
	case cfg.Baud <= 0:
		return nil, fmt.Errorf("%w: baud %d must be positive", ErrBadConfig, cfg.Baud)
	case cfg.Loss < 0 || cfg.Loss >= 1:
		return nil, fmt.Errorf("%w: loss %v not in [0, 1)", ErrBadConfig, cfg.Loss)
	case cfg.Dup < 0 || cfg.Dup >= 1:
		return nil, fmt.Errorf("%w: dup %v not in [0, 1)", ErrBadConfig, cfg.Dup)
	case cfg.Reorder < 0:
		return nil, fmt.Errorf("%w: reorder %v is negative", ErrBadConfig, cfg.Reorder)
	case cfg.Networks < 1 || cfg.Networks > cfg.Drones:
		return nil, fmt.Errorf("%w: networks %d not in 1…%d", ErrBadConfig, cfg.Networks, cfg.Drones)
	case cfg.Tick < 0:
		return nil, fmt.Errorf("%w: tick %v is negative", ErrBadConfig, cfg.Tick)
	}
	s := &Sim{
		cfg:     cfg,
		factory: factory,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x5c9a0e)),
		busy:    make([]Time, cfg.Networks),
		air:     make([]Time, cfg.Networks),
		groups:  map[algorithms.NodeID]int{},
		hash:    sha256.New(),
		log:     cfg.Logger,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.stats.MessagesByKind = map[string]int{}
	s.stats.Violations = map[string]int{}
	s.stats.AirtimeByNetwork = make([]Time, cfg.Networks)
	s.stats.HeartbeatAirtimeByNetwork = make([]Time, cfg.Networks)
	s.stats.AirtimeWindows = make([][]Time, cfg.Networks)
	s.nets = make([][]*drone, cfg.Networks)
	s.netIDs = make([][]algorithms.NodeID, cfg.Networks)
	for i := range cfg.Drones {
		net := i * cfg.Networks / cfg.Drones
		s.netIDs[net] = append(s.netIDs[net], algorithms.NodeID(i+1))
	}
	// The drones lie side by side in memory: a tick reads them in order.
	all := make([]drone, cfg.Drones)
	for i := range cfg.Drones {
		id := algorithms.NodeID(i + 1)
		d := &all[i]
		*d = drone{id: id, up: true, network: i * cfg.Networks / cfg.Drones}
		s.nets[d.network] = append(s.nets[d.network], d)
		if cfg.ClockOffset > 0 {
			d.offset = Time(s.rng.Int64N(int64(2*cfg.ClockOffset+1))) - cfg.ClockOffset
		}
		if cfg.ClockDriftPPM > 0 {
			d.drift = (s.rng.Float64()*2 - 1) * cfg.ClockDriftPPM
		}
		if cfg.TrackCausality {
			d.vc = clock.NewVector(cfg.Drones)
		}
		core, err := factory(id, nil)
		if err != nil {
			return nil, fmt.Errorf("sim: drone %d: %w", id, err)
		}
		d.core = core
		d.ep = s.newEndpoint(d)
		s.drones = append(s.drones, d)
	}
	s.schedule(cfg.Tick, s.tick)
	return s, nil
}

// newEndpoint returns drone d's reliable delivery endpoint, whose peers
// are the drones of its network: a frame to everyone reaches no other.
func (s *Sim) newEndpoint(d *drone) *arq.Endpoint {
	peers := s.netIDs[d.network]
	// Every destination of a message answers with a frame on the shared
	// channel: allow one frame's airtime each.
	frame := Airtime(FrameBytes(32, !s.cfg.Unsigned), s.cfg.Baud)
	return arq.New(arq.Config{
		ID: d.id, Incarnation: d.inc, Peers: peers, TimeFromAir: true,
		PerDestination: int64((frame + s.cfg.Tick - 1) / s.cfg.Tick),
		TickNanos:      int64(s.cfg.Tick),
		MinRTO:         int64(MinRTO / s.cfg.Tick),
		MaxRTO:         int64(MaxRTO / s.cfg.Tick),
	})
}

// Reliable delivery timeouts in the simulator: the first retransmission
// after MinRTO at the earliest, backing off to MaxRTO at most (plus one
// frame's airtime per destination still to answer). Scenarios size their
// protocol timeouts from them.
const (
	MinRTO Time = 250 * Millisecond
	MaxRTO Time = 1 * Second
)

// DeliveryBound is how long the reliable delivery layer may take to get a
// message through to one peer, the wait for a free channel aside, when
// each frame is lost with probability loss: long enough for as many
// retransmissions as make a failure less likely than one in a million
// (each round fails if the frame or its acknowledgement is lost).
func DeliveryBound(loss float64) Time {
	if loss <= 0 {
		return 2 * MinRTO
	}
	fail := 1 - (1-loss)*(1-loss)
	rounds := int(math.Ceil(math.Log(1e-6) / math.Log(fail)))
	var t Time
	for i := range rounds {
		t += min(MinRTO<<min(i, 16), MaxRTO)
	}
	return t
}

// Seed returns the run's seed.
func (s *Sim) Seed() uint64 { return s.cfg.Seed }

// Config returns the run's configuration with defaults filled in.
func (s *Sim) Config() Config { return s.cfg }

// Now returns the virtual time.
func (s *Sim) Now() Time { return s.now }

// N returns the swarm size.
func (s *Sim) N() int { return len(s.drones) }

// Network returns the radio network drone id is on (0-based).
func (s *Sim) Network(id algorithms.NodeID) int { return s.drone(id).network }

// Up reports whether drone id is running.
func (s *Sim) Up(id algorithms.NodeID) bool { return s.drone(id).up }

// Core returns the current core of drone id.
func (s *Sim) Core(id algorithms.NodeID) algorithms.Core { return s.drone(id).core }

// Endpoint returns the reliable delivery endpoint of drone id.
func (s *Sim) Endpoint(id algorithms.NodeID) *arq.Endpoint { return s.drone(id).ep }

// Rand returns the run's random source, for scenarios that draw workloads.
func (s *Sim) Rand() *rand.Rand { return s.rng }

// Stats returns the totals so far.
func (s *Sim) Stats() Stats { return s.stats }

// LocalTime is drone id's reading of its own clock: true time plus the
// drone's offset and drift.
func (s *Sim) LocalTime(id algorithms.NodeID) Time {
	d := s.drone(id)
	return s.now + d.offset + Time(float64(s.now)*d.drift/1e6)
}

// SetClock gives drone id's clock the offset and drift (ppm) a test
// needs instead of the drawn ones. Call it before the run starts: later,
// the drone's clock would jump.
func (s *Sim) SetClock(id algorithms.NodeID, offset Time, driftPPM float64) {
	d := s.drone(id)
	d.offset, d.drift = offset, driftPPM
}

// OnEvent sets the function that observes every core event as it is
// emitted (checkers and workloads live there).
func (s *Sim) OnEvent(fn func(id algorithms.NodeID, ev algorithms.Event)) { s.onEvent = fn }

func (s *Sim) drone(id algorithms.NodeID) *drone {
	if id < 1 || int(id) > len(s.drones) {
		panic(fmt.Sprintf("sim: no drone %d (seed=%d)", id, s.cfg.Seed))
	}
	return s.drones[id-1]
}

// At runs fn at virtual time t (now, if t is in the past).
func (s *Sim) At(t Time, fn func()) { s.schedule(max(t, s.now), fn) }

// After runs fn after d.
func (s *Sim) After(d Time, fn func()) { s.schedule(s.now+max(d, 0), fn) }

// Call runs fn against drone id's core now, if the drone is up, and then
// sends what the core produced. It reports whether the drone was up.
func (s *Sim) Call(id algorithms.NodeID, fn func(c algorithms.Core)) bool {
	d := s.drone(id)
	if !d.up {
		return false
	}
	fn(d.core)
	s.flush(d)
	return true
}

// Violation records that an invariant broke. The message is logged with
// the seed, and counted under name.
func (s *Sim) Violation(name, format string, args ...any) {
	s.stats.Violations[name]++
	msg := fmt.Sprintf(format, args...)
	s.log.Error("violation", "seed", s.cfg.Seed, "check", name, "at", s.now, "detail", msg)
	s.trace("violation", func(b []byte) []byte {
		b = appendField(b, "check", name)
		return appendField(b, "detail", msg)
	})
}

// Record writes a scenario's own event (a request, a grant, …) into the
// trace, so that checks can be made from the trace alone.
func (s *Sim) Record(ev string, id algorithms.NodeID, detail string) {
	s.trace(ev, func(b []byte) []byte {
		b = appendInt(b, "id", int64(id))
		if detail != "" {
			b = appendField(b, "detail", detail)
		}
		return b
	})
}

// Run processes events until stop returns true (checked after every event),
// or virtual time passes limit. It returns whether stop became true.
func (s *Sim) Run(limit Time, stop func() bool) bool {
	for s.events.Len() > 0 {
		if stop != nil && stop() {
			return true
		}
		ev := s.events[0]
		if ev.at > limit {
			s.now = limit
			return false
		}
		heap.Pop(&s.events)
		s.now = ev.at
		ev.fn()
	}
	return stop != nil && stop()
}

// Crash stops drone id at once: it hears nothing, sends nothing, and loses
// everything but what its core persisted.
func (s *Sim) Crash(id algorithms.NodeID) {
	d := s.drone(id)
	if !d.up {
		return
	}
	d.up = false
	s.trace("crash", func(b []byte) []byte { return appendInt(b, "id", int64(id)) })
	if s.cfg.DetectAfter > 0 {
		inc := d.inc
		s.After(s.cfg.DetectAfter, func() {
			if d.up && d.inc != inc {
				return // already restarted
			}
			s.forEachUp(func(o *drone) {
				o.ep.PeerDead(id)
				if p, ok := o.core.(algorithms.PeerObserver); ok {
					p.PeerDown(id)
				}
				s.flush(o)
			})
		})
	}
}

// Restart brings drone id back with a higher incarnation, from the state
// its core last persisted when persisted is true, from nothing otherwise.
func (s *Sim) Restart(id algorithms.NodeID, persisted bool) error {
	d := s.drone(id)
	if d.up {
		return fmt.Errorf("sim: restart of drone %d, which is running", id)
	}
	var restored []byte
	if persisted {
		restored = d.state
	}
	core, err := s.factory(id, restored)
	if err != nil {
		return fmt.Errorf("sim: restart of drone %d: %w", id, err)
	}
	d.core, d.up = core, true
	d.inc++
	d.ep = s.newEndpoint(d)
	if !persisted {
		d.state = nil
	}
	if d.vc != nil {
		d.vc = clock.NewVector(len(s.drones))
	}
	s.trace("restart", func(b []byte) []byte {
		b = appendInt(b, "id", int64(id))
		b = appendInt(b, "inc", int64(d.inc))
		return appendBool(b, "persisted", persisted)
	})
	if s.cfg.DetectAfter > 0 {
		inc := d.inc
		s.After(s.cfg.DetectAfter, func() {
			if !d.up || d.inc != inc {
				return
			}
			s.forEachUp(func(o *drone) {
				if o == d {
					return
				}
				o.ep.PeerAlive(id)
				if p, ok := o.core.(algorithms.PeerObserver); ok {
					p.PeerUp(id)
				}
				s.flush(o)
			})
		})
	}
	s.flush(d)
	return nil
}

// Quiet reports whether nothing is on air or queued for the air, and no
// live drone's reliable delivery layer is waiting for an acknowledgement.
func (s *Sim) Quiet() bool {
	for _, b := range s.busy {
		if b > s.now {
			return false
		}
	}
	for _, d := range s.drones {
		if d.up && d.ep.Pending() > 0 {
			return false
		}
	}
	return true
}

// Notify tells drone observer that drone id is down (up false) or up
// again (up true): its endpoint stops or resumes waiting for id, and, when
// core is set, its core hears PeerDown or PeerUp. Scenarios that model who
// notices a failure use it instead of the built-in detector.
func (s *Sim) Notify(observer, id algorithms.NodeID, up, core bool) {
	o := s.drone(observer)
	if !o.up || observer == id {
		return
	}
	if up {
		o.ep.PeerAlive(id)
	} else {
		o.ep.PeerDead(id)
	}
	if p, ok := o.core.(algorithms.PeerObserver); ok && core {
		if up {
			p.PeerUp(id)
		} else {
			p.PeerDown(id)
		}
	}
	s.flush(o)
}

// Partition splits the swarm: drones in different groups hear nothing of
// each other; drones not listed form one more group.
func (s *Sim) Partition(groups ...[]algorithms.NodeID) {
	clear(s.groups)
	for i, g := range groups {
		for _, id := range g {
			s.groups[id] = i + 1
		}
	}
	s.trace("partition", func(b []byte) []byte { return appendInt(b, "groups", int64(len(groups))) })
}

// Heal removes every partition.
func (s *Sim) Heal() {
	clear(s.groups)
	s.trace("heal", nil)
}

// Calm turns the radio model's faults off from now on: no loss, no
// duplication, no reordering delay, no partition and no targeted drop.
// Frames already on their way keep the delay they were given; Config still
// returns the run's configuration. Scenarios call it to settle after their
// measured run.
func (s *Sim) Calm() {
	s.calm = true
	clear(s.groups)
	s.trace("calm", nil)
}

// LocalEvent counts a local event at drone id in its vector clock and
// returns a copy of the clock (nil unless TrackCausality).
func (s *Sim) LocalEvent(id algorithms.NodeID) clock.Vector {
	d := s.drone(id)
	if d.vc == nil {
		return nil
	}
	d.vc.Tick(int(id - 1))
	return d.vc.Clone()
}

func (s *Sim) forEachUp(fn func(d *drone)) {
	for _, d := range s.drones {
		if d.up {
			fn(d)
		}
	}
}

// channelObserver is a core that measures its channel: it is told, before
// each tick, how long the channel has carried frames so far.
type channelObserver interface {
	ChannelBusy(total int64)
}

// onAir is how long the channel of a network has carried frames that
// have ended.
func (s *Sim) onAir(network int) Time { return s.air[network] }

func (s *Sim) tick() {
	if s.cfg.Workers > 1 {
		s.tickParallel()
		return
	}
	s.forEachUp(func(d *drone) {
		s.tickDrone(d)
		s.flush(d)
	})
	s.schedule(s.now+s.cfg.Tick, s.tick)
}

// tickParallel ticks the live drones on Config.Workers goroutines, each a
// contiguous block of drones, then flushes them in ID order.
func (s *Sim) tickParallel() {
	up := s.upScratch[:0]
	for _, d := range s.drones {
		if d.up {
			up = append(up, d)
		}
	}
	s.upScratch = up
	s.parallel(len(up), func(lo, hi int) {
		for _, d := range up[lo:hi] {
			s.tickDrone(d)
			if p, ok := d.core.(Preparer); ok {
				p.Prepare()
			}
		}
	})
	for _, d := range up {
		s.flush(d)
	}
	s.schedule(s.now+s.cfg.Tick, s.tick)
}

// parallel runs fn over 0…n-1 in Config.Workers contiguous blocks at
// once, one of them on the calling goroutine, and returns when all are
// done.
func (s *Sim) parallel(n int, fn func(lo, hi int)) {
	workers := min(s.cfg.Workers, n)
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { fn(w*n/workers, (w+1)*n/workers) })
	}
	fn(0, n/max(workers, 1))
	wg.Wait()
}

// Preparer is a core that can do the work of its next Ready on the
// simulator's parallel ticks and deliveries (Config.Workers), right after
// its tick or the step of a frame: Prepare touches the core's own state
// only, and the Ready that follows, on the simulator's goroutine in drone
// order, hands out what Prepare produced. What a core's Ready does with state shared with other drones
// (a scenario's checks) stays in Ready.
type Preparer interface {
	Prepare()
}

// tickDrone is one drone's tick without the sends: its endpoint and core
// learn how busy the channel has been, then tick.
func (s *Sim) tickDrone(d *drone) {
	d.ep.ChannelBusy(int64(s.onAir(d.network)))
	if c, ok := d.core.(channelObserver); ok {
		c.ChannelBusy(int64(s.onAir(d.network)))
	}
	d.ep.Tick()
	d.core.Tick()
}

// stamped carries a vector timestamp beside a core message inside the
// simulator. The timestamp is bookkeeping for checkers, not on air: Size is
// the wrapped message's.
type stamped struct {
	algorithms.Message
	vc clock.Vector
}

// flush moves a drone's output along until nothing is left: core sends go
// to its endpoint, endpoint deliveries go to its core, frames go on air.
func (s *Sim) flush(d *drone) {
	for d.up {
		rd := d.core.Ready()
		for _, ev := range rd.Events {
			s.trace("event", func(b []byte) []byte {
				b = appendInt(b, "id", int64(d.id))
				return appendField(b, "event", fmt.Sprintf("%T%+v", ev, ev))
			})
			if s.onEvent != nil {
				s.onEvent(d.id, ev)
			}
		}
		for _, snd := range rd.Sends {
			n := snd.Count(len(s.drones))
			if algorithms.ClassOf(snd.Msg) != algorithms.ClassData {
				n = 0 // acknowledgements and repair are not textbook messages
			}
			s.stats.Messages += n
			s.stats.MessagesByKind[snd.Msg.Kind()] += n
			s.trace("send", func(b []byte) []byte {
				b = appendInt(b, "id", int64(d.id))
				b = appendField(b, "kind", snd.Msg.Kind())
				b = appendInt(b, "messages", int64(n))
				if snd.To == nil {
					return appendField(b, "to", "all")
				}
				return appendIDs(b, "to", snd.To)
			})
			msg := snd.Msg
			if d.vc != nil {
				d.vc.Tick(int(d.id - 1))
				msg = stamped{Message: msg, vc: d.vc.Clone()}
			}
			if s.cfg.Raw || algorithms.IsUnreliable(snd.Msg) {
				s.transmit(d, s.rawFrame(d.id, snd.To, msg))
				continue
			}
			d.ep.Send(snd.To, msg)
		}
		if p, ok := d.core.(algorithms.Persister); ok && (len(rd.Sends) > 0 || len(rd.Events) > 0) {
			d.state = p.Persist()
		}
		frames, dels := d.ep.Ready()
		for _, f := range frames {
			s.transmit(d, s.arqFrame(f))
		}
		for _, del := range dels {
			s.deliver(d, del.From, del.Msg)
		}
		if rd.Empty() && len(frames) == 0 && len(dels) == 0 {
			return
		}
	}
}

// deliver hands a core message to drone d's core.
func (s *Sim) deliver(d *drone, from algorithms.NodeID, msg algorithms.Message) {
	s.delivered(d, from, msg, d.core.Step(from, unstamped(msg)))
}

// delivered records a core message drone d's core has stepped, with the
// error its Step returned.
func (s *Sim) delivered(d *drone, from algorithms.NodeID, msg algorithms.Message, err error) {
	if st, ok := msg.(stamped); ok {
		d.vc.Merge(st.vc)
		d.vc.Tick(int(d.id - 1))
		msg = st.Message
	}
	s.stats.Delivered++
	s.trace("deliver", func(b []byte) []byte {
		b = appendInt(b, "id", int64(d.id))
		b = appendInt(b, "from", int64(from))
		return appendField(b, "kind", msg.Kind())
	})
	if err != nil {
		s.stats.StepErrors++
		s.trace("reject", func(b []byte) []byte {
			b = appendInt(b, "id", int64(d.id))
			return appendField(b, "error", err.Error())
		})
	}
}

// unstamped is a core message without the simulator's vector timestamp.
func unstamped(msg algorithms.Message) algorithms.Message {
	if st, ok := msg.(stamped); ok {
		return st.Message
	}
	return msg
}

// frame is one transmission: a reliable delivery frame, or a core message
// sent raw.
type frame struct {
	arq   *arq.Frame
	from  algorithms.NodeID
	msg   algorithms.Message // raw frames
	to    []algorithms.NodeID
	all   bool
	bytes int // on air, MAVLink framing included
	class algorithms.Class
	kind  string
}

func (s *Sim) arqFrame(f *arq.Frame) *frame {
	ids, all := f.Recipients()
	c := algorithms.ClassData
	switch {
	case !f.IsData():
		c = algorithms.ClassAck
	case f.Retransmission:
		c = algorithms.ClassRetransmission
	}
	return &frame{arq: f, from: f.From, to: ids, all: all, bytes: s.arqBytes(f), class: c, kind: f.Kind()}
}

func (s *Sim) rawFrame(from algorithms.NodeID, to []algorithms.NodeID, m algorithms.Message) *frame {
	inner := m // the class is the core message's, not the bookkeeping wrapper's
	if st, ok := m.(stamped); ok {
		inner = st.Message
	}
	return &frame{from: from, msg: m, to: to, all: to == nil, bytes: s.rawBytes(from, to, m), class: algorithms.ClassOf(inner), kind: m.Kind()}
}

// rawBytes is the length on air of a core message sent raw (see
// Config.RawBytes); a message the wire cannot encode is a violation, and
// counts as estimated.
func (s *Sim) rawBytes(from algorithms.NodeID, to []algorithms.NodeID, m algorithms.Message) int {
	if st, ok := m.(stamped); ok {
		m = st.Message
	}
	n, err := s.cfg.RawBytes(from, to, m)
	if err != nil {
		s.Violation("unencodable", "drone %d: %s: %v", from, m.Kind(), err)
		return Config{Unsigned: s.cfg.Unsigned}.estimateRaw(to, m)
	}
	return n
}

// arqBytes is the length on air of reliable delivery frame f (see
// Config.ArqBytes); a frame the wire cannot encode is a violation, and
// counts as estimated.
func (s *Sim) arqBytes(f *arq.Frame) int {
	if st, ok := f.Payload.(stamped); ok {
		c := *f
		c.Payload = st.Message
		f = &c
	}
	n, err := s.cfg.ArqBytes(f)
	if err != nil {
		s.Violation("unencodable", "drone %d: %s frame: %v", f.From, f.Kind(), err)
		return FrameBytes(f.Size(), !s.cfg.Unsigned)
	}
	return n
}

// RawBytes is the number of bytes that core message m, sent raw from
// from to to (nil: every peer), puts on air: its family message's frame,
// sized by c.Wire, or without Wire estimated from the message's Size, the
// sender's vehicle ID and the destinations' (one for a unicast, 0xFFFF
// for everyone). A raw message to several peers is one frame to everyone.
func (c Config) RawBytes(from algorithms.NodeID, to []algorithms.NodeID, m algorithms.Message) (int, error) {
	if c.Wire == nil {
		return c.estimateRaw(to, m), nil
	}
	dst := algorithms.Everyone
	if len(to) == 1 {
		dst = to[0]
	}
	n, err := c.Wire.MessageBytes(from, dst, m)
	if err != nil {
		return 0, fmt.Errorf("sim: %s: %w", m.Kind(), err)
	}
	return FrameBytes(n, !c.Unsigned), nil
}

func (c Config) estimateRaw(to []algorithms.NodeID, m algorithms.Message) int {
	size := 2 + m.Size()
	if to == nil {
		size += 2
	} else {
		size += 2 * len(to)
	}
	return FrameBytes(size, !c.Unsigned)
}

// ArqBytes is the number of bytes that reliable delivery frame f puts on
// air: the frames of the dialect messages that carry it, sized by c.Wire,
// or without Wire one frame of arq's estimate (Frame.Size).
func (c Config) ArqBytes(f *arq.Frame) (int, error) {
	if c.Wire == nil {
		return FrameBytes(f.Size(), !c.Unsigned), nil
	}
	ns, err := c.Wire.FrameBytes(f)
	if err != nil {
		return 0, fmt.Errorf("sim: %s frame: %w", f.Kind(), err)
	}
	bytes := 0
	for _, n := range ns {
		bytes += FrameBytes(n, !c.Unsigned)
	}
	return bytes, nil
}

// OnAir is implemented by messages stamped with the time they go on air,
// as the radio stamps a time-sync reply's hold: sent raw after waiting
// for the channel, such a message is replaced by OnAir(waited), waited
// the wait in nanoseconds.
type OnAir interface {
	OnAir(waited int64) algorithms.Message
}

// transmit puts a frame on the sender's channel.
func (s *Sim) transmit(d *drone, f *frame) {
	ep := d.ep
	start := max(s.now, s.busy[d.network])
	// A message stamped on air is as long on air as its stamp makes it
	// (a time-sync reply's hold costs bytes once it is not 0).
	if st, ok := f.msg.(stamped); ok {
		if m, ok := st.Message.(OnAir); ok && start > s.now {
			st.Message = m.OnAir(int64(start - s.now))
			f.msg = st
			f.bytes = s.rawBytes(f.from, f.to, f.msg)
		}
	} else if m, ok := f.msg.(OnAir); ok && start > s.now {
		f.msg = m.OnAir(int64(start - s.now))
		f.bytes = s.rawBytes(f.from, f.to, f.msg)
	}
	bytes := f.bytes
	air := Airtime(bytes, s.cfg.Baud)
	end := start + air
	s.busy[d.network] = end
	s.stats.Bytes += bytes
	s.stats.Airtime += air
	s.stats.AirtimeByNetwork[d.network] += air
	s.countWindows(d.network, start, end)
	if f.class == algorithms.ClassHeartbeat {
		s.stats.HeartbeatAirtimeByNetwork[d.network] += air
	}
	s.countFamily(f, air)
	switch f.class {
	case algorithms.ClassAck:
		s.stats.AckFrames++
	case algorithms.ClassRetransmission:
		s.stats.Retransmissions++
	case algorithms.ClassHeartbeat:
		s.stats.HeartbeatFrames++
	default:
		s.stats.DataFrames++
	}
	s.trace("tx", func(b []byte) []byte {
		b = appendInt(b, "id", int64(d.id))
		b = appendField(b, "kind", f.kind)
		b = appendInt(b, "bytes", int64(bytes))
		b = appendInt(b, "start", int64(start))
		return appendInt(b, "class", int64(f.class))
	})
	network := d.network
	s.schedule(end, func() {
		s.air[network] += air
		if f.arq != nil && d.up && d.ep == ep {
			d.ep.Transmitted(f.arq)
		}
		s.propagate(network, f)
	})
}

// familyCounts are the frames of each message family (Config.Family).
type familyCounts struct {
	frames map[string]int // data, retransmissions and own acknowledgements
	// owed weighs each family's first reliable transmissions by their
	// destinations, each of which acknowledges them; total sums it.
	owed  map[string]int
	total int
	// acks counts the reliable delivery layer's acknowledgement frames.
	acks  int
	sizes []int // drones per network
	// air is the channel time of the frames counted in frames.
	air map[string]Time
}

// countFamily counts frame f, air long on the channel, for its message's
// family.
func (s *Sim) countFamily(f *frame, air Time) {
	if s.cfg.Family == nil {
		return
	}
	if s.fam.frames == nil {
		s.fam.frames, s.fam.owed, s.fam.air = map[string]int{}, map[string]int{}, map[string]Time{}
	}
	m := f.msg
	if f.arq != nil {
		m = f.arq.Payload
	}
	if st, ok := m.(stamped); ok {
		m = st.Message
	}
	if m == nil {
		if f.class == algorithms.ClassAck {
			s.fam.acks++
		}
		return
	}
	if f.class == algorithms.ClassHeartbeat {
		return
	}
	fam := s.cfg.Family(m) // "": no family, but owed acknowledgements all the same
	if fam != "" {
		s.fam.frames[fam]++
		s.fam.air[fam] += air
	}
	if f.arq != nil && f.class == algorithms.ClassData {
		w := len(f.to)
		if f.all {
			w = s.networkSize(f.from) - 1
		}
		s.fam.owed[fam] += w
		s.fam.total += w
	}
}

// networkSize is the number of drones on drone id's network.
func (s *Sim) networkSize(id algorithms.NodeID) int {
	if s.fam.sizes == nil {
		s.fam.sizes = make([]int, len(s.busy))
		for _, d := range s.drones {
			s.fam.sizes[d.network]++
		}
	}
	return s.fam.sizes[s.drone(id).network]
}

// FamilyAirtime returns the channel time, summed over networks, of the
// frames that carry messages of family (Config.Family): their first
// transmissions, repeats and the acknowledgement-only messages of their
// own protocol, not the reliable delivery layer's acknowledgements.
func (s *Sim) FamilyAirtime(family string) Time { return s.fam.air[family] }

// FamilyFrames returns the frames the messages of family put on air
// (Config.Family): their first transmissions and repeats, the
// acknowledgement-only messages of their own protocol, and a share of the
// reliable delivery layer's acknowledgement frames in proportion to the
// acknowledgements the family's reliable transmissions are owed (one per
// destination). Acknowledgements that ride on other frames add no frame.
func (s *Sim) FamilyFrames(family string) float64 {
	n := float64(s.fam.frames[family])
	if s.fam.total > 0 {
		n += float64(s.fam.acks) * float64(s.fam.owed[family]) / float64(s.fam.total)
	}
	return n
}

// countWindows adds the channel time from start to end to the windows of
// Stats.AirtimeWindows it falls in.
func (s *Sim) countWindows(network int, start, end Time) {
	ws := s.stats.AirtimeWindows[network]
	for t := start; t < end; {
		i := int(t / AirtimeWindow)
		for len(ws) <= i {
			ws = append(ws, 0)
		}
		next := min(end, Time(i+1)*AirtimeWindow)
		ws[i] += next - t
		t = next
	}
	s.stats.AirtimeWindows[network] = ws
}

// propagate hands a frame that has finished on air to every drone it
// concerns, each with its own loss, duplication and delay. The drones
// that receive it at once are handed it together (receiveAll), in ID
// order, as if one after the other.
func (s *Sim) propagate(network int, f *frame) {
	from, ids := f.from, f.to
	if f.all {
		ids = s.netIDs[network]
	}
	var now []*drone
	atOnce := func(r *drone) {
		if len(now) > 0 && now[len(now)-1] == r {
			// A duplicate: the drone hears it again after the first.
			s.scheduleReceive(from, f, now)
			now = nil
		}
		now = append(now, r)
	}
	for _, id := range ids {
		if id == from || id < 1 || int(id) > len(s.drones) {
			continue
		}
		r := s.drones[id-1]
		if r.network != network || s.groups[from] != s.groups[id] || !r.up {
			continue
		}
		if s.calm {
			atOnce(r)
			continue
		}
		if s.Drop != nil && s.Drop(from, id) {
			s.lost(from, id, f)
			continue
		}
		if s.cfg.Loss > 0 && s.rng.Float64() < s.cfg.Loss {
			s.lost(from, id, f)
			continue
		}
		copies := 1
		if s.cfg.Dup > 0 && s.rng.Float64() < s.cfg.Dup {
			copies = 2
			s.stats.Duplicated++
		}
		for range copies {
			var delay Time
			if s.cfg.Reorder > 0 {
				delay = Time(s.rng.Int64N(int64(s.cfg.Reorder) + 1))
			}
			if delay == 0 {
				atOnce(r)
				continue
			}
			s.schedule(s.now+delay, func() { s.receive(r, from, f) })
		}
	}
	s.scheduleReceive(from, f, now)
}

// scheduleReceive schedules the receivers rs of frame f now, one event
// for all: events at one time run in the order they were scheduled, so
// one event in their place changes nothing but the work.
func (s *Sim) scheduleReceive(from algorithms.NodeID, f *frame, rs []*drone) {
	switch len(rs) {
	case 0:
	case 1:
		r := rs[0]
		s.schedule(s.now, func() { s.receive(r, from, f) })
	default:
		s.schedule(s.now, func() { s.receiveAll(from, f, rs) })
	}
}

// parallelReceivers is the fewest receivers of a frame worth stepping on
// several goroutines.
const parallelReceivers = 32

// receiveAll hands frame f to the drones rs, each once, as receive would
// one after the other. With Config.Workers, each drone steps the frame
// and prepares its output (Preparer) on the workers at once, touching its
// own endpoint and core only; then, in order, the simulator records and
// flushes each. Nothing a drone's flush does reaches another drone at
// once (frames go on air, the event observer only schedules), so the run
// is the same as one receive after another.
func (s *Sim) receiveAll(from algorithms.NodeID, f *frame, rs []*drone) {
	if s.cfg.Workers <= 1 || len(rs) < parallelReceivers {
		for _, r := range rs {
			s.receive(r, from, f)
		}
		return
	}
	errs := make([]error, len(rs))
	s.parallel(len(rs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := rs[i]
			if !r.up {
				continue
			}
			errs[i] = s.step(r, from, f)
			if p, ok := r.core.(Preparer); ok {
				p.Prepare()
			}
		}
	})
	for i, r := range rs {
		if r.up {
			s.received(r, from, f, errs[i])
		}
	}
}

func (s *Sim) lost(from, to algorithms.NodeID, f *frame) {
	s.stats.Lost++
	s.trace("drop", func(b []byte) []byte {
		b = appendInt(b, "id", int64(to))
		b = appendInt(b, "from", int64(from))
		return appendField(b, "kind", f.kind)
	})
}

// receive hands frame f to drone r.
func (s *Sim) receive(r *drone, from algorithms.NodeID, f *frame) {
	if r.up {
		s.received(r, from, f, s.step(r, from, f))
	}
}

// step hands frame f to drone r's endpoint, or a raw frame's message to
// its core, and returns the error.
func (s *Sim) step(r *drone, from algorithms.NodeID, f *frame) error {
	if f.arq != nil {
		return r.ep.Step(f.arq)
	}
	return r.core.Step(from, unstamped(f.msg))
}

// received records frame f that drone r has stepped, with the error the
// step returned, and flushes the drone.
func (s *Sim) received(r *drone, from algorithms.NodeID, f *frame, err error) {
	s.stats.Received++
	s.trace("rx", func(b []byte) []byte {
		b = appendInt(b, "id", int64(r.id))
		b = appendInt(b, "from", int64(from))
		return appendField(b, "kind", f.kind)
	})
	if f.arq == nil {
		s.delivered(r, from, f.msg, err)
	} else if err != nil {
		s.Violation("frame", "drone %d rejected a frame from %d: %v", r.id, from, err)
	}
	s.flush(r)
}

// TraceHash returns the SHA-256 of every trace line so far, written to a
// file or not. Two runs of one seed and build have the same hash.
func (s *Sim) TraceHash() string { return hex.EncodeToString(s.hash.Sum(nil)) }

func (s *Sim) trace(ev string, fields func(b []byte) []byte) {
	b := s.line[:0]
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, int64(s.now), 10)
	b = append(b, `,"ev":"`...)
	b = append(b, ev...)
	b = append(b, '"')
	if fields != nil {
		b = fields(b)
	}
	b = append(b, "}\n"...)
	s.line = b
	s.hash.Write(b)
	if s.cfg.Trace != nil {
		s.cfg.Trace.Write(b) //nolint:errcheck // a trace that cannot be written is not worth stopping the run
	}
}

func appendField(b []byte, k, v string) []byte {
	b = append(b, ',')
	b = appendQuote(b, k)
	b = append(b, ':')
	return appendQuote(b, v)
}

// appendQuote appends s quoted as strconv.AppendQuote does, without its
// rune by rune escaping when s is printable ASCII with nothing to escape,
// as the trace's keys and kinds are: the trace is written for every frame
// at every drone.
func appendQuote(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendInt(b []byte, k string, v int64) []byte {
	b = append(b, ',')
	b = appendQuote(b, k)
	b = append(b, ':')
	return strconv.AppendInt(b, v, 10)
}

func appendBool(b []byte, k string, v bool) []byte {
	b = append(b, ',')
	b = appendQuote(b, k)
	b = append(b, ':')
	return strconv.AppendBool(b, v)
}

func appendIDs(b []byte, k string, ids []algorithms.NodeID) []byte {
	b = append(b, ',')
	b = appendQuote(b, k)
	b = append(b, ':', '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return append(b, ']')
}

type event struct {
	at  Time
	seq uint64
	fn  func()
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*q = old[:len(old)-1]
	return e
}

func (s *Sim) schedule(at Time, fn func()) {
	s.seq++
	heap.Push(&s.events, event{at: at, seq: s.seq, fn: fn})
}
