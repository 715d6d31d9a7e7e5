package ui

// The analysis behind the Network UI's panels: histograms, inter-spike
// intervals, rates, spectra and return maps. Nothing here knows about HTTP, websockets or the network
// types; every function works on plain slices so that it can be tested on
// hand-computed inputs and reused by any front end. Functions that produce an
// array take a dst slice so that a UI refreshing many times a second does not
// allocate per frame.

import (
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// binOf returns the bin of v among bins equal bins on [lo, hi], with values
// below lo in bin 0 and values at or above hi in the last bin, and -1 for NaN.
// A degenerate range (!(hi > lo)) puts every number into bin 0.
func binOf(v, lo, hi float64, bins int) int {
	if math.IsNaN(v) {
		return -1
	}
	if !(hi > lo) {
		return 0
	}
	f := (v - lo) / (hi - lo) * float64(bins)
	switch {
	case !(f >= 0): // also catches -Inf and NaN from an infinite range
		return 0
	case f >= float64(bins):
		return bins - 1
	}
	return int(f)
}

// Histogram counts x into len(dst) equal bins on [lo, hi] (dst is cleared
// first). Values outside the range are clipped into the end bins, so nothing
// non-NaN is lost from the display; NaN values are skipped.
func Histogram(dst []float64, x []float32, lo, hi float64) {
	clear(dst)
	if len(dst) == 0 {
		return
	}
	for _, v := range x {
		if b := binOf(float64(v), lo, hi, len(dst)); b >= 0 {
			dst[b]++
		}
	}
}

// Range returns the smallest and largest finite value of x (NaN and ±Inf are
// ignored, so the range fits Histogram's clipping); when they are equal, or x
// holds no finite value (then both are 0), the range is widened to
// [lo-0.5, hi+0.5] so that it is never empty.
func Range(x []float32) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range x {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		lo = min(lo, f)
		hi = max(hi, f)
	}
	if lo > hi {
		lo, hi = 0, 0
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	return lo, hi
}

// ISIs appends to dst the inter-spike intervals of one neuron, the
// differences of consecutive entries of times, its spike iterations in
// ascending order (as recorded), and returns the extended slice. Pass dst[:0]
// to reuse a buffer, or a previous result to collect several neurons.
func ISIs(dst []float64, times []int) []float64 {
	for k := 1; k < len(times); k++ {
		dst = append(dst, float64(times[k]-times[k-1]))
	}
	return dst
}

// GroupISIs returns the inter-spike intervals of all neurons of a group from
// its spike events (iters[k], idx[k]), given in iteration order as the
// recorder stores them: for each event of a neuron selected by sel (nil
// selects all) that has spiked before, the iterations since its previous
// spike, in event order. Negative indices are skipped.
func GroupISIs(iters []int, idx []int32, sel func(i int32) bool) []float64 {
	n := min(len(iters), len(idx))
	var top int32 = -1
	for _, i := range idx[:n] {
		top = max(top, i)
	}
	if top < 0 {
		return nil
	}
	// last[i] is the previous spike iteration of neuron i, none for none.
	const none = math.MinInt
	last := make([]int, int(top)+1)
	for i := range last {
		last[i] = none
	}
	var out []float64
	for k, i := range idx[:n] {
		if i < 0 || (sel != nil && !sel(i)) {
			continue
		}
		t := iters[k]
		if last[i] != none {
			out = append(out, float64(t-last[i]))
		}
		last[i] = t
	}
	return out
}

// Rates sets dst[i] (i < n) to the number of spikes of neuron i in idx, the
// spike indices of a window of steps iterations, divided by steps: the mean
// firing rate per iteration. Indices outside [0, n) are skipped; steps <= 0
// gives all zeros.
func Rates(dst []float64, n int, idx []int32, steps int) {
	dst = dst[:n]
	clear(dst)
	if steps <= 0 {
		return
	}
	for _, i := range idx {
		if i >= 0 && int(i) < n {
			dst[i]++
		}
	}
	for k := range dst {
		dst[k] /= float64(steps)
	}
}

// FreqBand is a named frequency band in Hz, [Lo, Hi).
type FreqBand struct {
	Name   string
	Lo, Hi float64
}

// EEGBands are the classical EEG bands, for labelling spectra of population
// activity (delta 0.5-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-100 Hz).
var EEGBands = []FreqBand{
	{"delta", 0.5, 4},
	{"theta", 4, 8},
	{"alpha", 8, 13},
	{"beta", 13, 30},
	{"gamma", 30, 100},
}

// Spectrum returns the power spectrum of the signal x sampled every dtMs
// milliseconds (e.g. the population rate per iteration): the mean is removed,
// the real FFT of gonum's dsp/fourier taken, power[k] = |X_k|^2/len(x) at
// freqHz[k] = k/(len(x)*dt) for k = cutLow..len(x)/2, and power smoothed with
// a centred boxcar of width smooth (0 or 1: none; windows are truncated at the
// ends, so the frequencies stay aligned). The first cutLow bins (DC and slow
// drift, which would dominate the plot) are dropped before smoothing. It
// returns nil, nil for fewer than 2 samples, dtMs <= 0 or nothing left.
func Spectrum(x []float32, dtMs float64, cutLow int, smooth int) (freqHz, power []float64) {
	m := len(x)
	if m < 2 || !(dtMs > 0) {
		return nil, nil
	}
	cutLow = max(cutLow, 0)
	bins := m/2 + 1
	if cutLow >= bins {
		return nil, nil
	}
	var mean float64
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(m)
	seq := make([]float64, m)
	for k, v := range x {
		seq[k] = float64(v) - mean
	}
	coeff := fourier.NewFFT(m).Coefficients(nil, seq)
	freqHz = make([]float64, bins-cutLow)
	raw := seq[:bins-cutLow] // seq is no longer needed: reuse it
	for k := range freqHz {
		c := coeff[k+cutLow]
		freqHz[k] = float64(k+cutLow) * 1000 / (float64(m) * dtMs)
		raw[k] = (real(c)*real(c) + imag(c)*imag(c)) / float64(m)
	}
	power = boxcar(make([]float64, len(raw)), raw, smooth)
	return freqHz, power
}

// BandPower sums power over the bins whose frequency lies in [lo, hi), for
// the band bars next to a spectrum (see EEGBands).
func BandPower(freqHz, power []float64, lo, hi float64) float64 {
	var s float64
	for k, f := range freqHz[:min(len(freqHz), len(power))] {
		if f >= lo && f < hi {
			s += power[k]
		}
	}
	return s
}

// boxcar writes to dst (len(src) long) the moving average of src over a
// centred window of width w, [k-w/2, k-w/2+w), truncated at the ends; w <= 1
// copies. It returns dst.
func boxcar(dst, src []float64, w int) []float64 {
	if w <= 1 {
		copy(dst, src)
		return dst
	}
	for k := range src {
		a, b := max(k-w/2, 0), min(k-w/2+w, len(src))
		var s float64
		for _, v := range src[a:b] {
			s += v
		}
		dst[k] = s / float64(b-a)
	}
	return dst
}

// ReturnMap fills dst (res*res long, cleared first) with the 2-D histogram of
// the pairs (a[t], b[t+1]) for t = 0..min(len(a), len(b))-2, both binned as
// in Histogram on [lo, hi]: row-major, row = bin of a[t] (row 0 = lowest),
// col = bin of b[t+1]. With a == b it is the return map of PymoNNto's
// stability tab: mass on the diagonal means a stationary signal, around it
// oscillation or drift. Pairs with a NaN are skipped.
func ReturnMap(dst []float64, a, b []float32, res int, lo, hi float64) {
	if res <= 0 {
		return
	}
	dst = dst[:res*res]
	clear(dst)
	n := min(len(a), len(b))
	for t := 0; t+1 < n; t++ {
		r := binOf(float64(a[t]), lo, hi, res)
		c := binOf(float64(b[t+1]), lo, hi, res)
		if r < 0 || c < 0 {
			continue
		}
		dst[r*res+c]++
	}
}
