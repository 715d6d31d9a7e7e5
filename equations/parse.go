package equations

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Error is a mistake in equations or statements, at a line and column
// (1-based) of the text given.
type Error struct {
	Line, Col int
	Src       string // the line
	Msg       string
}

func (e *Error) Error() string {
	caret := ""
	if e.Src != "" {
		caret = "\n\t" + e.Src + "\n\t" + strings.Repeat(" ", max(e.Col-1, 0)) + "^"
	}
	return fmt.Sprintf("line %d, column %d: %s%s", e.Line, e.Col, e.Msg, caret)
}

// node is an expression: a number, a name, an operator or a call.
type node struct {
	op   string // "num", "name", "call", "neg", "not", or a binary operator: + - * / ** % < <= > >= == != and or
	num  float64
	name string // name, or the function of a call
	args []*node
	pos  int // column (0-based) in the line
	line int
}

func (n *node) String() string {
	switch n.op {
	case "num":
		return strconv.FormatFloat(n.num, 'g', -1, 64)
	case "name":
		return n.name
	case "call":
		var a []string
		for _, x := range n.args {
			a = append(a, x.String())
		}
		return n.name + "(" + strings.Join(a, ", ") + ")"
	case "neg":
		return "(-" + n.args[0].String() + ")"
	case "not":
		return "(not " + n.args[0].String() + ")"
	}
	return "(" + n.args[0].String() + " " + n.op + " " + n.args[1].String() + ")"
}

// parser reads one expression of a line.
type parser struct {
	src  string
	pos  int
	line int
	err  *Error
}

func (p *parser) fail(pos int, format string, a ...any) {
	if p.err == nil {
		p.err = &Error{Line: p.line, Col: pos + 1, Src: p.src, Msg: fmt.Sprintf(format, a...)}
	}
}

func (p *parser) skip() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) peek(s string) bool {
	p.skip()
	return strings.HasPrefix(p.src[p.pos:], s)
}

// word reports whether the next token is the keyword w.
func (p *parser) word(w string) bool {
	p.skip()
	if !strings.HasPrefix(p.src[p.pos:], w) {
		return false
	}
	e := p.pos + len(w)
	return e == len(p.src) || !isIdent(rune(p.src[e]))
}

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// parseExpr parses src (one expression) of line into a tree.
func parseExpr(src string, line, offset int) (*node, error) {
	p := &parser{src: src, line: line, pos: offset}
	n := p.or()
	p.skip()
	if p.err == nil && p.pos < len(p.src) {
		p.fail(p.pos, "unexpected %q", p.src[p.pos:])
	}
	if p.err != nil {
		return nil, p.err
	}
	return n, nil
}

func (p *parser) bin(op string, pos int, a, b *node) *node {
	return &node{op: op, args: []*node{a, b}, pos: pos, line: p.line}
}

func (p *parser) or() *node {
	a := p.and()
	for p.err == nil {
		pos := p.pos
		if p.word("or") {
			p.pos += 2
		} else if p.peek("||") {
			p.pos += 2
		} else {
			return a
		}
		a = p.bin("or", pos, a, p.and())
	}
	return a
}

func (p *parser) and() *node {
	a := p.not()
	for p.err == nil {
		pos := p.pos
		if p.word("and") {
			p.pos += 3
		} else if p.peek("&&") {
			p.pos += 2
		} else {
			return a
		}
		a = p.bin("and", pos, a, p.not())
	}
	return a
}

func (p *parser) not() *node {
	pos := p.pos
	if p.word("not") {
		p.pos += 3
		return &node{op: "not", args: []*node{p.not()}, pos: pos, line: p.line}
	}
	return p.cmp()
}

func (p *parser) cmp() *node {
	a := p.sum()
	p.skip()
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if p.peek(op) {
			pos := p.pos
			p.pos += len(op)
			return p.bin(op, pos, a, p.sum())
		}
	}
	return a
}

func (p *parser) sum() *node {
	a := p.term()
	for p.err == nil {
		p.skip()
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			op, pos := string(p.src[p.pos]), p.pos
			p.pos++
			a = p.bin(op, pos, a, p.term())
			continue
		}
		return a
	}
	return a
}

func (p *parser) term() *node {
	a := p.unary()
	for p.err == nil {
		p.skip()
		if p.pos < len(p.src) && (p.src[p.pos] == '*' && !p.peek("**") || p.src[p.pos] == '/' || p.src[p.pos] == '%') {
			op, pos := string(p.src[p.pos]), p.pos
			p.pos++
			a = p.bin(op, pos, a, p.unary())
			continue
		}
		return a
	}
	return a
}

// unary: -x and +x bind looser than ** (-x**2 is -(x**2)), as in Python.
func (p *parser) unary() *node {
	p.skip()
	if p.pos < len(p.src) && (p.src[p.pos] == '-' || p.src[p.pos] == '+') {
		neg, pos := p.src[p.pos] == '-', p.pos
		p.pos++
		x := p.unary()
		if !neg {
			return x
		}
		return &node{op: "neg", args: []*node{x}, pos: pos, line: p.line}
	}
	return p.power()
}

func (p *parser) power() *node {
	a := p.atom()
	if p.err == nil && p.peek("**") {
		pos := p.pos
		p.pos += 2
		return p.bin("**", pos, a, p.unary()) // right-associative; 2**-1 allowed
	}
	return a
}

func (p *parser) atom() *node {
	p.skip()
	if p.pos >= len(p.src) {
		p.fail(p.pos, "expression ends too early")
		return &node{op: "num"}
	}
	c, pos := rune(p.src[p.pos]), p.pos
	switch {
	case c == '(':
		p.pos++
		n := p.or()
		if !p.peek(")") {
			p.fail(p.pos, "missing ')' for the '(' at column %d", pos+1)
			return n
		}
		p.pos++
		return n
	case unicode.IsDigit(c) || c == '.':
		e := p.pos
		for e < len(p.src) && (unicode.IsDigit(rune(p.src[e])) || p.src[e] == '.') {
			e++
		}
		if e < len(p.src) && (p.src[e] == 'e' || p.src[e] == 'E') {
			k := e + 1
			if k < len(p.src) && (p.src[k] == '+' || p.src[k] == '-') {
				k++
			}
			if k < len(p.src) && unicode.IsDigit(rune(p.src[k])) {
				for k < len(p.src) && unicode.IsDigit(rune(p.src[k])) {
					k++
				}
				e = k
			}
		}
		v, err := strconv.ParseFloat(p.src[p.pos:e], 64)
		if err != nil {
			p.fail(p.pos, "bad number %q", p.src[p.pos:e])
		}
		p.pos = e
		return &node{op: "num", num: v, pos: pos, line: p.line}
	case isIdent(c):
		e := p.pos
		for e < len(p.src) && isIdent(rune(p.src[e])) {
			e++
		}
		name := p.src[p.pos:e]
		p.pos = e
		if name == "True" || name == "true" {
			return &node{op: "num", num: 1, pos: pos, line: p.line}
		}
		if name == "False" || name == "false" {
			return &node{op: "num", num: 0, pos: pos, line: p.line}
		}
		if p.peek("(") {
			p.pos++
			n := &node{op: "call", name: name, pos: pos, line: p.line}
			if !p.peek(")") {
				for p.err == nil {
					n.args = append(n.args, p.or())
					if p.peek(",") {
						p.pos++
						continue
					}
					break
				}
			}
			if !p.peek(")") {
				p.fail(p.pos, "missing ')' after the arguments of %s", name)
				return n
			}
			p.pos++
			return n
		}
		return &node{op: "name", name: name, pos: pos, line: p.line}
	}
	p.fail(p.pos, "unexpected %q", string(c))
	return &node{op: "num"}
}

// Kind is what an equation line declares.
type Kind int

const (
	Differential  Kind = iota // dx/dt = f : unit
	Subexpression             // x = f : unit
	Parameter                 // x : unit
)

// Eq is one line of equations.
type Eq struct {
	Kind  Kind
	Name  string
	Unit  string // as written: "volt", "mV", "1", "siemens/meter**2"
	Flags []string
	Line  int
	src   string
	expr  *node
	unit  unit // the unit's dimension and size in SI
}

// Expr is the right-hand side as written (empty for a parameter).
func (e Eq) Expr() string {
	if e.expr == nil {
		return ""
	}
	return e.expr.String()
}

// Has reports whether the line has flag f ("unless refractory", "shared",
// "constant", "event-driven").
func (e Eq) Has(f string) bool {
	for _, x := range e.Flags {
		if x == f {
			return true
		}
	}
	return false
}

var knownFlags = map[string]bool{"unless refractory": true, "shared": true, "constant": true, "event-driven": true, "clock-driven": true, "summed": true, "constant over dt": true}

// Parse reads Brian2-style equations, one per line ('#' starts a
// comment; a line ending inside parentheses continues on the next):
//
//	dv/dt = (gl*(El - v) - I_Na) / Cm : volt (unless refractory)
//	I_Na = gNa*m**3*h*(v - ENa) : amp/meter**2
//	gNa : siemens/meter**2 (shared)
func Parse(src string) ([]Eq, error) {
	var out []Eq
	seen := map[string]int{}
	lines := strings.Split(src, "\n")
	for ln := 0; ln < len(lines); ln++ {
		line := lines[ln]
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		start := ln
		for strings.Count(line, "(") > strings.Count(line, ")") && ln+1 < len(lines) {
			ln++
			next := lines[ln]
			if i := strings.IndexByte(next, '#'); i >= 0 {
				next = next[:i]
			}
			line += " " + strings.TrimSpace(next)
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		eq, err := parseLine(line, start+1)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[eq.Name]; ok {
			return nil, &Error{Line: eq.Line, Col: 1, Src: line, Msg: fmt.Sprintf("%s is defined twice (first on line %d); define each name once", eq.Name, prev)}
		}
		seen[eq.Name] = eq.Line
		out = append(out, eq)
	}
	if len(out) == 0 {
		return nil, &Error{Line: 1, Col: 1, Msg: "no equations; write one per line, e.g. dv/dt = -v/tau : volt"}
	}
	return out, nil
}

func parseLine(line string, ln int) (Eq, error) {
	e := Eq{Line: ln, src: line}
	fail := func(col int, format string, a ...any) (Eq, error) {
		return Eq{}, &Error{Line: ln, Col: col + 1, Src: line, Msg: fmt.Sprintf(format, a...)}
	}
	// The unit and flags follow the last ':' outside parentheses.
	colon, depth := -1, 0
	var open []int
	for i, c := range line {
		switch c {
		case '(':
			depth++
			open = append(open, i)
		case ')':
			depth--
			if depth < 0 {
				return fail(i, "')' without its '('")
			}
			open = open[:len(open)-1]
		case ':':
			if depth == 0 {
				colon = i
			}
		}
	}
	if depth > 0 {
		return fail(open[len(open)-1], "this '(' has no ')'")
	}
	if colon < 0 {
		return fail(len(strings.TrimRight(line, " \t")), "missing ': unit' (write ': 1' for a dimensionless quantity)")
	}
	lhs, rest := line[:colon], line[colon+1:]
	unitStr := strings.TrimSpace(rest)
	if i := strings.IndexByte(rest, '('); i >= 0 {
		unitStr = strings.TrimSpace(rest[:i])
		fl := rest[i+1:]
		j := strings.LastIndexByte(fl, ')')
		if j < 0 {
			return fail(colon+1+i, "missing ')' after the flags")
		}
		for _, f := range strings.Split(fl[:j], ",") {
			f = strings.Join(strings.Fields(f), " ")
			if !knownFlags[f] {
				return fail(colon+1+i+1, "unknown flag %q; the flags are unless refractory, shared, constant, event-driven, clock-driven, summed", f)
			}
			e.Flags = append(e.Flags, f)
		}
	}
	if unitStr == "" {
		return fail(colon+1, "missing unit after ':' (write 1 for a dimensionless quantity)")
	}
	e.Unit = unitStr
	un, err := evalUnit(unitStr)
	if err != nil {
		return fail(colon+1+strings.Index(rest, unitStr), "unit %q: %v", unitStr, err)
	}
	e.unit = un
	eqAt := strings.IndexByte(lhs, '=')
	if eqAt < 0 {
		name := strings.TrimSpace(lhs)
		if !validName(name) {
			return fail(strings.Index(line, name), "%q is not a name (a parameter line is 'name : unit')", name)
		}
		e.Kind, e.Name = Parameter, name
		return e, nil
	}
	left := strings.TrimSpace(lhs[:eqAt])
	if strings.HasPrefix(left, "d") && strings.Contains(left, "/") {
		parts := strings.SplitN(left, "/", 2)
		name := strings.TrimSpace(parts[0][1:])
		if strings.TrimSpace(parts[1]) != "dt" || !validName(name) {
			return fail(strings.Index(line, left), "%q: a differential equation starts 'dx/dt = '", left)
		}
		e.Kind, e.Name = Differential, name
	} else {
		if !validName(left) {
			return fail(strings.Index(line, left), "%q is not a name (a subexpression line is 'name = expression : unit')", left)
		}
		e.Kind, e.Name = Subexpression, left
	}
	rhs := lhs[eqAt+1:]
	if strings.TrimSpace(rhs) == "" {
		return fail(eqAt+1, "missing expression after '='")
	}
	n, err := parseExpr(line[:colon], ln, eqAt+1)
	if err != nil {
		return Eq{}, err
	}
	e.expr = n
	return e, nil
}

func validName(s string) bool {
	if s == "" || unicode.IsDigit(rune(s[0])) {
		return false
	}
	for _, c := range s {
		if !isIdent(c) {
			return false
		}
	}
	return true
}

// evalUnit evaluates a unit expression such as "siemens/meter**2", "mV",
// "1" or "amp*second".
func evalUnit(s string) (unit, error) {
	n, err := parseExpr(s, 1, 0)
	if err != nil {
		return unit{}, err
	}
	var ev func(n *node) (unit, error)
	ev = func(n *node) (unit, error) {
		switch n.op {
		case "num":
			return unit{Dimensionless, n.num}, nil
		case "name":
			u, ok := lookupUnit(n.name)
			if !ok {
				return unit{}, fmt.Errorf("unknown unit %q (use Brian2's names: volt, mV, amp, nA, siemens, mS, farad, uF, second, ms, metre, cm, hertz, 1)", n.name)
			}
			return u, nil
		case "*", "/":
			a, err := ev(n.args[0])
			if err != nil {
				return a, err
			}
			b, err := ev(n.args[1])
			if err != nil {
				return b, err
			}
			if n.op == "*" {
				return unit{a.dim.mul(b.dim), a.scale * b.scale}, nil
			}
			return unit{a.dim.div(b.dim), a.scale / b.scale}, nil
		case "**":
			a, err := ev(n.args[0])
			if err != nil {
				return a, err
			}
			k, ok := intConst(n.args[1])
			if !ok {
				return unit{}, fmt.Errorf("a unit's power must be a whole number")
			}
			return unit{a.dim.pow(k), pow(a.scale, k)}, nil
		}
		return unit{}, fmt.Errorf("a unit is names, numbers, * / and ** only")
	}
	return ev(n)
}

// intConst returns the value of a whole-number constant (-3, 2).
func intConst(n *node) (int, bool) {
	neg := 1
	if n.op == "neg" {
		neg, n = -1, n.args[0]
	}
	if n.op != "num" || n.num != float64(int(n.num)) {
		return 0, false
	}
	return neg * int(n.num), true
}

func pow(x float64, k int) float64 {
	r := 1.0
	for i := 0; i < abs(k); i++ {
		r *= x
	}
	if k < 0 {
		return 1 / r
	}
	return r
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}
