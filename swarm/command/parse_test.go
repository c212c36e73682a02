package command

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Command
	}{
		{"LOAD 7 0x1122334455667788", Load{Show: 7, Digest: 0x1122334455667788}},
		{"load 7 0XAB", Load{Show: 7, Digest: 0xab}},
		{"LOAD 7", Load{Show: 7}},
		{"LOAD 4294967295 0xffffffffffffffff", Load{Show: 4294967295, Digest: 0xffffffffffffffff}},
		{"ARM", Arm{}},
		{"  arm  ", Arm{}},
		{"TAKEOFF 10", Takeoff{AltitudeCM: 1000}},
		{"Takeoff 2.5", Takeoff{AltitudeCM: 250}},
		{"TAKEOFF 0.014", Takeoff{AltitudeCM: 1}},
		{"TAKEOFF 655.35", Takeoff{AltitudeCM: 65535}},
		{"START 12.5", Start{At: 12_500_000_000}},
		{"START 0.1", Start{At: 100_000_000}},
		{"START .000000001", Start{At: 1}},
		{"START 0", Start{}},
		{"START 9223372035.999999999", Start{At: 9223372035_999999999}},
		{"PAUSE 20", Pause{At: 20_000_000_000}},
		{"RESUME 25.", Resume{At: 25_000_000_000}},
		{"LAND", Land{}},
		{"return", Return{}},
		{"LIGHTS 255 0 128", Lights{R: 255, G: 0, B: 128}},
		{"LIGHTS #ff0080", Lights{R: 255, G: 0, B: 128}},
		{"lights #FF0080", Lights{R: 255, G: 0, B: 128}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.NoError(t, Validate(got))
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
	}{
		{"", "empty command; expected one of LOAD, ARM, TAKEOFF, START, PAUSE, RESUME, LAND, RETURN, LIGHTS"},
		{"FLY 3", "FLY is not a command; expected one of LOAD"},
		{"VIEW 3 5 9", "VIEW is issued by the swarm, not by operators"},
		{"activate 3 12", "ACTIVATE is issued by the swarm, not by operators"},
		{"LOAD", "wrong number of arguments (0); expected LOAD <show> [0x<digest>]"},
		{"LOAD 7 0x1 2", "wrong number of arguments (3); expected LOAD"},
		{"LOAD -1", `show "-1" is not a number from 0 to 4294967295`},
		{"LOAD 4294967296", `show "4294967296" is not a number`},
		{"LOAD 7 1122", `digest "1122" is not 0x and 1 to 16 hex digits`},
		{"LOAD 7 0x", `digest "0x" is not 0x`},
		{"LOAD 7 0x11223344556677889", `digest "0x11223344556677889"`},
		{"ARM now", "wrong number of arguments (1); expected ARM"},
		{"LAND here", "wrong number of arguments (1); expected LAND"},
		{"RETURN home", "expected RETURN"},
		{"TAKEOFF", "wrong number of arguments (0); expected TAKEOFF <metres>"},
		{"TAKEOFF x", `altitude "x" is not a number of metres from 0.01 to 655.35`},
		{"TAKEOFF 0", `altitude "0"`},
		{"TAKEOFF 0.004", `altitude "0.004"`},
		{"TAKEOFF -5", `altitude "-5"`},
		{"TAKEOFF 655.36", `altitude "655.36"`},
		{"TAKEOFF NaN", `altitude "NaN"`},
		{"TAKEOFF inf", `altitude "inf"`},
		{"START", "wrong number of arguments (0); expected START <seconds of swarm time>"},
		{"START -1", `time "-1": not a number of seconds`},
		{"START 1e3", `time "1e3": not a number of seconds`},
		{"START .", `time ".": not a number of seconds`},
		{"START 1.2.3", `time "1.2.3": not a number of seconds`},
		{"START 0.0000000001", "more than 9 decimals"},
		{"START 9223372036", "more than 9223372035 seconds"},
		{"PAUSE x", "expected PAUSE <seconds of swarm time>"},
		{"RESUME", "expected RESUME <seconds of swarm time>"},
		{"LIGHTS", "wrong number of arguments (0); expected LIGHTS <r> <g> <b> or LIGHTS #rrggbb"},
		{"LIGHTS 1 2", "wrong number of arguments (2)"},
		{"LIGHTS 256 0 0", `"256" is not a number from 0 to 255`},
		{"LIGHTS ff0080", `colour "ff0080" is not # and 6 hex digits`},
		{"LIGHTS #ff00", `colour "#ff00"`},
		{"LIGHTS #gg0080", `colour "#gg0080"`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := Parse(tc.in)
			assert.Nil(t, c)
			require.ErrorIs(t, err, ErrSyntax)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}
