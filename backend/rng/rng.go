// Package rng is GoMoNNto's counter-based random number generator,
// Philox4x32-10, and the reference definition of every random fill. The
// cpu backend computes with it directly; GPU backends implement the same
// arithmetic in shaders and are tested against it bit for bit.
package rng

import (
	"fmt"
	"math"
	"math/bits"
)

// Key keys the counter-based generator. The same key yields the same
// numbers on every backend: element i of a fill is a pure function of
// (Seed, Counter, i).
type Key struct {
	Seed    uint64 // the simulation seed
	Counter uint64 // distinguishes draws: a network increments it per draw
}

// DistKind selects a distribution for Random.
type DistKind uint8

const (
	Const     DistKind = iota // A
	Uniform                   // A + (B-A)*U[0,1)
	Normal                    // mean A, standard deviation B
	LogNormal                 // exp(N(A, B))
	Bernoulli                 // 1 with probability A, else 0
	numDistKinds
)

var distNames = [...]string{"const", "uniform", "normal", "lognormal", "bernoulli"}

func (k DistKind) String() string {
	if k < numDistKinds {
		return distNames[k]
	}
	return fmt.Sprintf("DistKind(%d)", uint8(k))
}

// Dist describes a random fill: each element is Scale*sample with
// probability Density and 0 otherwise. Build one with the constructors;
// the zero Dist fills zeros.
type Dist struct {
	Kind    DistKind
	A, B    float32
	Scale   float32
	Density float32 // probability that an element is kept, in [0, 1]
}

// ConstDist returns a Dist of the constant v.
func ConstDist(v float32) Dist { return Dist{Kind: Const, A: v, Scale: 1, Density: 1} }

// UniformDist returns U[lo, hi).
func UniformDist(lo, hi float32) Dist { return Dist{Kind: Uniform, A: lo, B: hi, Scale: 1, Density: 1} }

// NormalDist returns N(mean, sd).
func NormalDist(mean, sd float32) Dist {
	return Dist{Kind: Normal, A: mean, B: sd, Scale: 1, Density: 1}
}

// LogNormalDist returns exp(N(mean, sigma)).
func LogNormalDist(mean, sigma float32) Dist {
	return Dist{Kind: LogNormal, A: mean, B: sigma, Scale: 1, Density: 1}
}

// BernoulliDist returns 1 with probability p, else 0.
func BernoulliDist(p float32) Dist { return Dist{Kind: Bernoulli, A: p, Scale: 1, Density: 1} }

// Validate reports a Dist that Random would reject.
func (d Dist) Validate() error {
	if d.Kind >= numDistKinds {
		return fmt.Errorf("rng: unknown distribution kind %d", d.Kind)
	}
	if !(d.Density >= 0 && d.Density <= 1) {
		return fmt.Errorf("rng: density %g is outside [0, 1]", d.Density)
	}
	if d.Kind == Bernoulli && !(d.A >= 0 && d.A <= 1) {
		return fmt.Errorf("rng: bernoulli probability %g is outside [0, 1]", d.A)
	}
	if (d.Kind == Normal || d.Kind == LogNormal) && d.B < 0 {
		return fmt.Errorf("rng: %s standard deviation %g is negative", d.Kind, d.B)
	}
	return nil
}

// Philox4x32-10 constants (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011).
const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox4x32 is the Philox4x32-10 block function: four random words from a
// 128-bit counter and a 64-bit key.
func Philox4x32(ctr [4]uint32, key [2]uint32) [4]uint32 {
	c0, c1, c2, c3 := ctr[0], ctr[1], ctr[2], ctr[3]
	k0, k1 := key[0], key[1]
	for r := 0; r < 10; r++ {
		if r > 0 {
			k0 += philoxW0
			k1 += philoxW1
		}
		hi0, lo0 := bits.Mul32(philoxM0, c0)
		hi1, lo1 := bits.Mul32(philoxM1, c2)
		c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
	}
	return [4]uint32{c0, c1, c2, c3}
}

// Words returns the four random words of element i under key: the counter
// is (i low, i high, Counter low, Counter high) and the key the Seed.
func Words(key Key, i uint64) [4]uint32 {
	return Philox4x32(
		[4]uint32{uint32(i), uint32(i >> 32), uint32(key.Counter), uint32(key.Counter >> 32)},
		[2]uint32{uint32(key.Seed), uint32(key.Seed >> 32)})
}

const inv24 = 1.0 / (1 << 24)

// Unit maps a random word to a float32 in [0, 1) with 24 random bits.
// The mapping is exact, so every backend produces the same value.
func Unit(w uint32) float32 { return float32(w>>8) * inv24 }

// WordsPerElement is how many of the four words of one Philox block an
// element drawn from d uses: 1 for Const, Uniform and Bernoulli, 2 for
// Normal and LogNormal, plus one for the density mask when Density < 1,
// rounded up to 1, 2 or 4. A block then serves 4/WordsPerElement
// consecutive elements, so a uniform fill costs a quarter of a Philox call
// per element.
func (d Dist) WordsPerElement() int {
	w := 1
	if d.Kind == Normal || d.Kind == LogNormal {
		w = 2
	}
	if d.Density < 1 {
		w++
	}
	if w == 3 {
		w = 4
	}
	return w
}

// Sample is the reference definition of Random: the value of element i.
//
// With e = WordsPerElement and p = 4/e, element i takes the words
// w[b], ..., w[b+e-1] of the block w = Words(key, i/p), b = (i%p)*e. The
// value uses w[b] (and w[b+1] for Normal and LogNormal); when Density < 1
// the element is kept if Unit(w[b+e-1]) < Density and is 0 otherwise.
// Uniform is A + (B-A)*Unit(w[b]); Bernoulli is 1 if Unit(w[b]) < A; the
// result is multiplied by Scale.
//
// Uniform, Bernoulli, Const and the density mask are bitwise reproducible
// on every backend; Normal and LogNormal use Box-Muller (StdNormal2) and
// agree across backends to float32 rounding of log, sqrt, cos and exp.
func Sample(d Dist, key Key, i uint64) float32 {
	e := uint64(d.WordsPerElement())
	p := 4 / e
	w := Words(key, i/p)
	b := (i % p) * e
	if d.Density < 1 && !(Unit(w[b+e-1]) < d.Density) {
		return 0
	}
	var x float32
	switch d.Kind {
	case Const:
		x = d.A
	case Uniform:
		x = d.A + float32((d.B-d.A)*Unit(w[b])) // the conversion forbids a fused multiply-add
	case Normal:
		x = d.A + d.B*StdNormal2(w[b], w[b+1])
	case LogNormal:
		x = float32(math.Exp(float64(d.A + d.B*StdNormal2(w[b], w[b+1]))))
	case Bernoulli:
		if Unit(w[b]) < d.A {
			x = 1
		}
	}
	return d.Scale * x
}

// StdNormal maps four random words to a standard normal number (mean 0,
// standard deviation 1) by Box-Muller: sqrt(-2 ln u1)*cos(2 pi u0) with
// u0 = Unit(w[0]) in [0, 1) and u1 in (0, 1] from w[1]. It is the normal
// sample of Sample and of fused programs (package expr).
func StdNormal(w [4]uint32) float32 { return StdNormal2(w[0], w[1]) }

// StdNormal2 is Box-Muller on two words: sqrt(-2 ln u1)*cos(2 pi u0) with
// u0 = Unit(w0) in [0, 1) and u1 = ((w1>>8)+1)/2^24 in (0, 1].
func StdNormal2(w0, w1 uint32) float32 {
	u0 := Unit(w0)
	u1 := float32((w1>>8)+1) * inv24 // (0, 1]
	r := float32(math.Sqrt(float64(-2 * float32(math.Log(float64(u1))))))
	return r * float32(math.Cos(float64(2*math.Pi*u0)))
}
