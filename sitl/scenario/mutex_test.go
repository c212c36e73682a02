package scenario

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// traceLine is the part of a trace line the per-entry checks read.
type traceLine struct {
	Ev       string `json:"ev"`
	ID       int    `json:"id"`
	Kind     string `json:"kind"`
	Messages int    `json:"messages"`
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
	} {
		assert.Error(t, m.Validate(), "%+v", m)
	}
}
