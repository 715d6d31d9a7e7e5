package cpu

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
)

func init() {
	backend.Register("cpu", backend.Driver{
		Open: func(opts backend.Options) (backend.Backend, error) {
			b, err := New(opts)
			if err != nil {
				return nil, err
			}
			return b, nil
		},
		Preferred: nil,
		Rank:      0,
	})
}

// Backend runs every operation on the host, synchronously, in float32. It is
// used from one goroutine at a time; different Backends may be used from
// different goroutines concurrently.
type Backend struct {
	backend.Elementwise // the compiled elementwise kernels

	threads  int
	strategy string // Options.Propagation
	device   string
	fma      bool  // use the AVX2+FMA kernels
	pool     *pool // nil when threads == 1
	closed   bool

	// Scratch buffers, grown on demand and reused: steady-state operations
	// allocate nothing.
	idxA, idxB []int
	acc        []float64

	// One job value per kind of parallel work; dispatching a pointer to a
	// field does not allocate.
	red  reduceJob
	rnd  randomJob
	mv   matVecJob
	prop propagateJob
	out  outerJob
	norm normalizeJob
	// dq holds the queued PropagateDelayed and TakeSlot calls (delay_queue.go),
	// kq the queued kernel runs (fuse.go); at most one of them is not
	// empty.
	dq delayQueue
	kq kernelQueue
	// reg lists the tensors made, for checkpoints (state.go).
	reg backend.Registry
	// spk holds the spiking indices last collected from a few masks by
	// spike-driven operations and event logs, each valid while its mask's
	// gen is unchanged, so that the same spikes are not collected twice
	// (state.go).
	spk spikeCache
}

var _ backend.Backend = (*Backend)(nil)

// New creates a cpu backend. opts.Threads bounds the number of goroutines
// that share large operations (0 means GOMAXPROCS); the worker goroutines
// are started here and stopped by Close.
func New(opts backend.Options) (*Backend, error) {
	threads := opts.Threads
	if threads < 0 {
		return nil, fmt.Errorf("cpu: Threads is %d; use a positive number of worker threads, or 0 for GOMAXPROCS", threads)
	}
	if threads > maxThreads {
		return nil, fmt.Errorf("cpu: Threads is %d; use at most %d worker threads", threads, maxThreads)
	}
	if threads == 0 {
		threads = min(runtime.GOMAXPROCS(0), maxThreads)
	}
	switch opts.Propagation {
	case "", StrategyEvents, StrategyLayoutEvents, StrategyReferences:
	default:
		return nil, fmt.Errorf("cpu: Propagation %q is not a strategy of the cpu backend; use %q, %q, %q or \"\" (the backend chooses)",
			opts.Propagation, StrategyEvents, StrategyLayoutEvents, StrategyReferences)
	}
	b := &Backend{threads: threads, fma: useFMA, strategy: opts.Propagation}
	b.red.f64 = make([]float64, maxChunks(threads)) // per-chunk partials
	b.red.f32 = make([]float32, maxChunks(threads))
	model := cpuModel()
	if model != "" {
		model += ", "
	}
	kernels := "gonum blas32"
	if b.fma {
		kernels = kernelName + ", gonum blas32"
	}
	b.device = fmt.Sprintf("cpu (%s%d cores, %d threads, %s)", model, runtime.NumCPU(), threads, kernels)
	if threads > 1 {
		b.pool = newPool(threads)
		// Stop the workers if the Backend is dropped without Close. The
		// workers reference only the pool, never b.
		runtime.AddCleanup(b, func(p *pool) { p.stop() }, b.pool)
	}
	return b, nil
}

// cpuModel returns the processor's model name where the system tells it
// (Linux /proc/cpuinfo), or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Name returns "cpu".
func (b *Backend) Name() string { return "cpu" }

// Device describes the processor, its cores and the worker threads.
func (b *Backend) Device() string { return b.device }

// Threads returns the number of goroutines that share large operations.
func (b *Backend) Threads() int { return b.threads }

var errClosed = errors.New("cpu: the backend is closed; open a new one with cpu.New or backend.Open")

// Flush returns nil (after Close, an error). It leaves the queued work
// (delayed propagation and kernel runs, see doc.go) queued: nothing can
// observe it before the next operation, Sync or Data runs it, and a
// network, which flushes after every step, lets the next step's neuron
// updates join the same dispatch as this step's ring tasks (each waiting
// only for the ring whose take adds into its tensors).
func (b *Backend) Flush() error {
	if b.closed {
		return errClosed
	}
	return nil
}

// flush runs what is queued: delayed propagation and the kernel runs
// queued after it (one dispatch), or kernel runs alone.
func (b *Backend) flush() {
	if len(b.dq.calls) > 0 {
		b.flushDelayed()
	} else {
		b.flushKernels()
	}
}

// Sync runs the queued work and returns nil (after Close, an error).
func (b *Backend) Sync() error {
	if b.closed {
		return errClosed
	}
	b.flush()
	return nil
}

// Close stops the worker goroutines. Tensors of the backend become invalid:
// operations on them panic. Closing twice is a no-op.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.pool != nil {
		b.pool.stop()
	}
	for _, k := range b.kq.runs {
		k.queued = false // dropped with the backend
	}
	b.idxA, b.idxB, b.acc, b.dq, b.kq = nil, nil, nil, delayQueue{}, kernelQueue{}
	return nil
}

// tensor is a cpu tensor: a row-major []float32 on the Go heap.
type tensor struct {
	b          *Backend
	rows, cols int
	data       []float32 // nil once released
	// gen counts the times an operation or Data obtained the storage (any
	// of which may write it): the delayed propagation keeps a copy of a
	// matrix's values only while gen shows they cannot have changed.
	gen uint64
	// kq and kqW mark the tensors of the queued kernel runs (see
	// kernelQueue.gen).
	kq  uint64
	kqW bool
}

func (t *tensor) Rows() int                { return t.rows }
func (t *tensor) Cols() int                { return t.cols }
func (t *tensor) Len() int                 { return t.rows * t.cols }
func (t *tensor) Backend() backend.Backend { return t.b }

// Release frees the tensor's storage. Releasing twice is a no-op.
func (t *tensor) Release() { t.data = nil }

func (t *tensor) String() string {
	return fmt.Sprintf("cpu tensor %dx%d", t.rows, t.cols)
}

// maxElems bounds a tensor so that its byte size fits in an int.
const maxElems = math.MaxInt / 4

// NewTensor allocates a rows x cols tensor of zeros. Negative dimensions
// panic; a shape too large to address returns an error.
func (b *Backend) NewTensor(rows, cols int) (backend.Tensor, error) {
	if rows < 0 || cols < 0 {
		panic(backend.Misusef("cpu", "NewTensor", "invalid shape %dx%d: rows and cols must not be negative", rows, cols))
	}
	if b.closed {
		return nil, errClosed
	}
	if cols != 0 && rows > maxElems/cols {
		return nil, fmt.Errorf("cpu: NewTensor: %dx%d elements do not fit in memory; use a smaller shape", rows, cols)
	}
	// make never returns a nil slice, so data == nil means released.
	d := make([]float32, rows*cols)
	adviseHuge(d)
	t := &tensor{b: b, rows: rows, cols: cols, data: d}
	b.register(t, nil)
	return t, nil
}

// Data returns the storage of a cpu tensor for zero-copy use in the same
// process: row-major, Len elements (for a sparse matrix, its values). Writes through it are seen by later
// operations. It panics if t is not a live cpu tensor. It runs the
// queued work first (PropagateDelayed, TakeSlot and Kernel.Run are
// carried out by the next operation of another kind): a slice kept from an
// earlier call shows their results after the next operation, Sync or
// Data.
func Data(t backend.Tensor) []float32 {
	if ct, ok := t.(*tensor); ok && ct != nil && ct.b != nil && !ct.b.closed {
		ct.b.flush()
	} else if sp, ok := t.(*sparse); ok && sp != nil && sp.b != nil && !sp.b.closed {
		sp.b.flush()
	}
	ct, ok := t.(*tensor)
	if sp, isSparse := t.(*sparse); isSparse && sp != nil {
		ct, ok = sp.vals, true // a sparse matrix's values, in entry order
	}
	if !ok {
		if t == nil {
			panic(backend.Misusef("cpu", "Data", "nil tensor"))
		}
		panic(backend.Misusef("cpu", "Data", "tensor %s belongs to backend %s, not cpu", backend.Shape(t), t.Backend().Name()))
	}
	if ct.data == nil {
		panic(backend.Misusef("cpu", "Data", "tensor %s was released", backend.Shape(t)))
	}
	if ct.b.closed {
		panic(backend.Misusef("cpu", "Data", "tensor %s belongs to a closed backend", backend.Shape(t)))
	}
	ct.gen++
	return ct.data
}

// live panics if b is closed.
func (b *Backend) live(op string) {
	if b.closed {
		panic(backend.Misusef("cpu", op, "the backend is closed"))
	}
}

// ten returns the storage of t, panicking unless t is a live tensor of b.
// It first runs the queued kernel runs and delayed propagation: every
// operation reads its tensors through ten, so none sees them before the
// queued work ran.
func (b *Backend) ten(op string, t backend.Tensor) []float32 {
	if len(b.dq.calls) > 0 || len(b.kq.runs) > 0 {
		b.flush()
	}
	return b.tenNow(op, t)
}

// tenNow is ten without running the queue, for the calls that are queued.
func (b *Backend) tenNow(op string, t backend.Tensor) []float32 {
	ct := b.check(op, t)
	ct.gen++
	return ct.data
}

// check returns the tensor behind t (a sparse matrix's values), panicking
// unless it is a live tensor of b; unlike ten, it does not count as an
// access that may write it.
func (b *Backend) check(op string, t backend.Tensor) *tensor {
	ct, ok := t.(*tensor)
	if sp, isSparse := t.(*sparse); isSparse && sp != nil {
		ct, ok = sp.vals, true // elementwise operations act on the values
	}
	if !ok || ct.b != b {
		b.badTensor(op, t)
	}
	if ct.data == nil {
		panic(backend.Misusef("cpu", op, "tensor %s was released", backend.Shape(t)))
	}
	return ct
}

// opt is ten for an optional tensor: nil yields nil.
func (b *Backend) opt(op string, t backend.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return b.ten(op, t)
}

func (b *Backend) badTensor(op string, t backend.Tensor) {
	if t == nil {
		panic(backend.Misusef("cpu", op, "nil tensor"))
	}
	if _, ok := t.(*tensor); ok {
		panic(backend.Misusef("cpu", op, "tensor %s belongs to another cpu backend, not this one", backend.Shape(t)))
	}
	backend.CheckOwner(op, b, t)
	panic(backend.Misusef("cpu", op, "tensor %s is not a cpu tensor", backend.Shape(t)))
}

// Write copies src into t starting at element off. A range outside t is
// returned as an error (it is user data); a released or foreign tensor
// panics.
func (b *Backend) Write(t backend.Tensor, off int, src []float32) error {
	if b.closed {
		return errClosed
	}
	d := b.ten("Write", t)
	if off < 0 || len(src) > len(d)-off {
		return fmt.Errorf("cpu: Write: %d values at offset %d do not fit in tensor %s of %d elements", len(src), off, backend.Shape(t), len(d))
	}
	copy(d[off:], src)
	return nil
}

// Read copies len(dst) elements of t starting at off into dst. A range
// outside t is returned as an error; a released or foreign tensor panics.
func (b *Backend) Read(dst []float32, t backend.Tensor, off int) error {
	if b.closed {
		return errClosed
	}
	s := b.ten("Read", t)
	if off < 0 || len(dst) > len(s)-off {
		return fmt.Errorf("cpu: Read: %d values at offset %d lie outside tensor %s of %d elements", len(dst), off, backend.Shape(t), len(s))
	}
	copy(dst, s[off:])
	return nil
}
