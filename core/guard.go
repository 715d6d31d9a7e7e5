package core

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/gomonnto/gomonnto/backend"
)

// ErrNonFinite is wrapped by the error of a NaNGuard that found NaN or
// infinity.
var ErrNonFinite = errors.New("NaN or infinity in the network's state")

// NaNGuard is a behaviour that stops the run when a variable holds NaN or
// infinity: every Every steps (100 if 0) it reduces each variable of the
// neuron groups (and of the synapse groups, with Synapses) to its mean on
// the device, one Reduce per variable into one small tensor, and reads
// that back (a NaN or infinity anywhere makes the mean non-finite; the
// mean of finite float32 values cannot overflow). When one is found, the
// step returns an error naming the group, the variable, the first bad
// element and the iteration. Add it to the network at a key after the
// model's behaviours:
//
//	net.AddBehavior(1e9, &core.NaNGuard{Every: 100})
//
// A checkpointer (package store) given as a step hook then writes no
// checkpoint at that step, so the last good one stays the newest.
type NaNGuard struct {
	Base
	Every    int
	Synapses bool

	vars  []guarded
	means backend.Tensor
	host  []float32
}

type guarded struct {
	obj  Object
	name string
	t    backend.Tensor
}

func (g *NaNGuard) initializeLast() {}

// Initialize lists the variables to check (those made by the behaviours
// initialised before it).
func (g *NaNGuard) Initialize(o Object) error {
	if g.Every < 0 {
		return fmt.Errorf("NaNGuard: Every %d must not be negative", g.Every)
	}
	if g.Every == 0 {
		g.Every = 100
	}
	n := o.Net()
	var objs []Object
	for _, x := range n.groups {
		objs = append(objs, x)
	}
	if g.Synapses {
		for _, s := range n.synapses {
			objs = append(objs, s)
		}
	}
	for _, obj := range objs {
		names := obj.VarNames()
		sort.Strings(names)
		for _, v := range names {
			g.vars = append(g.vars, guarded{obj, v, obj.Var(v)})
		}
	}
	if len(g.vars) == 0 {
		return nil
	}
	var err error
	if g.means, err = n.be.NewTensor(len(g.vars), 1); err != nil {
		return fmt.Errorf("NaNGuard: %w", err)
	}
	g.host = make([]float32, len(g.vars))
	return nil
}

// Iteration checks the variables every Every steps.
func (g *NaNGuard) Iteration(o Object) error {
	n := o.Net()
	if len(g.vars) == 0 || n.Iteration%g.Every != 0 {
		return nil
	}
	for k, v := range g.vars {
		n.be.Reduce(backend.Mean, g.means, k, v.t)
	}
	if err := n.be.Read(g.host, g.means, 0); err != nil {
		return fmt.Errorf("NaNGuard: %w", err)
	}
	for k, m := range g.host {
		if !math.IsNaN(float64(m)) && !math.IsInf(float64(m), 0) {
			continue
		}
		v := g.vars[k]
		data := make([]float32, v.t.Len())
		if err := n.be.Read(data, v.t, 0); err != nil {
			return fmt.Errorf("NaNGuard: %w", err)
		}
		for i, x := range data {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: variable %q of %s holds %v at element %d at iteration %d (checked every %d steps; no checkpoint was written at this step)",
					ErrNonFinite, v.name, describe(v.obj), x, i, n.Iteration, g.Every)
			}
		}
		return fmt.Errorf("%w: variable %q of %s has a mean of %v at iteration %d", ErrNonFinite, v.name, describe(v.obj), m, n.Iteration)
	}
	return nil
}
