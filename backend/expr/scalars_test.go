package expr

import (
	"github.com/gomonnto/gomonnto/backend/rng"
	"strings"
	"testing"
)

// Scalars are read-only numbers given with each run: the same program
// gives the hand-computed results for two sets of values.
func TestScalars(t *testing.T) {
	p := mustCompile(t, "d = alpha*a + beta; e = a > lo ? e : beta", Env{Tensors: []string{"d", "a", "e"}, Scalars: []string{"alpha", "beta", "lo"}})
	if p.NumTensors() != 3 || p.NumScalars() != 3 || strings.Join(p.Scalars(), ",") != "alpha,beta,lo" || strings.Join(p.Tensors(), ",") != "d,a,e" {
		t.Fatalf("tensors %v, scalars %v", p.Tensors(), p.Scalars())
	}
	if p.Positional() {
		t.Error("Positional() = true for a program without i, N or random draws")
	}
	a := []float32{1, 2, 3, -1}
	for _, sc := range [][3]float32{{2, 0.5, 1.5}, {-3, 7, 0}} {
		d, e := make([]float32, 4), []float32{9, 9, 9, 9}
		p.Eval([][]float32{d, a, e, {sc[0]}, {sc[1]}, {sc[2]}}, 0, 4, rng.Key{})
		for i, x := range a {
			if want := sc[0]*x + sc[1]; d[i] != want {
				t.Errorf("scalars %v: d[%d] = %v, want %v", sc, i, d[i], want)
			}
			want := float32(9)
			if !(x > sc[2]) {
				want = sc[1]
			}
			if e[i] != want {
				t.Errorf("scalars %v: e[%d] = %v, want %v", sc, i, e[i], want)
			}
		}
	}
	src, err := p.GLSL(GLSLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"uniform float sc0; // alpha", "uniform float sc2; // lo", "float x3 = sc0;"} {
		if !strings.Contains(src, want) {
			t.Errorf("GLSL lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(src, "binding=3") {
		t.Errorf("GLSL binds a buffer for a scalar:\n%s", src)
	}
}

func TestScalarErrors(t *testing.T) {
	for _, c := range []struct {
		src  string
		env  Env
		want string
	}{
		{"s = 1; d = s", Env{Tensors: []string{"d"}, Scalars: []string{"s"}}, "cannot assign to scalar 's'"},
		{"d = s", Env{Tensors: []string{"d"}, Scalars: []string{"a", "b", "c", "e", "s"}}, "at most 4"},
		{"d = d", Env{Tensors: []string{"d"}, Scalars: []string{"d"}}, "listed twice"},
		{"d = s", Env{Tensors: []string{"d"}, Scalars: []string{"s"}, Consts: map[string]float32{"s": 1}}, "both"},
		{"d = 2x", Env{Tensors: []string{"d"}, Scalars: []string{"9x"}}, "not a valid name"},
	} {
		_, err := Compile(c.src, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q, %+v) = %v, want an error with %q", c.src, c.env, err, c.want)
		}
	}
	p := mustCompile(t, "d = s*2", Env{Tensors: []string{"d"}, Scalars: []string{"s"}})
	for _, vars := range [][][]float32{{{0, 0}}, {{0, 0}, {1, 2}}} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("Eval with %d slices did not panic", len(vars))
				}
			}()
			p.Eval(vars, 0, 2, rng.Key{})
		}()
	}
	if !mustCompile(t, "d = i", Env{Tensors: []string{"d"}}).Positional() || !mustCompile(t, "d = uniform()", Env{Tensors: []string{"d"}}).Positional() {
		t.Error("Positional() = false for a program with i or uniform()")
	}
}
