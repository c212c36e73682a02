package station

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/emergency"
)

// emRepeat is an emergency command still to be repeated.
type emRepeat struct {
	cmd  emergency.Command
	left int
	next time.Time
}

// Emergency signs op (HOLD, LAND or RETURN) with the swarm key and sends
// it to every drone at once, then Config.EmergencyRepeats-1 times more,
// Config.EmergencyEvery apart. The drones obey it at once, without the
// command log, and relay it to those that missed it. It returns once the
// first copy is queued; while the radio's queue is full it tries again
// until ctx ends.
//
// Each command takes a new ID, above the previous one and at least the
// clock's Unix seconds: the drones obey only IDs above the last they
// obeyed from this issuer, also after the station restarts.
func (s *Station) Emergency(ctx context.Context, op emergency.Op) (emergency.Command, error) {
	switch op {
	case emergency.Hold, emergency.Land, emergency.Return:
	default:
		return emergency.Command{}, fmt.Errorf("%w: emergency %s: use HOLD, LAND or RETURN", ErrInvalid, op)
	}
	s.mu.Lock()
	if s.closed() {
		s.mu.Unlock()
		return emergency.Command{}, ErrClosed
	}
	now := s.clock.Now()
	s.emID = max(s.emID+1, clockNumber(now))
	cmd := emergency.Sign(s.cfg.Key[:], algorithms.NodeID(s.cfg.Issuer), s.emID, op)
	s.mu.Unlock()
	for {
		s.mu.Lock()
		err := s.sendEmergency(cmd)
		s.mu.Unlock()
		if err == nil {
			break
		}
		if !errors.Is(err, radio.ErrBackpressure) {
			return cmd, err
		}
		select {
		case <-ctx.Done():
			return cmd, fmt.Errorf("station: emergency %s not sent: %w: %w", op, err, ctx.Err())
		case <-s.done:
			return cmd, ErrClosed
		case <-s.clock.After(10 * time.Millisecond):
		}
	}
	s.mu.Lock()
	now = s.clock.Now()
	if s.cfg.EmergencyRepeats > 1 {
		s.emRepeats = append(s.emRepeats, &emRepeat{cmd: cmd, left: s.cfg.EmergencyRepeats - 1, next: now.Add(s.cfg.EmergencyEvery)})
	}
	s.mu.Unlock()
	s.log.Warn("station: emergency command sent", "op", op.String(), "id", cmd.ID)
	return cmd, nil
}

// sendEmergency queues one copy of cmd to every drone. Call with s.mu
// held.
func (s *Station) sendEmergency(cmd emergency.Command) error {
	msg, err := s.codec.EncodeMessage(codec.Header{From: algorithms.NodeID(s.cfg.Issuer), To: algorithms.Everyone}, emergency.Emergency{Cmd: cmd})
	if err != nil {
		return fmt.Errorf("station: emergency %s: %w", cmd.Op, err)
	}
	if err := s.send(msg, Everyone); err != nil {
		return fmt.Errorf("station: emergency %s: %w", cmd.Op, err)
	}
	s.counters.Emergencies++
	return nil
}

// repeatEmergencies sends the repeats that are due. Call with s.mu held.
func (s *Station) repeatEmergencies(now time.Time) {
	keep := s.emRepeats[:0]
	for _, e := range s.emRepeats {
		if !now.Before(e.next) {
			if err := s.sendEmergency(e.cmd); err == nil {
				e.left--
			}
			e.next = now.Add(s.cfg.EmergencyEvery)
		}
		if e.left > 0 {
			keep = append(keep, e)
		}
	}
	s.emRepeats = keep
}

// emergencyAck takes in a drone's SWARM_EMERGENCY; only acknowledgements
// of this station's commands matter. Call with s.mu held.
func (s *Station) emergencyAck(from uint16, m *swarm.MessageSwarmEmergency) {
	if m.Kind != swarm.SWARM_EMERGENCY_KIND_ACK || m.Issuer != s.cfg.Issuer {
		return // a relay of a command: the drones' business
	}
	_, cm, err := s.codec.DecodeMessage(m)
	ack, ok := cm.(emergency.Ack)
	if err != nil || !ok || ack.ID > s.emID && s.emID != 0 {
		s.counters.Malformed++
		return
	}
	s.counters.EmergencyAcks++
	d := s.drone(from)
	d.emAck = max(d.emAck, ack.ID)
	s.notify()
}
