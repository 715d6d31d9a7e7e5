package opengl

import (
	"fmt"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
)

// The registry of live tensors (backend.TensorLister), event logs that
// gather spikes on the device (backend.EventGatherer) and the saving and
// restoring of rings (backend.RingStater), for recorders and checkpoints.

var (
	_ backend.TensorLister  = (*Backend)(nil)
	_ backend.EventGatherer = (*Backend)(nil)
	_ backend.RingStater    = (*ring)(nil)
)

// register adds t or s to the list of tensors made for the caller (the
// buffers inside the backend's own objects, internalTensor, are not in
// it). Callers hold mu.
func (b *Backend) register(t *tensor, s *sparse) {
	if s != nil {
		backend.RegisterTensor(&b.reg, s, func(s *sparse) bool { return !s.vals.released })
	} else {
		backend.RegisterTensor(&b.reg, t, func(t *tensor) bool { return !t.released })
	}
}

// Tensors lists the live tensors (dense and sparse) made by b with
// NewTensor, NewSparse and AdoptSparse, in the order made; the buffers
// inside rings, delays and event logs are not listed. After Close it
// lists none.
func (b *Backend) Tensors() []backend.Tensor {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	return b.reg.Tensors()
}

// eventLog is the gl backend.EventLog. Its records stay on the device
// until Drain: Gather queues the compaction of the mask into its ordered
// spike list (compact.comp; the list a spike-driven operation made of the
// same, unchanged mask is reused) and record_events.comp, which appends
// the list to idx and its end to offs, so the count never comes to the
// host. Drain reads the ends of the records (one read) and then only the
// indices used (one read per buffer of idx, one in all unless idx is
// split). idx has room for every element of every record (records x n,
// as much as recording the masks themselves), split into buffers of
// whole records where it exceeds one; offs[k+1] is the end of record k
// within its buffer, each buffer's first record starting at 0.
type eventLog struct {
	b        *Backend
	n, cap   int
	records  int     // gathered since the last Drain
	offs     *tensor // cap+1 uint32 (bit patterns)
	idx      *tensor // cap x n uint32, tiles of whole records
	ends     []uint32
	host     []int32 // the indices read back, buffer after buffer
	starts   []int   // starts[k]: where record k begins in host; k = records: the end
	readFn   func() error
	released bool // set under b.mu
}

// NewEventLog returns an empty log for masks of n elements
// (backend.EventGatherer). It allocates records x n indices on the
// device, so that a record holds every element of the mask if need be.
func (b *Backend) NewEventLog(n, records int) (backend.EventLog, error) {
	if err := backend.CheckNewEventLog(n, records); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if n > b.maxElems || records+1 > b.maxElems {
		return nil, fmt.Errorf("gl: NewEventLog: masks of %d elements and %d records; a mask and the record ends must each fit in one shader storage buffer of this device (%d elements); use smaller groups, fewer records per drain (Block) or -backend=cpu",
			n, records, b.maxElems)
	}
	offs, err := b.newTensor(records+1, 1)
	if err != nil {
		return nil, fmt.Errorf("gl: NewEventLog: %w", err)
	}
	idx, err := b.newTensor(records, n)
	if err != nil {
		b.freeLater(offs)
		return nil, fmt.Errorf("gl: NewEventLog: room for %d records of %d indices: %w; record fewer steps per drain (Block)", records, n, err)
	}
	l := &eventLog{b: b, n: n, cap: records, offs: offs, idx: idx,
		ends: make([]uint32, records+1), starts: make([]int, records+1)}
	l.readFn = l.readBack
	return l, nil
}

// freeLater queues the release of an internal tensor. Callers hold mu.
func (b *Backend) freeLater(t *tensor) {
	if t.released || b.closed {
		t.released = true
		return
	}
	t.released = true
	c := b.record(cRelease)
	c.t[0] = t
	b.maybeSubmit()
}

func (l *eventLog) Len() int { return l.n }

func (l *eventLog) Records() int {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	return l.records
}

// Gather queues the collection of mask's non-zero indices as the next
// record, after the operations queued before it (it sees the mask as
// they leave it). It transfers nothing and allocates nothing.
func (l *eventLog) Gather(mask backend.Tensor) {
	const op = "EventLog.Gather"
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if l.released {
		panic(backend.Misusef("gl", "EventLog.Gather", "the log was released; make a new one with NewEventLog"))
	}
	b.live(op)
	m := b.denseVec(op, "the mask", mask)
	backend.CheckGather(mask, l.n, l.records, l.cap)
	c := b.record(cGather)
	c.t[0], c.t[1], c.t[2], c.i[0] = m, l.offs, l.idx, l.records
	l.records++
	b.maybeSubmit()
}

// gather runs a recorded Gather on the GL thread: the spike list of mask
// appended to the log (offs, idx) as record k (record_events.comp).
func (x *executor) gather(mask, offs, idx *tensor, k int) {
	sl := x.spikes(mask)
	if sl == nil {
		return
	}
	p := x.p.recordEvents
	n := mask.Len()
	groups := x.strided(n, 256)
	// Positions of the list per dispatch: all on GPUs; on software
	// renderers few enough that no invocation loops more than a quarter
	// of llvmpipe's limit.
	span := n
	if x.b.software {
		span = groups * 256 * (llvmpipeLoopLimit / 4)
	}
	if x.b.h.gatherSpan > 0 {
		span = x.b.h.gatherSpan
	}
	var flags uint32
	if k%idx.tileRows == 0 {
		flags = 1 // the first record of its buffer
	}
	x.setU(p, uSlot, uint32(k))
	x.setU(p, uFlags, flags)
	for lo := 0; lo < n; lo += span {
		x.bind(0, offs.tiles[0], true)
		x.bind(1, idx.tiles[k/idx.tileRows], true)
		x.bind(2, sl.cnt, false)
		x.bind(3, sl.list, false)
		x.setU(p, uLoopLo, uint32(lo))
		x.setU(p, uLoopHi, uint32(min(lo+span, n)))
		x.dispatch(p, groups)
	}
}

// readBack reads the records gathered into l.host and l.starts (GL
// thread): the ends, then the used part of each buffer of idx.
func (l *eventLog) readBack() error {
	x := l.b.x
	x.updateBarrier()
	r := l.records
	gl.BindBuffer(gl.COPY_READ_BUFFER, l.offs.tiles[0].id)
	gl.GetBufferSubData(gl.COPY_READ_BUFFER, 0, (r+1)*4, unsafe.Pointer(&l.ends[0]))
	per := l.idx.tileRows
	total := 0
	for k := 0; k < r; k++ {
		if k%per == per-1 || k == r-1 { // the last record of a buffer
			total += int(l.ends[k+1])
		}
	}
	if total > l.cap*l.n {
		return fmt.Errorf("gl: EventLog.Drain: the device reports %d indices for %d records of %d elements (a corrupted log)", total, r, l.n)
	}
	if cap(l.host) < total {
		l.host = make([]int32, total, max(total, 2*cap(l.host)))
	}
	l.host = l.host[:total]
	at := 0
	for k := 0; k < r; k++ {
		start := 0
		if k%per != 0 {
			start = int(l.ends[k])
		}
		if start > int(l.ends[k+1]) {
			return fmt.Errorf("gl: EventLog.Drain: the device reports record %d ending at %d before its start %d (a corrupted log)", k, l.ends[k+1], start)
		}
		l.starts[k] = at + start
		if k%per == per-1 || k == r-1 {
			if used := int(l.ends[k+1]); used > 0 {
				gl.BindBuffer(gl.COPY_READ_BUFFER, l.idx.tiles[k/per].id)
				gl.GetBufferSubData(gl.COPY_READ_BUFFER, 0, used*4, unsafe.Pointer(&l.host[at]))
				at += used
			}
		}
	}
	l.starts[r] = at
	return x.glError("EventLog.Drain")
}

// Drain waits for the gathers, reads the records back and calls f for
// each in order; the log is empty afterwards, also when it returns an
// error. f may use the backend (it runs without the backend's lock).
func (l *eventLog) Drain(f func(int, []int32)) error {
	b := l.b
	b.mu.Lock()
	if l.released {
		b.mu.Unlock()
		return fmt.Errorf("gl: EventLog.Drain: the log was released")
	}
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	r := l.records
	var err error
	if r > 0 {
		b.submit()
		err = b.callFn(l.readFn) // reads l.records records
	}
	l.records = 0
	if e := b.takeErr(); e != nil {
		err = e
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	for k := range r {
		f(k, l.host[l.starts[k]:l.starts[k+1]])
	}
	return nil
}

// Release frees the log's buffers once the gathers queued before it have
// run. Releasing twice, or after Close, is a no-op.
func (l *eventLog) Release() {
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if l.released {
		return
	}
	l.released = true
	b.freeLater(l.offs)
	b.freeLater(l.idx)
	l.host, l.ends, l.starts = nil, nil, nil
}

// usable returns an error unless the ring can be read or written: its
// backend open, the ring not released.
func (r *ring) usable(op string) error {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	if r.t.released {
		return fmt.Errorf("gl: %s: the ring of %d slots x %d was released", op, r.t.rows, r.t.cols)
	}
	return nil
}

// RingState returns the ring's sums, Depth x N (the gl ring holds sums,
// not the contributions that made them), after the queued operations.
func (r *ring) RingState() (*backend.RingState, error) {
	if err := r.usable("RingState"); err != nil {
		return nil, err
	}
	st := &backend.RingState{Depth: r.t.rows, N: r.t.cols, Dense: make([]float32, r.t.Len())}
	if err := r.b.Read(st.Dense, r.t, 0); err != nil {
		return nil, fmt.Errorf("gl: RingState: %w", err)
	}
	return st, nil
}

// SetRingState replaces what the ring holds with s, queued after the
// operations before it: Dense sums as they are, lists added up in their
// order on the host (RingState.Sums).
func (r *ring) SetRingState(s *backend.RingState) error {
	if err := r.usable("SetRingState"); err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("gl: SetRingState: nil state; pass one made by RingState")
	}
	if err := s.Check(r.t.rows, r.t.cols); err != nil {
		return fmt.Errorf("gl: SetRingState: %w", err)
	}
	if err := r.b.Write(r.t, 0, s.Sums()); err != nil {
		return fmt.Errorf("gl: SetRingState: %w", err)
	}
	return nil
}

var _ backend.DeterminismReporter = (*Backend)(nil)

// Deterministic reports whether two runs give bit-identical results: only
// when opened with backend.Options.Deterministic, since the default spike
// scatters add with float atomics in the order the device schedules them.
func (b *Backend) Deterministic() bool { return b.det }
