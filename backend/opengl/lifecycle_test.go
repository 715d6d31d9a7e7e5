package opengl

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

func readAll(t testing.TB, b backend.Backend, x backend.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Len())
	if err := b.Read(out, x, 0); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out
}

func newT(t testing.TB, b backend.Backend, rows, cols int) backend.Tensor {
	t.Helper()
	x, err := b.NewTensor(rows, cols)
	if err != nil {
		t.Fatalf("NewTensor(%d, %d): %v", rows, cols, err)
	}
	return x
}

// TestNoBufferGrowth creates and releases tensors repeatedly, and runs
// 10^5 steps of a small operation sequence with scratch buffers in use;
// the number of live GL buffers must not grow, and Close must free all.
func TestNoBufferGrowth(t *testing.T) {
	b := openOrSkip(t)
	base, progs := b.LiveObjects()
	if progs == 0 {
		t.Fatal("no live programs after New")
	}
	for i := 0; i < 2000; i++ {
		x := newT(t, b, 1+i%37, 1+i%5)
		backend.Fill(x, float32(i))
		x.Release()
		if i%500 == 0 {
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.LiveObjects(); got != base {
		t.Fatalf("%d live buffers after 2000 create/release cycles, want %d", got, base)
	}

	const n = 200
	w := newT(t, b, n, n)
	v := newT(t, b, n, 1)
	spk := newT(t, b, n, 1)
	in := newT(t, b, n, 1)
	r := newT(t, b, 1, 1)
	b.Random(w, rng.UniformDist(0, 0.01), rng.Key{Seed: 1})
	// A full step: every kind of scratch buffer (spike lists, partial
	// sums) is in use.
	step := func(i int) {
		backend.Fill(in, 0.01)
		b.Propagate(in, w, true, spk, 1)
		backend.Axpy(v, 0.5, in)
		backend.BinaryScalar(backend.Ge, spk, v, 1)
		backend.WhereScalar(v, spk, 0)
		b.Outer(w, spk, nil, nil, nil, backend.OuterParams{Alpha: 1e-4, Clip: true, Lo: 0, Hi: 0.02})
		b.Reduce(backend.Count, r, 0, spk)
		if err := b.Flush(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// A small step, run 10^5 times.
	small := func(i int) {
		b.Propagate(in, w, true, spk, 1)
		backend.Axpy(v, 0.5, in)
		backend.BinaryScalar(backend.Ge, spk, v, 1)
		if err := b.Flush(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	step(0)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	before, _ := b.LiveObjects()
	steps := 100_000
	if testing.Short() {
		steps = 5_000
	}
	for i := 1; i < 1000; i++ {
		step(i)
	}
	for i := 0; i < steps; i++ {
		small(i)
	}
	step(1)
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	after, _ := b.LiveObjects()
	if after != before {
		t.Fatalf("%d live buffers after 1000 full and %d small steps, %d after the first", after, steps, before)
	}
	count := readAll(t, b, r)[0]
	vs := readAll(t, b, v)
	var spikes float32
	for _, s := range readAll(t, b, spk) {
		spikes += s
	}
	if count != spikes {
		t.Errorf("Reduce Count = %v, the spike vector holds %v ones", count, spikes)
	}
	for i, x := range vs {
		if !(x >= 0 && x < 1) {
			t.Fatalf("v[%d] = %v, want [0, 1) (reset at threshold 1)", i, x)
		}
	}
	for _, x := range []backend.Tensor{w, v, spk, in, r} {
		x.Release()
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if bufs, progs := b.LiveObjects(); bufs != 0 || progs != 0 {
		t.Fatalf("after Close: %d buffers and %d programs live, want 0 and 0", bufs, progs)
	}
}

// TestStepAllocs checks that recording operations and Flush allocate
// nothing in steady state.
func TestStepAllocs(t *testing.T) {
	b := openOrSkip(t)
	const n = 64
	w := newT(t, b, n, n)
	x := newT(t, b, n, 1)
	y := newT(t, b, n, 1)
	m := newT(t, b, n, 1)
	r := newT(t, b, 2, 1)
	small := []float32{1, 2, 3}
	step := func() {
		backend.Fill(x, 1)
		backend.Binary(backend.Mul, y, x, x)
		backend.BinaryScalar(backend.Gt, m, y, 0.5)
		backend.Unary(backend.Exp, y, x)
		backend.Affine(y, x, 2, 1)
		backend.Axpy(y, 0.5, x)
		backend.Where(y, m, x)
		backend.WhereScalar(y, m, 0)
		backend.Clip(y, y, 0, 1)
		backend.Copy(x, y)
		b.CopyRange(x, 1, x, 0, 10)
		b.MatVec(y, w, false, x, 1, 0)
		b.MatVec(y, w, true, x, 1, 1)
		b.Propagate(y, w, true, m, 0.1)
		b.Propagate(y, w, false, m, 0.1)
		b.Outer(w, m, m, x, y, backend.OuterParams{Alpha: 0.1, Soft: true, Target: 1})
		b.Normalize(w, backend.Rows, 1)
		b.Normalize(w, backend.Cols, 1)
		b.Random(x, rng.NormalDist(0, 1), rng.Key{Seed: 1, Counter: 2})
		b.Reduce(backend.Sum, r, 0, x)
		if err := b.Write(x, 0, small); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		step()
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(200, step); a != 0 {
		t.Errorf("a step of every operation and Flush allocates %v times, want 0", a)
	}
	out := make([]float32, 2)
	read := func() {
		if err := b.Read(out, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	if a := testing.AllocsPerRun(50, read); a != 0 {
		t.Errorf("Read allocates %v times, want 0", a)
	}
}

// TestWriteCopiesData checks that Write's slice may be reused at once,
// and that queued writes and operations run in order.
func TestWriteCopiesData(t *testing.T) {
	b := openOrSkip(t)
	x := newT(t, b, 4, 1)
	y := newT(t, b, 4, 1)
	buf := []float32{1, 2, 3, 4}
	if err := b.Write(x, 0, buf); err != nil {
		t.Fatal(err)
	}
	backend.Copy(y, x)
	buf[0], buf[1], buf[2], buf[3] = 10, 20, 30, 40
	if err := b.Write(x, 0, buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 99
	backend.Axpy(y, 1, x)
	if got, want := readAll(t, b, y), []float32{11, 22, 33, 44}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("y = %v, want %v", got, want)
	}
	// A large write goes straight to the device.
	big := make([]float32, smallWrite+5)
	for i := range big {
		big[i] = float32(i)
	}
	z := newT(t, b, len(big), 1)
	backend.Fill(z, 7)
	if err := b.Write(z, 0, big); err != nil {
		t.Fatal(err)
	}
	big[3] = -1
	got := readAll(t, b, z)
	if got[3] != 3 || got[len(big)-1] != float32(len(big)-1) {
		t.Errorf("large write: z[3] = %v, z[last] = %v", got[3], got[len(big)-1])
	}
}

// TestManyOpsWithoutFlush records more commands than one batch holds.
func TestManyOpsWithoutFlush(t *testing.T) {
	b := openOrSkip(t)
	x := newT(t, b, 3, 1)
	for i := 0; i < 3*autoFlushCmds+7; i++ {
		backend.BinaryScalar(backend.Add, x, x, 1)
	}
	if got := readAll(t, b, x); got[0] != float32(3*autoFlushCmds+7) {
		t.Errorf("x = %v after %d increments", got, 3*autoFlushCmds+7)
	}
}

// TestTwoBackends uses two gl backends (two contexts, two GL threads) from
// several goroutines at once.
func TestTwoBackends(t *testing.T) {
	bs := []*Backend{openOrSkip(t), openOrSkip(t)}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for k, b := range bs {
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x, err := b.NewTensor(100, 1)
				if err != nil {
					errs <- err
					return
				}
				defer x.Release()
				for i := 0; i < 200; i++ {
					backend.BinaryScalar(backend.Add, x, x, float32(k+1))
					if i%10 == 0 {
						if err := b.Flush(); err != nil {
							errs <- err
							return
						}
					}
				}
				out := make([]float32, 100)
				if err := b.Read(out, x, 0); err != nil {
					errs <- err
					return
				}
				if out[99] != float32(200*(k+1)) {
					errs <- fmt.Errorf("backend %d: x[99] = %v, want %v", k, out[99], 200*(k+1))
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestClosed checks the behaviour after Close.
func TestClosed(t *testing.T) {
	openOrSkip(t)
	b, err := New(backend.Options{Context: testContext()})
	if err != nil {
		t.Fatal(err)
	}
	x := newT(t, b, 2, 2)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Flush(); err == nil {
		t.Error("Flush after Close: no error")
	}
	if _, err := b.NewTensor(1, 1); err == nil {
		t.Error("NewTensor after Close: no error")
	}
	if err := b.Read(make([]float32, 4), x, 0); err == nil {
		t.Error("Read after Close: no error")
	}
	x.Release() // a no-op
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("Fill after Close did not panic")
			}
		}()
		backend.Fill(x, 1)
	}()
}

// TestBothContexts uses an EGL and a GLFW backend at the same time in one
// process. It runs in the GLFW pass (GOMONNTO_GL_CONTEXT=glfw under
// xvfb-run), where both must work.
func TestBothContexts(t *testing.T) {
	if testContext() != "glfw" {
		t.Skip("runs with GOMONNTO_GL_CONTEXT=glfw (under xvfb-run), where both contexts must work")
	}
	e := openContext(t, "egl")
	g := openContext(t, "glfw")
	if !strings.Contains(g.Device(), "GLFW") || !strings.Contains(e.Device(), "EGL") {
		t.Errorf("devices %q and %q do not name their contexts", e.Device(), g.Device())
	}
	for _, b := range []*Backend{e, g, e} {
		x := newT(t, b, 5, 1)
		b.Random(x, rng.UniformDist(0, 1), rng.Key{Seed: 3})
		got := readAll(t, b, x)
		if want := rng.Sample(rng.UniformDist(0, 1), rng.Key{Seed: 3}, 4); got[4] != want {
			t.Errorf("%s: x[4] = %v, want %v", b.Device(), got[4], want)
		}
		x.Release()
	}
}
