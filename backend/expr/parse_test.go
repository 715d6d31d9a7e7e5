package expr

import (
	"errors"
	"strings"
	"testing"
)

var testEnv = Env{
	Tensors: []string{"v", "u", "I", "spike"},
	Consts:  map[string]float32{"dt": 0.5, "tau": 10, "threshold": -50},
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		msg       string // substring of Msg
	}{
		{"v = vv", 1, 5, "unknown identifier 'vv' (did you mean 'v'?)"},
		{"v += dt*\n  (uu - v)", 2, 4, "unknown identifier 'uu' (did you mean 'u'?)"},
		{"v = II", 1, 5, "unknown identifier 'II' (did you mean 'I'?)"},
		{"v = t", 1, 5, "unknown identifier 't': the time is not built in; bind t as a tensor of one element"},
		{"i = 1", 1, 1, "cannot assign to 'i': it is the element index"},
		{"N := 2; v = N", 1, 1, "cannot assign to 'N': it is the number of elements"},
		{"v = u **", 1, 9, "an operand is missing"},
		{"v = u ** * 2", 1, 10, "unexpected '*': an operand is missing"},
		{"v = u %", 1, 8, "an operand is missing"},
		{"v = % u", 1, 5, "unexpected '%': an operand is missing"},
		{"v = sign(u, 1)", 1, 5, "sign takes 1 argument (x), got 2"},
		{"v = exprl(u)", 1, 5, "unknown function 'exprl' (did you mean 'exprel'?)"},
		{"v = treshold", 1, 5, "(did you mean 'threshold'?)"},
		{"v = zzzzzz", 1, 5, "unknown identifier 'zzzzzz'"},
		{"v = exp(1, 2)", 1, 5, "exp takes 1 argument (x), got 2"},
		{"v = clip(v, 0)", 1, 5, "clip takes 3 arguments (x, lo, hi), got 2"},
		{"v = uniform(1)", 1, 5, "uniform takes 0 arguments (), got 1"},
		{"v = expp(v)", 1, 5, "unknown function 'expp' (did you mean 'exp'?)"},
		{"v = dt(v)", 1, 5, "'dt' is a constant, not a function"},
		{"v = u(v)", 1, 5, "'u' is a tensor, not a function"},
		{"v = exp", 1, 5, "'exp' is a function; call it as exp(x)"},
		{"v = u +", 1, 8, "an operand is missing"},
		{"v = u + ;", 1, 9, "an operand is missing"},
		{"v = (u + 1", 1, 11, "expected ')' to close the '(' at line 1, column 5"},
		{"v = u)", 1, 6, "unexpected ')' after the statement"},
		{"v = u v", 1, 7, "unexpected identifier 'v' after the statement"},
		{"v = 2v", 1, 6, "unexpected identifier 'v'"},
		{"v = u = 1", 1, 7, "an assignment is a statement"},
		{"v == 1", 1, 3, "expected an assignment (=, +=, -=, *=, /= or :=) after 'v', found '=='"},
		{"exp(v)", 1, 1, "a statement must assign a name"},
		{"1 + v", 1, 1, "a statement starts with the name it assigns"},
		{"dt = 1", 1, 1, "cannot assign to constant 'dt'"},
		{"w = 1", 1, 1, "cannot assign to undeclared name 'w'"},
		{"uu += 1", 1, 1, "cannot assign to undeclared name 'uu' (did you mean 'u'?)"},
		{"v := 1", 1, 1, "cannot declare 'v' with ':='"},
		{"x := 1; x := 2; v = x", 1, 9, "'x' is already declared"},
		{"exp := 1; v = exp", 1, 1, "cannot declare 'exp'"},
		{"v = x; x := 1", 1, 5, "unknown identifier 'x'"},
		{"x := x + 1; v = x", 1, 6, "unknown identifier 'x'"},
		{"v = 0 < u < 1", 1, 11, "chained comparison"},
		{"v = u == 1 != 0", 1, 12, "chained comparison"},
		{"v = u ? 1", 1, 10, "expected ':' of the conditional"},
		{"v = 1e40", 1, 5, "out of float32 range"},
		{"v = 1e", 1, 5, "malformed number '1e'"},
		{"v = 1e+", 1, 5, "malformed number '1e+'"},
		{"v = u & I", 1, 7, "the logical operators are && and ||"},
		{"v = u ^ 2", 1, 7, "use x ** y or pow(x, y)"},
		{"v = $", 1, 5, "unexpected character '$'"},
		{"v = * u", 1, 5, "unexpected '*': an operand is missing"},
		{"v = max(, u)", 1, 9, "unexpected ',': an operand is missing"},
		{"v = \"é\"", 1, 5, "unexpected character"},
		{"# just a comment\n\n", 1, 1, "empty program"},
		{"", 1, 1, "empty program"},
		{"x := v*2", 1, 1, "assigns no tensor"},
		{"v = min(u,\n\tI,\n\t )", 3, 3, "an operand is missing"},
		{"\tv = é", 1, 6, "unexpected character 'é'"},
	}
	for _, c := range cases {
		_, err := Compile(c.src, testEnv)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Compile(%q) = %v, want an *Error", c.src, err)
			continue
		}
		if e.Line != c.line || e.Col != c.col || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("Compile(%q): got line %d col %d %q\nwant line %d col %d containing %q", c.src, e.Line, e.Col, e.Msg, c.line, c.col, c.msg)
		}
		if e.Src != c.src {
			t.Errorf("Compile(%q): Error.Src = %q", c.src, e.Src)
		}
	}
}

func TestEnvErrors(t *testing.T) {
	cases := []struct {
		env Env
		msg string
	}{
		{Env{Tensors: []string{"v", "v"}}, `tensor "v" is listed twice`},
		{Env{Tensors: []string{"2v"}}, `Env.Tensors[0] = "2v" is not a valid name`},
		{Env{Tensors: []string{""}}, `is not a valid name`},
		{Env{Tensors: []string{"v"}, Consts: map[string]float32{"a b": 1}}, `Env.Consts: "a b" is not a valid name`},
		{Env{Tensors: []string{"v"}, Consts: map[string]float32{"v": 1}}, `"v" is both a tensor and a constant`},
	}
	for _, c := range cases {
		_, err := Compile("v = 1", c.env)
		var e *Error
		if !errors.As(err, &e) || e.Line != 0 || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("Compile with %+v = %v, want a line-0 *Error containing %q", c.env, err, c.msg)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Compile("v = 1\n\tu += vv*2 # comment", testEnv)
	want := "expr: line 2, column 7: unknown identifier 'vv' (did you mean 'v'?)\n" +
		"    \tu += vv*2 # comment\n" +
		"    \t     ^"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	e := &Error{Msg: "bad env"}
	if got := e.Error(); got != "expr: bad env" {
		t.Errorf("line-0 error = %q", got)
	}
}

func TestCanonicalString(t *testing.T) {
	cases := []struct{ src, want string }{
		{"v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*tau*(0.2*v - u)",
			"v += dt * (0.04 * v * v + 5 * v + 140 - u + I); u += dt * tau * (0.2 * v - u)"},
		{"v=((v))", "v = v"},
		{"v = (u - I) - (v - 1)", "v = u - I - (v - 1)"},
		{"v = u / (I * v)", "v = u / (I * v)"},
		{"v = (u / I) * v", "v = u / I * v"},
		{"v = -(u + 1)", "v = -(u + 1)"},
		{"v = +u", "v = u"},
		{"v = - -u", "v = --u"},
		{"v = !(u > 1)", "v = !(u > 1)"},
		{"v = (u > 1) > 0", "v = (u > 1) > 0"},
		{"v = u > 1 && I < 2 || !spike", "v = u > 1 && I < 2 || !spike"},
		{"v = u > 1 && (I < 2 || spike)", "v = u > 1 && (I < 2 || spike)"},
		{"v = (u ? 1 : 2) ? 3 : 4", "v = (u ? 1 : 2) ? 3 : 4"},
		{"v = u ? 1 : I ? 2 : 3", "v = u ? 1 : I ? 2 : 3"},
		{"v = u ? (I ? 1 : 2) : 3", "v = u ? I ? 1 : 2 : 3"},
		{"v = clip(v,\n  -1, 1)  # bounded\n\n;u=1e-3;I=.5;spike=1.50", "v = clip(v, -1, 1); u = 0.001; I = 0.5; spike = 1.5"},
		{"v = 1e20 + 3.4028235e38", "v = 1e+20 + 3.4028235e+38"},
		{"x := uniform(); v = x * normal()", "x := uniform(); v = x * normal()"},
		{"v = u +\n I", "v = u + I"},
		{"v = -u**2", "v = -u ** 2"},
		{"v = (-u)**2", "v = (-u) ** 2"},
		{"v = u**-1", "v = u ** -1"},
		{"v = u**(-1)", "v = u ** -1"},
		{"v = u**I**2", "v = u ** I ** 2"},
		{"v = (u**I)**2", "v = (u ** I) ** 2"},
		{"v = 2*u**3/I", "v = 2 * u ** 3 / I"},
		{"v = (2*u)**3", "v = (2 * u) ** 3"},
		{"v = u**-I**2", "v = u ** -I ** 2"},
		{"v = u ** (-I) ** 2", "v = u ** (-I) ** 2"},
		{"v = u**+2", "v = u ** 2"},
		{"v = u ** !I", "v = u ** !I"},
		{"v = exp(u)**2", "v = exp(u) ** 2"},
		{"v = u**\n 2", "v = u ** 2"},
		{"v = u % 3 * I", "v = u % 3 * I"},
		{"v = u % (3 * I)", "v = u % (3 * I)"},
		{"v = u * I % 3", "v = u * I % 3"},
		{"v = (u + 1) % -3", "v = (u + 1) % -3"},
		{"v = -u % 3", "v = -u % 3"},
		{"v = u - i/N + sin(u) + int(I)", "v = u - i / N + sin(u) + int(I)"},
	}
	for _, c := range cases {
		p, err := Compile(c.src, testEnv)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.src, err)
			continue
		}
		if got := p.String(); got != c.want {
			t.Errorf("String of %q = %q, want %q", c.src, got, c.want)
			continue
		}
		q, err := Compile(p.String(), testEnv)
		if err != nil || q.String() != c.want {
			t.Errorf("round trip of %q: %v, %q", c.want, err, q)
		}
	}
}

func TestProgramInfo(t *testing.T) {
	cases := []struct {
		src           string
		writes, reads string // one letter per tensor v, u, I, spike
		nrand         int
	}{
		{"v += dt*(I - v)", "1000", "1010", 0},
		{"v = 0", "1000", "0000", 0},
		{"v = v", "1000", "1000", 0},
		{"x := u*2; v = 1", "1000", "0000", 0}, // dead temporary
		{"v = u; u = v", "1100", "0100", 0},    // u = (new v) = old u
		{"spike = v > threshold; v = spike ? -65 : v", "1001", "1000", 0},
		{"v += uniform(); u = normal() + uniform()*0", "1100", "1000", 3},
		{"x := uniform(); v = 1", "1000", "0000", 1},
		{"v = I ? 1 : 2; u = 1 ? u : I", "1100", "0110", 0},
	}
	for _, c := range cases {
		p := mustCompile(t, c.src, testEnv)
		var w, r strings.Builder
		for k := range p.Tensors() {
			w.WriteByte("01"[b2i(p.Writes(k))])
			r.WriteByte("01"[b2i(p.Reads(k))])
		}
		if w.String() != c.writes || r.String() != c.reads || p.NumRandom() != c.nrand {
			t.Errorf("%q: writes %s reads %s random %d, want %s %s %d", c.src, w.String(), r.String(), p.NumRandom(), c.writes, c.reads, c.nrand)
		}
	}
	p := mustCompile(t, "v = 1", testEnv)
	names := p.Tensors()
	names[0] = "changed"
	if p.Tensors()[0] != "v" {
		t.Error("Tensors returns the program's own slice")
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
