package opengl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

func readGL(t testing.TB, b backend.Backend, x backend.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Len())
	if err := b.Read(out, x, 0); err != nil {
		t.Fatal(err)
	}
	return out
}

func filled(t testing.TB, b backend.Backend, data []float32) backend.Tensor {
	t.Helper()
	x, err := b.NewTensor(len(data), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(x, 0, data); err != nil {
		t.Fatal(err)
	}
	return x
}

// TestSparseAgainstCPU compares every sparse matrix operation with the cpu
// backend, for both scatter variants (float atomics where the driver has
// them, compare-and-swap) and the GPU kernel configuration.
func TestSparseAgainstCPU(t *testing.T) {
	for _, c := range []struct {
		name          string
		noAtomic, gpu bool
	}{{"default", false, false}, {"compare-and-swap", true, false}, {"gpu paths", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			g := openHooks(t, hooks{noAtomicFloat: c.noAtomic, gpuPaths: c.gpu}, backend.Options{})
			if c.name == "default" {
				t.Logf("float atomics (GL_NV_shader_atomic_float): %t", g.x.p.sparseAtomic[0] != nil)
			}
			cb := cpuTwin(t)
			for _, shape := range scatterShapes {
				sparseAgainstCPU(t, g, cb, shape.rows, shape.cols, shape.density)
			}
		})
	}
}

// scatterShapes are the sparse matrices of the comparisons with the cpu:
// short rows and columns, then long rows (long columns), whose spikes
// several work groups share on the GPU paths.
var scatterShapes = []struct {
	rows, cols int
	density    float64
}{{700, 500, 0.05}, {60, 3000, 0.4}, {3000, 60, 0.4}}

func sparseAgainstCPU(t *testing.T, g, cb backend.Backend, rows, cols int, density float64) {
	rs, ci, vals := backendtest.RandomCSR(3, rows, cols, density)
	r := rand.New(rand.NewPCG(4, 2))
	vec := func(n int, p float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			if r.Float64() < p {
				v[i] = float32(r.Float64())
			}
		}
		return v
	}
	for _, trans := range []bool{false, true} {
		outN, inN := rows, cols
		if trans {
			outN, inN = cols, rows
		}
		mask, x, d0 := vec(inN, 0.3), vec(inN, 1), vec(outN, 1)
		u, v := vec(rows, 1), vec(cols, 1)
		var got [2][][]float32
		for k, b := range []backend.Backend{g, cb} {
			w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
			if err != nil {
				t.Fatal(err)
			}
			d, m, xv := filled(t, b, d0), filled(t, b, mask), filled(t, b, x)
			b.Propagate(d, w, trans, m, 0.5)
			b.Propagate(d, w, trans, m, -0.25) // accumulates
			d2 := filled(t, b, d0)
			b.MatVec(d2, w, trans, xv, 1.5, 0.5)
			b.Outer(w, nil, nil, filled(t, b, u), filled(t, b, v), backend.OuterParams{Alpha: 0.1, Soft: true, Target: 1, Clip: true, Lo: -0.5, Hi: 0.8})
			w2 := filled(t, b, make([]float32, len(vals)))
			backend.Unary(backend.Abs, w2, w)
			backend.Copy(w, w2)
			axis := backend.Rows
			if trans {
				axis = backend.Cols
			}
			b.Normalize(w, axis, 2)
			got[k] = [][]float32{readGL(t, b, d), readGL(t, b, d2), readGL(t, b, w)}
		}
		for i, what := range []string{"Propagate", "MatVec", "Outer+Normalize"} {
			worst := 0.0
			for j := range got[0][i] {
				// relative: long rows add many terms in another order
				worst = math.Max(worst, math.Abs(float64(got[0][i][j]-got[1][i][j]))/(1+math.Abs(float64(got[1][i][j]))))
			}
			if worst > 1e-5 || len(got[0][i]) == 0 {
				t.Errorf("%dx%d, trans=%t: %s: gl and cpu differ by up to %g (relative; %d elements)", rows, cols, trans, what, worst, len(got[0][i]))
			}
		}
	}
}

func TestSparseZeroAllocsAndRelease(t *testing.T) {
	g := openOrSkip(t)
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	buffers, _ := g.LiveObjects()
	rs, ci, vals := backendtest.RandomCSR(5, 300, 400, 0.1)
	w, err := g.NewSparse(300, 400, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	dRows, dCols := filled(t, g, make([]float32, 300)), filled(t, g, make([]float32, 400))
	mRows, mCols := filled(t, g, make([]float32, 300)), filled(t, g, make([]float32, 400))
	backend.Fill(mRows, 1)
	backend.Fill(mCols, 1)
	step := func() {
		g.Propagate(dCols, w, true, mRows, 0.1)
		g.Propagate(dRows, w, false, mCols, 0.1)
		g.MatVec(dRows, w, false, mCols, 1, 0)
		g.MatVec(dCols, w, true, mRows, 1, 0)
		g.Outer(w, mRows, mCols, nil, nil, backend.OuterParams{Alpha: 0.01, Clip: true, Lo: -1, Hi: 1})
		g.Normalize(w, backend.Cols, 1)
		backend.Affine(w, w, 1, 0)
		if err := g.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if a := testing.AllocsPerRun(100, step); a != 0 {
		t.Errorf("a step of sparse operations allocates %v times, want 0", a)
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	w.Release()
	w.Release()
	for _, x := range []backend.Tensor{dRows, dCols, mRows, mCols} {
		x.Release()
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	if after, _ := g.LiveObjects(); after > buffers+2 { // +2: scratch spike lists
		t.Errorf("%d GL buffers after releasing the sparse matrix, %d before it", after, buffers)
	}
	msg := func() (m string) {
		defer func() { m = fmt.Sprint(recover()) }()
		g.Propagate(dCols, w, true, mRows, 1)
		return ""
	}()
	if !strings.Contains(msg, "released") {
		t.Errorf("Propagate with a released sparse matrix: panic %q, want one naming the release", msg)
	}
}

// TestSparseSplitOverBuffers makes buffers of 1024 elements and a sparse
// matrix of ~4500 entries, which the gl backend splits over five buffers:
// row-wise Propagate and PropagateDelayed (with per-entry delays) must
// match the cpu backend, elementwise work on the values must run, every
// operation that needs the column form must panic with a message naming
// the split, and row starts beyond one buffer are refused.
func TestSparseSplitOverBuffers(t *testing.T) {
	g := openHooks(t, hooks{maxBlockBytes: 4096}, backend.Options{})
	cb := cpuTwin(t)
	const rows, cols, depth = 150, 100, 5
	rs, ci, vals := backendtest.RandomCSR(6, rows, cols, 0.45)
	if len(ci) < 4*1024 {
		t.Fatalf("only %d entries; the test needs more than four buffers' worth", len(ci))
	}
	r := rand.New(rand.NewPCG(8, 1))
	mask, delays := make([]float32, rows), make([]int32, len(ci))
	for i := range mask {
		if r.IntN(3) == 0 {
			mask[i] = 1
		}
	}
	for e := range delays {
		delays[e] = int32(r.IntN(depth))
	}
	var got [2][2][]float32
	for k, b := range []backend.Backend{g, cb} {
		w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			if s := w.(*sparse); !s.split || len(s.vals.tiles) < 5 {
				t.Fatalf("matrix of %d entries: split %t over %d buffers, want split over at least 5", len(ci), s.split, len(s.vals.tiles))
			}
		}
		d, m := filled(t, b, make([]float32, cols)), filled(t, b, mask)
		b.Propagate(d, w, true, m, 0.5)
		ring, err := b.(backend.Delayer).NewDelayRing(depth, cols)
		if err != nil {
			t.Fatal(err)
		}
		dl := backendtest.NewDelays(t, b.(backend.Delayer), w.(backend.SparseTensor), delays)
		b.(backend.Delayer).PropagateDelayed(ring, 2, w.(backend.SparseTensor), true, dl, m, 2)
		got[k] = [2][]float32{readGL(t, b, d), backendtest.ReadRing(t, ring)}
	}
	for i, what := range []string{"Propagate", "PropagateDelayed"} {
		nonzero := 0
		for j := range got[0][i] {
			if math.Abs(float64(got[0][i][j]-got[1][i][j])) > 1e-4 {
				t.Fatalf("%s: element %d: gl %v, cpu %v", what, j, got[0][i][j], got[1][i][j])
			}
			if got[1][i][j] != 0 {
				nonzero++
			}
		}
		if nonzero < len(got[1][i])/2 {
			t.Fatalf("%s: only %d of %d elements non-zero: the test drives too little", what, nonzero, len(got[1][i]))
		}
	}
	w, err := g.NewSparse(rows, cols, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	backend.Affine(w, w, 2, 0)
	gotVals := readGL(t, g, w)
	for i := range gotVals {
		if gotVals[i] != 2*vals[i] {
			t.Fatalf("value %d = %v, want %v", i, gotVals[i], 2*vals[i])
		}
	}
	vecRows, vecCols := filled(t, g, make([]float32, rows)), filled(t, g, make([]float32, cols))
	ring, _ := g.NewDelayRing(depth, rows)
	dl := backendtest.NewDelays(t, g, w, delays)
	for name, f := range map[string]func(){
		"MatVec":                         func() { g.MatVec(vecRows, w, false, vecCols, 1, 0) },
		"Propagate without trans":        func() { g.Propagate(vecRows, w, false, vecCols, 1) },
		"Outer":                          func() { g.Outer(w, nil, nil, vecRows, vecCols, backend.OuterParams{Alpha: 1}) },
		"Normalize":                      func() { g.Normalize(w, backend.Rows, 1) },
		"PropagateDelayed without trans": func() { g.PropagateDelayed(ring, 0, w, false, dl, vecCols, 1) },
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			f()
			return ""
		}()
		if !strings.Contains(msg, name) || !strings.Contains(msg, "split over buffers") {
			t.Errorf("%s on a split matrix: panic %q, want one naming the operation and the split", name, msg)
		}
	}
	rs2, ci2, vals2 := backendtest.RandomCSR(7, 2000, 4, 0.01)
	if _, err := g.NewSparse(2000, 4, rs2, ci2, vals2); err == nil || !strings.Contains(err.Error(), "GL_MAX_SHADER_STORAGE_BLOCK_SIZE") {
		t.Fatalf("NewSparse with 2001 row starts and 1024 per buffer: error %v, want one naming GL_MAX_SHADER_STORAGE_BLOCK_SIZE", err)
	}
}

// BenchmarkSparsePropagate: N=4000, p=0.02, 1% of the sources spiking,
// sparse against dense, both orientations, synchronised every step.
func BenchmarkSparsePropagate(b *testing.B) {
	const n = 4000
	g := openOrSkip(b)
	rs, ci, vals := backendtest.RandomCSR(12, n, n, 0.02)
	w, err := g.NewSparse(n, n, rs, ci, vals)
	if err != nil {
		b.Fatal(err)
	}
	dense := make([]float32, n*n)
	for r := range n {
		for e := rs[r]; e < rs[r+1]; e++ {
			dense[r*n+int(ci[e])] = vals[e]
		}
	}
	wd, err := g.NewTensor(n, n)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Write(wd, 0, dense); err != nil {
		b.Fatal(err)
	}
	mask := make([]float32, n)
	for i := 0; i < n; i += 100 {
		mask[i] = 1
	}
	m, d := filled(b, g, mask), filled(b, g, make([]float32, n))
	for _, c := range []struct {
		name string
		w    backend.Tensor
	}{{"sparse", w}, {"dense", wd}} {
		for _, trans := range []bool{true, false} {
			b.Run(c.name+"/trans="+map[bool]string{true: "true", false: "false"}[trans], func(b *testing.B) {
				for b.Loop() {
					g.Propagate(d, c.w, trans, m, 0.1)
					if err := g.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestColumnFormOnDemand checks that a sparse matrix keeps only its row
// form (values, row starts, column indices: 3 buffers) until an operation
// reads it by columns, and that the column form made then gives the cpu's
// result.
func TestColumnFormOnDemand(t *testing.T) {
	g := openOrSkip(t)
	cb := cpuTwin(t)
	const rows, cols = 300, 200
	rs, ci, vals := backendtest.RandomCSR(17, rows, cols, 0.1)
	live := func() int {
		if err := g.Sync(); err != nil {
			t.Fatal(err)
		}
		n, _ := g.LiveObjects()
		return n
	}
	mRows, mCols := make([]float32, rows), make([]float32, cols)
	for i := range mRows {
		mRows[i] = float32(i % 4 / 3)
	}
	for i := range mCols {
		mCols[i] = float32(i % 2)
	}
	var got [2][]float32
	for side, b := range []backend.Backend{g, cb} {
		var before int
		if side == 0 {
			before = live()
		}
		w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
		if err != nil {
			t.Fatal(err)
		}
		dRows, dCols := filled(t, b, make([]float32, rows)), filled(t, b, make([]float32, cols))
		mr, mc := filled(t, b, mRows), filled(t, b, mCols)
		b.Propagate(dCols, w, true, mr, 1) // by rows
		var rowForm int
		if side == 0 {
			rowForm = live() - before
			if rowForm != 3+4+2 { // W's row form, four vectors, one spike list (cnt, list)
				t.Errorf("after NewSparse and a row-wise Propagate: %d new buffers, want 9 (W by rows only)", rowForm)
			}
		}
		b.Propagate(dRows, w, false, mc, 1) // by columns
		if side == 0 {
			if d := live() - before - rowForm; d != 3+2 { // column form, one more spike list
				t.Errorf("a Propagate by columns added %d buffers, want 5 (the column form and a spike list)", d)
			}
		}
		b.MatVec(dCols, w, true, mr, 1, 1)
		b.Normalize(w, backend.Cols, 2)
		got[side] = append(append(readGL(t, b, dRows), readGL(t, b, dCols)...), readGL(t, b, w)...)
	}
	for i := range got[1] {
		if d := math.Abs(float64(got[0][i] - got[1][i])); d > 1e-4*(1+math.Abs(float64(got[1][i]))) {
			t.Fatalf("value %d: gl %v, cpu %v", i, got[0][i], got[1][i])
		}
	}
}

// TestAdoptSparse checks that AdoptSparse stores the matrix NewSparse
// stores (values read back, a propagation through it) and keeps the
// caller's structure as its host copy instead of copying it.
func TestAdoptSparse(t *testing.T) {
	g := openOrSkip(t)
	rs, ci, vals := backendtest.RandomCSR(9, 80, 60, 0.2)
	ref, err := g.NewSparse(80, 60, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	rs2, ci2 := slices.Clone(rs), slices.Clone(ci)
	got, err := g.AdoptSparse(80, 60, rs2, ci2, slices.Clone(vals))
	if err != nil {
		t.Fatal(err)
	}
	if s := got.(*sparse); &s.rowStart[0] != &rs2[0] || &s.colIdx[0] != &ci2[0] {
		t.Errorf("AdoptSparse copied the structure it was given")
	}
	if s := ref.(*sparse); &s.rowStart[0] == &rs[0] {
		t.Errorf("NewSparse kept the caller's structure")
	}
	if !slices.Equal(readGL(t, g, ref), readGL(t, g, got)) {
		t.Errorf("values differ between NewSparse and AdoptSparse")
	}
	mask := make([]float32, 80)
	for i := range mask {
		if i%3 == 0 {
			mask[i] = 1
		}
	}
	d1, d2 := filled(t, g, make([]float32, 60)), filled(t, g, make([]float32, 60))
	g.Propagate(d1, ref, true, filled(t, g, mask), 1)
	g.Propagate(d2, got, true, filled(t, g, mask), 1)
	a, b := readGL(t, g, d1), readGL(t, g, d2)
	for j := range a { // atomic additions: equal up to their order
		if d := math.Abs(float64(a[j] - b[j])); d > 1e-5*(1+math.Abs(float64(a[j]))) {
			t.Fatalf("Propagate through the adopted matrix: [%d] = %v, want %v", j, b[j], a[j])
		}
	}
	if _, err := g.AdoptSparse(80, 60, rs2[:40], ci2, vals); err == nil {
		t.Errorf("AdoptSparse took a row start array of the wrong length")
	}
}
