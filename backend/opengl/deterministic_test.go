package opengl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
	"github.com/gomonnto/gomonnto/cpu"
)

// openDeterministic opens a gl backend with backend.Options.Deterministic,
// on the renderer's own kernel variants or (gpu) those meant for GPUs,
// closed when the test ends.
func openDeterministic(t *testing.T, gpu bool) *Backend {
	t.Helper()
	return checkDeterministic(t, openHooks(t, hooks{gpuPaths: gpu}, backend.Options{Deterministic: true}))
}

// checkDeterministic fails unless g reports Deterministic, and returns g.
func checkDeterministic(t *testing.T, g *Backend) *Backend {
	t.Helper()
	if !g.Deterministic() || !backend.IsDeterministic(g) {
		t.Fatal("a backend opened with Deterministic does not report it")
	}
	return g
}

// detMatrix is one sparse matrix of the deterministic scenario, with the
// delays of its entries.
type detMatrix struct {
	rows, cols int
	rs         []int64
	ci         []int32
	vals       []float32
	delays     []int32
}

func newDetMatrix(seed uint64, rows, cols int, p float64, maxDelay int) detMatrix {
	rs, ci, vals := backendtest.RandomCSR(seed, rows, cols, p)
	r := rand.New(rand.NewPCG(seed, 9))
	delays := make([]int32, len(ci))
	for e := range delays {
		delays[e] = int32(r.IntN(10)) // depth 8: some beyond the ring
	}
	if len(delays) > 0 {
		delays[0] = int32(maxDelay) // sets the packing: 8, 16 or 32 bits
	}
	return detMatrix{rows, cols, rs, ci, vals, delays}
}

// detMatrices: long rows (A, ~1200 entries; C, ~10,800, the longest a
// software renderer takes in one loop is 16,383), many short ones (B:
// 70,000 sources, ~3 entries a row, ~470 a column), and two more that
// share rings with A (E, into A's 3000 destinations; G, 3000 x 800 read
// by columns into them too). Delays up to 300 (16 bits), 9 (8 bits),
// 70,000 (float32).
func detMatrices() []detMatrix {
	return []detMatrix{
		newDetMatrix(31, 400, 3000, 0.3, 300),  // A
		newDetMatrix(32, 70000, 300, 0.01, 9),  // B
		newDetMatrix(33, 3, 12000, 0.9, 70000), // C
		newDetMatrix(34, 2000, 3000, 0.02, 9),  // E
		newDetMatrix(35, 3000, 800, 0.05, 300), // G
		newDetMatrix(36, 400, 5000, 0.05, 9),   // F: A's 400 rows
	}
}

// detScenario runs steps of sparse Propagate both ways (several matrices
// adding into one destination) and PropagateDelayed both ways into rings
// that several matrices (and both directions) share, with random masks,
// all-spiking and silent steps, and returns what it reads after every
// step and the rings at the end. Every value comes from additions that
// the cpu makes in the same order (each taken slot goes to a zeroed
// vector, which is then added to a sum), so gl must equal it bit for bit.
func detScenario(t *testing.T, b backend.Backend, ms []detMatrix, steps int) [][]float32 {
	t.Helper()
	sp, dl := b.(backend.Sparser), b.(backend.Delayer)
	var ws []backend.SparseTensor
	var dls []backend.Delays
	for _, m := range ms {
		w, err := sp.NewSparse(m.rows, m.cols, m.rs, m.ci, m.vals)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
		dls = append(dls, backendtest.NewDelays(t, dl, w, m.delays))
	}
	A, B, C, E, G, F := 0, 1, 2, 3, 4, 5
	const depth = 8
	ring3000, err := dl.NewDelayRing(depth, 3000) // A, E with trans; G without
	if err != nil {
		t.Fatal(err)
	}
	ring400, err := dl.NewDelayRing(depth, 400) // A, F without trans
	if err != nil {
		t.Fatal(err)
	}
	ring300, err := dl.NewDelayRing(depth, 300) // B with trans
	if err != nil {
		t.Fatal(err)
	}
	ring12000, err := dl.NewDelayRing(depth, 12000) // C with trans
	if err != nil {
		t.Fatal(err)
	}
	zeros := func(n int) backend.Tensor { return filled(t, b, make([]float32, n)) }
	// Propagate destinations: [0] A, E with trans (3000), [1] A, F
	// without (400), [2] B with (300), [3] B without (70,000), [4] C with
	// (12,000), [5] C without (3).
	dst := []backend.Tensor{zeros(3000), zeros(400), zeros(300), zeros(70000), zeros(12000), zeros(3)}
	rings := []backend.DelayRing{ring3000, ring400, ring300, ring12000}
	taken := make([]backend.Tensor, len(rings))
	sums := make([]backend.Tensor, len(rings))
	for i, rg := range rings {
		taken[i], sums[i] = zeros(rg.Len()), zeros(rg.Len())
	}
	// Masks of each matrix's rows (sources with trans) and columns.
	rowMask, colMask := make([]backend.Tensor, len(ms)), make([]backend.Tensor, len(ms))
	for k, m := range ms {
		rowMask[k], colMask[k] = zeros(m.rows), zeros(m.cols)
	}
	r := rand.New(rand.NewPCG(77, 1))
	draw := func(x backend.Tensor, step int) {
		v := make([]float32, x.Len())
		p := []float64{0.1, 0.5, 0.02}[step%3]
		switch {
		case step == 3:
			p = 1 // every source spikes
		case step == 4:
			p = 0 // none
		}
		for i := range v {
			if r.Float64() < p {
				v[i] = 1
			}
		}
		if err := b.Write(x, 0, v); err != nil {
			t.Fatal(err)
		}
	}
	var out [][]float32
	for step := range steps {
		for k := range ms {
			draw(rowMask[k], step)
			draw(colMask[k], step)
		}
		b.Propagate(dst[0], ws[A], true, rowMask[A], 0.5)
		b.Propagate(dst[0], ws[E], true, rowMask[E], -0.75)
		b.Propagate(dst[1], ws[A], false, colMask[A], 0.25)
		b.Propagate(dst[1], ws[F], false, colMask[F], 1.5)
		b.Propagate(dst[2], ws[B], true, rowMask[B], 0.3)
		b.Propagate(dst[3], ws[B], false, colMask[B], -0.4)
		b.Propagate(dst[4], ws[C], true, rowMask[C], 0.7)
		b.Propagate(dst[5], ws[C], false, colMask[C], 0.9)
		slot := step % depth
		dl.PropagateDelayed(ring3000, slot, ws[A], true, dls[A], rowMask[A], 0.5)
		dl.PropagateDelayed(ring3000, slot, ws[E], true, dls[E], rowMask[E], -1.25)
		dl.PropagateDelayed(ring3000, slot, ws[G], false, dls[G], colMask[G], 0.125)
		dl.PropagateDelayed(ring400, slot, ws[A], false, dls[A], colMask[A], 0.75)
		dl.PropagateDelayed(ring400, slot, ws[F], false, dls[F], colMask[F], -0.5)
		dl.PropagateDelayed(ring300, slot, ws[B], true, dls[B], rowMask[B], 1.1)
		dl.PropagateDelayed(ring12000, slot, ws[C], true, dls[C], rowMask[C], 0.6)
		for i, rg := range rings {
			backend.Fill(taken[i], 0)
			dl.TakeSlot(taken[i], rg, slot)
			backend.Binary(backend.Add, sums[i], sums[i], taken[i])
		}
		for _, x := range append(append(dst[:len(dst):len(dst)], taken...), sums...) {
			out = append(out, readGL(t, b, x))
		}
	}
	for _, rg := range rings {
		out = append(out, backendtest.ReadRing(t, rg))
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	return out
}

// diffBits returns the number of elements of a and b whose bits differ
// and a description of the first.
func diffBits(a, b [][]float32) (int, string) {
	n, first := 0, ""
	for i := range a {
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				if n == 0 {
					first = fmt.Sprintf("reading %d, element %d: %v (%#08x) against %v (%#08x)", i, j, a[i][j], math.Float32bits(a[i][j]), b[i][j], math.Float32bits(b[i][j]))
				}
				n++
			}
		}
	}
	return n, first
}

// TestDeterministic runs the scenario of sparse Propagate both ways and
// PropagateDelayed both ways (rings shared by several matrices, rows of
// ~10,000 entries, 35,000 spikes in a step) for 40 steps in two fresh
// deterministic backends, on the renderer's kernels and on the GPU ones:
// the two must agree bit for bit, and with the cpu backend, which adds in
// the same order (into each element: call order, then spike order). The
// cpu runs on one thread: with several, a ring cut into parts by
// destination (ring3000) may add a slot's items of a whole-ring task and
// of a part's task in another order in some steps (cpu/delay.go).
func TestDeterministic(t *testing.T) {
	const steps = 40
	ms := detMatrices()
	cb, err := cpu.New(backend.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	want := detScenario(t, cb, ms, steps)
	nonzero := 0
	for _, v := range want {
		for _, x := range v {
			if x != 0 {
				nonzero++
			}
		}
	}
	if nonzero == 0 {
		t.Fatal("the scenario computes only zeros")
	}
	for _, gpu := range []bool{false, true} {
		t.Run(fmt.Sprintf("gpu paths %t", gpu), func(t *testing.T) {
			var runs [2][][]float32
			for k := range runs {
				runs[k] = detScenario(t, openDeterministic(t, gpu), ms, steps)
			}
			if n, first := diffBits(runs[0], runs[1]); n > 0 {
				t.Errorf("two deterministic runs differ in %d values; first: %s", n, first)
			}
			if n, first := diffBits(runs[0], want); n > 0 {
				t.Errorf("deterministic gl and cpu differ in %d values; first (gl against cpu): %s", n, first)
			}
		})
	}
}

// TestDeterministicSplit runs row-wise Propagate and PropagateDelayed on
// a matrix split over buffers of 1024 elements (one ordered dispatch per
// buffer) in a deterministic backend: the cpu's result bit for bit.
func TestDeterministicSplit(t *testing.T) {
	g := checkDeterministic(t, openHooks(t, hooks{maxBlockBytes: 4096}, backend.Options{Deterministic: true}))
	cb := cpuTwin(t)
	const rows, cols, depth, steps = 150, 100, 5, 10
	m := newDetMatrix(6, rows, cols, 0.45, 9)
	var got [2][][]float32
	for side, b := range []backend.Backend{g, cb} {
		w, err := b.(backend.Sparser).NewSparse(rows, cols, m.rs, m.ci, m.vals)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := w.(*sparse); ok && len(s.vals.tiles) < 5 {
			t.Fatalf("matrix of %d entries in %d buffers, want at least 5", len(m.ci), len(s.vals.tiles))
		}
		dl := backendtest.NewDelays(t, b.(backend.Delayer), w, m.delays)
		ring, err := b.(backend.Delayer).NewDelayRing(depth, cols)
		if err != nil {
			t.Fatal(err)
		}
		d := filled(t, b, make([]float32, cols))
		r := rand.New(rand.NewPCG(5, 5))
		for s := range steps {
			mask := make([]float32, rows)
			for i := range mask {
				if r.IntN(2) == 0 {
					mask[i] = 1
				}
			}
			mt := filled(t, b, mask)
			b.Propagate(d, w, true, mt, 0.5)
			b.(backend.Delayer).PropagateDelayed(ring, s%depth, w, true, dl, mt, 2)
			got[side] = append(got[side], readGL(t, b, d), backendtest.ReadRing(t, ring))
		}
	}
	if n, first := diffBits(got[0], got[1]); n > 0 {
		t.Errorf("split matrix: deterministic gl and cpu differ in %d values; first (gl against cpu): %s", n, first)
	}
}

// TestDeterministicDefaults checks that a backend opened without the
// option says it is not deterministic; that delayed propagation in a
// deterministic one allocates nothing per step either; and that after
// the scenario's scatters no indirect argument triple of a spike list's
// ordered ranges (ordered.glsl) would launch a group: each range that ran
// zeroed its own, so that a later scatter with fewer spikes runs no
// range past them.
func TestDeterministicDefaults(t *testing.T) {
	if g := openOrSkip(t); g.Deterministic() || backend.IsDeterministic(g) {
		t.Error("a backend opened without Deterministic reports it")
	}
	ms := detMatrices()
	for _, gpu := range []bool{false, true} {
		g := openDeterministic(t, gpu)
		delayZeroAllocs(t, g)
		detScenario(t, g, ms, 6)
		g.mu.Lock()
		err := g.callFn(func() error {
			x := g.x
			x.updateBarrier()
			for _, l := range x.lists {
				if l.mask == nil {
					continue
				}
				words := make([]uint32, 3*(1+ceilDiv(l.n, orderedMinChunk)))
				gl.BindBuffer(gl.COPY_READ_BUFFER, l.cnt.id)
				gl.GetBufferSubData(gl.COPY_READ_BUFFER, 4*l.args, 4*len(words), unsafe.Pointer(&words[0]))
				for k := 2; k < len(words); k += 3 {
					if words[k] != 0 {
						return fmt.Errorf("gpu paths %t: spike list of %d: triple %d of the ordered ranges is %v, want z = 0", gpu, l.n, k/3, words[k-2:k+1])
					}
				}
			}
			return x.glError("reading the arguments")
		})
		g.mu.Unlock()
		if err != nil {
			t.Error(err)
		}
	}
}
