package cpu

import (
	"math"

	"github.com/gomonnto/gomonnto/backend"
)

// CopyRange copies n elements of src from srcOff into dst at dstOff. The
// ranges may overlap when dst and src are the same tensor. A range outside
// a tensor panics.
func (b *Backend) CopyRange(dst backend.Tensor, dstOff int, src backend.Tensor, srcOff, n int) {
	b.live("CopyRange")
	d, s := b.ten("CopyRange", dst), b.ten("CopyRange", src)
	backend.CheckRange("CopyRange", dst, dstOff, n)
	backend.CheckRange("CopyRange", src, srcOff, n)
	copy(d[dstOff:dstOff+n], s[srcOff:srcOff+n])
}

// b2f returns 1 if c, else 0, without a branch (a conditional move), so
// that comparisons of random data do not stall on mispredictions.
func b2f(c bool) float32 {
	var x uint32
	if c {
		x = 0x3f800000 // float32(1)
	}
	return math.Float32frombits(x)
}

// nonzero reports v != 0 (true for NaN) with an integer test, which the
// compiler turns into conditional moves where a float compare would branch.
func nonzero(v float32) bool { return math.Float32bits(v)<<1 != 0 }

// fill sets d to v: a short loop, then doubling copies (memmove uses the
// widest vector stores).
func fill(d []float32, v float32) {
	if math.Float32bits(v) == 0 { // +0, not -0
		clear(d)
		return
	}
	n := min(len(d), 64)
	for i := range d[:n] {
		d[i] = v
	}
	for n < len(d) {
		n += copy(d[n:], d[:n])
	}
}

// clip sets d = min(max(a, lo), hi) (NaN stays NaN).
func clip(d, a []float32, lo, hi float32) {
	a = a[:len(d)]
	for i := range d {
		d[i] = min(max(a[i], lo), hi)
	}
}
