package dronecli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/firmware/fcvehicle"
	"github.com/skyquorum/skyquorum/firmware/runner"
)

// heartbeatWait is how long the drone waits for its flight controller at
// the start (a variable for tests).
var heartbeatWait = 60 * time.Second

// tick is the swarm node's tick period (the runner's default).
const tick = 10 * time.Millisecond

// listen is how long a drone without state listens for a running swarm
// before its node starts (zero: the runner's default); tests shorten it.
var listen time.Duration

// runDrone connects the flight controller and runs the swarm runner on
// what prepare opened until ctx ends.
func runDrone(ctx context.Context, d *drone) error {
	cfg := d.cfg
	c, err := autopilot.New(autopilot.Config{Endpoint: fcEndpoint(cfg.FlightController), SystemID: cfg.SystemID(), Logger: d.log})
	if err != nil {
		return fmt.Errorf("flight controller: %w", err)
	}
	defer c.Close()
	wctx, cancel := context.WithTimeout(ctx, heartbeatWait)
	ap, err := c.WaitHeartbeat(wctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("no HEARTBEAT from an ArduPilot or PX4 flight controller within %v: is it powered, and are the port and baud rate right? (%w)", heartbeatWait, err)
	}
	if err := c.RequestTelemetry(ctx); err != nil {
		return fmt.Errorf("flight controller: %w", err)
	}
	d.log.Info("flight controller connected", "autopilot", ap.String())
	vc := fcvehicle.Config{Client: c, Autopilot: ap, Logger: d.log}
	if d.show != nil {
		vc.Frame, vc.Home = autopilot.FrameOf(d.show), d.show.Drones[cfg.Part()-1].Home
	}
	veh, err := fcvehicle.New(vc)
	if err != nil {
		return err
	}
	defer veh.Close() // before the client closes (defers run last first)
	if p := armedPath(); p != "" {
		actx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { markArmed(actx, p, veh.State, d.log); close(done) }()
		defer func() { stop(); <-done }()
	}

	rc, err := runnerConfig(d, veh)
	if err != nil {
		return err
	}
	r, err := runner.New(rc)
	if err != nil {
		return err
	}
	if d.journal != "" {
		if err := runJournal(ctx, d.journal, cfg.ID, d.clock, r); err != nil {
			return err
		}
	}
	if d.control != "" {
		a, err := serveControl(ctx, d.control, r)
		if err != nil {
			return err
		}
		d.log.Info("control socket", "addr", a.String())
	}
	if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runnerConfig is the runner's configuration for the drone, its flight
// controller driven through veh.
func runnerConfig(d *drone, veh runner.Vehicle) (runner.Config, error) {
	cfg := d.cfg
	members := make([]algorithms.NodeID, len(cfg.Members))
	for i, m := range cfg.Members {
		members[i] = algorithms.NodeID(m)
	}
	rc := runner.Config{
		ID:        algorithms.NodeID(cfg.ID),
		Members:   members,
		Link:      d.link,
		Key:       d.key,
		Network:   cfg.Network,
		SystemID:  cfg.SystemID(),
		Baud:      cfg.Radio.Baud,
		StateDir:  d.stateDir,
		Logger:    d.log,
		Vehicle:   veh,
		Show:      d.show,
		ShowDrone: cfg.Part(),
		OnStop:    runner.StopAction(cfg.Failsafe.OnStop),
		// Validate allows a threshold with the return action only.
		LowBattery: cfg.Failsafe.LowBatteryBelow,
		Listen:     listen,
		Tick:       tick,
		// The geofence failsafe lands (the only action the config
		// takes); link loss continues, holds or lands.
		LinkLossAfter: cfg.Failsafe.LinkLoss.After,
	}
	switch cfg.Failsafe.LinkLoss.Action {
	case config.ActionHold:
		rc.LinkLoss = runner.LinkHold
	case config.ActionLand:
		rc.LinkLoss = runner.LinkLand
	}
	if g, ok, err := cfg.Grid(); err != nil {
		return runner.Config{}, err
	} else if ok {
		rc.Grid = &g
	}
	if a := cfg.Airspace; a != nil && a.Lease > 0 {
		rc.Swarm.LeaseTicks = int((a.Lease + tick - 1) / tick)
	}
	if d.clock != nil {
		rc.Clock = d.clock
	}
	return rc, nil
}
