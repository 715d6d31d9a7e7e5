package cpu

import (
	"slices"
	"unsafe"

	"github.com/gomonnto/gomonnto/backend"
)

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
	switch {
	case c.lay == nil:
		dly.last = StrategyEvents
	case c.lay.events:
		dly.last = StrategyLayoutEvents
	default:
		dly.last = StrategyReferences
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
