package core

import (
	"fmt"
	"sort"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// Kernel is a fused elementwise update bound to an object's variables:
// one kernel on the gl backend, one pass over memory on cpu. Make it in
// Initialize, Run it in Iteration.
type Kernel struct {
	net   *Network
	k     backend.Kernel
	args  []backend.Tensor
	nrand int
	prog  *expr.Program
}

// Consts are named constants baked into a kernel.
type Consts map[string]float32

// NewKernel compiles src, e.g.
//
//	"v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)"
//
// (the language is described in package backend/expr). Names that are
// variables of obj bind to its tensors as they are now; names in consts are
// baked in as literals. Errors point at the line and column.
func NewKernel(obj Object, src string, consts Consts) (*Kernel, error) {
	return NewKernelWith(obj, src, consts, nil)
}

// NewKernelWith is NewKernel with extra tensors bound by name, such as a
// behaviour's private scratch tensors that are not variables of obj. An
// extra name hides a variable of obj with the same name.
func NewKernelWith(obj Object, src string, consts Consts, extra map[string]backend.Tensor) (*Kernel, error) {
	n := obj.Net()
	f := n.be
	lookup := func(name string) backend.Tensor {
		if t, ok := extra[name]; ok {
			return t
		}
		return obj.Var(name)
	}
	vars := append([]string(nil), obj.VarNames()...)
	for name := range extra {
		if obj.Var(name) == nil {
			vars = append(vars, name)
		}
	}
	sort.Strings(vars)
	p, err := expr.Compile(src, expr.Env{Tensors: vars, Consts: consts})
	if err != nil {
		return nil, fmt.Errorf("kernel on %s: %w", describe(obj), err)
	}
	// Bind only the variables the program uses (GPUs have few binding slots).
	var used []string
	for k, name := range vars {
		if p.Reads(k) || p.Writes(k) {
			used = append(used, name)
		}
	}
	if p, err = expr.Compile(src, expr.Env{Tensors: used, Consts: consts}); err != nil {
		return nil, fmt.Errorf("kernel on %s: %w", describe(obj), err)
	}
	kr := &Kernel{net: n, prog: p, nrand: p.NumRandom()}
	size := -1
	for _, name := range used {
		t := lookup(name)
		if t == nil {
			return nil, fmt.Errorf("kernel on %s: variable %q is nil", describe(obj), name)
		}
		if t.Len() != 1 {
			if size >= 0 && t.Len() != size {
				return nil, fmt.Errorf("kernel on %s: variable %q has %d elements, others %d", describe(obj), name, t.Len(), size)
			}
			size = t.Len()
		}
		kr.args = append(kr.args, t)
	}
	if kr.k, err = f.Fuse(p); err != nil {
		return nil, fmt.Errorf("kernel on %s: %w", describe(obj), err)
	}
	return kr, nil
}

// Run queues one run of the kernel. Random calls draw fresh numbers.
func (k *Kernel) Run() {
	key := rng.Key{Seed: k.net.seed, Counter: k.net.draws + 1}
	k.net.draws += uint64(k.nrand)
	k.k.Run(k.args, nil, key)
}

// Program is the compiled program.
func (k *Kernel) Program() *expr.Program { return k.prog }

// Release frees the kernel.
func (k *Kernel) Release() { k.k.Release() }
