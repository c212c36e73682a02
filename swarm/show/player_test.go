package show

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/swarm/command"
)

const s = int64(1_000_000_000) // one second in ns

// play applies cmds to a new Player, requiring every one to be accepted.
func play(t *testing.T, cmds ...command.Command) *Player {
	t.Helper()
	p := NewPlayer()
	for _, c := range cmds {
		require.NoError(t, p.Apply(c), "%s", c)
	}
	return p
}

// snapshot copies p deeply, to compare states.
func snapshot(p *Player) Player {
	c := *p
	c.pauses = slices.Clone(p.pauses)
	return c
}

// ready is LOAD, ARM, TAKEOFF; tests append to clones of it only.
var ready = []command.Command{
	command.Load{Show: 7, Digest: 0xabc}, command.Arm{}, command.Takeoff{AltitudeCM: 1050},
}

func TestPhaseNames(t *testing.T) {
	want := []string{"IDLE", "LOADED", "ARMED", "AIRBORNE", "RUNNING", "PAUSED", "LANDING", "RETURNING"}
	for i, name := range want {
		assert.Equal(t, name, Phase(i).String())
	}
	assert.Equal(t, "Phase(8)", Phase(8).String())
}

func TestBeforeStart(t *testing.T) {
	p := NewPlayer()
	assert.Equal(t, Idle, p.Phase(0))
	_, _, ok := p.Show()
	assert.False(t, ok)

	require.NoError(t, p.Apply(command.Load{Show: 7, Digest: 0xabc}))
	assert.Equal(t, Loaded, p.Phase(0))
	require.NoError(t, p.Apply(command.Load{Show: 8, Digest: 0xdef}), "replaces the show")
	id, digest, ok := p.Show()
	assert.Equal(t, []any{uint32(8), uint64(0xdef), true}, []any{id, digest, ok})

	require.NoError(t, p.Apply(command.Arm{}))
	assert.Equal(t, Armed, p.Phase(math.MaxInt64))
	assert.Zero(t, p.Altitude())
	require.NoError(t, p.Apply(command.Takeoff{AltitudeCM: 1050}))
	assert.Equal(t, Airborne, p.Phase(0))
	assert.Equal(t, 10.5, p.Altitude())
	_, ok = p.ShowTime(math.MaxInt64)
	assert.False(t, ok, "no START")
}

// Show time through a start, two pause/resume pairs and a pause in the
// future, then a resume and a LAND.
func TestShowTime(t *testing.T) {
	p := play(t, append(slices.Clone(ready),
		command.Start{At: 10 * s},
		command.Pause{At: 20 * s}, command.Resume{At: 25 * s},
		command.Pause{At: 40 * s}, command.Resume{At: 42 * s},
		command.Pause{At: 100 * s}, // in the future of the times below 100 s
	)...)
	type at struct {
		t     int64
		phase Phase
		show  int64
		ok    bool
	}
	check := func(t *testing.T, p *Player, want []at) {
		t.Helper()
		for _, w := range want {
			got, ok := p.ShowTime(w.t)
			assert.Equal(t, w, at{w.t, p.Phase(w.t), got, ok}, "at %s", command.Seconds(w.t))
		}
	}
	check(t, p, []at{
		{0, Airborne, 0, false},
		{10*s - 1, Airborne, 0, false},
		{10 * s, Running, 0, true},
		{15 * s, Running, 5 * s, true},
		{20*s - 1, Running, 10*s - 1, true},
		{20 * s, Paused, 10 * s, true},
		{22 * s, Paused, 10 * s, true},
		{25*s - 1, Paused, 10 * s, true},
		{25 * s, Running, 10 * s, true},
		{30 * s, Running, 15 * s, true},
		{40 * s, Paused, 25 * s, true},
		{41 * s, Paused, 25 * s, true},
		{42 * s, Running, 25 * s, true},
		{50 * s, Running, 33 * s, true},
		{99 * s, Running, 82 * s, true},
		{100 * s, Paused, 83 * s, true},
		{1000 * s, Paused, 83 * s, true},
		{math.MaxInt64, Paused, 83 * s, true},
	})

	require.NoError(t, p.Apply(command.Resume{At: 150 * s}))
	check(t, p, []at{
		{120 * s, Paused, 83 * s, true},
		{150 * s, Running, 83 * s, true},
		{160 * s, Running, 93 * s, true},
		{math.MaxInt64, Running, math.MaxInt64 - 10*s - 57*s, true},
	})

	// LAND freezes show time at the latest time of the log, 150 s.
	require.NoError(t, p.Apply(command.Land{}))
	check(t, p, []at{
		{0, Landing, 0, false},
		{30 * s, Landing, 0, false},
		{150 * s, Landing, 0, false},
		{160 * s, Landing, 0, false},
		{math.MaxInt64, Landing, 0, false},
	})
	require.NoError(t, p.Apply(command.Return{}), "the latest of LAND and RETURN wins")
	check(t, p, []at{{200 * s, Returning, 0, false}})
}

// A show may start from the ground, and a PAUSE at the START holds show
// time 0.
func TestStartFromGroundPauseAtStart(t *testing.T) {
	p := play(t, command.Load{Show: 1}, command.Arm{}, command.Start{At: 5 * s}, command.Pause{At: 5 * s})
	assert.Equal(t, Armed, p.Phase(5*s-1))
	assert.Equal(t, Paused, p.Phase(5*s))
	st, ok := p.ShowTime(60 * s)
	assert.Equal(t, []any{int64(0), true}, []any{st, ok})
	assert.Zero(t, p.Altitude())

	// A zero-length pause costs nothing.
	require.NoError(t, p.Apply(command.Resume{At: 5 * s}))
	require.NoError(t, p.Apply(command.Pause{At: 5 * s}))
	require.NoError(t, p.Apply(command.Resume{At: 6 * s}))
	st, _ = p.ShowTime(10 * s)
	assert.Equal(t, 4*s, st)
	assert.Equal(t, Running, p.Phase(6*s))
	assert.Equal(t, Paused, p.Phase(6*s-1))
}

// LAND and RETURN end the show: no show time after them, whatever the
// times the log names, and the phase is LANDING or RETURNING at every time.
func TestLandEndsTheShow(t *testing.T) {
	for _, cmds := range [][]command.Command{
		append(slices.Clone(ready), command.Start{At: 10 * s}, command.Pause{At: 30 * s}, command.Land{}),
		append(slices.Clone(ready), command.Start{At: 10 * s}, command.Return{}),
		{command.Load{}, command.Arm{}, command.Land{}},
	} {
		p := play(t, cmds...)
		end := cmds[len(cmds)-1].Kind()
		for _, at := range []int64{0, 5 * s, 20 * s, 1000 * s, math.MaxInt64} {
			_, ok := p.ShowTime(at)
			assert.False(t, ok, "%v at %s", cmds, command.Seconds(at))
			want := Landing
			if end == command.KindReturn {
				want = Returning
			}
			assert.Equal(t, want, p.Phase(at))
		}
	}
}

func TestLights(t *testing.T) {
	p := NewPlayer()
	r, g, b := p.Lights()
	assert.Equal(t, [3]uint8{}, [3]uint8{r, g, b})
	for _, cmds := range [][]command.Command{
		nil, ready, append(slices.Clone(ready), command.Start{At: 1}), {command.Load{}, command.Arm{}, command.Land{}},
	} {
		p := play(t, cmds...)
		require.NoError(t, p.Apply(command.Lights{R: 255, G: 0, B: 128}), "LIGHTS in %s", p.logPhase())
		r, g, b := p.Lights()
		assert.Equal(t, [3]uint8{255, 0, 128}, [3]uint8{r, g, b})
	}
}

func TestNotShow(t *testing.T) {
	p := play(t, ready...)
	before := snapshot(p)
	for _, c := range []command.Command{
		command.View{Epoch: 1, Retired: 2, Replacement: 3}, command.Activate{Epoch: 1, At: 5}, nil, &command.Start{At: 1},
	} {
		err := p.Apply(c)
		assert.ErrorIs(t, err, ErrNotShow, "%v", c)
		assert.NotErrorIs(t, err, ErrRefused)
	}
	assert.Equal(t, before, snapshot(p))
	assert.EqualError(t, p.Apply(command.View{Epoch: 1, Retired: 2, Replacement: 3}),
		"show: VIEW epoch 1: retire 2, replacement 3: the swarm's own command, for the airspace membership, not the player: show: not a show command")
}

// Every refusal names the command and the phase, and changes nothing.
func TestRefused(t *testing.T) {
	started := append(slices.Clone(ready), command.Start{At: 10 * s})
	paused := append(slices.Clone(started), command.Pause{At: 20 * s})
	resumed := append(slices.Clone(paused), command.Resume{At: 25 * s})
	for _, tc := range []struct {
		name  string
		setup []command.Command
		cmd   command.Command
		msg   string
	}{
		{"load armed", ready[:2:2], command.Load{Show: 9}, "LOAD show 9 digest 0x0000000000000000 refused in phase ARMED: a show is loaded before ARM only"},
		{"load airborne", ready, command.Load{Show: 9}, "in phase AIRBORNE"},
		{"load running", started, command.Load{Show: 9}, "in phase RUNNING"},
		{"load landing", append(slices.Clone(ready), command.Land{}), command.Load{Show: 9}, "in phase LANDING"},
		{"arm idle", nil, command.Arm{}, "ARM refused in phase IDLE: no show loaded; LOAD one first"},
		{"arm twice", ready[:2:2], command.Arm{}, "ARM refused in phase ARMED: already armed"},
		{"arm returning", append(slices.Clone(ready), command.Return{}), command.Arm{}, "ARM refused in phase RETURNING: already armed"},
		{"takeoff idle", nil, command.Takeoff{AltitudeCM: 500}, "TAKEOFF to 5.00m refused in phase IDLE: not armed; ARM first"},
		{"takeoff loaded", ready[:1:1], command.Takeoff{AltitudeCM: 500}, "in phase LOADED: not armed"},
		{"takeoff airborne", ready, command.Takeoff{AltitudeCM: 500}, "in phase AIRBORNE: already airborne"},
		{"takeoff after start", started, command.Takeoff{AltitudeCM: 500}, "in phase RUNNING: TAKEOFF comes before START"},
		{"takeoff after ground start", []command.Command{command.Load{}, command.Arm{}, command.Start{At: 100 * s}}, command.Takeoff{AltitudeCM: 500}, "in phase RUNNING"},
		{"takeoff 0", ready[:2:2], command.Takeoff{}, "TAKEOFF to 0.00m refused: command: malformed command: TAKEOFF to altitude 0"},
		{"start idle", nil, command.Start{At: s}, "START at 1.000s refused in phase IDLE: not armed; ARM first"},
		{"start loaded", ready[:1:1], command.Start{At: s}, "in phase LOADED: not armed"},
		{"start twice", started, command.Start{At: 50 * s}, "START at 50.000s refused in phase RUNNING: the show started at 10.000s; a show starts once"},
		{"start paused", paused, command.Start{At: 50 * s}, "in phase PAUSED: the show started"},
		{"start landing", append(slices.Clone(ready), command.Land{}), command.Start{At: 50 * s}, "in phase LANDING: the show is over"},
		{"start negative", ready, command.Start{At: -1}, "START at -0.000s refused: command: malformed command: START at -1 ns"},
		{"pause unstarted", ready, command.Pause{At: 20 * s}, "PAUSE at 20.000s refused in phase AIRBORNE: no show running; START first"},
		{"pause before start", started, command.Pause{At: 9 * s}, "PAUSE at 9.000s refused in phase RUNNING: before the START at 10.000s"},
		{"pause twice", paused, command.Pause{At: 30 * s}, "PAUSE at 30.000s refused in phase PAUSED: already paused at 20.000s; RESUME first"},
		{"pause before resume", resumed, command.Pause{At: 24 * s}, "PAUSE at 24.000s refused in phase RUNNING: before the last RESUME at 25.000s"},
		{"pause landing", append(slices.Clone(started), command.Land{}), command.Pause{At: 30 * s}, "in phase LANDING: no show running"},
		{"pause negative", started, command.Pause{At: -s}, "malformed command: PAUSE at -1000000000 ns"},
		{"resume unstarted", ready, command.Resume{At: 20 * s}, "RESUME at 20.000s refused in phase AIRBORNE: no show paused"},
		{"resume running", started, command.Resume{At: 20 * s}, "RESUME at 20.000s refused in phase RUNNING: not paused; PAUSE first"},
		{"resume twice", resumed, command.Resume{At: 30 * s}, "in phase RUNNING: not paused"},
		{"resume before pause", paused, command.Resume{At: 19 * s}, "RESUME at 19.000s refused in phase PAUSED: before the PAUSE at 20.000s"},
		{"resume returning", append(slices.Clone(paused), command.Return{}), command.Resume{At: 30 * s}, "in phase RETURNING: no show paused"},
		{"land idle", nil, command.Land{}, "LAND refused in phase IDLE: not armed; nothing to land"},
		{"return loaded", ready[:1:1], command.Return{}, "RETURN refused in phase LOADED: not armed; nothing to land"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := play(t, slices.Concat(tc.setup, []command.Command{command.Lights{R: 1, G: 2, B: 3}})...)
			before := snapshot(p)
			err := p.Apply(tc.cmd)
			require.ErrorIs(t, err, ErrRefused)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), tc.cmd.Kind().String())
			assert.Equal(t, before, snapshot(p), "state unchanged")
		})
	}
}

// A drone that restarts applies the log again from index 1, refused
// commands included, and must end where it was.
func TestReplay(t *testing.T) {
	log := append(slices.Clone(ready),
		command.Pause{At: 5 * s}, // refused: not started
		command.Lights{R: 9},
		command.Start{At: 10 * s},
		command.Start{At: 11 * s}, // refused
		command.Pause{At: 20 * s},
		command.Resume{At: 25 * s},
		command.View{Epoch: 1, Retired: 1, Replacement: 2}, // not a show command
		command.Pause{At: 40 * s},
		command.Resume{At: 42 * s},
		command.Pause{At: 100 * s},
		command.Resume{At: 90 * s}, // refused: before the pause
	)
	apply := func() (*Player, []string) {
		p := NewPlayer()
		var errs []string
		for _, c := range log {
			errs = append(errs, fmt.Sprint(p.Apply(c)))
		}
		return p, errs
	}
	p1, errs1 := apply()
	p2, errs2 := apply()
	assert.Equal(t, errs1, errs2)
	assert.Equal(t, snapshot(p1), snapshot(p2))
	for ts := int64(-s); ts <= 200*s; ts += s / 4 {
		st1, ok1 := p1.ShowTime(ts)
		st2, ok2 := p2.ShowTime(ts)
		require.Equal(t, []any{p1.Phase(ts), st1, ok1}, []any{p2.Phase(ts), st2, ok2}, "at %s", command.Seconds(ts))
	}
	st, _ := p1.ShowTime(200 * s)
	assert.Equal(t, 83*s, st)
	assert.Equal(t, 4, countRefused(errs1))
}

func countRefused(errs []string) int {
	n := 0
	for _, e := range errs {
		if e != "<nil>" {
			n++
		}
	}
	return n
}

// Random command sequences from a seeded source: refusals change nothing,
// a replay gives the same answers, show time never goes backwards nor runs
// faster than swarm time, and Phase agrees with ShowTime.
func TestRandomLogs(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x5e0))
		var log []command.Command
		p := NewPlayer()
		clock := int64(0)
		for range 40 {
			c := randomCommand(rng, &clock)
			before := snapshot(p)
			if err := p.Apply(c); err != nil {
				require.ErrorIs(t, err, ErrRefused, "seed=%d %s", seed, c)
				require.Equal(t, before, snapshot(p), "seed=%d %s", seed, c)
			}
			log = append(log, c)
		}
		q := NewPlayer()
		for _, c := range log {
			_ = q.Apply(c)
		}
		require.Equal(t, snapshot(p), snapshot(q), "seed=%d", seed)
		prev, prevOK := int64(0), false
		for ts := int64(0); ts <= 250*s; ts += s / 2 {
			st, ok := p.ShowTime(ts)
			qst, qok := q.ShowTime(ts)
			require.Equal(t, []any{st, ok}, []any{qst, qok}, "seed=%d", seed)
			require.False(t, prevOK && !ok, "seed=%d: show time lost at %s", seed, command.Seconds(ts))
			if ok && prevOK {
				require.GreaterOrEqual(t, st, prev, "seed=%d at %s", seed, command.Seconds(ts))
				require.LessOrEqual(t, st-prev, s/2, "seed=%d at %s", seed, command.Seconds(ts))
			}
			if ph := p.Phase(ts); ph == Running || ph == Paused {
				require.True(t, ok, "seed=%d: %s without show time at %s", seed, ph, command.Seconds(ts))
				next, _ := p.ShowTime(ts + s/2)
				require.Equal(t, ph == Paused, next == st, "seed=%d: %s at %s", seed, ph, command.Seconds(ts))
			}
			prev, prevOK = st, ok
		}
	}
}

// randomCommand draws a command; its times mostly follow *clock, which
// advances, and sometimes go back before it.
func randomCommand(rng *rand.Rand, clock *int64) command.Command {
	*clock += rng.Int64N(11) * s / 2
	at := *clock
	if rng.IntN(5) == 0 {
		at = max(0, at-rng.Int64N(10)*s)
	}
	switch rng.IntN(11) {
	case 0:
		return command.Load{Show: rng.Uint32N(3)}
	case 1:
		return command.Arm{}
	case 2:
		return command.Takeoff{AltitudeCM: uint16(rng.IntN(3))}
	case 3:
		return command.Start{At: at}
	case 4, 5:
		return command.Pause{At: at}
	case 6, 7:
		return command.Resume{At: at}
	case 8:
		if rng.IntN(10) == 0 {
			return command.Land{}
		}
		return command.Lights{R: uint8(rng.UintN(256))}
	case 9:
		if rng.IntN(10) == 0 {
			return command.Return{}
		}
		return command.Arm{}
	}
	return command.Lights{G: 1}
}

// FlightTime against hand-computed integrals of the rate: START at 10 s,
// PAUSE at 20 s, RESUME at 25 s, PAUSE at 30 s, RESUME at 31 s.
func TestFlightTimeBrakes(t *testing.T) {
	p := NewPlayer()
	for _, c := range []command.Command{
		command.Load{Show: 1}, command.Arm{}, command.Start{At: 10e9},
		command.Pause{At: 20e9}, command.Resume{At: 25e9}, command.Pause{At: 30e9}, command.Resume{At: 31e9},
	} {
		if err := p.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		at, st int64
		rate   float64
	}{
		{9e9, 0, 0},
		{15e9, 5e9, 1},
		{20e9, 10e9, 1},
		// Braking: rate 1 − (t−20)/2; 1 s in: ∫ = 1 − ¼ = 0.75 s.
		{21e9, 10.75e9, 0.5},
		// Stopped 2 s after the PAUSE, Brake/2 = 1 s of show time on.
		{22e9, 11e9, 0},
		{25e9, 11e9, 0},
		// Speeding up: rate (t−25)/2; 1 s in: ∫ = ¼ s.
		{26e9, 11.25e9, 0.5},
		// The whole ramp, 25–27 s: ∫ = 1 s.
		{27e9, 12e9, 1},
		// Full speed 27–30 s: 15 s at the second PAUSE. RESUME 1 s later
		// at rate ½: ∫ over that second = 0.75 s; then up from ½ to 1
		// over 1 s: ∫ = 0.75 s; then full speed.
		{31e9, 15.75e9, 0.5},
		{32e9, 16.5e9, 1},
		{40e9, 24.5e9, 1},
	} {
		st, rate, ok := p.FlightTime(c.at)
		if c.at < 10e9 {
			if ok {
				t.Errorf("flight time before the start: %v", st)
			}
			continue
		}
		if !ok || abs(st-c.st) > 1 || math.Abs(rate-c.rate) > 1e-9 {
			t.Errorf("FlightTime(%.1f s) = %.4f s at rate %.3f, %v; want %.4f s at rate %.3f", float64(c.at)/1e9, float64(st)/1e9, rate, ok, float64(c.st)/1e9, c.rate)
		}
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
