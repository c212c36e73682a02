package autopilot

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// A metre north is a metre along the meridian: the meridional arc from the
// origin, integrated numerically, matches LatLon's latitude to 1 mm at 3 km.
func TestFrameNorthIsMeridianArc(t *testing.T) {
	for _, lat0 := range []float64{0, 47.3977, -33.9, 64} {
		f := Frame{Lat: lat0, Lon: 8.5456}
		for _, d := range []float64{1, 100, 1000, 3000} {
			lat, lon := f.LatLon(show.Vec3{X: d})
			// Arc length of the meridian from lat0 to lat by Simpson's rule.
			const steps = 100
			h := (lat - lat0) * math.Pi / 180 / steps
			arc := 0.0
			for i := 0; i <= steps; i++ {
				m, _ := radii(lat0 + float64(i)*h*180/math.Pi)
				w := 2.0
				if i == 0 || i == steps {
					w = 1
				} else if i%2 == 1 {
					w = 4
				}
				arc += w * m
			}
			arc *= h / 3
			assert.InDelta(t, d, arc, 0.001, "lat0=%v d=%v", lat0, d)
			assert.InDelta(t, f.Lon, lon, 1e-12)
		}
	}
}

// A metre west is a metre along the ground, on a straight line west.
func TestFrameWest(t *testing.T) {
	f := Frame{Lat: 47.3977, Lon: 8.5456}
	for _, d := range []float64{1, 1000, 3000} {
		lat, lon := f.LatLon(show.Vec3{Y: d})
		_, n := radii(f.Lat)
		east := (lon - f.Lon) * math.Pi / 180 * n * math.Cos(f.Lat*math.Pi/180)
		assert.InDelta(t, -d, east, 0.001+d*d/(2*n)*1e-3, "d=%v", d)
		// A straight line west (a great circle) leaves the parallel, a small
		// circle, towards the equator by d²·tanφ/2N: 0.77 m at 3 km here.
		m, _ := radii(f.Lat)
		south := -(lat - f.Lat) * math.Pi / 180 * m
		assert.InDelta(t, d*d*math.Tan(f.Lat*math.Pi/180)/(2*n), south, 0.001, "d=%v", d)
	}
}

// Orientation turns the X axis clockwise from north: at 90° X points east
// and Y north.
func TestFrameOrientation(t *testing.T) {
	f := Frame{Lat: 10, Lon: 20, Orientation: 90}
	n, e := f.northEast(show.Vec3{X: 5})
	assert.InDelta(t, 0, n, 1e-9)
	assert.InDelta(t, 5, e, 1e-9)
	n, e = f.northEast(show.Vec3{Y: 5})
	assert.InDelta(t, 5, n, 1e-9)
	assert.InDelta(t, 0, e, 1e-9)
	f.Orientation = 30
	vn, ve, vd := f.VelocityNED(show.Vec3{X: 2, Y: 0, Z: 1})
	assert.InDelta(t, 2*math.Cos(math.Pi/6), vn, 1e-9)
	assert.InDelta(t, 2*math.Sin(math.Pi/6), ve, 1e-9)
	assert.InDelta(t, -1, vd, 1e-12)
}

// Local inverts LatLon to a micrometre over 5 km, and Distance agrees with
// the plane.
func TestFrameRoundTrip(t *testing.T) {
	f := Frame{Lat: -33.86, Lon: 151.21, Orientation: 37}
	for _, p := range []show.Vec3{{}, {X: 1}, {X: 12.5, Y: -7.25}, {X: -2500, Y: 4000}, {X: 3000, Y: 3000}} {
		lat, lon := f.LatLon(p)
		x, y := f.Local(lat, lon)
		require.InDelta(t, p.X, x, 1e-6, "%v", p)
		require.InDelta(t, p.Y, y, 1e-6, "%v", p)
		la0, lo0 := f.LatLon(show.Vec3{})
		assert.InDelta(t, math.Hypot(p.X, p.Y), Distance(la0, lo0, lat, lon), 1e-3, "%v", p)
	}
}

func TestFrameSetpoint(t *testing.T) {
	f := Frame{Lat: 47, Lon: 8}
	lat, lon, rel, vn, ve, vd := f.Setpoint(show.Vec3{X: 10, Y: 0, Z: 12}, show.Vec3{X: 1, Y: 1, Z: -0.5}, show.Vec3{Z: 2})
	m, _ := radii(47)
	assert.InDelta(t, 10, (lat-47)*math.Pi/180*m, 1e-4)
	assert.InDelta(t, 8, lon, 1e-12)
	assert.InDelta(t, 10, rel, 1e-12)
	assert.InDelta(t, 1, vn, 1e-12)
	assert.InDelta(t, -1, ve, 1e-12)
	assert.InDelta(t, 0.5, vd, 1e-12)
}
