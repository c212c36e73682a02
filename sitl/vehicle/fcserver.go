package vehicle

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/pion/transport/v2/udp"
)

// FCClock is the time an FCServer runs on.
type FCClock interface{ Now() time.Time }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// FCServerConfig configures an FCServer.
type FCServerConfig struct {
	FC FCConfig
	// Listen is the UDP address the FC listens on (optional, default
	// "127.0.0.1:0": a free port, see Addr).
	Listen string
	// Clock (optional, default the wall clock) and Step, the period at
	// which the FC advances (optional, default 20 ms).
	Clock FCClock
	Step  time.Duration
}

// FCServer puts an FC on UDP as a gomavlib node, like a flight controller
// that a companion computer reaches through mavlink-router: it answers
// every peer that sends to it. One goroutine advances the FC every Step;
// the node's reader hands it messages. Everything else is the FC's.
type FCServer struct {
	node *gomavlib.Node
	addr net.Addr
	step time.Duration
	clk  FCClock

	mu   sync.Mutex
	fc   *FC
	dead bool

	done chan struct{}
	wg   sync.WaitGroup
}

// ServeFC starts a simulated flight controller on UDP.
func ServeFC(cfg FCServerConfig) (*FCServer, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	if cfg.Step <= 0 {
		cfg.Step = 20 * time.Millisecond
	}
	fc := NewFC(cfg.FC)
	s := &FCServer{fc: fc, step: cfg.Step, clk: cfg.Clock, done: make(chan struct{})}
	addrCh := make(chan net.Addr, 1)
	s.node = &gomavlib.Node{
		Endpoints: []gomavlib.EndpointConf{gomavlib.EndpointCustomServer{
			Listen: func() (net.Listener, error) {
				a, err := net.ResolveUDPAddr("udp4", cfg.Listen)
				if err != nil {
					return nil, err
				}
				l, err := udp.Listen("udp4", a)
				if err == nil {
					addrCh <- l.Addr()
				}
				return l, err
			},
			Label:      "udp",
			IsDatagram: true,
		}},
		Dialect:          ardupilotmega.Dialect,
		OutVersion:       gomavlib.V2,
		OutSystemID:      fc.cfg.SystemID,
		OutComponentID:   1,
		HeartbeatDisable: true, // the FC sends its own, with its mode
	}
	if err := s.node.Initialize(); err != nil {
		return nil, fmt.Errorf("vehicle: FC on %s: %w", cfg.Listen, err)
	}
	s.addr = <-addrCh
	s.fc.Advance(s.clk.Now())
	s.wg.Add(2)
	go s.read()
	go s.run()
	return s, nil
}

// Addr returns the UDP address the FC listens on.
func (s *FCServer) Addr() string { return s.addr.String() }

// Do runs fn on the FC under its lock: to inject faults or to look.
func (s *FCServer) Do(fn func(*FC)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.fc)
}

// SetLinkDead cuts (true) or restores the link: a dead FC neither sends nor
// hears anything, and keeps flying on its own.
func (s *FCServer) SetLinkDead(dead bool) {
	s.mu.Lock()
	s.dead = dead
	s.mu.Unlock()
}

// Close stops the FC.
func (s *FCServer) Close() {
	close(s.done)
	s.node.Close()
	s.wg.Wait()
}

func (s *FCServer) send(out []message.Message) {
	for _, m := range out {
		_ = s.node.WriteMessageAll(m) // no peer yet: nowhere to send
	}
}

func (s *FCServer) read() {
	defer s.wg.Done()
	for ev := range s.node.Events() {
		fr, ok := ev.(*gomavlib.EventFrame)
		if !ok {
			continue
		}
		s.mu.Lock()
		var out []message.Message
		if !s.dead {
			out = append(s.fc.Advance(s.clk.Now()), s.fc.Handle(fr.Message())...)
		}
		s.mu.Unlock()
		s.send(out)
	}
}

func (s *FCServer) run() {
	defer s.wg.Done()
	t := time.NewTicker(s.step)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		out := s.fc.Advance(s.clk.Now())
		if s.dead {
			out = nil
		}
		s.mu.Unlock()
		s.send(out)
	}
}
