package scenario

import (
	"bytes"
	"log/slog"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// logTo sends what the default logger logs (the simulator's violations)
// to a buffer for the rest of the test.
func logTo(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

// The whole node, fault-free: no checker violation (every message a drone
// sends is one the radio carries), one leader, every command applied by
// every drone in one order, airspace entries without two drones in a cell,
// and membership within its airtime budget.
func TestShowFaultFree(t *testing.T) {
	logged := logTo(t)
	r, err := RunShow(Show{Common: Common{Drones: 30, Seed: 2}, Networks: 1, Duration: 120 * sim.Second, Settle: 30 * sim.Second})
	require.NoError(t, err)
	assert.NotContains(t, logged.String(), "violation", "seed=2")
	assert.False(t, r.Failed(), "seed=2: %+v", r)
	assert.Equal(t, 30, r.Leader)
	assert.Equal(t, 1, r.LeadersPerTermMax)
	assert.Positive(t, r.CommandsCommitted)
	assert.Equal(t, r.CommandsCommitted, r.CommandsAppliedMin)
	assert.Positive(t, r.LockEntries)
	assert.Zero(t, r.ME1Violations)
	// A cell costs at least its K+1 data frames (K = 6 at 30 drones),
	// renewals and acknowledgements on top.
	require.NotNil(t, r.LockFramesPerEntry, "seed=2")
	assert.GreaterOrEqual(t, *r.LockFramesPerEntry, 7.0, "seed=2")
	assert.LessOrEqual(t, *r.LockFramesPerEntry, 20.0, "seed=2")
	assert.LessOrEqual(t, r.HeartbeatAirtimeShare, 0.05)
	// The clocks agree (no offset or drift asked for): the leader's
	// beacons, corrected for their time on air, leave no error.
	assert.LessOrEqual(t, r.ClockErrorMsMax, 0.5, "seed=2")
	// The show: loaded, armed, flown with pauses and landed, every
	// command carried out, every drone in the same phase, in step with
	// the leader within the clock error.
	assert.Equal(t, "LANDING", r.ShowPhase)
	assert.Zero(t, r.ShowPhaseMismatch)
	assert.Zero(t, r.CommandsRefused)
	assert.Zero(t, r.ShowOutOfSyncDroneSeconds)
	assert.LessOrEqual(t, r.ShowTimeErrorMsMax, r.ClockErrorMsMax+1)
	assert.Zero(t, r.ViewsInForce, "no voter died")
	// Separation: every vehicle on its circle in phase, 3 m from its
	// neighbours but for a 100 ms update at START (2.4 m).
	assert.Zero(t, r.SeparationViolations, "seed=2")
	assert.Zero(t, r.SeparationAtRisk, "seed=2")
	assert.Zero(t, r.FailsafeVehicles, "seed=2")
	require.NotNil(t, r.MinSeparationM, "seed=2")
	assert.GreaterOrEqual(t, *r.MinSeparationM, 2.0, "seed=2")
}

// The fault-free figures at 250 drones on one 57600-baud network:
// all swarm traffic, heartbeats included, within a fifth of the channel,
// and swarm time within 100 ms of the leader's at every drone. Counted as
// the radio encodes the frames, the traffic takes 0.2007 (seed 1), just
// above the fifth: heartbeats and time sync travel in compact messages of
// their own (0.211 when they went in SWARM_MEMBER and SWARM_MULTICAST), but
// their budgets are shares of the channel, so shorter frames make them
// more frequent rather than cheaper. With the airspace locks' REQUEST,
// RENEW and YES as plain frames, acknowledged by the protocol's own
// answers, it takes 0.154 (0.188 through the reliable delivery layer).
// The test holds the measured share.
func TestShow250FaultFree(t *testing.T) {
	if testing.Short() {
		t.Skip("250 drones for 120 s of simulated time")
	}
	r, err := RunShow(Show{Common: Common{Drones: 250, Seed: 1}, Networks: 1, Duration: 120 * sim.Second, Settle: 30 * sim.Second})
	require.NoError(t, err)
	assert.False(t, r.Failed(), "seed=1: %+v", r)
	assert.Equal(t, r.CommandsCommitted, r.CommandsAppliedMin, "seed=1")
	assert.LessOrEqual(t, r.HeartbeatAirtimeShare, 0.05, "seed=1")
	assert.LessOrEqual(t, r.CoordinationAirtimeShare, 0.17, "seed=1")
	assert.Less(t, r.ClockErrorMsMax, 100.0, "seed=1")
	// Quorums of 17 (the plane of order 16): 17.9 lock frames per cell
	// with REQUEST, RENEW and YES as plain frames; 21.5 when they went
	// through the reliable delivery layer, each acknowledged with a frame
	// of its own (23.4 with the quorums of 18 of the plane of order 17).
	require.NotNil(t, r.LockFramesPerEntry, "seed=1")
	assert.Less(t, *r.LockFramesPerEntry, 20.0, "seed=1")
}

// The leader of 250 drones crashes: the drone next in line hears none of
// its heartbeats (one frame every 250 ms at least) for 1.75 s and takes
// over at once, and every live drone names it within 2 s of the crash,
// in simulated time. No term is elected while a leader lives.
func TestShow250FailoverWithin2s(t *testing.T) {
	if testing.Short() {
		t.Skip("250 drones for 180 s of simulated time")
	}
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		r, err := RunShow(Show{
			Common: Common{Drones: 250, Seed: seed}, Networks: 1, Duration: 60 * sim.Second, Settle: 120 * sim.Second,
			CrashLeader: true,
		})
		require.NoError(t, err)
		require.NotNil(t, r.LeaderFailoverMs, "seed=%d: no failover", seed)
		assert.Less(t, *r.LeaderFailoverMs, 2000.0, "seed=%d", seed)
		assert.Equal(t, 249, r.Leader, "seed=%d", seed)
		assert.Equal(t, 2, r.Terms, "seed=%d", seed)
		assert.Zero(t, r.TermsWhileLeaderAlive, "seed=%d", seed)
		assert.Equal(t, 1, r.LeadersPerTermMax, "seed=%d", seed)
		assert.Empty(t, Failures(r), "seed=%d", seed)
	}
}

// Loss, clock offset and drift, a leader crash and other crashes with
// restarts: nothing committed is lost or reordered and no two drones share
// a cell, every live drone applies every command and every airspace
// request is granted by the end of the settling period (the exit rule
// passes), and swarm time stays within 250 ms, over 20 seeds at 20 drones (the 100-seed campaign at 250
// drones is a command line, docs/swarm.md).
func TestShowUnderFaults(t *testing.T) {
	for _, election := range []string{"bully", "ring"} {
		t.Run(election, func(t *testing.T) { testShowUnderFaults(t, election) })
	}
}

func testShowUnderFaults(t *testing.T, election string) {
	views, failovers, atRisk := 0, 0, 0
	count := seeds.Count(t, 20)
	for seed := uint64(1); seed <= uint64(count); seed++ {
		r, err := RunShow(Show{
			Common:   Common{Drones: 20, Seed: seed, Loss: 0.1},
			Networks: 1, Duration: 120 * sim.Second, Settle: DefaultSettle, CrashLeader: true, Crash: 0.05, Restart: true,
			ClockOffset: 500 * sim.Millisecond, ClockDrift: 50, Election: election,
		})
		require.NoError(t, err)
		assert.Equal(t, election, r.Election)
		assert.Equal(t, 1, r.LeadersPerTermMax, "seed=%d", seed)
		assert.Zero(t, r.LeaderActionViolations, "seed=%d", seed)
		if r.LeaderFailoverMs != nil {
			failovers++
		}
		assert.Empty(t, Failures(r), "seed=%d", seed)
		assert.Zero(t, r.LostCommitted, "seed=%d", seed)
		assert.Equal(t, r.CommandsCommitted, r.CommandsAppliedMin, "seed=%d", seed)
		assert.Zero(t, r.OrderViolations, "seed=%d", seed)
		assert.Zero(t, r.ME1Violations, "seed=%d", seed)
		assert.Zero(t, r.SeparationViolations, "seed=%d", seed)
		atRisk += r.SeparationAtRisk
		if r.LeaderFailoverMs != nil {
			assert.Positive(t, r.FailsafeVehicles, "seed=%d: the crashed leader's vehicle at least", seed)
		}
		assert.Less(t, r.ClockErrorMsMax, 250.0, "seed=%d", seed)
		assert.Zero(t, r.ShowPhaseMismatch, "seed=%d", seed)
		assert.Zero(t, r.CommandsRefused, "seed=%d", seed)
		assert.Less(t, r.ShowTimeErrorMsMax, 250.0, "seed=%d", seed)
		assert.Equal(t, r.ViewsInForce, r.ViewsInForceMin, "seed=%d: a live drone is in another view", seed)
		assert.GreaterOrEqual(t, len(r.VotersRetired), r.ViewsInForce, "seed=%d", seed)
		views += r.ViewsInForce
	}
	// Crashed drones' vehicles hold, then land, and drones out of sync
	// hold, while their neighbours fly on: some come closer than the
	// minimum distance, off the swarm's planned paths, so at risk and not
	// violations.
	assert.Positive(t, atRisk)
	// Crashed voters are detected within the run at 20 drones, so views
	// change in many of the seeds.
	assert.Positive(t, views)
	// The leader crashes only when the swarm agrees on one at the drawn
	// moment; then a new one takes over.
	assert.Greater(t, failovers, count/2, "failovers measured in %d of %d seeds", failovers, count)
}

// Heavy loss at 50 drones (20% loss, duplication, reordering, a leader
// crash and other crashes with restarts): the swarm spends less on the
// channel instead of more, so that it stays well short of full and every
// live drone holds every committed command by the end. Before waiting
// airspace requests renewed less and busy channels held new acquisitions
// back, these runs took 0.83 to 0.91 of the channel, and the busiest 10 s
// were full; before held-back acquisitions started at staggered shares,
// 0.51 to 0.57. Counted as the radio encodes the frames (longer than the
// cores' own sizes said), seeds 1 to 30 took up to 0.55 of the channel and
// 0.90 of the busiest 10 s, seeds 92 and 63 0.58 and 0.57 (0.92 of their
// busiest 10 s), while held-back acquisitions waited 30 s at most whatever
// the channel's share; waiting longer the busier the channel is
// (airspace, "A budget for new acquisitions"), seeds 1 to 100 take 0.44
// at most, and 0.74 of the busiest 10 s.
func TestShowHeavyLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("50 drones for 120 s of simulated time under heavy loss")
	}
	list := []uint64{92, 63}
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		list = append(list, seed)
	}
	for _, seed := range list {
		r, err := RunShow(Show{
			Common:   Common{Drones: 50, Seed: seed, Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
			Networks: 1, Duration: 120 * sim.Second, CrashLeader: true, Crash: 0.1, Restart: true,
			ClockOffset: 500 * sim.Millisecond, ClockDrift: 50, Settle: 60 * sim.Second,
		})
		require.NoError(t, err)
		assert.LessOrEqual(t, r.CoordinationAirtimeShare, 0.5, "seed=%d", seed)
		assert.Less(t, r.CoordinationAirtimeShareMax10s, 0.8, "seed=%d", seed)
		assert.Empty(t, Failures(r), "seed=%d", seed)
		assert.Zero(t, r.LostCommitted, "seed=%d", seed)
		assert.Zero(t, r.ME1Violations, "seed=%d", seed)
		assert.Zero(t, r.OrderViolations, "seed=%d", seed)
		assert.Zero(t, r.SeparationViolations, "seed=%d", seed)
		assert.Positive(t, r.LockEntries, "seed=%d", seed)
	}
}

// The heavy-loss campaign at 250 drones, seed 11: the leader crashes at
// 44 s, and the drone elected next (249) had four time-sync replies in
// 44 s, none bounding its error within 20 ms. It served its own clock,
// 910 ms from the swarm time the synced drones had, and drones in sync
// with each other flew up to 944 ms apart (6 separation violations). A
// new leader now serves its estimate from its samples, and the followers
// keep their swarm time while their samples of it are loose: 56 ms apart
// (30 ms from the leader) before the leader's beacons; with them and the
// successor's faster takeover, 21.1 ms (18.9 ms).
func TestShow250UnsyncedNewLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("250 drones for 120 s of simulated time under heavy loss")
	}
	for _, seed := range []uint64{11} {
		r, err := RunShow(Show{
			Common:   Common{Drones: 250, Seed: seed, Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
			Networks: 1, Duration: 120 * sim.Second, CrashLeader: true, Crash: 0.1, Restart: true,
			ClockOffset: 500 * sim.Millisecond, ClockDrift: 50, Settle: 10 * sim.Second,
		})
		require.NoError(t, err)
		t.Logf("seed=%d: clock_spread_ms_max %.2f, clock_error_ms_max %.2f, separation_violations %d", seed, r.ClockSpreadMsMax, r.ClockErrorMsMax, r.SeparationViolations)
		assert.LessOrEqual(t, r.ClockSpreadMsMax, 40.0, "seed=%d", seed)
		assert.LessOrEqual(t, r.ClockErrorMsMax, 40.0, "seed=%d", seed)
		assert.Zero(t, r.SeparationViolations, "seed=%d", seed)
	}
}

// Clocks up to ±500 ms off and ±50 ppm: from the first sync on, the swarm
// times of the synchronised drones lie within 1 ms of each other at 80
// drones on one network, and no drone's swarm time steps by more than the
// slew allows between two samples (1 ms in 100 ms). Seeds 3 and 10 spread
// them by 110 and 105 ms when the first sample set the clock whatever its
// round trip, by up to 40 ms when a drone took the swarm time up from
// polls bounding its error within 20 ms; the leader's beacons, stamped on
// air and corrected for their time on air, bring it to 0.47 ms.
func TestShowClockSpread(t *testing.T) {
	list := []uint64{3, 10}
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 1)); seed++ {
		list = append(list, 100+seed)
	}
	for _, seed := range list {
		r, err := RunShow(Show{
			Common: Common{Drones: 80, Seed: seed}, Networks: 1, Duration: 60 * sim.Second, Settle: 10 * sim.Second,
			ClockOffset: 500 * sim.Millisecond, ClockDrift: 50,
		})
		require.NoError(t, err)
		t.Logf("seed=%d: clock_spread_ms_max %.2f, show_time_jump_ms_max %.2f, clock_error_ms_max %.2f", seed, r.ClockSpreadMsMax, r.ShowTimeJumpMsMax, r.ClockErrorMsMax)
		assert.LessOrEqual(t, r.ClockSpreadMsMax, 1.0, "seed=%d", seed)
		assert.Positive(t, r.ClockSpreadMsMax, "seed=%d", seed)
		assert.LessOrEqual(t, r.ShowTimeJumpMsMax, 1.01, "seed=%d", seed)
	}
}

// Clock agreement at 250 drones, clocks ±500 ms and ±50 ppm off, the
// leader crashing mid-run: every two live synchronised drones within
// 2 ms of each other throughout, and no drone's show time stepping at the
// failover (the new leader serves the swarm time it had, which its
// followers already share). It was 25 ms before the leader's beacons.
func TestShow250ClockAgreement(t *testing.T) {
	if testing.Short() {
		t.Skip("250 drones for 60 s of simulated time")
	}
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 1)); seed++ {
		r, err := RunShow(Show{
			Common: Common{Drones: 250, Seed: seed}, Networks: 1, Duration: 60 * sim.Second, Settle: 120 * sim.Second,
			CrashLeader: true, ClockOffset: 500 * sim.Millisecond, ClockDrift: 50,
		})
		require.NoError(t, err)
		t.Logf("seed=%d: clock_spread_ms_max %.2f, show_time_jump_ms_max %.2f, terms %d", seed, r.ClockSpreadMsMax, r.ShowTimeJumpMsMax, r.Terms)
		assert.Greater(t, r.Terms, 1, "seed=%d: the leader crashed", seed)
		assert.LessOrEqual(t, r.ClockSpreadMsMax, 2.0, "seed=%d", seed)
		assert.LessOrEqual(t, r.ShowTimeJumpMsMax, 1.01, "seed=%d", seed)
	}
}

// A show upload beside the swarm: the ground station, one more vehicle
// on the channel, broadcasts the show from 5 s before the leader crashes,
// at the default share. The swarm's own heartbeats still detect the
// crash and a new leader takes over while the show is on its way, every
// drone comes to hold the show, commands keep committing, and the
// station counts as no drone.
func TestShowUploadDuringFailover(t *testing.T) {
	const seed = 1
	logged := logTo(t)
	r, err := RunShow(Show{
		Common: Common{Drones: 20, Seed: seed}, Networks: 1, Duration: 120 * sim.Second, Settle: DefaultSettle,
		CrashLeader: true, UploadSize: 40000,
	})
	require.NoError(t, err)
	assert.NotContains(t, logged.String(), "violation", "seed=%d", seed)
	assert.False(t, r.Failed(), "seed=%d: %v", seed, Failures(r))
	assert.Equal(t, 20, r.Drones, "seed=%d", seed)
	assert.Equal(t, 40000, r.UploadSize, "seed=%d", seed)
	require.NotNil(t, r.ShowUploadResult, "seed=%d", seed)
	assert.Equal(t, DefaultUploadShare, r.UploadShare, "seed=%d", seed)
	// Every drone holds the show, within the time the channel share
	// allows it (40 kB at 0.6 of 5760 B/s is 11.6 s) and twice that.
	assert.Zero(t, r.UploadUnfinished, "seed=%d", seed)
	require.NotNil(t, r.UploadSeconds, "seed=%d", seed)
	assert.GreaterOrEqual(t, *r.UploadSeconds, 11.0, "seed=%d", seed)
	assert.LessOrEqual(t, *r.UploadSeconds, 30.0, "seed=%d", seed)
	// The failover completes, by heartbeats, while the upload runs: the
	// crash is 5 s after its start.
	require.NotNil(t, r.LeaderFailoverMs, "seed=%d", seed)
	assert.Positive(t, *r.LeaderFailoverMs, "seed=%d", seed)
	assert.Less(t, *r.LeaderFailoverMs, 30000.0, "seed=%d", seed)
	assert.NotEqual(t, 20, r.Leader, "seed=%d: the highest drone crashed", seed)
	assert.Equal(t, 2, r.Terms, "seed=%d", seed)
	// Commands commit during the upload, and the upload's airtime is
	// not counted as coordination.
	assert.Positive(t, r.CommandsDuringUpload, "seed=%d", seed)
	require.NotNil(t, r.CommitLatencyMsP99Upload, "seed=%d", seed)
	assert.Less(t, *r.CommitLatencyMsP99Upload, 5000.0, "seed=%d", seed)
	assert.Greater(t, r.UploadAirtimeShare, 0.05, "seed=%d", seed)
	assert.Less(t, r.CoordinationAirtimeShare, 0.5, "seed=%d", seed)
	assert.Equal(t, "LANDING", r.ShowPhase, "seed=%d", seed)
	assert.Equal(t, r.CommandsCommitted, r.CommandsAppliedMin, "seed=%d", seed)
}

// The heavy-loss campaign at 250 drones, seed 10: drone 17 lost the swarm
// before take-off and stayed on the ground; back in sync 40 s into the
// show, it took off straight for where its path had got to, overshot it,
// and passed drone 40 at 1.97 m. A drone that missed its take-off now
// stays down (show.LateTakeoff). The run took 0.538 of the channel while
// the airspace locks' REQUEST, RENEW and YES went through the reliable
// delivery layer; as plain frames, 0.494.
func TestShow250HeavyLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("250 drones for 120 s of simulated time under heavy loss")
	}
	const seed = 10
	r, err := RunShow(Show{
		Common:   Common{Drones: 250, Seed: seed, Loss: 0.2, Dup: 0.05, Reorder: 50 * sim.Millisecond},
		Networks: 1, Duration: 120 * sim.Second, CrashLeader: true, Crash: 0.1, Restart: true,
		ClockOffset: 500 * sim.Millisecond, ClockDrift: 50, Settle: sim.Second,
	})
	require.NoError(t, err)
	assert.Zero(t, r.SeparationViolations, "seed=%d", seed)
	assert.Zero(t, r.ME1Violations, "seed=%d", seed)
	assert.LessOrEqual(t, r.CoordinationAirtimeShare, 0.5, "seed=%d", seed)
}

// Several networks start the show at one instant: the ground station
// relays one START to every network's leader in one round, each in its
// network's own swarm time, holds it until every network is ready, and
// gives a network that is ready only later the same instant. Under heavy
// loss and crashes networks lose their leaders at different times; the
// drones of all networks still start within the clocks' error of each
// other, not whole rounds of the ground station (2 s) apart.
func TestShowNetworksStartTogether(t *testing.T) {
	logTo(t)
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 8)); seed++ {
		r, err := RunShow(Show{
			Common: Common{Drones: 40, Seed: seed, Loss: 0.3}, Networks: 4, Duration: 60 * sim.Second, Settle: 20 * sim.Second,
			Crash: 0.3, Restart: true, ClockOffset: 500 * sim.Millisecond, ClockDrift: 50,
		})
		require.NoError(t, err, "seed=%d", seed)
		require.NotNil(t, r.ShowStartSpreadMs, "seed=%d", seed)
		assert.LessOrEqual(t, *r.ShowStartSpreadMs, 50.0, "seed=%d", seed)
		assert.LessOrEqual(t, *r.ShowStartSpreadMs-*r.ShowStartSpreadMsNetwork, 20.0, "seed=%d", seed)
	}
}

// TestShowParallelSameRun: the drones' ticks, their output, the steps of
// a frame heard by 34 drones at once and the vehicles' updates on several
// cores (from parallelFrom drones) give the run the serial simulator gives, to the trace, under loss, crashes,
// restarts and a leader crash. Under -race it also checks that the
// parallel parts touch only their own drone.
func TestShowParallelSameRun(t *testing.T) {
	defer func(from, procs int) {
		parallelFrom = from
		runtime.GOMAXPROCS(procs)
	}(parallelFrom, runtime.GOMAXPROCS(4))
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 2)); seed++ {
		run := func(from int) ShowResult {
			parallelFrom = from
			r, err := RunShow(Show{
				Common:   Common{Drones: 70, Seed: seed, Loss: 0.1},
				Networks: 2, Duration: 40 * sim.Second, Settle: 20 * sim.Second, CrashLeader: true, Crash: 0.05, Restart: true,
				ClockOffset: 500 * sim.Millisecond, ClockDrift: 50,
			})
			require.NoError(t, err, "seed=%d", seed)
			r.RealTimeFactor, r.MemoryBytesPerDrone = 0, 0
			return r
		}
		serial, parallel := run(1000), run(1)
		assert.Equal(t, serial.TraceHash, parallel.TraceHash, "seed=%d", seed)
		assert.Equal(t, serial, parallel, "seed=%d", seed)
		assert.Positive(t, serial.CommandsCommitted, "seed=%d", seed)
	}
}

// A frame a drone's reliable layer rejected fails the run as the other
// violations do; a frame the radio could not encode is reported.
func TestShowFrameViolationsFail(t *testing.T) {
	assert.Equal(t, []string{"frame_violations 2"}, Failures(ShowResult{FrameViolations: 2}))
	assert.Empty(t, Failures(ShowResult{UnencodableFrames: 1, LeadersPerTermMax: 1}))
}
