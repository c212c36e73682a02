package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

const showInfoUsage = `Usage: groundstation show info FILE [flags] [--json]

Prints the show's figures: drones, duration, bounds, origin, orientation,
limits, geofence, cues, light programs, encoded size, its hash (SHA-256)
and the 64-bit digest a LOAD command names. The placement and limit flags
override what the file says, as for import.

Flags:
`

// showFacts are what info prints.
type showFacts struct {
	Title          string        `json:"title"`
	Drones         int           `json:"drones"`
	DurationS      float64       `json:"duration_s"`
	Min            [3]float64    `json:"min_xyz_m"`
	Max            [3]float64    `json:"max_xyz_m"`
	Origin         *show.Origin  `json:"origin"`
	OrientationDeg float64       `json:"orientation_deg"`
	Limits         limitsJSON    `json:"limits"`
	Fence          [][2]float64  `json:"fence"`
	Cues           []cueJSON     `json:"cues"`
	Keyframes      int           `json:"keyframes"`
	LightBytes     int           `json:"light_program_bytes"`
	LightBytesMax  int           `json:"light_program_bytes_max"`
	LightS         float64       `json:"light_program_s"`
	LightEndless   bool          `json:"light_program_endless"`
	EncodedBytes   int           `json:"encoded_bytes"`
	Hash           string        `json:"hash"`
	Digest         string        `json:"digest"`
	lightDuration  time.Duration // for the table
}

type limitsJSON struct {
	MaxAltitude  float64 `json:"max_altitude_m"`
	MaxSpeedXY   float64 `json:"max_speed_xy_mps"`
	MaxSpeedUp   float64 `json:"max_speed_up_mps"`
	MaxSpeedDown float64 `json:"max_speed_down_mps"`
	MaxAccel     float64 `json:"max_accel_mps2"`
	MinDistance  float64 `json:"min_distance_m"`
}

type cueJSON struct {
	Name string  `json:"name"`
	AtS  float64 `json:"at_s"`
}

func showInfo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p placement
	p.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	in, err := parseFile(fs, args, showInfoUsage)
	if err != nil {
		return err
	}
	s, warns, err := loadShow(in, &p)
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	f, err := facts(s)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	return printFacts(stdout, f)
}

func facts(s *show.Show) (*showFacts, error) {
	enc, err := s.Encode()
	if err != nil {
		return nil, err
	}
	h, _ := s.Hash()
	l := s.Limits
	f := &showFacts{
		Title: s.Title, Drones: len(s.Drones), DurationS: s.Duration().Seconds(), OrientationDeg: s.Orientation,
		Limits: limitsJSON{l.MaxAltitude, l.MaxSpeedXY, l.MaxSpeedUp, l.MaxSpeedDown, l.MaxAccel, l.MinDistance},
		Fence:  s.Fence.Polygon, Cues: []cueJSON{}, EncodedBytes: len(enc), Hash: h.String(),
		Digest: fmt.Sprintf("0x%016x", h.Digest()),
	}
	if f.Fence == nil {
		f.Fence = [][2]float64{}
	}
	if s.HasOrigin {
		o := s.Origin
		f.Origin = &o
	}
	for _, c := range s.Cues {
		f.Cues = append(f.Cues, cueJSON{c.Name, c.At.Seconds()})
	}
	f.Min = [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	f.Max = [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	see := func(v show.Vec3) {
		for i, x := range [3]float64{v.X, v.Y, v.Z} {
			f.Min[i], f.Max[i] = min(f.Min[i], x), max(f.Max[i], x)
		}
	}
	end := s.Duration()
	for i := range s.Drones {
		d := &s.Drones[i]
		f.Keyframes += len(d.Path)
		see(d.Home)
		see(d.Land)
		for k, kf := range d.Path {
			see(kf.Pos)
			if len(kf.Ctrl) > 0 {
				// A curve: its points, 32 per segment (the control points
				// would bound it, but loosely).
				seg := show.SegmentOf(d.Path, k)
				for j := 1; j < 32; j++ {
					p, _ := seg.At(seg.Start + (seg.End-seg.Start)*time.Duration(j)/32)
					see(p)
				}
			}
		}
		f.LightBytes += len(d.Lights)
		f.LightBytesMax = max(f.LightBytesMax, len(d.Lights))
		st, err := d.Lights.RunStats(end, show.MaxLightSteps)
		if err != nil {
			return nil, fmt.Errorf("drone %d (%s): %w", i+1, d.Name, err)
		}
		f.lightDuration = max(f.lightDuration, st.End)
		f.LightEndless = f.LightEndless || st.Endless
	}
	for i := range 3 {
		f.Min[i], f.Max[i] = math.Round(f.Min[i]*1e3)/1e3, math.Round(f.Max[i]*1e3)/1e3
	}
	f.LightS = f.lightDuration.Seconds()
	return f, nil
}

func seconds(s float64) string { return fmt.Sprintf("%.3f s", s) }

func printFacts(w io.Writer, f *showFacts) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }
	if f.Title != "" {
		row("title", "%s", f.Title)
	}
	row("drones", "%d", f.Drones)
	row("duration", "%s", seconds(f.DurationS))
	row("x (north)", "%.3f to %.3f m", f.Min[0], f.Max[0])
	row("y (west)", "%.3f to %.3f m", f.Min[1], f.Max[1])
	row("z (up)", "%.3f to %.3f m", f.Min[2], f.Max[2])
	if f.Origin != nil {
		row("origin", "%.7f, %.7f, %.3f m AMSL", f.Origin.Lat, f.Origin.Lon, f.Origin.AMSL)
	} else {
		row("origin", "none: the show is not placed (import it with --origin)")
	}
	row("orientation", "%.3f°", f.OrientationDeg)
	lim := func(v float64, unit string) string {
		if v == 0 {
			return "none"
		}
		return fmt.Sprintf("%.3f %s", v, unit)
	}
	row("max altitude", "%s", lim(f.Limits.MaxAltitude, "m"))
	row("max speed xy", "%s", lim(f.Limits.MaxSpeedXY, "m/s"))
	row("max speed up", "%s", lim(f.Limits.MaxSpeedUp, "m/s"))
	row("max speed down", "%s", lim(f.Limits.MaxSpeedDown, "m/s"))
	row("max acceleration", "%s", lim(f.Limits.MaxAccel, "m/s²"))
	row("min distance", "%s", lim(f.Limits.MinDistance, "m"))
	if len(f.Fence) == 0 {
		row("fence", "none")
	} else {
		pts := make([]string, len(f.Fence))
		for i, p := range f.Fence {
			pts[i] = fmt.Sprintf("%g,%g", p[0], p[1])
		}
		row("fence", "%d vertices: %s", len(f.Fence), strings.Join(pts, ";"))
	}
	row("cues", "%d", len(f.Cues))
	for _, c := range f.Cues {
		row("", "%s at %s", c.Name, seconds(c.AtS))
	}
	row("keyframes", "%d", f.Keyframes)
	endless := ""
	if f.LightEndless {
		endless = " (a program loops for ever: it runs to the show's end)"
	}
	row("light programs", "%d bytes (largest %d), %s%s", f.LightBytes, f.LightBytesMax, seconds(f.LightS), endless)
	row("encoded size", "%d bytes", f.EncodedBytes)
	row("hash", "%s", f.Hash)
	row("digest", "%s", f.Digest)
	return tw.Flush()
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
