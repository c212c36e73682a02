package cmdlog

import (
	"errors"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// EntryKind says what a log entry holds.
type EntryKind uint8

// Kinds of entries.
const (
	// KindCommand is a swarm command: opaque bytes that every drone
	// applies in log order.
	KindCommand EntryKind = 1
	// KindNoop is the entry a new leader appends when its recovery ends:
	// committing it commits every entry before it (Raft §5.4.2, §8).
	KindNoop EntryKind = 2
	// KindConfig holds a new committee, the full list of its members;
	// it takes effect where it is appended (Raft's single-server change).
	KindConfig EntryKind = 3
)

// String names the kind.
func (k EntryKind) String() string {
	switch k {
	case KindCommand:
		return "command"
	case KindNoop:
		return "noop"
	case KindConfig:
		return "config"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Entry is one slot of the log. Data is never modified once it is in a
// log: entries are shared between messages and logs.
type Entry struct {
	// Term is the term of the leader that sequenced the entry.
	Term uint32
	// Kind says what Data holds.
	Kind EntryKind
	// Data is the command (KindCommand), nothing (KindNoop) or the
	// committee's vehicle IDs, two bytes each, big endian, ascending
	// (KindConfig).
	Data []byte
}

// Position names an entry: the leader's index and term. Two logs that hold
// an entry with the same index and term agree on every entry up to it
// (Raft's Log Matching property), so a position identifies a command for a
// client that wants to know whether its proposal survived a failover.
type Position struct {
	Index uint32
	Term  uint32
}

// Limits of the wire format.
const (
	// MaxCommand is the largest command in bytes, so that an APPEND with
	// one command fits a MAVLink payload with room for its headers.
	MaxCommand = 200
	// MaxCommittee is the largest committee: its list is one entry.
	MaxCommittee = 31
)

// Sentinel errors.
var (
	// ErrBadConfig is returned by the constructors for an unusable
	// configuration.
	ErrBadConfig = errors.New("cmdlog: invalid configuration")
	// ErrBadState is returned by the constructors when the bytes given to
	// Restore are not a state that Persist wrote.
	ErrBadState = errors.New("cmdlog: malformed persisted state")
	// ErrNotMember is returned by Step for a message from, or naming, a
	// drone outside the swarm.
	ErrNotMember = errors.New("cmdlog: drone is not a member of the swarm")
	// ErrBadMessage is returned by Step for a message the protocol never
	// sends that way.
	ErrBadMessage = errors.New("cmdlog: invalid message")
	// ErrNotLeader is returned by Propose on a drone that is not a leader
	// whose recovery has completed: propose at the leader.
	ErrNotLeader = errors.New("cmdlog: not the leader (or recovery not complete)")
	// ErrTooLarge is returned by Propose for a command longer than
	// MaxCommand bytes.
	ErrTooLarge = errors.New("cmdlog: command too large")
	// ErrSafety is returned by Step when a message would make the drone
	// drop an entry it knows to be committed. The protocol never sends
	// such a message; the drone keeps its log.
	ErrSafety = errors.New("cmdlog: message would overwrite a committed entry")
)

// Events.
type (
	// Applied is emitted, in log order and without gaps, for every entry
	// a drone applies: the entry is committed. A drone restarted from its
	// persisted state applies its committed entries again from index 1,
	// since what it applied lived in memory.
	Applied struct {
		Index uint32
		Entry Entry
	}
	// Leading is emitted by a leader when its recovery has completed: from
	// now on it sequences commands in Term.
	Leading struct {
		Term uint32
	}
	// Deposed is emitted by a leader or a recovering leader that learns
	// of a later term, or that another drone holds the votes of its term.
	Deposed struct {
		Term   uint32
		Leader algorithms.NodeID
	}
)

// Config configures a Log. Timeouts are in ticks.
type Config struct {
	// ID is this drone's vehicle ID; it must be one of Members.
	ID algorithms.NodeID
	// Members lists every drone of the swarm, this one included, in any
	// order; every drone must be given the same list. A sorted list is
	// kept, not copied (algorithms.Sorted): do not change it afterwards.
	Members []algorithms.NodeID
	// Committee (optional, default 5, or every member when there are
	// fewer) is the number of voters. The first committee is the
	// Committee highest IDs of Members; when the leader replaces a member
	// that the failure detector reports dead, it picks the highest live
	// drone outside the committee.
	Committee int
	// Seed (optional) seeds the drone's own jitter of repair requests.
	Seed uint64
	// CommitDelay (optional) is how long a new commit point waits for an
	// APPEND to ride on before it goes out as a COMMIT of its own: by
	// default Retransmit, since every drone that overhears the
	// acknowledgements learns the commit point without it; 0 (at once)
	// with Textbook.
	CommitDelay int
	// Textbook (optional) keeps the textbook round, C+1 frames a
	// command: every committee member acknowledges each new entry to the
	// leader alone, at once, and the leader broadcasts each commit point
	// in a COMMIT after CommitDelay. By default a command costs
	// majority(C) frames: acknowledgements are broadcast, only as many
	// members as a majority needs acknowledge at once (the others wait
	// AckDelay per rank and keep quiet when they overhear that majority),
	// and every drone infers the commit point from the APPEND and the
	// acknowledgements it overhears (Raft's rule: an entry of the
	// current term stored by a majority of the committee is committed).
	Textbook bool
	// AckDelay (optional, default majority(Committee)+1, about the
	// airtime of the first majority's acknowledgements at 57600 baud and
	// 10 ms ticks, plus a tick) is how long a committee member beyond the
	// first majority waits, per rank, before it acknowledges an entry
	// that it has not overheard a majority acknowledge.
	AckDelay int
	// Retransmit (optional, default 30) is how long the leader waits for
	// a committee majority before it broadcasts its uncommitted entries
	// again (backing off to 8× while nothing progresses), and how long a
	// drone waits for a repair before it asks again.
	Retransmit int
	// NakDelay (optional, default 5) is how long a gap must last before a
	// drone asks for a repair (frames can be reordered), plus a jitter
	// drawn from [0, NakJitter] so that one drone asks for the many that
	// missed the same frame (optional, default 10).
	NakDelay  int
	NakJitter int
	// RepairGap (optional, default 5) is the shortest time between two
	// repairs of the same range by the leader.
	RepairGap int
	// Beacon (optional, default 50) is how long a leader with nothing new
	// to send waits before it repeats its commit point, doubling up to
	// BeaconMax (optional, default 8 × Beacon).
	Beacon    int
	BeaconMax int
	// Confirm (optional, default 20 × Beacon) is how recent the
	// acknowledgements of a committee majority must be for the leader to
	// count as confirmed (Append.Confirmed). Committee members acknowledge
	// an idle leader's beacons every Confirm/4 so that it stays confirmed.
	// A deposed leader cut off with a minority loses its confirmation
	// within Confirm of the new leader's recovery.
	Confirm int
	// RecoverRetry (optional, default 30) is how long a recovering leader
	// waits for promises or entries before it asks again, doubling up to
	// 8×.
	RecoverRetry int
	// Redundancy (optional, default 2, 1 with Textbook; negative for
	// none) is how many entries before the new ones an APPEND repeats
	// when they fit its frame, so that a drone that missed that many
	// APPENDs in a row takes their entries from the next instead of
	// asking.
	Redundancy int
}

func (c *Config) fill() error {
	if len(c.Members) == 0 {
		return fmt.Errorf("cmdlog: no members: %w", ErrBadConfig)
	}
	if c.Committee == 0 {
		c.Committee = min(5, len(c.Members))
	}
	switch {
	case c.Committee < 1 || c.Committee > MaxCommittee:
		return fmt.Errorf("cmdlog: committee of %d: want 1 to %d: %w", c.Committee, MaxCommittee, ErrBadConfig)
	case c.Committee > len(c.Members):
		return fmt.Errorf("cmdlog: committee of %d among %d members: %w", c.Committee, len(c.Members), ErrBadConfig)
	}
	switch {
	case c.Redundancy == 0 && c.Textbook:
		c.Redundancy = 1
	case c.Redundancy == 0:
		c.Redundancy = 2
	case c.Redundancy < 0:
		c.Redundancy = 0
	}
	for _, t := range []struct {
		name string
		v    *int
		def  int
	}{
		{"CommitDelay", &c.CommitDelay, 0},
		{"Retransmit", &c.Retransmit, 30},
		{"AckDelay", &c.AckDelay, majority(c.Committee) + 1},
		{"NakDelay", &c.NakDelay, 5},
		{"NakJitter", &c.NakJitter, 10},
		{"RepairGap", &c.RepairGap, 5},
		{"Beacon", &c.Beacon, 50},
		{"RecoverRetry", &c.RecoverRetry, 30},
		{"Confirm", &c.Confirm, -1},
		{"BeaconMax", &c.BeaconMax, -1},
	} {
		if *t.v < 0 {
			return fmt.Errorf("cmdlog: %s %d ticks is negative: %w", t.name, *t.v, ErrBadConfig)
		}
		if *t.v == 0 {
			*t.v = t.def
		}
	}
	if c.CommitDelay == 0 && !c.Textbook {
		c.CommitDelay = c.Retransmit
	}
	// Defaults that follow from Beacon.
	if c.Confirm < 0 {
		c.Confirm = 20 * c.Beacon
	}
	if c.BeaconMax < 0 {
		c.BeaconMax = 8 * c.Beacon
	}
	if c.Confirm < 2*c.BeaconMax {
		// An idle leader's committee acknowledges its beacons; with
		// beacons further apart than half of Confirm, one lost frame
		// costs the leader its confirmation.
		return fmt.Errorf("cmdlog: Confirm of %d ticks is less than twice BeaconMax (%d): %w", c.Confirm, c.BeaconMax, ErrBadConfig)
	}
	return nil
}

// members returns the sorted, checked member list.
func checkMembers(id algorithms.NodeID, members []algorithms.NodeID) ([]algorithms.NodeID, error) {
	out := algorithms.Sorted(members)
	for i, m := range out {
		if m == algorithms.Everyone || m == 0 {
			return nil, fmt.Errorf("cmdlog: member %#x is not a vehicle ID: %w", m, ErrBadConfig)
		}
		if i > 0 && out[i-1] == m {
			return nil, fmt.Errorf("cmdlog: member %d listed twice: %w", m, ErrBadConfig)
		}
	}
	if _, ok := slices.BinarySearch(out, id); !ok {
		return nil, fmt.Errorf("cmdlog: drone %d is not among the members: %w", id, ErrBadConfig)
	}
	return out, nil
}

// Option adjusts how a core is built.
type Option func(*options)

type options struct {
	restore bool
	state   []byte
}

// Restore builds the core from the bytes Persist returned before the
// drone restarted: its term, its vote, its log and its commit point. The
// constructor rejects bytes that Persist did not write, wrapping
// ErrBadState.
func Restore(state []byte) Option {
	return func(o *options) {
		o.restore = true
		o.state = slices.Clone(state)
	}
}

// majority is the size of a majority of n voters.
func majority(n int) int { return n/2 + 1 }

// encodeConfig turns a committee into the data of a KindConfig entry.
func encodeConfig(ids []algorithms.NodeID) []byte {
	b := make([]byte, 0, 2*len(ids))
	for _, id := range ids {
		b = append(b, byte(id>>8), byte(id))
	}
	return b
}

// decodeConfig reads the data of a KindConfig entry; isMember checks each
// ID.
func decodeConfig(b []byte, isMember func(algorithms.NodeID) bool) ([]algorithms.NodeID, error) {
	if len(b) == 0 || len(b)%2 != 0 || len(b)/2 > MaxCommittee {
		return nil, fmt.Errorf("committee of %d bytes: want 2 to %d, even", len(b), 2*MaxCommittee)
	}
	out := make([]algorithms.NodeID, len(b)/2)
	for i := range out {
		out[i] = algorithms.NodeID(b[2*i])<<8 | algorithms.NodeID(b[2*i+1])
		if i > 0 && out[i] <= out[i-1] {
			return nil, fmt.Errorf("committee %v is not ascending", out[:i+1])
		}
		if !isMember(out[i]) {
			return nil, fmt.Errorf("committee names drone %d: %w", out[i], ErrNotMember)
		}
	}
	return out, nil
}

// checkEntry validates one entry of a message or of a persisted log.
func checkEntry(e Entry, isMember func(algorithms.NodeID) bool) error {
	switch e.Kind {
	case KindCommand:
		if len(e.Data) > MaxCommand {
			return fmt.Errorf("command of %d bytes exceeds %d", len(e.Data), MaxCommand)
		}
	case KindNoop:
		if len(e.Data) != 0 {
			return fmt.Errorf("noop with %d bytes of data", len(e.Data))
		}
	case KindConfig:
		if _, err := decodeConfig(e.Data, isMember); err != nil {
			return err
		}
	default:
		return fmt.Errorf("entry kind %d", uint8(e.Kind))
	}
	if e.Term == 0 {
		return errors.New("entry of term 0")
	}
	return nil
}
