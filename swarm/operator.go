package swarm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// An operator's command reaches the log through the leader, which a
// ground station asks again and again until the command is committed: a
// leader that fails between committing it and answering leaves the
// ground station to ask its successor, which may commit it once more. The
// log entry therefore carries the command's name at its issuer, (issuer,
// seq), and every drone carries out the first committed entry of a name
// and skips the later ones. Every drone applies the same log in the same
// order, so every drone skips the same entries; a drone that restarts, or
// learns the log from scratch, applies it again from index 1 and skips
// them again (the names applied are derived from the log, never stored
// apart from it).
//
// The operator entry: a marker byte that is no command kind, the issuer
// (2 bytes) and seq (4 bytes), big endian, then the command's own
// encoding (command.Encode). An entry whose first byte is a command kind
// is a plain command (Propose) without a name, as entries were before
// operator commands had one.

// operatorMarker is the first byte of an operator entry: command kinds
// are small numbers, so it can never start a plain command.
const operatorMarker = 0xF0

// operatorHeader is the length of an operator entry before its command.
const operatorHeader = 1 + 2 + 4

// OperatorID names an operator's command: the vehicle ID of the ground
// station that issued it and the ground station's sequence number, which
// a retry repeats.
type OperatorID struct {
	Issuer uint16
	Seq    uint32
}

// String formats the ID as issuer/seq.
func (o OperatorID) String() string { return fmt.Sprintf("%d/%d", o.Issuer, o.Seq) }

// Entry is a command entry of the log, decoded (DecodeEntry).
type Entry struct {
	// Operator names an operator's command; Issuer is 0 for a plain
	// command (Propose).
	Operator OperatorID
	Command  command.Command
}

// ErrBadIssuer is returned by ProposeOperator for issuer 0 or 65535: an
// issuer is a vehicle ID.
var ErrBadIssuer = errors.New("swarm: an operator command's issuer must be a vehicle ID (1 to 65534)")

// EncodeOperator returns the log entry of operator command c named
// (issuer, seq). It does not check c (ProposeOperator does).
func EncodeOperator(id OperatorID, c command.Command) []byte {
	b := make([]byte, operatorHeader, operatorHeader+command.MaxSize)
	b[0] = operatorMarker
	binary.BigEndian.PutUint16(b[1:], id.Issuer)
	binary.BigEndian.PutUint32(b[3:], id.Seq)
	return append(b, command.Encode(c)...)
}

// DecodeEntry reads the data of a command entry: an operator entry
// (EncodeOperator) or a plain command (command.Encode). For an operator
// entry whose command is malformed it returns the entry's Operator with
// the error, which wraps command.ErrMalformed.
func DecodeEntry(data []byte) (Entry, error) {
	if len(data) == 0 || data[0] != operatorMarker {
		c, err := command.Decode(data)
		return Entry{Command: c}, err
	}
	if len(data) < operatorHeader {
		return Entry{}, fmt.Errorf("%w: operator entry of %d bytes, shorter than its %d-byte header", command.ErrMalformed, len(data), operatorHeader)
	}
	e := Entry{Operator: OperatorID{Issuer: binary.BigEndian.Uint16(data[1:]), Seq: binary.BigEndian.Uint32(data[3:])}}
	if e.Operator.Issuer == 0 {
		return e, fmt.Errorf("%w: operator entry of issuer 0", command.ErrMalformed)
	}
	c, err := command.Decode(data[operatorHeader:])
	if err != nil {
		return e, fmt.Errorf("operator command %v: %w", e.Operator, err)
	}
	e.Command = c
	return e, nil
}

// operatorID reads only the name of an operator entry.
func operatorID(data []byte) (OperatorID, bool) {
	if len(data) < operatorHeader || data[0] != operatorMarker {
		return OperatorID{}, false
	}
	return OperatorID{Issuer: binary.BigEndian.Uint16(data[1:]), Seq: binary.BigEndian.Uint32(data[3:])}, true
}

// ProposeOperator appends operator command c, named id, to the command
// log; only the leader sequences (see cmdlog). It proposes even when the
// log already holds the name: look it up first (FindOperator), which is
// what a leader answering a ground station does. A command proposed twice
// is carried out once (Duplicate). Like Propose, it refuses system and
// invalid commands.
func (n *Node) ProposeOperator(id OperatorID, c command.Command) (cmdlog.Position, error) {
	if id.Issuer == 0 || algorithms.NodeID(id.Issuer) == algorithms.Everyone {
		return cmdlog.Position{}, fmt.Errorf("swarm: propose %v from %v: %w", c, id, ErrBadIssuer)
	}
	if err := checkProposal(c); err != nil {
		return cmdlog.Position{}, err
	}
	return n.log.Propose(EncodeOperator(id, c))
}

// FindOperator looks the operator command named id up in the drone's log:
// its position (the first entry of that name, the one carried out),
// whether that entry is committed, and whether the log holds it at all.
// On the leader an entry it holds but has not committed yet will be: the
// leader's log keeps its entries, and committing its own later entries
// commits every earlier one.
func (n *Node) FindOperator(id OperatorID) (p cmdlog.Position, committed, ok bool) {
	lg := n.log.Log()
	if i, ok := n.ops[id]; ok {
		e, _ := lg.Entry(i)
		return cmdlog.Position{Index: i, Term: e.Term}, true, true
	}
	// Entries applied are in ops; look among the others.
	for i := lg.AppliedIndex() + 1; i <= lg.LastIndex(); i++ {
		e, ok := lg.Entry(i)
		if !ok || e.Kind != cmdlog.KindCommand {
			continue
		}
		if got, ok := operatorID(e.Data); ok && got == id {
			return cmdlog.Position{Index: i, Term: e.Term}, i <= lg.CommitIndex(), true
		}
	}
	return cmdlog.Position{}, false, false
}

// Events of operator commands.
type (
	// Executed is emitted for a command of the log that the drone carried
	// out (a show or operator command, not a system one): Operator names
	// it, or is zero for a plain command.
	Executed struct {
		Index    uint32
		Operator OperatorID
		Command  command.Command
	}
	// Duplicate is emitted for an operator command that the drone skips:
	// the log holds its name at index First, already carried out (or
	// refused there).
	Duplicate struct {
		Index    uint32
		Operator OperatorID
		First    uint32
	}
)
