package opengl

import (
	"math/bits"

	"github.com/go-gl/gl/v4.3-core/gl"
)

// spikeListCache is the number of spike lists the executor keeps.
const spikeListCache = 16

// spikeList is the compacted form of a mask: cnt[0] is the number of
// non-zero elements, list their indices in increasing order. With
// Deterministic, cnt[gate ...] holds the 16 gate triples of the
// compaction (compact.comp GATE) and cnt[args ...] the arguments of the
// ordered scatters (ordered.glsl), launching nothing between scatters.
type spikeList struct {
	mask       *glbuf // nil: unused
	n          int
	wseq       uint64 // mask.wseq when the list was made
	cnt, list  *glbuf
	gate, args int
}

// argsTriples is the number of indirect argument triples the compaction
// writes (compact.comp ARGS): 1 to 32 groups per spike.
const argsTriples = 6

// spikeGroups binds the spikes (binding 5 and 6: the list l; or binding
// 5: the mask, for a SCAN variant, when l is nil) and dispatches p
// (bindings queued) over them. From a list: over the work groups that the
// compaction of l chose (compact.comp): on GPUs a group per listed spike
// (at most 65535, each group striding over the list), so that no idle
// groups are launched, and none at all when nothing spiked. From a mask:
// a group per 64 elements. Either way times a number of groups (in y
// or z) that share each spike's entries: about one per 256 entries of a
// mean row of rowLen entries (a power of two, at most 32), so that a few
// spikes with long rows still fill the device.
func (x *executor) spikeGroups(p *program, l *spikeList, mask *tensor, rowLen float64) {
	q := 0
	for q < argsTriples-1 && float64(int(256)<<q) < rowLen {
		q++
	}
	if l == nil {
		x.bind(5, mask.tiles[0], false)
		x.prepare(p, nil)
		gx, gy := grid(ceilDiv(mask.Len(), 64))
		gl.DispatchCompute(gx, gy, 1<<q)
		return
	}
	x.bind(5, l.cnt, false)
	x.bind(6, l.list, false)
	x.dispatchIndirect(p, l.cnt, 4*(1+ceilDiv(l.n, 4096)+3*q))
}

// orderedScatter dispatches the ordered scatter p (ORDERED, for
// Deterministic; bindings 0 to 4 and 7 queued) of the spikes of sl
// through the rows of s (its columns if byCols) into their destinations:
// each invocation owns span destinations and walks the list in order.
// On software renderers the list is cut into ranges of chunk spikes, one
// dispatch each, so that no invocation loops past llvmpipeLoopLimit/2
// (the bound below counts every iteration). The dispatches are indirect
// (ordered.glsl): none runs when nothing spiked, nor for ranges past the
// spikes. finish > 0 has the first range also write the arguments of
// propagate_sparse.comp MODE 7 over finish groups.
func (x *executor) orderedScatter(p *program, sl *spikeList, s *sparse, byCols bool, finish int) {
	nDst, rowLen := s.cols, s.maxRow
	if byCols {
		nDst, rowLen = s.rows, s.maxCol
	}
	lanes, search := orderedLanes(x.cpuPaths), bits.Len(uint(rowLen))
	// Destinations per invocation: more lanes search more (each its own
	// part of every spiking row), fewer make longer loops and, on software
	// renderers, more ranges. A spike costs an invocation at most 2 +
	// search (a binary search) + span iterations: few enough for
	// orderedMinChunk spikes.
	span := 8
	if x.cpuPaths {
		span = 64
	}
	span = max(1, min(span, orderedBudget/orderedMinChunk-2-search), ceilDiv(nDst, lanes<<15))
	q := bits.Len(uint(ceilDiv(nDst, lanes*span) - 1)) // 2^q <= 2^15 groups (the gate triples)
	span = ceilDiv(nDst, lanes<<q)
	chunk, ranges := max(sl.n, 1), 1 // GPUs: one range
	if x.b.software {
		chunk = orderedBudget / (2 + search + s.laneMax(span, byCols))
		ranges = ceilDiv(sl.n, chunk)
	}
	if ranges > ceilDiv(sl.n, orderedMinChunk) {
		panic("gl: ordered scatter: more ranges than the spike list has arguments for")
	}
	x.setU(p, uSpan, uint32(span))
	x.setU(p, uDests, uint32(nDst))
	x.setU(p, uChunk, uint32(chunk))
	x.setU(p, uArgsAt, uint32(sl.args))
	x.setU(p, uFinish, uint32(finish))
	pend, npend := x.pend, x.npend
	for j := range ranges {
		x.pend, x.npend = pend, npend
		x.bind(5, sl.cnt, true) // the ranges' arguments
		x.bind(6, sl.list, false)
		x.setU(p, uLoopLo, uint32(j*chunk))
		if j == 0 {
			x.dispatchIndirect(p, sl.cnt, 4*(sl.gate+3*q))
		} else {
			x.dispatchIndirect(p, sl.cnt, 4*(sl.args+3*j))
		}
	}
	x.npend = 0
}

// orderedBudget is the most loop iterations an invocation of an ordered
// scatter runs on a software renderer.
const orderedBudget = llvmpipeLoopLimit / 2

// orderedMinChunk is the fewest spikes per dispatch of an ordered scatter
// (orderedScatter), which sizes the spike lists' argument regions.
const orderedMinChunk = 64

// orderedLanes is the group size of the ordered scatters: llvmpipe's
// vector width on software renderers.
func orderedLanes(software bool) int {
	if software {
		return 8
	}
	return 64
}

// spikes returns the spike list of mask, compacting it unless the list
// made last for this mask is still current. It returns nil if a scratch
// buffer could not be allocated (the error is recorded).
func (x *executor) spikes(mask *tensor) *spikeList {
	buf, n := mask.tiles[0], mask.Len()
	var l *spikeList
	for i := range x.lists {
		if x.lists[i].mask == buf && x.lists[i].n == n {
			l = &x.lists[i]
			break
		}
	}
	if l != nil && l.wseq == buf.wseq {
		return l
	}
	if l == nil {
		l = &x.lists[x.nextList]
		x.nextList = (x.nextList + 1) % len(x.lists)
		if x.det && l.cnt != nil {
			// The argument region moves with n: start it at zero.
			x.updateBarrier()
			gl.BindBuffer(gl.COPY_WRITE_BUFFER, l.cnt.id)
			gl.ClearBufferData(gl.COPY_WRITE_BUFFER, gl.R32UI, gl.RED_INTEGER, gl.UNSIGNED_INT, nil)
		}
	}
	l.mask = nil
	if !x.compact(mask, &l.cnt, &l.list) {
		return nil
	}
	l.mask, l.n, l.wseq = buf, n, buf.wseq
	l.gate = 1 + ceilDiv(n, 4096) + 3*argsTriples
	l.args = l.gate + 3*16
	return l
}

// compact writes the ordered indices of the non-zero elements of mask to
// *list and their number to (*cnt)[0].
func (x *executor) compact(mask *tensor, cnt, list **glbuf) bool {
	x.stats.compactions++
	n := mask.Len()
	groups := ceilDiv(n, 4096)
	var flags uint32 // the indirect arguments' form (compact.comp)
	if x.cpuPaths {
		flags = 1
	}
	// cnt: the count, each group's count, then the indirect arguments
	// (spikeList).
	words := 1 + groups + 3*argsTriples
	if x.det {
		words += 3*16 + 3*(1+ceilDiv(n, orderedMinChunk))
	}
	if !x.ensure(cnt, int64(words)*4) || !x.ensure(list, int64(n)*4) {
		return false
	}
	if n <= x.serialCompact {
		p := x.p.compactSerial
		x.bind(0, *cnt, true)
		x.bind(1, *list, true)
		x.bind(2, mask.tiles[0], false)
		x.setU(p, uN, uint32(n))
		x.setU(p, uOffA, 0)
		x.setU(p, uGroups, uint32(groups))
		x.setU(p, uFlags, flags)
		x.dispatch(p, 1)
		return true
	}
	if groups > 1 {
		p := x.p.compact1
		x.bind(0, *cnt, true)
		x.bind(2, mask.tiles[0], false)
		x.setU(p, uN, uint32(n))
		x.setU(p, uOffA, 0)
		x.setU(p, uGroups, uint32(groups))
		x.dispatch(p, groups)
	}
	p := x.p.compact2
	x.bind(0, *cnt, true)
	x.bind(1, *list, true)
	x.bind(2, mask.tiles[0], false)
	x.setU(p, uN, uint32(n))
	x.setU(p, uOffA, 0)
	x.setU(p, uGroups, uint32(groups))
	x.setU(p, uFlags, flags)
	x.dispatch(p, groups)
	return true
}
