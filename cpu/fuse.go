package cpu

import (
	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
)

// kernel runs a fused program: each chunk of elements is evaluated by one
// expr.Evaluator, one pass over memory.
type kernel struct {
	b    *Backend
	p    *expr.Program
	evs  []*expr.Evaluator // one per chunk number
	vars [][]float32
	key  backend.RandKey
	cost int // tensors plus expr.Program.Cost per element, for the split threshold
}

var _ backend.Fuser = (*Backend)(nil)

// Fuse compiles p into a kernel that runs it over the elements of its
// tensors in parallel chunks.
func (b *Backend) Fuse(p *expr.Program) (backend.Kernel, error) {
	b.live("Fuse")
	k := &kernel{b: b, p: p, vars: make([][]float32, len(p.Tensors())), cost: 2 + p.Cost() + p.NumTensors()}
	for range maxChunks(b.threads) {
		k.evs = append(k.evs, p.NewEvaluator())
	}
	return k, nil
}

// Run executes the program over every element.
func (k *kernel) Run(args []backend.Tensor, key backend.RandKey) {
	b := k.b
	b.live("Kernel.Run")
	n := backend.CheckKernelArgs(k.p, args)
	for i, a := range args {
		k.vars[i] = b.ten("Kernel.Run", a)
	}
	k.key = key
	b.split(k, n, b.parts(n*k.cost, grainKernel), 512)
	for i := range k.vars {
		k.vars[i] = nil
	}
}

func (k *kernel) run(part, lo, hi int) { k.evs[part].Eval(k.vars, lo, hi, k.key) }

// Release frees the kernel's evaluators.
func (k *kernel) Release() { k.evs, k.vars = nil, nil }
