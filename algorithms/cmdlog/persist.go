package cmdlog

import (
	"encoding/binary"
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
)

// The persisted state: a marker byte, a version byte, the term, the vote
// (a vehicle ID, 0 for none), the commit point, the number of entries, and
// each entry as its term, kind, data length and data; integers big endian.
// The marker keeps another core's bytes from passing for ours.
const (
	stateMarker  = 'L'
	stateVersion = 1
	stateHeader  = 2 + termBytes + idBytes + indexBytes + indexBytes
)

type state struct {
	term    uint32
	vote    algorithms.NodeID
	entries []Entry
	commit  uint32
}

func encodeState(s state) []byte {
	n := stateHeader
	for _, e := range s.entries {
		n += entryHeader + len(e.Data)
	}
	b := make([]byte, 0, n)
	b = append(b, stateMarker, stateVersion)
	b = binary.BigEndian.AppendUint32(b, s.term)
	b = binary.BigEndian.AppendUint16(b, uint16(s.vote))
	b = binary.BigEndian.AppendUint32(b, s.commit)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s.entries)))
	for _, e := range s.entries {
		b = binary.BigEndian.AppendUint32(b, e.Term)
		b = append(b, byte(e.Kind), byte(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

// decodeState reads and checks a persisted state: every entry valid, terms
// never decreasing and never beyond the term, the commit point inside the
// log.
func decodeState(b []byte, isMember func(algorithms.NodeID) bool) (state, error) {
	bad := func(format string, args ...any) (state, error) {
		return state{}, fmt.Errorf("%w: %s (pass the bytes Persist returned)", ErrBadState, fmt.Sprintf(format, args...))
	}
	switch {
	case len(b) < stateHeader:
		return bad("%d bytes, want at least %d", len(b), stateHeader)
	case b[0] != stateMarker:
		return bad("marker %#x, want %#x (not a command log state)", b[0], stateMarker)
	case b[1] != stateVersion:
		return bad("version %d, want %d", b[1], stateVersion)
	}
	s := state{
		term:   binary.BigEndian.Uint32(b[2:]),
		vote:   algorithms.NodeID(binary.BigEndian.Uint16(b[6:])),
		commit: binary.BigEndian.Uint32(b[8:]),
	}
	count := binary.BigEndian.Uint32(b[12:])
	if s.vote != 0 && !isMember(s.vote) {
		return bad("vote for drone %d, not a member", s.vote)
	}
	rest := b[stateHeader:]
	if uint64(count)*entryHeader > uint64(len(rest)) {
		return bad("%d entries in %d bytes", count, len(rest))
	}
	s.entries = make([]Entry, 0, count)
	var last uint32
	for i := range count {
		if len(rest) < entryHeader {
			return bad("entry %d truncated", i+1)
		}
		e := Entry{Term: binary.BigEndian.Uint32(rest), Kind: EntryKind(rest[4])}
		n := int(rest[5])
		rest = rest[entryHeader:]
		if len(rest) < n {
			return bad("entry %d: %d bytes of data, %d left", i+1, n, len(rest))
		}
		if n > 0 {
			e.Data = append([]byte(nil), rest[:n]...)
		}
		rest = rest[n:]
		if err := checkEntry(e, isMember); err != nil {
			return bad("entry %d: %v", i+1, err)
		}
		if e.Term < last || e.Term > s.term {
			return bad("entry %d of term %d after term %d, in term %d", i+1, e.Term, last, s.term)
		}
		last = e.Term
		s.entries = append(s.entries, e)
	}
	if len(rest) != 0 {
		return bad("%d bytes after the last entry", len(rest))
	}
	if s.commit > count {
		return bad("commit point %d beyond the %d entries", s.commit, count)
	}
	return s, nil
}
