package opengl

import (
	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

type cmdKind uint8

const (
	cCopyRange cmdKind = iota
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

var cmdNames = [...]string{"CopyRange", "Reduce", "MatVec", "Propagate", "Outer", "Normalize", "Random", "Write", "Release", "Kernel", "ReleaseKernel", "Sparse", "Delay", "Gather"}

func (k cmdKind) String() string { return cmdNames[k] }

// cmd is one recorded operation. Commands are stored by value in a
// batch's slice, which only grows, so recording allocates nothing in
// steady state.
type cmd struct {
	kind  cmdKind
	op    uint8 // ReduceOp, Axis or a mode
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
		panic(backend.Misusef("gl", op, "%s has %d elements, more than one shader storage buffer of this device holds (%d); use shorter vectors or -backend=cpu", what, t.Len(), t.tileElems))
	}
}

// rowTiles panics unless every tile of the matrix w holds whole rows.
func rowTiles(op string, w *tensor) {
	if w.tileRows == 0 && len(w.tiles) > 1 {
		panic(backend.Misusef("gl", op, "a row of matrix %s is longer than one shader storage buffer of this device holds (%d elements); store it transposed or use -backend=cpu", backend.Shape(w), w.tileElems))
	}
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

// Reduce stores op over all elements of src into dst[dstOff]. Sum, Mean
// and Count accumulate in double. Over zero elements Sum and Count are 0,
// Mean is NaN, Max is -Inf and Min is +Inf; Max and Min are NaN if any
// element is.
func (b *Backend) Reduce(op backend.ReduceOp, dst backend.Tensor, dstOff int, src backend.Tensor) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Reduce")
	if !op.Valid() {
		panic(backend.Misusef("gl", "Reduce", "invalid operation %v", op))
	}
	d, s := b.ten("Reduce", dst), b.ten("Reduce", src)
	backend.CheckRange("Reduce", dst, dstOff, 1)
	if s.Len() == 0 {
		b.writeLocked(d, dstOff, []float32{op.Empty()})
		b.maybeSubmit()
		return
	}
	c := b.record(cReduce)
	c.op = uint8(op)
	c.t[0], c.t[1], c.i[0] = d, s, dstOff
	b.maybeSubmit()
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
		panic(backend.Misusef("gl", "MatVec", "destination %s is also the matrix or the input vector; use a separate destination tensor", backend.Shape(dst)))
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
		panic(backend.Misusef("gl", "Normalize", "invalid axis %d; use backend.Rows or backend.Cols", axis))
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
func (b *Backend) Random(dst backend.Tensor, d rng.Dist, key rng.Key) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Random")
	out := b.ten("Random", dst)
	if err := d.Validate(); err != nil {
		panic(backend.Misusef("gl", "Random", "%v", err))
	}
	if out.Len() == 0 {
		return
	}
	if d.Kind == rng.Const && d.Density >= 1 {
		b.fill(out, d.Scale*d.A) // rng.Sample is Scale*A without using the random words
		b.maybeSubmit()
		return
	}
	c := b.record(cRandom)
	c.t[0], c.dist, c.key = out, d, key
	b.maybeSubmit()
}
