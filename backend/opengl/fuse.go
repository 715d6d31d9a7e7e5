package opengl

import (
	"fmt"

	"github.com/go-gl/gl/v4.3-core/gl"
	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// fuseLocal is the work-group size of fused kernels.
const fuseLocal = 256

// maxKernelTensors bounds the tensors of a fused program (and the binding
// points the backend tracks); the device's
// GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS may bound it further.
const maxKernelTensors = 64

// kernel is a fused elementwise program compiled to a compute shader. It
// has one shader per pattern of broadcast (one-element, read-only)
// arguments; the pattern without broadcasts is compiled by Fuse, others on
// first use.
type kernel struct {
	b        *Backend
	p        *expr.Program
	names    []string
	reads    []bool
	writes   []bool
	variants map[variantKey]*program // touched under b.mu
	released bool
	// scratch for Run, reused (under b.mu).
	ts []*tensor
}

var _ backend.Kernel = (*kernel)(nil)

// variantKey selects a kernel's shader: the broadcast tensors, and whether
// it runs in pieces (some tensor spans several buffers).
type variantKey struct {
	mask   uint64
	pieces bool
}

// Fuse compiles p into a kernel. The shader comes from p.GLSL: tensor k
// at binding k, uniform n, seed and counter, a 2-D grid of 256-wide
// groups. exp, log, tanh, sigmoid, pow and division in fused kernels use
// the driver's float32 built-ins (see package expr), so they may differ
// from the cpu in the last bits; exprel, expm1, log1p, log10, sin and cos
// are computed in double and rounded once, as on the cpu (equal on
// llvmpipe), and x ** k, %, sign, ceil, int, i and N are exact.
func (b *Backend) Fuse(p *expr.Program) (backend.Kernel, error) {
	if p == nil {
		panic(backend.Misusef("gl", "Fuse", "nil program"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	names := p.Tensors()
	if limit := min(b.maxBindings, maxKernelTensors); len(names) > limit {
		return nil, fmt.Errorf("gl: Fuse: the program uses %d tensors, but a compute shader of this device binds at most %d; split the program into smaller ones",
			len(names), limit)
	}
	k := &kernel{b: b, p: p, names: names, variants: map[variantKey]*program{},
		reads: make([]bool, len(names)), writes: make([]bool, len(names)), ts: make([]*tensor, len(names))}
	for i := range names {
		k.reads[i], k.writes[i] = p.Reads(i), p.Writes(i)
	}
	if _, err := k.variant(variantKey{}); err != nil {
		return nil, err
	}
	return k, nil
}

// variant returns the program for a broadcast mask, compiling it on the GL
// thread if needed. Callers hold b.mu.
func (k *kernel) variant(v variantKey) (*program, error) {
	if pr := k.variants[v]; pr != nil {
		return pr, nil
	}
	var bc []bool
	if v.mask != 0 {
		bc = make([]bool, len(k.names))
		for i := range bc {
			bc[i] = v.mask&(1<<i) != 0
		}
	}
	src, err := k.p.GLSL(expr.GLSLOptions{LocalSize: fuseLocal, Broadcast: bc, Pieces: v.pieces})
	if err != nil {
		return nil, fmt.Errorf("gl: Fuse: %w", err)
	}
	name := fmt.Sprintf("fused kernel %q", k.p.String())
	var pr *program
	err = k.b.callFn(func() error {
		var err error
		pr, err = compileProgram(name, src, fuseLocal)
		if err != nil {
			return err
		}
		if v.pieces {
			pr.off = make([]int32, len(k.names))
			for i := range pr.off {
				pr.off[i] = gl.GetUniformLocation(pr.id, gl.Str(fmt.Sprintf("off%d\x00", i)))
			}
		}
		k.b.x.all = append(k.b.x.all, pr)
		k.b.programs.Add(1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gl: Fuse: %w", err)
	}
	k.variants[v] = pr
	return pr, nil
}

// Run records one run of the kernel over args, bound in order to the
// program's tensors. The run covers n elements, the largest Len among the
// arguments; a one-element argument that the program only reads is
// broadcast, every other argument must have n elements. Random sites
// draw with key (site i uses Counter+i).
func (k *kernel) Run(args []backend.Tensor, scalars []float32, key rng.Key) {
	b := k.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live("Kernel.Run")
	if k.released {
		panic(backend.Misusef("gl", "Kernel.Run", "the kernel was released"))
	}
	if len(args) != len(k.names) {
		panic(backend.Misusef("gl", "Kernel.Run", "%d tensors given, the program %q has %d (%v)", len(args), k.p.String(), len(k.names), k.names))
	}
	if len(scalars) != k.p.NumScalars() {
		panic(backend.Misusef("gl", "Kernel.Run", "%d scalars given, the program %q has %d (%v)", len(scalars), k.p.String(), k.p.NumScalars(), k.p.Scalars()))
	}
	n, pieces := 0, false
	for i, a := range args {
		t := b.ten("Kernel.Run", a)
		pieces = pieces || len(t.tiles) > 1
		k.ts[i] = t
		n = max(n, t.Len())
	}
	var mask uint64
	for i, t := range k.ts {
		if t.Len() == n {
			continue
		}
		if t.Len() == 1 && !k.writes[i] {
			mask |= 1 << i
			continue
		}
		clear(k.ts)
		if t.Len() == 1 {
			panic(backend.Misusef("gl", "Kernel.Run", "tensor %s (%s) has 1 element but is assigned by the program, so it must have all %d; only tensors the program only reads are broadcast",
				k.names[i], backend.Shape(args[i]), n))
		}
		panic(backend.Misusef("gl", "Kernel.Run", "length mismatch: tensor %s (%s) has %d elements, want %d (or 1 to broadcast a tensor the program only reads)",
			k.names[i], backend.Shape(args[i]), t.Len(), n))
	}
	for i, t := range k.ts {
		for j := i + 1; j < len(k.ts); j++ {
			if t == k.ts[j] && (k.writes[i] || k.writes[j]) {
				clear(k.ts)
				panic(backend.Misusef("gl", "Kernel.Run", "tensor %s is bound to both %s and %s, and the program assigns one of them; use separate tensors",
					backend.Shape(args[i]), k.names[i], k.names[j]))
			}
		}
	}
	if n == 0 {
		clear(k.ts)
		return
	}
	k.record(variantKey{mask, pieces}, n, scalars, key)
	b.maybeSubmit()
}

// record records a run over the tensors in k.ts (and clears it). Callers
// hold b.mu.
func (k *kernel) record(v variantKey, n int, scalars []float32, key rng.Key) {
	b := k.b
	pr, err := k.variant(v)
	if err != nil {
		clear(k.ts)
		b.setErr(err)
		return
	}
	bt := b.rec
	c := bt.add()
	c.kind = cKernel
	c.kern = k
	c.key = key
	copy(c.f[:], scalars)
	c.i = [3]int{len(bt.args), len(k.ts), n}
	c.prog = pr
	bt.args = append(bt.args, k.ts...)
	clear(k.ts)
}

// fill records d = v over all of d (the backend's own use: MatVec with
// beta 0, a constant Random). Callers hold b.mu.
func (b *Backend) fill(d *tensor, v float32) { b.runInternal(&b.fillK, "x0 = s0", d, v) }

// scale records d = beta*d, with beta == 0 writing zeros (as BLAS).
// Callers hold b.mu.
func (b *Backend) scale(d *tensor, beta float32) {
	switch {
	case d.Len() == 0 || beta == 1:
	case beta == 0:
		b.fill(d, 0)
	default:
		b.runInternal(&b.scaleK, "x0 = s0*x0", d, beta)
	}
}

// runInternal records the one-tensor, one-scalar program src over d,
// compiling it into *kp on first use. Callers hold b.mu.
func (b *Backend) runInternal(kp **kernel, src string, d *tensor, s float32) {
	if *kp == nil {
		p, err := expr.Compile(src, expr.Env{Tensors: []string{"x0"}, Scalars: []string{"s0"}})
		if err != nil {
			panic("gl: " + err.Error()) // a constant program
		}
		*kp = &kernel{b: b, p: p, names: p.Tensors(), variants: map[variantKey]*program{},
			reads: []bool{p.Reads(0)}, writes: []bool{true}, ts: make([]*tensor, 1)}
	}
	k := *kp
	k.ts[0] = d
	b.sc[0] = s
	k.record(variantKey{pieces: len(d.tiles) > 1}, d.Len(), b.sc[:1], rng.Key{})
}

// Release frees the kernel's shaders once the runs queued before it are
// done. Releasing twice, or after Close, is a no-op.
func (k *kernel) Release() {
	b := k.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if k.released || b.closed {
		k.released = true
		return
	}
	k.released = true
	c := b.rec.add()
	c.kind = cReleaseKernel
	c.kern = k
	b.maybeSubmit()
}

// runKernel executes a recorded kernel run on the GL thread.
func (x *executor) runKernel(c *cmd, bt *batch) {
	k, pr := c.kern, c.prog
	args := bt.args[c.i[0] : c.i[0]+c.i[1]]
	for i, t := range args {
		if k.reads[i] || k.writes[i] {
			x.bind(uint32(i), t.tiles[0], k.writes[i])
		}
	}
	n := c.i[2]
	x.setU(pr, uN, uint32(n))
	x.setU2(pr, uSeed, c.key.Seed)
	x.setU2(pr, uCounter, c.key.Counter)
	for j := range k.p.NumScalars() {
		x.setF(pr, uSc0+uniform(j), c.f[j])
	}
	if pr.off == nil {
		x.dispatch(pr, ceilDiv(n, fuseLocal))
		return
	}
	// In pieces: the range is cut where any tensor crosses from one buffer
	// to the next.
	for pos := 0; pos < n; {
		cnt := n - pos
		for i, t := range args {
			if (k.reads[i] || k.writes[i]) && t.Len() == n {
				tk, tl := t.locate(pos)
				cnt = min(cnt, t.tileLen(tk)-tl)
			}
		}
		for i, t := range args {
			if !k.reads[i] && !k.writes[i] {
				continue
			}
			if t.Len() != n { // broadcast
				x.bind(uint32(i), t.tiles[0], false)
				continue
			}
			tk, tl := t.locate(pos)
			x.bind(uint32(i), t.tiles[tk], k.writes[i])
			if loc := pr.off[i]; loc >= 0 {
				gl.ProgramUniform1ui(pr.id, loc, uint32(tl-pos)) // wraps: gid + off is the index in the tile
			}
		}
		x.setU(pr, uGBase, uint32(pos))
		x.setU(pr, uGEnd, uint32(pos+cnt))
		x.dispatch(pr, ceilDiv(cnt, fuseLocal))
		pos += cnt
	}
}

// releaseKernel deletes the kernel's programs on the GL thread.
func (x *executor) releaseKernel(k *kernel) {
	for _, pr := range k.variants {
		x.deleteProgram(pr)
	}
}

// deleteProgram deletes one program and forgets it.
func (x *executor) deleteProgram(pr *program) {
	for i, q := range x.all {
		if q == pr {
			x.all = append(x.all[:i], x.all[i+1:]...)
			break
		}
	}
	if x.curProg == pr.id {
		x.curProg = 0
		gl.UseProgram(0)
	}
	gl.DeleteProgram(pr.id)
	pr.id = 0
	x.b.programs.Add(-1)
}
