package core_test

import (
	"maps"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// totalRule is a Total of n synapses from nSrc to nDst whose value and
// delay name the synapse (value k/8 up to 1000, delay k mod 7 + 1), so
// that a pair's entry says which synapses it holds.
func totalRule(nSrc, nDst, n int, key uint64) core.Total {
	return core.Total{Src: nSrc, Dst: nDst, N: n, Key: rng.Key{Seed: key},
		Value: func(k int) float32 { return float32(k%1000) / 8 },
		Delay: func(k int) int32 { return int32(k%7 + 1) }}
}

// TestTotalAgainstDefinition draws a Total in both layouts and checks it
// entry for entry against its definition, computed here synapse by
// synapse: source floor(w0 Src / 2^32), destination floor(w1 Dst / 2^32)
// of rng.Words(Key, k), one entry per pair with the sum of its synapses'
// values (in order of k) and the delay of its first synapse.
func TestTotalAgainstDefinition(t *testing.T) {
	const nSrc, nDst, n = 70, 50, 20000
	p := totalRule(nSrc, nDst, n, 11)
	type entry struct {
		v float32
		d int32
	}
	want := map[[2]int]entry{}
	for k := range n {
		w := rng.Words(p.Key, uint64(k))
		pair := [2]int{int((uint64(w[0]) * nSrc) >> 32), int((uint64(w[1]) * nDst) >> 32)}
		e, ok := want[pair]
		if !ok {
			e.d = p.Delay(k)
		}
		e.v += p.Value(k)
		want[pair] = e
	}
	for _, layout := range []core.Layout{core.SxD, core.DxS} {
		h := p.Draw(layout)
		rows, cols := nSrc, nDst
		if layout == core.DxS {
			rows, cols = nDst, nSrc
		}
		if h.Rows != rows || h.Cols != cols || len(h.Start) != rows+1 || len(h.Idx) != len(want) || len(h.Vals) != len(want) || len(h.Steps) != len(want) {
			t.Fatalf("%v: %dx%d with %d entries, want %dx%d with %d", layout, h.Rows, h.Cols, len(h.Idx), rows, cols, len(want))
		}
		for r := range rows {
			for e := h.Start[r]; e < h.Start[r+1]; e++ {
				if e > h.Start[r] && h.Idx[e] <= h.Idx[e-1] {
					t.Fatalf("%v: row %d not sorted", layout, r)
				}
				pair := [2]int{r, int(h.Idx[e])}
				if layout == core.DxS {
					pair = [2]int{int(h.Idx[e]), r}
				}
				if got := (entry{h.Vals[e], h.Steps[e]}); got != want[pair] {
					t.Fatalf("%v: pair %v = %v, want %v", layout, pair, got, want[pair])
				}
			}
		}
	}
}

// TestTotalStatistics checks the rule's statistics: without Value every
// synapse counts 1, so the values sum to N; the out- and in-degrees
// (synapses per source and per destination) are binomial, their means N /
// Src and N / Dst, their variances near N p (1 - p); and the number of
// distinct pairs is near its expectation P (1 - (1 - 1/P)^N), P = Src Dst.
func TestTotalStatistics(t *testing.T) {
	const nSrc, nDst, n = 400, 300, 300000
	h := core.Total{Src: nSrc, Dst: nDst, N: n, Key: rng.Key{Seed: 5}}.Draw(core.SxD)
	if h.Steps != nil {
		t.Errorf("no Delay, but %d steps", len(h.Steps))
	}
	out, in := make([]float64, nSrc), make([]float64, nDst)
	sum := 0.0
	for r := range nSrc {
		for e := h.Start[r]; e < h.Start[r+1]; e++ {
			out[r] += float64(h.Vals[e])
			in[h.Idx[e]] += float64(h.Vals[e])
			sum += float64(h.Vals[e])
		}
	}
	if sum != n {
		t.Fatalf("values sum to %v, want %d synapses", sum, n)
	}
	for _, c := range []struct {
		what string
		deg  []float64
	}{{"out-degree", out}, {"in-degree", in}} {
		p := 1 / float64(len(c.deg))
		mean, sq := 0.0, 0.0
		for _, x := range c.deg {
			mean += x
		}
		mean /= float64(len(c.deg))
		for _, x := range c.deg {
			sq += (x - mean) * (x - mean)
		}
		variance, wantVar := sq/float64(len(c.deg)-1), n*p*(1-p)
		t.Logf("%s: mean %.1f, variance %.1f (binomial %.1f)", c.what, mean, variance, wantVar)
		if math.Abs(variance/wantVar-1) > 0.25 {
			t.Errorf("%s: variance %.1f, want %.1f within 25%%", c.what, variance, wantVar)
		}
	}
	pairs := float64(nSrc * nDst)
	wantNNZ := pairs * (1 - math.Pow(1-1/pairs, n))
	if d := math.Abs(float64(len(h.Idx)) - wantNNZ); d > 5*math.Sqrt(wantNNZ) {
		t.Errorf("%d distinct pairs, want about %.0f", len(h.Idx), wantNNZ)
	}
}

// TestTotalDeterministic: the same key draws the same matrix, on 1 and 3
// cores (the synapses and rows split into other chunks), and another key
// another matrix.
func TestTotalDeterministic(t *testing.T) {
	draw := func(procs int, key uint64) core.HostSparse {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		return totalRule(900, 700, 1<<20, key).Draw(core.DxS)
	}
	same := func(a, b core.HostSparse) bool {
		return slices.Equal(a.Start, b.Start) && slices.Equal(a.Idx, b.Idx) && slices.Equal(a.Vals, b.Vals) && slices.Equal(a.Steps, b.Steps)
	}
	a := draw(1, 3)
	if !same(a, draw(3, 3)) || !same(a, draw(1, 3)) {
		t.Error("the same key draws different matrices on 1 and 3 cores")
	}
	if same(a, draw(3, 4)) {
		t.Error("keys 3 and 4 draw the same matrix")
	}
}

// TestTotalBlocks checks that TotalBlocks joins the rules' matrices:
// block (dst, src) of the joined matrix is the rule's Draw, entry for
// entry, in both layouts, with empty blocks left empty.
func TestTotalBlocks(t *testing.T) {
	sizes := []int{30, 0, 45, 20}
	rule := func(dst, src int) core.Total {
		if (dst+src)%3 == 1 || sizes[dst] == 0 || sizes[src] == 0 {
			return core.Total{}
		}
		return totalRule(sizes[src], sizes[dst], 500*(1+dst+2*src), uint64(10*dst+src))
	}
	off := []int{0, 30, 30, 75, 95}
	for _, layout := range []core.Layout{core.SxD, core.DxS} {
		h := core.TotalBlocks(sizes, rule, layout)
		if h.Rows != 95 || h.Cols != 95 || len(h.Start) != 96 {
			t.Fatalf("%v: %dx%d, want 95x95", layout, h.Rows, h.Cols)
		}
		entries := 0
		for dst := range sizes {
			for src := range sizes {
				r := rule(dst, src)
				if r.N == 0 {
					continue
				}
				b := r.Draw(layout)
				ro, co := off[src], off[dst]
				if layout == core.DxS {
					ro, co = co, ro
				}
				for i := range b.Rows {
					row := h.Idx[h.Start[ro+i]:h.Start[ro+i+1]]
					for e := b.Start[i]; e < b.Start[i+1]; e++ {
						at, ok := slices.BinarySearch(row, b.Idx[e]+int32(co))
						g := h.Start[ro+i] + int64(at)
						if !ok || h.Vals[g] != b.Vals[e] || h.Steps[g] != b.Steps[e] {
							t.Fatalf("%v: block (%d, %d) entry (%d, %d) not in the joined matrix", layout, dst, src, i, b.Idx[e])
						}
						entries++
					}
				}
			}
		}
		if entries != len(h.Idx) || entries == 0 {
			t.Errorf("%v: %d entries in the blocks, %d joined", layout, entries, len(h.Idx))
		}
	}
}

// TestSparseMatrixTotal makes a fixed-total-number matrix on a synapse
// group: values "1" sum to the number of synapses, the same seed gives
// the same matrix in either layout, and bad arguments are errors.
func TestSparseMatrixTotal(t *testing.T) {
	get := func(layout core.Layout, values string) map[[2]int]float32 {
		n := newLayoutNet(t, 8, layout)
		a, _ := n.NewNeuronGroup("A", core.Size(60), nil)
		b, _ := n.NewNeuronGroup("B", core.Size(40), nil)
		s, err := n.NewSynapseGroup("S", a, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.SparseMatrixTotal(3000, values)
		if err != nil {
			t.Fatal(err)
		}
		if r, c := w.Rows(), w.Cols(); [2]int{r, c} != map[core.Layout][2]int{core.SxD: {60, 40}, core.DxS: {40, 60}}[layout] {
			t.Fatalf("%v: matrix %dx%d", layout, r, c)
		}
		return pairs(t, s, w, layout)
	}
	ones := get(core.SxD, "1")
	sum := float32(0)
	for _, v := range ones {
		sum += v
	}
	// 3000 synapses on 2400 pairs: 2400 (1 - (1 - 1/2400)^3000) = 1712
	// distinct pairs expected.
	if sum != 3000 || len(ones) < 1600 || len(ones) > 1820 {
		t.Errorf("values 1: %d entries summing to %v, want 3000 synapses on about 1712 pairs", len(ones), sum)
	}
	x, y := get(core.SxD, "uniform(1, 2)"), get(core.DxS, "uniform(1, 2)")
	if !maps.Equal(x, y) || !maps.Equal(x, get(core.SxD, "uniform(1, 2)")) {
		t.Error("the same seed gives different matrices across layouts or runs")
	}
	for p, v := range x {
		if c := ones[p]; !(v >= c && v < 2*c) {
			t.Fatalf("pair %v of %v synapses has value %v, want in [%v, %v)", p, c, v, c, 2*c)
		}
	}
	n := newNet(t, 1)
	a, _ := n.NewNeuronGroup("A", core.Size(5), nil)
	s, _ := n.NewSynapseGroup("S", a, a, nil)
	if _, err := s.SparseMatrixTotal(-1, "1"); err == nil {
		t.Error("-1 synapses: no error")
	}
	if _, err := s.SparseMatrixTotal(10, "1", core.NoSelf()); err == nil {
		t.Error("NoSelf: no error")
	}
	if _, err := s.SparseMatrixTotal(10, "uniform(1"); err == nil {
		t.Error("bad init string: no error")
	}
	if w, err := s.SparseMatrixTotal(0, "1"); err != nil || w.(backend.SparseTensor).NNZ() != 0 {
		t.Errorf("0 synapses: %v, %v; want an empty matrix", w, err)
	}
}
