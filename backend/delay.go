package backend

import "fmt"

// Delayer is implemented by backends that propagate spikes through sparse
// synapses with a delay per synapse. The delayed input of a destination
// group waits in a DelayRing: the input of n destinations over D steps (D
// = the longest delay + 1), whose slot s holds what arrives at the steps t
// with t mod D == s.
//
// A step t (slot = t mod D) is PropagateDelayed, which sends what the
// spikes of this step deliver into the slots they arrive in, then TakeSlot,
// which adds slot (everything that arrives now) to the group's input and
// empties it. A synapse with delay k delivers exactly k steps after the
// spike (k = 0: in the same step).
type Delayer interface {
	// NewDelayRing returns an empty ring of depth D >= 1 slots for n >= 1
	// destinations.
	NewDelayRing(depth, n int) (DelayRing, error)
	// PropagateDelayed sends, for every source j with mask[j] != 0 and
	// every stored entry e of W that connects j to destination i, alpha *
	// W[e] to destination i of slot (slot + k) mod D, where k = delays[e]
	// (delays has one element per stored entry of W, in entry order, and
	// holds whole numbers of steps; they are truncated to integers and
	// clamped to [0, D-1]). Without trans the sources are W's columns and
	// the destinations its rows (n = W.Rows); with trans the sources are
	// its rows (n = W.Cols), as in Propagate. W's values are those of the
	// call: a later change of W does not alter what is in flight.
	PropagateDelayed(ring DelayRing, slot int, w SparseTensor, trans bool, delays, mask Tensor, alpha float32)
	// TakeSlot adds what slot of ring holds for each destination to dst
	// (n elements) and empties the slot. The order of the additions into
	// one element (the contributions summed first, or added one by one
	// in the order they were sent) may differ between backends.
	TakeSlot(dst Tensor, ring DelayRing, slot int)
}

// DelayRing is a backend's buffer of delayed input (see Delayer). Its
// storage is the backend's own: a D x n tensor on a GPU, lists of pending
// contributions on the cpu. Read shows its contents.
type DelayRing interface {
	// Depth is D, the number of slots.
	Depth() int
	// Len is n, the number of destinations.
	Len() int
	// Read copies the input in flight into dst (D*n elements, row-major):
	// element s*n + i is the sum of what slot s holds for destination i.
	Read(dst []float32) error
	// Release frees the ring; using it afterwards panics. Releasing twice
	// is a no-op.
	Release()
}

// CheckNewDelayRing returns an error unless a ring of depth x n can be
// made.
func CheckNewDelayRing(depth, n int) error {
	if depth < 1 || n < 1 || depth > 1<<20+1 {
		return fmt.Errorf("backend: NewDelayRing: %d slots x %d destinations; a ring needs 1 to %d slots (the longest delay in steps + 1) and at least one destination", depth, n, 1<<20+1)
	}
	return nil
}

// CheckRingRead returns an error unless dst can take the contents of a
// ring of depth x n.
func CheckRingRead(dst []float32, depth, n int) error {
	if len(dst) != depth*n {
		return fmt.Errorf("backend: DelayRing.Read: dst has %d elements, the ring holds %d slots x %d destinations = %d", len(dst), depth, n, depth*n)
	}
	return nil
}

// CheckPropagateDelayed panics unless the operands of PropagateDelayed fit
// together. Backends call it so that every backend panics the same way.
func CheckPropagateDelayed(ring DelayRing, slot int, w SparseTensor, trans bool, delays, mask Tensor) {
	const op = "PropagateDelayed"
	if ring == nil || w == nil || delays == nil || mask == nil {
		panic(fmt.Sprintf("backend: %s: nil operand (ring %s, W %s, delays %s, mask %s)", op, RingShape(ring), Shape(w), Shape(delays), Shape(mask)))
	}
	nDst, nSrc := w.Rows(), w.Cols()
	if trans {
		nDst, nSrc = nSrc, nDst
	}
	if ring.Len() != nDst {
		panic(fmt.Sprintf("backend: %s: ring buffer %s does not fit W %s (trans=%t): want one for %d destinations", op, RingShape(ring), Shape(w), trans, nDst))
	}
	if slot < 0 || slot >= ring.Depth() {
		panic(fmt.Sprintf("backend: %s: slot %d is outside [0, %d) (the slots of ring buffer %s); pass the step number mod D", op, slot, ring.Depth(), RingShape(ring)))
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
func CheckTakeSlot(dst Tensor, ring DelayRing, slot int) {
	const op = "TakeSlot"
	if dst == nil || ring == nil {
		panic(fmt.Sprintf("backend: %s: nil operand (dst %s, ring %s)", op, Shape(dst), RingShape(ring)))
	}
	if dst.Len() != ring.Len() {
		panic(fmt.Sprintf("backend: %s: dst %s has %d elements, ring buffer %s has %d destinations", op, Shape(dst), dst.Len(), RingShape(ring), ring.Len()))
	}
	if slot < 0 || slot >= ring.Depth() {
		panic(fmt.Sprintf("backend: %s: slot %d is outside [0, %d) (the slots of ring buffer %s)", op, slot, ring.Depth(), RingShape(ring)))
	}
}

// RingShape describes a ring for messages: "D slots x n", or "nil".
func RingShape(r DelayRing) string {
	if r == nil {
		return "nil"
	}
	return fmt.Sprintf("%d slots x %d", r.Depth(), r.Len())
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
