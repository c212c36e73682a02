package algorithms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

type msgA struct{}

func (msgA) Kind() string { return "A" }
func (msgA) Size() int    { return 1 }

type msgB struct{}

func (msgB) Kind() string { return "B" }
func (msgB) Size() int    { return 1 }

// only accepts one message type and counts what it sees.
type only[M algorithms.Message] struct {
	algorithms.Outbox
	got, ticks, down int
}

func (o *only[M]) Step(_ algorithms.NodeID, m algorithms.Message) error {
	if _, ok := m.(M); !ok {
		return algorithms.Unknown("only", m)
	}
	o.got++
	o.Send(nil, m)
	o.Emit(o.got)
	return nil
}
func (o *only[M]) Tick()                      { o.ticks++ }
func (o *only[M]) PeerDown(algorithms.NodeID) { o.down++ }
func (o *only[M]) PeerUp(algorithms.NodeID)   {}

func TestMuxRoutesByMessage(t *testing.T) {
	a, b := &only[msgA]{}, &only[msgB]{}
	m := algorithms.NewMux(a, b)
	require.NoError(t, m.Step(2, msgB{}))
	require.NoError(t, m.Step(2, msgA{}))
	require.NoError(t, m.Step(2, msgB{}))
	assert.Equal(t, 1, a.got)
	assert.Equal(t, 2, b.got)
	err := m.Step(2, nil)
	assert.ErrorIs(t, err, algorithms.ErrUnknownMessage)

	m.Tick()
	m.PeerDown(3)
	assert.Equal(t, []int{1, 1}, []int{a.ticks, b.ticks})
	assert.Equal(t, []int{1, 1}, []int{a.down, b.down})

	r := m.Ready()
	require.Len(t, r.Sends, 3)
	assert.Equal(t, "A", r.Sends[0].Msg.Kind(), "output in core order")
	assert.Equal(t, []algorithms.Event{1, 1, 2}, r.Events)
	assert.True(t, m.Ready().Empty())
}

// boxed is only[M] declared Boxed: the Mux reads it only after it queued
// something. reads counts its Ready calls.
type boxed[M algorithms.Message] struct {
	only[M]
	reads int
}

func (b *boxed[M]) Box() *algorithms.Outbox { return &b.Outbox }
func (b *boxed[M]) Ready() algorithms.Ready {
	b.reads++
	return b.Outbox.Ready()
}

// tickSender sends on every second tick, outside Step.
type tickSender struct {
	boxed[msgB]
}

func (s *tickSender) Tick() {
	s.ticks++
	if s.ticks%2 == 0 {
		s.Send(nil, msgB{})
	}
}

func TestMuxReadsBoxedCoresOnlyWithOutput(t *testing.T) {
	a, b, c := &boxed[msgA]{}, &only[msgB]{}, &tickSender{}
	m := algorithms.NewMux(a, b, c)
	for range 10 {
		assert.True(t, m.Ready().Empty())
	}
	assert.Equal(t, 0, a.reads, "an idle Boxed core is not read")
	assert.Equal(t, 0, c.reads)

	require.NoError(t, m.Step(2, msgA{}))
	r := m.Ready()
	require.Len(t, r.Sends, 1, "what a Boxed core queued in Step")
	assert.Equal(t, []algorithms.Event{1}, r.Events)
	assert.Equal(t, 1, a.reads)

	sends := 0
	for range 6 {
		m.Tick()
		sends += len(m.Ready().Sends)
	}
	assert.Equal(t, 3, sends, "what a Boxed core queued on its ticks")
	assert.Equal(t, 4, a.reads, "read with the others when one queued")

	// Output queued straight on the Outbox, outside the Mux's calls,
	// still comes out.
	a.Send(nil, msgA{})
	require.Len(t, m.Ready().Sends, 1)
	assert.True(t, m.Ready().Empty())
}
