package expr

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"
)

// Env names the variables a program may use.
type Env struct {
	// Tensors are the tensor variables, bound by position when the program
	// runs: argument k is Tensors[k]. A program may leave some unused.
	Tensors []string
	// Consts are named constants, baked into the program as literals.
	Consts map[string]float32
	// Scalars are read-only numbers given with each run (backend
	// Kernel.Run's scalars, by position), so that a value that changes
	// from run to run does not need a recompiled program or a tensor
	// written from the host. At most MaxScalars.
	Scalars []string
	// Double computes exp, log, sqrt, tanh, sigmoid and division in double
	// precision in GLSL too, rounded once to float32, as the CPU computes
	// them: slower on GPUs with little double throughput, but equal to the
	// CPU within one ulp where the driver's float32 built-ins are not.
	Double bool
}

// MaxScalars bounds Env.Scalars.
const MaxScalars = 4

// Program is a compiled update program. It is immutable after Compile,
// except that Program.Eval keeps a lazily created Evaluator.
type Program struct {
	src     string
	stmts   []stmt
	tensors []string // the tensors, then the scalars (inputs nt and up)
	nt      int
	double  bool // Env.Double
	consts  map[string]float32
	writes  []bool
	reads   []bool
	nrand   int

	vals []value // the data-flow graph, in topological (creation) order
	outs []int32 // outs[k]: the final value of tensor k, or -1 if unassigned

	cpu  cpuCode
	eval *Evaluator // for Program.Eval
}

// value is a node of the data-flow graph.
type value struct {
	op   op
	args [3]int32
	k    float32 // opConst
	idx  int     // opInput: tensor; opUniform, opNormal: site
	live bool
	uses int // number of live users, counting each operand and each output
}

// Tensors returns the names of the tensor variables, in argument order.
func (p *Program) Tensors() []string { return append([]string(nil), p.tensors[:p.nt]...) }

// Scalars returns the names of the scalars, in argument order.
func (p *Program) Scalars() []string { return append([]string(nil), p.tensors[p.nt:]...) }

// NumScalars is len(Scalars()), without allocating.
func (p *Program) NumScalars() int { return len(p.tensors) - p.nt }

// Positional reports whether the result depends on where an element is:
// the program reads i or N, or draws random numbers. A program that is
// not positional may run over a tensor in separate pieces.
func (p *Program) Positional() bool {
	if p.nrand > 0 {
		return true
	}
	for _, v := range p.vals {
		if v.live && (v.op == opIndex || v.op == opCount) {
			return true
		}
	}
	return false
}

// Cost estimates the CPU work per element, for deciding how to split a
// run over threads, in units of one vector block-loop instruction (an
// AVX2 loop such as add or select: about 0.1 ns per element on a 2020s
// core). A portable Go loop counts 5, a transcendental function (exp,
// log, pow, tanh, sigmoid, exprel, expm1, log1p, log10, sin, cos and **
// with a variable exponent) 25 and a random draw (Philox) 60.
func (p *Program) Cost() int {
	fast := fastLoops()
	c := 0
	for i := range p.cpu.code {
		in := &p.cpu.code[i]
		switch {
		case in.fn == nil && (in.op == opUniform || in.op == opNormal):
			c += 60
		case in.fn == nil || fast[in.key] != nil:
			c++
		case transcendental(in.key):
			c += 25
		default:
			c += 5
		}
	}
	return c
}

// transcendental reports whether a loop key names a transcendental
// function (alone or fused).
func transcendental(key string) bool {
	for _, f := range []string{"exp.", "log.", "pow.", "tanh.", "sigmoid.", "exprel.", "expm1.", "log1p.", "log10.", "sin.", "cos.", "power."} {
		if strings.HasPrefix(key, f) {
			return true
		}
	}
	return false
}

// NumTensors is len(Tensors()), without allocating.
func (p *Program) NumTensors() int { return p.nt }

// Writes reports whether the program assigns tensor k. A tensor that is
// assigned must have the full length when the program runs; only
// read-only tensors may be broadcast from one element.
func (p *Program) Writes(k int) bool { return p.writes[k] }

// Reads reports whether the result depends on the value tensor k had
// before the run.
func (p *Program) Reads(k int) bool { return p.reads[k] }

// NumRandom returns the number of random call sites (uniform() and
// normal()) in the source. Site i, counted in source order, draws with
// counter key.Counter+i, so a caller that advances key.Counter per run
// should advance it by at least NumRandom.
func (p *Program) NumRandom() int { return p.nrand }

// String returns the canonical form of the program: statements separated
// by "; ", constants by name, and only the parentheses that precedence
// needs. Compiling it with the same Env gives the same program.
func (p *Program) String() string { return format(p.stmts) }

// Compile parses src and resolves its names in env. The error, if any, is
// an *Error that points at the offending place.
func Compile(src string, env Env) (*Program, error) {
	if err := checkEnv(env); err != nil {
		return nil, err
	}
	stmts, nrand, err := parse(src)
	if err != nil {
		return nil, err
	}
	inputs := append(append([]string(nil), env.Tensors...), env.Scalars...)
	p := &Program{
		src:     src,
		stmts:   stmts,
		tensors: inputs,
		nt:      len(env.Tensors),
		double:  env.Double,
		consts:  maps.Clone(env.Consts),
		writes:  make([]bool, len(inputs)),
		reads:   make([]bool, len(inputs)),
		nrand:   nrand,
	}
	b := &builder{
		src:     src,
		env:     env,
		nt:      len(env.Tensors),
		tensors: map[string]int{},
		temps:   map[string]int32{},
		cse:     map[valKey]int32{},
		inputs:  make([]int32, len(inputs)),
		cur:     make([]int32, len(inputs)),
	}
	for k, name := range inputs {
		b.tensors[name] = k
		b.inputs[k] = -1
		b.cur[k] = -1
	}
	for _, s := range stmts {
		if err := b.stmt(s, p.writes); err != nil {
			return nil, err
		}
	}
	written := false
	p.outs = make([]int32, len(inputs))
	for k := range p.outs {
		p.outs[k] = -1
		if p.writes[k] {
			p.outs[k] = b.cur[k]
			written = true
		}
	}
	if !written {
		s := stmts[0]
		return nil, errorf(src, s.line, s.col, "the program assigns no tensor, so it computes nothing (temporaries declared with := exist only while an element is computed)")
	}
	p.vals = b.vals
	p.markLive()
	for k, in := range b.inputs {
		p.reads[k] = in >= 0 && p.vals[in].live
	}
	p.cpu = p.lowerCPU()
	return p, nil
}

func checkEnv(env Env) error {
	seen := map[string]bool{}
	kind := map[string]string{}
	for _, name := range env.Tensors {
		kind[name] = "tensor"
	}
	for _, name := range env.Scalars {
		kind[name] = "scalar"
	}
	for k, name := range env.Tensors {
		if !validName(name) {
			return &Error{Msg: fmt.Sprintf("Env.Tensors[%d] = %q is not a valid name (letters, digits and '_', not starting with a digit)", k, name)}
		}
		if seen[name] {
			return &Error{Msg: fmt.Sprintf("Env.Tensors[%d]: tensor %q is listed twice", k, name)}
		}
		seen[name] = true
	}
	if len(env.Scalars) > MaxScalars {
		return &Error{Msg: fmt.Sprintf("Env.Scalars has %d names, at most %d are allowed; bind the others as one-element tensors", len(env.Scalars), MaxScalars)}
	}
	for k, name := range env.Scalars {
		if !validName(name) {
			return &Error{Msg: fmt.Sprintf("Env.Scalars[%d] = %q is not a valid name (letters, digits and '_', not starting with a digit)", k, name)}
		}
		if seen[name] {
			return &Error{Msg: fmt.Sprintf("Env.Scalars[%d]: %q is listed twice (as a tensor or a scalar); give each input its own name", k, name)}
		}
		seen[name] = true
	}
	names := make([]string, 0, len(env.Consts))
	for name := range env.Consts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !validName(name) {
			return &Error{Msg: fmt.Sprintf("Env.Consts: %q is not a valid name (letters, digits and '_', not starting with a digit)", name)}
		}
		if seen[name] {
			return &Error{Msg: fmt.Sprintf("Env: %q is both a %s and a constant; give them different names", name, kind[name])}
		}
	}
	return nil
}

type valKey struct {
	op      op
	a, b, c int32
	kbits   uint32
	idx     int
}

type builder struct {
	src     string
	env     Env
	nt      int            // inputs below nt are tensors, the others scalars
	tensors map[string]int // tensors and scalars by name
	temps   map[string]int32
	vals    []value
	cse     map[valKey]int32
	inputs  []int32 // the opInput value of each tensor, or -1
	cur     []int32 // the current value of each tensor, or -1 for its input
}

// add appends v to the graph, folding constants and reusing an identical
// value (the graph is pure: every op is a function of its operands, and
// random values are functions of their site).
func (b *builder) add(v value) int32 {
	n := v.op.arity()
	if n > 0 {
		allConst := true
		for i := 0; i < n; i++ {
			if b.vals[v.args[i]].op != opConst {
				allConst = false
			}
		}
		if allConst {
			var x [3]float32
			for i := 0; i < n; i++ {
				x[i] = b.vals[v.args[i]].k
			}
			return b.constant(apply(v.op, x[0], x[1], x[2]))
		}
		if v.op == opSelect && b.vals[v.args[0]].op == opConst {
			if b.vals[v.args[0]].k != 0 {
				return v.args[1]
			}
			return v.args[2]
		}
		// c ? 1 : 0 is the truth value of c, c ? 0 : 1 its negation,
		// exactly (a spike count's "count += fired ? 1 : 0" then costs no
		// select).
		if v.op == opSelect {
			x, y := b.vals[v.args[1]], b.vals[v.args[2]]
			one, zero := math.Float32bits(1), uint32(0) // +0 only: -0 is another result
			if x.op == opConst && y.op == opConst {
				switch kx, ky := math.Float32bits(x.k), math.Float32bits(y.k); {
				case kx == one && ky == zero:
					return b.add(value{op: opTruth, args: [3]int32{v.args[0]}})
				case kx == zero && ky == one:
					return b.add(value{op: opNot, args: [3]int32{v.args[0]}})
				}
			}
		}
		// The truth value of a 0-or-1 value is the value itself.
		if v.op == opTruth && b.vals[v.args[0]].op.zeroOne() {
			return v.args[0]
		}
		// x && k and x || k with a constant k reduce exactly to a
		// constant or to the truth value of x.
		if v.op == opAnd || v.op == opOr {
			x, k := v.args[0], v.args[1]
			if b.vals[x].op == opConst {
				x, k = k, x
			}
			if b.vals[k].op == opConst {
				truthy := b.vals[k].k != 0
				switch {
				case v.op == opAnd && !truthy:
					return b.constant(0)
				case v.op == opOr && truthy:
					return b.constant(1)
				}
				return b.add(value{op: opTruth, args: [3]int32{x}})
			}
		}
	}
	for i := n; i < 3; i++ {
		v.args[i] = -1
	}
	key := valKey{op: v.op, a: v.args[0], b: v.args[1], c: v.args[2], kbits: math.Float32bits(v.k), idx: v.idx}
	if id, ok := b.cse[key]; ok {
		return id
	}
	id := int32(len(b.vals))
	b.vals = append(b.vals, v)
	b.cse[key] = id
	return id
}

func (b *builder) constant(k float32) int32 { return b.add(value{op: opConst, k: k}) }

// tensor returns the current value of tensor k.
func (b *builder) tensor(k int) int32 {
	if b.cur[k] >= 0 {
		return b.cur[k]
	}
	if b.inputs[k] < 0 {
		b.inputs[k] = b.add(value{op: opInput, idx: k})
	}
	return b.inputs[k]
}

var compound = map[string]op{"+=": opAdd, "-=": opSub, "*=": opMul, "/=": opDiv}

func (b *builder) stmt(s stmt, writes []bool) error {
	rhs, err := b.expr(s.rhs)
	if err != nil {
		return err
	}
	if _, ok := b.env.Consts[s.name]; ok {
		return errorf(b.src, s.line, s.col, "cannot assign to constant '%s': constants are baked into the program; make it a tensor to change it", s.name)
	}
	if k, ok := b.tensors[s.name]; ok && k >= b.nt {
		return errorf(b.src, s.line, s.col, "cannot assign to scalar '%s': scalars are given with each run and only read; make it a tensor to assign it", s.name)
	}
	if k, ok := b.tensors[s.name]; ok {
		if s.op == ":=" {
			return errorf(b.src, s.line, s.col, "cannot declare '%s' with ':=': it is a tensor; assign it with '=' or '+='", s.name)
		}
		if o, ok := compound[s.op]; ok {
			rhs = b.add(value{op: o, args: [3]int32{b.tensor(k), rhs}})
		}
		b.cur[k] = rhs
		writes[k] = true
		return nil
	}
	if old, ok := b.temps[s.name]; ok {
		if s.op == ":=" {
			return errorf(b.src, s.line, s.col, "'%s' is already declared; assign it with '=' instead of ':='", s.name)
		}
		if o, ok := compound[s.op]; ok {
			rhs = b.add(value{op: o, args: [3]int32{old, rhs}})
		}
		b.temps[s.name] = rhs
		return nil
	}
	if _, ok := builtins[s.name]; ok {
		return errorf(b.src, s.line, s.col, "cannot assign to '%s': it is %s, which the kernel provides; choose another name", s.name, builtinDesc[s.name])
	}
	if s.op != ":=" {
		return errorf(b.src, s.line, s.col, "cannot assign to undeclared name '%s'%s: declare a temporary with '%s := ...' or add it to Env.Tensors", s.name, suggest(s.name, b.names()), s.name)
	}
	if _, ok := functions[s.name]; ok {
		return errorf(b.src, s.line, s.col, "cannot declare '%s': it is the name of a function", s.name)
	}
	b.temps[s.name] = rhs
	return nil
}

// builtins are the names the kernel provides for each element, unless the
// Env binds them itself.
var builtins = map[string]op{"i": opIndex, "N": opCount}

var builtinDesc = map[string]string{"i": "the element index", "N": "the number of elements"}

// clockNames explain how to bind the simulation clock, which a kernel
// does not know.
var clockNames = map[string]string{
	"t":  "the time is not built in; bind t as a tensor of one element (Env.Tensors) that the caller sets to iteration*dt before each run",
	"dt": "the time step is not built in; bind dt as a constant (Env.Consts) or as a tensor of one element",
}

// power returns x ** y. An integer constant exponent |k| <= 8 becomes the
// products of ipow (and a reciprocal for k < 0), so that it is exact
// float32 multiplication on every backend; other exponents are opPower,
// which computes the same products when y is a small integer at run time.
func (b *builder) power(x, y int32) int32 {
	if v := b.vals[y]; v.op == opConst && smallInt(v.k) {
		k := int(fabs(v.k))
		r := b.powInt(x, k)
		if v.k < 0 {
			r = b.add(value{op: opRecip, args: [3]int32{r}})
		}
		return r
	}
	return b.add(value{op: opPower, args: [3]int32{x, y}})
}

// powInt is x**k for 0 <= k <= 8, multiplied as ipow does.
func (b *builder) powInt(x int32, k int) int32 {
	switch k {
	case 0:
		return b.constant(1)
	case 1:
		return x
	}
	h := b.powInt(x, k/2)
	r := b.add(value{op: opMul, args: [3]int32{h, h}})
	if k&1 == 1 {
		r = b.add(value{op: opMul, args: [3]int32{r, x}})
	}
	return r
}

// names lists the names visible at this point, for suggestions.
func (b *builder) names() []string {
	names := []string{"i", "N"}
	names = append(names, b.env.Tensors...)
	names = append(names, b.env.Scalars...)
	for n := range b.env.Consts {
		names = append(names, n)
	}
	for n := range b.temps {
		names = append(names, n)
	}
	return names
}

func (b *builder) expr(n *node) (int32, error) {
	switch n.kind {
	case nNum:
		return b.constant(n.val), nil
	case nIdent:
		if id, ok := b.temps[n.name]; ok {
			return id, nil
		}
		if k, ok := b.tensors[n.name]; ok {
			return b.tensor(k), nil
		}
		if c, ok := b.env.Consts[n.name]; ok {
			return b.constant(c), nil
		}
		if o, ok := builtins[n.name]; ok {
			return b.add(value{op: o}), nil
		}
		if hint, ok := clockNames[n.name]; ok {
			return 0, errorf(b.src, n.line, n.col, "unknown identifier '%s': %s", n.name, hint)
		}
		if f, ok := functions[n.name]; ok {
			return 0, errorf(b.src, n.line, n.col, "'%s' is a function; call it as %s(%s)", n.name, n.name, f.args)
		}
		return 0, errorf(b.src, n.line, n.col, "unknown identifier '%s'%s", n.name, suggest(n.name, b.names()))
	case nUnary:
		x, err := b.expr(n.args[0])
		if err != nil {
			return 0, err
		}
		o := opNeg
		if n.op == "!" {
			o = opNot
		}
		return b.add(value{op: o, args: [3]int32{x}}), nil
	case nBinary:
		x, err := b.expr(n.args[0])
		if err != nil {
			return 0, err
		}
		y, err := b.expr(n.args[1])
		if err != nil {
			return 0, err
		}
		if n.op == "**" {
			return b.power(x, y), nil
		}
		return b.add(value{op: binaryOps[n.op], args: [3]int32{x, y}}), nil
	case nTernary:
		var a [3]int32
		for i := range a {
			x, err := b.expr(n.args[i])
			if err != nil {
				return 0, err
			}
			a[i] = x
		}
		return b.add(value{op: opSelect, args: a}), nil
	case nCall:
		f, ok := functions[n.name]
		if !ok {
			msg := fmt.Sprintf("unknown function '%s'%s", n.name, suggest(n.name, functionNames()))
			if _, isVar := b.tensors[n.name]; isVar {
				msg += "; '" + n.name + "' is a tensor, not a function (missing '*'?)"
			} else if _, isConst := b.env.Consts[n.name]; isConst {
				msg += "; '" + n.name + "' is a constant, not a function (missing '*'?)"
			}
			return 0, errorf(b.src, n.line, n.col, "%s", msg)
		}
		if len(n.args) != f.arity {
			s := "s"
			if f.arity == 1 {
				s = ""
			}
			return 0, errorf(b.src, n.line, n.col, "%s takes %d argument%s (%s), got %d", n.name, f.arity, s, f.args, len(n.args))
		}
		if f.arity == 0 {
			return b.add(value{op: f.op, idx: n.site}), nil
		}
		var a [3]int32
		for i, arg := range n.args {
			x, err := b.expr(arg)
			if err != nil {
				return 0, err
			}
			a[i] = x
		}
		return b.add(value{op: f.op, args: a}), nil
	}
	panic("expr: unknown node kind")
}

// markLive marks the values that reach an output and counts their uses.
func (p *Program) markLive() {
	var mark func(id int32)
	mark = func(id int32) {
		v := &p.vals[id]
		v.uses++
		if v.live {
			return
		}
		v.live = true
		for i := 0; i < v.op.arity(); i++ {
			mark(v.args[i])
		}
	}
	for _, id := range p.outs {
		if id >= 0 {
			mark(id)
		}
	}
}
