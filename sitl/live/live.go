// Package live runs a live SITL swarm on one machine: separate drone
// processes (each the drone program's "sitl" mode with its own simulated
// flight controller and its own clock error), all reaching each other
// through a radio hub on the loopback (sitl/hub). The deterministic
// simulator (sitl/sim) runs thousands of drones in one process in virtual
// time; this runs the real program in real time, as a field crew's laptop
// would before a show.
//
// The package starts, kills, restarts and stops the processes and keeps
// their state directories, logs and clock errors; the ground station
// (groundstation sitl) joins the same hub and flies the show.
package live

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// Config configures a live swarm.
type Config struct {
	// Drones is how many drone processes to start (default 10).
	Drones int
	// Networks is how many radio networks they are spread over (default
	// 1): network k (0-based) holds vehicle IDs 250k+1 onward, as
	// drone configs do.
	Networks int
	// Program is the command that runs the drone program: its path and
	// the arguments before the drone's own ("sitl --id …"), such as
	// {"/usr/bin/drone"} or the ground station's own executable with its
	// drone mode.
	Program []string
	// HubAddr gives the radio hub's UDP address of a network (0-based).
	HubAddr func(network int) string
	// Show is the show file (.sqshow) every drone holds.
	Show string
	// Dir is the working directory for keys, state and logs (default a
	// new temporary directory, removed by Stop unless Keep).
	Dir  string
	Keep bool
	// MaxOffset and MaxDrift bound the clock errors drawn for each drone
	// (defaults ±500 ms and ±50 ppm); Seed draws them.
	MaxOffset time.Duration
	MaxDrift  float64
	Seed      uint64
	// Grace is how long a drone has to stop after SIGTERM before it is
	// killed (default 10 s).
	Grace time.Duration
	// Logger receives progress (default slog.Default()).
	Logger *slog.Logger
}

// Swarm is a running live swarm.
type Swarm struct {
	cfg     Config
	dir     string
	tempDir bool
	key     string
	procs   []*Proc
	byID    map[uint16]*Proc
	members map[uint8][]uint16
}

// IDs returns the vehicle IDs of n drones spread over k networks: as
// evenly as possible, network j (0-based) holding IDs 250j+1 onward.
func IDs(n, k int) [][]uint16 {
	out := make([][]uint16, k)
	for j := range k {
		count := n / k
		if j < n%k {
			count++
		}
		for i := range count {
			out[j] = append(out[j], uint16(config.PerNetwork*j+i+1))
		}
	}
	return out
}

// Start writes a swarm key and starts the drone processes. On an error it
// stops what it started.
func Start(cfg Config) (*Swarm, error) {
	if cfg.Drones == 0 {
		cfg.Drones = 10
	}
	if cfg.Networks == 0 {
		cfg.Networks = 1
	}
	if cfg.MaxOffset == 0 {
		cfg.MaxOffset = 500 * time.Millisecond
	}
	if cfg.MaxDrift == 0 {
		cfg.MaxDrift = 50
	}
	if cfg.Grace == 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Drones < 1:
		return nil, fmt.Errorf("live: %d drones: give at least 1", cfg.Drones)
	case cfg.Networks < 1 || cfg.Networks > config.MaxNetwork+1:
		return nil, fmt.Errorf("live: %d networks: give 1 to %d", cfg.Networks, config.MaxNetwork+1)
	case cfg.Drones > cfg.Networks*config.PerNetwork:
		return nil, fmt.Errorf("live: %d drones do not fit %d networks of %d", cfg.Drones, cfg.Networks, config.PerNetwork)
	case len(cfg.Program) == 0:
		return nil, errors.New("live: no drone program given")
	case cfg.HubAddr == nil:
		return nil, errors.New("live: no radio hub given")
	}
	s := &Swarm{cfg: cfg, dir: cfg.Dir, byID: map[uint16]*Proc{}, members: map[uint8][]uint16{}}
	if s.dir == "" {
		d, err := os.MkdirTemp("", "skyquorum-sitl-")
		if err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
		s.dir, s.tempDir = d, true
	}
	key, err := wire.GenerateKey(crand.Reader)
	if err != nil {
		return nil, fmt.Errorf("live: swarm key: %w", err)
	}
	s.key = filepath.Join(s.dir, "swarm.key")
	if err := os.Remove(s.key); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("live: %w", err)
	}
	if err := wire.WriteKeyFile(s.key, key); err != nil {
		return nil, fmt.Errorf("live: swarm key: %w", err)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	for j, ids := range IDs(cfg.Drones, cfg.Networks) {
		s.members[uint8(j)] = ids
		members := MemberList(ids)
		for _, id := range ids {
			p := &Proc{ID: id, Network: uint8(j), ShowDrone: len(s.procs) + 1,
				Offset: time.Duration((2*rng.Float64() - 1) * float64(cfg.MaxOffset)),
				Drift:  (2*rng.Float64() - 1) * cfg.MaxDrift,
			}
			if p.State, err = dirOf(s.dir, "drone-"+strconv.Itoa(int(id))); err != nil {
				return nil, err
			}
			p.Log = filepath.Join(s.dir, "drone-"+strconv.Itoa(int(id))+".log")
			p.Journal = filepath.Join(s.dir, "drone-"+strconv.Itoa(int(id))+".journal")
			p.args = procArgs(p, cfg.HubAddr(j), s.key, cfg.Show, members)
			s.procs = append(s.procs, p)
			s.byID[id] = p
		}
	}
	for _, p := range s.procs {
		if err := p.start(cfg.Program); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	cfg.Logger.Info("live: drones started", "drones", len(s.procs), "networks", cfg.Networks, "dir", s.dir)
	return s, nil
}

// MemberList writes IDs as the drone program's --members list ("1-10,12").
func MemberList(ids []uint16) string {
	sorted := append([]uint16(nil), ids...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	out := ""
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		if out != "" {
			out += ","
		}
		out += strconv.Itoa(int(sorted[i]))
		if j > i {
			out += "-" + strconv.Itoa(int(sorted[j]))
		}
		i = j + 1
	}
	return out
}

// Dir is the working directory.
func (s *Swarm) Dir() string { return s.dir }

// KeyFile is the swarm key's path.
func (s *Swarm) KeyFile() string { return s.key }

// Procs returns the drones' processes in ID order.
func (s *Swarm) Procs() []*Proc { return s.procs }

// Proc returns drone id's process, or nil.
func (s *Swarm) Proc(id uint16) *Proc { return s.byID[id] }

// Members returns the vehicle IDs of network j.
func (s *Swarm) Members(j uint8) []uint16 { return s.members[j] }

// Kill ends drone id's process at once (SIGKILL), as a crash or a power
// loss would, and waits until it has ended.
func (s *Swarm) Kill(id uint16) error {
	p := s.byID[id]
	if p == nil {
		return fmt.Errorf("live: no drone %d", id)
	}
	if !p.signal(syscall.SIGKILL) {
		return fmt.Errorf("live: drone %d is not running", id)
	}
	return p.wait(context.Background())
}

// Restart starts drone id's process again on its state directory.
func (s *Swarm) Restart(id uint16) error {
	p := s.byID[id]
	if p == nil {
		return fmt.Errorf("live: no drone %d", id)
	}
	return p.start(s.cfg.Program)
}

// Stop stops every drone (SIGTERM, then SIGKILL after the grace time),
// and removes the working directory when it made it and Keep is off.
func (s *Swarm) Stop() error {
	err := stopAll(s.procs, s.cfg.Grace)
	if s.tempDir && !s.cfg.Keep {
		if rerr := os.RemoveAll(s.dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("live: %w", rerr))
		}
	}
	return err
}
