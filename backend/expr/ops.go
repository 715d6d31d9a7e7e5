package expr

import "math"

// op is an operation of the program's data-flow graph.
type op uint8

const (
	opConst   op = iota // a literal or Env constant
	opInput             // the value tensor idx had before the run
	opUniform           // U[0, 1) of random site idx
	opNormal            // N(0, 1) of random site idx

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
	opCopy      // a (only as an instruction)

	// binary
	opAdd
	opSub
	opMul
	opDiv
	opMin
	opMax
	opPow
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
	case o <= opNormal:
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
	"heaviside": {opHeaviside, 1, "x"},
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
	"&&": opAnd, "||": opOr,
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
