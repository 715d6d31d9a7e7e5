package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// sumRel bounds Sum and Mean relative to the sum of absolute values.
const sumRel = 1e-5

// reduceSizes are lengths around work-group and tree-reduction boundaries:
// GPU tree reductions tend to break on sizes that are not powers of two.
var reduceSizes = []int{1, 2, 3, 63, 64, 65, 255, 257, 1000, 1023, 1025, 4097, 65537, 100003}

// reduceRef returns the float64 reference of op over x and its tolerance.
func reduceRef(op backend.ReduceOp, x []float32) (want, tol float64) {
	var sum, abs float64
	mx, mn := math.Inf(-1), math.Inf(1)
	cnt := 0
	for _, v := range x {
		f := float64(v)
		sum += f
		abs += math.Abs(f)
		mx = math.Max(mx, f)
		mn = math.Min(mn, f)
		if v != 0 {
			cnt++
		}
	}
	n := float64(len(x))
	switch op {
	case backend.Sum:
		return sum, sumRel * abs
	case backend.Mean:
		return sum / n, sumRel * abs / n
	case backend.MaxReduce:
		return mx, 0
	case backend.MinReduce:
		return mn, 0
	case backend.Count:
		return float64(cnt), 0
	}
	panic("backendtest: no reference for " + op.String())
}

var reduceOps = []backend.ReduceOp{backend.Sum, backend.Mean, backend.MaxReduce, backend.MinReduce, backend.Count}

func testReduce(t *testing.T, s *suite) {
	b := s.b
	const dstLen, dstOff = 7, 3
	dst0 := []float32{-7, -6, -5, -4, -3, -2, -1}

	check := func(t *testing.T, op backend.ReduceOp, rows, cols int, x []float32) {
		t.Helper()
		src := FromSlice(t, b, rows, cols, x)
		defer src.Release()
		d := vec(t, b, dst0)
		defer d.Release()
		b.Reduce(op, d, dstOff, src)
		got := ReadAll(t, b, d)
		want, tol := reduceRef(op, x)
		wantAll := make([]float64, dstLen)
		tols := make([]float64, dstLen)
		for i, v := range dst0 {
			wantAll[i] = float64(v)
		}
		wantAll[dstOff], tols[dstOff] = want, tol
		expectClose(t, fmt.Sprintf("%s into dst[%d]", op, dstOff), got, wantAll, tols)
		expectExact(t, "src (must be unchanged)", ReadAll(t, b, src), x)
	}

	for _, n := range reduceSizes {
		g := newGen(uint64(900 + n))
		mixed := g.uniform(n, -1, 1)
		g.sprinkle(mixed, 0.2, 0)
		g.sprinkle(mixed, 0.05, negZero)
		if n > 2 {
			// Extremes at the last and first element catch reductions
			// that drop the tail or the head.
			mixed[n-1] = 1.5
			mixed[0] = -1.5
		}
		neg := g.uniform(n, -2, -1)
		pos := g.uniform(n, 1, 2)
		if n > 1 {
			neg[n-1] = -0.5 // the maximum, in the last element
			pos[n-1] = 0.5  // the minimum, in the last element
		}
		for _, op := range reduceOps {
			run(t, fmt.Sprintf("%s/n=%d", op, n), func(t *testing.T) { check(t, op, n, 1, mixed) })
		}
		run(t, fmt.Sprintf("max/n=%d/negative", n), func(t *testing.T) { check(t, backend.MaxReduce, n, 1, neg) })
		run(t, fmt.Sprintf("min/n=%d/positive", n), func(t *testing.T) { check(t, backend.MinReduce, n, 1, pos) })
		run(t, fmt.Sprintf("sum/n=%d/positive", n), func(t *testing.T) { check(t, backend.Sum, n, 1, pos) })
	}

	// A matrix reduces over all its elements.
	mat := newGen(990).uniform(37*53, -1, 1)
	newGen(991).sprinkle(mat, 0.3, 0)
	for _, op := range reduceOps {
		run(t, fmt.Sprintf("%s/37x53", op), func(t *testing.T) { check(t, op, 37, 53, mat) })
	}
	run(t, "count/all_zero", func(t *testing.T) { check(t, backend.Count, 1000, 1, make([]float32, 1000)) })
	run(t, "sum/cancelling", func(t *testing.T) {
		x := make([]float32, 1001)
		for i := range x {
			x[i] = float32(i%7) - 3 // 1001 = 143*7: sums to exactly 0
		}
		check(t, backend.Sum, 1001, 1, x)
	})
	run(t, "into every offset", func(t *testing.T) {
		x := newGen(992).uniform(1000, 0, 1)
		src := vec(t, b, x)
		d := newTensor(t, b, 5, 1)
		for i, op := range reduceOps {
			b.Reduce(op, d, i, src)
		}
		want := make([]float64, 5)
		tol := make([]float64, 5)
		for i, op := range reduceOps {
			want[i], tol[i] = reduceRef(op, x)
		}
		expectClose(t, "dst", ReadAll(t, b, d), want, tol)
	})
}
