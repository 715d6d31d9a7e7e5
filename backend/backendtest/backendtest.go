package backendtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// group is one top-level subtest of Run: it gets a fresh backend.
type group struct {
	name string
	// long groups are skipped under -short.
	long bool
	run  func(t *testing.T, s *suite)
}

var groups = []group{
	{name: "Info", run: testInfo},
	{name: "NewTensor", run: testNewTensor},
	{name: "ReadWrite", run: testReadWrite},
	{name: "ReadBatch", run: testReadBatch},
	{name: "Fill", run: testFill},
	{name: "Copy", run: testCopy},
	{name: "CopyRange", run: testCopyRange},
	{name: "Binary", run: testBinary},
	{name: "BinaryScalar", run: testBinaryScalar},
	{name: "Unary", run: testUnary},
	{name: "Affine", run: testAffine},
	{name: "Axpy", run: testAxpy},
	{name: "Where", run: testWhere},
	{name: "WhereScalar", run: testWhereScalar},
	{name: "Clip", run: testClip},
	{name: "Reduce", run: testReduce},
	{name: "MatVec", run: testMatVec},
	{name: "Propagate", run: testPropagate},
	{name: "Outer", run: testOuter},
	{name: "Normalize", run: testNormalize},
	{name: "Sparse", run: testSparse},
	{name: "Delay", run: testDelay},
	{name: "Events", run: testEvents},
	{name: "State", run: testState},
	{name: "Random", run: testRandom},
	{name: "Fuse", run: testFuse},
	{name: "LargeVector", run: testLargeVector},
	{name: "LargeMatrix", long: true, run: testLargeMatrix},
	{name: "Misuse", run: testMisuse},
	{name: "FlushSyncClose", run: testFlushSyncClose},
}

// Run checks every operation of backend.Backend against float64 reference
// values (see the package documentation for the tolerances). open must
// return a fresh, working backend each time it is called; Run closes it
// with t.Cleanup, so open must not close it itself. Each top-level subtest
// opens one backend; the misuse and Close tests open more.
func Run(t *testing.T, open func(t *testing.T) backend.Backend) {
	t.Helper()
	if open == nil {
		t.Fatal("backendtest.Run: open is nil")
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			if g.long && testing.Short() {
				t.Skip("skipped in -short mode: it allocates a 6000x6000 matrix (144 MB, above " +
					"llvmpipe's 128 MiB shader storage block limit) to check that backends split " +
					"large matrices; run without -short to check it")
			}
			s := &suite{open: open}
			s.b = s.openBackend(t)
			g.run(t, s)
		})
	}
}

// suite is the state shared by the cases of one group.
type suite struct {
	open func(t *testing.T) backend.Backend
	b    backend.Backend
}

// openBackend opens a backend that is closed when t ends.
func (s *suite) openBackend(t *testing.T) backend.Backend {
	t.Helper()
	b := s.open(t)
	if b == nil {
		t.Fatal("open returned a nil backend")
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// run runs f as subtest name and turns an unexpected panic into a test
// failure so that one broken operation does not hide the others.
func run(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("unexpected panic: %v\n%s", r, debug.Stack())
			}
		}()
		f(t)
	})
}

// ReadAll returns all elements of x, failing the test if Read fails.
func ReadAll(t testing.TB, b backend.Backend, x backend.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Len())
	if err := b.Read(out, x, 0); err != nil {
		t.Fatalf("Read of %s tensor: %v", backend.Shape(x), err)
	}
	return out
}

// FromSlice returns a new rows x cols tensor of b holding data (row-major),
// failing the test if allocation or Write fails.
func FromSlice(t testing.TB, b backend.Backend, rows, cols int, data []float32) backend.Tensor {
	t.Helper()
	if len(data) != rows*cols {
		t.Fatalf("FromSlice: %d values for a %dx%d tensor, want %d", len(data), rows, cols, rows*cols)
	}
	x := newTensor(t, b, rows, cols)
	if err := b.Write(x, 0, data); err != nil {
		t.Fatalf("Write of %dx%d tensor: %v", rows, cols, err)
	}
	return x
}

func newTensor(t testing.TB, b backend.Backend, rows, cols int) backend.Tensor {
	t.Helper()
	x, err := b.NewTensor(rows, cols)
	if err != nil {
		t.Fatalf("NewTensor(%d, %d): %v", rows, cols, err)
	}
	if x == nil {
		t.Fatalf("NewTensor(%d, %d) returned a nil tensor and no error", rows, cols)
	}
	return x
}

// vec returns an n x 1 tensor holding data.
func vec(t testing.TB, b backend.Backend, data []float32) backend.Tensor {
	t.Helper()
	return FromSlice(t, b, len(data), 1, data)
}

// readAt reads n elements of x from off.
func readAt(t testing.TB, b backend.Backend, x backend.Tensor, off, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := b.Read(out, x, off); err != nil {
		t.Fatalf("Read of %d elements at %d from %s tensor: %v", n, off, backend.Shape(x), err)
	}
	return out
}

// ---- input generation ----

// gen draws test inputs from a fixed-seed generator.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))} }

// uniform returns n values in [lo, hi).
func (g *gen) uniform(n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(lo + (hi-lo)*g.r.Float64())
	}
	return out
}

// logUniform returns n positive values spread evenly in log between lo and hi.
func (g *gen) logUniform(n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	a, b := math.Log(lo), math.Log(hi)
	for i := range out {
		out[i] = float32(math.Exp(a + (b-a)*g.r.Float64()))
	}
	return out
}

// signed returns n values of magnitude in [lo, hi) with random signs.
func (g *gen) signed(n int, lo, hi float64) []float32 {
	out := g.uniform(n, lo, hi)
	for i := range out {
		if g.r.IntN(2) == 0 {
			out[i] = -out[i]
		}
	}
	return out
}

// sprinkle sets about frac of x to v.
func (g *gen) sprinkle(x []float32, frac float64, v float32) {
	for i := range x {
		if g.r.Float64() < frac {
			x[i] = v
		}
	}
}

// mask returns n values that are 1 with probability p and 0 otherwise;
// when p > 0 at least the last element is 1.
func (g *gen) mask(n int, p float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		if g.r.Float64() < p {
			out[i] = 1
		}
	}
	if p > 0 && n > 0 {
		out[n-1] = 1
	}
	return out
}

func clone(x []float32) []float32 { return append([]float32(nil), x...) }

var negZero = float32(math.Copysign(0, -1))

func b2f(c bool) float32 {
	if c {
		return 1
	}
	return 0
}

// ---- comparison ----

// maxReported bounds the element failures reported per check.
const maxReported = 8

// checker collects element failures of one comparison.
type checker struct {
	t    testing.TB
	what string
	bad  int
}

func newChecker(t testing.TB, what string) *checker { return &checker{t: t, what: what} }

func (c *checker) fail(format string, args ...any) {
	c.t.Helper()
	c.bad++
	if c.bad <= maxReported {
		c.t.Errorf("%s: %s", c.what, fmt.Sprintf(format, args...))
	}
}

func (c *checker) done(n int) {
	c.t.Helper()
	if c.bad > maxReported {
		c.t.Errorf("%s: %d of %d elements wrong (first %d shown)", c.what, c.bad, n, maxReported)
	}
}

// expectExact fails unless got[i] == want[i] for all i (so +0 equals -0).
func expectExact(t testing.TB, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	c := newChecker(t, what)
	for i := range got {
		if got[i] != want[i] {
			c.fail("element %d = %v, want %v exactly", i, got[i], want[i])
		}
	}
	c.done(len(got))
}

// expectBits fails unless got and want are bitwise equal.
func expectBits(t testing.TB, what string, got, want []float32, index func(k int) int) {
	t.Helper()
	c := newChecker(t, what)
	for k := range got {
		if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
			c.fail("element %d = %v (%#08x), want %v (%#08x) bitwise", index(k),
				got[k], math.Float32bits(got[k]), want[k], math.Float32bits(want[k]))
		}
	}
	c.done(len(got))
}

// expectULP fails unless got[i] is within maxULP units in the last place
// of want[i].
func expectULP(t testing.TB, what string, got, want []float32, maxULP int64) {
	t.Helper()
	c := newChecker(t, what)
	for i := range got {
		if d := ulpDist(got[i], want[i]); d > maxULP {
			c.fail("element %d = %v, want %v within %d ulp (off by %d ulp)", i, got[i], want[i], maxULP, d)
		}
	}
	c.done(len(got))
}

// expectClose fails unless |got[i]-want[i]| <= tol[i] for all i. A NaN
// or infinite result always fails.
func expectClose(t testing.TB, what string, got []float32, want, tol []float64) {
	t.Helper()
	expectCloseAt(t, what, got, want, tol, identity)
}

// expectCloseAt is expectClose for got[k] being element index(k).
func expectCloseAt(t testing.TB, what string, got []float32, want, tol []float64, index func(k int) int) {
	t.Helper()
	if len(got) != len(want) || len(want) != len(tol) {
		t.Fatalf("%s: %d values, want %d (%d tolerances)", what, len(got), len(want), len(tol))
	}
	c := newChecker(t, what)
	for k := range got {
		g := float64(got[k])
		if d := math.Abs(g - want[k]); !(d <= tol[k]) || math.IsInf(g, 0) {
			c.fail("element %d = %.9g, want %.9g ± %.3g (off by %.3g)", index(k), g, want[k], tol[k], d)
		}
	}
	c.done(len(got))
}

func identity(k int) int { return k }

// relTol returns rel*|want[i]| + abs for every i.
func relTol(want []float64, rel, abs float64) []float64 {
	tol := make([]float64, len(want))
	for i, w := range want {
		tol[i] = rel*math.Abs(w) + abs
	}
	return tol
}

// ordered maps a float32 to an integer that is monotonic in its value, with
// +0 and -0 both at 0, so that differences count representable values.
func ordered(f float32) int64 {
	b := int64(int32(math.Float32bits(f)))
	if b < 0 {
		b = math.MinInt32 - b
	}
	return b
}

func ulpDist(a, b float32) int64 {
	if a != a || b != b {
		return math.MaxInt64
	}
	d := ordered(a) - ordered(b)
	if d < 0 {
		d = -d
	}
	return d
}

// catch runs f and returns the message of its panic, if it panics.
func catch(f func()) (msg string, panicked bool) {
	msg, _, panicked = catchValue(f)
	return msg, panicked
}

// catchValue is catch that also returns the recovered value.
func catchValue(f func()) (msg string, v any, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, v, panicked = fmt.Sprint(r), r, true
		}
	}()
	f()
	return "", nil, false
}

// expectPanic fails unless f panics with a *backend.Misuse whose message
// contains one of wants.
func expectPanic(t testing.TB, what string, f func(), wants ...string) {
	t.Helper()
	msg, v, ok := catchValue(f)
	if !ok {
		t.Errorf("%s: did not panic", what)
		return
	}
	if err, isErr := v.(error); !isErr || !errors.As(err, new(*backend.Misuse)) {
		t.Errorf("%s: panicked with %T %q, want a *backend.Misuse (backend.Misusef)", what, v, msg)
	}
	if msg == "" {
		t.Errorf("%s: panicked with an empty message", what)
		return
	}
	for _, w := range wants {
		if strings.Contains(msg, w) {
			return
		}
	}
	if len(wants) > 0 {
		t.Errorf("%s: panic message %q contains none of %q", what, msg, wants)
	}
}
