package operate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
)

// Backend is what the server needs of a ground station; a
// *station.Station is one.
type Backend interface {
	Snapshot() station.Snapshot
	SwarmTime(now time.Time) (t time.Time, bound time.Duration, synced bool)
	Send(ctx context.Context, c command.Command) (station.Result, error)
	WaitApplied(ctx context.Context, index uint32) (station.Progress, error)
	Emergency(ctx context.Context, op emergency.Op) (emergency.Command, error)
}

var _ Backend = (*station.Station)(nil)

// Server answers the requests of the control socket with a Backend.
type Server struct {
	// Backend is the ground station.
	Backend Backend
	// Now reads the clock the backend's swarm time is computed from
	// (optional, default time.Now).
	Now func() time.Time
	// Logger receives each command and its outcome (optional, default
	// slog.Default()).
	Logger *slog.Logger
	// Poll is how often an emergency command's acknowledgements are
	// checked (optional, default 100 ms).
	Poll time.Duration
	// Report is called with every command and emergency request and its
	// response, once answered (optional): connect prints them.
	Report func(Request, Response)
}

// Serve answers the connections of ln until ctx ends, then closes ln
// and waits for the requests under way, which ctx's end cancels.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var err error
	for {
		var c net.Conn
		c, err = ln.Accept()
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, c)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("operate: %w", err)
}

// serveConn answers one connection's requests in turn.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReaderSize(c, 64<<10)
	enc := json.NewEncoder(c)
	for {
		line, err := readLine(r)
		if err != nil {
			return
		}
		var req Request
		var resp Response
		if err := json.Unmarshal(line, &req); err != nil {
			resp = Response{Error: fmt.Sprintf("not a request: %v; send one JSON object a line, such as {\"op\":\"status\"}", err)}
		} else {
			resp = s.Handle(ctx, req)
		}
		if err := enc.Encode(resp); err != nil {
			return
		}
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Handle answers one request.
func (s *Server) Handle(ctx context.Context, req Request) Response {
	switch req.Op {
	case OpStatus:
		st := StatusOf(s.Backend.Snapshot())
		return Response{OK: true, Status: &st}
	case OpCommand, OpEmergency:
		var resp Response
		if req.Op == OpCommand {
			resp = s.command(ctx, req)
		} else {
			resp = s.emergency(ctx, req)
		}
		if s.Report != nil {
			s.Report(req, resp)
		}
		return resp
	case OpUpload, OpUploadStatus:
		return s.upload(req)
	}
	return Response{Error: fmt.Sprintf("unknown op %q: use %q, %q, %q, %q or %q", req.Op, OpStatus, OpCommand, OpEmergency, OpUpload, OpUploadStatus)}
}

// timeout is the request's time limit: its own, or enough for two status
// periods of every drone after the leader commits.
func (s *Server) timeout(req Request) time.Duration {
	if req.TimeoutMS > 0 {
		return time.Duration(req.TimeoutMS) * time.Millisecond
	}
	return DefaultTimeout(s.Backend.Snapshot().StatusPeriod)
}

// DefaultTimeout is the wait for a command when none is given: 2 status
// periods and 10 s, for the commit and every drone's next status.
func DefaultTimeout(statusPeriod time.Duration) time.Duration {
	return 2*statusPeriod + 10*time.Second
}

// command sends an operator's command and waits until it is applied.
func (s *Server) command(ctx context.Context, req Request) Response {
	began := s.now()
	c, at, err := s.resolve(req)
	if err != nil {
		return Response{Error: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout(req))
	defer cancel()
	res := &Result{Command: c.String(), At: at}
	if err := s.showGate(ctx, c); err != nil {
		res.Lacking = nonNil(station.Lacking(s.Backend.Snapshot(), c))
		res.ElapsedMS = s.now().Sub(began).Milliseconds()
		s.log().Warn("operate: command not sent", "cmd", c.String(), "err", err)
		return Response{Error: fmt.Sprintf("%s was not sent: %v", c, err), Result: res}
	}
	r, err := s.Backend.Send(ctx, c)
	if err != nil {
		res.ElapsedMS = s.now().Sub(began).Milliseconds()
		s.log().Warn("operate: command not accepted", "cmd", c.String(), "err", err)
		return Response{Error: fmt.Sprintf("%s was not committed by the leader: %v", c, err), Result: res}
	}
	res.Accepted, res.Index, res.Term, res.Leader, res.Attempts = true, r.Index, r.Term, r.Leader, r.Attempts
	p, werr := s.Backend.WaitApplied(ctx, r.Index)
	res.Applied, res.Pending, res.Silent = nonNil(p.Applied), nonNil(p.Pending), nonNil(p.Silent)
	res.ElapsedMS = s.now().Sub(began).Milliseconds()
	s.log().Info("operate: command", "cmd", c.String(), "index", r.Index, "progress", p.String())
	if werr != nil || !res.Done() {
		return Response{Error: notApplied(c.String(), "applied", *res), Result: res}
	}
	return Response{OK: true, Result: res}
}

// ticker ticks at the server's poll period (Poll, default 100 ms).
func (s *Server) ticker() *time.Ticker {
	poll := s.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	return time.NewTicker(poll)
}

// showGate waits until the picture lets c go out (station.ShowGate):
// a LOAD until every live drone reports holding the show, an ARM until
// every live drone holds the loaded show; at ctx's end it returns the
// gate's last refusal, which names the drones that lack it.
func (s *Server) showGate(ctx context.Context, c command.Command) error {
	t := s.ticker()
	defer t.Stop()
	for {
		err := station.ShowGate(s.Backend.Snapshot(), c)
		if err == nil || errors.Is(err, station.ErrShowNotHeld) && c.Kind() == command.KindLoad && c.(command.Load).Digest == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-t.C:
		}
	}
}

// notApplied says which drones did not apply a command.
func notApplied(what, verb string, r Result) string {
	var parts []string
	if len(r.Pending) > 0 {
		parts = append(parts, fmt.Sprintf("pending (live, not %s yet): %s", verb, ids(r.Pending)))
	}
	if len(r.Silent) > 0 {
		parts = append(parts, fmt.Sprintf("silent (not heard lately): %s", ids(r.Silent)))
	}
	if len(r.Applied) == 0 && len(parts) == 0 {
		parts = append(parts, "no drone reports")
	}
	return fmt.Sprintf("%s not %s by every drone within the timeout: %d %s; %s", what, verb, len(r.Applied), verb, strings.Join(parts, "; "))
}

// ids writes IDs as "3 7 12".
func ids(v []uint16) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, " ")
}

func nonNil(v []uint16) []uint16 {
	if v == nil {
		return []uint16{}
	}
	return v
}

// timed are the commands that take a swarm time.
var timed = []command.Kind{command.KindStart, command.KindPause, command.KindResume}

// resolve reads the request's command, with its swarm time for START,
// PAUSE and RESUME.
func (s *Server) resolve(req Request) (command.Command, *time.Time, error) {
	text := strings.TrimSpace(req.Command)
	kind, _, _ := strings.Cut(text, " ")
	isTimed := slices.ContainsFunc(timed, func(k command.Kind) bool { return strings.EqualFold(k.String(), kind) })
	if !isTimed {
		if req.At != "" {
			return nil, nil, fmt.Errorf("%s takes no swarm time (at %q): only START, PAUSE and RESUME do", text, req.At)
		}
		c, err := command.Parse(text)
		return c, nil, err
	}
	if strings.ContainsAny(strings.TrimSpace(text[len(kind):]), "0123456789") {
		return nil, nil, fmt.Errorf("%s: give its swarm time as at (+10s or an RFC 3339 time), not in the command", text)
	}
	if req.At == "" {
		return nil, nil, fmt.Errorf("%s needs a swarm time: at +10s, or an RFC 3339 time", strings.ToUpper(kind))
	}
	at, err := s.swarmTimeOf(req.At)
	if err != nil {
		return nil, nil, err
	}
	c, err := command.Parse(fmt.Sprintf("%s %d.%09d", kind, at.Unix(), at.Nanosecond()))
	if err != nil {
		return nil, nil, err
	}
	return c, &at, nil
}

// ParseAt reads a swarm time as the operator gives it: "+10s" (an offset
// from now, positive) or an RFC 3339 time. For an offset, abs is zero.
func ParseAt(s string) (offset time.Duration, abs time.Time, err error) {
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := time.ParseDuration(rest)
		if err != nil || d <= 0 {
			return 0, time.Time{}, fmt.Errorf("at %q: give a positive offset such as +10s or +1m30s", s)
		}
		return d, time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("at %q: give an offset such as +10s, or an RFC 3339 time such as 2026-06-01T21:30:00Z", s)
	}
	return 0, t, nil
}

// swarmTimeOf resolves an at string against the backend's swarm time.
func (s *Server) swarmTimeOf(at string) (time.Time, error) {
	off, abs, err := ParseAt(at)
	if err != nil {
		return time.Time{}, err
	}
	now, _, synced := s.Backend.SwarmTime(s.now())
	if !synced {
		return time.Time{}, errors.New("the station has not heard the leader's swarm time yet: wait until groundstation connect prints \"swarm time synced\"")
	}
	if off > 0 {
		return now.Add(off).Round(time.Millisecond), nil
	}
	if !abs.After(now) {
		return time.Time{}, fmt.Errorf("at %s is in the past: the swarm time is %s", abs.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
	}
	return abs, nil
}

// emergencyOps are the emergency commands by name.
var emergencyOps = map[string]emergency.Op{"HOLD": emergency.Hold, "LAND": emergency.Land, "RETURN": emergency.Return}

// emergency sends an emergency command and waits until every live drone
// acknowledges it.
func (s *Server) emergency(ctx context.Context, req Request) Response {
	began := s.now()
	name := strings.ToUpper(strings.TrimSpace(req.Command))
	op, ok := emergencyOps[name]
	if !ok {
		return Response{Error: fmt.Sprintf("emergency %q: use HOLD, LAND or RETURN", req.Command)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout(req))
	defer cancel()
	cmd, err := s.Backend.Emergency(ctx, op)
	if err != nil {
		return Response{Error: fmt.Sprintf("emergency %s not sent: %v", name, err)}
	}
	res := &Result{Command: name, Emergency: true, ID: cmd.ID}
	t := s.ticker()
	defer t.Stop()
	for {
		res.Applied, res.Pending, res.Silent = acks(s.Backend.Snapshot(), cmd.ID)
		if len(res.Pending) == 0 && len(res.Applied) > 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	res.ElapsedMS = s.now().Sub(began).Milliseconds()
	if !res.Done() {
		return Response{Error: notApplied("emergency "+name, "acknowledged", *res), Result: res}
	}
	return Response{OK: true, Result: res}
}

// acks splits the drones of sn by their acknowledgement of emergency
// command id.
func acks(sn station.Snapshot, id uint32) (acked, pending, silent []uint16) {
	acked, pending, silent = []uint16{}, []uint16{}, []uint16{}
	for _, d := range sn.Drones {
		switch {
		case d.EmergencyAck >= id:
			acked = append(acked, d.ID)
		case d.Live:
			pending = append(pending, d.ID)
		default:
			silent = append(silent, d.ID)
		}
	}
	return acked, pending, silent
}
