package autopilot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Identity of the companion computer on the flight controller's link.
const (
	ComponentID   = 191 // MAV_COMP_ID_ONBOARD_COMPUTER
	heartbeatType = 18  // MAV_TYPE_ONBOARD_CONTROLLER
	autopilotComp = 1   // MAV_COMP_ID_AUTOPILOT1
)

// Errors callers test.
var (
	// ErrUnknownAutopilot: no HEARTBEAT from an ArduPilot or PX4 yet.
	ErrUnknownAutopilot = errors.New("autopilot: no heartbeat from an ArduPilot or PX4 flight controller yet")
	// ErrNoAck: the autopilot did not acknowledge a command after every retry.
	ErrNoAck = errors.New("autopilot: no COMMAND_ACK")
	// ErrRefused: the autopilot acknowledged a command with a result other
	// than MAV_RESULT_ACCEPTED (a *CommandError says which).
	ErrRefused = errors.New("autopilot: command refused")
	// ErrNoSetpoints: PX4 takes OFFBOARD only while setpoints stream.
	ErrNoSetpoints = errors.New("autopilot: OFFBOARD needs setpoints streaming first (StartSetpoints)")
	// ErrClosed: the client is closed.
	ErrClosed = errors.New("autopilot: client closed")
)

// CommandError is a command the autopilot refused.
type CommandError struct {
	Command common.MAV_CMD
	Result  common.MAV_RESULT
	// Reason is the autopilot's latest pre-arm failure, for an arm command.
	Reason string
}

func (e *CommandError) Error() string {
	s := fmt.Sprintf("autopilot: %v refused: %v", e.Command, e.Result)
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *CommandError) Unwrap() error { return ErrRefused }

// Config configures a Client.
type Config struct {
	// Endpoint reaches the flight controller: gomavlib.EndpointSerial{Device:
	// "/dev/serial0", Baud: 921600} on a drone, gomavlib.EndpointUDPClient
	// in SITL and tests.
	Endpoint gomavlib.EndpointConf
	// SystemID is the drone's MAVLink system ID, which the flight controller
	// shares.
	SystemID uint8
	// TargetSystem is the flight controller's system ID (optional; default:
	// the first system that sends an ArduPilot or PX4 HEARTBEAT).
	TargetSystem uint8
	// Clock (optional, default SystemClock).
	Clock Clock
	// CommandTimeout is how long to wait for each COMMAND_ACK (optional,
	// default 1 s); CommandRetries how many times to resend (optional,
	// default 3; negative: never).
	CommandTimeout time.Duration
	CommandRetries int
	// SetpointRate is the setpoint stream's rate in Hz (optional, default
	// 20; at least 10).
	SetpointRate float64
	// Logger (optional, default slog.Default()).
	Logger *slog.Logger
}

// Client is a MAVLink link to one flight controller. Its methods are safe
// for concurrent use.
type Client struct {
	cfg   Config
	clock Clock
	log   *slog.Logger
	node  *gomavlib.Node

	mu        sync.Mutex
	tel       Telemetry
	target    uint8
	heard     chan struct{} // closed at the first autopilot HEARTBEAT
	acks      chan *ardupilotmega.MessageCommandAck
	ledWarned bool
	stream    *streamer

	cmdMu     sync.Mutex // one command in flight at a time
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// New opens the link and starts the client's heartbeat (1 Hz) and reader.
func New(cfg Config) (*Client, error) {
	if cfg.SystemID == 0 {
		return nil, errors.New("autopilot: SystemID must be 1 to 255")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = time.Second
	}
	switch {
	case cfg.CommandRetries == 0:
		cfg.CommandRetries = 3
	case cfg.CommandRetries < 0:
		cfg.CommandRetries = 0
	}
	if cfg.SetpointRate <= 0 {
		cfg.SetpointRate = 20
	}
	cfg.SetpointRate = max(cfg.SetpointRate, 10)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	node := &gomavlib.Node{
		Endpoints:        []gomavlib.EndpointConf{cfg.Endpoint},
		Dialect:          ardupilotmega.Dialect,
		OutVersion:       gomavlib.V2,
		OutSystemID:      cfg.SystemID,
		OutComponentID:   ComponentID,
		HeartbeatDisable: true, // sent on the Clock below
	}
	if err := node.Initialize(); err != nil {
		return nil, fmt.Errorf("autopilot: open link: %w", err)
	}
	c := &Client{
		cfg: cfg, clock: cfg.Clock, log: cfg.Logger, node: node,
		target: cfg.TargetSystem,
		heard:  make(chan struct{}),
		acks:   make(chan *ardupilotmega.MessageCommandAck, 8),
		done:   make(chan struct{}),
	}
	c.wg.Add(2)
	go c.read()
	go c.heartbeat()
	return c, nil
}

// Close stops the setpoint stream, the heartbeat and the link.
func (c *Client) Close() {
	c.StopSetpoints()
	c.closeOnce.Do(func() {
		close(c.done)
		c.node.Close() // ends read's event loop
		c.wg.Wait()
	})
}

func (c *Client) heartbeat() {
	defer c.wg.Done()
	for {
		c.sendHeartbeat()
		select {
		case <-c.done:
			return
		case <-c.clock.After(time.Second):
		}
	}
}

func (c *Client) sendHeartbeat() {
	c.write(&ardupilotmega.MessageHeartbeat{
		Type:           heartbeatType,
		Autopilot:      mavAutopilotInvalid,
		SystemStatus:   ardupilotmega.MAV_STATE_ACTIVE,
		MavlinkVersion: 3,
	})
}

func (c *Client) write(m message.Message) {
	select {
	case <-c.done:
		return
	default:
	}
	if err := c.node.WriteMessageAll(m); err != nil {
		c.log.Debug("autopilot: write", "err", err)
	}
}

// read drains the node's events (promptly: the channel is unbuffered).
func (c *Client) read() {
	defer c.wg.Done()
	for ev := range c.node.Events() {
		switch ev := ev.(type) {
		case *gomavlib.EventChannelOpen:
			// A frame written before the link opened went nowhere: say
			// hello at once, so that a flight controller behind UDP (or
			// mavlink-router) learns where to send.
			c.sendHeartbeat()
		case *gomavlib.EventFrame:
			c.receive(ev.SystemID(), ev.ComponentID(), ev.Message())
		}
	}
}

func (c *Client) receive(sys, comp uint8, m message.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target == 0 {
		hb, ok := m.(*ardupilotmega.MessageHeartbeat)
		if !ok || comp != autopilotComp || autopilotOf(uint8(hb.Autopilot)) == Unknown {
			return
		}
		c.target = sys
	}
	if sys != c.target || comp != autopilotComp {
		return
	}
	now := c.clock.Now()
	c.tel.update(m, now)
	c.tel.SystemID = sys
	switch m := m.(type) {
	case *ardupilotmega.MessageHeartbeat:
		if c.tel.Autopilot != Unknown {
			select {
			case <-c.heard:
			default:
				close(c.heard)
				c.log.Info("autopilot: flight controller found", "autopilot", c.tel.Autopilot, "sysid", sys,
					"mode", ModeName(c.tel.Autopilot, m.CustomMode))
			}
		}
	case *ardupilotmega.MessageCommandAck:
		select {
		case c.acks <- m:
		default: // nobody waiting that long: stale
		}
	case *ardupilotmega.MessageStatustext:
		c.log.Info("autopilot: "+m.Text, "severity", m.Severity)
	}
}

// WaitHeartbeat waits for the flight controller's first HEARTBEAT and
// returns its autopilot.
func (c *Client) WaitHeartbeat(ctx context.Context) (Autopilot, error) {
	select {
	case <-c.heard:
		return c.Telemetry().Autopilot, nil
	case <-ctx.Done():
		return Unknown, fmt.Errorf("autopilot: waiting for the flight controller's heartbeat: %w", ctx.Err())
	case <-c.done:
		return Unknown, ErrClosed
	}
}

// Telemetry returns a copy of the latest telemetry.
func (c *Client) Telemetry() Telemetry {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tel
	t.Texts = append([]string(nil), c.tel.Texts...)
	t.PreArms = append([]string(nil), c.tel.PreArms...)
	return t
}

// GPSTime returns the autopilot's GPS time now (see Telemetry.GPSTime).
func (c *Client) GPSTime() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tel.GPSTime(c.clock.Now())
}

func (c *Client) targetSystem() (uint8, Autopilot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target == 0 || c.tel.Autopilot == Unknown {
		return 0, Unknown, ErrUnknownAutopilot
	}
	return c.target, c.tel.Autopilot, nil
}

// Command sends a COMMAND_LONG and waits for its COMMAND_ACK, resending
// after each CommandTimeout up to CommandRetries times (with the
// confirmation field counting resends). An ACK with MAV_RESULT_IN_PROGRESS
// extends the wait. A refusal is a *CommandError.
func (c *Client) Command(ctx context.Context, cmd common.MAV_CMD, params ...float32) error {
	target, _, err := c.targetSystem()
	if err != nil {
		return fmt.Errorf("autopilot: %v: %w", cmd, err)
	}
	var p [7]float32
	copy(p[:], params)
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	// Drop ACKs left over from an earlier command.
	for len(c.acks) > 0 {
		<-c.acks
	}
	for attempt := 0; attempt <= c.cfg.CommandRetries; attempt++ {
		c.write(&ardupilotmega.MessageCommandLong{
			TargetSystem: target, TargetComponent: autopilotComp, Command: cmd, Confirmation: uint8(min(attempt, 255)),
			Param1: p[0], Param2: p[1], Param3: p[2], Param4: p[3], Param5: p[4], Param6: p[5], Param7: p[6],
		})
		timeout := c.clock.After(c.cfg.CommandTimeout)
	wait:
		for {
			select {
			case ack := <-c.acks:
				// An ACK names its command, and (MAVLink 2 extension) whom it
				// answers: skip another component's.
				if ack.Command != cmd || (ack.TargetSystem != 0 &&
					(ack.TargetSystem != c.cfg.SystemID || ack.TargetComponent != ComponentID)) {
					continue
				}
				switch ack.Result {
				case common.MAV_RESULT_ACCEPTED:
					return nil
				case common.MAV_RESULT_IN_PROGRESS:
					timeout = c.clock.After(c.cfg.CommandTimeout)
					continue
				}
				e := &CommandError{Command: cmd, Result: ack.Result}
				if cmd == common.MAV_CMD_COMPONENT_ARM_DISARM && p[0] == 1 {
					e.Reason = c.preArmReason()
				}
				return e
			case <-timeout:
				break wait
			case <-ctx.Done():
				return fmt.Errorf("autopilot: %v: %w", cmd, ctx.Err())
			case <-c.done:
				return ErrClosed
			}
		}
	}
	return fmt.Errorf("autopilot: %v after %d tries %v apart: %w", cmd, c.cfg.CommandRetries+1, c.cfg.CommandTimeout, ErrNoAck)
}

// preArmReason returns the latest pre-arm failure, waiting briefly for the
// STATUSTEXT that an autopilot sends just before or after refusing to arm.
func (c *Client) preArmReason() string {
	sent := c.clock.Now()
	deadline := c.clock.After(300 * time.Millisecond)
	for {
		c.mu.Lock()
		reason, at := c.tel.PreArm, c.tel.PreArmAt
		c.mu.Unlock()
		// A reason from the last 5 s describes this refusal; an older one
		// may be out of date.
		if reason != "" && sent.Sub(at) < 5*time.Second {
			return reason
		}
		select {
		case <-deadline:
			return ""
		case <-c.clock.After(20 * time.Millisecond):
		}
	}
}

// SetMode switches the flight mode with MAV_CMD_DO_SET_MODE. PX4 takes
// OFFBOARD only while setpoints stream (ErrNoSetpoints otherwise).
func (c *Client) SetMode(ctx context.Context, m Mode) error {
	_, ap, err := c.targetSystem()
	if err != nil {
		return fmt.Errorf("autopilot: set mode %v: %w", m, err)
	}
	if m == ModeOffboard && !c.streaming() {
		return ErrNoSetpoints
	}
	p1, p2, p3, err := setModeParams(ap, m)
	if err != nil {
		return err
	}
	return c.Command(ctx, common.MAV_CMD_DO_SET_MODE, p1, p2, p3)
}

// Arm arms the motors (MAV_CMD_COMPONENT_ARM_DISARM). A refusal names the
// autopilot's latest pre-arm failure.
func (c *Client) Arm(ctx context.Context) error {
	return c.Command(ctx, common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
}

// Disarm stops the motors (the autopilot refuses in the air).
func (c *Client) Disarm(ctx context.Context) error {
	return c.Command(ctx, common.MAV_CMD_COMPONENT_ARM_DISARM, 0)
}

// Takeoff climbs to alt metres above home (MAV_CMD_NAV_TAKEOFF): ArduPilot
// in GUIDED, armed. PX4 in OFFBOARD needs no take-off command: it follows
// the setpoints off the ground.
func (c *Client) Takeoff(ctx context.Context, alt float64) error {
	return c.Command(ctx, common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, nan32(), 0, 0, float32(alt))
}

// Land lands where the drone is (MAV_CMD_NAV_LAND).
func (c *Client) Land(ctx context.Context) error {
	return c.Command(ctx, common.MAV_CMD_NAV_LAND, 0, 0, 0, nan32(), 0, 0, 0)
}

// Return flies home and lands (MAV_CMD_NAV_RETURN_TO_LAUNCH).
func (c *Client) Return(ctx context.Context) error {
	return c.Command(ctx, common.MAV_CMD_NAV_RETURN_TO_LAUNCH)
}

// nan32 is a NaN parameter: "keep the current value" (the yaw of a take-off
// or a landing).
func nan32() float32 {
	var zero float32
	return zero / zero
}

// RequestTelemetry asks for the messages the client uses, at the rates
// Rates gives, with MAV_CMD_SET_MESSAGE_INTERVAL. EKF_STATUS_REPORT is
// ArduPilot's: it is not asked of PX4.
func (c *Client) RequestTelemetry(ctx context.Context) error {
	_, ap, err := c.targetSystem()
	if err != nil {
		return fmt.Errorf("autopilot: request telemetry: %w", err)
	}
	for _, r := range Rates() {
		if r.ArduPilotOnly && ap != ArduPilot {
			continue
		}
		interval := float32(time.Second.Microseconds()) / float32(r.Hz)
		if err := c.Command(ctx, common.MAV_CMD_SET_MESSAGE_INTERVAL, float32(r.ID), interval); err != nil {
			return fmt.Errorf("autopilot: request %s at %v Hz: %w", r.Name, r.Hz, err)
		}
	}
	return nil
}

// Rate is a telemetry message and how often the client asks for it.
type Rate struct {
	Name          string
	ID            uint32
	Hz            float64
	ArduPilotOnly bool
}

// Rates returns the telemetry messages RequestTelemetry asks for.
func Rates() []Rate {
	return []Rate{
		{"GLOBAL_POSITION_INT", 33, 5, false},
		{"SYS_STATUS", 1, 1, false},
		{"GPS_RAW_INT", 24, 1, false},
		{"SYSTEM_TIME", 2, 1, false},
		{"EXTENDED_SYS_STATE", 245, 1, false},
		{"EKF_STATUS_REPORT", 193, 1, true},
	}
}
