package scenario

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/multicast"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// multicasters reads a trace and returns the drone of every multicast, in
// order.
func multicasters(t *testing.T, trace []byte) []int {
	t.Helper()
	var out []int
	sc := bufio.NewScanner(bytes.NewReader(trace))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l traceLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		if l.Ev == "multicast" {
			out = append(out, l.ID)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// Fault-free, the data frames are exactly the textbook's (docs/algorithms.md,
// group communication, on a broadcast radio): basic and efficient reliable
// multicast 1 per message, the textbook relay N; total order by sequencer
// 2 (the message, then the sequencer's ORDER) and 1 when the sequencer
// sends; ISIS 2 broadcasts + N−1 proposals. Point-to-point messages are
// the textbook's too: 2(N−1) for the sequencer (Amoeba BB), 3(N−1) for
// ISIS. Acknowledgements are reported apart, in ack_frames.
func TestMulticastFaultFreeFrames(t *testing.T) {
	type want struct {
		data, messages func(n, bySequencer, others int) int
	}
	perMessage := func(f func(n int) int) func(n, seq, others int) int {
		return func(n, seq, others int) int { return (seq + others) * f(n) }
	}
	cases := []struct {
		order, scheme, rel string
		want               want
		acks               bool
	}{
		{"none", "sequencer", "efficient", want{perMessage(func(int) int { return 1 }), perMessage(func(n int) int { return n - 1 })}, false},
		{"fifo", "sequencer", "efficient", want{perMessage(func(int) int { return 1 }), perMessage(func(n int) int { return n - 1 })}, true},
		{"fifo", "sequencer", "relay", want{perMessage(func(n int) int { return n }), perMessage(func(n int) int { return n * (n - 1) })}, false},
		{"causal", "sequencer", "efficient", want{perMessage(func(int) int { return 1 }), perMessage(func(n int) int { return n - 1 })}, true},
		{"total", "sequencer", "efficient", want{
			func(n, seq, others int) int { return seq + 2*others },
			func(n, seq, others int) int { return (seq + 2*others) * (n - 1) },
		}, true},
		{"total", "isis", "efficient", want{perMessage(func(n int) int { return n + 1 }), perMessage(func(n int) int { return 3 * (n - 1) })}, true},
	}
	for _, c := range cases {
		for _, n := range []int{5, 9, 16} {
			for _, senders := range []int{4, n} {
				name := fmt.Sprintf("%s/%s/%s/N=%d/senders=%d", c.order, c.scheme, c.rel, n, senders)
				t.Run(name, func(t *testing.T) {
					var trace bytes.Buffer
					r, err := RunMulticast(Multicast{
						Common: Common{Drones: n, Seed: uint64(n), Trace: &trace},
						Order:  c.order, TotalScheme: c.scheme, Reliability: c.rel,
						Messages: 60, Senders: senders,
					})
					require.NoError(t, err)
					require.False(t, r.Failed(), "seed=%d: %+v", n, r)
					require.Equal(t, 60, r.Issued, "seed=%d", n)
					require.Equal(t, 60, r.DeliveredMin, "seed=%d", n)
					by := multicasters(t, trace.Bytes())
					require.Len(t, by, 60)
					seq := 0
					for _, id := range by {
						if id == int(multicastSequencer) {
							seq++
						}
					}
					if senders == n {
						require.Positive(t, seq, "seed=%d: the sequencer multicasts too", n)
					}
					assert.Equal(t, c.want.data(n, seq, 60-seq), r.DataFrames, "seed=%d: data frames", n)
					assert.Equal(t, c.want.messages(n, seq, 60-seq), r.Messages, "seed=%d: textbook messages", n)
					assert.Zero(t, r.StepErrors, "seed=%d", n)
					if c.acks {
						assert.Positive(t, r.AckFrames, "seed=%d: acknowledgements are reported apart", n)
					}
					if senders == 4 {
						// With every drone sending at once the channel
						// queues long enough for timers to fire; with four
						// it does not, and nothing is repeated.
						assert.Zero(t, r.Retransmissions, "seed=%d: no retransmission without loss", n)
						if !c.acks {
							assert.Zero(t, r.AckFrames, "seed=%d", n)
						}
					}
					assert.Equal(t, r.DataFrames+r.AckFrames+r.Retransmissions, r.Frames)
				})
			}
		}
	}
}

// Over 200 seeds per configuration, with 20% loss, 5% duplication, 50 ms
// of reordering and each drone crashing with probability 0.1: zero
// violations of what each configuration promises, and every promised
// delivery made (for ISIS and the sequencer: whenever no sender, or the
// sequencer, crashed).
func TestMulticastUnderFaults(t *testing.T) {
	cases := [][3]string{
		{"none", "sequencer", "efficient"},
		{"fifo", "sequencer", "efficient"},
		{"fifo", "sequencer", "relay"},
		{"causal", "sequencer", "efficient"},
		{"causal", "sequencer", "relay"},
		{"total", "sequencer", "efficient"},
		{"total", "sequencer", "relay"},
		{"total", "isis", "efficient"},
		{"total", "isis", "relay"},
	}
	count := seeds.Count(t, 200)
	for _, c := range cases {
		t.Run(c[0]+"/"+c[1]+"/"+c[2], func(t *testing.T) {
			crashes, runsWithCrash := 0, 0
			for seed := 1; seed <= count; seed++ {
				n := 5 + seed%5
				r, err := RunMulticast(Multicast{
					Common: Common{Drones: n, Seed: uint64(seed), Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
					Order:  c[0], TotalScheme: c[1], Reliability: c[2],
					Messages: 40, Senders: 4, Crash: 0.1,
				})
				require.NoError(t, err, "seed=%d", seed)
				require.Zero(t, r.IntegrityViolations, "seed=%d", seed)
				require.Zero(t, r.ValidityViolations, "seed=%d", seed)
				require.Zero(t, r.AgreementViolations, "seed=%d", seed)
				require.Zero(t, r.OrderViolations, "seed=%d", seed)
				require.Zero(t, r.DeliveryUnfinished, "seed=%d", seed)
				require.Zero(t, r.StepErrors, "seed=%d", seed)
				require.False(t, r.Failed(), "seed=%d", seed)
				require.LessOrEqual(t, r.Crashed, (n-1)/2, "seed=%d", seed)
				crashes += r.Crashed
				if r.Crashed > 0 {
					runsWithCrash++
				}
			}
			if count >= 50 {
				assert.Greater(t, runsWithCrash, count/5, "the campaign crashes drones")
			}
			t.Logf("%d runs, %d with crashes, %d crashes", count, runsWithCrash, crashes)
		})
	}
}

// Basic multicast promises no agreement: under loss the checker counts the
// misses, and they are not violations.
func TestMulticastBasicMisses(t *testing.T) {
	r, err := RunMulticast(Multicast{
		Common: Common{Drones: 8, Seed: 4, Loss: 0.2},
		Order:  "none", TotalScheme: "sequencer", Reliability: "efficient", Messages: 50, Senders: 4,
	})
	require.NoError(t, err)
	assert.Positive(t, r.AgreementMisses, "seed=4")
	assert.Zero(t, r.AgreementViolations, "seed=4")
	assert.False(t, r.Failed(), "seed=4")
	assert.Equal(t, float64(1), r.DataFramesPerMessage, "seed=4")
}

// The checkers catch what they check: fed deliveries that break each
// property, they count violations.
func TestMulticastCheckers(t *testing.T) {
	newRun := func(order string) *mcRun {
		m := Multicast{Common: Common{Drones: 3, Seed: 1}, Order: order, TotalScheme: "sequencer", Reliability: "efficient", Messages: 10, Senders: 2}
		s, err := sim.New(sim.Config{Drones: 3, Seed: 1, Raw: true, Logger: discardLogger()}, m.factory())
		require.NoError(t, err)
		r := &mcRun{m: m, s: s, byID: map[multicast.ID]*mcast{}, slotOf: map[algorithms.NodeID]int{},
			crashed: make([]bool, 3), alive: 3, position: make([]int, 3), count: make([]int, 3),
			slots: []algorithms.NodeID{1, 2}, busy: make([]*mcast, 2), next: [][]int{{0, 0}, {0, 0}, {0, 0}}}
		r.slotOf[1], r.slotOf[2] = 0, 1
		return r
	}
	add := func(r *mcRun, sender algorithms.NodeID, index int, deps []int) multicast.Delivered {
		msg := &mcast{id: multicast.ID{Origin: sender, Seq: uint32(index)}, sender: sender, slot: r.slotOf[sender], index: index,
			payload: []byte{byte(sender), byte(index)}, by: make([]bool, 3), deps: deps}
		r.msgs = append(r.msgs, msg)
		r.byID[msg.id] = msg
		return multicast.Delivered{ID: msg.id, Payload: msg.payload}
	}
	violations := func(r *mcRun, name string) int { return r.s.Stats().Violations[name] }

	r := newRun("fifo")
	a1, a2 := add(r, 1, 1, nil), add(r, 1, 2, nil)
	r.delivered(3, a2)
	assert.Equal(t, 1, violations(r, "order"), "FIFO: 1.2 before 1.1")
	r.delivered(3, a2)
	assert.Equal(t, 1, violations(r, "integrity"), "delivered twice")
	r.delivered(3, multicast.Delivered{ID: multicast.ID{Origin: 2, Seq: 9}})
	assert.Equal(t, 2, violations(r, "integrity"), "never multicast")
	r.delivered(2, multicast.Delivered{ID: a1.ID, Payload: []byte("forged")})
	assert.Equal(t, 3, violations(r, "integrity"), "altered payload")

	r = newRun("causal")
	b1 := add(r, 1, 1, []int{0, 0})
	b2 := add(r, 2, 1, []int{1, 0}) // drone 2 delivered 1.1 before multicasting
	r.delivered(3, b2)
	assert.Equal(t, 1, violations(r, "order"), "causal: 2.1 before 1.1, which happened before it")
	r.delivered(3, b1)
	assert.Equal(t, 1, violations(r, "order"))

	r = newRun("total")
	c1, c2 := add(r, 1, 1, nil), add(r, 2, 1, nil)
	r.delivered(1, c1)
	r.delivered(1, c2)
	r.delivered(2, c1)
	r.delivered(3, c2)
	assert.Equal(t, 1, violations(r, "order"), "total: drone 3 delivers 2.1 where 1.1 was delivered")

	r = newRun("fifo")
	d1 := add(r, 1, 1, nil)
	r.delivered(1, d1)
	res := r.result()
	assert.Equal(t, 2, res.AgreementViolations, "drones 2 and 3 never delivered what drone 1 did")
	assert.True(t, res.Failed())
}

// Same seed, same run; the trace hash tells.
func TestMulticastDeterministic(t *testing.T) {
	run := func() MulticastResult {
		r, err := RunMulticast(Multicast{
			Common: Common{Drones: 7, Seed: 99, Loss: 0.2, Dup: 0.1, Reorder: 30 * sim.Millisecond},
			Order:  "total", TotalScheme: "isis", Reliability: "efficient", Messages: 30, Senders: 3, Crash: 0.2,
		})
		require.NoError(t, err)
		return r
	}
	a, b := run(), run()
	assert.Equal(t, a.TraceHash, b.TraceHash, "seed=99")
	assert.Equal(t, a, b)
}

func TestMulticastValidate(t *testing.T) {
	ok := Multicast{Common: Common{Drones: 8}, Order: "total", TotalScheme: "sequencer", Reliability: "efficient", Messages: 10, Senders: 4}
	require.NoError(t, ok.Validate())
	for flag, m := range map[string]func(m *Multicast){
		"--order":        func(m *Multicast) { m.Order = "random" },
		"--total-scheme": func(m *Multicast) { m.TotalScheme = "lamport" },
		"--reliability":  func(m *Multicast) { m.Reliability = "best" },
		"--messages":     func(m *Multicast) { m.Messages = 0 },
		"--senders":      func(m *Multicast) { m.Senders = 9 },
		"--crash":        func(m *Multicast) { m.Crash = 1.5 },
		"--drones":       func(m *Multicast) { m.Order, m.Drones = "causal", multicast.MaxCausalMembers+1 },
	} {
		bad := ok
		m(&bad)
		err := bad.Validate()
		require.Error(t, err, flag)
		assert.Contains(t, err.Error(), flag+" ", flag)
		_, err = RunMulticast(bad)
		assert.Error(t, err, flag)
	}
	// Causal order fits a 16-byte payload beside the clock up to 50 drones.
	causal := ok
	causal.Order, causal.Drones = "causal", 50
	assert.NoError(t, causal.Validate())
	causal.Drones = 51
	assert.Error(t, causal.Validate())
}

// The JSON object carries every field docs/simulate.md names for the
// multicast scenario; total_scheme is null unless the order is total.
func TestMulticastJSONFields(t *testing.T) {
	fields := []string{"drones", "seed", "baud", "signed", "loss", "dup", "reorder", "messages", "data_frames", "ack_frames",
		"retransmissions", "heartbeat_frames", "frames", "airtime_ms", "sim_seconds", "wall_seconds", "real_time_factor",
		"order", "total_scheme", "reliability", "senders", "crash", "delivered_min", "delivered_max",
		"data_frames_per_message", "frames_per_message", "airtime_ms_per_message", "latency_ms_p50",
		"latency_ms_p99", "integrity_violations", "validity_violations", "agreement_violations", "order_violations",
		"messages_requested"}
	for _, order := range []string{"fifo", "total"} {
		r, err := RunMulticast(Multicast{Common: Common{Drones: 5, Seed: 1}, Order: order, TotalScheme: "isis", Reliability: "efficient", Messages: 5, Senders: 2})
		require.NoError(t, err)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		for _, f := range fields {
			assert.Contains(t, m, f, order)
			if f != "total_scheme" {
				assert.NotNil(t, m[f], "%s: %s", order, f)
			}
		}
		if order == "total" {
			assert.Equal(t, "isis", m["total_scheme"])
		} else {
			assert.Nil(t, m["total_scheme"])
		}
		assert.Equal(t, float64(5), m["messages_requested"])
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		assert.True(t, slices.Contains(keys, "messages"))
	}
}

// BenchmarkMulticastReliability reports frames and airtime per message of
// the two reliable multicasts at N = 16, fault-free and at 10% loss (the
// figures of docs/multicast.md; larger N through `groundstation simulate
// multicast`).
func BenchmarkMulticastReliability(b *testing.B) {
	for _, rel := range MulticastReliabilities {
		for _, loss := range []float64{0, 0.1} {
			b.Run(fmt.Sprintf("%s/loss=%v", rel, loss), func(b *testing.B) {
				var r MulticastResult
				for i := range b.N {
					var err error
					r, err = RunMulticast(Multicast{
						Common: Common{Drones: 16, Seed: uint64(i + 1), Loss: loss},
						Order:  "fifo", TotalScheme: "sequencer", Reliability: rel, Messages: 100, Senders: 4,
					})
					if err != nil || r.Failed() {
						b.Fatalf("seed=%d: %v %+v", i+1, err, r)
					}
				}
				b.ReportMetric(r.FramesPerMessage, "frames/msg")
				b.ReportMetric(r.AirtimeMsPerMessage, "airtime-ms/msg")
			})
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
