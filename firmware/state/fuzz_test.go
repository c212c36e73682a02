package state_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/skyquorum/skyquorum/firmware/state"
)

// FuzzDecode: Decode reads exactly the files Encode writes, and refuses
// every other input with ErrCorrupt.
func FuzzDecode(f *testing.F) {
	f.Add(state.Encode(nil))
	f.Add(state.Encode([]byte("S\x03 a node's state")))
	f.Add(state.Encode(bytes.Repeat([]byte{0xFF}, 300))[:20])
	f.Add([]byte("SQST"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := state.Decode(b)
		if err != nil {
			if !errors.Is(err, state.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(state.Encode(p), b) {
			t.Fatalf("decoded %d bytes from a file Encode would not write", len(p))
		}
	})
}
