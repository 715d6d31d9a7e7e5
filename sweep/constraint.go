package sweep

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A constraint (GASpec.Constraints) is an expression over the
// parameters, true when not zero: numbers, parameter names, + - * /,
// parentheses, < <= > >= == !=, && (and), || (or), ! (not), and abs,
// min, max, sqrt, exp, log. PymoNNto eval()s Python; this is the part of
// it constraints use, without running code.

type cexpr func(g map[string]float64) float64

type cparser struct {
	src   string
	pos   int
	names []string
}

func parseConstraint(src string, names []string) (cexpr, error) {
	p := &cparser{src: src, names: names}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return e, nil
}

func (p *cparser) errorf(f string, a ...any) error {
	return fmt.Errorf("column %d: %s", p.pos+1, fmt.Sprintf(f, a...))
}

func (p *cparser) space() {
	for p.pos < len(p.src) && strings.ContainsRune(" \t", rune(p.src[p.pos])) {
		p.pos++
	}
}

// eat consumes tok if it comes next (words must end there).
func (p *cparser) eat(tok string) bool {
	p.space()
	if !strings.HasPrefix(p.src[p.pos:], tok) {
		return false
	}
	end := p.pos + len(tok)
	if isWordByte(tok[0]) && end < len(p.src) && isWordByte(p.src[end]) {
		return false
	}
	p.pos = end
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func truth(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (p *cparser) or() (cexpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.eat("||") || p.eat("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a := l
		l = func(g map[string]float64) float64 { return truth(a(g) != 0 || r(g) != 0) }
	}
	return l, nil
}

func (p *cparser) and() (cexpr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.eat("&&") || p.eat("and") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		a := l
		l = func(g map[string]float64) float64 { return truth(a(g) != 0 && r(g) != 0) }
	}
	return l, nil
}

func (p *cparser) not() (cexpr, error) {
	p.space()
	if !strings.HasPrefix(p.src[p.pos:], "!=") && (p.eat("!") || p.eat("not")) {
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(g map[string]float64) float64 { return truth(e(g) == 0) }, nil
	}
	return p.cmp()
}

func (p *cparser) cmp() (cexpr, error) {
	l, err := p.sum()
	if err != nil {
		return nil, err
	}
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if !p.eat(op) {
			continue
		}
		r, err := p.sum()
		if err != nil {
			return nil, err
		}
		f := map[string]func(a, b float64) bool{
			"<=": func(a, b float64) bool { return a <= b }, ">=": func(a, b float64) bool { return a >= b },
			"==": func(a, b float64) bool { return a == b }, "!=": func(a, b float64) bool { return a != b },
			"<": func(a, b float64) bool { return a < b }, ">": func(a, b float64) bool { return a > b },
		}[op]
		return func(g map[string]float64) float64 { return truth(f(l(g), r(g))) }, nil
	}
	return l, nil
}

func (p *cparser) sum() (cexpr, error) {
	l, err := p.prod()
	if err != nil {
		return nil, err
	}
	for {
		var op byte
		switch {
		case p.eat("+"):
			op = '+'
		case p.eat("-"):
			op = '-'
		default:
			return l, nil
		}
		r, err := p.prod()
		if err != nil {
			return nil, err
		}
		a := l
		if op == '+' {
			l = func(g map[string]float64) float64 { return a(g) + r(g) }
		} else {
			l = func(g map[string]float64) float64 { return a(g) - r(g) }
		}
	}
}

func (p *cparser) prod() (cexpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		var op byte
		switch {
		case p.eat("*"):
			op = '*'
		case p.eat("/"):
			op = '/'
		default:
			return l, nil
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		a := l
		if op == '*' {
			l = func(g map[string]float64) float64 { return a(g) * r(g) }
		} else {
			l = func(g map[string]float64) float64 { return a(g) / r(g) }
		}
	}
}

func (p *cparser) unary() (cexpr, error) {
	if p.eat("-") {
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(g map[string]float64) float64 { return -e(g) }, nil
	}
	if p.eat("+") {
		return p.unary()
	}
	return p.primary()
}

var cfuncs = map[string]func(a []float64) float64{
	"abs":  func(a []float64) float64 { return math.Abs(a[0]) },
	"sqrt": func(a []float64) float64 { return math.Sqrt(a[0]) },
	"exp":  func(a []float64) float64 { return math.Exp(a[0]) },
	"log":  func(a []float64) float64 { return math.Log(a[0]) },
	"min":  func(a []float64) float64 { return slices.Min(a) },
	"max":  func(a []float64) float64 { return slices.Max(a) },
}

func (p *cparser) primary() (cexpr, error) {
	p.space()
	if p.eat("(") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, p.errorf("missing )")
		}
		return e, nil
	}
	start := p.pos
	for p.pos < len(p.src) && (isWordByte(p.src[p.pos]) || p.src[p.pos] == '.' ||
		(p.src[p.pos] == '-' || p.src[p.pos] == '+') && p.pos > start && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') && p.src[start] >= '0' && p.src[start] <= '9') {
		p.pos++
	}
	tok := p.src[start:p.pos]
	if tok == "" {
		if p.pos == len(p.src) {
			return nil, p.errorf("the expression ends too early")
		}
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	if c := tok[0]; c >= '0' && c <= '9' || c == '.' {
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			p.pos = start
			return nil, p.errorf("%q is not a number", tok)
		}
		return func(map[string]float64) float64 { return v }, nil
	}
	if f, ok := cfuncs[tok]; ok && p.eat("(") {
		var args []cexpr
		for {
			a, err := p.or()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.eat(")") {
				break
			}
			if !p.eat(",") {
				return nil, p.errorf("expected , or ) in %s(...)", tok)
			}
		}
		if tok != "min" && tok != "max" && len(args) != 1 {
			return nil, p.errorf("%s takes one argument, not %d", tok, len(args))
		}
		return func(g map[string]float64) float64 {
			v := make([]float64, len(args))
			for k, a := range args {
				v[k] = a(g)
			}
			return f(v)
		}, nil
	}
	if !slices.Contains(p.names, tok) {
		p.pos = start
		return nil, p.errorf("unknown name %q; the parameters are %s", tok, strings.Join(p.names, ", "))
	}
	return func(g map[string]float64) float64 { return g[tok] }, nil
}
