package wire

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// writeKey writes the key file's bytes (a variable so that a test can cut
// the power in the middle).
var writeKey = func(f *os.File, b []byte) error {
	_, err := f.Write(b)
	return err
}

// WriteKeyFile writes k to path as 64 hexadecimal digits and a newline,
// readable by its owner only (mode 0600). It never overwrites a file: a
// swarm whose key changed by accident cannot talk. The key is written to a
// temporary file beside path, synced, then linked to path (which fails if
// path exists, where a rename would replace it), so that a power cut never
// leaves a partial key at path to block the next attempt.
func WriteKeyFile(path string, k Key) error {
	if _, err := os.Lstat(path); err == nil {
		return keyExists(path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("wire: write key: %w", err)
	}
	defer os.Remove(tmp.Name()) // the link, if made, keeps the key
	err = tmp.Chmod(0o600)
	if err == nil {
		err = writeKey(tmp, []byte(hex.EncodeToString(k[:])+"\n"))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			return keyExists(path)
		}
	}
	if err != nil {
		return fmt.Errorf("wire: write key %s: %w", path, err)
	}
	if dir, derr := os.Open(filepath.Dir(path)); derr == nil {
		_ = dir.Sync()
		_ = dir.Close()
	}
	return nil
}

func keyExists(path string) error {
	return fmt.Errorf("wire: %s: %w; remove it first to replace the swarm key", path, ErrKeyExists)
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
