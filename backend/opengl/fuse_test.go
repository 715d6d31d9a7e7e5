package opengl

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

func compile(t *testing.T, src string, env expr.Env) *expr.Program {
	t.Helper()
	p, err := expr.Compile(src, env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFuse runs fused programs on the gl backend and compares them with
// the host evaluator of package expr.
func TestFuse(t *testing.T) {
	b := openOrSkip(t)
	_, progs0 := b.LiveObjects()
	env := expr.Env{
		Tensors: []string{"v", "u", "I", "r", "z"},
		Consts:  map[string]float32{"dt": 0.5, "a": 0.02, "b": 0.2},
	}
	cases := []struct {
		name, src string
		ulp       int64   // 0: bitwise
		abs       float64 // or this close
	}{
		// Float32 arithmetic: the driver may fuse multiply-adds.
		{"izhikevich", "v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)", 64, 1e-5},
		{"uniform", "r = uniform(); z = uniform()", 0, 0},
		// expr's GLSL uses the driver's float32 log and cos: near a zero
		// of cos the absolute error is about 1e-5.
		{"normal", "r = normal()", 2, 5e-5},
		{"select", "v = where(v > -60, -65, v); u = clip(u, -14, -13.5)", 0, 0},
	}
	const n = 70_001 // more than 256 groups of 256
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := compile(t, c.src, env)
			host := make([][]float32, 5)
			for k := range host {
				host[k] = make([]float32, n)
			}
			for i := 0; i < n; i++ {
				host[0][i] = -70 + float32(i%97)*0.2
				host[1][i] = -14 + float32(i%13)*0.05
			}
			host[2] = []float32{10} // I: broadcast
			ts := make([]backend.Tensor, 5)
			for k := range ts {
				ts[k] = newT(t, b, len(host[k]), 1)
				if err := b.Write(ts[k], 0, host[k]); err != nil {
					t.Fatal(err)
				}
			}
			k, err := b.Fuse(p)
			if err != nil {
				t.Fatal(err)
			}
			key := rng.Key{Seed: 42, Counter: 1 << 40}
			for step := 0; step < 3; step++ {
				k.Run(ts, nil, key)
				p.NewEvaluator().Eval(host, 0, n, key)
				key.Counter += uint64(p.NumRandom())
			}
			for j, name := range env.Tensors {
				if !p.Writes(j) {
					continue
				}
				got := readAll(t, b, ts[j])
				bad := 0
				for i := range got {
					w := host[j][i]
					if ulps(got[i], w) > c.ulp && !(math.Abs(float64(got[i]-w)) <= c.abs) {
						bad++
						if bad < 5 {
							t.Errorf("%s[%d] = %v on gl, %v on the host", name, i, got[i], w)
						}
					}
				}
				if bad > 0 {
					t.Errorf("%s: %d of %d elements differ", name, bad, n)
				}
			}
			k.Release()
			for _, x := range ts {
				x.Release()
			}
		})
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, progs := b.LiveObjects(); progs != progs0 {
		t.Errorf("%d live programs after releasing every kernel, %d before", progs, progs0)
	}
}

func TestFuseMisuse(t *testing.T) {
	b := openOrSkip(t)
	env := expr.Env{Tensors: []string{"v", "I"}}
	k, err := b.Fuse(compile(t, "v += I", env))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	v, one, other := newT(t, b, 10, 1), newT(t, b, 1, 1), newT(t, b, 7, 1)
	for _, c := range []struct {
		name string
		args []backend.Tensor
		want string
	}{
		{"too few tensors", []backend.Tensor{v}, "1 tensors given"},
		{"assigned tensor of one element", []backend.Tensor{one, v}, "is assigned by the program"},
		{"length mismatch", []backend.Tensor{v, other}, "mismatch: tensor I (7x1) has 7 elements, want 10"},
		{"aliased assigned tensor", []backend.Tensor{v, v}, "bound to both"},
	} {
		msg, ok := catchPanic(func() { k.Run(c.args, nil, rng.Key{}) })
		if !ok || !strings.Contains(msg, c.want) {
			t.Errorf("%s: panic %q (panicked %v), want one mentioning %q", c.name, msg, ok, c.want)
		}
	}
	// The broadcast form compiles on first use and works.
	if err := b.Write(one, 0, []float32{2.5}); err != nil {
		t.Fatal(err)
	}
	k.Run([]backend.Tensor{v, one}, nil, rng.Key{})
	if got := readAll(t, b, v); got[9] != 2.5 {
		t.Errorf("v += I with I broadcast: v[9] = %v, want 2.5", got[9])
	}
}

func catchPanic(f func()) (msg string, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, panicked = fmtAny(r), true
		}
	}()
	f()
	return "", false
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return "non-string panic"
}

// TestFuseManyTensors runs a program with more tensors than the backend's
// own kernels bind (8), up to the device limit.
func TestFuseManyTensors(t *testing.T) {
	b := openOrSkip(t)
	nt := min(b.maxBindings, 12)
	names := make([]string, nt)
	for i := range names {
		names[i] = "t" + string(rune('a'+i))
	}
	src := names[0] + " = " + strings.Join(names[1:], " + ")
	p := compile(t, src, expr.Env{Tensors: names})
	k, err := b.Fuse(p)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	args := make([]backend.Tensor, nt)
	for i := range args {
		args[i] = newT(t, b, 300, 1)
		backend.Fill(args[i], float32(i))
	}
	k.Run(args, nil, rng.Key{})
	want := float32((nt - 1) * nt / 2)
	if got := readAll(t, b, args[0]); got[299] != want {
		t.Errorf("%s: %v, want %v", src, got[299], want)
	}
	tooMany := make([]string, b.maxBindings+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("x%d", i)
	}
	_, err = b.Fuse(compile(t, "x0 = "+strings.Join(tooMany[1:], " + "), expr.Env{Tensors: tooMany}))
	expectMsg(t, "Fuse with too many tensors", err, "binds at most", "split the program")
}

// TestFuseFunctions runs each function and operator of the language added
// for Brian2 models (exprel, expm1, log1p, log10, sin, cos, sign, ceil,
// int, x ** k, x ** y, x % y, i, N, and t and dt bound by the caller) over
// ranges of inputs as fused kernels on gl and on the cpu backend, and
// compares the two with each other and with float64 math.
//
// The bounds, and why:
//   - exprel, expm1, log1p, log10, sin, cos: both backends compute in
//     double (gl with expr's own double exp, log and Go's sin and cos) and
//     round once to float32, so each is within 1 ulp of the float64 value
//     and of the other (the double results differ by a few double ulp at
//     most, which changes the float32 rounding only at a near-tie).
//   - sign, ceil, int, i, N, t*dt: exact on both, 0 ulp.
//   - x ** k for a constant or run-time integer |k| <= 8: the same float32
//     products on both (precise, so not contracted into fused
//     multiply-adds) and a reciprocal computed in double, 0 ulp apart. From
//     the exact power: each product rounds by at most half an ulp, and a
//     later squaring doubles the relative error of its operand, so x**k
//     is within k-1 half-ulps of relative error of the exact power (x**8 =
//     ((x^2)^2)^2: (4 + 2 + 1)/2 = 3.5 ulp), plus one half-ulp for the
//     reciprocal, and a little more counted from float32(exact): |k|+1 ulp
//     for k > 0 and |k|+2 for k < 0 (measured: x**3 1, x**5 2, x**8 5,
//     x**-3 2).
//   - x ** y for other y is pow: gl uses the driver's float32 pow, whose
//     error grows with |y log2 x|; over these inputs within 64 ulp or 1e-6
//     relative of the cpu (measured on llvmpipe: 41 ulp).
//   - x % y = x - floor(x/y)*y in float32 steps, the quotient computed in
//     double on gl so that it is the cpu's correctly rounded quotient
//     whatever the driver's division: 0 ulp apart. From the float64
//     formula it differs by the rounding of x/y and of floor(x/y)*y, at
//     most 2 ulp of |x| (modulo y, where the two quotients straddle an
//     integer).
func TestFuseFunctions(t *testing.T) {
	g := openOrSkip(t)
	c := cpuTwin(t)
	env := expr.Env{Tensors: []string{"x", "y", "z", "t"}, Consts: map[string]float32{"dt": 0.125}}

	// Inputs. sweep returns n points from lo to hi, geometric when both
	// are positive; signed mirrors them.
	sweep := func(lo, hi float64, n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			f := float64(i) / float64(n-1)
			if lo > 0 && hi > 0 {
				out[i] = float32(lo * math.Pow(hi/lo, f))
			} else {
				out[i] = float32(lo + (hi-lo)*f)
			}
		}
		return out
	}
	signed := func(x []float32) []float32 {
		out := append([]float32(nil), x...)
		for _, v := range x {
			out = append(out, -v)
		}
		return out
	}
	cat := func(xs ...[]float32) []float32 {
		var out []float32
		for _, x := range xs {
			out = append(out, x...)
		}
		return out
	}
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, inf, -inf, nan}
	nearPi := func() []float32 { // around multiples of pi/2, where sin or cos is small
		var out []float32
		for k := 1; k < 20000; k += 7 {
			x := float32(float64(k) * math.Pi / 2)
			out = append(out, x, math.Nextafter32(x, 0), math.Nextafter32(x, inf))
		}
		return out
	}()
	exact := func(f func(float64) float64) func(x, y float64, i int) float64 {
		return func(x, _ float64, _ int) float64 { return f(x) }
	}
	exprel64 := func(x float64) float64 {
		switch {
		case x == 0:
			return 1
		case math.Abs(x) < 1e-5:
			return 1 + x/2 + x*x/6
		case math.IsInf(x, 1):
			return x
		}
		return math.Expm1(x) / x
	}
	sign64 := func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}
	type tcase struct {
		name, src string
		x, y      []float32 // y nil: zeros
		ref       func(x, y float64, i int) float64
		glULP     int64   // gl vs cpu
		refULP    int64   // cpu vs float32(float64 value)
		refRel    float64 // or this relative difference
		modulo    bool    // compare with the float64 value modulo y
	}
	ints := sweep(-8, 8, 17)
	powX := signed(sweep(1e-4, 1e4, 4001))
	cases := []tcase{
		{"exprel", "z = exprel(x)", cat(signed(sweep(1e-30, 1e-3, 3000)), sweep(-100, 100, 20001), sweep(-1e30, -100, 1000), special), nil, exact(exprel64), 1, 1, 0, false},
		{"expm1", "z = expm1(x)", cat(signed(sweep(1e-30, 1e-3, 3000)), sweep(-100, 88, 20001), special), nil, exact(math.Expm1), 1, 1, 0, false},
		{"log1p", "z = log1p(x)", cat(signed(sweep(1e-30, 0.999, 5000)), sweep(-1, 10, 20001), sweep(10, 1e38, 2000), special, []float32{-2}), nil, exact(math.Log1p), 1, 1, 0, false},
		{"log10", "z = log10(x)", cat(sweep(1e-37, 1e38, 20001), []float32{1e-30, 1e-3, 0.1, 10, 100, 1e5, 1e10, 1e30, 2, 3}, special), nil, exact(math.Log10), 1, 1, 0, false},
		{"sin", "z = sin(x)", cat(sweep(-10, 10, 20001), sweep(-1e5, 1e5, 20001), signed(sweep(1e5, 1e38, 4000)), signed(sweep(1e-30, 1e-3, 1000)), nearPi, special), nil, exact(math.Sin), 1, 1, 0, false},
		{"cos", "z = cos(x)", cat(sweep(-10, 10, 20001), sweep(-1e5, 1e5, 20001), signed(sweep(1e5, 1e38, 4000)), nearPi, special), nil, exact(math.Cos), 1, 1, 0, false},
		{"sign", "z = sign(x)", cat(sweep(-10, 10, 2001), signed(sweep(1e-37, 1e38, 100)), special), nil, exact(sign64), 0, 0, 0, false},
		{"ceil", "z = ceil(x)", cat(sweep(-10, 10, 2001), signed(sweep(1e-37, 1e38, 100)), special), nil, exact(math.Ceil), 0, 0, 0, false},
		{"int", "z = int(x)", cat(sweep(-10, 10, 2001), signed(sweep(1e-37, 1e38, 100)), special), nil, exact(math.Trunc), 0, 0, 0, false},
	}
	for _, k := range []int{2, 3, 4, 5, 8, -1, -2, -3} {
		kk := float64(k)
		bound := int64(k + 1)
		if k < 0 {
			bound = int64(-k + 2)
		}
		cases = append(cases, tcase{fmt.Sprintf("x**%d", k), fmt.Sprintf("z = x**%d", k), powX, nil,
			func(x, _ float64, _ int) float64 { return math.Pow(x, kk) }, 0, bound, 0, false})
	}
	// x ** y with y an integer at run time: the same products.
	var px, py []float32
	for _, y := range ints {
		for _, x := range sweep(-1e4, 1e4, 801) {
			if math.Abs(float64(x)) >= 1e-4 {
				px, py = append(px, x), append(py, y)
			}
		}
	}
	// and pow for other exponents.
	var qx, qy []float32
	for _, y := range []float32{0.5, 1.5, -0.3, 2.7, -1.25, 8.5} {
		for _, x := range sweep(0.01, 100, 2001) {
			qx, qy = append(qx, x), append(qy, y)
		}
	}
	// x % y for divisors of both signs.
	var mx, my []float32
	for _, y := range []float32{3, -3, 0.7, -2.5, 1e-3, 1, 7.25, 1000} {
		for _, x := range sweep(-100, 100, 4001) {
			mx, my = append(mx, x), append(my, y)
		}
	}
	pow := func(x, y float64, _ int) float64 { return math.Pow(x, y) }
	cases = append(cases,
		tcase{"x**y integer y", "z = x**y", px, py, pow, 0, 9, 0, false},
		tcase{"x**y other y", "z = x**y", qx, qy, pow, 64, 1, 1e-6, false},
		tcase{"x % y", "z = x % y", mx, my, func(x, y float64, _ int) float64 { return x - math.Floor(x/y)*y }, 0, 2, 0, true},
		tcase{"7 % 3 and -7 % 3", "z = (x > 0 ? 7 : -7) % y", []float32{1, -1}, []float32{3, 3},
			func(x, _ float64, _ int) float64 { return map[bool]float64{true: 1, false: 2}[x > 0] }, 0, 0, 0, false},
		tcase{"i and N", "z = i + (N - 50001)", sweep(0, 1, 50001), nil, func(_, _ float64, i int) float64 { return float64(i) }, 0, 0, 0, false},
		tcase{"t and dt", "z = x + t*dt", sweep(-1, 1, 1001), nil, func(x, _ float64, _ int) float64 { return float64(float32(x + 12.5*0.125)) }, 0, 0, 0, false},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := compile(t, tc.src, env)
			n := len(tc.x)
			y := tc.y
			if y == nil {
				y = make([]float32, n)
			}
			var out [2][]float32
			for s, b := range []backend.Backend{g, c} {
				f := b
				args := []backend.Tensor{newT(t, b, n, 1), newT(t, b, n, 1), newT(t, b, n, 1), newT(t, b, 1, 1)}
				for j, data := range [][]float32{tc.x, y, nil, {12.5}} {
					if data != nil {
						if err := b.Write(args[j], 0, data); err != nil {
							t.Fatal(err)
						}
					}
				}
				k, err := f.Fuse(p)
				if err != nil {
					t.Fatal(err)
				}
				k.Run(args, nil, rng.Key{})
				out[s] = readAll(t, b, args[2])
				k.Release()
				for _, a := range args {
					a.Release()
				}
			}
			gl, cp := out[0], out[1]
			var glMax, refMax int64
			var glAbs, refAbs, refRelMax float64
			bad := 0
			for i := range gl {
				w := tc.ref(float64(tc.x[i]), float64(y[i]), i)
				w32 := float32(w)
				du := ulps(gl[i], cp[i])
				glMax = max(glMax, du)
				if !math.IsNaN(float64(gl[i])) && !math.IsInf(float64(gl[i]), 0) {
					glAbs = max(glAbs, math.Abs(float64(gl[i])-float64(cp[i])))
				}
				ru := ulps(cp[i], w32)
				rd := math.Abs(float64(cp[i]) - w)
				if tc.modulo {
					m := math.Abs(float64(y[i]))
					rd = math.Min(rd, math.Abs(rd-m))
					if rd <= 2*ulpOf(tc.x[i]) {
						ru = 0
					}
				}
				rel := 0.0
				if w != 0 && !math.IsInf(w, 0) && !math.IsNaN(w) {
					rel = rd / math.Abs(w)
				}
				if ru != math.MaxInt64 {
					refMax = max(refMax, ru)
				}
				if !math.IsNaN(rd) && !math.IsInf(rd, 0) {
					refAbs = max(refAbs, rd)
					refRelMax = max(refRelMax, rel)
				}
				okGL := du <= tc.glULP || tc.refRel > 0 && math.Abs(float64(gl[i])-float64(cp[i])) <= tc.refRel*math.Abs(float64(cp[i]))
				okRef := ru <= tc.refULP || tc.refRel > 0 && rel <= tc.refRel
				if !okGL || !okRef {
					bad++
					if bad <= 5 {
						t.Errorf("%s at x=%v y=%v: gl %v, cpu %v, float64 %v (%d ulp apart on gl, cpu %d ulp from float64)",
							tc.src, tc.x[i], y[i], gl[i], cp[i], w, du, ru)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d of %d elements out of bounds", tc.src, bad, n)
			}
			t.Logf("%-18s n=%6d  gl-cpu max %d ulp (abs %.3g)  cpu-float64 max %d ulp (abs %.3g, rel %.3g)",
				tc.name, n, glMax, glAbs, refMax, refAbs, refRelMax)
		})
	}
}

// ulpOf is the spacing of float32s at x.
func ulpOf(x float32) float64 {
	a := float32(math.Abs(float64(x)))
	return float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
}
