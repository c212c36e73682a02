package dialect_test

import (
	"encoding/xml"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/internal/mavtest"
)

// TestGeneratedIsUpToDate regenerates the Go code from swarm.xml with the
// pinned dialect-import into a temporary folder and fails on any difference
// from the committed package swarm.
func TestGeneratedIsUpToDate(t *testing.T) {
	out, err := exec.Command("go", "tool", "-n", "dialect-import").Output()
	require.NoError(t, err, "build the pinned dialect-import (go.mod tool line)")
	tool := strings.TrimSpace(string(out))

	tmp := t.TempDir()
	xmlText, err := os.ReadFile("swarm.xml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "swarm.xml"), xmlText, 0o644))
	cmd := exec.Command(tool, "swarm.xml")
	cmd.Dir = tmp
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "dialect-import: %s", msg)

	want := readDir(t, filepath.Join(tmp, "swarm"), true)
	got := readDir(t, "swarm", false)
	require.Equal(t, keys(want), keys(got), "generated file set differs: run go generate ./radio/dialect")
	for name, text := range want {
		assert.Equal(t, text, got[name], "%s differs from the generator's output: run go generate ./radio/dialect", name)
	}
}

func readDir(t *testing.T, dir string, gofmt bool) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		if gofmt {
			b, err = format.Source(b)
			require.NoError(t, err, e.Name())
		}
		files[e.Name()] = string(b)
	}
	return files
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestLargestEncodingFits checks that every swarm message, every field at
// its largest value and every array full, fits one MAVLink payload.
func TestLargestEncodingFits(t *testing.T) {
	for _, proto := range swarm.Dialect.Messages {
		rw := &message.ReadWriter{Message: proto}
		require.NoError(t, rw.Initialize())
		msg := mavtest.New(proto)
		mavtest.Max(msg)
		raw := rw.Write(msg, true)
		assert.LessOrEqual(t, len(raw.Payload), algorithms.MaxPayload, "%T", proto)
		back, err := rw.Read(raw, true)
		require.NoError(t, err)
		assert.Equal(t, msg, back, "%T does not survive its largest encoding", proto)
	}
}

func TestIDsAndCombination(t *testing.T) {
	for _, m := range swarm.Dialect.Messages {
		assert.True(t, dialect.IsSwarm(m.GetID()), "%T has ID %d outside 61000–61999", m, m.GetID())
	}
	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	require.NotNil(t, rw.GetMessage(61000))
	require.NotNil(t, rw.GetMessage(109), "RADIO_STATUS from common")
	assert.NotSame(t, dialect.Dialect(), dialect.Dialect())
}

type xmlDef struct {
	Enums []struct {
		Name        string `xml:"name,attr"`
		Description string `xml:"description"`
		Entries     []struct {
			Name        string `xml:"name,attr"`
			Value       string `xml:"value,attr"`
			Description string `xml:"description"`
		} `xml:"entry"`
	} `xml:"enums>enum"`
	Messages []struct {
		Name        string `xml:"name,attr"`
		ID          int    `xml:"id,attr"`
		Description string `xml:"description"`
		Fields      []struct {
			Name  string `xml:"name,attr"`
			Type  string `xml:"type,attr"`
			Units string `xml:"units,attr"`
			Text  string `xml:",chardata"`
		} `xml:"field"`
	} `xml:"messages>message"`
	Includes []string `xml:"include"`
}

// TestXMLDocumented checks the rules of the issue: standalone, IDs in the
// range, a description for every message, field and enum entry, and the
// addressing fields in every message.
func TestXMLDocumented(t *testing.T) {
	b, err := os.ReadFile("swarm.xml")
	require.NoError(t, err)
	var def xmlDef
	require.NoError(t, xml.Unmarshal(b, &def))
	assert.Empty(t, def.Includes, "swarm.xml must stay standalone")
	require.Len(t, def.Messages, len(swarm.Dialect.Messages))
	for _, e := range def.Enums {
		assert.NotEmpty(t, strings.TrimSpace(e.Description), "enum %s", e.Name)
		for _, v := range e.Entries {
			assert.NotEmpty(t, strings.TrimSpace(v.Description), "enum entry %s", v.Name)
		}
	}
	for _, m := range def.Messages {
		assert.True(t, dialect.IsSwarm(uint32(m.ID)), m.Name)
		assert.NotEmpty(t, strings.TrimSpace(m.Description), "message %s", m.Name)
		names := map[string]string{}
		for _, f := range m.Fields {
			assert.NotEmpty(t, strings.TrimSpace(f.Text), "field %s.%s", m.Name, f.Name)
			names[f.Name] = f.Type
		}
		assert.Equal(t, "uint8_t", names["network_id"], "%s.network_id", m.Name)
		assert.Equal(t, "uint16_t", names["src_vehicle"], "%s.src_vehicle", m.Name)
		assert.Equal(t, "uint16_t", names["dst_vehicle"], "%s.dst_vehicle", m.Name)
	}
}

func TestNetworkOfEveryMessage(t *testing.T) {
	for _, proto := range swarm.Dialect.Messages {
		msg := mavtest.New(proto)
		mavtest.Sample(msg, 1)
		n, ok := dialect.Network(msg)
		require.True(t, ok, "%T", msg)
		assert.NotZero(t, n)
	}
	_, ok := dialect.Network(&ardupilotmega.MessageHeartbeat{})
	assert.False(t, ok)
}
