package operate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Operations of a Request.
const (
	// OpStatus asks for the live picture (Response.Status).
	OpStatus = "status"
	// OpCommand sends an operator's command through the leader and
	// waits until every drone has applied it (Response.Result).
	OpCommand = "command"
	// OpEmergency sends a signed emergency command to every drone at
	// once and waits for their acknowledgements (Response.Result).
	OpEmergency = "emergency"
	// OpUpload starts broadcasting the encoded show in Request.Show to
	// every drone of the network and answers at once (Response.Upload).
	OpUpload = "upload"
	// OpUploadStatus tells how the upload stands (Response.Upload).
	OpUploadStatus = "upload-status"
)

// Request is one request on the control socket.
type Request struct {
	// Op is OpStatus, OpCommand or OpEmergency.
	Op string `json:"op"`
	// Command is the operator's command in the form swarm/command's Parse
	// reads ("ARM", "TAKEOFF 10", "LIGHTS 255 0 0", "LOAD 1 0x…"); START,
	// PAUSE and RESUME come without their time, which At gives. For
	// OpEmergency it is HOLD, LAND or RETURN.
	Command string `json:"command,omitempty"`
	// At is the swarm time of START, PAUSE and RESUME: "+10s", an offset
	// from the swarm time when the connect process receives the request,
	// or an RFC 3339 time such as "2026-06-01T21:30:00Z".
	At string `json:"at,omitempty"`
	// TimeoutMS bounds the whole request in milliseconds (optional; 0
	// lets the server choose from the drones' status period).
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
	// Show is the encoded show of OpUpload (base64 in JSON), Repair its
	// repair scheme ("coded", the default, or "nack") and Share the share
	// of the channel it may take (0: the station's default).
	Show   []byte  `json:"show,omitempty"`
	Repair string  `json:"repair,omitempty"`
	Share  float64 `json:"share,omitempty"`
}

// UploadStatus is how a show upload stands.
type UploadStatus struct {
	// Hash is the show's SHA-256 in hexadecimal.
	Hash   string `json:"hash"`
	Chunks int    `json:"chunks"`
	Blocks int    `json:"blocks"`
	// Symbols counts the symbols sent, Repairs those after the first
	// pass, Rounds the polls drones answered.
	Symbols int `json:"symbols"`
	Repairs int `json:"repairs"`
	Rounds  int `json:"rounds"`
	// Asked lists the drones that reported in the last answered poll,
	// with the symbols each asked for, the neediest first.
	Asked []Asked `json:"asked"`
	// Lacks is the part of the show, in symbols, that the neediest drone
	// of each block still lacked at the last answered poll (summed over
	// the blocks); 0 before the first.
	Lacks int `json:"lacks"`
	// Held are the live drones whose status reports holding the show
	// (its digest), Live how many drones are live.
	Held []uint16 `json:"held"`
	Live int      `json:"live"`
	// Missing are the live drones whose status does not report holding
	// the show (yet).
	Missing []uint16 `json:"missing"`
	// Done: the station's polls go unanswered; every drone that heard
	// them holds the show.
	Done bool `json:"done"`
	// Resumed: the station went on with an upload of the same show that
	// an earlier run of it stored, beginning with a poll.
	Resumed bool `json:"resumed"`
}

// Everywhere is the number of chunks every drone is known to hold, for a
// progress bar up to Chunks: during the first pass the chunks sent; after
// an answered poll the chunks less what the neediest drones lacked; all
// of them once done.
func (u UploadStatus) Everywhere() int {
	switch {
	case u.Done:
		return u.Chunks
	case u.Rounds == 0:
		return min(u.Symbols, u.Chunks)
	}
	return max(u.Chunks-u.Lacks, 0)
}

// Asked is one drone's report in an upload.
type Asked struct {
	Drone   uint16 `json:"drone"`
	Symbols int    `json:"symbols"`
}

// Response answers one Request.
type Response struct {
	// OK is true when the request did all it asked: for a command, every
	// drone applied it.
	OK bool `json:"ok"`
	// Error says what went wrong, and what to do about it, when OK is
	// false.
	Error string `json:"error,omitempty"`
	// Status is the picture, for OpStatus.
	Status *Status `json:"status,omitempty"`
	// Result is the outcome of OpCommand and OpEmergency, also when OK
	// is false once the command went out.
	Result *Result `json:"result,omitempty"`
	// Upload is how the upload stands, for OpUpload and OpUploadStatus.
	Upload *UploadStatus `json:"upload,omitempty"`
}

// Result is how far a command got.
type Result struct {
	// Command is the command as sent, e.g. "START 1765017000.5".
	Command string `json:"command"`
	// Emergency is true for an emergency command; ID is its command ID.
	Emergency bool   `json:"emergency,omitempty"`
	ID        uint32 `json:"id,omitempty"`
	// Accepted is true once the leader committed the command (always
	// false for an emergency command, which bypasses the log); Index is
	// its log index, Term and Leader the leader's, Attempts the requests
	// sent.
	Accepted bool   `json:"accepted"`
	Index    uint32 `json:"index,omitempty"`
	Term     uint32 `json:"term,omitempty"`
	Leader   uint16 `json:"leader,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	// At is the swarm time of START, PAUSE and RESUME.
	At *time.Time `json:"at,omitempty"`
	// Applied are the drones that applied the command (for an emergency
	// command: acknowledged it), Pending the live drones that had not yet
	// when the wait ended, Silent the drones not heard lately that had
	// not.
	Applied []uint16 `json:"applied"`
	Pending []uint16 `json:"pending"`
	Silent  []uint16 `json:"silent"`
	// Lacking are the live drones that lack the show a LOAD names, or
	// the loaded show before an ARM: the command was not sent.
	Lacking []uint16 `json:"lacking,omitempty"`
	// ElapsedMS is the time the request took, in milliseconds.
	ElapsedMS int64 `json:"elapsed_ms"`
}

// Done reports whether every drone applied the command: none pending,
// none silent, at least one applied.
func (r Result) Done() bool { return len(r.Pending) == 0 && len(r.Silent) == 0 && len(r.Applied) > 0 }

// Summary tells the operator how far the command got, in one or two
// lines: "ARM committed at index 2 by leader 4 (term 1)", "applied by 4
// of 4 drones in 0.9s".
func (r Result) Summary() []string {
	var first string
	verb := "applied"
	switch {
	case r.Emergency:
		verb = "acknowledged"
		first = fmt.Sprintf("emergency %s (id %d) sent to every drone", r.Command, r.ID)
	case len(r.Lacking) > 0:
		first = fmt.Sprintf("%s not sent: drones %s lack the show", r.Command, ids(r.Lacking))
	case r.Accepted:
		first = fmt.Sprintf("%s committed at index %d by leader %d (term %d)", r.Command, r.Index, r.Leader, r.Term)
	default:
		first = fmt.Sprintf("%s not committed", r.Command)
	}
	if r.At != nil {
		first += fmt.Sprintf(", at swarm time %s", r.At.UTC().Format("15:04:05.000"))
	}
	if !r.Emergency && !r.Accepted {
		return []string{first}
	}
	total := len(r.Applied) + len(r.Pending) + len(r.Silent)
	took := time.Duration(r.ElapsedMS) * time.Millisecond
	return []string{first, fmt.Sprintf("%s by %d of %d drones in %.1fs", verb, len(r.Applied), total, took.Seconds())}
}

// maxLine is the longest request or response line accepted, in bytes: a
// status of 250 drones takes about 100 kB.
const maxLine = 4 << 20

// ErrNotRunning: no groundstation connect answers on the socket.
var ErrNotRunning = errors.New("no groundstation connect is running")

// ErrAlreadyRunning: another groundstation connect serves the socket.
var ErrAlreadyRunning = errors.New("a groundstation connect is already running")

// DefaultSocket is the control socket used when none is given:
// skyquorum-groundstation.sock in $XDG_RUNTIME_DIR (a directory only the
// user can read), else /tmp/skyquorum-groundstation-UID.sock.
func DefaultSocket() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "skyquorum-groundstation.sock")
	}
	return filepath.Join(os.TempDir(), "skyquorum-groundstation-"+strconv.Itoa(os.Getuid())+".sock")
}

// Listen opens the control socket at path, mode 0600. A socket file left
// by a process that ended is replaced; a socket some process still
// answers on is not (ErrAlreadyRunning), nor a file that is not a socket.
func Listen(path string) (*net.UnixListener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("operate: %s exists and is not a socket: give another --socket path", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("operate: %w on %s: stop it first, or give this one another --socket", ErrAlreadyRunning, path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("operate: remove the stale socket %s: %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("operate: socket directory: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("operate: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("operate: socket %s: %w", path, err)
	}
	return ln, nil
}

// Client is a connection to a groundstation connect's control socket.
type Client struct {
	path string
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to the control socket at path. When nothing answers
// there, the error wraps ErrNotRunning and says how to start one.
func Dial(path string) (*Client, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("%w on %s: start one with groundstation connect (--serial DEV | --udp ADDR --peer ADDR) --key FILE --members LIST, or give its --socket", ErrNotRunning, path)
		}
		return nil, fmt.Errorf("operate: connect to %s: %w", path, err)
	}
	return &Client{path: path, conn: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

// Do sends req and returns its response. ctx ending closes the
// connection; the connect process goes on with a command already sent.
func (c *Client) Do(ctx context.Context, req Request) (Response, error) {
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, fmt.Errorf("operate: %w", err)
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return Response{}, c.lost(ctx, err)
	}
	line, err := readLine(c.r)
	if err != nil {
		return Response{}, c.lost(ctx, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("operate: answer from %s: %w", c.path, err)
	}
	return resp, nil
}

func (c *Client) lost(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("operate: the connect process on %s closed the connection (did it stop?): %w", c.path, err)
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// readLine reads one line of at most maxLine bytes, without its newline.
func readLine(r *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		chunk, more, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		out = append(out, chunk...)
		if len(out) > maxLine {
			return nil, fmt.Errorf("operate: line longer than %d bytes", maxLine)
		}
		if !more {
			return out, nil
		}
	}
}
