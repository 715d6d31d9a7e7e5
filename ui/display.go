package ui

import (
	"math"

	"github.com/gomonnto/gomonnto/core"
)

// MaxCells bounds a grid panel's width and height in cells: a larger group
// is binned to it on the server (mean of values, max of spikes).
const MaxCells = 160

// display places a group's neurons on a panel of W x H cells. Row 0 is
// the top: y grows upwards, as in PymoNNto's images. Depth slices sit side
// by side; a one-dimensional group is wrapped into a square; groups wider
// or taller than MaxCells are binned.
type display struct {
	W, H   int
	cellOf []int32 // neuron -> cell (row-major from the top left)
	first  []int32 // cell -> its first neuron (-1: none)
	count  []int32 // neurons per cell
	binned bool
}

func newDisplay(g *core.NeuronGroup) *display {
	d := g.Dim
	n := g.Size
	// Unbinned layout: column and row of each neuron.
	var dw, dh int
	col := make([]int, n)
	row := make([]int, n)
	if d.Height == 1 && d.Depth == 1 && d.Width > 64 {
		dw = int(math.Ceil(math.Sqrt(float64(n))))
		dh = (n + dw - 1) / dw
		for i := range n {
			col[i], row[i] = i%dw, i/dw
		}
	} else {
		dw, dh = d.Width*d.Depth, d.Height
		for i := range n {
			x, y, z := i%d.Width, (i/d.Width)%d.Height, i/(d.Width*d.Height)
			col[i], row[i] = z*d.Width+x, d.Height-1-y
		}
	}
	bw, bh := min(dw, MaxCells), min(dh, MaxCells)
	p := &display{W: bw, H: bh, cellOf: make([]int32, n), first: make([]int32, bw*bh), count: make([]int32, bw*bh), binned: bw < dw || bh < dh}
	for c := range p.first {
		p.first[c] = -1
	}
	for i := range n {
		cx, cy := col[i]*bw/dw, row[i]*bh/dh
		c := int32(cy*bw + cx)
		p.cellOf[i] = c
		if p.first[c] < 0 {
			p.first[c] = int32(i)
		}
		p.count[c]++
	}
	return p
}

// mean bins v (one value per neuron) to the cells; empty cells are NaN.
func (p *display) mean(v []float32) []float32 {
	out := make([]float32, len(p.first))
	if !p.binned {
		for c := range out {
			out[c] = float32(math.NaN())
		}
		for i, x := range v {
			out[p.cellOf[i]] = x
		}
		return out
	}
	for i, x := range v {
		out[p.cellOf[i]] += x
	}
	for c := range out {
		if p.count[c] == 0 {
			out[c] = float32(math.NaN())
		} else {
			out[c] /= float32(p.count[c])
		}
	}
	return out
}

// meanNaN is mean ignoring NaN entries (absent synapses).
func (p *display) meanNaN(v []float32) []float32 {
	out := make([]float32, len(p.first))
	cnt := make([]int32, len(p.first))
	for i, x := range v {
		if x == x {
			out[p.cellOf[i]] += x
			cnt[p.cellOf[i]]++
		}
	}
	for c := range out {
		if cnt[c] == 0 {
			out[c] = float32(math.NaN())
		} else {
			out[c] /= float32(cnt[c])
		}
	}
	return out
}

func (p *display) spec() map[string]any {
	return map[string]any{"w": p.W, "h": p.H, "first": p.first, "binned": p.binned}
}

// finiteRange is the range of the finite values of x (0, 1 if none).
func finiteRange(x []float32) (lo, hi float32) {
	lo, hi = float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range x {
		if v == v && !math.IsInf(float64(v), 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}
