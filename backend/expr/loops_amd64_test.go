//go:build amd64 && !purego

package expr

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestAVXLoopsMatchGo runs every AVX2 loop and its portable twin on the
// same operands (random values mixed with zeros of both signs, infinities,
// NaN, equal pairs and the constants themselves) for lengths that exercise
// the vector body, the masked tail and both, and asks for identical bits
// and for no write past the destination's end.
func TestAVXLoopsMatchGo(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("this processor has no AVX2; the portable loops run")
	}
	if len(avxLoops) < 90 {
		t.Fatalf("only %d AVX2 loops; the generator lost some", len(avxLoops))
	}
	keys := make([]string, 0, len(avxLoops))
	for k := range avxLoops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	r := rand.New(rand.NewPCG(1, 2))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -2.5, float32(math.Inf(1)),
		float32(math.Inf(-1)), float32(math.NaN()), 3, 1e-40, -7.25}
	gen := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			if r.IntN(3) == 0 {
				x[i] = special[r.IntN(len(special))]
			} else {
				x[i] = float32(r.NormFloat64() * 4)
			}
		}
		return x
	}
	const guard = 9
	for _, key := range keys {
		fast, slow := avxLoops[key], goLoops[key]
		if slow == nil {
			t.Fatalf("%s: AVX2 loop without a portable twin", key)
		}
		for _, n := range []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 64, 511, 512} {
			for _, ks := range [][2]float32{{0.5, -1}, {0, 3}, {float32(math.NaN()), 2}, {-2.5, float32(math.Inf(1))}} {
				a, b, c := gen(n), gen(n), gen(n)
				for i := range b {
					if r.IntN(5) == 0 {
						b[i] = a[i] // equal operands (min/max/compare ties)
					}
				}
				d1 := gen(n + guard)
				d2 := append([]float32(nil), d1...)
				fast(d1[:n], a, b, c, ks[0], ks[1])
				slow(d2[:n], a, b, c, ks[0], ks[1])
				for i := range d1 {
					if math.Float32bits(d1[i]) != math.Float32bits(d2[i]) {
						where := "result"
						if i >= n {
							where = "past the end"
						}
						t.Fatalf("%s n=%d k=%v: element %d (%s): avx %v (%#x), go %v (%#x); a=%v b=%v c=%v",
							key, n, ks, i, where, d1[i], math.Float32bits(d1[i]), d2[i], math.Float32bits(d2[i]),
							at(a, i), at(b, i), at(c, i))
					}
				}
			}
		}
	}
}

func at(x []float32, i int) any {
	if i < len(x) {
		return x[i]
	}
	return "-"
}
