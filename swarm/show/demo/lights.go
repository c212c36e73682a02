package demo

import (
	"math"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// timeline holds the show times the light programs follow.
type timeline struct {
	takeoff     time.Duration // the climb ends
	wall        time.Duration // the wall stands: the heart, then the ring
	hold        time.Duration // how long each picture holds
	stretch     time.Duration // the wall stretches: the wave
	unstretched time.Duration // the wall is back: the descent
	land        time.Duration // the carpet descends to the homes
	end         time.Duration // every drone is down
}

// Colours of the demo.
var (
	dimWhite = show.RGB{R: 60, G: 60, B: 60}
	blue     = show.RGB{R: 0, G: 40, B: 160}
	red      = show.RGB{R: 230, G: 0, B: 30}
	night    = show.RGB{R: 20, G: 0, B: 60}
	gold     = show.RGB{R: 255, G: 170, B: 0}
	teal     = show.RGB{R: 0, G: 50, B: 50}
	cyan     = show.RGB{R: 0, G: 200, B: 255}
	magenta  = show.RGB{R: 230, G: 0, B: 180}
	warm     = show.RGB{R: 140, G: 110, B: 60}
	black    = show.RGB{}
)

const (
	// wavePeriod is the time of one cyan-magenta cycle of the wave,
	// waveLength the wall's width it spans.
	wavePeriod = 4 * time.Second
	waveLength = 60.0
	// pictureFade is how long the wall takes to fade into a picture.
	pictureFade = 2 * time.Second
)

// picture returns drone i's colours in the heart and in the ring, drawn on
// the wall (the grid's rows give the height, its columns the width).
func picture(g grid, i int) (heart, ring show.RGB) {
	qx, qy := g.q(i)
	r := max(g.hx, Spacing)
	// Heart curve (x² + y² − 1)³ ≤ x²·y³, about 2.3 wide and 2.2 high.
	x, y := 1.2*qy/r, 1.2*qx/r+0.1
	heart = night
	if a := x*x + y*y - 1; a*a*a <= x*x*y*y*y {
		heart = red
	}
	ring = teal
	if d := math.Hypot(qx, qy) / r; d >= 0.55 && d <= 1.05 {
		ring = gold
	}
	return heart, ring
}

// lights returns drone i's light program. Its steps follow each other
// without gaps, since every time of the timeline is a whole number of
// light units; the program ends, black, when the drone lands.
func lights(g grid, i int, tl timeline) show.Program {
	heart, ring := picture(g, i)
	var p show.Program
	p = p.Fade(dimWhite, tl.takeoff)
	p = p.Fade(blue, tl.wall-tl.takeoff)
	p = p.Fade(heart, pictureFade).Sleep(tl.hold - pictureFade)
	p = p.Fade(ring, pictureFade).Sleep(tl.hold - pictureFade)
	// The wave runs west to east: each column starts it a little later.
	_, qy := g.q(i)
	phase := time.Duration(math.Mod(g.hy-qy, waveLength) / waveLength * float64(wavePeriod))
	phase = phase / show.LightUnit * show.LightUnit
	p = p.Sleep(phase)
	if cycles := min((tl.unstretched-tl.stretch-phase)/wavePeriod, 255); cycles > 0 {
		p = p.Loop(uint8(cycles), show.Program{}.Fade(cyan, wavePeriod/2).Fade(magenta, wavePeriod/2))
	}
	p = p.WaitUntil(tl.unstretched)
	p = p.Fade(warm, tl.land-tl.unstretched)
	p = p.Fade(black, tl.end-tl.land)
	return p.End()
}
