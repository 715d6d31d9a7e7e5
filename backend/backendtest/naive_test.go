package backendtest

import (
	"fmt"
	"github.com/gomonnto/gomonnto/backend/expr"
	"runtime"
	"sync"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// naive is a straightforward reference backend used to test the suite
// itself: plain loops, float64 accumulation, rng.Sample for Random.
type naive struct {
	backend.Elementwise
	closed bool
}

type naiveTensor struct {
	b          *naive
	rows, cols int
	data       []float32
}

func (t *naiveTensor) Rows() int                { return t.rows }
func (t *naiveTensor) Cols() int                { return t.cols }
func (t *naiveTensor) Len() int                 { return t.rows * t.cols }
func (t *naiveTensor) Backend() backend.Backend { return t.b }
func (t *naiveTensor) Release()                 { t.data = nil }

var _ backend.Backend = (*naive)(nil)

func (b *naive) Name() string   { return "naive" }
func (b *naive) Device() string { return "host loops" }

func (b *naive) NewTensor(rows, cols int) (backend.Tensor, error) {
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("naive: tensor shape %dx%d is not positive", rows, cols)
	}
	return &naiveTensor{b: b, rows: rows, cols: cols, data: make([]float32, rows*cols)}, nil
}

// d returns the data of t after checking ownership and release.
func (b *naive) d(op string, t backend.Tensor) []float32 {
	if t == nil {
		return nil
	}
	backend.CheckOwner(op, b, t)
	nt := t.(*naiveTensor)
	if nt.data == nil {
		panic(backend.Misusef("naive", op, "tensor %s was released", backend.Shape(t)))
	}
	return nt.data
}

func (b *naive) Write(t backend.Tensor, off int, src []float32) error {
	x := b.d("Write", t)
	if off < 0 || off+len(src) > len(x) {
		return fmt.Errorf("naive: Write of %d elements at %d is outside tensor of %d", len(src), off, len(x))
	}
	copy(x[off:], src)
	return nil
}

func (b *naive) Read(dst []float32, t backend.Tensor, off int) error {
	x := b.d("Read", t)
	if off < 0 || off+len(dst) > len(x) {
		return fmt.Errorf("naive: Read of %d elements at %d is outside tensor of %d", len(dst), off, len(x))
	}
	copy(dst, x[off:])
	return nil
}

func (b *naive) CopyRange(dst backend.Tensor, dstOff int, src backend.Tensor, srcOff, n int) {
	d, s := b.d("CopyRange", dst), b.d("CopyRange", src)
	backend.CheckRange("CopyRange", dst, dstOff, n)
	backend.CheckRange("CopyRange", src, srcOff, n)
	copy(d[dstOff:dstOff+n], s[srcOff:srcOff+n])
}

func (b *naive) Reduce(op backend.ReduceOp, dst backend.Tensor, dstOff int, src backend.Tensor) {
	if !op.Valid() {
		panic(backend.Misusef("naive", "Reduce", "invalid operation %v", op))
	}
	d, s := b.d("Reduce", dst), b.d("Reduce", src)
	backend.CheckRange("Reduce", dst, dstOff, 1)
	var r float64
	switch op {
	case backend.Sum, backend.Mean:
		for _, v := range s {
			r += float64(v)
		}
		if op == backend.Mean {
			r /= float64(len(s))
		}
	case backend.MaxReduce:
		r = float64(s[0])
		for _, v := range s {
			r = max(r, float64(v))
		}
	case backend.MinReduce:
		r = float64(s[0])
		for _, v := range s {
			r = min(r, float64(v))
		}
	case backend.Count:
		for _, v := range s {
			if v != 0 {
				r++
			}
		}
	}
	d[dstOff] = float32(r)
}

func (b *naive) MatVec(dst, w backend.Tensor, trans bool, x backend.Tensor, alpha, beta float32) {
	d, ws, xs := b.d("MatVec", dst), b.d("MatVec", w), b.d("MatVec", x)
	backend.CheckMatVec("MatVec", dst, w, trans, x)
	cols := w.Cols()
	for o := range d {
		var sum float64
		for k := range xs {
			if trans {
				sum += float64(ws[k*cols+o]) * float64(xs[k])
			} else {
				sum += float64(ws[o*cols+k]) * float64(xs[k])
			}
		}
		d[o] = float32(float64(alpha)*sum + float64(beta)*float64(d[o]))
	}
}

func (b *naive) Propagate(dst, w backend.Tensor, trans bool, mask backend.Tensor, alpha float32) {
	d, ws, m := b.d("Propagate", dst), b.d("Propagate", w), b.d("Propagate", mask)
	backend.CheckMatVec("Propagate", dst, w, trans, mask)
	cols := w.Cols()
	for o := range d {
		var sum float64
		for k := range m {
			if m[k] == 0 {
				continue
			}
			if trans {
				sum += float64(ws[k*cols+o])
			} else {
				sum += float64(ws[o*cols+k])
			}
		}
		d[o] = float32(float64(d[o]) + float64(alpha)*sum)
	}
}

func (b *naive) Outer(w, rowMask, colMask, u, v backend.Tensor, p backend.OuterParams) {
	ws := b.d("Outer", w)
	rm, cm, us, vs := b.d("Outer", rowMask), b.d("Outer", colMask), b.d("Outer", u), b.d("Outer", v)
	rows, cols := w.Rows(), w.Cols()
	backend.CheckVecLen("Outer", "row mask", rowMask, rows, true)
	backend.CheckVecLen("Outer", "column mask", colMask, cols, true)
	backend.CheckVecLen("Outer", "u", u, rows, true)
	backend.CheckVecLen("Outer", "v", v, cols, true)
	for i := 0; i < rows; i++ {
		if rm != nil && rm[i] == 0 {
			continue
		}
		for j := 0; j < cols; j++ {
			if cm != nil && cm[j] == 0 {
				continue
			}
			d := p.Alpha
			if us != nil {
				d *= us[i]
			}
			if vs != nil {
				d *= vs[j]
			}
			k := i*cols + j
			if p.Soft {
				d *= p.Target - ws[k]
			}
			ws[k] += d
			if p.Clip {
				ws[k] = min(max(ws[k], p.Lo), p.Hi)
			}
		}
	}
}

func (b *naive) Normalize(w backend.Tensor, axis backend.Axis, target float32) {
	ws := b.d("Normalize", w)
	rows, cols := w.Rows(), w.Cols()
	if axis == backend.Rows {
		for i := 0; i < rows; i++ {
			row := ws[i*cols : (i+1)*cols]
			var sum float64
			for _, v := range row {
				sum += float64(v)
			}
			if sum != 0 {
				for j := range row {
					row[j] = float32(float64(row[j]) * float64(target) / sum)
				}
			}
		}
		return
	}
	for j := 0; j < cols; j++ {
		var sum float64
		for i := 0; i < rows; i++ {
			sum += float64(ws[i*cols+j])
		}
		if sum != 0 {
			for i := 0; i < rows; i++ {
				ws[i*cols+j] = float32(float64(ws[i*cols+j]) * float64(target) / sum)
			}
		}
	}
}

func (b *naive) Random(dst backend.Tensor, dist rng.Dist, key rng.Key) {
	d := b.d("Random", dst)
	if err := dist.Validate(); err != nil {
		panic(backend.Misusef("naive", "Random", "%v", err))
	}
	// Split over the cores: 36M samples take a while on one.
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(d) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(d); lo += chunk {
		hi := min(lo+chunk, len(d))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				d[i] = rng.Sample(dist, key, uint64(i))
			}
		}()
	}
	wg.Wait()
}

func (b *naive) Flush() error { return nil }
func (b *naive) Sync() error  { return nil }
func (b *naive) Close() error {
	if b.closed {
		return fmt.Errorf("naive: closed twice")
	}
	b.closed = true
	return nil
}

func TestNaive(t *testing.T) {
	Run(t, func(t *testing.T) backend.Backend { return &naive{} })
}

// naiveKernel runs fused programs with the reference evaluator.
type naiveKernel struct {
	b *naive
	p *expr.Program
}

func (b *naive) Fuse(p *expr.Program) (backend.Kernel, error) { return &naiveKernel{b, p}, nil }

func (k *naiveKernel) Run(args []backend.Tensor, scalars []float32, key rng.Key) {
	n := backend.CheckKernelArgs(k.p, args, scalars)
	vars := make([][]float32, len(args), len(args)+len(scalars))
	for i, a := range args {
		vars[i] = k.b.d("Kernel.Run", a)
	}
	for _, s := range scalars {
		vars = append(vars, []float32{s})
	}
	k.p.Eval(vars, 0, n, key)
}

func (k *naiveKernel) Release() {}
