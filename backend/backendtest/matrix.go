package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// dotRel bounds MatVec and Propagate relative to the sum of the absolute
// values of the terms of each output element.
const dotRel = 1e-4

// normRel bounds Normalize relative to each element.
const normRel = 1e-5

var matShapes = [][2]int{{1, 1}, {37, 53}, {53, 37}, {1, 100}, {100, 1}, {300, 1000}, {1000, 300}}

// matVecRef returns alpha*op(W)*x + beta*dst in float64 and the tolerance
// of each element.
func matVecRef(w []float32, rows, cols int, trans bool, x, dst []float32, alpha, beta float32) (want, tol []float64) {
	outN, inN := rows, cols
	if trans {
		outN, inN = cols, rows
	}
	want = make([]float64, outN)
	tol = make([]float64, outN)
	for o := 0; o < outN; o++ {
		var sum, abs float64
		for k := 0; k < inN; k++ {
			var wv float32
			if trans {
				wv = w[k*cols+o]
			} else {
				wv = w[o*cols+k]
			}
			p := float64(wv) * float64(x[k])
			sum += p
			abs += math.Abs(p)
		}
		a := float64(alpha)
		bd := float64(beta) * float64(dst[o])
		want[o] = a*sum + bd
		tol[o] = dotRel * (math.Abs(a)*abs + math.Abs(bd))
	}
	return want, tol
}

func testMatVec(t *testing.T, s *suite) {
	b := s.b
	for k, sh := range matShapes {
		rows, cols := sh[0], sh[1]
		g := newGen(uint64(1000 + k))
		wv := g.uniform(rows*cols, -1, 1)
		for _, trans := range []bool{false, true} {
			outN, inN := rows, cols
			if trans {
				outN, inN = cols, rows
			}
			xv := g.uniform(inN, -1, 1)
			dv := g.uniform(outN, -2, 2)
			for _, ab := range [][2]float32{{1, 0}, {0.5, 2}, {-1.5, 1}, {2, -0.5}, {0, 1}} {
				alpha, beta := ab[0], ab[1]
				run(t, fmt.Sprintf("%dx%d/trans=%t/alpha=%g,beta=%g", rows, cols, trans, alpha, beta), func(t *testing.T) {
					w, x, d := FromSlice(t, b, rows, cols, wv), vec(t, b, xv), vec(t, b, dv)
					b.MatVec(d, w, trans, x, alpha, beta)
					want, tol := matVecRef(wv, rows, cols, trans, xv, dv, alpha, beta)
					expectClose(t, "dst", ReadAll(t, b, d), want, tol)
					expectExact(t, "W (must be unchanged)", ReadAll(t, b, w), wv)
					expectExact(t, "x (must be unchanged)", ReadAll(t, b, x), xv)
				})
			}
		}
	}
	run(t, "row vector x and dst", func(t *testing.T) {
		// Vectors are flat: a 1 x n x works like an n x 1 one.
		g := newGen(1099)
		wv, xv := g.uniform(37*53, -1, 1), g.uniform(53, -1, 1)
		w, x := FromSlice(t, b, 37, 53, wv), FromSlice(t, b, 1, 53, xv)
		d := newTensor(t, b, 1, 37)
		b.MatVec(d, w, false, x, 1, 0)
		want, tol := matVecRef(wv, 37, 53, false, xv, make([]float32, 37), 1, 0)
		expectClose(t, "dst", ReadAll(t, b, d), want, tol)
	})
}

// propagateRef returns dst + alpha*(sum of the columns of W selected by
// mask), or of its rows with trans.
func propagateRef(w []float32, rows, cols int, trans bool, mask, dst []float32, alpha float32) (want, tol []float64) {
	ones := make([]float32, len(mask))
	for i, m := range mask {
		ones[i] = b2f(m != 0)
	}
	return matVecRef(w, rows, cols, trans, ones, dst, alpha, 1)
}

var spikeFractions = []struct {
	name string
	p    float64
}{{"0%", 0}, {"1%", 0.01}, {"50%", 0.5}, {"100%", 1}}

func testPropagate(t *testing.T, s *suite) {
	b := s.b
	for k, sh := range [][2]int{{1, 1}, {37, 53}, {300, 1000}, {1000, 300}} {
		rows, cols := sh[0], sh[1]
		g := newGen(uint64(1100 + k))
		wv := g.uniform(rows*cols, -1, 1)
		for _, trans := range []bool{false, true} {
			outN, inN := rows, cols
			if trans {
				outN, inN = cols, rows
			}
			for _, sf := range spikeFractions {
				mv := g.mask(inN, sf.p)
				dv := g.uniform(outN, -2, 2)
				for _, alpha := range []float32{1, -0.75} {
					run(t, fmt.Sprintf("%dx%d/trans=%t/%s/alpha=%g", rows, cols, trans, sf.name, alpha), func(t *testing.T) {
						w, m, d := FromSlice(t, b, rows, cols, wv), vec(t, b, mv), vec(t, b, dv)
						b.Propagate(d, w, trans, m, alpha)
						want, tol := propagateRef(wv, rows, cols, trans, mv, dv, alpha)
						expectClose(t, "dst", ReadAll(t, b, d), want, tol)
						expectExact(t, "mask (must be unchanged)", ReadAll(t, b, m), mv)
						expectExact(t, "W (must be unchanged)", ReadAll(t, b, w), wv)
					})
				}
			}
		}
	}
	run(t, "accumulates over calls", func(t *testing.T) {
		g := newGen(1150)
		wv := g.uniform(37*53, -1, 1)
		m1, m2 := g.mask(53, 0.1), g.mask(53, 0.3)
		w, d := FromSlice(t, b, 37, 53, wv), newTensor(t, b, 37, 1)
		b.Propagate(d, w, false, vec(t, b, m1), 1)
		b.Propagate(d, w, false, vec(t, b, m2), 2)
		both := make([]float32, 53)
		for j := range both {
			both[j] = m1[j] + 2*m2[j]
		}
		want, tol := matVecRef(wv, 37, 53, false, both, make([]float32, 37), 1, 0)
		expectClose(t, "dst", ReadAll(t, b, d), want, tol)
	})
}

// outerCase is one configuration of Outer.
type outerCase struct {
	rowMask, colMask bool
	u, v             bool
	soft, clip       bool
}

func (c outerCase) String() string {
	on := func(b bool, s string) string {
		if b {
			return s
		}
		return "nil" + s
	}
	form := "add"
	if c.soft {
		form = "soft"
	}
	if c.clip {
		form += "+clip"
	}
	return fmt.Sprintf("%s/%s,%s/%s,%s", form, on(c.rowMask, "Rowmask"), on(c.colMask, "Colmask"), on(c.u, "U"), on(c.v, "V"))
}

// outerRef applies Outer to w in float64 and returns the result and the
// tolerance of each element (0 for elements that must not change).
func outerRef(w []float32, rows, cols int, rm, cm, u, v []float32, p backend.OuterParams) (want, tol []float64) {
	want = make([]float64, len(w))
	tol = make([]float64, len(w))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			k := i*cols + j
			w0 := float64(w[k])
			want[k] = w0
			if (rm != nil && rm[i] == 0) || (cm != nil && cm[j] == 0) {
				continue
			}
			d := float64(p.Alpha)
			if u != nil {
				d *= float64(u[i])
			}
			if v != nil {
				d *= float64(v[j])
			}
			mag := math.Abs(w0) + math.Abs(d)
			if p.Soft {
				mag = math.Abs(w0) + math.Abs(d)*(math.Abs(float64(p.Target))+math.Abs(w0))
				d *= float64(p.Target) - w0
			}
			r := w0 + d
			if p.Clip {
				r = math.Min(math.Max(r, float64(p.Lo)), float64(p.Hi))
			}
			want[k] = r
			tol[k] = arithRel * mag
		}
	}
	return want, tol
}

func testOuter(t *testing.T, s *suite) {
	b := s.b
	var cases []outerCase
	for _, soft := range []bool{false, true} {
		for _, clip := range []bool{false, true} {
			for m := 0; m < 4; m++ {
				for uv := 0; uv < 4; uv++ {
					cases = append(cases, outerCase{rowMask: m&1 != 0, colMask: m&2 != 0, u: uv&1 != 0, v: uv&2 != 0, soft: soft, clip: clip})
				}
			}
		}
	}
	for k, sh := range [][2]int{{37, 53}, {129, 257}, {1, 1}} {
		rows, cols := sh[0], sh[1]
		g := newGen(uint64(1200 + k))
		wv := g.uniform(rows*cols, -1, 1)
		rmv, cmv := g.mask(rows, 0.3), g.mask(cols, 0.3)
		uv, vv := g.uniform(rows, -2, 2), g.uniform(cols, -2, 2)
		for ci, c := range cases {
			if rows*cols > 37*53 && ci%3 != 0 {
				continue // a third of the cases on the larger matrix
			}
			p := backend.OuterParams{Alpha: 0.25, Soft: c.soft, Target: 1.5, Clip: c.clip, Lo: -0.2, Hi: 0.6}
			run(t, fmt.Sprintf("%dx%d/%s", rows, cols, c), func(t *testing.T) {
				w := FromSlice(t, b, rows, cols, wv)
				var rm, cm, u, v backend.Tensor
				var rmh, cmh, uh, vh []float32
				if c.rowMask {
					rm, rmh = vec(t, b, rmv), rmv
				}
				if c.colMask {
					cm, cmh = vec(t, b, cmv), cmv
				}
				if c.u {
					u, uh = vec(t, b, uv), uv
				}
				if c.v {
					v, vh = vec(t, b, vv), vv
				}
				b.Outer(w, rm, cm, u, v, p)
				want, tol := outerRef(wv, rows, cols, rmh, cmh, uh, vh, p)
				expectClose(t, "W", ReadAll(t, b, w), want, tol)
			})
		}
	}
	run(t, "clip leaves unselected elements alone", func(t *testing.T) {
		// Row 1 is masked out and holds values outside [Lo, Hi].
		wv := []float32{0, 5, -5, 5, -5, 0.5}
		w := FromSlice(t, b, 2, 3, wv)
		rm := vec(t, b, []float32{1, 0})
		b.Outer(w, rm, nil, nil, nil, backend.OuterParams{Alpha: 1, Clip: true, Lo: -1, Hi: 2})
		expectExact(t, "W", ReadAll(t, b, w), []float32{1, 2, -1, 5, -5, 0.5})
	})
	run(t, "hand computed", func(t *testing.T) {
		w := FromSlice(t, b, 2, 2, []float32{1, 2, 3, 4})
		u, v := vec(t, b, []float32{1, 2}), vec(t, b, []float32{0.5, -1})
		b.Outer(w, nil, nil, u, v, backend.OuterParams{Alpha: 2})
		expectExact(t, "additive", ReadAll(t, b, w), []float32{2, 0, 5, 0})
		b.Outer(w, nil, nil, u, nil, backend.OuterParams{Alpha: 0.25, Soft: true, Target: 4})
		// W += 0.25*u[i]*(4-W): row 0 by 0.25, row 1 by 0.5.
		expectExact(t, "soft", ReadAll(t, b, w), []float32{2.5, 1, 4.5, 2})
	})
}

// normalizeRef scales rows (or columns) of w to sum target; zero sums stay.
func normalizeRef(w []float32, rows, cols int, axis backend.Axis, target float32) []float64 {
	want := make([]float64, len(w))
	outer, inner := rows, cols
	idx := func(o, k int) int { return o*cols + k }
	if axis == backend.Cols {
		outer, inner = cols, rows
		idx = func(o, k int) int { return k*cols + o }
	}
	for o := 0; o < outer; o++ {
		var sum float64
		for k := 0; k < inner; k++ {
			sum += float64(w[idx(o, k)])
		}
		for k := 0; k < inner; k++ {
			i := idx(o, k)
			want[i] = float64(w[i])
			if sum != 0 {
				want[i] *= float64(target) / sum
			}
		}
	}
	return want
}

func testNormalize(t *testing.T, s *suite) {
	b := s.b
	for k, sh := range [][2]int{{37, 53}, {300, 1000}, {1, 1}, {1, 7}, {7, 1}} {
		rows, cols := sh[0], sh[1]
		g := newGen(uint64(1300 + k))
		wv := g.uniform(rows*cols, 0, 1)
		g.sprinkle(wv, 0.1, 0)
		if rows > 8 && cols > 8 {
			// Zero rows and columns (first, middle, last) must stay.
			for _, i := range []int{0, 5, rows - 1} {
				for j := 0; j < cols; j++ {
					wv[i*cols+j] = 0
				}
			}
			for _, j := range []int{2, cols - 1} {
				for i := 0; i < rows; i++ {
					wv[i*cols+j] = 0
				}
			}
			// Row 7 sums to exactly zero with non-zero elements.
			for j := 0; j < cols; j++ {
				wv[7*cols+j] = 0
			}
			wv[7*cols], wv[7*cols+1] = 2, -2
		}
		for _, axis := range []backend.Axis{backend.Rows, backend.Cols} {
			name := "rows"
			if axis == backend.Cols {
				name = "cols"
			}
			for _, target := range []float32{1, 2.5} {
				run(t, fmt.Sprintf("%dx%d/%s/target=%g", rows, cols, name, target), func(t *testing.T) {
					w := FromSlice(t, b, rows, cols, wv)
					b.Normalize(w, axis, target)
					want := normalizeRef(wv, rows, cols, axis, target)
					expectClose(t, "W", ReadAll(t, b, w), want, relTol(want, normRel, 0))
				})
			}
		}
	}
	run(t, "hand computed", func(t *testing.T) {
		w := FromSlice(t, b, 2, 3, []float32{1, 2, 5, 0, 0, 0})
		b.Normalize(w, backend.Rows, 4)
		expectClose(t, "rows", ReadAll(t, b, w), []float64{0.5, 1, 2.5, 0, 0, 0}, []float64{1e-6, 1e-6, 1e-6, 0, 0, 0})
		w2 := FromSlice(t, b, 2, 3, []float32{1, 0, 2, 3, 0, 6})
		b.Normalize(w2, backend.Cols, 1)
		expectClose(t, "cols", ReadAll(t, b, w2), []float64{0.25, 0, 0.25, 0.75, 0, 0.75}, []float64{1e-6, 0, 1e-6, 1e-6, 0, 1e-6})
	})
}
