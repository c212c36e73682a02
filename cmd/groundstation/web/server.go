package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var assets embed.FS

// DefaultPeriod is the period of the live updates: 5 per second.
const DefaultPeriod = 200 * time.Millisecond

// historyLen is how many 1 s samples of each channel the server keeps.
const historyLen = 300

// Config configures a Server.
type Config struct {
	// Source is the swarm shown.
	Source Source
	// Period is the period of the live updates (default DefaultPeriod).
	Period time.Duration
	// Token is the access token; empty means none for a loopback
	// listener and a random one otherwise (Listen).
	Token string
	// Hosts are extra host names the Host header may name (the
	// listener's address, "localhost" and IP literals always may).
	Hosts []string
	// Ticker makes the ticker of a live stream; nil means time.Ticker.
	// Tests drive the stream with it.
	Ticker func(d time.Duration) (<-chan time.Time, func())
	// CommandTimeout bounds one command (default 30 s).
	CommandTimeout time.Duration
	Logger         *slog.Logger
}

// Server is the dashboard's HTTP handler, with its listener once Listen
// is called.
type Server struct {
	cfg   Config
	files http.Handler
	log   *slog.Logger

	mu      sync.Mutex
	born    time.Time
	last    time.Time
	history []Sample

	ln     net.Listener
	http   *http.Server
	url    string
	done   chan struct{}
	cancel context.CancelFunc // ends the live streams
	forced bool               // Close had to cut connections
	ending chan struct{}      // closed by Close: streams say why and end
	why    string             // what the streams say, set before ending closes
	closed sync.Once
	closeE error
}

// New returns the handler of cfg; Listen serves it.
func New(cfg Config) *Server {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 30 * time.Second
	}
	if cfg.Ticker == nil {
		cfg.Ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	return &Server{cfg: cfg, files: http.FileServerFS(sub), log: cfg.Logger, ending: make(chan struct{})}
}

// Period is the period of the live updates.
func (s *Server) Period() time.Duration { return s.cfg.Period }

// Token is the access token, empty when none is required.
func (s *Server) Token() string { return s.cfg.Token }

// IsLoopback reports whether addr (host:port) listens on the loopback
// only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewToken returns a random access token.
func NewToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Listen serves the dashboard on addr (host:port; port 0 picks one) until
// Close. A listener beyond the loopback requires a token: cfg.Token, or
// a random one.
func Listen(addr string, cfg Config) (*Server, error) {
	if !IsLoopback(addr) && cfg.Token == "" {
		cfg.Token = NewToken()
	}
	s := New(cfg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.ln = ln
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if h, _, err := net.SplitHostPort(addr); err == nil && h != "" && net.ParseIP(h) == nil {
			host = h
		}
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/"}
	if s.cfg.Token != "" {
		u.RawQuery = "token=" + s.cfg.Token
	}
	s.url = u.String()
	base, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base }}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("dashboard", "err", err)
		}
	}()
	return s, nil
}

// URL is the dashboard's address, with its token.
func (s *Server) URL() string { return s.url }

// Close stops the server and ends every live stream, telling the pages
// that the ground station has stopped.
func (s *Server) Close() error {
	return s.CloseWith("the ground station has stopped serving this dashboard")
}

// CloseWith stops the server and ends every live stream with an "end"
// event whose data is why: the page shows it and stops updating. Only
// the first Close or CloseWith does anything.
func (s *Server) CloseWith(why string) error {
	if s.http == nil {
		return nil
	}
	s.closed.Do(func() {
		s.why = why
		close(s.ending)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := s.http.Shutdown(ctx)
		s.cancel()
		if err != nil {
			s.forced = true
			err = s.http.Close()
		}
		<-s.done
		s.closeE = err
	})
	return s.closeE
}

// ServeHTTP checks Host, Origin and token, then serves the page, the
// stream (/events), one snapshot (/api/snapshot) and commands
// (/api/command).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.hostOK(r.Host) {
		http.Error(w, "unknown host", http.StatusMisdirectedRequest)
		return
	}
	if !originOK(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	if !s.tokenOK(r) {
		http.Error(w, "missing or wrong token: open the address the ground station printed", http.StatusUnauthorized)
		return
	}
	if s.cfg.Token != "" && r.URL.Query().Get("token") != "" {
		// The page's own requests then carry the token in this cookie.
		http.SetCookie(w, &http.Cookie{Name: "sqtoken", Value: s.cfg.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	switch r.URL.Path {
	case "/events":
		s.events(w, r)
	case "/api/snapshot":
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.Frame())
	case "/api/command":
		s.command(w, r)
	default:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		s.files.ServeHTTP(w, r)
	}
}

// hostOK accepts the loopback names, IP literals, and cfg.Hosts: a DNS
// name of an attacker's (DNS rebinding) is refused.
func (s *Server) hostOK(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, h := range s.cfg.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// originOK accepts requests without Origin (a browser sends it on every
// POST and on cross-origin requests) and those whose Origin is the
// server itself.
func originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") != "cross-site"
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

func (s *Server) tokenOK(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	try := []string{r.URL.Query().Get("token"), r.Header.Get("X-Token")}
	if c, err := r.Cookie("sqtoken"); err == nil {
		try = append(try, c.Value)
	}
	for _, t := range try {
		if t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.Token)) == 1 {
			return true
		}
	}
	return false
}

// frame is one update of the page.
type frame struct {
	Snapshot
	// History is each channel's samples, one a second, oldest first.
	History []Sample `json:"history"`
	// Period is the update period in ms.
	PeriodMS int64 `json:"periodMs"`
}

// Frame returns the JSON of the picture now, and records the channels'
// samples (one a second, by the source's clock).
func (s *Server) Frame() []byte {
	sn := s.cfg.Source.Snapshot()
	s.mu.Lock()
	if s.born.IsZero() {
		s.born = sn.At
	}
	if len(sn.Channels) > 0 && (s.last.IsZero() || sn.At.Sub(s.last) >= time.Second) {
		s.last = sn.At
		t := sn.At.Sub(s.born).Seconds()
		for _, c := range sn.Channels {
			s.history = append(s.history, Sample{T: t, Channel: c})
		}
		if n := historyLen * len(sn.Channels); len(s.history) > n {
			s.history = append(s.history[:0], s.history[len(s.history)-n:]...)
		}
	}
	f := frame{Snapshot: sn, History: append([]Sample(nil), s.history...), PeriodMS: s.cfg.Period.Milliseconds()}
	s.mu.Unlock()
	b, err := json.Marshal(f)
	if err != nil {
		// Only a NaN or an infinity can fail here; the page shows it.
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return b
}

// events streams a frame every Period as server-sent events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	tick, stop := s.cfg.Ticker(s.cfg.Period)
	defer stop()
	send := func() bool {
		if _, err := fmt.Fprintf(w, "data: %s\n\n", s.Frame()); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send() {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.ending:
			fmt.Fprintf(w, "event: end\ndata: %s\n\n", strings.ReplaceAll(s.why, "\n", " "))
			fl.Flush()
			return
		case _, ok := <-tick:
			if !ok || !send() {
				return
			}
		}
	}
}

// reply is the answer to a command.
type reply struct {
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

// command runs one operator command: POST, JSON body.
func (s *Server) command(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, rep reply) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(rep)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		answer(http.StatusMethodNotAllowed, reply{Error: "commands are POST only"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		answer(http.StatusUnsupportedMediaType, reply{Error: "commands are a JSON body (Content-Type: application/json)"})
		return
	}
	var c Command
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		answer(http.StatusBadRequest, reply{Error: fmt.Sprintf("bad command: %v", err)})
		return
	}
	if err := c.Check(); err != nil {
		answer(http.StatusBadRequest, reply{Error: err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CommandTimeout)
	defer cancel()
	s.log.Info("dashboard command", "op", c.Op, "emergency", c.Emergency, "from", r.RemoteAddr)
	msg, err := s.cfg.Source.Command(ctx, c)
	if err != nil {
		answer(http.StatusBadGateway, reply{Message: msg, Error: err.Error()})
		return
	}
	answer(http.StatusOK, reply{OK: true, Message: msg})
}
