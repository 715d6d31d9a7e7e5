package backend

import (
	"fmt"
	"math"
)

// Sparser is implemented by backends that store sparse matrices. A sparse
// matrix is interchangeable with a dense one of the same shape in MatVec,
// Propagate, Outer and Normalize: entries that are not stored read as 0
// (and Outer and Normalize change only the stored entries).
type Sparser interface {
	// NewSparse builds a rows x cols sparse matrix in compressed row form:
	// row r holds the entries colIdx[rowStart[r]:rowStart[r+1]] (strictly
	// increasing column numbers) with the values vals[rowStart[r]:
	// rowStart[r+1]]. When rows are sources (SxD layout) this is
	// presynaptic-major. rowStart has rows+1 elements, starts at 0 and ends
	// at len(colIdx); vals is nil (zeros) or as long as colIdx. The
	// backend copies what it needs. A malformed structure is returned as an
	// error (see CheckSparse).
	NewSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) (SparseTensor, error)
}

// A SparseAdopter builds sparse matrices from slices it may keep: the
// caller hands them over and must not use them afterwards. For matrices
// of hundreds of millions of entries this saves the copy (8 bytes per
// entry on the cpu) at the peak of a model's construction.
type SparseAdopter interface {
	// AdoptSparse is NewSparse (vals not nil) without the copy.
	AdoptSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) (SparseTensor, error)
}

// SparseTensor is a sparse matrix. Its Rows and Cols are the logical
// shape; its Len is NNZ: elementwise operations (Fill, Clip, Affine,
// Random, Read, Write, Reduce, fused kernels, ...) act on the stored
// values, in row-major order of the entries, and mix with dense tensors
// of NNZ elements.
type SparseTensor interface {
	Tensor
	// NNZ is the number of stored entries.
	NNZ() int
	// MaxRowLen is the length of the longest row.
	MaxRowLen() int
	// Structure returns the row starts and column indices of the matrix
	// (host copies kept by the backend; callers must not modify them).
	Structure() (rowStart []int64, colIdx []int32)
}

// IsSparse reports whether t is a sparse matrix.
func IsSparse(t Tensor) bool {
	_, ok := t.(SparseTensor)
	return ok
}

// CheckSparse reports whether rowStart, colIdx and vals describe a valid
// rows x cols sparse matrix for Sparser.NewSparse. Backends call it so
// that every backend rejects the same structures with the same message.
func CheckSparse(rows, cols int, rowStart []int64, colIdx []int32, vals []float32) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("backend: NewSparse: invalid shape %dx%d: rows and cols must not be negative", rows, cols)
	}
	if cols > math.MaxInt32 {
		return fmt.Errorf("backend: NewSparse: %d columns do not fit in int32 column indices; use at most %d", cols, math.MaxInt32)
	}
	if len(rowStart) != rows+1 {
		return fmt.Errorf("backend: NewSparse: rowStart has %d elements, want rows+1 = %d", len(rowStart), rows+1)
	}
	nnz := int64(len(colIdx))
	if nnz > math.MaxInt32 {
		return fmt.Errorf("backend: NewSparse: %d entries exceed the limit of %d per sparse matrix; split the synapse group", nnz, math.MaxInt32)
	}
	if rowStart[0] != 0 || rowStart[rows] != nnz {
		return fmt.Errorf("backend: NewSparse: rowStart runs from %d to %d, want 0 to len(colIdx) = %d", rowStart[0], rowStart[rows], nnz)
	}
	if vals != nil && len(vals) != len(colIdx) {
		return fmt.Errorf("backend: NewSparse: %d values for %d column indices; give one value per entry, or nil for zeros", len(vals), len(colIdx))
	}
	for r := range rows {
		lo, hi := rowStart[r], rowStart[r+1]
		if hi < lo {
			return fmt.Errorf("backend: NewSparse: rowStart decreases at row %d (%d -> %d)", r, lo, hi)
		}
		prev := int32(-1)
		for e := lo; e < hi; e++ {
			c := colIdx[e]
			if c < 0 || int(c) >= cols {
				return fmt.Errorf("backend: NewSparse: row %d: column index %d is outside [0, %d)", r, c, cols)
			}
			if c <= prev {
				return fmt.Errorf("backend: NewSparse: row %d: column indices must increase strictly (%d after %d); sort each row and drop duplicates", r, c, prev)
			}
			prev = c
		}
	}
	return nil
}

// MaxRowLen returns the length of the longest row of a compressed row
// structure.
func MaxRowLen(rowStart []int64) int {
	m := int64(0)
	for r := 1; r < len(rowStart); r++ {
		m = max(m, rowStart[r]-rowStart[r-1])
	}
	return int(m)
}

// Transpose builds the compressed column form of a rows x cols structure:
// column c holds the entries colStart[c]:colStart[c+1] of rowIdx (row
// numbers, increasing) and perm, the positions of those entries in the
// row form (so that the value of the entry is vals[perm[k]]).
func Transpose(rows, cols int, rowStart []int64, colIdx []int32) (colStart []int64, rowIdx, perm []int32) {
	nnz := len(colIdx)
	colStart = make([]int64, cols+1)
	for _, c := range colIdx {
		colStart[c+1]++
	}
	for c := range cols {
		colStart[c+1] += colStart[c]
	}
	next := make([]int64, cols)
	copy(next, colStart[:cols])
	rowIdx = make([]int32, nnz)
	perm = make([]int32, nnz)
	for r := range rows {
		for e := rowStart[r]; e < rowStart[r+1]; e++ {
			c := colIdx[e]
			k := next[c]
			next[c]++
			rowIdx[k] = int32(r)
			perm[k] = int32(e)
		}
	}
	return colStart, rowIdx, perm
}
