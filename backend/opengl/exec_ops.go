package opengl

import (
	"fmt"
	"math"

	"github.com/gomonnto/gomonnto/backend"
)

// elementwise runs p over n elements. Operand 0 (dst, written) starts at
// element dOff of d, operand 1 at aOff of a, operand 2 at bOff of bb (a
// and bb may be nil). The range is cut where any operand crosses from one
// buffer to the next.
func (x *executor) elementwise(p *program, n int, d *tensor, dOff int, a *tensor, aOff int, bb *tensor, bOff int) {
	for pos := 0; pos < n; {
		cnt := n - pos
		dk, dl := d.locate(dOff + pos)
		cnt = min(cnt, d.tileLen(dk)-dl)
		var ak, al, bk, bl int
		if a != nil {
			ak, al = a.locate(aOff + pos)
			cnt = min(cnt, a.tileLen(ak)-al)
		}
		if bb != nil {
			bk, bl = bb.locate(bOff + pos)
			cnt = min(cnt, bb.tileLen(bk)-bl)
		}
		x.bind(0, d.tiles[dk], true)
		if a != nil {
			x.bind(1, a.tiles[ak], false)
		}
		if bb != nil {
			x.bind(2, bb.tiles[bk], false)
		}
		x.setU(p, uN, uint32(cnt))
		x.setU(p, uOffDst, uint32(dl))
		x.setU(p, uOffA, uint32(al))
		x.setU(p, uOffB, uint32(bl))
		x.dispatch(p, x.strided(cnt, 256))
		pos += cnt
	}
}

// copyRange copies n elements; overlapping ranges of one tensor go through
// a scratch tensor.
func (x *executor) copyRange(d *tensor, dOff int, s *tensor, sOff, n int) {
	if d == s && dOff < sOff+n && sOff < dOff+n {
		if x.tmp == nil || x.tmp.Len() < n {
			if x.tmp != nil {
				x.freeTensor(x.tmp)
			}
			x.tmp = &tensor{b: x.b, rows: n, cols: 1}
			_ = layout(x.tmp, x.b.maxElems) // an n x 1 vector always fits
			if err := x.allocTensor(x.tmp); err != nil {
				x.b.setErr(fmt.Errorf("gl: CopyRange: scratch buffer: %v", err))
				x.tmp = nil
				return
			}
		}
		x.elementwise(x.p.copyRange, n, x.tmp, 0, s, sOff, nil, 0)
		x.elementwise(x.p.copyRange, n, d, dOff, x.tmp, 0, nil, 0)
		return
	}
	x.elementwise(x.p.copyRange, n, d, dOff, s, sOff, nil, 0)
}

// reduce runs reduce.comp: pass 1 per buffer of src into partials, pass 2
// into dst[dOff].
func (x *executor) reduce(op backend.ReduceOp, d *tensor, dOff int, s *tensor) {
	n := s.Len()
	op1 := op
	if op == backend.Mean {
		op1 = backend.Sum
	}
	groupsOf := func(cnt int) int { return min(ceilDiv(cnt, 2048), 1024, x.maxGroups) }
	total := 0
	for k := range s.tiles {
		total += groupsOf(s.tileLen(k))
	}
	if !x.ensure(&x.part, int64(total)*8) {
		return
	}
	p1 := x.p.reduce1[op1]
	at := 0
	for k, buf := range s.tiles {
		cnt := s.tileLen(k)
		g := groupsOf(cnt)
		x.bind(0, x.part, true)
		x.bind(1, buf, false)
		x.setU(p1, uN, uint32(cnt))
		x.setU(p1, uOffA, 0)
		x.setU(p1, uOffDst, uint32(at))
		x.dispatch(p1, g)
		at += g
	}
	p2 := x.p.reduce2[op]
	dk, dl := d.locate(dOff)
	x.bind(0, d.tiles[dk], true)
	x.bind(1, x.part, false)
	x.setU(p2, uN, uint32(total))
	x.setU(p2, uOffDst, uint32(dl))
	x.setD(p2, uTotal, float64(n))
	x.dispatch(p2, 1)
}

func (x *executor) matVec(d, w *tensor, trans bool, v *tensor, alpha, beta float32) {
	if !trans {
		p := x.p.matvec[0]
		if x.cpuPaths && vec4(w.cols) == 1 {
			p = x.p.matvec[1]
		}
		x.setU(p, uCols, uint32(w.cols))
		x.setF(p, uAlpha, alpha)
		for k, buf := range w.tiles {
			first, rows := w.tileRowsOf(k)
			x.setU(p, uRows, uint32(rows))
			x.setU(p, uOffDst, uint32(first))
			if !x.cpuPaths {
				x.bind(0, d.tiles[0], true)
				x.bind(1, buf, false)
				x.bind(2, v.tiles[0], false)
				x.setF(p, uBeta, beta)
				x.dispatch(p, rows) // a group per row
				continue
			}
			// An invocation per row, over ranges of its columns (vec4s).
			groups, n := x.strided(rows, 64), w.cols
			if p == x.p.matvec[1] {
				n /= 4
			}
			x.matVecRanges(p, groups, n, x.loopChunk(rows, groups), d, buf, v, beta, true)
		}
		return
	}
	v4 := vec4(w.cols)
	p := x.p.matvecT[v4]
	x.setU(p, uCols, uint32(w.cols))
	x.setF(p, uAlpha, alpha)
	groups := x.strided(w.cols>>(2*v4), 64)
	chunk := x.loopChunk(w.cols>>(2*v4), groups)
	for k, buf := range w.tiles {
		first, rows := w.tileRowsOf(k)
		x.setU(p, uRows, uint32(rows))
		x.setU(p, uOffA, uint32(first))
		x.matVecRanges(p, groups, rows, chunk, d, buf, v, beta, k == 0)
	}
}

// matVecRanges dispatches the mat-vec kernel p (dst d, matrix buffer w,
// vector v) once per range [lo, lo+chunk) of its inner loop over [0, n)
// (loopChunk), with beta for the first range if first is set, and beta 1
// (add to the sums so far) for every other.
func (x *executor) matVecRanges(p *program, groups, n, chunk int, d *tensor, w *glbuf, v *tensor, beta float32, first bool) {
	for lo := 0; lo < n; lo += chunk {
		x.bind(0, d.tiles[0], true)
		x.bind(1, w, false)
		x.bind(2, v.tiles[0], false)
		x.setU(p, uLoopLo, uint32(lo))
		x.setU(p, uLoopHi, uint32(min(lo+chunk, math.MaxUint32)))
		if first && lo == 0 {
			x.setF(p, uBeta, beta)
		} else {
			x.setF(p, uBeta, 1)
		}
		x.dispatch(p, groups)
	}
}

func (x *executor) propagate(d, w *tensor, trans bool, mask *tensor, alpha float32) {
	sl := x.spikes(mask)
	if sl == nil {
		return
	}
	p := x.p.propagate
	v4 := vec4(w.cols)
	if trans {
		p = x.p.propagateT[v4]
	}
	x.setU(p, uCols, uint32(w.cols))
	x.setF(p, uAlpha, alpha)
	for k, buf := range w.tiles {
		first, rows := w.tileRowsOf(k)
		x.setU(p, uRows, uint32(rows))
		// Each invocation sums over the spikes (at most the mask's length).
		items, groups, spikes := rows, x.strided(rows, 64), w.cols
		if trans {
			x.setU(p, uRowBase, uint32(first))
			items = w.cols >> (2 * v4)
			groups, spikes = x.strided(items, 64), w.rows
		} else {
			x.setU(p, uOffDst, uint32(first))
		}
		chunk := x.loopChunk(items, groups)
		for lo := 0; lo < spikes; lo += chunk {
			x.setU(p, uLoopLo, uint32(lo))
			x.setU(p, uLoopHi, uint32(min(lo+chunk, math.MaxUint32)))
			x.bind(0, d.tiles[0], true)
			x.bind(1, buf, false)
			x.bind(2, sl.cnt, false)
			x.bind(3, sl.list, false)
			x.dispatch(p, groups)
		}
	}
}

const (
	outerRowList = 1 << iota
	outerColList
	outerU
	outerV
	outerSoft
	outerClip
)

func (x *executor) outer(w, rm, cm, u, v *tensor, op *backend.OuterParams) {
	var flags uint32
	var rl, cl *spikeList
	if rm != nil {
		if rl = x.spikes(rm); rl == nil {
			return
		}
		flags |= outerRowList
	}
	if cm != nil {
		if cl = x.spikes(cm); cl == nil {
			return
		}
		flags |= outerColList
	}
	if u != nil {
		flags |= outerU
	}
	if v != nil {
		flags |= outerV
	}
	if op.Soft {
		flags |= outerSoft
	}
	if op.Clip {
		flags |= outerClip
	}
	p := x.p.outer
	x.setU(p, uCols, uint32(w.cols))
	x.setU(p, uFlags, flags)
	x.setF(p, uAlpha, op.Alpha)
	x.setF(p, uTarget, op.Target)
	x.setF(p, uLo, op.Lo)
	x.setF(p, uHi, op.Hi)
	for k, buf := range w.tiles {
		first, rows := w.tileRowsOf(k)
		groups := rows
		if rm != nil {
			groups = min(rows, x.maskGroups)
		}
		x.bind(0, buf, true)
		if rm != nil {
			x.bind(1, rl.cnt, false)
			x.bind(2, rl.list, false)
		} else {
			x.bind(1, x.dummy, false)
			x.bind(2, x.dummy, false)
		}
		if cm != nil {
			x.bind(3, cl.cnt, false)
			x.bind(4, cl.list, false)
		} else {
			x.bind(3, x.dummy, false)
			x.bind(4, x.dummy, false)
		}
		x.bindOpt(5, u)
		x.bindOpt(6, v)
		x.setU(p, uRows, uint32(rows))
		x.setU(p, uRowBase, uint32(first))
		x.setU(p, uGroups, uint32(groups))
		x.dispatch(p, groups)
	}
}

func (x *executor) normalize(w *tensor, axis backend.Axis, target float32) {
	if axis == backend.Rows {
		p := x.p.normRows
		x.setU(p, uCols, uint32(w.cols))
		x.setF(p, uTarget, target)
		for k, buf := range w.tiles {
			_, rows := w.tileRowsOf(k)
			x.bind(0, buf, true)
			x.setU(p, uRows, uint32(rows))
			if x.cpuPaths {
				x.dispatch(p, x.strided(rows, 64))
			} else {
				x.dispatch(p, rows) // a group per row
			}
		}
		return
	}
	groups := x.strided(w.cols, 64)
	if len(w.tiles) == 1 {
		p := x.p.normCols[0]
		x.bind(0, w.tiles[0], true)
		x.setU(p, uRows, uint32(w.rows))
		x.setU(p, uCols, uint32(w.cols))
		x.setF(p, uTarget, target)
		x.dispatch(p, groups)
		return
	}
	if !x.ensure(&x.colSum, int64(w.cols)*8) {
		return
	}
	p := x.p.normCols[1]
	x.setU(p, uCols, uint32(w.cols))
	for k, buf := range w.tiles {
		_, rows := w.tileRowsOf(k)
		x.bind(0, buf, false)
		x.bind(1, x.colSum, true)
		x.setU(p, uRows, uint32(rows))
		if k == 0 {
			x.setU(p, uFlags, 1)
		} else {
			x.setU(p, uFlags, 0)
		}
		x.dispatch(p, groups)
	}
	p = x.p.normCols[2]
	x.setU(p, uCols, uint32(w.cols))
	x.setF(p, uTarget, target)
	for k, buf := range w.tiles {
		_, rows := w.tileRowsOf(k)
		x.bind(0, buf, true)
		x.bind(1, x.colSum, false)
		x.setU(p, uRows, uint32(rows))
		x.dispatch(p, groups)
	}
}

func (x *executor) random(c *cmd) {
	d, key := c.dist, c.key
	t := c.t[0]
	p := x.p.random
	words := d.WordsPerElement()
	per := uint64(4 / words)
	x.setU2(p, uSeed, key.Seed)
	x.setU2(p, uCtr, key.Counter)
	x.setU(p, uDist, uint32(d.Kind))
	x.setF(p, uDistA, d.A)
	x.setF(p, uDistB, d.B)
	x.setF(p, uScale, d.Scale)
	x.setF(p, uDensity, d.Density)
	x.setU(p, uWords, uint32(words))
	x.setU(p, uOffDst, 0)
	for k, buf := range t.tiles {
		n := t.tileLen(k)
		first := uint64(k) * uint64(t.tileElems)
		skip := first % per
		x.bind(0, buf, true)
		x.setU(p, uN, uint32(n))
		x.setU2(p, uBase, first/per)
		x.setU(p, uSkip, uint32(skip))
		x.dispatch(p, x.strided((int(skip)+n+int(per)-1)/int(per), 256))
	}
}
