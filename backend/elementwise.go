package backend

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// The elementwise operations below are fused kernels (package expr) that
// each backend compiles once, on first use, and keeps in its Elementwise:
// one vocabulary for elementwise work, one place to add a function (expr),
// and no shader or loop of their own. They act on tensors as flat arrays
// of Len elements (a sparse matrix: on its stored values) and may be
// queued like every operation. The backend is dst's.

// Fill sets every element of dst to v.
func Fill(dst Tensor, v float32) { run1(ewFill, 0, "Fill", dst, nil, nil, v, 0) }

// Copy copies src into dst (same Len).
func Copy(dst, src Tensor) { run1(ewCopy, 0, "Copy", dst, src, nil, 0, 0) }

// Binary sets dst = a op b elementwise (same Len; dst may alias a or b).
// Min and Max return NaN if either operand is NaN; Div is the correctly
// rounded float32 quotient.
func Binary(op BinaryOp, dst, a, b Tensor) {
	if !op.Valid() {
		panic(Misusef("backend", "Binary", "invalid operation %v", op))
	}
	run1(ewBinary, uint8(op), "Binary", dst, a, b, 0, 0)
}

// BinaryScalar sets dst = a op s elementwise.
func BinaryScalar(op BinaryOp, dst, a Tensor, s float32) {
	if !op.Valid() {
		panic(Misusef("backend", "BinaryScalar", "invalid operation %v", op))
	}
	run1(ewBinaryScalar, uint8(op), "BinaryScalar", dst, a, nil, s, 0)
}

// Unary sets dst = op(a) elementwise. Exp, Log, Sqrt, Recip, Tanh and
// Sigmoid are computed in double and rounded once to float32 (expr's
// Env.Double), on every backend.
func Unary(op UnaryOp, dst, a Tensor) {
	if !op.Valid() {
		panic(Misusef("backend", "Unary", "invalid operation %v", op))
	}
	run1(ewUnary, uint8(op), "Unary", dst, a, nil, 0, 0)
}

// Affine sets dst = alpha*a + beta (a float32 multiply, then add).
func Affine(dst, a Tensor, alpha, beta float32) {
	run1(ewAffine, 0, "Affine", dst, a, nil, alpha, beta)
}

// Axpy sets dst += alpha*x (a float32 multiply, then add).
func Axpy(dst Tensor, alpha float32, x Tensor) { run1(ewAxpy, 0, "Axpy", dst, x, nil, alpha, 0) }

// Where sets dst[i] = src[i] where mask[i] != 0.
func Where(dst, mask, src Tensor) { run1(ewWhere, 0, "Where", dst, mask, src, 0, 0) }

// WhereScalar sets dst[i] = s where mask[i] != 0.
func WhereScalar(dst, mask Tensor, s float32) {
	run1(ewWhereScalar, 0, "WhereScalar", dst, mask, nil, s, 0)
}

// Clip sets dst = min(max(a, lo), hi).
func Clip(dst, a Tensor, lo, hi float32) { run1(ewClip, 0, "Clip", dst, a, nil, lo, hi) }

type ewKind uint8

const (
	ewFill ewKind = iota
	ewCopy
	ewBinary
	ewBinaryScalar
	ewUnary
	ewAffine
	ewAxpy
	ewWhere
	ewWhereScalar
	ewClip
)

// ewPrograms are the operations' sources over the operands $d, $a, $b
// (dst and the tensor operands, in argument order) and the scalars s0, s1;
// binary and unary operations come from binarySrc and unarySrc.
var ewPrograms = [...]string{
	ewFill:        "$d = s0",
	ewCopy:        "$d = $a",
	ewAffine:      "$d = s0*$a + s1",
	ewAxpy:        "$d = $d + s0*$a",
	ewWhere:       "$d = $a != 0 ? $b : $d",
	ewWhereScalar: "$d = $a != 0 ? s0 : $d",
	ewClip:        "$d = $a < s0 ? s0 : ($a > s1 ? s1 : $a)", // compares, so that NaN stays NaN
}

// binarySrc and unarySrc define the BinaryOp and UnaryOp values in expr.
// Min and Max return NaN when either operand is NaN (as Go's min and max).
var binarySrc = [numBinaryOps]string{
	Add: "$a + $b", Sub: "$a - $b", Mul: "$a * $b", Div: "$a / $b",
	Min: "($a != $a || $b != $b) ? $a + $b : min($a, $b)", Max: "($a != $a || $b != $b) ? $a + $b : max($a, $b)",
	Gt: "$a > $b", Ge: "$a >= $b", Lt: "$a < $b", Le: "$a <= $b", Eq: "$a == $b", Ne: "$a != $b",
}

var unarySrc = [numUnaryOps]string{
	Neg: "-$a", Abs: "abs($a)", Exp: "exp($a)", Log: "log($a)", Sqrt: "sqrt($a)", Square: "$a * $a",
	Recip: "1 / $a", Tanh: "tanh($a)", Sigmoid: "sigmoid($a)", Heaviside: "heaviside($a)", Not: "!$a",
}

// Elementwise holds a backend's compiled elementwise kernels. Every
// Backend embeds one (it provides the unexported method of the Backend
// interface); its zero value is ready.
type Elementwise struct {
	mu      sync.Mutex
	kernels [ewKinds * ewOps * ewAliases]Kernel // by ewKey.index
	args    [3]Tensor                           // scratch for one run, under mu
	sc      [2]float32
}

func (e *Elementwise) elementwise() *Elementwise { return e }

// ewKey selects a compiled operation: the kind, the op and which operands
// are the same tensor (alias[i] is the first operand equal to operand i).
type ewKey struct {
	kind  ewKind
	op    uint8
	alias [3]uint8
}

// The dimensions of Elementwise.kernels: kinds, ops of a kind, and alias
// patterns (alias[1] in 0..1, alias[2] in 0..2).
const (
	ewKinds   = int(ewClip) + 1
	ewOps     = max(int(numBinaryOps), int(numUnaryOps))
	ewAliases = 6
)

// index is the key's place in Elementwise.kernels.
func (k ewKey) index() int {
	return (int(k.kind)*ewOps+int(k.op))*ewAliases + int(k.alias[1])*3 + int(k.alias[2])
}

// ewOperands is the number of tensor operands of each kind, dst included.
var ewOperands = [...]int{ewFill: 1, ewCopy: 2, ewBinary: 3, ewBinaryScalar: 2, ewUnary: 2,
	ewAffine: 2, ewAxpy: 2, ewWhere: 3, ewWhereScalar: 2, ewClip: 2}

// ewScalars is the number of scalars of each kind.
var ewScalars = [...]int{ewFill: 1, ewBinaryScalar: 1, ewAffine: 2, ewAxpy: 1, ewWhereScalar: 1, ewClip: 2}

// run1 runs one elementwise operation on dst and the tensor operands a
// and b (nil when the operation has fewer) with scalars s0 and s1. It
// allocates nothing once the kernel is compiled.
func run1(kind ewKind, op uint8, name string, dst, a, b Tensor, s0, s1 float32) {
	if dst == nil {
		panic(Misusef("backend", name, "nil tensor"))
	}
	nops := ewOperands[kind]
	n := dst.Len()
	key := ewKey{kind: kind, op: op}
	if nops > 1 {
		checkOperand(name, dst, a, n)
		if a == dst {
			key.alias[1] = 0
		} else {
			key.alias[1] = 1
		}
	}
	if nops > 2 {
		checkOperand(name, dst, b, n)
		switch b {
		case dst:
			key.alias[2] = 0
		case a:
			key.alias[2] = key.alias[1]
		default:
			key.alias[2] = 2
		}
	}
	be := dst.Backend()
	if be == nil {
		panic(Misusef("backend", name, "tensor %s has no backend", Shape(dst)))
	}
	e := be.elementwise()
	e.mu.Lock()
	defer e.mu.Unlock()
	k := e.kernels[key.index()]
	if k == nil {
		k = e.compile(be, key, nops, name)
	}
	// The distinct operands, in order.
	e.args[0] = dst
	m := 1
	if nops > 1 && key.alias[1] == 1 {
		e.args[m] = a
		m++
	}
	if nops > 2 && key.alias[2] == 2 {
		e.args[m] = b
		m++
	}
	e.sc[0], e.sc[1] = s0, s1
	k.Run(e.args[:m], e.sc[:ewScalars[kind]], rng.Key{})
	e.args[0], e.args[1], e.args[2] = nil, nil, nil
}

// checkOperand panics unless t is a tensor of n elements.
func checkOperand(name string, dst, t Tensor, n int) {
	if t == nil {
		panic(Misusef("backend", name, "nil tensor"))
	}
	if t.Len() != n {
		panic(Misusef("backend", name, "length mismatch: %s has %d elements, dst %s has %d", Shape(t), t.Len(), Shape(dst), n))
	}
}

// compile builds the kernel of key on be (under e.mu).
func (e *Elementwise) compile(be Backend, key ewKey, nops int, name string) Kernel {
	var src string
	switch key.kind {
	case ewBinary:
		src = "$d = " + binarySrc[key.op]
	case ewBinaryScalar:
		src = "$d = " + strings.ReplaceAll(binarySrc[key.op], "$b", "s0")
	case ewUnary:
		src = "$d = " + unarySrc[key.op]
	default:
		src = ewPrograms[key.kind]
	}
	var tensors []string
	for i, ph := range []string{"$d", "$a", "$b"}[:nops] {
		v := fmt.Sprintf("x%d", key.alias[i])
		if key.alias[i] == uint8(i) {
			tensors = append(tensors, v)
		}
		src = strings.ReplaceAll(src, ph, v)
	}
	var scalars []string
	for _, s := range []string{"s0", "s1"} {
		if strings.Contains(src, s) {
			scalars = append(scalars, s)
		}
	}
	p, err := expr.Compile(src, expr.Env{Tensors: tensors, Scalars: scalars, Double: true})
	if err != nil {
		panic(fmt.Sprintf("backend: %s: compiling %q: %v", name, src, err)) // a bug in the table above
	}
	k, err := be.Fuse(p)
	if err != nil {
		panic(Misusef("backend", name, "backend %s cannot compile the kernel %q: %v", be.Name(), src, err))
	}
	e.kernels[key.index()] = k
	return k
}
