package opengl

import (
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// glbuf is one GL buffer object. The epochs record the last barrier
// interval in which a dispatch read, wrote or atomically added to it
// (aEpoch); only the GL thread touches them.
type glbuf struct {
	id     uint32
	bytes  int64
	rEpoch uint64
	wEpoch uint64
	aEpoch uint64
	// wseq is the executor's write count at the buffer's last write (a
	// dispatch that binds it for writing, or a host write); spike lists
	// compare it to know whether their mask changed.
	wseq uint64
}

// access is a buffer bound for the next dispatch. accum marks a buffer
// the dispatch only changes by atomic additions (spike scatters into a
// ring or a destination vector): such dispatches need no barrier between
// one another, since atomic additions to one buffer commute, only before
// and after other accesses.
type access struct {
	binding uint32
	buf     *glbuf
	write   bool
	accum   bool
}

// executor is the state of the GL thread.
type executor struct {
	b   *Backend
	ctx glContext
	p   programs
	all []*program

	// epoch counts glMemoryBarrier(GL_SHADER_STORAGE_BARRIER_BIT) calls.
	// A dispatch that reads a buffer written in the current epoch, or
	// writes one read or written in it, issues a barrier first.
	epoch uint64
	// dispatched is set by a dispatch and cleared by
	// glMemoryBarrier(GL_BUFFER_UPDATE_BARRIER_BIT), which buffer reads
	// and writes from the host need after shader writes.
	dispatched bool

	curProg uint32
	bound   [maxKernelTensors]uint32 // buffer at each binding point
	// indirect is the buffer bound to GL_DISPATCH_INDIRECT_BUFFER;
	// commandSeen is wseq at the last GL_COMMAND_BARRIER_BIT: indirect
	// arguments written after it need another.
	indirect    uint32
	commandSeen uint64
	pend        [maxKernelTensors]access // bindings of the next dispatch
	npend       int

	live map[*glbuf]struct{}

	// wseq counts writes to buffers (see glbuf.wseq).
	wseq uint64
	// clearPending is set when a buffer was cleared (newBuffer) and no
	// glFinish has run since. With the NVIDIA driver 580.159 (H100, EGL),
	// parts of a glBufferSubData issued right after the glClearBufferData
	// of a new buffer were lost (PD14's weights and delays read back as
	// zeros in places; TestPD14StateAcrossBackends), and waiting for the
	// clear before the write cured it, so a host write first finishes
	// pending clears (a glFinish per write that follows new buffers;
	// never in a simulation step unless it allocates).
	clearPending bool
	// lists are the spike lists of the masks compacted last (compact.comp),
	// reused while their mask is unchanged: a step of a network whose
	// groups each send through several synapse groups compacts each
	// spike mask once. Replaced round-robin.
	lists    [spikeListCache]spikeList
	nextList int
	// stats count shader-storage barriers and mask compactions (tests
	// check the scheduling with them).
	stats struct{ barriers, compactions int }
	// Scratch buffers, grown on demand and reused.
	part   *glbuf // reduction partials (double)
	colSum *glbuf // column sums (double)
	dummy  *glbuf // bound to unused bindings
	tmp    *tensor

	// det selects the ordered scatters (Backend.det); acc holds the sums
	// of an ordered Propagate without trans (zero between calls).
	det bool
	acc *glbuf
	// cpuPaths selects the kernel variants and group counts that suit a
	// software renderer (llvmpipe); GPUs get the others.
	cpuPaths   bool
	maskGroups int // groups of outer.comp over a spike list
	// maxGroups bounds the groups of grid-stride kernels: each invocation
	// handles elements i, i + stride, ... Software renderers pay per
	// group, so they get few large ones.
	maxGroups int
	// serialCompact is the longest mask compacted by one invocation
	// (software renderers); longer ones use the parallel two-pass form.
	// It stays well below llvmpipeLoopLimit.
	serialCompact int
	// freeMemQuery is the glGetIntegerv query for the device's free
	// memory in KiB (GL_NVX_gpu_memory_info or GL_ATI_meminfo), 0 when
	// the driver has none. Some drivers grant a buffer larger than the
	// device and then stall for minutes clearing it (NVIDIA with 1 TiB),
	// so newBuffer refuses what cannot fit.
	freeMemQuery uint32
}

// llvmpipeLoopLimit is the number of iterations after which Mesa's
// llvmpipe (gallivm) leaves a shader loop, to keep a runaway shader from
// hanging the process: a loop that must run longer silently stops early
// (TestManySpikes: a 70,000-element mask compacted by one invocation lost
// its last spikes). Kernels on the software paths keep every loop far
// below it.
const llvmpipeLoopLimit = 65535

// Free-memory queries of GL_NVX_gpu_memory_info and GL_ATI_meminfo (not in
// the core-profile bindings).
const (
	glGPUMemoryInfoCurrentAvailableVidmemNVX = 0x9049
	glVBOFreeMemoryATI                       = 0x87FB
)

// freeDeviceMemory returns the device's free memory in bytes, if the
// driver tells.
func (x *executor) freeDeviceMemory() (int64, bool) {
	if x.freeMemQuery == 0 {
		return 0, false
	}
	var kib [4]int32 // GL_ATI_meminfo writes four values
	gl.GetIntegerv(x.freeMemQuery, &kib[0])
	if gl.GetError() != gl.NO_ERROR || kib[0] <= 0 {
		return 0, false
	}
	return int64(kib[0]) * 1024, true
}

func newExecutor(b *Backend, ctx glContext) (*executor, error) {
	x := &executor{b: b, ctx: ctx, epoch: 1, live: map[*glbuf]struct{}{}}
	renderer := gl.GoStr(gl.GetString(gl.RENDERER))
	version := gl.GoStr(gl.GetString(gl.VERSION))
	b.software = isSoftware(renderer)
	b.device = fmt.Sprintf("%s, OpenGL %s, through %s", renderer, version, ctx.kind())
	var block int64
	gl.GetInteger64v(gl.MAX_SHADER_STORAGE_BLOCK_SIZE, &block)
	if testMaxBlockBytes > 0 {
		block = testMaxBlockBytes
	}
	if block > maxBlockCap {
		block = maxBlockCap
	}
	if block < 1<<16 && testMaxBlockBytes == 0 {
		return nil, fmt.Errorf("%s reports GL_MAX_SHADER_STORAGE_BLOCK_SIZE = %d, too small for compute work; use -backend=cpu", renderer, block)
	}
	b.maxElems = int(block / 4)
	var bindings int32
	gl.GetIntegerv(gl.MAX_COMPUTE_SHADER_STORAGE_BLOCKS, &bindings)
	b.maxBindings = int(bindings)
	if bindings < 8 {
		return nil, fmt.Errorf("%s allows %d shader storage blocks per compute shader; the gl backend needs 8 (OpenGL 4.3 guarantees them); update the driver or use -backend=cpu", renderer, bindings)
	}
	x.cpuPaths = b.software && !testGPUPaths
	x.det = b.det
	switch {
	case hasExtension("GL_NVX_gpu_memory_info"):
		x.freeMemQuery = glGPUMemoryInfoCurrentAvailableVidmemNVX
	case hasExtension("GL_ATI_meminfo"):
		x.freeMemQuery = glVBOFreeMemoryATI
	}
	x.maskGroups, x.maxGroups, x.serialCompact = 2048, 65535, 0
	if x.cpuPaths {
		x.maskGroups, x.maxGroups, x.serialCompact = 64, 64, llvmpipeLoopLimit/4
	}
	if err := x.compileAll(); err != nil {
		x.close()
		return nil, err
	}
	var err error
	if x.dummy, err = x.newBuffer(16); err != nil {
		x.close()
		return nil, err
	}
	return x, nil
}

// compileAll compiles every kernel.
func (x *executor) compileAll() error {
	for _, s := range x.p.specs(x.cpuPaths, x.det) {
		if err := x.compile(s); err != nil {
			return err
		}
	}
	return nil
}

// compile builds the program of s into *s.dst.
func (x *executor) compile(s spec) error {
	src, err := source(s.file, s.defines)
	if err != nil {
		return err
	}
	p, err := compileProgram(specName(s.file, s.defines), src, s.local)
	if err != nil {
		return err
	}
	*s.dst = p
	x.all = append(x.all, p)
	x.b.programs.Add(1)
	return nil
}

// close deletes every buffer and program and the context.
func (x *executor) close() {
	for buf := range x.live {
		x.deleteBuffer(buf)
	}
	for _, p := range x.all {
		gl.DeleteProgram(p.id)
		x.b.programs.Add(-1)
	}
	x.all = nil
	x.p = programs{}
	releaseContext(x.ctx)
}

// ---- errors ----

var glErrorNames = map[uint32]string{
	gl.INVALID_ENUM:                  "GL_INVALID_ENUM",
	gl.INVALID_VALUE:                 "GL_INVALID_VALUE",
	gl.INVALID_OPERATION:             "GL_INVALID_OPERATION",
	gl.INVALID_FRAMEBUFFER_OPERATION: "GL_INVALID_FRAMEBUFFER_OPERATION",
	gl.OUT_OF_MEMORY:                 "GL_OUT_OF_MEMORY",
	gl.STACK_UNDERFLOW:               "GL_STACK_UNDERFLOW",
	gl.STACK_OVERFLOW:                "GL_STACK_OVERFLOW",
	0x0507:                           "GL_CONTEXT_LOST",
}

func glErrorName(code uint32) string {
	if n, ok := glErrorNames[code]; ok {
		return n
	}
	return fmt.Sprintf("GL error %#x", code)
}

// glError drains the GL error flags and describes the first, or returns
// nil.
func (x *executor) glError(what string) error {
	first := gl.GetError()
	if first == gl.NO_ERROR {
		return nil
	}
	return x.describe(first, what)
}

// describe drains the remaining GL error flags and describes the first.
func (x *executor) describe(first uint32, what string) error {
	for i := 0; i < 16 && gl.GetError() != gl.NO_ERROR; i++ {
	}
	if first == gl.OUT_OF_MEMORY {
		return fmt.Errorf("gl: %s: the device ran out of memory (GL_OUT_OF_MEMORY); release tensors you no longer need, use a smaller network, or -backend=cpu", what)
	}
	return fmt.Errorf("gl: %s: OpenGL reported %s", what, glErrorName(first))
}

// ---- buffers ----

// newBuffer creates a zero-filled buffer of bytes bytes.
func (x *executor) newBuffer(bytes int64) (*glbuf, error) {
	if err := x.glError("before allocating a buffer"); err != nil {
		x.b.setErr(err)
	}
	if free, ok := x.freeDeviceMemory(); ok && bytes > free {
		return nil, fmt.Errorf("allocating a buffer of %d bytes failed with GL_OUT_OF_MEMORY: the GPU has %d bytes free", bytes, free)
	}
	var id uint32
	gl.GenBuffers(1, &id)
	gl.BindBuffer(gl.COPY_WRITE_BUFFER, id)
	gl.BufferData(gl.COPY_WRITE_BUFFER, int(bytes), nil, gl.DYNAMIC_COPY)
	if code := gl.GetError(); code != gl.NO_ERROR {
		gl.DeleteBuffers(1, &id)
		if code == gl.OUT_OF_MEMORY {
			return nil, fmt.Errorf("allocating a buffer of %d bytes failed with GL_OUT_OF_MEMORY", bytes)
		}
		return nil, fmt.Errorf("allocating a buffer of %d bytes failed with %s", bytes, glErrorName(code))
	}
	gl.ClearBufferData(gl.COPY_WRITE_BUFFER, gl.R32UI, gl.RED_INTEGER, gl.UNSIGNED_INT, nil)
	x.clearPending = true
	if code := gl.GetError(); code != gl.NO_ERROR {
		gl.DeleteBuffers(1, &id)
		return nil, fmt.Errorf("clearing a buffer of %d bytes failed with %s", bytes, glErrorName(code))
	}
	buf := &glbuf{id: id, bytes: bytes}
	x.live[buf] = struct{}{}
	x.b.buffers.Add(1)
	return buf, nil
}

func (x *executor) deleteBuffer(buf *glbuf) {
	if buf == nil || buf.id == 0 {
		return
	}
	for i, id := range x.bound {
		if id == buf.id {
			x.bound[i] = 0 // deleting unbinds it; the name may be reused
		}
	}
	if x.indirect == buf.id {
		x.indirect = 0
	}
	gl.DeleteBuffers(1, &buf.id)
	buf.id = 0
	delete(x.live, buf)
	x.b.buffers.Add(-1)
	for i := range x.lists {
		if l := &x.lists[i]; l.mask == buf { // a released mask: drop its list
			l.mask = nil
			x.deleteBuffer(l.cnt)
			x.deleteBuffer(l.list)
			l.cnt, l.list = nil, nil
		}
	}
}

// allocTensor creates the buffers of t (laid out by layout).
func (x *executor) allocTensor(t *tensor) error {
	n := t.Len()
	if n == 0 {
		return nil
	}
	tiles := (n + t.tileElems - 1) / t.tileElems
	t.tiles = make([]*glbuf, 0, tiles)
	for k := 0; k < tiles; k++ {
		buf, err := x.newBuffer(int64(t.tileLen(k)) * 4)
		if err != nil {
			x.freeTensor(t)
			what := fmt.Sprintf("gl: NewTensor: allocating %d bytes (%dx%d float32)", int64(n)*4, t.rows, t.cols)
			if tiles > 1 {
				what += fmt.Sprintf(" as %d buffers", tiles)
			}
			return fmt.Errorf("%s: %v; release tensors you no longer need, use a smaller network, or -backend=cpu", what, err)
		}
		t.tiles = append(t.tiles, buf)
	}
	return nil
}

func (x *executor) freeTensor(t *tensor) {
	for _, buf := range t.tiles {
		x.deleteBuffer(buf)
	}
	t.tiles = nil
}

// ensure makes *s a scratch buffer of at least bytes bytes.
func (x *executor) ensure(s **glbuf, bytes int64) bool {
	if *s != nil && (*s).bytes >= bytes {
		return true
	}
	x.deleteBuffer(*s)
	*s = nil
	size := max(bytes, 256)
	if size < 1<<30 {
		size += size / 2 // room to grow
	}
	size = (size + 15) &^ 15 // whole elements of any type
	buf, err := x.newBuffer(size)
	if err != nil {
		x.b.setErr(fmt.Errorf("gl: scratch buffer: %v; release tensors you no longer need or use -backend=cpu", err))
		return false
	}
	*s = buf
	return true
}

// ---- host transfers ----

// updateBarrier makes shader writes visible to glBufferSubData and
// glGetBufferSubData.
func (x *executor) updateBarrier() {
	if x.dispatched {
		gl.MemoryBarrier(gl.BUFFER_UPDATE_BARRIER_BIT)
		x.dispatched = false
	}
}

func (x *executor) read(dst []float32, t *tensor, off int) error {
	x.updateBarrier()
	for pos := 0; pos < len(dst); {
		k, l := t.locate(off + pos)
		cnt := min(len(dst)-pos, t.tileLen(k)-l)
		gl.BindBuffer(gl.COPY_READ_BUFFER, t.tiles[k].id)
		gl.GetBufferSubData(gl.COPY_READ_BUFFER, l*4, cnt*4, unsafe.Pointer(&dst[pos]))
		pos += cnt
	}
	return x.glError("Read")
}

func (x *executor) write(t *tensor, off int, src []float32) error {
	x.updateBarrier()
	if x.clearPending {
		gl.Finish()
		x.clearPending = false
	}
	for pos := 0; pos < len(src); {
		k, l := t.locate(off + pos)
		cnt := min(len(src)-pos, t.tileLen(k)-l)
		x.wseq++
		t.tiles[k].wseq = x.wseq
		gl.BindBuffer(gl.COPY_WRITE_BUFFER, t.tiles[k].id)
		gl.BufferSubData(gl.COPY_WRITE_BUFFER, l*4, cnt*4, unsafe.Pointer(&src[pos]))
		pos += cnt
	}
	return x.glError("Write")
}

// ---- dispatch ----

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

// ---- batches ----

// runBatch executes the commands of bt in order and records the first GL
// error.
func (x *executor) runBatch(bt *batch) {
	for i := range bt.cmds {
		x.exec(&bt.cmds[i], bt)
	}
	if code := gl.GetError(); code != gl.NO_ERROR {
		// Built only on error: formatting allocates.
		x.b.setErr(x.describe(code, fmt.Sprintf("a batch of %d operations", len(bt.cmds))))
	}
}

func (x *executor) exec(c *cmd, bt *batch) {
	p := &x.p
	switch c.kind {
	case cFill:
		x.setF(p.fill, uS, c.f[0])
		x.elementwise(p.fill, c.i[2], c.t[0], c.i[0], nil, 0, nil, 0)
	case cCopyRange:
		x.copyRange(c.t[0], c.i[0], c.t[1], c.i[1], c.i[2])
	case cBinary:
		pr := p.binary[c.op][0]
		x.elementwise(pr, c.t[0].Len(), c.t[0], 0, c.t[1], 0, c.t[2], 0)
	case cBinaryScalar:
		pr := p.binary[c.op][1]
		x.setF(pr, uS, c.f[0])
		x.elementwise(pr, c.t[0].Len(), c.t[0], 0, c.t[1], 0, nil, 0)
	case cUnary:
		x.elementwise(p.unary[c.op], c.t[0].Len(), c.t[0], 0, c.t[1], 0, nil, 0)
	case cAffine:
		x.setF(p.affine, uAlpha, c.f[0])
		x.setF(p.affine, uBeta, c.f[1])
		x.elementwise(p.affine, c.t[0].Len(), c.t[0], 0, c.t[1], 0, nil, 0)
	case cAxpy:
		x.setF(p.axpy, uAlpha, c.f[0])
		x.elementwise(p.axpy, c.t[0].Len(), c.t[0], 0, c.t[1], 0, nil, 0)
	case cWhere:
		x.elementwise(p.where[0], c.t[0].Len(), c.t[0], 0, c.t[1], 0, c.t[2], 0)
	case cWhereScalar:
		x.setF(p.where[1], uS, c.f[0])
		x.elementwise(p.where[1], c.t[0].Len(), c.t[0], 0, c.t[1], 0, nil, 0)
	case cClip:
		x.setF(p.clip, uLo, c.f[0])
		x.setF(p.clip, uHi, c.f[1])
		x.elementwise(p.clip, c.t[0].Len(), c.t[0], 0, c.t[1], 0, nil, 0)
	case cReduce:
		x.reduce(backend.ReduceOp(c.op), c.t[0], c.i[0], c.t[1])
	case cMatVec:
		x.matVec(c.t[0], c.t[1], c.trans, c.t[2], c.f[0], c.f[1])
	case cPropagate:
		x.propagate(c.t[0], c.t[1], c.trans, c.t[2], c.f[0])
	case cOuter:
		x.outer(c.t[0], c.t[1], c.t[2], c.t[3], c.t[4], &c.outer)
	case cNormalize:
		x.normalize(c.t[0], backend.Axis(c.op), c.f[0])
	case cRandom:
		x.random(c)
	case cWrite:
		if err := x.write(c.t[0], c.i[0], bt.data[c.i[1]:c.i[1]+c.i[2]]); err != nil {
			x.b.setErr(err)
		}
	case cRelease:
		x.freeTensor(c.t[0])
	case cKernel:
		x.runKernel(c, bt)
	case cReleaseKernel:
		x.releaseKernel(c.kern)
	case cSparse:
		x.sparseOp(c)
	case cDelay:
		x.delayOp(c)
	case cGather:
		x.gather(c.t[0], c.t[1], c.t[2], c.i[0])
	}
}

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
	if n == 0 {
		var v float32
		switch op {
		case backend.Mean:
			v = float32(math.NaN())
		case backend.MaxReduce:
			v = float32(math.Inf(-1))
		case backend.MinReduce:
			v = float32(math.Inf(1))
		}
		x.setF(x.p.fill, uS, v)
		x.elementwise(x.p.fill, 1, d, dOff, nil, 0, nil, 0)
		return
	}
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
	if d.Kind == rng.Const && d.Density >= 1 {
		// rng.Sample is Scale*A without using the random words.
		x.setF(x.p.fill, uS, d.Scale*d.A)
		x.elementwise(x.p.fill, t.Len(), t, 0, nil, 0, nil, 0)
		return
	}
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
