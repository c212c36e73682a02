package state_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skyquorum/skyquorum/firmware/state"
)

func mustSave(t *testing.T, d *state.Dir, b []byte) {
	t.Helper()
	if err := d.Save(b); err != nil {
		t.Fatal(err)
	}
}

func TestSaveLoad(t *testing.T) {
	d, err := state.Open(filepath.Join(t.TempDir(), "st"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Load()
	if err != nil || got != nil {
		t.Fatalf("empty directory: got %q, %v; want nil, nil", got, err)
	}
	a, b := []byte("state A"), bytes.Repeat([]byte("state B "), 40)
	mustSave(t, d, a)
	mustSave(t, d, b)
	if got, err := d.Load(); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("got %q, %v; want B", got, err)
	}
	prev, err := os.ReadFile(d.File() + state.PrevSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := state.Decode(prev); err != nil || !bytes.Equal(p, a) {
		t.Fatalf("%s holds %q, %v; want A", state.PrevSuffix, p, err)
	}
	mustSave(t, d, []byte{})
	if got, err := d.Load(); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty state: got %q (nil %v), %v; want empty, not nil", got, got == nil, err)
	}
}

// TestTornWrite: with state A stored and then B, a start from any prefix
// of B's file restores B or A, or refuses with an error naming the file;
// never anything else. Three ways a write of B can be torn: the rename
// happened but the content is cut (the file system lost the tail), a
// temporary file was left half written, and a crash between moving A
// aside and renaming B into place.
func TestTornWrite(t *testing.T) {
	a, b := []byte("state A: term 3, vote 5"), bytes.Repeat([]byte{0xB0, 0x0B, 0x00}, 100)
	encA, encB := state.Encode(a), state.Encode(b)
	var restoredA, restoredB, refused int
	for k := 0; k <= len(encB); k++ {
		for _, how := range []string{"renamed", "temp", "between"} {
			dir := t.TempDir()
			d := &state.Dir{Path: dir}
			file := d.File()
			write := func(path string, data []byte) {
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			switch how {
			case "renamed":
				write(file+state.PrevSuffix, encA)
				write(file, encB[:k])
			case "temp":
				write(file, encA)
				write(filepath.Join(dir, "."+state.FileName+".tmp-123"), encB[:k])
			case "between":
				write(file+state.PrevSuffix, encA)
				write(filepath.Join(dir, "."+state.FileName+".tmp-456"), encB[:k])
			}
			got, err := d.Load()
			switch {
			case err != nil:
				if !strings.Contains(err.Error(), file) || !errors.Is(err, state.ErrCorrupt) {
					t.Fatalf("prefix %d of %d (%s): error %q does not name %s or wrap ErrCorrupt", k, len(encB), how, err, file)
				}
				refused++
			case bytes.Equal(got, b):
				restoredB++
			case bytes.Equal(got, a):
				restoredA++
			default:
				t.Fatalf("prefix %d of %d (%s): restored %q: neither A nor B", k, len(encB), how, got)
			}
			if how == "renamed" && k < len(encB) && err == nil {
				t.Fatalf("prefix %d of %d: a torn state file was read as %q; want a refusal", k, len(encB), got)
			}
			if how != "renamed" && (err != nil || !bytes.Equal(got, a)) {
				t.Fatalf("prefix %d of %d (%s): got %q, %v; want A (the temporary file is not a stored state)", k, len(encB), how, got, err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) != 0 {
				t.Fatalf("prefix %d (%s): temporary files left: %v", k, how, left)
			}
		}
	}
	n := len(encB) + 1
	if restoredB != 1 || refused != n-1 || restoredA != 2*n {
		t.Fatalf("B %d, A %d, refused %d of %d prefixes; want B 1, A %d, refused %d", restoredB, restoredA, refused, n, 2*n, n-1)
	}
}

// A flipped bit anywhere in the file is caught by the checksum.
func TestCorruptByte(t *testing.T) {
	enc := state.Encode([]byte("some state"))
	for i := range enc {
		c := bytes.Clone(enc)
		c[i] ^= 0x10
		if _, err := state.Decode(c); !errors.Is(err, state.ErrCorrupt) {
			t.Fatalf("byte %d flipped: %v, want ErrCorrupt", i, err)
		}
	}
}

// A named state file beside the node's is stored and loaded on its own.
func TestNamedFileBesideTheNodes(t *testing.T) {
	d, err := state.Open(filepath.Join(t.TempDir(), "st"))
	if err != nil {
		t.Fatal(err)
	}
	other := d.Named("show.upload")
	mustSave(t, d, []byte("node"))
	mustSave(t, other, []byte("partial show"))
	mustSave(t, other, []byte("more of the show"))
	if got, err := d.Load(); err != nil || string(got) != "node" {
		t.Fatalf("node state: got %q, %v", got, err)
	}
	if got, err := other.Load(); err != nil || string(got) != "more of the show" {
		t.Fatalf("named state: got %q, %v", got, err)
	}
	if other.File() != filepath.Join(d.Path, "show.upload") {
		t.Fatalf("named file %s", other.File())
	}
}
