package cpu

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// benchThreads compares one thread with the whole machine (GOMAXPROCS).
var benchThreads = []int{1, 0}

func threadName(th int) string {
	if th == 0 {
		return "threads=max"
	}
	return fmt.Sprintf("threads=%d", th)
}

func benchTensor(b *testing.B, be *Backend, rows, cols int, d rng.Dist, seed uint64) backend.Tensor {
	b.Helper()
	x, err := be.NewTensor(rows, cols)
	if err != nil {
		b.Fatal(err)
	}
	be.Random(x, d, rng.Key{Seed: seed})
	return x
}

// BenchmarkMatVec5000 is dense y = W*x (and W^T*x) on a 5000x5000 matrix
// (100 MB): the anchor is OpenBLAS sgemv at about 1.4 ms on 2 cores.
func BenchmarkMatVec5000(b *testing.B) {
	const n = 5000
	for _, th := range benchThreads {
		be := open(b, th)
		w := benchTensor(b, be, n, n, rng.UniformDist(-1, 1), 1)
		x := benchTensor(b, be, n, 1, rng.UniformDist(-1, 1), 2)
		y := benchTensor(b, be, n, 1, rng.ConstDist(0), 3)
		for _, fma := range kernelModes() {
			kernel := "gonum"
			if fma {
				kernel = "avx2"
			}
			be.fma = fma
			for _, trans := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s/%s/trans=%v", threadName(th), kernel, trans), func(b *testing.B) {
					b.SetBytes(4 * n * n)
					for b.Loop() {
						be.MatVec(y, w, trans, x, 1, 0)
					}
				})
			}
		}
		be.Close()
	}
}

// BenchmarkPropagate10000 adds the weights of 1% spiking neurons of a
// 10000x10000 matrix (400 MB): trans=true adds 100 contiguous rows,
// trans=false gathers 100 columns from every row.
func BenchmarkPropagate10000(b *testing.B) {
	const n = 10000
	for _, th := range benchThreads {
		be := open(b, th)
		w := benchTensor(b, be, n, n, rng.UniformDist(0, 1), 1)
		m := benchTensor(b, be, n, 1, rng.BernoulliDist(0.01), 2)
		y := benchTensor(b, be, n, 1, rng.ConstDist(0), 3)
		for _, trans := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/trans=%v", threadName(th), trans), func(b *testing.B) {
				for b.Loop() {
					be.Propagate(y, w, trans, m, 1)
				}
			})
		}
		be.Close()
	}
}

// BenchmarkElementwise1e6 runs representative elementwise operations on
// 10^6 elements.
func BenchmarkElementwise1e6(b *testing.B) {
	const n = 1000000
	for _, th := range benchThreads {
		be := open(b, th)
		x := benchTensor(b, be, n, 1, rng.UniformDist(0.1, 1), 1)
		y := benchTensor(b, be, n, 1, rng.UniformDist(0.1, 1), 2)
		d := benchTensor(b, be, n, 1, rng.ConstDist(0), 3)
		s := benchTensor(b, be, 1, 1, rng.ConstDist(0), 4)
		ops := []struct {
			name string
			f    func()
		}{
			{"Fill", func() { backend.Fill(d, 1) }},
			{"BinaryAdd", func() { backend.Binary(backend.Add, d, x, y) }},
			{"BinaryGt", func() { backend.Binary(backend.Gt, d, x, y) }},
			{"Affine", func() { backend.Affine(d, x, 0.5, 1) }},
			{"Axpy", func() { backend.Axpy(d, 0.5, x) }},
			{"UnaryExp", func() { backend.Unary(backend.Exp, d, x) }},
			{"Clip", func() { backend.Clip(d, x, 0.2, 0.8) }},
			{"ReduceSum", func() { be.Reduce(backend.Sum, s, 0, x) }},
			{"RandomUniform", func() { be.Random(d, rng.UniformDist(0, 1), rng.Key{Seed: 5}) }},
			{"RandomNormal", func() { be.Random(d, rng.NormalDist(0, 1), rng.Key{Seed: 5}) }},
		}
		for _, op := range ops {
			b.Run(threadName(th)+"/"+op.name, func(b *testing.B) {
				b.SetBytes(4 * n)
				for b.Loop() {
					op.f()
				}
			})
		}
		be.Close()
	}
}

// BenchmarkOuterNormalize600 is a plasticity step on a 600x600 matrix.
func BenchmarkOuterNormalize600(b *testing.B) {
	const n = 600
	for _, th := range benchThreads {
		be := open(b, th)
		w := benchTensor(b, be, n, n, rng.UniformDist(0, 1), 1)
		u := benchTensor(b, be, n, 1, rng.UniformDist(0, 1), 2)
		v := benchTensor(b, be, n, 1, rng.UniformDist(0, 1), 3)
		m := benchTensor(b, be, n, 1, rng.BernoulliDist(0.05), 4)
		p := backend.OuterParams{Alpha: 0.01, Clip: true, Lo: 0, Hi: 1}
		b.Run(threadName(th)+"/OuterDense", func(b *testing.B) {
			for b.Loop() {
				be.Outer(w, nil, nil, u, v, p)
			}
		})
		b.Run(threadName(th)+"/OuterRowMask5%", func(b *testing.B) {
			for b.Loop() {
				be.Outer(w, m, nil, u, v, p)
			}
		})
		b.Run(threadName(th)+"/NormalizeRows", func(b *testing.B) {
			for b.Loop() {
				be.Normalize(w, backend.Rows, 1)
			}
		})
		b.Run(threadName(th)+"/NormalizeCols", func(b *testing.B) {
			for b.Loop() {
				be.Normalize(w, backend.Cols, 1)
			}
		})
		be.Close()
	}
}

// BenchmarkSmallOps measures the per-call cost on 1000-element vectors
// (an M3-sized network), where everything runs on the caller.
func BenchmarkSmallOps(b *testing.B) {
	const n = 1000
	be := open(b, 0)
	x := benchTensor(b, be, n, 1, rng.UniformDist(0.1, 1), 1)
	y := benchTensor(b, be, n, 1, rng.UniformDist(0.1, 1), 2)
	d := benchTensor(b, be, n, 1, rng.ConstDist(0), 3)
	b.Run("BinaryAdd1000", func(b *testing.B) {
		for b.Loop() {
			backend.Binary(backend.Add, d, x, y)
		}
	})
	b.Run("WhereScalar1000", func(b *testing.B) {
		for b.Loop() {
			backend.WhereScalar(d, x, 0)
		}
	})
	// An M1-sized step: 100 elements, where the per-call cost is all.
	x1 := benchTensor(b, be, 100, 1, rng.UniformDist(0.1, 1), 1)
	d1 := benchTensor(b, be, 100, 1, rng.ConstDist(0), 3)
	b.Run("ScaleAxpy100", func(b *testing.B) {
		for b.Loop() {
			backend.BinaryScalar(backend.Mul, d1, d1, 0.99)
			backend.Axpy(d1, 1, x1)
		}
	})
}

// BenchmarkCollect scans a 3200-neuron spike mask holding 8 spikes, as
// each Propagate of M5 does.
func BenchmarkCollect(b *testing.B) {
	m := make([]float32, 3200)
	for i := 0; i < 8; i++ {
		m[i*397] = 1
	}
	var buf []int
	for i := 0; i < b.N; i++ {
		collect(&buf, m)
	}
}

// BenchmarkRandomUniform10k is one step of M6's noise: 10,000 U[0,1)
// numbers from the counter-based generator.
func BenchmarkRandomUniform10k(b *testing.B) {
	be, err := New(backend.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	x, _ := be.NewTensor(10000, 1)
	for i := 0; i < b.N; i++ {
		be.Random(x, rng.UniformDist(0, 1), rng.Key{Seed: 1, Counter: uint64(i)})
	}
}
