package cpu

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

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
		be.Random(x, backend.UniformDist(0, 1), backend.RandKey{Seed: 1, Counter: uint64(i)})
	}
}
