package expr

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// randomProgram writes a random program over tensors v, u, w (assignable),
// I (read-only) and constants c1, c2.
func randomProgram(r *rand.Rand) string {
	var temps []string
	var b strings.Builder
	leaf := func() string {
		switch r.IntN(8) {
		case 0:
			return []string{"0", "1", "2.5", "0.1", "-3", "1e-3", "100", "3", "-2"}[r.IntN(9)]
		case 7:
			return []string{"i", "N", "(i + 1) / N"}[r.IntN(3)]
		case 1:
			return []string{"c1", "c2"}[r.IntN(2)]
		case 2:
			if len(temps) > 0 {
				return temps[r.IntN(len(temps))]
			}
		case 3:
			if r.IntN(4) == 0 {
				return []string{"uniform()", "normal()"}[r.IntN(2)]
			}
		}
		return []string{"v", "u", "w", "I"}[r.IntN(4)]
	}
	var expr func(depth int) string
	expr = func(depth int) string {
		if depth <= 0 || r.IntN(4) == 0 {
			return leaf()
		}
		a := func() string { return expr(depth - 1) }
		switch r.IntN(9) {
		case 0:
			return []string{"-", "!"}[r.IntN(2)] + "(" + a() + ")"
		case 1, 2, 3:
			ops := []string{"+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "&&", "||", "+", "*", "-", "%", "**"}
			return "(" + a() + " " + ops[r.IntN(len(ops))] + " " + a() + ")"
		case 4:
			return "(" + a() + " ? " + a() + " : " + a() + ")"
		case 5:
			f := unaryFuncs[r.IntN(len(unaryFuncs))]
			return f + "(" + a() + ")"
		case 8: // a small integer power, expanded into products
			return "(" + a() + ")**" + []string{"0", "1", "2", "3", "-1", "-2", "4", "5", "6", "7", "8", "-8", "(1+2)", "c2"}[r.IntN(14)]
		case 6:
			f := []string{"min", "max", "pow"}[r.IntN(3)]
			return f + "(" + a() + ", " + a() + ")"
		default:
			f := []string{"clip", "where"}[r.IntN(2)]
			return f + "(" + a() + ", " + a() + ", " + a() + ")"
		}
	}
	n := 1 + r.IntN(6)
	for s := 0; s < n; s++ {
		var target, op string
		switch {
		case r.IntN(4) == 0:
			target, op = fmt.Sprintf("t%d", len(temps)), ":="
		case len(temps) > 0 && r.IntN(4) == 0:
			target = temps[r.IntN(len(temps))]
			op = []string{"=", "+=", "-=", "*=", "/="}[r.IntN(5)]
		default:
			target = []string{"v", "u", "w"}[r.IntN(3)]
			op = []string{"=", "+=", "-=", "*=", "/="}[r.IntN(5)]
		}
		fmt.Fprintf(&b, "%s %s %s\n", target, op, expr(1+r.IntN(4)))
		if op == ":=" {
			temps = append(temps, target)
		}
	}
	fmt.Fprintf(&b, "%s = %s\n", []string{"v", "u", "w"}[r.IntN(3)], expr(2))
	return b.String()
}

// unaryFuncs are the functions of one argument.
var unaryFuncs = []string{"exp", "log", "sqrt", "abs", "tanh", "sigmoid", "floor", "heaviside",
	"exprel", "expm1", "log1p", "log10", "sin", "cos", "sign", "ceil", "int"}

var diffEnv = Env{Tensors: []string{"v", "u", "w", "I"}, Consts: map[string]float32{"c1": 0.75, "c2": -2}}

func diffVars(n int, broadcastI bool) [][]float32 {
	vars := make([][]float32, 4)
	for k := range vars {
		vars[k] = make([]float32, n)
		for i := range vars[k] {
			vars[k][i] = float32((i*(k+3))%17)*0.5 - 4
		}
	}
	if broadcastI {
		vars[3] = []float32{1.25}
	}
	return vars
}

// TestRandomProgramsMatchInterpreter compiles random programs and checks
// Eval, on whole and split ranges, bit for bit against the tree
// interpreter; the canonical String compiles to the same results.
func TestRandomProgramsMatchInterpreter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 400; trial++ {
		src := randomProgram(r)
		p, err := Compile(src, diffEnv)
		if err != nil {
			t.Fatalf("random program does not compile: %v\n%s", err, src)
		}
		q := mustCompile(t, p.String(), diffEnv)
		n := []int{1, 7, blockSize + 3}[trial%3]
		bc := trial%2 == 0 && n > 1
		key := rng.Key{Seed: uint64(trial), Counter: uint64(trial) * 1000}
		want, got, split := diffVars(n, bc), diffVars(n, bc), diffVars(n, bc)
		refEval(p, want, 0, n, key)
		p.Eval(got, 0, n, key)
		e := q.NewEvaluator()
		for lo := 0; lo < n; lo += 5 {
			e.Eval(split, lo, min(n, lo+5), key)
		}
		for k := range want {
			for i := range want[k] {
				if !same(got[k][i], want[k][i]) || !same(split[k][i], want[k][i]) {
					t.Fatalf("program:\n%s\ncanonical: %s\ntensor %s element %d: Eval %g, split Eval of String %g, interpreter %g\ngraph:\n%s",
						src, p.String(), diffEnv.Tensors[k], i, got[k][i], split[k][i], want[k][i], p.describe())
				}
			}
		}
	}
}

// fuzzVars are the tensors of FuzzCompile: ordinary values, zeros of both
// signs, infinities, NaN, tiny and huge values, and integers (for %, **
// and int), n elements each.
func fuzzVars(n int) [][]float32 {
	special := []float32{2.5, -0.75, 0, negZero, 1, -1, 3, -7, 1e-8, -1e-30, 1e30, inf, -inf, nan, 100, 0.001, 8, -2, 0.5, 1e-40}
	vars := make([][]float32, 4)
	for k := range vars {
		vars[k] = make([]float32, n)
		for i := range vars[k] {
			vars[k][i] = special[(i*(2*k+3)+k)%len(special)]
		}
	}
	return vars
}

// FuzzCompile checks that Compile never panics; that a program that
// compiles formats, reformats to itself and lowers to GLSL; and that the
// compiled evaluator (and that of the canonical form), over whole and
// split ranges, gives bit for bit the results of the reference interpreter
// refEval, NaN matching NaN.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		izhikevichSrc,
		"v += dt*(I - v); s := v > 1; v = s ? 0 : v",
		"x := uniform(); v = where(x < 0.5, normal(), clip(u, -1, 1))",
		"v = pow(u, 2) + min(I, max(v, 3)) || !w",
		"v = (u ? 1 : 2) ? 3 : 4\nu = -(-u)",
		"v = 1e38*10; u /= 0",
		"v = u +\n I # comment",
		"v = u**3 - u**-2 + u**I - -w**2; w = u % 3 - exprel(u) + sign(I)*int(u) + ceil(w)",
		"v = sin(u)*cos(I) + log10(abs(u) + 1) + log1p(w) + expm1(I) + i/N",
		"k := 2; v = u**(k + 1) + (u % -2.5) ** 0.5 + (-u) ** a",
		"v = exprel(u*1e-6) + 7 % 3 + -7 % 3 + 2**-1**2",
	} {
		f.Add(s)
	}
	env := Env{Tensors: []string{"v", "u", "w", "I"}, Consts: map[string]float32{"dt": 0.5, "a": 0.02}}
	const n = 23
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src, env)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q) returned %T, want *Error", src, err)
			}
			_ = err.Error()
			return
		}
		s := p.String()
		q, err := Compile(s, env)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not compile: %v", s, src, err)
		}
		if q.String() != s {
			t.Fatalf("canonical form is not stable: %q -> %q", s, q.String())
		}
		if _, err := p.GLSL(GLSLOptions{}); err != nil {
			t.Fatalf("GLSL of %q: %v", src, err)
		}
		key := rng.Key{Seed: 1, Counter: 5}
		want, got, split := fuzzVars(n), fuzzVars(n), fuzzVars(n)
		refEval(p, want, 0, n, key)
		p.Eval(got, 0, n, key)
		e := q.NewEvaluator()
		for lo := 0; lo < n; lo += 4 {
			e.Eval(split, lo, min(n, lo+4), key)
		}
		for k := range want {
			for i := range want[k] {
				if !same(got[k][i], want[k][i]) || !same(split[k][i], want[k][i]) {
					in := fuzzVars(n)
					t.Fatalf("program %q\ncanonical: %s\ntensor %s element %d (v=%g u=%g w=%g I=%g): Eval %g, split Eval of String %g, interpreter %g\ngraph:\n%s",
						src, s, env.Tensors[k], i, in[0][i], in[1][i], in[2][i], in[3][i], got[k][i], split[k][i], want[k][i], p.describe())
				}
			}
		}
	})
}
