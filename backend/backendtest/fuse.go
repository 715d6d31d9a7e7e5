package backendtest

import (
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
)

// testFuse checks fused kernels (backend.Fuser) against the reference
// evaluator of package expr on host copies of the same data: the
// Izhikevich update bit for bit where the arithmetic is + - * only, random
// sites bit for bit, a broadcast one-element tensor, sizes beyond one
// dispatch, and misuse panics. A backend without Fuser fails: both of
// GoMoNNto's backends fuse.
func testFuse(t *testing.T, s *suite) {
	f, ok := s.b.(backend.Fuser)
	if !ok {
		t.Fatalf("backend %s does not implement backend.Fuser", s.b.Name())
	}
	g := newGen(41)
	cases := []struct {
		name  string
		src   string
		vars  []string
		n     int
		exact bool // + - * and comparisons only: bitwise equal
	}{
		{"izhikevich", `fired = v > 30; v = fired ? c : v; u += d*fired
			v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)`, []string{"v", "u", "I", "fired"}, 1000, true},
		{"lif-random", `v += ((-65 - v) + I)*0.1; I = 90*uniform(); fired = v > -50; v = where(fired, -80, v)`, []string{"v", "I", "fired"}, 70001, true},
		{"broadcast", `tmp := exp(-y*0.01); x = x*s + tmp; z = tmp + normal()`, []string{"x", "s", "y", "z"}, 4099, false},
	}
	consts := map[string]float32{"a": 0.02, "b": 0.2, "c": -65, "d": 8, "dt": 0.5}
	for ci, c := range cases {
		run(t, c.name, func(t *testing.T) {
			p, err := expr.Compile(c.src, expr.Env{Tensors: c.vars, Consts: consts})
			if err != nil {
				t.Fatal(err)
			}
			k, err := f.Fuse(p)
			if err != nil {
				t.Fatalf("Fuse: %v", err)
			}
			defer k.Release()
			host := make([][]float32, len(c.vars))
			args := make([]backend.Tensor, len(c.vars))
			for i, name := range c.vars {
				n := c.n
				if name == "s" {
					n = 1
				}
				host[i] = g.uniform(n, -70, 40)
				args[i] = vec(t, s.b, host[i])
			}
			key := backend.RandKey{Seed: 99, Counter: uint64(1000 + ci)}
			for step := 0; step < 3; step++ {
				k.Run(args, key)
				p.Eval(host, 0, c.n, key)
				key.Counter += uint64(p.NumRandom())
			}
			for i, name := range c.vars {
				got := ReadAll(t, s.b, args[i])
				for e, want := range host[i] {
					if c.exact {
						if math.Float32bits(got[e]) != math.Float32bits(want) {
							t.Fatalf("%s[%d] = %v, want %v bit for bit", name, e, got[e], want)
						}
					} else if d := math.Abs(float64(got[e] - want)); d > 2e-6*(1+math.Abs(float64(want))) {
						t.Fatalf("%s[%d] = %v, want %v (tolerance 2e-6 relative)", name, e, got[e], want)
					}
				}
			}
		})
	}
	run(t, "misuse", func(t *testing.T) {
		p, err := expr.Compile("x += y", expr.Env{Tensors: []string{"x", "y"}})
		if err != nil {
			t.Fatal(err)
		}
		k, err := f.Fuse(p)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Release()
		a, b, one := newTensor(t, s.b, 10, 1), newTensor(t, s.b, 11, 1), newTensor(t, s.b, 1, 1)
		for _, m := range []struct {
			args []backend.Tensor
			want string
		}{
			{[]backend.Tensor{a}, "2"},
			{[]backend.Tensor{a, b}, "mismatch"},
			{[]backend.Tensor{one, a}, "assigned"},
		} {
			expectPanic(t, "Kernel.Run misuse", func() { k.Run(m.args, backend.RandKey{}) }, m.want)
		}
	})
}
