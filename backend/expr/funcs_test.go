package expr

import (
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// evalOne evaluates "z = src" for each x (and y) and returns z.
func evalOne(t *testing.T, src string, x, y []float32) []float32 {
	t.Helper()
	p := mustCompile(t, "z = "+src, Env{Tensors: []string{"x", "y", "z"}})
	if y == nil {
		y = make([]float32, len(x))
	}
	z := make([]float32, len(x))
	p.Eval([][]float32{x, y, z}, 0, len(x), rng.Key{})
	return z
}

// TestFunctionHandValues checks the new functions at hand-computed points.
func TestFunctionHandValues(t *testing.T) {
	pi32 := float32(math.Pi) // 3.1415927, 8.742278e-8 above pi
	cases := []struct {
		src  string
		x    []float32
		want []float32
	}{
		// exprel(x) = (e^x - 1)/x: 1 at 0 (and within rounding of 1 + x/2
		// near it), e - 1 at 1, 1 - 1/e at -1, +Inf past float32's range
		// (e^100/100 = 2.7e41), 0 at -Inf (-1/x), 1/|x| for large negative x.
		{"exprel(x)", []float32{0, negZero, 1e-8, -1e-8, 1e-3, 1, -1, 100, inf, -inf, -1e6, nan},
			[]float32{1, 1, 1, 1, 1.0005002, 1.7182819, 0.63212055, inf, inf, 0, 1e-6, nan}},
		// expm1 and log1p keep tiny arguments, and their signed zeros.
		{"expm1(x)", []float32{0, negZero, 1e-10, -1e-10, 1, -inf, inf, 100},
			[]float32{0, negZero, 1e-10, -1e-10, 1.7182819, -1, inf, inf}},
		{"log1p(x)", []float32{0, negZero, 1e-10, -1e-10, 1.7182819, -1, -2, inf},
			[]float32{0, negZero, 1e-10, -1e-10, 1, -inf, nan, inf}},
		{"log10(x)", []float32{1, 10, 1000, 0.01, 2, 0, -1, inf, 1e-30},
			[]float32{0, 1, 3, -2, 0.30103, -inf, nan, inf, -30}},
		// sin(float32(pi)) is -(float32(pi) - pi); float32(1e30) is
		// 1.0000000150474662e30, reduced by Payne-Hanek (values as glibc's).
		{"sin(x)", []float32{0, negZero, pi32, -pi32, 1, 1e6, 1e30, inf, nan},
			[]float32{0, negZero, -8.742278e-08, 8.742278e-08, 0.84147096, -0.3499935, -0.79116344, nan, nan}},
		{"cos(x)", []float32{0, negZero, pi32, 1, 1e30, -inf},
			[]float32{1, 1, -1, 0.5403023, -0.6116048, nan}},
		// sign is 0 for zeros of either sign and for NaN, as Brian2's C++.
		{"sign(x)", []float32{-3, 2, 0, negZero, nan, -inf, inf, 1e-40, -1e-40},
			[]float32{-1, 1, 0, 0, 0, -1, 1, 1, -1}},
		{"ceil(x)", []float32{1.2, -1.2, -0.5, 2, 1e30, inf, nan},
			[]float32{2, -1, negZero, 2, 1e30, inf, nan}},
		// int truncates toward zero, as Brian2's int().
		{"int(x)", []float32{-2.7, 2.7, -0.5, 0.5, 3, -3, 1e10, -inf, nan},
			[]float32{-2, 2, negZero, 0, 3, -3, 1e10, -inf, nan}},
		// Powers: the sign of -x**2 is outside, and (-x)**2 inside.
		{"-x**2", []float32{3, -3}, []float32{-9, -9}},
		{"(-x)**3", []float32{2, -2}, []float32{-8, 8}},
		{"x**-1", []float32{4, -0.5, 0, negZero}, []float32{0.25, -2, inf, -inf}},
		{"x**0", []float32{5, 0, nan, inf}, []float32{1, 1, 1, 1}},
		{"x**0.5", []float32{4, 2}, []float32{2, float32(math.Sqrt2)}},
		{"2**3**2", []float32{0}, []float32{512}}, // 2**(3**2), by pow: 9 > 8
		{"2**-1**2", []float32{0}, []float32{0.5}},
		{"x**8", []float32{2, -2, 1e5}, []float32{256, 256, inf}},
		{"x**-8", []float32{2, -0.5}, []float32{1.0 / 256, 256}},
		// Modulo with the sign of the divisor: a - floor(a/b)*b.
		{"7 % 3", []float32{0}, []float32{1}},
		{"-7 % 3", []float32{0}, []float32{2}},
		{"7 % -3", []float32{0}, []float32{-2}},
		{"-7 % -3", []float32{0}, []float32{-1}},
		{"x % 2", []float32{5.5, -5.5, 4, -4, -0.5, 0, inf, nan}, []float32{1.5, 0.5, 0, 0, 1.5, 0, nan, nan}},
		{"x % 0", []float32{1, 0}, []float32{nan, nan}},
		{"x % 1", []float32{2.25, -0.75}, []float32{0.25, 0.25}},
	}
	for _, c := range cases {
		z := evalOne(t, c.src, c.x, nil)
		for i := range z {
			if !same(z[i], c.want[i]) { // bitwise: signed zeros count
				t.Errorf("%s at x=%g: %g, want %g", c.src, c.x[i], z[i], c.want[i])
			}
		}
	}
}

// TestSmallPowersAreProducts checks that x ** k for a small integer
// constant k is float32 products (and a reciprocal), not pow: 3.3**3 as
// products is 35.936996, pow(3.3, 3) rounds to 35.937.
func TestSmallPowersAreProducts(t *testing.T) {
	x := []float32{3.3, 1.7, 2.9, -1.1, 1e-20, 7, nan}
	prods := map[string]func(x float32) float32{
		"x**2":  func(x float32) float32 { return x * x },
		"x**3":  func(x float32) float32 { x2 := x * x; return x2 * x },
		"x**4":  func(x float32) float32 { x2 := x * x; return x2 * x2 },
		"x**5":  func(x float32) float32 { x2 := x * x; x4 := x2 * x2; return x4 * x },
		"x**6":  func(x float32) float32 { x2 := x * x; x3 := x2 * x; return x3 * x3 },
		"x**7":  func(x float32) float32 { x2 := x * x; x3 := x2 * x; x6 := x3 * x3; return x6 * x },
		"x**-3": func(x float32) float32 { x2 := x * x; x3 := x2 * x; return 1 / x3 },
		"x**y":  func(x float32) float32 { x2 := x * x; return x2 * x }, // y = 3 at run time
	}
	y := []float32{3, 3, 3, 3, 3, 3, 3}
	for src, f := range prods {
		z := evalOne(t, src, x, y)
		for i := range z {
			if want := f(x[i]); !same(z[i], want) {
				t.Errorf("%s at x=%g: %g, want the product %g", src, x[i], z[i], want)
			}
		}
	}
	if z := evalOne(t, "x**3", []float32{3.3}, nil); z[0] != 35.936996 || z[0] == float32(math.Pow(float64(float32(3.3)), 3)) {
		t.Errorf("3.3**3 = %v, want the product 35.936996 (pow rounds to 35.937)", z[0])
	}
	if z := evalOne(t, "pow(x, 3)", []float32{3.3}, nil); z[0] != 35.937 {
		t.Errorf("pow(3.3, 3) = %v, want 35.937 (float64 pow rounded once)", z[0])
	}
	// Instructions: x**3 is two multiplications (fused into one loop),
	// x**-2 a multiplication and a reciprocal, x**2.5 and x**9 pow.
	for src, want := range map[string]string{
		"x**3": "mul.VV|mul.XV", "x**-2": "mul.VV recip.V", "x**2.5": "power.VK", "x**9": "power.VK",
		"x**y": "power.VV", "2**x": "power.KV", "x % y": "mod.VV", "x % 3": "mod.VK",
	} {
		p := mustCompile(t, "z = "+src, Env{Tensors: []string{"x", "y", "z"}})
		var keys []string
		for _, in := range p.cpu.code {
			keys = append(keys, in.key)
		}
		if got := strings.Join(keys, " "); got != want {
			t.Errorf("z = %s compiles to %s, want %s", src, got, want)
		}
	}
}

// TestIndexAndCount checks the built-in names i and N on whole and split
// ranges, with a broadcast tensor, and their shadowing by Env names.
func TestIndexAndCount(t *testing.T) {
	const n = 2*blockSize + 7
	p := mustCompile(t, "z = i + 10000*N + g", Env{Tensors: []string{"z", "g"}})
	z, z2 := make([]float32, n), make([]float32, n)
	g := []float32{0.5} // broadcast
	p.Eval([][]float32{z, g}, 0, n, rng.Key{})
	e := p.NewEvaluator()
	for lo := 0; lo < n; lo += 100 {
		e.Eval([][]float32{z2, g}, lo, min(n, lo+100), rng.Key{})
	}
	for i := range z {
		want := float32(i) + 10000*n + 0.5
		if z[i] != want || z2[i] != want {
			t.Fatalf("element %d: %g (split %g), want %g", i, z[i], z2[i], want)
		}
	}
	// A tensor or constant named i or N hides the built-in.
	q := mustCompile(t, "z = i + N", Env{Tensors: []string{"z", "i"}, Consts: map[string]float32{"N": 100}})
	z = make([]float32, 3)
	q.Eval([][]float32{z, {7, 8, 9}}, 0, 3, rng.Key{})
	if z[0] != 107 || z[2] != 109 {
		t.Errorf("shadowed i and N: %v, want [107 108 109]", z)
	}
	// i and N are computed, not folded: (i - i) is 0 for every element.
	r := mustCompile(t, "z = i/N", Env{Tensors: []string{"z"}})
	z = make([]float32, 4)
	r.Eval([][]float32{z}, 0, 4, rng.Key{})
	if z[0] != 0 || z[1] != 0.25 || z[3] != 0.75 {
		t.Errorf("i/N over 4 elements: %v", z)
	}
}

// TestTimeBinding checks the documented way of giving a kernel the time:
// t is a one-element tensor the caller sets before each run (no
// recompilation), dt a constant.
func TestTimeBinding(t *testing.T) {
	env := Env{Tensors: []string{"v", "t"}, Consts: map[string]float32{"dt": 0.1}}
	p := mustCompile(t, "v += dt*sin(2*t)", env)
	tt := []float32{0}
	v := make([]float32, 5)
	var ref [5]float32
	for step := 0; step < 10; step++ {
		tt[0] = float32(step) * 0.1
		p.Eval([][]float32{v, tt}, 0, len(v), rng.Key{})
		for i := range ref {
			ref[i] += float32(0.1) * float32(math.Sin(float64(float32(2)*tt[0])))
		}
	}
	for i := range v {
		if v[i] != ref[i] {
			t.Fatalf("v[%d] = %g, want %g", i, v[i], ref[i])
		}
	}
	if !p.Reads(1) || p.Writes(1) {
		t.Error("t should be a read-only tensor (broadcast)")
	}
}
