package opengl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/cpu"
)

// These tests hold the gl backend to its documented agreement with the cpu
// backend, which is stricter than the conformance suite's tolerances: the
// operations the package documentation calls bitwise must be bitwise
// equal, the double-precision transcendental ones within 1 ulp.

// twin is a tensor of each backend: [0] gl, [1] cpu.
type twin [2]backend.Tensor

// pair runs the same operations on a gl and a cpu backend.
type pair struct {
	t testing.TB
	b [2]backend.Backend
}

func newPair(t testing.TB, g *Backend) *pair {
	t.Helper()
	return &pair{t: t, b: [2]backend.Backend{g, cpuTwin(t)}}
}

// cpuTwin opens a cpu backend to compare with, closed when the test ends.
func cpuTwin(t testing.TB) *cpu.Backend {
	t.Helper()
	c, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tensor makes twin rows x cols tensors holding data (zeros when nil).
func (p *pair) tensor(rows, cols int, data []float32) twin {
	p.t.Helper()
	var tw twin
	for s, b := range p.b {
		x, err := b.NewTensor(rows, cols)
		if err != nil {
			p.t.Fatalf("%s: NewTensor(%d, %d): %v", b.Name(), rows, cols, err)
		}
		if data != nil {
			if err := b.Write(x, 0, data); err != nil {
				p.t.Fatalf("%s: Write: %v", b.Name(), err)
			}
		}
		tw[s] = x
	}
	return tw
}

// both runs f on each backend with s selecting the side of twins.
func (p *pair) both(f func(b backend.Backend, s int)) {
	for s, b := range p.b {
		f(b, s)
	}
}

// set writes data into both tensors of x.
func (p *pair) set(x twin, data []float32) {
	p.t.Helper()
	for s, b := range p.b {
		if err := b.Write(x[s], 0, data); err != nil {
			p.t.Fatalf("%s: Write: %v", b.Name(), err)
		}
	}
}

func (p *pair) read(x twin) (gl, cp []float32) {
	p.t.Helper()
	var out [2][]float32
	for s, b := range p.b {
		out[s] = make([]float32, x[s].Len())
		if err := b.Read(out[s], x[s], 0); err != nil {
			p.t.Fatalf("%s: Read: %v", b.Name(), err)
		}
	}
	return out[0], out[1]
}

func (p *pair) release(xs ...twin) {
	for _, x := range xs {
		for _, t := range x {
			if t != nil {
				t.Release()
			}
		}
	}
}

// same reports whether a and b are equal as values: bitwise, or both NaN,
// or both zero (of either sign).
func same(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b || a == 0 && b == 0
}

func ulps(a, b float32) int64 {
	if same(a, b) {
		return 0
	}
	if a != a || b != b {
		return math.MaxInt64
	}
	o := func(f float32) int64 {
		v := int64(int32(math.Float32bits(f)))
		if v < 0 {
			v = math.MinInt32 - v
		}
		return v
	}
	d := o(a) - o(b)
	if d < 0 {
		d = -d
	}
	return d
}

// expectULP compares gl with cpu element by element within maxULP.
func expectULP(t testing.TB, what string, gl, cp []float32, maxULP int64) {
	t.Helper()
	bad := 0
	for i := range gl {
		if ulps(gl[i], cp[i]) > maxULP {
			bad++
			if bad <= 5 {
				t.Errorf("%s: element %d: gl %v (%#08x), cpu %v (%#08x), more than %d ulp apart",
					what, i, gl[i], math.Float32bits(gl[i]), cp[i], math.Float32bits(cp[i]), maxULP)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d elements differ", what, bad, len(gl))
	}
}

// expectRel compares gl with cpu within rel of scale[i] (or of |cpu| when
// scale is nil).
func expectRel(t testing.TB, what string, gl, cp []float32, rel float64, scale []float64) {
	t.Helper()
	bad := 0
	for i := range gl {
		s := math.Abs(float64(cp[i]))
		if scale != nil {
			s = scale[i]
		}
		if d := math.Abs(float64(gl[i]) - float64(cp[i])); !(d <= rel*s+1e-30) && !same(gl[i], cp[i]) {
			bad++
			if bad <= 5 {
				t.Errorf("%s: element %d: gl %v, cpu %v (off by %.3g, allowed %.3g)", what, i, gl[i], cp[i], d, rel*s)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d elements differ", what, bad, len(gl))
	}
}

// inputs returns n values: mostly uniform in [lo, hi), with zeros of both
// signs, infinities and NaN sprinkled in when special is set.
func inputs(r *rand.Rand, n int, lo, hi float64, special bool) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + (hi-lo)*r.Float64())
	}
	if special && n >= 16 {
		sp := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1, -1}
		for k, v := range sp {
			out[(k*7919)%n] = v
		}
	}
	return out
}

// shapes used by the element tests: in a backend with a small buffer
// limit (see TestSplitBuffers) they are split at different boundaries.
type shape struct{ r, c int }

func runAgainstCPU(t *testing.T, g *Backend) {
	p := newPair(t, g)
	r := rand.New(rand.NewPCG(1, 2))

	ew := []shape{{5000, 1}, {50, 100}, {100, 50}}
	n := 5000
	av := inputs(r, n, -3, 3, true)
	bv := inputs(r, n, -3, 3, true)
	pos := inputs(r, n, 1e-3, 50, false)
	mask := make([]float32, n)
	for i := range mask {
		if r.IntN(3) == 0 {
			mask[i] = 1
		}
	}
	mk := func(k int, data []float32) twin { s := ew[k%len(ew)]; return p.tensor(s.r, s.c, data) }

	t.Run("Binary", func(t *testing.T) {
		for op := backend.Add; op <= backend.Ne; op++ {
			a, b, d := mk(0, av), mk(1, bv), mk(2, nil)
			p.both(func(be backend.Backend, s int) { backend.Binary(op, d[s], a[s], b[s]) })
			g, c := p.read(d)
			expectULP(t, op.String(), g, c, 0)
			p.both(func(be backend.Backend, s int) { backend.BinaryScalar(op, d[s], a[s], -0.75) })
			g, c = p.read(d)
			expectULP(t, op.String()+" scalar", g, c, 0)
			// dst aliasing an operand
			p.both(func(be backend.Backend, s int) { backend.Binary(op, a[s], a[s], b[s]) })
			g, c = p.read(a)
			expectULP(t, op.String()+" in place", g, c, 0)
			p.release(a, b, d)
		}
	})
	t.Run("Unary", func(t *testing.T) {
		for op := backend.Neg; op <= backend.Not; op++ {
			src := av
			tol := int64(0)
			switch op {
			case backend.Log, backend.Sqrt:
				src = pos
			case backend.Exp, backend.Tanh, backend.Sigmoid:
				src = inputs(r, n, -30, 30, true)
			}
			if op == backend.Exp || op == backend.Log || op == backend.Tanh || op == backend.Sigmoid {
				tol = 1
			}
			a, d := mk(1, src), mk(0, nil)
			p.both(func(be backend.Backend, s int) { backend.Unary(op, d[s], a[s]) })
			g, c := p.read(d)
			expectULP(t, op.String(), g, c, tol)
			p.release(a, d)
		}
	})
	t.Run("AffineAxpyWhereClip", func(t *testing.T) {
		a, b, m, d := mk(0, av), mk(1, bv), mk(2, mask), mk(1, pos)
		check := func(what string) {
			t.Helper()
			g, c := p.read(d)
			expectULP(t, what, g, c, 0)
		}
		// Affine and Axpy: a float32 multiply, then an add, never fused.
		p.both(func(be backend.Backend, s int) { backend.Affine(d[s], a[s], 1.7, -0.3) })
		g, _ := p.read(d)
		want := make([]float32, n)
		for i := range want {
			want[i] = float32(1.7*av[i]) - 0.3
		}
		expectULP(t, "Affine", g, want, 0)
		p.both(func(be backend.Backend, s int) { backend.Axpy(d[s], -2.3, b[s]) })
		g, _ = p.read(d)
		for i := range want {
			want[i] += float32(-2.3 * bv[i])
		}
		expectULP(t, "Axpy", g, want, 0)
		p.both(func(be backend.Backend, s int) { backend.Where(d[s], m[s], a[s]) })
		check("Where")
		p.both(func(be backend.Backend, s int) { backend.WhereScalar(d[s], m[s], 9) })
		check("WhereScalar")
		p.both(func(be backend.Backend, s int) { backend.Clip(d[s], b[s], -1, 0.5) })
		check("Clip")
		p.both(func(be backend.Backend, s int) { backend.Fill(d[s], -4.5) })
		check("Fill")
		p.both(func(be backend.Backend, s int) { backend.Copy(d[s], a[s]) })
		check("Copy")
		// Overlapping ranges of one tensor, both directions, across buffer
		// boundaries when the buffers are small.
		p.both(func(be backend.Backend, s int) { be.CopyRange(d[s], 700, d[s], 10, 3000) })
		check("CopyRange forward overlap")
		p.both(func(be backend.Backend, s int) { be.CopyRange(d[s], 5, d[s], 900, 4000) })
		check("CopyRange backward overlap")
		p.both(func(be backend.Backend, s int) { be.CopyRange(d[s], 1023, b[s], 2047, 1500) })
		check("CopyRange between tensors")
		p.release(a, b, m, d)
	})
	t.Run("Reduce", func(t *testing.T) {
		a := mk(0, inputs(r, n, -3, 3, false))
		z := mk(1, make([]float32, n)) // all zeros
		withNaN := mk(2, av)
		d := p.tensor(8, 1, nil)
		for op := backend.Sum; op <= backend.Count; op++ {
			p.both(func(be backend.Backend, s int) {
				be.Reduce(op, d[s], 0, a[s])
				be.Reduce(op, d[s], 1, z[s])
				be.Reduce(op, d[s], 2, withNaN[s])
			})
			g, c := p.read(d)
			if op == backend.Sum || op == backend.Mean {
				expectRel(t, op.String(), g[:3], c[:3], 1e-6, nil)
			} else {
				expectULP(t, op.String(), g[:3], c[:3], 0)
			}
		}
		empty := p.tensor(0, 3, nil)
		for op := backend.Sum; op <= backend.Count; op++ {
			p.both(func(be backend.Backend, s int) { be.Reduce(op, d[s], int(op), empty[s]) })
		}
		g, c := p.read(d)
		expectULP(t, "reductions of an empty tensor", g[:5], c[:5], 0)
		p.release(a, z, withNaN, d, empty)
	})

	for _, sh := range []shape{{300, 100}, {97, 41}, {41, 97}, {1, 700}, {700, 1}} {
		rows, cols := sh.r, sh.c
		t.Run(fmt.Sprintf("Matrix%dx%d", rows, cols), func(t *testing.T) {
			wv := inputs(r, rows*cols, -1, 1, false)
			w := p.tensor(rows, cols, wv)
			xr, xc := p.tensor(rows, 1, inputs(r, rows, -1, 1, false)), p.tensor(cols, 1, inputs(r, cols, -1, 1, false))
			drv, dcv := inputs(r, rows, -1, 1, false), inputs(r, cols, -1, 1, false)
			dr, dc := p.tensor(rows, 1, drv), p.tensor(cols, 1, dcv)
			defer p.release(w, xr, xc, dr, dc)

			for _, trans := range []bool{false, true} {
				d, x := dr, xc
				if trans {
					d, x = dc, xr
				}
				p.set(dr, drv)
				p.set(dc, dcv)
				p.both(func(be backend.Backend, s int) { be.MatVec(d[s], w[s], trans, x[s], 0.75, 0.5) })
				g, c := p.read(d)
				expectRel(t, fmt.Sprintf("MatVec trans=%t", trans), g, c, 1e-5, absDot(wv, rows, cols, trans, x, p))
			}
			for _, frac := range []float64{0, 0.01, 0.3, 1} {
				for _, trans := range []bool{false, true} {
					d, mlen := dr, cols
					if trans {
						d, mlen = dc, rows
					}
					mv := make([]float32, mlen)
					for i := range mv {
						if r.Float64() < frac {
							mv[i] = float32(1 + r.IntN(2))
						}
					}
					m := p.tensor(mlen, 1, mv)
					p.set(dr, drv)
					p.set(dc, dcv)
					p.both(func(be backend.Backend, s int) { be.Propagate(d[s], w[s], trans, m[s], -0.6) })
					g, c := p.read(d)
					what := fmt.Sprintf("Propagate trans=%t %g", trans, frac)
					// The cpu may fuse multiply-adds (AVX2+FMA): compare
					// with it within rounding, and bitwise with the
					// documented float32 operations.
					ref, scale := propagateRef(wv, rows, cols, trans, mv, drv, dcv, -0.6)
					expectRel(t, what+" vs cpu", g, c, 1e-6, scale)
					expectULP(t, what+" vs float32 reference", g, ref, 0)
					p.release(m)
				}
			}
			rm := p.tensor(rows, 1, maskOf(r, rows, 0.2))
			cm := p.tensor(cols, 1, maskOf(r, cols, 0.3))
			u := p.tensor(rows, 1, inputs(r, rows, 0, 1, false))
			v := p.tensor(cols, 1, inputs(r, cols, 0, 1, false))
			defer p.release(rm, cm, u, v)
			for k := 0; k < 16; k++ {
				pick := func(bit int, x twin) twin {
					if k&bit != 0 {
						return x
					}
					return twin{}
				}
				rmk, cmk, uk, vk := pick(1, rm), pick(2, cm), pick(4, u), pick(8, v)
				for _, op := range []backend.OuterParams{
					{Alpha: 0.3},
					{Alpha: -0.2, Soft: true, Target: 0.9},
					{Alpha: 0.7, Clip: true, Lo: -0.5, Hi: 0.6},
					{Alpha: 0.4, Soft: true, Target: -1, Clip: true, Lo: -0.8, Hi: 0.8},
				} {
					p.both(func(be backend.Backend, s int) { be.Outer(w[s], rmk[s], cmk[s], uk[s], vk[s], op) })
				}
				g, c := p.read(w)
				expectULP(t, fmt.Sprintf("Outer masks %04b", k), g, c, 0)
			}
			for _, axis := range []backend.Axis{backend.Rows, backend.Cols} {
				p.set(w, wv)
				p.both(func(be backend.Backend, s int) { be.Normalize(w[s], axis, 2.5) })
				g, c := p.read(w)
				expectULP(t, fmt.Sprintf("Normalize axis %d", axis), g, c, 1)
			}
		})
	}

	t.Run("Random", func(t *testing.T) {
		// 100x37 is split into buffers of 999 elements (27 rows) when
		// they are small, so the blocks of 2 or 4 elements that share
		// random words straddle buffers.
		x := p.tensor(100, 37, nil)
		for k, d := range []rng.Dist{
			rng.UniformDist(-2, 3), rng.BernoulliDist(0.3), rng.ConstDist(1.5),
			{Kind: rng.UniformDist(0, 1).Kind, A: 0, B: 1, Scale: 2, Density: 0.25},
			{Kind: rng.ConstDist(0).Kind, A: 1, Scale: 1, Density: 0.5},
			rng.NormalDist(1, 2), rng.LogNormalDist(0.5, 0.7),
		} {
			key := rng.Key{Seed: 0xdeadbeefcafe + uint64(k), Counter: 1<<33 + uint64(k)}
			p.both(func(be backend.Backend, s int) { be.Random(x[s], d, key) })
			g, c := p.read(x)
			tol := int64(0)
			if k >= 5 {
				tol = 1 // Normal and LogNormal: float32 rounding of log, sqrt, cos, exp
			}
			expectULP(t, fmt.Sprintf("Random %v", d), g, c, tol)
			exact := 0
			for i := range g {
				if same(g[i], c[i]) {
					exact++
				}
			}
			t.Logf("Random %v: %d of %d bitwise equal", d, exact, len(g))
		}
		p.release(x)
	})
}

// propagateRef is Propagate in the documented float32 operations: without
// trans each row sums its spiking columns in index order, then dst +=
// alpha*sum; with trans, dst += alpha*W[i, :] for each spiking row i in
// order. It returns the result and, per element, the sum of the absolute
// values of the terms (the scale of rounding differences).
func propagateRef(w []float32, rows, cols int, trans bool, mask, dr, dc []float32, alpha float32) (ref []float32, scale []float64) {
	if trans {
		ref = append([]float32(nil), dc...)
		scale = make([]float64, cols)
		for i := 0; i < rows; i++ {
			if mask[i] == 0 {
				continue
			}
			for c := 0; c < cols; c++ {
				ref[c] += float32(alpha * w[i*cols+c])
				scale[c] += math.Abs(float64(w[i*cols+c]))
			}
		}
	} else {
		ref = append([]float32(nil), dr...)
		scale = make([]float64, rows)
		for r := 0; r < rows; r++ {
			var s float32
			any := false
			for c := 0; c < cols; c++ {
				if mask[c] != 0 {
					s += w[r*cols+c]
					scale[r] += math.Abs(float64(w[r*cols+c]))
					any = true
				}
			}
			if any {
				ref[r] += float32(alpha * s)
			}
		}
	}
	for i := range scale {
		scale[i] = scale[i]*math.Abs(float64(alpha)) + math.Abs(float64(ref[i]))
	}
	return ref, scale
}

func maskOf(r *rand.Rand, n int, frac float64) []float32 {
	m := make([]float32, n)
	for i := range m {
		if r.Float64() < frac {
			m[i] = 1
		}
	}
	return m
}

// absDot returns, per output of MatVec, the sum of |W||x| plus 1 (for the
// beta*dst term): the scale of its rounding error.
func absDot(wv []float32, rows, cols int, trans bool, x twin, p *pair) []float64 {
	_, xv := p.read(x)
	out := rows
	if trans {
		out = cols
	}
	s := make([]float64, out)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			w := math.Abs(float64(wv[i*cols+j]))
			if trans {
				s[j] += w * math.Abs(float64(xv[i]))
			} else {
				s[i] += w * math.Abs(float64(xv[j]))
			}
		}
	}
	for i := range s {
		s[i] += 1
	}
	return s
}

// TestAgainstCPU compares every operation with the cpu backend.
func TestAgainstCPU(t *testing.T) {
	runAgainstCPU(t, openOrSkip(t))
}

// TestSplitBuffers runs the same comparison with a 4 KiB buffer limit, so
// that every matrix and long vector above is split into many buffers
// (tiles of whole rows, different boundaries for different shapes).
func TestSplitBuffers(t *testing.T) {
	g := openHooks(t, hooks{maxBlockBytes: 4096}, backend.Options{})
	w, err := g.NewTensor(300, 100)
	if err != nil {
		t.Fatal(err)
	}
	if tiles := len(w.(*tensor).tiles); tiles != 30 {
		t.Fatalf("a 300x100 matrix is in %d buffers with a 4096-byte limit, want 30 (10 rows each)", tiles)
	}
	w.Release()
	runAgainstCPU(t, g)
}

// TestGPUPaths runs the comparison and the conformance suite with the
// kernel variants meant for GPUs (a group per matrix row, the parallel
// two-pass spike compaction, many groups), which a software renderer does
// not use by itself.
func TestGPUPaths(t *testing.T) {
	g := openHooks(t, hooks{gpuPaths: true}, backend.Options{})
	if !g.x.cpuPaths && g.Software() {
		t.Log("software renderer running the GPU kernel variants")
	}
	runAgainstCPU(t, g)
	t.Run("conformance", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) backend.Backend {
			b, err := newWith(backend.Options{Context: testContext()}, hooks{gpuPaths: true})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			return b
		})
	})
}
