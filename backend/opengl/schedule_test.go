package opengl

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// execStats returns the executor's barrier and compaction counts after
// the queued operations ran.
func execStats(t *testing.T, g *Backend) (barriers, compactions int) {
	t.Helper()
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.callFn(func() error {
		barriers, compactions = g.x.stats.barriers, g.x.stats.compactions
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return barriers, compactions
}

// TestSpikeListsReused checks that a mask is compacted once for several
// propagations and again after each kind of write to it (host Write,
// Fill, an elementwise operation, a fused kernel), with the results equal
// to the cpu's running the same sequence.
func TestSpikeListsReused(t *testing.T) {
	onBothPaths(t, func(g *Backend, gpu bool) {
		cb := cpuTwin(t)
		const rows, cols = 5000, 300 // rows > 4096: two compaction groups on GPU paths
		rs, ci, vals := backendtest.RandomCSR(11, rows, cols, 0.02)
		m1, m2 := make([]float32, rows), make([]float32, rows)
		for i := range m1 {
			m1[i] = float32((i / 7) % 2)
			m2[i] = float32((i / 5) % 3 % 2)
		}
		p, err := expr.Compile("m = 1 - m", expr.Env{Tensors: []string{"m"}})
		if err != nil {
			t.Fatal(err)
		}
		k, err := g.Fuse(p)
		if err != nil {
			t.Fatal(err)
		}
		kc, err := cb.Fuse(p)
		if err != nil {
			t.Fatal(err)
		}
		var got [2][]float32
		var counts []int
		for side, b := range []backend.Backend{g, cb} {
			w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
			if err != nil {
				t.Fatal(err)
			}
			mask := filled(t, b, m1)
			other := filled(t, b, m2)
			d1, d2 := filled(t, b, make([]float32, cols)), filled(t, b, make([]float32, cols))
			kern := k
			if side == 1 {
				kern = kc
			}
			prop := func() {
				b.Propagate(d1, w, true, mask, 1)
				b.Propagate(d2, w, true, mask, 0.5)
				got[side] = append(got[side], readGL(t, b, d1)...)
				got[side] = append(got[side], readGL(t, b, d2)...)
				if side == 0 {
					_, c := execStats(t, g)
					counts = append(counts, c)
				}
			}
			prop() // compacts once for both
			prop() // mask unchanged: no compaction
			if err := b.Write(mask, 0, m2); err != nil {
				t.Fatal(err)
			}
			prop()
			backend.Fill(mask, 0)
			backend.Fill(mask, 1)
			prop()
			backend.Affine(mask, other, -1, 1) // mask = 1 - other
			prop()
			kern.Run([]backend.Tensor{mask}, nil, rng.Key{})
			prop()
		}
		for i := 1; i < len(counts); i++ {
			want := 1
			if i == 1 {
				want = 0
			}
			if d := counts[i] - counts[i-1]; d != want {
				t.Errorf("gpu paths %t: propagation round %d compacted the mask %d times, want %d (counts %v)", gpu, i, d, want, counts)
			}
		}
		if counts[0] < 1 {
			t.Errorf("gpu paths %t: no compaction counted", gpu)
		}
		nonzero := 0
		for i := range got[1] {
			if d := math.Abs(float64(got[0][i] - got[1][i])); d > 1e-4*(1+math.Abs(float64(got[1][i]))) {
				t.Fatalf("gpu paths %t: value %d: gl %v, cpu %v", gpu, i, got[0][i], got[1][i])
			}
			if got[1][i] != 0 {
				nonzero++
			}
		}
		if nonzero < len(got[1])/2 {
			t.Errorf("gpu paths %t: only %d of %d values non-zero", gpu, nonzero, len(got[1]))
		}
	})
}

// TestAtomicScattersShareABarrier checks the barrier schedule of spike
// scatters into one ring: the first waits for the spike list, the next
// ones (atomic additions, which commute) run without a barrier, and the
// TakeSlot that reads the ring waits for all of them; the ring then holds
// what the cpu computes.
func TestAtomicScattersShareABarrier(t *testing.T) {
	onBothPaths(t, func(g *Backend, gpu bool) { testAtomicScatters(t, g, gpu) }) // gpu: indirect dispatches
}

func testAtomicScatters(t *testing.T, g *Backend, gpu bool) {
	cb := cpuTwin(t)
	const rows, cols, depth = 400, 300, 6
	rs, ci, vals := backendtest.RandomCSR(13, rows, cols, 0.05)
	delays := make([]int32, len(ci))
	for e := range delays {
		delays[e] = int32(e % depth)
	}
	mask := make([]float32, rows)
	for i := range mask {
		mask[i] = float32(i % 4 / 2) // (randomCSR leaves rows 1, 4, 7, ... empty)
	}
	var rings [2][]float32
	var dst [2][]float32
	for side, b := range []backend.Backend{g, cb} {
		dl := b.(backend.Delayer)
		w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
		if err != nil {
			t.Fatal(err)
		}
		delaysT := backendtest.NewDelays(t, dl, w, delays)
		ring, err := dl.NewDelayRing(depth, cols)
		if err != nil {
			t.Fatal(err)
		}
		m := filled(t, b, mask)
		d := filled(t, b, make([]float32, cols))
		dl.PropagateDelayed(ring, 0, w, true, delaysT, m, 1)
		var b1, c1 int
		if side == 0 {
			b1, c1 = execStats(t, g)
		}
		dl.PropagateDelayed(ring, 0, w, true, delaysT, m, 0.5)
		dl.PropagateDelayed(ring, 0, w, true, delaysT, m, 0.25)
		if side == 0 {
			b2, c2 := execStats(t, g)
			if b2 != b1 || c2 != c1 {
				t.Errorf("gpu paths %t: two more scatters into the ring added %d barriers and %d compactions, want 0 and 0", gpu, b2-b1, c2-c1)
			}
		}
		dl.TakeSlot(d, ring, 1)
		if side == 0 {
			b3, _ := execStats(t, g)
			if b3 != b1+1 {
				t.Errorf("gpu paths %t: TakeSlot after the scatters added %d barriers, want 1", gpu, b3-b1)
			}
		}
		dst[side] = readGL(t, b, d)
		rings[side] = backendtest.ReadRing(t, ring)
	}
	nonzero := 0
	for i := range rings[1] {
		if d := math.Abs(float64(rings[0][i] - rings[1][i])); d > 1e-5*(1+math.Abs(float64(rings[1][i]))) {
			t.Fatalf("ring element %d: gl %v, cpu %v", i, rings[0][i], rings[1][i])
		}
		if rings[1][i] != 0 {
			nonzero++
		}
	}
	for i := range dst[1] {
		if d := math.Abs(float64(dst[0][i] - dst[1][i])); d > 1e-5*(1+math.Abs(float64(dst[1][i]))) {
			t.Fatalf("taken slot element %d: gl %v, cpu %v", i, dst[0][i], dst[1][i])
		}
	}
	if nonzero < len(rings[1])/4 {
		t.Errorf("only %d of %d ring elements non-zero", nonzero, len(rings[1]))
	}
}

// TestManySpikes runs spike scatters with no spike (on GPUs: an indirect
// dispatch of no work group), with 70,000 spikes from a 70,000-element
// mask (more than the 65,535 groups an indirect dispatch gets, and more
// iterations than llvmpipe runs in one shader loop: it stops a loop after
// 65,535, so one invocation must not compact or scatter that much), and
// with a few, on the software and the GPU paths, and compares with the
// cpu.
func TestManySpikes(t *testing.T) {
	onBothPaths(t, func(g *Backend, gpu bool) { manySpikes(t, g, gpu) })
}

func manySpikes(t *testing.T, g *Backend, gpu bool) {
	cb := cpuTwin(t)
	const rows, cols = 70000, 40
	rs, ci, vals := backendtest.RandomCSR(19, rows, cols, 0.05)
	masks := [][]float32{make([]float32, rows), make([]float32, rows), make([]float32, rows)}
	for i := range rows {
		masks[1][i] = 1
		if i%9000 == 0 {
			masks[2][i] = 1
		}
	}
	var got [2][]float32
	for side, b := range []backend.Backend{g, cb} {
		w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
		if err != nil {
			t.Fatal(err)
		}
		d := filled(t, b, make([]float32, cols))
		for _, m := range masks {
			b.Propagate(d, w, true, filled(t, b, m), 0.5)
			got[side] = append(got[side], readGL(t, b, d)...)
		}
	}
	for i := range got[1] {
		if diff := math.Abs(float64(got[0][i] - got[1][i])); diff > 1e-4*(1+math.Abs(float64(got[1][i]))) {
			t.Fatalf("gpu paths %t: value %d (after mask %d): gl %v, cpu %v", gpu, i%cols, i/cols, got[0][i], got[1][i])
		}
	}
	for i := range cols {
		if got[1][i] != 0 {
			t.Fatalf("no spike, yet cpu's destination changed: %v", got[1][:cols])
		}
	}
	if slices.Equal(got[1][cols:2*cols], got[1][2*cols:]) || slices.Equal(got[1][:cols], got[1][cols:2*cols]) {
		t.Errorf("a mask added nothing: %v", got[1])
	}
}

// TestLongLoops runs the dense operations whose invocations loop over a
// whole dimension (MatVec both ways, Propagate both ways, a sum) on a 2 x
// 200,000 and a 200,000 x 2 matrix, on the software and the GPU paths, and
// compares with the cpu: llvmpipe leaves a shader's loops after 65,535
// iterations, so the software paths must split such loops (before they
// did, MatVec with trans and Propagate summed about a third).
func TestLongLoops(t *testing.T) {
	cb := cpuTwin(t)
	onBothPaths(t, func(g *Backend, gpu bool) {
		for _, sh := range [][2]int{{2, 200000}, {200000, 2}, {2, 300001}, {300001, 2}} {
			rows, cols := sh[0], sh[1]
			w := make([]float32, rows*cols)
			for i := range w {
				w[i] = float32(i%7) * 0.01
			}
			ones := func(b backend.Backend, n int) backend.Tensor {
				x := filled(t, b, make([]float32, n))
				backend.Fill(x, 1)
				return x
			}
			var got [2][][]float32
			for side, b := range []backend.Backend{g, cb} {
				W, err := b.NewTensor(rows, cols)
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Write(W, 0, w); err != nil {
					t.Fatal(err)
				}
				y, yt := filled(t, b, make([]float32, rows)), filled(t, b, make([]float32, cols))
				b.MatVec(y, W, false, ones(b, cols), 1, 0)
				b.MatVec(yt, W, true, ones(b, rows), 1, 0)
				p, pt := filled(t, b, make([]float32, rows)), filled(t, b, make([]float32, cols))
				b.Propagate(p, W, false, ones(b, cols), 1)
				b.Propagate(pt, W, true, ones(b, rows), 1)
				s := filled(t, b, make([]float32, 1))
				b.Reduce(backend.Sum, s, 0, W)
				for _, v := range []backend.Tensor{y, yt, p, pt, s} {
					got[side] = append(got[side], readGL(t, b, v))
				}
			}
			for k, name := range []string{"MatVec", "MatVec with trans", "Propagate", "Propagate with trans", "Reduce Sum"} {
				for i := range got[1][k] {
					a, c := got[0][k][i], got[1][k][i]
					// float32 sums of 300,000 terms in another order: 1e-2
					if math.Abs(float64(a-c)) > 1e-2*(1+math.Abs(float64(c))) {
						t.Errorf("gpu paths %t, %dx%d: %s[%d]: gl %v, cpu %v", gpu, rows, cols, name, i, a, c)
						break
					}
				}
			}
		}
	})
}

// TestLongSparseRows runs MatVec over a sparse matrix with two rows of
// 100,000 entries: on a software renderer, which would drop most of each
// row (llvmpipeLoopLimit), it must be refused with an error that says so
// and leave the backend working; on a GPU it must give the cpu's result.
func TestLongSparseRows(t *testing.T) {
	g := openOrSkip(t)
	cb := cpuTwin(t)
	const rows, cols = 2, 100000
	rs := []int64{0, cols, 2 * cols}
	ci := make([]int32, 2*cols)
	vals := make([]float32, 2*cols)
	for e := range ci {
		ci[e] = int32(e % cols)
		vals[e] = float32(e%5) * 0.1
	}
	var got [2][]float32
	for side, b := range []backend.Backend{g, cb} {
		w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
		if err != nil {
			t.Fatal(err)
		}
		y := filled(t, b, make([]float32, rows))
		x := filled(t, b, make([]float32, cols))
		backend.Fill(x, 1)
		b.MatVec(y, w, false, x, 1, 0)
		err = b.Sync()
		if side == 0 && g.Software() {
			if err == nil || !strings.Contains(err.Error(), "stops a shader loop after 65535 iterations") || !strings.Contains(err.Error(), "row of 100000 entries") {
				t.Fatalf("MatVec over rows of 100,000 entries on %s: err = %v, want the loop limit named", g.Device(), err)
			}
			backend.Fill(y, 3)
			if v := readGL(t, b, y); v[0] != 3 || v[1] != 3 {
				t.Fatalf("after the refused MatVec: %v, want [3 3]", v)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got[side] = readGL(t, b, y)
	}
	for i := range got[1] {
		if math.Abs(float64(got[0][i]-got[1][i])) > 1e-3*(1+math.Abs(float64(got[1][i]))) {
			t.Errorf("row %d: gl %v, cpu %v", i, got[0][i], got[1][i])
		}
	}
}

// TestFlushStep runs 2000 steps that each add 1 to every element (and
// the step number to a second tensor), ended by FlushStep, which leaves
// a step queued while the GL thread still runs the batch before: every
// step must still run once and in order, whether Read, Flush or Sync
// comes next, and a failed step's error must surface at a later
// FlushStep or Flush.
func TestFlushStep(t *testing.T) {
	g := openOrSkip(t)
	x := filled(t, g, make([]float32, 1000))
	y := filled(t, g, make([]float32, 3))
	const steps = 2000
	for s := 1; s <= steps; s++ {
		backend.Affine(x, x, 1, 1)
		backend.Affine(y, y, 0, float32(s)) // y = s: the last step wins
		if err := g.FlushStep(); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range readGL(t, g, x) {
		if v != steps {
			t.Fatalf("x[%d] = %v after %d steps, want %d", i, v, steps, steps)
		}
	}
	if v := readGL(t, g, y); v[0] != steps {
		t.Fatalf("y = %v, want %d (the last step)", v[0], steps)
	}
	for range 10 {
		backend.Affine(x, x, 1, 1)
		if err := g.FlushStep(); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	if v := readGL(t, g, x)[999]; v != steps+10 {
		t.Fatalf("x = %v after Sync, want %d", v, steps+10)
	}
	if a := testing.AllocsPerRun(200, func() {
		backend.Affine(x, x, 1, 1)
		if err := g.FlushStep(); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("a step ended by FlushStep allocates %v times, want 0", a)
	}
	// An error recorded on the GL thread is reported by a later call.
	g.x.b.setErr(errors.New("injected device error"))
	err := g.FlushStep()
	if err == nil {
		err = g.Flush()
	}
	if err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("error after FlushStep: %v, want the injected one", err)
	}
}
