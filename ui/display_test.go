package ui

import (
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/core"
)

// TestDisplay checks the neuron-to-cell layouts: a 2-D grid with y up,
// depth slices side by side, a 1-D group wrapped into a square, and groups
// binned to MaxCells (every neuron in one cell, means of the members).
func TestDisplay(t *testing.T) {
	net, err := core.NewNetwork(core.Config{Backend: openBackend(t, "cpu"), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, d core.Dimension) *core.NeuronGroup {
		g, err := net.NewNeuronGroup(name, d, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	grid := newDisplay(mk("grid", core.Dimension{Width: 4, Height: 3, Depth: 1}))
	if grid.W != 4 || grid.H != 3 || grid.binned {
		t.Fatalf("4x3 grid: %dx%d binned=%v", grid.W, grid.H, grid.binned)
	}
	for i := range 12 {
		x, y := i%4, i/4
		if c := int(grid.cellOf[i]); c != (2-y)*4+x || grid.first[c] != int32(i) {
			t.Fatalf("neuron %d (x %d, y %d) in cell %d, want %d", i, x, y, c, (2-y)*4+x)
		}
	}
	deep := newDisplay(mk("deep", core.Dimension{Width: 2, Height: 2, Depth: 3}))
	if deep.W != 6 || deep.H != 2 {
		t.Fatalf("2x2x3: %dx%d, want 6x2", deep.W, deep.H)
	}
	if c := deep.cellOf[2*2*2+1]; c != 0*6+2*2+1+6 { // z 2, x 1, y 0: bottom row
		t.Fatalf("neuron (1, 0, 2) in cell %d", c)
	}
	line := newDisplay(mk("line", core.Size(1000)))
	if line.W != 32 || line.H != 32 || line.binned {
		t.Fatalf("1000 in a line: %dx%d, want wrapped to 32x32", line.W, line.H)
	}
	if line.first[1000] != -1 || line.first[999] != 999 {
		t.Fatal("wrapped cells: want neuron 999 in cell 999 and none after")
	}
	n := 400 * 300
	big := mk("big", core.Dimension{Width: 400, Height: 300, Depth: 1})
	bd := newDisplay(big)
	if bd.W != MaxCells || bd.H != MaxCells || !bd.binned {
		t.Fatalf("400x300: %dx%d binned=%v, want %d x %d binned", bd.W, bd.H, bd.binned, MaxCells, MaxCells)
	}
	v := make([]float32, n)
	total := 0
	for i := range v {
		v[i] = float32(i % 7)
	}
	for _, c := range bd.count {
		total += int(c)
	}
	if total != n {
		t.Fatalf("binned cells hold %d neurons, want %d", total, n)
	}
	m := bd.mean(v)
	sum := make([]float64, len(m))
	for i, x := range v {
		sum[bd.cellOf[i]] += float64(x)
	}
	for c := range m {
		if want := sum[c] / float64(bd.count[c]); math.Abs(float64(m[c])-want) > 1e-5 {
			t.Fatalf("cell %d: mean %v, want %v", c, m[c], want)
		}
	}
}
