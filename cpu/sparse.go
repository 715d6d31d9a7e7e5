package cpu

import (
	"fmt"
	"slices"

	"github.com/gomonnto/gomonnto/backend"
)

var _ backend.Sparser = (*Backend)(nil)

// sparse is a cpu sparse matrix: compressed rows (rowStart, colIdx) with
// the values in vals, and the compressed columns (colStart, rowIdx, perm),
// built by the first column-wise operation (see transposed) so that
// column-wise operations are gathers too.
type sparse struct {
	b          *Backend
	rows, cols int
	vals       *tensor // NNZ x 1; elementwise operations use it
	rowStart   []int64
	colIdx     []int32
	colStart   []int64
	rowIdx     []int32
	perm       []int32 // position in vals of each entry of the column form
	maxRow     int
	acc        []float32 // per-row sums of Propagate without trans (lazily)
	// splits[1] (rows) and splits[0] (columns): where the entries of each
	// source cross the part boundaries of delay rings (partSplit).
	splits [2]struct {
		bounds []int
		tab    []int32
	}
	job sparseJob // dispatching &job does not allocate
}

func (s *sparse) Rows() int                { return s.rows }
func (s *sparse) Cols() int                { return s.cols }
func (s *sparse) Len() int                 { return len(s.colIdx) }
func (s *sparse) NNZ() int                 { return len(s.colIdx) }
func (s *sparse) MaxRowLen() int           { return s.maxRow }
func (s *sparse) Backend() backend.Backend { return s.b }
func (s *sparse) String() string {
	return fmt.Sprintf("cpu sparse matrix %dx%d (%d entries)", s.rows, s.cols, len(s.colIdx))
}

// Structure returns the row starts and column indices (not to be
// modified).
func (s *sparse) Structure() ([]int64, []int32) { return s.rowStart, s.colIdx }

// Release frees the values and the index. Releasing twice is a no-op.
func (s *sparse) Release() {
	s.vals.Release()
	s.acc = nil
}

// NewSparse builds a rows x cols sparse matrix from compressed rows (see
// backend.Sparser). It keeps its own copies of the index; the transposed
// index, which lets column-wise operations run without atomics, is built
// by the first of them (transposed).
func (b *Backend) NewSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) (backend.SparseTensor, error) {
	if b.closed {
		return nil, errClosed
	}
	if err := backend.CheckSparse(rows, cols, rowStart, colIdx, vals); err != nil {
		return nil, err
	}
	data := make([]float32, len(colIdx))
	copy(data, vals)
	return b.adopt(rows, cols, slices.Clone(rowStart), slices.Clone(colIdx), data), nil
}

var _ backend.SparseAdopter = (*Backend)(nil)

// AdoptSparse is NewSparse keeping the slices (backend.SparseAdopter).
func (b *Backend) AdoptSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) (backend.SparseTensor, error) {
	if b.closed {
		return nil, errClosed
	}
	if err := backend.CheckSparse(rows, cols, rowStart, colIdx, vals); err != nil {
		return nil, err
	}
	if len(vals) != len(colIdx) {
		return nil, fmt.Errorf("cpu: AdoptSparse: %d values for %d entries; give one per entry", len(vals), len(colIdx))
	}
	return b.adopt(rows, cols, rowStart, colIdx, vals), nil
}

// adopt makes a sparse matrix of checked slices that it keeps.
func (b *Backend) adopt(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) *sparse {
	nnz := len(colIdx)
	s := &sparse{
		b: b, rows: rows, cols: cols,
		vals:     &tensor{b: b, rows: nnz, cols: 1, data: vals},
		rowStart: rowStart,
		colIdx:   colIdx,
		maxRow:   backend.MaxRowLen(rowStart),
	}
	b.register(nil, s)
	return s
}

// transposed builds the compressed-column index on first use: 12 bytes
// per stored entry (plus the column starts) that a matrix used only
// row-wise, such as a projection propagated from its presynaptic rows,
// never needs. The first column-wise operation on a matrix allocates it;
// every later one reuses it.
func (s *sparse) transposed() {
	if s.colStart == nil {
		s.colStart, s.rowIdx, s.perm = backend.Transpose(s.rows, s.cols, s.rowStart, s.colIdx)
	}
}

// asSparse returns the storage of w if it is a sparse matrix of b.
func (b *Backend) asSparse(op string, w backend.Tensor) (*sparse, bool) {
	s, ok := w.(*sparse)
	if !ok {
		return nil, false
	}
	b.ten(op, w) // owner and release checks
	return s, true
}

// vecOperand panics if t, a vector operand, is a sparse matrix.
func vecOperand(op, what string, t backend.Tensor) {
	if _, ok := t.(*sparse); ok {
		panic(backend.Misusef("cpu", op, "%s is a sparse matrix (%s); vector operands must be dense tensors", what, backend.Shape(t)))
	}
}

// lowerBound returns the first k in [lo, hi) with idx[k] >= v, or hi.
func lowerBound(idx []int32, lo, hi int64, v int32) int64 {
	for lo < hi {
		m := int64(uint64(lo+hi) >> 1)
		if idx[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

type sparseMode uint8

const (
	spPropRows sparseMode = iota // Propagate without trans: rows [lo, hi) of dst
	spPropCols                   // Propagate with trans: columns [lo, hi)
	spMatVec                     // MatVec without trans: rows [lo, hi)
	spMatVecT                    // MatVec with trans: columns [lo, hi)
	spOuter                      // Outer: selected rows [lo, hi)
	spNormRows                   // Normalize rows [lo, hi)
	spNormCols                   // Normalize columns [lo, hi)
)

// sparseJob is one parallel sparse operation; its fields are set per call
// and cleared afterwards.
type sparseJob struct {
	mode        sparseMode
	s           *sparse
	v           []float32 // values
	idx         []int     // spiking rows/columns, or selected rows (nil: all)
	x, y        []float32 // input vector, destination
	cm          []float32 // column mask of Outer (nil: all)
	u, w        []float32 // Outer's u and v
	alpha, beta float32
	p           backend.OuterParams
	target      float64
}

func (j *sparseJob) run(_, lo, hi int) {
	s, v := j.s, j.v
	switch j.mode {
	case spPropCols:
		// Rows of spiking sources, in spike order, restricted to the
		// columns [lo, hi): the same additions as the dense axpy per row.
		y, a := j.y, j.alpha
		for _, i := range j.idx {
			end := s.rowStart[i+1]
			for e := lowerBound(s.colIdx, s.rowStart[i], end, int32(lo)); e < end; e++ {
				c := int(s.colIdx[e])
				if c >= hi {
					break
				}
				y[c] += float32(a * v[e])
			}
		}
	case spPropRows:
		// Columns of spiking sources, in spike order, into per-row sums,
		// then dst += alpha*sum: the dense order of additions.
		acc := s.acc
		for _, c := range j.idx {
			end := s.colStart[c+1]
			for k := lowerBound(s.rowIdx, s.colStart[c], end, int32(lo)); k < end; k++ {
				r := int(s.rowIdx[k])
				if r >= hi {
					break
				}
				acc[r] += v[s.perm[k]]
			}
		}
		y, a := j.y, j.alpha
		for r := lo; r < hi; r++ {
			y[r] += a * acc[r]
			acc[r] = 0
		}
	case spMatVec:
		x := j.x
		for r := lo; r < hi; r++ {
			var sum float32
			for e := s.rowStart[r]; e < s.rowStart[r+1]; e++ {
				sum += v[e] * x[s.colIdx[e]]
			}
			j.store(r, sum)
		}
	case spMatVecT:
		x := j.x
		for c := lo; c < hi; c++ {
			var sum float32
			for k := s.colStart[c]; k < s.colStart[c+1]; k++ {
				sum += v[s.perm[k]] * x[s.rowIdx[k]]
			}
			j.store(c, sum)
		}
	case spOuter:
		for k := lo; k < hi; k++ {
			i := k
			if j.idx != nil {
				i = j.idx[k]
			}
			j.outerRow(i)
		}
	case spNormRows:
		for r := lo; r < hi; r++ {
			row := v[s.rowStart[r]:s.rowStart[r+1]]
			sum := sum64(row)
			if sum == 0 {
				continue
			}
			f := j.target / sum
			for k := range row {
				row[k] = float32(float64(row[k]) * f)
			}
		}
	case spNormCols:
		for c := lo; c < hi; c++ {
			ks := s.perm[s.colStart[c]:s.colStart[c+1]]
			var sum float64
			for _, e := range ks {
				sum += float64(v[e])
			}
			if sum == 0 {
				continue
			}
			f := j.target / sum
			for _, e := range ks {
				v[e] = float32(float64(v[e]) * f)
			}
		}
	}
}

// store sets y[k] = alpha*sum + beta*y[k] (beta == 0 overwrites).
func (j *sparseJob) store(k int, sum float32) {
	out := float32(j.alpha * sum)
	if j.beta != 0 {
		out += float32(j.beta * j.y[k])
	}
	j.y[k] = out
}

// outerRow updates the stored entries of row i whose column is selected.
func (j *sparseJob) outerRow(i int) {
	s, v, p := j.s, j.v, &j.p
	a := p.Alpha
	if j.u != nil {
		a *= j.u[i]
	}
	for e := s.rowStart[i]; e < s.rowStart[i+1]; e++ {
		c := s.colIdx[e]
		if j.cm != nil && j.cm[c] == 0 {
			continue
		}
		vc := float32(1)
		if j.w != nil {
			vc = j.w[c]
		}
		x := v[e]
		if p.Soft {
			x += a * vc * (p.Target - x)
		} else {
			x += a * vc
		}
		if p.Clip {
			x = min(max(x, p.Lo), p.Hi)
		}
		v[e] = x
	}
}

// sparseMatVec is MatVec with a sparse W: a gather per row (or, with
// trans, per column through the transposed index).
func (b *Backend) sparseMatVec(dst backend.Tensor, s *sparse, trans bool, x backend.Tensor, alpha, beta float32) {
	vecOperand("MatVec", "the destination", dst)
	vecOperand("MatVec", "the input vector", x)
	d, xs := b.ten("MatVec", dst), b.ten("MatVec", x)
	backend.CheckMatVec("MatVec", dst, s, trans, x)
	if alpha == 0 || len(xs) == 0 || len(d) == 0 {
		scaleInPlace(d, beta)
		return
	}
	j := &s.job
	*j = sparseJob{mode: spMatVec, s: s, v: s.vals.data, x: xs, y: d, alpha: alpha, beta: beta}
	n := s.rows
	if trans {
		s.transposed()
		j.mode, n = spMatVecT, s.cols
	}
	b.split(j, n, b.parts(len(s.colIdx)+n, grainMatrix), align)
	*j = sparseJob{}
}

// sparsePropagate is Propagate with a sparse W. With trans it adds the
// stored entries of the spiking rows (columns split among the workers);
// without, it sums the stored entries of the spiking columns through the
// transposed index. Both visit only spiking rows or columns and add in
// spike order, as the dense form does.
func (b *Backend) sparsePropagate(dst backend.Tensor, s *sparse, trans bool, mask backend.Tensor, alpha float32) {
	vecOperand("Propagate", "the destination", dst)
	vecOperand("Propagate", "the mask", mask)
	d, m := b.ten("Propagate", dst), b.ten("Propagate", mask)
	if trans {
		backend.CheckVecLen("Propagate", "destination", dst, s.cols, false)
		backend.CheckVecLen("Propagate", "mask", mask, s.rows, false)
	} else {
		backend.CheckVecLen("Propagate", "destination", dst, s.rows, false)
		backend.CheckVecLen("Propagate", "mask", mask, s.cols, false)
	}
	idx := b.spikesOf(mask, m, true)
	b.noteSpikes(mask, dst, idx)
	if len(idx) == 0 || len(d) == 0 {
		return
	}
	j := &s.job
	*j = sparseJob{mode: spPropCols, s: s, v: s.vals.data, idx: idx, y: d, alpha: alpha}
	work := len(idx) * max(1, len(s.colIdx)/max(1, s.rows))
	if trans {
		b.split(j, s.cols, b.parts(work, grainMatrix), align)
	} else {
		if len(s.acc) != s.rows {
			s.acc = make([]float32, s.rows) // once per matrix
		}
		s.transposed()
		j.mode = spPropRows
		work = len(idx) * max(1, len(s.colIdx)/max(1, s.cols))
		b.split(j, s.rows, b.parts(work+s.rows, grainMatrix), align)
	}
	*j = sparseJob{}
}

// sparseOuter is Outer with a sparse W: only stored entries change.
func (b *Backend) sparseOuter(s *sparse, rowMask, colMask, u, v backend.Tensor, p backend.OuterParams) {
	for _, t := range []backend.Tensor{rowMask, colMask, u, v} {
		if t != nil {
			vecOperand("Outer", "a mask or factor", t)
		}
	}
	rm, cm := b.opt("Outer", rowMask), b.opt("Outer", colMask)
	us, vs := b.opt("Outer", u), b.opt("Outer", v)
	backend.CheckVecLen("Outer", "row mask", rowMask, s.rows, true)
	backend.CheckVecLen("Outer", "column mask", colMask, s.cols, true)
	backend.CheckVecLen("Outer", "u", u, s.rows, true)
	backend.CheckVecLen("Outer", "v", v, s.cols, true)
	var ri []int
	nr := s.rows
	if rm != nil {
		ri = collect(&b.idxA, rm)
		nr = len(ri)
	}
	if nr == 0 || len(s.colIdx) == 0 {
		return
	}
	j := &s.job
	*j = sparseJob{mode: spOuter, s: s, v: s.vals.data, idx: ri, cm: cm, u: us, w: vs, p: p}
	b.split(j, nr, b.parts(nr*max(1, s.maxRow), grainMatrix), 1)
	*j = sparseJob{}
}

// sparseNormalize is Normalize with a sparse W, over the stored entries.
func (b *Backend) sparseNormalize(s *sparse, axis backend.Axis, target float32) {
	if axis != backend.Rows && axis != backend.Cols {
		panic(backend.Misusef("cpu", "Normalize", "invalid axis %d; use backend.Rows or backend.Cols", axis))
	}
	if len(s.colIdx) == 0 {
		return
	}
	j := &s.job
	*j = sparseJob{mode: spNormRows, s: s, v: s.vals.data, target: float64(target)}
	n := s.rows
	if axis == backend.Cols {
		s.transposed()
		j.mode, n = spNormCols, s.cols
	}
	b.split(j, n, b.parts(len(s.colIdx), grainMatrix), 1)
	*j = sparseJob{}
}
