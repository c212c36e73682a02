package station_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// uploadDrone is a drone that runs only the receiving side of an upload,
// and misses each frame it hears with probability loss.
type uploadDrone struct {
	t    *testing.T
	id   uint16
	r    *radio.Radio
	cd   *codec.Codec
	mu   sync.Mutex
	rx   *upload.Receiver
	rng  *rand.Rand
	loss float64
	wg   sync.WaitGroup
}

func (n *testNet) uploadDrone(sys uint8, loss float64, seed uint64) *uploadDrone {
	n.t.Helper()
	l, err := n.hub.Join(sys)
	require.NoError(n.t, err)
	r, err := radio.Open(radio.Config{Link: l, Key: testKey, Network: n.network, SystemID: sys, Clock: n.clk, Logger: quiet()})
	require.NoError(n.t, err)
	cd, err := codec.New(codec.Config{Network: n.network})
	require.NoError(n.t, err)
	rx, err := upload.NewReceiver(upload.ReceiverConfig{Seed: seed})
	require.NoError(n.t, err)
	d := &uploadDrone{t: n.t, id: 100 + uint16(sys), r: r, cd: cd, rx: rx, rng: rand.New(rand.NewPCG(seed, 3)), loss: loss}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for f := range r.Received() {
			h, m, err := cd.DecodeMessage(f.Message)
			if err != nil {
				continue
			}
			d.mu.Lock()
			if d.rng.Float64() >= d.loss {
				_ = d.rx.Step(h.From, m)
				d.flush()
			}
			d.mu.Unlock()
		}
	}()
	n.t.Cleanup(func() {
		_ = r.Close()
		d.wg.Wait()
	})
	return d
}

// tick runs the receiver for n of its ticks. Call with d.mu unheld.
func (d *uploadDrone) tick(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for range n {
		d.rx.Tick()
		d.flush()
	}
}

// flush sends the receiver's reports. Call with d.mu held.
func (d *uploadDrone) flush() {
	for _, s := range d.rx.Ready().Sends {
		m, err := d.cd.EncodeMessage(codec.Header{From: algorithms.NodeID(d.id), To: algorithms.Everyone}, s.Msg)
		require.NoError(d.t, err)
		require.NoError(d.t, d.r.Send(m, link.Broadcast))
	}
}

func (d *uploadDrone) holds(h [32]byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rx.Holds(h)
}

// The station broadcasts a show; drones that miss a tenth of the frames
// report what they lack, and every drone comes to hold the show with its
// hash, for less airtime than two copies.
func TestUploadReachesEveryDrone(t *testing.T) {
	const seed = 6
	n := newNet(t, nil)
	var drones []*uploadDrone
	for i := range 5 {
		drones = append(drones, n.uploadDrone(uint8(i+1), 0.1, seed*10+uint64(i)))
	}
	r := rand.New(rand.NewPCG(seed, 1))
	showBytes := make([]byte, 20000)
	for i := range showBytes {
		showBytes[i] = byte(r.Uint32())
	}
	want := sha256.Sum256(showBytes)
	hash, err := n.st.Upload(showBytes, station.UploadOptions{})
	require.NoError(t, err)
	require.Equal(t, want, [32]byte(hash))
	all := func() bool {
		for _, d := range drones {
			if !d.holds(want) {
				return false
			}
		}
		return true
	}
	var spent time.Duration
	for !all() {
		require.Less(t, spent, 5*time.Minute, "seed %d: not every drone holds the show", seed)
		n.clk.Advance(100 * time.Millisecond)
		spent += 100 * time.Millisecond
		time.Sleep(2 * time.Millisecond)
		for _, d := range drones {
			d.tick(10)
		}
	}
	p, ok := n.st.UploadProgress()
	require.True(t, ok)
	require.Equal(t, want, [32]byte(p.Hash))
	require.GreaterOrEqual(t, p.Symbols, p.Chunks, "seed %d", seed)
	require.Less(t, p.Symbols, 2*p.Chunks, "seed %d: %d symbols for %d chunks", seed, p.Symbols, p.Chunks)
	t.Logf("%d symbols (%d repairs, %d rounds) for %d chunks, %s of simulated time", p.Symbols, p.Repairs, p.Rounds, p.Chunks, spent)
}

// memStore is a Store in memory.
type memStore struct {
	mu    sync.Mutex
	b     []byte
	saves int
}

func (m *memStore) Load() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.b...), nil
}

func (m *memStore) Save(b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.b = append([]byte(nil), b...)
	m.saves++
	return nil
}

// A station that stops halfway through an upload and is started again
// from its stored state resumes it: asked for the same show, it polls,
// and sends only what the drones report they lack, not the whole show
// again.
func TestUploadResumesAfterRestart(t *testing.T) {
	const seed = 7
	store := &memStore{}
	n := newNet(t, func(c *station.Config) { c.UploadStore = store })
	var drones []*uploadDrone
	for i := range 5 {
		drones = append(drones, n.uploadDrone(uint8(i+1), 0.1, seed*10+uint64(i)))
	}
	r := rand.New(rand.NewPCG(seed, 1))
	showBytes := make([]byte, 20000)
	for i := range showBytes {
		showBytes[i] = byte(r.Uint32())
	}
	want := sha256.Sum256(showBytes)
	step := func() {
		n.clk.Advance(100 * time.Millisecond)
		time.Sleep(2 * time.Millisecond)
		for _, d := range drones {
			d.tick(10)
		}
	}
	_, err := n.st.Upload(showBytes, station.UploadOptions{})
	require.NoError(t, err)
	var first station.UploadProgress
	for spent := time.Duration(0); ; spent += 100 * time.Millisecond {
		require.Less(t, spent, time.Minute, "seed %d: the first pass never reached half the show", seed)
		var ok bool
		first, ok = n.st.UploadProgress()
		require.True(t, ok)
		if first.Symbols >= first.Chunks/2 {
			break
		}
		step()
	}
	require.NoError(t, n.st.Close())
	require.NotEmpty(t, store.b, "seed %d: no upload state stored", seed)

	// The station starts again on the same radio, from the store.
	n.clk.Advance(time.Second)
	l, err := n.hub.Join(station.SystemID)
	require.NoError(t, err)
	st, err := station.Open(station.Config{Link: l, Key: testKey, Network: testNetwork, Clock: n.clk, Logger: quiet(),
		FirstSeq: 1000, UploadStore: store})
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Upload(showBytes, station.UploadOptions{})
	require.NoError(t, err)
	all := func() bool {
		for _, d := range drones {
			if !d.holds(want) {
				return false
			}
		}
		return true
	}
	for spent := time.Duration(0); !all(); spent += 100 * time.Millisecond {
		require.Less(t, spent, 5*time.Minute, "seed %d: not every drone holds the show after the restart", seed)
		step()
	}
	p, ok := st.UploadProgress()
	require.True(t, ok)
	t.Logf("seed %d: %d of %d chunks sent before the restart, %d symbols after it (%d polls answered)",
		seed, first.Symbols, first.Chunks, p.Symbols, p.Rounds)
	require.True(t, p.Resumed, "seed %d: the upload did not resume", seed)
	require.Zero(t, p.Symbols-p.Repairs, "seed %d: %d source chunks sent again after the restart", seed, p.Symbols-p.Repairs)
	require.Less(t, p.Symbols, p.Chunks*3/4, "seed %d: %d symbols after the restart for a show of %d chunks", seed, p.Symbols, p.Chunks)
}
