package cpu

import (
	"slices"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
)

// kernel runs a fused program: each chunk of elements is evaluated by one
// expr.Evaluator, one pass over memory.
type kernel struct {
	b    *Backend
	p    *expr.Program
	evs  []*expr.Evaluator // one per chunk number
	vars [][]float32       // the storage of the queued run's tensors
	key  backend.RandKey
	cost int // tensors plus expr.Program.Cost per element, for the split threshold

	// The queued run (see kernelQueue): its element count and tensors.
	queued bool
	n      int
	ts     []*tensor
}

// kernelQueue holds the kernel runs that were issued one after another
// with no other operation in between (the neuron updates of a network's
// groups, typically) and that touch no tensor in conflict (one writes what
// another reads or writes). They run together in one parallel dispatch,
// by the next operation of any other kind, Sync, Flush or Data: waking the
// worker threads once per step instead of once per group (PD14: 8 groups
// of 1000 to 22000 neurons, each too small to be worth a wake-up of its
// own). Running them together gives the same result as one after another,
// because none reads what another writes.
type kernelQueue struct {
	runs   []*kernel
	chunks []kernelChunk
	work   int
	// gen counts the flushes: a tensor whose kq is gen+1 is used by a
	// queued run (and written by one if its kqW is set).
	gen uint64
}

// kernelChunk is the elements [lo, hi) of a queued run, evaluated by the
// run's evaluator part.
type kernelChunk struct {
	k            *kernel
	part, lo, hi int
}

// maxQueuedKernels bounds the queue (the conflict check is quadratic).
const maxQueuedKernels = 64

var _ backend.Fuser = (*Backend)(nil)

// Fuse compiles p into a kernel that runs it over the elements of its
// tensors in parallel chunks.
func (b *Backend) Fuse(p *expr.Program) (backend.Kernel, error) {
	b.live("Fuse")
	k := &kernel{b: b, p: p, vars: make([][]float32, len(p.Tensors())), cost: 2 + p.Cost() + p.NumTensors()}
	for range maxChunks(b.threads) {
		k.evs = append(k.evs, p.NewEvaluator())
	}
	return k, nil
}

// Run queues the program's run over every element (see kernelQueue); the
// next operation of another kind carries it out.
func (k *kernel) Run(args []backend.Tensor, key backend.RandKey) {
	const op = "Kernel.Run"
	b := k.b
	b.live(op)
	if k.evs == nil {
		panic("cpu: Kernel.Run: the kernel was released")
	}
	n := backend.CheckKernelArgs(k.p, args)
	if len(b.dq.calls) > 0 {
		b.flushDelayed()
	}
	if k.queued || len(b.kq.runs) >= maxQueuedKernels {
		b.flushKernels()
	}
	k.ts = k.ts[:0]
	for i, a := range args {
		k.vars[i] = b.tenNow(op, a)
		k.ts = append(k.ts, b.check(op, a))
	}
	if b.kq.conflicts(k) {
		b.flushKernels()
	}
	mark := b.kq.gen + 1
	for i, t := range k.ts {
		if !k.p.Reads(i) && !k.p.Writes(i) {
			continue
		}
		if t.kq != mark {
			t.kq, t.kqW = mark, false
		}
		t.kqW = t.kqW || k.p.Writes(i)
	}
	k.queued, k.n, k.key = true, n, key
	b.kq.runs = append(b.kq.runs, k)
	b.kq.work += n * k.cost
}

// conflicts reports whether k uses a tensor that a queued run writes, or
// writes one that a queued run uses.
func (q *kernelQueue) conflicts(k *kernel) bool {
	for i, t := range k.ts {
		if t.kq == q.gen+1 && (t.kqW || k.p.Writes(i)) && (k.p.Reads(i) || k.p.Writes(i)) {
			return true
		}
	}
	return false
}

// flushKernels runs the queued kernel runs: inline one after another when
// their work together is below the split threshold, else as one dispatch
// of chunks of about equal work, the largest first.
func (b *Backend) flushKernels() {
	q := &b.kq
	if len(q.runs) == 0 {
		return
	}
	th := b.parts(q.work, grainKernel)
	if th <= 1 {
		for _, k := range q.runs {
			k.evs[0].Eval(k.vars, 0, k.n, k.key)
		}
	} else {
		// About 4 chunks per thread over all runs; a run gets chunks in
		// proportion to its work, at least one, at most one per
		// evaluator, each a whole number of 512-element blocks.
		target := max(1, q.work/maxChunks(th))
		for _, k := range q.runs {
			const al = 512
			nc := min((k.n*k.cost+target-1)/target, len(k.evs), max(1, k.n/al))
			chunk := ((k.n+nc-1)/nc + al - 1) / al * al
			for p, lo := 0, 0; lo < k.n; p, lo = p+1, lo+chunk {
				q.chunks = append(q.chunks, kernelChunk{k: k, part: p, lo: lo, hi: min(lo+chunk, k.n)})
			}
		}
		slices.SortStableFunc(q.chunks, func(a, c kernelChunk) int {
			return (c.hi-c.lo)*c.k.cost - (a.hi-a.lo)*a.k.cost
		})
		b.splitEach(q, len(q.chunks), th)
		clear(q.chunks)
		q.chunks = q.chunks[:0]
	}
	for _, k := range q.runs {
		k.queued = false
		clear(k.vars)
		clear(k.ts)
	}
	clear(q.runs)
	q.runs, q.work = q.runs[:0], 0
	q.gen++
}

// run evaluates the chunks [lo, hi).
func (q *kernelQueue) run(_, lo, hi int) {
	for _, c := range q.chunks[lo:hi] {
		c.k.evs[c.part].Eval(c.k.vars, c.lo, c.hi, c.k.key)
	}
}

// Release frees the kernel's evaluators (after running the queue if the
// kernel is in it).
func (k *kernel) Release() {
	if k.queued && !k.b.closed {
		k.b.flushKernels()
	}
	k.evs, k.vars = nil, nil
}
