package emergency

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Op is an emergency operation.
type Op uint8

// Emergency operations.
const (
	// Hold: stop and hover where you are.
	Hold Op = 1
	// Land: land where you are.
	Land Op = 2
	// Return: fly back to the launch point and land.
	Return Op = 3
)

// String names the operation.
func (o Op) String() string {
	switch o {
	case Hold:
		return "HOLD"
	case Land:
		return "LAND"
	case Return:
		return "RETURN"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// MACBytes is the length of a command's truncated HMAC-SHA256.
const MACBytes = 8

// MinKeyBytes is the shortest swarm key accepted.
const MinKeyBytes = 16

// Command is one signed emergency command.
type Command struct {
	// Issuer is the vehicle ID of the ground station (or drone) that
	// issued and signed the command.
	Issuer algorithms.NodeID
	// ID numbers the issuer's commands; a newer command has a larger ID.
	ID uint32
	// Op is what to do.
	Op Op
	// MAC authenticates Issuer, ID and Op with the swarm key.
	MAC [MACBytes]byte
}

// Sentinel errors.
var (
	// ErrConfig: the configuration cannot work.
	ErrConfig = errors.New("emergency: bad configuration")
	// ErrForged: the command's MAC does not match the swarm key.
	ErrForged = errors.New("emergency: forged command")
	// ErrReplayed: the command is older than the last one obeyed from its
	// issuer.
	ErrReplayed = errors.New("emergency: replayed command")
	// ErrState: persisted state that cannot be decoded.
	ErrState = errors.New("emergency: bad persisted state")
)

func mac(key []byte, issuer algorithms.NodeID, id uint32, op Op) [MACBytes]byte {
	h := hmac.New(sha256.New, key)
	var b [4 + 2 + 4 + 1]byte
	copy(b[:], "SQEM")
	binary.LittleEndian.PutUint16(b[4:], uint16(issuer))
	binary.LittleEndian.PutUint32(b[6:], id)
	b[10] = byte(op)
	h.Write(b[:])
	var out [MACBytes]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Sign returns the command (issuer, id, op) signed with key.
func Sign(key []byte, issuer algorithms.NodeID, id uint32, op Op) Command {
	return Command{Issuer: issuer, ID: id, Op: op, MAC: mac(key, issuer, id, op)}
}

// Verify reports whether c's MAC matches key (in constant time).
func Verify(key []byte, c Command) bool {
	want := mac(key, c.Issuer, c.ID, c.Op)
	return hmac.Equal(want[:], c.MAC[:])
}

// Emergency is the message that carries a command, first from its issuer
// and then relayed.
type Emergency struct {
	Cmd Command
	// Acked is set only on the issuer's repeats: bit i (of byte i/8, least
	// significant first) is set when the i-th member of the roster has
	// acknowledged. It is not covered by the MAC: a forged bitmap can only
	// cost acknowledgements.
	Acked []byte
}

// Ack acknowledges a command to its issuer.
type Ack struct {
	Issuer algorithms.NodeID
	ID     uint32
}

// Kind implements algorithms.Message.
func (Emergency) Kind() string { return "EMERGENCY" }

// Size implements algorithms.Message: kind, issuer, ID, op, MAC, bitmap.
func (m Emergency) Size() int { return 1 + 2 + 4 + 1 + MACBytes + len(m.Acked) }

// Unreliable implements algorithms.Unreliable.
func (Emergency) Unreliable() {}

// Kind implements algorithms.Message.
func (Ack) Kind() string { return "EMERGENCY_ACK" }

// Size implements algorithms.Message: kind, issuer, ID.
func (Ack) Size() int { return 1 + 2 + 4 }

// Unreliable implements algorithms.Unreliable.
func (Ack) Unreliable() {}

// Class implements algorithms.Classifier: acknowledgements are not data.
func (Ack) Class() algorithms.Class { return algorithms.ClassAck }

// Obey is emitted when the drone must carry out Cmd now.
type Obey struct {
	Cmd Command
}

// Delivered is emitted on the issuer when every member acknowledged Cmd,
// but those the failure detector reports down.
type Delivered struct {
	Cmd Command
}

// Unacknowledged is emitted on the issuer when it stops repeating Cmd
// before every member acknowledged it; Missing lists those that did not
// and are not reported down.
type Unacknowledged struct {
	Cmd     Command
	Missing []algorithms.NodeID
}

// Config configures an Emergency core.
type Config struct {
	// ID is this drone's (or ground station's) vehicle ID.
	ID algorithms.NodeID
	// Key is the swarm key, at least 16 bytes.
	Key []byte
	// Members is the roster the issuer expects acknowledgements from and
	// numbers its acknowledgement bitmap by; every drone must be given the
	// same list (optional; without it the issuer repeats MaxRepeats times
	// and every drone acknowledges every repeat it hears).
	Members []algorithms.NodeID
	// RelayTicks is the length of the first relay round (optional,
	// default 20).
	RelayTicks int
	// MaxRelays is the number of relay rounds (optional, default 3).
	MaxRelays int
	// Redundancy is how many copies heard from others in a round make a
	// drone skip its own relay (optional, default 2).
	Redundancy int
	// RepeatTicks is how long the issuer waits before its first repeat
	// (optional, default: the relay rounds, then the acknowledgement
	// spread, then 50 ticks more). Later repeats come as soon as the
	// acknowledgements they ask for have had time: two ticks per missing
	// member, at least 10, plus 50, but never later than RepeatTicks.
	RepeatTicks int
	// MaxRepeats bounds the issuer's repeats (optional, default 16: at 20%
	// loss a member's acknowledgement then fails every time with
	// probability 0.36^17 ≈ 3e-8).
	MaxRepeats int
	// AckSpreadTicks spreads the acknowledgements, which go out after the
	// relay rounds so that they do not delay relays (optional, default
	// twice the number of members, at least 50: at 10 ms ticks and 250
	// members, 5 s, a quarter of a 57600-baud channel).
	AckSpreadTicks int
	// Seed draws the relay and acknowledgement times.
	Seed uint64
	// State is what Persist returned before a restart (optional).
	State []byte
}

// Counters are an Emergency core's tallies.
type Counters struct {
	// Obeyed counts commands obeyed; Duplicates copies of them heard again.
	Obeyed, Duplicates int
	// Forged and Replayed count rejected commands.
	Forged, Replayed int
	// Relays and Acks count frames sent; Repeats the issuer's repeats.
	Relays, Acks, Repeats int
}

// relay is the relaying of the latest command of one issuer.
type relay struct {
	cmd      Command
	round    int
	start    int64
	at       int64 // when to send in this round
	sent     bool
	heard    int
	roundLen int64
}

// issued is a command this drone issued and still repeats.
type issued struct {
	cmd     Command
	acked   []bool // by roster index
	repeats int
	next    int64
}

// Core is the emergency command core of one drone or ground station. It is
// not safe for concurrent use.
type Core struct {
	algorithms.Outbox
	cfg      Config
	rng      *rand.Rand
	now      int64
	roster   []algorithms.NodeID // sorted
	last     map[algorithms.NodeID]uint32
	lastSent uint32 // last command ID issued by this drone
	relays   map[algorithms.NodeID]*relay
	acks     map[algorithms.NodeID]ackDue
	down     map[algorithms.NodeID]bool // members the failure detector suspects
	out      *issued
	counters Counters
}

type ackDue struct {
	id uint32
	at int64
}

var (
	_ algorithms.Core         = (*Core)(nil)
	_ algorithms.Persister    = (*Core)(nil)
	_ algorithms.PeerObserver = (*Core)(nil)
)

// New returns the core of cfg.ID.
func New(cfg Config) (*Core, error) {
	if cfg.RelayTicks == 0 {
		cfg.RelayTicks = 20
	}
	if cfg.MaxRelays == 0 {
		cfg.MaxRelays = 3
	}
	if cfg.Redundancy == 0 {
		cfg.Redundancy = 2
	}
	if cfg.MaxRepeats == 0 {
		cfg.MaxRepeats = 16
	}
	if cfg.AckSpreadTicks == 0 {
		cfg.AckSpreadTicks = max(50, 2*len(cfg.Members))
	}
	if cfg.RepeatTicks == 0 && cfg.MaxRelays >= 0 && cfg.MaxRelays < 20 {
		cfg.RepeatTicks = relayTicks(cfg) + cfg.AckSpreadTicks + 50
	}
	switch {
	case len(cfg.Key) < MinKeyBytes:
		return nil, fmt.Errorf("%w: key of %d bytes, at least %d", ErrConfig, len(cfg.Key), MinKeyBytes)
	case cfg.RelayTicks < 2 || cfg.MaxRelays < 0 || cfg.Redundancy < 1:
		return nil, fmt.Errorf("%w: RelayTicks %d, MaxRelays %d, Redundancy %d", ErrConfig, cfg.RelayTicks, cfg.MaxRelays, cfg.Redundancy)
	case cfg.RepeatTicks < 1 || cfg.MaxRepeats < 0 || cfg.AckSpreadTicks < 1:
		return nil, fmt.Errorf("%w: RepeatTicks %d, MaxRepeats %d, AckSpreadTicks %d", ErrConfig, cfg.RepeatTicks, cfg.MaxRepeats, cfg.AckSpreadTicks)
	}
	roster := slices.Clone(cfg.Members)
	slices.Sort(roster)
	c := &Core{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.ID)<<32|0xe3e7)),
		roster: slices.Compact(roster),
		last:   map[algorithms.NodeID]uint32{},
		down:   map[algorithms.NodeID]bool{},
	}
	if cfg.State != nil {
		if err := c.restore(cfg.State); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Counters returns the core's tallies.
func (c *Core) Counters() Counters { return c.counters }

// LastObeyed returns the ID of the last command obeyed from issuer.
func (c *Core) LastObeyed(issuer algorithms.NodeID) uint32 { return c.last[issuer] }

// Issue signs and broadcasts a new command of this drone (the ground
// station's role), obeys it locally, and repeats it until every member has
// acknowledged it.
func (c *Core) Issue(op Op) Command {
	c.lastSent = max(c.lastSent, c.last[c.cfg.ID]) + 1
	cmd := Sign(c.cfg.Key, c.cfg.ID, c.lastSent, op)
	c.obey(cmd)
	delete(c.relays, c.cfg.ID) // the issuer repeats instead of relaying
	delete(c.acks, c.cfg.ID)
	c.out = &issued{cmd: cmd, acked: make([]bool, len(c.roster)), next: c.now + int64(c.cfg.RepeatTicks)}
	if i, ok := slices.BinarySearch(c.roster, c.cfg.ID); ok {
		c.out.acked[i] = true
	}
	c.Send(nil, Emergency{Cmd: cmd, Acked: c.bitmap()})
	return cmd
}

// maxBitmap is the most bitmap bytes an EMERGENCY frame carries: the
// swarm dialect's SWARM_EMERGENCY holds 225 (1800 members).
func maxBitmap() int { return min(225, algorithms.MaxPayload-Emergency{}.Size()) }

func (c *Core) bitmap() []byte {
	if c.out == nil || len(c.roster) == 0 {
		return nil
	}
	// The bitmap covers as many members as fit the frame (1800); a member
	// beyond it is never shown as acknowledged, so it acknowledges every
	// repeat it hears.
	b := make([]byte, min((len(c.roster)+7)/8, maxBitmap()))
	for i, ok := range c.out.acked {
		if ok && i/8 < len(b) {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return b
}

func (c *Core) obey(cmd Command) {
	c.last[cmd.Issuer] = cmd.ID
	c.counters.Obeyed++
	c.Emit(Obey{Cmd: cmd})
}

// Step implements algorithms.Core.
func (c *Core) Step(from algorithms.NodeID, m algorithms.Message) error {
	switch m := m.(type) {
	case Emergency:
		return c.stepEmergency(from, m)
	case Ack:
		c.stepAck(from, m)
		return nil
	}
	return algorithms.Unknown("emergency", m)
}

func (c *Core) stepEmergency(from algorithms.NodeID, m Emergency) error {
	cmd := m.Cmd
	if !Verify(c.cfg.Key, cmd) {
		c.counters.Forged++
		return fmt.Errorf("emergency: %s %d of %d from %d: %w", cmd.Op, cmd.ID, cmd.Issuer, from, ErrForged)
	}
	last := c.last[cmd.Issuer]
	switch {
	case cmd.ID < last:
		c.counters.Replayed++
		return fmt.Errorf("emergency: %s %d of %d from %d, after %d: %w", cmd.Op, cmd.ID, cmd.Issuer, from, last, ErrReplayed)
	case cmd.ID == last:
		c.counters.Duplicates++
		if r := c.relays[cmd.Issuer]; r != nil && r.cmd.ID == cmd.ID {
			r.heard++
		}
		if from == cmd.Issuer && cmd.Issuer != c.cfg.ID && !c.ackedIn(m.Acked) {
			c.scheduleAck(cmd, m.Acked, false)
		}
		return nil
	}
	if cmd.Issuer == c.cfg.ID {
		// Our own command, newer than any we remember: we restarted
		// without state. Take it up, and issue after it.
		c.lastSent = max(c.lastSent, cmd.ID)
	}
	c.obey(cmd)
	if cmd.Issuer != c.cfg.ID {
		c.startRelay(cmd)
		c.scheduleAck(cmd, nil, true)
	}
	return nil
}

// ackedIn reports whether the issuer's bitmap shows this drone's
// acknowledgement (false without a bitmap).
func (c *Core) ackedIn(bitmap []byte) bool {
	i, ok := slices.BinarySearch(c.roster, c.cfg.ID)
	if !ok || i/8 >= len(bitmap) {
		return false
	}
	return bitmap[i/8]&(1<<(i%8)) != 0
}

// relayTicks is how long the relay rounds of a command last.
func relayTicks(cfg Config) int { return cfg.RelayTicks * (1<<cfg.MaxRelays - 1) }

// scheduleAck schedules an acknowledgement: after the relay rounds for a
// first copy, spread over AckSpreadTicks; for a repeat, at once, spread
// over twice as many ticks as the repeat's bitmap shows missing members.
func (c *Core) scheduleAck(cmd Command, bitmap []byte, first bool) {
	if a, ok := c.acks[cmd.Issuer]; ok && a.id == cmd.ID {
		return
	}
	at := c.now + 1
	spread := int64(c.cfg.AckSpreadTicks)
	if first {
		at += int64(relayTicks(c.cfg))
	} else if bitmap != nil {
		missing := 0
		for i := range c.roster {
			if i/8 >= len(bitmap) || bitmap[i/8]&(1<<(i%8)) == 0 {
				missing++
			}
		}
		spread = min(spread, int64(max(10, 2*missing)))
	}
	if c.acks == nil {
		c.acks = map[algorithms.NodeID]ackDue{}
	}
	c.acks[cmd.Issuer] = ackDue{id: cmd.ID, at: at + c.rng.Int64N(spread)}
}

func (c *Core) startRelay(cmd Command) {
	if c.cfg.MaxRelays == 0 {
		delete(c.relays, cmd.Issuer)
		return
	}
	r := &relay{cmd: cmd, start: c.now, roundLen: int64(c.cfg.RelayTicks)}
	// The first round relays at any point, for speed; later rounds in
	// their second half, after listening (Trickle).
	r.at = c.now + 1 + c.rng.Int64N(r.roundLen)
	if c.relays == nil {
		c.relays = map[algorithms.NodeID]*relay{}
	}
	c.relays[cmd.Issuer] = r
}

func (c *Core) stepAck(from algorithms.NodeID, m Ack) {
	o := c.out
	if m.Issuer != c.cfg.ID || o == nil || o.cmd.ID != m.ID {
		return
	}
	i, ok := slices.BinarySearch(c.roster, from)
	if !ok || o.acked[i] {
		return
	}
	o.acked[i] = true
	c.checkDelivered()
}

// checkDelivered ends the issuer's repeats once every member that is not
// down has acknowledged.
func (c *Core) checkDelivered() {
	o := c.out
	if o == nil || len(c.missing()) > 0 {
		return
	}
	c.Emit(Delivered{Cmd: o.cmd})
	c.out = nil
}

// missing lists the members that have not acknowledged the issued command
// and are not down.
func (c *Core) missing() []algorithms.NodeID {
	var out []algorithms.NodeID
	for i, ok := range c.out.acked {
		if !ok && !c.down[c.roster[i]] {
			out = append(out, c.roster[i])
		}
	}
	return out
}

// PeerDown implements algorithms.PeerObserver: the issuer stops waiting for
// a member the failure detector suspects (it obeys when it hears the
// command, acknowledged or not).
func (c *Core) PeerDown(id algorithms.NodeID) {
	c.down[id] = true
	if c.out != nil && len(c.roster) > 0 {
		c.checkDelivered()
	}
}

// PeerUp implements algorithms.PeerObserver: the issuer waits for the
// member again if it is still repeating.
func (c *Core) PeerUp(id algorithms.NodeID) { delete(c.down, id) }

// Box implements algorithms.Boxed: Ready is the Outbox's.
func (c *Core) Box() *algorithms.Outbox { return &c.Outbox }

// Tick implements algorithms.Core: relays, acknowledgements and repeats
// that are due go out.
func (c *Core) Tick() {
	c.now++
	// sortedIDs of an empty map still costs a map iteration, every tick
	// at every drone: most ticks have nothing to relay or acknowledge.
	// The maps are nil while empty, so that len does not even read them.
	if len(c.relays) > 0 {
		if c.tickRelays(); len(c.relays) == 0 {
			c.relays = nil
		}
	}
	if len(c.acks) > 0 {
		if c.tickAcks(); len(c.acks) == 0 {
			c.acks = nil
		}
	}
	c.tickOut()
}

// tickRelays sends the relays that are due and starts their next rounds.
func (c *Core) tickRelays() {
	for _, issuer := range sortedIDs(c.relays) {
		r := c.relays[issuer]
		if !r.sent && c.now >= r.at {
			r.sent = true
			if r.heard < c.cfg.Redundancy {
				c.counters.Relays++
				c.Send(nil, Emergency{Cmd: r.cmd})
			}
		}
		if c.now >= r.start+r.roundLen {
			r.round++
			if r.round >= c.cfg.MaxRelays {
				delete(c.relays, issuer)
				continue
			}
			r.start, r.roundLen, r.heard, r.sent = c.now, 2*r.roundLen, 0, false
			r.at = c.now + r.roundLen/2 + c.rng.Int64N(r.roundLen-r.roundLen/2)
		}
	}
}

// tickAcks sends the acknowledgements that are due.
func (c *Core) tickAcks() {
	for _, issuer := range sortedIDs(c.acks) {
		a := c.acks[issuer]
		if c.now >= a.at {
			delete(c.acks, issuer)
			c.counters.Acks++
			c.Send(algorithms.To(issuer), Ack{Issuer: issuer, ID: a.id})
		}
	}
}

// tickOut repeats the drone's own emergency command while it is due.
func (c *Core) tickOut() {
	if o := c.out; o != nil && c.now >= o.next {
		if o.repeats >= c.cfg.MaxRepeats {
			if len(c.roster) > 0 {
				c.Emit(Unacknowledged{Cmd: o.cmd, Missing: c.missing()})
			}
			c.out = nil
			return
		}
		o.repeats++
		wait := c.cfg.RepeatTicks
		if len(c.roster) > 0 {
			wait = min(wait, max(10, 2*len(c.missing()))+50)
		}
		o.next = c.now + int64(wait)
		c.counters.Repeats++
		c.Send(nil, Emergency{Cmd: o.cmd, Acked: c.bitmap()})
	}
}

// Persist implements algorithms.Persister: the last command ID obeyed from
// each issuer and the last one issued, so that a replay stays rejected and
// IDs keep growing after a restart.
func (c *Core) Persist() []byte {
	issuers := sortedIDs(c.last)
	b := make([]byte, 0, 1+4+2+6*len(issuers))
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, c.lastSent)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(issuers)))
	for _, id := range issuers {
		b = binary.LittleEndian.AppendUint16(b, uint16(id))
		b = binary.LittleEndian.AppendUint32(b, c.last[id])
	}
	return b
}

func (c *Core) restore(b []byte) error {
	if len(b) < 7 || b[0] != 1 {
		return fmt.Errorf("%w: %d bytes", ErrState, len(b))
	}
	c.lastSent = binary.LittleEndian.Uint32(b[1:])
	n := int(binary.LittleEndian.Uint16(b[5:]))
	if len(b) != 7+6*n {
		return fmt.Errorf("%w: %d bytes for %d issuers", ErrState, len(b), n)
	}
	for i := range n {
		p := b[7+6*i:]
		c.last[algorithms.NodeID(binary.LittleEndian.Uint16(p))] = binary.LittleEndian.Uint32(p[2:])
	}
	return nil
}

func sortedIDs[V any](m map[algorithms.NodeID]V) []algorithms.NodeID {
	out := make([]algorithms.NodeID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

var _ algorithms.Boxed = (*Core)(nil)
