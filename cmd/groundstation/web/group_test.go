package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// TestGroupSource shows a group of two networks whose drones have not
// reported yet: every member is listed, silent and not ready, no leader;
// a command the stations cannot send is logged with its error.
func TestGroupSource(t *testing.T) {
	key := wire.Key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}
	var cfgs []station.Config
	for j, members := range [][]uint16{{1, 2, 3}, {251, 252}} {
		l, err := link.NewHub().Join(station.SystemID)
		if err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, station.Config{Link: l, Key: key, Network: uint8(j), Members: members, Logger: slog.New(slog.DiscardHandler)})
	}
	g, err := station.OpenGroup(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	src := NewGroupSource(g, 57600)
	sh, err := demo.New(5)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.SetShow(sh); err != nil {
		t.Fatal(err)
	}
	sn := src.Snapshot()
	if len(sn.Drones) != 5 || len(sn.Leaders) != 2 || len(sn.Channels) != 2 {
		t.Fatalf("%d drones, %d leaders, %d channels; want 5, 2, 2", len(sn.Drones), len(sn.Leaders), len(sn.Channels))
	}
	for _, d := range sn.Drones {
		if d.Ready || d.Live || d.Reported || d.State != "silent" || d.AgeMS != -1 || d.Leader {
			t.Errorf("drone %d: %+v; want silent, not ready", d.ID, d)
		}
	}
	if sn.Drones[3].ID != 251 || sn.Drones[3].Network != 1 {
		t.Errorf("fourth drone %d of network %d, want 251 of 1", sn.Drones[3].ID, sn.Drones[3].Network)
	}
	if !sn.Show.Loaded || sn.Show.Running || sn.Show.Duration != sh.Duration().Seconds() || len(sn.Fence) != len(sh.Fence.Polygon) {
		t.Errorf("show clock %+v, fence %v", sn.Show, sn.Fence)
	}
	// The cells drones hold are shaded in the grid they use: the show's.
	grid, err := runner.ShowGrid(sh)
	if err != nil {
		t.Fatal(err)
	}
	if sn.Grid == nil || *sn.Grid != *GridOf(grid) {
		t.Errorf("grid %+v, want the show's %+v", sn.Grid, grid)
	}
	// No swarm time yet: no clock error bound (-1), not a bound of 0.
	for _, c := range sn.Channels {
		if c.ClockErrMS != -1 {
			t.Errorf("network %d: clock error %v ms before any swarm time, want -1", c.Network, c.ClockErrMS)
		}
	}
	if _, err := src.Command(t.Context(), Command{Op: "start"}); err == nil || !strings.Contains(err.Error(), "swarm time unknown") {
		t.Errorf("START without swarm time: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := src.Command(ctx, Command{Op: "arm"}); err == nil {
		t.Error("ARM without a leader succeeded")
	} else if !errors.Is(err, station.ErrNoLeader) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ARM without a leader: %v", err)
	}
	log := src.Snapshot().Log
	if len(log) != 2 || log[0].Command != "ARM" || log[0].Error == "" || log[0].Of != 3 || log[1].Network != 1 || log[1].Of != 2 {
		t.Fatalf("log %+v; want ARM failed on both networks, of 3 and 2 drones", log)
	}
	// An emergency goes to every network at once, needing no leader.
	if _, err := src.Command(t.Context(), Command{Op: "hold", Emergency: true, Confirm: true}); err != nil {
		t.Fatalf("emergency HOLD: %v", err)
	}
	log = src.Snapshot().Log
	if len(log) != 4 || !strings.HasPrefix(log[2].Command, "EMERGENCY HOLD") || log[2].Error != "" || log[3].Network != 1 {
		t.Fatalf("log %+v; want an emergency HOLD on both networks", log[2:])
	}
	// The server encodes the group's picture.
	var f frame
	if err := json.Unmarshal(New(Config{Source: src}).Frame(), &f); err != nil || len(f.Drones) != 5 {
		t.Fatalf("frame: %v, %d drones", err, len(f.Drones))
	}
}

// A station synced with a leader but without a sample of a new leader's
// time has an unbounded error (math.MaxInt64): the plot shows a gap, not
// a bound of 9 223 372 036 854 ms.
func TestClockErrMS(t *testing.T) {
	for _, tc := range []struct {
		synced bool
		bound  time.Duration
		want   float64
	}{
		{false, 0, -1},
		{true, 2500 * time.Microsecond, 2.5},
		{true, time.Duration(math.MaxInt64), -1},
		{true, 0, 0},
	} {
		if got := clockErrMS(station.Snapshot{TimeSynced: tc.synced, TimeBound: tc.bound}); got != tc.want {
			t.Errorf("synced %v, bound %v: %v ms, want %v", tc.synced, tc.bound, got, tc.want)
		}
	}
}
