package radio

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	mavdialect "github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/pace"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// ErrBackpressure is returned by Send when the outbound queue of the
// message's class is full: the link is slower than the traffic offered.
// Nothing was queued; retry later or send less.
var ErrBackpressure = pace.ErrFull

// GroundStationSystemID is the MAVLink system ID of a ground station: the
// one system ID outside the drones' 1–250 that a Radio may take.
const GroundStationSystemID = 255

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("radio: closed")

// Config configures a Radio.
type Config struct {
	// Link is the transport; the Radio closes it on Close.
	Link link.Link
	// Key is the swarm key (wire.LoadKeyFile).
	Key wire.Key
	// Network is the swarm radio network.
	Network uint8
	// SystemID is this drone's MAVLink system ID in the network (1–250),
	// or 255 for a ground station (MAVLink's ground control station ID).
	SystemID uint8
	// ComponentID is the sender's component (optional, default 191, the
	// onboard computer).
	ComponentID uint8
	// LinkID is the MAVLink signing link ID (optional, default 0).
	LinkID uint8
	// Baud paces the outbound queue at this serial rate (optional; zero
	// sends as fast as the link takes frames).
	Baud int
	// QueueCapacity is the frames each traffic class may queue (optional,
	// default 64).
	QueueCapacity int
	// TimestampFile persists the signing high-water mark (optional: without
	// it, a drone without a real-time clock may reuse timestamps after a
	// reboot and be rejected as a replay until its clock catches up).
	TimestampFile string
	// Verifier is shared by the radios of one drone, so that a frame heard
	// on two links is accepted once (optional, default a new one with
	// Ahead).
	Verifier *wire.Verifier
	// Ahead is how far ahead of this drone's estimate of the time a
	// frame's signing timestamp may be: further ahead, the frame is
	// rejected (counted as wire.Ahead) and its time is not adopted
	// (optional, default wire.DefaultAhead, five minutes).
	Ahead time.Duration
	// Corroborate is how many distinct senders must agree on a time more
	// than Ahead ahead of this drone's estimate before the drone adopts it
	// (optional, default wire.DefaultCorroborate, two): how a drone without
	// a real-time clock joins a swarm whose time it does not know yet.
	Corroborate int
	// Clock is the time source (optional, default SystemClock).
	Clock Clock
	// Logger receives operational messages (optional, default
	// slog.Default()).
	Logger *slog.Logger
	// Buffer is the number of received frames held for the caller
	// (optional, default 256); the receive loop waits while it is full.
	Buffer int
}

// Counters are a Radio's running totals.
type Counters struct {
	Link          link.Counters
	Reader        wire.Counters
	Queue         pace.Counters
	SendErrors    int // frames the link refused (device gone, socket error)
	PersistErrors int // failures to store the signing high-water mark
	// Unsent are frames not sent because no signing timestamp could be
	// given to them: the high-water mark could not be stored first
	// (PersistErrors), or timestamps are exhausted (wire.ErrExhausted).
	Unsent int
	// CaughtUp counts the times this drone adopted a time that peers agreed
	// on, more than Ahead ahead of its own estimate.
	CaughtUp int
}

type outFrame struct {
	msg message.Message
	to  link.Dest
	// queued is when a time-sync reply was queued (zero for others).
	queued time.Time
}

// Radio sends and receives signed, paced swarm frames on one link.
type Radio struct {
	cfg    Config
	log    *slog.Logger
	clock  Clock
	rw     *mavdialect.ReadWriter
	tsFile *wire.TimestampFile

	mu       sync.Mutex
	enc      *wire.Encoder
	signer   *wire.Signer
	reader   *wire.Reader
	queue    *pace.Queue[outFrame]
	counters Counters
	closed   bool

	received chan wire.Frame
	kick     chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
}

// Open starts a Radio on cfg.Link.
func Open(cfg Config) (*Radio, error) {
	if cfg.Link == nil {
		return nil, errors.New("radio: no link configured")
	}
	if cfg.SystemID == 0 || (cfg.SystemID > 250 && cfg.SystemID != GroundStationSystemID) {
		return nil, fmt.Errorf("radio: system ID %d: use 1–250 (%d for a ground station)", cfg.SystemID, GroundStationSystemID)
	}
	if cfg.ComponentID == 0 {
		cfg.ComponentID = 191
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 256
	}
	rw, err := dialect.NewReadWriter()
	if err != nil {
		return nil, err
	}
	r := &Radio{
		cfg:      cfg,
		log:      cfg.Logger.With("link", cfg.Link.Info().Name),
		clock:    cfg.Clock,
		rw:       rw,
		received: make(chan wire.Frame, cfg.Buffer),
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	var last wire.Timestamp
	if cfg.TimestampFile != "" {
		r.tsFile = &wire.TimestampFile{Path: cfg.TimestampFile}
		if last, err = r.tsFile.Load(); err != nil {
			return nil, err
		}
	}
	r.signer = wire.NewSigner(wire.SignerConfig{Last: last, Ahead: cfg.Ahead, Corroborate: cfg.Corroborate})
	r.enc = wire.NewEncoder(rw, cfg.SystemID, cfg.ComponentID)
	v := cfg.Verifier
	if v == nil {
		v = wire.NewVerifier(wire.VerifierConfig{Key: cfg.Key, Network: cfg.Network, Ahead: cfg.Ahead})
	}
	info := cfg.Link.Info()
	src := wire.SourceNetwork
	if info.LocalRadio {
		src = wire.SourceSerial
	}
	r.reader = wire.NewReader(wire.ReaderConfig{Dialect: rw, Verifier: v, Source: src, Datagrams: info.Datagrams, OnAhead: r.ahead})
	r.queue = pace.New[outFrame](pace.Config{Baud: cfg.Baud, Capacity: cfg.QueueCapacity})
	r.wg.Add(2)
	go r.sendLoop()
	go r.receiveLoop()
	return r, nil
}

// ClassOf is the traffic class of a message: show data is bulk, the rest
// is control.
func ClassOf(msg message.Message) pace.Class {
	switch msg.(type) {
	case *swarm.MessageSwarmShowChunk, *swarm.MessageSwarmShowSymbol:
		return pace.Bulk
	}
	return pace.Control
}

// Send queues msg for the link, to one system ID or link.Broadcast. It
// returns an error wrapping ErrBackpressure when the queue of the
// message's class is full; the frame is signed when it goes on air.
func (r *Radio) Send(msg message.Message, to link.Dest) error {
	mrw := r.rw.GetMessage(msg.GetID())
	if mrw == nil {
		return fmt.Errorf("radio: message %d (%T) is not in the swarm or ardupilotmega dialect", msg.GetID(), msg)
	}
	out := outFrame{msg: msg, to: to}
	sized := msg
	if m, ok := msg.(*swarm.MessageSwarmTimeReply); ok {
		// Its hold grows by the time it waits in the queue (transmit),
		// and MAVLink 2 no longer trims it: count its 4 bytes.
		out.queued = r.clock.Now()
		held := *m
		held.Hold = max(held.Hold, 1)
		sized = &held
	}
	size := len(mrw.Write(sized, true).Payload) + wire.Overhead
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	err := r.queue.Push(out, size, ClassOf(msg))
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("radio: %w", err)
	}
	r.wake()
	return nil
}

// Received delivers the frames accepted from the link: signed swarm
// frames, and the local radio's RADIO_STATUS (already applied to pacing).
// Drain it promptly: while it is full the radio stops reading the link.
// It is closed after Close.
func (r *Radio) Received() <-chan wire.Frame { return r.received }

// Counters returns the running totals.
func (r *Radio) Counters() Counters {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counters
	c.Link = r.cfg.Link.Counters()
	c.Reader = r.reader.Counters()
	c.Queue = r.queue.Counters()
	return c
}

// SigningTime returns the radio's estimate of the signing time (the
// latest of its clock, its stored high-water mark and the swarm's time it
// adopted). It never goes back, also across restarts that keep the
// TimestampFile: a start reads at least the mark the previous one stored,
// a Reserve (a minute) ahead of the first timestamp it used. So it orders
// the starts of a drone, as reliable delivery needs (arq.Config's
// Incarnation).
func (r *Radio) SigningTime() wire.Timestamp {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.signer.Now(r.clock.Now())
}

// Close stops the radio and closes its link. Queued frames are not sent.
func (r *Radio) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	close(r.done)
	err := r.cfg.Link.Close()
	r.wg.Wait()
	close(r.received)
	if err != nil {
		return fmt.Errorf("radio: %w", err)
	}
	return nil
}

func (r *Radio) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Radio) sendLoop() {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		out, ok, wait := r.queue.Next(r.clock.Now())
		r.mu.Unlock()
		if ok {
			r.transmit(out)
			continue
		}
		var timer <-chan time.Time
		if wait > 0 {
			timer = r.clock.After(wait)
		}
		select {
		case <-r.done:
			return
		case <-r.kick:
		case <-timer:
		}
	}
}

// transmit signs a frame with a fresh timestamp and hands it to the link.
// A frame whose timestamp cannot be stored first is not sent: after a
// reboot the timestamp could be used again, and peers would take the
// frame for a replay or accept a replay of it.
//
// A time-sync reply's hold (t3 − t2) grows by the time it waited in the
// queue, so that t3 is when it goes on air: the wait, one way only, would
// otherwise be an error of half of it in the follower's estimate of swarm
// time. The leader's swarm time runs at its clock's rate, to within the
// drift bound, so the local time waited is the swarm time waited.
func (r *Radio) transmit(out outFrame) {
	if m, ok := out.msg.(*swarm.MessageSwarmTimeReply); ok && !out.queued.IsZero() {
		held := *m
		wait := max(r.clock.Now().Sub(out.queued), 0)
		held.Hold = uint32(min(uint64(held.Hold)+uint64(wait), math.MaxUint32))
		out.msg = &held
	}
	r.mu.Lock()
	ts, err := r.signer.Next(r.clock.Now(), r.store)
	if err != nil {
		r.counters.Unsent++
		r.mu.Unlock()
		r.log.Error("radio: frame not sent: no signing timestamp", "msg", out.msg.GetID(), "err", err)
		return
	}
	frame, err := r.enc.Encode(out.msg, &wire.Signature{Key: &r.cfg.Key, LinkID: r.cfg.LinkID, Timestamp: ts})
	r.mu.Unlock()
	if err == nil {
		err = r.cfg.Link.Send(frame, out.to)
	}
	if err != nil && !errors.Is(err, link.ErrClosed) {
		r.mu.Lock()
		r.counters.SendErrors++
		r.mu.Unlock()
		r.log.Debug("radio: send failed", "msg", out.msg.GetID(), "err", err)
	}
}

// store persists the signing high-water mark (Signer.Next calls it, with
// r.mu held, about once per reserve: a minute of timestamps).
func (r *Radio) store(mark wire.Timestamp) error {
	if r.tsFile == nil {
		return nil
	}
	if err := r.tsFile.Store(mark); err != nil {
		r.counters.PersistErrors++
		return err
	}
	return nil
}

// ahead takes note of a genuine frame rejected as too far ahead (the
// reader calls it, with r.mu held): when enough peers agree on a time
// beyond this drone's own, the drone's clock is the one behind.
func (r *Radio) ahead(f wire.Frame) {
	from, to, caught := r.signer.ObserveAhead(f.SystemID, f.Timestamp, r.clock.Now())
	if caught {
		r.counters.CaughtUp++
		r.log.Warn("radio: this drone's clock is behind the swarm's; signing timestamps caught up with its peers",
			"from", from.Time(), "to", to.Time())
	}
}

func (r *Radio) receiveLoop() {
	defer r.wg.Done()
	learner, _ := r.cfg.Link.(link.Learner)
	info := r.cfg.Link.Info()
	var frames []wire.Frame
	for {
		p, err := r.cfg.Link.Receive()
		if err != nil {
			return
		}
		frames = frames[:0]
		r.mu.Lock()
		r.reader.Feed(p.Data)
		for {
			f, ok := r.reader.Next(r.signer.Now(r.clock.Now()))
			if !ok {
				break
			}
			if f.IsRadioStatus() {
				if rs, ok := f.Message.(*ardupilotmega.MessageRadioStatus); ok {
					r.queue.RadioStatus(rs.Txbuf)
				}
			} else {
				r.signer.Observe(f.Timestamp, r.clock.Now())
				if learner != nil && info.Datagrams && p.From != "" {
					learner.Learn(f.SystemID, p.From)
				}
			}
			frames = append(frames, f)
		}
		r.mu.Unlock()
		r.wake() // pacing may have changed
		for _, f := range frames {
			select {
			case r.received <- f:
			case <-r.done:
				return
			}
		}
	}
}
