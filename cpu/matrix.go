package cpu

import (
	"math/bits"
	"unsafe"

	"github.com/gomonnto/gomonnto/backend"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// collect stores the indices i with m[i] != 0 in *buf, which grows to
// len(m) the first time it is too small and is reused afterwards (see
// appendNonZero).
func collect(buf *[]int, m []float32) []int {
	if cap(*buf) < len(m) {
		*buf = make([]int, 0, len(m))
	}
	return appendNonZero((*buf)[:0], m, 0)
}

// appendNonZero appends base+i for the indices i of the non-zero elements
// of m to idx. Spike masks are mostly zeros: groups of 32 elements that
// hold only ±0 are skipped by skipZeros32 (AVX2 where the processor has
// it), and a group with a spike gives its spikes' bits at once
// (nonZero32).
func appendNonZero[T int | int32](idx []T, m []float32, base int) []T {
	i := 0
	for end := len(m) &^ 31; i < end; i += 32 {
		i += skipZeros32(m[i:], end-i)
		if i >= end {
			break
		}
		for mk := nonZero32(m[i : i+32]); mk != 0; mk &= mk - 1 {
			idx = append(idx, T(base+i+bits.TrailingZeros32(mk)))
		}
	}
	for ; i < len(m); i++ {
		if m[i] != 0 {
			idx = append(idx, T(base+i))
		}
	}
	return idx
}

// nonZero32Go is the portable nonZero32.
func nonZero32Go(m []float32) uint32 {
	var mk uint32
	for k, v := range m[:32] {
		if v != 0 {
			mk |= 1 << k
		}
	}
	return mk
}

// skipZeros32Go is the portable skipZeros32: it tests the bits of each
// group, sign bits masked off, eight elements per word pair at a time.
func skipZeros32Go(m []float32, n int) int {
	if n == 0 {
		return 0
	}
	w := unsafe.Slice((*uint64)(unsafe.Pointer(&m[0])), n/2)
	const abs = 0x7fffffff_7fffffff
	for off := 0; off < n; off += 32 {
		g := w[off/2 : off/2+16 : off/2+16]
		var or uint64
		for _, x := range g {
			or |= x
		}
		if or&abs != 0 {
			return off
		}
	}
	return n
}

// scaleInPlace sets d = beta*d, with beta == 0 writing zeros (as BLAS does,
// so that NaN or Inf in d do not survive).
func scaleInPlace(d []float32, beta float32) {
	switch beta {
	case 0:
		fill(d, 0)
	case 1:
	default:
		for i := range d {
			d[i] *= beta
		}
	}
}

// matVecJob is dst = alpha*W*x + beta*dst over rows [lo, hi) of W, or
// alpha*W^T*x + beta*dst over columns [lo, hi) of W when trans.
type matVecJob struct {
	fma         bool
	w           []float32
	rows, cols  int
	trans       bool
	x, y        []float32
	alpha, beta float32
}

func (j *matVecJob) run(_, lo, hi int) {
	if j.trans {
		gemvCols(j.fma, j.w, j.rows, j.cols, lo, j.x, j.y[lo:hi], j.alpha, j.beta)
	} else {
		gemvRows(j.fma, j.w[lo*j.cols:hi*j.cols], j.cols, j.x, j.y[lo:hi], j.alpha, j.beta)
	}
}

// gemvRows sets y[k] = alpha*(W[k].x) + beta*y[k] for the len(y) rows of w
// (row stride cols); beta == 0 overwrites y.
func gemvRows(fma bool, w []float32, cols int, x, y []float32, alpha, beta float32) {
	rows := len(y)
	if !fma {
		a := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: w}
		blas32.Gemv(blas.NoTrans, alpha, a, blas32.Vector{N: cols, Inc: 1, Data: x}, beta, blas32.Vector{N: rows, Inc: 1, Data: y})
		return
	}
	x = x[:cols]
	n16 := cols &^ 15
	var out [4]float32
	for i := 0; i < rows; i += 4 {
		// A last block of fewer than four rows repeats its last row.
		last := rows - 1
		r0 := w[i*cols : i*cols+cols]
		r1 := w[min(i+1, last)*cols:][:cols]
		r2 := w[min(i+2, last)*cols:][:cols]
		r3 := w[min(i+3, last)*cols:][:cols]
		out = [4]float32{}
		if n16 > 0 {
			dot4(&r0[0], &r1[0], &r2[0], &r3[0], &x[0], n16, &out)
		}
		for c := n16; c < cols; c++ {
			out[0] += r0[c] * x[c]
			out[1] += r1[c] * x[c]
			out[2] += r2[c] * x[c]
			out[3] += r3[c] * x[c]
		}
		for k := 0; k < 4 && i+k < rows; k++ {
			v := alpha * out[k]
			if beta != 0 {
				v += beta * y[i+k]
			}
			y[i+k] = v
		}
	}
}

// gemvCols sets y = alpha*W[:, lo:lo+len(y)]^T x + beta*y for W rows x cols;
// beta == 0 overwrites y.
func gemvCols(fma bool, w []float32, rows, cols, lo int, x, y []float32, alpha, beta float32) {
	n := len(y)
	if !fma {
		a := blas32.General{Rows: rows, Cols: n, Stride: cols, Data: w[lo:]}
		blas32.Gemv(blas.Trans, alpha, a, blas32.Vector{N: rows, Inc: 1, Data: x}, beta, blas32.Vector{N: n, Inc: 1, Data: y})
		return
	}
	scaleInPlace(y, beta)
	i := 0
	for ; i+4 <= rows; i += 4 {
		a := [4]float32{alpha * x[i], alpha * x[i+1], alpha * x[i+2], alpha * x[i+3]}
		axpy4Rows(w[i*cols+lo:][:n], w[(i+1)*cols+lo:][:n], w[(i+2)*cols+lo:][:n], w[(i+3)*cols+lo:][:n], y, &a)
	}
	for ; i < rows; i++ {
		axpyRow(alpha*x[i], w[i*cols+lo:][:n], y)
	}
}

// axpy4Rows adds a[0]*r0 + a[1]*r1 + a[2]*r2 + a[3]*r3 to y with the
// assembly kernel (rows as long as y).
func axpy4Rows(r0, r1, r2, r3, y []float32, a *[4]float32) {
	n := len(y)
	r0, r1, r2, r3 = r0[:n], r1[:n], r2[:n], r3[:n]
	n16 := n &^ 15
	if n16 > 0 {
		axpy4(&r0[0], &r1[0], &r2[0], &r3[0], &y[0], n16, a)
	}
	for c := n16; c < n; c++ {
		v := y[c]
		v += a[0] * r0[c]
		v += a[1] * r1[c]
		v += a[2] * r2[c]
		v += a[3] * r3[c]
		y[c] = v
	}
}

// axpyRow adds a*r to y.
func axpyRow(a float32, r, y []float32) {
	blas32.Axpy(a, blas32.Vector{N: len(y), Inc: 1, Data: r}, blas32.Vector{N: len(y), Inc: 1, Data: y})
}

// MatVec sets dst = alpha*W*x + beta*dst, or alpha*W^T*x + beta*dst when
// trans is true, on row (or column) blocks shared by the workers: with
// AVX2+FMA assembly kernels where the processor has them, else with
// gonum's blas32 Sgemv. beta == 0 overwrites dst. dst must be neither W
// nor x.
func (b *Backend) MatVec(dst, w backend.Tensor, trans bool, x backend.Tensor, alpha, beta float32) {
	b.live("MatVec")
	if s, ok := b.asSparse("MatVec", w); ok {
		b.sparseMatVec(dst, s, trans, x, alpha, beta)
		return
	}
	d, ws, xs := b.ten("MatVec", dst), b.ten("MatVec", w), b.ten("MatVec", x)
	backend.CheckMatVec("MatVec", dst, w, trans, x)
	if dst == x || dst == w {
		panic(backend.Misusef("cpu", "MatVec", "destination %s is also the matrix or the input vector; use a separate destination tensor", backend.Shape(dst)))
	}
	rows, cols := w.Rows(), w.Cols()
	if alpha == 0 || len(xs) == 0 || len(d) == 0 {
		scaleInPlace(d, beta)
		return
	}
	j := &b.mv
	*j = matVecJob{fma: b.fma, w: ws, rows: rows, cols: cols, trans: trans, x: xs, y: d, alpha: alpha, beta: beta}
	k := b.parts(rows*cols, grainMatrix)
	if trans {
		b.split(j, cols, k, align)
	} else {
		b.split(j, rows, k, 4)
	}
	*j = matVecJob{}
}

// propagateJob adds alpha times the selected columns (rows [lo, hi) of
// dst) or, with trans, the selected rows (columns [lo, hi) of dst) of W.
type propagateJob struct {
	fma   bool
	w     []float32
	cols  int
	trans bool
	idx   []int
	dst   []float32
	alpha float32
}

func (j *propagateJob) run(_, lo, hi int) {
	if j.trans {
		n, cols, w := hi-lo, j.cols, j.w
		y := j.dst[lo:hi]
		k := 0
		if j.fma {
			a := [4]float32{j.alpha, j.alpha, j.alpha, j.alpha}
			for ; k+4 <= len(j.idx); k += 4 {
				i0, i1, i2, i3 := j.idx[k], j.idx[k+1], j.idx[k+2], j.idx[k+3]
				axpy4Rows(w[i0*cols+lo:][:n], w[i1*cols+lo:][:n], w[i2*cols+lo:][:n], w[i3*cols+lo:][:n], y, &a)
			}
		}
		for _, i := range j.idx[k:] {
			axpyRow(j.alpha, w[i*cols+lo:][:n], y)
		}
		return
	}
	cols, idx, w, dst := j.cols, j.idx, j.w, j.dst
	i := lo
	// Four rows at a time: each index is loaded once for four independent
	// sums; every row still sums its spiking columns in index order.
	for ; i+4 <= hi; i += 4 {
		r0 := w[i*cols : i*cols+cols]
		r1 := w[(i+1)*cols : (i+1)*cols+cols]
		r2 := w[(i+2)*cols : (i+2)*cols+cols]
		r3 := w[(i+3)*cols : (i+3)*cols+cols]
		var s0, s1, s2, s3 float32
		for _, c := range idx {
			s0 += r0[c]
			s1 += r1[c]
			s2 += r2[c]
			s3 += r3[c]
		}
		dst[i] += j.alpha * s0
		dst[i+1] += j.alpha * s1
		dst[i+2] += j.alpha * s2
		dst[i+3] += j.alpha * s3
	}
	for ; i < hi; i++ {
		r := w[i*cols : i*cols+cols]
		var s float32
		for _, c := range idx {
			s += r[c]
		}
		dst[i] += j.alpha * s
	}
}

// Propagate adds alpha times the sum of the columns j of W with mask[j] != 0
// to dst, or with trans the rows i with mask[i] != 0 (saxpy over the
// contiguous rows, four spiking rows per pass with the AVX2 kernel). Its
// cost is the number of spikes times the other dimension, plus one scan of
// the mask. Without trans each row gathers its spiking columns: prefer the
// trans layout (presynaptic rows) for large matrices.
func (b *Backend) Propagate(dst, w backend.Tensor, trans bool, mask backend.Tensor, alpha float32) {
	b.live("Propagate")
	if s, ok := b.asSparse("Propagate", w); ok {
		b.sparsePropagate(dst, s, trans, mask, alpha)
		return
	}
	d, ws, m := b.ten("Propagate", dst), b.ten("Propagate", w), b.ten("Propagate", mask)
	rows, cols := w.Rows(), w.Cols()
	if trans {
		backend.CheckVecLen("Propagate", "destination", dst, cols, false)
		backend.CheckVecLen("Propagate", "mask", mask, rows, false)
	} else {
		backend.CheckVecLen("Propagate", "destination", dst, rows, false)
		backend.CheckVecLen("Propagate", "mask", mask, cols, false)
	}
	// The spiking indices are taken before dst changes, so dst may be mask.
	idx := b.spikesOf(mask, m, true)
	b.noteSpikes(mask, dst, idx)
	if len(idx) == 0 || len(d) == 0 {
		return
	}
	j := &b.prop
	*j = propagateJob{fma: b.fma, w: ws, cols: cols, trans: trans, idx: idx, dst: d, alpha: alpha}
	if trans {
		b.split(j, cols, b.parts(len(idx)*cols, grainMatrix), align)
	} else {
		b.split(j, rows, b.parts(len(idx)*rows, grainMatrix), 4)
	}
	*j = propagateJob{}
}

// outerJob updates the selected rows r in [lo, hi) (indices into ri, or
// rows themselves when ri is nil).
type outerJob struct {
	w      []float32
	cols   int
	ri, ci []int // selected rows and columns; nil selects all
	u, v   []float32
	p      backend.OuterParams
}

func (j *outerJob) run(_, lo, hi int) {
	for r := lo; r < hi; r++ {
		i := r
		if j.ri != nil {
			i = j.ri[r]
		}
		a := j.p.Alpha
		if j.u != nil {
			a *= j.u[i]
		}
		row := j.w[i*j.cols : i*j.cols+j.cols]
		if j.ci == nil {
			j.denseRow(row, a)
			continue
		}
		if r+1 < hi && j.ri != nil {
			// The selected elements of a large W are cache misses that
			// nothing else depends on: ask for the next row's while this
			// one is updated.
			next := j.ri[r+1]
			prefetchCols(&j.w[next*j.cols], j.ci)
		}
		j.sparseRow(row, a)
	}
}

// denseRow updates every element of row with coefficient a = Alpha*u[i].
func (j *outerJob) denseRow(row []float32, a float32) {
	v, t := j.v, j.p.Target
	switch {
	case !j.p.Soft && v == nil:
		for k := range row {
			row[k] += a
		}
	case !j.p.Soft:
		blas32.Axpy(a, blas32.Vector{N: len(row), Inc: 1, Data: v}, blas32.Vector{N: len(row), Inc: 1, Data: row})
	case v == nil:
		for k := range row {
			row[k] += a * (t - row[k])
		}
	default:
		v = v[:len(row)]
		for k := range row {
			row[k] += a * v[k] * (t - row[k])
		}
	}
	if j.p.Clip {
		clip(row, row, j.p.Lo, j.p.Hi)
	}
}

// sparseRow updates the selected columns of row.
func (j *outerJob) sparseRow(row []float32, a float32) {
	v, t := j.v, j.p.Target
	lo, hi, cl := j.p.Lo, j.p.Hi, j.p.Clip
	for _, c := range j.ci {
		vc := float32(1)
		if v != nil {
			vc = v[c]
		}
		x := row[c]
		if j.p.Soft {
			x += a * vc * (t - x)
		} else {
			x += a * vc
		}
		if cl {
			x = min(max(x, lo), hi)
		}
		row[c] = x
	}
}

// Outer updates W[i][j] for the selected rows and columns by
// (Alpha*u[i])*v[j], or in the soft-bound form (Alpha*u[i])*v[j]*(Target -
// W[i][j]), then clips the updated elements to [Lo, Hi] if asked. Only the
// selected rows are visited; selected columns are gathered once per call.
func (b *Backend) Outer(w, rowMask, colMask, u, v backend.Tensor, p backend.OuterParams) {
	b.live("Outer")
	if s, ok := b.asSparse("Outer", w); ok {
		b.sparseOuter(s, rowMask, colMask, u, v, p)
		return
	}
	ws := b.ten("Outer", w)
	rm, cm := b.opt("Outer", rowMask), b.opt("Outer", colMask)
	us, vs := b.opt("Outer", u), b.opt("Outer", v)
	rows, cols := w.Rows(), w.Cols()
	backend.CheckVecLen("Outer", "row mask", rowMask, rows, true)
	backend.CheckVecLen("Outer", "column mask", colMask, cols, true)
	backend.CheckVecLen("Outer", "u", u, rows, true)
	backend.CheckVecLen("Outer", "v", v, cols, true)
	var ri, ci []int
	nr, nc := rows, cols
	if rm != nil {
		ri = collect(&b.idxA, rm)
		nr = len(ri)
	}
	if cm != nil {
		ci = collect(&b.idxB, cm)
		nc = len(ci)
	}
	if nr == 0 || nc == 0 {
		return
	}
	j := &b.out
	*j = outerJob{w: ws, cols: cols, ri: ri, ci: ci, u: us, v: vs, p: p}
	work := nr * nc
	if ci != nil && nc < cols/16 {
		// Scattered columns: nearly every element is its own cache line
		// (a miss to memory in a large W), so it counts as a line of 16:
		// latency-bound work gains from a second worker long before
		// streaming work does.
		work *= 16
	}
	b.split(j, nr, b.parts(work, grainMatrix), 1)
	*j = outerJob{}
}

// normalizeJob scales rows [lo, hi), or columns [lo, hi) with byCol.
type normalizeJob struct {
	w          []float32
	rows, cols int
	byCol      bool
	target     float64
	acc        []float64 // per-column sums, then factors (byCol)
}

func (j *normalizeJob) run(_, lo, hi int) {
	w, cols := j.w, j.cols
	if !j.byCol {
		for i := lo; i < hi; i++ {
			row := w[i*cols : i*cols+cols]
			s := sum64(row)
			if s == 0 {
				continue
			}
			f := j.target / s
			for k := range row {
				row[k] = float32(float64(row[k]) * f)
			}
		}
		return
	}
	acc := j.acc[lo:hi]
	for k := range acc {
		acc[k] = 0
	}
	for i := range j.rows {
		r := w[i*cols+lo : i*cols+hi]
		for k := range r {
			acc[k] += float64(r[k])
		}
	}
	for k, s := range acc {
		if s == 0 {
			acc[k] = 1 // x*1 is exact: the column stays as it is
		} else {
			acc[k] = j.target / s
		}
	}
	for i := range j.rows {
		r := w[i*cols+lo : i*cols+hi]
		for k := range r {
			r[k] = float32(float64(r[k]) * acc[k])
		}
	}
}

// Normalize scales each row (axis Rows) or column (axis Cols) of W so that
// its sum is target. Sums and factors are computed in float64; rows or
// columns that sum to zero are left unchanged.
func (b *Backend) Normalize(w backend.Tensor, axis backend.Axis, target float32) {
	b.live("Normalize")
	if s, ok := b.asSparse("Normalize", w); ok {
		b.sparseNormalize(s, axis, target)
		return
	}
	ws := b.ten("Normalize", w)
	if axis != backend.Rows && axis != backend.Cols {
		panic(backend.Misusef("cpu", "Normalize", "invalid axis %d; use backend.Rows or backend.Cols", axis))
	}
	rows, cols := w.Rows(), w.Cols()
	if len(ws) == 0 {
		return
	}
	j := &b.norm
	*j = normalizeJob{w: ws, rows: rows, cols: cols, target: float64(target)}
	k := b.parts(rows*cols, grainMatrix)
	if axis == backend.Rows {
		b.split(j, rows, k, 1)
	} else {
		if cap(b.acc) < cols {
			b.acc = make([]float64, cols)
		}
		j.byCol, j.acc = true, b.acc[:cols]
		b.split(j, cols, k, align)
	}
	*j = normalizeJob{}
}
