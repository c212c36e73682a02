package skyc

import (
	"archive/zip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// Export writes s as a .skyc file that Import reads back equal to s
// (once quantized). Each drone's trajectory and light program are
// members of their own, drones/drone_NN/trajectory.json and lights.json
// (NN counting from 01), which show.json names by $ref. Trajectory
// points count from the drone's takeoff, which takeoffTime gives;
// landingTime is a show time. The limits are written as camelCase
// validation keys; maxAcceleration, which other readers ignore, carries
// show.Limits.MaxAccel. It fails when s is not well formed.
func Export(w io.Writer, s *show.Show) error {
	if err := s.Check(); err != nil {
		return fmt.Errorf("skyc: export: %w", err)
	}
	zw := zip.NewWriter(w)
	put := func(name string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("skyc: export %s: %w", name, err)
		}
		f, err := zw.Create(name)
		if err != nil {
			return fmt.Errorf("skyc: export %s: %w", name, err)
		}
		if _, err := f.Write(b); err != nil {
			return fmt.Errorf("skyc: export %s: %w", name, err)
		}
		return nil
	}
	digits := len(strconv.Itoa(len(s.Drones)))
	drones := make([]any, len(s.Drones))
	for i := range s.Drones {
		d := &s.Drones[i]
		dir := fmt.Sprintf("drones/drone_%0*d/", max(2, digits), i+1)
		points := make([]any, len(d.Path))
		for k, kf := range d.Path {
			ctrl := make([]any, len(kf.Ctrl))
			for c, p := range kf.Ctrl {
				ctrl[c] = vec(p)
			}
			points[k] = []any{secs(kf.At - d.Takeoff), vec(kf.Pos), ctrl}
		}
		if err := put(dir+"trajectory.json", map[string]any{
			"version": 1, "points": points,
			"takeoffTime": secs(d.Takeoff), "landingTime": secs(d.Landing),
		}); err != nil {
			return err
		}
		if err := put(dir+"lights.json", map[string]any{
			"version": 1, "data": base64.StdEncoding.EncodeToString(d.Lights),
		}); err != nil {
			return err
		}
		settings := map[string]any{
			"home": vec(d.Home), "landAt": vec(d.Land),
			"trajectory": map[string]any{"$ref": "./" + dir + "trajectory.json#"},
			"lights":     map[string]any{"$ref": "./" + dir + "lights.json#"},
		}
		if d.Name != "" {
			settings["name"] = d.Name
		}
		drones[i] = map[string]any{"type": "generic", "settings": settings}
	}
	doc := map[string]any{
		"version": 1,
		"meta":    map[string]any{"title": s.Title},
		"swarm":   map[string]any{"drones": drones},
	}
	env := map[string]any{"type": "outdoor"}
	if s.HasOrigin || s.Orientation != 0 {
		loc := map[string]any{"orientation": s.Orientation}
		if s.HasOrigin {
			loc["origin"] = []float64{s.Origin.Lat, s.Origin.Lon, s.Origin.AMSL}
		}
		env["location"] = loc
	}
	doc["environment"] = env
	settings := map[string]any{}
	if len(s.Cues) > 0 {
		items := make([]any, len(s.Cues))
		for i, c := range s.Cues {
			items[i] = map[string]any{"name": c.Name, "time": secs(c.At)}
		}
		settings["cues"] = map[string]any{"version": 1, "items": items}
	}
	if len(s.Fence.Polygon) > 0 {
		// Closed explicitly, as is usual: the importer drops the repeated
		// vertex again.
		pts := make([]any, 0, len(s.Fence.Polygon)+1)
		for _, p := range append(s.Fence.Polygon, s.Fence.Polygon[0]) {
			pts = append(pts, []float64{p[0], p[1], 0})
		}
		settings["geofence"] = map[string]any{"version": 1, "polygons": []any{map[string]any{"isInclusion": true, "points": pts}}}
	}
	l := s.Limits
	val := map[string]any{}
	for _, f := range []struct {
		key string
		v   float64
	}{{"maxAltitude", l.MaxAltitude}, {"maxVelocityXY", l.MaxSpeedXY}, {"maxVelocityZ", l.MaxSpeedDown},
		{"maxVelocityZUp", l.MaxSpeedUp}, {"minDistance", l.MinDistance}, {"maxAcceleration", l.MaxAccel}} {
		if f.v != 0 || f.key == "maxVelocityZUp" && l.MaxSpeedDown != 0 {
			val[f.key] = f.v
		}
	}
	if len(val) > 0 {
		settings["validation"] = val
	}
	if len(settings) > 0 {
		doc["settings"] = settings
	}
	if err := put("show.json", doc); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("skyc: export: %w", err)
	}
	return nil
}

// secs writes a duration in seconds, exactly to the millisecond.
func secs(d time.Duration) json.Number {
	return json.Number(strconv.FormatFloat(float64(d.Round(show.Tick)/show.Tick)/1e3, 'f', -1, 64))
}

func vec(v show.Vec3) []float64 { return []float64{v.X, v.Y, v.Z} }
