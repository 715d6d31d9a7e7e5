package opengl

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// benchTensor returns a rows x cols tensor filled by Random with dist.
func benchTensor(b *testing.B, g *Backend, rows, cols int, dist rng.Dist, counter uint64) backend.Tensor {
	b.Helper()
	t, err := g.NewTensor(rows, cols)
	if err != nil {
		b.Fatal(err)
	}
	g.Random(t, dist, rng.Key{Seed: 1, Counter: counter})
	return t
}

// finish waits for the device so that the timing covers the work, not
// only its submission.
func finish(b *testing.B, g *Backend) {
	b.Helper()
	if err := g.Sync(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkMatVec2000x2000(b *testing.B) {
	for _, trans := range []bool{false, true} {
		b.Run(fmt.Sprintf("trans=%t", trans), func(b *testing.B) {
			g := openOrSkip(b)
			w := benchTensor(b, g, 2000, 2000, rng.UniformDist(-1, 1), 1)
			x := benchTensor(b, g, 2000, 1, rng.UniformDist(-1, 1), 2)
			d := benchTensor(b, g, 2000, 1, rng.ConstDist(0), 3)
			finish(b, g)
			b.SetBytes(2000 * 2000 * 4)
			b.ResetTimer()
			for range b.N {
				g.MatVec(d, w, trans, x, 1, 0)
				if err := g.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			finish(b, g)
		})
	}
}

func BenchmarkPropagate4000x4000Active1pct(b *testing.B) {
	for _, trans := range []bool{false, true} {
		b.Run(fmt.Sprintf("trans=%t", trans), func(b *testing.B) {
			g := openOrSkip(b)
			w := benchTensor(b, g, 4000, 4000, rng.UniformDist(-1, 1), 1)
			m := benchTensor(b, g, 4000, 1, rng.BernoulliDist(0.01), 2)
			d := benchTensor(b, g, 4000, 1, rng.ConstDist(0), 3)
			finish(b, g)
			b.ResetTimer()
			for range b.N {
				g.Propagate(d, w, trans, m, 1)
				if err := g.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			finish(b, g)
		})
	}
}

// BenchmarkStep1000 is one step of a small network: 1000 neurons, a few
// elementwise updates, a spike-driven propagation and a flush.
func BenchmarkStep1000(b *testing.B) {
	g := openOrSkip(b)
	const n = 1000
	w := benchTensor(b, g, n, n, rng.UniformDist(0, 1), 1)
	v := benchTensor(b, g, n, 1, rng.UniformDist(0, 1), 2)
	spk := benchTensor(b, g, n, 1, rng.ConstDist(0), 3)
	in := benchTensor(b, g, n, 1, rng.ConstDist(0), 4)
	finish(b, g)
	b.ResetTimer()
	for range b.N {
		backend.Fill(in, 0)
		g.Propagate(in, w, true, spk, 0.01)
		backend.Axpy(v, 0.1, in)
		backend.BinaryScalar(backend.Ge, spk, v, 0.9)
		backend.WhereScalar(v, spk, 0)
		if err := g.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	finish(b, g)
}

// BenchmarkOps times single operations (recorded, flushed, and waited
// for every 16 runs) on vectors of 10^3 and 10^6 elements.
func BenchmarkOps(b *testing.B) {
	for _, n := range []int{1000, 1_000_000} {
		g := openOrSkip(b)
		x := benchTensor(b, g, n, 1, rng.UniformDist(0.5, 1), 1)
		y := benchTensor(b, g, n, 1, rng.UniformDist(0.5, 1), 2)
		d := benchTensor(b, g, n, 1, rng.ConstDist(0), 3)
		r := benchTensor(b, g, 1, 1, rng.ConstDist(0), 4)
		ops := []struct {
			name string
			f    func()
		}{
			{"Fill", func() { backend.Fill(d, 1) }},
			{"BinaryMul", func() { backend.Binary(backend.Mul, d, x, y) }},
			{"UnaryExp", func() { backend.Unary(backend.Exp, d, x) }},
			{"Axpy", func() { backend.Axpy(d, 0.5, x) }},
			{"RandomUniform", func() { g.Random(d, rng.UniformDist(0, 1), rng.Key{Seed: 1}) }},
			{"RandomNormal", func() { g.Random(d, rng.NormalDist(0, 1), rng.Key{Seed: 1}) }},
			{"ReduceSum", func() { g.Reduce(backend.Sum, r, 0, x) }},
		}
		for _, op := range ops {
			b.Run(fmt.Sprintf("%s/n=%d", op.name, n), func(b *testing.B) {
				finish(b, g)
				b.ResetTimer()
				for i := range b.N {
					op.f()
					if err := g.Flush(); err != nil {
						b.Fatal(err)
					}
					if i%16 == 15 {
						finish(b, g)
					}
				}
				finish(b, g)
			})
		}
	}
}

func BenchmarkOuter4000x4000Active1pct(b *testing.B) {
	g := openOrSkip(b)
	w := benchTensor(b, g, 4000, 4000, rng.UniformDist(0, 1), 1)
	m := benchTensor(b, g, 4000, 1, rng.BernoulliDist(0.01), 2)
	finish(b, g)
	b.ResetTimer()
	for range b.N {
		g.Outer(w, m, m, nil, nil, backend.OuterParams{Alpha: 1e-3, Clip: true, Lo: 0, Hi: 1})
		if err := g.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	finish(b, g)
}

func BenchmarkNormalize2000x2000(b *testing.B) {
	for _, axis := range []backend.Axis{backend.Rows, backend.Cols} {
		b.Run(fmt.Sprintf("axis=%d", axis), func(b *testing.B) {
			g := openOrSkip(b)
			w := benchTensor(b, g, 2000, 2000, rng.UniformDist(0, 1), 1)
			finish(b, g)
			b.ResetTimer()
			for range b.N {
				g.Normalize(w, axis, 1)
				if err := g.Flush(); err != nil {
					b.Fatal(err)
				}
			}
			finish(b, g)
		})
	}
}
