package cmdlog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

// persistCases are persisted states, valid or not; they feed the table
// test and the fuzz corpus.
var persistCases = []struct {
	name  string
	state []byte
	ok    bool
}{
	{"empty log", stateOf(0, 0, 0), true},
	{"log", stateOf(3, 7, 2, noop(1), cmd(1, "a"), cmd(3, "b")), true},
	{"config", stateOf(2, 7, 1, noop(1), Entry{Term: 2, Kind: KindConfig, Data: encodeConfig([]algorithms.NodeID{2, 3, 7})}), true},
	{"nothing", nil, false},
	{"short", []byte{'L', 1, 0}, false},
	{"marker", append([]byte{'E'}, stateOf(1, 0, 0)[1:]...), false},
	{"version", append([]byte{'L', 9}, stateOf(1, 0, 0)[2:]...), false},
	{"vote for a stranger", stateOf(1, 99, 0), false},
	{"commit beyond the log", stateOf(1, 0, 2, noop(1)), false},
	{"entry beyond the term", stateOf(1, 0, 0, noop(2)), false},
	{"terms decrease", stateOf(2, 0, 0, noop(2), noop(1)), false},
	{"entry of term 0", stateOf(1, 0, 0, Entry{Kind: KindNoop}), false},
	{"bad kind", stateOf(1, 0, 0, Entry{Term: 1, Kind: 7}), false},
	{"bad committee", stateOf(1, 0, 0, Entry{Term: 1, Kind: KindConfig, Data: []byte{0}}), false},
	{"truncated", stateOf(1, 0, 0, cmd(1, "abc"))[:stateHeader+7], false},
	{"trailing bytes", append(stateOf(1, 0, 0), 0), false},
	{"too many entries", func() []byte { b := stateOf(1, 0, 0); b[15] = 200; return b }(), false},
}

// A drone restored from its bytes has the same term, vote, log and commit
// point, applies its committed entries again, and rejects bytes that
// Persist did not write with ErrBadState and a message that says so.
func TestRestore(t *testing.T) {
	for _, c := range persistCases {
		l, err := New(Config{ID: 1, Members: ids(7)}, Restore(c.state))
		if !c.ok {
			require.ErrorIs(t, err, ErrBadState, c.name)
			assert.Contains(t, err.Error(), "restore drone 1", c.name)
			continue
		}
		require.NoError(t, err, c.name)
		assert.Equal(t, c.state, l.Persist(), c.name)
		applied := 0
		for _, ev := range l.Ready().Events {
			a := ev.(Applied)
			applied++
			assert.Equal(t, uint32(applied), a.Index, c.name)
		}
		assert.Equal(t, int(l.CommitIndex()), applied, c.name)
	}
}

func FuzzRestore(f *testing.F) {
	for _, c := range persistCases {
		f.Add(c.state)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := New(Config{ID: 1, Members: ids(7)}, Restore(b))
		if err != nil {
			require.ErrorIs(t, err, ErrBadState)
			return
		}
		// What restores persists to the same bytes.
		require.Equal(t, b, l.Persist())
	})
}
