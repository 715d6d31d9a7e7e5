package cpu

import (
	"sync"
	"sync/atomic"
)

// job is a piece of parallel work over the index range [lo, hi); part
// numbers the chunk for jobs that keep per-chunk results (it is below
// maxChunks(threads)). Jobs are fields of Backend, so passing one as a job
// does not allocate.
type job interface {
	run(part, lo, hi int)
}

// token invites a worker to help with the call of the given epoch. It is
// sent by value.
type token struct {
	j       job
	epoch   uint64
	n       int // elements
	chunk   int // elements per chunk
	nchunks int
}

// Bits of pool.state: the call's epoch above, the next unclaimed chunk
// below.
const (
	chunkBits = 16
	chunkMask = 1<<chunkBits - 1
)

// pool is a fixed set of worker goroutines started by New. A call cuts its
// work into chunks; the caller and any workers that are awake claim chunks
// from an atomic counter until none are left, and the caller then waits
// only for chunks that workers have already claimed. If the other cores
// are busy (a loaded machine), the caller simply does all the work itself:
// a call is never much slower than running it inline. Nothing is
// allocated per call: tokens travel by value through a buffered channel,
// and are dropped rather than waited for when the buffer is full.
type pool struct {
	threads   int
	ch        chan token
	done      chan struct{} // a worker that finishes the last chunk says so
	state     atomic.Uint64 // epoch<<chunkBits | next chunk
	remaining atomic.Int64  // chunks of the current call not yet finished
	epoch     uint64        // written by the caller only
	once      sync.Once
}

// maxThreads bounds Options.Threads so that chunk numbers fit chunkBits.
const maxThreads = 4096

// maxChunks is the most chunks a call is cut into.
func maxChunks(threads int) int { return 4 * threads }

func newPool(threads int) *pool {
	p := &pool{threads: threads, ch: make(chan token, threads), done: make(chan struct{}, 1)}
	for range threads - 1 {
		go p.work()
	}
	return p
}

func (p *pool) work() {
	for t := range p.ch {
		for {
			c, ok := p.claim(t.epoch, t.nchunks)
			if !ok {
				break
			}
			lo := c * t.chunk
			t.j.run(c, lo, min(lo+t.chunk, t.n))
			if p.remaining.Add(-1) == 0 {
				p.done <- struct{}{}
			}
		}
	}
}

// claim takes the next chunk of the call of the given epoch, if any is
// left and that call is still the current one.
func (p *pool) claim(epoch uint64, nchunks int) (int, bool) {
	for {
		s := p.state.Load()
		c := int(s & chunkMask)
		if s>>chunkBits != epoch || c >= nchunks {
			return 0, false
		}
		if p.state.CompareAndSwap(s, s+1) {
			return c, true
		}
	}
}

func (p *pool) stop() { p.once.Do(func() { close(p.ch) }) }

// Work thresholds, in elements touched, below which an operation runs on
// the calling goroutine alone: waking a worker costs microseconds.
const (
	grainElementwise = 16384 // elementwise: 32768 elements and more are split
	grainRandom      = 2048  // Random costs ~10x an elementwise op per element
	grainMatrix      = 32768 // matrix elements read per chunk
	// grainKernel is a fused kernel's work per chunk in units of
	// expr.Program.Cost (~0.1 ns each): a second thread joins at about
	// 15 us of work. Measured on M5 (COBA, 3200 + 800 neurons, ~30 units
	// per element): one thread 13.5 us/step, two 17.8 us/step.
	grainKernel = 100000
	align       = 16 // chunk boundaries on 64-byte lines
)

// parts returns how many threads should share work of the given size,
// given the minimum work per thread.
func (b *Backend) parts(work, grain int) int {
	if b.pool == nil || grain <= 0 {
		return 1
	}
	return max(1, min(work/grain, b.threads))
}

// split runs j over [0, n) shared by k threads (the caller and k-1
// workers), in chunks whose boundaries are multiples of al (al >= 1). It
// returns when every chunk has finished.
func (b *Backend) split(j job, n, k, al int) { b.splitChunks(j, n, k, al, maxChunks(k)) }

// splitChunks is split with at most most chunks (1 <= most <=
// maxChunks(k)): for jobs whose every chunk pays a fixed cost, such as a
// search per spiking row, fewer and larger chunks are cheaper than the
// load balancing of split's 4 per thread.
func (b *Backend) splitChunks(j job, n, k, al, most int) {
	p := b.pool
	if p == nil || k <= 1 || n < 2*al {
		j.run(0, 0, n)
		return
	}
	nchunks := min(most, maxChunks(k), n/al)
	chunk := (n + nchunks - 1) / nchunks
	chunk = (chunk + al - 1) / al * al
	b.dispatch(j, n, chunk, (n+chunk-1)/chunk, k)
}

// splitEach runs j over [0, n) shared by k threads, one index per chunk
// (for a few tasks of uneven size, largest first).
func (b *Backend) splitEach(j job, n, k int) {
	if b.pool == nil || k <= 1 || n <= 1 || n > chunkMask {
		j.run(0, 0, n)
		return
	}
	b.dispatch(j, n, 1, n, k)
}

// dispatch runs the nchunks chunks of chunk elements of [0, n) on the
// caller and up to k-1 workers.
func (b *Backend) dispatch(j job, n, chunk, nchunks, k int) {
	p := b.pool
	p.epoch++
	epoch := p.epoch & (1<<(64-chunkBits) - 1)
	p.remaining.Store(int64(nchunks))
	p.state.Store(epoch << chunkBits)
	t := token{j: j, epoch: epoch, n: n, chunk: chunk, nchunks: nchunks}
	for range k - 1 {
		select {
		case p.ch <- t:
		default: // the workers are behind; the caller does their share
		}
	}
	finished := false
	for {
		c, ok := p.claim(epoch, nchunks)
		if !ok {
			break
		}
		lo := c * chunk
		j.run(c, lo, min(lo+chunk, n))
		if p.remaining.Add(-1) == 0 {
			finished = true
		}
	}
	if !finished {
		<-p.done // a worker is finishing the last claimed chunk
	}
}
