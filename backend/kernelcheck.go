package backend

import "github.com/gomonnto/gomonnto/backend/expr"

// CheckKernelArgs panics unless args and scalars fit program p: one tensor
// per program tensor, all of the same length n or of length 1 when only
// read, and one number per scalar. It returns n, the number of elements
// the kernel runs over. Every backend's Kernel.Run calls it so that misuse
// panics alike everywhere.
func CheckKernelArgs(p *expr.Program, args []Tensor, scalars []float32) int {
	if len(scalars) != p.NumScalars() {
		panic(Misusef("backend", "Kernel.Run", "%d scalars given, the program has %d (%v)", len(scalars), p.NumScalars(), p.Scalars()))
	}
	if len(args) != p.NumTensors() {
		panic(Misusef("backend", "Kernel.Run", "%d tensors given, the program binds %d (%v)", len(args), p.NumTensors(), p.Tensors()))
	}
	n := 1
	for k, a := range args {
		if a == nil {
			panic(Misusef("backend", "Kernel.Run", "tensor %q is nil", p.Tensors()[k]))
		}
		if l := a.Len(); l != 1 {
			if n != 1 && l != n {
				panic(Misusef("backend", "Kernel.Run", "length mismatch: %q has %d elements, others %d", p.Tensors()[k], l, n))
			}
			n = l
		}
	}
	for k, a := range args {
		if a.Len() == 1 && n > 1 && p.Writes(k) {
			panic(Misusef("backend", "Kernel.Run", "%q has 1 element but is assigned over %d elements", p.Tensors()[k], n))
		}
	}
	return n
}
