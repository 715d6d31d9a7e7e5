package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/equations"
)

// Single-neuron models written as equations (package equations), with
// PymoNNto's Examples_Classical parameters.

// EqOptions configure the single-neuron equation models.
type EqOptions struct {
	// Method is euler (default, as PymoNNto's examples), rk2, rk4 or
	// exponential_euler.
	Method string
	// DT is the time step ("0.01*ms" if empty).
	DT string
	// I is the input: uA/cm2 for HH (10 if 0), uA/cm2 for Wang-Buzsaki
	// (2 if 0; PymoNNto's Iapp), dimensionless for Hindmarsh-Rose (2 if
	// 0).
	I float64
}

func (o EqOptions) dt() string {
	if o.DT == "" {
		return "0.01*ms"
	}
	return o.DT
}

// HHEquations is PymoNNto's Hodgkin-Huxley compartment (HH_main's rates),
// v in mV; I is the injected current.
const HHEquations = `
dv/dt = (I - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL))/C : mV
dm/dt = am*(1 - m) - bm*m : 1
dh/dt = ah*(1 - h) - bh*h : 1
dn/dt = an*(1 - n) - bn*n : 1
am = 0.1*(v/mV + 40)/(1 - exp(-(v/mV + 40)/10))/ms : Hz   # 0/0 at -40 mV
bm = 4*exp(-(v/mV + 65)/18)/ms : Hz
ah = 0.07*exp(-(v/mV + 65)/20)/ms : Hz
bh = 1/(1 + exp(-(v/mV + 35)/10))/ms : Hz
an = 0.01*(v/mV + 55)/(1 - exp(-(v/mV + 55)/10))/ms : Hz  # 0/0 at -55 mV
bn = 0.125*exp(-(v/mV + 65)/80)/ms : Hz
I : uA/cm2 (shared)
`

// HH is the Hodgkin-Huxley neuron: C 1 uF/cm2, gNa 120, gK 36, gL 0.3
// mS/cm2, ENa 50, EK -77, EL -54.387 mV; v0 -65 mV, m0 0.05, h0 0.6, n0
// 0.32.
func HH(o EqOptions) (*equations.Neuron, error) {
	i := o.I
	if i == 0 {
		i = 10
	}
	return equations.New(HHEquations, equations.Options{
		Method: o.Method, DT: o.dt(),
		Namespace: map[string]string{"C": "1*uF/cm2", "gNa": "120*msiemens/cm2", "gK": "36*msiemens/cm2", "gL": "0.3*msiemens/cm2",
			"ENa": "50*mV", "EK": "-77*mV", "EL": "-54.387*mV"},
		Init: map[string]string{"v": "-65*mV", "m": "0.05", "h": "0.6", "n": "0.32", "I": fmt.Sprintf("%g*uA/cm2", i)},
	})
}

// HindmarshRoseEquations is PymoNNto's Hindmarsh-Rose neuron, time in ms
// (PymoNNto's time unit) and x, y, z dimensionless.
const HindmarshRoseEquations = `
dx/dt = (y - a*x**3 + b*x**2 + I - z)/ms : 1
dy/dt = (c - d*x**2 - y)/ms : 1
dz/dt = r*(s*(x - x1) - z)/ms : 1
I : 1 (shared)
`

// HindmarshRose is PymoNNto's Hindmarsh-Rose neuron: a 1, b 3, c 1, d 5,
// r 0.001, s 4, x1 -1.6; x0 -1.6, y0 = c - d*x0**2 = -11.8, z0 0.
func HindmarshRose(o EqOptions) (*equations.Neuron, error) {
	i := o.I
	if i == 0 {
		i = 2
	}
	return equations.New(HindmarshRoseEquations, equations.Options{
		Method: o.Method, DT: o.dt(),
		Namespace: map[string]string{"a": "1", "b": "3", "c": "1", "d": "5", "r": "0.001", "s": "4", "x1": "-1.6"},
		Init:      map[string]string{"x": "-1.6", "y": "-11.8", "z": "0", "I": fmt.Sprint(i)},
	})
}

// WangBuzsakiEquations is PymoNNto's Wang-Buzsaki interneuron (Brian2's
// Wang_Buszaki_1996): instantaneous sodium activation m, h and n at five
// times their rates, v in mV.
const WangBuzsakiEquations = `
dv/dt = (-gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL) + Iapp)/Cm : mV
m = am/(am + bm) : 1
am = 1/exprel(-(v/mV + 35)/10)/ms : Hz
bm = 4*exp(-(v/mV + 60)/18)/ms : Hz
dh/dt = 5*(ah*(1 - h) - bh*h) : 1
ah = 0.07*exp(-(v/mV + 58)/20)/ms : Hz
bh = 1/(exp(-0.1*(v/mV + 28)) + 1)/ms : Hz
dn/dt = 5*(an*(1 - n) - bn*n) : 1
an = 0.1/exprel(-(v/mV + 34)/10)/ms : Hz
bn = 0.125*exp(-(v/mV + 44)/80)/ms : Hz
Iapp : uA (shared)
`

// WangBuzsaki is the Wang-Buzsaki neuron: Cm 1 uF, gNa 35, gK 9, gL 0.1
// mS, ENa 55, EK -90, EL -65 mV, Iapp 2 uA; v0 -70 mV, h0 1, n0 0.
func WangBuzsaki(o EqOptions) (*equations.Neuron, error) {
	i := o.I
	if i == 0 {
		i = 2
	}
	return equations.New(WangBuzsakiEquations, equations.Options{
		Method: o.Method, DT: o.dt(),
		Namespace: map[string]string{"Cm": "1*uF", "gNa": "35*msiemens", "gK": "9*msiemens", "gL": "0.1*msiemens",
			"ENa": "55*mV", "EK": "-90*mV", "EL": "-65*mV"},
		Init: map[string]string{"v": "-70*mV", "h": "1", "n": "0", "Iapp": fmt.Sprintf("%g*uA", i)},
	})
}

// LIFEquations is M2's LIF neuron as equations, in PymoNNto's numbers
// (v and I in mV, time in ms): the update LIFUpdate writes by hand.
const LIFEquations = `
dv/dt = ((v_rest - v) + I)/ms : 1
I : 1
`

// LIFNetEq is M2 (LIFNet) with its neurons built from LIFEquations: the
// same network, draws and spikes.
func LIFNetEq(net *core.Network, o ClassicOptions) (*ClassicNet, error) {
	var err error
	nets, err2 := classic(net, o, func(exc bool) core.Behaviors {
		thr := "-10"
		if !exc {
			thr = "-30"
		}
		nr, e := equations.New(LIFEquations, equations.Options{
			DT: "0.1*ms", Threshold: "v > " + thr, Reset: "v = v_reset",
			Namespace: map[string]string{"v_rest": "-65", "v_reset": "-80"},
			Init:      map[string]string{"v": "uniform, scale=-65"},
		})
		if e != nil && err == nil {
			err = e
		}
		return core.Behaviors{
			1: nr,
			2: &SpikeInput{Base: core.Base{Params: core.Params{"noise": "90"}}},
		}
	})
	if err != nil {
		return nil, err
	}
	return nets, err2
}

// COBAEquations is M5's COBA neuron as equations, in the numbers of COBA
// (v in mV, conductances in units of the leak, time in ms), v held for
// 5 ms after a spike.
const COBAEquations = `
dv/dt = (-(v - E_L) + ge*(E_e - v) + gi*(E_i - v))/tau_m : 1 (unless refractory)
dge/dt = -ge/tau_e : 1
dgi/dt = -gi/tau_i : 1
`

// COBANetEq is M5 (COBANet) with its neurons built from COBAEquations:
// the same network, draws and spikes.
func COBANetEq(net *core.Network, o COBAOptions) (*ClassicNet, error) {
	return cobaNet(net, o, func() (core.Behavior, error) {
		return equations.New(COBAEquations, equations.Options{
			DT: "0.1*ms", Threshold: "v > V_th", Reset: "v = V_reset", Refractory: "5*ms",
			Namespace: map[string]string{"tau_m": "20*ms", "tau_e": "5*ms", "tau_i": "10*ms",
				"E_L": "-60", "E_e": "0", "E_i": "-80", "V_th": "-50", "V_reset": "-60"},
			Init: map[string]string{"v": "normal(-65, 5)", "ge": "normal(4, 1.5)", "gi": "normal(20, 12)"},
		})
	})
}

// DelayedInput adds, each step, the delayed spikes of every afferent
// synapse group to the target variable: Target += W . spikes(t - delay)
// (Brian2's on_pre = "V += w" with a delay; the delay is the synapse
// group's, core.SetUniformDelay or SetDelays).
type DelayedInput struct {
	core.Base
	Target, Spikes string // "V" and "fired" if empty
	in             []*core.SynapseGroup
}

func (d *DelayedInput) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("DelayedInput belongs on a neuron group, not %T", o)
	}
	if d.Target == "" {
		d.Target = "V"
	}
	if d.Spikes == "" {
		d.Spikes = "fired"
	}
	if g.Var(d.Target) == nil {
		return fmt.Errorf("DelayedInput: group %s has no variable %q to add the input to", g.Name(), d.Target)
	}
	for _, sg := range g.Synapses(core.Afferent, "") {
		if sg.Var("W") == nil || sg.Src.Var(d.Spikes) == nil {
			return fmt.Errorf("DelayedInput: synapse group %s needs W and its source's %q", sg.Name(), d.Spikes)
		}
		d.in = append(d.in, sg)
	}
	return nil
}

func (d *DelayedInput) Iteration(o core.Object) error {
	v := o.Var(d.Target)
	for _, sg := range d.in {
		sg.PropagateDelayed(v, sg.Var("W"), sg.Src.Var(d.Spikes), 1)
	}
	return nil
}

// BrunelHakimOptions configure BrunelHakim.
type BrunelHakimOptions struct {
	// N neurons (5000 if 0), C connections per neuron on average (1000).
	N, C int
	// PymoNNto selects PymoNNto's loose port: dt 0.2 ms, noise
	// sqrt(20)*13 mV per sqrt(step) without the sqrt(dt) of white
	// noise, a 40 ms refractory period and a 7.8 ms delay (the paper:
	// dt 0.1 ms, sigma 1 mV, 2 ms and 2 ms).
	PymoNNto bool
	// OnPre writes the synapses as Brian2 does, equations.Synapses with
	// on_pre "V_post += w" and the delay, instead of DelayedInput: the
	// same spikes.
	OnPre bool
}

// BrunelHakim builds Brunel & Hakim (1999), as Brian2's example: N LIF
// neurons driven by mu 25 mV and white noise (sigma 1 mV), inhibited by a
// sparse random network (p = C/N, J = 0.1 mV, delay 2 ms), threshold 20
// mV, reset 10 mV, refractory 2 ms, tau 20 ms, Euler-Maruyama at dt 0.1
// ms. It returns the group; one step is DT.
func BrunelHakim(net *core.Network, o BrunelHakimOptions) (*core.NeuronGroup, string, error) {
	if o.N == 0 {
		o.N = 5000
	}
	if o.C == 0 {
		o.C = 1000
	}
	if o.C > o.N {
		return nil, "", fmt.Errorf("BrunelHakim: C = %d connections per neuron from N = %d neurons: C must not exceed N", o.C, o.N)
	}
	eqs, dt, ref, delay := "dV/dt = (-V + muext + sigmaext*sqrt(tau)*xi)/tau : mV", "0.1*ms", "2*ms", 20
	ns := map[string]string{"muext": "25*mV", "sigmaext": "1*mV", "tau": "20*ms"}
	if o.PymoNNto {
		// PymoNNto: v += (-v + 25 + sqrt(20)*13*N(0,1))/20*dt, dt 0.2.
		eqs, dt, ref, delay = "dV/dt = (-V + muext + s*xi*sqrt(dt))/tau : mV", "0.2*ms", "40*ms", 39
		ns["s"] = "sqrt(20)*13*mV"
	}
	nr, err := equations.New(eqs, equations.Options{Method: "euler", DT: dt, Threshold: "V > 20*mV", Reset: "V = 10*mV",
		Refractory: ref, Namespace: ns, Init: map[string]string{"V": "10*mV"}, SpikeVar: "fired"})
	if err != nil {
		return nil, "", err
	}
	bs, sbs := core.Behaviors{1: nr, 2: &DelayedInput{Target: "V"}}, core.Behaviors(nil)
	if o.OnPre {
		syn, err := equations.NewSynapses("w : mV", equations.SynapseOptions{OnPre: "V_post += w", Delay: fmt.Sprintf("%d*ms", delay/10), DT: dt})
		if err != nil {
			return nil, "", err
		}
		if o.PymoNNto {
			syn, err = equations.NewSynapses("w : mV", equations.SynapseOptions{OnPre: "V_post += w", Delay: "7.8*ms", DT: dt})
			if err != nil {
				return nil, "", err
			}
		}
		bs, sbs = core.Behaviors{1: nr}, core.Behaviors{2: syn}
	}
	g, err := net.NewNeuronGroup("BH", core.Size(o.N), bs)
	if err != nil {
		return nil, "", err
	}
	sg, err := net.NewSynapseGroup("GABA", g, g, sbs)
	if err != nil {
		return nil, "", err
	}
	w, err := sg.SparseMatrix(float64(o.C)/float64(o.N), "-0.1") // J = 0.1 mV, V in mV
	if err != nil {
		return nil, "", err
	}
	if err := sg.SetVar("W", w); err != nil {
		return nil, "", err
	}
	if err := sg.SetUniformDelay(w, delay); err != nil {
		return nil, "", err
	}
	return g, dt, nil
}

// GapJunction sets Out = G*(W.V - deg*V) each step (G*sum over the
// neighbours of (V_nb - V), W the adjacency of the group's recurrent
// synapse group and deg its row sums), in the stored units of V and Out:
// the electrical coupling of PymoNNto's compartment chain. Run it after
// the neurons' update (whose variables it needs at initialisation): Out
// then holds the coupling of the next step's start values.
type GapJunction struct {
	core.Base
	V, Out string
	G      float32
	in     *core.SynapseGroup
	h, deg backend.Tensor
	k      *core.Kernel
}

func (j *GapJunction) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("GapJunction belongs on a neuron group, not %T", o)
	}
	for _, sg := range g.Synapses(core.Afferent, "") {
		if sg.Src == g && sg.Var("W") != nil {
			j.in = sg
		}
	}
	if j.in == nil || g.Var(j.V) == nil || g.Var(j.Out) == nil {
		return fmt.Errorf("GapJunction: group %s needs a recurrent synapse group with W and the variables %q and %q", g.Name(), j.V, j.Out)
	}
	var err error
	if j.h, err = o.Vector("zeros"); err != nil {
		return err
	}
	if j.deg, err = o.Vector("zeros"); err != nil {
		return err
	}
	ones, err := o.Vector("ones")
	if err != nil {
		return err
	}
	j.in.MatVec(j.deg, j.in.Var("W"), ones, 1, 0) // row sums: the neighbours
	ones.Release()
	j.k, err = core.NewKernelWith(o, fmt.Sprintf("%s = G*(_h - _deg*%s)", j.Out, j.V), core.Consts{"G": j.G}, map[string]backend.Tensor{"_h": j.h, "_deg": j.deg})
	return err
}

func (j *GapJunction) Iteration(o core.Object) error {
	j.in.MatVec(j.h, j.in.Var("W"), o.Var(j.V), 1, 0)
	j.k.Run()
	return nil
}

// HHChainEquations is PymoNNto's 20-compartment Hodgkin-Huxley chain: each
// compartment HHEquations' model with the coupling current I_gap and the
// current injected into compartment 0 (i == 0): 5 uA/cm2 from 100 to 200
// ms and 10 from 300 to 400 ms, as PymoNNto's example does from its
// iteration counter.
const HHChainEquations = `
dv/dt = (I + I_gap - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) - gL*(v - EL))/C : mV
I = (i == 0)*(5*(t >= 100*ms)*(t < 200*ms) + 10*(t >= 300*ms)*(t < 400*ms))*uA/cm2 : uA/cm2
dm/dt = am*(1 - m) - bm*m : 1
dh/dt = ah*(1 - h) - bh*h : 1
dn/dt = an*(1 - n) - bn*n : 1
am = 0.1*(v/mV + 40)/(1 - exp(-(v/mV + 40)/10))/ms : Hz
bm = 4*exp(-(v/mV + 65)/18)/ms : Hz
ah = 0.07*exp(-(v/mV + 65)/20)/ms : Hz
bh = 1/(1 + exp(-(v/mV + 35)/10))/ms : Hz
an = 0.01*(v/mV + 55)/(1 - exp(-(v/mV + 55)/10))/ms : Hz
bn = 0.125*exp(-(v/mV + 65)/80)/ms : Hz
I_gap : uA/cm2
`

// HHChainOptions configure HHChain.
type HHChainOptions struct {
	N int // compartments (20 if 0)
	EqOptions
	// PymoNNto starts every state at 0, as PymoNNto's example does (its
	// states are vector()*value, and vector() is zeros: a bug, the whole
	// chain fires at once from 0 mV); by default they start at HH's
	// resting values (v -65 mV, m 0.05, h 0.6, n 0.32). Both couple as
	// PymoNNto computes it, I += sum (v_nb - v)/0.15*dt with dt applied
	// once more when I enters dv: a conductance of dt/0.15 = 0.067
	// mS/cm2 at dt 0.01 ms (at 1/0.15 mS/cm2 the injected current leaks
	// into the chain and compartment 0 never fires).
	PymoNNto bool
}

// HHChain builds PymoNNto's chain of N Hodgkin-Huxley compartments coupled
// to their neighbours (GapJunction), driven in compartment 0.
func HHChain(net *core.Network, o HHChainOptions) (*core.NeuronGroup, error) {
	if o.N == 0 {
		o.N = 20
	}
	init := map[string]string{"v": "-65*mV", "m": "0.05", "h": "0.6", "n": "0.32"}
	if o.PymoNNto {
		init = map[string]string{"v": "0*mV", "m": "0", "h": "0", "n": "0"}
	}
	dtq, err := equations.Time(o.dt())
	if err != nil {
		return nil, err
	}
	g := float32(dtq * 1e3 / 0.15) // PymoNNto's /0.15*dt, dt in ms
	nr, err := equations.New(HHChainEquations, equations.Options{
		Method: o.Method, DT: o.dt(),
		Namespace: map[string]string{"C": "1*uF/cm2", "gNa": "120*msiemens/cm2", "gK": "36*msiemens/cm2", "gL": "0.3*msiemens/cm2",
			"ENa": "50*mV", "EK": "-77*mV", "EL": "-54.387*mV"},
		Init: init,
	})
	if err != nil {
		return nil, err
	}
	grp, err := net.NewNeuronGroup("chain", core.Size(o.N), core.Behaviors{1: nr, 1.5: &GapJunction{V: "v", Out: "I_gap", G: g}})
	if err != nil {
		return nil, err
	}
	sg, err := net.NewSynapseGroup("GAP", grp, grp, nil)
	if err != nil {
		return nil, err
	}
	adj := make([]float32, o.N*o.N)
	for k := 0; k+1 < o.N; k++ {
		adj[k*o.N+k+1], adj[(k+1)*o.N+k] = 1, 1
	}
	w, err := sg.Matrix("zeros")
	if err != nil {
		return nil, err
	}
	if err := net.Backend().Write(w, 0, adj); err != nil { // symmetric: either layout
		return nil, err
	}
	return grp, sg.SetVar("W", w)
}

// SynfireEquations is the neuron of Diesmann et al. (1999) as Brian2's
// example writes it: a LIF membrane fed by an alpha-shaped synaptic
// current (x, y) and white noise.
const SynfireEquations = `
dV/dt = (-(V - Vr) + x)*(1./taum) : mV
dx/dt = (-x + y)*(1./taupsp) : mV
dy/dt = -y*(1./taupsp) + 25.27*mV/ms + (39.24*mV/ms**0.5)*xi : mV
`

// SynfireOptions configure Synfire.
type SynfireOptions struct {
	// Groups of Size neurons (10 of 100 if 0); Inputs spikes (85) at
	// InputAt ms (50) with a spread of Jitter ms (1) drive the first
	// group, drawn from Seed.
	Groups, Size, Inputs int
	InputAt, Jitter      float64
	Seed                 uint64
	// PymoNNto starts V at -Vr + U*15 (+70 to +85 mV: everything fires in
	// the first step), PymoNNto's sign bug; by default V starts uniform
	// in [Vr, Vt], as in Brian2's example.
	PymoNNto bool
}

// Synfire builds the synfire chain of Diesmann et al. (1999) as Brian2's
// example: Groups x Size neurons (SynfireEquations; threshold -55 mV,
// reset -70 mV, refractory 1 ms, euler at 0.1 ms), every neuron of a group
// exciting every neuron of the next (y += 4.86 mV), and a spike generator
// of Inputs neurons firing once near InputAt into the first group. It
// returns the chain's group and the input group.
func Synfire(net *core.Network, o SynfireOptions) (*core.NeuronGroup, *core.NeuronGroup, error) {
	if o.Groups == 0 {
		o.Groups = 10
	}
	if o.Size == 0 {
		o.Size = 100
	}
	if o.Inputs == 0 {
		o.Inputs = 85
	}
	if o.InputAt == 0 {
		o.InputAt = 50
	}
	if o.Jitter == 0 {
		o.Jitter = 1
	}
	init := "uniform(-70, -55)"
	if o.PymoNNto {
		init = "uniform(70, 85)"
	}
	nr, err := equations.New(SynfireEquations, equations.Options{Method: "euler", DT: "0.1*ms",
		Threshold: "V > Vt", Reset: "V = Vr", Refractory: "1*ms",
		Namespace: map[string]string{"Vr": "-70*mV", "Vt": "-55*mV", "taum": "10*ms", "taupsp": "0.325*ms"},
		Init:      map[string]string{"V": init}})
	if err != nil {
		return nil, nil, err
	}
	n := o.Groups * o.Size
	p, err := net.NewNeuronGroup("P", core.Size(n), core.Behaviors{1: nr, 2: &DelayedInput{Target: "y"}})
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x73796e))
	gen := &SpikeGenerator{Base: core.Base{Params: core.Params{"var": "fired"}}}
	for k := range o.Inputs {
		step := int(math.Round((o.InputAt + o.Jitter*rng.NormFloat64()) / 0.1))
		gen.Steps, gen.Neurons = append(gen.Steps, max(step, 1)), append(gen.Neurons, k)
	}
	in, err := net.NewNeuronGroup("input", core.Size(o.Inputs), core.Behaviors{0.5: gen})
	if err != nil {
		return nil, nil, err
	}
	const weight = 4.86 // mV
	connect := func(src *core.NeuronGroup, w func(i, j int) bool) error {
		sg, err := net.NewSynapseGroup("GLUTAMATE", src, p, nil)
		if err != nil {
			return err
		}
		m, err := sg.Matrix("zeros")
		if err != nil {
			return err
		}
		r, c := sg.Shape()
		vals := make([]float32, r*c)
		for i := range src.Size { // i source, j destination
			for j := range n {
				if w(i, j) {
					if net.Layout() == core.SxD {
						vals[i*n+j] = weight
					} else {
						vals[j*src.Size+i] = weight
					}
				}
			}
		}
		if err := net.Backend().Write(m, 0, vals); err != nil {
			return err
		}
		if err := sg.SetVar("W", m); err != nil {
			return err
		}
		return sg.SetUniformDelay(m, 0)
	}
	if err := connect(p, func(i, j int) bool { return j/o.Size == i/o.Size+1 }); err != nil {
		return nil, nil, err
	}
	if err := connect(in, func(i, j int) bool { return j < o.Size }); err != nil {
		return nil, nil, err
	}
	return p, in, nil
}

// TraceSTDPEquations is TraceSTDP written as Brian2 users write it, with
// event-driven traces (they decay by exp(-dt/tau) per step, where
// TraceSTDP's Euler step multiplies by 1 - dt/tau, and on_pre runs
// before the postsynaptic trace takes this step's spikes).
const TraceSTDPEquations = `
w : 1
dtpre/dt = -tpre/(20*ms) : 1 (event-driven)
dtpost/dt = -tpost/(20*ms) : 1 (event-driven)
`

// IzhSTDPEq is M7 (IzhSTDP) with its plasticity from equations.Synapses
// (TraceSTDPEquations; on_pre depresses, on_post potentiates, soft
// bounds [0, 1], dt 1 ms): the benchmark of synaptic equations against
// the hand-written TraceSTDP.
func IzhSTDPEq(net *core.Network, o STDPOptions) (*STDPNet, error) {
	n, err := stdpSize(o)
	if err != nil {
		return nil, err
	}
	syn, err := equations.NewSynapses(TraceSTDPEquations, equations.SynapseOptions{
		OnPre:      "tpre += 1; w -= a_minus*tpost*(w - w_min)",
		OnPost:     "tpost += 1; w += a_plus*tpre*(w_max - w)",
		DT:         "1*ms",
		Spikes:     "spikes",
		PostSpikes: "spikes",
		Namespace:  map[string]string{"a_minus": "0.012", "a_plus": "0.01", "w_min": "0", "w_max": "1"},
	})
	if err != nil {
		return nil, err
	}
	return stdp(net, n, core.Behaviors{
		1: &DenseInput{Base: core.Base{Params: core.Params{"var": "I", "reset": "1", "offset": "15", "noise": "1", "strength": fmt.Sprint(1 / float32(n))}}},
		2: &IzhikevichSTDP{},
	}, core.Behaviors{5: syn})
}

// SongEquations is the postsynaptic neuron of Song, Miller & Abbott
// (2000) as Brian2's STDP example writes it: a conductance-based LIF.
const SongEquations = `
dv/dt = (ge*(Ee - v) + El - v)/taum : volt
dge/dt = -ge/taue : 1
`

// SongSynapseEquations is its pair STDP with event-driven traces.
const SongSynapseEquations = `
w : 1
dApre/dt = -Apre/taupre : 1 (event-driven)
dApost/dt = -Apost/taupost : 1 (event-driven)
`

// SongOptions configure SongSTDP; zero fields take Brian2's example's
// values.
type SongOptions struct {
	Inputs int     // Poisson inputs (1000)
	Rate   float64 // their rate in Hz (15)
	GMax   float64 // the weight bound (0.01)
}

// SongNet is SongSTDP's groups.
type SongNet struct {
	In, Out *core.NeuronGroup
	S       *core.SynapseGroup
}

// SongSTDP builds Brian2's STDP example (examples/synapses/STDP.py, after
// Song, Miller & Abbott 2000): Inputs Poisson neurons (Rate Hz) drive one
// neuron (SongEquations, threshold v > -54 mV, reset v = -60 mV, euler,
// dt 0.1 ms, v from 0 as in the example) through all-to-all synapses
// ge_post += w with pair STDP (SongSynapseEquations; dApre = 0.01*GMax,
// dApost = -1.05*dApre, tau 20 ms, w = U[0, GMax)). Competition between
// the inputs drives the weights to the bounds: a bimodal distribution.
func SongSTDP(net *core.Network, o SongOptions) (*SongNet, error) {
	if o.Inputs == 0 {
		o.Inputs = 1000
	}
	if o.Rate == 0 {
		o.Rate = 15
	}
	if o.GMax == 0 {
		o.GMax = 0.01
	}
	switch {
	case o.Inputs < 0:
		return nil, fmt.Errorf("SongOptions.Inputs = %d: give a positive number of inputs", o.Inputs)
	case o.Rate < 0 || math.IsInf(o.Rate, 0) || math.IsNaN(o.Rate):
		return nil, fmt.Errorf("SongOptions.Rate = %v: give a rate in Hz, >= 0", o.Rate)
	case !(o.GMax > 0):
		return nil, fmt.Errorf("SongOptions.GMax = %v: the weight bound must be positive", o.GMax)
	}
	nr, err := equations.New(SongEquations, equations.Options{DT: "0.1*ms", Threshold: "v > -54*mV", Reset: "v = -60*mV",
		Namespace: map[string]string{"Ee": "0*mV", "El": "-74*mV", "taum": "10*ms", "taue": "5*ms"}})
	if err != nil {
		return nil, err
	}
	dApre := 0.01 * o.GMax
	syn, err := equations.NewSynapses(SongSynapseEquations, equations.SynapseOptions{
		OnPre:  "ge_post += w; Apre += dApre; w = clip(w + Apost, 0, gmax)",
		OnPost: "Apost += dApost; w = clip(w + Apre, 0, gmax)",
		DT:     "0.1*ms", Spikes: "spike",
		Namespace: map[string]string{"taupre": "20*ms", "taupost": "20*ms", "gmax": fmt.Sprint(o.GMax),
			"dApre": fmt.Sprint(dApre), "dApost": fmt.Sprint(-1.05 * dApre)},
	})
	if err != nil {
		return nil, err
	}
	in, err := net.NewNeuronGroup("input", core.Size(o.Inputs), core.Behaviors{0: &PoissonInput{Base: core.Base{Params: core.Params{"rate": fmt.Sprint(o.Rate), "dt": "0.0001"}}}})
	if err != nil {
		return nil, err
	}
	out, err := net.NewNeuronGroup("neuron", core.Size(1), core.Behaviors{1: nr})
	if err != nil {
		return nil, err
	}
	sg, err := net.NewSynapseGroup("GLU", in, out, core.Behaviors{2: syn})
	if err != nil {
		return nil, err
	}
	w, err := sg.Matrix(fmt.Sprintf("uniform(0, %v)", o.GMax))
	if err != nil {
		return nil, err
	}
	if err := sg.SetVar("w", w); err != nil {
		return nil, err
	}
	return &SongNet{In: in, Out: out, S: sg}, nil
}
