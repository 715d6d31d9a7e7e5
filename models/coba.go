package models

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// COBA is the conductance-based leaky integrate-and-fire neuron of the
// COBA benchmark (M5; Brette et al. 2007, benchmark 1, after Vogels &
// Abbott 2005), with exponentially decaying conductances ge and gi in
// units of the leak conductance:
//
//	dv/dt  = (-(v - E_L) + ge*(E_e - v) + gi*(E_i - v)) / tau_m
//	dge/dt = -ge / tau_e;   dgi/dt = -gi / tau_i
//	fired = v > V_th;  v[fired] = V_reset;  refractory t_ref
//
// integrated with forward Euler (every right-hand side reads the values at
// the start of the step, as Brian2's euler method). While refractory v is
// frozen and the neuron cannot fire; ge and gi go on decaying (see
// Refractory). Parameters (ms and mV): tau_m (20), E_L (-60), V_th (-50),
// V_reset (-60), t_ref (5), E_e (0), E_i (-80), tau_e (5), tau_i (10), dt
// (0.1), and the init strings v0 ("normal(-65, 5)"), ge0 ("normal(4,
// 1.5)") and gi0 ("normal(20, 12)"). Variables: v, ge, gi, refrac, fired.
// The whole update is one fused kernel (COBAUpdate wrapped by Refractory).
type COBA struct {
	core.Base
	v, ge, gi, refrac, fired backend.Tensor
	step                     *core.Kernel
}

// COBAUpdate is the Euler step of the COBA neuron (run while not
// refractory; Refractory adds the countdown, threshold and reset).
const COBAUpdate = `
v += dt_tau_m * (-(v - E_L) + ge*(E_e - v) + gi*(E_i - v))
ge -= dt_tau_e * ge
gi -= dt_tau_i * gi`

func (c *COBA) Initialize(o core.Object) error {
	par := map[string]float32{}
	for _, p := range []struct {
		key string
		def float32
	}{{"tau_m", 20}, {"E_L", -60}, {"V_th", -50}, {"V_reset", -60}, {"t_ref", 5},
		{"E_e", 0}, {"E_i", -80}, {"tau_e", 5}, {"tau_i", 10}, {"dt", 0.1}} {
		x, err := c.Float(p.key, p.def)
		if err != nil {
			return err
		}
		par[p.key] = x
	}
	for _, k := range []string{"tau_m", "tau_e", "tau_i", "dt"} {
		if !(par[k] > 0) {
			return fmt.Errorf("COBA: parameter %s = %v must be positive", k, par[k])
		}
	}
	if !(par["t_ref"] >= 0) {
		return fmt.Errorf("COBA: parameter t_ref = %v must not be negative", par["t_ref"])
	}
	var err error
	for _, x := range []struct {
		dst       *backend.Tensor
		name, key string
		def       string
	}{{&c.v, "v", "v0", "normal(-65, 5)"}, {&c.ge, "ge", "ge0", "normal(4, 1.5)"}, {&c.gi, "gi", "gi0", "normal(20, 12)"}} {
		if *x.dst, err = c.Vector(o, x.key, x.def); err != nil {
			return err
		}
		if err := o.SetVar(x.name, *x.dst); err != nil {
			return err
		}
	}
	if c.fired, err = o.Vector("zeros"); err != nil {
		return err
	}
	if err := o.SetVar("fired", c.fired); err != nil {
		return err
	}
	r := Refractory{Steps: RefractorySteps(float64(par["t_ref"]), float64(par["dt"]))}
	if c.refrac, err = r.AddVar(o); err != nil {
		return err
	}
	src, err := r.Wrap(COBAUpdate, "v > V_th", "v = V_reset")
	if err != nil {
		return err
	}
	dt := par["dt"]
	c.step, err = core.NewKernel(o, src, core.Consts{
		"dt_tau_m": dt / par["tau_m"], "dt_tau_e": dt / par["tau_e"], "dt_tau_i": dt / par["tau_i"],
		"E_L": par["E_L"], "E_e": par["E_e"], "E_i": par["E_i"], "V_th": par["V_th"], "V_reset": par["V_reset"],
	})
	return err
}

func (c *COBA) Iteration(o core.Object) error {
	c.step.Run()
	return nil
}

// COBAInput adds the conductance jumps of this step's spikes (key 2, after
// every group's COBA kernel has set fired):
//
//	ge += sum_j W_glu[:, j fired];   gi += sum_j W_gaba[:, j fired]
//
// over the afferent synapse groups tagged GLUTAMATE and GABA. A group
// without a W gets a sparse one in which every source-destination pair is
// connected with probability P (if 0, the parameter p, default 0.02), with
// the constant value w_e (0.6) for GLUTAMATE and w_i (6.7) for GABA
// (parameters).
type COBAInput struct {
	core.Base
	// P is the connection probability of the synapse matrices it makes.
	P         float64
	glu, gaba []*core.SynapseGroup
	ge, gi    backend.Tensor
}

func (s *COBAInput) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("COBAInput belongs on a neuron group, not %T", o)
	}
	p32, err := s.Float("p", 0.02)
	if err != nil {
		return err
	}
	p := s.P
	if p == 0 {
		p = float64(p32)
	}
	we, err := s.Float("w_e", 0.6)
	if err != nil {
		return err
	}
	wi, err := s.Float("w_i", 6.7)
	if err != nil {
		return err
	}
	if s.ge, s.gi = g.Var("ge"), g.Var("gi"); s.ge == nil || s.gi == nil {
		return fmt.Errorf("COBAInput on %q: the group has no ge and gi; give it a COBA behaviour at a lower key", g.Name())
	}
	for _, sg := range g.Synapses(core.Afferent, "") {
		var w float32
		switch {
		case sg.HasTag("GLUTAMATE"):
			s.glu, w = append(s.glu, sg), we
		case sg.HasTag("GABA"):
			s.gaba, w = append(s.gaba, sg), wi
		default:
			continue
		}
		if sg.Var("W") != nil {
			continue
		}
		m, err := sg.SparseMatrix(p, fmt.Sprint(w))
		if err != nil {
			return err
		}
		if err := sg.SetVar("W", m); err != nil {
			return err
		}
	}
	return nil
}

func (s *COBAInput) Iteration(o core.Object) error {
	for _, sg := range s.glu {
		sg.Propagate(s.ge, sg.Var("W"), sg.Src.Var("fired"), 1)
	}
	for _, sg := range s.gaba {
		sg.Propagate(s.gi, sg.Var("W"), sg.Src.Var("fired"), 1)
	}
	return nil
}

// COBAOptions size the COBA network (M5).
type COBAOptions struct {
	// N is the number of neurons (4000 if 0): 80% E, 20% I.
	N int
	// P is the connection probability; 0 keeps 80 expected inputs per
	// neuron: P = 80/N (0.02 at N = 4000).
	P float64
	// WE is the excitatory weight, the jump of ge per spike (0.6 if 0).
	WE float64
}

// COBANet builds M5: groups E (4N/5) and I (the rest) of COBA neurons and
// four sparse synapse groups, E->E and E->I tagged GLUTAMATE (ge += 0.6,
// or WE), I->E and I->I tagged GABA (gi += 6.7), each pair (self-pairs
// included) connected independently with probability P. One step is 0.1 ms.
func COBANet(net *core.Network, o COBAOptions) (*ClassicNet, error) {
	return cobaNet(net, o, func() (core.Behavior, error) { return &COBA{}, nil })
}

// cobaNet builds M5 with the neuron behaviour neuron makes.
func cobaNet(net *core.Network, o COBAOptions, neuron func() (core.Behavior, error)) (*ClassicNet, error) {
	if o.N == 0 {
		o.N = 4000
	}
	if o.N < 5 {
		return nil, fmt.Errorf("COBANet: N = %d neurons: need at least 5 (80%% excitatory, 20%% inhibitory)", o.N)
	}
	if o.P == 0 {
		o.P = min(1, 80/float64(o.N))
	}
	if !(o.P > 0 && o.P <= 1) {
		return nil, fmt.Errorf("COBANet: connection probability %v is outside (0, 1]", o.P)
	}
	if o.WE < 0 || math.IsNaN(o.WE) || math.IsInf(o.WE, 0) {
		return nil, fmt.Errorf("COBANet: excitatory weight %v must be a finite non-negative number", o.WE)
	}
	var inputParams core.Params
	if o.WE != 0 {
		inputParams = core.Params{"w_e": strconv.FormatFloat(o.WE, 'g', -1, 64)}
	}
	ne := o.N * 4 / 5
	mk := func(name string, n int) (*core.NeuronGroup, error) {
		nr, err := neuron()
		if err != nil {
			return nil, err
		}
		return net.NewNeuronGroup(name, core.Size(n), core.Behaviors{
			1: nr,
			2: &COBAInput{P: o.P, Base: core.Base{Params: inputParams}},
		})
	}
	e, err := mk("E", ne)
	if err != nil {
		return nil, err
	}
	i, err := mk("I", o.N-ne)
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
