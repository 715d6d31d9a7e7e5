// Package opengl is GoMoNNto's OpenGL 4.3 compute-shader backend, registered
// as "gl". It is the only package of the module that uses cgo and go-gl.
//
// Importing it (import _ "github.com/gomonnto/gomonnto/backend/opengl")
// registers the backend; backend.Open("gl", opts) or -backend=gl opens it,
// and -backend=auto prefers it when a probe finds a hardware OpenGL 4.3
// context (not llvmpipe, softpipe or swrast).
//
// # Contexts
//
// Both ways of making a context are in every binary, chosen at run time by
// backend.Options.Context:
//
//   - "egl": EGL without any window system. It tries the GPUs listed by
//     EGL_EXT_platform_device (headless NVIDIA servers), then Mesa's
//     surfaceless platform (a GPU's render node, or llvmpipe on the CPU),
//     then the default display. libEGL is loaded with dlopen at run time,
//     so a missing library is an error naming the packages to install
//     (libegl1 libgl1-mesa-dri), not a failure to start.
//   - "glfw": a hidden 1x1 GLFW window; it needs an X display (DISPLAY, or
//     Xvfb).
//   - "" or "auto": EGL, then GLFW.
//
// go-gl is initialised with gl.InitWithProcAddrFunc from the context's own
// loader (eglGetProcAddress or glfwGetProcAddress), so no build tag is
// needed.
//
// # Threading and batching
//
// One goroutine locked to its OS thread owns the context and makes every
// GL call. Operations do not talk to that thread: each appends a command
// (a small struct, by value) to a slice that only grows, so the per-step
// path allocates nothing and sends no message per operation. Flush hands
// the whole batch to the GL thread with one channel send and returns
// without waiting; recording continues into a second batch (double
// buffering), and the next Flush waits only until the previous batch has
// been issued. Call Flush once per simulation step. A batch also goes out
// by itself when it reaches 4096 commands. Read and Sync wait for the
// device. Small Writes are copied into the batch and run in order with
// the operations; large ones are copied to the buffer at once.
//
// The GL thread binds only what changed (program, buffer bindings, uniform
// values are cached) and issues glMemoryBarrier(GL_SHADER_STORAGE_
// BARRIER_BIT) only between dependent dispatches: a dispatch that reads a
// buffer written since the last barrier, or writes one used since then.
// Spike scatters (Propagate through a sparse matrix, PropagateDelayed)
// only add to their destination atomically, and atomic additions commute,
// so scatters into one ring or vector follow one another without a
// barrier (not the ordered ones of Deterministic, below); the next other
// access to it waits for all of them.
// The spike list of a mask (compact.comp) is kept
// and reused until the mask is written again (a dispatch, Write or Fill),
// so a group that sends through several synapse groups is compacted once
// per step. The compaction also writes the work-group count of the
// scatters, which run as glDispatchComputeIndirect: a group per spike on
// GPUs and no launch at all when nothing spiked (on llvmpipe PD14 at
// scale 0.05 ran 3x faster; not yet timed on a GPU). llvmpipe leaves a
// shader's loops after 65,535 iterations in all, silently, so on software
// renderers the kernels whose invocations loop over a whole dimension
// (MatVec both ways, dense Propagate both ways, the serial compaction, the
// scatters' work groups) split that loop into ranges run one dispatch
// after another (loopChunk); TestLongLoops and TestManySpikes check
// 70,000- to 300,000-long loops against the cpu. The sparse kernels
// read a row (or column) in one loop: on a software renderer an operation
// on a sparse matrix with a row or column of more than 16,383 entries is
// refused with an error naming the limit (TestLongSparseRows) rather
// than run with entries dropped.
// Reads and writes from the host are preceded by
// glMemoryBarrier(GL_BUFFER_UPDATE_BARRIER_BIT) when a dispatch ran since
// the last one. GL errors are collected after each batch and returned by
// the next Flush, Sync, Read or Write.
//
// # Buffers
//
// A tensor is one GL buffer, or several when it exceeds
// GL_MAX_SHADER_STORAGE_BLOCK_SIZE (128 MiB on llvmpipe; queried, and capped
// at 2 GiB): then each buffer holds whole rows (a 6000x6000 float32 matrix
// is two buffers on llvmpipe). Elementwise kernels cut their range where
// any operand crosses a buffer boundary; matrix kernels run once per tile
// of rows. Vector operands of matrix operations (x, dst, masks, u, v) must
// fit in one buffer (33 million elements on llvmpipe); the operations
// panic otherwise. Index arithmetic is 64-bit on the host and stays below
// 2^32 inside a shader. Work is spread over grid-stride loops or 2-D grids,
// so sizes beyond 65535 work groups are fine.
//
// Spike-driven operations (Propagate, Outer with masks) first compact the
// mask on the device into an ordered list of indices (compact.comp), then
// touch only the listed rows or columns; the list is in increasing order,
// so sums are taken in the same order as on the cpu, and results do not
// depend on scheduling.
//
// Event logs (backend.EventGatherer, state.go) keep spike records on the
// device: Gather compacts the mask (or reuses the spike list a
// propagation made of it) and appends the list and its end to the log's
// buffers (record_events.comp), with no transfer; Drain reads the ends
// of the records, then only the indices used. A log has room for every
// element of every record (records x n indices, as much as recording the
// masks), in buffers of whole records. Tensors (backend.TensorLister)
// lists the tensors made by NewTensor and NewSparse through weak
// pointers, not the buffers inside sparse matrices, rings, delays or
// logs; a ring's state (backend.RingStater) is its D x n sums, read and
// written as they are, since the atomic scatters keep no list of
// contributions (nor their order: two rings fed the same spikes may
// differ in the last bits, except with Deterministic).
//
// Close releases every buffer and program and the context; LiveObjects
// counts the GL objects held, for leak tests.
//
// # Deterministic
//
// Only the spike scatters (sparse Propagate both ways, PropagateDelayed
// both ways) add in an order the device schedules: reductions, MatVec and
// Normalize sum in a fixed order, and every other kernel (Outer and the
// sparse Outer and Normalize included) writes each element from one
// invocation. With backend.Options.Deterministic (Deterministic reports
// it) the scatters are ordered instead (ORDERED, ordered.glsl): each
// invocation owns a range of destinations and walks the spike list in
// increasing order, adding the entries of each spike's row (or column)
// that fall in its range, the first found by binary search (indices
// increase within a row, and a row's ring cells are distinct), with no
// atomics and no barrier. Each element then gets its additions in call order, then
// spike order, as on the cpu; Propagate without trans sums the spiking
// columns' values per row and then adds alpha times the sum, as the cpu
// does. So sparse Propagate equals the cpu bit for bit, and so do a
// ring's sums and a TakeSlot into zeros where the cpu adds in send order
// (it adds a slot's contributions to dst one by one, gl their sum; with
// several threads it may reorder a step's additions into a ring cut into
// parts: TestDeterministic). On software renderers the list is cut into
// ranges of spikes, one indirect dispatch each, sized from the longest
// run of a row among one invocation's destinations (computed once on the
// host) so that no invocation loops past half of llvmpipe's limit: the
// compaction gates the first (no launch when nothing spiked), which
// writes the arguments of the others that hold spikes, and each of those
// zeroes its own. Scatters into one destination are ordered by barriers.
// One invocation per destination range gives up the atomics' parallelism,
// so this costs most on GPUs (bench/RESULTS.md).
//
// # Agreement with the cpu backend
//
// Kernels use the documented float32 operations in the documented order
// wherever that is cheap, with `precise` so that the shader compiler fuses
// nothing into a multiply-add: the elementwise operations (fused kernels
// of package expr with Env.Double: Fill, Copy, Affine, Axpy, Where, Clip,
// the comparisons, Add/Sub/Mul/Min/Max), Outer and Propagate (which sums the
// spiking rows or columns in index order) give bitwise the results of
// those operations, and so of the cpu backend where it does not use FMA
// kernels itself. Div, Recip and Sqrt are computed in double and rounded
// (correctly rounded, as in Go); Exp, Log, Tanh and Sigmoid use
// double-precision range reduction and polynomials (GLSL has no double exp
// or log) rounded to float32, so they agree with the cpu's float64 math to
// float32 rounding (within 1 ulp; in the tests every value is equal).
// Random implements Philox4x32-10 with umulExtended and rng.Sample's
// sharing of one block by 4/WordsPerElement elements: Uniform, Bernoulli,
// Const and the density mask equal rng.Sample bit for bit, Normal and
// LogNormal to float32 rounding. Reductions, Normalize and the dense
// MatVec sum in a different order (Sum, Mean and Normalize in double,
// MatVec in float32); the conformance suite in backend/backendtest bounds
// them (MatVec and Propagate to 1e-4 of the sum of the absolute values of
// the terms, Normalize to 1e-5 relative).
//
// Fused kernels (Fuse) run the shader of expr.Program.GLSL: tensor k at
// binding k, one invocation per element on a 2-D grid of 256-wide groups.
// exp, log, tanh, sigmoid, pow and division are the driver's float32
// built-ins; exprel, expm1, log1p, log10, sin and cos run in double (as
// the cpu computes them, so they match it bit for bit), and so do the
// quotient of % and the reciprocal of x**-k.
//
// # Tests
//
// The tests open the context named by GOMONNTO_GL_CONTEXT ("" for auto,
// "egl" or "glfw"). CI runs the package twice: without DISPLAY (EGL
// surfaceless on llvmpipe), and with GOMONNTO_GL_CONTEXT=glfw under
// xvfb-run. When no context can be created they skip, except with CI=true
// or GOMONNTO_REQUIRE_GL set, where they fail.
//
// # Speed on llvmpipe
//
// llvmpipe, Mesa's CPU renderer, is what CI tests with; backend.Open with
// "auto" prefers the cpu backend there. It pays per work group and per
// dispatch (tens of microseconds), so on software renderers the kernels use
// few large groups (grid-stride loops), a row per invocation for MatVec
// and Normalize, vec4 loads where rows allow, and one invocation to compact
// a mask. The variants for GPUs (a group per row, parallel compaction) are
// tested on llvmpipe too.
package opengl
