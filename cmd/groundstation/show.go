package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/showcsv"
)

// ShowExt is the file extension of the project's show format: the show's
// compact encoding (swarm/show), the bytes its hash names.
const ShowExt = ".sqshow"

// maxShowFile bounds the size of a .sqshow file read.
const maxShowFile = 1 << 30

const showUsage = `Usage: groundstation show COMMAND FILE [flags]

Reads, checks and converts shows (docs/show-cli.md). FILE is a show in
this project's format (` + ShowExt + `), a Skybrush compiled show (.skyc), or
Blender's CSV export: a .zip of CSV files, a directory of them or a
single .csv.

Commands:
  import FILE --out OUT` + ShowExt + `  write FILE in this project's format (needs an
                              origin: from the file or --origin)
  validate FILE               check the show is safe to fly: exit 1 with one
                              line per violation, or print OK and its figures
  info FILE                   drones, duration, bounds, origin, limits, fence,
                              cues, lights, encoded size, hash and digest
  export FILE --csv OUT.zip   write the show as Blender's CSV export
  upload FILE                 upload the show to every drone of the network
                              groundstation connect joined, with progress

Run "groundstation show COMMAND --help" for a command's flags.
Exit status: 0 when done, 1 on an error or a violation, 2 on bad usage.
`

func runShow(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 0 {
			fmt.Fprint(stderr, showUsage)
			return exitUsage
		}
		fmt.Fprint(stdout, showUsage)
		return exitOK
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"import": showImport, "validate": showValidate, "info": showInfo, "export": showExport, "upload": showUpload,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "groundstation show: unknown command %q (want import, validate, info, export or upload)\n", args[0])
		return exitUsage
	}
	err := cmd(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "groundstation show %s: %v\n", args[0], err)
		return exitUsage
	case errors.Is(err, errViolations):
		return exitFail
	default:
		fmt.Fprintf(stderr, "groundstation show %s: %v\n", args[0], err)
		return exitFail
	}
}

// errViolations: validate found violations, already printed.
var errViolations = errors.New("the show breaks its rules")

// parseFile parses flags and exactly one FILE argument, before or among
// the flags.
func parseFile(fs *flag.FlagSet, args []string, usage string) (string, error) {
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", usageErr("%w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return "", usageErr("want one FILE, got %d", len(files))
	}
	return files[0], nil
}

// placement is what a show file may lack, or an operator may change: the
// flags of import, validate and info.
type placement struct {
	fs          *flag.FlagSet
	origin      string
	orientation float64
	fence       string
	limits      show.Limits
	title       string
	keepRows    bool
}

func (p *placement) register(fs *flag.FlagSet) {
	p.fs = fs
	fs.StringVar(&p.origin, "origin", "", "place the show: `LAT,LON,AMSL` (degrees WGS 84, metres above mean sea level of Z = 0)")
	fs.Float64Var(&p.orientation, "orientation", 0, "direction of the show's X axis, `DEG` clockwise from true north")
	fs.StringVar(&p.fence, "fence", "", "geofence polygon in the show's frame, `X,Y;X,Y;X,Y…` metres (X north, Y west)")
	fs.Float64Var(&p.limits.MaxAltitude, "max-altitude", 0, "limit: altitude above the origin, `M`")
	fs.Float64Var(&p.limits.MaxSpeedXY, "max-speed-xy", 0, "limit: horizontal speed, `M/S`")
	fs.Float64Var(&p.limits.MaxSpeedUp, "max-speed-up", 0, "limit: climb speed, `M/S`")
	fs.Float64Var(&p.limits.MaxSpeedDown, "max-speed-down", 0, "limit: descent speed, `M/S`")
	fs.Float64Var(&p.limits.MaxAccel, "max-accel", 0, "limit: acceleration, `M/S²`")
	fs.Float64Var(&p.limits.MinDistance, "min-distance", 0, "limit: distance between any two drones, `M`")
	fs.StringVar(&p.title, "title", "", "the show's title, `TEXT`")
	fs.BoolVar(&p.keepRows, "keep-rows", false, "CSV: keep every row as a keyframe (default: drop rows within 1 mm of a straight segment)")
}

// apply sets on s what the flags given say, over what the file said.
func (p *placement) apply(s *show.Show) error {
	var err error
	p.fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		l := p.limits
		switch f.Name {
		case "origin":
			var o show.Origin
			if o, err = parseOrigin(p.origin); err == nil {
				s.Origin, s.HasOrigin = o, true
			}
		case "orientation":
			s.Orientation = p.orientation
		case "fence":
			var poly [][2]float64
			if poly, err = parseFence(p.fence); err == nil {
				s.Fence.Polygon = poly
			}
		case "title":
			s.Title = p.title
		case "max-altitude":
			s.Limits.MaxAltitude = l.MaxAltitude
		case "max-speed-xy":
			s.Limits.MaxSpeedXY = l.MaxSpeedXY
		case "max-speed-up":
			s.Limits.MaxSpeedUp = l.MaxSpeedUp
		case "max-speed-down":
			s.Limits.MaxSpeedDown = l.MaxSpeedDown
		case "max-accel":
			s.Limits.MaxAccel = l.MaxAccel
		case "min-distance":
			s.Limits.MinDistance = l.MinDistance
		}
	})
	if err != nil {
		return usageErr("%w", err)
	}
	s.Quantize()
	if err := s.Check(); err != nil {
		return usageErr("%w", err)
	}
	return nil
}

func parseOrigin(v string) (show.Origin, error) {
	parts := strings.Split(v, ",")
	if len(parts) != 3 {
		return show.Origin{}, fmt.Errorf("--origin %q: want LAT,LON,AMSL", v)
	}
	var f [3]float64
	for i, s := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return show.Origin{}, fmt.Errorf("--origin %q: %q is not a number", v, s)
		}
		f[i] = x
	}
	return show.Origin{Lat: f[0], Lon: f[1], AMSL: f[2]}, nil
}

func parseFence(v string) ([][2]float64, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil // no fence
	}
	var poly [][2]float64
	for _, pt := range strings.Split(v, ";") {
		xy := strings.Split(pt, ",")
		if len(xy) != 2 {
			return nil, fmt.Errorf("--fence: vertex %q: want X,Y", pt)
		}
		var p [2]float64
		for i, s := range xy {
			x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("--fence: vertex %q: %q is not a number", pt, s)
			}
			p[i] = x
		}
		poly = append(poly, p)
	}
	return poly, nil
}

// loadShow reads a show file of any kind: the project's format, .skyc,
// or CSV (a .zip, a .csv, a directory). It returns the importer's
// warnings.
func loadShow(path string, p *placement) (*show.Show, []string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	var s *show.Show
	var warns []string
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case st.IsDir() || ext == ".zip" || ext == ".csv":
		s, err = showcsv.Import(path, showcsv.Options{KeepRows: p.keepRows})
	case ext == ".skyc":
		s, warns, err = importSkyc(path)
	case ext == ShowExt:
		s, err = readShowFile(path)
	default:
		return nil, nil, fmt.Errorf("%s: not a show file: want %s, .skyc, .zip or .csv, or a directory of CSV files", path, ShowExt)
	}
	if err != nil {
		return nil, warns, err
	}
	if err := p.apply(s); err != nil {
		return nil, warns, err
	}
	return s, warns, nil
}

func readShowFile(path string) (*show.Show, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxShowFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxShowFile {
		return nil, fmt.Errorf("%s: more than %d bytes: not a show", path, maxShowFile)
	}
	s, err := show.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// writeAtomic writes data to path so that path holds either its old
// content or all of data, even across a crash: a temporary file in the
// same directory, synced, then renamed over path.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // the rename itself, durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}

const showImportUsage = `Usage: groundstation show import FILE --out OUT` + ShowExt + ` [flags]

Reads a .skyc, a CSV show (.zip, .csv or a directory) or a ` + ShowExt + ` file,
applies the flags given (they override what the file says), prints the
importer's warnings on stderr and writes the show in this project's format,
atomically. A show without an origin is refused: a CSV carries none, give
it with --origin.

Flags:
`

func showImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p placement
	p.register(fs)
	out := fs.String("out", "", "write the show to `FILE` (extension "+ShowExt+")")
	in, err := parseFile(fs, args, showImportUsage)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageErr("--out is required")
	}
	if !strings.EqualFold(filepath.Ext(*out), ShowExt) {
		return usageErr("--out %s: want a file ending in %s", *out, ShowExt)
	}
	s, warns, err := loadShow(in, &p)
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	if !s.HasOrigin {
		return usageErr("%s has no origin: pass --origin LAT,LON,AMSL to place the show on Earth", in)
	}
	b, err := s.Encode()
	if err != nil {
		return err
	}
	if err := writeAtomic(*out, b); err != nil {
		return err
	}
	h, _ := s.Hash()
	fmt.Fprintf(stdout, "wrote %s: %d drones, %s, %d bytes, hash %s, digest 0x%016x\n",
		*out, len(s.Drones), seconds(s.Duration().Seconds()), len(b), h, h.Digest())
	return nil
}

const showExportUsage = `Usage: groundstation show export FILE --csv OUT.zip [flags]

Writes the show as Blender's CSV export: a ZIP of one "Drone N.csv" per
drone, sampled every --period-ms and at every keyframe and light change.

Flags:
`

func showExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p placement
	p.register(fs)
	out := fs.String("csv", "", "write the ZIP of CSV files to `FILE`")
	period := fs.Float64("period-ms", showcsv.DefaultPeriod.Seconds()*1000, "sampling period, `MS`; 0: keyframes and light changes only")
	in, err := parseFile(fs, args, showExportUsage)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageErr("--csv is required")
	}
	if *period < 0 || *period > 3_600_000 {
		return usageErr("--period-ms %v: want 0 to 3600000", *period)
	}
	s, warns, err := loadShow(in, &p)
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	opt := showcsv.ExportOptions{Period: msDuration(*period)}
	if opt.Period == 0 {
		opt.Period = -1
	}
	var b bytes.Buffer
	if err := showcsv.ExportWith(&b, s, opt); err != nil {
		return err
	}
	if err := writeAtomic(*out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d drones, %d bytes\n", *out, len(s.Drones), b.Len())
	return nil
}
