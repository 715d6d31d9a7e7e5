package expr

import (
	"testing"
	"time"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// izhikevichState returns n neurons near rest with sub-threshold input, so
// that repeated updates stay finite (there is no spike reset here).
func izhikevichState(n int) (v, u, I []float32) {
	v, u, I = make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range v {
		v[i] = -70 + float32(i%10)*0.5
		u[i] = 0.2 * v[i]
		I[i] = float32(i%4) * 0.5
	}
	return v, u, I
}

// izhikevichLoop is the hand-written Go loop of the Izhikevich update,
// rounding every operation to float32 as the program does.
func izhikevichLoop(v, u, I []float32) {
	const dt, a, b = 0.5, 0.02, 0.2
	u, I = u[:len(v)], I[:len(v)]
	for i := range v {
		x := v[i]
		x = x + float32(dt*float32(float32(float32(float32(float32(float32(0.04*x)*x)+float32(5*x))+140)-u[i])+I[i]))
		v[i] = x
		u[i] = u[i] + float32(float32(dt*a)*float32(float32(b*x)-u[i]))
	}
}

// BenchmarkIzhikevich compares the fused program on 1e6 elements with the
// hand-written loop; the ratio Program/Go is the interpretation overhead.
func BenchmarkIzhikevich(b *testing.B) {
	const n = 1_000_000
	b.Run("Program/1e6", func(b *testing.B) {
		p := mustCompile(b, izhikevichSrc, izhikevichEnv)
		e := p.NewEvaluator()
		v, u, I := izhikevichState(n)
		vars := [][]float32{v, u, I}
		b.SetBytes(5 * 4 * n)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			e.Eval(vars, 0, n, rng.Key{})
		}
	})
	b.Run("Go/1e6", func(b *testing.B) {
		v, u, I := izhikevichState(n)
		b.SetBytes(5 * 4 * n)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			izhikevichLoop(v, u, I)
		}
	})
}

// BenchmarkIzhikevichRatio alternates the program and the hand-written loop
// on 1e6 elements and reports the ratio of their times (program/go), which
// is less sensitive to a busy machine than two separate benchmarks.
func BenchmarkIzhikevichRatio(b *testing.B) {
	const n = 1_000_000
	p := mustCompile(b, izhikevichSrc, izhikevichEnv)
	e := p.NewEvaluator()
	v, u, I := izhikevichState(n)
	vars := [][]float32{v, u, I}
	v2, u2, I2 := izhikevichState(n)
	var tp, tg time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		e.Eval(vars, 0, n, rng.Key{})
		t1 := time.Now()
		izhikevichLoop(v2, u2, I2)
		tg += time.Since(t1)
		tp += t1.Sub(t0)
	}
	b.ReportMetric(float64(tp)/float64(tg), "program/go")
	b.ReportMetric(float64(tp.Nanoseconds())/float64(b.N)/1e6, "program-ms/op")
	b.ReportMetric(float64(tg.Nanoseconds())/float64(b.N)/1e6, "go-ms/op")
}
