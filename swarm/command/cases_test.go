package command

import "math"

// cases is one table for the round-trip tests and the fuzz seeds: every
// kind, with edge values.
var cases = []struct {
	name string
	cmd  Command
	hex  string // the encoding
	str  string // String()
}{
	{"load", Load{Show: 7, Digest: 0x1122334455667788}, "01000000071122334455667788", "LOAD show 7 digest 0x1122334455667788"},
	{"load max", Load{Show: math.MaxUint32, Digest: math.MaxUint64}, "01ffffffffffffffffffffffff", "LOAD show 4294967295 digest 0xffffffffffffffff"},
	{"load zero", Load{}, "01000000000000000000000000", "LOAD show 0 digest 0x0000000000000000"},
	{"arm", Arm{}, "02", "ARM"},
	{"takeoff", Takeoff{AltitudeCM: 1000}, "0303e8", "TAKEOFF to 10.00m"},
	{"takeoff min", Takeoff{AltitudeCM: 1}, "030001", "TAKEOFF to 0.01m"},
	{"takeoff max", Takeoff{AltitudeCM: math.MaxUint16}, "03ffff", "TAKEOFF to 655.35m"},
	{"start", Start{At: 12_500_000_000}, "0400000002e90edd00", "START at 12.500s"},
	{"start zero", Start{}, "040000000000000000", "START at 0.000s"},
	{"start max", Start{At: math.MaxInt64}, "047fffffffffffffff", "START at 9223372036.854s"},
	{"pause", Pause{At: 20_000_000_000}, "0500000004a817c800", "PAUSE at 20.000s"},
	{"resume", Resume{At: 25_000_000_001}, "0600000005d21dba01", "RESUME at 25.000s"},
	{"land", Land{}, "07", "LAND"},
	{"return", Return{}, "08", "RETURN"},
	{"lights", Lights{R: 255, G: 0, B: 128}, "09ff0080", "LIGHTS #ff0080"},
	{"lights off", Lights{}, "09000000", "LIGHTS #000000"},
	{"view", View{Epoch: 3, Retired: 5, Replacement: 9}, "0a000300050009", "VIEW epoch 3: retire 5, replacement 9"},
	{"view max", View{Epoch: math.MaxUint16, Retired: math.MaxUint16, Replacement: 1}, "0affffffff0001", "VIEW epoch 65535: retire 65535, replacement 1"},
	{"activate", Activate{Epoch: 3, At: 12_500_000_000}, "0b000300000002e90edd00", "ACTIVATE epoch 3 at 12.500s"},
	{"activate zero", Activate{Epoch: 1}, "0b00010000000000000000", "ACTIVATE epoch 1 at 0.000s"},
}
