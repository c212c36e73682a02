package autopilot

import (
	"math"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// WGS 84 ellipsoid.
const (
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
)

// Frame places the show's local frame on Earth: X north, Y west, Z up, in
// metres from the origin, the X axis turned Orientation degrees clockwise
// from true north.
//
// Horizontal positions go through the plane tangent to the WGS 84
// ellipsoid at the origin: a point of that plane is taken to the ellipsoid
// along the ellipsoid's normal. Distances on the ground then differ from
// distances in the plane by about d³/(3R²) (R ≈ 6371 km): under 0.01 mm at
// 1 km, 0.2 mm at 3 km, 1 mm at 5 km. Velocities are turned with the
// directions at the origin; true north at a point d metres east of it
// differs by about (d/R)·tan(latitude): 0.17 mrad at 1 km at 47°, 2 mm/s
// on a 10 m/s velocity. Heights are not converted here: setpoints carry an
// altitude relative to the drone's home (see Setpoint).
type Frame struct {
	Lat, Lon    float64 // origin, degrees WGS 84
	Orientation float64 // degrees clockwise from true north of the X axis
}

// FrameOf returns the frame a show is flown in.
func FrameOf(s *show.Show) Frame {
	return Frame{Lat: s.Origin.Lat, Lon: s.Origin.Lon, Orientation: s.Orientation}
}

// northEast turns a show vector's horizontal part into north and east.
func (f Frame) northEast(v show.Vec3) (n, e float64) {
	s, c := math.Sincos(f.Orientation * math.Pi / 180)
	// The X axis points at bearing θ, the Y axis at bearing θ − 90°.
	return v.X*c + v.Y*s, v.X*s - v.Y*c
}

// ecef returns the Earth-centred coordinates of a point h metres above
// the ellipsoid.
func ecef(latDeg, lonDeg, h float64) (x, y, z float64) {
	sl, cl := math.Sincos(latDeg * math.Pi / 180)
	so, co := math.Sincos(lonDeg * math.Pi / 180)
	n := wgs84A / math.Sqrt(1-wgs84E2*sl*sl)
	return (n + h) * cl * co, (n + h) * cl * so, (n*(1-wgs84E2) + h) * sl
}

// geodetic is the inverse of ecef (latitude by fixed-point iteration,
// converged to well under a millimetre near the surface).
func geodetic(x, y, z float64) (latDeg, lonDeg float64) {
	p := math.Hypot(x, y)
	lat := math.Atan2(z, p*(1-wgs84E2))
	for range 6 {
		s := math.Sin(lat)
		n := wgs84A / math.Sqrt(1-wgs84E2*s*s)
		h := p/math.Cos(lat) - n
		lat = math.Atan2(z, p*(1-wgs84E2*n/(n+h)))
	}
	return lat * 180 / math.Pi, math.Atan2(y, x) * 180 / math.Pi
}

// enuAxes returns the east and north unit vectors at the origin, in ECEF.
func (f Frame) enuAxes() (east, north [3]float64) {
	sl, cl := math.Sincos(f.Lat * math.Pi / 180)
	so, co := math.Sincos(f.Lon * math.Pi / 180)
	return [3]float64{-so, co, 0}, [3]float64{-sl * co, -sl * so, cl}
}

// LatLon returns the latitude and longitude below a point of the show.
func (f Frame) LatLon(p show.Vec3) (lat, lon float64) {
	n, e := f.northEast(p)
	return f.latLonNE(n, e)
}

func (f Frame) latLonNE(n, e float64) (lat, lon float64) {
	x0, y0, z0 := ecef(f.Lat, f.Lon, 0)
	ea, na := f.enuAxes()
	return geodetic(x0+e*ea[0]+n*na[0], y0+e*ea[1]+n*na[1], z0+e*ea[2]+n*na[2])
}

// Local returns the show's X and Y of a latitude and longitude: the
// inverse of LatLon, to within a micrometre over a few kilometres.
func (f Frame) Local(lat, lon float64) (x, y float64) {
	x0, y0, z0 := ecef(f.Lat, f.Lon, 0)
	ea, na := f.enuAxes()
	px, py, pz := ecef(lat, lon, 0)
	dx, dy, dz := px-x0, py-y0, pz-z0
	n := dx*na[0] + dy*na[1] + dz*na[2]
	e := dx*ea[0] + dy*ea[1] + dz*ea[2]
	// The orthogonal projection onto the plane differs from LatLon's
	// projection along the normal by about d³/(2R²); two corrections
	// with LatLon bring it below a micrometre.
	for range 2 {
		la, lo := f.latLonNE(n, e)
		m, pr := radii(lat)
		n += (lat - la) * math.Pi / 180 * m
		e += (lon - lo) * math.Pi / 180 * pr * math.Cos(lat*math.Pi/180)
	}
	s, c := math.Sincos(f.Orientation * math.Pi / 180)
	return n*c + e*s, n*s - e*c
}

// radii returns the ellipsoid's meridional and prime-vertical radii of
// curvature at a latitude.
func radii(latDeg float64) (m, n float64) {
	s := math.Sin(latDeg * math.Pi / 180)
	w := 1 - wgs84E2*s*s
	return wgs84A * (1 - wgs84E2) / (w * math.Sqrt(w)), wgs84A / math.Sqrt(w)
}

// VelocityNED turns a show velocity (X, Y, Z in m/s) into north, east and
// down.
func (f Frame) VelocityNED(v show.Vec3) (vn, ve, vd float64) {
	n, e := f.northEast(v)
	return n, e, -v.Z
}

// Setpoint converts a show position and velocity of a drone whose home (its
// take-off point in the show) is home into what SET_POSITION_TARGET_GLOBAL_INT
// carries: latitude, longitude, altitude relative to the autopilot's home
// (pos.Z − home.Z: the autopilot's home is where it armed, the drone's show
// home), and velocity north, east, down.
func (f Frame) Setpoint(pos, vel, home show.Vec3) (lat, lon, relAlt, vn, ve, vd float64) {
	lat, lon = f.LatLon(pos)
	vn, ve, vd = f.VelocityNED(vel)
	return lat, lon, pos.Z - home.Z, vn, ve, vd
}

// Distance returns the distance in metres along the ground between two
// latitudes and longitudes a few kilometres apart at most (on the
// tangent plane at the first).
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	x, y := Frame{Lat: lat1, Lon: lon1}.Local(lat2, lon2)
	return math.Hypot(x, y)
}
