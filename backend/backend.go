package backend

import (
	"fmt"
	"math"

	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// Tensor is a float32 array owned by a Backend. Its data may live in GPU
// memory; the host reaches it only through Backend.Read and Backend.Write.
//
// Every tensor is a row-major Rows x Cols matrix; a vector of n elements is
// n x 1. Elementwise operations treat a tensor as a flat array of Len
// elements.
type Tensor interface {
	Rows() int
	Cols() int
	Len() int
	// Backend returns the backend that owns the tensor.
	Backend() Backend
	// Release frees the tensor's storage. Using it afterwards panics.
	Release()
}

// BinaryOp selects an elementwise operation of two operands.
type BinaryOp uint8

const (
	Add BinaryOp = iota // a + b
	Sub                 // a - b
	Mul                 // a * b
	Div                 // a / b
	Min                 // min(a, b)
	Max                 // max(a, b)
	Gt                  // 1 if a > b else 0
	Ge                  // 1 if a >= b else 0
	Lt                  // 1 if a < b else 0
	Le                  // 1 if a <= b else 0
	Eq                  // 1 if a == b else 0
	Ne                  // 1 if a != b else 0
	numBinaryOps
)

var binaryNames = [...]string{"add", "sub", "mul", "div", "min", "max", "gt", "ge", "lt", "le", "eq", "ne"}

func (op BinaryOp) String() string {
	if op < numBinaryOps {
		return binaryNames[op]
	}
	return fmt.Sprintf("BinaryOp(%d)", uint8(op))
}

// Valid reports whether op is a defined operation.
func (op BinaryOp) Valid() bool { return op < numBinaryOps }

// UnaryOp selects an elementwise operation of one operand.
type UnaryOp uint8

const (
	Neg       UnaryOp = iota // -a
	Abs                      // |a|
	Exp                      // e^a
	Log                      // ln a
	Sqrt                     // sqrt a
	Square                   // a*a
	Recip                    // 1/a
	Tanh                     // tanh a
	Sigmoid                  // 1/(1+e^-a)
	Heaviside                // 1 if a > 0 else 0
	Not                      // 1 if a == 0 else 0
	numUnaryOps
)

var unaryNames = [...]string{"neg", "abs", "exp", "log", "sqrt", "square", "recip", "tanh", "sigmoid", "heaviside", "not"}

func (op UnaryOp) String() string {
	if op < numUnaryOps {
		return unaryNames[op]
	}
	return fmt.Sprintf("UnaryOp(%d)", uint8(op))
}

// Valid reports whether op is a defined operation.
func (op UnaryOp) Valid() bool { return op < numUnaryOps }

// ReduceOp selects a reduction of all elements of a tensor to one number.
type ReduceOp uint8

const (
	Sum       ReduceOp = iota // sum of elements
	Mean                      // sum / Len
	MaxReduce                 // largest element
	MinReduce                 // smallest element
	Count                     // number of non-zero elements
	numReduceOps
)

var reduceNames = [...]string{"sum", "mean", "max", "min", "count"}

func (op ReduceOp) String() string {
	if op < numReduceOps {
		return reduceNames[op]
	}
	return fmt.Sprintf("ReduceOp(%d)", uint8(op))
}

// Empty is the reduction over zero elements: 0 for Sum and Count, NaN for
// Mean, -Inf for MaxReduce and +Inf for MinReduce.
func (op ReduceOp) Empty() float32 {
	switch op {
	case Mean:
		return float32(math.NaN())
	case MaxReduce:
		return float32(math.Inf(-1))
	case MinReduce:
		return float32(math.Inf(1))
	}
	return 0
}

// Valid reports whether op is a defined reduction.
func (op ReduceOp) Valid() bool { return op < numReduceOps }

// Axis selects rows or columns of a matrix.
type Axis uint8

const (
	Rows Axis = iota // each row
	Cols             // each column
)

// OuterParams configures Backend.Outer.
type OuterParams struct {
	// Alpha scales the update.
	Alpha float32
	// Soft selects the soft-bound form W += Alpha*u[i]*v[j]*(Target - W).
	// Otherwise the update is additive: W += Alpha*u[i]*v[j].
	Soft   bool
	Target float32
	// Clip bounds every updated element to [Lo, Hi] after the update.
	Clip   bool
	Lo, Hi float32
}

// Backend creates tensors and runs operations on them.
//
// Operations are destination-first and may be queued: they return before
// the work is done, and a backend may run them on another thread or device.
// Results are visible to later operations and to Read. Misuse that a program
// can avoid (shape mismatch, a tensor of another backend, a released tensor,
// an invalid op) panics with a message naming the problem; failures of the
// device (out of memory, a lost context) are reported by Flush, Read and
// Write, and by New* at allocation.
//
// Per-step operations never allocate heap memory and never copy between host
// and device; only Read and Write move data, and only when asked.
type Backend interface {
	// Name is the registered name ("cpu", "gl").
	Name() string
	// Device describes where the work runs (CPU model and cores, GL renderer).
	Device() string

	// NewTensor allocates a rows x cols tensor filled with zeros.
	NewTensor(rows, cols int) (Tensor, error)

	// Write copies src into t starting at element off.
	Write(t Tensor, off int, src []float32) error
	// Read copies len(dst) elements of t starting at element off into dst.
	// It waits for all queued work.
	Read(dst []float32, t Tensor, off int) error

	// CopyRange copies n elements of src from srcOff into dst at dstOff.
	CopyRange(dst Tensor, dstOff int, src Tensor, srcOff, n int)

	// Fuse compiles an elementwise program into a kernel: one pass over
	// memory for a whole update. The elementwise operations of this
	// package (Fill, Binary, Affine, ...) are such kernels.
	Fuse(p *expr.Program) (Kernel, error)

	// Reduce stores op over all elements of src into dst[dstOff].
	Reduce(op ReduceOp, dst Tensor, dstOff int, src Tensor)

	// MatVec sets dst = alpha*W*x + beta*dst, or alpha*W^T*x + beta*dst
	// when trans is true. W is a Rows x Cols matrix.
	MatVec(dst, w Tensor, trans bool, x Tensor, alpha, beta float32)
	// Propagate adds alpha times the sum of the columns j of W with
	// mask[j] != 0 to dst (dst has W.Rows elements, mask W.Cols); with
	// trans it adds the rows i with mask[i] != 0 (dst has W.Cols elements,
	// mask W.Rows). It is the spike-driven form of MatVec: its cost grows
	// with the number of non-zero mask entries, not with the matrix size.
	Propagate(dst, w Tensor, trans bool, mask Tensor, alpha float32)
	// Outer updates W[i][j] for every row i with rowMask[i] != 0 and
	// column j with colMask[j] != 0 (a nil mask selects all) by
	// Alpha*u[i]*v[j] (nil u or v reads as ones), or in the soft-bound
	// form Alpha*u[i]*v[j]*(Target-W[i][j]), then clips if asked.
	Outer(w, rowMask, colMask, u, v Tensor, p OuterParams)
	// Normalize scales each row (axis Rows) or column (axis Cols) of W so
	// that its sum is target; rows or columns that sum to zero are left
	// unchanged.
	Normalize(w Tensor, axis Axis, target float32)

	// Random fills dst with numbers drawn from d, using the counter-based
	// generator keyed by key: element i of the tensor always receives the
	// same number for the same key on every backend.
	Random(dst Tensor, d rng.Dist, key rng.Key)

	// Flush submits the queued work and reports the first device error
	// since the last Flush. It does not wait for the work to finish.
	Flush() error
	// Sync waits until all queued work has finished and reports errors.
	Sync() error
	// Close releases every resource of the backend; tensors become invalid.
	Close() error

	// elementwise is provided by an embedded Elementwise.
	elementwise() *Elementwise
}

// Kernel is a fused elementwise update compiled by Backend.Fuse: one pass over
// memory for a whole update such as v += dt*(0.04*v*v + 5*v + 140 - u + I).
type Kernel interface {
	// Run executes the kernel with args bound, in order, to the program's
	// tensor variables and scalars to its scalars (expr.Env.Scalars; nil
	// when it has none). Random calls in the program draw with key; the
	// i-th call site uses Counter+i.
	Run(args []Tensor, scalars []float32, key rng.Key)
	// Release frees the kernel.
	Release()
}

// A StepFlusher is a backend whose device thread may run the work of
// several simulation steps as one batch. core.Network.SimulateIterations
// ends each step with FlushStep instead of Flush, and the whole run with
// Flush.
type StepFlusher interface {
	// FlushStep submits the queued work if the device thread is idle and
	// otherwise leaves it queued, with the steps that follow, for the
	// next FlushStep, Flush, Sync or Read (so a thread that runs the
	// steps as fast as it records them is not woken once per step). It
	// reports the first device error since the last report.
	FlushStep() error
}
