package opengl

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
)

var _ backend.Sparser = (*Backend)(nil)

// sparse is a gl sparse matrix: the values in a tensor of NNZ elements
// (that elementwise operations use) and its compressed row and column
// index in buffers of uint32 (kept in float32 tensors; only the bits
// matter). The host keeps the row form for Structure. A matrix with more
// entries than one buffer holds is split: its values and column indices
// are tiled tensors (tiles of the same entries), it has no column form,
// and only the row-wise spike propagation (Propagate and PropagateDelayed
// with trans) runs on it, one dispatch per tile.
type sparse struct {
	b          *Backend
	rows, cols int
	vals       *tensor
	// rs: rowStart (rows+1), ci: colIdx, cs: colStart (cols+1), ri:
	// rowIdx, pm: perm (the value position of each column entry).
	rs, ci, cs, ri, pm *tensor
	split              bool // values over several buffers; cs, ri, pm are nil
	rowStart           []int64
	colIdx             []int32
	maxRow             int
	maxCol             int // the longest column, once the column form is made
	// laneMax caches laneMax by span (negative: by columns); GL thread.
	lanes map[int]int
}

func (s *sparse) Rows() int                { return s.rows }
func (s *sparse) Cols() int                { return s.cols }
func (s *sparse) Len() int                 { return len(s.colIdx) }
func (s *sparse) NNZ() int                 { return len(s.colIdx) }
func (s *sparse) MaxRowLen() int           { return s.maxRow }
func (s *sparse) Backend() backend.Backend { return s.b }
func (s *sparse) String() string {
	return fmt.Sprintf("gl sparse matrix %dx%d (%d entries)", s.rows, s.cols, len(s.colIdx))
}

// Structure returns the host copy of the row starts and column indices.
func (s *sparse) Structure() ([]int64, []int32) { return s.rowStart, s.colIdx }

// Release frees the buffers once the operations queued before it have
// run. Releasing twice is a no-op.
func (s *sparse) Release() {
	for _, t := range s.all() {
		t.Release()
	}
}

func (s *sparse) all() []*tensor {
	var ts []*tensor
	for _, t := range []*tensor{s.vals, s.rs, s.ci, s.cs, s.ri, s.pm} {
		if t != nil {
			ts = append(ts, t)
		}
	}
	return ts
}

// laneMax returns the most entries that a row (a column if byCols) of s
// has among span consecutive destinations: what one invocation of an
// ordered scatter adds per spike (orderedScatter). It reads the host's
// row form once per span (GL thread).
func (s *sparse) laneMax(span int, byCols bool) int {
	key := span
	if byCols {
		key = -span
	}
	if m, ok := s.lanes[key]; ok {
		return m
	}
	m := 0
	if !byCols {
		for r := range s.rows {
			run, blk := 0, -1
			for _, c := range s.colIdx[s.rowStart[r]:s.rowStart[r+1]] {
				if b := int(c) / span; b != blk {
					blk, run = b, 0
				}
				run++
				m = max(m, run)
			}
		}
	} else {
		n := make([]int32, s.cols) // entries per column in a block of rows
		for lo := 0; lo < s.rows; lo += span {
			block := s.colIdx[s.rowStart[lo]:s.rowStart[min(lo+span, s.rows)]]
			for _, c := range block {
				n[c]++
				m = max(m, int(n[c]))
			}
			for _, c := range block {
				n[c] = 0
			}
		}
	}
	if s.lanes == nil {
		s.lanes = map[int]int{}
	}
	s.lanes[key] = m
	return m
}

// rowWiseOnly panics for an operation that a split matrix does not have.
func (s *sparse) rowWiseOnly(op string) {
	if s.split {
		panic(backend.Misusef("gl", op, "sparse matrix %s has %d entries, more than one shader storage buffer of this device holds (%d), so it is split over buffers; a split matrix supports elementwise operations and spike propagation from its rows (Propagate and PropagateDelayed with trans: the SxD layout) only; use the SxD layout, smaller synapse groups or -backend=cpu", backend.Shape(s), s.NNZ(), s.vals.tileElems))
	}
}

// hasExtension reports whether the current context offers the named
// extension (GL thread).
func hasExtension(name string) bool {
	var n int32
	gl.GetIntegerv(gl.NUM_EXTENSIONS, &n)
	for i := range uint32(n) {
		if gl.GoStr(gl.GetStringi(gl.EXTENSIONS, i)) == name {
			return true
		}
	}
	return false
}

// NewSparse builds a rows x cols sparse matrix from compressed rows (see
// backend.Sparser) and its transposed index, each in one buffer. A matrix
// with more entries than one shader storage buffer of the device holds
// (GL_MAX_SHADER_STORAGE_BLOCK_SIZE) is split over several buffers,
// without the transposed index: it supports elementwise operations and
// the row-wise spike propagation (see sparse). Row or column counts
// beyond one buffer are refused with an error.
func (b *Backend) NewSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) (backend.SparseTensor, error) {
	return b.newSparse(rows, cols, rowStart, colIdx, vals, false)
}

var _ backend.SparseAdopter = (*Backend)(nil)

// AdoptSparse is NewSparse keeping rowStart and colIdx as the host copy
// of the structure (backend.SparseAdopter) instead of copying them.
func (b *Backend) AdoptSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) (backend.SparseTensor, error) {
	return b.newSparse(rows, cols, rowStart, colIdx, vals, true)
}

func (b *Backend) newSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32, adopt bool) (backend.SparseTensor, error) {
	b.mu.Lock()
	closed, maxElems := b.closed, b.maxElems
	b.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if err := backend.CheckSparse(rows, cols, rowStart, colIdx, vals); err != nil {
		return nil, err
	}
	nnz := len(colIdx)
	if rows+1 > maxElems || cols+1 > maxElems {
		return nil, fmt.Errorf("gl: NewSparse: a %dx%d sparse matrix needs row or column starts of %d elements, more than one shader storage buffer of this device holds (GL_MAX_SHADER_STORAGE_BLOCK_SIZE = %d bytes, %d elements); split the synapse group or use -backend=cpu",
			rows, cols, max(rows+1, cols+1), int64(maxElems)*4, maxElems)
	}
	if int64(nnz) >= 1<<32 {
		return nil, fmt.Errorf("gl: NewSparse: %d entries; the gl backend indexes at most 2^32-1 entries per sparse matrix; split the synapse group", nnz)
	}
	split := nnz > maxElems
	if !adopt {
		rowStart, colIdx = slices.Clone(rowStart), slices.Clone(colIdx)
	}
	s := &sparse{b: b, rows: rows, cols: cols, split: split, rowStart: rowStart, colIdx: colIdx, maxRow: backend.MaxRowLen(rowStart)}
	var made []*tensor
	fail := func(err error) (backend.SparseTensor, error) {
		for _, t := range made {
			t.Release()
		}
		return nil, err
	}
	mk := func(dst **tensor, data []float32, n int) error {
		t, err := b.internalTensor(n, 1)
		if err != nil {
			return err
		}
		*dst = t
		made = append(made, *dst)
		if len(data) > 0 {
			return b.Write(t, 0, data)
		}
		return nil
	}
	steps := []struct {
		dst  **tensor
		data []float32
		n    int
	}{
		{&s.vals, vals, nnz},
		{&s.rs, bits64(rowStart), rows + 1},
		{&s.ci, bits32(colIdx), nnz},
	}
	for _, st := range steps {
		if err := mk(st.dst, st.data, st.n); err != nil {
			return fail(fmt.Errorf("gl: NewSparse: %w", err))
		}
	}
	b.mu.Lock()
	b.register(nil, s)
	b.mu.Unlock()
	return s, nil
}

// columns makes the column form of s (cs, ri, pm) on first use: the
// operations that read W by columns (MatVec with trans, Propagate and
// PropagateDelayed without trans, Normalize over columns) need it, the
// row-wise spike propagation of the SxD layout never does, so it costs
// nothing there (8 bytes per synapse on the device and a transpose on the
// host). Callers hold mu and have checked that s is not split. A failed
// allocation is recorded (the next Flush, Sync or Read returns it) and
// reported as false; the operation is then skipped.
func (b *Backend) columns(op string, s *sparse) bool {
	if s.cs != nil {
		return true
	}
	colStart, rowIdx, perm := backend.Transpose(s.rows, s.cols, s.rowStart, s.colIdx)
	var made []*tensor
	for _, st := range []struct {
		dst  **tensor
		data []float32
	}{{&s.cs, bits64(colStart)}, {&s.ri, bits32(rowIdx)}, {&s.pm, bits32(perm)}} {
		t, err := b.newTensor(len(st.data), 1)
		if err == nil && len(st.data) > 0 {
			err = b.write(t, 0, st.data)
		}
		if err != nil {
			for _, m := range append(made, t) {
				if m != nil {
					m.Release()
				}
			}
			b.setErr(fmt.Errorf("gl: %s: making the column form of %s: %w", op, s, err))
			return false
		}
		made = append(made, t)
	}
	s.cs, s.ri, s.pm = made[0], made[1], made[2]
	s.maxCol = backend.MaxRowLen(colStart)
	return true
}

// readBy readies s for an operation whose kernel reads it by rows or,
// if byRows is false, by columns (making the column form: columns), and
// checks that its rows or columns are not too long for the renderer's
// loops (loopable). False: the operation is skipped, the error recorded.
// Callers hold mu.
func (b *Backend) readBy(op string, s *sparse, byRows bool) bool {
	if byRows {
		return b.loopable(op, s, s.maxRow, "row")
	}
	return b.columns(op, s) && b.loopable(op, s, s.maxCol, "column")
}

// loopable reports whether a kernel on this renderer may read a row (or
// column) of n entries in one loop. llvmpipe leaves a shader's loops after
// llvmpipeLoopLimit iterations, which would silently drop the rest of a
// longer one; such an operation is skipped and reported as an error (the
// next Flush, Sync or Read returns it). Callers hold mu.
func (b *Backend) loopable(op string, s *sparse, n int, what string) bool {
	if !b.software || n <= llvmpipeLoopLimit/4 {
		return true
	}
	b.setErr(fmt.Errorf("gl: %s: %s has a %s of %d entries; the software renderer (%s) stops a shader loop after %d iterations, so this operation would drop entries and was not run; use -backend=cpu or a GPU, or split the synapse group",
		op, s, what, n, b.device, llvmpipeLoopLimit))
	return false
}

// bits32 returns the indices as uint32 bit patterns in a float32 slice.
func bits32(v []int32) []float32 {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&v[0])), len(v))
}

// bits64 narrows the offsets (below 2^32: they index one buffer) to
// uint32 bit patterns.
func bits64(v []int64) []float32 {
	u := make([]uint32, len(v))
	for i, x := range v {
		u[i] = uint32(x)
	}
	if len(u) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&u[0])), len(u))
}

// asSparse returns w if it is a live sparse matrix of b. Callers hold mu.
func (b *Backend) asSparse(op string, w backend.Tensor) (*sparse, bool) {
	s, ok := w.(*sparse)
	if !ok {
		return nil, false
	}
	b.ten(op, w) // owner and release checks
	return s, true
}

// denseVec returns t as a dense vector operand, panicking for a sparse
// matrix. Callers hold mu.
func (b *Backend) denseVec(op, what string, t backend.Tensor) *tensor {
	if _, ok := t.(*sparse); ok {
		panic(backend.Misusef("gl", op, "%s is a sparse matrix (%s); vector operands must be dense tensors", what, backend.Shape(t)))
	}
	if t == nil {
		return nil
	}
	v := b.ten(op, t)
	vector(op, what, v)
	return v
}

// Sparse command modes (the MODE of propagate_sparse.comp).
const (
	spPropCols    = iota // Propagate without trans: scatter the spiking columns
	spPropScatter        // Propagate with trans: scatter the spiking rows
	spMatVec
	spMatVecT
	spOuter
	spNormRows
	spNormCols
)

func (b *Backend) sparseMatVec(dst backend.Tensor, s *sparse, trans bool, x backend.Tensor, alpha, beta float32) {
	s.rowWiseOnly("MatVec")
	d, xs := b.denseVec("MatVec", "the destination", dst), b.denseVec("MatVec", "the input vector", x)
	backend.CheckMatVec("MatVec", dst, s, trans, x)
	if alpha == 0 || xs.Len() == 0 || d.Len() == 0 || s.NNZ() == 0 {
		b.scale(d, beta)
		b.maybeSubmit()
		return
	}
	if !b.readBy("MatVec", s, !trans) {
		return
	}
	c := b.record(cSparse)
	c.sp, c.op = s, spMatVec
	if trans {
		c.op = spMatVecT
	}
	c.t[0], c.t[1], c.f = d, xs, [4]float32{alpha, beta}
	b.maybeSubmit()
}

func (b *Backend) sparsePropagate(dst backend.Tensor, s *sparse, trans bool, mask backend.Tensor, alpha float32) {
	if !trans {
		s.rowWiseOnly("Propagate without trans")
	}
	d, m := b.denseVec("Propagate", "the destination", dst), b.denseVec("Propagate", "the mask", mask)
	if trans {
		backend.CheckVecLen("Propagate", "destination", dst, s.cols, false)
		backend.CheckVecLen("Propagate", "mask", mask, s.rows, false)
	} else {
		backend.CheckVecLen("Propagate", "destination", dst, s.rows, false)
		backend.CheckVecLen("Propagate", "mask", mask, s.cols, false)
	}
	if d.Len() == 0 || m.Len() == 0 || s.NNZ() == 0 || !b.readBy("Propagate", s, trans) {
		return
	}
	c := b.record(cSparse)
	c.sp, c.op = s, spPropCols
	if trans {
		c.op = spPropScatter
	}
	c.t[0], c.t[1], c.f[0] = d, m, alpha
	b.maybeSubmit()
}

func (b *Backend) sparseOuter(s *sparse, rowMask, colMask, u, v backend.Tensor, p backend.OuterParams) {
	s.rowWiseOnly("Outer")
	rm, cm := b.denseVec("Outer", "the row mask", rowMask), b.denseVec("Outer", "the column mask", colMask)
	us, vs := b.denseVec("Outer", "u", u), b.denseVec("Outer", "v", v)
	backend.CheckVecLen("Outer", "row mask", rowMask, s.rows, true)
	backend.CheckVecLen("Outer", "column mask", colMask, s.cols, true)
	backend.CheckVecLen("Outer", "u", u, s.rows, true)
	backend.CheckVecLen("Outer", "v", v, s.cols, true)
	if s.NNZ() == 0 || !b.readBy("Outer", s, true) {
		return
	}
	c := b.record(cSparse)
	c.sp, c.op = s, spOuter
	c.t[0], c.t[1], c.t[2], c.t[3] = rm, cm, us, vs
	c.outer = p
	b.maybeSubmit()
}

func (b *Backend) sparseNormalize(s *sparse, axis backend.Axis, target float32) {
	if axis != backend.Rows && axis != backend.Cols {
		panic(backend.Misusef("gl", "Normalize", "invalid axis %d; use backend.Rows or backend.Cols", axis))
	}
	s.rowWiseOnly("Normalize")
	if s.NNZ() == 0 || !b.readBy("Normalize", s, axis == backend.Rows) {
		return
	}
	c := b.record(cSparse)
	c.sp, c.op, c.f[0] = s, spNormRows, target
	if axis == backend.Cols {
		c.op = spNormCols
	}
	b.maybeSubmit()
}

// sparseOp runs one sparse command on the GL thread.
func (x *executor) sparseOp(c *cmd) {
	s := c.sp
	mode := int(c.op)
	if mode == spPropCols || mode == spPropScatter {
		x.sparseScatter(c)
		return
	}
	p := x.p.sparse[mode]
	x.setU(p, uRows, uint32(s.rows))
	x.setU(p, uCols, uint32(s.cols))
	vals := s.vals.tiles[0]
	if mode == spMatVec || mode == spMatVecT {
		x.bind(0, c.t[0].tiles[0], true)
		x.bind(1, vals, false)
		x.setF(p, uAlpha, c.f[0])
		x.setF(p, uBeta, c.f[1])
	} else {
		x.bind(0, vals, true)
	}
	x.bind(2, s.rs.tiles[0], false)
	x.bind(3, s.ci.tiles[0], false)
	if mode == spOuter {
		var flags uint32
		for i, t := range c.t[:4] {
			if t != nil {
				flags |= 1 << i
			}
			x.bindOpt(uint32(4+i), t)
		}
		if c.outer.Soft {
			flags |= 16
		}
		if c.outer.Clip {
			flags |= 32
		}
		x.setU(p, uFlags, flags)
		x.setF(p, uAlpha, c.outer.Alpha)
		x.setF(p, uTarget, c.outer.Target)
		x.setF(p, uLo, c.outer.Lo)
		x.setF(p, uHi, c.outer.Hi)
		x.dispatch(p, x.strided(s.rows, 64))
		return
	}
	x.bindOpt(4, c.t[1])
	x.bindOpt(5, s.cs) // the column form, if made (columns)
	x.bindOpt(6, s.ri)
	x.bindOpt(7, s.pm)
	switch mode {
	case spMatVec, spNormRows:
		if mode == spNormRows {
			x.setF(p, uTarget, c.f[0])
		}
		x.dispatch(p, x.strided(s.rows, 64))
	default:
		if mode == spNormCols {
			x.setF(p, uTarget, c.f[0])
		}
		x.dispatch(p, x.strided(s.cols, 64))
	}
}

// sparseScatter runs Propagate: the mask is compacted into a spike list,
// then the stored entries of the listed rows (trans) or columns are added
// to dst atomically, work groups per spike (spikeGroups), or with
// Deterministic in spike order (orderedScatter).
func (x *executor) sparseScatter(c *cmd) {
	s := c.sp
	mode := int(c.op)
	sl := x.spikes(c.t[1])
	if sl == nil {
		return
	}
	p := x.p.sparse[mode]
	switch {
	case x.det:
		p = x.p.sparseOrdered[mode]
	case x.p.sparseAtomic[mode] != nil && !x.b.h.noAtomicFloat:
		p = x.p.sparseAtomic[mode]
	}
	x.setF(p, uAlpha, c.f[0])
	if mode == spPropScatter {
		x.scatterRowTiles(p, s, sl, nil, c.t[0].tiles[0], nil)
		return
	}
	if x.det {
		// As on the cpu: the values of the spiking columns summed per row
		// in spike order (acc), then dst += alpha * sum.
		if !x.ensure(&x.acc, int64(s.rows)*4) {
			return
		}
		x.bind(0, x.acc, true)
		x.bind(1, s.vals.tiles[0], false)
		x.bind(2, s.cs.tiles[0], false)
		x.bind(3, s.ri.tiles[0], false)
		x.bind(4, s.pm.tiles[0], false)
		x.orderedScatter(p, sl, s, true, x.strided(s.rows, 64))
		p = x.p.sparseOrdered[2]
		x.setF(p, uAlpha, c.f[0])
		x.setU(p, uRows, uint32(s.rows))
		x.setU(p, uArgsAt, uint32(sl.args))
		x.bind(0, c.t[0].tiles[0], true)
		x.bind(1, x.acc, true)
		x.bind(5, sl.cnt, true)
		x.dispatchIndirect(p, sl.cnt, 4*sl.args)
		return
	}
	x.bindAccum(0, c.t[0].tiles[0])
	x.bind(1, s.vals.tiles[0], false)
	x.bind(2, s.cs.tiles[0], false)
	x.bind(3, s.ri.tiles[0], false)
	x.bind(4, s.pm.tiles[0], false)
	x.spikeGroups(p, sl, nil, float64(s.NNZ())/float64(max(1, s.cols)))
}

// scatterRowTiles dispatches the row-wise scatter p (propagate_sparse or
// propagate_delayed, MODE 1) of the spikes (listed in sl, or scanned
// from mask: spikeGroups) into out once per tile of s's entries, binding
// that tile's values, column indices and, for delayed propagation,
// delays (binding 7). A matrix in one buffer is one tile. The ordered
// scatter (Deterministic) adds tile after tile, which keeps each
// destination's additions in spike order (a row's entries of a later
// tile come after those of an earlier one).
func (x *executor) scatterRowTiles(p *program, s *sparse, sl *spikeList, mask *tensor, out *glbuf, delays *tensor) {
	nnz, per := s.NNZ(), s.vals.tileElems
	for k := range s.vals.tiles {
		x.setU(p, uTileLo, uint32(k*per))
		x.setU(p, uTileHi, uint32(min(nnz, (k+1)*per)))
		if x.det {
			x.bind(0, out, true)
		} else {
			x.bindAccum(0, out)
		}
		x.bind(1, s.vals.tiles[k], false)
		x.bind(2, s.rs.tiles[0], false)
		x.bind(3, s.ci.tiles[k], false)
		x.bind(4, x.dummy, false)
		if delays != nil {
			x.bind(7, delays.tiles[k], false)
		}
		if x.det {
			x.orderedScatter(p, sl, s, false, 0)
			continue
		}
		x.spikeGroups(p, sl, mask, float64(min(nnz, (k+1)*per)-k*per)/float64(max(1, s.rows)))
	}
}
