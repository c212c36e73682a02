package autopilot

import (
	"math"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
)

// SetpointFunc gives the setpoint for a Clock time: latitude and longitude
// (degrees), altitude above the autopilot's home (m), and velocity north,
// east and down (m/s). Frame.Setpoint computes one from a show position. A
// NaN position sends nothing; a NaN velocity sends the position alone.
type SetpointFunc func(now time.Time) (lat, lon, relAlt, vN, vE, vD float64)

// setpointTypeMask sends position and velocity and ignores acceleration,
// yaw and yaw rate: the autopilot keeps its heading.
const setpointTypeMask = ardupilotmega.POSITION_TARGET_TYPEMASK_AX_IGNORE |
	ardupilotmega.POSITION_TARGET_TYPEMASK_AY_IGNORE |
	ardupilotmega.POSITION_TARGET_TYPEMASK_AZ_IGNORE |
	ardupilotmega.POSITION_TARGET_TYPEMASK_YAW_IGNORE |
	ardupilotmega.POSITION_TARGET_TYPEMASK_YAW_RATE_IGNORE

type streamer struct {
	stop chan struct{}
	done chan struct{}
	sent int // setpoints sent, under Client.mu
}

// StartSetpoints streams SET_POSITION_TARGET_GLOBAL_INT (frame
// MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, position and velocity) at SetpointRate
// from fn, replacing a stream already running. Start it before switching
// PX4 to OFFBOARD; ArduPilot flies the setpoints in GUIDED once it has
// taken off.
func (c *Client) StartSetpoints(fn SetpointFunc) {
	c.StopSetpoints()
	s := &streamer{stop: make(chan struct{}), done: make(chan struct{})}
	c.mu.Lock()
	c.stream = s
	c.mu.Unlock()
	period := time.Duration(float64(time.Second) / c.cfg.SetpointRate)
	start := c.clock.Now()
	go func() {
		defer close(s.done)
		for k := 1; ; k++ {
			now := c.clock.Now()
			lat, lon, alt, vn, ve, vd := fn(now)
			c.mu.Lock()
			target := c.target
			c.mu.Unlock()
			if target != 0 && !math.IsNaN(lat+lon+alt) && !math.IsInf(lat+lon+alt, 0) {
				mask := setpointTypeMask
				if v := vn + ve + vd; math.IsNaN(v) || math.IsInf(v, 0) {
					// No velocity: fly to the position alone.
					mask |= ardupilotmega.POSITION_TARGET_TYPEMASK_VX_IGNORE |
						ardupilotmega.POSITION_TARGET_TYPEMASK_VY_IGNORE |
						ardupilotmega.POSITION_TARGET_TYPEMASK_VZ_IGNORE
					vn, ve, vd = 0, 0, 0
				}
				c.write(&ardupilotmega.MessageSetPositionTargetGlobalInt{
					TimeBootMs:      uint32(now.Sub(start).Milliseconds()),
					TargetSystem:    target,
					TargetComponent: autopilotComp,
					CoordinateFrame: ardupilotmega.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
					TypeMask:        mask,
					LatInt:          int32(math.Round(lat * 1e7)),
					LonInt:          int32(math.Round(lon * 1e7)),
					Alt:             float32(alt),
					Vx:              float32(vn), Vy: float32(ve), Vz: float32(vd),
				})
				c.mu.Lock()
				s.sent++
				c.mu.Unlock()
			}
			// The k-th setpoint is due k periods after the start, so that a
			// slow callback or write does not lower the rate; a stream that
			// fell behind by more than a period skips ahead.
			wait := start.Add(time.Duration(k) * period).Sub(c.clock.Now())
			if wait < 0 {
				k += int(-wait / period)
				wait = 0
			}
			select {
			case <-s.stop:
				return
			case <-c.done:
				return
			case <-c.clock.After(wait):
			}
		}
	}()
}

// StopSetpoints ends the setpoint stream (ArduPilot then holds; PX4 leaves
// OFFBOARD for Hold after half a second).
func (c *Client) StopSetpoints() {
	c.mu.Lock()
	s := c.stream
	c.stream = nil
	c.mu.Unlock()
	if s == nil {
		return
	}
	close(s.stop)
	<-s.done
}

// streaming reports whether setpoints have been streaming for long enough
// for PX4 to accept OFFBOARD (it wants more than 2 Hz before the switch):
// it waits up to half a second for a few to have gone out.
func (c *Client) streaming() bool {
	deadline := c.clock.After(500 * time.Millisecond)
	for {
		c.mu.Lock()
		s := c.stream
		sent := 0
		if s != nil {
			sent = s.sent
		}
		c.mu.Unlock()
		switch {
		case s == nil:
			return false
		case sent >= 3:
			return true
		}
		select {
		case <-deadline:
			return false
		case <-c.clock.After(20 * time.Millisecond):
		}
	}
}

// LED_CONTROL as ArduPilot's AP_Notify takes it: any instance and pattern
// reach the RGB LED drivers, which read custom_len 3 as a solid colour
// custom_bytes[0..2] = red, green, blue (and 4 as that colour blinking at
// custom_bytes[3] Hz). The autopilot obeys only with NTF_LED_OVERRIDE = 1.
const (
	ledInstance = 42
	ledPattern  = 42
)

// SetLight sets the drone's light colour. On ArduPilot it sends
// LED_CONTROL (solid colour; needs NTF_LED_OVERRIDE = 1). PX4 has no
// handler for LED_CONTROL: the call does nothing there, and logs so once.
func (c *Client) SetLight(r, g, b uint8) error {
	target, ap, err := c.targetSystem()
	if err != nil {
		return err
	}
	if ap != ArduPilot {
		c.mu.Lock()
		warned := c.ledWarned
		c.ledWarned = true
		c.mu.Unlock()
		if !warned {
			c.log.Info("autopilot: PX4 has no LED_CONTROL; light colours are not shown", "autopilot", ap)
		}
		return nil
	}
	m := &ardupilotmega.MessageLedControl{
		TargetSystem: target, TargetComponent: autopilotComp,
		Instance: ledInstance, Pattern: ledPattern, CustomLen: 3,
	}
	m.CustomBytes[0], m.CustomBytes[1], m.CustomBytes[2] = r, g, b
	c.write(m)
	return nil
}
