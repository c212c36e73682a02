// Package scenario runs the measured scenarios of `groundstation simulate`
// (docs/simulate.md) in the deterministic simulator: it drives the real
// protocol cores with a workload drawn from the seed, checks their
// invariants as they run, and returns the contract's fields.
//
// Wall-clock figures (wall_seconds, real_time_factor) are filled in by the
// caller: nothing here reads the wall clock.
package scenario

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/sitl/sim"
)

// Common are the flags every scenario shares.
type Common struct {
	Drones   int
	Seed     uint64
	Baud     int
	Unsigned bool
	Loss     float64
	Dup      float64
	Reorder  sim.Time
	Trace    io.Writer
	// Progress, if set, is told how much simulated time is done of the
	// total a long run (show) is planned to take, at most once per
	// simulated second and once at the end. It only observes: the run is
	// the same with it or without it.
	Progress func(done, total sim.Time)
}

// reporting wraps a Run stop function so that it reports progress to
// c.Progress; without one it returns stop unchanged.
func (c Common) reporting(s *sim.Sim, total sim.Time, stop func() bool) func() bool {
	if c.Progress == nil {
		return stop
	}
	var next sim.Time
	return func() bool {
		if now := s.Now(); now >= next {
			c.Progress(now, total)
			next = now + sim.Second
		}
		return stop != nil && stop()
	}
}

// simConfig turns the common flags into a simulator configuration whose
// frames are sized by the radio's codec, as they go on air.
func (c Common) simConfig() (sim.Config, error) {
	wire, err := codec.New(codec.Config{Network: 1})
	if err != nil {
		return sim.Config{}, fmt.Errorf("scenario: %w", err)
	}
	return sim.Config{
		Wire:     wire,
		Drones:   c.Drones,
		Seed:     c.Seed,
		Baud:     c.Baud,
		Unsigned: c.Unsigned,
		Loss:     c.Loss,
		Dup:      c.Dup,
		Reorder:  c.Reorder,
		Trace:    c.Trace,
	}, nil
}

// CommonResult are the fields every scenario reports.
type CommonResult struct {
	Drones          int     `json:"drones"`
	Seed            uint64  `json:"seed"`
	Baud            int     `json:"baud"`
	Signed          bool    `json:"signed"`
	Loss            float64 `json:"loss"`
	Dup             float64 `json:"dup"`
	Reorder         float64 `json:"reorder"`
	Messages        int     `json:"messages"`
	DataFrames      int     `json:"data_frames"`
	AckFrames       int     `json:"ack_frames"`
	Retransmissions int     `json:"retransmissions"`
	HeartbeatFrames int     `json:"heartbeat_frames"`
	Frames          int     `json:"frames"`
	AirtimeMs       float64 `json:"airtime_ms"`
	SimSeconds      float64 `json:"sim_seconds"`
	WallSeconds     float64 `json:"wall_seconds"`
	RealTimeFactor  float64 `json:"real_time_factor"`
	// TraceHash identifies the run: the same seed and build give the same.
	TraceHash string `json:"trace_hash"`
}

func commonResult(c Common, s *sim.Sim) CommonResult {
	cfg := s.Config()
	st := s.Stats()
	return CommonResult{
		Drones:          cfg.Drones,
		Seed:            cfg.Seed,
		Baud:            cfg.Baud,
		Signed:          !cfg.Unsigned,
		Loss:            cfg.Loss,
		Dup:             cfg.Dup,
		Reorder:         c.Reorder.Milliseconds(),
		Messages:        st.Messages,
		DataFrames:      st.DataFrames,
		AckFrames:       st.AckFrames,
		Retransmissions: st.Retransmissions,
		HeartbeatFrames: st.HeartbeatFrames,
		Frames:          st.Frames(),
		AirtimeMs:       st.Airtime.Milliseconds(),
		SimSeconds:      s.Now().Seconds(),
		TraceHash:       s.TraceHash(),
	}
}

// SetWall fills in the wall-clock fields from the run's elapsed seconds.
func (r *CommonResult) SetWall(seconds float64) {
	r.WallSeconds = seconds
	if seconds > 0 {
		r.RealTimeFactor = r.SimSeconds / seconds
	}
}

// percentile returns the p-th percentile (0–100, nearest rank) of xs, or 0
// for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// per divides, returning 0 when there is nothing to divide by.
func per(x, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(x) / float64(n)
}

// Failures lists the fields of a scenario's result that break the exit
// rule of docs/simulate.md, as "name value", in name order: a field named
// *_violations, *_unfinished or lost_* above 0, or leaders_per_term_max
// above 1. A run fails when the list is not empty. The rule reads the
// fields as `--json` prints them, so it is the same for every scenario and
// a field added later falls under it by its name. Null fields (not checked
// in this run) do not count.
func Failures(result any) []string {
	b, err := json.Marshal(result)
	if err != nil {
		return []string{fmt.Sprintf("result: %v", err)}
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		return []string{fmt.Sprintf("result: %v", err)}
	}
	var out []string
	for name, v := range fields {
		x, ok := v.(float64)
		if !ok {
			continue
		}
		limit := -1.0
		switch {
		case strings.HasSuffix(name, "_violations"), strings.HasSuffix(name, "_unfinished"), strings.HasPrefix(name, "lost_"):
			limit = 0
		case name == "leaders_per_term_max":
			limit = 1
		}
		if limit >= 0 && x > limit {
			out = append(out, fmt.Sprintf("%s %v", name, x))
		}
	}
	slices.Sort(out)
	return out
}
