package scenario

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
	"github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
	"github.com/skyquorum/skyquorum/swarm/timesync"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// Show configures the show scenario: the whole swarm node with simulated
// vehicles.
type Show struct {
	Common
	Networks int
	// Duration is the measured run: faults, the ground station's
	// commands and airspace traffic happen within it.
	Duration sim.Time
	// Settle is the settling period after Duration (0: none): no
	// loss, duplication, reordering or crash, no new command and no new
	// airspace request; crashed drones still restart. What is still
	// missing or open after it is lost or unfinished.
	Settle      sim.Time
	CrashLeader bool
	Crash       float64
	Restart     bool
	ClockOffset sim.Time
	ClockDrift  float64
	// Election is the leader election: "bully" (the default) or "ring".
	Election string
	// Plan is the show the swarm flies, one part per drone (nil: the
	// demo show for Drones drones at its shortest, DemoShow).
	Plan *show.Show
	// MinDistance is the minimum distance between two vehicles in metres
	// (0: the show's own, or DefaultMinDistance if it has none); closer
	// pairs are counted in separation_violations or separation_at_risk.
	MinDistance float64
	// UploadSize, when above 0, runs a show upload of that many bytes
	// beside the swarm, as in the log scenario: the ground station (one
	// more vehicle on the channel, no drone) broadcasts it with coded
	// repair, taking UploadShare of the channel (default
	// DefaultUploadShare), and every drone runs an upload receiver beside
	// its swarm node. The upload begins uploadLead before the leader
	// crashes with CrashLeader, at the start otherwise. It needs a single
	// network.
	UploadSize  int
	UploadShare float64
}

// uploadLead is how long before the leader's crash an upload begins, so
// that the failover happens while the show is on its way.
const uploadLead = 5 * sim.Second

// DefaultMinDistance is the minimum distance between two vehicles for a
// show that names none.
const DefaultMinDistance = 2.0 // m

// DemoShow returns the show that the scenario flies when it is given
// none: the demo show for n drones at its shortest (about a minute up to
// 50 drones), so that it fits a run of a couple of minutes.
func DemoShow(n int) (*show.Show, error) {
	return demo.NewWith(n, demo.Options{Duration: time.Nanosecond})
}

// ShowResult holds the fields of the show scenario.
type ShowResult struct {
	CommonResult
	Networks                 int      `json:"networks"`
	Duration                 float64  `json:"duration"`
	Settle                   float64  `json:"settle"`
	CrashLeader              bool     `json:"crash_leader"`
	Crash                    float64  `json:"crash"`
	Restart                  bool     `json:"restart"`
	ClockOffset              float64  `json:"clock_offset"`
	ClockDrift               float64  `json:"clock_drift"`
	Election                 string   `json:"election"`
	Leader                   int      `json:"leader"`
	Terms                    int      `json:"terms"`
	CommandsCommitted        int      `json:"commands_committed"`
	CommandsAppliedMin       int      `json:"commands_applied_min"`
	LostCommitted            int      `json:"lost_committed"`
	OrderViolations          int      `json:"order_violations"`
	LockEntries              int      `json:"lock_entries"`
	ME1Violations            int      `json:"me1_violations"`
	LeaderFailoverMs         *float64 `json:"leader_failover_ms"`
	HeartbeatAirtimeShare    float64  `json:"heartbeat_airtime_share"`
	CoordinationAirtimeShare float64  `json:"coordination_airtime_share"`
	ClockErrorMsMax          float64  `json:"clock_error_ms_max"`
	// ClockSpreadMsMax is the largest difference between the swarm times
	// of two live synchronised drones (leaders included, of any
	// network), sampled every 100 ms from the start.
	ClockSpreadMsMax float64 `json:"clock_spread_ms_max"`
	// ClockSpreadNetworkMsMax is ClockSpreadMsMax within one network,
	// the largest of any network: what the network's time sync achieves
	// without GPS time to bring the networks together.
	ClockSpreadNetworkMsMax float64 `json:"clock_spread_network_ms_max"`
	// ShowTimeJumpMsMax is the largest step of one live synchronised
	// drone's swarm time, and so of its show time, between two
	// consecutive 100 ms samples beyond the time elapsed: slewing moves
	// it by at most 1 ms, a clock set anew by its whole correction.
	ShowTimeJumpMsMax   float64 `json:"show_time_jump_ms_max"`
	MemoryBytesPerDrone float64 `json:"memory_bytes_per_drone"`
	// LeadersPerTermMax counts the drones that acted as leader of one
	// term (sequenced or repeated log entries, announced a commit point,
	// served swarm time); above 1 is a LeaderActionViolations.
	// ElectedPerTermMax counts the drones the election declared in one
	// term, which a wrongly suspected leader can make 2 without harm.
	LeadersPerTermMax      int `json:"leaders_per_term_max"`
	LeaderActionViolations int `json:"leader_action_violations"`
	ElectedPerTermMax      int `json:"elected_per_term_max"`
	// TermsWhileLeaderAlive counts the terms elected while the drone
	// that last acted as its network's leader was alive: a live leader
	// wrongly suspected, or overthrown by a higher drone that came back.
	TermsWhileLeaderAlive int `json:"terms_while_leader_alive"`
	// The show player and the airspace view.
	CommandsRefused           int     `json:"commands_refused"`
	ShowPhase                 string  `json:"show_phase"`
	ShowPhaseMismatch         int     `json:"show_phase_mismatch"`
	ShowTimeErrorMsMax        float64 `json:"show_time_error_ms_max"`
	ShowOutOfSyncDroneSeconds int     `json:"show_out_of_sync_drone_seconds"`
	// The show flown: its drones, length and hash, and the largest
	// distance between a vehicle flying it and where its drone's part
	// of the show puts it at the drone's own show time.
	ShowDrones        int     `json:"show_drones"`
	ShowDurationS     float64 `json:"show_duration_s"`
	ShowHash          string  `json:"show_hash"`
	ShowDeviationMMax float64 `json:"show_deviation_m_max"`
	// ShowStartSpreadMs is the largest difference in true time between
	// the moments two drones' show times passed 0 (the START took effect
	// at them), over every network, and ShowStartSpreadMsNetwork the
	// same within one network, the largest; null when no drone started.
	// Counted for the drones flying the show in sync within a second of
	// their start.
	ShowStartSpreadMs        *float64 `json:"show_start_spread_ms"`
	ShowStartSpreadMsNetwork *float64 `json:"show_start_spread_ms_network"`
	// CrossNetworkCellOverlaps counts the entries into an airspace cell
	// that a drone of another network held: each network locks the
	// shared zone on its own, so with --networks above 1 nothing keeps
	// them apart (docs/swarm.md, "Several networks").
	CrossNetworkCellOverlaps int     `json:"cross_network_cell_overlaps"`
	ViewsInForce             int     `json:"views_in_force"`
	ViewsInForceMin          int     `json:"views_in_force_min"`
	VotersRetired            []int   `json:"voters_retired"`
	LockWaitMsMax            float64 `json:"lock_wait_ms_max"`
	// LockFramesPerEntry is what the airspace locks put on air per cell
	// acquired (sim.Sim.FamilyFrames), null when no cell was acquired.
	LockFramesPerEntry   *float64 `json:"lock_frames_per_entry"`
	LockAcquisitionsOpen int      `json:"lock_acquisitions_open"`
	// The backlog at the end of Duration: committed commands some live
	// drone had not applied yet, and the (drone, command) pairs missing.
	BacklogCommands      int `json:"backlog_commands"`
	BacklogDroneCommands int `json:"backlog_drone_commands"`
	// LockAcquisitionsUnfinished counts live drones whose airspace
	// request is still not granted after settling.
	LockAcquisitionsUnfinished int `json:"lock_acquisitions_unfinished"`
	// CoordinationAirtimeShareMax10s is the busiest 10 s window of swarm
	// traffic on any network, as a share of the channel.
	CoordinationAirtimeShareMax10s float64 `json:"coordination_airtime_share_max_10s"`
	// Separation between airborne vehicles, checked at every vehicle
	// update (separation): the smallest distance (null when no two came
	// within separationBound), the pairs closer than the minimum distance
	// while both flew as the swarm said, and those closer while one was
	// not under the swarm's control (its drone crashed, or holds out of
	// sync).
	MinSeparationM       *float64 `json:"min_separation_m"`
	SeparationViolations int      `json:"separation_violations"`
	SeparationAtRisk     int      `json:"separation_at_risk"`
	// FailsafeVehicles counts the vehicles in their autopilot's failsafe
	// at the end: their drone crashed and did not take them back.
	FailsafeVehicles int `json:"failsafe_vehicles"`
	// UnencodableFrames counts the frames the radio could not encode (a
	// field out of the range its MAVLink message carries), which a real
	// drone would drop: so far only time-sync replies that waited more
	// than 4.29 s for a full channel, useless by then. Reported: the
	// channel figures judge the load. FrameViolations counts the frames
	// a drone's reliable layer rejected.
	UnencodableFrames int `json:"unencodable_frames"`
	FrameViolations   int `json:"frame_violations"`
	// The upload's fields, absent without one (ShowUploadResult).
	*ShowUploadResult
}

// ShowUploadResult holds the show scenario's fields of an upload beside
// the swarm (Show.UploadSize): the flags echoed, when it began (s), the
// time from then until every live drone held the show (null: not every
// drone held it by the end), the live drones without it at the end, and
// the upload's share of the channel over Duration, which
// coordination_airtime_share leaves out. Commit latency is from the
// leader's proposal of a show command to its first application (the
// leader's, at commit), over the commands committed in Duration, and over
// those proposed while the upload ran (commands_during_upload).
type ShowUploadResult struct {
	UploadSize               int      `json:"upload_size"`
	UploadShare              float64  `json:"upload_share"`
	UploadBeginS             float64  `json:"upload_begin_s"`
	UploadSeconds            *float64 `json:"upload_seconds"`
	UploadUnfinished         int      `json:"upload_unfinished"`
	UploadAirtimeShare       float64  `json:"upload_airtime_share"`
	CommitLatencyMsP50       *float64 `json:"commit_latency_ms_p50"`
	CommitLatencyMsP99       *float64 `json:"commit_latency_ms_p99"`
	CommitLatencyMsMax       *float64 `json:"commit_latency_ms_max"`
	CommandsDuringUpload     int      `json:"commands_during_upload"`
	CommitLatencyMsP50Upload *float64 `json:"commit_latency_ms_p50_upload"`
	CommitLatencyMsP99Upload *float64 `json:"commit_latency_ms_p99_upload"`
}

// Failed reports whether the run breaks the exit rule (Failures): a
// violation, a committed command still missing at a live drone after
// settling, work left unfinished after settling, or two leaders in one
// term.
func (r ShowResult) Failed() bool {
	return len(Failures(r)) > 0
}

// Validate checks the scenario's own flags, naming the bad one. A real
// radio network holds at most 250 drones (MAVLink system IDs); larger
// networks are allowed here to measure how the simulator scales.
func (sh Show) Validate() error {
	switch {
	case sh.Networks < 1 || sh.Networks > sh.Drones:
		return fmt.Errorf("--networks %d: must be 1 to --drones (%d)", sh.Networks, sh.Drones)
	case sh.Duration <= 0:
		return fmt.Errorf("--duration %v: must be positive", sh.Duration)
	case sh.Settle < 0:
		return fmt.Errorf("--settle %v: must not be negative", sh.Settle)
	case sh.Crash < 0 || sh.Crash >= 1:
		return fmt.Errorf("--crash %v: must be in [0, 1)", sh.Crash)
	case sh.ClockOffset < 0:
		return fmt.Errorf("--clock-offset %v: must not be negative", sh.ClockOffset)
	case sh.ClockDrift < 0 || sh.ClockDrift > 1000:
		return fmt.Errorf("--clock-drift %v: must be 0 to 1000 ppm", sh.ClockDrift)
	case sh.Election != "" && sh.Election != "bully" && sh.Election != "ring":
		return fmt.Errorf("--election %q: must be bully or ring", sh.Election)
	case sh.Plan != nil && len(sh.Plan.Drones) != sh.Drones:
		return fmt.Errorf("--drones %d: the show has %d drones", sh.Drones, len(sh.Plan.Drones))
	case sh.MinDistance < 0:
		return fmt.Errorf("minimum distance %v m: must not be negative", sh.MinDistance)
	case sh.UploadSize < 0 || sh.UploadSize > upload.MaxShowSize:
		return fmt.Errorf("--upload-size %d: must be 0 to %d bytes", sh.UploadSize, upload.MaxShowSize)
	case !(sh.UploadShare >= 0 && sh.UploadShare <= 1):
		return fmt.Errorf("--upload-share %v: must be in (0, 1]", sh.UploadShare)
	case sh.UploadSize > 0 && sh.Networks > 1:
		return fmt.Errorf("--upload-size with --networks %d: the upload runs on a single network", sh.Networks)
	case sh.UploadSize > 0 && sh.Drones > 65533:
		return fmt.Errorf("--upload-size with --drones %d: the ground station needs a vehicle ID, so at most 65533 drones", sh.Drones)
	}
	return nil
}

// DefaultSettle is the settling period of `groundstation simulate show`:
// long enough for every drone to catch up on a calm channel after a run
// at 20% loss, and for a voter that crashed late in the run to be
// replaced (failure detection, the view change's 52 s, a retry) so that
// the requests waiting on it are granted (docs/simulate.md).
const DefaultSettle = 120 * sim.Second

// showKey signs the simulated ground station's emergency commands.
var showKey = []byte("skyquorum simulated swarm key 32")

// RunShow runs the show scenario: every drone runs the swarm node (membership,
// bully leader, command log, time sync, airspace leases, emergency) and
// flies a simulated vehicle; the ground station has the leader of each
// network sequence a show command every two seconds, and drones cross a
// shared zone of airspace cells that they lock first. Checked throughout:
// ME1 per cell over lease intervals, one leader per term, no committed
// command lost or reordered, and each drone's swarm-time error.
func RunShow(sh Show) (ShowResult, error) {
	if sh.UploadSize > 0 && sh.UploadShare == 0 {
		sh.UploadShare = DefaultUploadShare
	}
	if err := sh.Validate(); err != nil {
		return ShowResult{}, err
	}
	// memory_bytes_per_drone: the heap the run holds at its end, over the
	// heap before anything of the run was built, per drone.
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cfg, err := sh.simConfig()
	if err != nil {
		return ShowResult{}, err
	}
	cfg.Networks = sh.Networks
	cfg.ClockOffset = sh.ClockOffset
	cfg.ClockDriftPPM = sh.ClockDrift
	cfg.Tick = 10 * sim.Millisecond
	cfg.Family = lockFamily
	// The drones' ticks are most of the work, and each touches only its
	// own node (the shared quorums are read-only): on several cores they
	// run at once, with the same outcome (sim.Config.Workers).
	if n := sh.Drones; n >= parallelFrom {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Baud == 0 {
		cfg.Baud = 57600
	}
	n := sh.Drones
	var up *sideUpload
	if sh.UploadSize > 0 {
		if up, err = newSideUpload(n, sh.UploadSize, sh.UploadShare, sh.Seed, cfg.Baud, cfg.Tick.Seconds()); err != nil {
			return ShowResult{}, err
		}
		cfg.Drones = n + 1
		cfg.Family = uploadFamily
	}
	// Drones are spread over networks in contiguous blocks, as the
	// simulator does; each network is its own swarm.
	netOf := func(id algorithms.NodeID) int { return (int(id) - 1) * sh.Networks / n }
	groups := make([][]algorithms.NodeID, sh.Networks)
	for id := algorithms.NodeID(1); int(id) <= n; id++ {
		groups[netOf(id)] = append(groups[netOf(id)], id)
	}
	// Every drone of a network computes the same airspace quorums from
	// the same members; the simulated drones share one copy, read-only
	// (a view change builds new quorums, swarm.Node.Quorums), instead of
	// holding one each.
	quorums := make([]mutex.Quorums, sh.Networks)
	for net, members := range groups {
		quorums[net] = mutex.Best(members)
	}
	views := newSharedViews()
	drift := max(sh.ClockDrift, 1) * 2
	// The bully's T: a message crosses a channel on which every drone of
	// the network may have a frame queued, plus the reliable layer's
	// retransmissions under loss. The election storm of the textbook
	// bully does not happen here: only the highest live drone campaigns
	// at once when the leader is reported dead (cmdlog.Node).
	perNet := (n + sh.Networks - 1) / sh.Networks
	frame := sim.Airtime(sim.FrameBytes(32, !cfg.Unsigned), cfg.Baud)
	bullyT := int((2*sim.Time(perNet)*frame + sim.DeliveryBound(cfg.Loss) + cfg.Tick - 1) / cfg.Tick)
	incarnation := map[algorithms.NodeID]uint32{}
	var s *sim.Sim
	// One leader per term, on what leaders do: the drones seen acting as
	// leader of each (network, term).
	acting := map[[2]int]map[algorithms.NodeID]bool{}
	// actor is, per network, the drone last seen acting as leader of the
	// highest term seen acted in, until it crashes (0 then, or before any);
	// a term elected while it lives replaced a live leader.
	actor := make([]algorithms.NodeID, sh.Networks)
	actorTerm := make([]uint32, sh.Networks)
	acted := func(id algorithms.NodeID, term uint32) {
		if net := netOf(id); term >= actorTerm[net] {
			actor[net], actorTerm[net] = id, term
		}
		k := [2]int{netOf(id), int(term)}
		if acting[k] == nil {
			acting[k] = map[algorithms.NodeID]bool{}
		}
		if !acting[k][id] && len(acting[k]) == 1 {
			for other := range acting[k] {
				s.Violation("leader", "drone %d acts as leader of term %d, as drone %d does", id, term, other)
			}
		}
		acting[k][id] = true
	}
	grid, err := airspace.NewGrid(airspace.Point{}, airspace.Point{X: 20, Y: 20, Z: 10}, [3]int{4, 4, 2})
	if err != nil {
		return ShowResult{}, err
	}
	factory := func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		if up != nil && id == up.station {
			return up.sender, nil
		}
		inc := incarnation[id]
		incarnation[id]++
		members := groups[netOf(id)]
		// A drone that knows no live leader waits for the leader's log
		// beacons (up to 4 s apart) before it campaigns, and lower drones
		// wait longer: a campaign by a low drone sets off the bully's
		// cascade of ELECTIONs and ANSWERs through every drone above it.
		rank := 0
		for _, m := range members {
			if m > id {
				rank++
			}
		}
		campaign := 3000 + rank*50
		node, err := swarm.New(swarm.Config{
			ID: id, Members: members, Incarnation: inc, Seed: sh.Seed*65536 + uint64(id), CampaignTimeout: campaign,
			TickNanos: int64(cfg.Tick), Baud: cfg.Baud, Unsigned: cfg.Unsigned, Key: showKey,
			ClockDriftPPM: drift, BullyTimeout: bullyT, Election: sh.Election, Quorums: quorums[netOf(id)],
			Substitute: views.substitute,
		}, restored)
		if err != nil {
			return nil, err
		}
		c := &clockedNode{Node: node, id: id, now: func() int64 { return int64(s.LocalTime(id)) }, acted: func(term uint32) { acted(id, term) }}
		if up != nil {
			if c.rx, err = up.receiver(id); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
	s, err = sim.New(cfg, factory)
	if err != nil {
		return ShowResult{}, err
	}

	// The show: drone id flies part id−1, from its home, on a vehicle
	// that can do half as much again as the show asks of it.
	plan := sh.Plan
	if plan == nil {
		if plan, err = DemoShow(n); err != nil {
			return ShowResult{}, err
		}
	}
	hash, err := plan.Hash()
	if err != nil {
		return ShowResult{}, fmt.Errorf("the show: %w", err)
	}
	showEnd := int64(plan.Duration())
	lim := plan.Limits
	limits := vehicle.Limits{SpeedXY: 1.5 * lim.MaxSpeedXY, SpeedUp: 1.5 * lim.MaxSpeedUp, SpeedDown: 1.5 * lim.MaxSpeedDown, Accel: 1.5 * lim.MaxAccel}
	// vehicles[id] is drone id's vehicle and tracks[id] its part of the
	// show (index 0 is unused).
	vehicles := make([]*vehicle.Vehicle, n+1)
	tracks := make([]*show.Track, n+1)
	for id := algorithms.NodeID(1); int(id) <= n; id++ {
		if tracks[id], err = plan.Track(int(id) - 1); err != nil {
			return ShowResult{}, fmt.Errorf("the show: drone %d: %w", id, err)
		}
		vehicles[id] = vehicle.New(point(plan.Drones[id-1].Home), limits)
	}
	sep := newSeparation(cmp.Or(sh.MinDistance, lim.MinDistance, DefaultMinDistance))
	node := func(id algorithms.NodeID) *clockedNode { return s.Core(id).(*clockedNode) }

	var (
		applied   = map[algorithms.NodeID]int{} // per drone, highest log index applied
		byIndex   = map[[2]int]string{}         // (network, log index) → entry, first applied
		commandAt = map[[2]int]sim.Time{}       // (network, index) of a command → first applied
		refused   = map[[2]int]bool{}
		showErr   float64
		outOfSync int     // drone-seconds flying the show out of sync
		deviation float64 // metres between a vehicle and its planned position
		// startedAt[id] is the true time at which drone id's show time
		// passed 0 (-1: not seen).
		startedAt  = make([]sim.Time, n+1)
		overlaps   int
		asked      = map[algorithms.NodeID]sim.Time{} // outstanding acquisitions, since
		lockWait   float64
		orderBad   int
		perTerm    = map[[2]int]map[algorithms.NodeID]bool{}
		netTerm    = make([]uint32, sh.Networks) // per network, the highest term elected
		termsAlive int
		maxTerm    uint32
		holders    = map[airspace.Cell]map[algorithms.NodeID]bool{}
		lockIn     int
		lockCells  int
		clockErr   float64
		spread     float64
		jump       float64
		netSpread  float64
		crashAt    sim.Time = -1
		failover   *float64
		crashedLdr algorithms.NodeID
		// settling is set once Duration has passed: no more faults,
		// commands or airspace requests.
		settling bool
		// proposed holds when each show command was proposed, by
		// (network, log index, term); commitLat the latencies of the
		// commands committed in Duration, commitLatUp those of the
		// commands proposed while the upload ran.
		proposed    = map[[3]int]sim.Time{}
		commitLat   []float64
		commitLatUp []float64
		// The upload: when it began and when every live drone held the
		// show (-1: not yet).
		uploadBegun, uploadDoneAt sim.Time = -1, -1
	)
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev := ev.(type) {
		case cmdlog.Applied:
			k := [2]int{netOf(id), int(ev.Index)}
			data := fmt.Sprintf("%d/%d/%x", ev.Entry.Term, ev.Entry.Kind, ev.Entry.Data)
			if prev, ok := byIndex[k]; ok && prev != data {
				orderBad++
				s.Violation("order", "drone %d applied %s at index %d; another drone applied %s", id, data, ev.Index, prev)
			} else if !ok {
				byIndex[k] = data
			}
			// A restarted drone applies its log again from the start.
			if int(ev.Index) <= applied[id] {
				return
			}
			applied[id] = int(ev.Index)
			if ev.Entry.Kind == cmdlog.KindCommand {
				if _, ok := commandAt[k]; !ok {
					commandAt[k] = s.Now()
					if at, ok := proposed[[3]int{k[0], k[1], int(ev.Entry.Term)}]; ok && up != nil && !settling {
						ms := float64(s.Now()-at) / float64(sim.Millisecond)
						commitLat = append(commitLat, ms)
						if uploadBegun >= 0 && at >= uploadBegun && (uploadDoneAt < 0 || at < uploadDoneAt) {
							commitLatUp = append(commitLatUp, ms)
						}
					}
				}
			}
		case swarm.Refused:
			refused[[2]int{netOf(id), int(ev.Index)}] = true
		case airspace.Acquired:
			if at, ok := asked[id]; ok {
				lockWait = max(lockWait, float64(s.Now()-at)/float64(sim.Millisecond))
				delete(asked, id)
			}
			for _, c := range ev.Cells {
				if holders[c] == nil {
					holders[c] = map[algorithms.NodeID]bool{}
				}
				for other := range holders[c] {
					switch {
					case other == id:
					case netOf(other) == netOf(id):
						s.Violation("me1", "drone %d entered cell %d held by drone %d", id, c, other)
					default:
						overlaps++
					}
				}
				holders[c][id] = true
			}
			lockIn++
			lockCells += len(ev.Cells)
			// Hold the cells for two seconds, then leave.
			s.After(2*sim.Second, func() {
				if !s.Up(id) || !node(id).Locks().Holding() {
					return
				}
				for _, c := range ev.Cells {
					delete(holders[c], id)
				}
				s.Call(id, func(c algorithms.Core) { _ = c.(*clockedNode).Locks().Release() })
			})
		case airspace.Expired:
			// Told to leave: the drone is out of its cells once its
			// margin has passed, the time it has to fly out.
			cells := ev.Cells
			s.After(sim.Time(node(id).Locks().MarginTicks())*cfg.Tick, func() {
				for _, c := range cells {
					delete(holders[c], id)
				}
			})
			delete(asked, id)
		}
		if el, ok := ev.(election.Elected); ok {
			maxTerm = max(maxTerm, el.Term)
			if net := netOf(id); el.Term > netTerm[net] {
				netTerm[net] = el.Term
				if actor[net] != 0 {
					termsAlive++
				}
			}
			k := [2]int{netOf(id), int(el.Term)}
			if perTerm[k] == nil {
				perTerm[k] = map[algorithms.NodeID]bool{}
			}
			perTerm[k][el.Leader] = true
		}
	})

	// crash stops a drone. A holder's lease still covers its cells until
	// it runs out (the vehicle is still there; its flight controller's
	// failsafe takes it out of the cell by then), so the ME1 check keeps
	// it in its cells until its lease ends.
	crash := func(id algorithms.NodeID) {
		locks := node(id).Locks()
		if leaveBy, ok := locks.LeaveBy(); ok {
			cells := locks.Cells()
			s.After(sim.Time(leaveBy+locks.MarginTicks()-locks.Now())*cfg.Tick, func() {
				for _, c := range cells {
					delete(holders[c], id)
				}
			})
		} else {
			for _, c := range locks.Cells() {
				delete(holders[c], id)
			}
		}
		delete(asked, id)
		if net := netOf(id); actor[net] == id {
			actor[net] = 0
		}
		s.Crash(id)
		// The flight controller hears no more from the drone: its
		// failsafe holds, then lands the vehicle.
		vehicles[id].LinkLost()
	}

	leaderOf := func(net int) (algorithms.NodeID, bool) {
		var l algorithms.NodeID
		for _, id := range groups[net] {
			if !s.Up(id) {
				continue
			}
			got, _ := node(id).Leader()
			if got == 0 || !s.Up(got) || (l != 0 && got != l) {
				return 0, false
			}
			l = got
		}
		return l, l != 0
	}

	// The ground station: every two seconds, each network's leader
	// sequences the next show command, as an operator would from what the
	// swarm reports (nextCommand), until 12 s before the end.
	//
	// With several networks the ground station relays one START to every
	// network's leader in one round: the same instant, named in each
	// network's own swarm time (the leader's swarm time read at that
	// instant, plus showLead). It holds the START until every network is
	// ready for it, startHold rounds at most, so that one network's late
	// ARM does not start the others without it; a network ready only
	// after that gets its START at the same instant, past by then, and
	// its drones catch up with the show as a late drone does.
	seq, held := 0, 0
	var startAt sim.Time = -1 // the swarm's START, in true time
	type order struct {
		net int
		id  algorithms.NodeID
		cmd command.Command
	}
	var operator func()
	operator = func() {
		if settling {
			return
		}
		last := s.Now()+2*sim.Second >= sh.Duration-12*sim.Second
		var orders []order
		ready := make([]bool, len(groups))
		for net := range groups {
			for _, id := range groups[net] {
				if !s.Up(id) {
					continue
				}
				if l, _ := node(id).Leader(); l != id {
					continue
				}
				nd := node(id)
				now := nd.SwarmTime(int64(s.LocalTime(id)))
				cmd := nextCommand(nd.Show(), now, seq, last, hash.Digest(), showEnd)
				if _, ok := cmd.(command.Start); ok {
					ready[net] = true
					if sh.Networks > 1 && startAt >= 0 {
						cmd = command.Start{At: now + int64(startAt-s.Now())}
					}
				}
				if cmd != nil {
					orders = append(orders, order{net, id, cmd})
				}
			}
		}
		hold := false
		if slices.Contains(ready, true) && slices.Contains(ready, false) && held < startHold {
			hold = true
			held++
		}
		for _, o := range orders {
			if _, ok := o.cmd.(command.Start); ok {
				if hold {
					continue
				}
				if startAt < 0 {
					startAt = s.Now() + showLead
				}
			}
			net, cmd := o.net, o.cmd
			s.Call(o.id, func(c algorithms.Core) {
				pos, err := c.(*clockedNode).Propose(cmd)
				if k := [3]int{net, int(pos.Index), int(pos.Term)}; err == nil && up != nil {
					if _, ok := proposed[k]; !ok {
						proposed[k] = s.Now()
					}
				}
			})
		}
		seq++
		// The ground station stops 10 s before the end, so that every
		// command it had sequenced can reach every drone by then.
		if !last {
			s.After(2*sim.Second, operator)
		}
	}
	s.At(10*sim.Second, operator)

	// Airspace traffic: drones cross the shared zone one or two cells at a
	// time, at random moments drawn from the seed.
	rng := s.Rand()
	var crossing func()
	crossing = func() {
		if settling {
			return
		}
		id := algorithms.NodeID(1 + rng.IntN(n))
		a := airspace.Cell(rng.IntN(grid.Cells()))
		cells := []airspace.Cell{a}
		if rng.IntN(2) == 0 {
			cells = append(cells, airspace.Cell((int(a)+1)%grid.Cells()))
		}
		slices.Sort(cells)
		cells = slices.Compact(cells)
		if s.Up(id) && node(id).Locks().Cells() == nil {
			asked[id] = s.Now()
			s.Call(id, func(c algorithms.Core) { _ = c.(*clockedNode).Locks().Acquire(cells) })
		}
		// About one crossing per second per 50 drones of a network, so that
		// lock traffic (a request to a quorum, its votes, renewals) keeps to
		// a share of the channel.
		mean := max(sim.Second, sim.Time(perNet)*20*sim.Millisecond)
		s.After(mean/2+sim.Time(rng.Int64N(int64(mean))), crossing)
	}
	s.At(15*sim.Second, crossing)

	// Vehicles fly what their drone's show player and its part of the
	// show say at its swarm time, and advance with the simulation. A
	// drone out of sync with its swarm (it heard no leader lately, and
	// may have missed a PAUSE) has lost the swarm: it flies on by its own
	// show time, as the link-loss policy "continue" does, since holding
	// still in a show whose paths cross that place would put it in the
	// others' way. The vehicle of a crashed drone gets no more setpoints:
	// its autopilot's failsafe holds, then lands it (crash,
	// vehicle.Vehicle.LinkLost). A vehicle the failsafe took out of the
	// air stays out of the show, as it would have to climb back through
	// the others' paths out of phase; only a vehicle still on the ground
	// before take-off is taken back. controlled[id] is whether drone id
	// flies its vehicle on the swarm's planned paths: up, in sync, not in
	// failsafe, and not rejoining (back in sync after it lost the swarm,
	// until its vehicle is within rejoinedM of its planned position).
	// Separation is checked after every update, when the vehicles have
	// moved; the deviation from the planned position before it, over the
	// controlled vehicles that flew the show since the last update.
	for id := range startedAt {
		startedAt[id] = -1
	}
	controlled := make([]bool, n+1)
	flewShow := make([]bool, n+1)
	rejoining := make([]bool, n+1)
	// Each vehicle's update reads its own node and writes its own
	// vehicle and entries: from parallelFrom drones the updates run on
	// every core, in contiguous blocks of drones, each block with its own
	// deviation.
	updateVehicles := func(first, last algorithms.NodeID) (dev float64) {
		for id := first; id <= last; id++ {
			v := vehicles[id]
			controlled[id] = false
			if s.Up(id) && (!v.Failsafe() || !v.Airborne() && node(id).Show().Phase(node(id).SwarmTime(int64(s.LocalTime(id)))) <= show.Armed) {
				nd := node(id)
				planned, flying := follow(v, nd.Show(), nd.SwarmTime(int64(s.LocalTime(id))), tracks[id], plan.Drones[id-1].Takeoff, vehicles[id].Home(), nd.TimeSync().Synced())
				off := v.Position().Dist(planned)
				switch {
				case !nd.InSync():
					rejoining[id] = true
				case rejoining[id] && (!flying || off < rejoinedM):
					rejoining[id] = false
				}
				controlled[id] = nd.InSync() && !rejoining[id]
				if flying && flewShow[id] && controlled[id] {
					dev = max(dev, off)
				}
				flewShow[id] = flying && controlled[id]
				if st, running := nd.Show().ShowTime(nd.SwarmTime(int64(s.LocalTime(id)))); running && startedAt[id] < 0 && flewShow[id] && st < int64(sim.Second) {
					startedAt[id] = s.Now() - sim.Time(st)
				}
			} else {
				flewShow[id] = false
			}
			v.Advance(0.1)
		}
		return dev
	}
	workers := 1
	if n >= parallelFrom {
		workers = runtime.GOMAXPROCS(0)
	}
	devs := make([]float64, workers)
	var advance func()
	advance = func() {
		var wg sync.WaitGroup
		for w := range workers {
			first, last := algorithms.NodeID(1+w*n/workers), algorithms.NodeID((w+1)*n/workers)
			wg.Add(1)
			go func() {
				defer wg.Done()
				devs[w] = updateVehicles(first, last)
			}()
		}
		wg.Wait()
		for _, d := range devs {
			deviation = max(deviation, d)
		}
		for _, k := range sep.check(vehicles, controlled) {
			a, b := vehicles[k[0]], vehicles[k[1]]
			s.Violation("separation", "drones %d (%s, in sync %t, at %.1f,%.1f,%.1f) and %d (%s, in sync %t, at %.1f,%.1f,%.1f) %.2f m apart, under %.1f m",
				k[0], a.Mode(), s.Up(algorithms.NodeID(k[0])) && node(algorithms.NodeID(k[0])).InSync(), a.Position().X, a.Position().Y, a.Position().Z,
				k[1], b.Mode(), s.Up(algorithms.NodeID(k[1])) && node(algorithms.NodeID(k[1])).InSync(), b.Position().X, b.Position().Y, b.Position().Z,
				a.Position().Dist(b.Position()), sep.minDist)
		}
		s.After(100*sim.Millisecond, advance)
	}
	s.At(0, advance)

	// Swarm-time error: every second, each synchronised drone's estimate
	// of its network leader's clock against that clock.
	var sample func()
	sample = func() {
		for net := range groups {
			l, ok := leaderOf(net)
			if !ok {
				continue
			}
			// Swarm time is what the leader serves: its own clock, or,
			// after a change of leader, its continuation of the old one.
			truthNs := node(l).SwarmTime(int64(s.LocalTime(l)))
			truth := float64(truthNs)
			ref, running := node(l).Show().ShowTime(truthNs)
			for _, id := range groups[net] {
				if id == l || !s.Up(id) {
					continue
				}
				// While the show runs, a drone out of sync flies it
				// by what it knows.
				if running && !node(id).InSync() {
					outOfSync++
				}
				if !node(id).TimeSync().Synced() {
					continue
				}
				estNs := node(id).SwarmTime(int64(s.LocalTime(id)))
				e := math.Abs(float64(estNs)-truth) / float64(sim.Millisecond)
				clockErr = max(clockErr, e)
				// Where the drone is in the show against where the
				// leader is: what the audience sees of the clock error,
				// for the drones that fly the show.
				if st, ok := node(id).Show().ShowTime(estNs); ok && running && node(id).InSync() {
					showErr = max(showErr, math.Abs(float64(st-ref))/float64(sim.Millisecond))
				}
			}
		}
		s.After(sim.Second, sample)
	}
	s.At(30*sim.Second, sample)

	// Swarm-time spread and jumps: every 100 ms from the start, the
	// largest difference between the swarm times of two live drones that
	// know the swarm time, whatever their network and leader then; and
	// each such drone's step of swarm time since the previous sample
	// beyond the time elapsed (a drone that was down or did not know the
	// swarm time at the previous sample has no step).
	type lastSample struct {
		at    sim.Time
		swarm int64
		ok    bool
	}
	last := make([]lastSample, n+1)
	var sampleSpread func()
	sampleSpread = func() {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for net := range groups {
			netLo, netHi := int64(math.MaxInt64), int64(math.MinInt64)
			for _, id := range groups[net] {
				if !s.Up(id) || !node(id).TimeSync().Synced() {
					last[id].ok = false
					continue
				}
				st := node(id).SwarmTime(int64(s.LocalTime(id)))
				netLo, netHi = min(netLo, st), max(netHi, st)
				if p := last[id]; p.ok {
					step := float64((st-p.swarm)-int64(s.Now()-p.at)) / float64(sim.Millisecond)
					jump = max(jump, math.Abs(step))
				}
				last[id] = lastSample{at: s.Now(), swarm: st, ok: true}
			}
			if netHi > netLo {
				netSpread = max(netSpread, float64(netHi-netLo)/float64(sim.Millisecond))
			}
			lo, hi = min(lo, netLo), max(hi, netHi)
		}
		if hi > lo {
			spread = max(spread, float64(hi-lo)/float64(sim.Millisecond))
		}
		s.After(100*sim.Millisecond, sampleSpread)
	}
	s.At(0, sampleSpread)

	// Faults.
	// The upload: the ground station's sender starts, and every 100 ms
	// until every live drone holds the show the receivers are checked.
	var checkUpload func()
	checkUpload = func() {
		for id := algorithms.NodeID(1); int(id) <= n; id++ {
			if s.Up(id) && !node(id).rx.Holds(up.hash) {
				s.After(100*sim.Millisecond, checkUpload)
				return
			}
		}
		uploadDoneAt = s.Now()
	}
	beginUpload := func(at sim.Time) {
		if up == nil {
			return
		}
		s.At(at, func() {
			uploadBegun = s.Now()
			up.sender.on = true
			checkUpload()
		})
	}
	if !sh.CrashLeader {
		beginUpload(0)
	}
	if sh.CrashLeader {
		at := sh.Duration/3 + sim.Time(rng.Int64N(int64(sh.Duration/3)))
		beginUpload(max(at-uploadLead, 0))
		s.At(at, func() {
			if l, ok := leaderOf(0); ok && !settling {
				crashedLdr, crashAt = l, s.Now()
				crash(l)
			}
		})
	}
	if sh.Crash > 0 {
		for _, group := range groups {
			budget := (len(group) - 1) / 2
			for _, id := range group {
				if budget == 0 || rng.Float64() >= sh.Crash {
					continue
				}
				budget--
				// Crashes (and their restarts, 5–10 s later) end 20 s
				// before the run does, so that what is checked at the end
				// is what the swarm settled on, not a drone still
				// catching up.
				window := max(sh.Duration-20*sim.Second, sh.Duration/2)
				at := sim.Time(rng.Int64N(int64(window)))
				s.At(at, func() {
					if !s.Up(id) || settling {
						return
					}
					crash(id)
					if sh.Restart {
						s.After(5*sim.Second+sim.Time(rng.Int64N(int64(5*sim.Second))), func() { _ = s.Restart(id, true) })
					}
				})
			}
		}
	}
	watch := func() bool {
		if crashAt >= 0 && failover == nil {
			if l, ok := leaderOf(0); ok && l != crashedLdr {
				f := (s.Now() - crashAt).Milliseconds()
				failover = &f
			}
		}
		return false
	}
	commands := func() [][2]int {
		keys := make([][2]int, 0, len(commandAt))
		for k := range commandAt {
			keys = append(keys, k)
		}
		return keys
	}
	live := func(id algorithms.NodeID) bool { return s.Up(id) }
	// openAcquisitions counts the live drones that asked for airspace
	// and do not hold it yet.
	openAcquisitions := func() int {
		open := 0
		for id := range asked {
			if s.Up(id) && node(id).Locks().Cells() != nil && !node(id).Locks().Holding() {
				open++
			}
		}
		return open
	}
	appliedAt := func(id algorithms.NodeID) int { return applied[id] }
	watching := sh.reporting(s, sh.Duration+sh.Settle, watch)
	s.Run(sh.Duration, watching)
	// The end of the measured run: what is missing or open now is the
	// backlog; the channel figures cover the measured run alone.
	airtime := slices.Clone(s.Stats().AirtimeByNetwork)
	uploadAirtime := s.FamilyAirtime("upload")
	heartbeatAirtime := slices.Clone(s.Stats().HeartbeatAirtimeByNetwork)
	backlog := countMissing(commands(), groups, live, appliedAt)
	locksOpen := openAcquisitions()
	if sh.Settle > 0 {
		settling = true
		s.Calm()
		s.Run(sh.Duration+sh.Settle, watching)
	}
	if sh.Progress != nil {
		sh.Progress(sh.Duration+sh.Settle, sh.Duration+sh.Settle)
	}

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)

	st := s.Stats()
	r := ShowResult{
		CommonResult:               commonResult(sh.Common, s),
		Networks:                   sh.Networks,
		Duration:                   sh.Duration.Seconds(),
		Settle:                     sh.Settle.Seconds(),
		CrashLeader:                sh.CrashLeader,
		Crash:                      sh.Crash,
		Restart:                    sh.Restart,
		ClockOffset:                sh.ClockOffset.Milliseconds(),
		ClockDrift:                 sh.ClockDrift,
		Election:                   cmp.Or(sh.Election, "bully"),
		Terms:                      int(maxTerm),
		LockEntries:                lockIn,
		ME1Violations:              st.Violations["me1"],
		OrderViolations:            orderBad,
		LeaderFailoverMs:           failover,
		TermsWhileLeaderAlive:      termsAlive,
		ClockErrorMsMax:            clockErr,
		ClockSpreadMsMax:           spread,
		ShowTimeJumpMsMax:          jump,
		ClockSpreadNetworkMsMax:    netSpread,
		CommandsRefused:            len(refused),
		LockWaitMsMax:              lockWait,
		LockFramesPerEntry:         lockFramesPerEntry(s, lockCells),
		ShowTimeErrorMsMax:         showErr,
		ShowOutOfSyncDroneSeconds:  outOfSync,
		ShowDeviationMMax:          deviation,
		CrossNetworkCellOverlaps:   overlaps,
		ShowDrones:                 len(plan.Drones),
		ShowDurationS:              plan.Duration().Seconds(),
		ShowHash:                   hash.String(),
		VotersRetired:              []int{},
		LockAcquisitionsOpen:       locksOpen,
		BacklogCommands:            backlog.commands,
		BacklogDroneCommands:       backlog.pairs,
		LockAcquisitionsUnfinished: openAcquisitions(),
		MinSeparationM:             sep.minSeparation(),
		SeparationViolations:       len(sep.violations),
		SeparationAtRisk:           len(sep.atRisk),
		UnencodableFrames:          s.Stats().Violations["unencodable"],
		FrameViolations:            s.Stats().Violations["frame"],
	}
	for _, v := range vehicles[1:] {
		if v.Failsafe() {
			r.FailsafeVehicles++
		}
	}
	if l, ok := leaderOf(0); ok {
		r.Leader = int(l)
	}
	// The show's phase and the airspace view at every live drone of the
	// first network: the same log, so the same phase at the end.
	r.ViewsInForceMin = -1
	end := sim.Time(math.MaxInt64)
	for _, id := range groups[0] {
		if !s.Up(id) {
			continue
		}
		ph := node(id).Show().Phase(int64(end)).String()
		if r.ShowPhase == "" {
			r.ShowPhase = ph
		} else if ph != r.ShowPhase {
			r.ShowPhaseMismatch++
		}
		inForce, _ := node(id).Epoch()
		r.ViewsInForce = max(r.ViewsInForce, inForce)
		if r.ViewsInForceMin < 0 || inForce < r.ViewsInForceMin {
			r.ViewsInForceMin = inForce
		}
		if r.Leader != 0 && id == algorithms.NodeID(r.Leader) {
			for _, v := range node(id).Views() {
				r.VotersRetired = append(r.VotersRetired, int(v))
			}
		}
	}
	r.ViewsInForceMin = max(r.ViewsInForceMin, 0)
	r.ShowStartSpreadMs, r.ShowStartSpreadMsNetwork = startSpread(startedAt, netOf)
	for _, ls := range perTerm {
		r.ElectedPerTermMax = max(r.ElectedPerTermMax, len(ls))
	}
	for _, ls := range acting {
		r.LeadersPerTermMax = max(r.LeadersPerTermMax, len(ls))
		if len(ls) > 1 {
			r.LeaderActionViolations++
		}
	}
	// Committed: applied by some drone. Lost: committed and still not
	// applied by a live drone of its network after settling, counted once
	// per command however many drones miss it.
	lost := countMissing(commands(), groups, live, appliedAt)
	r.LostCommitted = lost.commands
	r.CommandsAppliedMin = lost.appliedMin
	r.CommandsCommitted = len(commandAt)
	// Channel shares over the measured run: the quiet settling period
	// would dilute them.
	for net := range sh.Networks {
		r.HeartbeatAirtimeShare = max(r.HeartbeatAirtimeShare, float64(heartbeatAirtime[net])/float64(sh.Duration))
		r.CoordinationAirtimeShare = max(r.CoordinationAirtimeShare, float64(airtime[net])/float64(sh.Duration))
	}
	r.CoordinationAirtimeShareMax10s = st.BusiestWindowShare(sh.Duration)
	if after.HeapAlloc > before.HeapAlloc {
		r.MemoryBytesPerDrone = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	}
	if up != nil {
		r.Drones = n // the ground station is no drone
		r.ShowUploadResult = &ShowUploadResult{UploadSize: sh.UploadSize}
		r.UploadShare, r.UploadBeginS = sh.UploadShare, uploadBegun.Seconds()
		if uploadDoneAt >= 0 {
			t := (uploadDoneAt - uploadBegun).Seconds()
			r.UploadSeconds = &t
		}
		for id := algorithms.NodeID(1); int(id) <= n; id++ {
			if s.Up(id) && !node(id).rx.Holds(up.hash) {
				r.UploadUnfinished++
			}
		}
		// The upload is no coordination: its share is its own.
		r.UploadAirtimeShare = float64(uploadAirtime) / float64(sh.Duration)
		r.CoordinationAirtimeShare = float64(airtime[0]-uploadAirtime) / float64(sh.Duration)
		r.CommandsDuringUpload = len(commitLatUp)
		if len(commitLat) > 0 {
			p50, p99, most := percentile(commitLat, 50), percentile(commitLat, 99), slices.Max(commitLat)
			r.CommitLatencyMsP50, r.CommitLatencyMsP99, r.CommitLatencyMsMax = &p50, &p99, &most
		}
		if len(commitLatUp) > 0 {
			p50, p99 := percentile(commitLatUp, 50), percentile(commitLatUp, 99)
			r.CommitLatencyMsP50Upload, r.CommitLatencyMsP99Upload = &p50, &p99
		}
	}
	return r, nil
}

// sharedViews hands out one copy of the quorums of each view change for
// the drones that apply it (swarm.Config.Substitute): the drones of a
// network apply the same changes to the same quorums, and each copy would
// otherwise cost every drone a map of its network's size. Safe for the
// drones' parallel ticks.
type sharedViews struct {
	mu   sync.Mutex
	ids  map[uintptr]int // a quorums map handed out or given → its number
	maps []mutex.Quorums // by number; holding them keeps their addresses theirs
	made map[[3]int]mutex.Quorums
}

func newSharedViews() *sharedViews {
	return &sharedViews{ids: map[uintptr]int{}, made: map[[3]int]mutex.Quorums{}}
}

func (v *sharedViews) substitute(q mutex.Quorums, retired, replacement algorithms.NodeID) mutex.Quorums {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := [3]int{v.id(q), int(retired), int(replacement)}
	if out, ok := v.made[k]; ok {
		return out
	}
	out := swarm.Substitute(q, retired, replacement)
	v.id(out)
	v.made[k] = out
	return out
}

// id numbers the quorums map q by its identity.
func (v *sharedViews) id(q mutex.Quorums) int {
	p := reflect.ValueOf(q).Pointer()
	if i, ok := v.ids[p]; ok {
		return i
	}
	v.ids[p] = len(v.maps)
	v.maps = append(v.maps, q)
	return len(v.maps) - 1
}

// startSpread returns the spread of the true times at which the drones'
// shows started (startedAt[id], -1 for none) over the whole swarm and,
// the largest, within one network; nil when no drone started.
func startSpread(startedAt []sim.Time, netOf func(algorithms.NodeID) int) (all, network *float64) {
	type span struct{ lo, hi sim.Time }
	whole := span{math.MaxInt64, -1}
	nets := map[int]span{}
	for id, at := range startedAt {
		if at < 0 {
			continue
		}
		whole = span{min(whole.lo, at), max(whole.hi, at)}
		net := netOf(algorithms.NodeID(id))
		sp, ok := nets[net]
		if !ok {
			sp = span{at, at}
		}
		nets[net] = span{min(sp.lo, at), max(sp.hi, at)}
	}
	if whole.hi < 0 {
		return nil, nil
	}
	a := float64(whole.hi-whole.lo) / float64(sim.Millisecond)
	w := 0.0
	for _, sp := range nets {
		w = max(w, float64(sp.hi-sp.lo)/float64(sim.Millisecond))
	}
	return &a, &w
}

// missing are the committed commands that live drones have not applied.
type missing struct {
	commands   int // commands missing at one live drone of their network at least
	pairs      int // (live drone, command) pairs missing
	appliedMin int // fewest commands of its network a live drone applied
}

// countMissing counts the commands (network, log index) that the live
// drones of each network have not applied; applied is the highest log
// index a drone applied, up whether it is alive.
func countMissing(commands [][2]int, groups [][]algorithms.NodeID, up func(algorithms.NodeID) bool, applied func(algorithms.NodeID) int) missing {
	m := missing{appliedMin: -1}
	for _, k := range commands {
		at := 0
		for _, id := range groups[k[0]] {
			if up(id) && applied(id) < k[1] {
				at++
			}
		}
		m.pairs += at
		if at > 0 {
			m.commands++
		}
	}
	for net, group := range groups {
		for _, id := range group {
			if !up(id) {
				continue
			}
			got := 0
			for _, k := range commands {
				if k[0] == net && k[1] <= applied(id) {
					got++
				}
			}
			if m.appliedMin < 0 || got < m.appliedMin {
				m.appliedMin = got
			}
		}
	}
	m.appliedMin = max(m.appliedMin, 0)
	return m
}

// parallelFrom is the swarm size from which the drones tick in parallel:
// below it a tick is too short for the goroutines to pay.
var parallelFrom = 500

// startHold is how many rounds of the ground station (2 s each) a START
// is held while some network is not ready for it (several networks).
const startHold = 5

// showLead is how far ahead the ground station times START, PAUSE and
// RESUME. A drone in sync has been caught up within the node's
// ShowSyncTicks (3 s), so it has every timed command that was committed
// 3 s before its time; the other 2 s are for the command's commit, which
// takes longer under loss and around a failover. A command committed
// after its time takes effect late at the drones that apply it late.
const showLead = 5 * sim.Second

// nextCommand is the ground station's next show command, from the phase
// the leader's log is in (its phase once every time it names has passed):
// LOAD the show by its digest, ARM, START a few seconds ahead (the show's
// trajectories take off from the ground), then LIGHTS and, every eighth
// command, a PAUSE with its RESUME two seconds later, and LAND once the
// show is over. The last command never leaves the show paused; when it
// is due while the show still flies, the show lands on its own paths and
// no LAND follows. Nil: nothing to send now.
func nextCommand(p *show.Player, now int64, seq int, last bool, digest uint64, showEnd int64) command.Command {
	ph := p.Phase(math.MaxInt64)
	st, running := p.ShowTime(now)
	over := running && st >= showEnd
	if over || last && ph != show.Running && ph != show.Paused {
		if ph == show.Landing {
			return nil
		}
		return command.Land{}
	}
	if last {
		// Never leave the show paused in the air.
		if ph == show.Paused {
			return command.Resume{At: now + int64(showLead)}
		}
		return nil
	}
	switch ph {
	case show.Idle:
		return command.Load{Show: 1, Digest: digest}
	case show.Loaded:
		return command.Arm{}
	case show.Armed, show.Airborne:
		return command.Start{At: now + int64(showLead)}
	case show.Running:
		if at := now + int64(showLead); seq%8 == 0 && p.Phase(at) == show.Running {
			return command.Pause{At: at}
		}
		return command.Lights{R: uint8(seq * 40), G: uint8(255 - seq*40), B: 128}
	case show.Paused:
		return command.Resume{At: now + int64(showLead)}
	}
	return nil
}

// follow steers a vehicle to what the show player and the drone's part of
// the show say at swarm time now: armed on the ground before the start,
// the planned position and velocity at the show time it flies while the
// show runs (show.Player.FlightTime: braking to a stop on a PAUSE),
// landing or returning when told; a drone that does not know swarm time
// (synced false) holds. It returns the planned position and whether the
// drone flies the show.
func follow(v *vehicle.Vehicle, p *show.Player, now int64, tr *show.Track, takeoff time.Duration, home vehicle.Point, synced bool) (planned vehicle.Point, flying bool) {
	ph := p.Phase(now)
	if !synced && ph >= show.Airborne && ph <= show.Paused {
		// Without swarm time the drone cannot tell where the show is.
		if v.Airborne() {
			v.Hold()
		}
		return vehicle.Point{}, false
	}
	switch ph {
	case show.Armed:
		if v.Mode() == vehicle.Disarmed {
			_ = v.Arm()
		}
	case show.Airborne:
		_ = v.Goto(vehicle.Point{X: home.X, Y: home.Y, Z: p.Altitude()})
	case show.Running, show.Paused:
		st, rate, _ := p.FlightTime(now)
		if !v.Airborne() && time.Duration(st) > takeoff+show.LateTakeoff {
			// It missed its take-off: it stays down (show.LateTakeoff).
			return vehicle.Point{}, false
		}
		if v.Mode() == vehicle.Disarmed {
			_ = v.Arm()
		}
		pos, vel := tr.Position(time.Duration(st))
		vel = vel.Scale(rate)
		_ = v.Follow(point(pos), point(vel))
		return point(pos), true
	case show.Landing:
		if m := v.Mode(); m != vehicle.Landing && m != vehicle.Disarmed {
			v.Land()
		}
	case show.Returning:
		if m := v.Mode(); m != vehicle.Returning && m != vehicle.Landing && m != vehicle.Disarmed {
			v.Return()
		}
	}
	return vehicle.Point{}, false
}

// rejoinedM is how close to its planned position a drone back in sync
// must be to count as flying the show again.
const rejoinedM = 0.2

// point is a show position or velocity as the vehicle takes it: the
// simulated vehicles fly in the show's frame.
func point(v show.Vec3) vehicle.Point { return vehicle.Point{X: v.X, Y: v.Y, Z: v.Z} }

// clockedNode feeds a swarm node the drone's simulated local clock before
// every input, as the drone runner does with the real clock.
type clockedNode struct {
	*swarm.Node
	id    algorithms.NodeID
	now   func() int64
	acted func(term uint32) // told of every frame only a leader sends
	// served holds the drone's term at each TIMESYNC request it stepped
	// as time server, in order: one reply each.
	served []uint32
	// tickTerm is the drone's term when its last tick began: a beacon of
	// that tick was sent as the time server of that term.
	tickTerm uint32
	// rx, when there is an upload, receives the show beside the node.
	rx *upload.Receiver
	// prepared is the node's output Prepare collected, for the next
	// Ready; has says there is one.
	prepared algorithms.Ready
	has      bool
}

// Prepare implements sim.Preparer: the node's own part of Ready, on the
// simulator's parallel ticks. Ready reports the actions as leader, which
// a scenario's shared checks count.
func (c *clockedNode) Prepare() {
	c.prepared, c.has = c.Node.Ready(), true
}

// Ready implements algorithms.Core, and reports the drone's actions as
// leader: log entries and commit points (APPEND and COMMIT, which only
// the leader of their term sends) and swarm time served (a TIMESYNC
// reply, in the term the drone was in when it answered).
func (c *clockedNode) Ready() algorithms.Ready {
	var r algorithms.Ready
	if c.has {
		r, c.prepared, c.has = c.prepared, algorithms.Ready{}, false
	} else {
		r = c.Node.Ready()
	}
	for _, snd := range r.Sends {
		switch m := snd.Msg.(type) {
		case cmdlog.Append:
			c.acted(m.Term)
		case cmdlog.Commit:
			c.acted(m.Term)
		case timesync.Reply:
			if m.IsBeacon() {
				c.acted(c.tickTerm) // sent on a tick, as time server of that term
				continue
			}
			term := c.Log().Log().Term()
			if len(c.served) > 0 {
				term, c.served = c.served[0], c.served[1:]
			}
			c.acted(term)
		}
	}
	if c.rx != nil {
		r = withUpload(r, c.rx)
	}
	return r
}

// Step implements algorithms.Core.
func (c *clockedNode) Step(from algorithms.NodeID, m algorithms.Message) error {
	if c.rx != nil && isUpload(m) {
		return c.rx.Step(from, m)
	}
	c.SetClock(c.now())
	err := c.Node.Step(from, m)
	if _, ok := m.(timesync.Request); ok && c.TimeSync().Leader() == c.id {
		c.served = append(c.served, c.Log().Log().Term())
	}
	return err
}

// Tick implements algorithms.Core.
func (c *clockedNode) Tick() {
	c.SetClock(c.now())
	c.tickTerm = c.Log().Log().Term()
	c.Node.Tick()
	if c.rx != nil {
		c.rx.Tick()
	}
}

// lockFamily names the airspace locks' messages "lock" (sim.Config.Family).
func lockFamily(m algorithms.Message) string {
	switch m.(type) {
	case airspace.Request, airspace.Yes, airspace.Inquire, airspace.Relinquish, airspace.Release, airspace.Renew:
		return "lock"
	}
	return ""
}

// uploadFamily names the airspace locks' messages "lock" and the show
// upload's "upload" (sim.Config.Family).
func uploadFamily(m algorithms.Message) string {
	if isUpload(m) {
		return "upload"
	}
	return lockFamily(m)
}

// lockFramesPerEntry is the frames of the airspace locks per cell
// acquired, or nil when none was.
func lockFramesPerEntry(s *sim.Sim, cells int) *float64 {
	if cells == 0 {
		return nil
	}
	v := s.FamilyFrames("lock") / float64(cells)
	return &v
}
