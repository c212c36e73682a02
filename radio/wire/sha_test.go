package wire_test

import (
	"crypto/sha256"

	"github.com/skyquorum/skyquorum/radio/wire"
)

func sha256Sum(key wire.Key, b []byte) [32]byte {
	return sha256.Sum256(append(append([]byte{}, key[:]...), b...))
}
