package models

import (
	"fmt"
	"sort"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// LIF is the classic PymoNNto leaky integrate-and-fire neuron (M2):
//
//	v += ((v_rest - v) + I) * dt;  fired = v > v_threshold;  v[fired] = v_reset
//
// Parameters: v_rest (-65), v_reset (-80), v_threshold (-10), dt (0.1).
// Initial v = U[0,1) * v_rest, I = 0. Variables: v, I, fired.
type LIF struct {
	core.Base
	vRest, vReset, vThr, dt float32
	v, i, fired             backend.Tensor
	step                    *core.Kernel
}

// LIFUpdate is the LIF neuron update as one fused kernel.
const LIFUpdate = `
v += ((v_rest - v) + I) * dt
fired = v > v_threshold
v = fired ? v_reset : v`

func (l *LIF) Initialize(o core.Object) error {
	var err error
	for _, p := range []struct {
		dst *float32
		key string
		def float32
	}{{&l.vRest, "v_rest", -65}, {&l.vReset, "v_reset", -80}, {&l.vThr, "v_threshold", -10}, {&l.dt, "dt", 0.1}} {
		if *p.dst, err = l.Float(p.key, p.def); err != nil {
			return err
		}
	}
	if l.v, err = o.Vector("uniform", core.Scale(l.vRest)); err != nil {
		return err
	}
	if err := setVars(o, map[string]*backend.Tensor{"I": &l.i, "fired": &l.fired}, l.v); err != nil {
		return err
	}
	l.step, err = core.NewKernel(o, LIFUpdate, core.Consts{"v_rest": l.vRest, "v_reset": l.vReset, "v_threshold": l.vThr, "dt": l.dt})
	return err
}

// setVars makes zero vectors for the named pointers, stores them and v.
func setVars(o core.Object, vars map[string]*backend.Tensor, v backend.Tensor) error {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := vars[name]
		t, err := o.Vector("zeros")
		if err != nil {
			return err
		}
		*p = t
		if name[0] != '_' {
			if err := o.SetVar(name, t); err != nil {
				return err
			}
		}
	}
	return o.SetVar("v", v)
}

func (l *LIF) Iteration(o core.Object) error {
	l.step.Run()
	return nil
}

// Izhikevich is the classic PymoNNto Izhikevich neuron (M3):
//
//	fired = v > 30;  v[fired] = c;  u[fired] += d
//	v += dt*(0.04 v^2 + 5 v + 140 - u + I);  u += dt*a*(b v - u)
//
// Parameters a (0.02), b (0.2), c (-65), d (8), dt (0.5). Initial
// v = -65 U[0,1), u = -8 U[0,1), I = 0. Variables: v, u, I, fired.
type Izhikevich struct {
	core.Base
	a, b, c, d, dt float32
	v, u, i, fired backend.Tensor
	step           *core.Kernel
}

// IzhikevichUpdate is the Izhikevich neuron update as one fused kernel.
const IzhikevichUpdate = `
fired = v > 30
v = fired ? c : v
u += d * fired
v += dt * (0.04*v*v + 5*v + 140 - u + I)
u += dt * a * (b*v - u)`

func (z *Izhikevich) Initialize(o core.Object) error {
	var err error
	for _, p := range []struct {
		dst *float32
		key string
		def float32
	}{{&z.a, "a", 0.02}, {&z.b, "b", 0.2}, {&z.c, "c", -65}, {&z.d, "d", 8}, {&z.dt, "dt", 0.5}} {
		if *p.dst, err = z.Float(p.key, p.def); err != nil {
			return err
		}
	}
	if z.v, err = o.Vector("uniform", core.Scale(-65)); err != nil {
		return err
	}
	if z.u, err = o.Vector("uniform", core.Scale(-8)); err != nil {
		return err
	}
	if err := o.SetVar("u", z.u); err != nil {
		return err
	}
	if err := setVars(o, map[string]*backend.Tensor{"I": &z.i, "fired": &z.fired}, z.v); err != nil {
		return err
	}
	z.step, err = core.NewKernel(o, IzhikevichUpdate, core.Consts{"a": z.a, "b": z.b, "c": z.c, "d": z.d, "dt": z.dt})
	return err
}

func (z *Izhikevich) Iteration(o core.Object) error {
	z.step.Run()
	return nil
}

// SpikeInput is the classic models' input (key 2):
//
//	I = noise*U[0,1) + glu * sum_j W_glu[:, j fired] - gaba * sum_j W_gaba[:, j fired]
//
// summing only the weights of the sources that fired. Parameters: noise
// (90 for LIF, 20 for Izhikevich), glu (1; 0.5 for Izhikevich), gaba (1).
// Afferent synapse groups tagged GLUTAMATE and GABA get W = uniform.
type SpikeInput struct {
	core.Base
	noise, glu, gaba float32
	in               []*core.SynapseGroup
	sign             []float32
}

func (s *SpikeInput) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("SpikeInput belongs on a neuron group, not %T", o)
	}
	var err error
	if s.noise, err = s.Float("noise", 90); err != nil {
		return err
	}
	if s.glu, err = s.Float("glu", 1); err != nil {
		return err
	}
	if s.gaba, err = s.Float("gaba", 1); err != nil {
		return err
	}
	// Creation order keeps the random draws and the sums reproducible.
	for _, sg := range g.Synapses(core.Afferent, "") {
		var sign float32
		switch {
		case sg.HasTag("GLUTAMATE"):
			sign = s.glu
		case sg.HasTag("GABA"):
			sign = -s.gaba
		default:
			continue
		}
		if sg.Var("W") == nil {
			w, err := sg.Matrix("uniform")
			if err != nil {
				return err
			}
			if err := sg.SetVar("W", w); err != nil {
				return err
			}
		}
		s.in = append(s.in, sg)
		s.sign = append(s.sign, sign)
	}
	return nil
}

func (s *SpikeInput) Iteration(o core.Object) error {
	n := o.Net()
	i := o.Var("I")
	n.Rand(i, rng.UniformDist(0, s.noise))
	for k, sg := range s.in {
		sg.Propagate(i, sg.Var("W"), sg.Src.Var("fired"), s.sign[k])
	}
	return nil
}

// ClassicOptions size the classic E/I networks (M2, M3).
type ClassicOptions struct {
	NE, NI int // 800 and 200 if 0
}

// ClassicNet holds the groups of M2 or M3.
type ClassicNet struct {
	E, I *core.NeuronGroup
}

// LIFNet builds M2: E (800, 25x32) and I (200, 10x20) LIF groups with
// dense uniform E->E, E->I (GLUTAMATE) and I->E, I->I (GABA) synapses.
func LIFNet(net *core.Network, o ClassicOptions) (*ClassicNet, error) {
	return classic(net, o, func(exc bool) core.Behaviors {
		thr := "-10"
		if !exc {
			thr = "-30"
		}
		return core.Behaviors{
			1: &LIF{Base: core.Base{Params: core.Params{"v_threshold": thr}}},
			2: &SpikeInput{Base: core.Base{Params: core.Params{"noise": "90"}}},
		}
	})
}

// IzhikevichNet builds M3: the M2 groups with Izhikevich neurons.
func IzhikevichNet(net *core.Network, o ClassicOptions) (*ClassicNet, error) {
	return classic(net, o, func(bool) core.Behaviors {
		return core.Behaviors{
			1: &Izhikevich{},
			2: &SpikeInput{Base: core.Base{Params: core.Params{"noise": "20", "glu": "0.5"}}},
		}
	})
}

func classic(net *core.Network, o ClassicOptions, bs func(exc bool) core.Behaviors) (*ClassicNet, error) {
	if o.NE == 0 {
		o.NE = 800
	}
	if o.NI == 0 {
		o.NI = 200
	}
	e, err := net.NewNeuronGroup("E", core.SquaredDim(o.NE), bs(true))
	if err != nil {
		return nil, err
	}
	i, err := net.NewNeuronGroup("I", core.SquaredDim(o.NI), bs(false))
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		tag      string
		src, dst *core.NeuronGroup
	}{{"GLUTAMATE", e, e}, {"GLUTAMATE", e, i}, {"GABA", i, e}, {"GABA", i, i}} {
		if _, err := net.NewSynapseGroup(c.tag, c.src, c.dst, nil); err != nil {
			return nil, err
		}
	}
	return &ClassicNet{E: e, I: i}, nil
}
