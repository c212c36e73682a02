package dronecli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"

	"go.bug.st/serial"

	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// drone is what run and sitl open before the runner starts. Nothing has
// been sent on air: opening a serial radio or a UDP socket transmits
// nothing.
type drone struct {
	cfg      *config.Config
	key      wire.Key
	link     link.Link
	stateDir string
	log      *slog.Logger
	// clock is the drone's clock (nil: the system clock); sitl skews it.
	clock *skewedClock
	// show is the show file's show (nil without one).
	show *show.Show
	// journal and control are a simulated drone's journal file and
	// control address (journal.go; empty when not asked for).
	journal, control string
}

// prepare checks and opens, in order, the swarm key, the state directory,
// the show file and the radio: every step that can fail on a misconfigured drone, before
// the first frame.
func prepare(cfg *config.Config, log *slog.Logger) (*drone, error) {
	key, err := wire.LoadKeyFile(cfg.KeyPath())
	if err != nil {
		return nil, fmt.Errorf("key_file %s: %w", cfg.KeyPath(), err)
	}
	dir, err := openStateDir(cfg.StatePath())
	if err != nil {
		return nil, err
	}
	s, err := loadShow(cfg.ShowPath(), cfg.Part())
	if err != nil {
		return nil, err
	}
	l, err := openRadio(cfg.Radio, log)
	if err != nil {
		return nil, err
	}
	return &drone{cfg: cfg, key: key, link: l, stateDir: dir, log: log, show: s}, nil
}

// loadShow reads and decodes the show file (nil, nil without one), which
// must have a part for the show's drone part (from 1; Config.Part).
func loadShow(path string, part uint16) (*show.Show, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	s, err := show.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("show %s: %w (write it with groundstation show import)", path, err)
	}
	if int(part) > len(s.Drones) {
		return nil, fmt.Errorf("show %s has %d drones: drone %d has no part in it; check id and show_drone, or the show file", path, len(s.Drones), part)
	}
	return s, nil
}

// close releases what prepare opened.
func (d *drone) close() {
	if err := d.link.Close(); err != nil {
		d.log.Warn("closing the radio", "err", err)
	}
}

// openStateDir creates the state directory if it is missing (mode 0700:
// it holds the signing high-water mark) and checks that a file can be
// written in it.
func openStateDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state_dir %s: %w: create it, or set state_dir to a writable directory", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return "", fmt.Errorf("state_dir %s is not writable: %w: fix its owner or mode, or set state_dir to a writable directory", dir, err)
	}
	name := f.Name()
	err = f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return "", fmt.Errorf("state_dir %s: %w", dir, err)
	}
	return dir, nil
}

// openRadio opens the swarm radio's link.
func openRadio(r config.Radio, log *slog.Logger) (link.Link, error) {
	if r.UDP != nil {
		l, err := link.ListenUDP(link.UDPConfig{Listen: r.UDP.Listen, Peers: r.UDP.Peers, Hub: r.UDP.Hub})
		if err != nil {
			return nil, fmt.Errorf("radio.udp: %w", err)
		}
		return l, nil
	}
	if _, err := os.Stat(r.Serial); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("radio.serial: device %s does not exist: is the radio plugged in, and is the device name right (ls /dev/serial/by-id)?", r.Serial)
	}
	l, err := link.OpenSerial(link.SerialConfig{Device: r.Serial, Baud: r.Baud, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("radio.serial: %w", err)
	}
	return l, nil
}

// checkFlightControllerPort opens and closes the flight controller's
// serial device, or resolves its UDP address; it sends nothing.
func checkFlightControllerPort(f config.FlightController) (string, error) {
	if f.UDP != "" {
		a, err := net.ResolveUDPAddr("udp", f.UDP)
		if err != nil {
			return "", fmt.Errorf("flight_controller.udp: %w", err)
		}
		return "udp " + a.String() + " resolves", nil
	}
	if _, err := os.Stat(f.Serial); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("flight_controller.serial: device %s does not exist: is the flight controller connected, and is the device name right (on a Raspberry Pi, /dev/serial0 needs the UART enabled)?", f.Serial)
	}
	p, err := serial.Open(f.Serial, &serial.Mode{BaudRate: f.Baud})
	if err != nil {
		return "", fmt.Errorf("flight_controller.serial: open %s at %d baud: %w", f.Serial, f.Baud, err)
	}
	if err := p.Close(); err != nil {
		return "", fmt.Errorf("flight_controller.serial: close %s: %w", f.Serial, err)
	}
	return fmt.Sprintf("serial %s opens at %d baud", f.Serial, f.Baud), nil
}
