package mavtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// UpdateCorpusEnv names the environment variable that makes tests rewrite
// the committed fuzz seed corpus from their case tables:
//
//	SKYQUORUM_UPDATE_CORPUS=1 go test ./radio/...
const UpdateCorpusEnv = "SKYQUORUM_UPDATE_CORPUS"

// UpdateCorpus reports whether UpdateCorpusEnv is set.
func UpdateCorpus() bool { return os.Getenv(UpdateCorpusEnv) != "" }

// WriteCorpusFile writes one seed of fuzz target target, in the format of
// `go test fuzz v1`, to testdata/fuzz/<target>/<name>. Arguments may be
// []byte, uint8, uint16, uint32, uint64 or bool.
func WriteCorpusFile(target, name string, args ...any) error {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
		case uint8:
			fmt.Fprintf(&b, "byte(%d)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		case uint64:
			fmt.Fprintf(&b, "uint64(%d)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%t)\n", v)
		default:
			return fmt.Errorf("mavtest: corpus argument of type %T not supported", a)
		}
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mavtest: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, sanitize(name)), []byte(b.String()), 0o644)
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '-'
	}, name)
}
