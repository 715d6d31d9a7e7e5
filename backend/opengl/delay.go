package opengl

import (
	"fmt"
	"math"
	"slices"

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
	g, err := b.internalTensor(depth, n) // not listed by Tensors: rings are saved by RingState
	if err != nil {
		return nil, fmt.Errorf("gl: NewDelayRing: %w", err)
	}
	if len(g.tiles) > 1 {
		g.Release()
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

// delayTable is the gl backend.Delays. The steps of a W in one buffer
// are packed four to a word when all are below 256 (two when below
// 65,536): 1 or 2 bytes per synapse. Otherwise, and for a W split over
// several buffers, they are float32 in an NNZ x 1 tensor tiled like W's
// values.
type delayTable struct {
	b    *Backend
	s    *sparse
	t    *tensor // nil when W has no entries
	n    int
	bits int // 8, 16 or 32 (float32)
}

// NewDelays stores the delays of W's entries on the device.
func (b *Backend) NewDelays(w backend.SparseTensor, steps []int32) (backend.Delays, error) {
	s, ok := w.(*sparse)
	if !ok || s == nil || s.b != b {
		return nil, fmt.Errorf("gl: NewDelays: W %s is not a sparse matrix of this gl backend", backend.Shape(w))
	}
	if err := backend.CheckNewDelays(w, steps); err != nil {
		return nil, err
	}
	d := &delayTable{b: b, s: s, n: len(steps), bits: 32}
	if len(steps) == 0 {
		return d, nil
	}
	if len(s.vals.tiles) == 1 {
		d.bits = packBits(steps)
	}
	if d.bits < 32 {
		words := packDelays(steps, d.bits)
		t, err := b.internalTensor(len(words), 1)
		if err == nil {
			err = b.Write(t, 0, bits32(words))
			if err != nil {
				t.Release()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("gl: NewDelays: %w", err)
		}
		d.t = t
		return d, nil
	}
	t, err := b.internalTensor(len(steps), 1)
	if err != nil {
		return nil, fmt.Errorf("gl: NewDelays: %w", err)
	}
	d.t = t
	if len(d.t.tiles) != len(s.vals.tiles) || d.t.tileElems != s.vals.tileElems {
		t.Release()
		return nil, fmt.Errorf("gl: NewDelays: the delays of %d entries are tiled unlike the values of W %s", len(steps), backend.Shape(w))
	}
	vals := make([]float32, len(steps))
	for e, k := range steps {
		vals[e] = float32(k) // exact: k <= MaxDelaySteps
	}
	if err := b.Write(t, 0, vals); err != nil {
		t.Release()
		return nil, fmt.Errorf("gl: NewDelays: %w", err)
	}
	return d, nil
}

func (d *delayTable) Len() int { return d.n }

// Read copies the delays from the device into dst.
func (d *delayTable) Read(dst []int32) error {
	if err := backend.CheckDelaysRead(dst, d.n); err != nil || d.t == nil {
		return err
	}
	vals := make([]float32, d.t.Len())
	if err := d.b.Read(vals, d.t, 0); err != nil {
		return err
	}
	if d.bits < 32 {
		per, mask := 32/d.bits, uint32(1)<<d.bits-1
		for e := range dst {
			w := math.Float32bits(vals[e/per])
			dst[e] = int32(w >> (uint(e%per) * uint(d.bits)) & mask)
		}
		return nil
	}
	for e, v := range vals {
		dst[e] = int32(v)
	}
	return nil
}

// packBits returns the narrowest packing (8 or 16 bits) that holds every
// step, or 32 (float32) if none does.
func packBits(steps []int32) int {
	m := slices.Max(steps)
	switch {
	case m < 1<<8:
		return 8
	case m < 1<<16:
		return 16
	}
	return 32
}

// packDelays packs the steps, bits each, into words, lowest bits first
// (propagate_delayed.comp: delayOf).
func packDelays(steps []int32, bits int) []int32 {
	per := 32 / bits
	words := make([]int32, (len(steps)+per-1)/per)
	for e, k := range steps {
		words[e/per] |= int32(uint32(k) << (uint(e%per) * uint(bits)))
	}
	return words
}

func (d *delayTable) Release() {
	if d.t != nil {
		d.t.Release()
	}
}

// ringTensor returns the tensor of the ring buffer operand. Callers hold
// mu.
func (b *Backend) ringTensor(op string, rg backend.DelayRing) *tensor {
	r, ok := rg.(*ring)
	switch {
	case rg == nil || (ok && r == nil):
		panic(backend.Misusef("gl", op, "nil ring buffer"))
	case !ok:
		panic(backend.Misusef("gl", op, "ring buffer %s is not a gl ring; make it with this backend's NewDelayRing", backend.RingShape(rg)))
	case r.b != b:
		panic(backend.Misusef("gl", op, "ring buffer %s belongs to another gl backend", backend.RingShape(rg)))
	}
	return b.ten(op, r.t)
}

// PropagateDelayed adds alpha * W[e] of the stored entries e of the
// spiking sources to the ring buffer row that their delay sends them to
// (see backend.Delayer), atomically. On GPUs the scatter reads the mask
// itself (a work group per 64 sources collects their spikes); software
// renderers compact it into a spike list first (propagate_delayed.comp).
// With Deterministic it compacts it and adds in spike order (ORDERED).
func (b *Backend) PropagateDelayed(ring backend.DelayRing, slot int, w backend.SparseTensor, trans bool, delays backend.Delays, mask backend.Tensor, alpha float32) {
	const op = "PropagateDelayed"
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live(op)
	s, ok := b.asSparse(op, w)
	if !ok {
		b.ten(op, w) // names a foreign or nil tensor
		panic(backend.Misusef("gl", op, "W %s is not a gl sparse matrix", backend.Shape(w)))
	}
	r := b.ringTensor(op, ring)
	dly, ok := delays.(*delayTable)
	switch {
	case delays == nil || (ok && dly == nil):
		panic(backend.Misusef("gl", op, "nil delays"))
	case !ok || dly.b != b:
		panic(backend.Misusef("gl", op, "the delays were not made by this gl backend's NewDelays"))
	case dly.s != s:
		panic(backend.Misusef("gl", op, "the delays were made for another W, not %s; make them with NewDelays for this W", backend.Shape(w)))
	}
	m := b.denseVec(op, "the mask", mask)
	backend.CheckPropagateDelayed(ring, slot, w, trans, delays, mask)
	if !trans {
		s.rowWiseOnly("PropagateDelayed without trans")
	}
	if s.NNZ() == 0 || m.Len() == 0 || !b.readBy(op, s, trans) {
		return
	}
	dl := b.ten(op, dly.t) // tiled like W's values (NewDelays)
	c := b.record(cDelay)
	c.sp, c.op = s, dlPropCols
	if trans {
		c.op = dlPropScatter
	}
	c.t[0], c.t[1], c.t[2], c.i[0], c.i[1], c.f[0] = r, dl, m, slot, dly.bits, alpha
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

// delayedProgram returns propagate_delayed.comp for a propagation mode,
// delays of bits (8, 16: packed; 32: float32) and spikes from a list or
// (scan) the mask, with float atomics where the device has them; it
// compiles the variants other than the list ones with float32 delays on
// first use and returns nil (the error recorded) if that fails.
func (x *executor) delayedProgram(mode, bits int, scan bool) *program {
	if x.det {
		return x.orderedDelayed(mode, bits)
	}
	atomic := x.p.delayedAtomic[mode] != nil && !x.b.h.noAtomicFloat
	if bits == 32 && !scan {
		if atomic {
			return x.p.delayedAtomic[mode]
		}
		return x.p.delayed[mode]
	}
	a, sc := 0, 0
	if atomic {
		a = 1
	}
	if scan {
		sc = 1
	}
	dst := &x.p.delayedVar[mode][min(bits/16, 2)][a][sc]
	if *dst == nil {
		defines := []string{fmt.Sprintf("MODE %d", mode)}
		if bits < 32 {
			defines = append(defines, fmt.Sprintf("DELAY_BITS %d", bits))
		}
		if atomic {
			defines = append(defines, "ATOMIC_FLOAT 1")
		}
		if scan {
			defines = append(defines, "SCAN 1")
		}
		if err := x.compile(spec{dst, "propagate_delayed.comp", defines, 64}); err != nil {
			x.b.setErr(fmt.Errorf("gl: PropagateDelayed: %w", err))
			return nil
		}
	}
	return *dst
}

// orderedDelayed returns propagate_delayed.comp ORDERED (Deterministic)
// for a mode and delays of bits, compiling the packed variants on first
// use (nil, the error recorded, if that fails).
func (x *executor) orderedDelayed(mode, bits int) *program {
	dst := &x.p.delayedOrdered[mode][min(bits/16, 2)]
	if *dst == nil {
		local := orderedLanes(x.cpuPaths)
		defines := []string{fmt.Sprintf("MODE %d", mode), "ORDERED 1", fmt.Sprintf("LANES %d", local)}
		if bits < 32 {
			defines = append(defines, fmt.Sprintf("DELAY_BITS %d", bits))
		}
		if err := x.compile(spec{dst, "propagate_delayed.comp", defines, local}); err != nil {
			x.b.setErr(fmt.Errorf("gl: PropagateDelayed: %w", err))
			return nil
		}
	}
	return *dst
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
	// GPUs scan the mask in the scatter itself (SCAN); software
	// renderers, and the ordered scatters, compact it first.
	s, mask, scan := c.sp, c.t[2], !x.cpuPaths && !x.det
	var sl *spikeList
	if !scan {
		if sl = x.spikes(mask); sl == nil {
			return
		}
	}
	p := x.delayedProgram(mode, c.i[1], scan)
	if p == nil {
		return
	}
	x.setU(p, uRows, uint32(ring.rows))
	x.setU(p, uCols, uint32(ring.cols))
	x.setU(p, uSlot, uint32(c.i[0]))
	x.setF(p, uAlpha, c.f[0])
	if scan {
		x.setU(p, uN, uint32(mask.Len()))
	}
	if mode == dlPropScatter {
		x.scatterRowTiles(p, s, sl, mask, ring.tiles[0], c.t[1])
		return
	}
	if x.det {
		x.bind(0, ring.tiles[0], true)
	} else {
		x.bindAccum(0, ring.tiles[0])
	}
	x.bind(1, s.vals.tiles[0], false)
	x.bind(2, s.cs.tiles[0], false)
	x.bind(3, s.ri.tiles[0], false)
	x.bind(4, s.pm.tiles[0], false)
	x.bind(7, c.t[1].tiles[0], false)
	if x.det {
		x.orderedScatter(p, sl, s, true, 0)
		return
	}
	x.spikeGroups(p, sl, mask, float64(s.NNZ())/float64(max(1, s.cols)))
}
