// Package state keeps a drone's persisted protocol state in its state
// directory, so that a restart finds exactly the last state stored, or
// refuses to start: never a half-written one.
//
// A state file is a header (magic "SQST", format version, payload
// length), the payload, and a CRC-32C of header and payload. Save writes
// a temporary file in the same directory, syncs it, moves the current
// file aside as FILE.prev, renames the temporary file over FILE and syncs
// the directory. So at every instant the directory holds a complete FILE,
// or (between the two renames) no FILE and a complete FILE.prev, which is
// then the last state stored: the new one was not, and Save had not
// returned, so nothing that depends on it left the drone.
//
// Load reads FILE; without it, FILE.prev; with neither, the directory is
// empty and Load returns nil. A FILE that is torn, truncated or corrupt
// (its length or checksum does not match) is not read, nor replaced by
// FILE.prev: it was stored, and something may have depended on it (a
// vote on the radio). Load returns an error that names the file, and the
// drone does not start until an operator looks. Temporary files left by
// a Save that did not finish are never read, and Load removes them.
package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File names in a state directory.
const (
	// FileName is the node's state.
	FileName = "node.state"
	// PrevSuffix marks the previous state, kept while the next is renamed
	// into place.
	PrevSuffix = ".prev"
)

// Format of a state file.
const (
	magic      = "SQST"
	version    = 1
	headerSize = 4 + 2 + 4 // magic, version, payload length
	sumSize    = 4
	// MaxPayload bounds the payload Load accepts, so that a corrupt length
	// does not make it allocate without bound.
	MaxPayload = 64 << 20
)

// ErrCorrupt is wrapped by Load's error for a state file that is torn,
// truncated or not a state file.
var ErrCorrupt = errors.New("state: corrupt state file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Dir is a drone's state directory.
type Dir struct {
	// Path is the directory; Open creates it if needed.
	Path string
	// Name is the state file's name (optional, default FileName).
	Name string
}

// Named returns the same directory storing a state file of another name,
// with the same guarantees: a drone keeps other state beside the node's
// (the part of a show it has received).
func (d *Dir) Named(name string) *Dir { return &Dir{Path: d.Path, Name: name} }

func (d *Dir) name() string {
	if d.Name == "" {
		return FileName
	}
	return d.Name
}

func (d *Dir) tmpPrefix() string { return "." + d.name() + ".tmp-" }

// Open returns the state directory at path, created (mode 0700) if it does
// not exist.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &Dir{Path: path}, nil
}

// File is the path of the state file.
func (d *Dir) File() string { return filepath.Join(d.Path, d.name()) }

// Encode returns the state file holding payload.
func Encode(payload []byte) []byte {
	b := make([]byte, 0, headerSize+len(payload)+sumSize)
	b = append(b, magic...)
	b = binary.BigEndian.AppendUint16(b, version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// Decode returns the payload of a state file, or an error wrapping
// ErrCorrupt when b is not a whole state file.
func Decode(b []byte) ([]byte, error) {
	switch {
	case len(b) < headerSize+sumSize:
		return nil, fmt.Errorf("%w: %d bytes, shorter than a header and checksum (%d)", ErrCorrupt, len(b), headerSize+sumSize)
	case string(b[:4]) != magic:
		return nil, fmt.Errorf("%w: magic %q, want %q", ErrCorrupt, b[:4], magic)
	}
	if v := binary.BigEndian.Uint16(b[4:]); v != version {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrCorrupt, v, version)
	}
	n := binary.BigEndian.Uint32(b[6:])
	if n > MaxPayload || int(n) != len(b)-headerSize-sumSize {
		return nil, fmt.Errorf("%w: header says %d payload bytes, the file holds %d (torn or truncated write)", ErrCorrupt, n, len(b)-headerSize-sumSize)
	}
	body := b[:len(b)-sumSize]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(b[len(body):]); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, stored %08x", ErrCorrupt, got, want)
	}
	return body[headerSize:], nil
}

// Load returns the last state stored, or nil when the directory holds
// none. Its error names the file it could not read.
func (d *Dir) Load() ([]byte, error) {
	d.removeTemps()
	for _, path := range []string{d.File(), d.File() + PrevSuffix} {
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("state: read %s: %w", path, err)
		}
		payload, err := Decode(b)
		if err != nil {
			return nil, fmt.Errorf("state: %s: %w; the drone will not start from a half-written state: "+
				"inspect the file, and remove the state directory only if the drone may start with no memory of the swarm (it then rejoins as a learner)", path, err)
		}
		if payload == nil {
			payload = []byte{}
		}
		return payload, nil
	}
	return nil, nil
}

// Save stores payload durably; when it returns nil, a restart loads
// payload. On error the previous state is still the one Load returns.
func (d *Dir) Save(payload []byte) error {
	tmp, err := os.CreateTemp(d.Path, d.tmpPrefix()+"*")
	if err != nil {
		return fmt.Errorf("state: save: %w", err)
	}
	_, err = tmp.Write(Encode(payload))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("state: save %s: %w", tmp.Name(), err)
	}
	cur := d.File()
	if err := os.Rename(cur, cur+PrevSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("state: save: keep the previous state: %w", err)
	}
	if err := os.Rename(tmp.Name(), cur); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("state: save: %w", err)
	}
	if err := syncDir(d.Path); err != nil {
		return fmt.Errorf("state: save: sync %s: %w", d.Path, err)
	}
	return nil
}

// removeTemps removes the temporary files of Saves that did not finish.
func (d *Dir) removeTemps() {
	entries, err := os.ReadDir(d.Path)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), d.tmpPrefix()) {
			_ = os.Remove(filepath.Join(d.Path, e.Name()))
		}
	}
}

func syncDir(path string) error {
	dir, err := os.Open(path)
	if err != nil {
		return err
	}
	err = dir.Sync()
	if cerr := dir.Close(); err == nil {
		err = cerr
	}
	return err
}
