package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// HopfieldRecall is PymoNNto's Hopfield recall step (Examples_Classical):
// v = (9 v + sign(W v))/10, a soft move of every unit towards the sign of
// its input.
type HopfieldRecall struct {
	core.Base
	h    backend.Tensor
	step *core.Kernel
	in   *core.SynapseGroup
}

func (r *HopfieldRecall) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("HopfieldRecall belongs on a neuron group, not %T", o)
	}
	if g.Var("v") == nil {
		return fmt.Errorf("HopfieldRecall: group %s has no variable v (the units' states)", g.Name())
	}
	ins := g.Synapses(core.Afferent, "")
	if len(ins) != 1 || ins[0].Src != g || ins[0].Var("W") == nil {
		return fmt.Errorf("HopfieldRecall: group %s needs one recurrent synapse group with W", g.Name())
	}
	r.in = ins[0]
	var err error
	if r.h, err = o.Vector("zeros"); err != nil {
		return err
	}
	r.step, err = core.NewKernelWith(o, "v = (9*v + sign(_h))/10", nil, map[string]backend.Tensor{"_h": r.h})
	return err
}

func (r *HopfieldRecall) Iteration(o core.Object) error {
	r.in.MatVec(r.h, r.in.Var("W"), o.Var("v"), 1, 0)
	r.step.Run()
	return nil
}

// HopfieldOptions configure Hopfield.
type HopfieldOptions struct {
	// N units (784, PymoNNto's 28 x 28, if 0) and P stored random +-1
	// patterns (4, as PymoNNto's digits, if 0) drawn from Seed.
	N, P int
	Seed uint64
	// Cue is the pattern the run starts from, with Flip of its units
	// flipped (0.2: a fifth).
	Cue  int
	Flip float64
}

// Hopfield builds a Hopfield network storing P random patterns with
// Hebb's rule (W = sum of p p^T / N, zero diagonal: PymoNNto's learning
// phase, outer(v, v) with the diagonal masked, here in one step) and
// starts it from pattern Cue with Flip of its units flipped. It returns
// the group and the patterns.
func Hopfield(net *core.Network, o HopfieldOptions) (*core.NeuronGroup, [][]float32, error) {
	if o.N == 0 {
		o.N = 784
	}
	if o.P == 0 {
		o.P = 4
	}
	if o.Flip == 0 {
		o.Flip = 0.2
	}
	if o.Cue < 0 || o.Cue >= o.P || o.Flip < 0 || o.Flip > 1 {
		return nil, nil, fmt.Errorf("Hopfield: cue %d of %d patterns, flip %v: the cue must be a stored pattern and flip in [0, 1]", o.Cue, o.P, o.Flip)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x686f70))
	pats := make([][]float32, o.P)
	for k := range pats {
		pats[k] = make([]float32, o.N)
		for i := range pats[k] {
			pats[k][i] = float32(2*rng.IntN(2) - 1)
		}
	}
	cue := append([]float32(nil), pats[o.Cue]...)
	for _, i := range rng.Perm(o.N)[:int(o.Flip*float64(o.N))] {
		cue[i] = -cue[i]
	}
	w := make([]float32, o.N*o.N)
	for _, p := range pats {
		for i := range o.N {
			for j := range o.N {
				if i != j {
					w[i*o.N+j] += p[i] * p[j] / float32(o.N)
				}
			}
		}
	}
	g, err := net.NewNeuronGroup("H", core.SquaredDim(o.N), core.Behaviors{
		1: &core.BehaviorFunc{Init: func(obj core.Object) error {
			v, err := obj.Vector("zeros")
			if err != nil {
				return err
			}
			if err := obj.Net().Backend().Write(v, 0, cue); err != nil {
				return err
			}
			return obj.SetVar("v", v)
		}},
		2: &HopfieldRecall{},
	})
	if err != nil {
		return nil, nil, err
	}
	sg, err := net.NewSynapseGroup("H->H", g, g, nil)
	if err != nil {
		return nil, nil, err
	}
	wt, err := sg.Matrix("zeros")
	if err != nil {
		return nil, nil, err
	}
	if err := net.Backend().Write(wt, 0, w); err != nil { // symmetric: either layout
		return nil, nil, err
	}
	if err := sg.SetVar("W", wt); err != nil {
		return nil, nil, err
	}
	return g, pats, nil
}
