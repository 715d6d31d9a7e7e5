package initexpr

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// maxDepth bounds the nesting of parentheses so that no input can exhaust
// the stack.
const maxDepth = 10000

// param is a parameter of a function: its canonical name and other names
// accepted as keywords.
type param struct {
	name    string
	aliases []string
}

// function is a name that may start an initialisation string.
type function struct {
	name     string  // canonical name
	params   []param // positional parameters, in order
	defaults []float32
	// required: the parameters have no defaults and must all be given.
	// Without it a call gives either all parameters or none.
	required bool
	noArgs   string // when non-empty, the message for any positional argument
	build    func(v []float32) rng.Dist
	check    func(v []float32) (arg int, msg string) // arg < 0: valid
}

func (f *function) paramIndex(kw string) int {
	for i, p := range f.params {
		if kw == p.name {
			return i
		}
		for _, a := range p.aliases {
			if kw == a {
				return i
			}
		}
	}
	return -1
}

// signature returns "uniform(lo, hi)".
func (f *function) signature() string {
	names := make([]string, len(f.params))
	for i, p := range f.params {
		names[i] = p.name
	}
	return f.name + "(" + strings.Join(names, ", ") + ")"
}

func constant(v float32) func([]float32) rng.Dist {
	return func([]float32) rng.Dist { return rng.ConstDist(v) }
}

func nonNegative(fn, what string, i int) func(v []float32) (int, string) {
	return func(v []float32) (int, string) {
		if v[i] < 0 {
			return i, fmt.Sprintf("%s: %s %g is negative; it must be >= 0", fn, what, v[i])
		}
		return -1, ""
	}
}

func probability(fn, what string, i int) func(v []float32) (int, string) {
	return func(v []float32) (int, string) {
		if !(v[i] >= 0 && v[i] <= 1) {
			return i, fmt.Sprintf("%s: %s %g is outside [0, 1]; write a probability such as 0.1 or 10%%", fn, what, v[i])
		}
		return -1, ""
	}
}

var (
	fnZeros = &function{name: "zeros", build: constant(0)}
	fnOnes  = &function{name: "ones", build: constant(1)}
	fnConst = &function{name: "constant",
		params:   []param{{"v", []string{"value"}}},
		required: true,
		build:    func(v []float32) rng.Dist { return rng.ConstDist(v[0]) }}
	fnUniform = &function{name: "uniform",
		params:   []param{{"lo", []string{"low"}}, {"hi", []string{"high"}}},
		defaults: []float32{0, 1},
		build:    func(v []float32) rng.Dist { return rng.UniformDist(v[0], v[1]) },
		check: func(v []float32) (int, string) {
			if v[0] > v[1] {
				return 0, fmt.Sprintf("uniform: lo %g is greater than hi %g; write uniform(%g, %g)", v[0], v[1], v[1], v[0])
			}
			return -1, ""
		}}
	fnRandom = &function{name: "random",
		noArgs: "random takes no arguments (it is U[0, 1)); for another range write uniform(lo, hi)",
		build:  func([]float32) rng.Dist { return rng.UniformDist(0, 1) }}
	fnRand = &function{name: "rand",
		noArgs: "rand takes no arguments (it is U[0, 1)); for another range write uniform(lo, hi)",
		build:  func([]float32) rng.Dist { return rng.UniformDist(0, 1) }}
	fnNormal = &function{name: "normal",
		params:   []param{{"mean", []string{"mu", "loc"}}, {"sd", []string{"std", "sigma"}}},
		defaults: []float32{0, 1},
		build:    func(v []float32) rng.Dist { return rng.NormalDist(v[0], v[1]) },
		check:    nonNegative("normal", "standard deviation sd", 1)}
	fnLogNormal = &function{name: "lognormal",
		params:   []param{{"mean", []string{"mu"}}, {"sigma", []string{"sd"}}},
		defaults: []float32{0, 1},
		build:    func(v []float32) rng.Dist { return rng.LogNormalDist(v[0], v[1]) },
		check:    nonNegative("lognormal", "sigma", 1)}
	fnBernoulli = &function{name: "bernoulli",
		params:   []param{{"p", nil}},
		required: true,
		build:    func(v []float32) rng.Dist { return rng.BernoulliDist(v[0]) },
		check:    probability("bernoulli", "probability p", 0)}
)

// functions maps every accepted (lower-case) name to its function, in the
// order used for suggestions.
var functions = []struct {
	name string
	fn   *function
}{
	{"zeros", fnZeros}, {"ones", fnOnes}, {"constant", fnConst}, {"const", fnConst},
	{"uniform", fnUniform}, {"random", fnRandom}, {"rand", fnRand},
	{"normal", fnNormal}, {"gauss", fnNormal}, {"gaussian", fnNormal},
	{"lognormal", fnLogNormal}, {"bernoulli", fnBernoulli},
}

func lookup(name string) *function {
	for _, f := range functions {
		if f.name == name {
			return f.fn
		}
	}
	return nil
}

func functionNames() []string {
	names := make([]string, len(functions))
	for i, f := range functions {
		names[i] = f.name
	}
	return names
}

// isNonFinite reports the names of NaN and infinity.
func isNonFinite(name string) bool {
	switch name {
	case "nan", "inf", "infinity":
		return true
	}
	return false
}

const nonFiniteMsg = "NaN and infinite values are not allowed; give a finite number"

// options are density= and scale=.
type options struct {
	density, scale       float32
	hasDensity, hasScale bool
	densityCol, scaleCol int
}

type parser struct {
	src   string
	toks  []token
	pos   int
	depth int
}

func (p *parser) peek() token { return p.toks[p.pos] }

// peek2 returns the token after the next one (tEOF at the end).
func (p *parser) peek2() token {
	if p.pos+1 < len(p.toks) {
		return p.toks[p.pos+1]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) errorf(col int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Src: p.src, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses an initialisation string (see the package documentation for
// the grammar). On failure it returns the zero Spec and a *SyntaxError.
func Parse(src string) (Spec, error) {
	toks, err := lex(src)
	if err != nil {
		return Spec{}, err
	}
	p := &parser{src: src, toks: toks}
	s, err := p.parseSpec()
	if err != nil {
		return Spec{}, err
	}
	s.Source = src
	return s, nil
}

// parseSpec parses  Spec = Body { "," Option } .
func (p *parser) parseSpec() (Spec, error) {
	first := p.peek()
	if first.kind == tEOF {
		return Spec{}, p.errorf(first.col, "empty initialisation string; write a number such as 0.5 or a distribution such as uniform(0, 1)")
	}
	var opts options
	var d rng.Dist
	var fn *function
	if first.kind == tName {
		var err error
		if fn, d, err = p.parseCall(&opts); err != nil {
			return Spec{}, err
		}
	} else {
		v, err := p.parseValue()
		if err != nil {
			return Spec{}, err
		}
		d = rng.ConstDist(v)
	}
	for p.peek().kind == tComma {
		comma := p.next()
		name, eq := p.peek(), p.peek2()
		if name.kind != tName || eq.kind != tAssign {
			return Spec{}, p.errorf(name.col, "expected density=... or scale=... after the ',' at column %d, found %s", comma.col, name.describe())
		}
		kw := strings.ToLower(name.text)
		if kw != "density" && kw != "scale" {
			if fn != nil && fn.paramIndex(kw) >= 0 {
				return Spec{}, p.errorf(name.col, "%s= must be given inside the parentheses: %s", name.text, fn.signature())
			}
			return Spec{}, p.errorf(name.col, "unknown option '%s'%s; only density= and scale= may follow the ','", name.text, didYouMean(kw, []string{"density", "scale"}))
		}
		p.next()
		p.next()
		if err := p.parseOption(kw, name, &opts); err != nil {
			return Spec{}, err
		}
	}
	if t := p.peek(); t.kind != tEOF {
		return Spec{}, p.trailing(t, fn)
	}
	return build(p, d, &opts)
}

// trailing explains a token found where the input should have ended.
func (p *parser) trailing(t token, fn *function) error {
	switch {
	case t.kind == tRParen:
		return p.errorf(t.col, "unexpected ')' with no matching '('")
	case fn != nil && (t.kind == tStar || t.kind == tSlash || t.kind == tPlus || t.kind == tMinus):
		return p.errorf(t.col, "unexpected '%s' after %s: a distribution cannot take part in arithmetic; to multiply it write ', scale=...'", t.text, fn.name)
	case fn != nil && t.kind == tLParen:
		return p.errorf(t.col, "unexpected '(' after the arguments of %s", fn.name)
	}
	if t.kind == tName && p.peek2().kind == tAssign {
		return p.errorf(t.col, "unexpected %s; separate options with ',' as in 'uniform(0, 1), density=0.1'", t.describe())
	}
	return p.errorf(t.col, "unexpected %s after the end of the expression", t.describe())
}

// build turns a parsed distribution and its options into a Spec.
func build(p *parser, d rng.Dist, o *options) (Spec, error) {
	scale := float32(1)
	if o.hasScale {
		scale = o.scale
	}
	if d.Kind == rng.Const && !o.hasDensity {
		v := d.A * scale
		if math.IsInf(float64(v), 0) {
			return Spec{}, p.errorf(o.scaleCol, "%g times scale %g overflows float32", d.A, scale)
		}
		return Spec{Const: true, Value: v, Dist: rng.ConstDist(v)}, nil
	}
	d.Scale = scale
	if o.hasDensity {
		d.Density = o.density
	}
	return Spec{Dist: d}, nil
}

// parseOption parses the value of density= or scale= (name and '=' are
// consumed) into o.
func (p *parser) parseOption(kw string, name token, o *options) error {
	col := p.peek().col
	v, err := p.parseValue()
	if err != nil {
		return err
	}
	if kw == "density" {
		if o.hasDensity {
			return p.errorf(name.col, "density is given twice (first at column %d)", o.densityCol)
		}
		if !(v >= 0 && v <= 1) {
			return p.errorf(col, "density %g is outside [0, 1]; it is the fraction of elements kept, such as 0.1 or 10%%", v)
		}
		o.density, o.hasDensity, o.densityCol = v, true, name.col
		return nil
	}
	if o.hasScale {
		return p.errorf(name.col, "scale is given twice (first at column %d)", o.scaleCol)
	}
	o.scale, o.hasScale, o.scaleCol = v, true, name.col
	return nil
}

// parseCall parses  Call = name [ "(" [ Args ] ")" ] .
func (p *parser) parseCall(o *options) (*function, rng.Dist, error) {
	nameTok := p.next()
	name := strings.ToLower(nameTok.text)
	fn := lookup(name)
	if fn == nil {
		return nil, rng.Dist{}, p.unknownName(nameTok)
	}
	vals := make([]float32, len(fn.params))
	cols := make([]int, len(fn.params))
	given := 0
	endCol := nameTok.col // where a missing argument is reported
	if p.peek().kind == tLParen {
		open := p.next()
		npos, sawKeyword := 0, false
		for p.peek().kind != tRParen {
			arg := p.peek()
			if arg.kind == tName && p.peek2().kind == tAssign {
				p.next()
				p.next()
				kw := strings.ToLower(arg.text)
				if kw == "density" || kw == "scale" {
					if err := p.parseOption(kw, arg, o); err != nil {
						return nil, rng.Dist{}, err
					}
				} else {
					i := fn.paramIndex(kw)
					if i < 0 {
						return nil, rng.Dist{}, p.unknownKeyword(arg, fn)
					}
					if cols[i] != 0 {
						return nil, rng.Dist{}, p.errorf(arg.col, "%s: %s is given twice (first at column %d)", fn.name, fn.params[i].name, cols[i])
					}
					cols[i] = p.peek().col
					v, err := p.parseValue()
					if err != nil {
						return nil, rng.Dist{}, err
					}
					vals[i] = v
					given++
				}
				sawKeyword = true
			} else {
				switch {
				case arg.kind == tEOF:
					return nil, rng.Dist{}, p.errorf(arg.col, "missing ')' to close the '(' at column %d", open.col)
				case fn.noArgs != "":
					return nil, rng.Dist{}, p.errorf(arg.col, "%s", fn.noArgs)
				case sawKeyword:
					return nil, rng.Dist{}, p.errorf(arg.col, "%s: positional argument after a keyword argument; give positional arguments first", fn.name)
				case npos >= len(fn.params):
					return nil, rng.Dist{}, p.errorf(arg.col, "%s: too many arguments; %s", fn.name, fn.expects())
				}
				cols[npos] = arg.col
				v, err := p.parseValue()
				if err != nil {
					return nil, rng.Dist{}, err
				}
				vals[npos] = v
				npos++
				given++
			}
			switch t := p.peek(); t.kind {
			case tComma:
				p.next()
				if t2 := p.peek(); t2.kind == tRParen {
					return nil, rng.Dist{}, p.errorf(t2.col, "expected an argument after the ',' at column %d", t.col)
				}
			case tRParen:
			case tEOF:
				return nil, rng.Dist{}, p.errorf(t.col, "missing ')' to close the '(' at column %d", open.col)
			default:
				return nil, rng.Dist{}, p.errorf(t.col, "expected ',' or ')' in the arguments of %s, found %s", fn.name, t.describe())
			}
		}
		endCol = p.next().col
	}
	switch {
	case given == 0 && fn.required:
		return nil, rng.Dist{}, p.errorf(endCol, "%s needs arguments: %s", fn.name, fn.signature())
	case given == 0:
		copy(vals, fn.defaults)
	case given < len(fn.params):
		var missing []string
		for i, c := range cols {
			if c == 0 {
				missing = append(missing, fn.params[i].name)
			}
		}
		msg := fmt.Sprintf("%s: missing %s; %s", fn.name, strings.Join(missing, ", "), fn.expects())
		if (fn == fnNormal || fn == fnLogNormal) && o.hasScale {
			msg += " (note: scale= multiplies the samples, it is not the standard deviation)"
		}
		return nil, rng.Dist{}, p.errorf(endCol, "%s", msg)
	}
	if fn.check != nil && given > 0 {
		if i, msg := fn.check(vals); i >= 0 {
			return nil, rng.Dist{}, p.errorf(cols[i], "%s", msg)
		}
	}
	return fn, fn.build(vals), nil
}

// expects says which arguments fn takes.
func (f *function) expects() string {
	switch {
	case len(f.params) == 0:
		return f.name + " takes no arguments besides density= and scale="
	case f.required:
		return "expected " + f.signature()
	}
	return "expected " + f.signature() + " or no arguments"
}

func (p *parser) unknownName(t token) error {
	name := strings.ToLower(t.text)
	switch {
	case isNonFinite(name):
		return p.errorf(t.col, nonFiniteMsg)
	case name == "density" || name == "scale":
		return p.errorf(t.col, "%s= must follow a value, as in 'ones, %s=0.5'", t.text, name)
	}
	if s := didYouMean(name, functionNames()); s != "" {
		return p.errorf(t.col, "unknown name '%s'%s", t.text, s)
	}
	return p.errorf(t.col, "unknown name '%s'; expected a number or one of %s", t.text, strings.Join(functionNames(), ", "))
}

func (p *parser) unknownKeyword(t token, fn *function) error {
	cands := []string{}
	for _, q := range fn.params {
		cands = append(cands, q.name)
		cands = append(cands, q.aliases...)
	}
	cands = append(cands, "density", "scale")
	kw := strings.ToLower(t.text)
	if s := didYouMean(kw, cands); s != "" {
		return p.errorf(t.col, "%s: unknown keyword '%s'%s", fn.name, t.text, s)
	}
	if len(fn.params) == 0 {
		return p.errorf(t.col, "%s: unknown keyword '%s'; %s", fn.name, t.text, fn.expects())
	}
	return p.errorf(t.col, "%s: unknown keyword '%s'; %s accepts %s, density= and scale=", fn.name, t.text, fn.name, fn.signature())
}

// parseValue parses an expression and converts it to float32.
func (p *parser) parseValue() (float32, error) {
	col := p.peek().col
	v, err := p.parseExpr()
	if err != nil {
		return 0, err
	}
	if math.Abs(v) >= f32Overflow {
		return 0, p.errorf(col, "value %g is outside the float32 range (about ±3.4e38)", v)
	}
	return float32(v), nil
}

// parseExpr parses  Expr = Term { ( "+" | "-" ) Term } .
func (p *parser) parseExpr() (float64, error) {
	v, err := p.parseTerm()
	if err != nil {
		return 0, err
	}
	for {
		op := p.peek()
		if op.kind != tPlus && op.kind != tMinus {
			return v, nil
		}
		p.next()
		w, err := p.parseTerm()
		if err != nil {
			return 0, err
		}
		if op.kind == tPlus {
			v += w
		} else {
			v -= w
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, p.errorf(op.col, "'%s' overflows", op.text)
		}
	}
}

// parseTerm parses  Term = Unary { ( "*" | "/" ) Unary } .
func (p *parser) parseTerm() (float64, error) {
	v, err := p.parseUnary()
	if err != nil {
		return 0, err
	}
	for {
		op := p.peek()
		if op.kind != tStar && op.kind != tSlash {
			return v, nil
		}
		p.next()
		rhs := p.peek()
		if op.kind == tStar && rhs.kind == tStar {
			return 0, p.errorf(rhs.col, "'**' (power) is not supported; write the value out, as in 1e-3")
		}
		w, err := p.parseUnary()
		if err != nil {
			return 0, err
		}
		if op.kind == tStar {
			v *= w
		} else {
			if w == 0 {
				return 0, p.errorf(rhs.col, "division by zero")
			}
			v /= w
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, p.errorf(op.col, "'%s' overflows", op.text)
		}
	}
}

// parseUnary parses  Unary = { "+" | "-" } Postfix .
func (p *parser) parseUnary() (float64, error) {
	neg := false
	for k := p.peek().kind; k == tPlus || k == tMinus; k = p.peek().kind {
		if k == tMinus {
			neg = !neg
		}
		p.next()
	}
	v, err := p.parsePostfix()
	if neg {
		v = -v
	}
	return v, err
}

// parsePostfix parses  Postfix = Primary [ "%" ] .
func (p *parser) parsePostfix() (float64, error) {
	v, err := p.parsePrimary()
	if err != nil {
		return 0, err
	}
	if p.peek().kind == tPercent {
		p.next()
		v /= 100
		if t := p.peek(); t.kind == tPercent {
			return 0, p.errorf(t.col, "'%%' may follow only a number or a parenthesised expression")
		}
	}
	return v, nil
}

// parsePrimary parses  Primary = number | "(" Expr ")" .
func (p *parser) parsePrimary() (float64, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return t.num, nil
	case tLParen:
		if p.depth >= maxDepth {
			return 0, p.errorf(t.col, "parentheses nested more than %d deep", maxDepth)
		}
		p.depth++
		v, err := p.parseExpr()
		p.depth--
		if err != nil {
			return 0, err
		}
		switch c := p.peek(); c.kind {
		case tRParen:
			p.next()
			return v, nil
		case tEOF:
			return 0, p.errorf(c.col, "missing ')' to close the '(' at column %d", t.col)
		default:
			return 0, p.errorf(c.col, "expected an operator or ')' to close the '(' at column %d, found %s", t.col, c.describe())
		}
	case tName:
		name := strings.ToLower(t.text)
		switch {
		case isNonFinite(name):
			return 0, p.errorf(t.col, nonFiniteMsg)
		case lookup(name) != nil:
			return 0, p.errorf(t.col, "%s cannot be used inside an expression; a distribution must come first, as in '%s(...), scale=2'", t.text, name)
		case name == "density" || name == "scale":
			return 0, p.errorf(t.col, "%s must be written %s=value", t.text, name)
		}
		if s := didYouMean(name, functionNames()); s != "" {
			return 0, p.errorf(t.col, "unknown name '%s'%s", t.text, s)
		}
		return 0, p.errorf(t.col, "unknown name '%s' in an expression; expected a number", t.text)
	case tEOF:
		return 0, p.errorf(t.col, "expected a number or '(', found end of input")
	case tPercent:
		return 0, p.errorf(t.col, "'%%' must follow a number, as in 10%%")
	}
	return 0, p.errorf(t.col, "expected a number or '(', found %s", t.describe())
}
