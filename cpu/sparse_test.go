package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

func denseCSR(rows, cols int, rs []int64, ci []int32, vals []float32) []float32 {
	d := make([]float32, rows*cols)
	for r := range rows {
		for e := rs[r]; e < rs[r+1]; e++ {
			d[r*cols+int(ci[e])] = vals[e]
		}
	}
	return d
}

func mustNew(t testing.TB, threads int) *Backend {
	t.Helper()
	b, err := New(backend.Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func vecOf(t testing.TB, b *Backend, data []float32) backend.Tensor {
	t.Helper()
	x, err := b.NewTensor(len(data), 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(Data(x), data)
	return x
}

// TestSparseLargeMatchesDense runs matrices large enough for the worker
// pool to split the work and compares with the dense operations: the
// spike-driven Propagate adds in the dense order, so the sums agree to
// rounding of the dense kernels (exactly without the assembly kernels).
func TestSparseLargeMatchesDense(t *testing.T) {
	const rows, cols = 1500, 2000
	rs, ci, vals := backendtest.RandomCSR(9, rows, cols, 0.1)
	dense := denseCSR(rows, cols, rs, ci, vals)
	for _, threads := range []int{1, 3} {
		for _, fma := range []bool{false, true} {
			if fma && !useFMA {
				continue
			}
			t.Run(fmt.Sprintf("threads=%d/fma=%t", threads, fma), func(t *testing.T) {
				b := mustNew(t, threads)
				b.fma = fma
				w, err := b.NewSparse(rows, cols, rs, ci, vals)
				if err != nil {
					t.Fatal(err)
				}
				wd, _ := b.NewTensor(rows, cols)
				copy(Data(wd), dense)
				r := rand.New(rand.NewPCG(10, 3))
				for _, trans := range []bool{false, true} {
					outN, inN := rows, cols
					if trans {
						outN, inN = cols, rows
					}
					for _, p := range []float64{0.01, 0.5, 1} {
						mask := make([]float32, inN)
						x := make([]float32, inN)
						for i := range mask {
							if r.Float64() < p {
								mask[i] = 1
							}
							x[i] = float32(r.Float64())
						}
						m, xv := vecOf(t, b, mask), vecOf(t, b, x)
						ds, dd := vecOf(t, b, make([]float32, outN)), vecOf(t, b, make([]float32, outN))
						b.Propagate(ds, w, trans, m, 0.3)
						b.Propagate(dd, wd, trans, m, 0.3)
						compare(t, fmt.Sprintf("Propagate trans=%t p=%g", trans, p), Data(ds), Data(dd), !fma)
						b.MatVec(ds, w, trans, xv, 1, 0.5)
						b.MatVec(dd, wd, trans, xv, 1, 0.5)
						compare(t, fmt.Sprintf("MatVec trans=%t", trans), Data(ds), Data(dd), false)
					}
				}
			})
		}
	}
}

func compare(t *testing.T, what string, got, want []float32, exact bool) {
	t.Helper()
	for i := range got {
		d := math.Abs(float64(got[i] - want[i]))
		if exact && got[i] != want[i] || d > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: element %d = %v, dense %v", what, i, got[i], want[i])
		}
	}
}

func TestSparseZeroAllocs(t *testing.T) {
	b := mustNew(t, 0)
	rs, ci, vals := backendtest.RandomCSR(11, 800, 900, 0.1)
	w, err := b.NewSparse(800, 900, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	ones := func(n int) backend.Tensor {
		x, _ := b.NewTensor(n, 1)
		backend.Fill(x, 1)
		return x
	}
	dR, dC, mR, mC := ones(800), ones(900), ones(800), ones(900)
	step := func() {
		b.Propagate(dC, w, true, mR, 0.1)
		b.Propagate(dR, w, false, mC, 0.1)
		b.MatVec(dR, w, false, mC, 1, 0)
		b.MatVec(dC, w, true, mR, 1, 0)
		b.Outer(w, mR, mC, nil, nil, backend.OuterParams{Alpha: 0.01, Clip: true, Lo: -1, Hi: 1})
		b.Normalize(w, backend.Cols, 1)
		b.Normalize(w, backend.Rows, 1)
		backend.Affine(w, w, 1, 0)
	}
	step()
	if a := testing.AllocsPerRun(50, step); a != 0 {
		t.Errorf("a step of sparse operations allocates %v times, want 0", a)
	}
	w.Release()
	w.Release()
	msg := func() (m string) {
		defer func() { m = fmt.Sprint(recover()) }()
		b.Propagate(dC, w, true, mR, 1)
		return ""
	}()
	if msg == "<nil>" {
		t.Error("Propagate with a released sparse matrix did not panic")
	}
}

// BenchmarkSparsePropagate: N=4000, p=0.02, 1% of the sources spiking,
// sparse against dense, in both orientations.
func BenchmarkSparsePropagate(b *testing.B) {
	const n = 4000
	rs, ci, vals := backendtest.RandomCSR(12, n, n, 0.02)
	be := mustNew(b, 0)
	w, err := be.NewSparse(n, n, rs, ci, vals)
	if err != nil {
		b.Fatal(err)
	}
	wd, _ := be.NewTensor(n, n)
	copy(Data(wd), denseCSR(n, n, rs, ci, vals))
	mask := make([]float32, n)
	for i := 0; i < n; i += 100 {
		mask[i] = 1
	}
	m, d := vecOf(b, be, mask), vecOf(b, be, make([]float32, n))
	for _, c := range []struct {
		name string
		w    backend.Tensor
	}{{"sparse", w}, {"dense", wd}} {
		for _, trans := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/trans=%t", c.name, trans), func(b *testing.B) {
				for b.Loop() {
					be.Propagate(d, c.w, trans, m, 0.1)
				}
			})
		}
	}
}

// TestAdoptSparse checks that AdoptSparse builds the matrix NewSparse
// builds (structure, values, a propagation through it) while keeping the
// caller's slices instead of copying them, and that it refuses what
// NewSparse refuses and values of the wrong length.
func TestAdoptSparse(t *testing.T) {
	b := mustNew(t, 2)
	rs, ci, vals := backendtest.RandomCSR(4, 50, 70, 0.2)
	ref, err := b.NewSparse(50, 70, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	rs2, ci2, vals2 := append([]int64(nil), rs...), append([]int32(nil), ci...), append([]float32(nil), vals...)
	got, err := b.AdoptSparse(50, 70, rs2, ci2, vals2)
	if err != nil {
		t.Fatal(err)
	}
	grs, gci := got.Structure()
	if &grs[0] != &rs2[0] || &gci[0] != &ci2[0] || &Data(got)[0] != &vals2[0] {
		t.Errorf("AdoptSparse copied the slices it was given")
	}
	if &Data(ref)[0] == &vals[0] {
		t.Errorf("NewSparse kept the caller's values")
	}
	mask := vecOf(t, b, make([]float32, 50))
	for i := range 50 {
		if i%4 == 0 {
			Data(mask)[i] = 1
		}
	}
	d1, d2 := vecOf(t, b, make([]float32, 70)), vecOf(t, b, make([]float32, 70))
	b.Propagate(d1, ref, true, mask, 1)
	b.Propagate(d2, got, true, mask, 1)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	for j := range 70 {
		if Data(d1)[j] != Data(d2)[j] {
			t.Fatalf("Propagate through the adopted matrix: [%d] = %v, want %v", j, Data(d2)[j], Data(d1)[j])
		}
	}
	if _, err := b.AdoptSparse(50, 70, rs2, ci2, vals2[:len(vals2)-1]); err == nil {
		t.Errorf("AdoptSparse took %d values for %d entries", len(vals2)-1, len(ci2))
	}
	bad := append([]int64(nil), rs...)
	bad[50]++
	if _, err := b.AdoptSparse(50, 70, bad, ci2, vals2); err == nil {
		t.Errorf("AdoptSparse took a row start past the entries")
	}
}
