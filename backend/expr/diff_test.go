package expr

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// refEval is a direct interpreter of the syntax tree, one element at a
// time: the reference for the compiled instructions. vars are read as they
// were before the run (broadcast when of length 1) and written after it.
func refEval(p *Program, vars [][]float32, lo, hi int, key rng.Key) {
	type state struct{ names map[string]float32 }
	out := make([][]float32, len(vars))
	for k := range vars {
		if p.writes[k] {
			out[k] = append([]float32(nil), vars[k]...)
		}
	}
	for i := lo; i < hi; i++ {
		env := map[string]float32{}
		for k, name := range p.tensors {
			if vars[k] == nil {
				continue
			}
			if len(vars[k]) == 1 {
				env[name] = vars[k][0]
			} else {
				env[name] = vars[k][i]
			}
		}
		var eval func(n *node) float32
		eval = func(n *node) float32 {
			switch n.kind {
			case nNum:
				return n.val
			case nIdent:
				if v, ok := env[n.name]; ok {
					return v
				}
				return p.consts[n.name]
			case nUnary:
				if n.op == "-" {
					return apply(opNeg, eval(n.args[0]), 0, 0)
				}
				return apply(opNot, eval(n.args[0]), 0, 0)
			case nBinary:
				return apply(binaryOps[n.op], eval(n.args[0]), eval(n.args[1]), 0)
			case nTernary:
				return apply(opSelect, eval(n.args[0]), eval(n.args[1]), eval(n.args[2]))
			case nCall:
				f := functions[n.name]
				if f.arity == 0 {
					w := rng.Words(rng.Key{Seed: key.Seed, Counter: key.Counter + uint64(n.site)}, uint64(i))
					if f.op == opUniform {
						return rng.Unit(w[0])
					}
					return rng.StdNormal(w)
				}
				var a [3]float32
				for j, arg := range n.args {
					a[j] = eval(arg)
				}
				return apply(f.op, a[0], a[1], a[2])
			}
			panic("bad node")
		}
		for _, s := range p.stmts {
			x := eval(s.rhs)
			if o, ok := compound[s.op]; ok {
				x = apply(o, env[s.name], x, 0)
			}
			env[s.name] = x
		}
		for k, name := range p.tensors {
			if p.writes[k] {
				out[k][i] = env[name]
			}
		}
	}
	for k := range vars {
		if p.writes[k] {
			copy(vars[k], out[k])
		}
	}
}

// randomProgram writes a random program over tensors v, u, w (assignable),
// I (read-only) and constants c1, c2.
func randomProgram(r *rand.Rand) string {
	var temps []string
	var b strings.Builder
	leaf := func() string {
		switch r.IntN(7) {
		case 0:
			return []string{"0", "1", "2.5", "0.1", "-3", "1e-3", "100"}[r.IntN(7)]
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
		switch r.IntN(8) {
		case 0:
			return []string{"-", "!"}[r.IntN(2)] + "(" + a() + ")"
		case 1, 2, 3:
			ops := []string{"+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "&&", "||", "+", "*", "-"}
			return "(" + a() + " " + ops[r.IntN(len(ops))] + " " + a() + ")"
		case 4:
			return "(" + a() + " ? " + a() + " : " + a() + ")"
		case 5:
			f := []string{"exp", "log", "sqrt", "abs", "tanh", "sigmoid", "floor", "heaviside"}[r.IntN(8)]
			return f + "(" + a() + ")"
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

// FuzzCompile checks that Compile never panics, and that a program that
// compiles also formats, reformats to itself, lowers to GLSL and
// evaluates without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		izhikevichSrc,
		"v += dt*(I - v); s := v > 1; v = s ? 0 : v",
		"x := uniform(); v = where(x < 0.5, normal(), clip(u, -1, 1))",
		"v = pow(u, 2) + min(I, max(v, 3)) || !w",
		"v = (u ? 1 : 2) ? 3 : 4\nu = -(-u)",
		"v = 1e38*10; u /= 0",
		"v = u +\n I # comment",
	} {
		f.Add(s)
	}
	env := Env{Tensors: []string{"v", "u", "w", "I"}, Consts: map[string]float32{"dt": 0.5, "a": 0.02}}
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
		vars := diffVars(3, false)
		p.Eval(vars, 0, 3, rng.Key{Seed: 1})
	})
}
