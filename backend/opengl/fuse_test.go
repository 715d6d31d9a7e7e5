package opengl

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

func compile(t *testing.T, src string, env expr.Env) *expr.Program {
	t.Helper()
	p, err := expr.Compile(src, env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFuse runs fused programs on the gl backend and compares them with
// the host evaluator of package expr.
func TestFuse(t *testing.T) {
	b := openOrSkip(t)
	_, progs0 := b.LiveObjects()
	env := expr.Env{
		Tensors: []string{"v", "u", "I", "r", "z"},
		Consts:  map[string]float32{"dt": 0.5, "a": 0.02, "b": 0.2},
	}
	cases := []struct {
		name, src string
		ulp       int64   // 0: bitwise
		abs       float64 // or this close
	}{
		// Float32 arithmetic: the driver may fuse multiply-adds.
		{"izhikevich", "v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)", 64, 1e-5},
		{"uniform", "r = uniform(); z = uniform()", 0, 0},
		// expr's GLSL uses the driver's float32 log and cos: near a zero
		// of cos the absolute error is about 1e-5.
		{"normal", "r = normal()", 2, 5e-5},
		{"select", "v = where(v > -60, -65, v); u = clip(u, -14, -13.5)", 0, 0},
	}
	const n = 70_001 // more than 256 groups of 256
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := compile(t, c.src, env)
			host := make([][]float32, 5)
			for k := range host {
				host[k] = make([]float32, n)
			}
			for i := 0; i < n; i++ {
				host[0][i] = -70 + float32(i%97)*0.2
				host[1][i] = -14 + float32(i%13)*0.05
			}
			host[2] = []float32{10} // I: broadcast
			ts := make([]backend.Tensor, 5)
			for k := range ts {
				ts[k] = newT(t, b, len(host[k]), 1)
				if err := b.Write(ts[k], 0, host[k]); err != nil {
					t.Fatal(err)
				}
			}
			k, err := b.Fuse(p)
			if err != nil {
				t.Fatal(err)
			}
			key := rng.Key{Seed: 42, Counter: 1 << 40}
			for step := 0; step < 3; step++ {
				k.Run(ts, key)
				p.NewEvaluator().Eval(host, 0, n, key)
				key.Counter += uint64(p.NumRandom())
			}
			for j, name := range env.Tensors {
				if !p.Writes(j) {
					continue
				}
				got := readAll(t, b, ts[j])
				bad := 0
				for i := range got {
					w := host[j][i]
					if ulps(got[i], w) > c.ulp && !(math.Abs(float64(got[i]-w)) <= c.abs) {
						bad++
						if bad < 5 {
							t.Errorf("%s[%d] = %v on gl, %v on the host", name, i, got[i], w)
						}
					}
				}
				if bad > 0 {
					t.Errorf("%s: %d of %d elements differ", name, bad, n)
				}
			}
			k.Release()
			for _, x := range ts {
				x.Release()
			}
		})
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, progs := b.LiveObjects(); progs != progs0 {
		t.Errorf("%d live programs after releasing every kernel, %d before", progs, progs0)
	}
}

func TestFuseMisuse(t *testing.T) {
	b := openOrSkip(t)
	env := expr.Env{Tensors: []string{"v", "I"}}
	k, err := b.Fuse(compile(t, "v += I", env))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	v, one, other := newT(t, b, 10, 1), newT(t, b, 1, 1), newT(t, b, 7, 1)
	for _, c := range []struct {
		name string
		args []backend.Tensor
		want string
	}{
		{"too few tensors", []backend.Tensor{v}, "1 tensors given"},
		{"assigned tensor of one element", []backend.Tensor{one, v}, "is assigned by the program"},
		{"length mismatch", []backend.Tensor{v, other}, "mismatch: tensor I (7x1) has 7 elements, want 10"},
		{"aliased assigned tensor", []backend.Tensor{v, v}, "bound to both"},
	} {
		msg, ok := catchPanic(func() { k.Run(c.args, backend.RandKey{}) })
		if !ok || !strings.Contains(msg, c.want) {
			t.Errorf("%s: panic %q (panicked %v), want one mentioning %q", c.name, msg, ok, c.want)
		}
	}
	// The broadcast form compiles on first use and works.
	if err := b.Write(one, 0, []float32{2.5}); err != nil {
		t.Fatal(err)
	}
	k.Run([]backend.Tensor{v, one}, backend.RandKey{})
	if got := readAll(t, b, v); got[9] != 2.5 {
		t.Errorf("v += I with I broadcast: v[9] = %v, want 2.5", got[9])
	}
}

func catchPanic(f func()) (msg string, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			msg, panicked = fmtAny(r), true
		}
	}()
	f()
	return "", false
}

func fmtAny(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return "non-string panic"
}

// TestFuseManyTensors runs a program with more tensors than the backend's
// own kernels bind (8), up to the device limit.
func TestFuseManyTensors(t *testing.T) {
	b := openOrSkip(t)
	nt := min(b.maxBindings, 12)
	names := make([]string, nt)
	for i := range names {
		names[i] = "t" + string(rune('a'+i))
	}
	src := names[0] + " = " + strings.Join(names[1:], " + ")
	p := compile(t, src, expr.Env{Tensors: names})
	k, err := b.Fuse(p)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Release()
	args := make([]backend.Tensor, nt)
	for i := range args {
		args[i] = newT(t, b, 300, 1)
		b.Fill(args[i], float32(i))
	}
	k.Run(args, backend.RandKey{})
	want := float32((nt - 1) * nt / 2)
	if got := readAll(t, b, args[0]); got[299] != want {
		t.Errorf("%s: %v, want %v", src, got[299], want)
	}
	tooMany := make([]string, b.maxBindings+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("x%d", i)
	}
	_, err = b.Fuse(compile(t, "x0 = "+strings.Join(tooMany[1:], " + "), expr.Env{Tensors: tooMany}))
	expectMsg(t, "Fuse with too many tensors", err, "binds at most", "split the program")
}
