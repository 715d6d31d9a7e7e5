package backendtest

import (
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// testFuse checks fused kernels (Backend.Fuse) against the reference
// evaluator of package expr on host copies of the same data: the
// Izhikevich update bit for bit where the arithmetic is + - * only, random
// sites bit for bit, a broadcast one-element tensor, sizes beyond one
// dispatch, and misuse panics.
func testFuse(t *testing.T, s *suite) {
	f := s.b
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
			key := rng.Key{Seed: 99, Counter: uint64(1000 + ci)}
			for step := 0; step < 3; step++ {
				k.Run(args, nil, key)
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
	run(t, "sequence", func(t *testing.T) { testFuseSequence(t, s, f) })
	run(t, "scalars", func(t *testing.T) { testFuseScalars(t, s, f) })
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
			expectPanic(t, "Kernel.Run misuse", func() { k.Run(m.args, nil, rng.Key{}) }, m.want)
		}
		expectPanic(t, "Kernel.Run with a scalar the program lacks", func() { k.Run([]backend.Tensor{a, a}, []float32{1}, rng.Key{}) }, "scalars")
	})
}

// testFuseSequence runs kernels one after another, as a network's
// behaviours do, where a backend may batch them (the cpu queues kernel
// runs that touch no tensor in conflict and runs them together): runs on
// independent tensors, a run that reads what an earlier one wrote and
// writes what an earlier one read, the same kernel twice in a row, a
// one-element tensor written by one run and broadcast by the next, runs of
// different sizes, and other operations in between. Every result must
// equal the reference evaluator run in the same order, bit for bit.
func testFuseSequence(t *testing.T, s *suite, f backend.Backend) {
	const n, small = 70001, 300
	g := newGen(43)
	type kern struct {
		p    *expr.Program
		k    backend.Kernel
		vars []string
	}
	compile := func(src string, vars ...string) kern {
		p, k := fuse(t, f, src, expr.Env{Tensors: vars})
		return kern{p, k, vars}
	}
	sizes := map[string]int{"x": n, "y": n, "z": n, "w": n, "c": 1, "a": small, "b": small}
	host := map[string][]float32{}
	dev := map[string]backend.Tensor{}
	for name, size := range sizes {
		host[name] = g.uniform(size, -2, 2)
		dev[name] = vec(t, s.b, host[name])
	}
	scaleX := compile("x = x*1.5 + y", "x", "y")
	scaleZ := compile("z = z*0.5 + w", "z", "w")
	mix := compile("y = x - z", "x", "z", "y")
	count := compile("c = c + 1", "c")
	addC := compile("w = w + c", "w", "c")
	smallK := compile("a = a*0.25 + b", "a", "b")
	runK := func(k kern) {
		args := make([]backend.Tensor, len(k.vars))
		vars := make([][]float32, len(k.vars))
		for i, name := range k.vars {
			args[i], vars[i] = dev[name], host[name]
		}
		k.k.Run(args, nil, rng.Key{})
		k.p.Eval(vars, 0, len(host[k.vars[0]]), rng.Key{})
	}
	for step := 0; step < 3; step++ {
		runK(scaleX) // independent of the next two
		runK(scaleZ)
		runK(smallK)
		runK(mix) // reads x and z, writes y (read by scaleX)
		runK(mix) // the same kernel again
		runK(count)
		runK(addC) // broadcasts c, written by the run before
		runK(scaleZ)
		// Another operation in between: w = 0.5 w - 1.
		backend.Affine(dev["w"], dev["w"], 0.5, -1)
		for i, v := range host["w"] {
			host["w"][i] = 0.5*v - 1
		}
		runK(scaleZ)
	}
	for name := range sizes {
		got := ReadAll(t, s.b, dev[name])
		for e, want := range host[name] {
			if math.Float32bits(got[e]) != math.Float32bits(want) {
				t.Fatalf("%s[%d] = %v, want %v bit for bit", name, e, got[e], want)
			}
		}
	}
}

// testFuseScalars runs kernels with scalars (expr.Env.Scalars) whose values
// change from run to run, in the caller's one reused slice, with runs of
// two kernels queued back to back: every run must see the values given
// with it, bit for bit as the reference evaluator.
func testFuseScalars(t *testing.T, s *suite, f backend.Backend) {
	const n = 5003
	g := newGen(47)
	env := func(v string) expr.Env { return expr.Env{Tensors: []string{v}, Scalars: []string{"s0", "s1"}} }
	pa, ka := fuse(t, f, "x = x*s0 + s1", env("x"))
	pb, kb := fuse(t, f, "y = y > s0 ? s1 : y*s0", env("y"))
	hx, hy := g.uniform(n, -2, 2), g.uniform(n, -2, 2)
	dx, dy := vec(t, s.b, hx), vec(t, s.b, hy)
	sc := make([]float32, 2)
	for step := range 6 {
		sc[0], sc[1] = 0.5+float32(step)*0.25, float32(step)-2.5
		ka.Run([]backend.Tensor{dx}, sc, rng.Key{})
		pa.Eval([][]float32{hx, sc[:1], sc[1:]}, 0, n, rng.Key{})
		sc[0], sc[1] = float32(step)*0.3-1, 1.5-float32(step)
		kb.Run([]backend.Tensor{dy}, sc, rng.Key{})
		pb.Eval([][]float32{hy, sc[:1], sc[1:]}, 0, n, rng.Key{})
		sc[0], sc[1] = 99, 99 // a backend must have copied the values
	}
	for _, c := range []struct {
		name string
		dev  backend.Tensor
		want []float32
	}{{"x", dx, hx}, {"y", dy, hy}} {
		got := ReadAll(t, s.b, c.dev)
		for e, want := range c.want {
			if math.Float32bits(got[e]) != math.Float32bits(want) {
				t.Fatalf("%s[%d] = %v, want %v bit for bit", c.name, e, got[e], want)
			}
		}
	}
}

// fuse compiles src in env into a kernel of b, released when the test ends.
func fuse(t *testing.T, b backend.Backend, src string, env expr.Env) (*expr.Program, backend.Kernel) {
	t.Helper()
	p, err := expr.Compile(src, env)
	if err != nil {
		t.Fatal(err)
	}
	k, err := b.Fuse(p)
	if err != nil {
		t.Fatalf("Fuse: %v", err)
	}
	t.Cleanup(k.Release)
	return p, k
}
