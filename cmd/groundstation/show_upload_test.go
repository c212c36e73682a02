package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/cmd/groundstation/operate"
	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// fakeUploader is a ground station whose upload is done after a few
// questions, with drone 7 asking for 3 symbols on the way.
type fakeUploader struct {
	operate.Backend
	mu    sync.Mutex
	show  []byte
	opt   station.UploadOptions
	asked int
	// never is a drone that never reports holding the show (0: none).
	never uint16
}

func (f *fakeUploader) Upload(b []byte, opt station.UploadOptions) (show.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.show, f.opt = b, opt
	return sha256.Sum256(b), nil
}

func (f *fakeUploader) UploadProgress() (station.UploadProgress, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.show == nil {
		return station.UploadProgress{}, false
	}
	f.asked++
	l, _ := upload.NewLayout(len(f.show), 0)
	p := station.UploadProgress{Hash: sha256.Sum256(f.show), Chunks: l.Chunks(), Blocks: l.Blocks, Symbols: min(f.asked*3, l.Chunks())}
	if f.asked >= 2 {
		p.Rounds, p.Repairs, p.Asked = 1, 3, map[uint16]int{7: 3}
	}
	p.Idle = f.asked >= 4
	return p, true
}

// Snapshot shows three live drones, which hold the show once the upload
// is done.
func (f *fakeUploader) Snapshot() station.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	var sn station.Snapshot
	for id := uint16(1); id <= 3; id++ {
		d := station.Drone{ID: id, Reported: true, Live: true}
		if f.show != nil && f.asked >= 4 && id != f.never {
			d.Show = show.Hash(sha256.Sum256(f.show)).Digest()
		}
		sn.Drones = append(sn.Drones, d)
	}
	return sn
}

func TestShowUploadThroughConnect(t *testing.T) {
	old := uploadPoll
	uploadPoll = 10 * time.Millisecond
	t.Cleanup(func() { uploadPoll = old })
	dir := writeCSVShow(t, 3, 3)
	file := filepath.Join(t.TempDir(), "show.sqshow")
	code, _, errOut := runCmd("show", "import", dir, "--out", file, "--origin", "47.3977419,8.5455938,488.5")
	require.Equal(t, exitOK, code, errOut)

	sock := filepath.Join(t.TempDir(), "gs.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	f := &fakeUploader{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&operate.Server{Backend: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Serve(ctx, ln)
	}()
	t.Cleanup(func() { cancel(); <-done })

	code, out, errOut := runCmd("show", "upload", file, "--socket", sock, "--repair", "nack")
	require.Equal(t, exitOK, code, errOut)
	s, err := readShowFile(file)
	require.NoError(t, err)
	want, err := s.Encode()
	require.NoError(t, err)
	f.mu.Lock()
	assert.Equal(t, want, f.show, "the encoded show goes to the station")
	assert.Equal(t, upload.NACK, f.opt.Repair)
	f.mu.Unlock()
	h := sha256.Sum256(want)
	assert.Contains(t, out, "uploading show "+show.Hash(h).String())
	assert.Contains(t, out, "held by 0 of 3 live drones; slowest: 7 (3)")
	assert.Contains(t, out, "held by 3 of 3 live drones")
	assert.Contains(t, out, "done: every live drone (3) holds show "+show.Hash(h).String())

	// A drone whose status never reports the show: the command fails,
	// naming it, once the statuses had time to come.
	oldSettle := uploadSettle
	uploadSettle = 50 * time.Millisecond
	t.Cleanup(func() { uploadSettle = oldSettle })
	f.mu.Lock()
	f.asked, f.never = 0, 2
	f.mu.Unlock()
	code, out, errOut = runCmd("show", "upload", file, "--socket", sock)
	assert.Equal(t, exitFail, code, out)
	assert.Contains(t, errOut, "the station's polls go unanswered, but drones 2 do not report holding show "+show.Hash(h).String())
	assert.NotContains(t, out, "done:")

	code, _, errOut = runCmd("show", "upload", file, "--socket", sock, "--repair", "fountain")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--repair")
}

// On a terminal the progress is a bar of the chunks every drone is known
// to hold, naming the drones that hold the show and the slowest; the
// plain lines are not printed.
func TestUploadProgressBar(t *testing.T) {
	var stdout, stderr bytes.Buffer
	p := newUploadProgress(&stdout, &stderr, 40, true)
	// First pass: 25 of 40 chunks sent.
	p.show(operate.UploadStatus{Chunks: 40, Symbols: 25, Live: 10, Held: []uint16{}})
	assert.Contains(t, stderr.String(), "held by 0/10 drones")
	assert.Regexp(t, `25/40`, stderr.String())
	// A poll answered: the neediest drones lack 6 symbols in all.
	p.show(operate.UploadStatus{Chunks: 40, Symbols: 46, Repairs: 6, Rounds: 1, Lacks: 6, Live: 10,
		Held: []uint16{1, 2, 4, 5, 6, 8, 9, 10}, Asked: []operate.Asked{{Drone: 7, Symbols: 4}, {Drone: 3, Symbols: 2}}})
	assert.Contains(t, stderr.String(), "held by 8/10 drones; slowest 7 (4), 3 (2)")
	assert.Regexp(t, `34/40`, stderr.String())
	p.finish()
	assert.Empty(t, stdout.String())

	for _, tc := range []struct {
		u    operate.UploadStatus
		want int
	}{
		{operate.UploadStatus{Chunks: 40, Symbols: 50}, 40},
		{operate.UploadStatus{Chunks: 40, Symbols: 60, Rounds: 2, Lacks: 50}, 0},
		{operate.UploadStatus{Chunks: 40, Symbols: 60, Rounds: 2, Lacks: 50, Done: true}, 40},
	} {
		assert.Equal(t, tc.want, tc.u.Everywhere(), "%+v", tc.u)
	}
}
