package airtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MAVLink v2 airtime: a 45-byte signed frame takes 7.8 ms at 57600 baud;
// a core message of 16 bytes plus 4 of addressing makes one.
func TestFrameAndAirtime(t *testing.T) {
	assert.Equal(t, 45, FrameBytes(16, true))
	assert.Equal(t, 32, FrameBytes(16, false))
	assert.Equal(t, int64(7_812_500), Nanos(45, 57600))
}

func TestPeriodTicks(t *testing.T) {
	// 250 × 7.8125 ms / 0.05 = 39.0625 s = 3907 ticks of 10 ms.
	p, err := Budget{Members: 250, FramesPerPeriod: 1, FrameBytes: 45, Baud: 57600, Share: 0.05, TickNanos: 10_000_000}.PeriodTicks()
	require.NoError(t, err)
	assert.Equal(t, 3907, p)
	p, err = Budget{Members: 1, FramesPerPeriod: 1, FrameBytes: 45, Baud: 57600, Share: 1, TickNanos: 10_000_000}.PeriodTicks()
	require.NoError(t, err)
	assert.Equal(t, 1, p)
	for _, b := range []Budget{
		{Members: 0, FramesPerPeriod: 1, FrameBytes: 45, Baud: 57600, Share: 0.05, TickNanos: 1},
		{Members: 1, FramesPerPeriod: 1, FrameBytes: 45, Baud: 0, Share: 0.05, TickNanos: 1},
		{Members: 1, FramesPerPeriod: 1, FrameBytes: 45, Baud: 57600, Share: 0, TickNanos: 1},
		{Members: 1, FramesPerPeriod: 1, FrameBytes: 45, Baud: 57600, Share: 0.05, TickNanos: 0},
		{Members: 1, FramesPerPeriod: 0, FrameBytes: 45, Baud: 57600, Share: 0.05, TickNanos: 1},
	} {
		_, err := b.PeriodTicks()
		assert.ErrorIs(t, err, ErrBudget, "%+v", b)
	}
}
