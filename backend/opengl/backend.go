package opengl

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
)

func init() {
	backend.Register("gl", backend.Driver{
		Open: func(opts backend.Options) (backend.Backend, error) {
			b, err := New(opts)
			if err != nil {
				return nil, err
			}
			return b, nil
		},
		Preferred: preferred,
		Rank:      10,
	})
}

// Backend runs every operation as an OpenGL 4.3 compute shader. All GL
// calls happen on one locked OS thread that owns the context; the methods
// record commands that Flush hands to that thread in one batch. A Backend
// may be used from several goroutines, but operations from different
// goroutines are ordered only by the caller's own synchronisation.
type Backend struct {
	backend.Elementwise // the compiled elementwise kernels

	mu sync.Mutex // guards everything below except the GL thread's state
	// The backend's own fused kernels (fill, scale) and their scalar.
	fillK, scaleK *kernel
	sc            [1]float32
	h             hooks // set at creation
	closed        bool

	device   string
	software bool
	// det: opened with backend.Options.Deterministic (ordered scatters).
	det      bool
	maxElems int // float32 elements per buffer (GL_MAX_SHADER_STORAGE_BLOCK_SIZE / 4)
	// maxBindings is GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS.
	maxBindings int

	// Double-buffered command recording: rec is recorded into while the
	// other batch may be running on the GL thread.
	batches  [2]batch
	batchReq [2]request
	cur      int
	rec      *batch
	inflight bool

	reqs      chan *request // to the GL thread, in order
	batchDone chan struct{} // one token per finished batch
	syncReq   request       // reused by the calls that wait (held under mu)

	errMu sync.Mutex
	err   error // first device error not yet reported

	x *executor // state of the GL thread; only that thread touches it

	reg backend.Registry // the tensors made for the caller (Tensors)

	buffers  atomic.Int64 // live GL buffer objects
	programs atomic.Int64 // live GL program objects
}

var _ backend.Backend = (*Backend)(nil)

// hooks are switches that let tests reach paths a device would not take
// by itself; a Backend made by New has none (tests: export_test.go).
type hooks struct {
	// maxBlockBytes, when non-zero, lowers the per-buffer size limit, so
	// that split matrices are exercised with small shapes.
	maxBlockBytes int64
	// gpuPaths makes a software renderer use the kernel variants and group
	// counts meant for GPUs.
	gpuPaths bool
	// noAtomicFloat makes scatters use compare-and-swap even where float
	// atomics exist.
	noAtomicFloat bool
	// gatherSpan, when non-zero, cuts every gather into dispatches of that
	// many list positions (what only masks of hundreds of millions of
	// elements need on llvmpipe).
	gatherSpan int
}

// maxBlockCap bounds the buffer size even where the driver allows more,
// so that element indices of one buffer (below 2^29) and their sums with
// a tile's length always fit in a GLSL uint. At 2 GiB a sparse matrix of
// half a billion entries is one buffer: one scatter per spike list, and
// delays packed in bytes (PD14's 285 million synapses on a GPU).
const maxBlockCap = 1 << 31

// Auto-flush thresholds: a batch is submitted when it holds this many
// commands or this many float32 of Write data, so that a program that
// never calls Flush does not grow it without bound.
const (
	autoFlushCmds = 4096
	autoFlushData = 1 << 20
	// smallWrite is the largest Write that is queued (copied into the
	// batch); larger ones are copied straight to the buffer and wait.
	smallWrite = 1 << 16
)

var errClosed = errors.New("gl: the backend is closed; open a new one with opengl.New or backend.Open")

// New opens a gl backend: it creates the OpenGL context that
// opts.Context asks for ("", "auto": EGL, then GLFW; "egl"; "glfw") on a
// dedicated locked thread and compiles every kernel.
func New(opts backend.Options) (*Backend, error) { return newWith(opts, hooks{}) }

// newWith is New with test hooks.
func newWith(opts backend.Options, h hooks) (*Backend, error) {
	if opts.Propagation != "" {
		return nil, fmt.Errorf("gl: Propagation %q: the gl backend does not name its propagation strategies yet; leave Propagation empty", opts.Propagation)
	}
	b := &Backend{
		h:         h,
		reqs:      make(chan *request, 2),
		batchDone: make(chan struct{}, 1),
		det:       opts.Deterministic,
	}
	b.syncReq.reply = make(chan error, 1)
	b.rec = &b.batches[0]
	started := make(chan error, 1)
	go b.thread(opts, started)
	if err := <-started; err != nil {
		return nil, err
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "gl: %s\n", b.device)
	}
	return b, nil
}

// lockThread wires the calling goroutine to its OS thread for good: the
// thread ends with the goroutine, and with it any context state left.
func lockThread() { runtime.LockOSThread() }

// thread is the GL thread: it makes the context, compiles the kernels and
// serves requests until Close.
func (b *Backend) thread(opts backend.Options, started chan<- error) {
	lockThread()
	ctx, err := makeContext(opts.Context)
	if err != nil {
		started <- fmt.Errorf("gl: %w", err)
		return
	}
	x, err := newExecutor(b, ctx)
	if err != nil {
		releaseContext(ctx)
		started <- fmt.Errorf("gl: %w", err)
		return
	}
	b.x = x
	started <- nil
	for r := range b.reqs {
		if b.serve(r) {
			return
		}
	}
}

type reqKind uint8

const (
	reqBatch reqKind = iota
	reqRead
	reqWrite
	reqSync
	reqCall
	reqClose
)

// request is one message to the GL thread.
type request struct {
	kind  reqKind
	batch *batch
	t     *tensor
	off   int
	data  []float32
	fn    func() error
	reply chan error
}

// serve handles one request on the GL thread and reports whether the
// thread must stop. A panic (a bug) becomes an error instead of a hang.
func (b *Backend) serve(r *request) (quit bool) {
	var err error
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("gl: internal error on the GL thread: %v\n%s", p, debug.Stack())
			if r.kind == reqBatch {
				b.setErr(err)
			}
		}
		if r.kind == reqBatch {
			b.batchDone <- struct{}{}
		} else {
			r.reply <- err
		}
	}()
	switch r.kind {
	case reqBatch:
		b.x.runBatch(r.batch)
	case reqRead:
		err = b.x.read(r.data, r.t, r.off)
	case reqWrite:
		err = b.x.write(r.t, r.off, r.data)
	case reqSync:
		gl.Finish()
		b.x.clearPending = false
		err = b.x.glError("Sync")
	case reqCall:
		err = r.fn()
	case reqClose:
		b.x.close()
		quit = true
	}
	return quit
}

// ---- errors ----

func (b *Backend) setErr(err error) {
	b.errMu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.errMu.Unlock()
}

func (b *Backend) takeErr() error {
	b.errMu.Lock()
	err := b.err
	b.err = nil
	b.errMu.Unlock()
	return err
}

// ---- batching ----

// submit hands the recorded batch to the GL thread without waiting for it
// to run. It waits only for the batch before it, whose slices it then
// reuses for recording. Callers hold mu.
func (b *Backend) submit() {
	if len(b.rec.cmds) == 0 {
		return
	}
	if b.inflight {
		<-b.batchDone
	}
	r := &b.batchReq[b.cur]
	r.kind, r.batch = reqBatch, b.rec
	b.reqs <- r
	b.inflight = true
	b.cur ^= 1
	b.rec = &b.batches[b.cur]
	b.rec.reset()
}

// call sends the reusable request (after the batches before it) and waits
// for its answer. Callers hold mu.
func (b *Backend) call(r *request) error {
	b.reqs <- r
	err := <-r.reply
	r.t, r.data, r.fn = nil, nil, nil
	return err
}

// callFn runs fn on the GL thread and waits. Callers hold mu.
func (b *Backend) callFn(fn func() error) error {
	r := &b.syncReq
	r.kind, r.fn = reqCall, fn
	return b.call(r)
}

// maybeSubmit submits a batch that has grown large.
func (b *Backend) maybeSubmit() {
	if len(b.rec.cmds) >= autoFlushCmds || len(b.rec.data) >= autoFlushData {
		b.submit()
	}
}

// Name returns "gl".
func (b *Backend) Name() string { return "gl" }

// Device returns the OpenGL renderer and version, and how the context was
// made.
func (b *Backend) Device() string { return b.device }

// Software reports whether the renderer runs on the CPU (llvmpipe).
func (b *Backend) Software() bool { return b.software }

// LiveObjects returns the number of GL buffer and program objects the
// backend holds. Tests use it to check that nothing leaks; after Close
// both are zero.
func (b *Backend) LiveObjects() (buffers, programs int) {
	return int(b.buffers.Load()), int(b.programs.Load())
}

// FlushStep submits the queued operations to the GL thread if it has
// finished the batch before, and otherwise leaves them queued for the
// next FlushStep, Flush, Sync or Read (backend.StepFlusher): the GL thread
// then runs several steps per batch instead of waking once per step.
func (b *Backend) FlushStep() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	if b.inflight {
		select {
		case <-b.batchDone:
			b.inflight = false
		default:
			return b.takeErr()
		}
	}
	b.submit()
	return b.takeErr()
}

// Flush submits the queued operations to the GL thread and returns the
// first device error seen since the last report. It does not wait for the
// operations to finish.
func (b *Backend) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	b.submit()
	return b.takeErr()
}

// Sync submits the queued operations, waits until the device has finished
// them and reports the first device error since the last report.
func (b *Backend) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	b.submit()
	b.syncReq.kind = reqSync
	err := b.call(&b.syncReq)
	if e := b.takeErr(); e != nil {
		return e
	}
	return err
}

// Close runs the queued operations, then releases every buffer and
// program and the context, and ends the GL thread. Tensors of the backend
// become invalid. Closing twice is a no-op.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.submit()
	b.syncReq.kind = reqClose
	err := b.call(&b.syncReq)
	if b.inflight {
		<-b.batchDone
		b.inflight = false
	}
	b.closed = true
	b.batches[0].release()
	b.batches[1].release()
	if e := b.takeErr(); e != nil {
		return e
	}
	return err
}
