package opengl

import (
	"fmt"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
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
	if b.h.maxBlockBytes > 0 {
		block = b.h.maxBlockBytes
	}
	if block > maxBlockCap {
		block = maxBlockCap
	}
	if block < 1<<16 && b.h.maxBlockBytes == 0 {
		return nil, fmt.Errorf("%s reports GL_MAX_SHADER_STORAGE_BLOCK_SIZE = %d, too small for compute work; use -backend=cpu", renderer, block)
	}
	b.maxElems = int(block / 4)
	var bindings int32
	gl.GetIntegerv(gl.MAX_COMPUTE_SHADER_STORAGE_BLOCKS, &bindings)
	b.maxBindings = int(bindings)
	if bindings < 8 {
		return nil, fmt.Errorf("%s allows %d shader storage blocks per compute shader; the gl backend needs 8 (OpenGL 4.3 guarantees them); update the driver or use -backend=cpu", renderer, bindings)
	}
	x.cpuPaths = b.software && !b.h.gpuPaths
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
	switch c.kind {
	case cCopyRange:
		x.copyRange(c.t[0], c.i[0], c.t[1], c.i[1], c.i[2])
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
