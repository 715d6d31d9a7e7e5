package expr

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF   tokKind = iota
	tSep           // ';' or a newline outside parentheses
	tNum           // a float literal
	tIdent         // a name
	tOp            // an operator or punctuation
)

type token struct {
	kind      tokKind
	text      string
	val       float32 // tNum
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of program"
	case tSep:
		if t.text == "\n" {
			return "end of line"
		}
		return "';'"
	case tNum:
		return "number " + t.text
	case tIdent:
		return "identifier '" + t.text + "'"
	}
	return "'" + t.text + "'"
}

// ops lists the operators, longest first for each leading character.
var ops = []string{
	"**", "+=", "-=", "*=", "/=", ":=", "<=", ">=", "==", "!=", "&&", "||",
	"+", "-", "*", "/", "%", "<", ">", "=", "!", "?", ":", "(", ")", ",",
}

// lex splits src into tokens. Newlines inside parentheses are dropped so
// that a long expression can be wrapped; '#' starts a comment that runs to
// the end of the line.
func lex(src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	depth := 0
	i := 0
	adv := func(n int) {
		for k := 0; k < n; {
			_, sz := utf8.DecodeRuneInString(src[i:])
			i += sz
			k += sz
			col++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			if depth == 0 {
				toks = append(toks, token{kind: tSep, text: "\n", line: line, col: col})
			}
			i++
			line++
			col = 1
			continue
		case c == ' ' || c == '\t' || c == '\r':
			adv(1)
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
			continue
		case c == ';':
			toks = append(toks, token{kind: tSep, text: ";", line: line, col: col})
			adv(1)
			continue
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			j := i
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			if j < len(src) && src[j] == '.' {
				j++
				for j < len(src) && isDigit(src[j]) {
					j++
				}
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k >= len(src) || !isDigit(src[k]) {
					return nil, errorf(src, line, col, "malformed number '%s': an exponent needs digits, as in 1e-3", src[i:k])
				}
				for k < len(src) && isDigit(src[k]) {
					k++
				}
				j = k
			}
			text := src[i:j]
			f, err := strconv.ParseFloat(text, 32)
			if err != nil {
				if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
					return nil, errorf(src, line, col, "number %s is out of float32 range (largest is about 3.4e38)", text)
				}
				return nil, errorf(src, line, col, "malformed number '%s'", text)
			}
			toks = append(toks, token{kind: tNum, text: text, val: float32(f), line: line, col: col})
			adv(j - i)
			continue
		case isLetter(c):
			j := i
			for j < len(src) && (isLetter(src[j]) || isDigit(src[j])) {
				j++
			}
			toks = append(toks, token{kind: tIdent, text: src[i:j], line: line, col: col})
			adv(j - i)
			continue
		}
		matched := false
		for _, op := range ops {
			if len(src)-i >= len(op) && src[i:i+len(op)] == op {
				switch op {
				case "(":
					depth++
				case ")":
					if depth > 0 {
						depth--
					}
				}
				toks = append(toks, token{kind: tOp, text: op, line: line, col: col})
				adv(len(op))
				matched = true
				break
			}
		}
		if !matched {
			r, _ := utf8.DecodeRuneInString(src[i:])
			msg := fmt.Sprintf("unexpected character %q", r)
			switch r {
			case '&', '|':
				msg += fmt.Sprintf(" (the logical operators are && and ||)")
			case '^':
				msg += " (use x ** y or pow(x, y) for powers)"
			}
			return nil, errorf(src, line, col, "%s", msg)
		}
	}
	toks = append(toks, token{kind: tEOF, line: line, col: col})
	return toks, nil
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// validName reports whether s is an identifier of the language.
func validName(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}
