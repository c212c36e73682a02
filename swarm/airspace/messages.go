package airspace

import "github.com/skyquorum/skyquorum/algorithms"

// Messages of the lease-aware Maekawa algorithm. The requester's ID is the
// frame's sender; TS is the Lamport timestamp of the request a message is
// about, so that messages of an earlier request are recognised as stale.
// Inc is the incarnation of the requester that made the request: a drone
// that restarted without its state counts its Lamport clock from zero
// again, and only Inc tells its new requests from its previous
// incarnation's.
// Sent is the requester's tick count when it sent the REQUEST or RENEW a
// vote answers: the requester measures the vote's lease from it, a moment
// that precedes the voter's grant. Grant numbers a voter's votes, so that
// a YES that crosses a RELINQUISH is not counted twice.
type (
	// Request asks a voter for its vote on Cell.
	Request struct {
		Cell Cell
		TS   uint32
		Sent uint32
		Inc  uint32
	}
	// Yes is a voter's vote (a first grant, or the renewal of one) for
	// the request TS; it lasts Lease ticks from Sent.
	Yes struct {
		Cell  Cell
		TS    uint32
		Grant uint32
		Sent  uint32
		Lease uint32
		Inc   uint32
	}
	// Inquire asks the candidate to give vote Grant back: an earlier
	// request arrived.
	Inquire struct {
		Cell  Cell
		TS    uint32
		Grant uint32
		Inc   uint32
	}
	// Relinquish gives vote Grant back in answer to Inquire.
	Relinquish struct {
		Cell  Cell
		TS    uint32
		Grant uint32
		Inc   uint32
	}
	// Release frees the votes of request TS (held or still wanted).
	Release struct {
		Cell Cell
		TS   uint32
		Inc  uint32
	}
	// Renew asks the voters to extend the votes of request TS from Sent on;
	// a voter that has dropped the request (its vote expired) takes it as
	// a new Request.
	Renew struct {
		Cell Cell
		TS   uint32
		Sent uint32
		Inc  uint32
	}
)

// Encoded sizes: a kind byte, the cell, then 32-bit fields, the
// incarnation last.
const (
	kindBytes = 1
	cellBytes = 2
	wordBytes = 4
)

// Kind implements algorithms.Message.
func (Request) Kind() string { return "REQUEST" }

// Kind implements algorithms.Message.
func (Yes) Kind() string { return "YES" }

// Kind implements algorithms.Message.
func (Inquire) Kind() string { return "INQUIRE" }

// Kind implements algorithms.Message.
func (Relinquish) Kind() string { return "RELINQUISH" }

// Kind implements algorithms.Message.
func (Release) Kind() string { return "RELEASE" }

// Kind implements algorithms.Message.
func (Renew) Kind() string { return "RENEW" }

// Size implements algorithms.Message.
func (Request) Size() int { return kindBytes + cellBytes + 3*wordBytes }

// Size implements algorithms.Message.
func (Yes) Size() int { return kindBytes + cellBytes + 5*wordBytes }

// Size implements algorithms.Message.
func (Inquire) Size() int { return kindBytes + cellBytes + 3*wordBytes }

// Size implements algorithms.Message.
func (Relinquish) Size() int { return kindBytes + cellBytes + 3*wordBytes }

// Size implements algorithms.Message.
func (Release) Size() int { return kindBytes + cellBytes + 2*wordBytes }

// Size implements algorithms.Message.
func (Renew) Size() int { return kindBytes + cellBytes + 3*wordBytes }

var (
	_ algorithms.Message = Request{}
	_ algorithms.Message = Yes{}
	_ algorithms.Message = Inquire{}
	_ algorithms.Message = Relinquish{}
	_ algorithms.Message = Release{}
	_ algorithms.Message = Renew{}
)

// Acquired is emitted when the drone holds every cell of its acquisition.
type Acquired struct {
	Cells []Cell
	// LeaveBy is the tick at which the drone must be out of the cells
	// unless the lease is renewed first (LeaveBy reports later values).
	LeaveBy int64
}

// Expired is emitted when the drone could not renew the lease of a cell it
// held in time: it must leave Cells now (it has MarginTicks before the
// lease ends) and no longer holds any of them. Cells lists the cells held
// at that moment.
type Expired struct {
	Cells []Cell
}

// VoteExpired is emitted by a voter whose vote for Holder on Cell ran out
// without a release or renewal: the voter is free to vote again.
type VoteExpired struct {
	Cell   Cell
	Holder algorithms.NodeID
}

// Unreliable implements algorithms.Unreliable: a RELEASE goes out as one
// plain frame to the quorum. Through the reliable delivery layer every
// voter would acknowledge it with a frame of its own, the largest share of
// lock traffic; a voter that misses it frees its vote when the lease runs
// out, which delays the next grant but never puts two drones in a cell.
func (Release) Unreliable() {}

// Unreliable implements algorithms.Unreliable: REQUEST, RENEW and YES go
// out as plain frames, and the protocol's own answers acknowledge them. A
// YES answers a REQUEST or RENEW; a requester asks a voter again when its
// answer has not come within Config.AnswerTicks (longer after every
// further ask while the voter has not voted, since a voter that holds the
// request queued answers only when it votes). Through the reliable
// delivery layer every voter acknowledged each REQUEST and RENEW with a
// frame of its own, and the requester each YES: on a lossy channel more
// than half the lock traffic. A lost, late or repeated YES never puts two
// drones in a cell: the requester counts a vote from the send time the
// YES echoes, which precedes the voter's grant, whenever it arrives.
func (Request) Unreliable() {}

// Unreliable implements algorithms.Unreliable (see Request.Unreliable).
func (Renew) Unreliable() {}

// Unreliable implements algorithms.Unreliable (see Request.Unreliable).
func (Yes) Unreliable() {}
