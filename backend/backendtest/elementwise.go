package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// Elementwise tests run on a 13x79 tensor: 1027 elements, not a multiple of
// any work-group size.
const ewRows, ewCols = 13, 79

// divULP bounds Div, Recip and division by a scalar (GLSL guarantees 2.5
// ULP for a/b and 1/b; measured against the correctly rounded float32
// quotient that is up to 3 ULP).
const divULP = 3

// Tolerances of the transcendental unary operations.
const (
	transRel = 1e-6
	transAbs = 1e-6
)

// arithRel bounds compound arithmetic (Affine, Axpy, Outer): relative to
// the sum of the absolute values of the terms, which allows a fused
// multiply-add or another evaluation order.
const arithRel = 1e-6

// binaryRef is the float32 definition of a BinaryOp.
func binaryRef(op backend.BinaryOp, a, b float32) float32 {
	switch op {
	case backend.Add:
		return a + b
	case backend.Sub:
		return a - b
	case backend.Mul:
		return a * b
	case backend.Div:
		return a / b
	case backend.Min:
		return min(a, b)
	case backend.Max:
		return max(a, b)
	case backend.Gt:
		return b2f(a > b)
	case backend.Ge:
		return b2f(a >= b)
	case backend.Lt:
		return b2f(a < b)
	case backend.Le:
		return b2f(a <= b)
	case backend.Eq:
		return b2f(a == b)
	case backend.Ne:
		return b2f(a != b)
	}
	panic("backendtest: no reference for " + op.String())
}

var binaryOps = []backend.BinaryOp{
	backend.Add, backend.Sub, backend.Mul, backend.Div, backend.Min, backend.Max,
	backend.Gt, backend.Ge, backend.Lt, backend.Le, backend.Eq, backend.Ne,
}

// expectBinary compares with the tolerance of op: exact, or divULP for Div.
func expectBinary(t testing.TB, op backend.BinaryOp, what string, got, want []float32) {
	t.Helper()
	if op == backend.Div {
		expectULP(t, what, got, want, divULP)
		return
	}
	expectExact(t, what, got, want)
}

// binaryInputs returns operands for op: a with some zeros and negative
// zeros, b with a quarter of its elements equal to a's, no zeros for Div.
func binaryInputs(g *gen, op backend.BinaryOp, n int) (a, b []float32) {
	a = g.uniform(n, -4, 4)
	g.sprinkle(a, 0.05, 0)
	g.sprinkle(a, 0.02, negZero)
	if op == backend.Div {
		b = g.signed(n, 0.25, 4)
	} else {
		b = g.uniform(n, -4, 4)
		g.sprinkle(b, 0.05, 0)
	}
	for i := range b {
		if g.r.IntN(4) == 0 && !(op == backend.Div && a[i] == 0) {
			b[i] = a[i]
		}
	}
	return a, b
}

func testBinary(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	for k, op := range binaryOps {
		av, bv := binaryInputs(newGen(uint64(100+k)), op, n)
		want := make([]float32, n)
		same := make([]float32, n)
		for i := range want {
			want[i] = binaryRef(op, av[i], bv[i])
			same[i] = binaryRef(op, av[i], av[i])
		}
		run(t, op.String()+"/distinct", func(t *testing.T) {
			x, y := FromSlice(t, b, ewRows, ewCols, av), FromSlice(t, b, ewRows, ewCols, bv)
			d := FromSlice(t, b, ewRows, ewCols, newGen(7).uniform(n, -9, 9))
			backend.Binary(op, d, x, y)
			expectBinary(t, op, "dst", ReadAll(t, b, d), want)
			expectExact(t, "a (must be unchanged)", ReadAll(t, b, x), av)
			expectExact(t, "b (must be unchanged)", ReadAll(t, b, y), bv)
		})
		run(t, op.String()+"/vector_shapes", func(t *testing.T) {
			// Same Len, different shapes: elementwise ops see flat arrays.
			x, y := vec(t, b, av), FromSlice(t, b, ewCols, ewRows, bv)
			d := newTensor(t, b, 1, n)
			backend.Binary(op, d, x, y)
			expectBinary(t, op, "dst", ReadAll(t, b, d), want)
		})
		run(t, op.String()+"/dst=a", func(t *testing.T) {
			x, y := FromSlice(t, b, ewRows, ewCols, av), FromSlice(t, b, ewRows, ewCols, bv)
			backend.Binary(op, x, x, y)
			expectBinary(t, op, "dst", ReadAll(t, b, x), want)
		})
		run(t, op.String()+"/dst=b", func(t *testing.T) {
			x, y := FromSlice(t, b, ewRows, ewCols, av), FromSlice(t, b, ewRows, ewCols, bv)
			backend.Binary(op, y, x, y)
			expectBinary(t, op, "dst", ReadAll(t, b, y), want)
		})
		if op == backend.Div {
			continue // a/a with a == 0 is NaN
		}
		run(t, op.String()+"/a=b", func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			d := newTensor(t, b, ewRows, ewCols)
			backend.Binary(op, d, x, x)
			expectBinary(t, op, "dst", ReadAll(t, b, d), same)
		})
		run(t, op.String()+"/dst=a=b", func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			backend.Binary(op, x, x, x)
			expectBinary(t, op, "dst", ReadAll(t, b, x), same)
		})
	}
	run(t, "div/exact_quotients", func(t *testing.T) {
		// Quotients that are exactly representable, and divisors that are
		// powers of two.
		av := []float32{6, -6, 1, 0, 7.5, 1e-3, -3, 100, 0.75, 1 << 20}
		bv := []float32{3, 2, 4, 5, 2.5, 0.5, -0.25, 8, 0.375, 1 << 10}
		want := []float32{2, -3, 0.25, 0, 3, 2e-3, 12, 12.5, 2, 1 << 10}
		x, y := vec(t, b, av), vec(t, b, bv)
		d := newTensor(t, b, len(av), 1)
		backend.Binary(backend.Div, d, x, y)
		expectULP(t, "dst", ReadAll(t, b, d), want, divULP)
	})
}

func testBinaryScalar(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	for k, op := range binaryOps {
		for _, sc := range []float32{0.5, -3, 0, 1.25} {
			if op == backend.Div && sc == 0 {
				continue
			}
			g := newGen(uint64(200 + 10*k))
			av := g.uniform(n, -4, 4)
			g.sprinkle(av, 0.05, 0)
			g.sprinkle(av, 0.1, sc)
			want := make([]float32, n)
			for i := range want {
				want[i] = binaryRef(op, av[i], sc)
			}
			run(t, fmt.Sprintf("%s/%g", op, sc), func(t *testing.T) {
				x := FromSlice(t, b, ewRows, ewCols, av)
				d := FromSlice(t, b, ewRows, ewCols, g.uniform(n, -9, 9))
				backend.BinaryScalar(op, d, x, sc)
				expectBinary(t, op, "dst", ReadAll(t, b, d), want)
				expectExact(t, "a (must be unchanged)", ReadAll(t, b, x), av)
			})
			run(t, fmt.Sprintf("%s/%g/dst=a", op, sc), func(t *testing.T) {
				x := FromSlice(t, b, ewRows, ewCols, av)
				backend.BinaryScalar(op, x, x, sc)
				expectBinary(t, op, "dst", ReadAll(t, b, x), want)
			})
		}
	}
}

// unaryCase describes the inputs and the reference of a UnaryOp.
type unaryCase struct {
	op    backend.UnaryOp
	input func(g *gen, n int) []float32
	// exact is the float32 reference of exact operations; f64 the float64
	// reference of the others.
	exact func(a float32) float32
	f64   func(a float64) float64
	ulp   bool // compare exact within divULP instead of exactly
}

func generalInput(g *gen, n int) []float32 {
	a := g.uniform(n, -4, 4)
	g.sprinkle(a, 0.05, 0)
	g.sprinkle(a, 0.02, negZero)
	return a
}

var unaryCases = []unaryCase{
	{op: backend.Neg, input: generalInput, exact: func(a float32) float32 { return -a }},
	{op: backend.Abs, input: generalInput, exact: func(a float32) float32 { return float32(math.Abs(float64(a))) }},
	{op: backend.Exp, input: func(g *gen, n int) []float32 { return g.uniform(n, -2, 2) }, f64: math.Exp},
	{op: backend.Log, input: func(g *gen, n int) []float32 { return g.logUniform(n, 0.01, 100) }, f64: math.Log},
	{op: backend.Sqrt, input: func(g *gen, n int) []float32 {
		a := g.uniform(n, 0, 100)
		g.sprinkle(a, 0.05, 0)
		return a
	}, f64: math.Sqrt},
	{op: backend.Square, input: generalInput, exact: func(a float32) float32 { return a * a }},
	{op: backend.Recip, input: func(g *gen, n int) []float32 { return g.signed(n, 0.01, 100) },
		exact: func(a float32) float32 { return 1 / a }, ulp: true},
	{op: backend.Tanh, input: func(g *gen, n int) []float32 { return g.uniform(n, -6, 6) }, f64: math.Tanh},
	{op: backend.Sigmoid, input: func(g *gen, n int) []float32 { return g.uniform(n, -6, 6) },
		f64: func(a float64) float64 { return 1 / (1 + math.Exp(-a)) }},
	{op: backend.Heaviside, input: generalInput, exact: func(a float32) float32 { return b2f(a > 0) }},
	{op: backend.Not, input: generalInput, exact: func(a float32) float32 { return b2f(a == 0) }},
}

func testUnary(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	for k, c := range unaryCases {
		av := c.input(newGen(uint64(300+k)), n)
		check := func(t *testing.T, got []float32) {
			t.Helper()
			if c.exact != nil {
				want := make([]float32, n)
				for i := range want {
					want[i] = c.exact(av[i])
				}
				if c.ulp {
					expectULP(t, "dst", got, want, divULP)
				} else {
					expectExact(t, "dst", got, want)
				}
				return
			}
			want := make([]float64, n)
			for i := range want {
				want[i] = c.f64(float64(av[i]))
			}
			expectClose(t, "dst", got, want, relTol(want, transRel, transAbs))
		}
		run(t, c.op.String(), func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			d := FromSlice(t, b, ewRows, ewCols, newGen(8).uniform(n, -9, 9))
			backend.Unary(c.op, d, x)
			check(t, ReadAll(t, b, d))
			expectExact(t, "a (must be unchanged)", ReadAll(t, b, x), av)
		})
		run(t, c.op.String()+"/dst=a", func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			backend.Unary(c.op, x, x)
			check(t, ReadAll(t, b, x))
		})
	}
}

func testAffine(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	for k, p := range [][2]float32{{2, 1}, {-0.5, 3}, {1, 0}, {0, 2.5}, {1.7, -1.7}} {
		alpha, beta := p[0], p[1]
		av := newGen(uint64(400+k)).uniform(n, -4, 4)
		want := make([]float64, n)
		tol := make([]float64, n)
		for i, a := range av {
			want[i] = float64(alpha)*float64(a) + float64(beta)
			tol[i] = arithRel * (math.Abs(float64(alpha)*float64(a)) + math.Abs(float64(beta)))
		}
		run(t, fmt.Sprintf("%g,%g", alpha, beta), func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			d := newTensor(t, b, ewRows, ewCols)
			backend.Affine(d, x, alpha, beta)
			expectClose(t, "dst", ReadAll(t, b, d), want, tol)
		})
		run(t, fmt.Sprintf("%g,%g/dst=a", alpha, beta), func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			backend.Affine(x, x, alpha, beta)
			expectClose(t, "dst", ReadAll(t, b, x), want, tol)
		})
	}
}

func testAxpy(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	for k, alpha := range []float32{1.5, -2, 0, 1} {
		g := newGen(uint64(500 + k))
		xv, dv := g.uniform(n, -4, 4), g.uniform(n, -4, 4)
		run(t, fmt.Sprintf("%g", alpha), func(t *testing.T) {
			x, d := FromSlice(t, b, ewRows, ewCols, xv), FromSlice(t, b, ewRows, ewCols, dv)
			backend.Axpy(d, alpha, x)
			want := make([]float64, n)
			tol := make([]float64, n)
			for i := range want {
				ax := float64(alpha) * float64(xv[i])
				want[i] = float64(dv[i]) + ax
				tol[i] = arithRel * (math.Abs(float64(dv[i])) + math.Abs(ax))
			}
			expectClose(t, "dst", ReadAll(t, b, d), want, tol)
			expectExact(t, "x (must be unchanged)", ReadAll(t, b, x), xv)
		})
		run(t, fmt.Sprintf("%g/x=dst", alpha), func(t *testing.T) {
			d := FromSlice(t, b, ewRows, ewCols, dv)
			backend.Axpy(d, alpha, d)
			want := make([]float64, n)
			tol := make([]float64, n)
			for i := range want {
				ax := float64(alpha) * float64(dv[i])
				want[i] = float64(dv[i]) + ax
				tol[i] = arithRel * (math.Abs(float64(dv[i])) + math.Abs(ax))
			}
			expectClose(t, "dst", ReadAll(t, b, d), want, tol)
		})
	}
}

// whereMask returns a mask of zeros, negative zeros (which count as zero),
// ones and other non-zero values.
func whereMask(g *gen, n int) []float32 {
	m := make([]float32, n)
	vals := []float32{0, 0, negZero, 1, 1, -1, 0.5, 1e-20}
	for i := range m {
		m[i] = vals[g.r.IntN(len(vals))]
	}
	return m
}

func testWhere(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	g := newGen(600)
	mv, sv, dv := whereMask(g, n), g.uniform(n, -4, 4), g.uniform(n, -4, 4)
	want := clone(dv)
	for i := range want {
		if mv[i] != 0 {
			want[i] = sv[i]
		}
	}
	run(t, "mixed", func(t *testing.T) {
		m, src, d := FromSlice(t, b, ewRows, ewCols, mv), FromSlice(t, b, ewRows, ewCols, sv), FromSlice(t, b, ewRows, ewCols, dv)
		backend.Where(d, m, src)
		expectExact(t, "dst", ReadAll(t, b, d), want)
		expectExact(t, "mask (must be unchanged)", ReadAll(t, b, m), mv)
		expectExact(t, "src (must be unchanged)", ReadAll(t, b, src), sv)
	})
	run(t, "all zero mask", func(t *testing.T) {
		m, src, d := newTensor(t, b, ewRows, ewCols), FromSlice(t, b, ewRows, ewCols, sv), FromSlice(t, b, ewRows, ewCols, dv)
		backend.Where(d, m, src)
		expectExact(t, "dst", ReadAll(t, b, d), dv)
	})
}

func testWhereScalar(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	g := newGen(700)
	mv, dv := whereMask(g, n), g.uniform(n, -4, 4)
	for _, sc := range []float32{2.5, 0, -1e6} {
		run(t, fmt.Sprintf("%g", sc), func(t *testing.T) {
			m, d := FromSlice(t, b, ewRows, ewCols, mv), FromSlice(t, b, ewRows, ewCols, dv)
			backend.WhereScalar(d, m, sc)
			want := clone(dv)
			for i := range want {
				if mv[i] != 0 {
					want[i] = sc
				}
			}
			expectExact(t, "dst", ReadAll(t, b, d), want)
			expectExact(t, "mask (must be unchanged)", ReadAll(t, b, m), mv)
		})
	}
}

func testClip(t *testing.T, s *suite) {
	b := s.b
	n := ewRows * ewCols
	for k, p := range [][2]float32{{-1, 2}, {0, 0}, {0.5, 0.5}, {-10, 10}, {1, 3}} {
		lo, hi := p[0], p[1]
		g := newGen(uint64(800 + k))
		av := g.uniform(n, -4, 4)
		g.sprinkle(av, 0.05, lo)
		g.sprinkle(av, 0.05, hi)
		want := make([]float32, n)
		for i, a := range av {
			want[i] = min(max(a, lo), hi)
		}
		run(t, fmt.Sprintf("%g,%g", lo, hi), func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			d := newTensor(t, b, ewRows, ewCols)
			backend.Clip(d, x, lo, hi)
			expectExact(t, "dst", ReadAll(t, b, d), want)
			expectExact(t, "a (must be unchanged)", ReadAll(t, b, x), av)
		})
		run(t, fmt.Sprintf("%g,%g/dst=a", lo, hi), func(t *testing.T) {
			x := FromSlice(t, b, ewRows, ewCols, av)
			backend.Clip(x, x, lo, hi)
			expectExact(t, "dst", ReadAll(t, b, x), want)
		})
	}
}
