package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// Tolerance of Normal and LogNormal samples (Box-Muller uses log, sqrt, cos
// and exp, whose float32 rounding differs between devices).
const (
	normalRel = 2e-6
	normalAbs = 2e-6
)

// bitwiseKind reports whether Random of kind must match rng.Sample bit for bit.
func bitwiseKind(k rng.DistKind) bool {
	return k == rng.Const || k == rng.Uniform || k == rng.Bernoulli
}

// expectSamples compares got[k] (element index(k) of a fill) with
// rng.Sample: bitwise for Const, Uniform and Bernoulli and for the zeros of
// the density mask; within normalRel/normalAbs for Normal and LogNormal.
func expectSamples(t testing.TB, what string, got []float32, d rng.Dist, key rng.Key, index func(k int) int) {
	t.Helper()
	want := make([]float32, len(got))
	for k := range got {
		want[k] = rng.Sample(d, key, uint64(index(k)))
	}
	if bitwiseKind(d.Kind) {
		expectBits(t, what, got, want, index)
		return
	}
	c := newChecker(t, what)
	for k := range got {
		g, w := float64(got[k]), float64(want[k])
		if (w == 0) != (g == 0) {
			c.fail("element %d = %v, want %v (the density mask must match bitwise)", index(k), got[k], want[k])
			continue
		}
		if d := math.Abs(g - w); !(d <= normalRel*math.Abs(w)+normalAbs) {
			c.fail("element %d = %.9g, want %.9g ± %.3g", index(k), g, w, normalRel*math.Abs(w)+normalAbs)
		}
	}
	c.done(len(got))
}

// randomDists are every DistKind, dense and with density < 1 and a scale.
func randomDists() []struct {
	name string
	d    rng.Dist
} {
	base := []struct {
		name string
		d    rng.Dist
	}{
		{"const", rng.ConstDist(1.5)},
		{"uniform", rng.UniformDist(-2, 3)},
		{"normal", rng.NormalDist(0.5, 2)},
		{"lognormal", rng.LogNormalDist(-0.5, 0.7)},
		{"bernoulli", rng.BernoulliDist(0.3)},
	}
	out := base
	for _, c := range base {
		d := c.d
		d.Density, d.Scale = 0.3, 2.5
		out = append(out, struct {
			name string
			d    rng.Dist
		}{c.name + "/density=0.3,scale=2.5", d})
	}
	return out
}

// largeRandomLen exceeds 65535 work groups of 64 invocations.
const largeRandomLen = 5_000_000

func testRandom(t *testing.T, s *suite) {
	b := s.b
	key := rng.Key{Seed: 0x1234_5678_9abc_def0, Counter: 7}

	for _, c := range randomDists() {
		run(t, c.name+"/37x53", func(t *testing.T) {
			x := FromSlice(t, b, 37, 53, newGen(1400).uniform(37*53, 8, 9)) // overwritten
			b.Random(x, c.d, key)
			expectSamples(t, "fill", ReadAll(t, b, x), c.d, key, identity)
		})
	}

	run(t, "zero Dist fills zeros", func(t *testing.T) {
		x := FromSlice(t, b, 1027, 1, newGen(1401).uniform(1027, 1, 2))
		b.Random(x, rng.Dist{}, key)
		expectExact(t, "fill", ReadAll(t, b, x), make([]float32, 1027))
	})
	run(t, "density 0 fills zeros", func(t *testing.T) {
		x := FromSlice(t, b, 1027, 1, newGen(1402).uniform(1027, 1, 2))
		d := rng.UniformDist(1, 2)
		d.Density = 0
		b.Random(x, d, key)
		expectExact(t, "fill", ReadAll(t, b, x), make([]float32, 1027))
	})

	// Large fills: more elements than one GPU dispatch of 65535 groups of
	// 64 covers. A strided subset plus the head and the tail is compared.
	bigKey := rng.Key{Seed: 0xfeed_beef_0000_0001, Counter: 1<<33 + 5}
	for _, c := range []struct {
		name string
		d    rng.Dist
	}{
		{"uniform", func() rng.Dist { d := rng.UniformDist(-1, 1); d.Density, d.Scale = 0.5, 2; return d }()},
		{"normal", rng.NormalDist(0, 1)},
		{"bernoulli", rng.BernoulliDist(0.1)},
	} {
		run(t, fmt.Sprintf("%s/n=%d", c.name, largeRandomLen), func(t *testing.T) {
			x := newTensor(t, b, largeRandomLen, 1)
			defer x.Release()
			b.Random(x, c.d, bigKey)
			all := ReadAll(t, b, x)
			idx := stridedIndices(largeRandomLen, 211, 4096)
			got := make([]float32, len(idx))
			for k, i := range idx {
				got[k] = all[i]
			}
			expectSamples(t, "fill", got, c.d, bigKey, func(k int) int { return idx[k] })
		})
	}

	run(t, "counter and seed select streams", func(t *testing.T) {
		const n = 4096
		keys := []rng.Key{
			{Seed: 99, Counter: 0},
			{Seed: 99, Counter: 1},
			{Seed: 99, Counter: 1 << 32},
			{Seed: 100, Counter: 0},
			{Seed: 99 + 1<<32, Counter: 0},
		}
		d := rng.UniformDist(0, 1)
		fills := make([][]float32, len(keys))
		for k, key := range keys {
			x := newTensor(t, b, n, 1)
			b.Random(x, d, key)
			fills[k] = ReadAll(t, b, x)
			expectSamples(t, fmt.Sprintf("fill with %+v", key), fills[k], d, key, identity)
		}
		for i := range keys {
			for j := i + 1; j < len(keys); j++ {
				same := 0
				for e := range n {
					if fills[i][e] == fills[j][e] {
						same++
					}
				}
				if same > n/100 {
					t.Errorf("keys %+v and %+v give %d equal elements of %d: the streams must differ", keys[i], keys[j], same, n)
				}
			}
		}
		x := newTensor(t, b, n, 1)
		b.Random(x, d, keys[0])
		expectExact(t, "a second fill with the same key", ReadAll(t, b, x), fills[0])
	})

	run(t, "statistics", func(t *testing.T) {
		const n = 100_000
		statKey := rng.Key{Seed: 2024, Counter: 11}
		x := newTensor(t, b, n, 1)
		moments := func(d rng.Dist) (mean, variance float64) {
			b.Random(x, d, statKey)
			v := ReadAll(t, b, x)
			var s, s2 float64
			for _, f := range v {
				s += float64(f)
			}
			mean = s / n
			for _, f := range v {
				s2 += (float64(f) - mean) * (float64(f) - mean)
			}
			return mean, s2 / (n - 1)
		}
		within := func(what string, got, want, sigma float64) {
			t.Helper()
			if math.Abs(got-want) > 5*sigma {
				t.Errorf("%s = %.6g, want %.6g within 5 sigma (%.3g)", what, got, want, 5*sigma)
			}
		}
		// U[lo, hi): mean (lo+hi)/2, variance w²/12, fourth central moment w⁴/80.
		lo, hi := -1.0, 3.0
		w := hi - lo
		m, v := moments(rng.UniformDist(float32(lo), float32(hi)))
		within("uniform mean", m, (lo+hi)/2, math.Sqrt(w*w/12/n))
		within("uniform variance", v, w*w/12, math.Sqrt((math.Pow(w, 4)/80-math.Pow(w*w/12, 2))/n))
		// N(mu, sd): the sample variance has standard deviation sd²·sqrt(2/n).
		mu, sd := 0.5, 2.0
		m, v = moments(rng.NormalDist(float32(mu), float32(sd)))
		within("normal mean", m, mu, sd/math.Sqrt(n))
		within("normal variance", v, sd*sd, sd*sd*math.Sqrt(2.0/n))
		// Bernoulli(p): the mean is p.
		p := 0.3
		m, _ = moments(rng.BernoulliDist(float32(p)))
		within("bernoulli mean", m, p, math.Sqrt(p*(1-p)/n))
		// Density: the fraction of non-zero elements.
		dd := rng.ConstDist(1)
		dd.Density = 0.25
		m, _ = moments(dd)
		within("fraction kept with density 0.25", m, 0.25, math.Sqrt(0.25*0.75/n))
	})
}

// stridedIndices returns every stride-th index below n plus the first and
// last edge indices, in increasing order without repeats.
func stridedIndices(n, stride, edge int) []int {
	var idx []int
	for i := 0; i < n; i++ {
		if i < edge || i >= n-edge || i%stride == 0 {
			idx = append(idx, i)
		} else if i < n-edge {
			// Jump to the next index that matters.
			next := (i/stride + 1) * stride
			if next > n-edge {
				next = n - edge
			}
			i = next - 1
		}
	}
	return idx
}
