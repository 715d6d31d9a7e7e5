package opengl

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

type cmdKind uint8

const (
	cFill cmdKind = iota
	cCopyRange
	cBinary
	cBinaryScalar
	cUnary
	cAffine
	cAxpy
	cWhere
	cWhereScalar
	cClip
	cReduce
	cMatVec
	cPropagate
	cOuter
	cNormalize
	cRandom
	cWrite
	cRelease
	cKernel
	cReleaseKernel
	cSparse // a matrix operation on a sparse matrix (cmd.sp, cmd.op = sparse mode)
	cDelay  // PropagateDelayed or TakeSlot (delay.go; cmd.op = MODE of propagate_delayed.comp)
	cGather // EventLog.Gather (state.go)
)

var cmdNames = [...]string{"Fill", "CopyRange", "Binary", "BinaryScalar", "Unary", "Affine", "Axpy", "Where",
	"WhereScalar", "Clip", "Reduce", "MatVec", "Propagate", "Outer", "Normalize", "Random", "Write", "Release", "Kernel", "ReleaseKernel", "Sparse", "Delay", "Gather"}

func (k cmdKind) String() string { return cmdNames[k] }

// cmd is one recorded operation. Commands are stored by value in a
// batch's slice, which only grows, so recording allocates nothing in
// steady state.
type cmd struct {
	kind  cmdKind
	op    uint8 // BinaryOp, UnaryOp, ReduceOp or Axis
	trans bool
	t     [5]*tensor
	i     [3]int
	f     [expr.MaxScalars]float32 // scalar operands, a fused kernel's scalars
	outer backend.OuterParams
	dist  rng.Dist
	key   rng.Key
	kern  *kernel
	prog  *program
	sp    *sparse
}

// batch is a list of commands with the data they need: Write payloads and
// kernel argument lists.
type batch struct {
	cmds []cmd
	data []float32
	args []*tensor
}

// add appends a zero command and returns it.
func (bt *batch) add() *cmd {
	bt.cmds = append(bt.cmds, cmd{})
	return &bt.cmds[len(bt.cmds)-1]
}

// reset empties the batch, keeping its capacity, and drops its references
// to tensors so that they can be collected.
func (bt *batch) reset() {
	clear(bt.cmds)
	clear(bt.args)
	bt.cmds, bt.data, bt.args = bt.cmds[:0], bt.data[:0], bt.args[:0]
}

// release drops the batch's storage.
func (bt *batch) release() { *bt = batch{} }

// record appends a command of the given kind for the caller to fill.
// Callers hold mu and have checked that b is open.
func (b *Backend) record(kind cmdKind) *cmd {
	c := b.rec.add()
	c.kind = kind
	return c
}

// vector panics unless t fits in one buffer: matrix operations index their
// vector operands in a single binding.
func vector(op, what string, t *tensor) {
	if t != nil && len(t.tiles) > 1 {
		panic(fmt.Sprintf("gl: %s: %s has %d elements, more than one shader storage buffer of this device holds (%d); use shorter vectors or -backend=cpu",
			op, what, t.Len(), t.tileElems))
	}
}

// rowTiles panics unless every tile of the matrix w holds whole rows.
func rowTiles(op string, w *tensor) {
	if w.tileRows == 0 && len(w.tiles) > 1 {
		panic(fmt.Sprintf("gl: %s: a row of matrix %s is longer than one shader storage buffer of this device holds (%d elements); store it transposed or use -backend=cpu",
			op, backend.Shape(w), w.tileElems))
	}
}

// Fill sets every element of dst to v.
func (b *Backend) Fill(dst backend.Tensor, v float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Fill")
	d := b.ten("Fill", dst)
	if d.Len() == 0 {
		return
	}
	c := b.record(cFill)
	c.t[0], c.f[0] = d, v
	c.i = [3]int{0, 0, d.Len()}
	b.maybeSubmit()
}

// Copy copies src into dst (same Len).
func (b *Backend) Copy(dst, src backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Copy")
	d, s := b.ten("Copy", dst), b.ten("Copy", src)
	backend.CheckSameLen("Copy", d.Len(), src)
	if d.Len() == 0 || d == s {
		return
	}
	c := b.record(cCopyRange)
	c.t[0], c.t[1] = d, s
	c.i = [3]int{0, 0, d.Len()}
	b.maybeSubmit()
}

// CopyRange copies n elements of src from srcOff into dst at dstOff. The
// ranges may overlap when dst and src are the same tensor.
func (b *Backend) CopyRange(dst backend.Tensor, dstOff int, src backend.Tensor, srcOff, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("CopyRange")
	d, s := b.ten("CopyRange", dst), b.ten("CopyRange", src)
	backend.CheckRange("CopyRange", dst, dstOff, n)
	backend.CheckRange("CopyRange", src, srcOff, n)
	if n == 0 || d == s && dstOff == srcOff {
		return
	}
	c := b.record(cCopyRange)
	c.t[0], c.t[1] = d, s
	c.i = [3]int{dstOff, srcOff, n}
	b.maybeSubmit()
}

// Binary sets dst = a op b elementwise (same Len; dst may alias a or b).
// Min and Max return NaN if either operand is NaN; Div is correctly
// rounded, as on the cpu.
func (b *Backend) Binary(op backend.BinaryOp, dst, x, y backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Binary")
	if !op.Valid() {
		panic(fmt.Sprintf("backend: Binary: invalid operation %v", op))
	}
	d, xs, ys := b.ten("Binary", dst), b.ten("Binary", x), b.ten("Binary", y)
	backend.CheckSameLen("Binary", d.Len(), x, y)
	if d.Len() == 0 {
		return
	}
	c := b.record(cBinary)
	c.op = uint8(op)
	c.t[0], c.t[1], c.t[2] = d, xs, ys
	b.maybeSubmit()
}

// BinaryScalar sets dst = a op s elementwise.
func (b *Backend) BinaryScalar(op backend.BinaryOp, dst, a backend.Tensor, s float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("BinaryScalar")
	if !op.Valid() {
		panic(fmt.Sprintf("backend: BinaryScalar: invalid operation %v", op))
	}
	d, as := b.ten("BinaryScalar", dst), b.ten("BinaryScalar", a)
	backend.CheckSameLen("BinaryScalar", d.Len(), a)
	if d.Len() == 0 {
		return
	}
	c := b.record(cBinaryScalar)
	c.op = uint8(op)
	c.t[0], c.t[1], c.f[0] = d, as, s
	b.maybeSubmit()
}

// Unary sets dst = op(a) elementwise. Exp, Log, Sqrt, Recip, Tanh and
// Sigmoid are computed in double and rounded to float32, as on the cpu.
func (b *Backend) Unary(op backend.UnaryOp, dst, a backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Unary")
	if !op.Valid() {
		panic(fmt.Sprintf("backend: Unary: invalid operation %v", op))
	}
	d, as := b.ten("Unary", dst), b.ten("Unary", a)
	backend.CheckSameLen("Unary", d.Len(), a)
	if d.Len() == 0 {
		return
	}
	c := b.record(cUnary)
	c.op = uint8(op)
	c.t[0], c.t[1] = d, as
	b.maybeSubmit()
}

// Affine sets dst = alpha*a + beta (a float32 multiply, then add).
func (b *Backend) Affine(dst, a backend.Tensor, alpha, beta float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Affine")
	d, as := b.ten("Affine", dst), b.ten("Affine", a)
	backend.CheckSameLen("Affine", d.Len(), a)
	if d.Len() == 0 {
		return
	}
	c := b.record(cAffine)
	c.t[0], c.t[1], c.f = d, as, [4]float32{alpha, beta}
	b.maybeSubmit()
}

// Axpy sets dst += alpha*x.
func (b *Backend) Axpy(dst backend.Tensor, alpha float32, x backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Axpy")
	d, xs := b.ten("Axpy", dst), b.ten("Axpy", x)
	backend.CheckSameLen("Axpy", d.Len(), x)
	if d.Len() == 0 {
		return
	}
	c := b.record(cAxpy)
	c.t[0], c.t[1], c.f[0] = d, xs, alpha
	b.maybeSubmit()
}

// Where sets dst[i] = src[i] where mask[i] != 0.
func (b *Backend) Where(dst, mask, src backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Where")
	d, m, s := b.ten("Where", dst), b.ten("Where", mask), b.ten("Where", src)
	backend.CheckSameLen("Where", d.Len(), mask, src)
	if d.Len() == 0 {
		return
	}
	c := b.record(cWhere)
	c.t[0], c.t[1], c.t[2] = d, m, s
	b.maybeSubmit()
}

// WhereScalar sets dst[i] = s where mask[i] != 0.
func (b *Backend) WhereScalar(dst, mask backend.Tensor, s float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("WhereScalar")
	d, m := b.ten("WhereScalar", dst), b.ten("WhereScalar", mask)
	backend.CheckSameLen("WhereScalar", d.Len(), mask)
	if d.Len() == 0 {
		return
	}
	c := b.record(cWhereScalar)
	c.t[0], c.t[1], c.f[0] = d, m, s
	b.maybeSubmit()
}

// Clip sets dst = min(max(a, lo), hi); NaN stays NaN.
func (b *Backend) Clip(dst, a backend.Tensor, lo, hi float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Clip")
	d, as := b.ten("Clip", dst), b.ten("Clip", a)
	backend.CheckSameLen("Clip", d.Len(), a)
	if d.Len() == 0 {
		return
	}
	c := b.record(cClip)
	c.t[0], c.t[1], c.f = d, as, [4]float32{lo, hi}
	b.maybeSubmit()
}

// Reduce stores op over all elements of src into dst[dstOff]. Sum, Mean
// and Count accumulate in double. Over zero elements Sum and Count are 0,
// Mean is NaN, Max is -Inf and Min is +Inf; Max and Min are NaN if any
// element is.
func (b *Backend) Reduce(op backend.ReduceOp, dst backend.Tensor, dstOff int, src backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Reduce")
	if !op.Valid() {
		panic(fmt.Sprintf("backend: Reduce: invalid operation %v", op))
	}
	d, s := b.ten("Reduce", dst), b.ten("Reduce", src)
	backend.CheckRange("Reduce", dst, dstOff, 1)
	c := b.record(cReduce)
	c.op = uint8(op)
	c.t[0], c.t[1], c.i[0] = d, s, dstOff
	b.maybeSubmit()
}

// scale records dst = beta*dst, with beta == 0 writing zeros (as BLAS).
func (b *Backend) scale(d *tensor, beta float32) {
	switch {
	case d.Len() == 0 || beta == 1:
	case beta == 0:
		c := b.rec.add()
		c.kind, c.t[0], c.i = cFill, d, [3]int{0, 0, d.Len()}
	default:
		c := b.rec.add()
		c.kind, c.t[0], c.t[1], c.f = cAffine, d, d, [4]float32{beta, 0}
	}
}

// MatVec sets dst = alpha*W*x + beta*dst, or alpha*W^T*x + beta*dst when
// trans is true. beta == 0 overwrites dst. dst must be neither W nor x.
func (b *Backend) MatVec(dst, w backend.Tensor, trans bool, x backend.Tensor, alpha, beta float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("MatVec")
	if s, ok := b.asSparse("MatVec", w); ok {
		b.sparseMatVec(dst, s, trans, x, alpha, beta)
		return
	}
	d, ws, xs := b.ten("MatVec", dst), b.ten("MatVec", w), b.ten("MatVec", x)
	backend.CheckMatVec("MatVec", dst, w, trans, x)
	if d == xs || d == ws {
		panic(fmt.Sprintf("gl: MatVec: destination %s is also the matrix or the input vector; use a separate destination tensor", backend.Shape(dst)))
	}
	vector("MatVec", "the destination", d)
	vector("MatVec", "the input vector", xs)
	rowTiles("MatVec", ws)
	if alpha == 0 || xs.Len() == 0 || d.Len() == 0 {
		b.scale(d, beta)
		b.maybeSubmit()
		return
	}
	c := b.record(cMatVec)
	c.t[0], c.t[1], c.t[2], c.trans, c.f = d, ws, xs, trans, [4]float32{alpha, beta}
	b.maybeSubmit()
}

// Propagate adds alpha times the sum of the columns j of W with mask[j] !=
// 0 to dst, or with trans the rows i with mask[i] != 0. A pre-pass
// compacts the mask into an ordered list of indices on the device, so the
// cost grows with the number of spikes; the sums are taken in index order
// with the same float32 operations as the cpu backend. dst may be the
// mask.
func (b *Backend) Propagate(dst, w backend.Tensor, trans bool, mask backend.Tensor, alpha float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Propagate")
	if s, ok := b.asSparse("Propagate", w); ok {
		b.sparsePropagate(dst, s, trans, mask, alpha)
		return
	}
	d, ws, m := b.ten("Propagate", dst), b.ten("Propagate", w), b.ten("Propagate", mask)
	rows, cols := ws.rows, ws.cols
	if trans {
		backend.CheckVecLen("Propagate", "destination", dst, cols, false)
		backend.CheckVecLen("Propagate", "mask", mask, rows, false)
	} else {
		backend.CheckVecLen("Propagate", "destination", dst, rows, false)
		backend.CheckVecLen("Propagate", "mask", mask, cols, false)
	}
	vector("Propagate", "the destination", d)
	vector("Propagate", "the mask", m)
	rowTiles("Propagate", ws)
	if d.Len() == 0 || m.Len() == 0 {
		return
	}
	c := b.record(cPropagate)
	c.t[0], c.t[1], c.t[2], c.trans, c.f[0] = d, ws, m, trans, alpha
	b.maybeSubmit()
}

// Outer updates W[i][j] for every row i with rowMask[i] != 0 and column j
// with colMask[j] != 0 (nil selects all) by (Alpha*u[i])*v[j] (nil u or v
// reads as ones), or in the soft-bound form (Alpha*u[i])*v[j]*(Target -
// W[i][j]), then clips if asked. Masks are compacted on the device first,
// so only selected rows are visited.
func (b *Backend) Outer(w, rowMask, colMask, u, v backend.Tensor, p backend.OuterParams) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Outer")
	if s, ok := b.asSparse("Outer", w); ok {
		b.sparseOuter(s, rowMask, colMask, u, v, p)
		return
	}
	ws := b.ten("Outer", w)
	rm, cm := b.opt("Outer", rowMask), b.opt("Outer", colMask)
	us, vs := b.opt("Outer", u), b.opt("Outer", v)
	rows, cols := ws.rows, ws.cols
	backend.CheckVecLen("Outer", "row mask", rowMask, rows, true)
	backend.CheckVecLen("Outer", "column mask", colMask, cols, true)
	backend.CheckVecLen("Outer", "u", u, rows, true)
	backend.CheckVecLen("Outer", "v", v, cols, true)
	vector("Outer", "the row mask", rm)
	vector("Outer", "the column mask", cm)
	vector("Outer", "u", us)
	vector("Outer", "v", vs)
	rowTiles("Outer", ws)
	if rows == 0 || cols == 0 {
		return
	}
	c := b.record(cOuter)
	c.t = [5]*tensor{ws, rm, cm, us, vs}
	c.outer = p
	b.maybeSubmit()
}

// Normalize scales each row (axis Rows) or column (axis Cols) of W so that
// its sum is target. Sums and factors are computed in double; rows or
// columns that sum to zero are left unchanged.
func (b *Backend) Normalize(w backend.Tensor, axis backend.Axis, target float32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Normalize")
	if s, ok := b.asSparse("Normalize", w); ok {
		b.sparseNormalize(s, axis, target)
		return
	}
	ws := b.ten("Normalize", w)
	if axis != backend.Rows && axis != backend.Cols {
		panic(fmt.Sprintf("backend: Normalize: invalid axis %d; use backend.Rows or backend.Cols", axis))
	}
	rowTiles("Normalize", ws)
	if ws.Len() == 0 {
		return
	}
	c := b.record(cNormalize)
	c.t[0], c.op, c.f[0] = ws, uint8(axis), target
	b.maybeSubmit()
}

// Random fills dst with rng.Sample(d, key, i) for every element i:
// Uniform, Bernoulli, Const and the density mask are bitwise identical to
// the reference, Normal and LogNormal equal to float32 rounding. An
// invalid d panics.
func (b *Backend) Random(dst backend.Tensor, d backend.Dist, key backend.RandKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Random")
	out := b.ten("Random", dst)
	if err := d.Validate(); err != nil {
		panic("backend: Random: " + err.Error())
	}
	if out.Len() == 0 {
		return
	}
	c := b.record(cRandom)
	c.t[0], c.dist, c.key = out, d, key
	b.maybeSubmit()
}
