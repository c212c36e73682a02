package airspace

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testGrid(t *testing.T) Grid {
	t.Helper()
	g, err := NewGrid(Point{-50, -50, -30}, Point{10, 10, 5}, [3]int{10, 10, 6})
	require.NoError(t, err)
	return g
}

func TestGridCells(t *testing.T) {
	g := testGrid(t)
	assert.Equal(t, 600, g.Cells())
	cases := []struct {
		p    Point
		want Cell
	}{
		{Point{-50, -50, -30}, 0},
		{Point{-40.5, -50, -30}, 0},
		{Point{-40, -50, -30}, 1},
		{Point{-50, -40, -30}, 10},
		{Point{-50, -50, -25}, 100},
		{Point{49.9, 49.9, -0.1}, 599},
	}
	for _, c := range cases {
		got, err := g.CellOf(c.p)
		require.NoError(t, err, "%+v", c.p)
		assert.Equal(t, c.want, got, "%+v", c.p)
		back, err := g.CellOf(g.Center(got))
		require.NoError(t, err)
		assert.Equal(t, got, back)
	}
	for _, p := range []Point{{50, 0, -10}, {0, -50.01, -10}, {0, 0, 0}, {0, 0, -30.5}} {
		_, err := g.CellOf(p)
		assert.ErrorIs(t, err, ErrOutside, "%+v", p)
	}
	i, j, k := g.Coords(123)
	assert.Equal(t, [3]int{3, 2, 1}, [3]int{i, j, k})
}

func TestNewGridErrors(t *testing.T) {
	for _, c := range []struct {
		size Point
		dims [3]int
	}{
		{Point{0, 1, 1}, [3]int{1, 1, 1}},
		{Point{1, 1, 1}, [3]int{0, 1, 1}},
		{Point{1, 1, 1}, [3]int{100, 100, 7}},
	} {
		_, err := NewGrid(Point{}, c.size, c.dims)
		assert.ErrorIs(t, err, ErrGrid, "%+v", c)
	}
	_, err := NewGrid(Point{}, Point{1, 1, 1}, [3]int{256, 256, 1})
	assert.NoError(t, err, "65 536 cells fit")
}

func TestSegment(t *testing.T) {
	g := testGrid(t)
	// Along x: cells 0…3 in order.
	seg, err := g.Segment(Point{-45, -45, -28}, Point{-15, -45, -28})
	require.NoError(t, err)
	assert.Equal(t, []Cell{0, 1, 2, 3}, seg)
	// Backwards.
	seg, err = g.Segment(Point{-15, -45, -28}, Point{-45, -45, -28})
	require.NoError(t, err)
	assert.Equal(t, []Cell{3, 2, 1, 0}, seg)
	// A diagonal in x and y visits a neighbour on the way (no corner
	// skipping): Manhattan distance + 1 cells, each adjacent to the last.
	seg, err = g.Segment(Point{-44, -46, -28}, Point{-16, -14, -12})
	require.NoError(t, err)
	require.Len(t, seg, 1+3+3+3)
	for i := 1; i < len(seg); i++ {
		a1, b1, c1 := g.Coords(seg[i-1])
		a2, b2, c2 := g.Coords(seg[i])
		assert.Equal(t, 1, abs(a1-a2)+abs(b1-b2)+abs(c1-c2), "step %d", i)
	}
	// Every sample point of the segment lies in a returned cell.
	a, b := Point{-44, -46, -28}, Point{-16, -14, -12}
	for s := 0.0; s <= 1; s += 0.001 {
		p := Point{a.X + s*(b.X-a.X), a.Y + s*(b.Y-a.Y), a.Z + s*(b.Z-a.Z)}
		c, err := g.CellOf(p)
		require.NoError(t, err)
		assert.Contains(t, seg, c)
	}
	_, err = g.Segment(Point{}, Point{100, 0, -10})
	assert.ErrorIs(t, err, ErrOutside)
}

func TestPathSortedUnique(t *testing.T) {
	g := testGrid(t)
	cells, err := g.Path(Point{-15, -45, -28}, Point{-45, -45, -28}, Point{-45, -35, -28})
	require.NoError(t, err)
	assert.Equal(t, []Cell{0, 1, 2, 3, 10}, cells)
	one, err := g.Path(Point{-45, -45, -28})
	require.NoError(t, err)
	assert.Equal(t, []Cell{0}, one)
}
