package link

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.bug.st/serial"
)

// SerialConfig configures a serial radio link.
type SerialConfig struct {
	// Device is the serial port, such as /dev/ttyUSB0 or /dev/serial0.
	Device string
	// Baud is the serial rate (SiK radios: 57600).
	Baud int
	// Retry is how often a vanished device is reopened (optional, default
	// one second).
	Retry time.Duration
	// Logger receives disconnections and reconnections (optional, default
	// slog.Default()).
	Logger *slog.Logger
}

// Serial is a serial radio link, 8N1. When the device vanishes (a USB
// radio unplugged), Send fails with ErrDisconnected and the link reopens
// the device every Retry until it returns.
type Serial struct {
	cfg SerialConfig
	log *slog.Logger
	in  *inbox

	mu       sync.Mutex
	port     serial.Port // nil while disconnected
	closed   bool
	counters Counters

	done chan struct{}
	wg   sync.WaitGroup
}

var _ Link = (*Serial)(nil)

// OpenSerial opens the device and starts reading. The first open must
// succeed, so that a wrong device name is reported at once.
func OpenSerial(cfg SerialConfig) (*Serial, error) {
	if cfg.Baud <= 0 {
		return nil, fmt.Errorf("link: serial %s: baud rate %d: set the radio's serial rate (SiK: 57600)", cfg.Device, cfg.Baud)
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	s := &Serial{cfg: cfg, log: cfg.Logger, in: newInbox(), done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	p, err := s.open()
	if err != nil {
		return nil, err
	}
	s.port = p
	s.wg.Add(1)
	go s.run(p)
	return s, nil
}

func (s *Serial) open() (serial.Port, error) {
	p, err := serial.Open(s.cfg.Device, &serial.Mode{
		BaudRate: s.cfg.Baud,
		DataBits: 8,
		Parity:   serial.NoParity,
		StopBits: serial.OneStopBit,
	})
	if err != nil {
		return nil, fmt.Errorf("link: open serial %s at %d baud: %w (is the radio plugged in, and the device name right?)", s.cfg.Device, s.cfg.Baud, err)
	}
	return p, nil
}

// run reads the port until it fails, then reopens it, until Close.
func (s *Serial) run(p serial.Port) {
	defer s.wg.Done()
	buf := make([]byte, 1024)
	for {
		n, err := p.Read(buf)
		if n > 0 {
			s.mu.Lock()
			s.counters.Packets++
			s.counters.BytesReceived += n
			s.mu.Unlock()
			s.in.put(Packet{Data: append([]byte(nil), buf[:n]...)})
		}
		if err == nil {
			continue
		}
		if p = s.reconnect(p, err); p == nil {
			return
		}
	}
}

// reconnect closes a failed port and opens the device again; nil after
// Close.
func (s *Serial) reconnect(failed serial.Port, cause error) serial.Port {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.port == failed {
		s.port = nil
	}
	s.counters.Disconnects++
	s.mu.Unlock()
	_ = failed.Close()
	s.log.Warn("radio serial device lost; reopening", "device", s.cfg.Device, "err", cause, "retry", s.cfg.Retry)
	t := time.NewTicker(s.cfg.Retry)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return nil
		case <-t.C:
		}
		p, err := s.open()
		if err != nil {
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = p.Close()
			return nil
		}
		s.port = p
		s.counters.Reconnects++
		s.mu.Unlock()
		s.log.Info("radio serial device back", "device", s.cfg.Device)
		return p
	}
}

// Send implements Link. A serial radio broadcasts: to is ignored.
func (s *Serial) Send(p []byte, _ Dest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.port == nil {
		s.counters.SendErrors++
		return fmt.Errorf("link: serial %s: %w", s.cfg.Device, ErrDisconnected)
	}
	for len(p) > 0 {
		n, err := s.port.Write(p)
		if err != nil {
			s.counters.SendErrors++
			// Closing makes the reader notice and reconnect.
			_ = s.port.Close()
			return fmt.Errorf("link: write serial %s: %v: %w", s.cfg.Device, err, ErrDisconnected)
		}
		s.counters.BytesSent += n
		p = p[n:]
	}
	s.counters.Sends++
	return nil
}

// Receive implements Link.
func (s *Serial) Receive() (Packet, error) { return s.in.get() }

// Close implements Link.
func (s *Serial) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	p := s.port
	s.port = nil
	s.mu.Unlock()
	close(s.done)
	var err error
	if p != nil {
		var pe *serial.PortError
		if cerr := p.Close(); cerr != nil && !(errors.As(cerr, &pe) && pe.Code() == serial.PortClosed) {
			err = fmt.Errorf("link: close serial %s: %w", s.cfg.Device, cerr)
		}
	}
	s.wg.Wait()
	s.in.close()
	return err
}

// Connected reports whether the device is open.
func (s *Serial) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port != nil
}

// Counters implements Link.
func (s *Serial) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// Info implements Link.
func (s *Serial) Info() Info {
	return Info{Name: "serial:" + s.cfg.Device, LocalRadio: true}
}
