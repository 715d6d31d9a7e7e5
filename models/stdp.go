package models

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// The dense-STDP benchmarks of the PymoNNtorch paper (models M6 and M7):
// one group of N neurons, one recurrent dense synapse group, spike-driven
// input (the weights of the neurons that spiked are summed) and STDP that
// touches only the rows and columns of spiking neurons.
//
// Both builders leave the layout to the network. Prefer core.SxD (the
// PymoNNto scripts use it too): the input then adds the contiguous rows of
// the spiking sources, and M6's pair STDP and M7's depression update
// contiguous rows; only M7's potentiation walks columns.

// SimpleLIF is M6's neuron ("simple LIF"):
//
//	spikes_old = spikes;  spikes = v > threshold
//	v *= !spikes;  v *= decay;  v += noise*U[0,1)
//
// Parameters: threshold (6), decay (0.9), noise (1). Initial v = 0.
// Variables: v, spikes, spikes_old. The uniform numbers are drawn by one
// backend random fill per step (net.Rand: four numbers per Philox block,
// a quarter of the generator work of uniform() inside the kernel) into a
// private buffer that the fused kernel adds.
type SimpleLIF struct {
	core.Base
	u    backend.Tensor
	step *core.Kernel
}

// SimpleLIFUpdate is SimpleLIF's fused kernel (_u holds this step's
// U[0,1) numbers).
const SimpleLIFUpdate = `
spikes_old = spikes
spikes = v > threshold
v *= !spikes
v *= decay
v += noise * _u`

func (l *SimpleLIF) Initialize(o core.Object) error {
	c, err := floats(&l.Base, []param{{"threshold", 6}, {"decay", 0.9}, {"noise", 1}})
	if err != nil {
		return err
	}
	if err := zeros(o, "v", "spikes", "spikes_old"); err != nil {
		return err
	}
	if l.u, err = o.Vector("zeros"); err != nil {
		return err
	}
	l.step, err = core.NewKernelWith(o, SimpleLIFUpdate, c, map[string]backend.Tensor{"_u": l.u})
	return err
}

func (l *SimpleLIF) Iteration(o core.Object) error {
	o.Net().Rand(l.u, rng.UniformDist(0, 1))
	l.step.Run()
	return nil
}

// IzhikevichSTDP is M7's neuron (the paper's Izhikevich benchmark):
//
//	spikes = v >= threshold;  v[spikes] = c;  u[spikes] += d
//	v += dt*(0.04 v^2 + 5 v + 140 - u + I);  u += dt*a*(b v - u)
//
// where, as in the PymoNNto benchmark script, both derivatives are taken
// before either variable changes (u's uses the v after the reset, before the
// integration). Parameters a (0.02), b (0.04), c (-65), d (2),
// threshold (30), dt (1). Initial v ~ N(-65, 7), u ~ N(12, 7).
// Variables: v, u, spikes (I is the input's).
type IzhikevichSTDP struct {
	core.Base
	step *core.Kernel
}

// IzhikevichSTDPUpdate is IzhikevichSTDP's fused kernel.
const IzhikevichSTDPUpdate = `
spikes = v >= threshold
v = spikes ? c : v
u += d * spikes
dv := 0.04*(v*v) + 5*v + 140 - u + I
du := a * (b*v - u)
v += dv * dt
u += du * dt`

func (z *IzhikevichSTDP) Initialize(o core.Object) error {
	c, err := floats(&z.Base, []param{{"a", 0.02}, {"b", 0.04}, {"c", -65}, {"d", 2}, {"threshold", 30}, {"dt", 1}})
	if err != nil {
		return err
	}
	for _, v := range []struct{ name, init string }{{"v", "normal(-65, 7)"}, {"u", "normal(12, 7)"}} {
		t, err := o.Vector(v.init)
		if err != nil {
			return err
		}
		if err := o.SetVar(v.name, t); err != nil {
			return err
		}
	}
	if err := zeros(o, "spikes"); err != nil {
		return err
	}
	if o.Var("I") == nil {
		return fmt.Errorf("IzhikevichSTDP needs the input current I: give the group a DenseInput with var=I and reset=1 under a smaller key")
	}
	z.step, err = core.NewKernel(o, IzhikevichSTDPUpdate, c)
	return err
}

func (z *IzhikevichSTDP) Iteration(core.Object) error {
	z.step.Run()
	return nil
}

// DenseInput is the spike-driven input of M6 and M7. Each step it first
// resets the target variable when asked (var = offset + noise*N(0,1), M7's
// I = 15 + N(0,1), one backend random fill), then adds strength times the
// sum of the weight rows of the sources that spiked, over every afferent
// synapse group tagged tag:
//
//	var += strength * sum_{j: spikes[j]} W[j, :]
//
// Parameters: var ("v"), tag ("GLU"), spikes ("spikes": the source
// variable), strength (1), reset (0: off; 1: reset as above), offset (0),
// noise (0). Afferent groups without W get W = U[0,1) * w_scale
// (w_scale 1). With reset the variable is created if missing; a source
// without the spikes variable gets a zero vector that its neuron behaviour
// (at a later key) keeps using.
type DenseInput struct {
	core.Base
	strength float32
	target   backend.Tensor
	spikes   string
	in       []*core.SynapseGroup
	reset    bool
	noise    rng.Dist
}

func (d *DenseInput) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("DenseInput belongs on a neuron group, not %T", o)
	}
	c, err := floats(&d.Base, []param{{"strength", 1}, {"reset", 0}, {"offset", 0}, {"noise", 0}, {"w_scale", 1}})
	if err != nil {
		return err
	}
	d.strength = c["strength"]
	name, tag := d.String("var", "v"), d.String("tag", "GLU")
	d.spikes = d.String("spikes", "spikes")
	if c["reset"] != 0 && o.Var(name) == nil {
		t, err := o.Vector("zeros")
		if err != nil {
			return err
		}
		if err := o.SetVar(name, t); err != nil {
			return err
		}
	}
	if d.target = o.Var(name); d.target == nil {
		return fmt.Errorf("DenseInput: group %s has no variable %q; give var= an existing variable or reset=1 to create it", g.Name(), name)
	}
	for _, sg := range g.Synapses(core.Afferent, tag) {
		if sg.Var("W") == nil {
			w, err := sg.Matrix("uniform", core.Scale(c["w_scale"]))
			if err != nil {
				return err
			}
			if err := sg.SetVar("W", w); err != nil {
				return err
			}
		}
		// The source's neuron behaviour may come later (M7: input at key 1,
		// neurons at key 2): it then finds and keeps this zero vector.
		if err := zeros(sg.Src, d.spikes); err != nil {
			return err
		}
		d.in = append(d.in, sg)
	}
	if len(d.in) == 0 {
		return fmt.Errorf("DenseInput: group %s has no afferent synapse group tagged %q", g.Name(), tag)
	}
	d.reset = c["reset"] != 0
	d.noise = rng.NormalDist(c["offset"], c["noise"])
	return d.noise.Validate()
}

func (d *DenseInput) Iteration(o core.Object) error {
	if d.reset {
		o.Net().Rand(d.target, d.noise)
	}
	for _, sg := range d.in {
		sg.Propagate(d.target, sg.Var("W"), sg.Src.Var(d.spikes), d.strength)
	}
	return nil
}

// PairSTDP is M6's plasticity, on a synapse group: for every pair with the
// source in pre (spikes_old) and the destination in post (spikes),
// W += speed, then W is clipped to [w_min, w_max]. It runs as one masked
// backend Outer update: only the |pre| x |post| selected synapses are touched.
// Parameters: speed (0.001), w_min (0), w_max (1), pre ("spikes_old"),
// post ("spikes").
type PairSTDP struct {
	core.Base
	p         backend.OuterParams
	pre, post backend.Tensor
}

func (s *PairSTDP) Initialize(o core.Object) error {
	sg, ok := o.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("PairSTDP belongs on a synapse group, not %T", o)
	}
	c, err := floats(&s.Base, []param{{"speed", 0.001}, {"w_min", 0}, {"w_max", 1}})
	if err != nil {
		return err
	}
	s.p = backend.OuterParams{Alpha: c["speed"], Clip: true, Lo: c["w_min"], Hi: c["w_max"]}
	if s.pre, s.post, err = prePost(sg, s.String("pre", "spikes_old"), s.String("post", "spikes")); err != nil {
		return fmt.Errorf("PairSTDP: %w", err)
	}
	return nil
}

func (s *PairSTDP) Iteration(o core.Object) error {
	sg := o.(*core.SynapseGroup)
	sg.Outer(sg.Var("W"), s.post, s.pre, nil, nil, s.p)
	return nil
}

// TraceSTDP is M7's plasticity, on a synapse group, with soft bounds:
//
//	src_trace += pre - src_trace/pre_tau*dt;  dst_trace += post - dst_trace/post_tau*dt
//	rows of spiking sources:       W -= a_minus * dst_trace[post] * (W - w_min)
//	columns of spiking targets:    W += a_plus * src_trace[pre] * (w_max - W)
//
// in that order (the potentiation sees the depressed weights). The traces are
// the synapse group's variables src_trace and dst_trace; each update is one
// masked backend Outer. The potentiation skips the rows of sources whose
// trace is exactly 0 (never spiked; they would change by exactly 0): in SxD
// it is the one update that walks columns, one cache line per synapse, so
// this halves M7's step over the paper's 300 steps.
//
// Parameters: a_plus (0.01), a_minus (0.012), pre_tau (20), post_tau (20),
// dt (1), w_min (0), w_max (1), spikes ("spikes": the variable read in
// both groups).
type TraceSTDP struct {
	core.Base
	pre, post            backend.Tensor
	srcTrace, dstTrace   backend.Tensor
	depress, potentiate  backend.OuterParams
	srcKernel, dstKernel *core.Kernel
	active               backend.Tensor // src_trace != 0
}

func (s *TraceSTDP) Initialize(o core.Object) error {
	sg, ok := o.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("TraceSTDP belongs on a synapse group, not %T", o)
	}
	c, err := floats(&s.Base, []param{{"a_plus", 0.01}, {"a_minus", 0.012}, {"pre_tau", 20}, {"post_tau", 20}, {"dt", 1}, {"w_min", 0}, {"w_max", 1}})
	if err != nil {
		return err
	}
	spikes := s.String("spikes", "spikes")
	if s.pre, s.post, err = prePost(sg, spikes, spikes); err != nil {
		return fmt.Errorf("TraceSTDP: %w", err)
	}
	// Soft bound W += Alpha*u*v*(Target - W): Target w_min with Alpha a_minus
	// gives W -= a_minus*trace*(W - w_min).
	s.depress = backend.OuterParams{Alpha: c["a_minus"], Soft: true, Target: c["w_min"]}
	s.potentiate = backend.OuterParams{Alpha: c["a_plus"], Soft: true, Target: c["w_max"]}
	if s.active, err = sg.Src.Vector("zeros"); err != nil {
		return err
	}
	for _, t := range []struct {
		trace *backend.Tensor
		k     **core.Kernel
		g     *core.NeuronGroup
		spk   backend.Tensor
		name  string
		tau   float32
		prog  string
	}{
		{&s.srcTrace, &s.srcKernel, sg.Src, s.pre, "src_trace", c["pre_tau"], "x += s - x / tau * dt; m = x != 0"},
		{&s.dstTrace, &s.dstKernel, sg.Dst, s.post, "dst_trace", c["post_tau"], "x += s - x / tau * dt"},
	} {
		if *t.trace, err = t.g.Vector("zeros"); err != nil {
			return err
		}
		if err := sg.SetVar(t.name, *t.trace); err != nil {
			return err
		}
		bind := map[string]backend.Tensor{"x": *t.trace, "s": t.spk, "m": s.active}
		if *t.k, err = core.NewKernelWith(o, t.prog, core.Consts{"tau": t.tau, "dt": c["dt"]}, bind); err != nil {
			return err
		}
	}
	return nil
}

func (s *TraceSTDP) Iteration(o core.Object) error {
	sg := o.(*core.SynapseGroup)
	s.srcKernel.Run()
	s.dstKernel.Run()
	w := sg.Var("W")
	sg.Outer(w, nil, s.pre, s.dstTrace, nil, s.depress)
	// Rows of sources whose trace is still exactly 0 (never spiked) would
	// change by 0: the mask skips them.
	sg.Outer(w, s.post, s.active, nil, s.srcTrace, s.potentiate)
	return nil
}

// prePost looks up the source's pre and the destination's post variables.
func prePost(sg *core.SynapseGroup, pre, post string) (backend.Tensor, backend.Tensor, error) {
	a, b := sg.Src.Var(pre), sg.Dst.Var(post)
	if a == nil {
		return nil, nil, fmt.Errorf("source group %s of %s has no variable %q (give it a neuron behaviour with a smaller key)", sg.Src.Name(), sg.Name(), pre)
	}
	if b == nil {
		return nil, nil, fmt.Errorf("destination group %s of %s has no variable %q (give it a neuron behaviour with a smaller key)", sg.Dst.Name(), sg.Name(), post)
	}
	return a, b, nil
}

type param struct {
	key string
	def float32
}

// floats reads numeric parameters into kernel constants.
func floats(b *core.Base, ps []param) (core.Consts, error) {
	c := core.Consts{}
	for _, p := range ps {
		v, err := b.Float(p.key, p.def)
		if err != nil {
			return nil, err
		}
		c[p.key] = v
	}
	return c, nil
}

// zeros gives o zero vectors for the named variables that it lacks.
func zeros(o core.Object, names ...string) error {
	for _, name := range names {
		if o.Var(name) != nil {
			continue
		}
		t, err := o.Vector("zeros")
		if err != nil {
			return err
		}
		if err := o.SetVar(name, t); err != nil {
			return err
		}
	}
	return nil
}

// STDPOptions size M6 and M7.
type STDPOptions struct {
	N int // neurons; 10000 (the paper's size) if 0
}

// STDPNet holds the group and the recurrent synapse group of M6 or M7.
type STDPNet struct {
	G *core.NeuronGroup
	S *core.SynapseGroup
}

// LIFSTDP builds M6, the PymoNNtorch paper's "simple LIF" benchmark: one
// group NG of N SimpleLIF neurons (key 1), DenseInput (key 2) over a
// recurrent synapse group GLU with dense W = U[0,1)/N, and PairSTDP on the
// synapse group (key 3, speed 0.001, W clipped to [0, 1]). About 1.2% of the
// neurons spike per step (the paper says about 1.5%; PymoNNto's script gives
// 1.2% too).
func LIFSTDP(net *core.Network, o STDPOptions) (*STDPNet, error) {
	n, err := stdpSize(o)
	if err != nil {
		return nil, err
	}
	return stdp(net, n, core.Behaviors{
		1: &SimpleLIF{},
		2: &DenseInput{Base: core.Base{Params: core.Params{"var": "v", "w_scale": fmt.Sprint(1 / float32(n))}}},
	}, core.Behaviors{3: &PairSTDP{}})
}

// IzhSTDP builds M7, the PymoNNtorch paper's Izhikevich benchmark: one group
// NG of N IzhikevichSTDP neurons (key 2) driven by DenseInput (key 1:
// I = 15 + N(0,1) + (1/N) sum of the W rows of the neurons that spiked in the
// previous step) over a recurrent synapse group GLU with dense W = U[0,1),
// and TraceSTDP on the synapse group (key 5).
func IzhSTDP(net *core.Network, o STDPOptions) (*STDPNet, error) {
	n, err := stdpSize(o)
	if err != nil {
		return nil, err
	}
	return stdp(net, n, core.Behaviors{
		1: &DenseInput{Base: core.Base{Params: core.Params{"var": "I", "reset": "1", "offset": "15", "noise": "1", "strength": fmt.Sprint(1 / float32(n))}}},
		2: &IzhikevichSTDP{},
	}, core.Behaviors{5: &TraceSTDP{}})
}

func stdpSize(o STDPOptions) (int, error) {
	switch {
	case o.N == 0:
		return 10000, nil
	case o.N < 0:
		return 0, fmt.Errorf("STDPOptions.N = %d: the number of neurons must be positive", o.N)
	}
	return o.N, nil
}

func stdp(net *core.Network, n int, neuron, syn core.Behaviors) (*STDPNet, error) {
	g, err := net.NewNeuronGroup("NG", core.Size(n), neuron)
	if err != nil {
		return nil, err
	}
	s, err := net.NewSynapseGroup("GLU", g, g, syn)
	if err != nil {
		return nil, err
	}
	return &STDPNet{G: g, S: s}, nil
}
