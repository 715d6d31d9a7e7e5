package cpu

import (
	"runtime"
	"slices"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// kernel runs a fused program: each chunk of elements is evaluated by one
// expr.Evaluator, one pass over memory.
type kernel struct {
	b    *Backend
	p    *expr.Program
	evs  []*expr.Evaluator // one per chunk number
	vars [][]float32       // the storage of the queued run's tensors, then its scalars
	sc   []float32         // the queued run's scalars
	key  rng.Key
	cost int // tensors plus expr.Program.Cost per element, for the split threshold

	// The queued run (see kernelQueue): its element count and tensors.
	queued bool
	n      int
	ts     []*tensor
	// after: the rings whose queued TakeSlot adds into a tensor of the
	// run; it runs after their tasks, in the same dispatch (flushDelayed).
	after []*ring
	// gathers: the event logs that collect the spikes of a mask the run
	// writes, block by block, while each block is in the cache
	// (eventLog.Gather); hooks[part] does it for evaluator part.
	gathers []*eventLog
	hooks   []gatherHook
}

// gatherHook gathers, after each block that evaluator part computed, the
// block's spikes for the logs waiting on the kernel's run.
type gatherHook struct {
	k    *kernel
	part int
}

func (h *gatherHook) Block(lo, hi int) {
	for _, l := range h.k.gathers {
		l.gather(h.part, lo, hi)
	}
}

// eval evaluates elements [lo, hi) with evaluator part (and gathers their
// spikes for the logs waiting on the run).
func (k *kernel) eval(part, lo, hi int) {
	if len(k.gathers) == 0 {
		k.evs[part].Eval(k.vars, lo, hi, k.key)
		return
	}
	k.evs[part].EvalHook(k.vars, lo, hi, k.key, &k.hooks[part])
}

// kernelQueue holds the kernel runs that were issued one after another
// with no other operation in between (the neuron updates of a network's
// groups, typically) and that touch no tensor in conflict (one writes what
// another reads or writes). They run together in one parallel dispatch,
// by the next operation of any other kind, Sync or Data: waking the
// worker threads once per step instead of once per group (PD14: 8 groups
// of 1000 to 22000 neurons, each too small to be worth a wake-up of its
// own). Running them together gives the same result as one after another,
// because none reads what another writes. Runs queued after delayed calls
// (delayQueue.orderAfter) join the delayed calls' dispatch: each chunk
// waits for the tasks of the rings whose takes add into its tensors
// (kernel.after), so the neuron updates fill the time the threads would
// otherwise wait in the memory-bound ring tasks.
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

// Fuse compiles p into a kernel that runs it over the elements of its
// tensors in parallel chunks.
func (b *Backend) Fuse(p *expr.Program) (backend.Kernel, error) {
	b.live("Fuse")
	k := &kernel{b: b, p: p, vars: make([][]float32, p.NumTensors()+p.NumScalars()), sc: make([]float32, p.NumScalars()),
		cost: 2 + p.Cost() + p.NumTensors()}
	for part := range maxChunks(b.threads) {
		k.evs = append(k.evs, p.NewEvaluator())
		k.hooks = append(k.hooks, gatherHook{k, part})
	}
	return k, nil
}

// tinyKernelWork bounds the work (elements times cost) of a run that is
// evaluated at once when nothing is queued: too little to share with
// other runs or threads, so queueing it would only add bookkeeping (the
// elementwise operations on an M1-sized network).
const tinyKernelWork = 4096

// Run queues the program's run over every element (see kernelQueue); the
// next operation of another kind carries it out. A tiny run with nothing
// queued before it runs at once.
func (k *kernel) Run(args []backend.Tensor, scalars []float32, key rng.Key) {
	const op = "Kernel.Run"
	b := k.b
	b.live(op)
	if k.evs == nil {
		panic(backend.Misusef("cpu", "Kernel.Run", "the kernel was released"))
	}
	n := backend.CheckKernelArgs(k.p, args, scalars)
	if k.queued || len(b.kq.runs) >= maxQueuedKernels {
		b.flush()
	}
	k.ts = k.ts[:0]
	for _, a := range args {
		k.ts = append(k.ts, b.check(op, a))
	}
	if n*k.cost < tinyKernelWork && len(b.kq.runs) == 0 && len(b.dq.calls) == 0 {
		k.bind(scalars)
		k.evs[0].Eval(k.vars, 0, n, key)
		clear(k.vars)
		clear(k.ts)
		return
	}
	if b.kq.conflicts(k) || !b.dq.orderAfter(k) {
		b.flush()
		k.after = k.after[:0]
	}
	k.bind(scalars)
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

// bind points k.vars at the storage of k.ts (checked; the run may write
// them) and at copies of scalars.
func (k *kernel) bind(scalars []float32) {
	for i, t := range k.ts {
		t.gen++
		k.vars[i] = t.data
	}
	nt := len(k.ts)
	for j, v := range scalars {
		k.sc[j] = v
		k.vars[nt+j] = k.sc[j : j+1]
	}
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

// chunk cuts the queued runs into chunks for th threads (see
// flushKernels), appended to q.chunks.
func (q *kernelQueue) chunk(th int) {
	// About 4 chunks per thread over all runs; a run gets chunks in
	// proportion to its work, at least one, at most one per evaluator,
	// each a whole number of 512-element blocks.
	target := max(1, q.work/maxChunks(th))
	for _, k := range q.runs {
		const al = 512
		nc := min((k.n*k.cost+target-1)/target, len(k.evs), max(1, k.n/al))
		chunk := ((k.n+nc-1)/nc + al - 1) / al * al
		for p, lo := 0, 0; lo < k.n; p, lo = p+1, lo+chunk {
			q.chunks = append(q.chunks, kernelChunk{k: k, part: p, lo: lo, hi: min(lo+chunk, k.n)})
		}
	}
}

// done empties the queue after its runs ran.
func (q *kernelQueue) done() {
	for _, k := range q.runs {
		for _, l := range k.gathers {
			l.finish()
		}
		clear(k.gathers)
		k.gathers = k.gathers[:0]
		k.queued = false
		clear(k.vars)
		clear(k.ts)
		clear(k.after)
		k.after = k.after[:0]
	}
	clear(q.runs)
	clear(q.chunks)
	q.runs, q.chunks, q.work = q.runs[:0], q.chunks[:0], 0
	q.gen++
}

// flushKernels runs the queued kernel runs (the delay queue is empty):
// inline one after another when their work together is below the split
// threshold, else as one dispatch of chunks of about equal work, the
// largest first.
func (b *Backend) flushKernels() {
	q := &b.kq
	if len(q.runs) == 0 {
		return
	}
	th := b.parts(q.work, grainKernel)
	if th <= 1 {
		for _, k := range q.runs {
			k.eval(0, 0, k.n)
		}
	} else {
		q.chunk(th)
		slices.SortStableFunc(q.chunks, func(a, c kernelChunk) int {
			return (c.hi-c.lo)*c.k.cost - (a.hi-a.lo)*a.k.cost
		})
		b.splitEach(q, len(q.chunks), th)
	}
	q.done()
}

// runAfter evaluates chunk c once the ring groups it waits for have
// finished their tasks (flushDelayed: they were all claimed before c, by
// threads that are running them).
func (q *kernelQueue) runAfter(c *kernelChunk) {
	for _, g := range c.k.after {
		for spin := 0; g.pending.Load() > 0; spin++ {
			if spin%1024 == 1023 {
				runtime.Gosched()
			}
		}
	}
	c.k.eval(c.part, c.lo, c.hi)
}

// ringsFinish is when the last ring group that k waits for is expected
// to finish its tasks (expectFinish; -1: k waits for none).
func (k *kernel) ringsFinish() int {
	x := -1
	for _, g := range k.after {
		x = max(x, g.finish)
	}
	return x
}

// run evaluates the chunks [lo, hi).
func (q *kernelQueue) run(_, lo, hi int) {
	for i := range q.chunks[lo:hi] {
		q.runAfter(&q.chunks[lo+i]) // (waits for nothing: no delayed calls were queued)
	}
}

// Release frees the kernel's evaluators (after running the queue if the
// kernel is in it).
func (k *kernel) Release() {
	if k.queued && !k.b.closed {
		k.b.flush()
	}
	k.evs, k.vars = nil, nil
}
