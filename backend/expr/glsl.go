package expr

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// GLSLOptions configures Program.GLSL.
type GLSLOptions struct {
	// LocalSize is the work-group size local_size_x; 0 means 256. It must
	// not exceed 1024.
	LocalSize int
	// Broadcast[k] marks tensor k as one element that every invocation
	// reads (t{k}[0]). Only tensors the program does not assign may be
	// broadcast. Set it for tensors of Len 1 when n > 1; nil broadcasts
	// none.
	Broadcast []bool
	// Pieces makes a shader that runs one piece of the elements, so that
	// a run can cover tensors stored in several buffers: the invocations
	// compute elements [gbase, gend) (uniform uint gbase, gend) of n, and
	// tensor k reads and writes element e at t{k}[e + off{k}] (uniform
	// uint off{k}, wrapping: the buffer index of element gbase minus
	// gbase).
	Pieces bool
}

// GLSL returns a complete "#version 430" compute shader that runs the
// program, one invocation per element. The contract with the caller:
//
//   - Tensor k is the shader storage block
//     layout(std430, binding=k) buffer B{k} { float t{k}[]; };
//     blocks of tensors the program neither reads nor assigns are left out.
//     The binding index is the argument index, so a program can use at
//     most GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS tensors (16 on llvmpipe)
//     with indices below GL_MAX_SHADER_STORAGE_BUFFER_BINDINGS.
//   - Scalar j (Env.Scalars[j]) is uniform float sc{j}.
//   - uniform uint n is the number of elements; invocations with
//     gid >= n return at once, so round the group count up.
//   - The element index is gid = gl_GlobalInvocationID.x +
//     gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x:
//     dispatch ceil(n/LocalSize) groups, as a 2-D grid (x at most 65535,
//     x*LocalSize*y covering n) when there are more than 65535.
//   - uniform uvec2 seed and uniform uvec2 counter hold key.Seed and
//     key.Counter split into (low, high) 32-bit words. Random site i
//     draws Philox4x32-10 with counter (gid, 0, key.Counter+i) and key
//     seed, the same words as rng.Words, so uniform() matches the CPU bit
//     for bit and normal() to float32 rounding of log, sqrt and cos.
//     The uniforms may be optimised out when the program draws nothing
//     (glGetUniformLocation then returns -1, which glUniform ignores).
//
// Every tensor is loaded once into a local and every assigned tensor
// stored once, at the end, so tensor bindings must not alias one another
// when any of them is assigned.
//
// Computed values are declared precise, which forbids contracting a*b+c
// into a fused multiply-add, so + - * round as on the CPU (bit for bit
// on Mesa llvmpipe). Division and the transcendental functions use GLSL's
// built-ins, whose precision is the driver's (GLSL allows 2.5 ulp for
// division); tanh is clamped to |x| <= 15 to avoid the overflow of some
// implementations, and pow follows the CPU for negative bases with integer
// exponents. exprel, expm1, log1p, log10, sin and cos are computed in
// double (glsl_math.go) and rounded once, as on the CPU, so they agree
// with it to float32 rounding (sin and cos bit for bit on IEEE double
// arithmetic); x ** k for a small integer k is the CPU's float32 products,
// and the reciprocal of x ** -k and the quotient of x % y are computed in
// double and rounded, which is the CPU's correctly rounded float32
// division whatever the driver's float division. The element index i is
// float(gid) and N is float(n). GLSL leaves NaN and infinity handling to the driver: results
// that pass through a NaN (0/0, log of a negative number, min or clip with
// a NaN operand) may differ from the CPU's.
func (p *Program) GLSL(opts GLSLOptions) (string, error) {
	ls := opts.LocalSize
	if ls == 0 {
		ls = 256
	}
	if ls < 0 || ls > 1024 {
		return "", fmt.Errorf("expr: GLSL: LocalSize %d is outside [1, 1024]", opts.LocalSize)
	}
	nt := p.nt
	if len(opts.Broadcast) > nt {
		return "", fmt.Errorf("expr: GLSL: Broadcast has %d entries, the program has %d tensors", len(opts.Broadcast), nt)
	}
	bcast := make([]bool, nt)
	for k, b := range opts.Broadcast {
		if b && p.writes[k] {
			return "", fmt.Errorf("expr: GLSL: tensor %q is assigned by the program and cannot be broadcast", p.tensors[k])
		}
		bcast[k] = b
	}
	g := &glslGen{p: p, inline: make([]bool, len(p.vals)), depth: make([]int, len(p.vals)), pieces: opts.Pieces}
	return g.shader(ls, bcast), nil
}

type glslGen struct {
	p      *Program
	inline []bool // value written inline at its single use
	depth  []int  // nesting depth of an inline value
	uses   map[string]bool
	pieces bool // GLSLOptions.Pieces
}

// maxInline bounds the nesting of inline expressions; deeper values get a
// local variable.
const maxInline = 10

func (g *glslGen) shader(localSize int, bcast []bool) string {
	p := g.p
	nt := len(p.tensors)
	input := make([]int32, nt)
	for k := range input {
		input[k] = -1
	}
	for id, v := range p.vals {
		if v.live && v.op == opInput {
			input[v.idx] = int32(id)
		}
	}
	store := make([]bool, nt)
	for k, f := range p.outs {
		store[k] = f >= 0 && f != input[k]
	}

	// Decide which values are inline and collect the helpers needed.
	// Stored values get a precise local, so that the arithmetic that
	// produces them is not contracted into fused multiply-adds and rounds
	// each operation as the CPU does.
	isOut := make([]bool, len(p.vals))
	for k, f := range p.outs {
		if store[k] {
			isOut[f] = true
		}
	}
	g.uses = map[string]bool{}
	for id, v := range p.vals {
		if !v.live {
			continue
		}
		switch v.op {
		case opConst:
			g.inline[id] = true
			continue
		case opInput:
			continue
		case opUniform:
			g.uses["uniform"] = true
		case opNormal:
			g.uses["normal"] = true
		case opExp, opSigmoid, opTanh, opLog:
			switch {
			case p.double && v.op == opLog:
				g.uses["dcommon"], g.uses["dlog"] = true, true
			case p.double:
				g.uses["dcommon"], g.uses["dexp"], g.uses["dtanh"] = true, true, v.op == opTanh
			case v.op == opTanh:
				g.uses["tanh"] = true
			case v.op == opSigmoid:
				g.uses["sigmoid"] = true
			}
		case opPow:
			g.uses["pow"] = true
		case opPower:
			g.uses["pow"], g.uses["exact"], g.uses["power"] = true, true, true
		case opExprel, opExpm1:
			g.uses["dcommon"], g.uses["dexp"], g.uses["expm1"] = true, true, true
		case opLog1p, opLog10:
			g.uses["dcommon"], g.uses["dlog"], g.uses["log1p"] = true, true, true
		case opSin, opCos:
			g.uses["dcommon"], g.uses["trig"] = true, true
		case opSign:
			g.uses["sign"] = true
		case opRecip, opMod:
			g.uses["exact"] = true
		}
		d := 1
		for i := 0; i < v.op.arity(); i++ {
			if a := v.args[i]; g.inline[a] && p.vals[a].op != opConst {
				d = max(d, g.depth[a]+1)
			}
		}
		g.depth[id] = d
		g.inline[id] = v.uses == 1 && d <= maxInline && !isOut[id]
	}

	var b strings.Builder
	b.WriteString("#version 430\n")
	b.WriteString("// Generated by gomonnto backend/expr from the program\n")
	for _, s := range p.stmts {
		b.WriteString("//   ")
		b.WriteString(format([]stmt{s}))
		b.WriteByte('\n')
	}
	if names := p.constsUsed(); len(names) > 0 {
		b.WriteString("// with constants")
		for _, name := range names {
			fmt.Fprintf(&b, " %s = %s", name, formatNum(p.consts[name]))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "layout(local_size_x = %d) in;\n", localSize)
	for k := 0; k < nt; k++ {
		if k >= p.nt {
			if input[k] >= 0 {
				fmt.Fprintf(&b, "uniform float sc%d; // %s\n", k-p.nt, p.tensors[k])
			}
			continue
		}
		if input[k] >= 0 || store[k] {
			fmt.Fprintf(&b, "layout(std430, binding=%d) buffer B%d { float t%d[]; }; // %s\n", k, k, k, p.tensors[k])
		}
	}
	b.WriteString("uniform uint n;\nuniform uvec2 seed;\nuniform uvec2 counter;\n")
	if g.pieces {
		b.WriteString("uniform uint gbase;\nuniform uint gend;\n")
		for k := 0; k < p.nt; k++ {
			if input[k] >= 0 || store[k] {
				fmt.Fprintf(&b, "uniform uint off%d;\n", k)
			}
		}
	}
	if g.uses["uniform"] || g.uses["normal"] {
		b.WriteString(glslPhilox)
	}
	if g.uses["uniform"] {
		b.WriteString(glslUniform)
	}
	if g.uses["normal"] {
		b.WriteString(glslNormal)
	}
	if g.uses["tanh"] {
		b.WriteString(glslTanh)
	}
	if g.uses["sigmoid"] {
		b.WriteString(glslSigmoid)
	}
	for _, h := range []struct{ use, src string }{
		{"pow", glslPow}, {"exact", glslExact}, {"power", glslPower}, {"sign", glslSign}, {"dcommon", glslDcommon},
		{"dexp", glslDexp}, {"dlog", glslDlog}, {"dtanh", glslDtanh}, {"expm1", glslExpm1}, {"log1p", glslLog1p}, {"trig", glslTrig},
	} {
		if g.uses[h.use] {
			b.WriteString(h.src)
		}
	}
	b.WriteString("\nvoid main() {\n")
	if g.pieces {
		b.WriteString("\tuint gid = gbase + gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;\n")
		b.WriteString("\tif (gid >= gend) return;\n")
	} else {
		b.WriteString("\tuint gid = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;\n")
		b.WriteString("\tif (gid >= n) return;\n")
	}
	for k, id := range input {
		if id < 0 {
			continue
		}
		if k >= p.nt {
			fmt.Fprintf(&b, "\tfloat x%d = sc%d; // %s\n", k, k-p.nt, p.tensors[k])
			continue
		}
		idx := g.index(k)
		if bcast[k] {
			idx = "0"
		}
		fmt.Fprintf(&b, "\tfloat x%d = t%d[%s]; // %s\n", k, k, idx, p.tensors[k])
	}
	for id, v := range p.vals {
		if !v.live || g.inline[id] || v.op == opInput {
			continue
		}
		fmt.Fprintf(&b, "\tprecise float r%d = %s;\n", id, g.def(int32(id)))
	}
	for k, f := range p.outs {
		if store[k] {
			fmt.Fprintf(&b, "\tt%d[%s] = %s; // %s\n", k, g.index(k), g.ref(f), p.tensors[k])
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// glslDouble are the double-precision forms of Env.Double, over the
// operands $0 and $1.
var glslDouble = map[op]string{
	opExp:     "float(gm_dexp(double($0)))",
	opLog:     "float(gm_dlog(double($0)))",
	opSqrt:    "float(sqrt(double($0)))",
	opTanh:    "float(gm_dtanh(double($0)))",
	opSigmoid: "float(1.0lf / (1.0lf + gm_dexp(-double($0))))",
	opDiv:     "float(double($0) / double($1))",
}

// index is the buffer index of the element gid in tensor k.
func (g *glslGen) index(k int) string {
	if g.pieces {
		return fmt.Sprintf("gid + off%d", k)
	}
	return "gid"
}

// constsUsed returns the sorted names of the constants the source uses.
func (p *Program) constsUsed() []string {
	seen := map[string]bool{}
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == nIdent {
			if _, ok := p.consts[n.name]; ok {
				seen[n.name] = true
			}
		}
		for _, a := range n.args {
			walk(a)
		}
	}
	for _, s := range p.stmts {
		walk(s.rhs)
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ref returns the expression that names value id.
func (g *glslGen) ref(id int32) string {
	v := g.p.vals[id]
	switch {
	case v.op == opInput:
		return fmt.Sprintf("x%d", v.idx)
	case g.inline[id]:
		return g.def(id)
	}
	return fmt.Sprintf("r%d", id)
}

// def returns the expression that computes value id.
func (g *glslGen) def(id int32) string {
	v := g.p.vals[id]
	var a [3]string
	for i := 0; i < v.op.arity(); i++ {
		a[i] = g.ref(v.args[i])
	}
	switch v.op {
	case opConst:
		return glslNum(v.k)
	case opUniform:
		return fmt.Sprintf("gm_uniform(gid, %du)", v.idx)
	case opNormal:
		return fmt.Sprintf("gm_normal(gid, %du)", v.idx)
	case opIndex:
		return "float(gid)"
	case opCount:
		return "float(n)"
	case opExprel, opExpm1, opLog1p, opLog10, opSin, opCos, opSign, opRecip:
		return "gm_" + opNames[v.op] + "(" + a[0] + ")"
	case opMod:
		return "gm_mod(" + a[0] + ", " + a[1] + ")"
	case opCeil:
		return "ceil(" + a[0] + ")"
	case opTrunc:
		return "trunc(" + a[0] + ")"
	case opPower:
		return "gm_power(" + a[0] + ", " + a[1] + ")"
	case opNeg:
		return "(-" + a[0] + ")"
	case opNot:
		return "float(" + a[0] + " == 0.0)"
	case opTruth:
		return "float(" + a[0] + " != 0.0)"
	case opExp, opLog, opSqrt, opTanh, opSigmoid, opDiv:
		if f, ok := glslDouble[v.op]; ok && g.p.double {
			return strings.NewReplacer("$0", a[0], "$1", a[1]).Replace(f)
		}
		switch v.op {
		case opTanh:
			return "gm_tanh(" + a[0] + ")"
		case opSigmoid:
			return "gm_sigmoid(" + a[0] + ")"
		case opDiv:
			return "(" + a[0] + " / " + a[1] + ")"
		}
		return glslFunc[v.op] + "(" + a[0] + ")"
	case opAbs, opFloor:
		return glslFunc[v.op] + "(" + a[0] + ")"
	case opHeaviside:
		return "float(" + a[0] + " > 0.0)"
	case opAdd, opSub, opMul:
		return "(" + a[0] + " " + glslFunc[v.op] + " " + a[1] + ")"
	case opMin, opMax:
		return glslFunc[v.op] + "(" + a[0] + ", " + a[1] + ")"
	case opPow:
		return "gm_pow(" + a[0] + ", " + a[1] + ")"
	case opLt, opLe, opGt, opGe, opEq, opNe:
		return "float(" + a[0] + " " + glslFunc[v.op] + " " + a[1] + ")"
	case opAnd:
		return "float(" + a[0] + " != 0.0 && " + a[1] + " != 0.0)"
	case opOr:
		return "float(" + a[0] + " != 0.0 || " + a[1] + " != 0.0)"
	case opSelect:
		return "(" + g.cond(v.args[0]) + " ? " + a[1] + " : " + a[2] + ")"
	case opClip:
		return "clamp(" + a[0] + ", " + a[1] + ", " + a[2] + ")"
	}
	panic(fmt.Sprintf("expr: no GLSL for op %d", v.op))
}

// cond returns a bool expression that is true when value id is non-zero.
func (g *glslGen) cond(id int32) string {
	v := g.p.vals[id]
	if g.inline[id] {
		switch v.op {
		case opLt, opLe, opGt, opGe, opEq, opNe:
			return "(" + g.ref(v.args[0]) + " " + glslFunc[v.op] + " " + g.ref(v.args[1]) + ")"
		case opNot:
			return "(" + g.ref(v.args[0]) + " == 0.0)"
		case opTruth:
			return "(" + g.ref(v.args[0]) + " != 0.0)"
		case opHeaviside:
			return "(" + g.ref(v.args[0]) + " > 0.0)"
		}
	}
	return "(" + g.ref(id) + " != 0.0)"
}

var glslFunc = map[op]string{
	opAbs: "abs", opExp: "exp", opLog: "log", opSqrt: "sqrt", opFloor: "floor",
	opAdd: "+", opSub: "-", opMul: "*", opDiv: "/", opMin: "min", opMax: "max",
	opLt: "<", opLe: "<=", opGt: ">", opGe: ">=", opEq: "==", opNe: "!=",
}

// glslNum writes a float32 as a GLSL float literal that reads back to the
// same value.
func glslNum(k float32) string {
	switch {
	case k != k:
		return "uintBitsToFloat(0x7FC00000u)"
	case math.IsInf(float64(k), 1):
		return "uintBitsToFloat(0x7F800000u)"
	case math.IsInf(float64(k), -1):
		return "uintBitsToFloat(0xFF800000u)"
	}
	s := strconv.FormatFloat(float64(k), 'g', -1, 32)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	if strings.HasPrefix(s, "-") {
		s = "(" + s + ")"
	}
	return s
}

// glslPhilox is Philox4x32-10 as rng.Philox4x32, and the words of a random
// site as rng.Words with counter key.Counter+site.
const glslPhilox = `
uvec4 gm_philox(uvec4 c, uvec2 k) {
	for (int r = 0; r < 10; r++) {
		if (r > 0) k += uvec2(0x9E3779B9u, 0xBB67AE85u);
		uint hi0, lo0, hi1, lo1;
		umulExtended(0xD2511F53u, c.x, hi0, lo0);
		umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
		c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
	}
	return c;
}

uvec4 gm_words(uint i, uint site) {
	uint carry;
	uint lo = uaddCarry(counter.x, site, carry);
	return gm_philox(uvec4(i, 0u, lo, counter.y + carry), seed);
}
`

const glslUniform = `
float gm_uniform(uint i, uint site) {
	return float(gm_words(i, site).x >> 8) * (1.0 / 16777216.0);
}
`

const glslNormal = `
float gm_normal(uint i, uint site) {
	uvec4 w = gm_words(i, site);
	float u0 = float(w.x >> 8) * (1.0 / 16777216.0);
	float u1 = float((w.y >> 8) + 1u) * (1.0 / 16777216.0);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u0);
}
`

const glslTanh = `
float gm_tanh(float x) {
	return tanh(clamp(x, -15.0, 15.0));
}
`

const glslSigmoid = `
float gm_sigmoid(float x) {
	return 1.0 / (1.0 + exp(-x));
}
`

const glslPow = `
float gm_pow(float x, float y) {
	if (y == 0.0) return 1.0;
	if (x > 0.0) return pow(x, y);
	if (x == 0.0) return y > 0.0 ? 0.0 : uintBitsToFloat(0x7F800000u);
	if (y != floor(y)) return uintBitsToFloat(0x7FC00000u);
	float r = pow(-x, y);
	return mod(y, 2.0) == 0.0 ? r : -r;
}
`
