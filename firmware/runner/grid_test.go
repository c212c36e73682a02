package runner

import (
	"testing"

	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// The grid laid over a show has cells of about 10 m, so that drones
// flying home apart take different cells, and it covers every drone's
// home.
func TestShowGridCells(t *testing.T) {
	s, err := demo.New(20)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ShowGrid(s)
	if err != nil {
		t.Fatal(err)
	}
	if g.Size.X > 20 || g.Size.Y > 20 || g.Size.Z > 20 {
		t.Fatalf("cells of %v m; want about 10 m", g.Size)
	}
	cells := map[airspace.Cell]bool{}
	for _, d := range s.Drones {
		c, err := g.CellOf(airspace.Point{X: d.Home.X, Y: d.Home.Y, Z: d.Home.Z + 1})
		if err != nil {
			t.Fatalf("home %v: %v", d.Home, err)
		}
		cells[c] = true
	}
	if len(cells) < 2 {
		t.Fatalf("20 homes over %d cell(s); want them spread over several", len(cells))
	}
	t.Logf("grid %v cells of %v m; 20 homes in %d cells", g.Dims, g.Size, len(cells))
}
