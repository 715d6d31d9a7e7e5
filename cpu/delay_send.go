package cpu

import (
	"math"
	"slices"
)

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
