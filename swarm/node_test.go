package swarm_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/command"
)

var key = []byte("0123456789abcdef0123456789abcdef")

// node builds drone id of an n-drone swarm for the simulator; the driver
// passes the drone's simulated clock before every input.
func swarmOf(t *testing.T, cfg sim.Config, opts ...func(*swarm.Config)) (*sim.Sim, []algorithms.NodeID) {
	t.Helper()
	ids := make([]algorithms.NodeID, cfg.Drones)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	incarnation := map[algorithms.NodeID]uint32{}
	var s *sim.Sim
	s, err := sim.New(cfg, func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		inc := incarnation[id]
		incarnation[id]++
		c := swarm.Config{
			ID: id, Members: ids, Incarnation: inc, Seed: cfg.Seed*1000 + uint64(id),
			TickNanos: int64(10 * sim.Millisecond), Baud: 57600, Key: key,
			BullyTimeout: 200,
		}
		for _, o := range opts {
			o(&c)
		}
		n, err := swarm.New(c, restored)
		if err != nil {
			return nil, err
		}
		return clocked{n, func() int64 { return int64(s.LocalTime(id)) }}, nil
	})
	require.NoError(t, err)
	return s, ids
}

// clocked feeds a node its simulated local clock before every input.
type clocked struct {
	*swarm.Node
	now func() int64
}

func (c clocked) Step(from algorithms.NodeID, m algorithms.Message) error {
	c.SetClock(c.now())
	return c.Node.Step(from, m)
}

func (c clocked) Tick() {
	c.SetClock(c.now())
	c.Node.Tick()
}

// The composed node elects the highest drone, and a command the leader
// proposes is applied by every drone, fault-free and at 10% loss.
func TestNodeElectsAndAppliesCommands(t *testing.T) {
	for _, loss := range []float64{0, 0.1} {
		s, ids := swarmOf(t, sim.Config{Drones: 9, Seed: 3, Loss: loss, ClockOffset: 200 * sim.Millisecond, ClockDriftPPM: 50})
		applied := map[algorithms.NodeID][]string{}
		s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
			if a, ok := ev.(cmdlog.Applied); ok && a.Entry.Kind == cmdlog.KindCommand {
				c, err := command.Decode(a.Entry.Data)
				require.NoError(t, err)
				applied[id] = append(applied[id], c.String())
			}
		})
		leader := algorithms.NodeID(len(ids))
		for i := range 5 {
			s.At(sim.Time(20+i)*sim.Second, func() {
				s.Call(leader, func(c algorithms.Core) {
					_, err := c.(clocked).Propose(command.Lights{R: uint8(i)})
					require.NoError(t, err, "loss=%v seed=3", loss)
				})
			})
		}
		s.Run(60*sim.Second, nil)
		var want []string
		for i := range 5 {
			want = append(want, command.Lights{R: uint8(i)}.String())
		}
		for _, id := range ids {
			n := s.Core(id).(clocked)
			l, term := n.Leader()
			assert.Equal(t, leader, l, "loss=%v seed=3 drone %d", loss, id)
			assert.Positive(t, term)
			assert.Equal(t, want, applied[id], "loss=%v seed=3 drone %d", loss, id)
		}
	}
}

// A cell holder cut off from everyone is told to leave its cell (its own
// Expired event) more than its margin, the time it has to fly out, before
// any other drone is granted the cell, over many seeds. The waiter's
// quorum leaves the holder out, so it is granted as soon as the holder's
// votes run out; the partition heals later.
func TestNodeCutOffHolderLeavesFirst(t *testing.T) {
	minGap := sim.Time(-1)
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 20)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 9, Seed: seed, Loss: 0.05, ClockOffset: 100 * sim.Millisecond, ClockDriftPPM: 50})
		// The waiter's quorum leaves the holder out, so it is granted
		// as soon as the holder's votes have run out at its voters.
		const holder = algorithms.NodeID(3)
		waiter := algorithms.NodeID(0)
		for _, id := range ids {
			if id != holder && !slices.Contains(mutex.Best(ids)[id], holder) {
				waiter = id
				break
			}
		}
		require.NotZero(t, waiter)
		cell := []airspace.Cell{5}
		var left, granted sim.Time = -1, -1
		s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
			switch ev.(type) {
			case airspace.Expired:
				if id == holder && left < 0 {
					left = s.Now()
				}
			case airspace.Acquired:
				if id == waiter && granted < 0 {
					granted = s.Now()
				}
			}
		})
		// The airspace locks grant nothing for a lease after start.
		s.At(15*sim.Second, func() {
			s.Call(holder, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire(cell)) })
		})
		s.At(30*sim.Second, func() {
			require.True(t, s.Core(holder).(clocked).Locks().Holding(), "seed=%d: the holder never got the cell", seed)
			var others []algorithms.NodeID
			for _, id := range ids {
				if id != holder {
					others = append(others, id)
				}
			}
			s.Partition(others)
			s.Call(waiter, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire(cell)) })
		})
		// Quorums that hold the holder itself can only answer once it is
		// heard again.
		s.At(70*sim.Second, s.Heal)
		s.Run(120*sim.Second, nil)
		require.GreaterOrEqual(t, left, sim.Time(0), "seed=%d: the cut-off holder never left", seed)
		require.GreaterOrEqual(t, granted, sim.Time(0), "seed=%d: the waiter was never granted the cell", seed)
		// The holder is told to leave with its margin (a tenth of the
		// lease) to fly out: out before anyone else is granted the cell.
		assert.Less(t, left+sim.Second, granted, "seed=%d: granted at %v, holder told to leave at %v", seed, granted, left)
		if minGap < 0 || granted-left < minGap {
			minGap = granted - left
		}
	}
	t.Logf("the cut-off holder was told to leave at least %v before anyone else was granted its cell", minGap)
}

// The swarm's own commands, and malformed ones, are refused at Propose.
func TestProposeRefusesSystemAndMalformed(t *testing.T) {
	n, err := swarm.New(swarm.Config{ID: 1, Members: []algorithms.NodeID{1}, TickNanos: int64(10 * sim.Millisecond), Baud: 57600, Key: key}, nil)
	require.NoError(t, err)
	_, err = n.Propose(command.Activate{Epoch: 1, At: 1})
	assert.ErrorIs(t, err, swarm.ErrSystemCommand)
	_, err = n.Propose(command.View{Epoch: 1, Retired: 2, Replacement: 3})
	assert.ErrorIs(t, err, swarm.ErrSystemCommand)
	_, err = n.Propose(command.Takeoff{})
	assert.ErrorIs(t, err, command.ErrMalformed)
	_, err = n.Propose(nil)
	assert.ErrorIs(t, err, command.ErrMalformed)
}
