package scenario

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// Fault-free, a command costs one APPEND broadcast and the
// acknowledgements of the two members a majority of five needs besides the
// leader: 3 frames whatever N (a ground station acknowledging with every
// drone would spend 2N), every drone inferring the commit point from what
// it overhears, the learners at the second acknowledgement. The textbook
// round costs C+1 = 6 frames: APPEND, C−1 ACKs and one COMMIT; with its
// commit point riding on the next APPEND, C = 5.
func TestLogFaultFreeFramesPerCommand(t *testing.T) {
	for _, n := range []int{9, 30, 250} {
		r, err := RunLog(Log{Common: Common{Drones: n, Seed: uint64(n)}, Commands: 50, Committee: 5})
		require.NoError(t, err)
		require.False(t, r.Failed(), "N=%d seed=%d: %+v", n, n, r)
		assert.Equal(t, 50, r.Committed, "N=%d", n)
		assert.Equal(t, 50, r.AppliedMin, "N=%d", n)
		assert.Equal(t, 1.0, r.DataFramesPerCommand, "N=%d", n)
		assert.InDelta(t, 3.0, r.FramesPerCommand, 0.1, "N=%d: APPEND + 2 ACK (+ one COMMIT after the last and the quiet members' ACKs of it)", n)
		assert.LessOrEqual(t, r.FramesPerCommand, 4.0, "N=%d", n)
		assert.Positive(t, r.CommitLatencyMsP50, "N=%d", n)
		assert.Nil(t, r.FailoverMs)
		assert.Equal(t, 1, r.Terms)
		inferred := r

		r, err = RunLog(Log{Common: Common{Drones: n, Seed: uint64(n)}, Commands: 50, Committee: 5, Textbook: true})
		require.NoError(t, err)
		require.False(t, r.Failed(), "N=%d seed=%d: %+v", n, n, r)
		assert.Equal(t, 6.0, r.FramesPerCommand, "N=%d textbook: APPEND + 4 ACK + COMMIT", n)
		assert.Less(t, inferred.ApplyLatencyMsP99, r.ApplyLatencyMsP50, "N=%d: every drone applies before the textbook's COMMIT arrives", n)
		assert.Less(t, inferred.AirtimeMsPerCommand, r.AirtimeMsPerCommand, "N=%d", n)

		r, err = RunLog(Log{Common: Common{Drones: n, Seed: uint64(n)}, Commands: 50, Committee: 5, Textbook: true, CommitDelay: 150 * sim.Millisecond})
		require.NoError(t, err)
		require.False(t, r.Failed(), "N=%d seed=%d: %+v", n, n, r)
		assert.LessOrEqual(t, r.FramesPerCommand, 5.02, "N=%d textbook: the commit point rides on the next APPEND", n)
	}
}

// Fault-free, a command costs majority(C) frames for any committee: the
// APPEND and the acknowledgements of the first C/2 members; the others,
// waiting for them on the shared channel, keep quiet.
func TestLogFramesPerCommandByCommittee(t *testing.T) {
	for _, c := range []int{1, 3, 7, 9} {
		r, err := RunLog(Log{Common: Common{Drones: 30, Seed: uint64(c)}, Commands: 50, Committee: c})
		require.NoError(t, err)
		require.False(t, r.Failed(), "C=%d seed=%d: %+v", c, c, r)
		assert.InDelta(t, float64(c/2+1), r.FramesPerCommand, 0.021, "C=%d seed=%d", c, c)
	}
}

// At N = 250 with 10% loss, a command is committed within 200 ms (p99) and
// costs fewer frames than the textbook round fault-free; nothing committed
// is lost or reordered.
func TestLogCommitLatencyUnderLoss(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 2)); seed++ {
		r, err := RunLog(Log{Common: Common{Drones: 250, Seed: seed, Loss: 0.1}, Commands: 50, Committee: 5})
		require.NoError(t, err)
		require.False(t, r.Failed(), "seed=%d: %+v", seed, r)
		assert.Equal(t, 50, r.AppliedMin, "seed=%d", seed)
		assert.LessOrEqual(t, r.CommitLatencyMsP99, 200.0, "seed=%d", seed)
		assert.Less(t, r.FramesPerCommand, 7.5, "seed=%d: the textbook round costs 8.5 to 9", seed)
	}
}

// The acceptance campaign of the command log: at 20% loss, 5%
// duplication and 50 ms reordering, the leader crashes mid-run, every
// drone crashes with probability 0.1 (never a committee majority) and
// crashed drones restart from their persisted state. In every run no
// committed command is lost or reordered, every command is committed, and
// every live drone applies all of them.
func TestLogUnderFaults(t *testing.T) {
	runs := seeds.Count(t, 200)
	for seed := 1; seed <= runs; seed++ {
		n := 7 + seed%3
		r, err := RunLog(Log{
			Common:   Common{Drones: n, Seed: uint64(seed), Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
			Commands: 30, Committee: 5, CrashLeader: true, Crash: 0.1, Restart: true,
			Textbook: seed%4 == 0,
		})
		require.NoError(t, err)
		require.Zero(t, r.OrderViolations, "N=%d seed=%d", n, seed)
		require.Zero(t, r.LostCommitted, "N=%d seed=%d", n, seed)
		require.Zero(t, r.CommandsUnfinished, "N=%d seed=%d", n, seed)
		require.Equal(t, 30, r.AppliedMin, "N=%d seed=%d: every live drone applies every command", n, seed)
		require.NotNil(t, r.FailoverMs, "N=%d seed=%d: the leader's crash was never measured", n, seed)
		require.GreaterOrEqual(t, r.Terms, 2, "N=%d seed=%d", n, seed)
	}
}

// Without restarts, crashed committee members are replaced through the
// log, and the log goes on.
func TestLogReplacesDeadMembers(t *testing.T) {
	runs := seeds.Count(t, 50)
	changes := 0
	for seed := 1; seed <= runs; seed++ {
		r, err := RunLog(Log{
			Common:   Common{Drones: 9, Seed: uint64(seed), Loss: 0.1, Reorder: 20 * sim.Millisecond},
			Commands: 30, Committee: 5, CrashLeader: true, Crash: 0.3,
		})
		require.NoError(t, err)
		require.False(t, r.Failed(), "seed=%d: %+v", seed, r)
		require.Equal(t, 30, r.AppliedMin, "seed=%d", seed)
		changes += r.CommitteeChanges
	}
	assert.Greater(t, changes, runs, "members died and were replaced")
}

// A leader crash at N = 100, fault-free: the failover splits into the
// failure detector's delay, the election (none: the highest live drone
// declares itself at once) and the recovery.
func TestLogFailoverComponents(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 5)); seed++ {
		r, err := RunLog(Log{Common: Common{Drones: 100, Seed: seed}, Commands: 40, Committee: 5, CrashLeader: true})
		require.NoError(t, err)
		require.False(t, r.Failed(), "seed=%d: %+v", seed, r)
		require.NotNil(t, r.FailoverMs, "seed=%d", seed)
		require.NotNil(t, r.FailoverElectionMs, "seed=%d", seed)
		assert.Equal(t, 500.0, *r.FailoverDetectionMs, "seed=%d", seed)
		assert.InDelta(t, *r.FailoverMs, *r.FailoverDetectionMs+*r.FailoverElectionMs+*r.FailoverRecoveryMs, 1e-6, "seed=%d", seed)
		assert.Less(t, *r.FailoverRecoveryMs, 200.0, "seed=%d: a RECOVER, promises, the no-op and its acknowledgements", seed)
		assert.Equal(t, 2, r.Terms, "seed=%d", seed)
	}
}

// Same seed, same run; the trace hash tells.
func TestLogDeterministic(t *testing.T) {
	run := func() LogResult {
		r, err := RunLog(Log{
			Common:   Common{Drones: 9, Seed: 42, Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
			Commands: 30, Committee: 5, CrashLeader: true, Crash: 0.2, Restart: true,
		})
		require.NoError(t, err)
		r.WallSeconds, r.RealTimeFactor = 0, 0
		return r
	}
	a, b := run(), run()
	assert.Equal(t, a.TraceHash, b.TraceHash, "seed=42")
	assert.Equal(t, a, b)
}

func TestLogValidate(t *testing.T) {
	ok := Log{Common: Common{Drones: 9}, Commands: 10, Committee: 5}
	require.NoError(t, ok.Validate())
	for _, c := range []struct {
		edit func(*Log)
		flag string
	}{
		{func(l *Log) { l.Commands = 0 }, "--commands 0"},
		{func(l *Log) { l.Committee = 0 }, "--committee 0"},
		{func(l *Log) { l.Committee = 32 }, "--committee 32"},
		{func(l *Log) { l.Committee = 10 }, "--committee 10"},
		{func(l *Log) { l.Crash = 1 }, "--crash 1"},
		{func(l *Log) { l.Crash = -0.1 }, "--crash -0.1"},
		{func(l *Log) { l.Drones, l.Committee, l.CrashLeader = 1, 1, true }, "--crash-leader"},
		{func(l *Log) { l.CommitDelay = -1 }, "--commit-delay"},
	} {
		l := ok
		c.edit(&l)
		err := l.Validate()
		require.Error(t, err, c.flag)
		assert.Contains(t, err.Error(), c.flag)
	}
}

// logSim builds a swarm of cmdlog nodes in the simulator with the
// scenario's timing, and records what each drone applies.
type logSim struct {
	s       *sim.Sim
	applied map[algorithms.NodeID][]cmdlog.Applied
	at      map[uint32]cmdlog.Entry
}

func newLogSim(t *testing.T, n int, seed uint64, loss float64) *logSim {
	t.Helper()
	l := Log{Common: Common{Drones: n, Seed: seed, Loss: loss}, Committee: 5, DetectAfter: 500 * sim.Millisecond}
	cfg, err := l.simConfig()
	require.NoError(t, err)
	cfg.DetectAfter, cfg.Tick, cfg.Baud = l.DetectAfter, 10*sim.Millisecond, 57600
	timing := logTiming(l, cfg)
	ids := make([]algorithms.NodeID, n)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	s, err := sim.New(cfg, func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		nc := timing
		nc.Log.ID, nc.Log.Members = id, ids
		if restored != nil {
			return cmdlog.NewNode(nc, cmdlog.Restore(restored))
		}
		return cmdlog.NewNode(nc)
	})
	require.NoError(t, err)
	ls := &logSim{s: s, applied: map[algorithms.NodeID][]cmdlog.Applied{}, at: map[uint32]cmdlog.Entry{}}
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		a, ok := ev.(cmdlog.Applied)
		if !ok {
			return
		}
		if want := uint32(len(ls.applied[id]) + 1); a.Index != want {
			s.Violation("order", "drone %d applied index %d, expected %d", id, a.Index, want)
		}
		if e, ok := ls.at[a.Index]; ok && (e.Term != a.Entry.Term || string(e.Data) != string(a.Entry.Data)) {
			s.Violation("order", "drone %d applied term %d at index %d, where term %d was applied", id, a.Entry.Term, a.Index, e.Term)
		}
		ls.at[a.Index] = a.Entry
		ls.applied[id] = append(ls.applied[id], a)
	})
	return ls
}

func (ls *logSim) node(id algorithms.NodeID) *cmdlog.Node { return ls.s.Core(id).(*cmdlog.Node) }

// appliedBy returns the drones that applied the command data.
func (ls *logSim) appliedBy(data string) []algorithms.NodeID {
	var out []algorithms.NodeID
	for id := algorithms.NodeID(1); int(id) <= ls.s.N(); id++ {
		for _, a := range ls.applied[id] {
			if a.Entry.Kind == cmdlog.KindCommand && string(a.Entry.Data) == data {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

func (ls *logSim) live() []algorithms.NodeID {
	var out []algorithms.NodeID
	for id := algorithms.NodeID(1); int(id) <= ls.s.N(); id++ {
		if ls.s.Up(id) {
			out = append(out, id)
		}
	}
	return out
}

// settle runs until the leader has committed its no-op everywhere.
func (ls *logSim) settle(t *testing.T, limit sim.Time) {
	t.Helper()
	ok := ls.s.Run(limit, func() bool {
		for _, id := range ls.live() {
			if len(ls.applied[id]) == 0 {
				return false
			}
		}
		return ls.s.Quiet()
	})
	require.True(t, ok, "seed=%d: the first leader never settled", ls.s.Seed())
}

// The replay: a command reaches only the old leader (7) and one
// committee member (5) before the leader crashes. It is either committed
// by the new leader, which adopts it when its recovery majority includes
// drone 5, or never applied by anyone, when the recovery majority leaves
// drone 5 out; then drone 5's copy is overwritten.
func TestLogCommandAtOldLeaderAndOneMember(t *testing.T) {
	for _, c := range []struct {
		name    string
		adopted bool
	}{
		{"the recovery majority includes drone 5", true},
		{"the recovery majority leaves drone 5 out", false},
	} {
		const n = 7 // committee 3..7, leader 7
		ls := newLogSim(t, n, 1, 0)
		s := ls.s
		ls.settle(t, 10*sim.Second)
		require.True(t, ls.node(7).Log().Leading())

		// Only drone 5 hears the leader from now on.
		s.Drop = func(from, to algorithms.NodeID) bool { return from == 7 && to != 5 }
		var pos cmdlog.Position
		s.Call(7, func(core algorithms.Core) {
			var err error
			pos, err = core.(*cmdlog.Node).Propose([]byte("X"))
			require.NoError(t, err)
		})
		s.Run(s.Now()+40*sim.Millisecond, nil)
		for _, id := range []algorithms.NodeID{5, 7} {
			require.True(t, ls.node(id).Log().Has(pos), "%s: drone %d holds X", c.name, id)
		}
		for _, id := range []algorithms.NodeID{1, 2, 3, 4, 6} {
			require.False(t, ls.node(id).Log().Has(pos), "%s: drone %d holds X", c.name, id)
		}
		require.Empty(t, ls.appliedBy("X"), "%s: X is not committed yet", c.name)
		s.Crash(7)

		// Drone 6 leads next. Its recovery hears drone 5, or not.
		if c.adopted {
			// Drone 3's promise is lost, so the majority is 4, 5, 6.
			s.Drop = func(from, to algorithms.NodeID) bool { return from == 3 && to == 6 && !ls.node(6).Log().Leading() }
		} else {
			s.Drop = func(from, to algorithms.NodeID) bool {
				return (from == 5 || to == 5) && !ls.node(6).Log().Leading()
			}
		}
		s.Run(s.Now()+3*sim.Second, func() bool { return ls.node(6).Log().Leading() })
		require.True(t, ls.node(6).Log().Leading(), c.name)
		assert.Equal(t, c.adopted, ls.node(6).Log().Has(pos), c.name)
		s.Drop = nil
		s.Call(6, func(core algorithms.Core) {
			_, err := core.(*cmdlog.Node).Propose([]byte("Y"))
			require.NoError(t, err)
		})
		s.Run(s.Now()+5*sim.Second, nil)

		live := ls.live()
		assert.Equal(t, live, ls.appliedBy("Y"), c.name)
		if c.adopted {
			assert.Equal(t, live, ls.appliedBy("X"), "%s: X is committed by the new leader", c.name)
			assert.Equal(t, "X", string(ls.at[pos.Index].Data), c.name)
		} else {
			assert.Empty(t, ls.appliedBy("X"), "%s: X is applied by no one", c.name)
			assert.False(t, ls.node(5).Log().Has(pos), "%s: drone 5's copy is overwritten", c.name)
			assert.Equal(t, cmdlog.KindNoop, ls.at[pos.Index].Kind, "%s: the new leader's no-op took X's place", c.name)
		}
		assert.Zero(t, s.Stats().Violations["order"], c.name)
	}
}

// The same scenario with loss, a random member holding the command and a
// random crash time: the command is applied by every live drone or by
// none, and the logs agree.
func TestLogCommandAtOldLeaderAndOneMemberSweep(t *testing.T) {
	committed, lost := 0, 0
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 100)); seed++ {
		ls := newLogSim(t, 7, seed, 0.1)
		s := ls.s
		ls.settle(t, 20*sim.Second)
		holder := algorithms.NodeID(3 + s.Rand().IntN(4))
		s.Drop = func(from, to algorithms.NodeID) bool { return from == 7 && to != holder }
		s.Call(7, func(core algorithms.Core) {
			_, err := core.(*cmdlog.Node).Propose([]byte("X"))
			require.NoError(t, err)
		})
		s.Run(s.Now()+sim.Time(s.Rand().Int64N(int64(300*sim.Millisecond))), nil)
		s.Crash(7)
		s.Drop = nil
		s.Run(s.Now()+10*sim.Second, nil)
		by := ls.appliedBy("X")
		switch {
		case len(by) == 0:
			lost++
		case fmt.Sprint(by) == fmt.Sprint(ls.live()):
			committed++
		default:
			t.Fatalf("seed=%d: X applied by %v of %v", seed, by, ls.live())
		}
		require.Zero(t, s.Stats().Violations["order"], "seed=%d", seed)
	}
	t.Logf("X committed in %d runs, applied by no one in %d", committed, lost)
}

// Safety beyond the acceptance conditions: partitions, live leaders
// wrongly suspected by everyone (two leaders per term), live drones
// wrongly suspected by one, and crashes of any drone, a committee majority
// included, with restarts. Liveness is not promised meanwhile; at the end
// everyone is up and healed and must converge. Every applied entry must
// agree.
func TestLogSafetyUnderChaos(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 100)); seed++ {
		const n = 7
		ls := newLogSim(t, n, seed, 0.2)
		s := ls.s
		r := s.Rand()
		ids := make([]algorithms.NodeID, n)
		for i := range ids {
			ids[i] = algorithms.NodeID(i + 1)
		}
		cmd := 0
		var work func()
		work = func() {
			for _, id := range ids {
				if s.Up(id) && ls.node(id).Log().Leading() && r.IntN(2) == 0 {
					cmd++
					s.Call(id, func(c algorithms.Core) { _, _ = c.(*cmdlog.Node).Propose(workload(cmd)) })
				}
			}
			if s.Now() < 40*sim.Second {
				s.After(50*sim.Millisecond, work)
			}
		}
		s.After(sim.Second, work)
		var chaos func()
		chaos = func() {
			if s.Now() > 30*sim.Second {
				return
			}
			switch r.IntN(6) {
			case 0:
				var g []algorithms.NodeID
				for _, id := range ids {
					if r.IntN(2) == 0 {
						g = append(g, id)
					}
				}
				s.Partition(g)
				s.After(sim.Time(r.Int64N(int64(4*sim.Second))), s.Heal)
			case 1:
				a, b := ids[r.IntN(n)], ids[r.IntN(n)]
				s.Notify(a, b, false, true)
				s.After(sim.Time(r.Int64N(int64(3*sim.Second))), func() { s.Notify(a, b, true, true) })
			case 2:
				var top algorithms.NodeID
				for _, id := range ids {
					if s.Up(id) {
						top = id
					}
				}
				for _, o := range ids {
					s.Notify(o, top, false, true)
				}
				s.After(sim.Time(r.Int64N(int64(3*sim.Second))), func() {
					for _, o := range ids {
						s.Notify(o, top, true, true)
					}
				})
			default:
				id := ids[r.IntN(n)]
				if s.Up(id) {
					s.Crash(id)
					s.After(sim.Time(r.Int64N(int64(5*sim.Second))), func() {
						ls.applied[id] = nil
						require.NoError(t, s.Restart(id, true))
					})
				}
			}
			s.After(sim.Time(r.Int64N(int64(2*sim.Second))), chaos)
		}
		s.After(2*sim.Second, chaos)
		s.Run(100*sim.Second, nil)

		require.Zero(t, s.Stats().Violations["order"], "seed=%d", seed)
		var top uint32
		for _, id := range ids {
			top = max(top, uint32(len(ls.applied[id])))
		}
		require.Greater(t, top, uint32(10), "seed=%d: hardly anything committed", seed)
		for _, id := range ids {
			require.True(t, s.Up(id), "seed=%d", seed)
			assert.Equal(t, top, uint32(len(ls.applied[id])), "seed=%d: drone %d did not converge", seed, id)
		}
	}
}

// A show upload beside the command log, at 60% of the channel and 10%
// loss, with the leader crashing during it: every command commits in
// order, every drone comes to hold the show, and a command a second
// commits within half a second even during the upload, though later than
// without one.
func TestLogBesideUpload(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		base := Log{Common: Common{Drones: 20, Seed: seed, Loss: 0.1}, Commands: 15, Committee: 5,
			Interval: sim.Second, CrashLeader: true}
		alone, err := RunLog(base)
		require.NoError(t, err)
		require.False(t, alone.Failed(), "seed %d: %+v", seed, alone)
		withUpload := base
		withUpload.UploadSize = 30000
		r, err := RunLog(withUpload)
		require.NoError(t, err)
		require.False(t, r.Failed(), "seed %d: %+v", seed, r)
		require.NotNil(t, r.UploadSeconds, "seed %d: not every drone holds the show", seed)
		assert.Zero(t, r.UploadUnfinished, "seed %d", seed)
		assert.Equal(t, 20, r.Drones, "seed %d: the drones, the ground station not counted", seed)
		require.Positive(t, r.CommandsDuringUpload, "seed %d", seed)
		require.NotNil(t, r.CommitLatencyMsP99Upload, "seed %d", seed)
		assert.Less(t, *r.CommitLatencyMsP99Upload, 500.0, "seed %d", seed)
		assert.Greater(t, *r.CommitLatencyMsP50Upload, alone.CommitLatencyMsP50, "seed %d: the upload shares the channel", seed)
		require.NotNil(t, r.FailoverMs, "seed %d", seed)
		t.Logf("seed %d: commit latency p50 %.0f ms, p99 %.0f ms alone; %.0f ms, %.0f ms during the upload (%d commands, %.1f s); failover %.0f ms alone, %.0f ms during it",
			seed, alone.CommitLatencyMsP50, alone.CommitLatencyMsP99, *r.CommitLatencyMsP50Upload, *r.CommitLatencyMsP99Upload,
			r.CommandsDuringUpload, *r.UploadSeconds, *alone.FailoverMs, *r.FailoverMs)
	}
}
