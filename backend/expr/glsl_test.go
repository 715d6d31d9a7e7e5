package expr

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestGLSLIzhikevich(t *testing.T) {
	p := mustCompile(t, izhikevichSrc, izhikevichEnv)
	src, err := p.GLSL(GLSLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"#version 430\n",
		"layout(local_size_x = 256) in;",
		"layout(std430, binding=0) buffer B0 { float t0[]; };",
		"layout(std430, binding=1) buffer B1 { float t1[]; };",
		"layout(std430, binding=2) buffer B2 { float t2[]; };",
		"uniform uint n;",
		"uniform uvec2 seed;",
		"uniform uvec2 counter;",
		"uint gid = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;",
		"if (gid >= n) return;",
		"float x0 = t0[gid];",
		"float x1 = t1[gid];",
		"float x2 = t2[gid];",
		"0.04 * x0",
		"0.01 *",          // dt*a folded
		"precise float r", // no fused multiply-add: + - * round as on the CPU
		"t0[gid] = r",
		"t1[gid] = r",
		"//   v += dt * (0.04 * v * v + 5 * v + 140 - u + I)\n",
		"// with constants a = 0.02 b = 0.2 dt = 0.5\n",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("shader lacks %q:\n%s", want, src)
		}
	}
	for _, absent := range []string{"t2[gid] =", "gm_philox", "gm_pow", "dt"} {
		if strings.Contains(strings.SplitN(src, "layout(local_size_x", 2)[1], absent) {
			t.Errorf("shader contains %q:\n%s", absent, src)
		}
	}
	if n := strings.Count(src, "void main()"); n != 1 {
		t.Errorf("shader has %d main functions, want 1", n)
	}
	if n := strings.Count(src, "t0[gid] ="); n != 1 {
		t.Errorf("v is stored %d times, want once", n)
	}
}

func TestGLSLOptions(t *testing.T) {
	p := mustCompile(t, "v += dt*(g*I - v)", Env{Tensors: []string{"v", "I", "g", "unused"}, Consts: map[string]float32{"dt": 0.25}})
	src, err := p.GLSL(GLSLOptions{LocalSize: 64, Broadcast: []bool{false, true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"layout(local_size_x = 64) in;", "float x1 = t1[0];", "float x2 = t2[gid];"} {
		if !strings.Contains(src, want) {
			t.Errorf("shader lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(src, "B3") {
		t.Errorf("shader declares the unused tensor:\n%s", src)
	}
	for _, c := range []struct {
		opts GLSLOptions
		msg  string
	}{
		{GLSLOptions{LocalSize: 2048}, "LocalSize 2048 is outside [1, 1024]"},
		{GLSLOptions{LocalSize: -1}, "LocalSize -1 is outside"},
		{GLSLOptions{Broadcast: []bool{true}}, `tensor "v" is assigned by the program and cannot be broadcast`},
		{GLSLOptions{Broadcast: make([]bool, 5)}, "Broadcast has 5 entries, the program has 4 tensors"},
	} {
		if _, err := p.GLSL(c.opts); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("GLSL(%+v) = %v, want an error containing %q", c.opts, err, c.msg)
		}
	}
}

func TestGLSLRandom(t *testing.T) {
	p := mustCompile(t, "a = uniform(); b = normal() * uniform()", Env{Tensors: []string{"a", "b"}})
	src, err := p.GLSL(GLSLOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"umulExtended(0xD2511F53u, c.x, hi0, lo0);",
		"umulExtended(0xCD9E8D57u, c.z, hi1, lo1);",
		"k += uvec2(0x9E3779B9u, 0xBB67AE85u);",
		"uaddCarry(counter.x, site, carry)",
		"gm_philox(uvec4(i, 0u, lo, counter.y + carry), seed)",
		"float(gm_words(i, site).x >> 8) * (1.0 / 16777216.0)",
		"gm_uniform(gid, 0u)",
		"gm_normal(gid, 1u)",
		"gm_uniform(gid, 2u)",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("shader lacks %q:\n%s", want, src)
		}
	}
}

func TestGLSLNumbers(t *testing.T) {
	cases := []struct {
		v    float32
		want string
	}{
		{1, "1.0"}, {0.04, "0.04"}, {-2, "(-2.0)"}, {1e20, "1e+20"}, {1.5e-7, "1.5e-07"},
		{negZero, "(-0.0)"}, {nan, "uintBitsToFloat(0x7FC00000u)"},
		{inf, "uintBitsToFloat(0x7F800000u)"}, {-inf, "uintBitsToFloat(0xFF800000u)"},
		{math.MaxFloat32, "3.4028235e+38"},
	}
	for _, c := range cases {
		if got := glslNum(c.v); got != c.want {
			t.Errorf("glslNum(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestGLSLValidates compiles generated shaders with glslangValidator, the
// Khronos reference front end.
func TestGLSLValidates(t *testing.T) {
	tool, err := exec.LookPath("glslangValidator")
	if err != nil {
		t.Skip("glslangValidator not found: install glslang-tools (apt-get install glslang-tools) to validate generated shaders")
	}
	type shader struct {
		src  string
		env  Env
		opts GLSLOptions
	}
	shaders := []shader{
		{izhikevichSrc, izhikevichEnv, GLSLOptions{}},
		{"v += dt*(g*I - v)", Env{Tensors: []string{"v", "I", "g"}, Consts: map[string]float32{"dt": 0.25}}, GLSLOptions{LocalSize: 1024, Broadcast: []bool{false, true, true}}},
		{"a = uniform(); b = normal() + 1/0 - sqrt(-1) + (1e38*10)", Env{Tensors: []string{"a", "b"}}, GLSLOptions{}},
		{"z = pow(x, y) + exp(x) + log(y) + sqrt(x) + abs(y) + tanh(x) + sigmoid(y) + floor(x) + heaviside(y) + min(x, y) + max(x, 2) + clip(x, -1, y) + where(x < y, 1, 2) + (x && y) + (x || !y) + (x == y) + (x != 1) + (x <= y) + (x >= y) + (x > y ? -x : x / y)",
			Env{Tensors: []string{"x", "y", "z"}}, GLSLOptions{}},
		{"z = exprel(x) + expm1(y) + log1p(x) + log10(y) + sin(x) + cos(y) + sign(x) + ceil(y) + int(x) + x**3 + x**-2 + x**y + y**2.5 + x % y + x % 3 + i/N",
			Env{Tensors: []string{"x", "y", "z"}}, GLSLOptions{}},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 40; i++ {
		shaders = append(shaders, shader{randomProgram(r), diffEnv, GLSLOptions{Broadcast: []bool{false, false, false, i%2 == 0}}})
	}
	dir := t.TempDir()
	for i, s := range shaders {
		p := mustCompile(t, s.src, s.env)
		code, err := p.GLSL(s.opts)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "k.comp")
		if err := os.WriteFile(file, []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(tool, file).CombinedOutput(); err != nil {
			t.Errorf("shader %d of %q does not validate: %v\n%s\n%s", i, s.src, err, out, code)
		}
	}
}

// TestGLSLFunctions checks the shader of the functions and operators added
// for Brian2 models: double helpers only where needed, i and N from gid
// and n, constant small powers as products.
func TestGLSLFunctions(t *testing.T) {
	env := Env{Tensors: []string{"x", "y", "z"}}
	cases := []struct {
		src             string
		want, notWanted []string
	}{
		{"z = exprel(x) + expm1(y)", []string{"float gm_exprel(float x)", "double gm_dexp(double x)", "gm_exprel(x0)", "gm_expm1(x1)"}, []string{"gm_dlog", "gm_dtrig"}},
		{"z = log1p(x) + log10(y)", []string{"double gm_dlog(double x)", "gm_log1p(x0)", "gm_log10(x1)"}, []string{"gm_dexp", "gm_dtrig"}},
		{"z = sin(x) + cos(y)", []string{"double gm_dtrig(double x, bool c)", "void gm_trigreduce", "gm_sin(x0)", "gm_cos(x1)"}, []string{"gm_dexp", "gm_dlog"}},
		{"z = sign(x) + ceil(y) + int(x)", []string{"gm_sign(x0)", "ceil(x1)", "trunc(x0)"}, []string{"double"}},
		{"z = x**3", []string{"((x0 * x0) * x0)"}, []string{"gm_pow", "gm_power", "double"}},
		{"z = x**-2", []string{"gm_recip((x0 * x0))", "float gm_recip(float x)"}, []string{"gm_pow"}},
		{"z = x**y", []string{"gm_power(x0, x1)", "float gm_ipow(float x, uint k)", "float gm_pow("}, nil},
		{"z = x % y", []string{"gm_mod(x0, x1)", "floor(float(double(x) / double(y))) * y"}, []string{"mod("}},
		{"z = i + N", []string{"(float(gid) + float(n))"}, []string{"double"}},
	}
	for _, c := range cases {
		p := mustCompile(t, c.src, env)
		src, err := p.GLSL(GLSLOptions{})
		if err != nil {
			t.Fatal(err)
		}
		body := strings.SplitN(src, "layout(local_size_x", 2)[1]
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: shader lacks %q:\n%s", c.src, w, src)
			}
		}
		for _, w := range c.notWanted {
			if strings.Contains(strings.ReplaceAll(body, "gm_mod(", ""), w) {
				t.Errorf("%s: shader contains %q:\n%s", c.src, w, src)
			}
		}
	}
}
