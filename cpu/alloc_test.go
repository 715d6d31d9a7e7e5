package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// TestZeroAllocs checks that every per-step operation allocates nothing,
// on the inline path (n=100, 10x10) and on the worker path (n=200000,
// 600x600), with the pool both of this machine's size and larger.
func TestZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked without -short")
	}
	for _, th := range []int{1, 2, 3} {
		for _, sz := range []struct{ n, side int }{{100, 10}, {200000, 600}} {
			t.Run(fmt.Sprintf("threads%d/n%d", th, sz.n), func(t *testing.T) {
				testZeroAllocs(t, open(t, th), sz.n, sz.side)
			})
		}
	}
}

func testZeroAllocs(t *testing.T, b *Backend, n, side int) {
	r := rand.New(rand.NewPCG(9, uint64(n)))
	x := tensorOf(t, b, n, 1, randSlice(r, n, 0.1, 1))
	y := tensorOf(t, b, n, 1, randSlice(r, n, 0.1, 1))
	m := tensorOf(t, b, n, 1, maskSlice(r, n, 0.1))
	d := tensorOf(t, b, n, 1, nil)
	s := tensorOf(t, b, 1, 4, nil)
	w := tensorOf(t, b, side, side, randSlice(r, side*side, 0, 1))
	u := tensorOf(t, b, side, 1, randSlice(r, side, 0, 1))
	v := tensorOf(t, b, side, 1, randSlice(r, side, 0, 1))
	vd := tensorOf(t, b, side, 1, nil)
	rm := tensorOf(t, b, side, 1, maskSlice(r, side, 0.2))
	cm := tensorOf(t, b, side, 1, maskSlice(r, side, 0.2))
	buf := make([]float32, n)
	soft := backend.OuterParams{Alpha: 0.01, Soft: true, Target: 1, Clip: true, Lo: 0, Hi: 1}
	k1, k2 := mustKernel(t, b, "x = x*0.5 + 0.25", "x"), mustKernel(t, b, "d = y*2 + normal()", "y", "d")
	k1Args, k2Args := []backend.Tensor{x}, []backend.Tensor{y, d}
	add := backend.OuterParams{Alpha: 0.01}

	ops := []struct {
		name string
		f    func()
	}{
		{"Fill", func() { backend.Fill(d, 1) }},
		{"Copy", func() { backend.Copy(d, x) }},
		{"CopyRange", func() { b.CopyRange(d, 1, x, 0, n-1) }},
		{"Binary", func() { backend.Binary(backend.Mul, d, x, y) }},
		{"BinaryCompare", func() { backend.Binary(backend.Ge, d, x, y) }},
		{"BinaryScalar", func() { backend.BinaryScalar(backend.Add, d, x, 2) }},
		{"Unary", func() { backend.Unary(backend.Exp, d, x) }},
		{"Affine", func() { backend.Affine(d, x, 2, 1) }},
		{"Axpy", func() { backend.Axpy(d, 0.5, x) }},
		{"Where", func() { backend.Where(d, m, x) }},
		{"WhereScalar", func() { backend.WhereScalar(d, m, 0) }},
		{"Clip", func() { backend.Clip(d, x, 0.2, 0.8) }},
		{"ReduceSum", func() { b.Reduce(backend.Sum, s, 0, x) }},
		{"ReduceMax", func() { b.Reduce(backend.MaxReduce, s, 1, x) }},
		{"ReduceCount", func() { b.Reduce(backend.Count, s, 2, m) }},
		{"Random", func() { b.Random(d, rng.NormalDist(0, 1), rng.Key{Seed: 1}) }},
		{"RandomConst", func() { b.Random(d, rng.ConstDist(1), rng.Key{Seed: 1}) }},
		{"MatVec", func() { b.MatVec(vd, w, false, v, 1, 0) }},
		{"MatVecTrans", func() { b.MatVec(vd, w, true, v, 1, 1) }},
		{"Propagate", func() { b.Propagate(vd, w, false, cm, 1) }},
		{"PropagateTrans", func() { b.Propagate(vd, w, true, rm, 1) }},
		{"OuterDense", func() { b.Outer(w, nil, nil, u, v, add) }},
		{"OuterMasked", func() { b.Outer(w, rm, cm, u, v, soft) }},
		{"OuterRows", func() { b.Outer(w, rm, nil, nil, v, soft) }},
		{"NormalizeRows", func() { b.Normalize(w, backend.Rows, 1) }},
		{"NormalizeCols", func() { b.Normalize(w, backend.Cols, 1) }},
		{"Write", func() { _ = b.Write(d, 0, buf) }},
		{"Read", func() { _ = b.Read(buf, d, 0) }},
		{"Sync", func() { _ = b.Sync() }},
		{"KernelRuns", func() { // queued together, run by Sync
			k1.Run(k1Args, nil, rng.Key{Seed: 1})
			k2.Run(k2Args, nil, rng.Key{Seed: 2})
			_ = b.Sync()
		}},
	}
	for _, op := range ops {
		if a := testing.AllocsPerRun(20, op.f); a != 0 {
			t.Errorf("%s: %v allocations per call, want 0", op.name, a)
		}
	}
}
