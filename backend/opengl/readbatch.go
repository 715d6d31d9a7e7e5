package opengl

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
	"weak"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
)

var _ backend.BatchReader = (*Backend)(nil)

// ReadBatch reads every request (backend.ReadRequest) after the queued
// operations, with one call to the GL thread and one glGetBufferSubData
// for the whole batch: contiguous pieces are copied into a staging buffer
// with glCopyBufferSubData, strided and indexed ones gathered into it by
// read_gather.comp (one dispatch per request and buffer of a split
// tensor; index lists are uploaded into a kept buffer), and the staging
// buffer is read back at once. The staging and index buffers grow when
// needed and are kept. A batch larger than one buffer may hold
// (GL_MAX_SHADER_STORAGE_BLOCK_SIZE) is staged and read back in several
// rounds of one such buffer.
//
// The requests are checked first (backend.CheckReadRequest): the first
// bad one is returned as an error and no Dst is changed. A released or
// foreign tensor panics, as in Read.
func (b *Backend) ReadBatch(reqs []backend.ReadRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	for i := range reqs {
		if err := backend.CheckReadRequest(i, reqs[i]); err != nil {
			return err
		}
	}
	for i := range reqs {
		b.ten("ReadBatch", reqs[i].T) // panics before anything is staged
	}
	st := b.readBatchState()
	st.pieces, st.idx, st.total = st.pieces[:0], st.idx[:0], 0
	st.round = b.maxElems
	for i := range reqs {
		if len(reqs[i].Dst) > 0 {
			st.add(b.ten("ReadBatch", reqs[i].T), &reqs[i])
		}
	}
	b.submit()
	if st.total == 0 {
		return b.takeErr()
	}
	if cap(st.host) < st.total {
		st.host = make([]float32, st.total)
	}
	st.host = st.host[:st.total]
	st.x = b.x
	err := b.callFn(st.fn)
	st.x = nil
	clear(st.pieces) // drop the tensors
	st.stats.Calls++
	if e := b.takeErr(); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	pos := 0
	for i := range reqs {
		n := copy(reqs[i].Dst, st.host[pos:])
		pos += n
	}
	return nil
}

// readBatch is the state of ReadBatch of one Backend, kept between calls.
// The caller fills pieces, idx and total under mu; run, on the GL thread,
// stages them and reads them back into host.
type readBatch struct {
	pieces []rbPiece
	idx    []uint32  // the index lists of the indexed pieces, in order
	host   []float32 // the batch read back, request after request
	total  int       // elements of the batch
	round  int       // staging buffer elements (the per-buffer limit)

	// GL thread: x is set only during the call (so that nothing here
	// keeps the Backend reachable); fn is run, made once.
	x     *executor
	fn    func() error
	prog  *program // read_gather.comp, compiled on first use
	stage *glbuf
	ibuf  *glbuf

	stats readBatchStats
}

// readBatchStats counts the work of ReadBatch (tests check that a batch
// synchronises once).
type readBatchStats struct {
	Calls      int // calls to the GL thread (each waits for the queued work)
	Reads      int // glGetBufferSubData calls
	Copies     int // glCopyBufferSubData calls
	Dispatches int // read_gather.comp dispatches
}

// A piece is a run of elements of one request in one buffer of a tensor,
// staged by one copy or dispatch; none crosses a round of the staging
// buffer.
type rbPiece struct {
	t      *tensor
	tile   int   // buffer of t
	kind   uint8 // rbCopy, rbStrided, rbIndexed
	src    int   // first element in the buffer (copy, strided)
	stride int   // strided
	idx    int   // first entry of readBatch.idx (indexed)
	n      int
	pos    int // first staging element, counted over the whole batch
}

const (
	rbCopy uint8 = iota
	rbStrided
	rbIndexed
)

// readStates holds the ReadBatch state of each Backend, keyed weakly so
// that a dropped Backend's entry goes with it (its GL objects are deleted
// by Close with the others).
var readStates sync.Map // weak.Pointer[Backend] -> *readBatch

// readBatchState returns b's ReadBatch state, made on first use.
func (b *Backend) readBatchState() *readBatch {
	key := weak.Make(b)
	if v, ok := readStates.Load(key); ok {
		return v.(*readBatch)
	}
	st := &readBatch{}
	st.fn = st.run
	readStates.Store(key, st)
	runtime.AddCleanup(b, func(k weak.Pointer[Backend]) { readStates.Delete(k) }, key)
	return st
}

// readBatchStats returns the counts of b's ReadBatch calls so far.
func (b *Backend) readBatchStats() readBatchStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readBatchState().stats
}

// add appends the pieces of request r (of t, len(r.Dst) > 0, checked).
func (st *readBatch) add(t *tensor, r *backend.ReadRequest) {
	n := len(r.Dst)
	pos := st.total
	switch {
	case r.Index != nil:
		for k, x := range r.Index {
			tile, l := t.locate(r.Off + int(x))
			st.idx = append(st.idx, uint32(l))
			if m := len(st.pieces); m > 0 && (pos+k)%st.round != 0 {
				last := &st.pieces[m-1]
				if last.kind == rbIndexed && last.t == t && last.tile == tile && last.pos+last.n == pos+k {
					last.n++
					continue
				}
			}
			st.pieces = append(st.pieces, rbPiece{t: t, tile: tile, kind: rbIndexed, idx: len(st.idx) - 1, n: 1, pos: pos + k})
		}
	case r.Stride <= 1:
		for e, rem := r.Off, n; rem > 0; {
			tile, l := t.locate(e)
			cnt := min(rem, t.tileLen(tile)-l)
			st.piece(rbPiece{t: t, tile: tile, kind: rbCopy, src: l, n: cnt, pos: pos})
			e, rem, pos = e+cnt, rem-cnt, pos+cnt
		}
	default:
		s := r.Stride
		for e, rem := r.Off, n; rem > 0; {
			tile, l := t.locate(e)
			cnt := min(rem, (t.tileLen(tile)-1-l)/s+1)
			st.piece(rbPiece{t: t, tile: tile, kind: rbStrided, src: l, stride: s, n: cnt, pos: pos})
			e, rem, pos = e+cnt*s, rem-cnt, pos+cnt
		}
	}
	st.total += n
}

// piece appends p cut where it crosses from one round to the next.
func (st *readBatch) piece(p rbPiece) {
	for p.n > 0 {
		q := p
		q.n = min(p.n, st.round-p.pos%st.round)
		st.pieces = append(st.pieces, q)
		p.n, p.pos = p.n-q.n, p.pos+q.n
		if p.kind == rbCopy {
			p.src += q.n
		} else {
			p.src += q.n * p.stride
		}
	}
}

// run stages and reads back the batch (GL thread): per round of the
// staging buffer, the copies, then the gathers, then one
// glGetBufferSubData.
func (st *readBatch) run() error {
	x := st.x
	if err := x.glError("before ReadBatch"); err != nil {
		x.b.setErr(err) // an earlier operation's: reported with it
	}
	if st.prog == nil {
		if err := x.compile(spec{&st.prog, "read_gather.comp", nil, 256}); err != nil {
			return fmt.Errorf("gl: ReadBatch: %v", err)
		}
	}
	R := st.round
	if err := x.rbGrow(&st.stage, min(st.total, R), R, gl.STREAM_READ); err != nil {
		return err
	}
	p := st.prog
	for i := 0; i < len(st.pieces); {
		lo := st.pieces[i].pos / R * R
		hi := min(lo+R, st.total)
		j := i
		ilo, ihi := -1, 0 // the round's range of idx
		for j < len(st.pieces) && st.pieces[j].pos < hi {
			if q := &st.pieces[j]; q.kind == rbIndexed {
				if ilo < 0 {
					ilo = q.idx
				}
				ihi = q.idx + q.n
			}
			j++
		}
		if ilo >= 0 {
			if err := x.rbGrow(&st.ibuf, ihi-ilo, R, gl.STREAM_DRAW); err != nil {
				return err
			}
			gl.BindBuffer(gl.COPY_WRITE_BUFFER, st.ibuf.id)
			gl.BufferSubData(gl.COPY_WRITE_BUFFER, 0, (ihi-ilo)*4, unsafe.Pointer(&st.idx[ilo]))
		}
		x.updateBarrier() // shader writes before the copies
		for _, q := range st.pieces[i:j] {
			if q.kind != rbCopy {
				continue
			}
			gl.BindBuffer(gl.COPY_READ_BUFFER, q.t.tiles[q.tile].id)
			gl.BindBuffer(gl.COPY_WRITE_BUFFER, st.stage.id)
			gl.CopyBufferSubData(gl.COPY_READ_BUFFER, gl.COPY_WRITE_BUFFER, q.src*4, (q.pos-lo)*4, q.n*4)
			st.stats.Copies++
		}
		for _, q := range st.pieces[i:j] {
			if q.kind == rbCopy {
				continue
			}
			x.bind(0, st.stage, true)
			x.bind(1, q.t.tiles[q.tile], false)
			var flags, stride, offB uint32
			if q.kind == rbIndexed {
				x.bind(2, st.ibuf, false)
				flags, offB = 1, uint32(q.idx-ilo)
			} else {
				x.bind(2, x.dummy, false)
				stride = uint32(q.stride)
				if q.n == 1 {
					stride = 0 // a stride beyond uint32 with one element
				}
			}
			x.setU(p, uN, uint32(q.n))
			x.setU(p, uOffDst, uint32(q.pos-lo))
			x.setU(p, uOffA, uint32(q.src))
			x.setU(p, uOffB, offB)
			x.setU(p, uSpan, stride)
			x.setU(p, uFlags, flags)
			x.dispatch(p, x.strided(q.n, 256))
			// The gathers write disjoint ranges of the staging buffer,
			// and glGetBufferSubData waits for them all: no barrier
			// between them.
			st.stage.wEpoch = 0
			st.stats.Dispatches++
		}
		x.updateBarrier()
		gl.BindBuffer(gl.COPY_READ_BUFFER, st.stage.id)
		gl.GetBufferSubData(gl.COPY_READ_BUFFER, 0, (hi-lo)*4, unsafe.Pointer(&st.host[lo]))
		st.stats.Reads++
		i = j
	}
	return x.glError("ReadBatch")
}

// rbGrow makes *s a buffer of at least elems 4-byte elements (at most
// limit, which is at least elems), with room to grow. It is not cleared:
// ReadBatch writes every element it reads.
func (x *executor) rbGrow(s **glbuf, elems, limit int, usage uint32) error {
	if *s != nil && (*s).bytes >= int64(elems)*4 {
		return nil
	}
	x.deleteBuffer(*s)
	*s = nil
	size := int64(min(max(elems+elems/2, 1024), limit)) * 4
	var id uint32
	gl.GenBuffers(1, &id)
	gl.BindBuffer(gl.COPY_WRITE_BUFFER, id)
	gl.BufferData(gl.COPY_WRITE_BUFFER, int(size), nil, usage)
	if code := gl.GetError(); code != gl.NO_ERROR {
		gl.DeleteBuffers(1, &id)
		return fmt.Errorf("gl: ReadBatch: allocating a staging buffer of %d bytes failed with %s; read fewer elements per batch, release tensors you no longer need, or use -backend=cpu", size, glErrorName(code))
	}
	buf := &glbuf{id: id, bytes: size}
	x.live[buf] = struct{}{}
	x.b.buffers.Add(1)
	*s = buf
	return nil
}
