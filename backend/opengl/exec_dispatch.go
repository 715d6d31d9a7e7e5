package opengl

import (
	"math"

	"github.com/go-gl/gl/v4.3-core/gl"
)

func (x *executor) use(p *program) {
	if x.curProg != p.id {
		gl.UseProgram(p.id)
		x.curProg = p.id
	}
}

// bind queues buf at binding i for the next dispatch.
func (x *executor) bind(i uint32, buf *glbuf, write bool) {
	x.pend[x.npend] = access{binding: i, buf: buf, write: write}
	x.npend++
}

// bindAccum queues buf at binding i for a dispatch that only adds to it
// atomically (see access).
func (x *executor) bindAccum(i uint32, buf *glbuf) {
	x.pend[x.npend] = access{binding: i, buf: buf, write: true, accum: true}
	x.npend++
}

// bindOpt binds t's single buffer, or the dummy buffer when t is nil.
func (x *executor) bindOpt(i uint32, t *tensor) {
	if t == nil {
		x.bind(i, x.dummy, false)
		return
	}
	x.bind(i, t.tiles[0], false)
}

// grid spreads groups over x and y (at most 65535 each way).
func grid(groups int) (gx, gy uint32) {
	if groups <= 65535 {
		return uint32(groups), 1
	}
	return 65535, uint32((groups + 65534) / 65535)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// strided returns the number of groups of local invocations for a
// grid-stride kernel over n items.
func (x *executor) strided(n, local int) int { return min(ceilDiv(n, local), x.maxGroups) }

// vec4 reports whether rows of cols float32 can be read as vec4.
func vec4(cols int) int {
	if cols%4 == 0 {
		return 1
	}
	return 0
}

// dispatch runs p over groups groups with the queued bindings, after a
// memory barrier if it depends on an earlier dispatch.
func (x *executor) dispatch(p *program, groups int) {
	if groups <= 0 {
		x.npend = 0
		return
	}
	x.prepare(p, nil)
	gx, gy := grid(groups)
	gl.DispatchCompute(gx, gy, 1)
}

// dispatchIndirect runs p with the queued bindings over the work-group
// counts that a shader wrote to args at byte offset off, after the
// barriers the bindings and args need.
func (x *executor) dispatchIndirect(p *program, args *glbuf, off int) {
	x.prepare(p, args)
	if x.indirect != args.id {
		gl.BindBuffer(gl.DISPATCH_INDIRECT_BUFFER, args.id)
		x.indirect = args.id
	}
	gl.DispatchComputeIndirect(off)
}

// prepare makes p current, issues the barrier the queued bindings need
// (and the command barrier for indirect arguments written since the last
// barrier), binds them and records the accesses.
func (x *executor) prepare(p *program, args *glbuf) {
	pend := x.pend[:x.npend]
	x.npend = 0
	x.use(p)
	var bits uint32
	if args != nil && args.wseq > x.commandSeen {
		bits = gl.COMMAND_BARRIER_BIT // args written since the last one
	}
	need := false
	for _, a := range pend {
		b := a.buf
		switch {
		case b.wEpoch == x.epoch:
			need = true
		case a.accum: // after reads; atomic additions commute
			need = need || b.rEpoch == x.epoch
		case a.write:
			need = need || b.rEpoch == x.epoch || b.aEpoch == x.epoch
		default:
			need = need || b.aEpoch == x.epoch
		}
	}
	if need || bits != 0 {
		gl.MemoryBarrier(gl.SHADER_STORAGE_BARRIER_BIT | bits)
		x.epoch++
		x.stats.barriers++
		if bits != 0 {
			x.commandSeen = x.wseq
		}
	}
	for _, a := range pend {
		if x.bound[a.binding] != a.buf.id {
			gl.BindBufferBase(gl.SHADER_STORAGE_BUFFER, a.binding, a.buf.id)
			x.bound[a.binding] = a.buf.id
		}
	}
	x.wseq++
	for _, a := range pend {
		switch {
		case a.accum:
			a.buf.aEpoch = x.epoch
			a.buf.wseq = x.wseq
		case a.write:
			a.buf.wEpoch = x.epoch
			a.buf.wseq = x.wseq
		default:
			a.buf.rEpoch = x.epoch
		}
	}
	if args != nil {
		args.rEpoch = x.epoch
	}
	x.dispatched = true
}

// loopChunk returns how long a range [loopLo, loopHi) of its inner loop
// each invocation of a grid-stride dispatch over items may run: all of it
// on GPUs; on software renderers like llvmpipe, which leaves a shader's loops after
// llvmpipeLoopLimit iterations in all, short enough that no invocation
// loops more than a quarter of that (the caller dispatches the ranges one
// after another).
func (x *executor) loopChunk(items, groups int) int {
	if !x.b.software { // the renderer's limit, whichever paths it takes
		return math.MaxUint32
	}
	perInvocation := max(1, ceilDiv(items, groups*64))
	return max(1, llvmpipeLoopLimit/4/perInvocation)
}
