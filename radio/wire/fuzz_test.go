package wire_test

import (
	"fmt"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/internal/mavtest"
	"github.com/skyquorum/skyquorum/radio/wire"
)

type readerSeed struct {
	name      string
	data      []byte
	datagrams bool
}

// readerSeeds are genuine frames (correct CRCs and signatures) of every
// swarm message and a RADIO_STATUS, then every attack of the table.
func readerSeeds(t testing.TB) []readerSeed {
	enc := wire.NewEncoder(rw(t), 12, 191)
	var out []readerSeed
	var all []byte
	for i, m := range swarmMessages() {
		b := sign(t, enc, m, testKey, base+wire.Timestamp(i))
		all = append(all, b...)
		out = append(out, readerSeed{name: fmt.Sprintf("msg-%d", m.GetID()), data: b})
	}
	out = append(out, readerSeed{name: "all-messages", data: all})
	radio := wire.NewEncoder(rw(t), wire.RadioSystemID, wire.RadioComponentID)
	rs, err := radio.Encode(&ardupilotmega.MessageRadioStatus{Txbuf: 30, Rssi: 120}, nil)
	require.NoError(t, err)
	out = append(out, readerSeed{name: "radio-status", data: rs})
	captured := sign(t, enc, mutexMsg(network), testKey, base)
	for _, a := range attacks {
		out = append(out, readerSeed{name: "attack-" + a.name, data: append(clone(captured), a.bytes(t, enc, captured)...), datagrams: a.datagrams})
	}
	return out
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

// TestReaderCorpus keeps testdata/fuzz/FuzzReader in step with the seeds
// (rewritten when SKYQUORUM_UPDATE_CORPUS is set).
func TestReaderCorpus(t *testing.T) {
	if !mavtest.UpdateCorpus() {
		t.Skipf("set %s=1 to rewrite the seed corpus", mavtest.UpdateCorpusEnv)
	}
	for _, s := range readerSeeds(t) {
		require.NoError(t, mavtest.WriteCorpusFile("FuzzReader", s.name, s.data, s.datagrams, uint8(0)))
	}
}

// FuzzReader feeds arbitrary bytes, in chunks, to a verifying reader on a
// serial link: it must never panic, never accept a frame it was not given
// signed, and never stall: a genuine frame that follows is accepted.
func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds(f) {
		f.Add(s.data, s.datagrams, uint8(0))
	}
	d := rw(f)
	f.Fuzz(func(t *testing.T, data []byte, datagrams bool, chunk uint8) {
		r := wire.NewReader(wire.ReaderConfig{
			Dialect:   d,
			Verifier:  wire.NewVerifier(wire.VerifierConfig{Key: testKey, Network: network}),
			Source:    wire.SourceSerial,
			Datagrams: datagrams,
		})
		n := int(chunk) + 1
		if chunk == 0 {
			n = len(data) + 1
		}
		for len(data) > 0 {
			k := min(n, len(data))
			r.Feed(data[:k])
			data = data[k:]
			for {
				fr, ok := r.Next(base)
				if !ok {
					break
				}
				require.NotNil(t, fr.Message)
				require.True(t, fr.Signed || fr.IsRadioStatus())
			}
		}
		// Two genuine frames of a fresh stream, then enough padding to
		// complete any frame the garbage left open. Bytes crafted to pass
		// the (public) CRC together with the first genuine frame may take
		// it along; the second always gets through.
		probe := wire.NewEncoder(d, 250, 250)
		// Their timestamps are the furthest ahead of the reader's clock
		// that it accepts: above anything the input could have recorded.
		first := sign(t, probe, mutexMsg(network), testKey, base+wire.Duration(wire.DefaultAhead)-1)
		second := sign(t, probe, mutexMsg(network), testKey, base+wire.Duration(wire.DefaultAhead))
		r.Feed(first)
		if datagrams {
			drainAll(r)
		}
		r.Feed(second)
		if !datagrams {
			r.Feed(make([]byte, wire.MaxFrameBytes))
		}
		found := false
		for _, fr := range drainAll(r) {
			if string(fr.Raw) == string(second) {
				found = true
			}
		}
		require.True(t, found, "a genuine frame after the input must be accepted")
	})
}

func drainAll(r *wire.Reader) []wire.Frame { return drain(r, base) }
