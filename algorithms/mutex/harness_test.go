package mutex

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
)

// The contention harness drives a group of mutex cores over algtest.Net:
// drones request, hold and release several resources at random moments
// while the network delivers messages in a seeded order. It checks
// the properties of docs/algorithms.md as it goes: ME1 (never two holders of one
// resource; checked on every Granted event against the harness's own
// record of Release calls) and ME2 (every request is granted, and the run
// ends).

// slot is one drone's use of one resource.
type slot struct {
	id algorithms.NodeID
	r  Resource
}

type slotState uint8

const (
	slotIdle slotState = iota
	slotWaiting
	slotHolding
)

type contention struct {
	t     *testing.T
	seed  uint64
	rng   *rand.Rand
	net   *algtest.Net
	cores map[algorithms.NodeID]Mutex
	ids   []algorithms.NodeID
	res   []Resource
	// ticks drives Tick when nothing else can happen (token ring).
	ticks bool
	// eager requests a resource again as soon as it is released (full
	// contention).
	eager bool

	state   map[slot]slotState
	left    map[slot]int
	holder  map[Resource]algorithms.NodeID
	holding []slot
	grants  int
	total   int

	// onRequest and onGrant, when set, see each request and grant (ME3).
	onRequest func(slot)
	onGrant   func(slot)
}

// newContention connects the cores; each drone will request each of the
// resources rounds times.
func newContention(t *testing.T, seed uint64, cores map[algorithms.NodeID]Mutex, res []Resource, rounds int) *contention {
	h := &contention{
		t:      t,
		seed:   seed,
		rng:    rand.New(rand.NewPCG(seed, 0xc0ffee)),
		cores:  cores,
		res:    res,
		state:  map[slot]slotState{},
		left:   map[slot]int{},
		holder: map[Resource]algorithms.NodeID{},
	}
	plain := make(map[algorithms.NodeID]algorithms.Core, len(cores))
	for id, c := range cores {
		plain[id] = c
		h.ids = append(h.ids, id)
		for _, r := range res {
			h.left[slot{id, r}] = rounds
			h.total += rounds
		}
	}
	slices.Sort(h.ids)
	h.net = algtest.New(seed, plain)
	h.net.OnEvent = h.event
	return h
}

func (h *contention) event(id algorithms.NodeID, ev algorithms.Event) {
	g, ok := ev.(Granted)
	if !ok {
		return
	}
	s := slot{id, g.Resource}
	require.Equal(h.t, slotWaiting, h.state[s], "seed=%d: drone %d granted %d without asking", h.seed, id, g.Resource)
	other, busy := h.holder[g.Resource]
	require.False(h.t, busy, "seed=%d: ME1 violated: drone %d granted %d while drone %d holds it", h.seed, id, g.Resource, other)
	h.holder[g.Resource] = id
	h.state[s] = slotHolding
	h.holding = append(h.holding, s)
	h.grants++
	if h.onGrant != nil {
		h.onGrant(s)
	}
}

// request issues one request at a random idle slot; false when none is left.
func (h *contention) request() bool {
	var idle []slot
	for _, id := range h.ids {
		for _, r := range h.res {
			s := slot{id, r}
			if h.state[s] == slotIdle && h.left[s] > 0 {
				idle = append(idle, s)
			}
		}
	}
	if len(idle) == 0 {
		return false
	}
	h.requestSlot(idle[h.rng.IntN(len(idle))])
	h.net.Collect()
	return true
}

func (h *contention) requestSlot(s slot) {
	h.left[s]--
	h.state[s] = slotWaiting
	require.NoError(h.t, h.cores[s.id].Request(s.r), "seed=%d", h.seed)
	if h.onRequest != nil {
		h.onRequest(s)
	}
}

// release ends one random critical section; false when nobody holds one.
func (h *contention) release() bool {
	if len(h.holding) == 0 {
		return false
	}
	i := h.rng.IntN(len(h.holding))
	s := h.holding[i]
	h.holding = slices.Delete(h.holding, i, i+1)
	require.Equal(h.t, s.id, h.holder[s.r], "seed=%d", h.seed)
	delete(h.holder, s.r)
	h.state[s] = slotIdle
	require.NoError(h.t, h.cores[s.id].Release(s.r), "seed=%d", h.seed)
	if h.eager && h.left[s] > 0 {
		h.requestSlot(s)
	}
	h.net.Collect()
	return true
}

func (h *contention) done() bool {
	if len(h.holding) > 0 {
		return false
	}
	for s, n := range h.left {
		if n > 0 || h.state[s] != slotIdle {
			return false
		}
	}
	return true
}

// run plays until every request was granted and released, failing (ME2)
// if that takes more than maxSteps steps or the group gets stuck.
func (h *contention) run(maxSteps int) {
	for step := 0; !h.done(); step++ {
		if step >= maxSteps {
			require.Failf(h.t, "no progress", "seed=%d: ME2 violated: requests still waiting after %d steps", h.seed, maxSteps)
		}
		a := h.rng.IntN(16)
		switch {
		case a < 3 && h.request():
		case a < 6 && h.release():
		case a == 6 && h.ticks:
			h.net.Tick()
		case h.net.DeliverOne():
		case h.release(), h.request():
		case h.ticks:
			h.net.Tick()
		default:
			require.Fail(h.t, "deadlock", "seed=%d: ME2 violated: requests wait, nothing is in flight and nobody holds a resource", h.seed)
		}
	}
	require.Equal(h.t, h.total, h.grants, "seed=%d: every request is granted once (ME2)", h.seed)
}

// seqIDs returns the IDs first, first+1, …, first+n−1.
func seqIDs(first, n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(first + i)
	}
	return out
}

// resources returns the resources 0, …, n−1.
func resources(n int) []Resource {
	out := make([]Resource, n)
	for i := range out {
		out[i] = Resource(i)
	}
	return out
}

// seeds is how many interleavings the property tests explore, fewer with
// -short.
func seeds(full int) int {
	if testing.Short() {
		return max(full/10, 1)
	}
	return full
}

// wire is a hand-driven network for scripted scenarios: reliable FIFO
// channels that the test empties one message at a time, in the order the
// scenario needs.
type wire struct {
	t      *testing.T
	cores  map[algorithms.NodeID]algorithms.Core
	ids    []algorithms.NodeID
	queues map[[2]algorithms.NodeID][]algorithms.Message
	// grants lists Granted events in order, as "drone:resource".
	grants []slot
	// kinds counts point-to-point messages per kind.
	kinds map[string]int
}

func newWire(t *testing.T, cores map[algorithms.NodeID]algorithms.Core) *wire {
	w := &wire{t: t, cores: cores, queues: map[[2]algorithms.NodeID][]algorithms.Message{}, kinds: map[string]int{}}
	for id := range cores {
		w.ids = append(w.ids, id)
	}
	slices.Sort(w.ids)
	return w
}

// flush moves every core's output onto the channels.
func (w *wire) flush() {
	for _, id := range w.ids {
		rd := w.cores[id].Ready()
		for _, ev := range rd.Events {
			if g, ok := ev.(Granted); ok {
				w.grants = append(w.grants, slot{id, g.Resource})
			}
		}
		for _, s := range rd.Sends {
			to := s.To
			if to == nil {
				to = removeID(slices.Clone(w.ids), id)
			}
			for _, dst := range to {
				require.NotEqual(w.t, id, dst, "self-send")
				w.kinds[s.Msg.Kind()]++
				k := [2]algorithms.NodeID{id, dst}
				w.queues[k] = append(w.queues[k], s.Msg)
			}
		}
	}
}

// deliver hands the oldest message from → to over and returns its kind.
func (w *wire) deliver(from, to algorithms.NodeID) string {
	w.t.Helper()
	w.flush()
	k := [2]algorithms.NodeID{from, to}
	require.NotEmpty(w.t, w.queues[k], "nothing in flight from %d to %d", from, to)
	m := w.queues[k][0]
	w.queues[k] = w.queues[k][1:]
	require.NoError(w.t, w.cores[to].Step(from, m))
	w.flush()
	return m.Kind()
}

// drain delivers everything in flight, channel by channel in ID order,
// except the channels listed in hold.
func (w *wire) drain(hold ...[2]algorithms.NodeID) {
	w.t.Helper()
	for progress := true; progress; {
		progress = false
		w.flush()
		for _, from := range w.ids {
			for _, to := range w.ids {
				k := [2]algorithms.NodeID{from, to}
				if len(w.queues[k]) == 0 || slices.Contains(hold, k) {
					continue
				}
				w.deliver(from, to)
				progress = true
			}
		}
	}
}

// inFlight lists the kinds queued from → to.
func (w *wire) inFlight(from, to algorithms.NodeID) []string {
	w.flush()
	var out []string
	for _, m := range w.queues[[2]algorithms.NodeID{from, to}] {
		out = append(out, m.Kind())
	}
	return out
}
