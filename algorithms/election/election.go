package election

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Election is the contract of both election cores.
type Election interface {
	algorithms.Core
	algorithms.PeerObserver
	algorithms.Persister
	// Campaign starts an election in a new term (the highest term seen
	// plus one), for instance when the failure detector suspects the
	// leader. It does nothing while the drone already takes part in an
	// election.
	Campaign()
	// Leader returns the leader of the current term and that term; ok is
	// false while the leader of the current term is not known.
	Leader() (leader algorithms.NodeID, term uint32, ok bool)
	// Term returns the highest term the drone has seen.
	Term() uint32
	// Participating reports whether the drone takes part in an election
	// whose result it does not know yet.
	Participating() bool
	// Follow tells the election that leader leads term, learned by other
	// means (a composed protocol heard the leader's own messages). An older
	// term is ignored; a second leader of the decided term is a Conflict.
	Follow(leader algorithms.NodeID, term uint32)
}

// Elected is emitted by every drone when it learns the leader of a term,
// the leader included.
type Elected struct {
	Leader algorithms.NodeID
	Term   uint32
}

// ElectionStarted is emitted when the drone starts or joins the election of
// Term; from then on it has no leader until Elected.
type ElectionStarted struct {
	Term uint32
}

// Conflict is emitted when a drone hears of two leaders in one term, which
// happens only when a live drone was wrongly suspected. The drone that
// detects it campaigns in the next term to resolve it.
type Conflict struct {
	Term    uint32
	Leaders [2]algorithms.NodeID
}

// Sentinel errors.
var (
	// ErrBadConfig is returned by the constructors for an unusable
	// configuration.
	ErrBadConfig = errors.New("election: invalid configuration")
	// ErrBadState is returned by the constructors when the bytes given
	// to Restore are not a state that Persist wrote.
	ErrBadState = errors.New("election: malformed persisted state")
	// ErrNotMember is returned by Step for a message from, or naming, a
	// drone outside the group.
	ErrNotMember = errors.New("election: drone is not a member of the group")
	// ErrBadMessage is returned by Step for a message that the protocol
	// never sends that way.
	ErrBadMessage = errors.New("election: invalid message")
)

// Encoded sizes, in bytes, of the fields of the messages.
const (
	kindBytes = 1
	termBytes = 4
	idBytes   = 2
)

// Option adjusts how a core is built.
type Option func(*options)

type options struct {
	restore bool
	state   []byte
}

// Restore builds the core from the bytes that Persist returned before the
// drone restarted, so that the drone does not reuse a term. The
// constructor rejects bytes that Persist did not write, wrapping
// ErrBadState.
func Restore(state []byte) Option {
	return func(o *options) {
		o.restore = true
		o.state = slices.Clone(state)
	}
}

// The persisted state: a marker byte, a version byte and the term, big
// endian. The marker keeps another core's bytes from passing for ours.
const (
	stateMarker  = 'E'
	stateVersion = 1
	stateLen     = 2 + termBytes
)

func encodeState(term uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{stateMarker, stateVersion}, term)
}

func decodeState(b []byte) (uint32, error) {
	switch {
	case len(b) != stateLen:
		return 0, fmt.Errorf("%w: %d bytes, want %d (pass the bytes Persist returned)", ErrBadState, len(b), stateLen)
	case b[0] != stateMarker:
		return 0, fmt.Errorf("%w: marker %#x, want %#x (not an election state)", ErrBadState, b[0], stateMarker)
	case b[1] != stateVersion:
		return 0, fmt.Errorf("%w: version %d, want %d", ErrBadState, b[1], stateVersion)
	}
	return binary.BigEndian.Uint32(b[2:]), nil
}

// base is the state both cores share: membership, the failure detector's
// verdicts, and the term with its leader.
type base struct {
	algorithms.Outbox
	core    string // "ring" or "bully", prefixes errors
	id      algorithms.NodeID
	members []algorithms.NodeID // ascending
	auto    bool

	term    uint32
	leader  algorithms.NodeID
	decided bool   // leader is the leader of term
	started uint32 // last term ElectionStarted was emitted for
	// restored: built from persisted state (Restore).
	restored bool

	down map[algorithms.NodeID]bool
}

// Box implements algorithms.Boxed: Ready is the Outbox's.
func (b *base) Box() *algorithms.Outbox { return &b.Outbox }

func newBase(core string, id algorithms.NodeID, members []algorithms.NodeID, auto bool, opts []Option) (base, error) {
	b := base{
		core:    core,
		id:      id,
		members: algorithms.Sorted(members),
		auto:    auto,
		down:    map[algorithms.NodeID]bool{},
	}
	if len(b.members) == 0 {
		return base{}, fmt.Errorf("%s: no members: %w", core, ErrBadConfig)
	}
	for i, m := range b.members {
		if m == algorithms.Everyone {
			return base{}, fmt.Errorf("%s: member %#x is the broadcast address: %w", core, m, ErrBadConfig)
		}
		if i > 0 && b.members[i-1] == m {
			return base{}, fmt.Errorf("%s: member %d listed twice: %w", core, m, ErrBadConfig)
		}
	}
	if !b.isMember(id) {
		return base{}, fmt.Errorf("%s: drone %d is not among the members: %w", core, id, ErrBadConfig)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.restore {
		t, err := decodeState(o.state)
		if err != nil {
			return base{}, fmt.Errorf("%s: restore drone %d: %w", core, id, err)
		}
		b.term = t
		b.started = t
		b.restored = true
	}
	return b, nil
}

func (b *base) isMember(id algorithms.NodeID) bool {
	_, ok := slices.BinarySearch(b.members, id)
	return ok
}

// checkFrom validates the sender of a message.
func (b *base) checkFrom(from algorithms.NodeID, m algorithms.Message) error {
	if from == b.id {
		return fmt.Errorf("%s: %s from drone %d itself: %w", b.core, m.Kind(), from, ErrBadMessage)
	}
	if !b.isMember(from) {
		return fmt.Errorf("%s: %s from drone %d: %w", b.core, m.Kind(), from, ErrNotMember)
	}
	return nil
}

// checkNamed validates a drone ID carried inside a message.
func (b *base) checkNamed(from algorithms.NodeID, m algorithms.Message, id algorithms.NodeID) error {
	if !b.isMember(id) {
		return fmt.Errorf("%s: %s from drone %d names drone %d: %w", b.core, m.Kind(), from, id, ErrNotMember)
	}
	return nil
}

// adopt moves to a higher term, whose leader is not known yet.
func (b *base) adopt(t uint32) {
	b.term = t
	b.leader = 0
	b.decided = false
}

// decide records l as the leader of the current term.
func (b *base) decide(l algorithms.NodeID) {
	b.leader = l
	b.decided = true
	b.Emit(Elected{Leader: l, Term: b.term})
}

// begin reports that the election of the current term started here.
func (b *base) begin() {
	if b.started != b.term {
		b.started = b.term
		b.Emit(ElectionStarted{Term: b.term})
	}
}

// conflict reports a second leader for the current term.
func (b *base) conflict(other algorithms.NodeID) {
	b.Emit(Conflict{Term: b.term, Leaders: [2]algorithms.NodeID{b.leader, other}})
}

// nextTerm returns the term of a new campaign; false once the terms are
// exhausted.
func (b *base) nextTerm() (uint32, bool) {
	if b.term == math.MaxUint32 {
		return 0, false
	}
	return b.term + 1, true
}

// above returns the members with a higher ID than this drone, leaving out
// those the failure detector reported down when live is set.
func (b *base) above(live bool) []algorithms.NodeID {
	var out []algorithms.NodeID
	for _, m := range b.members {
		if m > b.id && !(live && b.down[m]) {
			out = append(out, m)
		}
	}
	return out
}

// below returns the members with a lower ID than this drone.
func (b *base) below() []algorithms.NodeID {
	var out []algorithms.NodeID
	for _, m := range b.members {
		if m < b.id {
			out = append(out, m)
		}
	}
	return out
}

func (b *base) leaderInfo() (algorithms.NodeID, uint32, bool) {
	if !b.decided {
		return 0, b.term, false
	}
	return b.leader, b.term, true
}

var (
	_ algorithms.Boxed = (*Bully)(nil)
	_ algorithms.Boxed = (*Ring)(nil)
)
