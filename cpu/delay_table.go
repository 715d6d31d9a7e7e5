package cpu

import (
	"fmt"
	"slices"

	"github.com/gomonnto/gomonnto/backend"
)

// delays is the cpu's backend.Delays: the steps of W's entries, one byte
// each when all are below 256 (PD14: 1 byte per synapse instead of the 4
// of a float32 tensor), int32 otherwise.
type delays struct {
	b        *Backend
	s        *sparse
	small    []uint8 // the steps, when all are below 256
	big      []int32 // the steps otherwise
	released bool
	lays     [2]layState // sent from columns [0] or rows [1]
	longest  int         // the longest delay
	last     string      // the strategy of the last send (Backend.Strategy)
}

// NewDelays stores the delays of W's entries.
func (b *Backend) NewDelays(w backend.SparseTensor, steps []int32) (backend.Delays, error) {
	if b.closed {
		return nil, errClosed
	}
	s, ok := w.(*sparse)
	if !ok || s == nil || s.b != b {
		return nil, fmt.Errorf("cpu: NewDelays: W %s is not a sparse matrix of this cpu backend", backend.Shape(w))
	}
	if err := backend.CheckNewDelays(w, steps); err != nil {
		return nil, err
	}
	d := &delays{b: b, s: s}
	longest := int32(0)
	for _, k := range steps {
		longest = max(longest, k)
	}
	d.longest = int(longest)
	if longest < 256 {
		d.small = make([]uint8, len(steps))
		for e, k := range steps {
			d.small[e] = uint8(k)
		}
	} else {
		d.big = slices.Clone(steps)
	}
	return d, nil
}

func (d *delays) Len() int { return max(len(d.small), len(d.big)) }

// step is the delay of entry e.
func (d *delays) step(e int) int {
	if d.small != nil {
		return int(d.small[e])
	}
	return int(d.big[e])
}

// Read copies the delays into dst.
func (d *delays) Read(dst []int32) error {
	if d.released {
		return fmt.Errorf("cpu: Delays.Read: the delays were released")
	}
	if err := backend.CheckDelaysRead(dst, d.Len()); err != nil {
		return err
	}
	for e := range dst {
		dst[e] = int32(d.step(e))
	}
	return nil
}

// Release frees the delays (after running the queued calls that use them).
func (d *delays) Release() {
	if d.released {
		return
	}
	if !d.b.closed {
		d.b.flush()
	}
	d.released, d.small, d.big, d.lays = true, nil, nil, [2]layState{}
}

// delaysOf returns the cpu delays behind dls, panicking unless they are
// live delays of b made for s.
func (b *Backend) delaysOf(op string, dls backend.Delays, s *sparse) *delays {
	d, ok := dls.(*delays)
	switch {
	case dls == nil || (ok && d == nil):
		panic(backend.Misusef("cpu", op, "nil delays"))
	case !ok || d.b != b:
		panic(backend.Misusef("cpu", op, "the delays were not made by this cpu backend's NewDelays"))
	case d.released:
		panic(backend.Misusef("cpu", op, "the delays were released"))
	case d.s != s:
		panic(backend.Misusef("cpu", op, "the delays were made for another W (%dx%d, %d entries), not %s; make them with NewDelays for this W", d.s.rows, d.s.cols, d.Len(), backend.Shape(s)))
	}
	return d
}
