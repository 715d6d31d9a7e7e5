package expr

import "math"

// op is an operation of the program's data-flow graph.
type op uint8

const (
	opConst   op = iota // a literal or Env constant
	opInput             // the value tensor idx had before the run
	opUniform           // U[0, 1) of random site idx
	opNormal            // N(0, 1) of random site idx
	opIndex             // the element index i, as a float32
	opCount             // the number of elements N, as a float32

	// unary
	opNeg
	opNot   // 1 if a == 0 else 0
	opTruth // 1 if a != 0 else 0 (from && and || with a constant)
	opAbs
	opExp
	opLog
	opSqrt
	opTanh
	opSigmoid
	opFloor
	opHeaviside // 1 if a > 0 else 0
	opExprel    // (exp(a)-1)/a, 1 at 0
	opExpm1
	opLog1p
	opLog10
	opSin
	opCos
	opSign // 1, -1 or 0 (also for NaN)
	opCeil
	opTrunc // int(a): toward zero
	opRecip // 1/a (from x ** -k)
	opCopy  // a (only as an instruction)

	// binary
	opAdd
	opSub
	opMul
	opDiv
	opMin
	opMax
	opPow
	opPower // a ** b: products for integer |b| <= 8, else pow
	opMod   // a % b = a - floor(a/b)*b
	opLt
	opLe
	opGt
	opGe
	opEq
	opNe
	opAnd
	opOr

	// ternary
	opSelect // a != 0 ? b : c
	opClip   // min(max(a, b), c)
	numOps
)

// zeroOne reports whether the op's result is always exactly 0 or 1.
func (o op) zeroOne() bool {
	switch o {
	case opNot, opTruth, opHeaviside, opLt, opLe, opGt, opGe, opEq, opNe, opAnd, opOr:
		return true
	}
	return false
}

// arity is the number of operands of each op.
func (o op) arity() int {
	switch {
	case o <= opCount:
		return 0
	case o <= opCopy:
		return 1
	case o <= opOr:
		return 2
	}
	return 3
}

// function describes a function of the language.
type function struct {
	op    op
	arity int
	args  string // argument names for messages
}

var functions = map[string]function{
	"exp":       {opExp, 1, "x"},
	"log":       {opLog, 1, "x"},
	"sqrt":      {opSqrt, 1, "x"},
	"abs":       {opAbs, 1, "x"},
	"tanh":      {opTanh, 1, "x"},
	"sigmoid":   {opSigmoid, 1, "x"},
	"floor":     {opFloor, 1, "x"},
	"ceil":      {opCeil, 1, "x"},
	"int":       {opTrunc, 1, "x"},
	"sign":      {opSign, 1, "x"},
	"heaviside": {opHeaviside, 1, "x"},
	"exprel":    {opExprel, 1, "x"},
	"expm1":     {opExpm1, 1, "x"},
	"log1p":     {opLog1p, 1, "x"},
	"log10":     {opLog10, 1, "x"},
	"sin":       {opSin, 1, "x"},
	"cos":       {opCos, 1, "x"},
	"min":       {opMin, 2, "a, b"},
	"max":       {opMax, 2, "a, b"},
	"pow":       {opPow, 2, "x, y"},
	"clip":      {opClip, 3, "x, lo, hi"},
	"where":     {opSelect, 3, "cond, a, b"},
	"uniform":   {opUniform, 0, ""},
	"normal":    {opNormal, 0, ""},
}

// functionNames lists the functions, for suggestions.
func functionNames() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	return names
}

// binaryOps maps binary operators to ops.
var binaryOps = map[string]op{
	"+": opAdd, "-": opSub, "*": opMul, "/": opDiv,
	"<": opLt, "<=": opLe, ">": opGt, ">=": opGe, "==": opEq, "!=": opNe,
	"&&": opAnd, "||": opOr, "**": opPower, "%": opMod,
}

// The scalar definitions below are the semantics of every op: float32
// arithmetic, transcendental functions through float64 and rounded once.
// Constant folding uses them, and the block loops of eval.go compute the
// same expressions.

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// fmin and fmax follow GLSL: min(a, b) = b < a ? b : a, max(a, b) = a < b ? b : a.
func fmin(a, b float32) float32 {
	if b < a {
		return b
	}
	return a
}

func fmax(a, b float32) float32 {
	if a < b {
		return b
	}
	return a
}

func fexp(a float32) float32     { return float32(math.Exp(float64(a))) }
func flog(a float32) float32     { return float32(math.Log(float64(a))) }
func fsqrt(a float32) float32    { return float32(math.Sqrt(float64(a))) }
func ftanh(a float32) float32    { return float32(math.Tanh(float64(a))) }
func fsigmoid(a float32) float32 { return float32(1 / (1 + math.Exp(-float64(a)))) }
func ffloor(a float32) float32   { return float32(math.Floor(float64(a))) }
func fpow(a, b float32) float32  { return float32(math.Pow(float64(a), float64(b))) }
func fabs(a float32) float32     { return math.Float32frombits(math.Float32bits(a) &^ (1 << 31)) }
func fexpm1(a float32) float32   { return float32(math.Expm1(float64(a))) }
func flog1p(a float32) float32   { return float32(math.Log1p(float64(a))) }
func flog10(a float32) float32   { return float32(math.Log10(float64(a))) }
func fsin(a float32) float32     { return float32(math.Sin(float64(a))) }
func fcos(a float32) float32     { return float32(math.Cos(float64(a))) }
func fceil(a float32) float32    { return float32(math.Ceil(float64(a))) }
func ftrunc(a float32) float32   { return float32(math.Trunc(float64(a))) }

// fsign is 1 for a > 0, -1 for a < 0 and +0 otherwise (zeros and NaN), as
// Brian2's C++ targets compute sign.
func fsign(a float32) float32 { return b2f(a > 0) - b2f(a < 0) }

// fexprel is (exp(a)-1)/a in float64 (expm1, so that it is accurate near
// 0), 1 at 0, +Inf at +Inf and 0 at -Inf, rounded once.
func fexprel(a float32) float32 {
	x := float64(a)
	switch {
	case x == 0:
		return 1
	case math.IsInf(x, 1):
		return a
	}
	return float32(math.Expm1(x) / x)
}

// ipow is x**k for 0 <= k <= 8 by repeated squaring, each product rounded
// to float32: x**2 = x*x, x**3 = x**2*x, x**4 = x**2*x**2, x**5 = x**4*x,
// x**6 = x**3*x**3, x**7 = x**6*x, x**8 = x**4*x**4. The compiler expands
// constant exponents into the same products (builder.powInt).
func ipow(x float32, k int) float32 {
	switch k {
	case 0:
		return 1
	case 1:
		return x
	}
	h := ipow(x, k/2)
	r := h * h
	if k&1 == 1 {
		r *= x
	}
	return r
}

// smallInt reports whether y is an integer with |y| <= 8, an exponent
// that x ** y computes as products.
func smallInt(y float32) bool { return y == float32(math.Trunc(float64(y))) && fabs(y) <= 8 }

// fpower is x ** y: for an integer y with |y| <= 8 the products of ipow
// (and the reciprocal 1/x**-y for y < 0), for any other y pow(x, y).
func fpower(x, y float32) float32 {
	if !smallInt(y) {
		return fpow(x, y)
	}
	r := ipow(x, int(fabs(y)))
	if y < 0 {
		r = 1 / r
	}
	return r
}

// fmod is x % y = x - floor(x/y)*y, each operation rounded to float32 (the
// conversions keep the compiler from fusing the multiply and subtract).
// The result has the sign of y, as the float modulo of Python and numpy,
// and is NaN for y = 0 and for infinite operands.
func fmod(x, y float32) float32 {
	m := float32(ffloor(float32(x/y)) * y)
	return float32(x - m)
}

func sel(c, a, b float32) float32 {
	if c != 0 {
		return a
	}
	return b
}

// apply computes op o on scalars. It is not used for opConst, opInput and
// the random ops.
func apply(o op, a, b, c float32) float32 {
	switch o {
	case opNeg:
		return -a
	case opNot:
		return b2f(a == 0)
	case opTruth:
		return b2f(a != 0)
	case opAbs:
		return fabs(a)
	case opExp:
		return fexp(a)
	case opLog:
		return flog(a)
	case opSqrt:
		return fsqrt(a)
	case opTanh:
		return ftanh(a)
	case opSigmoid:
		return fsigmoid(a)
	case opFloor:
		return ffloor(a)
	case opHeaviside:
		return b2f(a > 0)
	case opExprel:
		return fexprel(a)
	case opExpm1:
		return fexpm1(a)
	case opLog1p:
		return flog1p(a)
	case opLog10:
		return flog10(a)
	case opSin:
		return fsin(a)
	case opCos:
		return fcos(a)
	case opSign:
		return fsign(a)
	case opCeil:
		return fceil(a)
	case opTrunc:
		return ftrunc(a)
	case opRecip:
		return 1 / a
	case opCopy:
		return a
	case opAdd:
		return a + b
	case opSub:
		return a - b
	case opMul:
		return a * b
	case opDiv:
		return a / b
	case opMin:
		return fmin(a, b)
	case opMax:
		return fmax(a, b)
	case opPow:
		return fpow(a, b)
	case opPower:
		return fpower(a, b)
	case opMod:
		return fmod(a, b)
	case opLt:
		return b2f(a < b)
	case opLe:
		return b2f(a <= b)
	case opGt:
		return b2f(a > b)
	case opGe:
		return b2f(a >= b)
	case opEq:
		return b2f(a == b)
	case opNe:
		return b2f(a != b)
	case opAnd:
		return b2f(a != 0 && b != 0)
	case opOr:
		return b2f(a != 0 || b != 0)
	case opSelect:
		return sel(a, b, c)
	case opClip:
		return fmin(fmax(a, b), c)
	}
	panic("expr: apply of op without scalar form")
}
