package expr

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// same reports whether a and b are the same float32, NaNs matching NaNs.
func same(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

func TestIzhikevichHandValues(t *testing.T) {
	p := mustCompile(t, izhikevichSrc, izhikevichEnv)
	// v' = v + 0.5*(0.04*v*v + 5*v + 140 - u + I); u' = u + 0.01*(0.2*v' - u)
	v := []float32{-65, -70, 30}
	u := []float32{-13, -14, 2}
	I := []float32{10, 0, 0}
	p.Eval([][]float32{v, u, I}, 0, 3, rng.Key{})
	// -65: 169 - 325 + 140 + 13 + 10 = 7 -> v' = -61.5; u' = -13 + 0.01*(-12.3 + 13) = -12.993
	// -70: 196 - 350 + 140 + 14 = 0 -> rest; u' = -14 + 0.01*(-14 + 14) = -14
	// 30:  36 + 150 + 140 - 2 = 324 -> v' = 192; u' = 2 + 0.01*(38.4 - 2) = 2.364
	want := [][]float64{{-61.5, -70, 192}, {-12.993, -14, 2.364}}
	for i := range v {
		if math.Abs(float64(v[i])-want[0][i]) > 1e-5 || math.Abs(float64(u[i])-want[1][i]) > 1e-5 {
			t.Errorf("neuron %d: v %g u %g, want %g %g", i, v[i], u[i], want[0][i], want[1][i])
		}
	}
}

func TestIzhikevichAgainstReferences(t *testing.T) {
	const n = 3000 // several blocks and a partial one
	p := mustCompile(t, izhikevichSrc, izhikevichEnv)
	v, u, I := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range v {
		v[i] = -80 + float32(i%113)*0.9
		u[i] = -16 + float32(i%17)*0.5
		I[i] = float32(i%13) - 3
	}
	v0, u0 := append([]float32(nil), v...), append([]float32(nil), u...)
	v32, u32 := append([]float32(nil), v...), append([]float32(nil), u...)
	p.Eval([][]float32{v, u, I}, 0, n, rng.Key{})
	izhikevichLoop(v32, u32, I)
	for i := range v {
		// float64 reference
		vv, uu, ii := float64(v0[i]), float64(u0[i]), float64(I[i])
		v64 := vv + 0.5*(0.04*vv*vv+5*vv+140-uu+ii)
		u64 := uu + 0.5*0.02*(0.2*v64-uu)
		if math.Abs(float64(v[i])-v64) > 1e-4*math.Max(1, math.Abs(v64)) || math.Abs(float64(u[i])-u64) > 1e-5*math.Max(1, math.Abs(u64)) {
			t.Fatalf("neuron %d: v %g u %g, float64 reference %g %g", i, v[i], u[i], v64, u64)
		}
		// the float32 hand loop rounds the same operations in the same order
		if v[i] != v32[i] || u[i] != u32[i] {
			t.Fatalf("neuron %d: v %g u %g, hand-written float32 loop %g %g", i, v[i], u[i], v32[i], u32[i])
		}
	}
}

func TestLIF(t *testing.T) {
	env := Env{
		Tensors: []string{"v", "I", "spike"},
		Consts:  map[string]float32{"dt": 0.5, "tau": 10, "vrest": -65, "vth": -50, "vreset": -70, "R": 2},
	}
	p := mustCompile(t, `
		v += dt/tau*(vrest - v + R*I)  # leaky integration
		spike = v > vth
		v = spike ? vreset : v`, env)
	v := []float32{-60, -50.5, -50.1, -65, -40}
	I := []float32{10, 10, 15, 0, -5}
	spike := make([]float32, len(v))
	v0 := append([]float32(nil), v...)
	p.Eval([][]float32{v, I, spike}, 0, len(v), rng.Key{})
	for i := range v {
		ref := float64(v0[i]) + 0.05*(-65-float64(v0[i])+2*float64(I[i]))
		wantSpike, wantV := 0.0, ref
		if ref > -50 {
			wantSpike, wantV = 1, -70
		}
		if float64(spike[i]) != wantSpike || math.Abs(float64(v[i])-wantV) > 1e-5 {
			t.Errorf("neuron %d (v %g, I %g): v %g spike %g, want %g %g", i, v0[i], I[i], v[i], spike[i], wantV, wantSpike)
		}
	}
	// by hand: -60 + 0.05*(-65+60+20) = -59.25; -50.5 + 0.05*(5.5+20-20) ... spot-check two
	if v[0] != -59.25 || spike[2] != 1 || v[2] != -70 {
		t.Errorf("v[0] = %g (want -59.25), spike[2] = %g v[2] = %g (want 1, -70)", v[0], spike[2], v[2])
	}
}

var nan = float32(math.NaN())
var inf = float32(math.Inf(1))
var negZero = float32(math.Copysign(0, -1))

// TestConditionals checks comparisons, logic, conditionals and clamps
// against hand-computed values on x and y.
func TestConditionals(t *testing.T) {
	env := Env{Tensors: []string{"x", "y", "z"}, Consts: map[string]float32{"one": 1}}
	x := []float32{-2, 0, 3, 1, nan, 1, -0.5}
	y := []float32{1, 0, 3, 2, 1, nan, 0}
	cases := []struct {
		src  string
		want []float32
	}{
		{"z = x > 0 ? 2*x : -x", []float32{2, negZero, 6, 2, nan, 2, 0.5}},
		{"z = where(x >= one, x, 0)", []float32{0, 0, 3, 1, 0, 1, 0}},
		{"z = x < y", []float32{1, 0, 0, 1, 0, 0, 1}},
		{"z = x <= y", []float32{1, 1, 1, 1, 0, 0, 1}},
		{"z = x > y", []float32{0, 0, 0, 0, 0, 0, 0}},
		{"z = x >= y", []float32{0, 1, 1, 0, 0, 0, 0}},
		{"z = x == y", []float32{0, 1, 1, 0, 0, 0, 0}},
		{"z = x != y", []float32{1, 0, 0, 1, 1, 1, 1}},
		{"z = x < 1", []float32{1, 1, 0, 0, 0, 0, 1}},
		{"z = 1 < x", []float32{0, 0, 1, 0, 0, 0, 0}},
		{"z = 1 >= x", []float32{1, 1, 0, 1, 0, 1, 1}},
		{"z = x && y", []float32{1, 0, 1, 1, 1, 1, 0}},
		{"z = x || y", []float32{1, 0, 1, 1, 1, 1, 1}},
		{"z = x && 1", []float32{1, 0, 1, 1, 1, 1, 1}},
		{"z = x && 0", []float32{0, 0, 0, 0, 0, 0, 0}},
		{"z = 0 || x", []float32{1, 0, 1, 1, 1, 1, 1}},
		{"z = !x", []float32{0, 1, 0, 0, 0, 0, 0}},
		{"z = !!y", []float32{1, 0, 1, 1, 1, 1, 0}},
		{"z = x ? y : 7", []float32{1, 7, 3, 2, 1, nan, 0}},
		{"z = heaviside(x)", []float32{0, 0, 1, 1, 0, 1, 0}},
		{"z = min(x, y)", []float32{-2, 0, 3, 1, nan, 1, -0.5}},
		{"z = max(x, y)", []float32{1, 0, 3, 2, nan, 1, 0}},
		{"z = min(x, 0.5)", []float32{-2, 0, 0.5, 0.5, nan, 0.5, -0.5}},
		{"z = clip(x, -1, 1)", []float32{-1, 0, 1, 1, nan, 1, -0.5}},
		{"z = clip(x, y, 2)", []float32{1, 0, 2, 2, nan, 1, 0}},
		{"z = abs(x) + floor(x)", []float32{0, 0, 6, 2, nan, 2, -0.5}},
		{"z = (x > 0) * 10 + (y > 0)", []float32{1, 0, 11, 11, 1, 10, 0}},
		{"z = x ? 1 : 0", []float32{1, 0, 1, 1, 1, 1, 1}},
		{"z = x ? 0 : 1", []float32{0, 1, 0, 0, 0, 0, 0}},
		{"z = x < y ? 1 : 0", []float32{1, 0, 0, 1, 0, 0, 1}},
		{"z = x ? 1 : -0", []float32{1, negZero, 1, 1, 1, 1, 1}},
	}
	for _, c := range cases {
		p := mustCompile(t, c.src, env)
		z := make([]float32, len(x))
		p.Eval([][]float32{x, y, z}, 0, len(x), rng.Key{})
		for i := range z {
			if !same(z[i], c.want[i]) {
				t.Errorf("%s: x=%g y=%g: z = %g, want %g", c.src, x[i], y[i], z[i], c.want[i])
			}
		}
	}
}

// TestOpsMatchScalar checks each instruction loop, in every operand form,
// against the scalar definition apply, bit for bit.
func TestOpsMatchScalar(t *testing.T) {
	env := Env{Tensors: []string{"x", "y", "w", "z"}, Consts: map[string]float32{"k": 1.5, "m": -0.75}}
	x := []float32{-2, -0.5, 0, 0.25, 1, 3, 100, -100, nan, inf, -inf, 2, -3, 1e-30, 88, negZero}
	y := []float32{3, -0.5, 0, 4, -1, 0.5, 2, -2, 1, 2, -3, nan, 0.5, 1e30, 2, 0}
	w := []float32{1, 2, -1, 0.5, 0, 1, -5, 5, 1, 0, 1, 2, nan, 0, 3, -1}
	unary := map[string]op{"-": opNeg, "!": opNot, "abs": opAbs, "exp": opExp, "log": opLog, "sqrt": opSqrt,
		"tanh": opTanh, "sigmoid": opSigmoid, "floor": opFloor, "heaviside": opHeaviside,
		"exprel": opExprel, "expm1": opExpm1, "log1p": opLog1p, "log10": opLog10, "sin": opSin, "cos": opCos,
		"sign": opSign, "ceil": opCeil, "int": opTrunc}
	binary := map[string]op{"+": opAdd, "-": opSub, "*": opMul, "/": opDiv, "<": opLt, "<=": opLe, ">": opGt,
		">=": opGe, "==": opEq, "!=": opNe, "&&": opAnd, "||": opOr, "min": opMin, "max": opMax, "pow": opPow,
		"%": opMod, "**": opPower}
	type form struct {
		src string
		ref func(i int) float32
	}
	var forms []form
	for name, o := range unary {
		o := o
		src := name + "(x)"
		if name == "-" || name == "!" {
			src = name + "x"
		}
		forms = append(forms, form{src, func(i int) float32 { return apply(o, x[i], 0, 0) }})
	}
	for name, o := range binary {
		o := o
		call := func(a, b string) string {
			if functions[name].arity == 2 {
				return name + "(" + a + ", " + b + ")"
			}
			return a + " " + name + " " + b
		}
		forms = append(forms,
			form{call("x", "y"), func(i int) float32 { return apply(o, x[i], y[i], 0) }},
			form{call("x", "k"), func(i int) float32 { return apply(o, x[i], 1.5, 0) }},
			form{call("m", "y"), func(i int) float32 { return apply(o, -0.75, y[i], 0) }},
			form{call("x", "x"), func(i int) float32 { return apply(o, x[i], x[i], 0) }},
		)
	}
	forms = append(forms,
		form{"clip(x, y, w)", func(i int) float32 { return apply(opClip, x[i], y[i], w[i]) }},
		form{"clip(x, m, k)", func(i int) float32 { return apply(opClip, x[i], -0.75, 1.5) }},
		form{"clip(x, y, k)", func(i int) float32 { return apply(opClip, x[i], y[i], 1.5) }},
		form{"w ? x : y", func(i int) float32 { return apply(opSelect, w[i], x[i], y[i]) }},
		form{"w ? k : y", func(i int) float32 { return apply(opSelect, w[i], 1.5, y[i]) }},
		form{"w ? x : m", func(i int) float32 { return apply(opSelect, w[i], x[i], -0.75) }},
	)
	for _, f := range forms {
		p := mustCompile(t, "z = "+f.src, env)
		z := make([]float32, len(x))
		p.Eval([][]float32{x, y, w, z}, 0, len(x), rng.Key{})
		for i := range z {
			if want := f.ref(i); !same(z[i], want) {
				t.Errorf("z = %s at x=%g y=%g w=%g: got %g, want %g", f.src, x[i], y[i], w[i], z[i], want)
			}
		}
	}
}

// TestScalarDefinitions checks the scalar semantics against float64 math.
func TestScalarDefinitions(t *testing.T) {
	cases := []struct {
		o       op
		a, b, c float32
		want    float64
	}{
		{opExp, 1, 0, 0, math.E},
		{opExp, -100, 0, 0, math.Exp(-100)},
		{opLog, 10, 0, 0, math.Ln10},
		{opSqrt, 2, 0, 0, math.Sqrt2},
		{opTanh, 0.5, 0, 0, math.Tanh(0.5)},
		{opTanh, 50, 0, 0, 1},
		{opSigmoid, 0, 0, 0, 0.5},
		{opSigmoid, 2, 0, 0, 1 / (1 + math.Exp(-2))},
		{opSigmoid, -200, 0, 0, 0},
		{opFloor, -1.5, 0, 0, -2},
		{opPow, 2, 10, 0, 1024},
		{opPow, -2, 3, 0, -8},
		{opPow, 2, 0.5, 0, math.Sqrt2},
		{opAbs, -3, 0, 0, 3},
		{opHeaviside, 0, 0, 0, 0},
		{opHeaviside, 1e-30, 0, 0, 1},
		{opClip, 5, -1, 1, 1},
		{opMin, 2, -3, 0, -3},
		{opMax, 2, -3, 0, 2},
		{opDiv, 1, 3, 0, float64(float32(1.0 / 3))},
	}
	for _, c := range cases {
		if got := apply(c.o, c.a, c.b, c.c); got != float32(c.want) {
			t.Errorf("op %d (%g, %g, %g) = %g, want %g", c.o, c.a, c.b, c.c, got, float32(c.want))
		}
	}
	if got := apply(opPow, -2, 0.5, 0); got == got {
		t.Errorf("pow(-2, 0.5) = %g, want NaN", got)
	}
	if got := apply(opAbs, float32(math.Copysign(0, -1)), 0, 0); math.Signbit(float64(got)) {
		t.Error("abs(-0) keeps the sign")
	}
}

// TestConstantFolding checks that folded constants equal the values the
// instructions compute at run time.
func TestConstantFolding(t *testing.T) {
	env := Env{Tensors: []string{"x", "z"}, Consts: map[string]float32{"c": 0.3}}
	for _, f := range []string{"exp(%s)", "log(%s)", "sqrt(%s)", "tanh(%s)", "sigmoid(%s)", "pow(%s, 2.5)", "1/%s", "%s*%s*0.1 - 7", "floor(%s*10)", "-%s", "%s > 0.2 ? 1 : 2",
		"exprel(%s)", "expm1(%s)", "log1p(%s)", "log10(%s)", "sin(%s)", "cos(%s)", "sign(%s)", "ceil(%s)", "int(%s)",
		"%s ** 3", "%s ** -2", "%s ** 2.5", "2 ** %s", "%s % 0.07", "-1 % %s", "%s ** 0"} {
		folded := mustCompile(t, "z = "+strings.ReplaceAll(f, "%s", "c"), env)
		live := mustCompile(t, "z = "+strings.ReplaceAll(f, "%s", "x"), env)
		if n := len(folded.cpu.code); n != 1 || folded.cpu.code[0].op != opConst {
			t.Errorf("%s with a constant compiles to %d instructions, want one fill", f, n)
		}
		z1, z2 := []float32{0}, []float32{0}
		folded.Eval([][]float32{nil, z1}, 0, 1, rng.Key{})
		live.Eval([][]float32{{0.3}, z2}, 0, 1, rng.Key{})
		if !same(z1[0], z2[0]) {
			t.Errorf("%s: folded %g, computed %g", f, z1[0], z2[0])
		}
	}
}

// TestInstructionSelection checks the instructions of the Izhikevich
// update: dt*a folds, and single-use add, sub and mul pair into fused
// loops, so thirteen operations take seven passes over a block.
func TestInstructionSelection(t *testing.T) {
	p := mustCompile(t, izhikevichSrc, izhikevichEnv)
	var keys []string
	for _, in := range p.cpu.code {
		keys = append(keys, fmt.Sprintf("%s k=%g k2=%g", in.key, in.k, in.k2))
	}
	want := []string{
		"mul.VK|mul.XV k=0.04 k2=0", // 0.04*v*v
		"mul.VK|add.XV k=5 k2=0",    // + 5*v
		"add.VK|sub.XV k=140 k2=0",  // + 140 - u
		"add.VV|mul.XK k=0 k2=0.5",  // (... + I)*dt
		"add.VV k=0 k2=0",           // v + ..., into v
		"mul.VK|sub.XV k=0.2 k2=0",  // b*v - u
		"mul.VK|add.XV k=0.01 k2=0", // u + dt*a*(...), into u
	}
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Errorf("Izhikevich instructions:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	if c := p.cpu.code; c[4].dst != 0 || c[6].dst != 1 {
		t.Errorf("the final values are not computed into v and u directly: dst %d and %d", c[4].dst, c[6].dst)
	}
}

// TestFusedLoops checks every fused pair against the scalar definition.
func TestFusedLoops(t *testing.T) {
	env := Env{Tensors: []string{"x", "y", "w", "z"}}
	x := []float32{-2, 0.5, 3, 1e20, -7, nan, 1.25}
	y := []float32{3, -0.5, 0.1, -1e20, 7, 1, 1e-3}
	w := []float32{1, 2, -3, 5, inf, 0.5, 1e7}
	sym := map[string]string{"add": "+", "sub": "-", "mul": "*"}
	seen := map[string]bool{}
	for _, o1 := range []string{"add", "sub", "mul"} {
		for _, f1 := range []string{"VV", "VK", "KV"} {
			var inner string
			switch f1 {
			case "VV":
				inner = "x " + sym[o1] + " y"
			case "VK":
				inner = "x " + sym[o1] + " 1.5"
			case "KV":
				inner = "1.5 " + sym[o1] + " x"
			}
			for _, o2 := range []string{"add", "sub", "mul"} {
				for _, f2 := range []string{"XV", "XK", "VX", "KX"} {
					var src string
					switch f2 {
					case "XV":
						src = "(" + inner + ") " + sym[o2] + " w"
					case "XK":
						src = "(" + inner + ") " + sym[o2] + " -0.25"
					case "VX":
						src = "w " + sym[o2] + " (" + inner + ")"
					case "KX":
						src = "-0.25 " + sym[o2] + " (" + inner + ")"
					}
					p := mustCompile(t, "z = "+src, env)
					if len(p.cpu.code) != 1 || p.cpu.code[0].fn == nil {
						t.Errorf("z = %s compiles to %d instructions, want one fused loop", src, len(p.cpu.code))
						continue
					}
					seen[p.cpu.code[0].key] = true
					z := make([]float32, len(x))
					want := make([]float32, len(x))
					q := mustCompile(t, "z = "+src, env)
					refEval(q, [][]float32{x, y, w, want}, 0, len(x), rng.Key{})
					p.Eval([][]float32{x, y, w, z}, 0, len(x), rng.Key{})
					for i := range z {
						if !same(z[i], want[i]) {
							t.Errorf("z = %s (%s) at x=%g y=%g w=%g: %g, want %g", src, p.cpu.code[0].key, x[i], y[i], w[i], z[i], want[i])
						}
					}
				}
			}
		}
	}
	for key := range loops {
		if strings.Contains(key, "|") && !seen[key] {
			t.Errorf("fused loop %s is not exercised", key)
		}
	}
}

func TestBroadcast(t *testing.T) {
	env := Env{Tensors: []string{"v", "I", "g"}, Consts: map[string]float32{"dt": 0.25}}
	p := mustCompile(t, "v += dt*(g*I - v)", env)
	const n = 1000
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	g := make([]float32, n)
	for i := range g {
		g[i] = float32(i%3) * 0.5
	}
	p.Eval([][]float32{v, {8}, g}, 0, n, rng.Key{})
	for i := range v {
		want := float32(i) + 0.25*(g[i]*8-float32(i))
		if v[i] != want {
			t.Fatalf("v[%d] = %g, want %g", i, v[i], want)
		}
	}
	// both operands broadcast; assigning to a full tensor of one element
	one := []float32{2}
	p.Eval([][]float32{one, {8}, {0.5}}, 0, 1, rng.Key{})
	if one[0] != 2+0.25*(4-2) {
		t.Errorf("one-element run: v = %g, want 2.5", one[0])
	}
	mustPanic(t, "assigns it", func() { p.Eval([][]float32{{1}, {8}, g}, 0, n, rng.Key{}) })
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic, want one containing %q", want)
			return
		}
		if s := fmt.Sprint(r); !strings.Contains(s, want) {
			t.Errorf("panic %q, want one containing %q", s, want)
		}
	}()
	f()
}

func TestEvalPanics(t *testing.T) {
	p := mustCompile(t, "v += I", Env{Tensors: []string{"v", "I", "unused"}})
	v, I := make([]float32, 10), make([]float32, 10)
	mustPanic(t, "got 2 tensors, the program has 3", func() { p.Eval([][]float32{v, I}, 0, 10, rng.Key{}) })
	mustPanic(t, "invalid element range [5, 4)", func() { p.Eval([][]float32{v, I, nil}, 5, 4, rng.Key{}) })
	mustPanic(t, "invalid element range [-1, 4)", func() { p.Eval([][]float32{v, I, nil}, -1, 4, rng.Key{}) })
	mustPanic(t, `tensor "I" has 5 elements, range [0, 10) needs 10`, func() { p.Eval([][]float32{v, I[:5], nil}, 0, 10, rng.Key{}) })
	p.Eval([][]float32{v, I, nil}, 3, 3, rng.Key{}) // empty range, unused nil tensor: no panic
}

// TestRandomMatchesRNG checks every random site against package rng bit
// for bit, with element indices from lo and a counter that wraps.
func TestRandomMatchesRNG(t *testing.T) {
	env := Env{Tensors: []string{"a", "b", "c", "d"}}
	p := mustCompile(t, "a = uniform(); b = normal(); x := uniform(); c = x*2 - 1; d = normal()", env)
	if p.NumRandom() != 4 {
		t.Fatalf("NumRandom = %d, want 4", p.NumRandom())
	}
	for _, key := range []rng.Key{{Seed: 1, Counter: 0}, {Seed: 0xdeadbeef12345678, Counter: 1<<64 - 2}} {
		const lo, hi = 700, 2100
		vars := [][]float32{make([]float32, hi), make([]float32, hi), make([]float32, hi), make([]float32, hi)}
		p.Eval(vars, lo, hi, key)
		for i := 0; i < hi; i++ {
			at := func(site uint64) [4]uint32 {
				return rng.Words(rng.Key{Seed: key.Seed, Counter: key.Counter + site}, uint64(i))
			}
			want := []float32{rng.Unit(at(0)[0]), rng.StdNormal(at(1)), rng.Unit(at(2)[0])*2 - 1, rng.StdNormal(at(3))}
			if i < lo {
				want = []float32{0, 0, 0, 0}
			}
			for k := range want {
				if vars[k][i] != want[k] {
					t.Fatalf("key %+v: tensor %d element %d = %g, want %g", key, k, i, vars[k][i], want[k])
				}
			}
		}
	}
	// uniform() and normal() are rng's U[0, 1) and N(0, 1) of the first
	// words of element i's own block
	q := mustCompile(t, "a = uniform(); b = normal()", env)
	const n = 100000
	a, b := make([]float32, n), make([]float32, n)
	q.Eval([][]float32{a, b, nil, nil}, 0, n, rng.Key{Seed: 9, Counter: 4})
	var sum, sum2 float64
	for i := range a {
		if want := rng.Unit(rng.Words(rng.Key{Seed: 9, Counter: 4}, uint64(i))[0]); a[i] != want {
			t.Fatalf("uniform()[%d] = %g, rng.Unit(w[0]) = %g", i, a[i], want)
		}
		if want := rng.StdNormal(rng.Words(rng.Key{Seed: 9, Counter: 5}, uint64(i))); b[i] != want {
			t.Fatalf("normal()[%d] = %g, rng.StdNormal(w) = %g", i, b[i], want)
		}
		sum += float64(b[i])
		sum2 += float64(b[i]) * float64(b[i])
	}
	// mean and sd of 1e5 normal samples: standard errors 0.003 and 0.002
	if mean, sd := sum/n, math.Sqrt(sum2/n-sum*sum/n/n); math.Abs(mean) > 0.015 || math.Abs(sd-1) > 0.01 {
		t.Errorf("normal(): mean %g sd %g, want 0 and 1", mean, sd)
	}
}

// TestStoresAndAliasing checks programs whose final values are other
// tensors' old values, constants, or values that later statements read.
func TestStoresAndAliasing(t *testing.T) {
	env := Env{Tensors: []string{"v", "u", "w"}}
	v0, u0, w0 := []float32{1, 2, 3}, []float32{10, 20, 30}, []float32{100, 200, 300}
	cases := []struct {
		src     string
		v, u, w []float32
	}{
		{"t := v; v = u; u = t", []float32{10, 20, 30}, []float32{1, 2, 3}, w0},
		{"t := v; v = u; u = w; w = t", u0, w0, v0},
		{"u = v; v = 2*v", []float32{2, 4, 6}, v0, w0},
		{"v = 2*v; u = v", []float32{2, 4, 6}, []float32{2, 4, 6}, w0},
		{"v = 0; u = v + u", []float32{0, 0, 0}, u0, w0},
		{"v = u; u = 7", u0, []float32{7, 7, 7}, w0},
		{"v = v", v0, u0, w0},
		{"x := v + u; v = x; u = x; w = x", []float32{11, 22, 33}, []float32{11, 22, 33}, []float32{11, 22, 33}},
		{"v += u; u -= v; w *= v - u", []float32{11, 22, 33}, []float32{-1, -2, -3}, []float32{1200, 4800, 10800}},
		{"v /= 2; v /= 2; u = v", []float32{0.25, 0.5, 0.75}, []float32{0.25, 0.5, 0.75}, w0},
		{"w = v*u; v = w + 1; u = v*v", []float32{11, 41, 91}, []float32{121, 1681, 8281}, []float32{10, 40, 90}},
	}
	for _, c := range cases {
		p := mustCompile(t, c.src, env)
		v, u, w := append([]float32(nil), v0...), append([]float32(nil), u0...), append([]float32(nil), w0...)
		p.Eval([][]float32{v, u, w}, 0, 3, rng.Key{})
		for i := range v {
			if v[i] != c.v[i] || u[i] != c.u[i] || w[i] != c.w[i] {
				t.Errorf("%s: got v %v u %v w %v, want %v %v %v", c.src, v, u, w, c.v, c.u, c.w)
				break
			}
		}
	}
}

// TestRangesAndBlocks checks that elements outside [lo, hi) stay untouched
// and that any split of a range gives the same result.
func TestRangesAndBlocks(t *testing.T) {
	env := Env{Tensors: []string{"v", "u"}, Consts: map[string]float32{"s": 0.1}}
	p := mustCompile(t, "v = v*s + uniform(); u = u - normal()*s*v", env)
	for _, n := range []int{1, 2, blockSize - 1, blockSize, blockSize + 1, 3*blockSize + 17} {
		mk := func() [][]float32 {
			v, u := make([]float32, n), make([]float32, n)
			for i := range v {
				v[i], u[i] = float32(i), float32(-i)
			}
			return [][]float32{v, u}
		}
		whole, split, part := mk(), mk(), mk()
		key := rng.Key{Seed: 3, Counter: 11}
		p.Eval(whole, 0, n, key)
		e1, e2 := p.NewEvaluator(), p.NewEvaluator()
		for lo := 0; lo < n; lo += 37 {
			e := e1
			if lo%2 == 1 {
				e = e2
			}
			e.Eval(split, lo, min(lo+37, n), key)
		}
		lo, hi := n/3, n-n/4
		p.Eval(part, lo, hi, key)
		for i := 0; i < n; i++ {
			for k := range whole {
				if whole[k][i] != split[k][i] {
					t.Fatalf("n %d: tensor %d element %d: whole %g, split %g", n, k, i, whole[k][i], split[k][i])
				}
				want := whole[k][i]
				if i < lo || i >= hi {
					want = mk()[k][i]
				}
				if part[k][i] != want {
					t.Fatalf("n %d: tensor %d element %d after Eval on [%d, %d): %g, want %g", n, k, i, lo, hi, part[k][i], want)
				}
			}
		}
	}
}

func TestEvalAllocatesNothing(t *testing.T) {
	env := Env{Tensors: []string{"v", "u", "I", "s"}, Consts: map[string]float32{"dt": 0.5}}
	p := mustCompile(t, "v += dt*(0.04*v*v + 5*v + 140 - u + I + normal()); s = v > 30 && uniform() < 0.5; v = s ? -65 : v; u = clip(u + s*8, -20, 20)", env)
	const n = 5000
	vars := [][]float32{make([]float32, n), make([]float32, n), {3}, make([]float32, n)}
	e := p.NewEvaluator()
	key := rng.Key{Seed: 1}
	allocs := testing.AllocsPerRun(20, func() {
		e.Eval(vars, 0, n, key)
		key.Counter += uint64(p.NumRandom())
	})
	if allocs != 0 {
		t.Errorf("Evaluator.Eval allocates %g times per call, want 0", allocs)
	}
	p.Eval(vars, 0, n, key) // creates the Program's evaluator
	if allocs := testing.AllocsPerRun(20, func() { p.Eval(vars, 0, n, key) }); allocs != 0 {
		t.Errorf("Program.Eval allocates %g times per call, want 0", allocs)
	}
}

// TestSelectOfZeroOne checks that c ? 1 : 0 compiles to the truth value of
// c, and to nothing at all when c is already 0 or 1 (a comparison), so
// that a spike count costs no select pass; c ? 1 : -0 keeps its select
// (-0 is another result).
func TestSelectOfZeroOne(t *testing.T) {
	env := Env{Tensors: []string{"x", "y", "z"}}
	for _, c := range []struct {
		src     string
		selects int
		instrs  int
	}{
		{"z += x > y ? 1 : 0", 0, 2},
		{"z = x ? 1 : 0", 0, 1},
		{"z = x ? 1 : -0", 1, 1},
	} {
		p := mustCompile(t, c.src, env)
		sel := 0
		for _, in := range p.cpu.code {
			if strings.Contains(in.key, "select") {
				sel++
			}
		}
		if sel != c.selects || len(p.cpu.code) != c.instrs {
			keys := []string{}
			for _, in := range p.cpu.code {
				keys = append(keys, in.key)
			}
			t.Errorf("%s: %d instructions %v with %d selects, want %d with %d", c.src, len(p.cpu.code), keys, sel, c.instrs, c.selects)
		}
	}
}
