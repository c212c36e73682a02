package election_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// docs/algorithms.md, Election: E1, every participant's elected value is
// unset or the live process with the largest ID; E2, every process
// participates and eventually sets its elected value or crashes; and one
// leader per term.
//
// Each seed picks N in 3..10, elects the highest drone from a random
// initiator, crashes it, and then for twelve rounds lets random live
// drones campaign or hear from their failure detector that the highest is
// down, at random moments between deliveries; the seed also picks the
// delivery order. Every message in flight is delivered before each tick,
// the synchrony the textbook's timeouts assume. Finally every live drone's
// failure detector reports the crash (it is complete) and the swarm
// settles.
func TestPropertiesWithCrashedHighest(t *testing.T) {
	for _, a := range algos {
		t.Run(a.name, func(t *testing.T) {
			for seed := range uint64(seeds.Count(t, 300)) {
				crashedHighest(t, a, seed)
			}
		})
	}
}

func crashedHighest(t *testing.T, a algo, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xe1))
	n := 3 + rng.IntN(8)
	top := algorithms.NodeID(n)
	s := newSwarm(t, a, n, seed)
	s.bootstrap(algorithms.NodeID(1 + rng.IntN(n)))
	crashAt := len(s.net.Events)
	s.crash(top)

	for range 12 {
		for k := rng.IntN(4); k > 0; k-- {
			s.net.Run(rng.IntN(6))
			live := s.live()
			id := live[rng.IntN(len(live))]
			if rng.IntN(2) == 0 {
				s.core(id).Campaign()
			} else {
				s.core(id).PeerDown(top)
			}
		}
		s.net.Run(1 << 20)
		s.net.Tick()
	}
	for _, id := range s.live() {
		s.core(id).PeerDown(top)
	}
	s.net.RunTicks(settle)

	for i, e := range s.net.Events {
		el, ok := e.Event.(election.Elected)
		if !ok {
			continue
		}
		want := top
		if i >= crashAt {
			want = top - 1
		}
		require.Equal(t, want, el.Leader, "E1: drone %d elected %d in term %d; %s N=%d", e.ID, el.Leader, el.Term, seedMsg(seed), n)
	}
	requireOneLeaderPerTerm(t, s.net.Events, seedMsg(seed))
	// E2: everyone left knows the leader of the highest term.
	var term uint32
	for _, id := range s.live() {
		term = max(term, s.core(id).Term())
	}
	s.requireAllFollow(top-1, term)
}

// A live leader is wrongly suspected: for a while every message it sends
// is lost and every other drone's failure detector reports it down. The
// others elect the second-highest in a new term while the old leader,
// hearing nothing, still believes it leads the old one: two leaders, but
// of two terms. Then its messages get through again and the failure
// detectors report it up. The new leader tells it the current term, which
// demotes it; being the highest, it takes over in the next term. Each term
// has one leader throughout, and everyone ends following the highest term.
func TestWronglySuspectedLeader(t *testing.T) {
	for _, a := range algos {
		t.Run(a.name, func(t *testing.T) {
			for seed := range uint64(seeds.Count(t, 50)) {
				const n = 5
				s := newSwarm(t, a, n, seed)
				s.bootstrap(1)
				cut := true
				s.net.Drop = func(from, _ algorithms.NodeID, _ algorithms.Message) bool { return cut && from == n }

				s.net.RunTicks(3)
				for _, id := range ids(n - 1) {
					s.core(id).PeerDown(n)
				}
				s.net.RunTicks(settle)
				for _, id := range ids(n - 1) {
					l, term, ok := s.core(id).Leader()
					require.True(t, ok, "drone %d, %s", id, seedMsg(seed))
					require.Equal(t, algorithms.NodeID(n-1), l, "drone %d, %s", id, seedMsg(seed))
					require.Equal(t, uint32(2), term, "drone %d, %s", id, seedMsg(seed))
				}
				l, term, ok := s.core(n).Leader()
				require.True(t, ok)
				assert.Equal(t, algorithms.NodeID(n), l, "the cut-off leader still believes it leads")
				assert.Equal(t, uint32(1), term)

				cut = false
				for _, id := range ids(n - 1) {
					s.core(id).PeerUp(n)
				}
				s.net.RunTicks(settle)

				requireOneLeaderPerTerm(t, s.net.Events, seedMsg(seed))
				assert.Contains(t, s.net.Events, eventAt(n, election.Elected{Leader: n - 1, Term: 2}),
					"the stale leader learns the newer term; %s", seedMsg(seed))
				s.requireAllFollow(n, 3)
			}
		})
	}
}

func eventAt(id algorithms.NodeID, ev algorithms.Event) algtest.NodeEvent {
	return algtest.NodeEvent{ID: id, Event: ev}
}

// A restarted drone does not reuse a term: it persists its term, is
// rebuilt with Restore, and its next campaign is in a later term than any
// it took part in before. Here the highest drone leads terms 1 to 3,
// crashes, the others elect the second-highest in term 4, and the highest
// restarts from its persisted term 3. The leader tells it term 4 when its
// failure detector reports it up, and it takes over in term 5.
func TestRestartDoesNotReuseTerm(t *testing.T) {
	for _, a := range algos {
		t.Run(a.name, func(t *testing.T) {
			const n = 5
			s := newSwarm(t, a, n, 7)
			s.bootstrap(2)
			for term := uint32(2); term <= 3; term++ {
				s.core(n).Campaign()
				s.net.RunTicks(settle)
				s.requireAllFollow(n, term)
			}
			state := s.core(n).Persist()
			before := ownTerms(s, n, 0)
			assert.Equal(t, []uint32{1, 2, 3}, before)

			s.crash(n)
			for _, id := range ids(n - 1) {
				s.core(id).PeerDown(n)
			}
			s.net.RunTicks(settle)
			s.requireAllFollow(n-1, 4)

			mark := len(s.net.Events)
			c := s.restart(n, state)
			_, term, ok := c.Leader()
			assert.False(t, ok, "a restarted drone knows no leader")
			assert.Equal(t, uint32(3), term)
			assert.Equal(t, uint32(3), c.Term())
			for _, id := range ids(n - 1) {
				s.core(id).PeerUp(n)
			}
			s.net.RunTicks(settle)
			s.requireAllFollow(n, 5)
			after := ownTerms(s, n, mark)
			assert.Equal(t, []uint32{5}, after)
			requireOneLeaderPerTerm(t, s.net.Events, "restart")
		})
	}
}

// ownTerms returns the terms in which id started an election or was
// elected, from event index from on.
func ownTerms(s *swarm, id algorithms.NodeID, from int) []uint32 {
	var out []uint32
	for _, e := range s.net.Events[from:] {
		if e.ID != id {
			continue
		}
		switch ev := e.Event.(type) {
		case election.ElectionStarted:
			out = append(out, ev.Term)
		case election.Elected:
			if ev.Leader == id {
				out = append(out, ev.Term)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// A restored drone campaigns in the term after the persisted one, and
// persists the new term.
func TestRestoreThenCampaign(t *testing.T) {
	for _, a := range algos {
		t.Run(a.name, func(t *testing.T) {
			// A drone alone: each campaign elects it at once.
			first := a.make(t, 2, ids(3))
			first.PeerDown(1)
			first.PeerDown(3)
			for range 7 {
				first.Campaign()
			}
			require.Equal(t, uint32(7), first.Term())
			state := first.Persist()
			c := a.make(t, 2, ids(3), election.Restore(state))
			require.Equal(t, first.Term(), c.Term())
			c.Campaign()
			assert.Contains(t, c.Ready().Events, election.ElectionStarted{Term: first.Term() + 1})
			again := a.make(t, 2, ids(3), election.Restore(c.Persist()))
			assert.Equal(t, first.Term()+1, again.Term())
		})
	}
}

func TestRestoreRejectsMalformedState(t *testing.T) {
	good := []byte{'E', 1, 0, 0, 0, 9}
	cases := []struct {
		name  string
		state []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"short", good[:5]},
		{"long", append(append([]byte{}, good...), 0)},
		{"wrong marker", []byte{'X', 1, 0, 0, 0, 9}},
		{"wrong version", []byte{'E', 2, 0, 0, 0, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := election.NewRing(election.RingConfig{ID: 1, Members: ids(3)}, election.Restore(c.state))
			require.ErrorIs(t, err, election.ErrBadState)
			_, err = election.NewBully(election.BullyConfig{ID: 1, Members: ids(3)}, election.Restore(c.state))
			require.ErrorIs(t, err, election.ErrBadState)
		})
	}
	r, err := election.NewRing(election.RingConfig{ID: 1, Members: ids(3)}, election.Restore(good))
	require.NoError(t, err)
	assert.Equal(t, uint32(9), r.Term())
	assert.Equal(t, good, r.Persist())
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		ring  election.RingConfig
		bully election.BullyConfig
	}{
		{"no members", election.RingConfig{ID: 1}, election.BullyConfig{ID: 1}},
		{"not a member", election.RingConfig{ID: 4, Members: ids(3)}, election.BullyConfig{ID: 4, Members: ids(3)}},
		{"listed twice", election.RingConfig{ID: 1, Members: []algorithms.NodeID{1, 2, 2}}, election.BullyConfig{ID: 1, Members: []algorithms.NodeID{1, 2, 2}}},
		{"broadcast address", election.RingConfig{ID: 1, Members: []algorithms.NodeID{1, algorithms.Everyone}}, election.BullyConfig{ID: 1, Members: []algorithms.NodeID{1, algorithms.Everyone}}},
		{"negative timeout", election.RingConfig{ID: 1, Members: ids(3), AckTimeout: -1}, election.BullyConfig{ID: 1, Members: ids(3), Timeout: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := election.NewRing(c.ring)
			assert.ErrorIs(t, err, election.ErrBadConfig)
			_, err = election.NewBully(c.bully)
			assert.ErrorIs(t, err, election.ErrBadConfig)
		})
	}
	_, err := election.NewBully(election.BullyConfig{ID: 1, Members: ids(3), Timeout: 4, CoordinatorTimeout: 4})
	assert.ErrorIs(t, err, election.ErrBadConfig, "CoordinatorTimeout must exceed Timeout")
	assert.Equal(t, 7, election.BullyTimeout(3, 1))
}

type foreign struct{}

func (foreign) Kind() string { return "FOREIGN" }
func (foreign) Size() int    { return 1 }

// Step rejects what the protocol never sends, and leaves the core as it
// was.
func TestStepRejectsInvalidMessages(t *testing.T) {
	cases := []struct {
		algo string
		from algorithms.NodeID
		msg  algorithms.Message
		want error
	}{
		{"ring", 1, foreign{}, algorithms.ErrUnknownMessage},
		{"ring", 1, nil, algorithms.ErrUnknownMessage},
		{"ring", 9, election.RingElection{Term: 1, Candidate: 1}, election.ErrNotMember},
		{"ring", 2, election.RingElection{Term: 1, Candidate: 2}, election.ErrBadMessage},
		{"ring", 1, election.RingElection{Term: 1, Candidate: 9}, election.ErrNotMember},
		{"ring", 1, election.RingElected{Term: 1, Leader: 9}, election.ErrNotMember},
		{"ring", 1, election.RingAck{Term: 1, ID: 9}, election.ErrNotMember},
		{"bully", 1, foreign{}, algorithms.ErrUnknownMessage},
		{"bully", 1, election.BullyAnswer{Term: 1}, election.ErrBadMessage},
		{"bully", 3, election.BullyElection{Term: 1}, election.ErrBadMessage},
		{"bully", 9, election.BullyElection{Term: 1}, election.ErrNotMember},
		{"bully", 1, election.BullyCoordinator{Term: 1, Leader: 9}, election.ErrNotMember},
		{"bully", 1, election.BullyCoordinator{Term: 1, Leader: algorithms.Everyone}, election.ErrNotMember},
	}
	for _, c := range cases {
		var a algo
		for _, x := range algos {
			if x.name == c.algo {
				a = x
			}
		}
		core := a.make(t, 2, ids(3))
		err := core.Step(c.from, c.msg)
		require.ErrorIs(t, err, c.want, "%s %v from %d", c.algo, c.msg, c.from)
		assert.True(t, core.Ready().Empty(), "%s: no output after a rejected message", c.algo)
		assert.Zero(t, core.Term())
		assert.False(t, core.Participating())
	}
}

// "A message with a lower term is answered so the sender learns the newer
// term": a stale leader's message is answered with the current leader, and
// the stale leader, told so, follows it.
func TestStaleLeaderIsDemoted(t *testing.T) {
	t.Run("bully", func(t *testing.T) {
		cur := algos[1].make(t, 2, ids(4))
		require.NoError(t, cur.Step(4, election.BullyCoordinator{Term: 3, Leader: 4}))
		cur.Ready()
		require.NoError(t, cur.Step(3, election.BullyCoordinator{Term: 1, Leader: 3}))
		rd := cur.Ready()
		require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: election.BullyCoordinator{Term: 3, Leader: 4}}}, rd.Sends)

		stale := algos[1].make(t, 3, ids(4))
		stale.Campaign() // term 1: sends ELECTION to 4, which never answers
		for range timeout {
			stale.Tick()
		}
		l, term, _ := stale.Leader()
		require.Equal(t, algorithms.NodeID(3), l)
		require.Equal(t, uint32(1), term)
		stale.Ready()
		require.NoError(t, stale.Step(2, rd.Sends[0].Msg))
		l, term, ok := stale.Leader()
		assert.True(t, ok)
		assert.Equal(t, algorithms.NodeID(4), l)
		assert.Equal(t, uint32(3), term)
		assert.Equal(t, []algorithms.Event{election.Elected{Leader: 4, Term: 3}}, stale.Ready().Events)
	})
	t.Run("ring", func(t *testing.T) {
		cur := algos[0].make(t, 2, ids(4))
		require.NoError(t, cur.Step(1, election.RingElected{Term: 3, Leader: 4}))
		cur.Ready()
		require.NoError(t, cur.Step(1, election.RingElection{Term: 1, Candidate: 3}))
		rd := cur.Ready()
		require.Contains(t, rd.Sends, algorithms.Send{To: []algorithms.NodeID{1}, Msg: election.RingElected{Term: 3, Leader: 4}})

		stale := algos[0].make(t, 3, ids(4))
		stale.PeerDown(4)
		stale.PeerDown(1)
		stale.PeerDown(2)
		stale.Campaign() // alone: elects itself in term 1
		l, term, _ := stale.Leader()
		require.Equal(t, algorithms.NodeID(3), l)
		require.Equal(t, uint32(1), term)
		stale.PeerUp(4)
		stale.PeerUp(1)
		stale.PeerUp(2)
		stale.Ready()
		require.NoError(t, stale.Step(2, election.RingElected{Term: 3, Leader: 4}))
		l, term, ok := stale.Leader()
		assert.True(t, ok)
		assert.Equal(t, algorithms.NodeID(4), l)
		assert.Equal(t, uint32(3), term)
		rd = stale.Ready()
		assert.Contains(t, rd.Events, election.Elected{Leader: 4, Term: 3})
		assert.Contains(t, rd.Sends, algorithms.Send{To: []algorithms.NodeID{4}, Msg: election.RingElected{Term: 3, Leader: 4}}, "passed on round the ring")
	})
}

// docs/algorithms.md: either algorithm can elect two leaders if a live
// process is wrongly suspected; detect it, and make terms resolve it. A
// drone that hears of a second leader in its term reports a Conflict and
// campaigns in the next term.
func TestConflictStartsNextTerm(t *testing.T) {
	cases := []struct {
		a      algo
		first  algorithms.Message
		second algorithms.Message
	}{
		{algos[0], election.RingElected{Term: 2, Leader: 3}, election.RingElected{Term: 2, Leader: 4}},
		{algos[1], election.BullyCoordinator{Term: 2, Leader: 3}, election.BullyCoordinator{Term: 2, Leader: 4}},
	}
	for _, c := range cases {
		t.Run(c.a.name, func(t *testing.T) {
			core := c.a.make(t, 1, ids(4))
			require.NoError(t, core.Step(3, c.first))
			core.Ready()
			require.NoError(t, core.Step(4, c.second))
			evs := core.Ready().Events
			assert.Contains(t, evs, election.Conflict{Term: 2, Leaders: [2]algorithms.NodeID{3, 4}})
			assert.Contains(t, evs, election.ElectionStarted{Term: 3})
			assert.Equal(t, uint32(3), core.Term())
		})
	}
}

// With AutoCampaign, only the failure of the leader starts an election;
// without it, the driver decides.
func TestAutoCampaign(t *testing.T) {
	for _, auto := range []bool{true, false} {
		r, err := election.NewRing(election.RingConfig{ID: 1, Members: ids(4), AutoCampaign: auto})
		require.NoError(t, err)
		b, err := election.NewBully(election.BullyConfig{ID: 1, Members: ids(4), AutoCampaign: auto})
		require.NoError(t, err)
		require.NoError(t, r.Step(4, election.RingElected{Term: 1, Leader: 4}))
		require.NoError(t, b.Step(4, election.BullyCoordinator{Term: 1, Leader: 4}))
		for _, c := range []election.Election{r, b} {
			c.Ready()
			c.PeerDown(2)
			assert.False(t, c.Participating(), "a follower's failure is not the leader's")
			c.PeerDown(4)
			assert.Equal(t, auto, c.Participating(), "auto=%v", auto)
		}
	}
}

// Kind names the message as the paper does; Size counts a kind byte, a
// 4-byte term and 2 bytes per drone ID.
func TestMessageKindsAndSizes(t *testing.T) {
	cases := []struct {
		msg  algorithms.Message
		kind string
		size int
	}{
		{election.RingElection{}, "ELECTION", 7},
		{election.RingElected{}, "ELECTED", 7},
		{election.RingAck{}, "ACK", 8},
		{election.BullyElection{}, "ELECTION", 5},
		{election.BullyAnswer{}, "ANSWER", 5},
		{election.BullyCoordinator{}, "COORDINATOR", 7},
	}
	for _, c := range cases {
		assert.Equal(t, c.kind, c.msg.Kind())
		assert.Equal(t, c.size, c.msg.Size(), c.kind)
		assert.LessOrEqual(t, c.msg.Size(), algorithms.MaxPayload)
	}
}

// Terms resolve what wrong suspicions and lost messages break. Each seed
// runs a swarm of 2 to 9 drones through fifteen rounds of faults: up to
// 30% of messages lost, failure detectors that report live drones down
// and dead drones up at random, drones that crash and restart from their
// persisted term, and campaigns at random moments. Two leaders in one term
// are then possible, as docs/algorithms.md warns. Then the faults stop: no
// more losses, and every failure detector reports the truth once. The
// swarm must settle with every live drone following the highest live
// drone in one and the same term.
func TestConvergesAfterFaults(t *testing.T) {
	for _, a := range algos {
		t.Run(a.name, func(t *testing.T) {
			for seed := range uint64(seeds.Count(t, 1000)) {
				faults(t, a, seed)
			}
		})
	}
}

func faults(t *testing.T, a algo, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xc4))
	n := 2 + rng.IntN(8)
	s := newSwarm(t, a, n, seed)
	s.bootstrap(algorithms.NodeID(1 + rng.IntN(n)))
	crashed := map[algorithms.NodeID]bool{}
	loss := rng.Float64() * 0.3
	s.net.Drop = func(algorithms.NodeID, algorithms.NodeID, algorithms.Message) bool { return rng.Float64() < loss }
	for range 15 {
		for k := rng.IntN(5); k > 0; k-- {
			s.net.Run(rng.IntN(6))
			live := s.live()
			id := live[rng.IntN(len(live))]
			x := algorithms.NodeID(1 + rng.IntN(n))
			switch rng.IntN(5) {
			case 0:
				s.core(id).Campaign()
			case 1:
				s.core(id).PeerDown(x)
			case 2:
				s.core(id).PeerUp(x)
			case 3:
				if len(live) > 1 && rng.IntN(3) == 0 {
					s.crash(id)
					crashed[id] = true
				}
			case 4:
				if crashed[x] && rng.IntN(2) == 0 {
					s.restart(x, s.core(x).Persist())
					delete(crashed, x)
				}
			}
		}
		s.net.Run(1 << 20)
		s.net.Tick()
	}

	s.net.Drop = nil
	live := s.live()
	for _, id := range live {
		for _, x := range ids(n) {
			if crashed[x] {
				s.core(id).PeerDown(x)
			} else {
				s.core(id).PeerUp(x)
			}
		}
	}
	s.net.RunTicks(3 * settle)
	var term uint32
	for _, id := range live {
		term = max(term, s.core(id).Term())
	}
	for _, id := range live {
		l, tm, ok := s.core(id).Leader()
		require.True(t, ok && l == live[len(live)-1] && tm == term && !s.core(id).Participating(),
			"drone %d follows %d in term %d (known %v, participating %v); want %d in term %d; N=%d crashed=%v %s",
			id, l, tm, ok, s.core(id).Participating(), live[len(live)-1], term, n, crashed, seedMsg(seed))
	}
}

// Follow: a leader learned elsewhere is taken without a message, an older
// term is ignored, and a second leader of the decided term is a conflict
// that starts a new term. A lower leader makes a higher drone take over.
func TestFollow(t *testing.T) {
	ids := []algorithms.NodeID{1, 2, 3}
	for _, mk := range []func(id algorithms.NodeID) (election.Election, error){
		func(id algorithms.NodeID) (election.Election, error) {
			return election.NewRing(election.RingConfig{ID: id, Members: ids})
		},
		func(id algorithms.NodeID) (election.Election, error) {
			return election.NewBully(election.BullyConfig{ID: id, Members: ids})
		},
	} {
		e, err := mk(2)
		require.NoError(t, err)
		e.Follow(3, 4)
		r := e.Ready()
		assert.Empty(t, r.Sends)
		assert.Equal(t, []algorithms.Event{election.Elected{Leader: 3, Term: 4}}, r.Events)
		l, term, ok := e.Leader()
		assert.Equal(t, []any{algorithms.NodeID(3), uint32(4), true}, []any{l, term, ok})

		e.Follow(1, 3) // older
		assert.True(t, e.Ready().Empty())
		e.Follow(9, 5) // not a member
		assert.True(t, e.Ready().Empty())

		e.Follow(1, 4) // a second leader of term 4
		r = e.Ready()
		assert.Contains(t, r.Events, algorithms.Event(election.Conflict{Term: 4, Leaders: [2]algorithms.NodeID{3, 1}}))
		assert.Equal(t, uint32(5), e.Term(), "a new term")

		lower, err := mk(2)
		require.NoError(t, err)
		lower.Follow(1, 1)
		r = lower.Ready()
		assert.Equal(t, uint32(2), lower.Term(), "drone 2 takes over from drone 1 in a new term")
		assert.NotEmpty(t, r.Sends, "drone 2 campaigns")
	}
}
