package multicast

import (
	"errors"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// ID names one multicast: the drone that multicast it and its number among
// that drone's multicasts, from 1.
type ID struct {
	Origin algorithms.NodeID
	Seq    uint32
}

// String formats id as origin.seq.
func (id ID) String() string { return fmt.Sprintf("%d.%d", id.Origin, id.Seq) }

// Delivered is emitted when a drone delivers a multicast, the sender's own
// included. Payload is shared with the core and must not be modified.
type Delivered struct {
	ID      ID
	Payload []byte
}

// Multicast is the contract of every multicast core.
type Multicast interface {
	algorithms.Core
	algorithms.PeerObserver
	// Broadcast multicasts payload to the group and returns the ID under
	// which every drone, the sender included, will deliver it. A payload
	// that does not fit one MAVLink frame returns ErrTooLarge.
	Broadcast(payload []byte) (ID, error)
}

// Reliability selects the reliable multicast underneath an order.
type Reliability int

// Reliable multicast variants.
const (
	// Efficient is the radio-aware reliable multicast: one broadcast
	// frame per message, cumulative acknowledgements from a committee of
	// MaxFaults+1 drones (lazily from everyone else, or piggybacked on
	// their own traffic), negative acknowledgements and repair.
	Efficient Reliability = iota
	// Relay is the textbook algorithm: every drone relays every message
	// once, on first receipt, before it delivers it.
	Relay
)

// String names the variant as the simulate command's --reliability flag does.
func (r Reliability) String() string {
	switch r {
	case Efficient:
		return "efficient"
	case Relay:
		return "relay"
	}
	return fmt.Sprintf("Reliability(%d)", int(r))
}

// ParseReliability parses "efficient" or "relay".
func ParseReliability(s string) (Reliability, error) {
	switch s {
	case "efficient":
		return Efficient, nil
	case "relay":
		return Relay, nil
	}
	return 0, fmt.Errorf("multicast: reliability %q: %w (want efficient or relay)", s, ErrBadConfig)
}

// Sentinel errors.
var (
	// ErrBadConfig is returned by the constructors for an unusable
	// configuration.
	ErrBadConfig = errors.New("multicast: invalid configuration")
	// ErrTooLarge is returned by Broadcast for a payload that, with the
	// protocol's headers, does not fit one MAVLink payload.
	ErrTooLarge = errors.New("multicast: message does not fit one MAVLink payload")
	// ErrGroupTooLarge is returned by NewCausal for a group whose vector
	// clock does not fit one MAVLink payload.
	ErrGroupTooLarge = errors.New("multicast: group too large for a vector clock in one MAVLink payload")
	// ErrNotMember is returned by Step for a message from, or naming, a
	// drone outside the group.
	ErrNotMember = errors.New("multicast: drone is not a member of the group")
	// ErrBadMessage is returned by Step for a message the protocol never
	// sends that way.
	ErrBadMessage = errors.New("multicast: invalid message")
)

// MaxMessage is the largest core message in bytes: what the swarm dialect's
// SWARM_MULTICAST carries besides its 26 bytes of fixed fields (sequence
// numbers, stamps, origin, addressing, protocol and kind).
const MaxMessage = algorithms.MaxPayload - 26

// Config configures every multicast core of a group.
type Config struct {
	// ID is this drone.
	ID algorithms.NodeID
	// Members lists every drone of the group, ID included.
	Members []algorithms.NodeID
	// Reliability selects the reliable multicast underneath the order
	// (optional, default Efficient). Basic ignores it.
	Reliability Reliability
	// MaxFaults is the number of crashed drones that uniform agreement
	// survives: a drone delivers a message only once MaxFaults+1 drones
	// are known to hold it (optional, default and maximum ⌊(N−1)/2⌋).
	MaxFaults int
	// AckDelay is how many ticks a committee drone waits before it
	// acknowledges, so that one acknowledgement covers several messages
	// (optional, default 5).
	AckDelay int
	// LazyAck is how many ticks any other drone waits before it
	// acknowledges what it has not announced yet (optional, default
	// 50 + 4N: acknowledgements that are not needed for delivery are
	// spread over a time that grows with the channel's load).
	LazyAck int
}

// timing holds the timers of a group in ticks.
type timing struct {
	ackDelay    int64 // committee acknowledgement
	lazyAck     int64 // everyone else's acknowledgement
	nakDelay    int64 // first negative acknowledgement after a gap is seen
	nakSpread   int64 // least spread of nakDelay over drones, for suppression
	nakRetry    int64 // next negative acknowledgement while still missing
	repairGap   int64 // least time between two repairs of one message
	repairAfter int64 // unacknowledged message: the repairer probes (first estimate)
	stallAfter  int64 // first timeout before any round trip is measured
	backoffMax  int64 // retries back off up to this many times the first wait
}

// group is a validated configuration.
type group struct {
	id      algorithms.NodeID
	members []algorithms.NodeID // sorted
	index   map[algorithms.NodeID]int
	faults  int
	rel     Reliability
	t       timing
}

func newGroup(core string, c Config) (*group, error) {
	members := slices.Clone(c.Members)
	slices.Sort(members)
	members = slices.Compact(members)
	n := len(members)
	switch {
	case n == 0:
		return nil, fmt.Errorf("%s: no members: %w", core, ErrBadConfig)
	case len(members) != len(c.Members):
		return nil, fmt.Errorf("%s: members listed twice: %w", core, ErrBadConfig)
	case !slices.Contains(members, c.ID):
		return nil, fmt.Errorf("%s: drone %d is not among the members: %w", core, c.ID, ErrBadConfig)
	case slices.Contains(members, algorithms.Everyone):
		return nil, fmt.Errorf("%s: %d addresses everyone and cannot be a member: %w", core, algorithms.Everyone, ErrBadConfig)
	case c.Reliability != Efficient && c.Reliability != Relay:
		return nil, fmt.Errorf("%s: reliability %v: %w", core, c.Reliability, ErrBadConfig)
	case c.MaxFaults < 0 || c.MaxFaults > (n-1)/2:
		if c.MaxFaults < 0 {
			return nil, fmt.Errorf("%s: max faults %d is negative: %w", core, c.MaxFaults, ErrBadConfig)
		}
		return nil, fmt.Errorf("%s: max faults %d: at most %d of %d drones can crash with a live majority left: %w",
			core, c.MaxFaults, (n-1)/2, n, ErrBadConfig)
	case c.AckDelay < 0 || c.LazyAck < 0:
		return nil, fmt.Errorf("%s: negative timer: %w", core, ErrBadConfig)
	}
	g := &group{id: c.ID, members: members, index: make(map[algorithms.NodeID]int, n), faults: c.MaxFaults, rel: c.Reliability}
	if g.faults == 0 {
		g.faults = (n - 1) / 2
	}
	for i, m := range members {
		g.index[m] = i
	}
	g.t = timing{
		ackDelay:   int64(c.AckDelay),
		lazyAck:    int64(c.LazyAck),
		nakDelay:   1,
		nakSpread:  2 + int64(n)/16,
		nakRetry:   20 + int64(n)/2,
		repairGap:  10 + int64(n)/8,
		backoffMax: 8,
	}
	if g.t.ackDelay == 0 {
		g.t.ackDelay = 5
	}
	if g.t.lazyAck == 0 {
		g.t.lazyAck = 50 + 4*int64(n)
	}
	g.t.repairAfter = 2*g.t.lazyAck + 20
	g.t.stallAfter = 100 + 4*int64(n)
	return g, nil
}

// n is the group size.
func (g *group) n() int { return len(g.members) }

func (g *group) member(id algorithms.NodeID) bool {
	_, ok := g.index[id]
	return ok
}

// checkMember returns ErrNotMember for a drone outside the group.
func (g *group) checkMember(core string, id algorithms.NodeID) error {
	if !g.member(id) {
		return fmt.Errorf("%s: drone %d: %w", core, id, ErrNotMember)
	}
	return nil
}
