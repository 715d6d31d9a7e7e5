package expr

import (
	"math"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// refEval is the reference for the compiled evaluator: a tree-walking
// interpreter of the program's syntax, one element and one operation at a
// time. It is written from the language's definition (doc.go), not from
// the scalar functions of ops.go: every operation is computed in float64
// from its float32 operands and rounded to float32 (for + - * / and sqrt
// this is float32 arithmetic itself, since float64 holds twice float32's
// precision and more); x ** k for an integer |k| <= 8 is the documented
// products, x % y the documented x - floor(x/y)*y. It folds nothing and
// rewrites nothing, so it checks the compiler's folding, common
// subexpressions, instruction selection, fusion, slot allocation and
// block loops.
//
// vars are read as they were before the run (broadcast when of length 1)
// and written after it. i is the element index and N the length of the
// longest tensor.
func refEval(p *Program, vars [][]float32, lo, hi int, key rng.Key) {
	out := make([][]float32, len(vars))
	count := 0
	for k := range vars {
		count = max(count, len(vars[k]))
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
		r := &refInterp{p: p, env: env, i: i, count: count, key: key}
		for _, s := range p.stmts {
			x := r.eval(s.rhs)
			switch s.op {
			case "+=":
				x = r32(float64(env[s.name]) + float64(x))
			case "-=":
				x = r32(float64(env[s.name]) - float64(x))
			case "*=":
				x = r32(float64(env[s.name]) * float64(x))
			case "/=":
				x = r32(float64(env[s.name]) / float64(x))
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

type refInterp struct {
	p        *Program
	env      map[string]float32 // tensors and temporaries
	i, count int
	key      rng.Key
}

// r32 rounds a float64 result to float32.
func r32(x float64) float32 { return float32(x) }

func truth(x float32) bool { return x != 0 } // NaN is true

func one(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

func (r *refInterp) eval(n *node) float32 {
	switch n.kind {
	case nNum:
		return n.val
	case nIdent:
		if v, ok := r.env[n.name]; ok {
			return v
		}
		if v, ok := r.p.consts[n.name]; ok {
			return v
		}
		switch n.name {
		case "i":
			return float32(r.i)
		case "N":
			return float32(r.count)
		}
		panic("refEval: unbound name " + n.name)
	case nUnary:
		x := r.eval(n.args[0])
		if n.op == "-" {
			return -x
		}
		return one(x == 0)
	case nTernary:
		c, a, b := r.eval(n.args[0]), r.eval(n.args[1]), r.eval(n.args[2])
		if truth(c) {
			return a
		}
		return b
	case nBinary:
		a, b := r.eval(n.args[0]), r.eval(n.args[1])
		x, y := float64(a), float64(b)
		switch n.op {
		case "+":
			return r32(x + y)
		case "-":
			return r32(x - y)
		case "*":
			return r32(x * y)
		case "/":
			return r32(x / y)
		case "%":
			q := r32(x / y)
			f := r32(math.Floor(float64(q)))
			m := r32(float64(f) * y)
			return r32(x - float64(m))
		case "**":
			return refPower(a, b)
		case "<":
			return one(a < b)
		case "<=":
			return one(a <= b)
		case ">":
			return one(a > b)
		case ">=":
			return one(a >= b)
		case "==":
			return one(a == b)
		case "!=":
			return one(a != b)
		case "&&":
			return one(truth(a) && truth(b))
		case "||":
			return one(truth(a) || truth(b))
		}
	case nCall:
		if len(n.args) == 0 {
			w := rng.Words(rng.Key{Seed: r.key.Seed, Counter: r.key.Counter + uint64(n.site)}, uint64(r.i))
			if n.name == "uniform" {
				return rng.Unit(w[0])
			}
			return rng.StdNormal(w)
		}
		var a [3]float32
		var x [3]float64
		for j, arg := range n.args {
			a[j] = r.eval(arg)
			x[j] = float64(a[j])
		}
		switch n.name {
		case "exp":
			return r32(math.Exp(x[0]))
		case "log":
			return r32(math.Log(x[0]))
		case "sqrt":
			return r32(math.Sqrt(x[0]))
		case "abs":
			return r32(math.Abs(x[0]))
		case "tanh":
			return r32(math.Tanh(x[0]))
		case "sigmoid":
			return r32(1 / (1 + math.Exp(-x[0])))
		case "floor":
			return r32(math.Floor(x[0]))
		case "ceil":
			return r32(math.Ceil(x[0]))
		case "int":
			return r32(math.Trunc(x[0]))
		case "sign":
			switch {
			case a[0] > 0:
				return 1
			case a[0] < 0:
				return -1
			}
			return 0
		case "heaviside":
			return one(a[0] > 0)
		case "exprel":
			switch {
			case x[0] == 0:
				return 1
			case math.IsInf(x[0], 1):
				return a[0]
			}
			return r32(math.Expm1(x[0]) / x[0])
		case "expm1":
			return r32(math.Expm1(x[0]))
		case "log1p":
			return r32(math.Log1p(x[0]))
		case "log10":
			return r32(math.Log10(x[0]))
		case "sin":
			return r32(math.Sin(x[0]))
		case "cos":
			return r32(math.Cos(x[0]))
		case "min":
			return refMin(a[0], a[1])
		case "max":
			return refMax(a[0], a[1])
		case "pow":
			return r32(math.Pow(x[0], x[1]))
		case "clip":
			return refMin(refMax(a[0], a[1]), a[2])
		case "where":
			if truth(a[0]) {
				return a[1]
			}
			return a[2]
		}
	}
	panic("refEval: cannot interpret " + n.name + n.op)
}

// refMin and refMax are GLSL's min and max: b < a ? b : a, a < b ? b : a.
func refMin(a, b float32) float32 {
	if b < a {
		return b
	}
	return a
}

func refMax(a, b float32) float32 {
	if a < b {
		return b
	}
	return a
}

// refPower is x ** y as the language defines it: for an integer y with
// |y| <= 8, x2 = x*x, x3 = x2*x, x4 = x2*x2, x5 = x4*x, x6 = x3*x3,
// x7 = x6*x, x8 = x4*x4 (each rounded to float32), and 1/x**|y| for y < 0;
// for other y, pow(x, y) in float64 rounded once.
func refPower(x, y float32) float32 {
	ay := math.Abs(float64(y))
	if float64(y) != math.Trunc(float64(y)) || ay > 8 {
		return r32(math.Pow(float64(x), float64(y)))
	}
	x2 := x * x
	x3 := x2 * x
	x4 := x2 * x2
	x6 := x3 * x3
	p := [9]float32{1, x, x2, x3, x4, x4 * x, x6, x6 * x, x4 * x4}[int(ay)]
	if y < 0 {
		return 1 / p
	}
	return p
}
