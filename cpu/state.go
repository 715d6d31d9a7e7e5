package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomonnto/gomonnto/backend"
)

// The registry of live tensors (backend.TensorLister) and the saving and
// restoring of rings and delays (backend.RingStater, backend.Hinter), for
// checkpoints.

var (
	_ backend.TensorLister  = (*Backend)(nil)
	_ backend.EventGatherer = (*Backend)(nil)
	_ backend.RingStater    = (*ring)(nil)
	_ backend.Hinter        = (*delays)(nil)
)

func (b *Backend) register(t *tensor, s *sparse) {
	if s != nil {
		backend.RegisterTensor(&b.reg, s, func(s *sparse) bool { return s.vals.data != nil })
	} else {
		backend.RegisterTensor(&b.reg, t, func(t *tensor) bool { return t.data != nil })
	}
}

// Tensors lists the live tensors (dense and sparse) made by b, in the
// order made (backend.TensorLister).
func (b *Backend) Tensors() []backend.Tensor { return b.reg.Tensors() }

// eventLog is the cpu's backend.EventLog. Gathering a mask that a queued
// kernel run writes (a neuron update's spikes) joins that run: each thread
// that evaluates a chunk of it collects the non-zero indices of every
// block of 512 elements right after computing it (in the L1 cache), and
// the chunks' lists are joined in order after the dispatch
// (kernelQueue.done). Otherwise Gather scans the
// mask at once. Either way the mask is never copied.
type eventLog struct {
	b        *Backend
	n, cap   int
	idx      []int32 // every record's indices, one after another
	ends     []int   // ends[k]: the end of record k in idx
	parts    [][]int32
	mask     []float32 // the mask of the pending record (gathered by a kernel run)
	maskT    *tensor
	pending  bool
	released bool
}

// NewEventLog returns an empty log (backend.EventGatherer).
func (b *Backend) NewEventLog(n, records int) (backend.EventLog, error) {
	if b.closed {
		return nil, errClosed
	}
	if err := backend.CheckNewEventLog(n, records); err != nil {
		return nil, err
	}
	return &eventLog{b: b, n: n, cap: records, ends: make([]int, 0, records), parts: make([][]int32, maxChunks(b.threads))}, nil
}

func (l *eventLog) Len() int { return l.n }

func (l *eventLog) Records() int {
	if l.pending {
		return len(l.ends) + 1
	}
	return len(l.ends)
}

// Gather collects the indices of mask's non-zero elements as a record.
// It allocates only when more spikes are held than ever before.
func (l *eventLog) Gather(mask backend.Tensor) {
	const op = "EventLog.Gather"
	if l.released {
		panic(backend.Misusef("cpu", "EventLog.Gather", "the log was released"))
	}
	b := l.b
	b.live(op)
	backend.CheckGather(mask, l.n, l.Records(), l.cap)
	if l.pending {
		b.flush()
	}
	mt := b.check(op, mask) // read, not written
	if mt.kq == b.kq.gen+1 && mt.kqW {
		for _, k := range b.kq.runs {
			for i, t := range k.ts {
				if t == mt && k.p.Writes(i) {
					for p := range l.parts {
						l.parts[p] = l.parts[p][:0]
					}
					l.mask, l.maskT, l.pending = mt.data, mt, true
					k.gathers = append(k.gathers, l)
					return
				}
			}
		}
	}
	// Queued work that does not write the mask may stay queued (a flush
	// here would run the step's ring work apart from the next step's
	// neuron updates, which would otherwise share its dispatch).
	if mt.kq == b.kq.gen+1 && mt.kqW || b.dq.writes(mt) {
		b.flush()
	}
	if c := b.spk.find(mt, mt.gen); c != nil {
		l.idx = append(l.idx, c.idx...) // collected by a spike-driven operation
	} else {
		l.idx = appendNonZero(l.idx, mt.data, 0)
	}
	l.ends = append(l.ends, len(l.idx))
}

// spikeCache holds the spikes of the masks collected last.
type spikeCache struct {
	ents [spikeCacheLen]spikeEntry
	next int
}

// spikeCacheLen is how many masks spikeCache remembers (the groups of a
// model, typically).
const spikeCacheLen = 8

type spikeEntry struct {
	t   *tensor
	gen uint64
	idx []int32
}

// find returns the entry of mask t at gen, or nil.
func (c *spikeCache) find(t *tensor, gen uint64) *spikeEntry {
	for k := range c.ents {
		if e := &c.ents[k]; e.t == t && e.gen == gen {
			return e
		}
	}
	return nil
}

// put returns the entry to fill for mask t at gen: its own, or the
// oldest.
func (c *spikeCache) put(t *tensor, gen uint64) *spikeEntry {
	for k := range c.ents {
		if e := &c.ents[k]; e.t == t {
			e.gen, e.idx = gen, e.idx[:0]
			return e
		}
	}
	e := &c.ents[c.next]
	c.next = (c.next + 1) % spikeCacheLen
	e.t, e.gen, e.idx = t, gen, e.idx[:0]
	if n := len(t.data); cap(e.idx) < n {
		e.idx = make([]int32, 0, n) // room for every element: never grows
	}
	return e
}

// forget drops the entry of mask t.
func (c *spikeCache) forget(t *tensor) {
	for k := range c.ents {
		if c.ents[k].t == t {
			c.ents[k].t = nil
		}
	}
}

// noteSpikes keeps idx, the spiking indices just collected from mask by
// an operation that writes dst, for an event log or operation that reads
// the same mask (unless the operation writes the mask itself).
func (b *Backend) noteSpikes(mask, dst backend.Tensor, idx []int) {
	mt := b.check("noteSpikes", mask)
	if dst == mask {
		b.spk.forget(mt)
		return
	}
	e := b.spk.put(mt, mt.gen)
	for _, i := range idx {
		e.idx = append(e.idx, int32(i))
	}
}

// spikesOf returns the spiking indices of mask (whose storage is m), from
// the indices an event log or an operation collected last if the mask has
// not been obtained since, except by the caller's own access (bumped: the
// caller's ten counted once), else by scanning it.
func (b *Backend) spikesOf(mask backend.Tensor, m []float32, bumped bool) []int {
	mt := b.check("spikes", mask)
	gen := mt.gen
	if bumped {
		gen--
	}
	e := b.spk.find(mt, gen)
	if e == nil {
		return collect(&b.idxA, m)
	}
	idx := b.idxA[:0]
	for _, i := range e.idx {
		idx = append(idx, int(i))
	}
	b.idxA = idx[:0]
	return idx
}

// gather appends the indices of the non-zero elements of the pending
// mask's block [lo, hi) to part p (the blocks of a chunk of the kernel
// run that writes it, in order).
func (l *eventLog) gather(p, lo, hi int) {
	l.parts[p] = appendNonZero(l.parts[p], l.mask[lo:hi], lo)
}

// finish joins the parts of the pending record, and keeps its indices
// for a spike-driven operation that reads the mask next (spikesOf).
func (l *eventLog) finish() {
	lo := len(l.idx)
	for p, x := range l.parts {
		l.idx = append(l.idx, x...)
		l.parts[p] = x[:0]
	}
	l.ends = append(l.ends, len(l.idx))
	e := l.b.spk.put(l.maskT, l.maskT.gen)
	e.idx = append(e.idx, l.idx[lo:]...)
	l.mask, l.maskT, l.pending = nil, nil, false
}

func (l *eventLog) Drain(f func(int, []int32)) error {
	if l.released {
		return fmt.Errorf("cpu: EventLog.Drain: the log was released")
	}
	if l.b.closed {
		return errClosed
	}
	if l.pending {
		l.b.flush()
	}
	lo := 0
	for k, end := range l.ends {
		f(k, l.idx[lo:end])
		lo = end
	}
	l.idx, l.ends = l.idx[:0], l.ends[:0]
	return nil
}

func (l *eventLog) Release() {
	if l.pending && !l.b.closed {
		l.b.flush()
	}
	l.released, l.idx, l.ends, l.parts = true, nil, nil, nil
}

// Hints of a ring's list (RingState.Hints, two per slot of each part):
// whether a whole-ring task sent to it, and the work estimate of taking
// it (ringPart.work), so that a restored ring schedules its tasks as the
// saved one would have.

// RingState returns what each slot of each part holds, references
// expanded into contributions, in the order TakeSlot adds them.
func (r *ring) RingState() (*backend.RingState, error) {
	if r.b.closed {
		return nil, errClosed
	}
	if r.released {
		return nil, fmt.Errorf("cpu: RingState: the ring of %d slots x %d was released", r.depth, r.n)
	}
	r.b.flush()
	st := &backend.RingState{Depth: r.depth, N: r.n, Bounds: slices.Clone(r.bounds)}
	st.Start = make([]int64, 1, len(r.parts)*r.depth+1)
	st.Hints = make([]int64, 0, 2*len(r.parts)*r.depth)
	for p := range r.parts {
		rp := &r.parts[p]
		for s := range r.depth {
			var cur sender
			rp.each(s, func(items []event) {
				for _, ev := range items {
					if ev.i >= 0 {
						st.Index = append(st.Index, ev.i)
						st.Value = append(st.Value, ev.v)
						continue
					}
					at := math.Float32bits(ev.v)
					if ev.i == itemSender {
						cur = r.senders[at]
						continue
					}
					// A reference adds alpha*v per entry (addRefs: a
					// multiplication, then an addition, as for an event
					// whose value is float32(alpha*v)).
					for _, e := range cur.lay.ent[at : at+uint32(-ev.i)] {
						st.Index = append(st.Index, e.i)
						st.Value = append(st.Value, float32(cur.alpha*e.v))
					}
				}
			})
			st.Start = append(st.Start, int64(len(st.Index)))
			whole := int64(0)
			if rp.slots[s].whole {
				whole = 1
			}
			st.Hints = append(st.Hints, whole, int64(rp.work(s)))
		}
	}
	return st, nil
}

// SetRingState replaces what the ring holds with s. Lists with the ring's
// own part bounds are restored as they were (with their hints); other
// lists go to the part of their destination, in order, so that each
// destination adds its contributions in the same order; sums become one
// contribution per destination and slot.
func (r *ring) SetRingState(s *backend.RingState) error {
	if r.b.closed {
		return errClosed
	}
	if r.released {
		return fmt.Errorf("cpu: SetRingState: the ring of %d slots x %d was released", r.depth, r.n)
	}
	if err := s.Check(r.depth, r.n); err != nil {
		return fmt.Errorf("cpu: SetRingState: %w", err)
	}
	r.b.flush()
	for p := range r.parts {
		for slot := range r.depth {
			r.empty(&r.parts[p], slot)
		}
	}
	clear(r.senders)
	r.senders = r.senders[:0]
	partOf := func(i int32) int {
		p, _ := slices.BinarySearch(r.bounds[1:], int(i)+1)
		return p
	}
	if s.Dense != nil {
		for slot := range r.depth {
			for i, v := range s.Dense[slot*r.n : (slot+1)*r.n] {
				if v != 0 { // x + 0 == x
					rp := &r.parts[partOf(int32(i))]
					rp.put(&rp.slots[slot], event{int32(i), v})
				}
			}
		}
		return nil
	}
	same := slices.Equal(s.Bounds, r.bounds) && len(s.Hints) == 2*(len(s.Bounds)-1)*r.depth
	for l := range (len(s.Bounds) - 1) * r.depth {
		p, slot := l/r.depth, l%r.depth
		for e := s.Start[l]; e < s.Start[l+1]; e++ {
			q := p
			if !same {
				q = partOf(s.Index[e])
			}
			rp := &r.parts[q]
			rp.put(&rp.slots[slot], event{s.Index[e], s.Value[e]})
		}
		if same {
			sl := &r.parts[p].slots[slot]
			if s.Hints[2*l] != 0 && !sl.whole {
				sl.whole = true
				r.wholeSlots++
			}
			if sl.head >= 0 {
				sl.work = s.Hints[2*l+1] - int64(r.parts[p].work(slot))
			}
		}
	}
	return nil
}

// Hints are, per direction of sending (from columns, from rows), the
// number of sends for which W's values have been unchanged (capped at
// minStable) and whether the layout could not be made: a restored table
// then makes its layout at the same step as the saved one (the work
// estimates, and so the tasks, of the following steps depend on it).
func (d *delays) Hints() []int64 {
	h := make([]int64, 0, 4)
	for _, st := range d.lays {
		never := int64(0)
		if st.never {
			never = 1
		}
		h = append(h, int64(min(st.stable, minStable)), never)
	}
	return h
}

// SetHints takes hints made by Hints, for the current values of W.
func (d *delays) SetHints(h []int64) error {
	if d.released {
		return fmt.Errorf("cpu: Delays.SetHints: the delays were released")
	}
	if len(h) != 4 {
		return fmt.Errorf("cpu: Delays.SetHints: %d hints; the cpu's delays have 4", len(h))
	}
	gen := d.s.vals.gen
	for k := range d.lays {
		st := &d.lays[k]
		*st = layState{gen: gen, stable: int(min(max(h[2*k], 0), minStable)), never: h[2*k+1] != 0}
		if st.stable >= minStable && !st.never {
			// The saved table sent by reference: it will again at the next send.
			st.stable = minStable - 1
		}
	}
	return nil
}

var _ backend.DelaysRangeReader = (*delays)(nil)

// ReadRange copies the delays of entries [off, off+len(dst)) into dst.
func (d *delays) ReadRange(dst []int32, off int) error {
	if d.released {
		return fmt.Errorf("cpu: Delays.ReadRange: the delays were released")
	}
	if off < 0 || off+len(dst) > d.Len() {
		return fmt.Errorf("cpu: Delays.ReadRange: entries [%d, %d) of a table of %d", off, off+len(dst), d.Len())
	}
	for k := range dst {
		dst[k] = int32(d.step(off + k))
	}
	return nil
}
