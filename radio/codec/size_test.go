package codec_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/algorithms/multicast"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect"
	radiowire "github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/membership"
	"github.com/skyquorum/skyquorum/swarm/timesync"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// gen draws a core message: every field random when zero is false (each
// one zero, small or full-width, so that trailing zero truncation ends the
// payload at every field), every field zero when zero is true.
type gen func(r *rand.Rand, zero bool) algorithms.Message

func fill[M algorithms.Message]() gen {
	return func(r *rand.Rand, zero bool) algorithms.Message {
		var m M
		fillValue(r, reflect.ValueOf(&m).Elem(), zero)
		return m
	}
}

// generators has one entry per core message type the codec binds.
var generators = map[reflect.Type]gen{
	reflect.TypeFor[mutex.CentralRequest]():      fill[mutex.CentralRequest](),
	reflect.TypeFor[mutex.CentralGrant]():        fill[mutex.CentralGrant](),
	reflect.TypeFor[mutex.CentralRelease]():      fill[mutex.CentralRelease](),
	reflect.TypeFor[mutex.Token]():               fill[mutex.Token](),
	reflect.TypeFor[mutex.RicartRequest]():       fill[mutex.RicartRequest](),
	reflect.TypeFor[mutex.RicartReply]():         fill[mutex.RicartReply](),
	reflect.TypeFor[mutex.MaekawaRequest]():      fill[mutex.MaekawaRequest](),
	reflect.TypeFor[mutex.MaekawaYes]():          fill[mutex.MaekawaYes](),
	reflect.TypeFor[mutex.MaekawaInquire]():      fill[mutex.MaekawaInquire](),
	reflect.TypeFor[mutex.MaekawaRelinquish]():   fill[mutex.MaekawaRelinquish](),
	reflect.TypeFor[mutex.MaekawaRelease]():      fill[mutex.MaekawaRelease](),
	reflect.TypeFor[mutex.ImplicitRequest]():     fill[mutex.ImplicitRequest](),
	reflect.TypeFor[mutex.ImplicitYes]():         fill[mutex.ImplicitYes](),
	reflect.TypeFor[mutex.ImplicitInquire]():     fill[mutex.ImplicitInquire](),
	reflect.TypeFor[mutex.ImplicitRelinquish]():  fill[mutex.ImplicitRelinquish](),
	reflect.TypeFor[mutex.ImplicitRelease]():     fill[mutex.ImplicitRelease](),
	reflect.TypeFor[mutex.ImplicitQueued]():      fill[mutex.ImplicitQueued](),
	reflect.TypeFor[election.RingElection]():     fill[election.RingElection](),
	reflect.TypeFor[election.RingElected]():      fill[election.RingElected](),
	reflect.TypeFor[election.RingAck]():          fill[election.RingAck](),
	reflect.TypeFor[election.BullyElection]():    fill[election.BullyElection](),
	reflect.TypeFor[election.BullyAnswer]():      fill[election.BullyAnswer](),
	reflect.TypeFor[election.BullyCoordinator](): fill[election.BullyCoordinator](),
	reflect.TypeFor[cmdlog.Coordinator]():        fill[cmdlog.Coordinator](),
	reflect.TypeFor[multicast.Data]():            fill[multicast.Data](),
	reflect.TypeFor[multicast.Relayed]():         fill[multicast.Relayed](),
	reflect.TypeFor[multicast.Repair]():          fill[multicast.Repair](),
	reflect.TypeFor[multicast.Ack]():             fill[multicast.Ack](),
	reflect.TypeFor[multicast.Nak]():             fill[multicast.Nak](),
	reflect.TypeFor[multicast.Proposed]():        fill[multicast.Proposed](),
	reflect.TypeFor[multicast.Settled]():         fill[multicast.Settled](),
	reflect.TypeFor[multicast.Collect]():         fill[multicast.Collect](),
	reflect.TypeFor[multicast.BasicData]():       fill[multicast.BasicData](),
	reflect.TypeFor[cmdlog.Append]():             fill[cmdlog.Append](),
	reflect.TypeFor[cmdlog.Commit]():             fill[cmdlog.Commit](),
	reflect.TypeFor[cmdlog.Ack]():                fill[cmdlog.Ack](),
	reflect.TypeFor[cmdlog.Nak]():                fill[cmdlog.Nak](),
	reflect.TypeFor[cmdlog.Stale]():              fill[cmdlog.Stale](),
	reflect.TypeFor[cmdlog.Recover]():            fill[cmdlog.Recover](),
	reflect.TypeFor[cmdlog.Promise]():            fill[cmdlog.Promise](),
	reflect.TypeFor[cmdlog.Fetch]():              fill[cmdlog.Fetch](),
	reflect.TypeFor[cmdlog.Entries]():            fill[cmdlog.Entries](),
	reflect.TypeFor[membership.Heartbeat]():      fill[membership.Heartbeat](),
	reflect.TypeFor[timesync.Request]():          fill[timesync.Request](),
	reflect.TypeFor[timesync.Reply]():            timeReply,
	reflect.TypeFor[airspace.Request]():          fill[airspace.Request](),
	reflect.TypeFor[airspace.Yes]():              fill[airspace.Yes](),
	reflect.TypeFor[airspace.Inquire]():          fill[airspace.Inquire](),
	reflect.TypeFor[airspace.Relinquish]():       fill[airspace.Relinquish](),
	reflect.TypeFor[airspace.Release]():          fill[airspace.Release](),
	reflect.TypeFor[airspace.Renew]():            fill[airspace.Renew](),
	reflect.TypeFor[emergency.Emergency]():       fill[emergency.Emergency](),
	reflect.TypeFor[emergency.Ack]():             fill[emergency.Ack](),
	reflect.TypeFor[upload.Offer]():              uploadOffer,
	reflect.TypeFor[upload.Symbol]():             fill[upload.Symbol](),
	reflect.TypeFor[upload.Need]():               uploadNeed,
}

// uploadOffer draws an offer: its layout's fields are ints, which fill
// does not draw.
func uploadOffer(r *rand.Rand, zero bool) algorithms.Message {
	m := upload.Offer{Layout: upload.Layout{Size: int(scalar(r, zero, 32)), Blocks: int(scalar(r, zero, 16))}}
	fillValue(r, reflect.ValueOf(&m.Hash).Elem(), zero)
	fillValue(r, reflect.ValueOf(&m.Round).Elem(), zero)
	fillValue(r, reflect.ValueOf(&m.Poll).Elem(), zero)
	if !zero && r.IntN(2) == 1 {
		m.Scheme = upload.NACK
	}
	return m
}

// uploadNeed draws a report whose entries are all counts or all bitmaps,
// as a receiver sends them.
func uploadNeed(r *rand.Rand, zero bool) algorithms.Message {
	m := upload.Need{Show: uint32(scalar(r, zero, 32)), Round: uint8(scalar(r, zero, 8)), Unknown: !zero && r.IntN(4) == 0}
	if zero {
		return m
	}
	nack := r.IntN(2) == 1
	for range r.IntN(4) {
		e := upload.Entry{Block: uint16(scalar(r, false, 16))}
		if nack {
			e.Missing = make([]byte, 1+r.IntN(40))
			for i := range e.Missing {
				e.Missing[i] = uint8(scalar(r, false, 8))
			}
		} else {
			e.Count = uint8(scalar(r, false, 8))
		}
		m.Entries = append(m.Entries, e)
	}
	return m
}

// timeReply draws a time-sync reply whose t3 is at most 32 bits of
// nanoseconds after t2, as the codec carries it and the core accepts it.
func timeReply(r *rand.Rand, zero bool) algorithms.Message {
	m := fill[timesync.Reply]()(r, zero).(timesync.Reply)
	if m.T2 > 0 {
		m.T2 -= math.MaxUint32 // room for the hold
	}
	m.T3 = m.T2 + int64(scalar(r, zero, 32))
	return m
}

// bodies are the multicast bodies a Data, Relayed or Repair carries.
var bodies = []reflect.Type{
	reflect.TypeFor[multicast.Plain](),
	reflect.TypeFor[multicast.Stamped](),
	reflect.TypeFor[multicast.Sequenced](),
	reflect.TypeFor[multicast.Order](),
	reflect.TypeFor[multicast.Tagged](),
	reflect.TypeFor[multicast.Agreed](),
}

var bodyType = reflect.TypeFor[multicast.Body]()

// fillValue sets v, and everything it holds, to random values: small
// slices (at most 3 elements, 40 bytes) so that every message fits.
func fillValue(r *rand.Rand, v reflect.Value, zero bool) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue // not on air (a repeat mark)
			}
			fillValue(r, v.Field(i), zero)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillValue(r, v.Index(i), zero)
		}
	case reflect.Slice:
		if zero {
			return
		}
		n := r.IntN(4)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			n = r.IntN(41)
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fillValue(r, v.Index(i), zero)
		}
	case reflect.Interface:
		if v.Type() != bodyType {
			panic(fmt.Sprintf("no generator for a field of type %s", v.Type()))
		}
		// A multicast message needs a body, also when zero.
		b := reflect.New(bodies[r.IntN(len(bodies))]).Elem()
		fillValue(r, b, zero)
		v.Set(b)
	case reflect.Bool:
		v.SetBool(!zero && r.IntN(2) == 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(scalar(r, zero, v.Type().Bits()))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(scalar(r, zero, v.Type().Bits())))
	default:
		panic(fmt.Sprintf("no generator for a field of kind %s", v.Kind()))
	}
}

// scalar is zero, a small value or any value of the width.
func scalar(r *rand.Rand, zero bool, bits int) uint64 {
	if zero {
		return 0
	}
	switch r.IntN(3) {
	case 0:
		return 0
	case 1:
		return uint64(1 + r.IntN(255))
	}
	return r.Uint64() >> (64 - bits)
}

// onAir returns the bytes of the MAVLink 2 frames the radio writes for
// msgs, signed or not.
func onAir(t *testing.T, enc *radiowire.Encoder, signed bool, msgs ...message.Message) int {
	t.Helper()
	var sig *radiowire.Signature
	if signed {
		sig = &radiowire.Signature{Key: &radiowire.Key{1}, LinkID: 1, Timestamp: 1}
	}
	n := 0
	for _, m := range msgs {
		b, err := enc.Encode(m, sig)
		require.NoError(t, err)
		n += len(b)
	}
	return n
}

// TestSimulatorCountsWhatTheWireCarries checks, for every core message the
// codec binds, with random and with zero fields, that the bytes the
// simulator counts on air for it, sent on its own and inside a reliable
// delivery frame, are the bytes of the frames the radio writes.
func TestSimulatorCountsWhatTheWireCarries(t *testing.T) {
	c := newCodec(t)
	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	enc := radiowire.NewEncoder(rw, 1, 1)
	for _, b := range codec.Bindings() {
		typ := codec.BindingType(b)
		if _, ok := generators[typ]; !ok {
			t.Errorf("no generator for %s: add one to generators", typ)
		}
	}
	runs := seeds.Count(t, 200)
	for _, signed := range []bool{true, false} {
		cfg := sim.Config{Wire: c, Unsigned: !signed}
		for seed := range uint64(runs) {
			r := rand.New(rand.NewPCG(seed, 0x512e))
			for _, b := range codec.Bindings() {
				typ := codec.BindingType(b)
				g := generators[typ]
				if g == nil {
					continue
				}
				m := g(r, seed%4 == 0)
				from := algorithms.NodeID(scalar(r, false, 16))
				to := algorithms.Everyone
				var dst []algorithms.NodeID
				if r.IntN(2) == 0 {
					to = algorithms.NodeID(1 + r.IntN(250))
					dst = []algorithms.NodeID{to}
				}

				msg, err := c.EncodeMessage(codec.Header{From: from, To: to}, m)
				require.NoError(t, err, "seed %d: %s %+v", seed, typ, m)
				got, err := cfg.RawBytes(from, dst, m)
				require.NoError(t, err, "seed %d: %s %+v", seed, typ, m)
				require.Equal(t, onAir(t, enc, signed, msg), got,
					"seed %d, signed %v: %s sent raw (Size %d): %+v", seed, signed, typ, m.Size(), m)

				f := &arq.Frame{From: from, Inc: uint32(scalar(r, seed%4 == 0, 32)), Payload: m,
					Entries: []arq.Entry{{To: to, Seq: uint32(scalar(r, false, 14)), Low: 1}}}
				for range r.IntN(3) {
					f.Acks = append(f.Acks, arq.Ack{To: algorithms.NodeID(1 + r.IntN(250)), Cum: uint32(scalar(r, false, 14))})
				}
				msgs, err := c.EncodeFrame(f)
				require.NoError(t, err, "seed %d: %s %+v", seed, typ, m)
				got, err = cfg.ArqBytes(f)
				require.NoError(t, err, "seed %d: %s %+v", seed, typ, m)
				require.Equal(t, onAir(t, enc, signed, msgs...), got,
					"seed %d, signed %v: %s in a frame (Size %d): %+v", seed, signed, typ, f.Size(), f)
			}
		}
	}
	t.Logf("%d message types, %d seeds", len(generators), runs)
}

// addressBytes are src_vehicle and dst_vehicle, which the swarm's airtime
// budgets add to a core message's Size.
const addressBytes = 4

// budgeted are the core messages whose Size sets an airtime budget (the
// heartbeat period, the time-sync poll period and its correction for the
// reply's longer airtime), each with every field at full width.
var budgeted = []algorithms.Message{
	membership.Heartbeat{Incarnation: math.MaxUint32, Status: math.MaxUint8, Digest: math.MaxUint16},
	timesync.Request{T1: -1},
	timesync.Reply{T1: -1, T2: -1, T3: math.MaxUint32 - 1},
}

// TestBudgetedSizesAreTheLongestOnAir checks that the messages the swarm
// budgets airtime for report, with the two vehicle IDs, the longest
// payload they take on air: never shorter than one the radio writes, and
// equal to it at full width.
func TestBudgetedSizesAreTheLongestOnAir(t *testing.T) {
	c := newCodec(t)
	for _, full := range budgeted {
		typ := reflect.TypeOf(full)
		want := full.Size() + addressBytes
		n, err := c.MessageBytes(0xFFFE, algorithms.Everyone, full)
		require.NoError(t, err)
		assert.Equal(t, n, want, "%s at full width: %d bytes on air, Size %d + %d", typ, n, full.Size(), addressBytes)
		if reply, ok := full.(timesync.Reply); ok {
			// The reply as the core sends it, t3 = t2: hold trimmed, 4
			// bytes shorter, as timesync's airtime correction counts it.
			reply.T3 = reply.T2
			n, err := c.MessageBytes(0xFFFE, algorithms.Everyone, reply)
			require.NoError(t, err)
			assert.Equal(t, want-4, n, "a reply answered at once")
		}
		for seed := range uint64(seeds.Count(t, 200)) {
			r := rand.New(rand.NewPCG(seed, 0xb4d9))
			m := generators[typ](r, false)
			n, err := c.MessageBytes(algorithms.NodeID(scalar(r, false, 16)), algorithms.NodeID(scalar(r, false, 16)), m)
			require.NoError(t, err)
			require.LessOrEqual(t, n, want, "seed %d: %s %+v: %d bytes on air", seed, typ, m, n)
		}
	}
}
