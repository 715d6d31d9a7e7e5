package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNonZero32 compares the vector kernel with the portable loop on
// masks holding ±0, NaN, infinities and denormals.
func TestNonZero32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	m := make([]float32, 32)
	for range 2000 {
		for k := range m {
			m[k] = 0
			if r.IntN(4) == 0 {
				m[k] = special[r.IntN(len(special))]
			}
		}
		if got, want := nonZero32(m), nonZero32Go(m); got != want {
			t.Fatalf("nonZero32(%v) = %032b, want %032b", m, got, want)
		}
	}
}
