package scenario

import (
	"errors"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/sitl/sim"
)

// MutexAlgorithms are the algorithms the mutex scenario runs.
var MutexAlgorithms = []string{"central", "ring", "ricart", "maekawa"}

// MaekawaVariants are the variants of the maekawa algorithm: "implicit"
// (mutex.ImplicitMaekawa, over plain frames, acknowledged by its own
// answers; the default) and "textbook" (mutex.Maekawa, behind the reliable
// delivery layer).
var MaekawaVariants = []string{"implicit", "textbook"}

// ErrUnknownAlgorithm is returned for an algorithm the scenario does not
// know.
var ErrUnknownAlgorithm = errors.New("unknown algorithm")

// Mutex configures the mutex scenario.
type Mutex struct {
	Common
	// Algorithm is one of MutexAlgorithms.
	Algorithm string
	// Variant is one of MaekawaVariants for maekawa ("" is the first),
	// and empty for the other algorithms.
	Variant string
	// Entries is the number of critical-section entries in the whole swarm.
	Entries int
	// Concurrency is the most requests outstanding at once.
	Concurrency int
	// Hold is the time spent inside the critical section.
	Hold sim.Time
	// Cells is the number of airspace cells requests are spread over
	// (optional, default 1; the scenario of docs/simulate.md has one).
	Cells int
}

// MutexResult holds the fields of the mutex scenario.
type MutexResult struct {
	CommonResult
	Algorithm           string   `json:"algorithm"`
	Variant             *string  `json:"variant"`
	Entries             int      `json:"entries"`
	Concurrency         int      `json:"concurrency"`
	Hold                float64  `json:"hold"`
	Completed           int      `json:"completed"`
	QuorumSizeMin       int      `json:"quorum_size_min"`
	QuorumSizeMax       int      `json:"quorum_size_max"`
	QuorumSizeMean      float64  `json:"quorum_size_mean"`
	MessagesPerEntry    float64  `json:"messages_per_entry"`
	DataFramesPerEntry  float64  `json:"data_frames_per_entry"`
	FramesPerEntry      float64  `json:"frames_per_entry"`
	AirtimeMsPerEntry   float64  `json:"airtime_ms_per_entry"`
	TokenPassesPerEntry *float64 `json:"token_passes_per_entry"`
	ClientDelayMsP50    float64  `json:"client_delay_ms_p50"`
	ClientDelayMsP99    float64  `json:"client_delay_ms_p99"`
	SyncDelayMsP50      *float64 `json:"sync_delay_ms_p50"`
	ME1Violations       int      `json:"me1_violations"`
	ME2Unfinished       int      `json:"me2_unfinished"`
	ME3Violations       *int     `json:"me3_violations"`
	ME3Inversions       int      `json:"me3_inversions"`
}

// Failed reports whether the run breaks the exit rule (Failures): a
// violation, or an unfinished entry.
func (r MutexResult) Failed() bool {
	return len(Failures(r)) > 0
}

// The server of the central algorithm, as docs/simulate.md fixes it.
const centralServer algorithms.NodeID = 1

// cells returns the airspace cells the workload contends for.
func (m Mutex) cells() []mutex.Resource {
	out := make([]mutex.Resource, max(m.Cells, 1))
	for i := range out {
		out[i] = mutex.Resource(i + 1)
	}
	return out
}

type entry struct {
	id        algorithms.NodeID
	cell      mutex.Resource
	requested sim.Time
	granted   sim.Time
	got       bool
	vc        clock.Vector
}

// Validate checks the scenario's own flags, naming the bad one.
func (m Mutex) Validate() error {
	switch {
	case !slices.Contains(MutexAlgorithms, m.Algorithm):
		return fmt.Errorf("--algorithm %q: %w (want one of %v)", m.Algorithm, ErrUnknownAlgorithm, MutexAlgorithms)
	case m.Algorithm == "maekawa" && m.Variant != "" && !slices.Contains(MaekawaVariants, m.Variant):
		return fmt.Errorf("--variant %q: %w (want one of %v)", m.Variant, ErrUnknownAlgorithm, MaekawaVariants)
	case m.Algorithm != "maekawa" && m.Variant != "":
		return fmt.Errorf("--variant %q: only maekawa has variants", m.Variant)
	case m.Entries < 1:
		return fmt.Errorf("--entries %d: must be at least 1", m.Entries)
	case m.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: must be at least 1", m.Concurrency)
	case m.Hold < 0:
		return fmt.Errorf("--hold %v: must not be negative", m.Hold)
	case m.Cells < 0 || m.Cells > 65535:
		return fmt.Errorf("cells %d: must be 0 to 65535", m.Cells)
	}
	return nil
}

// variant returns the Maekawa variant the run uses, "" for the other
// algorithms.
func (m Mutex) variant() string {
	switch {
	case m.Algorithm != "maekawa":
		return ""
	case m.Variant == "":
		return MaekawaVariants[0]
	}
	return m.Variant
}

// implicitConfig sizes the repeats of ImplicitMaekawa like the reliable
// delivery layer's timeouts: sim.MinRTO plus one frame's airtime for each
// voter still to answer, doubling up to sim.MaxRTO; a vote whose holder
// is slow to collect the rest is asked about every 8 × sim.MaxRTO at
// most, and a request queued behind others first after 32 × sim.MaxRTO.
func (m Mutex) implicitConfig(cfg sim.Config) mutex.ImplicitConfig {
	tick := cfg.Tick
	if tick == 0 {
		tick = 10 * sim.Millisecond
	}
	baud := cfg.Baud
	if baud == 0 {
		baud = 57600
	}
	frame := sim.Airtime(sim.FrameBytes(32, !cfg.Unsigned), baud)
	return mutex.ImplicitConfig{
		RetryTicks:    int64((sim.MinRTO + tick - 1) / tick),
		PerVoterTicks: int64((frame + tick - 1) / tick),
		MaxRetryTicks: int64(sim.MaxRTO / tick),
		AskTicks:      int64(8 * sim.MaxRTO / tick),
		IdleTicks:     int64(32 * sim.MaxRTO / tick),
	}
}

func (m Mutex) factory(quorums mutex.Quorums, implicit mutex.ImplicitConfig) sim.Factory {
	ids := make([]algorithms.NodeID, m.Drones)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	return func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		switch m.Algorithm {
		case "central":
			return mutex.NewCentral(id, centralServer), nil
		case "ring":
			return mutex.NewTokenRing(id, ids, m.cells()), nil
		case "ricart":
			return mutex.NewRicart(id, ids), nil
		case "maekawa":
			if m.variant() == "textbook" {
				return mutex.NewMaekawa(id, quorums), nil
			}
			return mutex.NewImplicitMaekawa(id, quorums, implicit), nil
		}
		return nil, fmt.Errorf("mutex: %q: %w", m.Algorithm, ErrUnknownAlgorithm)
	}
}

// RunMutex runs the mutex scenario: Entries critical-section entries by
// drones drawn from the seed, at most Concurrency outstanding, each held
// for Hold, with ME1 checked at every grant and happened-before order
// measured with vector clocks.
func RunMutex(m Mutex) (MutexResult, error) {
	if err := m.Validate(); err != nil {
		return MutexResult{}, err
	}
	cfg, err := m.simConfig()
	if err != nil {
		return MutexResult{}, err
	}
	cfg.TrackCausality = true
	var quorums mutex.Quorums
	if m.Algorithm == "maekawa" {
		ids := make([]algorithms.NodeID, m.Drones)
		for i := range ids {
			ids[i] = algorithms.NodeID(i + 1)
		}
		quorums = mutex.Best(ids)
	}
	s, err := sim.New(cfg, m.factory(quorums, m.implicitConfig(cfg)))
	if err != nil {
		return MutexResult{}, err
	}

	var (
		issued, completed, inversions int
		tokenPasses                   int
		holder                                 = map[mutex.Resource]algorithms.NodeID{}
		cells                                  = m.cells()
		lastRelease                   sim.Time = -1
		waiting                                = map[algorithms.NodeID]*entry{}
		clientDelays, syncDelays      []float64
	)
	var issue func()
	issue = func() {
		for len(waiting) < m.Concurrency && issued < m.Entries {
			var idle []algorithms.NodeID
			for id := algorithms.NodeID(1); int(id) <= s.N(); id++ {
				if waiting[id] == nil && s.Up(id) {
					idle = append(idle, id)
				}
			}
			if len(idle) == 0 {
				return
			}
			id := idle[s.Rand().IntN(len(idle))]
			cell := cells[s.Rand().IntN(len(cells))]
			e := &entry{id: id, cell: cell, requested: s.Now(), vc: s.LocalEvent(id)}
			waiting[id] = e
			issued++
			s.Record("request", id, fmt.Sprint(cell))
			s.Call(id, func(c algorithms.Core) {
				if err := c.(mutex.Mutex).Request(cell); err != nil {
					s.Violation("workload", "drone %d: %v", id, err)
				}
			})
		}
	}
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		if _, ok := ev.(mutex.TokenPassed); ok {
			tokenPasses++
			return
		}
		g, ok := ev.(mutex.Granted)
		if !ok {
			return
		}
		e := waiting[id]
		if e == nil || e.got || e.cell != g.Resource {
			s.Violation("me2", "drone %d granted %d without an outstanding request", id, g.Resource)
			return
		}
		if h := holder[g.Resource]; h != 0 {
			s.Violation("me1", "drone %d granted cell %d while drone %d holds it", id, g.Resource, h)
		}
		holder[g.Resource] = id
		e.granted, e.got = s.Now(), true
		s.Record("grant", id, fmt.Sprint(g.Resource))
		clientDelays = append(clientDelays, (e.granted - e.requested).Milliseconds())
		if lastRelease >= 0 && e.requested < lastRelease {
			syncDelays = append(syncDelays, (e.granted - lastRelease).Milliseconds())
		}
		for _, other := range sortedWaiting(waiting) {
			if other != e && other.cell == e.cell && !other.got && other.vc.HappenedBefore(e.vc) {
				inversions++
			}
		}
		s.After(m.Hold, func() {
			s.Call(id, func(c algorithms.Core) {
				if holder[g.Resource] == id {
					delete(holder, g.Resource)
				}
				s.Record("release", id, fmt.Sprint(g.Resource))
				if err := c.(mutex.Mutex).Release(g.Resource); err != nil {
					s.Violation("workload", "drone %d: %v", id, err)
				}
			})
			lastRelease = s.Now()
			delete(waiting, id)
			completed++
			// The next request follows after a think time, so that with
			// concurrency 1 nobody ever waits.
			s.After(sim.Time(s.Rand().Int64N(int64(20*sim.Millisecond))), issue)
		})
	})
	s.At(0, issue)
	// Generous: a token ring of 250 drones at 10% loss takes many seconds
	// per entry; a run that hits the limit reports its unfinished entries.
	limit := 120*sim.Second + sim.Time(m.Entries)*(m.Hold+5*sim.Second+sim.Time(m.Drones)*50*sim.Millisecond)
	s.Run(limit, func() bool { return completed == m.Entries })

	st := s.Stats()
	r := MutexResult{
		CommonResult:       commonResult(m.Common, s),
		Algorithm:          m.Algorithm,
		Entries:            m.Entries,
		Concurrency:        m.Concurrency,
		Hold:               m.Hold.Milliseconds(),
		Completed:          completed,
		MessagesPerEntry:   per(st.Messages, completed),
		DataFramesPerEntry: per(st.DataFrames, completed),
		FramesPerEntry:     per(st.Frames(), completed),
		AirtimeMsPerEntry:  st.Airtime.Milliseconds() / float64(max(completed, 1)),
		ClientDelayMsP50:   percentile(clientDelays, 50),
		ClientDelayMsP99:   percentile(clientDelays, 99),
		ME1Violations:      st.Violations["me1"],
		ME2Unfinished:      m.Entries - completed + st.Violations["me2"],
		ME3Inversions:      inversions,
	}
	if completed == 0 {
		r.AirtimeMsPerEntry = 0
	}
	switch m.Algorithm {
	case "ring":
		tp := per(tokenPasses, completed)
		r.TokenPassesPerEntry = &tp
	case "ricart":
		v := inversions
		r.ME3Violations = &v
	case "maekawa":
		v := m.variant()
		r.Variant = &v
		qs := quorums.Stats()
		r.QuorumSizeMin, r.QuorumSizeMax, r.QuorumSizeMean = qs.Min, qs.Max, qs.Mean
	}
	if len(syncDelays) > 0 {
		p := percentile(syncDelays, 50)
		r.SyncDelayMsP50 = &p
	}
	return r, nil
}

func sortedWaiting(w map[algorithms.NodeID]*entry) []*entry {
	ids := make([]algorithms.NodeID, 0, len(w))
	for id := range w {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]*entry, len(ids))
	for i, id := range ids {
		out[i] = w[id]
	}
	return out
}
