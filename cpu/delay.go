package cpu

import (
	"github.com/gomonnto/gomonnto/backend"
)

var _ backend.Delayer = (*Backend)(nil)

// delayJob is one PropagateDelayed call: the workers share the
// destinations, so each ring element is written by one worker only.
type delayJob struct {
	s       *sparse
	v, dl   []float32 // values and delays of the entries
	idx     []int     // spiking sources
	ring    []float32 // D x n
	rows, n int       // D and the number of destinations
	slot    int
	alpha   float32
	trans   bool // sources are the rows of W
}

func (j *delayJob) run(_, lo, hi int) {
	s, v, dl, ring, a := j.s, j.v, j.dl, j.ring, j.alpha
	if j.trans {
		// Rows of the spiking sources, restricted to the destination
		// columns [lo, hi), in spike order.
		for _, i := range j.idx {
			end := s.rowStart[i+1]
			for e := lowerBound(s.colIdx, s.rowStart[i], end, int32(lo)); e < end; e++ {
				c := int(s.colIdx[e])
				if c >= hi {
					break
				}
				ring[backend.DelaySlot(j.slot, j.rows, dl[e])*j.n+c] += float32(a * v[e])
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
			ring[backend.DelaySlot(j.slot, j.rows, dl[e])*j.n+r] += float32(a * v[e])
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
	j := &b.dl
	*j = delayJob{s: s, v: s.vals.data, dl: dl, idx: idx, ring: r, rows: ring.Rows(), n: ring.Cols(), slot: slot, alpha: alpha, trans: trans}
	avg := len(s.colIdx) / max(1, s.rows)
	if !trans {
		avg = len(s.colIdx) / max(1, s.cols)
	}
	b.split(j, j.n, b.parts(len(idx)*max(1, avg), grainMatrix), align)
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
	for i, x := range row {
		d[i] += x
		row[i] = 0
	}
}
