package cpu

import (
	"github.com/gomonnto/gomonnto/backend"
	"gonum.org/v1/gonum/blas/blas32"
)

var _ backend.Delayer = (*Backend)(nil)

// delayJob is one PropagateDelayed call: the workers share the
// destinations, so each ring element is written by one worker only.
type delayJob struct {
	s       *sparse
	v, dl   []float32 // values and delays of the entries
	idx     []int     // spiking sources
	ring    []float32 // D x n
	offs    []int     // offs[k]: the ring offset of the row delay k lands in
	rows, n int       // D and the number of destinations
	alpha   float32
	trans   bool // sources are the rows of W
}

// delayChunk is how many entries delayJob prefetches at a time (128:
// PD14 full scale rtf 15.0, against 15.9 with 32).
const delayChunk = 128

// delayOffsets fills offs[:rows] with the start of the ring row that a
// delay of k steps sent at slot lands in: ((slot + k) mod rows) * n.
func delayOffsets(offs []int, slot, rows, n int) {
	for k := range offs[:rows] {
		s := slot + k
		if s >= rows {
			s -= rows
		}
		offs[k] = s * n
	}
}

// delayStep is backend.DelaySlot's clamp of a delay value to a whole
// number of steps in [0, maxk], without the unpredictable wrap-around
// branch: NaN and values <= 0 give 0.
func delayStep(d, maxk float32) int {
	if d > 0 {
		return int(min(d, maxk))
	}
	return 0
}

// run adds the entries of the spiking sources that land in the
// destinations [lo, hi). The ring row of every entry comes from offs, so
// the loop has no data-dependent branch: delays are random, and a branch
// on the wrap-around of slot + delay would be mispredicted half the time,
// draining the pipeline of the overlapped cache misses that the scattered
// ring writes are made of.
func (j *delayJob) run(_, lo, hi int) {
	s, v, dl, ring, a, offs := j.s, j.v, j.dl, j.ring, j.alpha, j.offs
	maxk := float32(j.rows - 1)
	if j.trans {
		// Rows of the spiking sources, restricted to the destination
		// columns [lo, hi), in spike order.
		// The ring elements are scattered cache misses: each chunk of
		// entries has its ring positions computed and prefetched before
		// the additions.
		var at [delayChunk]int
		for _, i := range j.idx {
			// Each search is a chain of cache misses in a large matrix:
			// the first and last chunks need only one of the two.
			e, end := s.rowStart[i], s.rowStart[i+1]
			if lo > 0 {
				e = lowerBound(s.colIdx, e, end, int32(lo))
			}
			if hi < j.n {
				end = lowerBound(s.colIdx, e, end, int32(hi))
			}
			for e < end {
				n := int(min(end-e, delayChunk))
				ci, dc, vc := s.colIdx[e:e+int64(n)], dl[e:e+int64(n)], v[e:e+int64(n)]
				for k := range n {
					at[k] = offs[delayStep(dc[k], maxk)] + int(ci[k])
				}
				prefetchCols(&ring[0], at[:n])
				for k := range n {
					ring[at[k]] += float32(a * vc[k])
				}
				e += int64(n)
			}
		}
		return
	}
	// Columns of the spiking sources through the transposed index,
	// restricted to the destination rows [lo, hi).
	for _, c := range j.idx {
		end := s.colStart[c+1]
		for k := lowerBound(s.rowIdx, s.colStart[c], end, int32(lo)); k < end; k++ {
			r := int(s.rowIdx[k])
			if r >= hi {
				break
			}
			e := s.perm[k]
			ring[offs[delayStep(dl[e], maxk)]+r] += float32(a * v[e])
		}
	}
}

// PropagateDelayed adds alpha * W[e] of the stored entries e of the
// spiking sources to the ring buffer row that their delay sends them to
// (see backend.Delayer). The additions into one element are made in
// spike order.
func (b *Backend) PropagateDelayed(ring backend.Tensor, slot int, w backend.SparseTensor, trans bool, delays, mask backend.Tensor, alpha float32) {
	b.live("PropagateDelayed")
	s, ok := b.asSparse("PropagateDelayed", w)
	if !ok {
		b.badTensor("PropagateDelayed", w)
	}
	vecOperand("PropagateDelayed", "the ring buffer", ring)
	vecOperand("PropagateDelayed", "the mask", mask)
	r, dl, m := b.ten("PropagateDelayed", ring), b.ten("PropagateDelayed", delays), b.ten("PropagateDelayed", mask)
	backend.CheckPropagateDelayed(ring, slot, w, trans, delays, mask)
	idx := collect(&b.idxA, m)
	if len(idx) == 0 || len(s.colIdx) == 0 {
		return
	}
	if !trans {
		s.transposed()
	}
	rows := ring.Rows()
	if cap(b.delayOffs) < rows {
		b.delayOffs = make([]int, rows) // once per longest ring
	}
	offs := b.delayOffs[:rows]
	delayOffsets(offs, slot, rows, ring.Cols())
	j := &b.dl
	*j = delayJob{s: s, v: s.vals.data, dl: dl, idx: idx, ring: r, offs: offs, rows: rows, n: ring.Cols(), alpha: alpha, trans: trans}
	avg := len(s.colIdx) / max(1, s.rows)
	if !trans {
		avg = len(s.colIdx) / max(1, s.cols)
	}
	// Every event is a scattered ring write (a cache miss at scale),
	// counted as a cache line, and every chunk searches each spiking row
	// for its destination range: one chunk per thread.
	k := b.parts(len(idx)*max(1, avg)*16, grainMatrix)
	b.splitChunks(j, j.n, k, align, k)
	*j = delayJob{}
}

// TakeSlot adds row slot of the ring buffer to dst and zeroes the row.
func (b *Backend) TakeSlot(dst, ring backend.Tensor, slot int) {
	b.live("TakeSlot")
	vecOperand("TakeSlot", "the destination", dst)
	vecOperand("TakeSlot", "the ring buffer", ring)
	d, r := b.ten("TakeSlot", dst), b.ten("TakeSlot", ring)
	backend.CheckTakeSlot(dst, ring, slot)
	n := len(d)
	row := r[slot*n : slot*n+n]
	// Vector add (alpha = 1: exactly d[i] + row[i]), then a memclr.
	blas32.Axpy(1, blas32.Vector{N: n, Inc: 1, Data: row}, blas32.Vector{N: n, Inc: 1, Data: d})
	clear(row)
}
