package backend

import (
	"fmt"
	"math"
)

// ReadRequest is one piece of a batched read: Dst receives len(Dst)
// elements of T (a dense tensor, or a sparse matrix's stored values in
// entry order: its Len is NNZ).
//
// Without Index (nil), Dst[k] is element Off + k*Stride: Stride 0 or 1
// reads consecutive elements (a neuron group's variable, a row of a
// matrix), Stride Cols reads a column of a matrix (Off is the column).
// With Index (not nil, len(Index) == len(Dst)), Dst[k] is element
// Off + Index[k] and Stride is ignored (scattered entries of a sparse
// matrix, Off 0).
type ReadRequest struct {
	Dst         []float32
	T           Tensor
	Off, Stride int
	Index       []int32
}

// A BatchReader reads several requests with one wait for the queued
// work (gl: one synchronisation with the GL thread and one transfer from
// the device for the whole batch). Every request is checked with
// CheckReadRequest before anything is read; the first bad one is
// returned as an error and no Dst is changed. A released tensor or one
// of another backend panics, as in Backend.Read.
type BatchReader interface {
	ReadBatch(reqs []ReadRequest) error
}

// ReadBatch reads reqs through b's BatchReader, or, where b has none, with
// one b.Read per contiguous request and per run of consecutive elements
// of a strided or indexed one (each Read may wait for the device). The
// requests are checked first, as a BatchReader does.
func ReadBatch(b Backend, reqs []ReadRequest) error {
	if br, ok := b.(BatchReader); ok {
		return br.ReadBatch(reqs)
	}
	for i := range reqs {
		if err := CheckReadRequest(i, reqs[i]); err != nil {
			return err
		}
	}
	for i := range reqs {
		r := &reqs[i]
		n := len(r.Dst)
		switch {
		case n == 0:
		case r.Index == nil && r.Stride <= 1:
			if err := b.Read(r.Dst, r.T, r.Off); err != nil {
				return err
			}
		case r.Index == nil:
			for k := range r.Dst {
				if err := b.Read(r.Dst[k:k+1], r.T, r.Off+k*r.Stride); err != nil {
					return err
				}
			}
		default:
			for k := 0; k < n; {
				j := k + 1
				for j < n && r.Index[j] == r.Index[j-1]+1 {
					j++
				}
				if err := b.Read(r.Dst[k:j], r.T, r.Off+int(r.Index[k])); err != nil {
					return err
				}
				k = j
			}
		}
	}
	return nil
}

// CheckReadRequest reports whether request number i of a batch reads
// only elements of its tensor: T is not nil, 0 <= Off <= T.Len(), a
// strided request has Stride >= 0 and its last element Off +
// (len(Dst)-1)*max(Stride, 1) below T.Len(), an indexed one has one index
// per element of Dst and every Off + Index[k] in [0, T.Len()). The error
// names the request, the tensor's shape and length, the bad range and how
// to fix it. Backends call it so that every backend rejects the same
// requests with the same message; it does not allocate unless it fails.
func CheckReadRequest(i int, r ReadRequest) error {
	if r.T == nil {
		return fmt.Errorf("backend: ReadBatch: request %d: nil tensor; set T to the tensor to read", i)
	}
	n, size := len(r.Dst), r.T.Len()
	if r.Off < 0 || r.Off > size {
		return fmt.Errorf("backend: ReadBatch: request %d: offset %d is outside tensor %s of %d elements; use an offset in [0, %d]",
			i, r.Off, Shape(r.T), size, size)
	}
	if r.Index != nil {
		if len(r.Index) != n {
			return fmt.Errorf("backend: ReadBatch: request %d: Index has %d elements for %d in Dst; give one index per element of Dst, or a nil Index for a contiguous or strided read",
				i, len(r.Index), n)
		}
		for k, x := range r.Index {
			if e := r.Off + int(x); e < 0 || e >= size {
				return fmt.Errorf("backend: ReadBatch: request %d: Index[%d] = %d selects element %d (Off %d + %d), outside tensor %s of %d elements; indices are relative to Off and must select elements in [0, %d)",
					i, k, x, e, r.Off, x, Shape(r.T), size, size)
			}
		}
		return nil
	}
	if r.Stride < 0 {
		return fmt.Errorf("backend: ReadBatch: request %d: negative stride %d (tensor %s); use Stride 0 or 1 for consecutive elements, a positive step (Cols for a matrix column), or Index for any other order",
			i, r.Stride, Shape(r.T))
	}
	if n == 0 {
		return nil
	}
	s := max(r.Stride, 1)
	if r.Off < size && n-1 <= (size-1-r.Off)/s {
		return nil
	}
	fit := 0 // elements that fit from Off with this stride
	if r.Off < size {
		fit = (size-1-r.Off)/s + 1
	}
	if s == 1 {
		return fmt.Errorf("backend: ReadBatch: request %d: range [%d, %d) is outside tensor %s of %d elements; read at most %d elements from offset %d",
			i, r.Off, r.Off+n, Shape(r.T), size, fit, r.Off)
	}
	last := "(beyond the largest int)"
	if n-1 <= (math.MaxInt-r.Off)/s {
		last = fmt.Sprint(r.Off + (n-1)*s)
	}
	return fmt.Errorf("backend: ReadBatch: request %d: elements %d, %d+%d, ..., %s (%d with stride %d) reach outside tensor %s of %d elements; at most %d fit from offset %d with stride %d (column c of an R x C matrix: Off c, Stride C, R elements)",
		i, r.Off, r.Off, s, last, n, s, Shape(r.T), size, fit, r.Off, s)
}
