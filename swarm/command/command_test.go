package command

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	seen := map[Kind]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := Encode(tc.cmd)
			assert.Equal(t, tc.hex, hex.EncodeToString(b))
			assert.Len(t, b, sizes[tc.cmd.Kind()])
			assert.LessOrEqual(t, len(b), MaxSize)
			got, err := Decode(b)
			require.NoError(t, err)
			assert.Equal(t, tc.cmd, got)
			assert.Equal(t, tc.str, got.String())
			assert.NoError(t, Validate(tc.cmd))
		})
		seen[tc.cmd.Kind()] = true
	}
	for k := KindLoad; k <= KindActivate; k++ {
		assert.True(t, seen[k], "no case for %s", k)
	}
}

func TestSizes(t *testing.T) {
	longest := 0
	for k := KindLoad; k <= KindActivate; k++ {
		longest = max(longest, sizes[k])
	}
	assert.Equal(t, MaxSize, longest)
	assert.Less(t, MaxSize, 32, "commands stay small log entries")
}

func TestKind(t *testing.T) {
	names := []string{"LOAD", "ARM", "TAKEOFF", "START", "PAUSE", "RESUME", "LAND", "RETURN", "LIGHTS", "VIEW", "ACTIVATE"}
	for i, name := range names {
		k := Kind(i + 1)
		assert.Equal(t, name, k.String())
		assert.Equal(t, name == "VIEW" || name == "ACTIVATE", IsSystem(k), name)
	}
	assert.Equal(t, "Kind(0)", Kind(0).String())
	assert.Equal(t, "Kind(12)", Kind(12).String())
	assert.False(t, IsSystem(0))
}

func TestSeconds(t *testing.T) {
	for ns, want := range map[int64]string{
		0: "0.000s", 999_999: "0.000s", 1_000_000: "0.001s", 12_500_000_000: "12.500s",
		-1_500_000_000: "-1.500s", -9223372036854775808: "-9223372036.854s",
	} {
		assert.Equal(t, want, Seconds(ns), ns)
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, hex, msg string
	}{
		{"empty", "", "empty data"},
		{"kind 0", "00", "first byte 0x00 is not a command kind"},
		{"kind 12", "0c0000", "first byte 0x0c is not a command kind"},
		{"kind ff", "ff", "first byte 0xff is not a command kind"},
		{"load short", "010000000711223344556677", "LOAD of 12 bytes, expected 13"},
		{"load long", "0100000007112233445566778899", "LOAD of 14 bytes, expected 13"},
		{"arm long", "0200", "ARM of 2 bytes, expected 1"},
		{"takeoff short", "03", "TAKEOFF of 1 bytes, expected 3"},
		{"takeoff 0", "030000", "TAKEOFF to altitude 0"},
		{"start short", "0400", "START of 2 bytes, expected 9"},
		{"start negative", "04ffffffffffffffff", "START at -1 ns, before swarm time 0"},
		{"pause negative", "058000000000000000", "PAUSE at -9223372036854775808 ns"},
		{"resume negative", "06fffffffffffffc18", "RESUME at -1000 ns"},
		{"land long", "070000", "LAND of 3 bytes, expected 1"},
		{"return long", "0801", "RETURN of 2 bytes, expected 1"},
		{"lights short", "09ff00", "LIGHTS of 3 bytes, expected 4"},
		{"view short", "0a0003000500", "VIEW of 6 bytes, expected 7"},
		{"view epoch 0", "0a000000050009", "VIEW with epoch 0"},
		{"view retired 0", "0a000300000009", "VIEW epoch 3 retires voter 0"},
		{"view replacement 0", "0a000300050000", "VIEW epoch 3 has replacement 0"},
		{"view same", "0a000300050005", "VIEW epoch 3 retires and replaces voter 5"},
		{"activate short", "0b0003", "ACTIVATE of 3 bytes, expected 11"},
		{"activate epoch 0", "0b00000000000000000001", "ACTIVATE with epoch 0"},
		{"activate negative", "0b0003ffffffffffffffff", "ACTIVATE at -1 ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := hex.DecodeString(tc.hex)
			require.NoError(t, err)
			c, err := Decode(b)
			assert.Nil(t, c)
			require.ErrorIs(t, err, ErrMalformed)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

type foreign struct{}

func (foreign) Kind() Kind     { return KindArm }
func (foreign) String() string { return "ARM, but not ours" }

func TestForeign(t *testing.T) {
	assert.ErrorIs(t, Validate(foreign{}), ErrMalformed)
	assert.ErrorIs(t, Validate(nil), ErrMalformed)
	assert.ErrorIs(t, Validate(&Start{}), ErrMalformed, "commands are values")
	assert.PanicsWithValue(t, "command: Encode of command.foreign, which is not a command of package command", func() { Encode(foreign{}) })
}

func FuzzDecode(f *testing.F) {
	for _, tc := range cases {
		f.Add(Encode(tc.cmd))
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{byte(KindView), 0, 0, 0, 1, 0, 1})
	f.Add([]byte{byte(KindStart), 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			if c != nil {
				t.Fatalf("Decode(%x) = %v and %v", b, c, err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%x): %v does not wrap ErrMalformed", b, err)
			}
			return
		}
		if got := Encode(c); string(got) != string(b) {
			t.Fatalf("Decode(%x) = %v, which encodes to %x", b, c, got)
		}
		if err := Validate(c); err != nil {
			t.Fatalf("Decode(%x) = %v, which Validate refuses: %v", b, c, err)
		}
		_ = c.String()
	})
}
