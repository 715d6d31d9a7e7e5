package expr

import (
	"math"
	"strconv"
	"strings"
)

type nodeKind uint8

const (
	nNum     nodeKind = iota // val
	nIdent                   // name
	nUnary                   // op args[0]
	nBinary                  // args[0] op args[1]
	nTernary                 // args[0] ? args[1] : args[2]
	nCall                    // name(args...); site for random functions
)

// node is an expression of the syntax tree.
type node struct {
	kind      nodeKind
	op        string // operator (nUnary, nBinary)
	name      string // nIdent, nCall
	val       float32
	args      []*node
	site      int  // random call site (nCall of uniform or normal)
	paren     bool // written in parentheses
	line, col int
}

// stmt is one assignment: name op rhs.
type stmt struct {
	name      string
	op        string // "=", "+=", "-=", "*=", "/=" or ":="
	rhs       *node
	line, col int
}

// Operator precedence, lowest first.
const (
	precTernary = iota + 1
	precOr
	precAnd
	precCompare
	precAdd
	precMul
	precUnary
	precPow // x ** y: tighter than a unary operator on its left, right-associative
	precPrimary
)

var binaryPrec = map[string]int{
	"||": precOr, "&&": precAnd,
	"<": precCompare, "<=": precCompare, ">": precCompare, ">=": precCompare, "==": precCompare, "!=": precCompare,
	"+": precAdd, "-": precAdd, "*": precMul, "/": precMul, "%": precMul,
	"**": precPow,
}

type parser struct {
	src   string
	toks  []token
	pos   int
	sites int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *Error {
	return errorf(p.src, t.line, t.col, format, args...)
}

func isAssign(s string) bool {
	switch s {
	case "=", "+=", "-=", "*=", "/=", ":=":
		return true
	}
	return false
}

// parse parses a whole program.
func parse(src string) ([]stmt, int, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, 0, err
	}
	p := &parser{src: src, toks: toks}
	var stmts []stmt
	for {
		for p.peek().kind == tSep {
			p.next()
		}
		if p.peek().kind == tEOF {
			break
		}
		s, err := p.stmt()
		if err != nil {
			return nil, 0, err
		}
		stmts = append(stmts, s)
		switch t := p.peek(); t.kind {
		case tSep, tEOF:
		default:
			if t.kind == tOp && isAssign(t.text) {
				return nil, 0, p.errAt(t, "unexpected %s: an assignment is a statement, not an expression; separate statements with ';' or a new line", t)
			}
			return nil, 0, p.errAt(t, "unexpected %s after the statement; separate statements with ';' or a new line (missing operator?)", t)
		}
	}
	if len(stmts) == 0 {
		return nil, 0, errorf(src, 1, 1, "empty program: write at least one assignment such as 'v += dt*(-v)'")
	}
	return stmts, p.sites, nil
}

func (p *parser) stmt() (stmt, error) {
	t := p.next()
	if t.kind != tIdent {
		return stmt{}, p.errAt(t, "unexpected %s: a statement starts with the name it assigns, as in 'v += dt*(-v)'", t)
	}
	a := p.peek()
	if a.kind != tOp || !isAssign(a.text) {
		if a.kind == tOp && a.text == "(" {
			return stmt{}, p.errAt(t, "a statement must assign a name; a call such as %s(...) alone does nothing", t.text)
		}
		return stmt{}, p.errAt(a, "expected an assignment (=, +=, -=, *=, /= or :=) after '%s', found %s", t.text, a)
	}
	p.next()
	rhs, err := p.expr(precTernary)
	if err != nil {
		return stmt{}, err
	}
	return stmt{name: t.text, op: a.text, rhs: rhs, line: t.line, col: t.col}, nil
}

// expr parses an expression whose operators bind at least as tightly as
// prec.
func (p *parser) expr(prec int) (*node, error) {
	if prec >= precUnary {
		return p.unary()
	}
	if prec == precTernary {
		cond, err := p.expr(precOr)
		if err != nil {
			return nil, err
		}
		q := p.peek()
		if q.kind != tOp || q.text != "?" {
			return cond, nil
		}
		p.next()
		a, err := p.expr(precTernary)
		if err != nil {
			return nil, err
		}
		c := p.peek()
		if c.kind != tOp || c.text != ":" {
			return nil, p.errAt(c, "expected ':' of the conditional 'c ? a : b', found %s", c)
		}
		p.next()
		b, err := p.expr(precTernary)
		if err != nil {
			return nil, err
		}
		return &node{kind: nTernary, args: []*node{cond, a, b}, line: q.line, col: q.col}, nil
	}
	left, err := p.expr(prec + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || binaryPrec[t.text] != prec {
			return left, nil
		}
		if prec == precCompare && left.kind == nBinary && binaryPrec[left.op] == precCompare && !left.paren {
			return nil, p.errAt(t, "chained comparison: '%s' after a comparison; write (a < b) && (b < c) instead", t.text)
		}
		p.next()
		right, err := p.expr(prec + 1)
		if err != nil {
			return nil, err
		}
		left = &node{kind: nBinary, op: t.text, args: []*node{left, right}, line: t.line, col: t.col}
	}
}

func (p *parser) unary() (*node, error) {
	for p.peek().kind == tSep && p.peek().text == "\n" {
		p.next() // an operand may follow on the next line
	}
	t := p.peek()
	if t.kind == tOp && (t.text == "-" || t.text == "!" || t.text == "+") {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if t.text == "+" {
			return x, nil
		}
		return &node{kind: nUnary, op: t.text, args: []*node{x}, line: t.line, col: t.col}, nil
	}
	return p.power()
}

// power parses a primary and an optional "** exponent", where the
// exponent is itself a unary expression: as in Python, -x**2 is -(x**2),
// x**-1 is x**(-1) and x**y**z is x**(y**z).
func (p *parser) power() (*node, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tOp || t.text != "**" {
		return x, nil
	}
	p.next()
	y, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &node{kind: nBinary, op: "**", args: []*node{x, y}, line: t.line, col: t.col}, nil
}

func (p *parser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tNum:
		return &node{kind: nNum, val: t.val, line: t.line, col: t.col}, nil
	case tIdent:
		if q := p.peek(); q.kind == tOp && q.text == "(" {
			return p.call(t)
		}
		return &node{kind: nIdent, name: t.text, line: t.line, col: t.col}, nil
	case tOp:
		if t.text == "(" {
			x, err := p.expr(precTernary)
			if err != nil {
				return nil, err
			}
			if c := p.next(); c.kind != tOp || c.text != ")" {
				return nil, p.errAt(c, "expected ')' to close the '(' at line %d, column %d, found %s", t.line, t.col, c)
			}
			x.paren = true
			return x, nil
		}
	}
	if t.kind == tSep || t.kind == tEOF || t.kind == tOp && (t.text == ")" || t.text == "," || binaryPrec[t.text] > 0 || t.text == "?" || t.text == ":") {
		return nil, p.errAt(t, "unexpected %s: an operand is missing", t)
	}
	return nil, p.errAt(t, "unexpected %s: expected a number, a name, a call or '('", t)
}

func (p *parser) call(name token) (*node, error) {
	open := p.next() // "("
	n := &node{kind: nCall, name: name.text, line: name.line, col: name.col}
	if c := p.peek(); c.kind == tOp && c.text == ")" {
		p.next()
	} else {
		for {
			a, err := p.expr(precTernary)
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, a)
			c := p.next()
			if c.kind == tOp && c.text == ")" {
				break
			}
			if c.kind != tOp || c.text != "," {
				return nil, p.errAt(c, "expected ',' or ')' in the call of %s (opened at column %d), found %s", name.text, open.col, c)
			}
		}
	}
	if f, ok := functions[name.text]; ok {
		if f.op == opUniform || f.op == opNormal {
			n.site = p.sites
			p.sites++
		}
	}
	return n, nil
}

// format writes the canonical form of a program: statements separated by
// "; ", single spaces around binary operators and assignments, and only the
// parentheses that the precedence needs.
func format(stmts []stmt) string {
	var b strings.Builder
	for i, s := range stmts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.name)
		b.WriteString(" ")
		b.WriteString(s.op)
		b.WriteString(" ")
		writeNode(&b, s.rhs, precTernary)
	}
	return b.String()
}

func nodePrec(n *node) int {
	switch n.kind {
	case nTernary:
		return precTernary
	case nBinary:
		return binaryPrec[n.op]
	case nUnary:
		return precUnary
	case nNum:
		if n.val < 0 || n.val == 0 && math.Signbit(float64(n.val)) {
			return precUnary // printed with a leading '-'
		}
	}
	return precPrimary
}

// writeNode writes n, parenthesised when its precedence is below min.
func writeNode(b *strings.Builder, n *node, min int) {
	if nodePrec(n) < min {
		b.WriteByte('(')
		defer b.WriteByte(')')
	}
	switch n.kind {
	case nNum:
		b.WriteString(formatNum(n.val))
	case nIdent:
		b.WriteString(n.name)
	case nUnary:
		b.WriteString(n.op)
		writeNode(b, n.args[0], precUnary)
	case nBinary:
		prec := binaryPrec[n.op]
		left, right := prec, prec+1 // left-associative
		switch prec {
		case precCompare:
			left = precCompare + 1 // comparisons do not chain
		case precPow:
			left, right = precPrimary, precUnary // right-associative, exponent unary
		}
		writeNode(b, n.args[0], left)
		b.WriteString(" " + n.op + " ")
		writeNode(b, n.args[1], right)
	case nTernary:
		writeNode(b, n.args[0], precOr)
		b.WriteString(" ? ")
		writeNode(b, n.args[1], precTernary)
		b.WriteString(" : ")
		writeNode(b, n.args[2], precTernary)
	case nCall:
		b.WriteString(n.name)
		b.WriteByte('(')
		for i, a := range n.args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeNode(b, a, precTernary)
		}
		b.WriteByte(')')
	}
}

// formatNum writes a float32 in the shortest form that reads back to the
// same value.
func formatNum(v float32) string {
	return strconv.FormatFloat(float64(v), 'g', -1, 32)
}
