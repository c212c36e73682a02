package cmdlog

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

// The first committee is the Committee highest IDs; a leader sequences only
// after its recovery. With Textbook a command costs one APPEND broadcast,
// one ACK per other committee member and one COMMIT broadcast, whatever
// the swarm's size. By default it costs one APPEND and the ACKs of the two
// members a majority of five needs besides the leader: every drone infers
// the commit point from them and applies the command before any COMMIT;
// the others stay quiet, and one COMMIT follows only when no APPEND
// carries the commit point within CommitDelay.
func TestCommitCostsOneBroadcastAndCommitteeAcks(t *testing.T) {
	for _, textbook := range []bool{true, false} {
		for _, n := range []int{5, 7, 20} {
			cfg := harnessConfig(5)
			cfg.Textbook = textbook
			sw := newSwarm(t, 1, n, cfg, nil)
			assert.Equal(t, []algorithms.NodeID(ids(n)[n-5:]), sw.log(1).Committee())
			_, err := sw.log(algorithms.NodeID(n)).Propose([]byte("x"))
			require.ErrorIs(t, err, ErrNotLeader, "no proposal before the recovery")

			sw.elect(algorithms.NodeID(n), 1)
			sw.net.RunTicks(3 * cfg.Retransmit)
			require.Equal(t, []algorithms.NodeID{algorithms.NodeID(n)}, sw.leading[1])

			before := map[string]int{}
			for k, v := range sw.net.ByKind {
				before[k] = v
			}
			frames := sw.net.Frames
			sw.propose(algorithms.NodeID(n), "lights on")
			sw.net.Run(1 << 20)
			want := 1 + 4 + 1
			if !textbook {
				want = 1 + 2
			}
			assert.Equal(t, want, sw.net.Frames-frames, "N=%d textbook=%v: frames before any tick", n, textbook)
			assert.Equal(t, n-1, sw.net.ByKind["APPEND"]-before["APPEND"], "N=%d: one broadcast, N−1 textbook messages", n)
			// A member counts its own ACK once it is persisted.
			sw.net.RunTicks(1)
			assert.Equal(t, want, sw.net.Frames-frames, "N=%d textbook=%v: frames after a tick", n, textbook)
			for _, id := range ids(n) {
				assert.Equal(t, []string{"lights on"}, sw.commands(id), "N=%d textbook=%v drone %d", n, textbook, id)
			}
			// Until the beacon: nothing more with Textbook; otherwise
			// the one delayed COMMIT, the other members quiet.
			sw.net.RunTicks(cfg.Beacon - 2)
			if !textbook {
				want++
			}
			assert.Equal(t, want, sw.net.Frames-frames, "N=%d textbook=%v: frames of one command", n, textbook)
			sw.agree()
		}
	}
}

// A stream of commands closer together than CommitDelay costs one APPEND
// and majority(C)−1 ACKs each, every drone inferring the commit point, and
// one COMMIT after the last; the members that kept quiet stay quiet.
func TestCommandStreamCost(t *testing.T) {
	for _, c := range []int{3, 5, 7} {
		cfg := harnessConfig(c)
		cfg.CommitDelay = 5
		sw := newSwarm(t, 1, 12, cfg, nil)
		sw.elect(12, 1)
		sw.net.RunTicks(3 * cfg.Beacon)
		frames := sw.net.Frames
		const k = 10
		for i := range k {
			sw.propose(12, fmt.Sprint(i))
			sw.net.RunTicks(cfg.CommitDelay - 2)
			for _, id := range ids(12) {
				assert.Len(t, sw.commands(id), i+1, "C=%d drone %d after command %d", c, id, i)
			}
		}
		sw.net.RunTicks(cfg.Beacon - 1)
		assert.Equal(t, k*majority(c)+1, sw.net.Frames-frames, "C=%d: %d commands", c, k)
		sw.agree()
	}
}

// Raft §5.3: an entry is committed once a majority of the committee stores
// it, not before. With Textbook the ACKs of drones 3, 4 and 5 are lost; by
// default drones 3, 4 and 5 miss the leader's messages (a member that
// stores an entry and overhears enough ACKs knows it committed).
func TestCommitNeedsCommitteeMajority(t *testing.T) {
	for _, textbook := range []bool{true, false} {
		cfg := harnessConfig(5)
		cfg.Textbook = textbook
		sw := newSwarm(t, 2, 7, cfg, nil) // committee 3..7
		sw.elect(7, 1)
		sw.net.RunTicks(3)
		deaf := map[algorithms.NodeID]bool{3: true, 4: true, 5: true}
		sw.net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool {
			if textbook {
				_, ack := m.(Ack)
				return ack && deaf[from]
			}
			return from == 7 && deaf[to]
		}
		sw.propose(7, "a")
		sw.net.RunTicks(10)
		assert.Equal(t, uint32(1), sw.log(7).CommitIndex(), "textbook=%v: drones 6 and 7 are two of five", textbook)
		for _, id := range ids(7) {
			assert.Empty(t, sw.commands(id), "textbook=%v: drone %d applied an uncommitted command", textbook, id)
		}
		delete(deaf, 5)
		sw.net.RunTicks(40) // the leader's repeats have backed off
		assert.Equal(t, uint32(2), sw.log(7).CommitIndex(), "textbook=%v: drones 5, 6 and 7 are three of five", textbook)
		for _, id := range ids(7) {
			if !deaf[id] {
				assert.Equal(t, []string{"a"}, sw.commands(id), "textbook=%v: drone %d", textbook, id)
			}
		}
	}
}

// A learner that misses up to Redundancy APPENDs in a row takes their
// entries from the next one (it repeats the entries before the new one);
// one that misses more asks with a NAK and gets a REPAIR. Either way it
// applies in log order. Redundancy is 2 by default, 1 with Textbook.
func TestLearnersRepairGaps(t *testing.T) {
	for _, c := range []struct {
		redundancy, lost int
		nak              bool
	}{{0, 2, false}, {2, 2, false}, {1, 1, false}, {1, 2, true}, {-1, 1, true}} {
		cfg := harnessConfig(3)
		cfg.Redundancy = c.redundancy
		sw := newSwarm(t, 3, 6, cfg, nil) // committee 4..6, learners 1..3
		sw.elect(6, 1)
		sw.net.RunTicks(3)
		lost := 0
		sw.net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool {
			if a, ok := m.(Append); ok && to == 1 && !a.Repair && lost < c.lost {
				lost++
				return true
			}
			return false
		}
		for _, cmd := range []string{"a", "b", "c", "d"} {
			sw.propose(6, cmd)
			sw.net.RunTicks(1)
		}
		sw.net.RunTicks(20)
		for _, id := range ids(6) {
			assert.Equal(t, []string{"a", "b", "c", "d"}, sw.commands(id), "redundancy %d drone %d", c.redundancy, id)
		}
		if c.nak {
			assert.Positive(t, sw.net.ByKind["NAK"], "redundancy %d, %d lost", c.redundancy, c.lost)
			assert.Positive(t, sw.net.ByKind["REPAIR"], "redundancy %d, %d lost", c.redundancy, c.lost)
		} else {
			assert.Zero(t, sw.net.ByKind["NAK"], "redundancy %d, %d lost: the next APPEND repeated the lost entries", c.redundancy, c.lost)
		}
		sw.agree()
	}
	cfg := Config{ID: 1, Members: ids(3)}
	require.NoError(t, cfg.fill())
	assert.Equal(t, 2, cfg.Redundancy)
	cfg = Config{ID: 1, Members: ids(3), Textbook: true}
	require.NoError(t, cfg.fill())
	assert.Equal(t, 1, cfg.Redundancy, "the textbook round as it was")
}

// Members refuse entries from an older term and say so; the old leader
// steps down, and what it appended alone is never applied.
func TestStaleLeaderIsRefused(t *testing.T) {
	sw := newSwarm(t, 4, 7, harnessConfig(5), nil)
	sw.elect(7, 1)
	sw.net.RunTicks(3)
	sw.propose(7, "a")
	sw.net.RunTicks(3)
	// Everyone but 7 moves to term 2 under 6; 7 does not hear of it.
	cut := true
	sw.net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool { return cut && (to == 7 || from == 7) }
	sw.elect(6, 2, 1, 2, 3, 4, 5, 6)
	sw.net.RunTicks(5)
	require.Equal(t, []algorithms.NodeID{6}, sw.leading[2])
	cut = false
	sw.propose(7, "stale")
	sw.net.RunTicks(5)
	assert.False(t, sw.log(7).Leading())
	assert.Equal(t, uint32(2), sw.log(7).Term())
	assert.Contains(t, sw.deposed, Deposed{Term: 2, Leader: 6})
	sw.propose(6, "b")
	sw.net.RunTicks(10)
	for _, id := range ids(7) {
		assert.Equal(t, []string{"a", "b"}, sw.commands(id), "drone %d", id)
	}
	sw.agree()
}

// Two drones told they lead one term: each member promises one drone per
// term, so at most one completes its recovery, over many interleavings.
func TestOneRecoveryPerTerm(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		sw := newSwarm(t, seed, 7, harnessConfig(5), nil)
		sw.log(6).LeaderChanged(6, 1)
		sw.log(7).LeaderChanged(7, 1)
		sw.net.RunTicks(10)
		require.LessOrEqual(t, len(sw.leading[1]), 1, "seed=%d: leaders of term 1: %v", seed, sw.leading[1])
	}
}

// A member's vote survives its restart: after promising term 2 to drone 6
// it refuses drone 7 in term 2.
func TestVoteIsPersisted(t *testing.T) {
	sw := newSwarm(t, 5, 7, harnessConfig(5), nil)
	sw.log(6).LeaderChanged(6, 2)
	sw.net.Run(1 << 20)
	require.Equal(t, algorithms.NodeID(6), sw.log(5).vote)
	sw.crash(5)
	sw.restart(5)
	require.NoError(t, sw.log(5).Step(7, Recover{Term: 2}))
	r := sw.log(5).Ready()
	require.Len(t, r.Sends, 1)
	assert.Equal(t, Stale{Term: 2, Leader: 6}, r.Sends[0].Msg, "the vote of term 2 is taken")
}

// Raft §5.4.1: the recovery adopts the most up-to-date log of a committee
// majority, the one with the latest last term, not the longest; entries
// the others hold beyond it, never committed, are replaced.
func TestRecoveryAdoptsLatestTermNotLongest(t *testing.T) {
	prefix := []Entry{noop(1), cmd(1, "a")}
	states := map[algorithms.NodeID][]byte{
		7: stateOf(2, 7, 2, prefix...),                                         // the new leader: behind
		6: stateOf(2, 6, 2, append(prefix, cmd(2, "x"))...),                    // latest term
		5: stateOf(2, 6, 2, append(prefix, cmd(1, "old1"), cmd(1, "old2"))...), // longest
		4: stateOf(2, 6, 2, prefix...),
	}
	sw := newSwarm(t, 6, 7, harnessConfig(5), states)
	sw.crash(3)
	sw.elect(7, 3)
	sw.net.RunTicks(10)
	require.Equal(t, []algorithms.NodeID{7}, sw.leading[3])
	sw.propose(7, "b")
	sw.net.RunTicks(10)
	for _, id := range []algorithms.NodeID{1, 2, 4, 5, 6, 7} {
		assert.Equal(t, []string{"a", "x", "b"}, sw.commands(id), "drone %d", id)
	}
	e, _ := sw.log(5).Entry(3)
	assert.Equal(t, "x", string(e.Data), "drone 5's entries of term 1 beyond the commit point are replaced")
	sw.agree()
}

// A leader whose own log names an outdated committee, dead but for a
// minority, adopts a promiser's newer log and recovers with the committee
// that log puts in force; when none of the outdated committee is left to
// answer, it asks every drone.
func TestRecoveryFollowsTheAdoptedCommittee(t *testing.T) {
	oldCfg := Entry{Term: 1, Kind: KindConfig, Data: encodeConfig([]algorithms.NodeID{3, 4, 5, 6, 7})}
	rm := Entry{Term: 1, Kind: KindConfig, Data: encodeConfig([]algorithms.NodeID{3, 6, 7})}
	add1 := Entry{Term: 1, Kind: KindConfig, Data: encodeConfig([]algorithms.NodeID{1, 3, 6, 7})}
	add2 := Entry{Term: 1, Kind: KindConfig, Data: encodeConfig([]algorithms.NodeID{1, 2, 3, 6, 7})}
	stale := []Entry{noop(1), oldCfg}
	fresh := []Entry{noop(1), oldCfg, rm, add1, add2, cmd(1, "a")}
	for _, c := range []struct {
		dead []algorithms.NodeID
		live []algorithms.NodeID
	}{
		{[]algorithms.NodeID{4, 5, 7}, []algorithms.NodeID{1, 2, 3, 6}},
		{[]algorithms.NodeID{3, 4, 5, 7}, []algorithms.NodeID{1, 2, 6}},
	} {
		states := map[algorithms.NodeID][]byte{
			6: stateOf(1, 7, 2, stale...), // the new leader restarted from an old state
			1: stateOf(1, 7, 6, fresh...),
			2: stateOf(1, 7, 6, fresh...),
			3: stateOf(1, 7, 6, fresh...),
		}
		sw := newSwarm(t, 7, 7, harnessConfig(5), states)
		for _, id := range c.dead {
			sw.crash(id)
		}
		sw.elect(6, 2)
		sw.net.RunTicks(30)
		require.Equal(t, []algorithms.NodeID{6}, sw.leading[2], "dead %v", c.dead)
		// The adopted log's committee, less the dead.
		assert.Equal(t, c.live, sw.log(6).Committee(), "dead %v", c.dead)
		sw.propose(6, "b")
		sw.net.RunTicks(10)
		for _, id := range c.live {
			assert.Equal(t, []string{"a", "b"}, sw.commands(id), "dead %v drone %d", c.dead, id)
		}
	}
}

// A committee member reported dead is replaced through the log, one change
// at a time: a config entry without it, committed, then one with the
// highest live drone outside the committee.
func TestCommitteeReplacementOneChangeAtATime(t *testing.T) {
	sw := newSwarm(t, 8, 7, harnessConfig(5), nil)
	sw.elect(7, 1)
	sw.net.RunTicks(3)
	sw.crash(5)
	sw.net.RunTicks(20)
	var changes [][]algorithms.NodeID
	var at []uint32
	for _, a := range sw.applied[7] {
		if a.Entry.Kind == KindConfig {
			c, err := decodeConfig(a.Entry.Data, sw.log(7).isMember)
			require.NoError(t, err)
			changes = append(changes, c)
			at = append(at, a.Index)
		}
	}
	assert.Equal(t, [][]algorithms.NodeID{{3, 4, 6, 7}, {2, 3, 4, 6, 7}}, changes)
	assert.Equal(t, []algorithms.NodeID{2, 3, 4, 6, 7}, sw.log(1).Committee(), "learners follow")
	// The second change follows the first directly: it was appended only
	// once the first was committed.
	require.Len(t, at, 2)
	assert.Equal(t, at[0]+1, at[1])

	// The new committee decides: drones 5 and 6 dead leave 2, 3, 4, 7.
	sw.crash(6)
	sw.net.RunTicks(20)
	sw.propose(7, "a")
	sw.net.RunTicks(10)
	assert.Equal(t, []string{"a"}, sw.commands(1))
}

// A member restarted from its persisted state rejoins with its log and
// catches up; a learner restarted from nothing learns everything by repair.
func TestRestartedDronesCatchUp(t *testing.T) {
	sw := newSwarm(t, 9, 7, harnessConfig(5), nil)
	sw.elect(7, 1)
	sw.net.RunTicks(3)
	sw.propose(7, "a")
	sw.net.RunTicks(3)
	sw.crash(6) // member
	sw.crash(1) // learner
	sw.slots[1].saved = nil
	sw.propose(7, "b")
	sw.net.RunTicks(20)
	require.NoError(t, nil)
	sw.restart(6)
	c := sw.cfg
	c.ID, c.Members = 1, ids(7)
	l, err := New(c)
	require.NoError(t, err)
	sw.slots[1].log, sw.slots[1].dead = l, false
	sw.applied[1] = nil
	sw.log(7).PeerUp(1)
	sw.net.Collect()
	sw.propose(7, "c")
	sw.net.RunTicks(30)
	for _, id := range ids(7) {
		assert.Equal(t, []string{"a", "b", "c"}, sw.commands(id), "drone %d", id)
	}
	sw.agree()
}

// Step rejects what no drone sends, without a change of state.
func TestStepRejectsInvalidMessages(t *testing.T) {
	sw := newSwarm(t, 10, 7, harnessConfig(5), nil)
	sw.elect(7, 1)
	sw.net.RunTicks(3)
	sw.propose(7, "a")
	sw.net.RunTicks(3)
	big := make([]byte, MaxCommand+1)
	cases := []struct {
		name string
		from algorithms.NodeID
		m    algorithms.Message
		want error
	}{
		{"from itself", 3, Commit{Term: 1}, ErrBadMessage},
		{"from outside", 99, Commit{Term: 1}, ErrNotMember},
		{"unknown", 7, struct{ Append }{}, algorithms.ErrUnknownMessage},
		{"term 0", 7, Append{Entries: []Entry{noop(1)}}, ErrBadMessage},
		{"no entries", 7, Append{Term: 1}, ErrBadMessage},
		{"entry after its term", 7, Append{Term: 1, PrevIndex: 2, PrevTerm: 1, Entries: []Entry{noop(2)}}, ErrBadMessage},
		{"terms decrease", 7, Append{Term: 2, PrevIndex: 2, PrevTerm: 2, Entries: []Entry{noop(1)}}, ErrBadMessage},
		{"command too large", 7, Append{Term: 1, PrevIndex: 2, PrevTerm: 1, Entries: []Entry{{Term: 1, Kind: KindCommand, Data: big}}}, ErrBadMessage},
		{"bad kind", 7, Append{Term: 1, PrevIndex: 2, PrevTerm: 1, Entries: []Entry{{Term: 1, Kind: 9}}}, ErrBadMessage},
		{"committee of strangers", 7, Append{Term: 1, PrevIndex: 2, PrevTerm: 1, Entries: []Entry{{Term: 1, Kind: KindConfig, Data: encodeConfig([]algorithms.NodeID{3, 99})}}}, ErrBadMessage},
		{"overwrites a committed entry", 7, Append{Term: 2, PrevIndex: 1, PrevTerm: 1, Entries: []Entry{cmd(2, "b")}}, ErrSafety},
		{"contradicts a committed entry", 7, Append{Term: 2, PrevIndex: 2, PrevTerm: 2, Entries: []Entry{cmd(2, "b")}}, ErrSafety},
		{"commit beyond the log", 7, Commit{Term: 1, Commit: 5, LastIndex: 2, LastTerm: 1}, ErrBadMessage},
		{"NAK from 0", 1, Nak{Term: 1}, ErrBadMessage},
		{"NAK backwards", 1, Nak{Term: 1, From: 3, To: 2}, ErrBadMessage},
		{"FETCH from 0", 7, Fetch{Term: 1}, ErrBadMessage},
		{"promise from the future", 7, Promise{Term: 1, LastIndex: 1, LastTerm: 2}, ErrBadMessage},
		{"entries short of their end", 7, Entries{Term: 1, Last: 0, Entries: []Entry{noop(1)}}, ErrBadMessage},
		{"stale names a stranger", 7, Stale{Term: 1, Leader: 99}, ErrBadMessage},
	}
	l := sw.log(3)
	before := append([]byte(nil), l.Persist()...)
	for _, c := range cases {
		err := l.Step(c.from, c.m)
		require.ErrorIs(t, err, c.want, c.name)
		assert.Equal(t, before, l.Persist(), c.name)
		assert.True(t, l.Ready().Empty(), c.name)
	}
}

// Every message fits a MAVLink payload with its raw frame's addresses: a
// largest command, and the largest run of small entries.
func TestMessagesFitAFrame(t *testing.T) {
	sw := newSwarm(t, 11, 3, harnessConfig(3), nil)
	sw.elect(3, 1)
	sw.net.RunTicks(3)
	l := sw.log(3)
	for range 40 {
		_, err := l.Propose(make([]byte, 12))
		require.NoError(t, err)
	}
	_, err := l.Propose(make([]byte, MaxCommand))
	require.NoError(t, err)
	_, err = l.Propose(make([]byte, MaxCommand+1))
	require.ErrorIs(t, err, ErrTooLarge)
	r := l.Ready()
	require.NotEmpty(t, r.Sends)
	for _, s := range r.Sends {
		assert.LessOrEqual(t, s.Msg.Size()+frameAddress, algorithms.MaxPayload, s.Msg.Kind())
	}
	for _, m := range []algorithms.Message{l.appendMsg(1), l.commitMsg(), Ack{}, Nak{}, Stale{}, Recover{}, Promise{}, Fetch{}} {
		assert.LessOrEqual(t, m.Size()+frameAddress, algorithms.MaxPayload, m.Kind())
	}
	assert.LessOrEqual(t, (Entries{Entries: l.chunk(1)}).Size()+frameAddress, algorithms.MaxPayload)
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{ID: 1},
		{ID: 1, Members: ids(3), Committee: 4},
		{ID: 1, Members: ids(40), Committee: MaxCommittee + 1},
		{ID: 9, Members: ids(3)},
		{ID: 1, Members: []algorithms.NodeID{1, 1}},
		{ID: 1, Members: []algorithms.NodeID{1, algorithms.Everyone}},
		{ID: 1, Members: ids(3), Retransmit: -1},
	} {
		_, err := New(c)
		assert.ErrorIs(t, err, ErrBadConfig, "%+v", c)
	}
	l, err := New(Config{ID: 1, Members: ids(3)})
	require.NoError(t, err)
	assert.Equal(t, ids(3), l.Committee(), "a committee of every member when there are fewer than 5")
}
