package cpu

import (
	"fmt"
	"slices"

	"github.com/gomonnto/gomonnto/backend"
)

var _ backend.Delayer = (*Backend)(nil)

// The cpu's delayed propagation keeps no D x n ring of sums. A ring holds,
// for each slot, the list of contributions (destination, alpha*W[e]) sent
// to it, appended in the order they are sent; TakeSlot adds them to dst in
// that order. Every access is then sequential or lands in dst, which is
// small enough to stay in cache, where a D x n ring is written at random:
// at the scale of the PD14 microcircuit (~90k contributions per step into
// rings of 5 MB per population) every write to it was a cache miss.
//
// PropagateDelayed and TakeSlot are queued, not run: the queue is run, in
// call order per ring, by the next operation of any other kind on the
// backend (every operation reads its tensors through Backend.ten, which
// runs it first), by Sync, Flush, Data and DelayRing.Read. Every ring is
// cut into parts by destination, and the queued calls of every (ring,
// part) are one task: the tasks of a step run in parallel, one parallel
// dispatch per step instead of one per call, and the result does not
// depend on the number of threads. What a queued call reads (W's values,
// the delays) cannot change before it runs, because any operation that
// could change them runs the queue first; the spike mask is read when the
// call is made.

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
}

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
}

// tail is the slot's last block (-1: none).
func (sl slotList) tail() int32 { return sl.end/blockEvents - 1 }

func (p *ringPart) init(depth int) {
	p.slots = make([]slotList, depth)
	for s := range p.slots {
		p.slots[s] = slotList{head: -1}
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

// each calls f with the events of slot s in the order sent, block by
// block.
func (p *ringPart) each(s int, f func([]event)) {
	sl := p.slots[s]
	if sl.head < 0 {
		return
	}
	tail := sl.tail()
	for b := sl.head; ; b = p.next[b] {
		lo := int(b) * blockEvents
		if b == tail {
			f(p.arena[lo:sl.at])
			return
		}
		f(p.arena[lo : lo+blockEvents])
	}
}

// count is the number of events in slot s.
func (p *ringPart) count(s int) int {
	sl := p.slots[s]
	if sl.head < 0 {
		return 0
	}
	n := int(sl.at - (sl.end - blockEvents))
	for b := sl.head; b != sl.tail(); b = p.next[b] {
		n += blockEvents
	}
	return n
}

// empty returns the blocks of slot s to the free list.
func (p *ringPart) empty(s int) {
	sl := &p.slots[s]
	if sl.head >= 0 {
		tail := sl.tail()
		for b := sl.head; ; b = p.next[b] {
			p.free = append(p.free, b) // within its capacity: every block fits
			if b == tail {
				break
			}
		}
	}
	*sl = slotList{head: -1}
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
	r.b.flushDelayed()
	clear(dst)
	for p := range r.parts {
		for s := range r.depth {
			row := dst[s*r.n : (s+1)*r.n]
			r.parts[p].each(s, func(evs []event) {
				for _, ev := range evs {
					row[ev.i] += ev.v
				}
			})
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
		r.b.flushDelayed()
	}
	r.released, r.parts = true, nil
}

// delayRing returns the cpu ring behind rg, panicking unless it is a live
// ring of b.
func (b *Backend) delayRing(op string, rg backend.DelayRing) *ring {
	r, ok := rg.(*ring)
	switch {
	case rg == nil || (ok && r == nil):
		panic(fmt.Sprintf("backend: %s: nil ring buffer", op))
	case !ok:
		panic(fmt.Sprintf("backend: %s: ring buffer %s is not a cpu ring; make it with this backend's NewDelayRing", op, backend.RingShape(rg)))
	case r.b != b:
		panic(fmt.Sprintf("backend: %s: ring buffer %s belongs to another cpu backend", op, backend.RingShape(rg)))
	case r.released:
		panic(fmt.Sprintf("cpu: %s: ring buffer %s was released", op, backend.RingShape(rg)))
	}
	return r
}

// delayCall is a queued PropagateDelayed (s != nil) or TakeSlot.
type delayCall struct {
	r     *ring
	grp   *ring
	slot  int
	work  int
	s     *sparse
	v     []float32 // W's values
	dly   *delays
	trans bool
	alpha float32
	lo    int     // the spiking sources are delayQueue.idx[lo:hi]
	hi    int     //
	split []int32 // W's part boundaries per source (sparse.partSplit)
	dst   []float32
	dstT  *tensor
}

// delayTask is part p of the rings whose group is r.
type delayTask struct {
	r    *ring
	p    int
	work int
}

// delayQueue holds the queued calls until they run (flushDelayed).
type delayQueue struct {
	calls  []delayCall
	idx    []int32 // spiking sources of the queued calls
	tasks  []delayTask
	groups []*ring // the groups of the calls (flushDelayed)
}

// maxQueued is the most calls the queue holds: a loop of nothing but
// PropagateDelayed and TakeSlot runs it when it is full.
const maxQueued = 1024

// grainDelay is the queued work, in contributions, below which the queue
// runs on the calling goroutine alone (~3 ns each).
const grainDelay = 4096

// writes reports whether a queued TakeSlot adds into t.
func (q *delayQueue) writes(t *tensor) bool {
	for i := range q.calls {
		if q.calls[i].dstT == t {
			return true
		}
	}
	return false
}

// PropagateDelayed queues the sending of alpha * W[e] of the stored
// entries e of the spiking sources to the slots that their delays send
// them to (see backend.Delayer). The mask is read now.
func (b *Backend) PropagateDelayed(rg backend.DelayRing, slot int, w backend.SparseTensor, trans bool, dls backend.Delays, mask backend.Tensor, alpha float32) {
	const op = "PropagateDelayed"
	b.live(op)
	s, ok := w.(*sparse)
	if !ok || s == nil {
		b.badTensor(op, w)
	}
	b.tenNow(op, w) // owner and release checks
	r := b.delayRing(op, rg)
	dly := b.delaysOf(op, dls, s)
	vecOperand(op, "the mask", mask)
	m := b.tenNow(op, mask)
	backend.CheckPropagateDelayed(rg, slot, w, trans, dls, mask)
	q := &b.dq
	if q.writes(mask.(*tensor)) {
		b.flushDelayed() // a queued TakeSlot adds into the mask
	}
	idx := collect(&b.idxA, m)
	if len(idx) == 0 || len(s.colIdx) == 0 {
		return
	}
	nSrc := s.cols
	if trans {
		nSrc = s.rows
	} else {
		s.transposed()
	}
	if len(q.calls) >= maxQueued {
		b.flushDelayed()
	}
	lo := len(q.idx)
	for _, i := range idx {
		q.idx = append(q.idx, int32(i))
	}
	q.calls = append(q.calls, delayCall{
		r: r, slot: slot, work: len(idx) * max(1, len(s.colIdx)/max(1, nSrc)),
		s: s, v: s.vals.data, dly: dly, trans: trans, alpha: alpha,
		lo: lo, hi: len(q.idx), split: s.partSplit(trans, r.bounds),
	})
}

// TakeSlot queues the addition of what slot of the ring holds to dst.
func (b *Backend) TakeSlot(dst backend.Tensor, rg backend.DelayRing, slot int) {
	const op = "TakeSlot"
	b.live(op)
	vecOperand(op, "the destination", dst)
	d := b.tenNow(op, dst)
	r := b.delayRing(op, rg)
	backend.CheckTakeSlot(dst, rg, slot)
	dT := dst.(*tensor)
	q := &b.dq
	work := 0
	for p := range r.parts {
		work += r.parts[p].count(slot)
	}
	if len(q.calls) >= maxQueued {
		b.flushDelayed()
	}
	q.calls = append(q.calls, delayCall{r: r, slot: slot, work: work, dst: d, dstT: dT})
}

// group returns the ring whose task runs r's calls.
func (r *ring) group() *ring {
	for r.grp != r {
		r = r.grp
	}
	return r
}

// flushDelayed runs the queued calls. Rings whose TakeSlots add into the
// same tensor form one group, whose calls run in call order; the parts of
// the groups run in parallel.
func (b *Backend) flushDelayed() {
	q := &b.dq
	if len(q.calls) == 0 {
		return
	}
	for i := range q.calls {
		r := q.calls[i].r
		r.grp, r.work, r.listed = r, 0, false
	}
	for i := range q.calls {
		c := &q.calls[i]
		if c.s != nil {
			continue
		}
		for j := range i {
			if o := &q.calls[j]; o.s == nil && o.dstT == c.dstT {
				if g, h := o.r.group(), c.r.group(); g != h {
					h.grp = g
				}
			}
		}
	}
	total := 0
	q.groups = q.groups[:0]
	for i := range q.calls {
		c := &q.calls[i]
		g := c.r.group()
		if !g.listed {
			g.listed = true
			q.groups = append(q.groups, g)
		}
		c.grp = g
		g.work += c.work
		total += c.work
	}
	// A task per group when there are enough groups to keep the threads
	// busy (a row is then read in one run, all parts at once), else a
	// task per part of each group.
	k := b.parts(total, grainDelay)
	q.tasks = q.tasks[:0]
	for _, g := range q.groups {
		if parts := len(g.parts); len(q.groups) >= 2*k || parts == 1 {
			q.tasks = append(q.tasks, delayTask{r: g, p: -1, work: g.work})
		} else {
			for p := range parts {
				q.tasks = append(q.tasks, delayTask{r: g, p: p, work: g.work / parts})
			}
		}
	}
	// The largest tasks first: the threads claim them in order.
	slices.SortStableFunc(q.tasks, func(a, b delayTask) int { return b.work - a.work })
	b.splitEach(q, len(q.tasks), k)
	for i := range q.calls {
		q.calls[i] = delayCall{}
	}
	clear(q.groups)
	clear(q.tasks)
	q.calls, q.idx, q.groups = q.calls[:0], q.idx[:0], q.groups[:0]
}

// run runs the tasks [lo, hi).
func (q *delayQueue) run(_, lo, hi int) {
	for _, t := range q.tasks[lo:hi] {
		for i := range q.calls {
			c := &q.calls[i]
			switch {
			case c.grp != t.r:
			case c.s != nil:
				c.send(q.idx[c.lo:c.hi], t.p)
			case t.p >= 0:
				c.take(t.p)
			default:
				for p := range c.r.parts {
					c.take(p)
				}
			}
		}
	}
}

// take adds part p of the slot to dst and empties it.
func (c *delayCall) take(p int) {
	rp := &c.r.parts[p]
	d := c.dst
	rp.each(c.slot, func(evs []event) {
		for _, ev := range evs {
			d[ev.i] += ev.v
		}
	})
	rp.empty(c.slot)
}

// send appends the entries of the spiking sources idx that end in part p
// (p < 0: in any part) to the slots their delays send them to.
func (c *delayCall) send(idx []int32, p int) {
	r, s := c.r, c.s
	first, last := p, p+1
	if p < 0 {
		first, last = 0, len(r.parts)
	}
	np := len(r.parts)
	start := s.colStart // the spiking columns through the transposed index
	if c.trans {
		start = s.rowStart // the spiking rows
	}
	// (A software prefetch of the next spiking row made PD14 at full scale
	// slower: rtf 12.9 against 8.8.) Within a row, the parts are adjacent:
	// a task that sends every part reads the row in one run.
	for _, i := range idx {
		for q := first; q < last; q++ {
			e, end := partRange(start, c.split, int(i), q, np)
			if e < end {
				c.sendRange(&r.parts[q], e, end)
			}
		}
	}
}

// sendChunk is how many entries sendRange reads before it appends them.
const sendChunk = 64

// sendRange appends the entries [e, end) of the row form (with trans) or
// of the column form to rp's slots. The row form with delays below 256
// steps (the common case: a projection sent from its presynaptic rows)
// has its own loop; every other case reads a chunk of entries' slots and
// events (read, below) and then appends them (ringPart.push).
func (c *delayCall) sendRange(rp *ringPart, e, end int64) {
	if small := c.dly.small; c.trans && small != nil {
		wrap := c.r.wrap[c.slot : c.slot+c.r.depth] // wrap[k]: the slot of delay k
		maxk := uint8(min(c.r.depth-1, 255))        // every small delay is below 256
		slots, arena, a := rp.slots, rp.arena, c.alpha
		v, dl := c.v[e:end], small[e:end]
		for k, ci := range c.s.colIdx[e:end] {
			sl := &slots[wrap[min(dl[k], maxk)]]
			if sl.at == sl.end {
				rp.link(sl)
				arena = rp.arena
			}
			arena[sl.at] = event{ci, float32(a * v[k])}
			sl.at++
		}
		return
	}
	var slots [sendChunk]int32
	var evs [sendChunk]event
	for e < end {
		n := int(min(end-e, sendChunk))
		c.read(slots[:n], evs[:n], e)
		rp.push(slots[:n], evs[:n])
		e += int64(n)
	}
}

// read sets slots[k] and evs[k] to the slot and the event of entry e+k
// (of the row form with trans, else of the column form).
func (c *delayCall) read(slots []int32, evs []event, e int64) {
	s := c.s
	n := int64(len(slots))
	wrap := c.r.wrap[c.slot : c.slot+c.r.depth] // wrap[k]: the slot of delay k
	maxk := c.r.depth - 1
	v, a := c.v, c.alpha
	evs = evs[:len(slots)]
	if c.trans {
		for k, ci := range s.colIdx[e : e+n] {
			x := int(e) + k
			slots[k] = wrap[min(c.dly.step(x), maxk)]
			evs[k] = event{ci, float32(a * v[x])}
		}
	} else {
		perm := s.perm[e : e+n]
		for k, ri := range s.rowIdx[e : e+n] {
			x := int(perm[k])
			slots[k] = wrap[min(c.dly.step(x), maxk)]
			evs[k] = event{ri, float32(a * v[x])}
		}
	}
}

// push appends evs[k] to slot slots[k], in order.
func (p *ringPart) push(slots []int32, evs []event) {
	arena := p.arena
	evs = evs[:len(slots)]
	for k, s := range slots {
		sl := &p.slots[s]
		if sl.at == sl.end {
			p.link(sl)
			arena = p.arena
		}
		arena[sl.at] = evs[k]
		sl.at++
	}
}

// partRange is the range of source i's entries (start: its compressed
// starts) that lie in part p of np, given split (sparse.partSplit).
func partRange(start []int64, split []int32, i, p, np int) (int64, int64) {
	lo, hi := start[i], start[i+1]
	if np > 1 {
		base := start[i]
		at := split[i*(np-1):]
		if p > 0 {
			lo = base + int64(at[p-1])
		}
		if p < np-1 {
			hi = base + int64(at[p])
		}
	}
	return lo, hi
}

// partSplit returns, for each source of s (its rows with trans, else its
// columns), where its entries cross the part boundaries bounds[1:np]:
// split[i*(np-1) + p-1] is the offset from the source's first entry of its
// first entry in part p. It is made by the first call with these bounds
// (and kept: every ring of the matrix's destinations has the same ones).
func (s *sparse) partSplit(trans bool, bounds []int) []int32 {
	np := len(bounds) - 1
	if np <= 1 {
		return nil
	}
	k := 0
	if trans {
		k = 1
	}
	c := &s.splits[k]
	if c.tab != nil && slices.Equal(c.bounds, bounds) {
		return c.tab
	}
	start, idx, n := s.colStart, s.rowIdx, s.cols
	if trans {
		start, idx, n = s.rowStart, s.colIdx, s.rows
	}
	tab := make([]int32, n*(np-1))
	for i := range n {
		for p := 1; p < np; p++ {
			tab[i*(np-1)+p-1] = int32(lowerBound(idx, start[i], start[i+1], int32(bounds[p])) - start[i])
		}
	}
	c.bounds, c.tab = slices.Clone(bounds), tab
	return tab
}

// delays is the cpu's backend.Delays: the steps of W's entries, one byte
// each when all are below 256 (PD14: 1 byte per synapse instead of the 4
// of a float32 tensor), int32 otherwise.
type delays struct {
	b        *Backend
	s        *sparse
	small    []uint8 // the steps, when all are below 256
	big      []int32 // the steps otherwise
	released bool
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
		d.b.flushDelayed()
	}
	d.released, d.small, d.big = true, nil, nil
}

// delaysOf returns the cpu delays behind dls, panicking unless they are
// live delays of b made for s.
func (b *Backend) delaysOf(op string, dls backend.Delays, s *sparse) *delays {
	d, ok := dls.(*delays)
	switch {
	case dls == nil || (ok && d == nil):
		panic(fmt.Sprintf("backend: %s: nil delays", op))
	case !ok || d.b != b:
		panic(fmt.Sprintf("backend: %s: the delays were not made by this cpu backend's NewDelays", op))
	case d.released:
		panic(fmt.Sprintf("cpu: %s: the delays were released", op))
	case d.s != s:
		panic(fmt.Sprintf("backend: %s: the delays were made for another W (%dx%d, %d entries), not %s; make them with NewDelays for this W", op, d.s.rows, d.s.cols, d.Len(), backend.Shape(s)))
	}
	return d
}
