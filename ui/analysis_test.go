package ui

import (
	"math"
	"slices"
	"testing"
)

func seq32(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)
	}
	return x
}

func eq32(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func eq64(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func TestHistogram(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	x := []float32{-1, 0, 0.5, 1, 2.5, 3.99, 4, 10, nan, inf, -inf}
	dst := []float64{9, 9, 9, 9}
	Histogram(dst, x, 0, 4)
	// bin 0: -1 0 0.5 -Inf; bin 1: 1; bin 2: 2.5; bin 3: 3.99 4 10 +Inf.
	eq64(t, "Histogram", dst, []float64{4, 1, 1, 4})

	for _, c := range []struct {
		x      []float32
		lo, hi float64
	}{
		{[]float32{3, nan, -2, 5, inf}, -2, 5},
		{[]float32{2, 2}, 1.5, 2.5},
		{[]float32{nan}, -0.5, 0.5},
		{nil, -0.5, 0.5},
	} {
		lo, hi := Range(c.x)
		if lo != c.lo || hi != c.hi {
			t.Errorf("Range(%v) = %v,%v, want %v,%v", c.x, lo, hi, c.lo, c.hi)
		}
	}
}

func TestISIs(t *testing.T) {
	eq64(t, "ISIs", ISIs(nil, []int{3, 5, 10, 11}), []float64{2, 5, 1})
	eq64(t, "ISIs(append)", ISIs([]float64{7}, []int{3, 5}), []float64{7, 2})
	if got := ISIs(nil, []int{4}); len(got) != 0 {
		t.Errorf("ISIs of one spike = %v, want none", got)
	}

	// Neuron 0 spikes at 0, 4, 7; neuron 3 at 1, 2, 5, 7.
	iters := []int{0, 1, 2, 4, 5, 7, 7}
	idx := []int32{0, 3, 3, 0, 3, 0, 3}
	eq64(t, "GroupISIs(all)", GroupISIs(iters, idx, nil), []float64{1, 4, 3, 3, 2})
	eq64(t, "GroupISIs(0)", GroupISIs(iters, idx, func(i int32) bool { return i == 0 }),
		[]float64{4, 3})
	eq64(t, "GroupISIs(3)", GroupISIs(iters, idx, func(i int32) bool { return i == 3 }),
		[]float64{1, 3, 2})
	if got := GroupISIs(nil, nil, nil); len(got) != 0 {
		t.Errorf("GroupISIs of no events = %v", got)
	}
}

func TestRates(t *testing.T) {
	dst := []float64{9, 9, 9, 9, 9}
	Rates(dst, 4, []int32{0, 2, 2, 3, 2, 9, -1}, 8)
	eq64(t, "Rates", dst, []float64{0.125, 0, 0.375, 0.125, 9})
	Rates(dst, 4, []int32{0, 1}, 0)
	eq64(t, "Rates(steps=0)", dst, []float64{0, 0, 0, 0, 9})
}

func sine(n int, cycles float64) []float32 {
	x := make([]float32, n)
	for k := range x {
		x[k] = float32(math.Sin(2 * math.Pi * cycles * float64(k) / float64(n)))
	}
	return x
}

func argmax(x []float64) int {
	best := 0
	for k, v := range x {
		if v > x[best] {
			best = k
		}
	}
	return best
}

func TestSpectrum(t *testing.T) {
	// 50 cycles in 1000 samples of 1 ms: 50 Hz, on the 1 Hz grid.
	x := sine(1000, 50)
	f, p := Spectrum(x, 1, 0, 0)
	if len(f) != 501 || len(p) != 501 {
		t.Fatalf("len = %d,%d, want 501", len(f), len(p))
	}
	if f[1] != 1 || f[500] != 500 {
		t.Errorf("freq[1], freq[500] = %v, %v, want 1, 500", f[1], f[500])
	}
	k := argmax(p)
	if f[k] != 50 {
		t.Errorf("peak at %v Hz, want 50", f[k])
	}
	// A unit sine has |X_50| = N/2, so power = (N/2)^2/N = 250.
	if math.Abs(p[k]-250) > 1e-3 {
		t.Errorf("peak power = %v, want 250", p[k])
	}
	var rest float64
	for j, v := range p {
		if j != k {
			rest += v
		}
	}
	if rest > 1e-6 {
		t.Errorf("power off the peak = %v, want ~0", rest)
	}

	// Dropping low bins shifts the arrays, not the peak.
	f, p = Spectrum(x, 1, 2, 0)
	if len(f) != 499 || f[0] != 2 || f[argmax(p)] != 50 {
		t.Errorf("cutLow=2: len %d, f[0] %v, peak %v; want 499, 2, 50", len(f), f[0], f[argmax(p)])
	}
	// At 2 ms per sample the same samples are 25 Hz.
	f, p = Spectrum(x, 2, 0, 0)
	if f[argmax(p)] != 25 {
		t.Errorf("dt=2ms: peak at %v Hz, want 25", f[argmax(p)])
	}
	// Smoothing of width 3 spreads the peak over 49, 50, 51 Hz.
	f, p = Spectrum(x, 1, 0, 3)
	for _, j := range []int{49, 50, 51} {
		if f[j] != float64(j) || math.Abs(p[j]-250.0/3) > 1e-3 {
			t.Errorf("smooth=3: p[%v Hz] = %v, want 83.33", f[j], p[j])
		}
	}
	if p[48] > 1e-6 || p[52] > 1e-6 {
		t.Errorf("smooth=3: p[48], p[52] = %v, %v, want ~0", p[48], p[52])
	}

	// A constant has no power once the mean is removed.
	c := make([]float32, 1000)
	for i := range c {
		c[i] = 0.3
	}
	_, p = Spectrum(c, 1, 0, 0)
	for j, v := range p {
		if v > 1e-20 {
			t.Fatalf("constant: power[%d] = %v, want 0", j, v)
		}
	}

	// Odd length: bins 0..N/2, frequencies k/(N dt).
	f, _ = Spectrum(sine(9, 2), 1, 0, 0)
	if len(f) != 5 || math.Abs(f[4]-4000.0/9) > 1e-9 {
		t.Errorf("N=9: freq = %v, want 5 bins up to 444.4", f)
	}
	if f, p := Spectrum([]float32{1}, 1, 0, 0); f != nil || p != nil {
		t.Errorf("one sample: %v, %v, want nil", f, p)
	}
	if f, p := Spectrum(x, 1, 501, 0); f != nil || p != nil {
		t.Errorf("cutLow past the end: %v, %v, want nil", f, p)
	}
}

func TestSpectrumBoxcar(t *testing.T) {
	src := []float64{0, 0, 3, 0, 0}
	dst := make([]float64, 5)
	eq64(t, "boxcar(3)", boxcar(dst, src, 3), []float64{0, 1, 1, 1, 0})
	eq64(t, "boxcar(2)", boxcar(dst, src, 2), []float64{0, 0, 1.5, 1.5, 0})
	eq64(t, "boxcar(1)", boxcar(dst, src, 1), src)
}

func TestSpectrumBands(t *testing.T) {
	want := []FreqBand{
		{"delta", 0.5, 4}, {"theta", 4, 8}, {"alpha", 8, 13},
		{"beta", 13, 30}, {"gamma", 30, 100},
	}
	if !slices.Equal(EEGBands, want) {
		t.Errorf("EEGBands = %v, want %v", EEGBands, want)
	}
	f := []float64{1, 4, 10, 20, 50}
	p := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct {
		b    FreqBand
		want float64
	}{{EEGBands[0], 1}, {EEGBands[1], 2}, {EEGBands[2], 3}, {EEGBands[4], 5}} {
		if got := BandPower(f, p, c.b.Lo, c.b.Hi); got != c.want {
			t.Errorf("BandPower(%s) = %v, want %v", c.b.Name, got, c.want)
		}
	}
}

func TestReturnMap(t *testing.T) {
	nan := float32(math.NaN())
	// Pairs (x[t], x[t+1]): (0,1) (1,2) (2,1) (1,0); those with NaN skipped.
	x := []float32{0, 1, 2, 1, 0, nan, 3}
	dst := make([]float64, 16)
	for i := range dst {
		dst[i] = 9
	}
	ReturnMap(dst, x, x, 4, 0, 4)
	want := make([]float64, 16)
	want[0*4+1] = 1
	want[1*4+2] = 1
	want[2*4+1] = 1
	want[1*4+0] = 1
	eq64(t, "ReturnMap(x,x)", dst, want)

	// Orientation: row = bin of a[t], col = bin of b[t+1]; out-of-range values
	// clip; the shorter input bounds t.
	ReturnMap(dst, []float32{-5, 0}, []float32{3, 10, 3}, 4, 0, 4)
	want = make([]float64, 16)
	want[0*4+3] = 1
	eq64(t, "ReturnMap(a,b)", dst, want)
}
