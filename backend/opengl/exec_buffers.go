package opengl

import (
	"fmt"
	"unsafe"

	"github.com/go-gl/gl/v4.3-core/gl"
)

// ---- buffers ----

// newBuffer creates a zero-filled buffer of bytes bytes.
func (x *executor) newBuffer(bytes int64) (*glbuf, error) {
	if err := x.glError("before allocating a buffer"); err != nil {
		x.b.setErr(err)
	}
	if free, ok := x.freeDeviceMemory(); ok && bytes > free {
		return nil, fmt.Errorf("allocating a buffer of %d bytes failed with GL_OUT_OF_MEMORY: the GPU has %d bytes free", bytes, free)
	}
	var id uint32
	gl.GenBuffers(1, &id)
	gl.BindBuffer(gl.COPY_WRITE_BUFFER, id)
	gl.BufferData(gl.COPY_WRITE_BUFFER, int(bytes), nil, gl.DYNAMIC_COPY)
	if code := gl.GetError(); code != gl.NO_ERROR {
		gl.DeleteBuffers(1, &id)
		if code == gl.OUT_OF_MEMORY {
			return nil, fmt.Errorf("allocating a buffer of %d bytes failed with GL_OUT_OF_MEMORY", bytes)
		}
		return nil, fmt.Errorf("allocating a buffer of %d bytes failed with %s", bytes, glErrorName(code))
	}
	gl.ClearBufferData(gl.COPY_WRITE_BUFFER, gl.R32UI, gl.RED_INTEGER, gl.UNSIGNED_INT, nil)
	x.clearPending = true
	if code := gl.GetError(); code != gl.NO_ERROR {
		gl.DeleteBuffers(1, &id)
		return nil, fmt.Errorf("clearing a buffer of %d bytes failed with %s", bytes, glErrorName(code))
	}
	buf := &glbuf{id: id, bytes: bytes}
	x.live[buf] = struct{}{}
	x.b.buffers.Add(1)
	return buf, nil
}

func (x *executor) deleteBuffer(buf *glbuf) {
	if buf == nil || buf.id == 0 {
		return
	}
	for i, id := range x.bound {
		if id == buf.id {
			x.bound[i] = 0 // deleting unbinds it; the name may be reused
		}
	}
	if x.indirect == buf.id {
		x.indirect = 0
	}
	gl.DeleteBuffers(1, &buf.id)
	buf.id = 0
	delete(x.live, buf)
	x.b.buffers.Add(-1)
	for i := range x.lists {
		if l := &x.lists[i]; l.mask == buf { // a released mask: drop its list
			l.mask = nil
			x.deleteBuffer(l.cnt)
			x.deleteBuffer(l.list)
			l.cnt, l.list = nil, nil
		}
	}
}

// allocTensor creates the buffers of t (laid out by layout).
func (x *executor) allocTensor(t *tensor) error {
	n := t.Len()
	if n == 0 {
		return nil
	}
	tiles := (n + t.tileElems - 1) / t.tileElems
	t.tiles = make([]*glbuf, 0, tiles)
	for k := 0; k < tiles; k++ {
		buf, err := x.newBuffer(int64(t.tileLen(k)) * 4)
		if err != nil {
			x.freeTensor(t)
			what := fmt.Sprintf("gl: NewTensor: allocating %d bytes (%dx%d float32)", int64(n)*4, t.rows, t.cols)
			if tiles > 1 {
				what += fmt.Sprintf(" as %d buffers", tiles)
			}
			return fmt.Errorf("%s: %v; release tensors you no longer need, use a smaller network, or -backend=cpu", what, err)
		}
		t.tiles = append(t.tiles, buf)
	}
	return nil
}

func (x *executor) freeTensor(t *tensor) {
	for _, buf := range t.tiles {
		x.deleteBuffer(buf)
	}
	t.tiles = nil
}

// ensure makes *s a scratch buffer of at least bytes bytes.
func (x *executor) ensure(s **glbuf, bytes int64) bool {
	if *s != nil && (*s).bytes >= bytes {
		return true
	}
	x.deleteBuffer(*s)
	*s = nil
	size := max(bytes, 256)
	if size < 1<<30 {
		size += size / 2 // room to grow
	}
	size = (size + 15) &^ 15 // whole elements of any type
	buf, err := x.newBuffer(size)
	if err != nil {
		x.b.setErr(fmt.Errorf("gl: scratch buffer: %v; release tensors you no longer need or use -backend=cpu", err))
		return false
	}
	*s = buf
	return true
}

// ---- host transfers ----

// updateBarrier makes shader writes visible to glBufferSubData and
// glGetBufferSubData.
func (x *executor) updateBarrier() {
	if x.dispatched {
		gl.MemoryBarrier(gl.BUFFER_UPDATE_BARRIER_BIT)
		x.dispatched = false
	}
}

func (x *executor) read(dst []float32, t *tensor, off int) error {
	x.updateBarrier()
	for pos := 0; pos < len(dst); {
		k, l := t.locate(off + pos)
		cnt := min(len(dst)-pos, t.tileLen(k)-l)
		gl.BindBuffer(gl.COPY_READ_BUFFER, t.tiles[k].id)
		gl.GetBufferSubData(gl.COPY_READ_BUFFER, l*4, cnt*4, unsafe.Pointer(&dst[pos]))
		pos += cnt
	}
	return x.glError("Read")
}

func (x *executor) write(t *tensor, off int, src []float32) error {
	x.updateBarrier()
	if x.clearPending {
		gl.Finish()
		x.clearPending = false
	}
	for pos := 0; pos < len(src); {
		k, l := t.locate(off + pos)
		cnt := min(len(src)-pos, t.tileLen(k)-l)
		x.wseq++
		t.tiles[k].wseq = x.wseq
		gl.BindBuffer(gl.COPY_WRITE_BUFFER, t.tiles[k].id)
		gl.BufferSubData(gl.COPY_WRITE_BUFFER, l*4, cnt*4, unsafe.Pointer(&src[pos]))
		pos += cnt
	}
	return x.glError("Write")
}
