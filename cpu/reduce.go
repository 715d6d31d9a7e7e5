package cpu

import (
	"math"

	"github.com/gomonnto/gomonnto/backend"
)

// reduceJob computes per-chunk partial results of a reduction.
type reduceJob struct {
	op  backend.ReduceOp
	src []float32
	f64 []float64 // Sum, Mean, Count partials, one per chunk
	f32 []float32 // Max, Min partials
}

func (j *reduceJob) run(part, lo, hi int) {
	s := j.src[lo:hi]
	switch j.op {
	case backend.Sum, backend.Mean:
		j.f64[part] = sum64(s)
	case backend.Count:
		n := 0
		for _, v := range s {
			if nonzero(v) {
				n++
			}
		}
		j.f64[part] = float64(n)
	case backend.MaxReduce:
		m := float32(math.Inf(-1))
		for _, v := range s {
			m = max(m, v)
		}
		j.f32[part] = m
	case backend.MinReduce:
		m := float32(math.Inf(1))
		for _, v := range s {
			m = min(m, v)
		}
		j.f32[part] = m
	}
}

// sum64 sums s in float64 with four accumulators.
func sum64(s []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(s); i += 4 {
		s0 += float64(s[i])
		s1 += float64(s[i+1])
		s2 += float64(s[i+2])
		s3 += float64(s[i+3])
	}
	for ; i < len(s); i++ {
		s0 += float64(s[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// Reduce stores op over all elements of src into dst[dstOff]. Sum and Mean
// accumulate in float64. Over zero elements Sum and Count are 0, Mean is
// NaN, Max is -Inf and Min is +Inf; Max and Min are NaN if any element is.
func (b *Backend) Reduce(op backend.ReduceOp, dst backend.Tensor, dstOff int, src backend.Tensor) {
	b.ReduceRange(op, dst, dstOff, src, 0, src.Len())
}

var _ backend.RangeReducer = (*Backend)(nil)

// ReduceRange is Reduce over the elements [lo, hi) of src
// (backend.RangeReducer).
func (b *Backend) ReduceRange(op backend.ReduceOp, dst backend.Tensor, dstOff int, src backend.Tensor, lo, hi int) {
	b.live("Reduce")
	if !op.Valid() {
		panic(backend.Misusef("cpu", "Reduce", "invalid operation %v", op))
	}
	d, s := b.ten("Reduce", dst), b.ten("Reduce", src)
	backend.CheckRange("Reduce", dst, dstOff, 1)
	backend.CheckRange("Reduce", src, lo, hi-lo)
	s = s[lo:hi]
	j := &b.red
	j.op, j.src = op, s
	// Chunks that split leaves unused keep the identity of the reduction.
	for i := range j.f64 {
		j.f64[i] = 0
	}
	ident := float32(math.Inf(-1))
	if op == backend.MinReduce {
		ident = float32(math.Inf(1))
	}
	for i := range j.f32 {
		j.f32[i] = ident
	}
	b.split(j, len(s), b.parts(len(s), grainElementwise), align)
	j.src = nil
	var r float32
	switch op {
	case backend.Sum, backend.Mean, backend.Count:
		var t float64
		for _, v := range j.f64 {
			t += v
		}
		if op == backend.Mean {
			t /= float64(len(s))
		}
		r = float32(t)
	case backend.MaxReduce:
		r = ident
		for _, v := range j.f32 {
			r = max(r, v)
		}
	case backend.MinReduce:
		r = ident
		for _, v := range j.f32 {
			r = min(r, v)
		}
	}
	d[dstOff] = r
}
