package codec

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
)

// Binding ties one core message type to the swarm dialect message of its
// protocol family. Make one with Bind.
type Binding struct {
	name   string
	typ    reflect.Type
	family uint32
	keys   []uint16 // {0}: every message of the family not bound more precisely
	encode func(algorithms.Message) (message.Message, error)
	decode func(message.Message) (algorithms.Message, error)
	err    error
}

// Bind makes the Binding of core message type M to dialect message type D.
// encode fills the family message from a core message, including the
// fields that tell the family's message kinds apart (algorithm and kind,
// protocol and kind, …) but not the addressing fields (network_id,
// src_vehicle, dst_vehicle), which the codec sets; decode is its inverse.
//
// Bind calls encode on the zero M to learn which kind M is: a binding whose
// encode leaves the kind fields zero takes every message of the family that
// no other binding claims.
func Bind[M algorithms.Message, D message.Message](encode func(M) D, decode func(D) (M, error)) Binding {
	var zero M
	b := Binding{
		name: reflect.TypeFor[M]().String(),
		typ:  reflect.TypeFor[M](),
		encode: func(m algorithms.Message) (message.Message, error) {
			return encode(m.(M)), nil
		},
		decode: func(msg message.Message) (algorithms.Message, error) {
			d, ok := msg.(D)
			if !ok {
				return nil, fmt.Errorf("codec: %T is not %s: %w", msg, reflect.TypeFor[D](), ErrMalformed)
			}
			return decode(d)
		},
	}
	d := encode(zero)
	b.family = d.GetID()
	key, err := kindKey(d)
	if err != nil {
		b.err = fmt.Errorf("codec: bind %s: %w", b.name, err)
	}
	b.keys = []uint16{key}
	return b
}

// BindKinds is Bind for a core message type that travels as several kinds
// of its family, or whose encoding may not fit its family message. kinds
// are dialect messages with the kind fields set, one for each kind decode
// accepts (every one of them of the same family); encode returns one of
// them, or an error wrapping ErrTooLarge when the core message does not fit.
// A family of one kind (no kind fields) is given as one message.
func BindKinds[M algorithms.Message, D message.Message](kinds []D, encode func(M) (D, error), decode func(D) (M, error)) Binding {
	b := Binding{
		name: reflect.TypeFor[M]().String(),
		typ:  reflect.TypeFor[M](),
		encode: func(m algorithms.Message) (message.Message, error) {
			d, err := encode(m.(M))
			if err != nil {
				return nil, err
			}
			return d, nil
		},
		decode: func(msg message.Message) (algorithms.Message, error) {
			d, ok := msg.(D)
			if !ok {
				return nil, fmt.Errorf("codec: %T is not %s: %w", msg, reflect.TypeFor[D](), ErrMalformed)
			}
			return decode(d)
		},
	}
	if len(kinds) == 0 {
		b.err = fmt.Errorf("codec: bind %s: no kinds", b.name)
		return b
	}
	b.family = kinds[0].GetID()
	for _, d := range kinds {
		key, err := kindKey(d)
		if err == nil && ((key == 0 && len(kinds) > 1) || d.GetID() != b.family) {
			err = fmt.Errorf("kind %#x of message %d is not a kind of family %d", key, d.GetID(), b.family)
		}
		if err != nil {
			b.err = fmt.Errorf("codec: bind %s: %w", b.name, err)
			return b
		}
		b.keys = append(b.keys, key)
	}
	return b
}

// Bindings returns the bindings of every core message the radio carries
// today. A new core message is one more line here.
func Bindings() []Binding {
	bindings := []Binding{
		// Central server mutual exclusion (algorithms/mutex).
		mutexBinding(swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, swarm.SWARM_MUTEX_KIND_REQUEST,
			func(r mutex.Resource) mutex.CentralRequest { return mutex.CentralRequest{Resource: r} },
			func(m mutex.CentralRequest) mutex.Resource { return m.Resource }),
		mutexBinding(swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, swarm.SWARM_MUTEX_KIND_GRANT,
			func(r mutex.Resource) mutex.CentralGrant { return mutex.CentralGrant{Resource: r} },
			func(m mutex.CentralGrant) mutex.Resource { return m.Resource }),
		mutexBinding(swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, swarm.SWARM_MUTEX_KIND_RELEASE,
			func(r mutex.Resource) mutex.CentralRelease { return mutex.CentralRelease{Resource: r} },
			func(m mutex.CentralRelease) mutex.Resource { return m.Resource }),

		// Token ring mutual exclusion (algorithms/mutex).
		mutexBinding(swarm.SWARM_MUTEX_ALGORITHM_TOKEN_RING, swarm.SWARM_MUTEX_KIND_TOKEN,
			func(r mutex.Resource) mutex.Token { return mutex.Token{Resource: r} },
			func(m mutex.Token) mutex.Resource { return m.Resource }),

		// Ricart and Agrawala (algorithms/mutex).
		stampedBinding(swarm.SWARM_MUTEX_ALGORITHM_RICART_AGRAWALA, swarm.SWARM_MUTEX_KIND_REQUEST,
			func(r mutex.Resource, ts uint32) mutex.RicartRequest {
				return mutex.RicartRequest{Resource: r, Timestamp: ts}
			},
			func(m mutex.RicartRequest) (mutex.Resource, uint32) { return m.Resource, m.Timestamp }),
		stampedBinding(swarm.SWARM_MUTEX_ALGORITHM_RICART_AGRAWALA, swarm.SWARM_MUTEX_KIND_REPLY,
			func(r mutex.Resource, ts uint32) mutex.RicartReply {
				return mutex.RicartReply{Resource: r, Timestamp: ts}
			},
			func(m mutex.RicartReply) (mutex.Resource, uint32) { return m.Resource, m.Timestamp }),

		// Maekawa with Sanders' rules (algorithms/mutex).
		stampedBinding(swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA, swarm.SWARM_MUTEX_KIND_REQUEST,
			func(r mutex.Resource, ts uint32) mutex.MaekawaRequest {
				return mutex.MaekawaRequest{Resource: r, Timestamp: ts}
			},
			func(m mutex.MaekawaRequest) (mutex.Resource, uint32) { return m.Resource, m.Timestamp }),
		mutexBinding(swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA, swarm.SWARM_MUTEX_KIND_YES,
			func(r mutex.Resource) mutex.MaekawaYes { return mutex.MaekawaYes{Resource: r} },
			func(m mutex.MaekawaYes) mutex.Resource { return m.Resource }),
		stampedBinding(swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA, swarm.SWARM_MUTEX_KIND_INQUIRE,
			func(r mutex.Resource, ts uint32) mutex.MaekawaInquire {
				return mutex.MaekawaInquire{Resource: r, Timestamp: ts}
			},
			func(m mutex.MaekawaInquire) (mutex.Resource, uint32) { return m.Resource, m.Timestamp }),
		mutexBinding(swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA, swarm.SWARM_MUTEX_KIND_RELINQUISH,
			func(r mutex.Resource) mutex.MaekawaRelinquish { return mutex.MaekawaRelinquish{Resource: r} },
			func(m mutex.MaekawaRelinquish) mutex.Resource { return m.Resource }),
		mutexBinding(swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA, swarm.SWARM_MUTEX_KIND_RELEASE,
			func(r mutex.Resource) mutex.MaekawaRelease { return mutex.MaekawaRelease{Resource: r} },
			func(m mutex.MaekawaRelease) mutex.Resource { return m.Resource }),

		// Maekawa over plain frames, acknowledged by its own answers
		// (algorithms/mutex).
		implicitBinding(swarm.SWARM_MUTEX_KIND_REQUEST, false,
			func(r mutex.Resource, ts, _ uint32) mutex.ImplicitRequest {
				return mutex.ImplicitRequest{Resource: r, TS: ts}
			},
			func(m mutex.ImplicitRequest) (mutex.Resource, uint32, uint32) { return m.Resource, m.TS, 0 }),
		implicitBinding(swarm.SWARM_MUTEX_KIND_YES, true,
			func(r mutex.Resource, ts, g uint32) mutex.ImplicitYes {
				return mutex.ImplicitYes{Resource: r, TS: ts, Grant: g}
			},
			func(m mutex.ImplicitYes) (mutex.Resource, uint32, uint32) { return m.Resource, m.TS, m.Grant }),
		implicitBinding(swarm.SWARM_MUTEX_KIND_INQUIRE, true,
			func(r mutex.Resource, ts, g uint32) mutex.ImplicitInquire {
				return mutex.ImplicitInquire{Resource: r, TS: ts, Grant: g}
			},
			func(m mutex.ImplicitInquire) (mutex.Resource, uint32, uint32) { return m.Resource, m.TS, m.Grant }),
		implicitBinding(swarm.SWARM_MUTEX_KIND_RELINQUISH, true,
			func(r mutex.Resource, ts, g uint32) mutex.ImplicitRelinquish {
				return mutex.ImplicitRelinquish{Resource: r, TS: ts, Grant: g}
			},
			func(m mutex.ImplicitRelinquish) (mutex.Resource, uint32, uint32) { return m.Resource, m.TS, m.Grant }),
		implicitBinding(swarm.SWARM_MUTEX_KIND_FAILED, false,
			func(r mutex.Resource, ts, _ uint32) mutex.ImplicitQueued {
				return mutex.ImplicitQueued{Resource: r, TS: ts}
			},
			func(m mutex.ImplicitQueued) (mutex.Resource, uint32, uint32) { return m.Resource, m.TS, 0 }),
		implicitBinding(swarm.SWARM_MUTEX_KIND_RELEASE, false,
			func(r mutex.Resource, ts, _ uint32) mutex.ImplicitRelease {
				return mutex.ImplicitRelease{Resource: r, TS: ts}
			},
			func(m mutex.ImplicitRelease) (mutex.Resource, uint32, uint32) { return m.Resource, m.TS, 0 }),

		// Ring election, Chang and Roberts (algorithms/election).
		electionBinding(swarm.SWARM_ELECTION_ALGORITHM_RING, swarm.SWARM_ELECTION_KIND_ELECTION,
			func(term uint32, id algorithms.NodeID) election.RingElection {
				return election.RingElection{Term: term, Candidate: id}
			},
			func(m election.RingElection) (uint32, algorithms.NodeID) { return m.Term, m.Candidate }),
		electionBinding(swarm.SWARM_ELECTION_ALGORITHM_RING, swarm.SWARM_ELECTION_KIND_COORDINATOR,
			func(term uint32, id algorithms.NodeID) election.RingElected {
				return election.RingElected{Term: term, Leader: id}
			},
			func(m election.RingElected) (uint32, algorithms.NodeID) { return m.Term, m.Leader }),
		ringAckBinding(),

		// Bully election, Garcia-Molina (algorithms/election).
		termBinding(swarm.SWARM_ELECTION_ALGORITHM_BULLY, swarm.SWARM_ELECTION_KIND_ELECTION,
			func(term uint32) election.BullyElection { return election.BullyElection{Term: term} },
			func(m election.BullyElection) uint32 { return m.Term }),
		termBinding(swarm.SWARM_ELECTION_ALGORITHM_BULLY, swarm.SWARM_ELECTION_KIND_ANSWER,
			func(term uint32) election.BullyAnswer { return election.BullyAnswer{Term: term} },
			func(m election.BullyAnswer) uint32 { return m.Term }),
		electionBinding(swarm.SWARM_ELECTION_ALGORITHM_BULLY, swarm.SWARM_ELECTION_KIND_COORDINATOR,
			func(term uint32, id algorithms.NodeID) election.BullyCoordinator {
				return election.BullyCoordinator{Term: term, Leader: id}
			},
			func(m election.BullyCoordinator) (uint32, algorithms.NodeID) { return m.Term, m.Leader }),
		// The command log's bully sends a new leader's COORDINATOR as one
		// unacknowledged broadcast, which its receivers handle apart from
		// the bully's own (algorithms/cmdlog).
		electionBinding(swarm.SWARM_ELECTION_ALGORITHM_BULLY, swarm.SWARM_ELECTION_KIND_ANNOUNCE,
			func(term uint32, id algorithms.NodeID) cmdlog.Coordinator {
				return cmdlog.Coordinator{BullyCoordinator: election.BullyCoordinator{Term: term, Leader: id}}
			},
			func(m cmdlog.Coordinator) (uint32, algorithms.NodeID) { return m.Term, m.Leader }),
	}
	// Multicast (algorithms/multicast) and the command log
	// (algorithms/cmdlog), on SWARM_MULTICAST: see multicast.go.
	bindings = append(bindings, multicastBindings()...)
	bindings = append(bindings, cmdlogBindings()...)
	// The swarm node's cores (swarm/membership, swarm/timesync,
	// swarm/airspace, swarm/emergency): see swarm.go.
	bindings = append(bindings, swarmBindings()...)
	// Show upload (swarm/upload): see upload.go.
	return append(bindings, uploadBindings()...)
}

// mutexBinding binds a mutual exclusion message that carries only a
// resource. Other field sets get their own helper or a direct Bind.
func mutexBinding[M algorithms.Message](alg swarm.SWARM_MUTEX_ALGORITHM, kind swarm.SWARM_MUTEX_KIND,
	build func(mutex.Resource) M, resource func(M) mutex.Resource) Binding {
	return mutexFieldsBinding(alg, kind, false,
		func(r mutex.Resource, _ uint32) M { return build(r) },
		func(m M) (mutex.Resource, uint32) { return resource(m), 0 })
}

// stampedBinding binds a mutual exclusion message that carries a resource
// and a Lamport timestamp.
func stampedBinding[M algorithms.Message](alg swarm.SWARM_MUTEX_ALGORITHM, kind swarm.SWARM_MUTEX_KIND,
	build func(mutex.Resource, uint32) M, fields func(M) (mutex.Resource, uint32)) Binding {
	return mutexFieldsBinding(alg, kind, true, build, fields)
}

// implicitBinding binds a message of Maekawa over plain frames: a
// resource, a timestamp and, when granted, a grant number; decoding
// rejects any other field set.
func implicitBinding[M algorithms.Message](kind swarm.SWARM_MUTEX_KIND, granted bool,
	build func(mutex.Resource, uint32, uint32) M, fields func(M) (mutex.Resource, uint32, uint32)) Binding {
	const alg = swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA_IMPLICIT
	return Bind(
		func(m M) *swarm.MessageSwarmMutex {
			r, ts, g := fields(m)
			return &swarm.MessageSwarmMutex{Algorithm: alg, Kind: kind, Resource: uint16(r), Timestamp: ts, Grant: g}
		},
		func(d *swarm.MessageSwarmMutex) (M, error) {
			var zero M
			if (!granted && d.Grant != 0) || d.Lease != 0 || d.Node != 0 || d.Sent != 0 || d.Incarnation != 0 {
				return zero, fmt.Errorf("codec: %s %s carries fields it does not use: %w", alg, kind, ErrMalformed)
			}
			return build(mutex.Resource(d.Resource), d.Timestamp, d.Grant), nil
		})
}

// mutexFieldsBinding binds a mutual exclusion message that carries a
// resource and, when stamped, a timestamp; decoding rejects any other
// field set (lease, node, grant, sent, incarnation, and timestamp when
// not stamped).
func mutexFieldsBinding[M algorithms.Message](alg swarm.SWARM_MUTEX_ALGORITHM, kind swarm.SWARM_MUTEX_KIND, stamped bool,
	build func(mutex.Resource, uint32) M, fields func(M) (mutex.Resource, uint32)) Binding {
	return Bind(
		func(m M) *swarm.MessageSwarmMutex {
			r, ts := fields(m)
			return &swarm.MessageSwarmMutex{Algorithm: alg, Kind: kind, Resource: uint16(r), Timestamp: ts}
		},
		func(d *swarm.MessageSwarmMutex) (M, error) {
			var zero M
			if (!stamped && d.Timestamp != 0) || d.Lease != 0 || d.Node != 0 || d.Grant != 0 || d.Sent != 0 ||
				d.Incarnation != 0 {
				return zero, fmt.Errorf("codec: %s %s carries fields it does not use: %w", alg, kind, ErrMalformed)
			}
			return build(mutex.Resource(d.Resource), d.Timestamp), nil
		})
}

// termBinding binds an election message that carries only a term.
func termBinding[M algorithms.Message](alg swarm.SWARM_ELECTION_ALGORITHM, kind swarm.SWARM_ELECTION_KIND,
	build func(uint32) M, term func(M) uint32) Binding {
	return electionFieldsBinding(alg, kind, false,
		func(t uint32, _ algorithms.NodeID) M { return build(t) },
		func(m M) (uint32, algorithms.NodeID) { return term(m), 0 })
}

// electionBinding binds an election message that carries a term and a
// vehicle ID (the candidate or the leader).
func electionBinding[M algorithms.Message](alg swarm.SWARM_ELECTION_ALGORITHM, kind swarm.SWARM_ELECTION_KIND,
	build func(uint32, algorithms.NodeID) M, fields func(M) (uint32, algorithms.NodeID)) Binding {
	return electionFieldsBinding(alg, kind, true, build, fields)
}

// electionFieldsBinding binds an election message that carries a term and,
// when withID, a vehicle ID in candidate; decoding rejects any other field
// set (acked, and candidate when not withID).
func electionFieldsBinding[M algorithms.Message](alg swarm.SWARM_ELECTION_ALGORITHM, kind swarm.SWARM_ELECTION_KIND, withID bool,
	build func(uint32, algorithms.NodeID) M, fields func(M) (uint32, algorithms.NodeID)) Binding {
	return Bind(
		func(m M) *swarm.MessageSwarmElection {
			term, id := fields(m)
			return &swarm.MessageSwarmElection{Algorithm: alg, Kind: kind, Term: term, Candidate: uint16(id)}
		},
		func(d *swarm.MessageSwarmElection) (M, error) {
			var zero M
			if (!withID && d.Candidate != 0) || d.Acked != 0 {
				return zero, fmt.Errorf("codec: %s %s carries fields it does not use: %w", alg, kind, ErrMalformed)
			}
			return build(d.Term, algorithms.NodeID(d.Candidate)), nil
		})
}

// ringAckBinding binds the ring election's link-level ACK: acked names the
// kind of the message acknowledged, ELECTION or COORDINATOR (ELECTED).
func ringAckBinding() Binding {
	return Bind(
		func(m election.RingAck) *swarm.MessageSwarmElection {
			d := &swarm.MessageSwarmElection{
				Algorithm: swarm.SWARM_ELECTION_ALGORITHM_RING, Kind: swarm.SWARM_ELECTION_KIND_ACK,
				Term: m.Term, Candidate: uint16(m.ID), Acked: swarm.SWARM_ELECTION_KIND_ELECTION,
			}
			if m.Elected {
				d.Acked = swarm.SWARM_ELECTION_KIND_COORDINATOR
			}
			return d
		},
		func(d *swarm.MessageSwarmElection) (election.RingAck, error) {
			m := election.RingAck{Term: d.Term, ID: algorithms.NodeID(d.Candidate)}
			switch d.Acked {
			case swarm.SWARM_ELECTION_KIND_ELECTION:
			case swarm.SWARM_ELECTION_KIND_COORDINATOR:
				m.Elected = true
			default:
				return election.RingAck{}, fmt.Errorf("codec: ring ACK acknowledges kind %s, not ELECTION or COORDINATOR: %w", d.Acked, ErrMalformed)
			}
			return m, nil
		})
}

// Registry finds the binding of a core message or of a dialect message.
type Registry struct {
	byType map[reflect.Type]*Binding
	byKey  map[familyKey]*Binding
}

type familyKey struct {
	family uint32
	key    uint16
}

// NewRegistry indexes bindings; it fails when two bindings claim the same
// core type or the same dialect message kind.
func NewRegistry(bindings []Binding) (*Registry, error) {
	r := &Registry{byType: map[reflect.Type]*Binding{}, byKey: map[familyKey]*Binding{}}
	var errs []error
	for i := range bindings {
		b := &bindings[i]
		if b.err != nil {
			errs = append(errs, b.err)
			continue
		}
		if old, dup := r.byType[b.typ]; dup {
			errs = append(errs, fmt.Errorf("codec: %s bound twice (%s)", b.name, old.name))
			continue
		}
		var clash []error
		for _, key := range b.keys {
			if old, dup := r.byKey[familyKey{b.family, key}]; dup {
				clash = append(clash, fmt.Errorf("codec: %s and %s both claim message %d kind %#x", b.name, old.name, b.family, key))
			}
		}
		if len(clash) > 0 {
			errs = append(errs, clash...)
			continue
		}
		r.byType[b.typ] = b
		for _, key := range b.keys {
			r.byKey[familyKey{b.family, key}] = b
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func (r *Registry) forMessage(m algorithms.Message) (*Binding, error) {
	if m == nil {
		return nil, fmt.Errorf("codec: nil message: %w", ErrUnknown)
	}
	b, ok := r.byType[reflect.TypeOf(m)]
	if !ok {
		return nil, fmt.Errorf("codec: %T (%s) has no binding; add one to codec.Bindings: %w", m, m.Kind(), ErrUnknown)
	}
	return b, nil
}

func (r *Registry) forDialect(msg message.Message) (*Binding, error) {
	key, err := kindKey(msg)
	if err != nil {
		return nil, err
	}
	if b, ok := r.byKey[familyKey{msg.GetID(), key}]; ok {
		return b, nil
	}
	if b, ok := r.byKey[familyKey{msg.GetID(), 0}]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("codec: message %d kind %#x has no binding: %w", msg.GetID(), key, ErrUnknown)
}

// kindKey returns the value of the fields that tell the kinds of a family
// apart, 0 for families of one kind.
func kindKey(msg message.Message) (uint16, error) {
	switch m := msg.(type) {
	case *swarm.MessageSwarmMutex:
		return pair(uint64(m.Algorithm), uint64(m.Kind))
	case *swarm.MessageSwarmElection:
		return pair(uint64(m.Algorithm), uint64(m.Kind))
	case *swarm.MessageSwarmMulticast:
		return pair(uint64(m.Protocol), uint64(m.Kind))
	case *swarm.MessageSwarmAck:
		if m.Kind == swarm.SWARM_ACK_KIND_ACK {
			return 0, fmt.Errorf("codec: SWARM_ACK kind ACK belongs to reliable delivery frames, not to a core: %w", ErrUnknown)
		}
		return pair(0, uint64(m.Kind))
	case *swarm.MessageSwarmShowControl:
		return pair(0, uint64(m.Kind))
	case *swarm.MessageSwarmEmergency:
		return pair(0, uint64(m.Kind))
	case *swarm.MessageSwarmMember, *swarm.MessageSwarmShowChunk, *swarm.MessageSwarmHeartbeat,
		*swarm.MessageSwarmTimeRequest, *swarm.MessageSwarmTimeReply,
		*swarm.MessageSwarmShowOffer, *swarm.MessageSwarmShowSymbol, *swarm.MessageSwarmShowNeed:
		return 0, nil
	case nil:
		return 0, fmt.Errorf("codec: nil dialect message: %w", ErrUnknown)
	default:
		return 0, fmt.Errorf("codec: message %d is not a swarm family message: %w", msg.GetID(), ErrUnknown)
	}
}

func pair(hi, lo uint64) (uint16, error) {
	if hi > 0xFF || lo > 0xFF {
		return 0, fmt.Errorf("codec: kind fields %d, %d exceed one byte: %w", hi, lo, ErrMalformed)
	}
	return uint16(hi)<<8 | uint16(lo), nil
}

// addressing returns pointers to the fields every swarm family message
// carries: network_id, src_vehicle, dst_vehicle.
func addressing(msg message.Message) (network *uint8, src, dst *uint16, ok bool) {
	switch m := msg.(type) {
	case *swarm.MessageSwarmMutex:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmElection:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmMulticast:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmAck:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmMember:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmEmergency:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmShowControl:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmShowChunk:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmData:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmHeartbeat:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmTimeRequest:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmTimeReply:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmShowOffer:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmShowSymbol:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	case *swarm.MessageSwarmShowNeed:
		return &m.NetworkId, &m.SrcVehicle, &m.DstVehicle, true
	}
	return nil, nil, nil, false
}

// Addressing returns the network, sender and destination of a swarm
// dialect message; ok is false for messages of other dialects.
func Addressing(msg message.Message) (h Header, ok bool) {
	n, s, d, ok := addressing(msg)
	if !ok {
		return Header{}, false
	}
	return Header{Network: *n, From: algorithms.NodeID(*s), To: algorithms.NodeID(*d)}, true
}
