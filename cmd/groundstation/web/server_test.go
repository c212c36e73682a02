package web

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

var epoch = time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC)

func newShowSource(t testing.TB, n int) *ShowSource {
	t.Helper()
	s, err := demo.New(n)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewShowSource(s, 1, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Host = "127.0.0.1:8080"
	for k, v := range hdr {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHostAndOrigin(t *testing.T) {
	src := newShowSource(t, 5)
	s := New(Config{Source: src})
	json := map[string]string{"Content-Type": "application/json"}
	for _, c := range []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		body   string
		want   int
	}{
		{"page", "GET", "/", nil, "", 200},
		{"page on localhost", "GET", "/", map[string]string{"Host": "localhost:8080"}, "", 200},
		{"page on IPv6 loopback", "GET", "/", map[string]string{"Host": "[::1]:8080"}, "", 200},
		{"DNS rebinding", "GET", "/api/snapshot", map[string]string{"Host": "evil.example:8080"}, "", http.StatusMisdirectedRequest},
		{"rebound command", "POST", "/api/command", map[string]string{"Host": "evil.example", "Content-Type": "application/json"}, `{"op":"arm"}`, http.StatusMisdirectedRequest},
		{"cross-origin command", "POST", "/api/command", map[string]string{"Origin": "http://evil.example", "Content-Type": "application/json"}, `{"op":"land"}`, 403},
		{"other port origin", "POST", "/api/command", map[string]string{"Origin": "http://127.0.0.1:9999", "Content-Type": "application/json"}, `{"op":"land"}`, 403},
		{"null origin", "POST", "/api/command", map[string]string{"Origin": "null", "Content-Type": "application/json"}, `{"op":"land"}`, 403},
		{"cross-site fetch", "GET", "/api/snapshot", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", 403},
		{"cross-origin stream", "GET", "/events", map[string]string{"Origin": "http://evil.example"}, "", 403},
		{"command by GET", "GET", "/api/command?op=land", nil, "", 405},
		{"form post", "POST", "/api/command", map[string]string{"Origin": "http://127.0.0.1:8080", "Content-Type": "application/x-www-form-urlencoded"}, "op=land", 415},
		{"unknown op", "POST", "/api/command", json, `{"op":"selfdestruct"}`, 400},
		{"unknown field", "POST", "/api/command", json, `{"op":"land","x":1}`, 400},
		{"unconfirmed emergency", "POST", "/api/command", json, `{"op":"hold","emergency":true}`, 400},
		{"same-origin command", "POST", "/api/command", map[string]string{"Origin": "http://127.0.0.1:8080", "Content-Type": "application/json"}, `{"op":"arm"}`, 200},
		{"confirmed emergency", "POST", "/api/command", json, `{"op":"hold","emergency":true,"confirm":true}`, 200},
	} {
		w := do(t, s, c.method, c.path, c.hdr, c.body)
		if w.Code != c.want {
			t.Errorf("%s: %s %s: status %d, want %d (%s)", c.name, c.method, c.path, w.Code, c.want, strings.TrimSpace(w.Body.String()))
		}
	}
	got := src.Commands()
	if len(got) != 2 || got[0] != (Command{Op: "arm"}) || got[1] != (Command{Op: "hold", Emergency: true, Confirm: true}) {
		t.Fatalf("the source got %+v; want only the same-origin arm and the confirmed hold", got)
	}
}

func TestToken(t *testing.T) {
	src := newShowSource(t, 3)
	s := New(Config{Source: src, Token: "s3cret"})
	if w := do(t, s, "GET", "/", nil, ""); w.Code != 401 {
		t.Errorf("page without token: %d, want 401", w.Code)
	}
	if w := do(t, s, "GET", "/?token=wrong", nil, ""); w.Code != 401 {
		t.Errorf("wrong token: %d, want 401", w.Code)
	}
	w := do(t, s, "GET", "/?token=s3cret", nil, "")
	if w.Code != 200 {
		t.Fatalf("page with token: %d", w.Code)
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "sqtoken" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "s3cret" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("no strict HttpOnly token cookie: %+v", cookie)
	}
	if w := do(t, s, "GET", "/app.js", map[string]string{"Cookie": "sqtoken=s3cret"}, ""); w.Code != 200 {
		t.Errorf("asset with the cookie: %d, want 200", w.Code)
	}
	if w := do(t, s, "POST", "/api/command", map[string]string{"Content-Type": "application/json"}, `{"op":"arm"}`); w.Code != 401 {
		t.Errorf("command without token: %d, want 401", w.Code)
	}
	if w := do(t, s, "POST", "/api/command", map[string]string{"Content-Type": "application/json", "X-Token": "s3cret"}, `{"op":"arm"}`); w.Code != 200 {
		t.Errorf("command with token header: %d, want 200", w.Code)
	}
	if n := len(src.Commands()); n != 1 {
		t.Errorf("the source got %d commands, want 1", n)
	}
}

func TestListenTokenBeyondLoopback(t *testing.T) {
	src := newShowSource(t, 2)
	lo, err := Listen("127.0.0.1:0", Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Close()
	if lo.Token() != "" || strings.Contains(lo.URL(), "token") {
		t.Errorf("loopback listener has a token: %s", lo.URL())
	}
	any, err := Listen("0.0.0.0:0", Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer any.Close()
	if len(any.Token()) < 32 || !strings.Contains(any.URL(), "token="+any.Token()) {
		t.Fatalf("a listener beyond the loopback has token %q, URL %s", any.Token(), any.URL())
	}
	resp, err := http.Get(strings.Split(any.URL(), "?")[0] + "api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d, want 401", resp.StatusCode)
	}
	resp, err = http.Get(any.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("printed URL: %d, want 200", resp.StatusCode)
	}
}

// TestStreamRate drives the stream with a fake ticker in simulated time:
// every tick of the period delivers one JSON frame, and the period gives
// at least 5 frames per second.
func TestStreamRate(t *testing.T) {
	if DefaultPeriod > 200*time.Millisecond {
		t.Fatalf("DefaultPeriod %v: fewer than 5 updates a second", DefaultPeriod)
	}
	src := newShowSource(t, 20)
	if _, err := src.Command(t.Context(), Command{Op: "start"}); err != nil {
		t.Fatal(err)
	}
	ticks := make(chan time.Time)
	var period time.Duration
	s := New(Config{Source: src, Ticker: func(d time.Duration) (<-chan time.Time, func()) {
		period = d
		return ticks, func() {}
	}})
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	next := func() frame {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var f frame
				if err := json.Unmarshal([]byte(data), &f); err != nil {
					t.Fatalf("frame is not JSON: %v", err)
				}
				return f
			}
		}
	}
	first := next()
	if period != DefaultPeriod || first.PeriodMS != DefaultPeriod.Milliseconds() {
		t.Fatalf("ticker period %v, frame period %d ms; want %v", period, first.PeriodMS, DefaultPeriod)
	}
	// Two simulated seconds: one frame per tick, each one period later.
	n := int(2 * time.Second / period)
	prev := first
	for i := range n {
		src.Step(period)
		ticks <- epoch
		f := next()
		if got := f.At.Sub(prev.At); got != period {
			t.Fatalf("frame %d: %v after the previous one, want %v", i+1, got, period)
		}
		if len(f.Drones) != 20 || f.Drones[0].Planned == nil {
			t.Fatalf("frame %d: %d drones, planned %v", i+1, len(f.Drones), f.Drones[0].Planned)
		}
		prev = f
	}
	rate := float64(n) / prev.At.Sub(first.At).Seconds()
	if rate < 5 {
		t.Fatalf("%.1f frames per simulated second, want at least 5", rate)
	}
	if len(prev.History) != 3 {
		t.Errorf("%d channel samples after 2 s, want one a second (0, 1, 2 s): 3", len(prev.History))
	}
}

// TestCloseEndsStreams: closing the server ends an open stream itself,
// so that the graceful shutdown completes instead of cutting the
// connection when its grace runs out, and the stream's last event says
// why (the page shows it rather than retrying in silence).
func TestCloseEndsStreams(t *testing.T) {
	s, err := Listen("127.0.0.1:0", Config{Source: newShowSource(t, 3)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL() + "events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if _, err := rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	const why = "the flight is over"
	if err := s.CloseWith(why); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if s.forced {
		t.Fatal("Close had to cut the open stream: the graceful shutdown waited for it")
	}
	rest, _ := io.ReadAll(rd)
	if !strings.HasSuffix(string(rest), "event: end\ndata: "+why+"\n\n") {
		t.Fatalf("the stream ended with %q, want an end event saying %q", lastLines(string(rest), 3), why)
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
