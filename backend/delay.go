package backend

import "fmt"

// Delayer is implemented by backends that propagate spikes through sparse
// synapses with a delay per synapse. The delayed input of a destination
// group lives in a ring buffer: a D x n tensor (D = the longest delay + 1,
// n = the number of destinations) whose row s holds what arrives at the
// steps t with t mod D == s.
//
// A step t (slot = t mod D) is PropagateDelayed, which adds what the
// spikes of this step send into the rows they arrive in, then TakeSlot,
// which moves row slot (everything that arrives now) into the group's
// input and clears it. A synapse with delay k delivers exactly k steps
// after the spike (k = 0: in the same step).
type Delayer interface {
	// PropagateDelayed adds, for every source j with mask[j] != 0 and
	// every stored entry e of W that connects j to destination i, alpha *
	// W[e] to ring[((slot + k) mod D) * n + i], where k = delays[e]
	// (delays has one element per stored entry of W, in entry order, and
	// holds whole numbers of steps; they are truncated to integers and
	// clamped to [0, D-1]). Without trans the sources are W's columns and
	// the destinations its rows (n = W.Rows); with trans the sources are
	// its rows (n = W.Cols), as in Propagate. The order of the additions
	// into one element may differ between backends.
	PropagateDelayed(ring Tensor, slot int, w SparseTensor, trans bool, delays, mask Tensor, alpha float32)
	// TakeSlot adds row slot of ring (a D x n tensor) to dst (n
	// elements) and sets that row to zero.
	TakeSlot(dst, ring Tensor, slot int)
}

// CheckPropagateDelayed panics unless the operands of PropagateDelayed fit
// together. Backends call it so that every backend panics the same way.
func CheckPropagateDelayed(ring Tensor, slot int, w SparseTensor, trans bool, delays, mask Tensor) {
	const op = "PropagateDelayed"
	if ring == nil || w == nil || delays == nil || mask == nil {
		panic(fmt.Sprintf("backend: %s: nil tensor (ring %s, W %s, delays %s, mask %s)", op, Shape(ring), Shape(w), Shape(delays), Shape(mask)))
	}
	nDst, nSrc := w.Rows(), w.Cols()
	if trans {
		nDst, nSrc = nSrc, nDst
	}
	if ring.Rows() < 1 || ring.Cols() != nDst {
		panic(fmt.Sprintf("backend: %s: ring buffer %s does not fit W %s (trans=%t): want D x %d with D >= 1 (D = longest delay + 1)", op, Shape(ring), Shape(w), trans, nDst))
	}
	if slot < 0 || slot >= ring.Rows() {
		panic(fmt.Sprintf("backend: %s: slot %d is outside [0, %d) (the rows of ring buffer %s); pass the step number mod D", op, slot, ring.Rows(), Shape(ring)))
	}
	if IsSparse(delays) {
		panic(fmt.Sprintf("backend: %s: delays is a sparse matrix (%s); give a dense tensor with one delay per stored entry of W", op, Shape(delays)))
	}
	if delays.Len() != w.NNZ() {
		panic(fmt.Sprintf("backend: %s: delays has %d elements, W has %d stored entries; give one delay per stored entry, in entry order", op, delays.Len(), w.NNZ()))
	}
	CheckVecLen(op, "mask", mask, nSrc, false)
}

// CheckTakeSlot panics unless the operands of TakeSlot fit together.
func CheckTakeSlot(dst, ring Tensor, slot int) {
	const op = "TakeSlot"
	if dst == nil || ring == nil {
		panic(fmt.Sprintf("backend: %s: nil tensor (dst %s, ring %s)", op, Shape(dst), Shape(ring)))
	}
	if dst.Len() != ring.Cols() {
		panic(fmt.Sprintf("backend: %s: dst %s has %d elements, ring buffer %s has rows of %d", op, Shape(dst), dst.Len(), Shape(ring), ring.Cols()))
	}
	if slot < 0 || slot >= ring.Rows() {
		panic(fmt.Sprintf("backend: %s: slot %d is outside [0, %d) (the rows of ring buffer %s)", op, slot, ring.Rows(), Shape(ring)))
	}
}

// DelaySlot returns the ring row that a contribution with delay value d
// goes to when sent at slot in a ring of D = rows rows: (slot +
// clamp(int(d), 0, D-1)) mod D, NaN reading as 0. It is the reference definition of PropagateDelayed's
// indexing.
func DelaySlot(slot, rows int, d float32) int {
	k := 0
	switch {
	case d != d || d <= 0: // NaN and non-positive delays read as 0
	case d >= float32(rows-1):
		k = rows - 1
	default:
		k = int(d)
	}
	s := slot + k
	if s >= rows {
		s -= rows
	}
	return s
}
