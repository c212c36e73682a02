package station_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
)

// A group holds one station per network: a command is committed in each
// network's log, an emergency reaches every network, and a network whose
// leader does not answer is named in the error.
func TestGroupSpansNetworks(t *testing.T) {
	clk := newFakeClock()
	nets := []*testNet{
		{t: t, hub: link.NewHub(), clk: clk, network: 7},
		{t: t, hub: link.NewHub(), clk: clk, network: 8},
		{t: t, hub: link.NewHub(), clk: clk, network: 9},
	}
	var cfgs []station.Config
	for _, n := range nets {
		l, err := n.hub.Join(station.SystemID)
		require.NoError(t, err)
		cfgs = append(cfgs, station.Config{Link: l, Key: testKey, Network: n.network, Clock: clk, Logger: quiet(), FirstSeq: 10})
	}
	g, err := station.OpenGroup(cfgs)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, g.Close()) })

	a, b := nets[0].drone(1, testKey), nets[1].drone(1, testKey)
	a.lead(1)
	b.lead(4)
	b.set(func() { b.entries = []uint32{1, 2, 3} }) // network 8's log is longer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var res []station.Result
	go func() {
		defer close(done)
		res, err = g.Send(ctx, command.Arm{})
	}()
	waitFor(t, "networks 7 and 8 accept", func() bool {
		return g.Station(7).Snapshot().Counters.Accepted == 1 && g.Station(8).Snapshot().Counters.Accepted == 1
	})
	cancel()
	<-done
	require.ErrorIs(t, err, station.ErrNoLeader)
	assert.ErrorContains(t, err, "network 9:")
	assert.NotContains(t, err.Error(), "network 7:")
	assert.Equal(t, uint32(1), res[0].Index)
	assert.Equal(t, uint32(4), res[1].Index)
	assert.Equal(t, uint32(10), res[0].Seq)
	assert.Zero(t, res[2].Index)

	cmds, err := g.Emergency(context.Background(), emergency.Return)
	require.NoError(t, err)
	require.Len(t, cmds, 3)
	waitFor(t, "the emergency in both networks", func() bool {
		return len(a.emergenciesSeen()) == 1 && len(b.emergenciesSeen()) == 1
	})
	for _, d := range []*fakeDrone{a, b} {
		e, h := d.decodeEmergency(d.emergenciesSeen()[0])
		assert.True(t, emergency.Verify(testKey[:], e.Cmd))
		assert.Equal(t, d.net, h.Network)
		assert.Equal(t, emergency.Return, e.Cmd.Op)
	}
	sn := g.Snapshot()
	require.Len(t, sn, 3)
	assert.Equal(t, []uint8{7, 8, 9}, []uint8{sn[0].Network, sn[1].Network, sn[2].Network})
	assert.Nil(t, g.Station(10))
}

// A group refuses two stations on one network, and closes what it opened.
func TestGroupOneStationPerNetwork(t *testing.T) {
	hub := link.NewHub()
	l1, err := hub.Join(station.SystemID)
	require.NoError(t, err)
	l2, err := link.NewHub().Join(station.SystemID)
	require.NoError(t, err)
	cfg := station.Config{Link: l1, Key: testKey, Network: 7, Clock: newFakeClock(), Logger: quiet()}
	cfg2 := cfg
	cfg2.Link = l2
	_, err = station.OpenGroup([]station.Config{cfg, cfg2})
	require.ErrorIs(t, err, station.ErrConfig)
	assert.ErrorContains(t, err, "network 7 given twice")
	_, err = hub.Join(station.SystemID)
	require.NoError(t, err, "the first station was closed, and left the hub")
}
