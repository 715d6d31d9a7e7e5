package models

import (
	"fmt"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// The networks of PymoNNto's paper (trieschlab/PymoNNto 1fefe55,
// Examples_Paper): Basic.py (a leaky threshold unit with noise and
// recurrent input) and STDP_Hom_Norm/Complex.py (Basic plus the paper's
// three rules: ExhaustionHomeostasis, ThreeTermSTDP and
// SynapticNormalization, in models/pymonnto_lib.go, and recorders).
// models/pymonnto_paper_test.go checks both against our NumPy implementations of
// PymoNNto's behaviour (bench/peers/pymonnto_paper.py) on a fixed input, on cpu
// and gl.

// PaperNeuron is the paper's Basic_Behavior (Examples_Paper/Basic/Basic.py
// and STDP_Hom_Norm/Complex.py) on a neuron group: each step, for every
// neuron,
//
//	spike = voltage > threshold
//	voltage = spike ? 0 : voltage
//	voltage *= leak_factor
//	voltage += noise
//
// in this order, each operation rounded to float32 as in NumPy. The
// noise is drawn every step from an init string, PymoNNto's
// neurons.vector('uniform', density=0.01) by default: uniform in [0, 1)
// for about 1% of the neurons, 0 for the others (drawn by the network's
// generator, so the same on every backend but not NumPy's numbers).
//
// Parameters: threshold (0.5; fixed in PymoNNto), leak_factor (0.9;
// Basic.py's parameter, Complex.py hard-codes 0.9), noise ("uniform,
// density=0.01"; "None" for no noise, e.g. to add a fixed input at a
// larger key). It creates the group's variables voltage (zeros, as
// PymoNNto) and spike (zeros until the first step; PymoNNto creates it in
// the first step, Basic.py as booleans, Complex.py as float32: here it is
// always a 0/1 float32 mask).
type PaperNeuron struct {
	core.Base
	step  *core.Kernel
	noise backend.Tensor
	draw  core.Init
}

func (b *PaperNeuron) Initialize(o core.Object) error {
	const who = "PaperNeuron"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &b.Base, who: who}
	th, leak := f.float("threshold", 0.5), f.float("leak_factor", 0.9)
	if f.err != nil {
		return f.err
	}
	noise := strings.TrimSpace(b.String("noise", "uniform, density=0.01"))
	if err := plibZeros(g, "voltage", "spike"); err != nil {
		return err
	}
	src := "spike = voltage > _th\nvoltage = spike ? 0 : voltage\nvoltage *= _leak\n"
	var extra map[string]backend.Tensor
	b.noise = nil
	if noise != "None" && noise != "" {
		if b.draw, err = core.ParseInit(noise); err != nil {
			return fmt.Errorf("%s on %s: noise=%q: %w (give an init string such as \"uniform, density=0.01\", or None)", who, g.Name(), noise, err)
		}
		if b.noise, err = g.Vector("zeros"); err != nil {
			return err
		}
		src += "voltage += _noise\n"
		extra = map[string]backend.Tensor{"_noise": b.noise}
	}
	b.step, err = core.NewKernelWith(o, src, core.Consts{"_th": th, "_leak": leak}, extra)
	return err
}

func (b *PaperNeuron) Iteration(o core.Object) error {
	if b.noise != nil {
		o.Net().Fill(b.noise, b.draw)
	}
	b.step.Run()
	return nil
}

// PaperInput is the paper's Input_Behavior (Examples_Paper/Basic/Basic.py,
// STDP_Hom_Norm/Complex.py) on a neuron group: at Initialize every
// afferent synapse group tagged syn_type gets
//
//	W = matrix('uniform', density=0.1);  enabled = W > 0
//
// and each step, for each such group in turn,
//
//	voltage += (W . src.spike) / src.size * gain
//
// (gain 10; three float32 roundings after the sum, as in NumPy). The sum
// runs as a Propagate over the spiking sources (spike is a 0/1 mask, as
// PaperNeuron's), so its cost grows with the spikes.
//
// Parameters: syn_type ("GLUTAMATE"), distribution ("uniform"), density
// (0.1), sparse (False: True draws W as a sparse matrix, core's
// SparseMatrix with connection probability density, which the
// paper's STDP and normalization handle too), gain (10). Two deviations
// make weights loadable and masks composable: a W the synapse group
// already has at Initialize (sg.SetVar, or CreateWeights at a smaller
// key) is kept, and an enabled it already has (e.g. from
// BoxReceptiveFields) is multiplied in (W *= enabled, then enabled = W >
// 0); PymoNNto always draws W and overwrites enabled.
type PaperInput struct {
	core.Base
	syns []paperInputSyn
	tmp  backend.Tensor
}

type paperInputSyn struct {
	sg    *core.SynapseGroup
	spike backend.Tensor
	add   *core.Kernel
}

func (b *PaperInput) Initialize(o core.Object) error {
	const who = "PaperInput"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &b.Base, who: who}
	density := f.float("density", 0.1)
	sparse := f.boolean("sparse", false)
	gain := f.float("gain", 10)
	if f.err != nil {
		return f.err
	}
	if !(density >= 0 && density <= 1) {
		return fmt.Errorf("%s on %s: density=%v is outside [0, 1]", who, g.Name(), density)
	}
	tag := b.String("syn_type", "GLUTAMATE")
	dist := b.String("distribution", "uniform")
	in := g.Synapses(core.Afferent, tag)
	if len(in) == 0 {
		return fmt.Errorf("%s on %s: no afferent synapse group is tagged syn_type=%q; tag them so or name their tag with syn_type=", who, g.Name(), tag)
	}
	if err := plibZeros(g, "voltage"); err != nil {
		return err
	}
	if b.tmp, err = g.Vector("zeros"); err != nil {
		return err
	}
	b.syns = b.syns[:0]
	for _, sg := range in {
		spike := sg.Src.Var("spike")
		if spike == nil {
			return fmt.Errorf("%s on %s: source group %s of %s has no variable \"spike\"; give it a PaperNeuron (or another behaviour that sets spike) at a smaller key", who, g.Name(), sg.Src.Name(), sg.Name())
		}
		w := sg.Var("W")
		if w == nil {
			if sparse {
				w, err = sg.SparseMatrix(float64(density), dist)
			} else {
				w, err = sg.Matrix(dist, core.Density(density))
			}
			if err != nil {
				return fmt.Errorf("%s on %s: distribution=%q: %w", who, sg.Name(), dist, err)
			}
			if err := sg.SetVar("W", w); err != nil {
				return err
			}
		}
		prog := "enabled = W > 0"
		if en := sg.Var("enabled"); en != nil {
			if !plibSameStructure(en, w) {
				return fmt.Errorf("%s on %s: enabled (%s) does not match W (%s); make enabled a mask of W's shape and storage", who, sg.Name(), plibDescribe(en), plibDescribe(w))
			}
			prog = "W = W * enabled\nenabled = W > 0"
		} else {
			en, err := plibScratch(sg, w)
			if err != nil {
				return err
			}
			if err := sg.SetVar("enabled", en); err != nil {
				return err
			}
		}
		mask, err := core.NewKernel(sg, prog, nil)
		if err != nil {
			return err
		}
		mask.Run()
		add, err := core.NewKernelWith(o, "voltage += _in / _n * _gain", core.Consts{"_n": float32(sg.Src.Size), "_gain": gain},
			map[string]backend.Tensor{"_in": b.tmp})
		if err != nil {
			return err
		}
		b.syns = append(b.syns, paperInputSyn{sg: sg, spike: spike, add: add})
	}
	return nil
}

func (b *PaperInput) Iteration(o core.Object) error {
	for _, s := range b.syns {
		backend.Fill(b.tmp, 0)
		// W is looked up each step: Partition may replace it after this
		// behaviour's Initialize.
		s.sg.Propagate(b.tmp, s.sg.Var("W"), s.spike, 1)
		s.add.Run()
	}
	return nil
}

// PaperOptions configure PymoNNtoBasic and PymoNNtoComplex.
type PaperOptions struct {
	// Size is the number of neurons (100 if 0), laid out as PymoNNto's
	// get_squared_dim(Size) with centred positions (PymoNNto's
	// NeuronDimension default).
	Size int
	// Sparse draws W as a sparse matrix (connection probability 0.1)
	// instead of a dense one with 90% zeros.
	Sparse bool
	// Noise is PaperNeuron's noise init string ("" is PymoNNto's
	// "uniform, density=0.01"; "None" for none).
	Noise string
}

func (o PaperOptions) neuron() *PaperNeuron {
	p := core.Params{}
	if o.Noise != "" {
		p["noise"] = o.Noise
	}
	return &PaperNeuron{Base: core.Base{Params: p}}
}

func (o PaperOptions) input() *PaperInput {
	p := core.Params{}
	if o.Sparse {
		p["sparse"] = "True"
	}
	return &PaperInput{Base: core.Base{Params: p}}
}

func (o PaperOptions) dim() (core.Dimension, error) {
	n := o.Size
	if n == 0 {
		n = 100
	}
	if n < 0 {
		return core.Dimension{}, fmt.Errorf("PymoNNto paper network: Size=%d; give a positive number of neurons (0 means 100)", o.Size)
	}
	d := core.SquaredDim(n)
	d.Centered = true
	return d, nil
}

// PymoNNtoBasic builds the paper's Basic.py: a group "my_neurons" of
// o.Size neurons with PaperNeuron (key 1) and PaperInput (key 2) and a
// recurrent synapse group "GLUTAMATE". It returns the group. (Basic.py's
// recorders are commented out; PymoNNtoComplex has them.)
func PymoNNtoBasic(net *core.Network, o PaperOptions) (*core.NeuronGroup, error) {
	return paperNet(net, o, core.Behaviors{1: o.neuron(), 2: o.input()})
}

// PymoNNtoComplex builds the paper's STDP_Hom_Norm/Complex.py: Basic with
// the paper's three rules and recorders on "my_neurons",
//
//	1: PaperNeuron, 2: PaperInput,
//	3: ExhaustionHomeostasis(target_voltage=0.05),
//	4: ThreeTermSTDP(stdp_factor=0.00015),
//	5: SynapticNormalization(norm_factor=10)  (the paper's Normalization),
//	9: Recorder(voltage, mean(voltage)), tag "my_recorder",
//	10: EventRecorder(spike), tag "my_event_recorder",
//
// and a recurrent synapse group "GLUTAMATE". It returns the group.
func PymoNNtoComplex(net *core.Network, o PaperOptions) (*core.NeuronGroup, error) {
	return paperNet(net, o, core.Behaviors{
		1:  o.neuron(),
		2:  o.input(),
		3:  &ExhaustionHomeostasis{Base: core.Base{Params: core.Params{"target_voltage": "0.05"}}},
		4:  &ThreeTermSTDP{Base: core.Base{Params: core.Params{"stdp_factor": "0.00015"}}},
		5:  &SynapticNormalization{Base: core.Base{Params: core.Params{"norm_factor": "10"}}},
		9:  core.NewRecorder([]string{"voltage", "mean(voltage)"}, core.RecorderOptions{Tag: "my_recorder"}),
		10: core.NewEventRecorder([]string{"spike"}, core.RecorderOptions{Tag: "my_event_recorder"}),
	})
}

func paperNet(net *core.Network, o PaperOptions, bs core.Behaviors) (*core.NeuronGroup, error) {
	dim, err := o.dim()
	if err != nil {
		return nil, err
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
