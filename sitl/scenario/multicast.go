package scenario

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/multicast"
	"github.com/skyquorum/skyquorum/sitl/sim"
)

// Choices of the multicast scenario's flags.
var (
	MulticastOrders        = []string{"none", "fifo", "causal", "total"}
	MulticastTotalSchemes  = []string{"sequencer", "isis"}
	MulticastReliabilities = []string{"relay", "efficient"}
)

// Multicast configures the multicast scenario.
type Multicast struct {
	Common
	// Order is one of MulticastOrders; none is basic multicast.
	Order string
	// TotalScheme is one of MulticastTotalSchemes (used when Order is
	// total).
	TotalScheme string
	// Messages is the number of multicasts in the whole run.
	Messages int
	// Senders is the number of drones that multicast, drawn from the seed.
	Senders int
	// Crash is the probability that a drone crashes at a random point of
	// the run; never more than ⌊(N−1)/2⌋ crash.
	Crash float64
	// Reliability is one of MulticastReliabilities.
	Reliability string
}

// MulticastResult holds the fields of the multicast scenario. The
// CommonResult's messages field counts core messages as the textbook does;
// the --messages flag is echoed as messages_requested.
type MulticastResult struct {
	CommonResult
	Order             string  `json:"order"`
	TotalScheme       *string `json:"total_scheme"`
	Reliability       string  `json:"reliability"`
	MessagesRequested int     `json:"messages_requested"`
	Senders           int     `json:"senders"`
	Crash             float64 `json:"crash"`
	// Issued counts the multicasts made (fewer than requested when every
	// sender crashed first).
	Issued int `json:"issued"`
	// Crashed counts the drones that crashed.
	Crashed int `json:"crashed"`
	// DeliveredMin and DeliveredMax count messages delivered, over the
	// drones alive at the end.
	DeliveredMin int `json:"delivered_min"`
	DeliveredMax int `json:"delivered_max"`
	// Per message multicast.
	DataFramesPerMessage float64 `json:"data_frames_per_message"`
	FramesPerMessage     float64 `json:"frames_per_message"`
	AirtimeMsPerMessage  float64 `json:"airtime_ms_per_message"`
	// Latency from the multicast call to the delivery, per message and
	// receiving drone (the sender's own delivery is not counted).
	LatencyMsP50 float64 `json:"latency_ms_p50"`
	LatencyMsP99 float64 `json:"latency_ms_p99"`
	// Violations of the properties the configuration promises.
	IntegrityViolations int `json:"integrity_violations"`
	ValidityViolations  int `json:"validity_violations"`
	AgreementViolations int `json:"agreement_violations"`
	OrderViolations     int `json:"order_violations"`
	// DeliveryUnfinished counts messages whose delivery the configuration
	// promises (the sender lives; with a sequencer, it lives too; with
	// ISIS, no sender crashed) that no drone delivered.
	DeliveryUnfinished int `json:"delivery_unfinished"`
	// AgreementMisses counts (message, live drone) pairs where the drone
	// never delivered a message some drone delivered, with basic multicast,
	// which does not promise agreement; 0 otherwise.
	AgreementMisses int `json:"agreement_misses"`
	// StepErrors counts messages a core rejected (a bug if above 0).
	StepErrors int `json:"step_errors"`
}

// Failed reports whether the run breaks the exit rule (Failures): a
// violation, or a promised delivery that never happened.
func (r MulticastResult) Failed() bool {
	return len(Failures(r)) > 0
}

// The sequencer of total order by sequencer, as docs/simulate.md fixes it.
const multicastSequencer algorithms.NodeID = 1

// multicastPayload is the size of every multicast's payload: a light-show
// command.
const multicastPayload = 16

// Validate checks the scenario's own flags, naming the bad one.
func (m Multicast) Validate() error {
	switch {
	case !slices.Contains(MulticastOrders, m.Order):
		return fmt.Errorf("--order %q: %w (want one of %v)", m.Order, ErrUnknownAlgorithm, MulticastOrders)
	case !slices.Contains(MulticastTotalSchemes, m.TotalScheme):
		return fmt.Errorf("--total-scheme %q: %w (want one of %v)", m.TotalScheme, ErrUnknownAlgorithm, MulticastTotalSchemes)
	case !slices.Contains(MulticastReliabilities, m.Reliability):
		return fmt.Errorf("--reliability %q: %w (want one of %v)", m.Reliability, ErrUnknownAlgorithm, MulticastReliabilities)
	case m.Messages < 1:
		return fmt.Errorf("--messages %d: must be at least 1", m.Messages)
	case m.Senders < 1 || m.Drones >= 1 && m.Senders > m.Drones:
		return fmt.Errorf("--senders %d: must be 1 to --drones (%d)", m.Senders, m.Drones)
	case m.Crash < 0 || m.Crash > 1:
		return fmt.Errorf("--crash %v: must be in [0, 1]", m.Crash)
	case m.Order == "causal" && m.Drones > multicast.MaxCausalMembers:
		return fmt.Errorf("--drones %d: causal order carries a vector clock of 4 bytes per drone, and at most %d drones fit one %d-byte MAVLink payload (use --order total)",
			m.Drones, multicast.MaxCausalMembers, algorithms.MaxPayload)
	case m.Order == "causal" && multicast.MaxCausalPayload(m.Drones) < multicastPayload:
		return fmt.Errorf("--drones %d: causal order's vector clock leaves %d bytes for a %d-byte payload (use --order total)",
			m.Drones, multicast.MaxCausalPayload(m.Drones), multicastPayload)
	}
	return nil
}

func (m Multicast) factory() sim.Factory {
	rel, _ := multicast.ParseReliability(m.Reliability)
	return func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
		members := make([]algorithms.NodeID, m.Drones)
		for i := range members {
			members[i] = algorithms.NodeID(i + 1)
		}
		c := multicast.Config{ID: id, Members: members, Reliability: rel}
		switch m.Order {
		case "none":
			return multicast.NewBasic(c)
		case "fifo":
			return multicast.NewFIFO(c)
		case "causal":
			return multicast.NewCausal(c)
		case "total":
			if m.TotalScheme == "isis" {
				return multicast.NewISIS(c)
			}
			return multicast.NewSequencer(c, multicastSequencer)
		}
		return nil, fmt.Errorf("multicast: order %q: %w", m.Order, ErrUnknownAlgorithm)
	}
}

// quietTicks is how long the run waits without a frame before it takes
// the protocol to be done: longer than the cores' lazy acknowledgement
// delay and their longest retry (by default 50 + 4N and 4 × (100 + 4N)
// ticks).
func quietTicks(n int) sim.Time { return sim.Time(max(2*(50+4*n)+40, 4*(100+4*n))) }

// stallTimeout is how long a sender waits for its own delivery before it
// multicasts its next message anyway: long enough that the workload stays
// closed-loop (one message outstanding per sender) in every run that
// delivers, so that it never offers more than the channel carries.
func stallTimeout(n int) sim.Time { return 10*sim.Second + sim.Time(n)*200*sim.Millisecond }

// mcast is one multicast of the run, as the checkers see it.
type mcast struct {
	id      multicast.ID
	sender  algorithms.NodeID
	slot    int // the sender's index among the senders
	index   int // the sender's count of multicasts, this one included
	payload []byte
	at      sim.Time
	deps    []int // causal: the sender's deliveries per sender slot
	by      []bool
	any     bool
	liveBy  int // deliveries by drones alive now
}

// mcRun is the state of one run of the multicast scenario.
type mcRun struct {
	m         Multicast
	s         *sim.Sim
	msgs      []*mcast
	byID      map[multicast.ID]*mcast
	slots     []algorithms.NodeID // senders
	slotOf    map[algorithms.NodeID]int
	busy      []*mcast // each sender's outstanding multicast
	crashed   []bool   // by drone index
	alive     int
	next      [][]int // per drone, per sender slot: messages delivered (FIFO prefix)
	total     []*mcast
	position  []int
	count     []int // deliveries per drone
	latencies []float64
	owed      int // (required message, live drone) pairs not delivered yet
	crashAt   map[int][]algorithms.NodeID
}

// RunMulticast runs the multicast scenario: Messages multicasts by Senders
// drones drawn from the seed, each sender with one multicast outstanding at
// a time (until it delivers its own, or stallTimeout passes), crashes drawn
// from the seed, every delivery checked for integrity and order as it
// happens, and agreement and validity checked once the protocol has gone
// quiet. The cores run over raw frames (they do their own reliability) with
// the simulator's failure detector reporting crashes after 300 ms.
func RunMulticast(m Multicast) (MulticastResult, error) {
	if err := m.Validate(); err != nil {
		return MulticastResult{}, err
	}
	cfg, err := m.simConfig()
	if err != nil {
		return MulticastResult{}, err
	}
	cfg.Raw = true
	cfg.DetectAfter = 300 * sim.Millisecond
	s, err := sim.New(cfg, m.factory())
	if err != nil {
		return MulticastResult{}, err
	}
	n := s.N()
	r := &mcRun{
		m: m, s: s, byID: map[multicast.ID]*mcast{}, slotOf: map[algorithms.NodeID]int{},
		crashed: make([]bool, n), alive: n, position: make([]int, n), count: make([]int, n),
		crashAt: map[int][]algorithms.NodeID{},
	}
	for _, i := range s.Rand().Perm(n)[:m.Senders] {
		r.slots = append(r.slots, algorithms.NodeID(i+1))
	}
	slices.Sort(r.slots)
	for i, id := range r.slots {
		r.slotOf[id] = i
	}
	r.busy = make([]*mcast, len(r.slots))
	r.next = make([][]int, n)
	for i := range r.next {
		r.next[i] = make([]int, len(r.slots))
	}
	// Crashes: each drone with probability Crash, at most ⌊(N−1)/2⌋, each
	// after a multicast drawn from the run and a delay.
	crashes := 0
	for _, i := range s.Rand().Perm(n) {
		if crashes == (n-1)/2 {
			break
		}
		if m.Crash > 0 && s.Rand().Float64() < m.Crash {
			after := 1 + s.Rand().IntN(m.Messages)
			r.crashAt[after] = append(r.crashAt[after], algorithms.NodeID(i+1))
			crashes++
		}
	}

	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		if d, ok := ev.(multicast.Delivered); ok {
			r.delivered(id, d)
		}
	})
	for slot := range r.slots {
		r.later(slot)
	}
	limit := 120*sim.Second + sim.Time(m.Messages)*(sim.Second+sim.Time(n)*20*sim.Millisecond)
	s.Run(limit, r.done)
	// Let the protocol finish its work (lazy acknowledgements, repairs,
	// deliveries that a delivery elsewhere made due) and go quiet, and
	// count that traffic too.
	quiet := quietTicks(n) * s.Config().Tick
	for end := max(s.Now(), limit) + 40*quiet; s.Now() < end; {
		frames := s.Stats().Frames()
		s.Run(s.Now()+quiet, nil)
		if s.Stats().Frames() == frames && r.done() {
			break
		}
	}
	return r.result(), nil
}

// live reports whether the configuration promises delivery at all as the
// run stands: not for basic multicast; with a sequencer, while it lives;
// with ISIS, while no sender has crashed (a crashed sender's undecided
// message holds back every later one).
func (r *mcRun) live() bool {
	switch {
	case r.m.Order == "none":
		return false
	case r.m.Order != "total":
	case r.m.TotalScheme == "sequencer":
		return !r.crashed[multicastSequencer-1]
	default:
		for _, id := range r.slots {
			if r.crashed[id-1] {
				return false
			}
		}
	}
	return true
}

// promised reports whether the configuration promises that every correct
// drone delivers msg: delivery is promised for the run and msg's sender
// lives.
func (r *mcRun) promised(msg *mcast) bool {
	return !r.crashed[msg.sender-1] && r.live()
}

func (r *mcRun) required(msg *mcast) bool {
	return r.m.Order != "none" && (msg.any || r.promised(msg))
}

// recount recomputes the owed deliveries, after a crash.
func (r *mcRun) recount() {
	r.owed = 0
	for _, msg := range r.msgs {
		if r.required(msg) {
			r.owed += r.alive - msg.liveBy
		}
	}
}

func (r *mcRun) issuing() bool {
	if len(r.msgs) == r.m.Messages {
		return false
	}
	for _, id := range r.slots {
		if !r.crashed[id-1] {
			return true
		}
	}
	return false
}

func (r *mcRun) done() bool { return !r.issuing() && r.owed == 0 }

// later has the sender of slot multicast its next message after a think
// time.
func (r *mcRun) later(slot int) {
	r.s.After(sim.Time(r.s.Rand().Int64N(int64(20*sim.Millisecond))), func() { r.issue(slot) })
}

func (r *mcRun) issue(slot int) {
	id := r.slots[slot]
	if len(r.msgs) == r.m.Messages || r.busy[slot] != nil || !r.s.Up(id) {
		return
	}
	msg := &mcast{sender: id, slot: slot, at: r.s.Now(), by: make([]bool, r.s.N())}
	for _, o := range r.msgs {
		if o.sender == id {
			msg.index++
		}
	}
	msg.index++
	msg.payload = make([]byte, multicastPayload)
	binary.BigEndian.PutUint16(msg.payload, uint16(id))
	binary.BigEndian.PutUint32(msg.payload[2:], uint32(msg.index))
	for i := 6; i < len(msg.payload); i++ {
		msg.payload[i] = byte(r.s.Rand().IntN(256))
	}
	if r.m.Order == "causal" {
		msg.deps = slices.Clone(r.next[id-1])
	}
	var err error
	r.s.Call(id, func(c algorithms.Core) {
		msg.id, err = c.(multicast.Multicast).Broadcast(msg.payload)
		if err != nil {
			return
		}
		r.msgs = append(r.msgs, msg)
		r.byID[msg.id] = msg
		r.busy[slot] = msg
		if r.required(msg) {
			r.owed += r.alive
		}
		r.s.Record("multicast", id, msg.id.String())
	})
	if err != nil {
		r.s.Violation("workload", "drone %d: %v", id, err)
		return
	}
	// A sender whose message is not delivered (its sequencer crashed, say)
	// moves on after a while.
	r.s.After(stallTimeout(r.s.N()), func() {
		if r.busy[slot] == msg {
			r.busy[slot] = nil
			r.later(slot)
		}
	})
	for _, c := range r.crashAt[len(r.msgs)] {
		r.s.After(sim.Time(r.s.Rand().Int64N(int64(100*sim.Millisecond))), func() { r.crash(c) })
	}
}

func (r *mcRun) crash(id algorithms.NodeID) {
	if r.crashed[id-1] {
		return
	}
	r.s.Crash(id)
	r.crashed[id-1] = true
	r.alive--
	for _, msg := range r.msgs {
		if msg.by[id-1] {
			msg.liveBy--
		}
	}
	r.recount()
}

// delivered checks one delivery: integrity at once, and the order the
// configuration promises.
func (r *mcRun) delivered(id algorithms.NodeID, d multicast.Delivered) {
	s := r.s
	msg := r.byID[d.ID]
	switch {
	case msg == nil:
		s.Violation("integrity", "drone %d delivered %v, which was never multicast", id, d.ID)
		return
	case !bytes.Equal(msg.payload, d.Payload):
		s.Violation("integrity", "drone %d delivered %v with a payload that was not multicast", id, d.ID)
		return
	case msg.by[id-1]:
		s.Violation("integrity", "drone %d delivered %v twice", id, d.ID)
		return
	}
	wasRequired := r.required(msg)
	msg.by[id-1] = true
	msg.any = true
	msg.liveBy++
	r.count[id-1]++
	switch {
	case wasRequired:
		r.owed--
	case r.required(msg):
		r.owed += r.alive - msg.liveBy
	}
	s.Record("deliver", id, d.ID.String())
	if id != msg.sender {
		r.latencies = append(r.latencies, (s.Now() - msg.at).Milliseconds())
	} else if r.busy[msg.slot] == msg {
		r.busy[msg.slot] = nil
		r.later(msg.slot)
	}
	switch r.m.Order {
	case "fifo", "causal":
		next := r.next[id-1]
		if msg.index != next[msg.slot]+1 {
			s.Violation("order", "drone %d delivered %v, message %d of drone %d, after %d of its messages (FIFO)",
				id, d.ID, msg.index, msg.sender, next[msg.slot])
		}
		if r.m.Order == "causal" {
			for slot, need := range msg.deps {
				if slot != msg.slot && next[slot] < need {
					s.Violation("order", "drone %d delivered %v before message %d of drone %d, which happened before it (causal)",
						id, d.ID, need, r.slots[slot])
				}
			}
		}
		next[msg.slot] = max(next[msg.slot], msg.index)
	case "total":
		p := r.position[id-1]
		r.position[id-1]++
		if p == len(r.total) {
			r.total = append(r.total, msg)
		} else if r.total[p] != msg {
			s.Violation("order", "drone %d delivered %v at position %d, where %v was delivered (total)", id, d.ID, p+1, r.total[p].id)
		}
	}
}

func (r *mcRun) result() MulticastResult {
	s, m := r.s, r.m
	unfinished, agreement, agreementMisses := 0, 0, 0
	for _, msg := range r.msgs {
		missing := 0
		for i, by := range msg.by {
			if !by && !r.crashed[i] {
				missing++
			}
		}
		switch {
		case msg.any && missing > 0 && m.Order == "none":
			agreementMisses += missing
		case msg.any && missing > 0:
			agreement += missing
			s.Violation("agreement", "%v was delivered by some drone and never by %d live drones", msg.id, missing)
		case !msg.any && r.promised(msg):
			unfinished++
			s.Violation("unfinished", "%v, whose delivery is promised, was delivered by no drone", msg.id)
		}
		if r.promised(msg) && !msg.by[msg.sender-1] {
			s.Violation("validity", "drone %d, alive, never delivered its own %v", msg.sender, msg.id)
		}
	}
	if len(r.msgs) < m.Messages && r.issuing() && r.live() {
		unfinished += m.Messages - len(r.msgs)
		s.Violation("unfinished", "%d of %d multicasts were never made", m.Messages-len(r.msgs), m.Messages)
	}
	st := s.Stats()
	res := MulticastResult{
		CommonResult:         commonResult(m.Common, s),
		Order:                m.Order,
		Reliability:          m.Reliability,
		MessagesRequested:    m.Messages,
		Senders:              m.Senders,
		Crash:                m.Crash,
		Issued:               len(r.msgs),
		Crashed:              s.N() - r.alive,
		DataFramesPerMessage: per(st.DataFrames, len(r.msgs)),
		FramesPerMessage:     per(st.Frames(), len(r.msgs)),
		LatencyMsP50:         percentile(r.latencies, 50),
		LatencyMsP99:         percentile(r.latencies, 99),
		IntegrityViolations:  st.Violations["integrity"],
		ValidityViolations:   st.Violations["validity"],
		AgreementViolations:  agreement,
		OrderViolations:      st.Violations["order"],
		DeliveryUnfinished:   unfinished,
		AgreementMisses:      agreementMisses,
		StepErrors:           st.StepErrors,
	}
	if len(r.msgs) > 0 {
		res.AirtimeMsPerMessage = st.Airtime.Milliseconds() / float64(len(r.msgs))
	}
	if m.Order == "total" {
		scheme := m.TotalScheme
		res.TotalScheme = &scheme
	}
	first := true
	for i, c := range r.count {
		if r.crashed[i] {
			continue
		}
		if first || c < res.DeliveredMin {
			res.DeliveredMin = c
		}
		if first || c > res.DeliveredMax {
			res.DeliveredMax = c
		}
		first = false
	}
	return res
}
