package showcsv

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// DefaultPeriod is the export's sampling period: Blender's 24 frames per
// second.
const DefaultPeriod = time.Second / 24

// ExportOptions tune Export.
type ExportOptions struct {
	// Period between samples (optional, default DefaultPeriod); negative:
	// keyframes and light changes only, which is exact for a show of
	// straight segments.
	Period time.Duration
}

// Export writes s as a ZIP of one CSV file per drone, sampled every
// DefaultPeriod and at every keyframe and light change.
func Export(w io.Writer, s *show.Show) error { return ExportWith(w, s, ExportOptions{}) }

// ExportWith is Export with options.
func ExportWith(w io.Writer, s *show.Show, opt ExportOptions) error {
	if opt.Period == 0 {
		opt.Period = DefaultPeriod
	}
	tracks, err := s.Tracks()
	if err != nil {
		return fmt.Errorf("showcsv: export: %w", err)
	}
	names := fileNames(s)
	z := zip.NewWriter(w)
	for k, tr := range tracks {
		times, err := sampleTimes(&s.Drones[k], s.Duration(), opt.Period)
		if err != nil {
			return fmt.Errorf("showcsv: export drone %d (%s): %w", k+1, s.Drones[k].Name, err)
		}
		f, err := z.CreateHeader(&zip.FileHeader{Name: names[k] + ".csv", Method: zip.Deflate})
		if err != nil {
			return fmt.Errorf("showcsv: export: %w", err)
		}
		bw := bufio.NewWriter(f)
		bw.WriteString(Header + "\r\n")
		var line []byte
		for _, t := range times {
			pos, _ := tr.Position(t)
			c := tr.Colour(t)
			line = strconv.AppendInt(line[:0], t.Milliseconds(), 10)
			for _, v := range []float64{pos.X, pos.Y, pos.Z} {
				line = append(line, ',')
				line = strconv.AppendFloat(line, roundMM(v), 'f', -1, 64)
			}
			line = fmt.Appendf(line, ",%d,%d,%d\r\n", c.R, c.G, c.B)
			bw.Write(line)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("showcsv: export: %w", err)
		}
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("showcsv: export: %w", err)
	}
	return nil
}

func roundMM(v float64) float64 {
	if r := math.Round(v*1e3) / 1e3; r != 0 {
		return r
	}
	return 0 // no "-0"
}

// fileNames names each drone's file: the drones' own names when they are
// distinct, safe as file names and in the show's order when sorted
// naturally (so that an import gives the same order), else "Drone N".
func fileNames(s *show.Show) []string {
	names := make([]string, len(s.Drones))
	own := true
	seen := make(map[string]bool, len(s.Drones))
	for k, d := range s.Drones {
		n := d.Name
		if n == "" || strings.ContainsAny(n, `/\:`) || strings.HasPrefix(n, ".") || seen[n] ||
			k > 0 && naturalCompare(names[k-1], n) >= 0 || n != strings.TrimSpace(n) {
			own = false
			break
		}
		seen[n] = true
		names[k] = n
	}
	if !own {
		for k := range names {
			names[k] = fmt.Sprintf("Drone %d", k+1)
		}
	}
	return names
}

// sampleTimes returns the times a drone is sampled at, in increasing
// order: 0, every period, every keyframe, every light change (and 1 ms
// before a colour set at once), up to its last keyframe or light change.
func sampleTimes(d *show.Drone, showEnd time.Duration, period time.Duration) ([]time.Duration, error) {
	end := d.Path[len(d.Path)-1].At
	steps, err := d.Lights.Steps(showEnd, show.MaxLightSteps)
	if err != nil {
		return nil, err
	}
	times := []time.Duration{0}
	for _, kf := range d.Path {
		times = append(times, kf.At)
	}
	for _, st := range steps {
		if st.Start > showEnd {
			break
		}
		times = append(times, st.Start, min(st.End, showEnd))
		end = max(end, min(st.End, showEnd))
		if st.Start >= time.Millisecond {
			times = append(times, st.Start-time.Millisecond)
		}
	}
	if period > 0 {
		if n := int64(end / period); n > show.MaxKeyframes {
			return nil, fmt.Errorf("%d samples every %v, more than an import takes (%d)", n, period, show.MaxKeyframes)
		}
		for t := time.Duration(0); t < end; t += period {
			times = append(times, t.Round(time.Millisecond))
		}
	}
	for i := range times {
		times[i] = times[i].Round(time.Millisecond)
	}
	slices.Sort(times)
	times = slices.Compact(times)
	if len(times) > show.MaxKeyframes {
		return nil, fmt.Errorf("%d samples, more than an import takes (%d)", len(times), show.MaxKeyframes)
	}
	return times, nil
}
