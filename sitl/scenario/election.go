package scenario

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/sitl/sim"
)

// ElectionAlgorithms are the algorithms the election scenario runs.
var ElectionAlgorithms = []string{"ring", "bully"}

// Election configures the election scenario.
type Election struct {
	Common
	// Algorithm is one of ElectionAlgorithms.
	Algorithm string
	// CrashLeader crashes the leader once the first election is over.
	CrashLeader bool
	// Initiator says who notices the loss of the leader (or, without a
	// crash, the lack of one) and starts: "all" (every survivor, told by
	// the failure detector), "lowest", "second" (the second-highest, which
	// knows the highest is down) or a drone ID.
	Initiator string
}

// ElectionResult holds the fields of the election scenario.
type ElectionResult struct {
	CommonResult
	Algorithm          string         `json:"algorithm"`
	CrashLeader        bool           `json:"crash_leader"`
	Initiator          string         `json:"initiator"`
	Leader             int            `json:"leader"`
	Terms              int            `json:"terms"`
	TimeToLeaderMs     *float64       `json:"time_to_leader_ms"`
	LeadersPerTermMax  int            `json:"leaders_per_term_max"`
	E1Violations       int            `json:"e1_violations"`
	E2Unfinished       int            `json:"e2_unfinished"`
	MessagesByKind     map[string]int `json:"messages_by_kind"`
	ElectionMessages   int            `json:"election_messages"`
	ElectionDataFrames int            `json:"election_data_frames"`
}

// Failed reports whether the run breaks the exit rule (Failures): a
// violation, an unfinished election, or two leaders in one term.
func (r ElectionResult) Failed() bool {
	return len(Failures(r)) > 0
}

// Validate checks the scenario's own flags, naming the bad one.
func (e Election) Validate() error {
	if !slices.Contains(ElectionAlgorithms, e.Algorithm) {
		return fmt.Errorf("--algorithm %q: %w (want one of %v)", e.Algorithm, ErrUnknownAlgorithm, ElectionAlgorithms)
	}
	switch e.Initiator {
	case "all", "lowest", "second":
		if e.Initiator == "second" && e.Drones < 2 {
			return fmt.Errorf("--initiator second: needs at least 2 drones")
		}
		return nil
	}
	id, err := strconv.Atoi(e.Initiator)
	if err != nil || id < 1 || id > e.Drones {
		return fmt.Errorf("--initiator %q: want all, lowest, second or a drone ID from 1 to %d", e.Initiator, e.Drones)
	}
	if e.CrashLeader && id == e.Drones {
		return fmt.Errorf("--initiator %d: that is the leader that --crash-leader crashes", id)
	}
	return nil
}

// electionTiming returns the cores' timeouts in ticks for a swarm of n on
// the simulated channel. The textbook's T = 2·T_trans + T_process assumes
// a message crosses in T_trans; on one shared radio channel a message can
// wait behind every frame already queued. In the bully's worst case every
// drone answers every lower one, N(N−1)/2 ANSWER frames, so T_trans is
// that many frames' airtime: a shorter T lets drones that are still due an
// ANSWER declare themselves, which breaks E1 and starts new terms. The
// reliable delivery layer's retransmissions under loss add to T_trans.
func electionTiming(n int, cfg sim.Config) (bullyT, ringAck int) {
	ticks := func(t sim.Time) int { return int((t + cfg.Tick - 1) / cfg.Tick) }
	frame := sim.Airtime(sim.FrameBytes(32, !cfg.Unsigned), cfg.Baud)
	// Every data frame is acknowledged by another frame, hence 2×; and
	// under loss a message takes retransmissions to get through.
	storm := 2 * sim.Time(n*(n-1)/2+n) * frame
	bound := sim.DeliveryBound(cfg.Loss)
	bullyT = election.BullyTimeout(ticks(storm+bound), 2)
	// A hop of the ring is one message and its acknowledgement, each
	// through the reliable delivery layer, and when everyone initiates,
	// each waits behind as many as N messages in flight (a frame, its
	// acknowledgement and the ring's ACK each).
	ringAck = ticks(2*bound + 3*sim.Time(n)*frame)
	return bullyT, ringAck
}

// RunElection runs the election scenario: a first election started by the
// initiator, and, with CrashLeader, the leader's crash once every drone
// knows it and a second election. E1 is checked at every Elected event,
// leaders are counted per term, and E2 at the end.
func RunElection(e Election) (ElectionResult, error) {
	if err := e.Validate(); err != nil {
		return ElectionResult{}, err
	}
	n := e.Drones
	ids := make([]algorithms.NodeID, n)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	cfg, err := e.simConfig()
	if err != nil {
		return ElectionResult{}, err
	}
	if cfg.Tick == 0 {
		cfg.Tick = 10 * sim.Millisecond
	}
	if cfg.Baud == 0 {
		cfg.Baud = 57600
	}
	bullyT, ringAck := electionTiming(n, cfg)
	auto := e.Initiator == "all"
	s, err := sim.New(cfg, func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		var opts []election.Option
		if restored != nil {
			opts = append(opts, election.Restore(restored))
		}
		switch e.Algorithm {
		case "ring":
			return election.NewRing(election.RingConfig{ID: id, Members: ids, AckTimeout: ringAck, AutoCampaign: auto}, opts...)
		default:
			return election.NewBully(election.BullyConfig{ID: id, Members: ids, Timeout: bullyT, AutoCampaign: auto}, opts...)
		}
	})
	if err != nil {
		return ElectionResult{}, err
	}

	var (
		leaderOf  = map[algorithms.NodeID]algorithms.NodeID{} // 0 while unknown
		perTerm   = map[uint32]map[algorithms.NodeID]bool{}
		maxTerm   uint32
		phase     = 0 // 0: first election, 1: leader crashed, 2: done
		startedAt sim.Time
		doneAt    sim.Time = -1
		crashed   algorithms.NodeID
		base      sim.Stats
		highestUp = func() algorithms.NodeID {
			for i := n; i >= 1; i-- {
				if s.Up(algorithms.NodeID(i)) {
					return algorithms.NodeID(i)
				}
			}
			return 0
		}
	)
	agreed := func() (algorithms.NodeID, bool) {
		var l algorithms.NodeID
		for _, id := range ids {
			if !s.Up(id) {
				continue
			}
			got := leaderOf[id]
			if got == 0 || !s.Up(got) || (l != 0 && got != l) {
				return 0, false
			}
			l = got
		}
		return l, l != 0
	}
	initiate := func() {
		switch e.Initiator {
		case "all":
			for _, id := range ids {
				s.Call(id, func(c algorithms.Core) { c.(election.Election).Campaign() })
			}
		case "lowest":
			s.Call(1, func(c algorithms.Core) { c.(election.Election).Campaign() })
		case "second":
			second := algorithms.NodeID(n - 1)
			if crashed != 0 {
				// The second-highest detects the highest's failure.
				s.Notify(second, crashed, false, true)
			}
			s.Call(second, func(c algorithms.Core) { c.(election.Election).Campaign() })
		default:
			id, _ := strconv.Atoi(e.Initiator)
			s.Call(algorithms.NodeID(id), func(c algorithms.Core) { c.(election.Election).Campaign() })
		}
	}
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev := ev.(type) {
		case election.ElectionStarted:
			leaderOf[id] = 0
			maxTerm = max(maxTerm, ev.Term)
		case election.Elected:
			maxTerm = max(maxTerm, ev.Term)
			leaderOf[id] = ev.Leader
			if perTerm[ev.Term] == nil {
				perTerm[ev.Term] = map[algorithms.NodeID]bool{}
			}
			perTerm[ev.Term][ev.Leader] = true
			// E1: the elected value is the live drone with the largest ID.
			if want := highestUp(); ev.Leader != want {
				s.Violation("e1", "drone %d elected %d in term %d; the highest live drone is %d", id, ev.Leader, ev.Term, want)
			}
		}
	})
	s.At(0, func() { startedAt = 0; initiate() })
	limit := 600*sim.Second + sim.Time(n*n)*50*sim.Millisecond
	s.Run(limit, func() bool {
		l, ok := agreed()
		switch {
		case phase == 0 && ok && doneAt < 0:
			doneAt = s.Now()
			if !e.CrashLeader {
				phase = 2
			}
		case phase == 0 && ok && s.Quiet():
			// The leader crashes once the first election's traffic has
			// drained, so that the second election starts on a quiet
			// channel.
			phase, crashed, doneAt = 1, l, -1
			base = s.Stats()
			s.Record("crash-leader", l, "")
			s.Crash(l)
			startedAt = s.Now()
			if e.Initiator == "all" {
				// The failure detector tells every survivor.
				s.After(500*sim.Millisecond, func() {
					for _, id := range ids {
						s.Notify(id, l, false, true)
					}
				})
			} else {
				initiate()
			}
		case phase == 1 && ok:
			doneAt, phase = s.Now(), 2
			// The failure detector catches up with everyone, so that the
			// reliable delivery layer stops waiting for the dead leader.
			for _, id := range ids {
				s.Notify(id, crashed, false, false)
			}
		case phase == 2:
			// Run on a little, so that late messages can still show a
			// second leader in some term.
			return s.Now() >= doneAt+2*sim.Second
		}
		return false
	})

	st := s.Stats()
	r := ElectionResult{
		CommonResult:   commonResult(e.Common, s),
		Algorithm:      e.Algorithm,
		CrashLeader:    e.CrashLeader,
		Initiator:      e.Initiator,
		Terms:          int(maxTerm),
		MessagesByKind: st.MessagesByKind,
		E1Violations:   st.Violations["e1"],
	}
	if l, ok := agreed(); ok {
		r.Leader = int(l)
	}
	for _, leaders := range perTerm {
		r.LeadersPerTermMax = max(r.LeadersPerTermMax, len(leaders))
	}
	// E2: every live drone took part and knows the leader.
	for _, id := range ids {
		if s.Up(id) && (leaderOf[id] == 0 || int(leaderOf[id]) != r.Leader) {
			r.E2Unfinished++
		}
	}
	if doneAt >= 0 {
		t := (doneAt - startedAt).Milliseconds()
		r.TimeToLeaderMs = &t
	}
	r.ElectionMessages = st.Messages - base.Messages
	r.ElectionDataFrames = st.DataFrames - base.DataFrames
	return r, nil
}
