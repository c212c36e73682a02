package scenario

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// Log configures the command log scenario.
type Log struct {
	Common
	// Commands is the number of commands appended in the whole run.
	Commands int
	// Committee is the number of drones that vote on commits.
	Committee int
	// CrashLeader crashes the leader at a random point mid-run.
	CrashLeader bool
	// Crash is the probability that each drone crashes at a random time
	// of the workload; a crash that would leave a committee without a live
	// majority is skipped.
	Crash float64
	// Restart brings every crashed drone back, from its persisted state,
	// 0.5 to 5 s after its crash.
	Restart bool
	// Interval is the time between two commands of the ground station
	// (optional, default 100 ms).
	Interval sim.Time
	// DetectAfter is how long the failure detector takes to tell every
	// drone of a crash or a restart (optional, default 500 ms).
	DetectAfter sim.Time
	// CommitDelay is how long the leader holds a new commit point for
	// the next APPEND to carry before it broadcasts a COMMIT of its own
	// (optional; by default the core's: its Retransmit, or at once with
	// Textbook). With Textbook and longer than Interval, it saves the
	// COMMIT frame and delays every learner's apply by up to Interval.
	CommitDelay sim.Time
	// UploadSize, when above 0, runs a show upload of that many bytes
	// beside the log from the first command on: the ground station (one
	// more vehicle) broadcasts it with coded repair, taking UploadShare
	// of the channel (default DefaultUploadShare), and every drone
	// receives it beside its log node.
	UploadSize  int
	UploadShare float64
	// Textbook runs the textbook round (cmdlog.Config.Textbook): every
	// committee member acknowledges to the leader alone, which
	// broadcasts every commit point in a COMMIT.
	Textbook bool
}

// LogResult holds the fields of the log scenario.
type LogResult struct {
	CommonResult
	Commands             int      `json:"commands"`
	Committee            int      `json:"committee"`
	CrashLeader          bool     `json:"crash_leader"`
	Crash                float64  `json:"crash"`
	Restart              bool     `json:"restart"`
	CommitDelay          float64  `json:"commit_delay"`
	Interval             float64  `json:"interval"`
	Textbook             bool     `json:"textbook"`
	Committed            int      `json:"committed"`
	AppliedMin           int      `json:"applied_min"`
	LostCommitted        int      `json:"lost_committed"`
	OrderViolations      int      `json:"order_violations"`
	DataFramesPerCommand float64  `json:"data_frames_per_command"`
	FramesPerCommand     float64  `json:"frames_per_command"`
	CommitLatencyMsP50   float64  `json:"commit_latency_ms_p50"`
	CommitLatencyMsP99   float64  `json:"commit_latency_ms_p99"`
	FailoverMs           *float64 `json:"failover_ms"`
	Terms                int      `json:"terms"`
	// CommandsUnfinished counts commands never committed.
	CommandsUnfinished int `json:"commands_unfinished"`
	// FailoverDetectionMs, FailoverElectionMs and FailoverRecoveryMs
	// split FailoverMs, measured from events: the leader's crash → the
	// new leader starts its election (the failure detector told it) → it
	// knows it is elected → its no-op is committed (its recovery is done
	// and the log commits again). Detection is the failure detector's
	// delay unless the new leader started before it, wrongly suspecting a
	// live leader that then crashed.
	FailoverDetectionMs *float64 `json:"failover_detection_ms"`
	FailoverElectionMs  *float64 `json:"failover_election_ms"`
	FailoverRecoveryMs  *float64 `json:"failover_recovery_ms"`
	// ApplyLatencyMsP50 and P99: proposal → applied, per command and
	// drone that never restarted.
	ApplyLatencyMsP50 float64 `json:"apply_latency_ms_p50"`
	ApplyLatencyMsP99 float64 `json:"apply_latency_ms_p99"`
	// AckFramesPerCommand, RetransmissionsPerCommand and
	// AirtimeMsPerCommand split the per-command cost.
	AckFramesPerCommand       float64 `json:"ack_frames_per_command"`
	RetransmissionsPerCommand float64 `json:"retransmissions_per_command"`
	AirtimeMsPerCommand       float64 `json:"airtime_ms_per_command"`
	// SetupFrames are the frames before the first command: the first
	// election and the first recovery. The per-command figures count
	// from the first command on.
	SetupFrames int `json:"setup_frames"`
	// Crashes, Restarts and CrashesSkipped count the fault plan's
	// events; CommitteeChanges the config entries committed; Reproposed
	// the commands the ground station proposed again after a failover
	// lost them.
	Crashes          int            `json:"crashes"`
	Restarts         int            `json:"restarts"`
	CrashesSkipped   int            `json:"crashes_skipped"`
	CommitteeChanges int            `json:"committee_changes"`
	Reproposed       int            `json:"reproposed"`
	MessagesByKind   map[string]int `json:"messages_by_kind"`
	// UploadSize and UploadShare echo the flags (0: no upload);
	// UploadSeconds is the time from the first command until every live
	// drone held the show (null: no upload, or not every drone held it);
	// UploadUnfinished the live drones without it at the end.
	// CommandsDuringUpload counts the commands first proposed before
	// every live drone held the show, and CommitLatencyMsP50Upload and
	// P99 are their commit latencies (null: none).
	UploadSize               int      `json:"upload_size"`
	UploadShare              *float64 `json:"upload_share"`
	UploadSeconds            *float64 `json:"upload_seconds"`
	UploadUnfinished         int      `json:"upload_unfinished"`
	CommandsDuringUpload     int      `json:"commands_during_upload"`
	CommitLatencyMsP50Upload *float64 `json:"commit_latency_ms_p50_upload"`
	CommitLatencyMsP99Upload *float64 `json:"commit_latency_ms_p99_upload"`
}

// Failed reports whether the run breaks the exit rule (Failures): a
// command committed and lost, a violation of the order, or a command never
// committed.
func (r LogResult) Failed() bool {
	return len(Failures(r)) > 0
}

// Validate checks the scenario's own flags, naming the bad one.
func (l Log) Validate() error {
	switch {
	case l.Commands < 1:
		return fmt.Errorf("--commands %d: must be at least 1", l.Commands)
	case l.Committee < 1 || l.Committee > cmdlog.MaxCommittee:
		return fmt.Errorf("--committee %d: must be 1 to %d", l.Committee, cmdlog.MaxCommittee)
	case l.Committee > l.Drones:
		return fmt.Errorf("--committee %d: more than the %d drones", l.Committee, l.Drones)
	case l.Crash < 0 || l.Crash >= 1:
		return fmt.Errorf("--crash %v: must be in [0, 1)", l.Crash)
	case l.CrashLeader && l.Drones < 2:
		return fmt.Errorf("--crash-leader: needs at least 2 drones")
	case l.Interval < 0:
		return fmt.Errorf("interval %v: must not be negative", l.Interval)
	case l.DetectAfter < 0:
		return fmt.Errorf("detect-after %v: must not be negative", l.DetectAfter)
	case l.CommitDelay < 0:
		return fmt.Errorf("--commit-delay %v: must not be negative", l.CommitDelay)
	case l.UploadSize < 0 || l.UploadSize > upload.MaxShowSize:
		return fmt.Errorf("--upload-size %d: must be 0 to %d bytes", l.UploadSize, upload.MaxShowSize)
	case l.UploadShare < 0 || l.UploadShare > 1:
		return fmt.Errorf("--upload-share %v: must be in (0, 1]", l.UploadShare)
	case l.UploadSize > 0 && l.Drones > 65533:
		return fmt.Errorf("--drones %d: the ground station takes one vehicle ID, at most 65533 drones", l.Drones)
	}
	return nil
}

// logTiming sizes the cores' timeouts, in ticks, from the channel: a
// commit round is the APPEND and C−1 acknowledgements on the shared
// channel plus the reordering delay each way.
func logTiming(l Log, cfg sim.Config) cmdlog.NodeConfig {
	ticks := func(t sim.Time) int { return int((t + cfg.Tick - 1) / cfg.Tick) }
	frame := sim.Airtime(sim.FrameBytes(40, !cfg.Unsigned), cfg.Baud)
	ack := sim.Airtime(sim.FrameBytes(30, !cfg.Unsigned), cfg.Baud)
	quick := sim.Time(l.Committee / 2) // acknowledgements a majority needs besides the leader
	round := sim.Time(l.Committee+1)*frame + 2*cfg.Reorder
	bound := sim.DeliveryBound(cfg.Loss)
	return cmdlog.NodeConfig{
		Log: cmdlog.Config{
			Committee:   l.Committee,
			Seed:        l.Seed,
			CommitDelay: ticks(l.CommitDelay),
			Textbook:    l.Textbook,
			// A member beyond the first majority waits until the
			// majority's acknowledgements are on air.
			AckDelay:     ticks(quick*ack+cfg.Reorder) + 2,
			Retransmit:   ticks(round + 100*sim.Millisecond),
			NakDelay:     ticks(cfg.Reorder+2*frame) + 1,
			NakJitter:    ticks(cfg.Reorder + 8*frame),
			RepairGap:    ticks(cfg.Reorder+2*frame) + 1,
			Beacon:       ticks(500 * sim.Millisecond),
			RecoverRetry: ticks(round + 50*sim.Millisecond),
		},
		BullyTimeout:    ticks(bound + 4*frame),
		CampaignTimeout: ticks(2*l.DetectAfter + 2*bound + sim.Time(cfg.Drones)*frame),
	}
}

// workload is the workload's command number id as a 12-byte show command:
// the number, and a show time and colour drawn from it.
func workload(id int) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(id))
	b = binary.BigEndian.AppendUint32(b, uint32(id)*250) // show time, ms
	return binary.BigEndian.AppendUint32(b, uint32(id)*0x9e3779b9)
}

func commandID(data []byte) (int, bool) {
	if len(data) != 12 {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(data)), true
}

// proposal is one command of the ground station until it is committed,
// with every position it was proposed at.
type proposal struct {
	id        int
	positions []cmdlog.Position
}

// lost reports whether a leader of term, which has completed its
// recovery and holds the log lg, shows that none of the command's
// proposals can ever be committed: it holds none of their positions, all
// of earlier terms. (Any log that holds the new proposal agrees with lg up
// to it, so it holds none of them at lower indices, and its terms never
// decrease, so none at higher ones.)
func (p *proposal) lost(lg *cmdlog.Log) bool {
	for _, pos := range p.positions {
		if pos.Term >= lg.Term() || lg.Has(pos) {
			return false
		}
	}
	return true
}

// entryKey identifies what an index holds, for the order check.
type entryKey struct {
	term uint32
	kind cmdlog.EntryKind
	data string
}

// RunLog runs the command log scenario: once the first leader has
// recovered and the channel is quiet, the ground station proposes one
// command every Interval at the leader, proposing again the commands a
// failover lost (those of which the new leader holds no position); the
// fault plan crashes the leader (CrashLeader) and random drones (Crash),
// and restarts them (Restart). Every Applied is checked as it happens: each
// drone applies indices in order without gaps, and every drone applies the
// same entry at an index. The run ends when every command is committed
// and every live drone has applied everything committed.
func RunLog(l Log) (LogResult, error) {
	if l.Interval == 0 {
		l.Interval = 100 * sim.Millisecond
	}
	if l.DetectAfter == 0 {
		l.DetectAfter = 500 * sim.Millisecond
	}
	if l.UploadSize > 0 && l.UploadShare == 0 {
		l.UploadShare = DefaultUploadShare
	}
	if err := l.Validate(); err != nil {
		return LogResult{}, err
	}
	n := l.Drones
	ids := make([]algorithms.NodeID, n)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	cfg, err := l.simConfig()
	if err != nil {
		return LogResult{}, err
	}
	cfg.DetectAfter = l.DetectAfter
	if cfg.Tick == 0 {
		cfg.Tick = 10 * sim.Millisecond
	}
	if cfg.Baud == 0 {
		cfg.Baud = 57600
	}
	timing := logTiming(l, cfg)
	var up *sideUpload
	if l.UploadSize > 0 {
		if up, err = newSideUpload(n, l.UploadSize, l.UploadShare, l.Seed, cfg.Baud, cfg.Tick.Seconds()); err != nil {
			return LogResult{}, err
		}
		cfg.Drones = n + 1
	}
	s, err := sim.New(cfg, func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		if up != nil && id == up.station {
			return up.sender, nil
		}
		nc := timing
		nc.Log.ID, nc.Log.Members = id, ids
		var nd *cmdlog.Node
		var err error
		if restored != nil {
			nd, err = cmdlog.NewNode(nc, cmdlog.Restore(restored))
		} else {
			nd, err = cmdlog.NewNode(nc)
		}
		if err != nil || up == nil {
			return nd, err
		}
		return up.drone(id, nd)
	})
	if err != nil {
		return LogResult{}, err
	}
	node := func(id algorithms.NodeID) *cmdlog.Node {
		if d, ok := s.Core(id).(*logDrone); ok {
			return d.Node
		}
		return s.Core(id).(*cmdlog.Node)
	}
	// uploading reports whether the upload runs: begun, and some live
	// drone does not hold the show yet.
	var uploadBegun, uploadDoneAt sim.Time = -1, -1
	uploading := func() bool {
		if up == nil || uploadBegun < 0 || uploadDoneAt >= 0 {
			return false
		}
		for _, id := range ids {
			if s.Up(id) && !s.Core(id).(*logDrone).rx.Holds(up.hash) {
				return true
			}
		}
		uploadDoneAt = s.Now()
		return false
	}
	var commitLatUp []float64
	duringUpload := map[int]bool{}

	var (
		started      bool
		firstLeading bool
		base         sim.Stats
		issued       int
		pending      = map[int]*proposal{}
		firstAt      = map[int]sim.Time{}
		committedAt  = map[int]sim.Time{}
		cmdIndex     = map[int]uint32{}
		atIndex      = map[uint32]entryKey{}
		appliedNext  = make([]uint32, n+1)
		appliedCmds  = make([]map[int]bool, n+1)
		restarted    = make([]bool, n+1)
		maxIndex     uint32
		commitLat    []float64
		applyLat     []float64
		maxTerm      uint32
		configs      int
		crashes      int
		restarts     int
		skipped      int
		reproposed   int
		waiting      int      // restarts and crashes still to come
		crashAt      sim.Time = -1
		crashTerm    uint32
		electedAt             = map[uint32]sim.Time{}
		startedAt             = map[[2]uint32]sim.Time{} // (drone, term) → ElectionStarted
		leaderOf              = map[uint32]algorithms.NodeID{}
		noopAt       sim.Time = -1
		noopTerm     uint32
		workloadDone bool
	)
	for i := range appliedCmds {
		appliedCmds[i] = map[int]bool{}
	}

	// leader returns the drone that leads the highest term and has
	// completed its recovery: where the ground station proposes.
	leader := func() algorithms.NodeID {
		var best algorithms.NodeID
		var term uint32
		for _, id := range ids {
			if s.Up(id) {
				if lg := node(id).Log(); lg.Leading() && lg.Term() > term {
					best, term = id, lg.Term()
				}
			}
		}
		return best
	}
	propose := func(at algorithms.NodeID, p *proposal) {
		s.Record("propose", at, fmt.Sprint(p.id))
		s.Call(at, func(algorithms.Core) {
			pos, err := node(at).Propose(workload(p.id))
			if err != nil {
				s.Violation("workload", "drone %d: propose %d: %v", at, p.id, err)
				return
			}
			p.positions = append(p.positions, pos)
		})
	}
	var tick func()
	tick = func() {
		if at := leader(); at != 0 {
			lg := node(at).Log()
			// Commands whose positions the leader of a later term does
			// not hold were lost with a failover: never committed, and
			// never to be. Propose them again.
			keys := make([]int, 0, len(pending))
			for id := range pending {
				keys = append(keys, id)
			}
			slices.Sort(keys)
			for _, id := range keys {
				if p := pending[id]; p.lost(lg) {
					reproposed++
					propose(at, p)
				}
			}
			if issued < l.Commands {
				issued++
				p := &proposal{id: issued}
				pending[issued], firstAt[issued] = p, s.Now()
				if uploading() {
					duringUpload[issued] = true
				}
				propose(at, p)
			}
		}
		if !workloadDone {
			s.After(l.Interval, tick)
		}
	}

	// safe reports whether crashing victim leaves a live majority in the
	// committees that can decide, as the most up-to-date log names them.
	safe := func(victim algorithms.NodeID) bool {
		var top *cmdlog.Log
		var topPos cmdlog.Position
		for _, id := range ids {
			if !s.Up(id) {
				continue
			}
			lg := node(id).Log()
			e, _ := lg.Entry(lg.LastIndex())
			pos := cmdlog.Position{Index: lg.LastIndex(), Term: e.Term}
			if top == nil || pos.Term > topPos.Term || (pos.Term == topPos.Term && pos.Index > topPos.Index) {
				top, topPos = lg, pos
			}
		}
		if top == nil {
			return false
		}
		for _, c := range top.RecentCommittees() {
			live := 0
			for _, m := range c {
				if m != victim && s.Up(m) {
					live++
				}
			}
			if live < len(c)/2+1 {
				return false
			}
		}
		return true
	}
	crash := func(id algorithms.NodeID) bool {
		if !s.Up(id) || !safe(id) {
			return false
		}
		s.Record("crash", id, "")
		s.Crash(id)
		crashes++
		if l.Restart {
			waiting++
			delay := 500*sim.Millisecond + sim.Time(s.Rand().Int64N(int64(4500*sim.Millisecond)))
			s.After(delay, func() {
				waiting--
				appliedNext[id], appliedCmds[id], restarted[id] = 0, map[int]bool{}, true
				if err := s.Restart(id, true); err != nil {
					s.Violation("restart", "drone %d: %v", id, err)
					return
				}
				restarts++
			})
		}
		return true
	}
	highestUp := func() algorithms.NodeID {
		for i := n; i >= 1; i-- {
			if s.Up(algorithms.NodeID(i)) {
				return algorithms.NodeID(i)
			}
		}
		return 0
	}
	// crashLeader crashes the highest live drone, which the bully makes
	// leader, as soon as that is safe (within 10 s).
	var crashLeader func(tries int)
	crashLeader = func(tries int) {
		target := highestUp()
		term := node(target).Log().Term()
		switch {
		case crash(target):
			crashAt, crashTerm = s.Now(), term
		case tries < 100:
			s.After(100*sim.Millisecond, func() { crashLeader(tries + 1) })
			return
		default:
			skipped++
		}
		waiting--
	}
	start := func() {
		started = true
		base = s.Stats()
		span := sim.Time(l.Commands) * l.Interval
		if l.Crash > 0 {
			for _, id := range ids {
				if s.Rand().Float64() < l.Crash {
					at := sim.Time(s.Rand().Int64N(int64(span) + 1))
					waiting++
					s.After(at, func() {
						waiting--
						if !crash(id) {
							skipped++
						}
					})
				}
			}
		}
		if l.CrashLeader {
			at := span/4 + sim.Time(s.Rand().Int64N(int64(span/2)+1))
			waiting++
			s.After(at, func() { crashLeader(0) })
		}
		s.After(0, tick)
		if up != nil {
			uploadBegun = s.Now()
			up.sender.on = true
		}
	}

	caughtUp := func() bool {
		for _, id := range ids {
			if s.Up(id) && appliedNext[id] < maxIndex {
				return false
			}
		}
		return true
	}
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev := ev.(type) {
		case election.ElectionStarted:
			if k := [2]uint32{uint32(id), ev.Term}; startedAt[k] == 0 {
				startedAt[k] = s.Now()
			}
		case election.Elected:
			maxTerm = max(maxTerm, ev.Term)
			if ev.Leader == id {
				if _, ok := electedAt[ev.Term]; !ok {
					electedAt[ev.Term] = s.Now()
					leaderOf[ev.Term] = id
				}
			}
		case cmdlog.Leading:
			maxTerm = max(maxTerm, ev.Term)
			firstLeading = true
		case cmdlog.Applied:
			if want := appliedNext[id] + 1; ev.Index != want {
				s.Violation("order", "drone %d applied index %d, expected %d", id, ev.Index, want)
			}
			appliedNext[id] = max(appliedNext[id], ev.Index)
			key := entryKey{term: ev.Entry.Term, kind: ev.Entry.Kind, data: string(ev.Entry.Data)}
			if k, ok := atIndex[ev.Index]; ok && k != key {
				s.Violation("order", "drone %d applied %v of term %d at index %d, where %v of term %d was applied", id, key.kind, key.term, ev.Index, k.kind, k.term)
			} else if !ok {
				atIndex[ev.Index] = key
				if ev.Entry.Kind == cmdlog.KindConfig {
					configs++
				}
			}
			maxIndex = max(maxIndex, ev.Index)
			switch ev.Entry.Kind {
			case cmdlog.KindNoop:
				if crashAt >= 0 && noopAt < 0 && ev.Entry.Term > crashTerm {
					noopAt, noopTerm = s.Now(), ev.Entry.Term
				}
			case cmdlog.KindCommand:
				cid, ok := commandID(ev.Entry.Data)
				if !ok {
					s.Violation("order", "drone %d applied a command that was never proposed", id)
					return
				}
				if at, ok := cmdIndex[cid]; ok && at != ev.Index {
					s.Violation("order", "command %d at index %d and at index %d", cid, at, ev.Index)
				}
				cmdIndex[cid] = ev.Index
				if _, ok := committedAt[cid]; !ok {
					committedAt[cid] = s.Now()
					commitLat = append(commitLat, (s.Now() - firstAt[cid]).Milliseconds())
					if duringUpload[cid] {
						commitLatUp = append(commitLatUp, (s.Now() - firstAt[cid]).Milliseconds())
					}
					delete(pending, cid)
				}
				appliedCmds[id][cid] = true
				if !restarted[id] {
					applyLat = append(applyLat, (s.Now() - firstAt[cid]).Milliseconds())
				}
			}
		}
	})

	limit := 120*sim.Second + sim.Time(l.Commands)*(l.Interval+sim.Second) + sim.Time(n)*50*sim.Millisecond
	if up != nil {
		limit += 600 * sim.Second
	}
	s.Run(limit, func() bool {
		if !started {
			// The first leader's no-op applied everywhere and nothing
			// on air: the setup is over.
			if firstLeading && maxIndex > 0 && caughtUp() && s.Quiet() {
				start()
			}
			return false
		}
		if len(committedAt) == l.Commands {
			workloadDone = true
		}
		uploading()
		return workloadDone && waiting == 0 && caughtUp() && (up == nil || uploadDoneAt >= 0)
	})

	st := s.Stats()
	r := LogResult{
		CommonResult:       commonResult(l.Common, s),
		Commands:           l.Commands,
		Committee:          l.Committee,
		CrashLeader:        l.CrashLeader,
		Crash:              l.Crash,
		Restart:            l.Restart,
		CommitDelay:        l.CommitDelay.Milliseconds(),
		Interval:           l.Interval.Milliseconds(),
		Textbook:           l.Textbook,
		Committed:          len(committedAt),
		OrderViolations:    st.Violations["order"],
		Terms:              int(maxTerm),
		CommandsUnfinished: l.Commands - len(committedAt),
		CommitLatencyMsP50: percentile(commitLat, 50),
		CommitLatencyMsP99: percentile(commitLat, 99),
		ApplyLatencyMsP50:  percentile(applyLat, 50),
		ApplyLatencyMsP99:  percentile(applyLat, 99),
		SetupFrames:        base.Frames(),
		Crashes:            crashes,
		Restarts:           restarts,
		CrashesSkipped:     skipped,
		CommitteeChanges:   configs,
		Reproposed:         reproposed,
		MessagesByKind:     st.MessagesByKind,
	}
	if up != nil {
		r.Drones = n // the ground station is no drone
		share := l.UploadShare
		r.UploadSize, r.UploadShare = l.UploadSize, &share
		if uploadDoneAt >= 0 {
			t := (uploadDoneAt - uploadBegun).Seconds()
			r.UploadSeconds = &t
		}
		for _, id := range ids {
			if s.Up(id) && !s.Core(id).(*logDrone).rx.Holds(up.hash) {
				r.UploadUnfinished++
			}
		}
		r.CommandsDuringUpload = len(duringUpload)
		if len(commitLatUp) > 0 {
			p50, p99 := percentile(commitLatUp, 50), percentile(commitLatUp, 99)
			r.CommitLatencyMsP50Upload, r.CommitLatencyMsP99Upload = &p50, &p99
		}
	}
	committed := len(committedAt)
	r.DataFramesPerCommand = per(st.DataFrames-base.DataFrames, committed)
	r.FramesPerCommand = per(st.Frames()-base.Frames(), committed)
	r.AckFramesPerCommand = per(st.AckFrames-base.AckFrames, committed)
	r.RetransmissionsPerCommand = per(st.Retransmissions-base.Retransmissions, committed)
	if committed > 0 {
		r.AirtimeMsPerCommand = (st.Airtime - base.Airtime).Milliseconds() / float64(committed)
	}
	r.AppliedMin = -1
	for _, id := range ids {
		if !s.Up(id) {
			continue
		}
		if r.AppliedMin < 0 || len(appliedCmds[id]) < r.AppliedMin {
			r.AppliedMin = len(appliedCmds[id])
		}
	}
	r.AppliedMin = max(r.AppliedMin, 0)
	// Committed commands that some live drone never applied.
	cids := make([]int, 0, len(committedAt))
	for cid := range committedAt {
		cids = append(cids, cid)
	}
	slices.Sort(cids)
	for _, cid := range cids {
		for _, id := range ids {
			if s.Up(id) && !appliedCmds[id][cid] {
				r.LostCommitted++
				break
			}
		}
	}
	if crashAt >= 0 && noopAt >= 0 {
		f := (noopAt - crashAt).Milliseconds()
		r.FailoverMs = &f
		if elected, ok := electedAt[noopTerm]; ok {
			started, ok := startedAt[[2]uint32{uint32(leaderOf[noopTerm]), noopTerm}]
			if !ok {
				started = elected
			}
			started = min(max(started, crashAt), elected)
			elected = max(elected, crashAt)
			det, e, rec := (started - crashAt).Milliseconds(), (elected - started).Milliseconds(), (noopAt - elected).Milliseconds()
			r.FailoverDetectionMs, r.FailoverElectionMs, r.FailoverRecoveryMs = &det, &e, &rec
		}
	}
	return r, nil
}
