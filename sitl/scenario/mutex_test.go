package scenario

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// traceLine is the part of a trace line the per-entry checks read.
type traceLine struct {
	Ev       string `json:"ev"`
	ID       int    `json:"id"`
	Kind     string `json:"kind"`
	Messages int    `json:"messages"`
	Class    *int   `json:"class"`
}

// entryCost is what one entry cost, from its request to the next request.
type entryCost struct {
	requester  int
	messages   map[string]int
	dataFrames int
	frames     int // every transmission but heartbeats
}

// perEntryCosts reads a trace and returns the cost of every entry (with
// concurrency 1, everything sent between two requests belongs to the
// first).
func perEntryCosts(t *testing.T, trace []byte) []entryCost {
	t.Helper()
	var out []entryCost
	sc := bufio.NewScanner(bytes.NewReader(trace))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l traceLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		switch {
		case l.Ev == "request":
			out = append(out, entryCost{requester: l.ID, messages: map[string]int{}})
		case l.Ev == "send":
			require.NotEmpty(t, out, "a message before the first request")
			out[len(out)-1].messages[l.Kind] += l.Messages
		case l.Ev == "tx" && l.Class != nil && *l.Class != int(algorithms.ClassHeartbeat):
			require.NotEmpty(t, out, "a frame before the first request")
			out[len(out)-1].frames++
			if *l.Class == int(algorithms.ClassData) {
				out[len(out)-1].dataFrames++
			}
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// perEntryMessages reads a trace and returns, for every request in order,
// the requester and the core messages sent from that request to the next
// one (with concurrency 1 they all belong to that entry).
func perEntryMessages(t *testing.T, trace []byte) (requesters []int, counts []map[string]int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(trace))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l traceLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		switch l.Ev {
		case "request":
			requesters = append(requesters, l.ID)
			counts = append(counts, map[string]int{})
		case "send":
			require.NotEmpty(t, counts, "a message before the first request")
			counts[len(counts)-1][l.Kind] += l.Messages
		}
	}
	require.NoError(t, sc.Err())
	return requesters, counts
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Coulouris' central server: entering costs 2 messages (REQUEST, GRANT),
// leaving 1 (RELEASE); the server's own entries cost none. Checked per
// entry from the trace, fault-free.
func TestCentralMessagesPerEntry(t *testing.T) {
	for _, n := range []int{2, 5, 16, 100} {
		var trace bytes.Buffer
		r, err := RunMutex(Mutex{
			Common:    Common{Drones: n, Seed: uint64(n), Trace: &trace},
			Algorithm: "central", Entries: 60, Concurrency: 1, Hold: 10 * sim.Millisecond,
		})
		require.NoError(t, err)
		require.Equal(t, 60, r.Completed, "seed=%d", n)
		require.False(t, r.Failed(), "seed=%d: %+v", n, r)
		requesters, counts := perEntryMessages(t, trace.Bytes())
		require.Len(t, requesters, 60)
		others := 0
		for i, id := range requesters {
			if id == int(centralServer) {
				assert.Equal(t, 0, total(counts[i]), "seed=%d entry %d by the server", n, i)
				continue
			}
			others++
			assert.Equal(t, map[string]int{"REQUEST": 1, "GRANT": 1, "RELEASE": 1}, counts[i], "seed=%d entry %d by drone %d", n, i, id)
		}
		assert.Positive(t, others)
		// Nobody waits at concurrency 1, so there is no synchronization delay.
		assert.Nil(t, r.SyncDelayMsP50)
		assert.Equal(t, r.Messages, r.DataFrames, "every central message is one unicast frame")
	}
}

// Under loss, duplication and reordering the central server still gives
// ME1 and finishes every entry, over 200 seeds.
func TestCentralUnderFaults(t *testing.T) {
	seeds := seeds.Count(t, 200)
	for seed := 1; seed <= seeds; seed++ {
		r, err := RunMutex(Mutex{
			Common:    Common{Drones: 8, Seed: uint64(seed), Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
			Algorithm: "central", Entries: 30, Concurrency: 3, Hold: 10 * sim.Millisecond,
		})
		require.NoError(t, err)
		require.Zero(t, r.ME1Violations, "seed=%d", seed)
		require.Zero(t, r.ME2Unfinished, "seed=%d", seed)
		require.Equal(t, 30, r.Completed, "seed=%d", seed)
	}
}

// With contention somebody waits, so a synchronization delay is measured:
// the central server's is one round trip (RELEASE, then GRANT).
func TestCentralSyncDelay(t *testing.T) {
	r, err := RunMutex(Mutex{
		Common:    Common{Drones: 10, Seed: 3},
		Algorithm: "central", Entries: 50, Concurrency: 10, Hold: 10 * sim.Millisecond,
	})
	require.NoError(t, err)
	require.NotNil(t, r.SyncDelayMsP50)
	assert.Positive(t, *r.SyncDelayMsP50)
	assert.False(t, r.Failed())
}

// Same seed, same run; the trace hash tells.
func TestMutexDeterministic(t *testing.T) {
	run := func() MutexResult {
		r, err := RunMutex(Mutex{
			Common:    Common{Drones: 12, Seed: 99, Loss: 0.2, Dup: 0.1, Reorder: 30 * sim.Millisecond},
			Algorithm: "central", Entries: 40, Concurrency: 4, Hold: 5 * sim.Millisecond,
		})
		require.NoError(t, err)
		return r
	}
	a, b := run(), run()
	assert.Equal(t, a.TraceHash, b.TraceHash, "seed=99")
	assert.Equal(t, a, b)
}

func TestMutexValidate(t *testing.T) {
	for _, m := range []Mutex{
		{Algorithm: "bogus", Entries: 1, Concurrency: 1},
		{Algorithm: "central", Entries: 0, Concurrency: 1},
		{Algorithm: "central", Entries: 1, Concurrency: 0},
		{Algorithm: "central", Entries: 1, Concurrency: 1, Hold: -1},
		{Algorithm: "central", Variant: "textbook", Entries: 1, Concurrency: 1},
		{Algorithm: "maekawa", Variant: "bogus", Entries: 1, Concurrency: 1},
	} {
		assert.Error(t, m.Validate(), "%+v", m)
	}
	for _, v := range append([]string{""}, MaekawaVariants...) {
		assert.NoError(t, Mutex{Algorithm: "maekawa", Variant: v, Entries: 1, Concurrency: 1}.Validate(), v)
	}
}

// Ricart–Agrawala (Coulouris et al., "Distributed Systems"): 2(N−1) messages per entry,
// and on a broadcast radio N data frames (one REQUEST to everyone, N−1
// REPLYs). Maekawa, both variants: 3(K−1) messages and K+1 data frames, K
// being the requester's quorum size, its own vote free; the implicit
// variant sends nothing else (K+1 frames on air, acknowledgements
// included). Fault-free, concurrency 1, checked per entry from the trace.
func TestMutexTextbookCostsPerEntry(t *testing.T) {
	for _, n := range []int{4, 9, 16, 21, 25, 100, 250} {
		ids := make([]algorithms.NodeID, n)
		for i := range ids {
			ids[i] = algorithms.NodeID(i + 1)
		}
		quorums := mutex.Best(ids)
		for _, alg := range []string{"ricart", "maekawa", "maekawa/textbook"} {
			if n == 250 && alg == "ricart" {
				continue
			}
			m := Mutex{
				Common:    Common{Drones: n, Seed: uint64(n)},
				Algorithm: alg, Entries: 30, Concurrency: 1, Hold: 10 * sim.Millisecond,
			}
			if alg == "maekawa/textbook" {
				m.Algorithm, m.Variant = "maekawa", "textbook"
			}
			var trace bytes.Buffer
			m.Trace = &trace
			r, err := RunMutex(m)
			require.NoError(t, err)
			require.False(t, r.Failed(), "%s N=%d seed=%d", alg, n, n)
			costs := perEntryCosts(t, trace.Bytes())
			require.Len(t, costs, 30)
			for i, c := range costs {
				switch alg {
				case "ricart":
					assert.Equal(t, 2*(n-1), total(c.messages), "ricart N=%d entry %d seed=%d", n, i, n)
					assert.Equal(t, n, c.dataFrames, "ricart N=%d entry %d seed=%d", n, i, n)
				default:
					k := len(quorums[algorithms.NodeID(c.requester)])
					assert.Equal(t, 3*(k-1), total(c.messages), "%s N=%d K=%d entry %d seed=%d", alg, n, k, i, n)
					want := k + 1
					if k == 1 {
						want = 0 // a quorum of one: every vote is its own
					}
					assert.Equal(t, want, c.dataFrames, "%s N=%d K=%d entry %d seed=%d", alg, n, k, i, n)
					if alg == "maekawa" {
						assert.Equal(t, want, c.frames, "%s N=%d K=%d entry %d seed=%d: no frame but the data", alg, n, k, i, n)
					}
				}
			}
		}
	}
}

// The goal the swarm's lock protocol is held to: an uncontended lock of one
// cell at 250 drones costs at most 20 frames, acknowledgements included,
// fault-free (K = 17 from the plane of order 16: 18 frames).
func TestMaekawaFramesPerEntryAt250(t *testing.T) {
	r, err := RunMutex(Mutex{Common: Common{Drones: 250, Seed: 1}, Algorithm: "maekawa", Entries: 40, Concurrency: 1, Hold: 10 * sim.Millisecond})
	require.NoError(t, err)
	require.False(t, r.Failed(), "seed=1")
	assert.Equal(t, 17, r.QuorumSizeMax, "seed=1")
	assert.LessOrEqual(t, r.FramesPerEntry, 20.0, "seed=1")
	assert.Zero(t, r.AckFrames, "seed=1")
	assert.Zero(t, r.Retransmissions, "seed=1")
}

// The token ring reports its token passes, and passes the token even when
// nobody wants it.
func TestRingTokenPasses(t *testing.T) {
	r, err := RunMutex(Mutex{Common: Common{Drones: 9, Seed: 1}, Algorithm: "ring", Entries: 30, Concurrency: 1})
	require.NoError(t, err)
	require.False(t, r.Failed())
	require.NotNil(t, r.TokenPassesPerEntry)
	assert.Positive(t, *r.TokenPassesPerEntry)
	assert.Equal(t, r.Messages, int(*r.TokenPassesPerEntry*float64(r.Completed)+0.5), "every token pass is one message")
}

// At 20% loss, 5% duplication and 50 ms of reordering, over 200 seeds per
// algorithm: no ME1 violation, every entry completes, and Ricart–Agrawala
// keeps happened-before order (ME3).
func TestMutexUnderFaults(t *testing.T) {
	n := seeds.Count(t, 200)
	for _, alg := range append(slices.Clone(MutexAlgorithms), "maekawa/textbook") {
		for seed := 1; seed <= n; seed++ {
			m := Mutex{
				Common:    Common{Drones: 7, Seed: uint64(seed), Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
				Algorithm: alg, Entries: 20, Concurrency: 3, Hold: 10 * sim.Millisecond, Cells: 2,
			}
			if alg == "maekawa/textbook" {
				m.Algorithm, m.Variant = "maekawa", "textbook"
			}
			r, err := RunMutex(m)
			require.NoError(t, err)
			require.Zero(t, r.ME1Violations, "%s seed=%d", alg, seed)
			require.Zero(t, r.ME2Unfinished, "%s seed=%d", alg, seed)
			if alg == "ricart" {
				require.Zero(t, *r.ME3Violations, "%s seed=%d", alg, seed)
			}
		}
	}
}

// Full contention: every drone requests again as soon as it leaves, over
// several cells; Sanders' rules keep Maekawa (both variants) from
// deadlocking.
func TestMaekawaFullContention(t *testing.T) {
	for _, variant := range MaekawaVariants {
		for _, n := range []int{9, 16, 50} {
			for seed := 1; seed <= seeds.Count(t, 10); seed++ {
				r, err := RunMutex(Mutex{
					Common:    Common{Drones: n, Seed: uint64(seed), Loss: 0.1},
					Algorithm: "maekawa", Variant: variant, Entries: 4 * n, Concurrency: n, Hold: 5 * sim.Millisecond, Cells: 3,
				})
				require.NoError(t, err)
				require.Zero(t, r.ME1Violations, "%s N=%d seed=%d", variant, n, seed)
				require.Equal(t, 4*n, r.Completed, "%s N=%d seed=%d: deadlock or starvation", variant, n, seed)
			}
		}
	}
}
