package cpu

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/gomonnto/gomonnto/backend"
)

var _ backend.Delayer = (*Backend)(nil)

// The cpu's delayed propagation keeps no D x n ring of sums. A ring holds,
// for each slot, the list of what was sent to it, in the order sent;
// TakeSlot adds it to dst in that order. An item of a list is either one
// contribution (destination, alpha*W[e]) or a reference to a run of W's
// entries that share a spiking source and a delay, read in place from a
// layout of W sorted by delay (see layout): sending a spike then appends
// one reference per delay (PD14: ~20 per projection) instead of one event
// per synapse (~500), and taking it reads the entries once. Every W starts
// on events and gets its layout once its values have stayed unchanged for
// minStable sends; a W that changes is sent as events. A W whose runs are
// too short for references (minRun) is sent as events read in order from
// its layout (layout.events), not from W's column form, which reads the
// values of a source at scattered places. Every access is
// sequential, prefetched, or lands in dst, small enough to stay in cache,
// where a D x n ring is written at random: at the scale of the PD14
// microcircuit (~80k contributions per step into rings of 5 MB per
// population) every write to it was a cache miss.
//
// PropagateDelayed and TakeSlot are queued, not run: the queue is run, in
// call order per ring, by the next operation of any other kind on the
// backend (every operation reads its tensors through Backend.ten, which
// runs it first), by Sync, Data and DelayRing.Read (not by Flush). Every ring is
// cut into parts by destination, and the queued calls of every (ring,
// part), or of every ring when there are enough rings to keep the threads
// busy, are one task: the tasks of a step run in parallel, one parallel
// dispatch per step instead of one per call, and the result does not
// depend on the number of threads (except in the order of the additions
// into one element in a step where a ring goes from one task per part to
// one task per ring). What a queued call reads (W's values, the delays)
// cannot change before it runs, because any operation that could change
// them runs the queue first; the spike mask is read when the call is made.
// A layout holds a copy of W's values as of its making, and is used only
// while W's values are unchanged (tensor.gen), so references read them as
// of the call too.

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

// add adds alpha times the contributions of items to d (see item).
func (r *ring) add(d []float32, items []event, cur *sender) {
	for _, ev := range items {
		if ev.i >= 0 {
			d[ev.i] += ev.v
			continue
		}
		at := math.Float32bits(ev.v)
		if ev.i == itemSender {
			*cur = r.senders[at]
			continue
		}
		addRun(d, cur.lay.ent[at:at+uint32(-ev.i)], cur.alpha)
	}
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
	lay   *layout // if not nil, send references to it (sender snd)
	snd   int32
	dst   []float32
	dstT  *tensor
}

// delayTask is part p of the rings whose group is r.
type delayTask struct {
	r    *ring
	p    int // -1: all parts
	work int
	// parts: send to each part's lists (p == -1 only because the group
	// still holds items sent by a whole-ring task, which then drain).
	parts bool
}

// delayQueue holds the queued calls until they run (flushDelayed).
type delayQueue struct {
	kq     *kernelQueue // the kernel runs queued after the calls (during a flush)
	calls  []delayCall
	idx    []int32 // spiking sources of the queued calls
	tasks  []delayTask
	groups []*ring // the groups of the calls (flushDelayed)
	free   []int   // each thread's expected busy time (expectFinish)
	// The masks whose spiking sources are in idx (emptied by a flush).
	masks []maskIdx
}

// maskIdx: the spiking sources of mask t, when its gen was gen, are
// delayQueue.idx[lo:hi].
type maskIdx struct {
	t      *tensor
	gen    uint64
	lo, hi int
}

// maxMasks is the most masks delayQueue remembers.
const maxMasks = 32

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
	if len(b.kq.runs) > 0 {
		b.flush() // queued kernel runs may write the mask or W
	}
	vals := b.check(op, w) // owner and release checks; reads W (no write)
	r := b.delayRing(op, rg)
	dly := b.delaysOf(op, dls, s)
	vecOperand(op, "the mask", mask)
	mt := b.check(op, mask) // read, not written
	backend.CheckPropagateDelayed(rg, slot, w, trans, dls, mask)
	q := &b.dq
	if q.writes(mt) || len(q.calls) >= maxQueued {
		b.flushDelayed() // a queued TakeSlot adds into the mask, or the queue is full
	}
	// The spiking sources: those found by a queued call with this mask
	// if it has not changed since (a population's spikes are sent through
	// each of its projections), else found anew.
	lo, hi := -1, -1
	for _, m := range q.masks {
		if m.t == mt && m.gen == mt.gen {
			lo, hi = m.lo, m.hi
		}
	}
	if lo < 0 {
		lo = len(q.idx)
		idx := b.spikesOf(mask, mt.data, false)
		for _, i := range idx {
			q.idx = append(q.idx, int32(i))
		}
		hi = len(q.idx)
		b.noteSpikes(mask, nil, idx)
		if q.masks == nil {
			q.masks = make([]maskIdx, 0, maxMasks)
		} else if len(q.masks) == maxMasks {
			q.masks = q.masks[:0]
		}
		q.masks = append(q.masks, maskIdx{mt, mt.gen, lo, hi})
	}
	// Every call counts towards making a layout, with spikes or not, so
	// that it is made at the third step of a network, not at some later
	// step with spikes.
	lay := dly.layoutFor(b, trans, r.bounds, vals.gen)
	if hi == lo || len(s.colIdx) == 0 {
		return
	}
	nSrc := s.cols
	if trans {
		nSrc = s.rows
	} else {
		s.transposed()
	}
	c := delayCall{
		r: r, slot: slot, work: (hi - lo) * max(1, len(s.colIdx)/max(1, nSrc)),
		s: s, v: vals.data, dly: dly, trans: trans, alpha: alpha,
		lo: lo, hi: hi, snd: -1,
	}
	if lay != nil && lay.events && lay.cv == nil {
		lay = nil // the row form: W's own entries are read in order
	}
	if c.lay = lay; lay != nil && !lay.events {
		if c.snd = r.senderOf(c.lay, alpha); c.snd < 0 {
			c.lay = nil
		}
	}
	if c.lay == nil || c.lay.events {
		c.split = s.partSplit(trans, r.bounds)
	}
	q.calls = append(q.calls, c)
}

// TakeSlot queues the addition of what slot of the ring holds to dst.
func (b *Backend) TakeSlot(dst backend.Tensor, rg backend.DelayRing, slot int) {
	const op = "TakeSlot"
	b.live(op)
	vecOperand(op, "the destination", dst)
	if len(b.kq.runs) > 0 {
		b.flush() // queued kernel runs may write dst
	}
	d := b.tenNow(op, dst)
	r := b.delayRing(op, rg)
	backend.CheckTakeSlot(dst, rg, slot)
	dT := dst.(*tensor)
	q := &b.dq
	work := 0
	for p := range r.parts {
		work += r.parts[p].work(slot)
	}
	if len(q.calls) >= maxQueued {
		b.flushDelayed()
	}
	q.calls = append(q.calls, delayCall{r: r, slot: slot, work: work, dst: d, dstT: dT})
}

// orderAfter reports whether kernel run k can be queued after the queued
// calls, and if so sets k.after to the rings whose TakeSlot adds into a
// tensor of k (k then runs after their tasks, in the same dispatch). It
// cannot if k uses the values of a queued call's W. (A queued call's spike
// mask may be rewritten: its spiking sources were collected by the call.)
func (q *delayQueue) orderAfter(k *kernel) bool {
	k.after = k.after[:0]
	if len(q.calls) == 0 {
		return true
	}
	for i, t := range k.ts {
		if !k.p.Reads(i) && !k.p.Writes(i) {
			continue
		}
		for c := range q.calls {
			c := &q.calls[c]
			if c.s != nil && c.s.vals == t {
				return false
			}
			if c.s == nil && c.dstT == t && !slices.Contains(k.after, c.r) {
				k.after = append(k.after, c.r)
			}
		}
	}
	return true
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
		r.grp, r.work, r.listed, r.whole, r.finish = r, 0, false, false, 0
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
		g.whole = g.whole || c.r.wholeSlots > 0
		total += c.work
	}
	// A task per group when there are enough groups to keep the threads
	// busy (a row is then read in one run, all parts at once) or when the
	// group holds items sent by such a task, else a task per part of each
	// group.
	k := b.parts(total, grainDelay)
	q.tasks = q.tasks[:0]
	for _, g := range q.groups {
		if parts := len(g.parts); len(q.groups) >= 2*k || parts == 1 || g.whole {
			// A group that would run per part but holds items of a
			// whole-ring task runs as one task sending per part, until
			// those items are taken.
			drain := len(q.groups) < 2*k && parts > 1
			q.tasks = append(q.tasks, delayTask{r: g, p: -1, work: g.work, parts: drain})
		} else {
			for p := range parts {
				q.tasks = append(q.tasks, delayTask{r: g, p: p, work: g.work / parts})
			}
		}
	}
	// The largest tasks first: the threads claim them in order.
	slices.SortStableFunc(q.tasks, func(a, b delayTask) int { return b.work - a.work })
	// Then the kernel runs queued after the calls, each after the tasks
	// of the rings whose takes add into its tensors.
	kq := &b.kq
	if len(kq.runs) > 0 {
		k = max(k, b.parts(kq.work, grainKernel))
	}
	q.expectFinish(k)
	nk := 0
	if len(kq.runs) > 0 {
		for _, kr := range kq.runs {
			for i, r := range kr.after {
				kr.after[i] = r.group()
			}
		}
		kq.chunk(k)
		// The runs whose rings are expected to finish first come first,
		// so that a thread that reaches a run seldom waits for its ring.
		slices.SortStableFunc(kq.chunks, func(a, b kernelChunk) int { return a.k.ringsFinish() - b.k.ringsFinish() })
		nk = len(kq.chunks)
	}
	q.kq = kq
	b.splitEach(q, len(q.tasks)+nk, k)
	if len(kq.runs) > 0 {
		kq.done()
	}
	q.kq = nil
	for i := range q.calls {
		q.calls[i] = delayCall{}
	}
	clear(q.groups)
	clear(q.tasks)
	clear(q.masks)
	q.calls, q.idx, q.groups, q.masks = q.calls[:0], q.idx[:0], q.groups[:0], q.masks[:0]
}

// expectFinish counts the tasks of each ring group (pending) and sets
// its expected finish (in units of work): the threads claim the tasks in
// order, each as soon as it is free, as if every task took its work.
func (q *delayQueue) expectFinish(threads int) {
	threads = max(1, threads)
	if cap(q.free) < threads {
		q.free = make([]int, threads)
	}
	q.free = q.free[:threads]
	clear(q.free)
	for _, t := range q.tasks {
		t.r.pending.Add(1)
		j := 0
		for i, f := range q.free {
			if f < q.free[j] {
				j = i
			}
		}
		q.free[j] += t.work
		t.r.finish = max(t.r.finish, q.free[j])
	}
}

// run runs the tasks [lo, hi).
func (q *delayQueue) run(_, lo, hi int) {
	for x := lo; x < hi; x++ {
		if x >= len(q.tasks) {
			q.kq.runAfter(&q.kq.chunks[x-len(q.tasks)])
			continue
		}
		t := q.tasks[x]
		q.prefetchSends(t.r)
		for i := range q.calls {
			c := &q.calls[i]
			switch {
			case c.grp != t.r:
			case c.s != nil && t.parts:
				for p := range c.r.parts {
					c.send(q.idx[c.lo:c.hi], p)
				}
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
		t.r.pending.Add(-1)
	}
}

// prefetchSends asks for the layout groups of the spiking sources that
// the calls of group g send: where each source's groups start, then the
// groups. Each is a cache miss at a scattered place (two dependent
// ones per spike and projection, ~200 ns each on the PD14 machine);
// prefetched together, they overlap.
func (q *delayQueue) prefetchSends(g *ring) {
	var addrs [64]uintptr
	flush := func(n int) int {
		prefetchAddrs(addrs[:n])
		return 0
	}
	for pass := range 2 {
		n := 0
		for k := range q.calls {
			c := &q.calls[k]
			if c.grp != g || !c.refs() {
				continue
			}
			L := c.lay
			for _, i := range q.idx[c.lo:c.hi] {
				if pass == 0 {
					addrs[n] = uintptr(unsafe.Pointer(&L.segStart[i]))
					n++
				} else if a, b := L.segStart[i], L.segStart[i+1]; a < b {
					addrs[n] = uintptr(unsafe.Pointer(&L.segs[a]))
					addrs[n+1] = uintptr(unsafe.Pointer(&L.segs[b-1]))
					n += 2
				}
				if n >= len(addrs)-1 {
					n = flush(n)
				}
			}
		}
		flush(n)
	}
}

// take adds part p of the slot to dst and empties it.
func (c *delayCall) take(p int) {
	rp := &c.r.parts[p]
	c.r.takePart(rp, c.slot, c.dst)
	c.r.empty(rp, c.slot)
}

// pfChunk is the number of items whose referenced entries are prefetched
// at a time (takePart).
const pfChunk = 32

// cursor walks a slot's items in chunks of at most n items within a
// block, keeping the sender of the references (see item).
type cursor struct {
	rp      *ringPart
	b, tail int32   // the current block, the last block (-1: none)
	at      int32   // the end of the items in the last block
	blk     []event // what is left of block b
	snd     sender
}

func (p *ringPart) cursor(slot int) cursor {
	sl := p.slots[slot]
	c := cursor{rp: p, b: sl.head, tail: -1, at: sl.at}
	if sl.head >= 0 {
		c.tail = sl.tail()
		c.blk = c.items(sl.head)
	}
	return c
}

func (c *cursor) items(b int32) []event {
	lo := b * blockEvents
	if b == c.tail {
		return c.rp.arena[lo:c.at]
	}
	return c.rp.arena[lo : lo+blockEvents]
}

// next returns the next (at most n) items, or none at the end.
func (c *cursor) next(n int) []event {
	for len(c.blk) == 0 {
		if c.b < 0 || c.b == c.tail {
			c.b = -1
			return nil
		}
		c.b = c.rp.next[c.b]
		c.blk = c.items(c.b)
	}
	ch := c.blk[:min(len(c.blk), n)]
	c.blk = c.blk[len(ch):]
	return ch
}

// prefetch asks for the cache lines of the entries of each reference of
// ch (at most pfChunk items). (Every line, not only the first and the
// last: PD14 ~6% faster per step.)
func (r *ring) prefetch(c *cursor, ch []event) {
	var addrs [8 * pfChunk]uintptr
	n := 0
	for _, ev := range ch {
		if ev.i >= 0 {
			continue
		}
		at := math.Float32bits(ev.v)
		if ev.i == itemSender {
			c.snd = r.senders[at]
			continue
		}
		e := c.snd.lay.ent[at : at+uint32(-ev.i)]
		first := uintptr(unsafe.Pointer(&e[0]))
		last := uintptr(unsafe.Pointer(&e[len(e)-1]))
		for a := first &^ 63; a <= last && n < len(addrs); a += 64 {
			addrs[n] = a
			n++
		}
		if n >= len(addrs)-8 {
			prefetchAddrs(addrs[:n])
			n = 0
		}
	}
	prefetchAddrs(addrs[:n])
}

// takePart adds what slot holds in part rp to d. The entries that
// references point to lie at scattered places of the layouts (a cache
// miss each), so those of the next chunk of items are prefetched while a
// chunk is added. (On PD14 this made a step ~20% faster; chunks
// of 8 or 16, prefetched 1 to 4 chunks ahead, and prefetching the next
// slot's entries too, a step ahead, into L2, made no measurable
// difference.)
func (r *ring) takePart(rp *ringPart, slot int, d []float32) {
	if rp.slots[slot].snd < 0 { // events only: nothing to prefetch
		var cur sender
		rp.each(slot, func(evs []event) { r.add(d, evs, &cur) })
		return
	}
	cur := rp.cursor(slot)
	ahead := cur
	r.prefetch(&ahead, ahead.next(pfChunk))
	for ch := cur.next(pfChunk); len(ch) > 0; ch = cur.next(pfChunk) {
		r.prefetch(&ahead, ahead.next(pfChunk))
		r.add(d, ch, &cur.snd)
	}
}

// send appends the entries of the spiking sources idx that end in part p
// (p < 0: in any part) to the slots their delays send them to.
//
// A task that sends every part (p < 0: the ring's whole group is one
// task) appends everything to part 0's slots, marked whole
// (slotList.whole): such a slot is taken by a whole-ring task too
// (flushDelayed), which adds part 0's items to any destination. One list
// per slot keeps the order of the additions that of one thread, and a
// spiking source needs one reference per delay, not one per part.
func (c *delayCall) send(idx []int32, p int) {
	r, s := c.r, c.s
	start := s.colStart // the spiking columns through the transposed index
	if c.trans {
		start = s.rowStart // the spiking rows
	}
	// (A software prefetch of the next spiking row made PD14 at full scale
	// slower: rtf 12.9 against 8.8.)
	if p < 0 {
		rp := &r.parts[0]
		for _, i := range idx {
			if c.refs() {
				c.sendRefs(rp, int(i), -1)
			} else if e, end := start[i], start[i+1]; e < end {
				c.sendRange(rp, e, end)
			}
		}
		// Every slot the call may have sent to and that holds items now
		// is marked (once per call, not per item; marking a slot that
		// also holds items of a per-part task only makes its ring run as
		// one task until it is taken).
		for k := range min(c.dly.longest, r.depth-1) + 1 {
			if sl := &rp.slots[r.wrap[c.slot+k]]; sl.head >= 0 && !sl.whole {
				sl.whole = true
				r.wholeSlots++
			}
		}
		return
	}
	rp := &r.parts[p]
	for _, i := range idx {
		if c.refs() {
			c.sendRefs(rp, int(i), p)
		} else if e, end := partRange(start, c.split, int(i), p, len(r.parts)); e < end {
			c.sendRange(rp, e, end)
		}
	}
}

// sendRefs appends to rp's slots a reference per delay to the entries of
// source i in part q of the call's layout, or in every part if q < 0 (the
// entries of one delay are adjacent: the layout is ordered by delay, then
// part).
func (c *delayCall) sendRefs(rp *ringPart, i, q int) {
	L := c.lay
	segs := L.segs[L.segStart[i]:L.segStart[i+1]]
	at := uint32(L.start[i])                    // where segs[x] starts in the layout
	wrap := c.r.wrap[c.slot : c.slot+c.r.depth] // wrap[k]: the slot of delay k
	maxk := c.r.depth - 1
	snd := c.snd
	for x := 0; x < len(segs); {
		sg := segs[x]
		lo, n := at, uint32(sg.n)
		at += n
		x++
		if q < 0 {
			for ; x < len(segs) && segs[x].k == sg.k; x++ {
				n += uint32(segs[x].n)
				at += uint32(segs[x].n)
			}
		} else if int(sg.p) != q {
			continue
		}
		sl := &rp.slots[wrap[min(int(sg.k), maxk)]]
		if sl.snd != snd {
			sl.snd = snd
			rp.put(sl, event{itemSender, math.Float32frombits(uint32(snd))})
		}
		rp.put(sl, event{-int32(n), math.Float32frombits(lo)})
		sl.work += int64(n)
	}
}

// sendChunk is how many entries sendRange reads before it appends them.
const sendChunk = 64

// sendRange appends the entries [e, end) of the row form (with trans) or
// of the column form to rp's slots. The row form with delays below 256
// steps, and the column form of a W with an events layout (its values and
// delays copied in column order), are read in order (sendInOrder); every
// other case reads a chunk of entries' slots and events (read, below) and
// then appends them (ringPart.push).
func (c *delayCall) sendRange(rp *ringPart, e, end int64) {
	if idx, v, dl := c.inOrder(); idx != nil {
		c.sendInOrder(rp, idx[e:end], v[e:end], dl[e:end])
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

// sendInOrder appends the events (idx[k], alpha*v[k]) to the slots of the
// delays dl[k] (every delay below 256 steps).
func (c *delayCall) sendInOrder(rp *ringPart, idx []int32, v []float32, dl []uint8) {
	wrap := c.r.wrap[c.slot : c.slot+c.r.depth] // wrap[k]: the slot of delay k
	maxk := uint8(min(c.r.depth-1, 255))        // every small delay is below 256
	slots, arena, a := rp.slots, rp.arena, c.alpha
	v, dl = v[:len(idx)], dl[:len(idx)]
	for k, ci := range idx {
		sl := &slots[wrap[min(dl[k], maxk)]]
		if sl.at == sl.end {
			rp.link(sl)
			arena = rp.arena
		}
		arena[sl.at] = event{ci, float32(a * v[k])}
		sl.at++
	}
}

// inOrder returns the arrays that hold the destinations, values and delays
// of the call's entries in the order sent (indexed like W's entries of the
// form sent from), or nil if there are none: the row form with delays
// below 256 steps, or the column form of a W with a copy of its values and
// delays in column order (an events layout).
func (c *delayCall) inOrder() (idx []int32, v []float32, dl []uint8) {
	switch {
	case c.lay != nil && c.lay.events:
		return c.s.rowIdx, c.lay.cv, c.lay.cdl
	case c.trans && c.dly.small != nil:
		return c.s.colIdx, c.v, c.dly.small
	}
	return nil, nil, nil
}

// refs reports whether the call sends references (else events).
func (c *delayCall) refs() bool { return c.lay != nil && !c.lay.events }

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
	lays     [2]layState // sent from columns [0] or rows [1]
	longest  int         // the longest delay
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

// A layout is W's entries reordered for sending whole groups of them: per
// source, by delay, then by part of the destinations, then in W's order,
// each entry a (destination, value) pair. PropagateDelayed then sends one
// reference per (spiking source, delay, part) instead of one event per
// entry, and TakeSlot reads the referenced entries in place: a spike costs
// a few dozen appends instead of thousands (PD14: ~4,000 synapses in ~50
// delays per spike), and no entry is written twice. A layout whose groups
// are too short for that (minRun) is sent as events, read in order from
// the layout (PD14 at full scale, 25 of 55 projections, 9% of the
// synapses: sending them from W's column form, which reads the values
// at scattered places, took ~45% of the time spent sending). The values
// are a copy, valid while W's values do not change (tensor.gen): a layout
// is made for a W that kept its values over minStable sends, and dropped
// for events as soon as W changes, so a plastic W is sent as events.
type layout struct {
	start []int64 // source i's entries are [start[i], start[i+1]) (W's index)
	// segs[segStart[i]:segStart[i+1]] are the non-empty (delay, part)
	// groups of source i's entries, in order.
	segStart []int64
	segs     []seg
	np       int     // parts
	ent      []event // the entries, ordered
	nk       int     // delays 0..nk-1
	stride   int     // np*nk + 1 (groups per source + 1)
	bounds   []int
	gen      uint64 // W's values' gen when copied
	// events: the groups are too small for references (minRun), so the
	// entries are sent as events, and the layout holds no entries, only,
	// for the column form (whose values and delays W holds in row order,
	// at scattered places for a column), cv and cdl: the values and
	// delays in column order (nil for the row form, read from W itself).
	events bool
	cv     []float32
	cdl    []uint8
}

// seg is a group of entries of one source with one delay k in part p.
type seg struct{ k, p, n uint16 }

// layState is how a delays object sends in one direction.
type layState struct {
	lay    *layout
	gen    uint64 // W's gen at the last send
	stable int    // sends since W's gen last changed
	never  bool   // the layout cannot be made (too long a source)
}

// minStable is the number of sends with unchanged W values after which
// a layout is made.
const minStable = 3

// minRun is the fewest entries per (source, delay, part) group, on
// average, for which a layout is sent by reference: a reference costs
// about what a few events cost, so a W whose sources spread few entries
// over many delays is sent as events, read from its layout (go test ./cpu
// -bench PropagateDelayed: ~2 entries per group, 26-30 us per step with
// references against 11-16 with events; PD14: ~10 per group, references
// ~25% faster; at full scale, a threshold of 2.5 or 8 instead of 4 made no
// difference beyond the noise).
const minRun = 4

// layoutFor returns the layout to send with, given W's gen, or nil to send
// events.
func (d *delays) layoutFor(b *Backend, trans bool, bounds []int, gen uint64) *layout {
	k := 0
	if trans {
		k = 1
	}
	st := &d.lays[k]
	if st.never {
		return nil
	}
	if gen != st.gen {
		st.gen, st.stable, st.lay = gen, 0, nil
	}
	st.stable++
	if st.lay != nil && slices.Equal(st.lay.bounds, bounds) {
		return st.lay
	}
	if st.stable < minStable {
		return nil
	}
	st.lay = d.makeLayout(b, trans, bounds, gen)
	st.never = st.lay == nil
	return st.lay
}

// makeLayout builds the layout of d's W (nil if a source has 65,536
// entries or more or W 2^31 entries or more), to be sent as events if its
// groups have fewer than minRun entries on average.
func (d *delays) makeLayout(b *Backend, trans bool, bounds []int, gen uint64) *layout {
	s := d.s
	start, idx, n := s.rowStart, s.colIdx, s.rows
	if !trans {
		s.transposed()
		start, idx, n = s.colStart, s.rowIdx, s.cols
	}
	nnz := len(idx)
	if nnz >= math.MaxInt32 {
		return nil
	}
	for i := range n {
		if int(start[i+1]-start[i]) >= math.MaxUint16 {
			return nil
		}
	}
	np := len(bounds) - 1
	L := &layout{start: start, nk: d.longest + 1, bounds: slices.Clone(bounds), gen: gen}
	if L.nk > math.MaxUint16 || np > math.MaxUint16 {
		return nil
	}
	L.np, L.stride = np, np*L.nk+1
	// The entries are read at scattered places: on 4 KiB pages nearly
	// every reference would miss the TLB.
	var free func()
	L.ent, free = hugeSlice[event](nnz)
	// Two passes: the entries and the groups' sizes (as offsets, 2
	// bytes per group), then the non-empty groups.
	j := &layoutJob{L: L, d: d, trans: trans, idx: idx, v: s.vals.data, off: make([]uint16, n*L.stride)}
	k := b.parts(nnz, 1<<16)
	b.split(j, n, k, 1)
	L.segStart = make([]int64, n+1)
	for i := range n {
		off := j.off[i*L.stride : (i+1)*L.stride]
		c := 0
		for g := range L.stride - 1 {
			if off[g] != off[g+1] {
				c++
			}
		}
		L.segStart[i+1] = L.segStart[i] + int64(c)
	}
	if int64(nnz) < minRun*L.segStart[n] {
		// Too short for references: events.
		free()
		L = &layout{events: true, bounds: L.bounds, gen: gen}
		if !trans && d.small != nil {
			L.cv, L.cdl = make([]float32, nnz), make([]uint8, nnz)
			b.split(&copyColumnsJob{L: L, d: d}, nnz, b.parts(nnz, grainElementwise), 1)
		}
		return L
	}
	var freeSegs func()
	L.segs, freeSegs = hugeSlice[seg](int(L.segStart[n]))
	runtime.AddCleanup(L, func(f [2]func()) { f[0](); f[1]() }, [2]func(){free, freeSegs})
	j.pass = 1
	b.split(j, n, k, 1)
	return L
}

// copyColumnsJob copies the values and delays of W's entries [lo, hi) in
// column order into L.cv and L.cdl.
type copyColumnsJob struct {
	L *layout
	d *delays
}

func (j *copyColumnsJob) run(_, lo, hi int) {
	v, small := j.d.s.vals.data, j.d.small
	for e, x := range j.d.s.perm[lo:hi] {
		j.L.cv[lo+e], j.L.cdl[lo+e] = v[x], small[x]
	}
}

// layoutJob fills the layout of sources [lo, hi).
type layoutJob struct {
	L     *layout
	d     *delays
	trans bool
	idx   []int32
	v     []float32
	off   []uint16 // off[i*stride + k*np + p]: offset of (delay k, part p) in source i's entries
	pass  int
}

func (j *layoutJob) run(_, lo, hi int) {
	L, s := j.L, j.d.s
	if j.pass == 1 {
		for i := lo; i < hi; i++ {
			off := j.off[i*L.stride : (i+1)*L.stride]
			segs := L.segs[L.segStart[i]:L.segStart[i+1]]
			c := 0
			for g := range L.stride - 1 {
				if off[g] != off[g+1] {
					segs[c] = seg{k: uint16(g / L.np), p: uint16(g % L.np), n: off[g+1] - off[g]}
					c++
				}
			}
		}
		return
	}
	np := len(L.bounds) - 1
	cnt := make([]int, L.stride)
	for i := lo; i < hi; i++ {
		e0, e1 := L.start[i], L.start[i+1]
		clear(cnt)
		p := 0
		key := func(e int64) int {
			x := e
			if !j.trans {
				x = int64(s.perm[e])
			}
			if int(j.idx[e]) < L.bounds[p] {
				p = 0
			}
			for p+1 < np && int(j.idx[e]) >= L.bounds[p+1] {
				p++
			}
			return j.d.step(int(x))*np + p
		}
		for e := e0; e < e1; e++ {
			cnt[key(e)+1]++
		}
		for k := 1; k < L.stride; k++ {
			cnt[k] += cnt[k-1]
		}
		off := j.off[i*L.stride : (i+1)*L.stride]
		for k := range off {
			off[k] = uint16(cnt[k])
		}
		p = 0
		for e := e0; e < e1; e++ {
			x := e
			if !j.trans {
				x = int64(s.perm[e])
			}
			k := key(e)
			L.ent[e0+int64(cnt[k])] = event{j.idx[e], j.v[x]}
			cnt[k]++
		}
	}
}
