package expr

import (
	"fmt"
	"strings"
)

// Error is a compile error: Msg describes the problem at line Line, column
// Col (both 1-based; the column counts characters) of the program source
// Src. Errors in the Env itself have Line 0.
type Error struct {
	Src       string
	Line, Col int
	Msg       string
}

// Error formats the error with the source line and a caret under the
// column:
//
//	expr: line 1, column 6: unknown identifier 'vv' (did you mean 'v'?)
//	    v += vv*2
//	         ^
func (e *Error) Error() string {
	if e.Line <= 0 {
		return "expr: " + e.Msg
	}
	var b strings.Builder
	fmt.Fprintf(&b, "expr: line %d, column %d: %s", e.Line, e.Col, e.Msg)
	lines := strings.Split(e.Src, "\n")
	if e.Line > len(lines) {
		return b.String()
	}
	text := strings.TrimRight(lines[e.Line-1], "\r")
	b.WriteString("\n    ")
	b.WriteString(text)
	b.WriteString("\n    ")
	// Keep tabs so that the caret lines up however tabs are shown.
	col := 1
	for _, r := range text {
		if col >= e.Col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		col++
	}
	b.WriteByte('^')
	return b.String()
}

// errorf returns an *Error at line, col of src.
func errorf(src string, line, col int, format string, args ...any) *Error {
	return &Error{Src: src, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// suggest returns " (did you mean 'x'?)" for the candidate closest to name,
// or "" when none is close enough to be a likely typo.
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if c == name || c == "" {
			continue
		}
		d := editDistance(name, c)
		if strings.EqualFold(name, c) {
			d = 0 // a case slip is the most likely typo
		}
		if d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	limit := 2
	if n := len([]rune(name)); n <= 2 {
		limit = 1
	} else if n >= 8 {
		limit = 3
	}
	if best == "" || bestD > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean '%s'?)", best)
}

// editDistance is the Levenshtein distance between a and b (in runes).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
