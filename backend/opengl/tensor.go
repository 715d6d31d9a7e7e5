package opengl

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
)

// tensor is a gl tensor: Rows x Cols float32 in one or more GL buffers
// (tiles of tileRows whole rows, tileElems elements; the last may be
// shorter). Only Release and the GL thread change it after creation.
type tensor struct {
	b          *Backend
	rows, cols int
	tileRows   int // rows per tile (0 when one row spans tiles, rows == 1)
	tileElems  int // elements per tile, at least 1
	tiles      []*glbuf
	released   bool // set under b.mu
}

func (t *tensor) Rows() int                { return t.rows }
func (t *tensor) Cols() int                { return t.cols }
func (t *tensor) Len() int                 { return t.rows * t.cols }
func (t *tensor) Backend() backend.Backend { return t.b }
func (t *tensor) String() string           { return fmt.Sprintf("gl tensor %dx%d", t.rows, t.cols) }

// Release frees the tensor's buffers once the operations queued before it
// have run. Releasing twice, or after Close, is a no-op.
func (t *tensor) Release() {
	b := t.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.released || b.closed {
		t.released = true
		return
	}
	t.released = true
	c := b.rec.add()
	c.kind = cRelease
	c.t[0] = t
	b.maybeSubmit()
}

// tileLen returns the number of elements of tile k.
func (t *tensor) tileLen(k int) int { return min(t.tileElems, t.Len()-k*t.tileElems) }

// locate returns the tile holding element e and e's index in it.
func (t *tensor) locate(e int) (tile, local int) {
	k := e / t.tileElems
	return k, e - k*t.tileElems
}

// tileRowsOf returns the first row of tile k and its number of rows.
func (t *tensor) tileRowsOf(k int) (first, n int) {
	first = k * t.tileRows
	return first, min(t.tileRows, t.rows-first)
}

// layout splits a rows x cols tensor into tiles of at most maxElems
// elements, each of whole rows. A single row longer than maxElems is split
// only when rows == 1 (a flat vector).
func layout(t *tensor, maxElems int) error {
	n := t.Len()
	switch {
	case n <= maxElems:
		t.tileRows, t.tileElems = t.rows, max(n, 1)
	case t.cols <= maxElems:
		t.tileRows = maxElems / t.cols
		t.tileElems = t.tileRows * t.cols
	case t.rows == 1:
		t.tileRows, t.tileElems = 0, maxElems
	default:
		return fmt.Errorf("gl: NewTensor: a row of %d float32 (%d bytes) exceeds GL_MAX_SHADER_STORAGE_BLOCK_SIZE (%d bytes) of this device; store the data transposed (fewer columns) or use -backend=cpu",
			t.cols, int64(t.cols)*4, int64(maxElems)*4)
	}
	return nil
}

// NewTensor allocates a rows x cols tensor of zeros in GPU memory. A
// matrix larger than the device's shader storage block limit is split
// into several buffers of whole rows. Negative dimensions panic; a shape
// the device cannot hold returns an error (GL_OUT_OF_MEMORY names the
// size).
func (b *Backend) NewTensor(rows, cols int) (backend.Tensor, error) {
	if rows < 0 || cols < 0 {
		panic(backend.Misusef("gl", "NewTensor", "invalid shape %dx%d: rows and cols must not be negative", rows, cols))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, err := b.newTensor(rows, cols)
	if err != nil {
		return nil, err // not a nil *tensor in an interface
	}
	b.register(t, nil)
	return t, nil
}

// internalTensor is NewTensor for the buffers inside the backend's own
// objects (a sparse matrix's arrays, a ring, delays), which Tensors does
// not list; event logs call newTensor under mu for theirs.
func (b *Backend) internalTensor(rows, cols int) (*tensor, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.newTensor(rows, cols)
}

// newTensor is NewTensor for callers that hold mu.
func (b *Backend) newTensor(rows, cols int) (*tensor, error) {
	if b.closed {
		return nil, errClosed
	}
	if cols != 0 && rows > math.MaxInt/4/cols {
		return nil, fmt.Errorf("gl: NewTensor: %dx%d elements do not fit in memory; use a smaller shape", rows, cols)
	}
	t := &tensor{b: b, rows: rows, cols: cols}
	if err := layout(t, b.maxElems); err != nil {
		return nil, err
	}
	bytes := int64(t.Len()) * 4
	if b.software && bytes > 0 {
		// llvmpipe allocates buffers with malloc and would be killed by
		// the kernel rather than fail; refuse what cannot fit.
		if avail, ok := memAvailable(); ok && bytes > avail {
			return nil, fmt.Errorf("gl: NewTensor: allocating %d bytes (%dx%d float32) failed with GL_OUT_OF_MEMORY: only %d bytes of memory are available to the software renderer; release tensors you no longer need, use a smaller network, or -backend=cpu",
				bytes, rows, cols, avail)
		}
	}
	if err := b.callFn(func() error { return b.x.allocTensor(t) }); err != nil {
		return nil, err
	}
	return t, nil
}

// memAvailable returns MemAvailable of /proc/meminfo in bytes.
func memAvailable() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != "MemAvailable" {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0, false
		}
		return kb * 1024, true
	}
	return 0, false
}

// ten returns t as a live tensor of b, panicking otherwise. Callers hold
// mu.
func (b *Backend) ten(op string, t backend.Tensor) *tensor {
	gt, ok := t.(*tensor)
	if sp, isSparse := t.(*sparse); isSparse && sp != nil && sp.b == b {
		gt, ok = sp.vals, true // elementwise operations act on the values
	}
	if !ok || gt == nil || gt.b != b {
		if t == nil || gt == nil && ok {
			panic(backend.Misusef("gl", op, "nil tensor"))
		}
		backend.CheckOwner(op, b, t)
		panic(backend.Misusef("gl", op, "tensor %s is not a gl tensor", backend.Shape(t)))
	}
	if gt.released {
		panic(backend.Misusef("gl", op, "tensor %s was released", backend.Shape(t)))
	}
	return gt
}

// opt is ten for an optional tensor: nil yields nil.
func (b *Backend) opt(op string, t backend.Tensor) *tensor {
	if t == nil {
		return nil
	}
	return b.ten(op, t)
}

// live panics if b is closed. Callers hold mu.
func (b *Backend) live(op string) {
	if b.closed {
		panic(backend.Misusef("gl", op, "the backend is closed"))
	}
}

// Write copies src into t starting at element off. Small writes are
// queued with the operations (src is copied, so the caller may reuse it at
// once); large ones are copied to the device before Write returns. A range
// outside t is returned as an error; a released or foreign tensor panics.
func (b *Backend) Write(t backend.Tensor, off int, src []float32) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	return b.write(b.ten("Write", t), off, src)
}

// write is Write for callers that hold mu.
func (b *Backend) write(gt *tensor, off int, src []float32) error {
	t := gt
	if off < 0 || off > gt.Len() || len(src) > gt.Len()-off {
		return fmt.Errorf("gl: Write: %d values at offset %d do not fit in tensor %s of %d elements", len(src), off, backend.Shape(t), gt.Len())
	}
	if len(src) == 0 {
		return b.takeErr()
	}
	if len(src) <= smallWrite {
		b.writeLocked(gt, off, src)
		b.maybeSubmit()
		return b.takeErr()
	}
	b.submit()
	r := &b.syncReq
	r.kind, r.t, r.off, r.data = reqWrite, gt, off, src
	err := b.call(r)
	if e := b.takeErr(); e != nil {
		return e
	}
	return err
}

// Read copies len(dst) elements of t starting at off into dst, after all
// queued operations. A range outside t is returned as an error; a released
// or foreign tensor panics.
func (b *Backend) Read(dst []float32, t backend.Tensor, off int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	gt := b.ten("Read", t)
	if off < 0 || off > gt.Len() || len(dst) > gt.Len()-off {
		return fmt.Errorf("gl: Read: %d values at offset %d lie outside tensor %s of %d elements", len(dst), off, backend.Shape(t), gt.Len())
	}
	b.submit()
	if len(dst) == 0 {
		return b.takeErr()
	}
	r := &b.syncReq
	r.kind, r.t, r.off, r.data = reqRead, gt, off, dst
	err := b.call(r)
	if e := b.takeErr(); e != nil {
		return e
	}
	return err
}

// writeLocked records a write of a few values (at most smallWrite), which
// travel in the batch. Callers hold b.mu.
func (b *Backend) writeLocked(t *tensor, off int, src []float32) {
	bt := b.rec
	c := bt.add()
	c.kind = cWrite
	c.t[0] = t
	c.i = [3]int{off, len(bt.data), len(src)}
	bt.data = append(bt.data, src...)
}
