package backend

import (
	"fmt"
	"weak"
)

// An EventGatherer records the non-zero elements (spikes) of masks where
// the masks are: the cpu straight from the mask into index lists, a GPU
// by compaction on the device, read back in blocks. Recording then costs
// what is recorded (the spikes), not the size of the mask.
type EventGatherer interface {
	// NewEventLog returns an empty log for masks of n >= 1 elements that
	// holds up to records >= 1 records between drains.
	NewEventLog(n, records int) (EventLog, error)
}

// EventLog collects, record after record, the indices of the non-zero
// elements of masks of Len elements.
type EventLog interface {
	// Len is the number of elements of the masks.
	Len() int
	// Gather queues the collection of the indices i with mask[i] != 0 as
	// the next record. A log holds the records it was made for: Gather
	// on a full log panics (drain it first).
	Gather(mask Tensor)
	// Records is the number of records gathered since the last Drain.
	Records() int
	// Drain waits for the queued work, calls f for each record in order
	// with its indices in increasing order (idx is reused after f
	// returns) and empties the log.
	Drain(f func(record int, idx []int32)) error
	// Release frees the log. Releasing twice is a no-op.
	Release()
}

// CheckGather panics unless mask can be gathered into a log of n elements
// holding records of capacity records.
func CheckGather(mask Tensor, n, records, capacity int) {
	if mask == nil {
		panic(Misusef("backend", "EventLog.Gather", "nil mask"))
	}
	if mask.Len() != n {
		panic(Misusef("backend", "EventLog.Gather", "mask %s has %d elements, the log records masks of %d", Shape(mask), mask.Len(), n))
	}
	if records >= capacity {
		panic(Misusef("backend", "EventLog.Gather", "the log holds %d records; Drain it first", capacity))
	}
}

// CheckNewEventLog returns an error unless a log of n elements and
// records records can be made.
func CheckNewEventLog(n, records int) error {
	if n < 1 || records < 1 {
		return fmt.Errorf("backend: NewEventLog: masks of %d elements, %d records; both must be at least 1", n, records)
	}
	return nil
}

// A TensorLister lists the live tensors (dense and sparse) it has made,
// in the order it made them. Checkpoints use it to save and restore every
// tensor of a network, its behaviours' private ones included, and to
// match them with the tensors of a network built again by the same
// program.
type TensorLister interface {
	Tensors() []Tensor
}

// RingState is the input in flight in a DelayRing, in the form a backend
// keeps it: either Dense (Depth x N sums, row-major) or Lists, the
// contributions of each slot of each part in the order they are added
// (bit-identical continuation needs that order, since float additions do
// not commute in rounding).
type RingState struct {
	Depth, N int
	// Dense holds the sums per slot and destination (nil with Lists).
	Dense []float32
	// Bounds cuts the destinations into parts: part p holds [Bounds[p],
	// Bounds[p+1]) (the cpu's part 0 may hold contributions to any
	// destination, sent by a task for the whole ring). The contributions of slot s of part p are entries
	// Start[p*Depth+s] to Start[p*Depth+s+1] of Index and Value, in the
	// order added.
	Bounds []int
	Start  []int64
	Index  []int32
	Value  []float32
	// Hints are a backend's per-list scheduling state (the cpu: a list
	// sent by a whole-ring task, the work estimate of taking it); a
	// backend ignores hints it does not know.
	Hints []int64
}

// Sums returns the state as Depth x N sums (Dense, or the lists added in
// their order).
func (s *RingState) Sums() []float32 {
	if s.Dense != nil {
		return s.Dense
	}
	out := make([]float32, s.Depth*s.N)
	parts := len(s.Bounds) - 1
	for p := range parts {
		for slot := range s.Depth {
			l := p*s.Depth + slot
			row := out[slot*s.N : (slot+1)*s.N]
			for e := s.Start[l]; e < s.Start[l+1]; e++ {
				row[s.Index[e]] += s.Value[e]
			}
		}
	}
	return out
}

// Check returns an error unless s is a well-formed state of a ring of
// depth x n.
func (s *RingState) Check(depth, n int) error {
	if s.Depth != depth || s.N != n {
		return fmt.Errorf("ring state of %d slots x %d does not fit a ring of %d slots x %d", s.Depth, s.N, depth, n)
	}
	if s.Dense != nil {
		if len(s.Dense) != depth*n {
			return fmt.Errorf("ring state: %d sums for %d slots x %d", len(s.Dense), depth, n)
		}
		return nil
	}
	parts := len(s.Bounds) - 1
	if parts < 1 || s.Bounds[0] != 0 || s.Bounds[parts] != n {
		return fmt.Errorf("ring state: part bounds %v do not cover the %d destinations", s.Bounds, n)
	}
	for p := range parts {
		if s.Bounds[p] > s.Bounds[p+1] {
			return fmt.Errorf("ring state: part bounds %v decrease", s.Bounds)
		}
	}
	lists := parts * depth
	if len(s.Start) != lists+1 || s.Start[0] != 0 || s.Start[lists] != int64(len(s.Index)) || len(s.Index) != len(s.Value) {
		return fmt.Errorf("ring state: %d list starts, %d indices and %d values for %d lists", len(s.Start), len(s.Index), len(s.Value), lists)
	}
	for l := range lists {
		if s.Start[l] > s.Start[l+1] {
			return fmt.Errorf("ring state: list %d starts after its end", l)
		}
	}
	for e, i := range s.Index {
		if i < 0 || int(i) >= n {
			return fmt.Errorf("ring state: contribution %d goes to destination %d of %d", e, i, n)
		}
	}
	return nil
}

// A RingStater is a DelayRing whose contents can be saved and restored
// (checkpoints). SetRingState takes either form of RingState: a backend
// converts the other one (lists are added up in order; sums become one
// contribution per destination and slot).
type RingStater interface {
	RingState() (*RingState, error)
	SetRingState(s *RingState) error
}

// A Hinter is a backend object (such as the cpu's Delays) whose internal
// choices (how to send spikes) depend on its history but not what it
// computes; saving its hints lets a resumed run make the same choices at
// the same steps as the run it continues, so that the order of float
// additions, and so every bit, is the same.
type Hinter interface {
	Hints() []int64
	SetHints(h []int64) error
}

// A DeterminismReporter says whether its results are bit-identical from
// run to run (see Options.Deterministic). A backend that does not
// implement it is assumed deterministic.
type DeterminismReporter interface {
	Deterministic() bool
}

// IsDeterministic reports whether b gives bit-identical results from run
// to run.
func IsDeterministic(b Backend) bool {
	if d, ok := b.(DeterminismReporter); ok {
		return d.Deterministic()
	}
	return true
}

// A DelaysRangeReader reads part of a delay table: the delays of entries
// off to off+len(dst), so that a large table (PD14: 285 million) can be
// read in chunks.
type DelaysRangeReader interface {
	ReadRange(dst []int32, off int) error
}

// ReadDelays reads the delays of entries [off, off+len(dst)) of d, in one
// piece if d cannot read ranges (then through a full copy).
func ReadDelays(d Delays, dst []int32, off int) error {
	if off < 0 || off+len(dst) > d.Len() {
		return fmt.Errorf("backend: ReadDelays: entries [%d, %d) of a table of %d", off, off+len(dst), d.Len())
	}
	if r, ok := d.(DelaysRangeReader); ok {
		return r.ReadRange(dst, off)
	}
	all := make([]int32, d.Len())
	if err := d.Read(all); err != nil {
		return err
	}
	copy(dst, all[off:])
	return nil
}

// Registry is the bookkeeping of a TensorLister: weak pointers to the
// tensors a backend made, in the order made, so that a tensor dropped
// without Release is still collected. The zero value is empty; it is not
// safe for concurrent use.
type Registry struct {
	ents []func() Tensor // each returns the tensor, or nil once it is gone
	live int             // entries at the last compaction
}

// RegisterTensor adds x to r; live reports whether a tensor is still in use
// (not released).
func RegisterTensor[T any, PT interface {
	*T
	Tensor
}](r *Registry, x PT, live func(PT) bool) {
	w := weak.Make((*T)(x))
	r.ents = append(r.ents, func() Tensor {
		if v := PT(w.Value()); v != nil && live(v) {
			return v
		}
		return nil
	})
	if len(r.ents) > 2*max(r.live, 1024) {
		r.Tensors() // drops the dead entries
	}
}

// Tensors lists the live tensors in the order registered, and forgets the
// others. Tensors that are unreachable but not yet collected are listed
// too; callers that match the lists of two runs call runtime.GC first.
func (r *Registry) Tensors() []Tensor {
	var out []Tensor
	ents := r.ents[:0]
	for _, e := range r.ents {
		if t := e(); t != nil {
			out = append(out, t)
			ents = append(ents, e)
		}
	}
	clear(r.ents[len(ents):])
	r.ents, r.live = ents, len(ents)
	return out
}

// A RangeReducer reduces part of a tensor: Reduce over the elements [lo,
// hi) of src (a recorder of "mean(W[0:100000])" then reads only those).
type RangeReducer interface {
	ReduceRange(op ReduceOp, dst Tensor, dstOff int, src Tensor, lo, hi int)
}
