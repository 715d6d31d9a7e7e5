package equations

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// quantity is a constant with a dimension, its value in SI units.
type quantity struct {
	dim Dim
	si  float64
}

// model is checked equations, ready for code generation.
type model struct {
	eqs    []Eq
	by     map[string]*Eq
	consts map[string]quantity
	subs   []*Eq // subexpressions in an order that defines each before use
	diffs  []*Eq
	dt     float64 // seconds
	noise  bool    // xi appears
}

// functions and their argument counts; every argument and result is
// dimensionless unless dimFuncs says otherwise.
var functions = map[string]int{
	"exp": 1, "log": 1, "log10": 1, "log1p": 1, "expm1": 1, "exprel": 1, "sin": 1, "cos": 1, "tanh": 1, "sigmoid": 1,
	"sqrt": 1, "abs": 1, "sign": 1, "floor": 1, "ceil": 1, "int": 1, "heaviside": 1,
	"min": 2, "max": 2, "clip": 3, "where": 3,
}

// keepDim are the functions whose result has their (first) argument's
// dimension.
var keepDim = map[string]bool{"abs": true, "floor": true, "ceil": true, "int": true, "min": true, "max": true, "clip": true}

func (m *model) errAt(n *node, format string, a ...any) error {
	src := ""
	if e := m.lineOf(n.line); e != nil {
		src = e.src
	}
	return &Error{Line: n.line, Col: n.pos + 1, Src: src, Msg: fmt.Sprintf(format, a...)}
}

func (m *model) lineOf(line int) *Eq {
	for i := range m.eqs {
		if m.eqs[i].Line == line {
			return &m.eqs[i]
		}
	}
	return nil
}

// newModel checks eqs: every name known, dimensions consistent, no cycle
// among subexpressions.
func newModel(eqs []Eq, consts map[string]quantity, dt float64) (*model, error) {
	m := &model{eqs: eqs, by: map[string]*Eq{}, consts: consts, dt: dt}
	for i := range m.eqs {
		e := &m.eqs[i]
		if reserved[e.Name] {
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("%s is a reserved name (t, dt, i, N, xi, lastspike, not_refractory); rename the variable", e.Name)}
		}
		if _, ok := consts[e.Name]; ok {
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("%s is both an equation and a constant of the namespace; keep one", e.Name)}
		}
		m.by[e.Name] = e
		if e.Kind == Differential {
			m.diffs = append(m.diffs, e)
		}
	}
	// Subexpressions in dependency order; a cycle is an error.
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(e *Eq, from *node) error
	visit = func(e *Eq, from *node) error {
		switch state[e.Name] {
		case 1:
			return m.errAt(from, "the subexpressions %s depend on each other in a cycle; define one of them without the other", e.Name)
		case 2:
			return nil
		}
		state[e.Name] = 1
		var err error
		walkNames(e.expr, func(n *node) {
			if err != nil {
				return
			}
			if d := m.by[n.name]; d != nil && d.Kind == Subexpression {
				err = visit(d, n)
			}
		})
		if err != nil {
			return err
		}
		state[e.Name] = 2
		m.subs = append(m.subs, e)
		return nil
	}
	for i := range m.eqs {
		if e := &m.eqs[i]; e.Kind == Subexpression {
			if err := visit(e, e.expr); err != nil {
				return nil, err
			}
		}
	}
	// Dimensions.
	for i := range m.eqs {
		e := &m.eqs[i]
		if e.expr == nil {
			continue
		}
		d, err := m.dim(e.expr)
		if err != nil {
			return nil, err
		}
		want := e.unit.dim
		what := "the unit " + e.Unit
		if e.Kind == Differential {
			want = want.div(dSecond)
			what = fmt.Sprintf("%s/second, the unit of d%s/dt", e.Unit, e.Name)
		}
		if d != want {
			return nil, m.errAt(e.expr, "the right-hand side has dimension %s, %s is %s", d, what, want)
		}
	}
	return m, nil
}

var reserved = map[string]bool{"t": true, "dt": true, "i": true, "N": true, "xi": true, "lastspike": true, "not_refractory": true}

func walkNames(n *node, f func(*node)) {
	if n == nil {
		return
	}
	if n.op == "name" {
		f(n)
	}
	for _, a := range n.args {
		walkNames(a, f)
	}
}

// dim infers the dimension of n, checking every operation.
func (m *model) dim(n *node) (Dim, error) {
	switch n.op {
	case "num":
		return Dimensionless, nil
	case "name":
		if e := m.by[n.name]; e != nil {
			return e.unit.dim, nil
		}
		if q, ok := m.consts[n.name]; ok {
			return q.dim, nil
		}
		switch n.name {
		case "t", "dt", "lastspike":
			return dSecond, nil
		case "i", "N", "not_refractory", "pi":
			return Dimensionless, nil
		case "xi":
			m.noise = true
			d, _ := dSecond.pow(-1).sqrt()
			return d, nil
		}
		if u, ok := lookupUnit(n.name); ok {
			return u.dim, nil
		}
		return Dim{}, m.errAt(n, "unknown name %q: declare it (%s : unit) or give it in the namespace%s", n.name, n.name, m.suggest(n.name))
	case "neg":
		return m.dim(n.args[0])
	case "not":
		if _, err := m.dim(n.args[0]); err != nil {
			return Dim{}, err
		}
		return Dimensionless, nil
	case "call":
		return m.dimCall(n)
	}
	a, err := m.dim(n.args[0])
	if err != nil {
		return a, err
	}
	b, err := m.dim(n.args[1])
	if err != nil {
		return b, err
	}
	switch n.op {
	case "+", "-", "<", "<=", ">", ">=", "==", "!=", "%":
		if a != b {
			return Dim{}, m.errAt(n, "%q on quantities of different dimensions: %s (%s) and %s (%s)", n.op, n.args[0], a, n.args[1], b)
		}
		if n.op == "+" || n.op == "-" || n.op == "%" {
			return a, nil
		}
		return Dimensionless, nil
	case "and", "or":
		return Dimensionless, nil
	case "*":
		return a.mul(b), nil
	case "/":
		return a.div(b), nil
	case "**":
		if b != Dimensionless {
			return Dim{}, m.errAt(n, "the exponent %s has dimension %s; an exponent must be dimensionless", n.args[1], b)
		}
		if a == Dimensionless {
			return a, nil
		}
		if k, ok := intConst(n.args[1]); ok {
			return a.pow(k), nil
		}
		if x := n.args[1]; x.op == "num" && x.num == 0.5 {
			if d, ok := a.sqrt(); ok {
				return d, nil
			}
		}
		return Dim{}, m.errAt(n, "%s has dimension %s: raise it only to a whole number (or 0.5)", n.args[0], a)
	}
	return Dim{}, m.errAt(n, "unknown operator %q", n.op)
}

func (m *model) dimCall(n *node) (Dim, error) {
	want, ok := functions[n.name]
	if !ok {
		names := make([]string, 0, len(functions))
		for k := range functions {
			names = append(names, k)
		}
		sort.Strings(names)
		return Dim{}, m.errAt(n, "unknown function %s; the functions are %s", n.name, strings.Join(names, ", "))
	}
	if len(n.args) != want {
		return Dim{}, m.errAt(n, "%s takes %d argument(s), not %d", n.name, want, len(n.args))
	}
	ds := make([]Dim, len(n.args))
	for k, a := range n.args {
		d, err := m.dim(a)
		if err != nil {
			return d, err
		}
		ds[k] = d
	}
	switch {
	case n.name == "sqrt":
		d, ok := ds[0].sqrt()
		if !ok {
			return Dim{}, m.errAt(n, "sqrt of %s, a dimension with an odd power", ds[0])
		}
		return d, nil
	case n.name == "where":
		if ds[1] != ds[2] {
			return Dim{}, m.errAt(n, "where's two values differ in dimension: %s and %s", ds[1], ds[2])
		}
		return ds[1], nil
	case keepDim[n.name]:
		for k := 1; k < len(ds); k++ {
			if ds[k] != ds[0] {
				return Dim{}, m.errAt(n.args[k], "%s's arguments differ in dimension: %s and %s", n.name, ds[0], ds[k])
			}
		}
		return ds[0], nil
	case n.name == "sign":
		return Dimensionless, nil
	}
	for k, d := range ds {
		if d != Dimensionless {
			return Dim{}, m.errAt(n.args[k], "%s of %s, which has dimension %s: its argument must be dimensionless (divide by a unit, e.g. v/mV)", n.name, n.args[k], d)
		}
	}
	return Dimensionless, nil
}

// suggest names a known name close to s.
func (m *model) suggest(s string) string {
	best, bd := "", 3
	for name := range m.by {
		if d := editDistance(s, name); d < bd {
			best, bd = name, d
		}
	}
	for name := range m.consts {
		if d := editDistance(s, name); d < bd {
			best, bd = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	d := make([]int, len(b)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(b); j++ {
			cur := d[j]
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[j] = min(d[j]+1, d[j-1]+1, prev+c)
			prev = cur
		}
	}
	return d[len(b)]
}

// ---- code generation ----

// lit writes a float64 as a kernel literal.
func lit(x float64) string {
	s := strconv.FormatFloat(float32Round(x), 'g', 9, 64)
	if x < 0 {
		return "(" + s + ")"
	}
	return s
}

func float32Round(x float64) float64 { return float64(float32(x)) }

// gen writes n as kernel source in SI units; env maps names of the
// equations to the kernel names holding their SI values.
func (m *model) gen(n *node, env map[string]string) string {
	if v, ok := m.fold(n, env); ok { // constants in float64, rounded once
		return lit(v)
	}
	switch n.op {
	case "num":
		return lit(n.num)
	case "name":
		if s, ok := env[n.name]; ok {
			return s
		}
		if q, ok := m.consts[n.name]; ok {
			return lit(q.si)
		}
		switch n.name {
		case "dt":
			return lit(m.dt)
		case "xi":
			return "(normal()*" + lit(1/math.Sqrt(m.dt)) + ")"
		}
		if u, ok := lookupUnit(n.name); ok {
			return lit(u.scale)
		}
		return n.name
	case "neg":
		return "(-" + m.gen(n.args[0], env) + ")"
	case "not":
		return "(!" + m.gen(n.args[0], env) + ")"
	case "call":
		var a []string
		for _, x := range n.args {
			a = append(a, m.gen(x, env))
		}
		return n.name + "(" + strings.Join(a, ", ") + ")"
	case "**":
		base := m.gen(n.args[0], env)
		if k, ok := intConst(n.args[1]); ok && abs(k) <= 8 {
			if k == 0 {
				return "1"
			}
			p := strings.Repeat(base+"*", abs(k))
			p = "(" + p[:len(p)-1] + ")"
			if k < 0 {
				return "(1/" + p + ")"
			}
			return p
		}
		return "pow(" + base + ", " + m.gen(n.args[1], env) + ")"
	case "and":
		return "(" + m.gen(n.args[0], env) + " && " + m.gen(n.args[1], env) + ")"
	case "or":
		return "(" + m.gen(n.args[0], env) + " || " + m.gen(n.args[1], env) + ")"
	case "%":
		a, b := m.gen(n.args[0], env), m.gen(n.args[1], env)
		return "(" + a + " - floor(" + a + "/" + b + ")*" + b + ")"
	}
	return "(" + m.gen(n.args[0], env) + " " + n.op + " " + m.gen(n.args[1], env) + ")"
}

// fold computes n in float64 when it holds only numbers, units, constants
// and dt.
func (m *model) fold(n *node, env map[string]string) (float64, bool) {
	switch n.op {
	case "num":
		return n.num, true
	case "name":
		if _, ok := env[n.name]; ok || m.by[n.name] != nil {
			return 0, false
		}
		if q, ok := m.consts[n.name]; ok {
			return q.si, true
		}
		if n.name == "dt" {
			return m.dt, true
		}
		if n.name == "pi" {
			return math.Pi, true
		}
		if reserved[n.name] {
			return 0, false
		}
		u, ok := lookupUnit(n.name)
		return u.scale, ok
	case "neg":
		v, ok := m.fold(n.args[0], env)
		return -v, ok
	case "call":
		if len(n.args) != 1 {
			return 0, false
		}
		v, ok := m.fold(n.args[0], env)
		if !ok {
			return 0, false
		}
		f := map[string]func(float64) float64{"exp": math.Exp, "log": math.Log, "sqrt": math.Sqrt, "abs": math.Abs, "log10": math.Log10, "sin": math.Sin, "cos": math.Cos, "tanh": math.Tanh}[n.name]
		if f == nil {
			return 0, false
		}
		return f(v), true
	case "+", "-", "*", "/", "**":
		a, ok1 := m.fold(n.args[0], env)
		b, ok2 := m.fold(n.args[1], env)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch n.op {
		case "+":
			return a + b, true
		case "-":
			return a - b, true
		case "*":
			return a * b, true
		case "/":
			return a / b, true
		}
		return math.Pow(a, b), true
	}
	return 0, false
}

// genScaled writes k*n, folding k into a constant divisor or factor of n.
func (m *model) genScaled(n *node, k float64, env map[string]string) string {
	switch n.op {
	case "/":
		if c, ok := m.fold(n.args[1], env); ok && c != 0 {
			return "(" + m.gen(n.args[0], env) + ")*" + lit(k/c)
		}
	case "*":
		if c, ok := m.fold(n.args[1], env); ok {
			return "(" + m.gen(n.args[0], env) + ")*" + lit(k*c)
		}
		if c, ok := m.fold(n.args[0], env); ok {
			return "(" + m.gen(n.args[1], env) + ")*" + lit(k*c)
		}
	}
	return lit(k) + "*" + m.gen(n, env)
}

// subst replaces the subexpressions in n by their definitions.
func (m *model) subst(n *node) *node {
	if n == nil {
		return nil
	}
	if n.op == "name" {
		if e := m.by[n.name]; e != nil && e.Kind == Subexpression {
			return m.subst(e.expr)
		}
		return n
	}
	c := *n
	c.args = make([]*node, len(n.args))
	for k, a := range n.args {
		c.args[k] = m.subst(a)
	}
	return &c
}

func has(n *node, x string) bool {
	found := false
	walkNames(n, func(k *node) { found = found || k.name == x })
	return found
}

var zero = &node{op: "num"}

// linear splits f into a*x + b with a and b free of x; ok is false with
// the reason when f is not linear in x.
func linear(f *node, x string) (a, b *node, why string) {
	if !has(f, x) {
		return zero, f, ""
	}
	mk := func(op string, p, q *node) *node { return &node{op: op, args: []*node{p, q}, pos: f.pos, line: f.line} }
	switch f.op {
	case "name":
		return &node{op: "num", num: 1}, zero, ""
	case "neg":
		a, b, why := linear(f.args[0], x)
		if why != "" {
			return nil, nil, why
		}
		return &node{op: "neg", args: []*node{a}}, &node{op: "neg", args: []*node{b}}, ""
	case "+", "-":
		a1, b1, why := linear(f.args[0], x)
		if why != "" {
			return nil, nil, why
		}
		a2, b2, why := linear(f.args[1], x)
		if why != "" {
			return nil, nil, why
		}
		return mk(f.op, a1, a2), mk(f.op, b1, b2), ""
	case "*":
		p, q := f.args[0], f.args[1]
		if has(p, x) && has(q, x) {
			return nil, nil, fmt.Sprintf("%s multiplies %s by itself", f, x)
		}
		if has(q, x) {
			p, q = q, p
		}
		a, b, why := linear(p, x)
		if why != "" {
			return nil, nil, why
		}
		return mk("*", a, q), mk("*", b, q), ""
	case "/":
		if has(f.args[1], x) {
			return nil, nil, fmt.Sprintf("%s divides by an expression of %s", f, x)
		}
		a, b, why := linear(f.args[0], x)
		if why != "" {
			return nil, nil, why
		}
		return mk("/", a, f.args[1]), mk("/", b, f.args[1]), ""
	}
	return nil, nil, fmt.Sprintf("%s is not linear in %s", f, x)
}
