package cpu

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/gomonnto/gomonnto/backend"
)

// event is one contribution in flight: alpha*W[e] for destination i.
type event struct {
	i int32
	v float32
}

// ring is the cpu's backend.DelayRing.
type ring struct {
	b        *Backend
	depth, n int
	bounds   []int      // part p holds the destinations [bounds[p], bounds[p+1])
	parts    []ringPart // one per part
	wrap     []int32    // wrap[x] = x mod depth, x in [0, 2*depth)
	released bool
	grp      *ring // the ring whose task runs this one's calls (flushDelayed)
	work     int   // of the group (flushDelayed)
	listed   bool  // in delayQueue.groups
	whole    bool  // the group must run as one task (flushDelayed)
	senders  []sender
	// wholeSlots counts the slots of part 0 that hold items sent by a
	// whole-ring task: while there are any, the ring's group runs as one
	// task (flushDelayed).
	wholeSlots int
	// pending counts the group's tasks not yet finished in a flush
	// (kernel runs queued after a take into its tensors wait for 0).
	pending atomic.Int32
	finish  int // when its last task is expected to finish (expectFinish)
}

// sender is what a reference (see item) reads: the entries of a layout,
// scaled by alpha.
type sender struct {
	lay   *layout
	alpha float32
}

// maxSenders bounds a ring's senders; a call that would need more sends
// events.
const maxSenders = 1 << 12

// senderOf returns the index of (lay, alpha) among r's senders, adding it
// if new, or -1 if r has maxSenders already.
func (r *ring) senderOf(lay *layout, alpha float32) int32 {
	for k, x := range r.senders {
		if x.lay == lay && math.Float32bits(x.alpha) == math.Float32bits(alpha) {
			return int32(k)
		}
	}
	if len(r.senders) >= maxSenders {
		return -1
	}
	r.senders = append(r.senders, sender{lay, alpha})
	return int32(len(r.senders) - 1)
}

// A slot's list holds items of three kinds, in the order sent: an event
// (i >= 0: add v to destination i); a switch (i == itemSender: the
// references that follow read the ring's sender math.Float32bits(v)); and
// a reference (i < 0 otherwise: add alpha times the -i entries of the
// sender's layout from entry math.Float32bits(v) on), which stands for
// the entries of one spiking source with one delay in one part.
const itemSender = math.MinInt32

// blockEvents is the number of events per block of a ringPart.
const blockEvents = 256

// ringPart holds what the slots of a ring hold for one part of the
// destinations: each slot is a list of blocks of events in the order sent,
// the blocks taken from one arena, and returned to its free list when the
// slot is taken. The arena grows (doubling) only when more is in flight
// than ever before, so a network in a steady state allocates nothing.
type ringPart struct {
	arena []event    // blocks of blockEvents events
	next  []int32    // next[b]: the block after b in its slot's list
	free  []int32    // unused blocks
	slots []slotList // one per slot
}

// slotList is a slot's list of blocks, from head to the tail block,
// whose events end at arena index at; end is the end of the tail block.
// An empty slot has no blocks (head -1) and at == end, so that the first
// event links one.
type slotList struct {
	head, at, end int32
	snd           int32 // the sender of its last reference (-1: none)
	work          int64 // the contributions that its references stand for
	whole         bool  // sent by a whole-ring task (see delayCall.send)
}

// tail is the slot's last block (-1: none).
func (sl slotList) tail() int32 { return sl.end/blockEvents - 1 }

func (p *ringPart) init(depth int) {
	p.slots = make([]slotList, depth)
	for s := range p.slots {
		p.slots[s] = slotList{head: -1, snd: -1}
	}
}

// link appends a free block to the slot's list (growing the arena if none
// is free).
func (p *ringPart) link(sl *slotList) {
	if len(p.free) == 0 {
		nb := len(p.next)
		grow := max(nb, 4)
		p.arena = slices.Grow(p.arena, grow*blockEvents)[:(nb+grow)*blockEvents]
		p.next = slices.Grow(p.next, grow)[:nb+grow]
		p.free = slices.Grow(p.free, nb+grow)
		for b := nb + grow - 1; b >= nb; b-- {
			p.free = append(p.free, int32(b))
		}
	}
	b := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	if sl.head >= 0 {
		p.next[sl.tail()] = b
	} else {
		sl.head = b
	}
	sl.at, sl.end = b*blockEvents, (b+1)*blockEvents
}

// put appends item ev to slot list sl.
func (p *ringPart) put(sl *slotList, ev event) {
	if sl.at == sl.end {
		p.link(sl)
	}
	p.arena[sl.at] = ev
	sl.at++
}

// each calls f with the events of slot s in the order sent, block by
// block.
func (p *ringPart) each(s int, f func([]event)) {
	c := p.cursor(s)
	for blk := c.next(blockEvents); len(blk) > 0; blk = c.next(blockEvents) {
		f(blk)
	}
}

// work estimates the cost of taking slot s: the contributions that its
// references stand for plus its items.
func (p *ringPart) work(s int) int {
	sl := p.slots[s]
	if sl.head < 0 {
		return 0
	}
	n := int(sl.work) + int(sl.at-(sl.end-blockEvents))
	for b := sl.head; b != sl.tail(); b = p.next[b] {
		n += blockEvents
	}
	return n
}

// empty returns the blocks of slot s of part p to the free list.
func (r *ring) empty(p *ringPart, s int) {
	sl := &p.slots[s]
	if sl.whole {
		r.wholeSlots--
	}
	if sl.head >= 0 {
		tail := sl.tail()
		for b := sl.head; ; b = p.next[b] {
			p.free = append(p.free, b) // within its capacity: every block fits
			if b == tail {
				break
			}
		}
	}
	*sl = slotList{head: -1, snd: -1}
}

// minPart is the fewest destinations per part of a ring.
const minPart = 1024

// NewDelayRing returns an empty ring of depth slots for n destinations.
func (b *Backend) NewDelayRing(depth, n int) (backend.DelayRing, error) {
	if b.closed {
		return nil, errClosed
	}
	if err := backend.CheckNewDelayRing(depth, n); err != nil {
		return nil, err
	}
	parts := max(1, min(b.threads, n/minPart))
	r := &ring{b: b, depth: depth, n: n, parts: make([]ringPart, parts), wrap: make([]int32, 2*depth)}
	for p := range r.parts {
		r.parts[p].init(depth)
	}
	chunk := ((n+parts-1)/parts + align - 1) / align * align
	for p := range parts {
		r.bounds = append(r.bounds, min(p*chunk, n))
	}
	r.bounds = append(r.bounds, n)
	for x := range r.wrap {
		r.wrap[x] = int32(x % depth)
	}
	return r, nil
}

func (r *ring) Depth() int { return r.depth }
func (r *ring) Len() int   { return r.n }
func (r *ring) String() string {
	return fmt.Sprintf("cpu delay ring of %d slots x %d", r.depth, r.n)
}

// Read runs the queued calls and copies the sums of what each slot holds
// into dst, adding the contributions in the order they were sent.
func (r *ring) Read(dst []float32) error {
	if r.b.closed {
		return errClosed
	}
	if r.released {
		return fmt.Errorf("cpu: DelayRing.Read: the ring of %d slots x %d was released", r.depth, r.n)
	}
	if err := backend.CheckRingRead(dst, r.depth, r.n); err != nil {
		return err
	}
	r.b.flush()
	clear(dst)
	for p := range r.parts {
		for s := range r.depth {
			row := dst[s*r.n : (s+1)*r.n]
			var cur sender
			r.parts[p].each(s, func(evs []event) { r.add(row, evs, &cur) })
		}
	}
	return nil
}

// Release runs the queued calls and frees the ring.
func (r *ring) Release() {
	if r.released {
		return
	}
	if !r.b.closed {
		r.b.flush()
	}
	r.released, r.parts, r.senders = true, nil, nil // the senders hold layouts
}

// delayRing returns the cpu ring behind rg, panicking unless it is a live
// ring of b.
func (b *Backend) delayRing(op string, rg backend.DelayRing) *ring {
	r, ok := rg.(*ring)
	switch {
	case rg == nil || (ok && r == nil):
		panic(backend.Misusef("cpu", op, "nil ring buffer"))
	case !ok:
		panic(backend.Misusef("cpu", op, "ring buffer %s is not a cpu ring; make it with this backend's NewDelayRing", backend.RingShape(rg)))
	case r.b != b:
		panic(backend.Misusef("cpu", op, "ring buffer %s belongs to another cpu backend", backend.RingShape(rg)))
	case r.released:
		panic(backend.Misusef("cpu", op, "ring buffer %s was released", backend.RingShape(rg)))
	}
	return r
}
