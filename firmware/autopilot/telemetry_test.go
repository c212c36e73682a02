package autopilot

import (
	"fmt"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)

const allSensors = ardupilotmega.MAV_SYS_STATUS_SENSOR_GPS | ardupilotmega.MAV_SYS_STATUS_AHRS |
	ardupilotmega.MAV_SYS_STATUS_PREARM_CHECK

// healthyTelemetry is an ArduPilot on the ground at lat, lon, ready.
func healthyTelemetry(lat, lon float64) *Telemetry {
	t := &Telemetry{}
	for _, m := range []message.Message{
		&ardupilotmega.MessageHeartbeat{Autopilot: mavAutopilotArduPilot, CustomMode: 4},
		&ardupilotmega.MessageGlobalPositionInt{Lat: int32(lat * 1e7), Lon: int32(lon * 1e7)},
		&ardupilotmega.MessageGpsRawInt{FixType: 6, SatellitesVisible: 18},
		&ardupilotmega.MessageSysStatus{OnboardControlSensorsPresent: allSensors,
			OnboardControlSensorsHealth: allSensors, VoltageBattery: 16500, BatteryRemaining: 95},
		&ardupilotmega.MessageEkfStatusReport{Flags: ekfGood | ardupilotmega.EKF_POS_HORIZ_REL},
	} {
		t.update(m, t0)
	}
	return t
}

func names(r Report) []string {
	var n []string
	for _, c := range r.Failed() {
		n = append(n, c.Name)
	}
	return n
}

func TestPreflight(t *testing.T) {
	const lat, lon = 47.3977, 8.5456
	tel := healthyTelemetry(lat, lon)
	r := tel.Preflight(t0.Add(time.Second), lat, lon, PreflightLimits{})
	require.True(t, r.OK(), "%v", r)
	assert.Equal(t, "preflight: ok", r.String())
	assert.Equal(t, "GUIDED", r.Mode)
	assert.InDelta(t, 16.5, r.Voltage, 1e-9)

	// 4 m from home (north), with the default 3 m allowed.
	r = tel.Preflight(t0, lat-4/111_200.0, lon, PreflightLimits{})
	assert.Equal(t, []string{CheckHome}, names(r))
	assert.InDelta(t, 4, r.HomeDistance, 0.02)

	// A glitching GPS, few satellites, a drained battery, and a pre-arm failure.
	tel.update(&ardupilotmega.MessageEkfStatusReport{Flags: ekfGood | ardupilotmega.EKF_GPS_GLITCHING}, t0)
	tel.update(&ardupilotmega.MessageGpsRawInt{FixType: 3, SatellitesVisible: 7}, t0)
	tel.update(&ardupilotmega.MessageSysStatus{OnboardControlSensorsPresent: allSensors,
		OnboardControlSensorsHealth: allSensors &^ ardupilotmega.MAV_SYS_STATUS_PREARM_CHECK,
		VoltageBattery:              14800, BatteryRemaining: 40}, t0)
	tel.update(&ardupilotmega.MessageStatustext{Text: "PreArm: Gyros inconsistent"}, t0)
	r = tel.Preflight(t0, lat, lon, PreflightLimits{})
	assert.Equal(t, []string{CheckSatellites, CheckBattery, CheckArmable, CheckEKF}, names(r))
	assert.Equal(t, "PreArm: Gyros inconsistent", r.PreArm)
	assert.Contains(t, r.String(), "preflight: armable: pre-arm checks fail: PreArm: Gyros inconsistent")
	assert.Contains(t, r.String(), "preflight: satellites: 7 satellites, want 10")

	// Everything goes stale after MaxTelemetryAge; the link after 3 s.
	r = tel.Preflight(t0.Add(6*time.Second), lat, lon, PreflightLimits{})
	assert.Equal(t, []string{CheckLink, CheckGPSFix, CheckSatellites, CheckBattery, CheckArmable, CheckEKF, CheckHome}, names(r))
}

// PX4's estimator health is read from SYS_STATUS (AHRS and GPS).
func TestPreflightPX4EKF(t *testing.T) {
	tel := &Telemetry{}
	tel.update(&ardupilotmega.MessageHeartbeat{Autopilot: mavAutopilotPX4}, t0)
	tel.update(&ardupilotmega.MessageSysStatus{OnboardControlSensorsPresent: allSensors,
		OnboardControlSensorsHealth: allSensors &^ ardupilotmega.MAV_SYS_STATUS_AHRS, BatteryRemaining: 100}, t0)
	r := tel.Preflight(t0, 0, 0, PreflightLimits{})
	assert.False(t, r.EKFHealthy)
	assert.Contains(t, names(r), CheckEKF)
	tel.update(&ardupilotmega.MessageSysStatus{OnboardControlSensorsPresent: allSensors,
		OnboardControlSensorsHealth: allSensors, BatteryRemaining: 100}, t0)
	assert.True(t, tel.Preflight(t0, 0, 0, PreflightLimits{}).EKFHealthy)
}

// GPS time is SYSTEM_TIME.time_unix_usec carried forward by the local
// clock from its arrival; GPS_RAW_INT.time_usec (time since boot on
// ArduPilot) is not time.
func TestGPSTime(t *testing.T) {
	tel := &Telemetry{}
	tel.update(&ardupilotmega.MessageGpsRawInt{TimeUsec: 123_456_789, FixType: 3}, t0)
	_, ok := tel.GPSTime(t0)
	assert.False(t, ok, "GPS_RAW_INT is not a time source")
	gps := time.Date(2026, 6, 1, 20, 0, 18, 0, time.UTC) // GPS ahead of the local clock by 18 s
	local := t0.Add(5 * time.Second)
	tel.update(&ardupilotmega.MessageSystemTime{TimeUnixUsec: uint64(gps.UnixMicro()), TimeBootMs: 99}, local)
	got, ok := tel.GPSTime(local.Add(250 * time.Millisecond))
	require.True(t, ok)
	assert.Equal(t, gps.Add(250*time.Millisecond), got)
	tel.update(&ardupilotmega.MessageSystemTime{TimeBootMs: 100}, local)
	_, ok = tel.GPSTime(local)
	assert.False(t, ok, "an autopilot without GPS time sends 0")
}

// The latest pre-arm STATUSTEXT is kept, in either firmware's wording.
func TestPreArmText(t *testing.T) {
	tel := &Telemetry{}
	for _, s := range []string{"PreArm: Need 3D Fix", "EKF3 IMU0 is using GPS", "Preflight Fail: low battery", "Ready to fly"} {
		tel.update(&ardupilotmega.MessageStatustext{Text: s}, t0)
	}
	assert.Equal(t, "Preflight Fail: low battery", tel.PreArm)
	assert.Len(t, tel.Texts, 4)
	tel.update(&ardupilotmega.MessageStatustext{Text: "PreArm: Need 3D Fix"}, t0)
	assert.Equal(t, []string{"Preflight Fail: low battery", "PreArm: Need 3D Fix"}, tel.PreArms)
	for i := range 20 {
		tel.update(&ardupilotmega.MessageStatustext{Text: "x"}, t0)
		tel.update(&ardupilotmega.MessageStatustext{Text: fmt.Sprintf("PreArm: check %d", i)}, t0)
	}
	assert.Len(t, tel.Texts, maxTexts)
	assert.Len(t, tel.PreArms, maxPreArms)
	assert.Equal(t, "PreArm: check 19", tel.PreArms[maxPreArms-1])
}
