package initexpr_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/core/initexpr"
)

// node is an arithmetic expression tree, the reference for Parse's
// evaluation: value computes it in float64 in tree order.
type node struct {
	op   byte // 0: number, '+', '-', '*', '/', 'n' (negation), '%'
	lit  string
	l, r *node
}

// value evaluates n; divZero is set when a divisor is zero.
func (n *node) value(divZero *bool) float64 {
	switch n.op {
	case 0:
		v, _ := strconv.ParseFloat(n.lit, 64)
		return v
	case 'n':
		return -n.l.value(divZero)
	case '%':
		return n.l.value(divZero) / 100
	}
	a, b := n.l.value(divZero), n.r.value(divZero)
	switch n.op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	}
	if b == 0 {
		*divZero = true
	}
	return a / b
}

func prec(op byte) int {
	switch op {
	case '+', '-':
		return 1
	case '*', '/':
		return 2
	}
	return 3 // numbers, negation and percent bind tightest
}

// render writes n with the parentheses its shape needs (and, at random,
// some it does not need) and random whitespace.
func (n *node) render(r *rand.Rand, b *strings.Builder) {
	sp := func() {
		if r.IntN(3) == 0 {
			b.WriteString([]string{" ", "  ", "\t"}[r.IntN(3)])
		}
	}
	paren := func(c *node, need bool) {
		if need || r.IntN(5) == 0 {
			b.WriteByte('(')
			sp()
			c.render(r, b)
			sp()
			b.WriteByte(')')
			return
		}
		c.render(r, b)
	}
	switch n.op {
	case 0:
		b.WriteString(n.lit)
	case 'n':
		b.WriteByte('-')
		sp()
		// Negation applies to a postfix operand: anything else needs parentheses.
		paren(n.l, n.l.op != 0 && n.l.op != '%' && n.l.op != 'n')
	case '%':
		// '%' follows a number or a parenthesised expression only.
		paren(n.l, n.l.op != 0)
		sp()
		b.WriteByte('%')
	default:
		paren(n.l, prec(n.l.op) < prec(n.op))
		sp()
		b.WriteByte(n.op)
		sp()
		// The right operand needs parentheses unless it binds tighter: the
		// operators are left-associative and float arithmetic is not associative.
		paren(n.r, prec(n.r.op) <= prec(n.op))
	}
}

var literals = []string{"0", "1", "2", "3", "7", "10", "0.5", ".25", "1.5", "100", "1e-3", "2E+3", "3.25e1", "0.1", "6.", "1e2"}

func randomNode(r *rand.Rand, depth int) *node {
	if depth == 0 || r.IntN(4) == 0 {
		return &node{lit: literals[r.IntN(len(literals))]}
	}
	switch k := r.IntN(8); k {
	case 0:
		return &node{op: 'n', l: randomNode(r, depth-1)}
	case 1:
		return &node{op: '%', l: randomNode(r, depth-1)}
	default:
		return &node{op: "+-*/+-*/"[k], l: randomNode(r, depth-1), r: randomNode(r, depth-1)}
	}
}

// TestRandomExpressions checks precedence, associativity, negation, '%'
// and parentheses against the tree evaluation of thousands of random
// expressions.
func TestRandomExpressions(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	ok, divs := 0, 0
	for range 20000 {
		n := randomNode(r, 6)
		var b strings.Builder
		n.render(r, &b)
		src := b.String()
		divZero := false
		want := n.value(&divZero)
		s, err := initexpr.Parse(src)
		switch {
		case divZero:
			divs++
			if err == nil || !strings.Contains(err.Error(), "division by zero") {
				t.Fatalf("Parse(%q) = %+v, %v; want a division by zero error", src, s, err)
			}
		case math.Abs(want) >= math.MaxFloat32:
			// Out of float32 range: exercised by TestParseInvalid.
		default:
			ok++
			if err != nil {
				t.Fatalf("Parse(%q): %v (want %g)", src, err, want)
			}
			if !s.Const || !f32eq(s.Value, float32(want)) {
				t.Fatalf("Parse(%q) = %+v, want Const %g", src, s, float32(want))
			}
		}
	}
	if ok < 10000 || divs < 100 {
		t.Errorf("only %d evaluated and %d division-by-zero expressions; the generator is off", ok, divs)
	}
}
