package wire

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// KeySize is the length of the swarm key: MAVLink 2 signing uses a 32-byte
// secret (shorter keys are zero-padded by some implementations and not by
// others, so only full keys are accepted).
const KeySize = 32

// Key is the swarm's signing secret.
type Key [KeySize]byte

// GenerateKey draws a key from r (crypto/rand.Reader when r is nil).
func GenerateKey(r io.Reader) (Key, error) {
	if r == nil {
		r = rand.Reader
	}
	var k Key
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return Key{}, fmt.Errorf("wire: generate key: %w", err)
	}
	return k, nil
}

// ErrKeyExists is returned by WriteKeyFile when the file exists.
var ErrKeyExists = errors.New("wire: key file exists")

// WriteKeyFile writes k to path as 64 hexadecimal digits and a newline,
// readable by its owner only (mode 0600). It never overwrites a file: a
// swarm whose key changed by accident cannot talk.
func WriteKeyFile(path string, k Key) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("wire: %s: %w; remove it first to replace the swarm key", path, ErrKeyExists)
	}
	if err != nil {
		return fmt.Errorf("wire: write key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(k[:]) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wire: write key %s: %w", path, err)
	}
	return nil
}

// LoadKeyFile reads a key written by WriteKeyFile (64 hexadecimal digits)
// or a raw 32-byte file. It refuses a file that others than its owner may
// read.
func LoadKeyFile(path string) (Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Key{}, fmt.Errorf("wire: swarm key: %w (create one with `groundstation keygen`)", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Key{}, fmt.Errorf("wire: swarm key %s has mode %v: run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("wire: swarm key: %w", err)
	}
	return ParseKey(b)
}

// ParseKey decodes 64 hexadecimal digits (surrounding white space
// ignored) or 32 raw bytes.
func ParseKey(b []byte) (Key, error) {
	var k Key
	if text := strings.TrimSpace(string(b)); len(text) == 2*KeySize {
		if _, err := hex.Decode(k[:], []byte(text)); err == nil {
			return k, nil
		}
	}
	if len(b) == KeySize {
		copy(k[:], b)
		return k, nil
	}
	return Key{}, fmt.Errorf("wire: a swarm key is 64 hexadecimal digits or 32 bytes, got %d bytes; make one with `groundstation keygen`", len(b))
}
