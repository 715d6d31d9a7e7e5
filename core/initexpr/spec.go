package initexpr

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// Spec is a parsed initialisation string.
type Spec struct {
	// Const is true when every element is Value: a number, an arithmetic
	// expression, 'zeros', 'ones' or 'constant(v)', without a density. A
	// scale is folded into Value.
	Const bool
	Value float32
	// Dist is the distribution when !Const (Scale 1 and Density 1 unless
	// given). When Const it is rng.ConstDist(Value), so Dist always
	// describes the fill.
	Dist rng.Dist
	// Source is the text that was parsed.
	Source string
}

// String returns the canonical form of s: a number when s.Const, else
// "kind(args)" followed by ", density=d" (always for a constant with a
// density, otherwise when d != 1) and ", scale=x" (when x != 1). Parsing it
// gives s back, apart from Source. Numbers use the shortest form that
// parses to the same float32.
func (s Spec) String() string {
	if s.Const {
		return formatNum(s.Value)
	}
	d := s.Dist
	var b strings.Builder
	switch d.Kind {
	case rng.Const:
		fmt.Fprintf(&b, "constant(%s)", formatNum(d.A))
	case rng.Uniform, rng.Normal, rng.LogNormal:
		fmt.Fprintf(&b, "%s(%s, %s)", d.Kind, formatNum(d.A), formatNum(d.B))
	case rng.Bernoulli:
		fmt.Fprintf(&b, "bernoulli(%s)", formatNum(d.A))
	default:
		fmt.Fprintf(&b, "invalid(%d)", uint8(d.Kind)) // Parse never produces it
	}
	if d.Density != 1 || d.Kind == rng.Const {
		b.WriteString(", density=")
		b.WriteString(formatNum(d.Density))
	}
	if d.Scale != 1 {
		b.WriteString(", scale=")
		b.WriteString(formatNum(d.Scale))
	}
	return b.String()
}

// formatNum formats v with the fewest digits that parse back (through the
// float64 arithmetic of Parse) to exactly v.
func formatNum(v float32) string {
	s := strconv.FormatFloat(float64(v), 'g', -1, 32)
	if f, err := strconv.ParseFloat(s, 64); err == nil && float32(f) == v {
		return s
	}
	// Rounding the decimal to float64 and then to float32 can, very rarely,
	// land on the other float32; the float64 form is exact.
	return strconv.FormatFloat(float64(v), 'g', -1, 64)
}

// SyntaxError is the error Parse returns: what is wrong with Src and where.
type SyntaxError struct {
	Src string // the text given to Parse
	Col int    // 1-based column, in characters, of the offending character
	Msg string // what is wrong and, where possible, how to fix it
}

// Error returns three lines: the message with its column, the source, and
// a caret under the column.
func (e *SyntaxError) Error() string {
	var src, caret strings.Builder
	n := 0
	for _, r := range e.Src {
		n++
		pad := byte(' ')
		switch {
		case r == '\t':
			pad = '\t'
		case unicode.IsSpace(r):
			r = ' '
		case !unicode.IsPrint(r):
			r = '?'
		}
		src.WriteRune(r)
		if n < e.Col {
			caret.WriteByte(pad)
		}
	}
	for ; n < e.Col-1; n++ {
		caret.WriteByte(' ')
	}
	return fmt.Sprintf("initexpr: column %d: %s\n  %s\n  %s^", e.Col, e.Msg, src.String(), caret.String())
}

// f32Overflow is the smallest magnitude that rounds to infinity as a
// float32: halfway between math.MaxFloat32 and 2^128. Values at or beyond
// it are rejected.
const f32Overflow = 1<<128 - 1<<103
