package models

import (
	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// Decay is PymoNNto's Basic_Behavior: activity starts uniform in [0, 1)
// and is multiplied by Factor (parameter "decay_factor", default 0.99)
// every step.
type Decay struct {
	core.Base
	factor float32
	act    backend.Tensor
}

func (d *Decay) Initialize(o core.Object) error {
	var err error
	if d.factor, err = d.Float("decay_factor", 0.99); err != nil {
		return err
	}
	if d.act, err = o.Vector("uniform"); err != nil {
		return err
	}
	return o.SetVar("activity", d.act)
}

func (d *Decay) Iteration(o core.Object) error {
	backend.BinaryScalar(backend.Mul, d.act, d.act, d.factor) // activity *= decay_factor
	return nil
}

// Input is PymoNNto's Input_Behavior: each afferent GLUTAMATE synapse
// group gets W = uniform with density 0.1 (dst x src); each step
// activity += W . src.activity / src.size, then
// activity += uniform noise with density 0.01.
type Input struct {
	core.Base
	syn   []*core.SynapseGroup
	tmp   backend.Tensor
	noise backend.Tensor
	draw  core.Init
}

func (in *Input) Initialize(o core.Object) error {
	g := o.(*core.NeuronGroup)
	in.syn = g.Synapses(core.Afferent, "GLUTAMATE")
	for _, s := range in.syn {
		w, err := s.Matrix("uniform", core.Density(0.1))
		if err != nil {
			return err
		}
		if err := s.SetVar("W", w); err != nil {
			return err
		}
	}
	var err error
	if in.draw, err = core.ParseInit(in.String("noise", "uniform, density=0.01")); err != nil {
		return err
	}
	if in.tmp, err = o.Vector("zeros"); err != nil {
		return err
	}
	in.noise, err = o.Vector("zeros")
	return err
}

func (in *Input) Iteration(o core.Object) error {
	n := o.Net()
	act := o.Var("activity")
	for _, s := range in.syn {
		s.MatVec(in.tmp, s.Var("W"), s.Src.Var("activity"), 1/float32(s.Src.Size), 0)
		backend.Axpy(act, 1, in.tmp)
	}
	n.Fill(in.noise, in.draw)
	backend.Axpy(act, 1, in.noise)
	return nil
}

// BasicOptions selects which of the seed README's three examples M1 builds.
type BasicOptions struct {
	// Example is 1 (structure only), 2 (decay and recorder) or 3 (plus
	// recurrent input on a 10x10 grid). 0 means 3.
	Example int
	// Size is the number of neurons (100 if 0).
	Size int
}

// Basic builds M1, the seed README's network, and returns its group.
// Example 2 and 3 record "activity" and "mean(activity)" (tag
// "my_recorder").
func Basic(net *core.Network, o BasicOptions) (*core.NeuronGroup, error) {
	if o.Example == 0 {
		o.Example = 3
	}
	if o.Size == 0 {
		o.Size = 100
	}
	bs := core.Behaviors{}
	dim := core.Size(o.Size)
	if o.Example >= 2 {
		bs[1] = &Decay{}
		bs[9] = core.NewRecorder([]string{"activity", "mean(activity)"}, core.RecorderOptions{Tag: "my_recorder"})
	}
	if o.Example >= 3 {
		bs[2] = &Input{}
		dim = core.SquaredDim(o.Size)
	}
	g, err := net.NewNeuronGroup("my_neurons", dim, bs)
	if err != nil {
		return nil, err
	}
	if _, err := net.NewSynapseGroup("GLUTAMATE", g, g, nil); err != nil {
		return nil, err
	}
	return g, nil
}
