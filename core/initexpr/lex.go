package initexpr

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tName
	tLParen
	tRParen
	tComma
	tPlus
	tMinus
	tStar
	tSlash
	tPercent
	tAssign
)

// token is one lexical element. col is the 1-based column, counted in
// characters (runes), of its first character.
type token struct {
	kind tokKind
	text string
	col  int
	num  float64 // value of a tNum
}

// describe names a token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tNum:
		return "number " + t.text
	case tName:
		return "name '" + t.text + "'"
	}
	return "'" + t.text + "'"
}

var punct = [...]tokKind{
	'(': tLParen, ')': tRParen, ',': tComma, '+': tPlus, '-': tMinus,
	'*': tStar, '/': tSlash, '%': tPercent, '=': tAssign,
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isNameChar(c byte) bool { return isNameStart(c) || isDigit(c) }

// lex splits src into tokens, ending with a tEOF token whose column is one
// past the last character.
func lex(src string) ([]token, error) {
	var toks []token
	col := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			t, n, err := lexNumber(src, i, col)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
			col += n // numbers are ASCII: one byte per column
		case isNameStart(c):
			j := i + 1
			for j < len(src) && isNameChar(src[j]) {
				j++
			}
			toks = append(toks, token{kind: tName, text: src[i:j], col: col})
			col += j - i
			i = j
		case c < utf8.RuneSelf && int(c) < len(punct) && punct[c] != tEOF:
			toks = append(toks, token{kind: punct[c], text: src[i : i+1], col: col})
			i++
			col++
		default:
			r, w := utf8.DecodeRuneInString(src[i:])
			if unicode.IsSpace(r) {
				i += w
				col++
				continue
			}
			msg := fmt.Sprintf("unexpected character %q", r)
			switch {
			case r == utf8.RuneError && w == 1:
				msg = fmt.Sprintf("invalid UTF-8 byte %#x", c)
			case c == '.':
				msg = "'.' must be followed by digits, as in .5"
			}
			return nil, &SyntaxError{Src: src, Col: col, Msg: msg}
		}
	}
	return append(toks, token{kind: tEOF, col: col}), nil
}

// lexNumber scans the number at src[i:]:
//
//	digits [ "." { digit } ] [ exponent ] | "." digits [ exponent ]
//
// and returns its token and length in bytes.
func lexNumber(src string, i, col int) (token, int, error) {
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
			return token{}, 0, &SyntaxError{Src: src, Col: col + k - i,
				Msg: fmt.Sprintf("malformed number %q: the exponent needs digits, as in 1e-3", src[i:k])}
		}
		for k < len(src) && isDigit(src[k]) {
			k++
		}
		j = k
	}
	text := src[i:j]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		msg := fmt.Sprintf("malformed number %s", text)
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			msg = fmt.Sprintf("number %s is too large", text)
			if v == 0 { // underflow: the nearest value is zero
				msg = ""
			}
		}
		if msg != "" {
			return token{}, 0, &SyntaxError{Src: src, Col: col, Msg: msg}
		}
	}
	return token{kind: tNum, text: text, col: col, num: v}, j - i, nil
}
