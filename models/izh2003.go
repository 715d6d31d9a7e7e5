package models

import (
	"fmt"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// Izh2003 is the neuron of Izhikevich's (2003) "simple model" network (M4;
// E. M. Izhikevich, IEEE Trans. Neural Networks 14:1569) with the paper's
// heterogeneous parameters. Each neuron draws r ~ U[0,1) (variable r) and
// gets
//
//	a = a0 + a_r*r    b = b0 + b_r*r    c = c0 + c_r2*r^2    d = d0 + d_r2*r^2
//
// Parameters (defaults are the paper's excitatory neurons): a0 (0.02), a_r
// (0), b0 (0.2), b_r (0), c0 (-65), c_r2 (15), d0 (8), d_r2 (-6), v0 (-65).
// The paper's inhibitory neurons are Izh2003InhibitoryParams. A parameter
// with a zero r coefficient is baked into the kernel; the others are
// per-neuron variables (a, b, c, d). Initial v = v0, u = b*v0.
//
// One step is one millisecond. The paper's loop
//
//	I = sigma*N(0,1); fired = v >= 30; v[fired] = c; u[fired] += d;
//	I += sum S[:, fired]; v += 0.5*f(v,u,I) twice; u += a*(b*v - u)
//
// runs as one fused kernel (Izh2003Update) that integrates with the I of
// the previous step and then detects and resets spikes, followed by
// Izh2003Input (key 2), which draws the next step's noise into I and adds
// the synaptic input of the spikes. Izh2003Input draws the first step's
// noise when it is initialised, so the spikes of step t are those of the
// paper's step t+1 (no neuron can fire in the paper's first step, as
// v0 = -65): the same dynamics, read half a step later.
// Variables: v, u, I, fired, r (and a, b, c, d where per-neuron).
type Izh2003 struct {
	core.Base
	v, u, i, fired, r backend.Tensor
	init, step        *core.Kernel
}

// Izh2003Update is the fused Izh2003 step. a, b, c and d are constants or
// per-neuron variables.
const Izh2003Update = `
v += 0.5 * (0.04*v*v + 5*v + 140 - u + I)
v += 0.5 * (0.04*v*v + 5*v + 140 - u + I)
u += a * (b*v - u)
fired = v >= 30
v = fired ? c : v
u += d * fired`

// izh2003Param is one parameter x = x0 + x_r * r^pow.
type izh2003Param struct {
	name, r   string
	def, rdef float32
	pow       int
}

var izh2003Params = []izh2003Param{
	{"a", "a_r", 0.02, 0, 1}, {"b", "b_r", 0.2, 0, 1},
	{"c", "c_r2", -65, 15, 2}, {"d", "d_r2", 8, -6, 2},
}

func (z *Izh2003) Initialize(o core.Object) error {
	var err error
	consts := core.Consts{}
	var initSrc strings.Builder
	if z.r, err = o.Vector("uniform"); err != nil {
		return err
	}
	if err := o.SetVar("r", z.r); err != nil {
		return err
	}
	for _, p := range izh2003Params {
		x0, err := z.Float(p.name+"0", p.def)
		if err != nil {
			return err
		}
		xr, err := z.Float(p.r, p.rdef)
		if err != nil {
			return err
		}
		if xr == 0 {
			consts[p.name] = x0
			continue
		}
		t, err := o.Vector("zeros")
		if err != nil {
			return err
		}
		if err := o.SetVar(p.name, t); err != nil {
			return err
		}
		consts[p.name+"0"], consts[p.name+"_k"] = x0, xr
		rp := "r"
		if p.pow == 2 {
			rp = "r*r"
		}
		fmt.Fprintf(&initSrc, "%s = %s0 + %s_k*%s\n", p.name, p.name, p.name, rp)
	}
	if consts["v0"], err = z.Float("v0", -65); err != nil {
		return err
	}
	if z.v, err = o.Vector("zeros"); err != nil {
		return err
	}
	if z.u, err = o.Vector("zeros"); err != nil {
		return err
	}
	if err := o.SetVar("u", z.u); err != nil {
		return err
	}
	if err := setVars(o, map[string]*backend.Tensor{"I": &z.i, "fired": &z.fired}, z.v); err != nil {
		return err
	}
	initSrc.WriteString("v = v0\nu = b*v0\n") // I and fired start at 0; Izh2003Input draws the first noise
	if z.init, err = core.NewKernel(o, initSrc.String(), consts); err != nil {
		return err
	}
	z.init.Run()
	delete(consts, "v0")
	for _, p := range izh2003Params {
		delete(consts, p.name+"0")
		delete(consts, p.name+"_k")
	}
	z.step, err = core.NewKernel(o, Izh2003Update, consts)
	return err
}

func (z *Izh2003) Iteration(o core.Object) error {
	z.step.Run()
	return nil
}

// Izh2003Input sets the input of the next step (key 2, after every group's
// Izh2003 kernel has set fired):
//
//	I = sigma*N(0,1) + glu * sum_j W_glu[:, j fired] - gaba * sum_j W_gaba[:, j fired]
//
// Parameters sigma (5; the paper's inhibitory neurons: 2), glu (0.5) and
// gaba (1). Afferent synapse groups tagged GLUTAMATE and GABA without a W
// get W = uniform (dense; the paper's S = [0.5*U, -U]). The noise is one
// net.Rand normal fill (cheaper on cpu than normal() inside the kernel).
type Izh2003Input struct {
	core.Base
	in    []*core.SynapseGroup
	w     []backend.Tensor
	src   []backend.Tensor
	sign  []float32
	i     backend.Tensor
	noise rng.Dist
}

func (s *Izh2003Input) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("Izh2003Input belongs on a neuron group, not %T", o)
	}
	glu, err := s.Float("glu", 0.5)
	if err != nil {
		return err
	}
	gaba, err := s.Float("gaba", 1)
	if err != nil {
		return err
	}
	if s.i = g.Var("I"); s.i == nil {
		return fmt.Errorf("Izh2003Input on %s: the group has no variable I; give it an Izh2003 behaviour with a smaller key", g.Name())
	}
	sigma, err := s.Float("sigma", 5)
	if err != nil {
		return err
	}
	s.noise = rng.NormalDist(0, sigma)
	o.Net().Rand(s.i, s.noise) // the first step's noise
	for _, sg := range g.Synapses(core.Afferent, "") {
		var sign float32
		switch {
		case sg.HasTag("GLUTAMATE"):
			sign = glu
		case sg.HasTag("GABA"):
			sign = -gaba
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
		s.w = append(s.w, sg.Var("W"))
		s.sign = append(s.sign, sign)
	}
	return nil
}

func (s *Izh2003Input) Iteration(o core.Object) error {
	o.Net().Rand(s.i, s.noise)
	for k, sg := range s.in {
		sg.Propagate(s.i, s.w[k], sg.Src.Var("fired"), s.sign[k])
	}
	return nil
}

// Izh2003Options size the M4 network.
type Izh2003Options struct {
	NE, NI int // 800 and 200 if 0
}

// Izh2003InhibitoryParams are the Izh2003 parameters of the paper's
// inhibitory neurons.
var Izh2003InhibitoryParams = core.Params{
	"a_r": "0.08", "b0": "0.25", "b_r": "-0.05", "c_r2": "0", "d0": "2", "d_r2": "0",
}

// Izhikevich2003 builds M4, Izhikevich's (2003) simple-model network: E
// (800) and I (200) Izh2003 groups, all-to-all dense synapses including
// self-connections, E->E and E->I tagged GLUTAMATE with weights 0.5*U[0,1),
// I->E and I->I tagged GABA with weights -U[0,1). The SxD layout
// (core.Config.Layout) makes the spike-driven input read contiguous rows.
func Izhikevich2003(net *core.Network, o Izh2003Options) (*ClassicNet, error) {
	if o.NE < 0 || o.NI < 0 {
		return nil, fmt.Errorf("Izhikevich2003: NE=%d, NI=%d: sizes must not be negative", o.NE, o.NI)
	}
	return classic(net, ClassicOptions(o), func(exc bool) core.Behaviors {
		p, in := core.Params{}, core.Params{}
		if !exc {
			for k, v := range Izh2003InhibitoryParams {
				p[k] = v
			}
			in["sigma"] = "2"
		}
		return core.Behaviors{
			1: &Izh2003{Base: core.Base{Params: p}},
			2: &Izh2003Input{Base: core.Base{Params: in}},
		}
	})
}
