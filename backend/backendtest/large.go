package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// largeVectorLen exceeds 65535 work groups of 64 invocations, so a GPU
// backend needs a 2-D dispatch or a grid-stride loop.
const largeVectorLen = 5_000_011

// testLargeVector runs elementwise operations and reductions on a vector
// larger than one GPU dispatch covers and compares a strided subset.
func testLargeVector(t *testing.T, s *suite) {
	b := s.b
	n := largeVectorLen
	key := rng.Key{Seed: 77, Counter: 3}
	idx := stridedIndices(n, 997, 2048)
	pick := func(v []float32) []float32 {
		out := make([]float32, len(idx))
		for k, i := range idx {
			out[k] = v[i]
		}
		return out
	}

	x := newTensor(t, b, n, 1)
	y := newTensor(t, b, n, 1)
	d := newTensor(t, b, n, 1)
	t.Cleanup(func() { x.Release(); y.Release(); d.Release() })
	b.Random(x, rng.UniformDist(-1, 1), key)
	b.Random(y, rng.UniformDist(0.5, 2), rng.Key{Seed: 77, Counter: 4})
	// Extremes near the end, beyond the first dispatch.
	if err := b.Write(x, n-3, []float32{4}); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(x, n-40000, []float32{-4}); err != nil {
		t.Fatal(err)
	}
	xv, yv := ReadAll(t, b, x), ReadAll(t, b, y)
	if xv[n-3] != 4 || xv[n-40000] != -4 || xv[0] != rng.Sample(rng.UniformDist(-1, 1), key, 0) {
		t.Fatalf("fill or Write of the %d-element vector is wrong (see the Random and ReadWrite tests)", n)
	}

	run(t, "Fill", func(t *testing.T) {
		backend.Fill(d, 2.5)
		got := ReadAll(t, b, d)
		want := make([]float32, n)
		for i := range want {
			want[i] = 2.5
		}
		expectExact(t, "dst", got, want)
	})
	run(t, "Binary mul", func(t *testing.T) {
		backend.Binary(backend.Mul, d, x, y)
		want := make([]float32, len(idx))
		for k, i := range idx {
			want[k] = xv[i] * yv[i]
		}
		expectExact(t, "dst (strided subset)", pick(ReadAll(t, b, d)), want)
	})
	run(t, "Unary exp", func(t *testing.T) {
		backend.Unary(backend.Exp, d, x)
		want := make([]float64, len(idx))
		for k, i := range idx {
			want[k] = math.Exp(float64(xv[i]))
		}
		expectClose(t, "dst (strided subset)", pick(ReadAll(t, b, d)), want, relTol(want, transRel, transAbs))
	})
	run(t, "Affine", func(t *testing.T) {
		backend.Affine(d, x, 2, 1)
		want := make([]float64, len(idx))
		tol := make([]float64, len(idx))
		for k, i := range idx {
			want[k] = 2*float64(xv[i]) + 1
			tol[k] = arithRel * (2*math.Abs(float64(xv[i])) + 1)
		}
		expectClose(t, "dst (strided subset)", pick(ReadAll(t, b, d)), want, tol)
	})
	run(t, "Clip", func(t *testing.T) {
		backend.Clip(d, x, -0.5, 0.5)
		want := make([]float32, len(idx))
		for k, i := range idx {
			want[k] = min(max(xv[i], -0.5), 0.5)
		}
		expectExact(t, "dst (strided subset)", pick(ReadAll(t, b, d)), want)
	})
	run(t, "CopyRange", func(t *testing.T) {
		backend.Fill(d, 0)
		b.CopyRange(d, 1, x, n-4_500_000, 4_500_000)
		got := ReadAll(t, b, d)
		expectExact(t, "copied range", got[1:4_500_001], xv[n-4_500_000:])
		expectExact(t, "untouched ends", []float32{got[0], got[n-1]}, []float32{0, 0})
	})
	run(t, "Reduce", func(t *testing.T) {
		r := newTensor(t, b, 5, 1)
		for i, op := range reduceOps {
			b.Reduce(op, r, i, x)
		}
		want := make([]float64, 5)
		tol := make([]float64, 5)
		for i, op := range reduceOps {
			want[i], tol[i] = reduceRef(op, xv)
		}
		expectClose(t, "sum, mean, max, min, count", ReadAll(t, b, r), want, tol)
	})
}

// largeN is the side of the large square matrix: 6000² float32 take 144 MB,
// above llvmpipe's 128 MiB GL_MAX_SHADER_STORAGE_BLOCK_SIZE.
const largeN = 6000

// testLargeMatrix checks MatVec and Propagate on a matrix too large for one
// GPU storage buffer binding. W is filled by Random, so the reference of any
// output element is computed on the host from rng.Sample.
func testLargeMatrix(t *testing.T, s *suite) {
	b := s.b
	const n = largeN
	key := rng.Key{Seed: 6000, Counter: 1}
	dist := rng.UniformDist(-1, 1)
	w := newTensor(t, b, n, n)
	t.Cleanup(w.Release)
	b.Random(w, dist, key)

	// Rows and columns on both sides of the 128 MiB boundary (element
	// 2^25 lies in row 5592) and of ~5792 (the largest square that fits).
	probe := []int{0, 1, 2047, 5591, 5592, 5593, 5791, 5792, 5793, 5998, 5999}
	g := newGen(6000)
	for range 5 {
		probe = append(probe, g.r.IntN(n))
	}
	// rowVals[p][j] = W[probe[p]][j]; colVals[p][i] = W[i][probe[p]].
	rowVals := make([][]float32, len(probe))
	colVals := make([][]float32, len(probe))
	for p, r := range probe {
		rowVals[p] = make([]float32, n)
		colVals[p] = make([]float32, n)
		for k := 0; k < n; k++ {
			rowVals[p][k] = rng.Sample(dist, key, uint64(r*n+k))
			colVals[p][k] = rng.Sample(dist, key, uint64(k*n+r))
		}
	}

	run(t, "Random and Read across the boundary", func(t *testing.T) {
		const boundary = 1 << 25 // 128 MiB of float32
		for _, off := range []int{0, boundary - 5, n*n - 10, 5792 * n} {
			got := readAt(t, b, w, off, 10)
			expectSamples(t, fmt.Sprintf("elements %d..%d", off, off+9), got, dist, key, func(k int) int { return off + k })
		}
	})

	// check compares the probed elements of an output with ref(p).
	check := func(t *testing.T, got []float32, ref func(p int) (want, tol float64)) {
		t.Helper()
		gs := make([]float32, len(probe))
		want := make([]float64, len(probe))
		tol := make([]float64, len(probe))
		for p, i := range probe {
			gs[p] = got[i]
			want[p], tol[p] = ref(p)
		}
		expectCloseAt(t, "output", gs, want, tol, func(k int) int { return probe[k] })
	}
	dot := func(vals, x []float32, alpha, beta, d0 float32) (float64, float64) {
		var sum, abs float64
		for k := range vals {
			p := float64(vals[k]) * float64(x[k])
			sum += p
			abs += math.Abs(p)
		}
		bd := float64(beta) * float64(d0)
		return float64(alpha)*sum + bd, dotRel * (math.Abs(float64(alpha))*abs + math.Abs(bd))
	}

	xv := g.uniform(n, -1, 1)
	dv := g.uniform(n, -2, 2)
	x := vec(t, b, xv)
	for _, trans := range []bool{false, true} {
		vals := rowVals
		if trans {
			vals = colVals
		}
		run(t, fmt.Sprintf("MatVec/trans=%t", trans), func(t *testing.T) {
			d := vec(t, b, dv)
			b.MatVec(d, w, trans, x, 1.5, 0.5)
			check(t, ReadAll(t, b, d), func(p int) (float64, float64) {
				return dot(vals[p], xv, 1.5, 0.5, dv[probe[p]])
			})
		})
		for _, sf := range []struct {
			name string
			p    float64
		}{{"1%", 0.01}, {"50%", 0.5}} {
			mv := g.mask(n, sf.p)
			run(t, fmt.Sprintf("Propagate/trans=%t/%s", trans, sf.name), func(t *testing.T) {
				d, m := vec(t, b, dv), vec(t, b, mv)
				b.Propagate(d, w, trans, m, -0.5)
				check(t, ReadAll(t, b, d), func(p int) (float64, float64) {
					return dot(vals[p], mv, -0.5, 1, dv[probe[p]])
				})
			})
		}
	}

	run(t, "Reduce max and min", func(t *testing.T) {
		// Extremes beyond the 128 MiB boundary.
		if err := b.Write(w, n*n-7, []float32{2}); err != nil {
			t.Fatal(err)
		}
		if err := b.Write(w, 1<<25+3, []float32{-2}); err != nil {
			t.Fatal(err)
		}
		r := newTensor(t, b, 2, 1)
		b.Reduce(backend.MaxReduce, r, 0, w)
		b.Reduce(backend.MinReduce, r, 1, w)
		expectExact(t, "max, min", ReadAll(t, b, r), []float32{2, -2})
	})
}
