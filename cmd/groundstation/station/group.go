package station

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
)

// Group is the ground station of a show spread over several radio
// networks: one Station, one radio, per network. Each network elects its
// own leader and keeps its own command log, so a command sent to the
// group is committed once in every network, at its own index there.
type Group struct {
	stations []*Station
}

// OpenGroup opens one Station per configuration; the networks must
// differ. On error, the stations already opened are closed.
func OpenGroup(cfgs []Config) (*Group, error) {
	g := &Group{}
	seen := map[uint8]bool{}
	for _, cfg := range cfgs {
		if seen[cfg.Network] {
			_ = g.Close()
			return nil, fmt.Errorf("%w: network %d given twice; one station per network", ErrConfig, cfg.Network)
		}
		seen[cfg.Network] = true
		st, err := Open(cfg)
		if err != nil {
			_ = g.Close()
			return nil, fmt.Errorf("station: network %d: %w", cfg.Network, err)
		}
		g.stations = append(g.stations, st)
	}
	return g, nil
}

// Stations returns the group's stations, in the order of their
// configurations.
func (g *Group) Stations() []*Station { return append([]*Station(nil), g.stations...) }

// Station returns the station of network, nil when the group has none.
func (g *Group) Station(network uint8) *Station {
	for _, st := range g.stations {
		if st.Network() == network {
			return st
		}
	}
	return nil
}

// Snapshot returns the picture of every network.
func (g *Group) Snapshot() []Snapshot {
	out := make([]Snapshot, len(g.stations))
	for i, st := range g.stations {
		out[i] = st.Snapshot()
	}
	return out
}

// Send sends c to every network at once (Station.Send) and waits for
// all. Results are in the order of Stations; the error joins the
// failures of the networks that did not accept, each naming its network.
func (g *Group) Send(ctx context.Context, c command.Command) ([]Result, error) {
	res := make([]Result, len(g.stations))
	errs := make([]error, len(g.stations))
	g.each(func(i int, st *Station) {
		var err error
		res[i], err = st.Send(ctx, c)
		if err != nil {
			errs[i] = fmt.Errorf("network %d: %w", st.Network(), err)
		}
	})
	return res, errors.Join(errs...)
}

// Emergency sends op to every drone of every network at once
// (Station.Emergency).
func (g *Group) Emergency(ctx context.Context, op emergency.Op) ([]emergency.Command, error) {
	cmds := make([]emergency.Command, len(g.stations))
	errs := make([]error, len(g.stations))
	g.each(func(i int, st *Station) {
		var err error
		cmds[i], err = st.Emergency(ctx, op)
		if err != nil {
			errs[i] = fmt.Errorf("network %d: %w", st.Network(), err)
		}
	})
	return cmds, errors.Join(errs...)
}

// each runs fn for every station concurrently and waits for all.
func (g *Group) each(fn func(i int, st *Station)) {
	var wg sync.WaitGroup
	for i, st := range g.stations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i, st)
		}()
	}
	wg.Wait()
}

// Close closes every station.
func (g *Group) Close() error {
	var errs []error
	for _, st := range g.stations {
		if err := st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("network %d: %w", st.Network(), err))
		}
	}
	return errors.Join(errs...)
}
