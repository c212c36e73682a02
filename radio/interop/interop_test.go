package interop_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/internal/mavtest"
	"github.com/skyquorum/skyquorum/radio/internal/ptypair"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/membership"
	"github.com/skyquorum/skyquorum/swarm/timesync"
)

const network = 5

type decoded struct {
	MsgID                      uint32                     `json:"msgid"`
	Name                       string                     `json:"name"`
	SysID                      uint8                      `json:"sysid"`
	CompID                     uint8                      `json:"compid"`
	Seq                        uint8                      `json:"seq"`
	Signed                     bool                       `json:"signed"`
	SignatureValid             bool                       `json:"signatureValid"`
	SignatureValidWithWrongKey bool                       `json:"signatureValidWithWrongKey"`
	LinkID                     uint8                      `json:"linkId"`
	Timestamp                  uint64                     `json:"timestamp"`
	Fields                     map[string]json.RawMessage `json:"fields"`
}

// TestNodeMavlinkDecodesOurFrames generates a decoder from swarm.xml with
// mavlink-mappings-gen, and has node-mavlink decode and verify every swarm
// message Skyquorum wrote, field for field.
func TestNodeMavlinkDecodesOurFrames(t *testing.T) {
	node := ptypair.Require(t, "node", "install Node.js, then run npm ci in radio/interop")
	if _, err := os.Stat("node_modules/node-mavlink"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("radio/interop/node_modules missing under CI: run npm ci in radio/interop")
		}
		t.Skip("run npm ci in radio/interop to enable this test")
	}
	here, err := os.Getwd()
	require.NoError(t, err)
	tmp := t.TempDir()
	for _, f := range []string{"../dialect/swarm.xml", "swarm.imports.ts", "decode.ts", "tsconfig.json"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(tmp, filepath.Base(f)), b, 0o644))
	}
	require.NoError(t, os.Symlink(filepath.Join(here, "node_modules"), filepath.Join(tmp, "node_modules")))

	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(node, args...)
		cmd.Dir = tmp
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		err := cmd.Run()
		require.NoError(t, err, "node %s:\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
		out := stdout.Bytes()
		return out
	}
	run("node_modules/mavlink-mappings-gen/dist/cli.js", "-m", "swarm.xml")
	run("node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--outDir", "out")

	// The frames: every swarm message, and a reliable delivery frame
	// through the codec, signed with a fresh key.
	key, err := wire.GenerateKey(nil)
	require.NoError(t, err)
	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	var msgs []message.Message
	for i, proto := range swarm.Dialect.Messages {
		m := mavtest.New(proto)
		mavtest.Sample(m, uint64(100+i))
		mavtest.SetNetwork(m, network)
		msgs = append(msgs, m)
	}
	c, err := codec.New(codec.Config{Network: network})
	require.NoError(t, err)
	frameMsgs, err := c.EncodeFrame(&arq.Frame{
		From: 3, Inc: 2,
		Entries: []arq.Entry{{To: algorithms.Everyone, Seq: 11, Low: 9}},
		Payload: mutex.CentralGrant{Resource: 12},
		Acks:    []arq.Ack{{To: 4, ToInc: 1, Inc: 2, Cum: 30}},
	})
	require.NoError(t, err)
	msgs = append(msgs, frameMsgs...)
	// A message sent raw: a new leader's COORDINATOR of the command log.
	coord, err := c.EncodeMessage(codec.Header{From: 50, To: algorithms.Everyone},
		cmdlog.Coordinator{BullyCoordinator: election.BullyCoordinator{Term: 7, Leader: 50}})
	require.NoError(t, err)
	msgs = append(msgs, coord)
	// The compact messages as the swarm's cores send them, raw, some of
	// them with trailing zero bytes that MAVLink 2 trims.
	for _, m := range []algorithms.Message{
		membership.Heartbeat{Incarnation: 0xFFFF_FFFF, Status: 0x81, Digest: 0xBEEF},
		membership.Heartbeat{Incarnation: 3, Digest: 1},
		timesync.Request{T1: -5_000_000_000},
		timesync.Reply{T1: -5_000_000_000, T2: 1 << 50, T3: 1<<50 + 0xFFFF_FFFF},
		timesync.Reply{T1: 7, T2: 1 << 40, T3: 1 << 40},
	} {
		raw, err := c.EncodeMessage(codec.Header{From: 9, To: algorithms.Everyone}, m)
		require.NoError(t, err)
		msgs = append(msgs, raw)
	}

	enc := wire.NewEncoder(rw, 42, 191)
	ts := wire.TimestampOf(time.Now())
	var frames bytes.Buffer
	for i, m := range msgs {
		b, err := enc.Encode(m, &wire.Signature{Key: &key, LinkID: 3, Timestamp: ts + wire.Timestamp(i)})
		require.NoError(t, err)
		frames.Write(b)
	}
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "frames.bin"), frames.Bytes(), 0o644))

	out := run("out/decode.js", "frames.bin", hex.EncodeToString(key[:]))
	var got []decoded
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d decoded
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&d), sc.Text())
		got = append(got, d)
	}
	require.Len(t, got, len(msgs), "node-mavlink decoded every frame")
	for i, d := range got {
		m := msgs[i]
		assert.Equal(t, m.GetID(), d.MsgID)
		assert.Equal(t, uint8(42), d.SysID)
		assert.Equal(t, uint8(191), d.CompID)
		assert.Equal(t, uint8(i), d.Seq)
		assert.True(t, d.Signed)
		assert.True(t, d.SignatureValid, "%s: node-mavlink verifies our signature", d.Name)
		assert.False(t, d.SignatureValidWithWrongKey, "%s: and rejects it with another key", d.Name)
		assert.Equal(t, uint8(3), d.LinkID)
		assert.Equal(t, uint64(ts)+uint64(i), d.Timestamp)
		compareFields(t, d.Name, m, d.Fields)
	}
}

// compareFields compares every field of a Go message with node-mavlink's
// decoding of it.
func compareFields(t *testing.T, name string, m message.Message, fields map[string]json.RawMessage) {
	v := reflect.ValueOf(m).Elem()
	typ := v.Type()
	require.Len(t, fields, typ.NumField(), "%s: same number of fields", name)
	for i := range typ.NumField() {
		f := typ.Field(i)
		xmlName := f.Tag.Get("mavname")
		if xmlName == "" {
			xmlName = snake(f.Name)
		}
		raw, ok := fields[xmlName]
		if !assert.True(t, ok, "%s.%s missing in node-mavlink's decoding", name, xmlName) {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Array {
			var arr []json.Number
			require.NoError(t, json.Unmarshal(raw, &arr), "%s.%s", name, xmlName)
			require.Len(t, arr, fv.Len(), "%s.%s", name, xmlName)
			for j := range arr {
				assert.Equal(t, scalar(fv.Index(j)), normalize(arr[j], fv.Index(j)), "%s.%s[%d]", name, xmlName, j)
			}
			continue
		}
		var n json.Number
		if raw[0] == '"' {
			var s string
			require.NoError(t, json.Unmarshal(raw, &s))
			n = json.Number(s)
		} else {
			n = json.Number(raw)
		}
		assert.Equal(t, scalar(fv), normalize(n, fv), "%s.%s", name, xmlName)
	}
}

func scalar(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	default:
		return strconv.FormatUint(v.Uint(), 10)
	}
}

func normalize(n json.Number, like reflect.Value) string {
	if like.Kind() == reflect.Float32 || like.Kind() == reflect.Float64 {
		f, err := n.Float64()
		if err != nil {
			return "not a number: " + n.String()
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return n.String()
}

// snake converts a Go field name to its MAVLink XML name, as gomavlib does.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
