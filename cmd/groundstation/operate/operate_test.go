package operate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
)

// fake is a ground station that answers from fixed data.
type fake struct {
	mu       sync.Mutex
	snap     station.Snapshot
	swarmNow time.Time
	synced   bool
	sent     []command.Command
	progress station.Progress
	refuse   error
	// ackAfter makes every live drone acknowledge an emergency command
	// this many snapshots after it was sent (0: never).
	ackAfter int
	emID     uint32
	polls    int
}

func (f *fake) Snapshot() station.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.emID != 0 && f.ackAfter > 0 {
		f.polls++
		if f.polls >= f.ackAfter {
			for i := range f.snap.Drones {
				if f.snap.Drones[i].Live {
					f.snap.Drones[i].EmergencyAck = f.emID
				}
			}
		}
	}
	// A copy, as the station's is: the test changes the drones while a
	// command reads them.
	sn := f.snap
	sn.Drones = slices.Clone(f.snap.Drones)
	return sn
}

func (f *fake) SwarmTime(time.Time) (time.Time, time.Duration, bool) {
	return f.swarmNow, 3 * time.Millisecond, f.synced
}

func (f *fake) Send(_ context.Context, c command.Command) (station.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return station.Result{}, f.refuse
	}
	f.sent = append(f.sent, c)
	return station.Result{Seq: 1, Index: f.progress.Index, Term: 2, Leader: 1, Attempts: 1}, nil
}

func (f *fake) WaitApplied(ctx context.Context, index uint32) (station.Progress, error) {
	p := f.progress
	if len(p.Pending) > 0 {
		<-ctx.Done()
		return p, fmt.Errorf("%w: %w", station.ErrNotApplied, ctx.Err())
	}
	return p, nil
}

func (f *fake) Emergency(_ context.Context, op emergency.Op) (emergency.Command, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emID = 1000
	return emergency.Command{Issuer: 65000, ID: f.emID, Op: op}, nil
}

// picture is a network of four drones: 1 leads and is ready, 2 fails
// its GPS preflight check, 3 has been silent for 12 s, 4 was never heard.
// testShow is the digest of the show the live drones of picture hold
// and have loaded.
const testShow = 0x1122334455667788

func picture() station.Snapshot {
	return station.Snapshot{
		Network: 0, Issuer: 65000, Leader: 1, Term: 2, LeaderHeard: 400 * time.Millisecond,
		SwarmTime: time.Date(2026, 6, 1, 21, 30, 0, 0, time.UTC), TimeBound: 3 * time.Millisecond, TimeSynced: true,
		StatusPeriod: time.Second, Live: 5 * time.Second,
		Drones: []station.Drone{
			{ID: 1, SystemID: 1, Reported: true, State: swarm.SWARM_MEMBER_STATE_STANDBY, Leading: true, Leader: 1, Term: 2,
				Battery: 97, GPSFix: 3, Satellites: 14, X: 1, Y: -2, Z: 0.1, Loss: 2, Retransmits: 1, Cell: 7, Cells: 2,
				Color: [3]uint8{255, 0, 128}, Age: 400 * time.Millisecond, Live: true, Statuses: 9, Frames: 30,
				Show: testShow, Flags: swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED},
			{ID: 2, SystemID: 2, Reported: true, State: swarm.SWARM_MEMBER_STATE_STANDBY, Leader: 1, Term: 2,
				Battery: 80, GPSFix: 1, Satellites: 3, Cell: station.NoCell, Preflight: 2,
				Show: testShow, Flags: swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED,
				Age: 900 * time.Millisecond, Live: true, Statuses: 9, Frames: 30},
			{ID: 3, SystemID: 3, Reported: true, State: swarm.SWARM_MEMBER_STATE_STANDBY, Leader: 1, Term: 2,
				Battery: -1, Satellites: -1, Cell: station.NoCell, Age: 12 * time.Second, Live: false, Statuses: 4, Frames: 10},
			{ID: 4, Battery: -1, Satellites: -1, Cell: station.NoCell, Heard: -1},
		},
	}
}

// serve starts a server with f on a socket in a temporary directory.
func serve(t *testing.T, f *fake) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gs.sock")
	ln, err := Listen(path)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&Server{Backend: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Unix(0, 0) }, Poll: time.Millisecond}).Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return path
}

func do(t *testing.T, path string, req Request) Response {
	t.Helper()
	c, err := Dial(path)
	require.NoError(t, err)
	defer c.Close()
	resp, err := c.Do(context.Background(), req)
	require.NoError(t, err)
	return resp
}

// The socket is the user's alone, answers a status with the picture, and
// refuses a second server while the first runs.
func TestSocketStatus(t *testing.T) {
	f := &fake{snap: picture(), synced: true}
	path := serve(t, f)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	resp := do(t, path, Request{Op: OpStatus})
	require.True(t, resp.OK, resp.Error)
	require.NotNil(t, resp.Status)
	assert.Equal(t, uint16(1), resp.Status.Leader)
	ids := []uint16{}
	for _, d := range resp.Status.Drones {
		ids = append(ids, d.ID)
	}
	assert.Equal(t, []uint16{2, 3, 4, 1}, ids, "not-ready drones first")
	assert.Equal(t, int64(400), resp.Status.Drones[3].AgeMS)
	assert.Equal(t, int64(12000), resp.Status.Drones[1].AgeMS)
	assert.Equal(t, int64(-1), resp.Status.Drones[2].AgeMS)

	_, err = Listen(path)
	assert.ErrorIs(t, err, ErrAlreadyRunning)
}

// A stale socket file is replaced, a file that is not a socket is not,
// and a client finds no server where there is none and says how to
// start one.
func TestSocketStaleAndMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gs.sock")
	_, err := Dial(path)
	require.ErrorIs(t, err, ErrNotRunning)
	assert.Contains(t, err.Error(), "start one with groundstation connect")

	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the file, as a killed process does
	_, err = Dial(path)
	require.ErrorIs(t, err, ErrNotRunning)
	ln2, err := Listen(path)
	require.NoError(t, err)
	ln2.Close()

	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("x"), 0o600))
	_, err = Listen(plain)
	assert.ErrorContains(t, err, "is not a socket")
}

// Requests are JSON lines; several go on one connection, and a line
// that is not a request is answered with an error, not a hang-up.
func TestSocketLines(t *testing.T) {
	path := serve(t, &fake{snap: picture()})
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	for _, tc := range []struct {
		line, err string
	}{
		{`not json`, "not a request"},
		{`{"op":"dance"}`, `unknown op "dance"`},
		{`{"op":"status"}`, ""},
		{`{"op":"command","command":"JUMP"}`, "JUMP is not a command"},
		{`{"op":"command","command":"ARM","at":"+5s"}`, "takes no swarm time"},
		{`{"op":"emergency","command":"START"}`, "use HOLD, LAND or RETURN"},
	} {
		_, err := fmt.Fprintln(c, tc.line)
		require.NoError(t, err)
		line, err := r.ReadBytes('\n')
		require.NoError(t, err)
		var resp Response
		require.NoError(t, json.Unmarshal(line, &resp))
		if tc.err == "" {
			assert.True(t, resp.OK, tc.line)
			continue
		}
		assert.False(t, resp.OK, tc.line)
		assert.Contains(t, resp.Error, tc.err, tc.line)
	}
}

// A command applied by every drone is OK with the count; one that live
// drones have not applied when the timeout ends is not, and the error
// names the pending and the silent drones.
func TestSocketCommand(t *testing.T) {
	f := &fake{snap: picture(), synced: true, progress: station.Progress{Index: 5, Applied: []uint16{1, 2, 3}}}
	path := serve(t, f)
	resp := do(t, path, Request{Op: OpCommand, Command: "lights 255 0 128"})
	require.True(t, resp.OK, resp.Error)
	assert.Equal(t, command.Lights{R: 255, B: 128}, f.sent[0])
	assert.Equal(t, uint32(5), resp.Result.Index)
	assert.Equal(t, []uint16{1, 2, 3}, resp.Result.Applied)
	assert.True(t, resp.Result.Accepted)

	f.progress = station.Progress{Index: 6, Applied: []uint16{1}, Pending: []uint16{2}, Silent: []uint16{3, 4}}
	resp = do(t, path, Request{Op: OpCommand, Command: "ARM", TimeoutMS: 20})
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "pending (live, not applied yet): 2")
	assert.Contains(t, resp.Error, "silent (not heard lately): 3 4")
	assert.Contains(t, resp.Error, "1 applied")
	assert.Equal(t, []uint16{2}, resp.Result.Pending)

	// Applied by every live drone, but a silent one missed it.
	f.progress = station.Progress{Index: 7, Applied: []uint16{1, 2}, Silent: []uint16{3}}
	resp = do(t, path, Request{Op: OpCommand, Command: "LAND"})
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "silent (not heard lately): 3")

	f.refuse = fmt.Errorf("%w: no drone answered", station.ErrNoLeader)
	resp = do(t, path, Request{Op: OpCommand, Command: "ARM", TimeoutMS: 20})
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "ARM was not committed by the leader")
	assert.Contains(t, resp.Error, "no leader known")
	assert.False(t, resp.Result.Accepted)
}

// START, PAUSE and RESUME take their swarm time from At: an offset from
// the station's swarm time now, or an absolute time; never before the
// station has heard the leader's time.
func TestSocketSwarmTime(t *testing.T) {
	now := time.Date(2026, 6, 1, 21, 30, 0, 0, time.UTC)
	f := &fake{snap: picture(), swarmNow: now, progress: station.Progress{Index: 9, Applied: []uint16{1, 2, 3}}}
	path := serve(t, f)
	resp := do(t, path, Request{Op: OpCommand, Command: "START", At: "+10s"})
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "has not heard the leader's swarm time yet")
	require.Empty(t, f.sent)

	f.synced = true
	resp = do(t, path, Request{Op: OpCommand, Command: "START", At: "+10s"})
	require.True(t, resp.OK, resp.Error)
	assert.Equal(t, command.Start{At: now.Add(10 * time.Second).UnixNano()}, f.sent[0])
	assert.Equal(t, now.Add(10*time.Second), resp.Result.At.UTC())

	resp = do(t, path, Request{Op: OpCommand, Command: "pause", At: "2026-06-01T21:31:00.25Z"})
	require.True(t, resp.OK, resp.Error)
	assert.Equal(t, command.Pause{At: now.Add(60*time.Second + 250*time.Millisecond).UnixNano()}, f.sent[1])

	for _, tc := range []struct{ cmd, at, err string }{
		{"RESUME", "", "needs a swarm time"},
		{"RESUME", "2026-06-01T21:29:00Z", "is in the past"},
		{"RESUME", "+-3s", "give a positive offset"},
		{"RESUME", "soon", "give an offset such as +10s"},
		{"START 12", "+1s", "not in the command"},
	} {
		resp := do(t, path, Request{Op: OpCommand, Command: tc.cmd, At: tc.at})
		assert.False(t, resp.OK, "%+v", tc)
		assert.Contains(t, resp.Error, tc.err, "%+v", tc)
	}
	assert.Len(t, f.sent, 2)
}

// An emergency command is OK once every live drone acknowledged it; the
// silent and never-heard drones are named.
func TestSocketEmergency(t *testing.T) {
	f := &fake{snap: picture(), ackAfter: 3}
	path := serve(t, f)
	resp := do(t, path, Request{Op: OpEmergency, Command: "hold", TimeoutMS: 2000})
	require.NotNil(t, resp.Result)
	assert.Equal(t, uint32(1000), resp.Result.ID)
	assert.Equal(t, []uint16{1, 2}, resp.Result.Applied)
	assert.Empty(t, resp.Result.Pending)
	assert.Equal(t, []uint16{3, 4}, resp.Result.Silent)
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "emergency HOLD not acknowledged by every drone")
	assert.Contains(t, resp.Error, "silent (not heard lately): 3 4")

	// Every drone live: acknowledged by all.
	f2 := &fake{snap: picture(), ackAfter: 2}
	f2.snap.Drones = f2.snap.Drones[:2]
	resp = do(t, serve(t, f2), Request{Op: OpEmergency, Command: "LAND", TimeoutMS: 2000})
	require.True(t, resp.OK, resp.Error)
	assert.Equal(t, []uint16{1, 2}, resp.Result.Applied)
}

// The table lists the drones that are not ready first, marks the leader,
// and gives each drone's data age.
func TestTable(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, StatusOf(picture())))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 7, b.String())
	assert.Equal(t, "network 0: leader 1 (term 2, heard 0.4s ago); swarm time 21:30:00.0 ±3ms; 1 of 4 drones ready", lines[0])
	assert.Equal(t, "show 0x1122334455667788 (loaded) held by 2 drones: 1 2", lines[1])
	lines = append(lines[:1], lines[2:]...)
	assert.Regexp(t, `^ID +STATE +LDR +BATT +GPS +POSITION \(m\) +LOSS +RETX +CELLS +COLOUR +PREFLIGHT +AGE +NOT READY$`, lines[1])
	assert.Regexp(t, `^2 +standby +80% +nofix/3 +0\.0,0\.0,0\.0 +0% +0 +- +#000000 +gps-fix +0\.9s +preflight: gps-fix$`, lines[2])
	assert.Regexp(t, `^3 +standby +\? +none/\? .* +12\.0s +silent for 12s$`, lines[3])
	assert.Regexp(t, `^4 +- +(- +){9}never heard$`, lines[4])
	assert.Regexp(t, `^1 +standby +\* +97% +3D/14 +1\.0,-2\.0,0\.1 +2% +1 +7\+1 +#ff0080 +ok +0\.4s$`, lines[5])
}

// Problems that make a drone not ready, one by one.
func TestReady(t *testing.T) {
	base := picture().Drones[0]
	for _, tc := range []struct {
		name string
		edit func(*station.Drone)
		want []string
	}{
		{"ready", func(*station.Drone) {}, nil},
		{"booting", func(d *station.Drone) { d.State = swarm.SWARM_MEMBER_STATE_BOOTING }, []string{"booting"}},
		{"failsafe", func(d *station.Drone) { d.State = swarm.SWARM_MEMBER_STATE_FAILSAFE }, []string{"failsafe"}},
		{"battery check", func(d *station.Drone) { d.Preflight = 4 }, []string{"preflight: battery"}},
		{"emergency", func(d *station.Drone) { d.Flags |= swarm.SWARM_MEMBER_FLAGS_EMERGENCY }, []string{"emergency"}},
		{"heard, no status", func(d *station.Drone) { *d = station.Drone{ID: 1, Heard: time.Second} }, []string{"no status yet"}},
		{"silent and failing", func(d *station.Drone) { d.Live, d.Age, d.Preflight = false, 6500*time.Millisecond, 99 },
			[]string{"silent for 6.5s", "preflight: check-99"}},
	} {
		d := base
		tc.edit(&d)
		sn := picture()
		sn.Drones = []station.Drone{d}
		st := StatusOf(sn)
		assert.Equal(t, tc.want, st.Drones[0].Problems, tc.name)
		assert.Equal(t, tc.want == nil, st.Drones[0].Ready, tc.name)
	}
}

// What connect prints as the picture changes.
func TestChanges(t *testing.T) {
	empty := StatusOf(station.Snapshot{Drones: []station.Drone{{ID: 1, Heard: -1}, {ID: 2, Heard: -1}}})
	assert.Empty(t, Changes(nil, empty))
	keep := func(st Status) Status { // drones 2 and 1, both live
		st.Drones = []Drone{st.Drones[0], st.Drones[3]}
		return st
	}
	full := keep(StatusOf(picture()))
	assert.Equal(t, []string{
		"leader 1 (term 2)",
		"swarm time synced with leader 1 (±3ms)",
		"drone 1 reporting (system 1, standby)",
		"drone 2 reporting (system 2, standby)",
		"all 2 drones reporting",
	}, Changes(&empty, full))
	assert.Empty(t, Changes(&full, full))

	later := keep(StatusOf(picture()))
	later.Leader, later.Term = 2, 3
	later.Drones[1].Live, later.Drones[1].AgeMS = false, 5200
	assert.Equal(t, []string{"new leader 2 (term 3), was 1", "drone 1 silent: last status 5.2s ago"}, Changes(&full, later))
	assert.Equal(t, []string{"new leader 1 (term 2), was 2", "drone 1 reporting again", "all 2 drones reporting"}, Changes(&later, full))
}

func TestParseMembers(t *testing.T) {
	got, err := ParseMembers("3,1-2, 7-8,2")
	require.NoError(t, err)
	assert.Equal(t, []uint16{1, 2, 3, 7, 8}, got)
	for _, bad := range []string{"", "0", "5-3", "a", "1-65535", "1,,2"} {
		_, err := ParseMembers(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseAt(t *testing.T) {
	off, abs, err := ParseAt("+1m30s")
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, off)
	assert.True(t, abs.IsZero())
	_, abs, err = ParseAt("2026-06-01T21:30:00Z")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 6, 1, 21, 30, 0, 0, time.UTC), abs.UTC())
	for _, bad := range []string{"10s", "+0s", "+", "tomorrow"} {
		_, _, err := ParseAt(bad)
		assert.Error(t, err, bad)
	}
}

// A client whose context ends stops waiting.
func TestClientContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gs.sock")
	ln, err := Listen(path)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second) // never answers in time
		}
	}()
	c, err := Dial(path)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Do(ctx, Request{Op: OpStatus})
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

// What command prints, and connect logs, of a result.
func TestSummary(t *testing.T) {
	at := time.Date(2026, 6, 1, 21, 30, 10, 0, time.UTC)
	for _, tc := range []struct {
		r    Result
		want []string
	}{
		{Result{Command: "ARM", Accepted: true, Index: 2, Term: 1, Leader: 4, Applied: []uint16{1, 2, 3, 4}, Pending: []uint16{}, ElapsedMS: 940},
			[]string{"ARM committed at index 2 by leader 4 (term 1)", "applied by 4 of 4 drones in 0.9s"}},
		{Result{Command: "START at 1780349410.000s", Accepted: true, Index: 3, Term: 1, Leader: 4, At: &at, Applied: []uint16{1}, Silent: []uint16{2}, ElapsedMS: 1500},
			[]string{"START at 1780349410.000s committed at index 3 by leader 4 (term 1), at swarm time 21:30:10.000", "applied by 1 of 2 drones in 1.5s"}},
		{Result{Command: "ARM"}, []string{"ARM not committed"}},
		{Result{Command: "HOLD", Emergency: true, ID: 99, Applied: []uint16{1}, Pending: []uint16{2, 3}, ElapsedMS: 2000},
			[]string{"emergency HOLD (id 99) sent to every drone", "acknowledged by 1 of 3 drones in 2.0s"}},
	} {
		assert.Equal(t, tc.want, tc.r.Summary())
	}
}

// The server reports every command it answered, and not the status
// requests.
func TestServerReport(t *testing.T) {
	f := &fake{snap: picture(), progress: station.Progress{Index: 5, Applied: []uint16{1, 2, 3}}}
	var got []string
	srv := &Server{Backend: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Report: func(req Request, resp Response) {
		got = append(got, fmt.Sprintf("%s %s ok=%v", req.Op, req.Command, resp.OK))
	}}
	srv.Handle(context.Background(), Request{Op: OpStatus})
	srv.Handle(context.Background(), Request{Op: OpCommand, Command: "ARM"})
	srv.Handle(context.Background(), Request{Op: OpCommand, Command: "JUMP"})
	assert.Equal(t, []string{"command ARM ok=true", "command JUMP ok=false"}, got)
}

// Which live drones hold which show: one line a show, the loaded one
// marked, the drones that hold none last; nothing while no drone holds
// a show.
func TestShows(t *testing.T) {
	sn := picture()
	sn.Drones[1].Show, sn.Drones[1].Flags = 0x99, 0
	sn.Drones = append(sn.Drones, station.Drone{ID: 5, Reported: true, Live: true},
		station.Drone{ID: 6, Reported: true, Live: true, Show: 0x99})
	st := StatusOf(sn)
	assert.Equal(t, []string{
		"show 0x0000000000000099 held by 2 drones: 2 6",
		"show 0x1122334455667788 (loaded) held by 1 drones: 1",
		"no show held by 1 drones: 5",
	}, st.Shows())
	for _, d := range st.Drones {
		switch d.ID {
		case 1:
			assert.Equal(t, "0x1122334455667788", d.Show)
			assert.True(t, d.ShowLoaded)
		case 5:
			assert.Equal(t, "", d.Show)
			assert.False(t, d.ShowLoaded)
		}
	}
	for i := range sn.Drones {
		sn.Drones[i].Show = 0
	}
	assert.Empty(t, StatusOf(sn).Shows())
}

// A LOAD goes out only once every live drone reports holding the show it
// names: it waits for the drones' statuses, and at its timeout it is not
// sent, naming the drones that lack it and what they hold. An ARM goes
// out only when every live drone holds the loaded show. A silent drone
// does not hold the gate.
func TestShowGate(t *testing.T) {
	f := &fake{snap: picture(), synced: true, progress: station.Progress{Index: 5, Applied: []uint16{1, 2}}}
	path := serve(t, f)
	load := fmt.Sprintf("LOAD 1 %#016x", uint64(0xAABB))
	f.mu.Lock()
	f.snap.Drones[1].Show, f.snap.Drones[1].Flags = 0, 0
	f.mu.Unlock()
	resp := do(t, path, Request{Op: OpCommand, Command: load, TimeoutMS: 50})
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "LOAD show 1 digest 0x000000000000aabb was not sent")
	assert.Contains(t, resp.Error, "2 live drones lack show 0x000000000000aabb: 1 (holds 0x1122334455667788), 2 (holds none)")
	assert.Equal(t, []uint16{1, 2}, resp.Result.Lacking)
	assert.False(t, resp.Result.Accepted)
	assert.Equal(t, "LOAD show 1 digest 0x000000000000aabb not sent: drones 1 2 lack the show", resp.Result.Summary()[0])
	assert.Empty(t, f.sent)

	resp = do(t, path, Request{Op: OpCommand, Command: "ARM", TimeoutMS: 50})
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "1 live drones lack the loaded show: 2 (holds none)")
	assert.Equal(t, []uint16{2}, resp.Result.Lacking)
	assert.Empty(t, f.sent)

	resp = do(t, path, Request{Op: OpCommand, Command: "LOAD 1", TimeoutMS: 50})
	require.False(t, resp.OK)
	assert.Contains(t, resp.Error, "names no digest")
	assert.Empty(t, f.sent)

	// The drones report the show while the LOAD waits: it goes out.
	go func() {
		time.Sleep(20 * time.Millisecond)
		f.mu.Lock()
		defer f.mu.Unlock()
		for i := range f.snap.Drones {
			f.snap.Drones[i].Show = 0xAABB
		}
	}()
	resp = do(t, path, Request{Op: OpCommand, Command: load, TimeoutMS: 5000})
	require.True(t, resp.OK, resp.Error)
	require.Len(t, f.sent, 1)
	assert.Equal(t, command.Load{Show: 1, Digest: 0xAABB}, f.sent[0])
	assert.Empty(t, resp.Result.Lacking)
}
