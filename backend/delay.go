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
	// NewDelays stores the delays of W's synapses for PropagateDelayed:
	// steps[e] whole steps (0 to MaxDelaySteps) for stored entry e, in
	// entry order. They are fixed: to change them, make new ones. The
	// backend keeps them in its own form (the cpu in one byte each when
	// all are below 256 steps).
	NewDelays(w SparseTensor, steps []int32) (Delays, error)
	// PropagateDelayed sends, for every source j with mask[j] != 0 and
	// every stored entry e of W that connects j to destination i, alpha *
	// W[e] to destination i of slot (slot + k) mod D, where k is the delay
	// of entry e (NewDelays with this W) clamped to D-1. Without trans the
	// sources are W's columns and the destinations its rows (n = W.Rows);
	// with trans the sources are its rows (n = W.Cols), as in Propagate.
	// W's values are those of the call: a later change of W does not
	// alter what is in flight.
	PropagateDelayed(ring DelayRing, slot int, w SparseTensor, trans bool, delays Delays, mask Tensor, alpha float32)
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

// A StrategyReporter says which named strategy a backend used to send a
// projection's spikes (Options.Propagation forces one where it applies).
type StrategyReporter interface {
	// Strategy names how the last PropagateDelayed with d sent its spikes,
	// "" before the first that had any.
	Strategy(d Delays) string
}

// Delays is a backend's fixed table of per-synapse delays in steps
// (Delayer.NewDelays).
type Delays interface {
	// Len is the number of delays: the stored entries of their W.
	Len() int
	// Read copies the delays, in entry order, into dst (Len elements).
	Read(dst []int32) error
	// Release frees the table; using it afterwards panics. Releasing
	// twice is a no-op.
	Release()
}

// MaxDelaySteps is the longest delay NewDelays takes.
const MaxDelaySteps = 1 << 20

// CheckNewDelays returns an error unless steps fit w.
func CheckNewDelays(w SparseTensor, steps []int32) error {
	if w == nil {
		return fmt.Errorf("backend: NewDelays: nil W")
	}
	if len(steps) != w.NNZ() {
		return fmt.Errorf("backend: NewDelays: %d delays for W %s with %d stored entries; give one per stored entry, in entry order", len(steps), Shape(w), w.NNZ())
	}
	for e, k := range steps {
		if k < 0 || k > MaxDelaySteps {
			return fmt.Errorf("backend: NewDelays: entry %d has delay %d steps; delays must lie in [0, %d]", e, k, MaxDelaySteps)
		}
	}
	return nil
}

// CheckDelaysRead returns an error unless dst can take n delays.
func CheckDelaysRead(dst []int32, n int) error {
	if len(dst) != n {
		return fmt.Errorf("backend: Delays.Read: dst has %d elements, the table holds %d delays", len(dst), n)
	}
	return nil
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
func CheckPropagateDelayed(ring DelayRing, slot int, w SparseTensor, trans bool, delays Delays, mask Tensor) {
	const op = "PropagateDelayed"
	if ring == nil || w == nil || delays == nil || mask == nil {
		panic(Misusef("backend", op, "nil operand (ring %s, W %s, delays %v, mask %s)", RingShape(ring), Shape(w), delays != nil, Shape(mask)))
	}
	nDst, nSrc := w.Rows(), w.Cols()
	if trans {
		nDst, nSrc = nSrc, nDst
	}
	if ring.Len() != nDst {
		panic(Misusef("backend", op, "ring buffer %s does not fit W %s (trans=%t): want one for %d destinations", RingShape(ring), Shape(w), trans, nDst))
	}
	if slot < 0 || slot >= ring.Depth() {
		panic(Misusef("backend", op, "slot %d is outside [0, %d) (the slots of ring buffer %s); pass the step number mod D", slot, ring.Depth(), RingShape(ring)))
	}
	if delays.Len() != w.NNZ() {
		panic(Misusef("backend", op, "%d delays, W has %d stored entries; make them with NewDelays for this W", delays.Len(), w.NNZ()))
	}
	CheckVecLen(op, "mask", mask, nSrc, false)
}

// CheckTakeSlot panics unless the operands of TakeSlot fit together.
func CheckTakeSlot(dst Tensor, ring DelayRing, slot int) {
	const op = "TakeSlot"
	if dst == nil || ring == nil {
		panic(Misusef("backend", op, "nil operand (dst %s, ring %s)", Shape(dst), RingShape(ring)))
	}
	if dst.Len() != ring.Len() {
		panic(Misusef("backend", op, "dst %s has %d elements, ring buffer %s has %d destinations", Shape(dst), dst.Len(), RingShape(ring), ring.Len()))
	}
	if slot < 0 || slot >= ring.Depth() {
		panic(Misusef("backend", op, "slot %d is outside [0, %d) (the slots of ring buffer %s)", slot, ring.Depth(), RingShape(ring)))
	}
}

// RingShape describes a ring for messages: "D slots x n", or "nil".
func RingShape(r DelayRing) string {
	if r == nil {
		return "nil"
	}
	return fmt.Sprintf("%d slots x %d", r.Depth(), r.Len())
}

// DelaySlot returns the ring slot that a contribution with a delay of k
// steps goes to when sent at slot in a ring of D = rows slots: (slot +
// min(k, D-1)) mod D. It is the reference definition of PropagateDelayed's
// indexing.
func DelaySlot(slot, rows, k int) int {
	s := slot + min(k, rows-1)
	if s >= rows {
		s -= rows
	}
	return s
}
