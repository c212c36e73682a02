package cmdlog

import (
	"github.com/skyquorum/skyquorum/algorithms"
)

// Encoded sizes, in bytes, of the fields of the messages.
const (
	kindBytes  = 1
	flagBytes  = 1
	countBytes = 1
	termBytes  = 4
	indexBytes = 4
	idBytes    = 2
	// entryHeader is an entry's term, kind and data length.
	entryHeader = termBytes + 1 + 1
	// frameAddress is what a raw frame adds to a message: the sender's
	// vehicle ID and the destination's (0xFFFF for everyone).
	frameAddress = 2 * idBytes
	// maxMessage is the largest message, so that its frame fits a MAVLink
	// payload: SWARM_MULTICAST, which carries the log's messages, spends 31
	// bytes on fixed fields and carries at most 224 bytes of entries.
	maxMessage = algorithms.MaxPayload - frameAddress - 8
	// appendHeader is an APPEND's (or REPAIR's, or ENTRIES') size without
	// its entries.
	appendHeader = kindBytes + flagBytes + termBytes + 3*indexBytes + countBytes
)

// entriesSize is the encoded size of entries.
func entriesSize(es []Entry) int {
	n := 0
	for _, e := range es {
		n += entryHeader + len(e.Data)
	}
	return n
}

// Messages of the command log. Every one goes out as a plain radio frame
// (algorithms.Unreliable): the log repairs its own losses, because the
// reliable delivery layer would acknowledge every broadcast APPEND once per
// drone, N frames per command.
type (
	// Append is the leader's broadcast of new entries, one frame to
	// everyone: the entries follow the entry at PrevIndex, of PrevTerm,
	// and Commit is the leader's commit point. With Retry set, it repeats
	// uncommitted entries the committee has not all acknowledged; with
	// Repair set, it answers a NAK. Confirmed says that a majority of the
	// committee acknowledged the leader recently (Config.Confirm): only
	// then does the message tell a drone that it is caught up.
	Append struct {
		Term      uint32
		PrevIndex uint32
		PrevTerm  uint32
		Commit    uint32
		Entries   []Entry
		Retry     bool
		Repair    bool
		Confirmed bool
	}
	// Commit is the leader's commit point, broadcast when no APPEND
	// carries it soon enough, repeated while the leader is idle (so that a
	// drone that missed the last APPEND learns there is something to
	// ask for), and sent to a drone that comes back. LastIndex and
	// LastTerm name the leader's last entry.
	Commit struct {
		Term      uint32
		Commit    uint32
		LastIndex uint32
		LastTerm  uint32
		Confirmed bool
	}
	// Ack is a committee member's acknowledgement to the leader: it stores
	// the leader's log up to Match.
	Ack struct {
		Term  uint32
		Match uint32
	}
	// Nak asks the leader for the entries from From to To. It is
	// broadcast, so that drones missing the same entries hear it and wait
	// for the repair instead of asking too.
	Nak struct {
		Term uint32
		From uint32
		To   uint32
	}
	// Stale tells a drone that sent a message of an older term the current
	// term and, when known, its leader; it also tells a recovering leader
	// that this member has promised its vote of the term to another.
	Stale struct {
		Term   uint32
		Leader algorithms.NodeID
	}
	// Recover opens a new leader's recovery: it asks the committee members
	// for their vote of Term and a summary of their logs.
	Recover struct {
		Term  uint32
		Retry bool
	}
	// Promise is a committee member's vote for the leader of Term: it
	// will accept nothing from an older term, and it reports its last
	// entry and its commit point.
	Promise struct {
		Term      uint32
		LastIndex uint32
		LastTerm  uint32
		Commit    uint32
		Retry     bool
	}
	// Fetch asks the member with the most up-to-date log for its entries
	// from From on, during recovery.
	Fetch struct {
		Term  uint32
		From  uint32
		Retry bool
	}
	// Entries answers a Fetch: the member's entries after PrevIndex, of
	// PrevTerm, and the index of its last entry.
	Entries struct {
		Term      uint32
		PrevIndex uint32
		PrevTerm  uint32
		Last      uint32
		Entries   []Entry
	}
)

var (
	_ algorithms.Classifier = Append{}
	_ algorithms.Unreliable = Append{}
	_ algorithms.Unreliable = Commit{}
	_ algorithms.Unreliable = Ack{}
	_ algorithms.Unreliable = Nak{}
	_ algorithms.Unreliable = Stale{}
	_ algorithms.Unreliable = Recover{}
	_ algorithms.Unreliable = Promise{}
	_ algorithms.Unreliable = Fetch{}
	_ algorithms.Unreliable = Entries{}
)

// Kind implements algorithms.Message.
func (m Append) Kind() string {
	if m.Repair {
		return "REPAIR"
	}
	return "APPEND"
}

// Kind implements algorithms.Message.
func (Commit) Kind() string { return "COMMIT" }

// Kind implements algorithms.Message.
func (Ack) Kind() string { return "ACK" }

// Kind implements algorithms.Message.
func (Nak) Kind() string { return "NAK" }

// Kind implements algorithms.Message.
func (Stale) Kind() string { return "STALE" }

// Kind implements algorithms.Message.
func (Recover) Kind() string { return "RECOVER" }

// Kind implements algorithms.Message.
func (Promise) Kind() string { return "PROMISE" }

// Kind implements algorithms.Message.
func (Fetch) Kind() string { return "FETCH" }

// Kind implements algorithms.Message.
func (Entries) Kind() string { return "ENTRIES" }

// Size implements algorithms.Message: kind, flags, term, previous index
// and term, commit, count, entries.
func (m Append) Size() int { return appendHeader + entriesSize(m.Entries) }

// Size implements algorithms.Message: kind, term, commit, last index and
// term, flags.
func (Commit) Size() int { return kindBytes + termBytes + 3*indexBytes + 1 }

// Size implements algorithms.Message: kind, term, match.
func (Ack) Size() int { return kindBytes + termBytes + indexBytes }

// Size implements algorithms.Message: kind, term, from, to.
func (Nak) Size() int { return kindBytes + termBytes + 2*indexBytes }

// Size implements algorithms.Message: kind, term, leader.
func (Stale) Size() int { return kindBytes + termBytes + idBytes }

// Size implements algorithms.Message: kind, flags, term.
func (Recover) Size() int { return kindBytes + flagBytes + termBytes }

// Size implements algorithms.Message: kind, flags, term, last index and
// term, commit.
func (Promise) Size() int { return kindBytes + flagBytes + termBytes + 3*indexBytes }

// Size implements algorithms.Message: kind, flags, term, from.
func (Fetch) Size() int { return kindBytes + flagBytes + termBytes + indexBytes }

// Size implements algorithms.Message: kind, flags, term, previous index
// and term, last, count, entries.
func (m Entries) Size() int { return appendHeader + entriesSize(m.Entries) }

// Class implements algorithms.Classifier: the first broadcast of new
// entries is data; a repeat or a repair is a retransmission.
func (m Append) Class() algorithms.Class {
	if m.Retry || m.Repair {
		return algorithms.ClassRetransmission
	}
	return algorithms.ClassData
}

// Class implements algorithms.Classifier: a commit point only
// acknowledges, to everyone, that a majority stores the entries.
func (Commit) Class() algorithms.Class { return algorithms.ClassAck }

// Class implements algorithms.Classifier.
func (Ack) Class() algorithms.Class { return algorithms.ClassAck }

// Class implements algorithms.Classifier: a repair request.
func (Nak) Class() algorithms.Class { return algorithms.ClassAck }

// Class implements algorithms.Classifier.
func (Stale) Class() algorithms.Class { return algorithms.ClassAck }

// Class implements algorithms.Classifier.
func (m Recover) Class() algorithms.Class { return retryClass(m.Retry) }

// Class implements algorithms.Classifier.
func (m Promise) Class() algorithms.Class { return retryClass(m.Retry) }

// Class implements algorithms.Classifier.
func (m Fetch) Class() algorithms.Class { return retryClass(m.Retry) }

// Class implements algorithms.Classifier: stored entries sent again.
func (Entries) Class() algorithms.Class { return algorithms.ClassRetransmission }

func retryClass(retry bool) algorithms.Class {
	if retry {
		return algorithms.ClassRetransmission
	}
	return algorithms.ClassData
}

// Unreliable implements algorithms.Unreliable.
func (Append) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Commit) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Ack) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Nak) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Stale) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Recover) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Promise) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Fetch) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (Entries) Unreliable() {}
