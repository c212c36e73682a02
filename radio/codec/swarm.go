package codec

import (
	"fmt"
	"math"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/membership"
	"github.com/skyquorum/skyquorum/swarm/timesync"
)

// The messages of the swarm node's own cores (swarm/...):
//
//	membership Heartbeat  SWARM_HEARTBEAT; incarnation, status, digest
//	timesync   Request    SWARM_TIME_REQUEST; t1
//	           Reply      SWARM_TIME_REPLY; t1, t2, hold = t3 - t2
//	airspace   Request    SWARM_MUTEX LEASE REQUEST; resource, timestamp, sent, incarnation
//	           Yes        LEASE YES; resource, timestamp, grant, sent, lease, incarnation
//	           Inquire    LEASE INQUIRE; resource, timestamp, grant, incarnation
//	           Relinquish LEASE RELINQUISH; resource, timestamp, grant, incarnation
//	           Release    LEASE RELEASE; resource, timestamp, incarnation
//	           Renew      LEASE RENEW; resource, timestamp, sent, incarnation
//	emergency  Emergency  SWARM_EMERGENCY COMMAND (Acked nil) or REPEAT
//	                      (Acked not nil: acked_len bytes of acked); issuer,
//	                      command_id, command = Op, mac
//	           Ack        SWARM_EMERGENCY ACK; issuer, command_id
//
// Decoding rejects any other field that is not zero. An Emergency whose
// bitmap exceeds the 225 bytes of acked (1800 members), and a Reply whose
// t3 is before t2 or more than hold's 32 bits (4.29 s) after it, encode to
// ErrTooLarge.

func swarmBindings() []Binding {
	return []Binding{
		heartbeatBinding(),

		// Clock synchronisation (swarm/timesync).
		timeRequestBinding(),
		timeReplyBinding(),

		// Lease-aware Maekawa over airspace cells (swarm/airspace).
		leaseBinding(swarm.SWARM_MUTEX_KIND_REQUEST, useSent,
			func(f leaseFields) airspace.Request {
				return airspace.Request{Cell: f.cell, TS: f.ts, Sent: f.sent, Inc: f.inc}
			},
			func(m airspace.Request) leaseFields {
				return leaseFields{cell: m.Cell, ts: m.TS, sent: m.Sent, inc: m.Inc}
			}),
		leaseBinding(swarm.SWARM_MUTEX_KIND_YES, useGrant|useSent|useLease,
			func(f leaseFields) airspace.Yes {
				return airspace.Yes{Cell: f.cell, TS: f.ts, Grant: f.grant, Sent: f.sent, Lease: f.lease, Inc: f.inc}
			},
			func(m airspace.Yes) leaseFields {
				return leaseFields{cell: m.Cell, ts: m.TS, grant: m.Grant, sent: m.Sent, lease: m.Lease, inc: m.Inc}
			}),
		leaseBinding(swarm.SWARM_MUTEX_KIND_INQUIRE, useGrant,
			func(f leaseFields) airspace.Inquire {
				return airspace.Inquire{Cell: f.cell, TS: f.ts, Grant: f.grant, Inc: f.inc}
			},
			func(m airspace.Inquire) leaseFields {
				return leaseFields{cell: m.Cell, ts: m.TS, grant: m.Grant, inc: m.Inc}
			}),
		leaseBinding(swarm.SWARM_MUTEX_KIND_RELINQUISH, useGrant,
			func(f leaseFields) airspace.Relinquish {
				return airspace.Relinquish{Cell: f.cell, TS: f.ts, Grant: f.grant, Inc: f.inc}
			},
			func(m airspace.Relinquish) leaseFields {
				return leaseFields{cell: m.Cell, ts: m.TS, grant: m.Grant, inc: m.Inc}
			}),
		leaseBinding(swarm.SWARM_MUTEX_KIND_RELEASE, 0,
			func(f leaseFields) airspace.Release { return airspace.Release{Cell: f.cell, TS: f.ts, Inc: f.inc} },
			func(m airspace.Release) leaseFields { return leaseFields{cell: m.Cell, ts: m.TS, inc: m.Inc} }),
		leaseBinding(swarm.SWARM_MUTEX_KIND_RENEW, useSent,
			func(f leaseFields) airspace.Renew {
				return airspace.Renew{Cell: f.cell, TS: f.ts, Sent: f.sent, Inc: f.inc}
			},
			func(m airspace.Renew) leaseFields {
				return leaseFields{cell: m.Cell, ts: m.TS, sent: m.Sent, inc: m.Inc}
			}),

		// Signed emergency commands (swarm/emergency).
		emergencyBinding(),
		emergencyAckBinding(),
	}
}

// heartbeatBinding binds the membership heartbeat to SWARM_HEARTBEAT,
// which has no field the heartbeat leaves unused.
func heartbeatBinding() Binding {
	return Bind(
		func(m membership.Heartbeat) *swarm.MessageSwarmHeartbeat {
			return &swarm.MessageSwarmHeartbeat{Incarnation: m.Incarnation, Status: m.Status, Digest: m.Digest}
		},
		func(d *swarm.MessageSwarmHeartbeat) (membership.Heartbeat, error) {
			return membership.Heartbeat{Incarnation: d.Incarnation, Status: d.Status, Digest: d.Digest}, nil
		})
}

// timeRequestBinding binds a time-sync request to SWARM_TIME_REQUEST.
func timeRequestBinding() Binding {
	return Bind(
		func(m timesync.Request) *swarm.MessageSwarmTimeRequest {
			return &swarm.MessageSwarmTimeRequest{T1: m.T1}
		},
		func(d *swarm.MessageSwarmTimeRequest) (timesync.Request, error) {
			return timesync.Request{T1: d.T1}, nil
		})
}

// timeReplyBinding binds a time-sync reply to SWARM_TIME_REPLY: t3 travels
// as hold, its distance from t2, which is 0 when the leader answers at
// once and then costs no byte on air.
func timeReplyBinding() Binding {
	return BindKinds([]*swarm.MessageSwarmTimeReply{{}},
		func(m timesync.Reply) (*swarm.MessageSwarmTimeReply, error) {
			hold := uint64(m.T3) - uint64(m.T2)
			if m.T3 < m.T2 || hold > math.MaxUint32 {
				return nil, fmt.Errorf("codec: time-sync reply with t3 %d not within 32 bits of ns after t2 %d: %w", m.T3, m.T2, ErrTooLarge)
			}
			return &swarm.MessageSwarmTimeReply{T1: m.T1, T2: m.T2, Hold: uint32(hold)}, nil
		},
		func(d *swarm.MessageSwarmTimeReply) (timesync.Reply, error) {
			t3 := d.T2 + int64(d.Hold)
			if t3 < d.T2 {
				return timesync.Reply{}, fmt.Errorf("codec: time-sync reply with t2 %d and hold %d overflows: %w", d.T2, d.Hold, ErrMalformed)
			}
			return timesync.Reply{T1: d.T1, T2: d.T2, T3: t3}, nil
		})
}

// leaseFields are the fields of a lease-aware Maekawa message; cell, ts
// and inc (the requester's incarnation) are always used.
type leaseFields struct {
	cell                        airspace.Cell
	ts, grant, sent, lease, inc uint32
}

// leaseUse names the optional SWARM_MUTEX fields a lease message uses.
type leaseUse uint8

const (
	useGrant leaseUse = 1 << iota
	useSent
	useLease
)

func leaseBinding[M algorithms.Message](kind swarm.SWARM_MUTEX_KIND, used leaseUse,
	build func(leaseFields) M, fields func(M) leaseFields) Binding {
	const alg = swarm.SWARM_MUTEX_ALGORITHM_LEASE
	return Bind(
		func(m M) *swarm.MessageSwarmMutex {
			f := fields(m)
			return &swarm.MessageSwarmMutex{Algorithm: alg, Kind: kind, Resource: uint16(f.cell),
				Timestamp: f.ts, Grant: f.grant, Sent: f.sent, Lease: f.lease, Incarnation: f.inc}
		},
		func(d *swarm.MessageSwarmMutex) (M, error) {
			var zero M
			if d.Node != 0 || (used&useGrant == 0 && d.Grant != 0) ||
				(used&useSent == 0 && d.Sent != 0) || (used&useLease == 0 && d.Lease != 0) {
				return zero, fmt.Errorf("codec: %s %s carries fields it does not use: %w", alg, kind, ErrMalformed)
			}
			return build(leaseFields{cell: airspace.Cell(d.Resource), ts: d.Timestamp,
				grant: d.Grant, sent: d.Sent, lease: d.Lease, inc: d.Incarnation}), nil
		})
}

type emMsg = swarm.MessageSwarmEmergency

const (
	emCommand = swarm.SWARM_EMERGENCY_KIND_COMMAND
	emRepeat  = swarm.SWARM_EMERGENCY_KIND_REPEAT
	emAck     = swarm.SWARM_EMERGENCY_KIND_ACK
)

var emAckedSize = len(emMsg{}.Acked)

// emergencyBinding binds a signed emergency command: COMMAND without a
// bitmap, REPEAT with one (possibly empty).
func emergencyBinding() Binding {
	return BindKinds([]*emMsg{{Kind: emCommand}, {Kind: emRepeat}},
		func(m emergency.Emergency) (*emMsg, error) {
			d := &emMsg{Kind: emCommand, Issuer: uint16(m.Cmd.Issuer), CommandId: m.Cmd.ID,
				Command: swarm.SWARM_EMERGENCY_COMMAND(m.Cmd.Op), Mac: m.Cmd.MAC}
			if m.Acked != nil {
				if len(m.Acked) > emAckedSize {
					return nil, fmt.Errorf("codec: emergency bitmap of %d bytes, at most %d (%d members) fit SWARM_EMERGENCY: %w",
						len(m.Acked), emAckedSize, 8*emAckedSize, ErrTooLarge)
				}
				d.Kind = emRepeat
				d.AckedLen = uint8(len(m.Acked))
				copy(d.Acked[:], m.Acked)
			}
			return d, nil
		},
		func(d *emMsg) (emergency.Emergency, error) {
			if d.Issued != 0 || int(d.AckedLen) > emAckedSize || !allZero(d.Acked[d.AckedLen:]) ||
				(d.Kind == emCommand && d.AckedLen != 0) || d.Command > 0xFF {
				return emergency.Emergency{}, fmt.Errorf("codec: SWARM_EMERGENCY %s carries fields it does not use: %w", d.Kind, ErrMalformed)
			}
			m := emergency.Emergency{Cmd: emergency.Command{
				Issuer: algorithms.NodeID(d.Issuer), ID: d.CommandId, Op: emergency.Op(d.Command), MAC: d.Mac,
			}}
			if d.Kind == emRepeat {
				m.Acked = append([]byte{}, d.Acked[:d.AckedLen]...)
			}
			return m, nil
		})
}

// emergencyAckBinding binds the acknowledgement of an emergency command.
func emergencyAckBinding() Binding {
	return Bind(
		func(m emergency.Ack) *emMsg {
			return &emMsg{Kind: emAck, Issuer: uint16(m.Issuer), CommandId: m.ID}
		},
		func(d *emMsg) (emergency.Ack, error) {
			if d.Issued != 0 || d.Command != 0 || d.Mac != [len(d.Mac)]byte{} || d.AckedLen != 0 || !allZero(d.Acked[:]) {
				return emergency.Ack{}, fmt.Errorf("codec: SWARM_EMERGENCY ACK carries fields it does not use: %w", ErrMalformed)
			}
			return emergency.Ack{Issuer: algorithms.NodeID(d.Issuer), ID: d.CommandId}, nil
		})
}
