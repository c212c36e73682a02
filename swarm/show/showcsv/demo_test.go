package showcsv

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/swarm/show/demo"
	"github.com/skyquorum/skyquorum/swarm/show/validate"
)

// TestDemoRoundTrip exports the demo show, curves and all, at 24 Hz and
// imports it: the straight segments between samples stay within 5 mm of
// the curves (1.4 mm measured), the colours within 2 levels (1 measured).
func TestDemoRoundTrip(t *testing.T) {
	s, err := demo.New(8)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, Export(&b, s))
	got, err := importZip(b.Bytes(), Options{Origin: s.Origin, HasOrigin: s.HasOrigin, Orientation: s.Orientation, Limits: s.Limits, Fence: s.Fence})
	require.NoError(t, err)
	require.Len(t, got.Drones, len(s.Drones))
	var worst float64
	worstColour := 0
	keyframes, rows := 0, 0
	for k := range s.Drones {
		want, _ := s.Track(k)
		have, _ := got.Track(k)
		keyframes += len(got.Drones[k].Path)
		for at := time.Duration(0); at <= s.Duration(); at += 10 * time.Millisecond {
			p, _ := want.Position(at)
			q, _ := have.Position(at)
			worst = max(worst, p.Dist(q))
			c, h := want.Colour(at), have.Colour(at)
			for _, d := range []int{int(c.R) - int(h.R), int(c.G) - int(h.G), int(c.B) - int(h.B)} {
				worstColour = max(worstColour, d, -d)
			}
		}
		rows += int(s.Duration() / DefaultPeriod)
	}
	t.Logf("demo show, %d drones, %v: %d bytes of ZIP, %d keyframes imported from about %d rows; worst position error %.4f m, colour error %d",
		len(s.Drones), s.Duration(), b.Len(), keyframes, rows, worst, worstColour)
	assert.Less(t, worst, 0.005)
	assert.LessOrEqual(t, worstColour, 2)
	assert.Equal(t, s.Duration(), got.Duration())

	// Validation of the import: the same speeds; a higher acceleration,
	// since a velocity change spread over dropped rows becomes a kink at
	// the row kept (2.42 m/s² measured, 1.26 designed; the rows kept all,
	// rounded to the millimetre, read 2.27).
	want, err := validate.Show(s, validate.Options{})
	require.NoError(t, err)
	have, err := validate.Show(got, validate.Options{})
	require.NoError(t, err)
	t.Logf("acceleration %.3f m/s² designed, %.3f imported; speed xy %.3f, %.3f", want.MaxAccel.Value, have.MaxAccel.Value, want.MaxSpeedXY.Value, have.MaxSpeedXY.Value)
	assert.InDelta(t, want.MaxSpeedXY.Value, have.MaxSpeedXY.Value, 0.01)
	assert.InDelta(t, want.MaxSpeedUp.Value, have.MaxSpeedUp.Value, 0.01)
	assert.InDelta(t, want.MaxAltitude.Value, have.MaxAltitude.Value, 0.002)
	assert.Less(t, have.MaxAccel.Value, 2.5)
}
