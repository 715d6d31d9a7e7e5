package cpu

import (
	"fmt"
	"math"

	"github.com/gomonnto/gomonnto/backend"
	"gonum.org/v1/gonum/blas/blas32"
)

type ewKind uint8

const (
	ewFill ewKind = iota
	ewCopy
	ewBinary
	ewBinaryScalar
	ewUnary
	ewAffine
	ewAxpy
	ewWhere
	ewWhereScalar
	ewClip
)

// ewJob is every elementwise operation: dst[lo:hi] from a[lo:hi], b[lo:hi]
// and the scalars.
type ewJob struct {
	kind   ewKind
	bop    backend.BinaryOp
	uop    backend.UnaryOp
	dst    []float32
	a, b   []float32
	s0, s1 float32
}

func (j *ewJob) run(_, lo, hi int) {
	d := j.dst[lo:hi]
	switch j.kind {
	case ewFill:
		fill(d, j.s0)
	case ewCopy:
		copy(d, j.a[lo:hi])
	case ewBinary:
		binary(j.bop, d, j.a[lo:hi], j.b[lo:hi])
	case ewBinaryScalar:
		binaryScalar(j.bop, d, j.a[lo:hi], j.s0)
	case ewUnary:
		unary(j.uop, d, j.a[lo:hi])
	case ewAffine:
		affine(d, j.a[lo:hi], j.s0, j.s1)
	case ewAxpy:
		blas32.Axpy(j.s0, blas32.Vector{N: len(d), Inc: 1, Data: j.a[lo:hi]}, blas32.Vector{N: len(d), Inc: 1, Data: d})
	case ewWhere:
		where(d, j.a[lo:hi], j.b[lo:hi])
	case ewWhereScalar:
		whereScalar(d, j.a[lo:hi], j.s0)
	case ewClip:
		clip(d, j.a[lo:hi], j.s0, j.s1)
	}
}

// elementwise runs the prepared b.ew over n elements, split across the
// workers when n is large, and drops its slice references.
func (b *Backend) elementwise(n int) {
	b.split(&b.ew, n, b.parts(n, grainElementwise), align)
	b.ew.dst, b.ew.a, b.ew.b = nil, nil, nil
}

// Fill sets every element of dst to v.
func (b *Backend) Fill(dst backend.Tensor, v float32) {
	b.live("Fill")
	d := b.ten("Fill", dst)
	b.ew = ewJob{kind: ewFill, dst: d, s0: v}
	b.elementwise(len(d))
}

// Copy copies src into dst (same Len).
func (b *Backend) Copy(dst, src backend.Tensor) {
	b.live("Copy")
	d, s := b.ten("Copy", dst), b.ten("Copy", src)
	backend.CheckSameLen("Copy", len(d), src)
	b.ew = ewJob{kind: ewCopy, dst: d, a: s}
	b.elementwise(len(d))
}

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

// Binary sets dst = a op b elementwise (same Len; dst may alias a or b).
// Min and Max return NaN if either operand is NaN.
func (b *Backend) Binary(op backend.BinaryOp, dst, x, y backend.Tensor) {
	b.live("Binary")
	checkBinaryOp("Binary", op)
	d, xs, ys := b.ten("Binary", dst), b.ten("Binary", x), b.ten("Binary", y)
	backend.CheckSameLen("Binary", len(d), x, y)
	b.ew = ewJob{kind: ewBinary, bop: op, dst: d, a: xs, b: ys}
	b.elementwise(len(d))
}

// BinaryScalar sets dst = a op s elementwise.
func (b *Backend) BinaryScalar(op backend.BinaryOp, dst, a backend.Tensor, s float32) {
	b.live("BinaryScalar")
	checkBinaryOp("BinaryScalar", op)
	d, as := b.ten("BinaryScalar", dst), b.ten("BinaryScalar", a)
	backend.CheckSameLen("BinaryScalar", len(d), a)
	b.ew = ewJob{kind: ewBinaryScalar, bop: op, dst: d, a: as, s0: s}
	b.elementwise(len(d))
}

// Unary sets dst = op(a) elementwise. Exp, Log, Tanh and Sigmoid are
// computed in float64 and rounded once to float32.
func (b *Backend) Unary(op backend.UnaryOp, dst, a backend.Tensor) {
	b.live("Unary")
	if !op.Valid() {
		panic(fmt.Sprintf("backend: Unary: invalid operation %v", op))
	}
	d, as := b.ten("Unary", dst), b.ten("Unary", a)
	backend.CheckSameLen("Unary", len(d), a)
	b.ew = ewJob{kind: ewUnary, uop: op, dst: d, a: as}
	b.elementwise(len(d))
}

// Affine sets dst = alpha*a + beta (a float32 multiply, then add).
func (b *Backend) Affine(dst, a backend.Tensor, alpha, beta float32) {
	b.live("Affine")
	d, as := b.ten("Affine", dst), b.ten("Affine", a)
	backend.CheckSameLen("Affine", len(d), a)
	b.ew = ewJob{kind: ewAffine, dst: d, a: as, s0: alpha, s1: beta}
	b.elementwise(len(d))
}

// Axpy sets dst += alpha*x.
func (b *Backend) Axpy(dst backend.Tensor, alpha float32, x backend.Tensor) {
	b.live("Axpy")
	d, xs := b.ten("Axpy", dst), b.ten("Axpy", x)
	backend.CheckSameLen("Axpy", len(d), x)
	b.ew = ewJob{kind: ewAxpy, dst: d, a: xs, s0: alpha}
	b.elementwise(len(d))
}

// Where sets dst[i] = src[i] where mask[i] != 0.
func (b *Backend) Where(dst, mask, src backend.Tensor) {
	b.live("Where")
	d, m, s := b.ten("Where", dst), b.ten("Where", mask), b.ten("Where", src)
	backend.CheckSameLen("Where", len(d), mask, src)
	b.ew = ewJob{kind: ewWhere, dst: d, a: m, b: s}
	b.elementwise(len(d))
}

// WhereScalar sets dst[i] = s where mask[i] != 0.
func (b *Backend) WhereScalar(dst, mask backend.Tensor, s float32) {
	b.live("WhereScalar")
	d, m := b.ten("WhereScalar", dst), b.ten("WhereScalar", mask)
	backend.CheckSameLen("WhereScalar", len(d), mask)
	b.ew = ewJob{kind: ewWhereScalar, dst: d, a: m, s0: s}
	b.elementwise(len(d))
}

// Clip sets dst = min(max(a, lo), hi); NaN stays NaN.
func (b *Backend) Clip(dst, a backend.Tensor, lo, hi float32) {
	b.live("Clip")
	d, as := b.ten("Clip", dst), b.ten("Clip", a)
	backend.CheckSameLen("Clip", len(d), a)
	b.ew = ewJob{kind: ewClip, dst: d, a: as, s0: lo, s1: hi}
	b.elementwise(len(d))
}

func checkBinaryOp(op string, o backend.BinaryOp) {
	if !o.Valid() {
		panic(fmt.Sprintf("backend: %s: invalid operation %v", op, o))
	}
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

func binary(op backend.BinaryOp, d, a, b []float32) {
	a = a[:len(d)]
	b = b[:len(d)]
	switch op {
	case backend.Add:
		for i := range d {
			d[i] = a[i] + b[i]
		}
	case backend.Sub:
		for i := range d {
			d[i] = a[i] - b[i]
		}
	case backend.Mul:
		for i := range d {
			d[i] = a[i] * b[i]
		}
	case backend.Div:
		for i := range d {
			d[i] = a[i] / b[i]
		}
	case backend.Min:
		for i := range d {
			d[i] = min(a[i], b[i])
		}
	case backend.Max:
		for i := range d {
			d[i] = max(a[i], b[i])
		}
	case backend.Gt:
		for i := range d {
			d[i] = b2f(a[i] > b[i])
		}
	case backend.Ge:
		for i := range d {
			d[i] = b2f(a[i] >= b[i])
		}
	case backend.Lt:
		for i := range d {
			d[i] = b2f(a[i] < b[i])
		}
	case backend.Le:
		for i := range d {
			d[i] = b2f(a[i] <= b[i])
		}
	case backend.Eq:
		for i := range d {
			d[i] = b2f(a[i] == b[i])
		}
	case backend.Ne:
		for i := range d {
			d[i] = b2f(a[i] != b[i])
		}
	}
}

func binaryScalar(op backend.BinaryOp, d, a []float32, s float32) {
	a = a[:len(d)]
	switch op {
	case backend.Add:
		for i := range d {
			d[i] = a[i] + s
		}
	case backend.Sub:
		for i := range d {
			d[i] = a[i] - s
		}
	case backend.Mul:
		for i := range d {
			d[i] = a[i] * s
		}
	case backend.Div:
		for i := range d {
			d[i] = a[i] / s
		}
	case backend.Min:
		for i := range d {
			d[i] = min(a[i], s)
		}
	case backend.Max:
		for i := range d {
			d[i] = max(a[i], s)
		}
	case backend.Gt:
		for i := range d {
			d[i] = b2f(a[i] > s)
		}
	case backend.Ge:
		for i := range d {
			d[i] = b2f(a[i] >= s)
		}
	case backend.Lt:
		for i := range d {
			d[i] = b2f(a[i] < s)
		}
	case backend.Le:
		for i := range d {
			d[i] = b2f(a[i] <= s)
		}
	case backend.Eq:
		for i := range d {
			d[i] = b2f(a[i] == s)
		}
	case backend.Ne:
		for i := range d {
			d[i] = b2f(a[i] != s)
		}
	}
}

func unary(op backend.UnaryOp, d, a []float32) {
	a = a[:len(d)]
	switch op {
	case backend.Neg:
		for i := range d {
			d[i] = -a[i]
		}
	case backend.Abs:
		for i := range d {
			d[i] = math.Float32frombits(math.Float32bits(a[i]) &^ (1 << 31))
		}
	case backend.Exp:
		for i := range d {
			d[i] = float32(math.Exp(float64(a[i])))
		}
	case backend.Log:
		for i := range d {
			d[i] = float32(math.Log(float64(a[i])))
		}
	case backend.Sqrt:
		for i := range d {
			d[i] = float32(math.Sqrt(float64(a[i])))
		}
	case backend.Square:
		for i := range d {
			d[i] = a[i] * a[i]
		}
	case backend.Recip:
		for i := range d {
			d[i] = 1 / a[i]
		}
	case backend.Tanh:
		for i := range d {
			d[i] = float32(math.Tanh(float64(a[i])))
		}
	case backend.Sigmoid:
		for i := range d {
			d[i] = float32(1 / (1 + math.Exp(-float64(a[i]))))
		}
	case backend.Heaviside:
		for i := range d {
			d[i] = b2f(a[i] > 0)
		}
	case backend.Not:
		for i := range d {
			d[i] = b2f(a[i] == 0)
		}
	}
}

func affine(d, a []float32, alpha, beta float32) {
	a = a[:len(d)]
	for i := range d {
		d[i] = alpha*a[i] + beta
	}
}

func where(d, m, s []float32) {
	m = m[:len(d)]
	s = s[:len(d)]
	for i := range d {
		x := math.Float32bits(d[i])
		if nonzero(m[i]) {
			x = math.Float32bits(s[i])
		}
		d[i] = math.Float32frombits(x)
	}
}

func whereScalar(d, m []float32, s float32) {
	m = m[:len(d)]
	y := math.Float32bits(s)
	for i := range d {
		x := math.Float32bits(d[i])
		if nonzero(m[i]) {
			x = y
		}
		d[i] = math.Float32frombits(x)
	}
}

func clip(d, a []float32, lo, hi float32) {
	a = a[:len(d)]
	for i := range d {
		d[i] = min(max(a[i], lo), hi)
	}
}

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
		panic(fmt.Sprintf("backend: Reduce: invalid operation %v", op))
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
