package initexpr_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core/initexpr"
)

// c is the Spec of the constant v.
func c(v float32) initexpr.Spec {
	return initexpr.Spec{Const: true, Value: v, Dist: rng.ConstDist(v)}
}

// d is the Spec of the distribution x.
func d(x rng.Dist) initexpr.Spec { return initexpr.Spec{Dist: x} }

// dd is the Spec of x with the given density and scale.
func dd(x rng.Dist, density, scale float32) initexpr.Spec {
	x.Density, x.Scale = density, scale
	return initexpr.Spec{Dist: x}
}

func f32eq(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// same compares two Specs bit for bit, ignoring Source.
func same(a, b initexpr.Spec) bool {
	return a.Const == b.Const && f32eq(a.Value, b.Value) && a.Dist.Kind == b.Dist.Kind &&
		f32eq(a.Dist.A, b.Dist.A) && f32eq(a.Dist.B, b.Dist.B) &&
		f32eq(a.Dist.Scale, b.Dist.Scale) && f32eq(a.Dist.Density, b.Dist.Density)
}

// f is float32(x) of a value computed at run time in float64, as Parse does.
func f(x float64) float32 { return float32(x) }

var (
	ten, hundred, three, one, two = 10.0, 100.0, 3.0, 1.0, 2.0
)

var validCases = []struct {
	src  string
	want initexpr.Spec
}{
	// Numbers.
	{"0", c(0)},
	{"1", c(1)},
	{"1.5", c(1.5)},
	{".5", c(0.5)},
	{"1.", c(1)},
	{"1e-3", c(f(0.001))},
	{"2E+3", c(2000)},
	{"2e3", c(2000)},
	{"-65", c(-65)},
	{"0.25", c(0.25)},
	{"1e-400", c(0)},
	{"3.4e38", c(f(3.4e38))},
	{"3.4028235e38", c(math.MaxFloat32)},
	{"3.4028235677973362e38", c(math.MaxFloat32)}, // just below 2^128 - 2^103: rounds down
	{"-0", c(f(math.Copysign(0, -1)))},
	{"007", c(7)},
	// Arithmetic and precedence.
	{"3*(1+2)", c(9)},
	{"1+2*3", c(7)},
	{"(1+2)*3", c(9)},
	{"1-2-3", c(-4)},
	{"8/2/2", c(2)},
	{"2*3-4/8", c(5.5)},
	{"1/3", c(f(one / three))},
	{"2/3*3", c(f(two / three * three))},
	{"--1", c(1)},
	{"+-+1", c(-1)},
	{"-(-(1))", c(1)},
	{"2*-3", c(-6)},
	{"-2*3", c(-6)},
	{"((((((((((4))))))))))", c(4)},
	{" ( 1 + 2 ) * ( 3 - 1 ) ", c(6)},
	{"1e300/1e300", c(1)},
	// Percent.
	{"10%", c(f(ten / hundred))},
	{"50%", c(0.5)},
	{"100%", c(1)},
	{"-10%", c(f(-ten / hundred))},
	{"(1+2)%", c(f(three / hundred))},
	{"2*3%", c(f(2 * (three / hundred)))},
	{"(10%)%", c(f(ten / hundred / hundred))},
	{"12.5%", c(0.125)},
	// zeros, ones, constant.
	{"zeros", c(0)},
	{"ones", c(1)},
	{"ones()", c(1)},
	{"ONES", c(1)},
	{"Zeros ( )", c(0)},
	{"ones, scale=0.5", c(0.5)},
	{"ones(scale=0.5)", c(0.5)},
	{"constant(3)", c(3)},
	{"const(2), scale=3", c(6)},
	{"constant(v=2)", c(2)},
	{"constant(value=-1)", c(-1)},
	{"2, scale=3", c(6)},
	{"10%, scale=10", c(f(ten/hundred) * 10)},
	{"zeros, density=0.5", dd(rng.ConstDist(0), 0.5, 1)},
	{"ones, density=1", dd(rng.ConstDist(1), 1, 1)},
	{"0.5, density=0.1", dd(rng.ConstDist(0.5), f(0.1), 1)},
	{"ones(density=0.5, scale=2)", dd(rng.ConstDist(1), 0.5, 2)},
	{"constant(4), density=25%, scale=-1", dd(rng.ConstDist(4), 0.25, -1)},
	// uniform and its aliases.
	{"uniform", d(rng.UniformDist(0, 1))},
	{"UNIFORM()", d(rng.UniformDist(0, 1))},
	{"random", d(rng.UniformDist(0, 1))},
	{"rand()", d(rng.UniformDist(0, 1))},
	{"Rand", d(rng.UniformDist(0, 1))},
	{"uniform(0.0,0.5)", d(rng.UniformDist(0, 0.5))},
	{"uniform(-(1+1), (2*(3)))", d(rng.UniformDist(-2, 6))},
	{"uniform(lo=1, hi=2)", d(rng.UniformDist(1, 2))},
	{"uniform(hi=2, lo=1)", d(rng.UniformDist(1, 2))},
	{"uniform(low=1, HIGH=2)", d(rng.UniformDist(1, 2))},
	{"uniform(1, hi=2)", d(rng.UniformDist(1, 2))},
	{"uniform(2,2)", d(rng.UniformDist(2, 2))},
	{"uniform(10%, 20%)", d(rng.UniformDist(f(ten/hundred), f(20/hundred)))},
	{"uniform(0, 1, density=0.1, scale=2)", dd(rng.UniformDist(0, 1), f(0.1), 2)},
	{"uniform(0,1), density=10%", dd(rng.UniformDist(0, 1), f(ten/hundred), 1)},
	{"uniform(density=0.5)", dd(rng.UniformDist(0, 1), 0.5, 1)},
	{"uniform(0,1),scale=-1", dd(rng.UniformDist(0, 1), 1, -1)},
	{"uniform(0,1), scale=2, density=0.5", dd(rng.UniformDist(0, 1), 0.5, 2)},
	{"uniform(0,1,density=0.5), scale=2", dd(rng.UniformDist(0, 1), 0.5, 2)},
	{"random(density=0)", dd(rng.UniformDist(0, 1), 0, 1)},
	{" \t uniform ( 0 , 1 ) , DENSITY = 0.5 ", dd(rng.UniformDist(0, 1), 0.5, 1)},
	// normal and its aliases.
	{"normal", d(rng.NormalDist(0, 1))},
	{"normal()", d(rng.NormalDist(0, 1))},
	{"normal(0.5, 0.1)", d(rng.NormalDist(0.5, f(0.1)))},
	{"gauss(1,2)", d(rng.NormalDist(1, 2))},
	{"Gaussian(mean=1, sd=0)", d(rng.NormalDist(1, 0))},
	{"normal(mu=1, sigma=2)", d(rng.NormalDist(1, 2))},
	{"normal(loc=1, std=2)", d(rng.NormalDist(1, 2))},
	{"normal(0,1), density=10%", dd(rng.NormalDist(0, 1), f(ten/hundred), 1)},
	{"normal(-65, 5), scale=1e-3", dd(rng.NormalDist(-65, 5), 1, f(0.001))},
	// lognormal.
	{"lognormal", d(rng.LogNormalDist(0, 1))},
	{"lognormal(1, 0.5)", d(rng.LogNormalDist(1, 0.5))},
	{"LogNormal(mean=-1, sigma=2)", d(rng.LogNormalDist(-1, 2))},
	{"lognormal(mu=0, sd=0)", d(rng.LogNormalDist(0, 0))},
	// bernoulli.
	{"bernoulli(0.3)", d(rng.BernoulliDist(f(0.3)))},
	{"bernoulli(p=5%)", d(rng.BernoulliDist(f(5 / hundred)))},
	{"bernoulli(0)", d(rng.BernoulliDist(0))},
	{"bernoulli(1), density=0.5, scale=3", dd(rng.BernoulliDist(1), 0.5, 3)},
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases {
		got, err := initexpr.Parse(tc.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		if !same(got, tc.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.src, got, tc.want)
		}
		if got.Source != tc.src {
			t.Errorf("Parse(%q).Source = %q", tc.src, got.Source)
		}
		if err := got.Dist.Validate(); err != nil {
			t.Errorf("Parse(%q).Dist.Validate(): %v", tc.src, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range validCases {
		s, err := initexpr.Parse(tc.src)
		if err != nil {
			continue // reported by TestParseValid
		}
		canon := s.String()
		back, err := initexpr.Parse(canon)
		if err != nil {
			t.Errorf("Parse(%q).String() = %q does not parse: %v", tc.src, canon, err)
			continue
		}
		if !same(back, s) {
			t.Errorf("Parse(%q) = %+v but Parse(%q) = %+v", tc.src, s, canon, back)
		}
		if again := back.String(); again != canon {
			t.Errorf("String is not canonical: %q then %q", canon, again)
		}
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"10%", "0.1"},
		{"3*(1+2)", "9"},
		{"-0", "-0"},
		{"1e6", "1e+06"},
		{"1/3", "0.33333334"},
		{"ones, scale=0.5", "0.5"},
		{"uniform", "uniform(0, 1)"},
		{"rand", "uniform(0, 1)"},
		{"uniform(0, 1, density=0.1, scale=2)", "uniform(0, 1), density=0.1, scale=2"},
		{"uniform(0,1), scale=2, density=0.5", "uniform(0, 1), density=0.5, scale=2"},
		{"zeros, density=0.5", "constant(0), density=0.5"},
		{"ones, density=1", "constant(1), density=1"},
		{"gauss(1, 2)", "normal(1, 2)"},
		{"normal(0,1), density=10%", "normal(0, 1), density=0.1"},
		{"lognormal", "lognormal(0, 1)"},
		{"bernoulli(p=5%)", "bernoulli(0.05)"},
	} {
		s, err := initexpr.Parse(tc.src)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		if got := s.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.src, got, tc.want)
		}
	}
	// A Spec that Parse cannot produce still prints, as something Parse rejects.
	bad := initexpr.Spec{Dist: rng.Dist{Kind: 9, Scale: 1, Density: 1}}
	if s := bad.String(); !strings.HasPrefix(s, "invalid(9)") {
		t.Errorf("String of kind 9 = %q", s)
	} else if _, err := initexpr.Parse(s); err == nil {
		t.Errorf("Parse(%q) succeeded", s)
	}
	// The zero Spec is a zero-density, zero-scale constant.
	if s := (initexpr.Spec{}).String(); s != "constant(0), density=0, scale=0" {
		t.Errorf("Spec{}.String() = %q", s)
	}
}

// TestStringNumbers round-trips float32 values of every magnitude through
// String and Parse, bit for bit.
func TestStringNumbers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []float32{0, 1, -1, 0.1, 1e-45, -1e-45, math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, 16777217, 3.4028233e38}
	for range 100000 {
		v := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
			vals = append(vals, v)
		}
	}
	for _, v := range vals {
		s := initexpr.Spec{Const: true, Value: v, Dist: rng.ConstDist(v)}
		back, err := initexpr.Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(%q) for %g: %v", s.String(), v, err)
		}
		if !same(back, s) {
			t.Fatalf("%g (bits %#x) printed as %q parses to %g", v, math.Float32bits(v), s.String(), back.Value)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	src := strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + "%"
	s, err := initexpr.Parse(src)
	if err != nil {
		t.Fatalf("10000 levels: %v", err)
	}
	if !same(s, c(f(one/hundred))) {
		t.Errorf("10000 levels: got %+v", s)
	}
	src = "uniform(" + strings.Repeat("(", 5000) + "-1" + strings.Repeat(")", 5000) + ", 1)"
	if s, err = initexpr.Parse(src); err != nil || !same(s, d(rng.UniformDist(-1, 1))) {
		t.Errorf("nested uniform argument: %+v, %v", s, err)
	}
	src = strings.Repeat("(", 10001) + "1" + strings.Repeat(")", 10001)
	checkError(t, src, 10001, "nested more than 10000 deep")
	// Unary signs do not nest: a long run of them is fine.
	if s, err = initexpr.Parse(strings.Repeat("-", 100001) + "2"); err != nil || !same(s, c(-2)) {
		t.Errorf("100001 minus signs: %+v, %v", s, err)
	}
}

var invalidCases = []struct {
	src  string
	col  int
	want string // a substring of Msg
}{
	{"", 1, "empty initialisation string"},
	{"   ", 4, "empty initialisation string"},
	// Unknown names, with suggestions.
	{"unifrom(0,1)", 1, "unknown name 'unifrom'; did you mean 'uniform'?"},
	{"unifrom", 1, "did you mean 'uniform'?"},
	{"normla(0,1)", 1, "did you mean 'normal'?"},
	{"lognorm(0,1)", 1, "did you mean 'lognormal'?"},
	{"Gaus", 1, "unknown name 'Gaus'; did you mean 'gauss'?"},
	{"bernouli(0.5)", 1, "did you mean 'bernoulli'?"},
	{"foo", 1, "unknown name 'foo'; expected a number or one of zeros, ones"},
	{"1+unifrom", 3, "did you mean 'uniform'?"},
	{"1+x", 3, "unknown name 'x' in an expression"},
	{"density=0.5", 1, "density= must follow a value"},
	{"1+scale", 3, "scale must be written scale=value"},
	// Wrong arguments.
	{"uniform(1)", 10, "uniform: missing hi; expected uniform(lo, hi) or no arguments"},
	{"uniform(lo=1)", 13, "missing hi"},
	{"uniform(hi=1)", 13, "missing lo"},
	{"uniform(1,2,3)", 13, "uniform: too many arguments; expected uniform(lo, hi)"},
	{"normal(0,1,2)", 12, "expected normal(mean, sd) or no arguments"},
	{"lognormal(1)", 12, "expected lognormal(mean, sigma)"},
	{"bernoulli()", 11, "bernoulli needs arguments: bernoulli(p)"},
	{"bernoulli", 1, "bernoulli needs arguments: bernoulli(p)"},
	{"bernoulli(0.1, 0.2)", 16, "too many arguments; expected bernoulli(p)"},
	{"constant()", 10, "constant needs arguments: constant(v)"},
	{"zeros(1)", 7, "zeros takes no arguments besides density= and scale="},
	{"ones(1, 2)", 6, "ones: too many arguments"},
	{"random(0,2)", 8, "random takes no arguments"},
	{"rand(5)", 6, "write uniform(lo, hi)"},
	{"uniform(0, lo=1)", 12, "uniform: lo is given twice (first at column 9)"},
	{"uniform(low=0, lo=1)", 16, "lo is given twice"},
	{"uniform(lo=0, 1)", 15, "positional argument after a keyword argument"},
	{"uniform(density=0.5, 0, 1)", 22, "positional argument after a keyword"},
	{"uniform(0, 1, foo=2)", 15, "uniform: unknown keyword 'foo'; uniform accepts uniform(lo, hi), density= and scale="},
	{"uniform(0, 1, densty=0.1)", 15, "unknown keyword 'densty'; did you mean 'density'?"},
	{"normal(0, sdd=2)", 11, "did you mean 'sd'?"},
	{"zeros(foo=1)", 7, "zeros: unknown keyword 'foo'; zeros takes no arguments"},
	{"normal(0, scale=2)", 18, "missing sd; expected normal(mean, sd) or no arguments (note: scale= multiplies"},
	// Value checks.
	{"uniform(2,1)", 9, "uniform: lo 2 is greater than hi 1; write uniform(1, 2)"},
	{"uniform(lo=2, hi=1)", 12, "lo 2 is greater than hi 1"},
	{"normal(0,-1)", 10, "normal: standard deviation sd -1 is negative"},
	{"gauss(0, sd=-(1))", 13, "is negative"},
	{"lognormal(0, -0.5)", 14, "lognormal: sigma -0.5 is negative"},
	{"bernoulli(1.5)", 11, "probability p 1.5 is outside [0, 1]"},
	{"bernoulli(-1%)", 11, "outside [0, 1]"},
	{"uniform, density=1.5", 18, "density 1.5 is outside [0, 1]"},
	{"uniform(0,1,density=-0.1)", 21, "density -0.1 is outside [0, 1]"},
	{"ones, density=200%", 15, "density 2 is outside [0, 1]"},
	{"uniform(0,1),density=0.1,density=0.2", 26, "density is given twice (first at column 14)"},
	{"uniform(0,1,density=0.1),density=0.2", 26, "density is given twice (first at column 13)"},
	{"ones, scale=1, scale=2", 16, "scale is given twice (first at column 7)"},
	// Parentheses.
	{"(1+2", 5, "missing ')' to close the '(' at column 1"},
	{"((1)", 5, "missing ')' to close the '(' at column 1"},
	{"(", 2, "expected a number or '(', found end of input"},
	{"()", 2, "expected a number or '(', found ')'"},
	{"1+2)", 4, "unexpected ')' with no matching '('"},
	{")", 1, "expected a number or '(', found ')'"},
	{"uniform(0,1", 12, "missing ')' to close the '(' at column 8"},
	{"uniform(", 9, "missing ')' to close the '(' at column 8"},
	{"uniform(0,1))", 13, "unexpected ')' with no matching '('"},
	{"uniform(0,", 11, "missing ')' to close the '(' at column 8"},
	{"uniform(0, -", 13, "expected a number or '(', found end of input"},
	{"uniform(0,)", 11, "expected an argument after the ',' at column 10"},
	{"uniform(0 1)", 11, "expected ',' or ')' in the arguments of uniform, found number 1"},
	{"uniform((0), (1)", 17, "missing ')' to close the '(' at column 8"},
	{"(1 2)", 4, "expected an operator or ')' to close the '(' at column 1, found number 2"},
	{"uniform(0,1)(2)", 13, "unexpected '(' after the arguments of uniform"},
	// Trailing garbage.
	{"1 2", 3, "unexpected number 2 after the end of the expression"},
	{"10ms", 3, "unexpected name 'ms' after the end"},
	{"uniform(0,1) density=0.1", 14, "separate options with ','"},
	{"uniform(0,1)*2", 13, "a distribution cannot take part in arithmetic; to multiply it write ', scale=...'"},
	{"ones + 1", 6, "cannot take part in arithmetic"},
	{"1.5.3", 4, "unexpected number .3"},
	{"uniform(0,1), foo=1", 15, "unknown option 'foo'; only density= and scale="},
	{"uniform(0,1), densty=1", 15, "did you mean 'density'?"},
	{"uniform(0,1), lo=1", 15, "lo= must be given inside the parentheses: uniform(lo, hi)"},
	{"uniform(0,1), 0.5", 15, "expected density=... or scale=... after the ',' at column 13, found number 0.5"},
	{"ones, scale", 7, "expected density=... or scale=..."},
	{"uniform(0,1),", 14, "found end of input"},
	{"1 == 1", 3, "unexpected '='"},
	// Arithmetic.
	{"1/0", 3, "division by zero"},
	{"1/(2-2)", 3, "division by zero"},
	{"uniform(0, 1/0%)", 14, "division by zero"},
	{"2**3", 3, "'**' (power) is not supported"},
	{"10%%", 4, "'%' may follow only a number or a parenthesised expression"},
	{"%5", 1, "'%' must follow a number"},
	{"-", 2, "expected a number or '(', found end of input"},
	{"1+", 3, "found end of input"},
	{"2*uniform(0,1)", 3, "uniform cannot be used inside an expression"},
	{"(ones)", 2, "ones cannot be used inside an expression"},
	{"-uniform", 2, "cannot be used inside an expression"},
	// Non-finite values and range.
	{"nan", 1, "NaN and infinite values are not allowed"},
	{"NaN", 1, "NaN and infinite values are not allowed"},
	{"-inf", 2, "NaN and infinite values are not allowed"},
	{"uniform(0, Infinity)", 12, "not allowed"},
	{"1e400", 1, "number 1e400 is too large"},
	{"1e300*1e300", 6, "'*' overflows"},
	{"1e308+1e308", 6, "'+' overflows"},
	{"-1e308-1e308", 7, "'-' overflows"},
	{"1e300/1e-300", 6, "'/' overflows"},
	{"1e39", 1, "value 1e+39 is outside the float32 range"},
	{"uniform(0, 3.5e38)", 12, "outside the float32 range"},
	{"-3.4028235677973366e38", 1, "outside the float32 range"}, // 2^128 - 2^103 rounds to Inf
	{"3e38, scale=10", 7, "3e+38 times scale 10 overflows float32"},
	// Lexical errors.
	{"1e", 3, "malformed number \"1e\": the exponent needs digits"},
	{"1e+", 4, "exponent needs digits"},
	{"2E-x", 4, "exponent needs digits"},
	{"1 $ 2", 3, "unexpected character '$'"},
	{"1 . 5", 3, "'.' must be followed by digits"},
	{"é", 1, "unexpected character 'é'"},
	{"ñ+x", 1, "unexpected character 'ñ'"},
	{"1+é", 3, "unexpected character 'é'"},
	{"éé 1 2", 1, "unexpected character"},
	{"\xff", 1, "invalid UTF-8 byte 0xff"},
	{"uniform(\"0\", 1)", 9, "unexpected character '\"'"},
	{"\tfoo", 2, "unknown name 'foo'"},
	{"1+\x01", 3, "unexpected character '\\x01'"},
	{strings.Repeat("uniform", 10), 1, "unknown name 'uniformuniform"},
	{"ones, density=1/0", 17, "division by zero"},
	{"uniform(0,\n1) x", 15, "unexpected name 'x'"},
}

// checkError parses src and checks its *SyntaxError: column, message and
// the caret line of Error.
func checkError(t *testing.T, src string, col int, want string) {
	t.Helper()
	s, err := initexpr.Parse(src)
	if err == nil {
		t.Errorf("Parse(%q) = %+v, want an error", src, s)
		return
	}
	var se *initexpr.SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("Parse(%q): error %T is not a *SyntaxError", src, err)
		return
	}
	if !same(s, initexpr.Spec{}) || s.Source != "" {
		t.Errorf("Parse(%q) returned %+v with its error, want the zero Spec", src, s)
	}
	if se.Src != src || se.Col != col || !strings.Contains(se.Msg, want) {
		t.Errorf("Parse(%q): column %d, %q; want column %d, a message containing %q", src, se.Col, se.Msg, col, want)
	}
	checkCaret(t, se)
}

// checkCaret checks the layout of Error: the message line names the column,
// the second line shows the source and the third has the caret under
// character Col of the source.
func checkCaret(t *testing.T, se *initexpr.SyntaxError) {
	t.Helper()
	lines := strings.Split(se.Error(), "\n")
	if len(lines) != 3 {
		t.Errorf("Error() of %q has %d lines, want 3:\n%s", se.Src, len(lines), se.Error())
		return
	}
	if want := "initexpr: column " + strconv.Itoa(se.Col) + ": " + se.Msg; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	srcLine, caret := []rune(lines[1]), []rune(lines[2])
	if len(caret) != 2+se.Col || caret[len(caret)-1] != '^' {
		t.Errorf("Error() of %q (column %d): caret line %q is not %d characters ending in '^'", se.Src, se.Col, lines[2], 2+se.Col)
		return
	}
	if n := utf8.RuneCountInString(se.Src); len(srcLine) != 2+n {
		t.Errorf("Error() of %q: source line %q has %d characters, want %d", se.Src, lines[1], len(srcLine), 2+n)
		return
	}
	for i, r := range caret[:len(caret)-1] {
		want := ' '
		if i < len(srcLine) && srcLine[i] == '\t' {
			want = '\t'
		}
		if r != want {
			t.Errorf("Error() of %q: caret line %q has %q at %d, want %q", se.Src, lines[2], r, i, want)
			return
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range invalidCases {
		checkError(t, tc.src, tc.col, tc.want)
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := initexpr.Parse("uniform(0, 1, densty=0.1)")
	want := "initexpr: column 15: uniform: unknown keyword 'densty'; did you mean 'density'?\n" +
		"  uniform(0, 1, densty=0.1)\n" +
		"                ^"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	// A tab stays a tab so the caret lines up; a newline shows as a space.
	_, err = initexpr.Parse("\t1 +\n$")
	want = "initexpr: column 6: unexpected character '$'\n" +
		"  \t1 + $\n" +
		"  \t    ^"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%q\nwant\n%q", err, want)
	}
	// A column past the end of the source (end of input).
	_, err = initexpr.Parse("(1")
	want = "initexpr: column 3: missing ')' to close the '(' at column 1\n" +
		"  (1\n" +
		"    ^"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%q\nwant\n%q", err, want)
	}
}
