package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// threadCounts are the pool sizes every op is checked with: inline only,
// and more chunks than this machine has cores.
var threadCounts = []int{1, 3}

// kernelModes are the matrix kernels to check: gonum's blas32 always, the
// assembly kernels where the processor has them.
func kernelModes() []bool {
	if useFMA {
		return []bool{false, true}
	}
	return []bool{false}
}

// sizes cover the inline path and the split path (>= 32768 elements), with
// lengths that are not multiples of the chunk alignment.
var sizes = []int{1, 7, 100, 40003}

func open(t testing.TB, threads int) *Backend {
	t.Helper()
	b, err := New(backend.Options{Threads: threads})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func tensorOf(t testing.TB, b *Backend, rows, cols int, data []float32) backend.Tensor {
	t.Helper()
	x, err := b.NewTensor(rows, cols)
	if err != nil {
		t.Fatalf("NewTensor: %v", err)
	}
	if data != nil {
		if err := b.Write(x, 0, data); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	return x
}

func randSlice(r *rand.Rand, n int, lo, hi float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = lo + (hi-lo)*r.Float32()
	}
	return s
}

// maskSlice returns a 0/1 slice with about frac ones.
func maskSlice(r *rand.Rand, n int, frac float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		if r.Float64() < frac {
			s[i] = 1
		}
	}
	return s
}

// near reports whether got is within tol relative (or absolute below 1) of
// want; NaNs must match.
func near(got float32, want float64, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(float64(got))
	}
	if math.IsInf(want, 0) {
		return float64(got) == want
	}
	return math.Abs(float64(got)-want) <= tol*math.Max(1, math.Abs(want))
}

func checkNear(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if !near(got[i], want[i], tol) {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d values wrong", what, bad, len(got))
	}
}

func TestRegisteredAndDevice(t *testing.T) {
	b, err := backend.Open("cpu", backend.Options{Threads: 2})
	if err != nil {
		t.Fatalf("backend.Open(cpu): %v", err)
	}
	defer b.Close()
	if b.Name() != "cpu" {
		t.Errorf("Name = %q, want cpu", b.Name())
	}
	d := b.Device()
	for _, want := range []string{"cpu (", fmt.Sprintf("%d cores, 2 threads, ", runtime.NumCPU()), "gonum blas32)"} {
		if !strings.Contains(d, want) {
			t.Errorf("Device = %q, want it to contain %q", d, want)
		}
	}
	name, _, err := backend.Resolve("auto", backend.Options{})
	if err != nil || name != "cpu" {
		t.Errorf("Resolve(auto) = %q, %v; want cpu", name, err)
	}
}

func TestNewOptions(t *testing.T) {
	if _, err := New(backend.Options{Threads: -1}); err == nil || !strings.Contains(err.Error(), "Threads") {
		t.Errorf("New(Threads: -1) error = %v, want one naming Threads", err)
	}
	if _, err := New(backend.Options{Threads: maxThreads + 1}); err == nil {
		t.Errorf("New(Threads: %d) gave no error", maxThreads+1)
	}
	b := open(t, 0)
	if b.Threads() != runtime.GOMAXPROCS(0) {
		t.Errorf("Threads() = %d with Threads 0, want GOMAXPROCS %d", b.Threads(), runtime.GOMAXPROCS(0))
	}
}

func TestReadWriteRanges(t *testing.T) {
	b := open(t, 1)
	x := tensorOf(t, b, 2, 3, []float32{1, 2, 3, 4, 5, 6})
	if x.Rows() != 2 || x.Cols() != 3 || x.Len() != 6 {
		t.Fatalf("shape %dx%d len %d, want 2x3 len 6", x.Rows(), x.Cols(), x.Len())
	}
	got := make([]float32, 3)
	if err := b.Read(got, x, 2); err != nil || got[0] != 3 || got[2] != 5 {
		t.Errorf("Read at 2 = %v, %v; want [3 4 5]", got, err)
	}
	if err := b.Write(x, 4, []float32{9, 8}); err != nil {
		t.Errorf("Write at 4: %v", err)
	}
	if d := Data(x); d[4] != 9 || d[5] != 8 {
		t.Errorf("after Write, Data = %v", d)
	}
	for _, c := range []struct {
		off, n int
	}{{-1, 1}, {5, 2}, {7, 0}, {0, 7}} {
		if err := b.Write(x, c.off, make([]float32, c.n)); err == nil {
			t.Errorf("Write(off %d, %d values) on 6 elements: no error", c.off, c.n)
		}
		if err := b.Read(make([]float32, c.n), x, c.off); err == nil {
			t.Errorf("Read(off %d, %d values) on 6 elements: no error", c.off, c.n)
		}
	}
	if err := b.Read(nil, x, 6); err != nil {
		t.Errorf("empty Read at the end: %v", err)
	}
}

// mustPanic runs f and checks that it panics with a message containing want.
func mustPanic(t *testing.T, name, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic, want one containing %q", name, want)
			return
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Errorf("%s: panic %q, want one containing %q", name, msg, want)
		}
	}()
	f()
}

func TestMisusePanics(t *testing.T) {
	b := open(t, 1)
	other := open(t, 1)
	x := tensorOf(t, b, 4, 1, nil)
	y := tensorOf(t, b, 5, 1, nil)
	w := tensorOf(t, b, 4, 5, nil)
	foreign := tensorOf(t, other, 4, 1, nil)
	dead := tensorOf(t, b, 4, 1, nil)
	dead.Release()
	dead.Release() // twice is a no-op

	mustPanic(t, "length mismatch", "length mismatch", func() { backend.Binary(backend.Add, x, x, y) })
	mustPanic(t, "tensor of another cpu backend", "belongs to another cpu backend", func() { backend.Copy(x, foreign) })
	mustPanic(t, "tensor of another kind", "belongs to backend fake, not cpu", func() { backend.Copy(x, fakeTensor{}) })
	mustPanic(t, "released tensor", "released", func() { backend.Fill(dead, 1) })
	mustPanic(t, "released Read", "released", func() { b.Read(make([]float32, 1), dead, 0) })
	mustPanic(t, "Data of released", "released", func() { Data(dead) })
	mustPanic(t, "nil tensor", "nil tensor", func() { backend.Fill(nil, 1) })
	mustPanic(t, "invalid binary op", "invalid operation", func() { backend.Binary(backend.BinaryOp(99), x, x, x) })
	mustPanic(t, "invalid unary op", "invalid operation", func() { backend.Unary(backend.UnaryOp(99), x, x) })
	mustPanic(t, "invalid reduce op", "invalid operation", func() { b.Reduce(backend.ReduceOp(99), x, 0, x) })
	mustPanic(t, "invalid axis", "invalid axis", func() { b.Normalize(w, backend.Axis(7), 1) })
	mustPanic(t, "CopyRange outside", "outside tensor", func() { b.CopyRange(x, 2, y, 0, 3) })
	mustPanic(t, "Reduce offset", "outside tensor", func() { b.Reduce(backend.Sum, x, 4, y) })
	mustPanic(t, "MatVec shape", "input has", func() { b.MatVec(x, w, false, x, 1, 0) })
	mustPanic(t, "MatVec alias", "also the matrix or the input", func() {
		sq := tensorOf(t, b, 4, 4, nil)
		b.MatVec(x, sq, false, x, 1, 0)
	})
	mustPanic(t, "Propagate mask", "mask has", func() { b.Propagate(x, w, false, x, 1) })
	mustPanic(t, "Outer u", "u has", func() { b.Outer(w, nil, nil, y, nil, backend.OuterParams{Alpha: 1}) })
	mustPanic(t, "Random invalid", "density", func() { b.Random(x, rng.Dist{Kind: rng.Uniform, Density: 2}, rng.Key{}) })
	mustPanic(t, "negative shape", "invalid shape", func() { b.NewTensor(-1, 2) })
	mustPanic(t, "Data of foreign type", "nil tensor", func() { Data(nil) })
}

// settledGoroutines returns the goroutine count once workers of backends
// closed by earlier tests have exited.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 100 {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			return n
		}
		n = m
	}
	return n
}

// waitGoroutines waits up to 5 s for the goroutine count to drop to want.
func waitGoroutines(want int, poke func()) int {
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		poke()
		time.Sleep(time.Millisecond)
	}
	return runtime.NumGoroutine()
}

func TestCloseAndWorkers(t *testing.T) {
	before := settledGoroutines()
	b, err := New(backend.Options{Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n != before+3 {
		t.Errorf("after New with 4 threads: %d goroutines, want %d", n, before+3)
	}
	x := tensorOf(t, b, 100000, 1, nil)
	backend.Fill(x, 2)
	if err := b.Sync(); err != nil {
		t.Errorf("Sync: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
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
	if err := b.Write(x, 0, []float32{1}); err == nil {
		t.Error("Write after Close: no error")
	}
	mustPanic(t, "op after Close", "closed", func() { backend.Fill(x, 1) })
	mustPanic(t, "Data after Close", "closed", func() { Data(x) })
	if n := waitGoroutines(before, func() {}); n > before {
		t.Errorf("after Close: %d goroutines, want %d", n, before)
	}
}

// TestWorkersStopWithoutClose checks that a backend dropped without Close
// does not leak its workers once it is garbage collected.
func TestWorkersStopWithoutClose(t *testing.T) {
	before := settledGoroutines()
	func() {
		b, err := New(backend.Options{Threads: 4})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := b.NewTensor(100000, 1)
		backend.Fill(x, 1) // the workers have run a job
	}()
	if n := waitGoroutines(before, runtime.GC); n > before {
		t.Errorf("after dropping an open backend: %d goroutines, want %d", n, before)
	}
}

// binRef is the float64 reference of each binary op.
func binRef(op backend.BinaryOp, a, b float64) float64 {
	c := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	switch op {
	case backend.Add:
		return a + b
	case backend.Sub:
		return a - b
	case backend.Mul:
		return a * b
	case backend.Div:
		return a / b
	case backend.Min:
		return math.Min(a, b)
	case backend.Max:
		return math.Max(a, b)
	case backend.Gt:
		return c(a > b)
	case backend.Ge:
		return c(a >= b)
	case backend.Lt:
		return c(a < b)
	case backend.Le:
		return c(a <= b)
	case backend.Eq:
		return c(a == b)
	case backend.Ne:
		return c(a != b)
	}
	panic("unknown op")
}

func unRef(op backend.UnaryOp, a float64) float64 {
	switch op {
	case backend.Neg:
		return -a
	case backend.Abs:
		return math.Abs(a)
	case backend.Exp:
		return math.Exp(a)
	case backend.Log:
		return math.Log(a)
	case backend.Sqrt:
		return math.Sqrt(a)
	case backend.Square:
		return a * a
	case backend.Recip:
		return 1 / a
	case backend.Tanh:
		return math.Tanh(a)
	case backend.Sigmoid:
		return 1 / (1 + math.Exp(-a))
	case backend.Heaviside:
		if a > 0 {
			return 1
		}
		return 0
	case backend.Not:
		if a == 0 {
			return 1
		}
		return 0
	}
	panic("unknown op")
}

// inputs returns two test vectors with repeated values (so that Eq, Le and
// Ge see equal pairs), zeros and negative numbers.
func inputs(r *rand.Rand, n int) (a, b []float32) {
	a, b = make([]float32, n), make([]float32, n)
	for i := range a {
		a[i] = float32(r.IntN(9)-4) * 0.5
		b[i] = float32(r.IntN(9)-4) * 0.5
		if i%3 == 0 {
			a[i] = r.Float32()*8 - 4
		}
	}
	return a, b
}

func TestElementwise(t *testing.T) {
	for _, th := range threadCounts {
		for _, n := range sizes {
			t.Run(fmt.Sprintf("threads%d/n%d", th, n), func(t *testing.T) {
				testElementwise(t, open(t, th), n)
			})
		}
	}
}

func testElementwise(t *testing.T, b *Backend, n int) {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	av, bv := inputs(r, n)
	a, bt := tensorOf(t, b, n, 1, av), tensorOf(t, b, n, 1, bv)
	dst := tensorOf(t, b, n, 1, nil)
	want := make([]float64, n)
	for op := backend.Add; op.Valid(); op++ {
		backend.Binary(op, dst, a, bt)
		for i := range want {
			want[i] = binRef(op, float64(av[i]), float64(bv[i]))
		}
		checkNear(t, "Binary "+op.String(), Data(dst), want, 1e-6)

		const s = 0.5
		backend.BinaryScalar(op, dst, a, s)
		for i := range want {
			want[i] = binRef(op, float64(av[i]), s)
		}
		checkNear(t, "BinaryScalar "+op.String(), Data(dst), want, 1e-6)
	}
	for op := backend.Neg; op.Valid(); op++ {
		backend.Unary(op, dst, a)
		for i := range want {
			want[i] = unRef(op, float64(av[i]))
		}
		checkNear(t, "Unary "+op.String(), Data(dst), want, 1e-6)
	}

	backend.Affine(dst, a, 3, -1)
	for i := range want {
		want[i] = 3*float64(av[i]) - 1
	}
	checkNear(t, "Affine", Data(dst), want, 1e-6)

	backend.Copy(dst, a)
	backend.Axpy(dst, -2, bt)
	for i := range want {
		want[i] = float64(av[i]) - 2*float64(bv[i])
	}
	checkNear(t, "Copy+Axpy", Data(dst), want, 1e-6)

	backend.Fill(dst, 7)
	backend.Where(dst, bt, a)
	for i := range want {
		want[i] = 7
		if bv[i] != 0 {
			want[i] = float64(av[i])
		}
	}
	checkNear(t, "Fill+Where", Data(dst), want, 0)

	backend.WhereScalar(dst, a, -3)
	for i := range want {
		if av[i] != 0 {
			want[i] = -3
		}
	}
	checkNear(t, "WhereScalar", Data(dst), want, 0)

	backend.Clip(dst, a, -1, 1.5)
	for i := range want {
		want[i] = math.Min(math.Max(float64(av[i]), -1), 1.5)
	}
	checkNear(t, "Clip", Data(dst), want, 0)

	// Aliasing: dst is an operand.
	backend.Copy(dst, a)
	backend.Binary(backend.Mul, dst, dst, dst)
	for i := range want {
		want[i] = float64(av[i]) * float64(av[i])
	}
	checkNear(t, "Binary aliased", Data(dst), want, 1e-6)
}

func TestBinaryNaN(t *testing.T) {
	b := open(t, 1)
	nan := float32(math.NaN())
	a := tensorOf(t, b, 3, 1, []float32{nan, 1, 2})
	c := tensorOf(t, b, 3, 1, []float32{1, nan, 3})
	d := tensorOf(t, b, 3, 1, nil)
	backend.Binary(backend.Min, d, a, c)
	if g := Data(d); !math.IsNaN(float64(g[0])) || !math.IsNaN(float64(g[1])) || g[2] != 2 {
		t.Errorf("Min with NaN = %v, want [NaN NaN 2]", g)
	}
	backend.Clip(d, a, 0, 1)
	if g := Data(d); !math.IsNaN(float64(g[0])) || g[1] != 1 || g[2] != 1 {
		t.Errorf("Clip with NaN = %v, want [NaN 1 1]", g)
	}
}

func TestFillSignedZero(t *testing.T) {
	b := open(t, 1)
	x := tensorOf(t, b, 100, 1, nil)
	for _, v := range []float32{float32(math.Copysign(0, -1)), 0, 1.5} {
		backend.Fill(x, v)
		for i, g := range Data(x) {
			if math.Float32bits(g) != math.Float32bits(v) {
				t.Fatalf("Fill(%v): element %d = %v (bits %08x)", v, i, g, math.Float32bits(g))
			}
		}
	}
}

func TestCopyRange(t *testing.T) {
	b := open(t, 1)
	x := tensorOf(t, b, 6, 1, []float32{0, 1, 2, 3, 4, 5})
	y := tensorOf(t, b, 4, 1, nil)
	b.CopyRange(y, 1, x, 3, 3)
	if g := Data(y); fmt.Sprint(g) != "[0 3 4 5]" {
		t.Errorf("CopyRange = %v, want [0 3 4 5]", g)
	}
	b.CopyRange(x, 1, x, 0, 4) // overlapping, like memmove
	if g := Data(x); fmt.Sprint(g) != "[0 0 1 2 3 5]" {
		t.Errorf("overlapping CopyRange = %v, want [0 0 1 2 3 5]", g)
	}
}

func TestReduce(t *testing.T) {
	for _, th := range threadCounts {
		for _, n := range append(sizes, 0, 200000) {
			t.Run(fmt.Sprintf("threads%d/n%d", th, n), func(t *testing.T) {
				b := open(t, th)
				r := rand.New(rand.NewPCG(2, uint64(n)))
				v := randSlice(r, n, -1, 3)
				for i := range v {
					if i%4 == 0 {
						v[i] = 0
					}
				}
				src := tensorOf(t, b, n, 1, v)
				dst := tensorOf(t, b, 1, 5, nil)
				var sum, cnt float64
				mx, mn := math.Inf(-1), math.Inf(1)
				for _, x := range v {
					sum += float64(x)
					if x != 0 {
						cnt++
					}
					mx, mn = math.Max(mx, float64(x)), math.Min(mn, float64(x))
				}
				want := []float64{sum, sum / float64(n), mx, mn, cnt}
				for op := backend.Sum; op.Valid(); op++ {
					b.Reduce(op, dst, int(op), src)
				}
				// float64 accumulation: only the final rounding to float32.
				checkNear(t, "Reduce", Data(dst), want, 1e-7)
			})
		}
	}
}

func TestMatVec(t *testing.T) {
	shapes := [][2]int{{1, 1}, {3, 5}, {17, 40}, {5, 33}, {33, 5}, {7, 16}, {600, 600}, {70, 900}, {901, 70}, {0, 4}, {4, 0}}
	for _, fma := range kernelModes() {
		for _, th := range threadCounts {
			for _, sh := range shapes {
				for _, trans := range []bool{false, true} {
					for _, ab := range [][2]float32{{1, 0}, {0.5, 2}, {0, 0.5}, {-1, 1}} {
						rows, cols := sh[0], sh[1]
						name := fmt.Sprintf("fma=%v/threads%d/%dx%d/trans=%v/alpha=%g/beta=%g", fma, th, rows, cols, trans, ab[0], ab[1])
						t.Run(name, func(t *testing.T) {
							b := open(t, th)
							b.fma = fma
							testMatVec(t, b, rows, cols, trans, ab[0], ab[1])
						})
					}
				}
			}
		}
	}
}

func testMatVec(t *testing.T, b *Backend, rows, cols int, trans bool, alpha, beta float32) {
	r := rand.New(rand.NewPCG(3, uint64(rows*1000+cols)))
	wv := randSlice(r, rows*cols, -1, 1)
	nx, ny := cols, rows
	if trans {
		nx, ny = rows, cols
	}
	xv, yv := randSlice(r, nx, -1, 1), randSlice(r, ny, -1, 1)
	w, x, y := tensorOf(t, b, rows, cols, wv), tensorOf(t, b, nx, 1, xv), tensorOf(t, b, ny, 1, yv)
	want := make([]float64, ny)
	for k := range want {
		var s float64
		for l := range nx {
			if trans {
				s += float64(wv[l*cols+k]) * float64(xv[l])
			} else {
				s += float64(wv[k*cols+l]) * float64(xv[l])
			}
		}
		want[k] = float64(alpha)*s + float64(beta)*float64(yv[k])
	}
	b.MatVec(y, w, trans, x, alpha, beta)
	checkNear(t, "MatVec", Data(y), want, 1e-5*math.Sqrt(float64(nx+1)))
}

func TestMatVecBetaZeroOverwritesNaN(t *testing.T) {
	b := open(t, 1)
	w := tensorOf(t, b, 2, 2, []float32{1, 2, 3, 4})
	x := tensorOf(t, b, 2, 1, []float32{1, 1})
	nan := float32(math.NaN())
	for _, trans := range []bool{false, true} {
		y := tensorOf(t, b, 2, 1, []float32{nan, nan})
		b.MatVec(y, w, trans, x, 1, 0)
		want := "[3 7]"
		if trans {
			want = "[4 6]"
		}
		if g := fmt.Sprint(Data(y)); g != want {
			t.Errorf("MatVec trans=%v with beta 0 over NaN = %s, want %s", trans, g, want)
		}
		b.Write(y, 0, []float32{nan, nan})
		b.MatVec(y, w, trans, x, 0, 0)
		if g := fmt.Sprint(Data(y)); g != "[0 0]" {
			t.Errorf("MatVec trans=%v alpha 0 beta 0 over NaN = %s, want [0 0]", trans, g)
		}
	}
}

func TestPropagate(t *testing.T) {
	shapes := [][2]int{{1, 1}, {5, 3}, {13, 29}, {9, 47}, {600, 600}, {2000, 50}, {50, 2003}}
	for _, fma := range kernelModes() {
		for _, th := range threadCounts {
			for _, sh := range shapes {
				for _, trans := range []bool{false, true} {
					for _, frac := range []float64{0, 0.05, 0.5, 1} {
						rows, cols := sh[0], sh[1]
						t.Run(fmt.Sprintf("fma=%v/threads%d/%dx%d/trans=%v/frac=%g", fma, th, rows, cols, trans, frac), func(t *testing.T) {
							b := open(t, th)
							b.fma = fma
							testPropagate(t, b, rows, cols, trans, frac)
						})
					}
				}
			}
		}
	}
}

func testPropagate(t *testing.T, b *Backend, rows, cols int, trans bool, frac float64) {
	r := rand.New(rand.NewPCG(4, uint64(rows*1000+cols)))
	wv := randSlice(r, rows*cols, -1, 1)
	nm, nd := cols, rows
	if trans {
		nm, nd = rows, cols
	}
	mv := maskSlice(r, nm, frac)
	// Non-binary mask values count as spikes too.
	for i := range mv {
		if mv[i] != 0 && i%2 == 0 {
			mv[i] = -0.25
		}
	}
	dv := randSlice(r, nd, -1, 1)
	w, m, d := tensorOf(t, b, rows, cols, wv), tensorOf(t, b, nm, 1, mv), tensorOf(t, b, nd, 1, dv)
	const alpha = 0.75
	want := make([]float64, nd)
	for k := range want {
		var s float64
		for l := range nm {
			if mv[l] == 0 {
				continue
			}
			if trans {
				s += float64(wv[l*cols+k])
			} else {
				s += float64(wv[k*cols+l])
			}
		}
		want[k] = float64(dv[k]) + alpha*s
	}
	b.Propagate(d, w, trans, m, alpha)
	checkNear(t, "Propagate", Data(d), want, 1e-5*math.Sqrt(float64(nm+1)))
}

func TestOuter(t *testing.T) {
	shapes := [][2]int{{1, 1}, {4, 6}, {300, 300}, {40, 2000}}
	type variant struct {
		rowMask, colMask, u, v bool
		soft, clip             bool
	}
	var variants []variant
	for bits := range 64 {
		variants = append(variants, variant{bits&1 != 0, bits&2 != 0, bits&4 != 0, bits&8 != 0, bits&16 != 0, bits&32 != 0})
	}
	for _, th := range threadCounts {
		for _, sh := range shapes {
			for _, vr := range variants {
				rows, cols := sh[0], sh[1]
				name := fmt.Sprintf("threads%d/%dx%d/%+v", th, rows, cols, vr)
				t.Run(name, func(t *testing.T) {
					b := open(t, th)
					r := rand.New(rand.NewPCG(5, uint64(rows*cols)))
					wv := randSlice(r, rows*cols, 0, 1)
					w := tensorOf(t, b, rows, cols, wv)
					var rm, cm, u, v backend.Tensor
					var rmv, cmv, uv, vv []float32
					if vr.rowMask {
						rmv = maskSlice(r, rows, 0.3)
						rm = tensorOf(t, b, rows, 1, rmv)
					}
					if vr.colMask {
						cmv = maskSlice(r, cols, 0.3)
						cm = tensorOf(t, b, cols, 1, cmv)
					}
					if vr.u {
						uv = randSlice(r, rows, -1, 2)
						u = tensorOf(t, b, rows, 1, uv)
					}
					if vr.v {
						vv = randSlice(r, cols, -1, 2)
						v = tensorOf(t, b, cols, 1, vv)
					}
					p := backend.OuterParams{Alpha: 0.3, Soft: vr.soft, Target: 1.5, Clip: vr.clip, Lo: 0.1, Hi: 0.9}
					want := make([]float64, rows*cols)
					for i := range rows {
						for j := range cols {
							x := float64(wv[i*cols+j])
							want[i*cols+j] = x
							if (rmv != nil && rmv[i] == 0) || (cmv != nil && cmv[j] == 0) {
								continue
							}
							f := float64(p.Alpha)
							if uv != nil {
								f *= float64(uv[i])
							}
							if vv != nil {
								f *= float64(vv[j])
							}
							if p.Soft {
								f *= float64(p.Target) - x
							}
							x += f
							if p.Clip {
								x = math.Min(math.Max(x, float64(p.Lo)), float64(p.Hi))
							}
							want[i*cols+j] = x
						}
					}
					b.Outer(w, rm, cm, u, v, p)
					checkNear(t, "Outer", Data(w), want, 1e-6)
				})
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	shapes := [][2]int{{1, 1}, {3, 4}, {600, 600}, {50, 3000}, {3000, 50}}
	for _, th := range threadCounts {
		for _, sh := range shapes {
			for _, axis := range []backend.Axis{backend.Rows, backend.Cols} {
				rows, cols := sh[0], sh[1]
				t.Run(fmt.Sprintf("threads%d/%dx%d/axis%d", th, rows, cols, axis), func(t *testing.T) {
					b := open(t, th)
					r := rand.New(rand.NewPCG(6, uint64(rows*cols)))
					wv := randSlice(r, rows*cols, 0, 1)
					// Zero the first row and the first column so that one
					// line along the axis sums to zero; put a negative
					// value in the last element.
					for j := range cols {
						wv[j] = 0
					}
					for i := range rows {
						wv[i*cols] = 0
					}
					if rows*cols > 1 {
						wv[rows*cols-1] = -0.5
					}
					w := tensorOf(t, b, rows, cols, wv)
					const target = 2.5
					want := make([]float64, rows*cols)
					lines, along := rows, cols
					at := func(l, k int) int { return l*cols + k }
					if axis == backend.Cols {
						lines, along = cols, rows
						at = func(l, k int) int { return k*cols + l }
					}
					for l := range lines {
						var s float64
						for k := range along {
							s += float64(wv[at(l, k)])
						}
						for k := range along {
							want[at(l, k)] = float64(wv[at(l, k)])
							if s != 0 {
								want[at(l, k)] *= target / s
							}
						}
					}
					b.Normalize(w, axis, target)
					checkNear(t, "Normalize", Data(w), want, 1e-6)
				})
			}
		}
	}
}

func TestRandomMatchesReference(t *testing.T) {
	dists := []rng.Dist{
		rng.ConstDist(2.5),
		rng.UniformDist(-1, 3),
		rng.NormalDist(1, 2),
		rng.LogNormalDist(0, 0.5),
		rng.BernoulliDist(0.2),
		{Kind: rng.Uniform, A: 0, B: 1, Scale: 3, Density: 0.1},
		{Kind: rng.Const, A: 1, Scale: 0.5, Density: 0.5},
		{},
	}
	for _, th := range threadCounts {
		for _, n := range []int{5, 5000, 100003} {
			for di, d := range dists {
				t.Run(fmt.Sprintf("threads%d/n%d/%v%d", th, n, d.Kind, di), func(t *testing.T) {
					b := open(t, th)
					x := tensorOf(t, b, n, 1, nil)
					key := rng.Key{Seed: 42, Counter: uint64(7 + di)}
					b.Random(x, d, key)
					bad := 0
					for i, got := range Data(x) {
						want := rng.Sample(d, key, uint64(i))
						if math.Float32bits(got) != math.Float32bits(want) {
							if bad < 3 {
								t.Errorf("element %d = %v, want rng.Sample %v", i, got, want)
							}
							bad++
						}
					}
					if bad > 0 {
						t.Errorf("%d of %d elements differ from rng.Sample", bad, n)
					}
				})
			}
		}
	}
}

// TestConcurrentBackends runs separate backends on separate goroutines;
// with -race it checks that backends share no state.
func TestConcurrentBackends(t *testing.T) {
	const n = 50000
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			b, err := New(backend.Options{Threads: 2})
			if err != nil {
				errs <- err
				return
			}
			defer b.Close()
			x, _ := b.NewTensor(n, 1)
			y, _ := b.NewTensor(1, 1)
			for it := range 20 {
				backend.Fill(x, float32(g+it))
				b.Reduce(backend.Sum, y, 0, x)
				if got, want := Data(y)[0], float32(n*(g+it)); got != want {
					errs <- fmt.Errorf("backend %d iteration %d: sum %v, want %v", g, it, got, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestPhiloxMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 10000 {
		c := [4]uint32{r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32()}
		k := [2]uint32{r.Uint32(), r.Uint32()}
		w0, w1, w2, w3 := philox(c[0], c[1], c[2], c[3], k[0], k[1])
		if got, want := [4]uint32{w0, w1, w2, w3}, rng.Philox4x32(c, k); got != want {
			t.Fatalf("philox(%08x, %08x) = %08x, want %08x", c, k, got, want)
		}
	}
}

// fakeTensor is a tensor of some other backend.
type fakeTensor struct{}

func (fakeTensor) Rows() int                { return 4 }
func (fakeTensor) Cols() int                { return 1 }
func (fakeTensor) Len() int                 { return 4 }
func (fakeTensor) Backend() backend.Backend { return fakeBackend{} }
func (fakeTensor) Release()                 {}

type fakeBackend struct{ backend.Backend }

func (fakeBackend) Name() string { return "fake" }

// TestCollect checks the eight-at-a-time mask scan against the plain
// definition (m[i] != 0) on sparse and dense masks holding ±0, NaN,
// subnormals and negative values, for lengths around the group size.
func TestCollect(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	vals := []float32{1, -1, float32(math.NaN()), 1e-45, float32(math.Copysign(0, -1)), 0.5}
	var buf []int
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000} {
		for _, density := range []float64{0, 0.01, 0.2, 1} {
			m := make([]float32, n)
			for i := range m {
				if r.Float64() < density {
					m[i] = vals[r.IntN(len(vals))]
				}
			}
			var want []int
			for i, v := range m {
				if v != 0 {
					want = append(want, i)
				}
			}
			got := collect(&buf, m)
			if len(got) != len(want) {
				t.Fatalf("n=%d density=%v: %d indices, want %d", n, density, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("n=%d density=%v: index %d is %d, want %d", n, density, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSkipZeros32 checks the vector group scan against the portable one.
func TestSkipZeros32(t *testing.T) {
	m := make([]float32, 320)
	for _, n := range []int{0, 32, 96, 320} {
		for pos := -1; pos < n; pos += 13 {
			clear(m)
			m[5] = float32(math.Copysign(0, -1)) // -0 is zero
			if pos >= 0 {
				m[pos] = 1e-45
			}
			want := n
			if pos >= 0 {
				want = pos &^ 31
			}
			if got := skipZeros32(m, n); got != want {
				t.Fatalf("n=%d nonzero at %d: skipZeros32 = %d, want %d", n, pos, got, want)
			}
			if got := skipZeros32Go(m, n); got != want {
				t.Fatalf("n=%d nonzero at %d: skipZeros32Go = %d, want %d", n, pos, got, want)
			}
		}
	}
}

// TestPhilox8MatchesScalar checks the eight-block vector Philox (uniform
// fill) against the scalar philox and rng.Unit, bit for bit, for counters
// around the 2^32 carry, several keys and affine maps.
func TestPhilox8MatchesScalar(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2: uniform fills use the scalar Philox only")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		base := r.Uint64()
		if trial%3 == 0 {
			base = 1<<32 - 5 // blocks cross the carry into the high word
		}
		var c0, c1 [8]uint32
		for j := range c0 {
			c0[j], c1[j] = uint32(base+uint64(j)), uint32((base+uint64(j))>>32)
		}
		c2, c3, k0, k1 := r.Uint32(), r.Uint32(), r.Uint32(), r.Uint32()
		a, rr, sc := float32(r.NormFloat64()), float32(r.NormFloat64()*3), float32(r.NormFloat64())
		var got [32]float32
		philox8Uniform(&got[0], &c0, &c1, c2, c3, k0, k1, a, rr, sc)
		for j := range 8 {
			w0, w1, w2, w3 := philox(c0[j], c1[j], c2, c3, k0, k1)
			for w, x := range [4]uint32{w0, w1, w2, w3} {
				want := sc * (a + float32(rr*rng.Unit(x)))
				if math.Float32bits(got[4*j+w]) != math.Float32bits(want) {
					t.Fatalf("trial %d block %d word %d: %v, want %v", trial, j, w, got[4*j+w], want)
				}
			}
		}
	}
}
