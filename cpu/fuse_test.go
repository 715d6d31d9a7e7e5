package cpu

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
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
	incX.Run([]backend.Tensor{x}, nil, rng.Key{})
	incZ.Run([]backend.Tensor{z}, nil, rng.Key{})
	queued(2, "two independent runs")
	if got := b.ten("test", x)[0]; got != 2 { // any operation runs the queue
		t.Fatalf("x = %v after x = x + 1, want 2", got)
	}
	queued(0, "after another operation")

	incX.Run([]backend.Tensor{x}, nil, rng.Key{})
	readX.Run([]backend.Tensor{x, w}, nil, rng.Key{}) // reads x: runs incX first
	queued(1, "a run that reads what a queued run writes")
	writeY.Run([]backend.Tensor{y}, nil, rng.Key{})
	queued(2, "an independent run")
	readY.Run([]backend.Tensor{y, z}, nil, rng.Key{}) // reads y
	queued(1, "a run that reads what a queued run writes")
	incZ.Run([]backend.Tensor{z}, nil, rng.Key{}) // writes z, which readY writes
	queued(1, "a run that writes what a queued run writes")
	incZ.Run([]backend.Tensor{z}, nil, rng.Key{}) // the same kernel again
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
	incX.Run([]backend.Tensor{x}, nil, rng.Key{})
	if got := Data(x)[0]; got != 4 {
		t.Fatalf("Data(x) = %v after a queued x = x + 1, want 4", got)
	}
	incX.Run([]backend.Tensor{x}, nil, rng.Key{})
	incX.Release()
	queued(0, "after releasing the queued kernel")
	if got := Data(x)[0]; got != 5 {
		t.Fatalf("x = %v after a queued x = x + 1 and Release, want 5", got)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "released") {
				t.Fatalf("Kernel.Run after Release: panic %v, want one naming the release", r)
			}
		}()
		incX.Run([]backend.Tensor{x}, nil, rng.Key{})
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
	spike.Run([]backend.Tensor{m}, nil, rng.Key{})
	b.PropagateDelayed(rg, 0, wm, false, dl, m, 1)
	b.TakeSlot(d, rg, 1)
	if got := Data(d); got[0] != 0.5 || got[1] != 0.25 {
		t.Fatalf("delivered %v from a mask set by a queued kernel run, want [0.5 0.25]", got)
	}

	// Closing the backend drops what is queued.
	incZ.Run([]backend.Tensor{z}, nil, rng.Key{})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	queued(0, "after Close")
}

// TestKernelAfterTakes: a kernel run issued while delayed calls are queued
// joins their dispatch and waits for the tasks of the rings whose takes add
// into its tensors (the neuron update of the next step after this step's
// ring tasks). Compared with the same sequence run one operation at a time
// (Sync after each), bit for bit, on 1 and 2 threads.
func TestKernelAfterTakes(t *testing.T) {
	const rows, cols, depth, steps = 3000, 2000, 5, 12
	rs, ci, vals := backendtest.RandomCSR(71, rows, cols, 0.05)
	dsteps := randomSteps(72, len(ci), 1, depth)
	masks := randomMasks(73, steps, rows, 0.2)
	run := func(threads int, syncEach bool) []float32 {
		b := mustNew(t, threads)
		w, err := b.NewSparse(rows, cols, rs, ci, vals)
		if err != nil {
			t.Fatal(err)
		}
		dl, err := b.NewDelays(w, dsteps)
		if err != nil {
			t.Fatal(err)
		}
		rg, err := b.NewDelayRing(depth, cols)
		if err != nil {
			t.Fatal(err)
		}
		d := vecOf(t, b, make([]float32, cols))
		y := vecOf(t, b, make([]float32, cols))
		k := mustKernel(t, b, "y = y*0.9 + d; d = 0", "d", "y")
		sync := func() {
			if syncEach {
				if err := b.Sync(); err != nil {
					t.Fatal(err)
				}
			}
		}
		for s := range steps {
			k.Run([]backend.Tensor{d, y}, nil, rng.Key{})
			if !syncEach && s > 0 {
				if len(b.dq.calls) == 0 || len(b.kq.runs) != 1 || len(k.(*kernel).after) != 1 {
					t.Fatalf("step %d: %d delayed calls and %d kernel runs queued (waiting for %d rings), want the run queued after the calls, waiting for 1 ring", s, len(b.dq.calls), len(b.kq.runs), len(k.(*kernel).after))
				}
			}
			sync()
			b.PropagateDelayed(rg, s%depth, w, true, dl, vecOf(t, b, masks[s]), 0.5)
			sync()
			b.TakeSlot(d, rg, s%depth)
			sync()
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		return append([]float32(nil), Data(y)...)
	}
	want := run(1, true)
	nonzero := 0
	for _, v := range want {
		if v != 0 {
			nonzero++
		}
	}
	if nonzero < len(want)/2 {
		t.Fatalf("only %d of %d values are non-zero", nonzero, len(want))
	}
	for _, th := range []int{1, 2} {
		got := run(th, false)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("threads=%d: y[%d] = %v queued, %v run one operation at a time", th, i, got[i], want[i])
			}
		}
	}
}

// TestKernelIndexAndCount: the built-in names i and N of a fused program
// are the element index and the run's element count on every chunk of a
// run split over threads, and a one-element tensor t set before each run
// gives the program the time without recompiling it.
func TestKernelIndexAndCount(t *testing.T) {
	b := mustNew(t, 4)
	const n = 300_001 // many chunks
	z := vecOf(t, b, make([]float32, n))
	tt := vecOf(t, b, []float32{0})
	p, err := expr.Compile("z = i + 0.25*(N - 300001) + t*dt", expr.Env{Tensors: []string{"z", "t"}, Consts: map[string]float32{"dt": 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := b.Fuse(p)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	for step := 0; step < 3; step++ {
		if err := b.Write(tt, 0, []float32{float32(step)}); err != nil {
			t.Fatal(err)
		}
		k.Run([]backend.Tensor{z, tt}, nil, rng.Key{})
		got := b.ten("test", z)
		for i := 0; i < n; i += 997 {
			if want := float32(i) + float32(step)*0.5; got[i] != want {
				t.Fatalf("step %d: z[%d] = %v, want %v", step, i, got[i], want)
			}
		}
	}
}
