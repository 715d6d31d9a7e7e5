package cpu

import (
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
)

func mustKernel(t *testing.T, b *Backend, src string, vars ...string) backend.Kernel {
	t.Helper()
	p, err := expr.Compile(src, expr.Env{Tensors: vars})
	if err != nil {
		t.Fatal(err)
	}
	k, err := b.Fuse(p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKernelQueue: kernel runs that touch no tensor in conflict are queued
// and run together by the next operation of another kind; a run in
// conflict with a queued one (it reads what one writes, or writes what
// one reads or writes), the same kernel again, Sync, Data, a delayed
// propagation and Release run the queue first. (The results are checked
// against the reference evaluator by the conformance suite's
// Fuse/sequence; this checks when the queue runs.)
func TestKernelQueue(t *testing.T) {
	b := mustNew(t, 2)
	const n = 40000 // several chunks per run
	vec := func(v float32) backend.Tensor {
		d := make([]float32, n)
		for i := range d {
			d[i] = v
		}
		return vecOf(t, b, d)
	}
	x, y, z, w := vec(1), vec(2), vec(3), vec(4)
	incX := mustKernel(t, b, "x = x + 1", "x")
	incZ := mustKernel(t, b, "z = z + 1", "z")
	readX := mustKernel(t, b, "w = x*2", "x", "w")
	writeY := mustKernel(t, b, "y = 5", "y")
	readY := mustKernel(t, b, "z = z + y", "y", "z")
	queued := func(want int, when string) {
		t.Helper()
		if got := len(b.kq.runs); got != want {
			t.Fatalf("%s: %d kernel runs queued, want %d", when, got, want)
		}
	}
	incX.Run([]backend.Tensor{x}, backend.RandKey{})
	incZ.Run([]backend.Tensor{z}, backend.RandKey{})
	queued(2, "two independent runs")
	if got := b.ten("test", x)[0]; got != 2 { // any operation runs the queue
		t.Fatalf("x = %v after x = x + 1, want 2", got)
	}
	queued(0, "after another operation")

	incX.Run([]backend.Tensor{x}, backend.RandKey{})
	readX.Run([]backend.Tensor{x, w}, backend.RandKey{}) // reads x: runs incX first
	queued(1, "a run that reads what a queued run writes")
	writeY.Run([]backend.Tensor{y}, backend.RandKey{})
	queued(2, "an independent run")
	readY.Run([]backend.Tensor{y, z}, backend.RandKey{}) // reads y
	queued(1, "a run that reads what a queued run writes")
	incZ.Run([]backend.Tensor{z}, backend.RandKey{}) // writes z, which readY writes
	queued(1, "a run that writes what a queued run writes")
	incZ.Run([]backend.Tensor{z}, backend.RandKey{}) // the same kernel again
	queued(1, "the same kernel again")
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	queued(0, "after Sync")
	for name, c := range map[string]struct {
		t    backend.Tensor
		want float32
	}{"x": {x, 3}, "w": {w, 6}, "y": {y, 5}, "z": {z, 4 + 5 + 1 + 1}} {
		if got := Data(c.t)[n-1]; got != c.want {
			t.Fatalf("%s = %v, want %v", name, got, c.want)
		}
	}

	// Data and Release run the queue; Kernel.Run after Release panics.
	incX.Run([]backend.Tensor{x}, backend.RandKey{})
	if got := Data(x)[0]; got != 4 {
		t.Fatalf("Data(x) = %v after a queued x = x + 1, want 4", got)
	}
	incX.Run([]backend.Tensor{x}, backend.RandKey{})
	incX.Release()
	queued(0, "after releasing the queued kernel")
	if got := Data(x)[0]; got != 5 {
		t.Fatalf("x = %v after a queued x = x + 1 and Release, want 5", got)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "released") {
				t.Fatalf("Kernel.Run after Release: panic %v, want one naming the release", r)
			}
		}()
		incX.Run([]backend.Tensor{x}, backend.RandKey{})
	}()

	// A delayed propagation reads a mask that a queued run writes.
	spike := mustKernel(t, b, "m = 1", "m")
	m := vecOf(t, b, make([]float32, 3))
	wm, err := b.NewSparse(2, 3, []int64{0, 1, 2}, []int32{0, 2}, []float32{0.5, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := b.NewDelays(wm, []int32{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	rg, err := b.NewDelayRing(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	d := vecOf(t, b, make([]float32, 2))
	spike.Run([]backend.Tensor{m}, backend.RandKey{})
	b.PropagateDelayed(rg, 0, wm, false, dl, m, 1)
	b.TakeSlot(d, rg, 1)
	if got := Data(d); got[0] != 0.5 || got[1] != 0.25 {
		t.Fatalf("delivered %v from a mask set by a queued kernel run, want [0.5 0.25]", got)
	}

	// Closing the backend drops what is queued.
	incZ.Run([]backend.Tensor{z}, backend.RandKey{})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	queued(0, "after Close")
}
