package opengl

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
)

var _ backend.Delayer = (*Backend)(nil)

// Modes of propagate_delayed.comp.
const (
	dlPropCols    = iota // PropagateDelayed without trans: the spiking columns
	dlPropScatter        // PropagateDelayed with trans: the spiking rows
	dlTakeSlot
)

// ring is the gl backend.DelayRing: a D x n tensor whose row s sums what
// arrives at the steps t with t mod D == s.
type ring struct {
	b *Backend
	t *tensor
}

// NewDelayRing returns a zeroed D x n ring buffer in one shader storage
// buffer.
func (b *Backend) NewDelayRing(depth, n int) (backend.DelayRing, error) {
	if err := backend.CheckNewDelayRing(depth, n); err != nil {
		return nil, err
	}
	t, err := b.NewTensor(depth, n)
	if err != nil {
		return nil, fmt.Errorf("gl: NewDelayRing: %w", err)
	}
	g := t.(*tensor)
	if len(g.tiles) > 1 {
		t.Release()
		return nil, fmt.Errorf("gl: NewDelayRing: a ring of %d slots x %d destinations has %d elements, more than one shader storage buffer of this device holds (%d); use fewer delay steps, a smaller destination group or -backend=cpu",
			depth, n, depth*n, g.tileElems)
	}
	return &ring{b: b, t: g}, nil
}

func (r *ring) Depth() int { return r.t.rows }
func (r *ring) Len() int   { return r.t.cols }
func (r *ring) Read(dst []float32) error {
	if err := backend.CheckRingRead(dst, r.t.rows, r.t.cols); err != nil {
		return err
	}
	return r.b.Read(dst, r.t, 0)
}
func (r *ring) Release() { r.t.Release() }

// ringTensor returns the tensor of the ring buffer operand. Callers hold
// mu.
func (b *Backend) ringTensor(op string, rg backend.DelayRing) *tensor {
	r, ok := rg.(*ring)
	switch {
	case rg == nil || (ok && r == nil):
		panic(fmt.Sprintf("backend: %s: nil ring buffer", op))
	case !ok:
		panic(fmt.Sprintf("backend: %s: ring buffer %s is not a gl ring; make it with this backend's NewDelayRing", op, backend.RingShape(rg)))
	case r.b != b:
		panic(fmt.Sprintf("backend: %s: ring buffer %s belongs to another gl backend", op, backend.RingShape(rg)))
	}
	return b.ten(op, r.t)
}

// PropagateDelayed adds alpha * W[e] of the stored entries e of the
// spiking sources to the ring buffer row that their delay sends them to
// (see backend.Delayer). The mask is compacted into a spike list on the
// device; a workgroup per spike adds its entries atomically.
func (b *Backend) PropagateDelayed(ring backend.DelayRing, slot int, w backend.SparseTensor, trans bool, delays, mask backend.Tensor, alpha float32) {
	const op = "PropagateDelayed"
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live(op)
	s, ok := b.asSparse(op, w)
	if !ok {
		b.ten(op, w) // names a foreign or nil tensor
		panic(fmt.Sprintf("gl: %s: W %s is not a gl sparse matrix", op, backend.Shape(w)))
	}
	r := b.ringTensor(op, ring)
	var dl *tensor // tiled like W's values when W is split
	if delays != nil {
		if _, ok := delays.(*sparse); ok {
			b.denseVec(op, "the delays", delays) // panics naming the sparse operand
		}
		dl = b.ten(op, delays)
	}
	m := b.denseVec(op, "the mask", mask)
	backend.CheckPropagateDelayed(ring, slot, w, trans, delays, mask)
	if !trans {
		s.rowWiseOnly("PropagateDelayed without trans")
	}
	if len(dl.tiles) != len(s.vals.tiles) || dl.tileElems != s.vals.tileElems {
		panic(fmt.Sprintf("gl: %s: the delays %s are tiled unlike the values of W %s; give an NNZ x 1 (or 1 x NNZ) tensor", op, backend.Shape(delays), backend.Shape(w)))
	}
	if s.NNZ() == 0 || m.Len() == 0 {
		return
	}
	c := b.record(cDelay)
	c.sp, c.op = s, dlPropCols
	if trans {
		c.op = dlPropScatter
	}
	c.t[0], c.t[1], c.t[2], c.i[0], c.f[0] = r, dl, m, slot, alpha
	b.maybeSubmit()
}

// TakeSlot adds row slot of the ring buffer to dst and zeroes the row.
func (b *Backend) TakeSlot(dst backend.Tensor, ring backend.DelayRing, slot int) {
	const op = "TakeSlot"
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live(op)
	d := b.denseVec(op, "the destination", dst)
	r := b.ringTensor(op, ring)
	backend.CheckTakeSlot(dst, ring, slot)
	if d.Len() == 0 {
		return
	}
	c := b.record(cDelay)
	c.op = dlTakeSlot
	c.t[0], c.t[1], c.i[0] = d, r, slot
	b.maybeSubmit()
}

// delayOp runs one command of propagate_delayed.comp on the GL thread.
func (x *executor) delayOp(c *cmd) {
	mode := int(c.op)
	ring := c.t[0]
	if c.op == dlTakeSlot {
		ring = c.t[1]
		p := x.p.delayed[mode]
		x.setU(p, uCols, uint32(ring.cols))
		x.setU(p, uSlot, uint32(c.i[0]))
		x.bind(0, c.t[0].tiles[0], true)
		x.bind(1, ring.tiles[0], true)
		x.dispatch(p, x.strided(ring.cols, 64))
		return
	}
	s := c.sp
	if !x.compact(c.t[2], &x.cntA, &x.listA) {
		return
	}
	p := x.p.delayed[mode]
	if x.p.delayedAtomic[mode] != nil && !testNoAtomicFloat {
		p = x.p.delayedAtomic[mode]
	}
	x.setU(p, uRows, uint32(ring.rows))
	x.setU(p, uCols, uint32(ring.cols))
	x.setU(p, uSlot, uint32(c.i[0]))
	x.setF(p, uAlpha, c.f[0])
	if mode == dlPropScatter {
		x.scatterRowTiles(p, s, ring.tiles[0], c.t[1])
		return
	}
	x.bind(0, ring.tiles[0], true)
	x.bind(1, s.vals.tiles[0], false)
	x.bind(2, s.cs.tiles[0], false)
	x.bind(3, s.ri.tiles[0], false)
	x.bind(4, s.pm.tiles[0], false)
	x.bind(5, x.cntA, false)
	x.bind(6, x.listA, false)
	x.bind(7, c.t[1].tiles[0], false)
	x.dispatch(p, min(s.cols, x.maskGroups))
}
