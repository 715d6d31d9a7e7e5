// Package pd14 is the cortical microcircuit of Potjans & Diesmann (2014),
// M9: its published tables and constants, its neuron (Neuron, Neurons) and
// input (Input, AllInput) behaviours, and Build, which adds the circuit to
// a network, in the merged form (one neuron group, one synapse group) or
// with a group per population and projection (Options.Separate). Every
// number is taken from the public model description and its PyNEST
// implementation, INM-6/microcircuit-PD14-model (commit fd40046ec53c,
// PyNEST/src/microcircuit/network_params.py "net_dict", sim_params.py and
// helpers.py; docs/model_description.md). The connectivity is core's
// fixed-total-number rule (core.Total).
package pd14

import (
	"fmt"
	"math"
	"runtime"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// Populations are the eight populations, in the model's order.
var Populations = [8]string{"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"}

// FullSizes are the population sizes at scale 1 (network_params.py
// "full_num_neurons"; 77,169 neurons in all).
var FullSizes = [8]int{20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948}

// FullRates are the mean firing rates (Hz) of the full-scale network
// (network_params.py "full_mean_rates").
var FullRates = [8]float64{0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829}

// ConnProbs[target][source] is the connection probability of each
// projection (network_params.py "conn_probs": rows are targets, columns
// sources).
var ConnProbs = [8][8]float64{
	{0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0},
	{0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0},
	{0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0},
	{0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0},
	{0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0},
	{0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0},
	{0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
	{0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443},
}

// KExt are the external (background) in-degrees (network_params.py
// "K_ext"), each input at bg_rate = 8 Hz.
var KExt = [8]int{1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100}

// V0Mean and V0SD are the "optimized" initial membrane potential
// distributions (mV) of the newer model version (network_params.py
// "V0_mean"/"V0_std", V0_type "optimized").
var (
	V0Mean = [8]float64{-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43}
	V0SD   = [8]float64{5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48}
)

// Neuron, synapse and input constants of the model (network_params.py and
// sim_params.py).
const (
	EL        = -65.0 // resting potential (mV)
	VTh       = -50.0 // threshold (mV)
	VReset    = -65.0 // reset (mV)
	Cm        = 250.0 // membrane capacitance (pF)
	TauM      = 10.0  // membrane time constant (ms)
	TauSyn    = 0.5   // synaptic current time constant (ms)
	TRef      = 2.0   // refractory period (ms)
	Dt        = 0.1   // time step, sim_resolution (ms)
	PSPExc    = 0.15  // excitatory PSP amplitude (mV)
	G         = -4.0  // relative inhibitory weight
	WeightSD  = 0.1   // relative weight sd
	DelayExc  = 1.5   // mean excitatory delay (ms)
	DelayInh  = 0.75  // mean inhibitory delay (ms)
	DelaySD   = 0.5   // relative delay sd
	BgRate    = 8.0   // background rate per external input (Hz)
	WarmUpMs  = 500.0 // sim_params.py t_presim (ms)
	maxRedraw = 1000
)

// PSCOverPSP converts a PSP amplitude (mV) to the amplitude of the
// exponential PSC (pA) that produces it: the peak of the membrane response
// to J exp(-t/tau_syn), as helpers.py postsynaptic_potential_to_current
// (C_m pF, tau_m and tau_syn ms). With the PD14 constants it is about
// 585.4 pA/mV, so the 0.15 mV PSP is a PSC of about 87.8 pA.
func PSCOverPSP(cm, tauM, tauSyn float64) float64 {
	sub := 1 / (tauSyn - tauM)
	pre := tauM * tauSyn / cm * sub
	frac := math.Pow(tauM/tauSyn, sub)
	return 1 / (pre * (math.Pow(frac, tauM) - math.Pow(frac, tauSyn)))
}

// FullSynapses is the total number of synapses of the projection from
// population src to tgt at scale 1 (the "fixed total number" formulation
// of the model description: K = log(1-p) / log(1 - 1/(N_pre N_post)),
// helpers.py num_synapses_from_conn_probs), not rounded.
func FullSynapses(tgt, src int) float64 {
	prod := float64(FullSizes[src]) * float64(FullSizes[tgt])
	return math.Log(1-ConnProbs[tgt][src]) / math.Log((prod-1)/prod)
}

// Sizes are the population sizes at scale s: round(N_full * s), at
// least 1 (network.py: num_neurons).
func Sizes(s float64) [8]int {
	var n [8]int
	for i, f := range FullSizes {
		n[i] = max(1, int(math.Round(float64(f)*s)))
	}
	return n
}

// Synapses is the number of synapses of each projection [tgt][src] at
// scale s = N_scaling * K_scaling: round(K_full * s) (network.py:
// num_synapses). With K_scaling = 1 the total scales with N, so the mean
// in-degrees stay those of the full model and no DC compensation is needed
// (the description adds one only when in-degrees are scaled).
func Synapses(s float64) [8][8]int {
	var k [8][8]int
	for t := range 8 {
		for j := range 8 {
			k[t][j] = int(math.Round(FullSynapses(t, j) * s))
		}
	}
	return k
}

// DC is the background DC current (pA) of population i that replaces
// its K_ext Poisson inputs at 8 Hz: bg_rate * K_ext * PSC_ext * tau_syn *
// 0.001 (helpers.py dc_input_compensating_poisson, bg_input_type "dc").
func DC(i int) float64 {
	pscExt := PSPExc * PSCOverPSP(Cm, TauM, TauSyn)
	return BgRate * float64(KExt[i]) * pscExt * TauSyn * 0.001
}

// Neuron is NEST's iaf_psc_exp, the PD14 neuron: a current-based LIF
// neuron with an exponentially decaying synaptic current I (pA),
// integrated exactly over each step (NEST's propagators):
//
//	v = E_L + (v - E_L) P22 + P21 I + P20 I_e
//	I = I P11
//	fired = v >= V_th;  v = V_reset;  refractory t_ref
//
// with P22 = exp(-dt/tau_m), P11 = exp(-dt/tau_syn), P20 = tau_m/C_m (1 -
// P22) and P21 = tau_m tau_syn / (C_m (tau_m - tau_syn)) (P22 - P11). While
// refractory v stays at V_reset and I goes on decaying; NEST freezes v for
// t_ref/dt steps after the spike step, which is Refractory with
// RefractorySteps(t_ref, dt) + 1. Spike input (Input) adds to I after
// this update, as NEST adds its ring buffer after the voltage update.
// Fields: Pop (index into the PD14 tables, for V0 and the DC input) and
// DC (the background current I_e, pA). Variables: v, I, refrac, fired and
// count (spikes per neuron since the last reset of count: for rates).
type Neuron struct {
	core.Base
	Pop int
	DC  float64
	// PoissonExt, if positive, adds Poisson background input: K_ext
	// inputs of population Pop at bg_rate, each spike adding the PSC
	// PoissonExt (pA) to I (see PoissonCDF).
	PoissonExt float64
	u          backend.Tensor // this step's U[0,1) numbers (Poisson input)
	step       *core.Kernel
}

// PoissonCDF returns the cumulative probabilities F(0), F(1), ... of
// the number of background spikes one neuron of population i receives in
// one step: Poisson with mean K_ext * bg_rate * dt (1.2 to 2.3). The list
// stops where 1 - F(k) falls below 2^-25, so inverting a uniform number
// of 24 bits (count = the number of k with u > F(k)) samples the
// distribution exactly up to the float32 rounding of F (below 2^-25).
func PoissonCDF(i int) []float64 {
	lambda := float64(KExt[i]) * BgRate * Dt * 1e-3
	p := math.Exp(-lambda)
	f := p
	cdf := []float64{f}
	for k := 1; 1-f >= 1.0/(1<<25); k++ {
		p *= lambda / float64(k)
		f += p
		cdf = append(cdf, f)
	}
	return cdf
}

func (p *Neuron) Initialize(o core.Object) error {
	if p.Pop < 0 || p.Pop >= 8 {
		return fmt.Errorf("pd14.Neuron: population index %d is outside [0, 8)", p.Pop)
	}
	v, err := o.Vector(fmt.Sprintf("normal(%g, %g)", V0Mean[p.Pop], V0SD[p.Pop]))
	if err != nil {
		return err
	}
	if err := o.SetVar("v", v); err != nil {
		return err
	}
	if err := zeros(o); err != nil {
		return err
	}
	var cdf []float64
	if p.PoissonExt > 0 {
		cdf = PoissonCDF(p.Pop)
	}
	src, consts, err := program(o, len(cdf), p.PoissonExt)
	if err != nil {
		return err
	}
	consts["P20_Ie"] = p20(p.DC)
	for k, f := range cdf {
		consts[fmt.Sprintf("F%d", k)] = float32(f)
	}
	var extra map[string]backend.Tensor
	if p.PoissonExt > 0 {
		if p.u, err = o.Vector("zeros"); err != nil {
			return err
		}
		extra = map[string]backend.Tensor{"_u": p.u}
	}
	p.step, err = core.NewKernelWith(o, src, consts, extra)
	return err
}

// p20 is P20 I_e of Neuron's update for the DC current dc (pA).
func p20(dc float64) float32 {
	return float32(TauM / Cm * (1 - math.Exp(-Dt/TauM)) * dc)
}

// program adds the refractory counter to o and returns the PD14
// neuron's kernel and its constants but P20_Ie (P20 times the DC input)
// and, with nF > 0 background terms, the thresholds F0..F{nF-1} of
// the uniform numbers _u (PoissonCDF), each background spike adding
// wExt to I: the caller gives those as constants (one population) or
// tensors (Neurons).
func program(o core.Object, nF int, wExt float64) (string, core.Consts, error) {
	r := models.Refractory{Steps: models.RefractorySteps(TRef, Dt) + 1}
	if _, err := r.AddVar(o); err != nil {
		return "", nil, err
	}
	integrate := `
v = E_L + (v - E_L)*P22 + P21*I + P20_Ie
I = I*P11`
	p22 := math.Exp(-Dt / TauM)
	p11 := math.Exp(-Dt / TauSyn)
	p21 := TauM * TauSyn / (Cm * (TauM - TauSyn)) * (p22 - p11)
	consts := core.Consts{
		"E_L": EL, "V_th": VTh, "V_reset": VReset,
		"P22": float32(p22), "P11": float32(p11), "P21": float32(p21),
	}
	if nF > 0 {
		// Background spikes arrive with the other input, after the
		// voltage update: count = #{k : u > F(k)}.
		terms := make([]string, nF)
		for k := range terms {
			terms[k] = fmt.Sprintf("(_u > F%d)", k)
		}
		integrate += "\nI += W_ext*(" + strings.Join(terms, " + ") + ")"
		consts["W_ext"] = float32(wExt)
	}
	src, err := r.Wrap(integrate, "v >= V_th", "v = V_reset")
	if err != nil {
		return "", nil, err
	}
	return src + "count += fired ? 1 : 0\n", consts, nil
}

func (p *Neuron) Iteration(o core.Object) error {
	iterate(o, p.u, p.step)
	return nil
}

// target returns the neuron group o that an input behaviour (who)
// belongs on and its synaptic current I, which the neuron behaviour
// (neuron) at a lower key made.
func target(o core.Object, who, neuron string) (*core.NeuronGroup, backend.Tensor, error) {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return nil, nil, fmt.Errorf("%s belongs on a neuron group, not %T", who, o)
	}
	i := g.Var("I")
	if i == nil {
		return nil, nil, fmt.Errorf("%s on %q: the group has no I; give it a %s at a lower key", who, g.Name(), neuron)
	}
	return g, i, nil
}

// iterate draws this step's uniform numbers u (Poisson input; nil
// without) and runs the neuron kernel.
func iterate(o core.Object, u backend.Tensor, step *core.Kernel) {
	if u != nil {
		o.Net().Rand(u, rng.UniformDist(0, 1))
	}
	step.Run()
}

// zeros gives o the variables I, fired and count, all zero.
func zeros(o core.Object) error {
	for _, name := range []string{"I", "fired", "count"} {
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

// Projection is one of the 64 projections: a synapse group with N
// synapses (fixed total number, multapses and autapses allowed as NEST's
// "fixed_total_number" rule), weights normal(W, |W| 0.1) in pA redrawn
// until they keep the sign of W, and delays normal(D, D 0.5) in ms
// redrawn until >= dt, rounded to whole steps.
type Projection struct {
	Group *core.SynapseGroup
	N     int
	W, D  float64
}

// Input adds the delayed synaptic currents of the group's afferent
// projections to I (key 2, after every Neuron kernel). Its
// Initialize draws each projection's connectivity, weights and delays (see
// Connect; several projections at once, one per core, with the same
// result on any number of cores), stores them as the sparse W and
// per-synapse delays of the synapse group, and makes the projections share
// one input ring (core.ShareDelayRing).
type Input struct {
	core.Base
	Proj []Projection
	i    backend.Tensor
}

func (s *Input) Initialize(o core.Object) error {
	g, i, err := target(o, "pd14.Input", "pd14.Neuron")
	if err != nil {
		return err
	}
	s.i = i
	for _, p := range s.Proj {
		if p.Group.Dst != g {
			return fmt.Errorf("pd14.Input on %q: projection %q ends on %q", g.Name(), p.Group.Name(), p.Group.Dst.Name())
		}
	}
	// The projections are drawn in parallel (one per core at a time; the
	// keys are taken in order first, so the result does not depend on the
	// number of cores) and stored on the backend in order from this
	// goroutine, each as soon as it is drawn.
	net := g.Net()
	keys := make([]rng.Key, len(s.Proj))
	for i := range keys {
		keys[i] = net.NextKey()
	}
	// A slot of sem is held from the start of a draw until its result
	// is stored, which bounds the host memory to GOMAXPROCS projections.
	drawn := make([]chan core.HostSparse, len(s.Proj))
	for i := range drawn {
		drawn[i] = make(chan core.HostSparse, 1)
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	done := make(chan struct{})
	defer close(done)
	go func() {
		for i, p := range s.Proj {
			select {
			case sem <- struct{}{}:
			case <-done:
				return
			}
			go func() { drawn[i] <- p.draw(keys[i], net.Layout()) }()
		}
	}()
	var groups []*core.SynapseGroup
	for i, p := range s.Proj {
		err := store(p.Group, <-drawn[i])
		<-sem
		if err != nil {
			return err
		}
		groups = append(groups, p.Group)
	}
	// One input ring per population, as NEST keeps one ring buffer per
	// neuron: all delays are at least one step.
	return core.ShareDelayRing(groups...)
}

func (s *Input) Iteration(o core.Object) error {
	for _, p := range s.Proj {
		p.Group.PropagateDelayed(s.i, p.Group.Var("W"), p.Group.Src.Var("fired"), 1)
	}
	return nil
}

// Connect draws projection p on the host from the network's seed (one
// key; counter-based draws, the same on every backend): synapse k joins
// source floor(u0 Nsrc) to target floor(u1 Ndst) with its weight and
// delay. The backend's sparse matrices hold one entry per pair, so a
// multapse (several synapses on one pair, frequent when the network is
// scaled down with full in-degrees) becomes one entry with the sum of the
// weights and the delay of its first synapse: the total input is kept,
// the spread of its arrival times is not.
func Connect(p Projection) error {
	net := p.Group.Net()
	return store(p.Group, p.draw(net.NextKey(), net.Layout()))
}

// draw draws the projection from key (see Connect) with the rule
// core.Total: in parallel, the same on any number of cores, touching no
// backend, so several projections may be drawn at once.
func (p Projection) draw(key rng.Key, layout core.Layout) core.HostSparse {
	return spec{p.Group.Src.Size, p.Group.Dst.Size, p.N, p.W, p.D}.total(key).Draw(layout)
}

// spec is what draw needs of a projection: the population sizes,
// the synapse number, the mean weight and the mean delay.
type spec struct {
	nSrc, nDst, N int
	W, D          float64
}

// total is the projection's core.Total rule from key: synapse k's
// structure takes counter k of key (stream 0), its weight and delay
// streams 1 and 2, a new counter for each redraw.
func (p spec) total(key rng.Key) core.Total {
	draw := func(stream uint64, k, try int) [4]uint32 {
		return rng.Words(key, stream<<60|uint64(try)<<42|uint64(k))
	}
	weight := func(k int) float32 {
		for t := range maxRedraw {
			w := p.W * (1 + WeightSD*float64(rng.StdNormal(draw(1, k, t))))
			if w*p.W > 0 {
				return float32(w)
			}
		}
		return float32(p.W)
	}
	delay := func(k int) int32 {
		for t := range maxRedraw {
			d := p.D * (1 + DelaySD*float64(rng.StdNormal(draw(2, k, t))))
			if d >= Dt {
				return int32(max(1, math.Round(d/Dt)))
			}
		}
		return int32(max(1, math.Round(p.D/Dt)))
	}
	return core.Total{Src: p.nSrc, Dst: p.nDst, N: p.N, Key: key, Value: weight, Delay: delay}
}

// store makes d the synapse group sg's sparse W and per-synapse delays.
func store(sg *core.SynapseGroup, d core.HostSparse) error {
	w, err := d.Store(sg.Net().Backend())
	if err != nil {
		return fmt.Errorf("pd14: synapse group %q: %w", sg.Name(), err)
	}
	if err := sg.SetVar("W", w); err != nil {
		return err
	}
	return sg.SetDelaySteps32(w, d.Steps)
}

// Options configure Build.
type Options struct {
	// Scale multiplies the population sizes and synapse numbers (1 if
	// 0): the model's N_scaling.
	Scale float64
	// KScale multiplies the in-degrees (1 if 0: full in-degrees): the
	// model's K_scaling. Below 1 the synapse numbers are scaled by Scale
	// * KScale, the weights (PSCs) are divided by sqrt(KScale) and each
	// population's DC input is raised by 0.001 tau_syn (1 - sqrt(KScale))
	// sum_j PSC[t][j] K[t][j] rate_full[j], which keeps the mean input of
	// the full network (helpers.py adjust_weights_and_input_to_synapse_
	// scaling; PyNEST/examples/run_microcircuit.py scales N and K alike).
	KScale float64
	// Poisson replaces the DC background by Poisson input (the model
	// description's bg_input_type "poisson"): every neuron receives the
	// spikes of K_ext independent 8 Hz sources, drawn per neuron and step
	// (PoissonCDF), each adding the external PSC (87.8 pA, the 0.15 mV
	// PSP) to I. The DC that compensates scaled in-degrees stays.
	Poisson bool
	// Separate builds a neuron group per population (Neuron,
	// Input) and a synapse group per projection, as a PymoNNto user
	// would write the model. By default (the merged form) the same network
	// (the same keys, so the same initial potentials and synapses) is one
	// neuron group "PD14" of all neurons (Neurons, the populations in
	// consecutive ranges: Circuit.Offsets) and one synapse group
	// "PD14->PD14" of all synapses (AllInput): a step is then about
	// five kernels instead of about eighty, which a GPU needs, and the
	// cpu backend runs it about a third faster (bench/RESULTS.md).
	Separate bool
}

// DCScaled is DC raised to compensate in-degrees scaled by k (see
// Options.KScale); k = 1 gives DC.
func DCScaled(i int, k float64) float64 {
	psc := PSPExc * PSCOverPSP(Cm, TauM, TauSyn)
	in := 0.0
	for j := range 8 {
		w := psc
		if j%2 == 1 {
			w *= G
		}
		if i == 0 && j == 2 {
			w *= 2
		}
		in += w * FullSynapses(i, j) / float64(FullSizes[i]) * FullRates[j]
	}
	return DC(i) + 0.001*TauSyn*(1-math.Sqrt(k))*in
}

// FreePotential is the potential (mV) population i settles at under
// the DC background alone (no spikes in or out): E_L + DC tau_m/C_m, with
// the DC of in-degrees scaled by k (DCScaled). Below V_th the
// population stays silent unless spikes drive it: the compensation of the
// reference (helpers.py adjust_weights_and_input_to_synapse_scaling) adds
// (1 - sqrt(k)) of the full network's mean recurrent input, which is
// inhibitory, so smaller k lowers the DC, and at k = 0.1 every population
// but L6I settles below threshold: the DC-driven circuit is silent there in
// NEST as here (the same formula, no noise to start the activity).
func FreePotential(i int, k float64) float64 {
	return EL + DCScaled(i, k)*TauM/Cm
}

// Circuit is the built microcircuit.
type Circuit struct {
	// Groups are the populations in Populations order (nil in the
	// merged form).
	Groups [8]*core.NeuronGroup
	// Projections are the non-empty projections [tgt][src] (nil if the
	// connection probability is 0 or the scaled count rounds to 0, and in
	// the merged form).
	Projections [8][8]*core.SynapseGroup
	// All and AllSynapses are the merged form's groups (nil otherwise);
	// Offsets[i] is the first neuron of population i there, Offsets[8]
	// the number of neurons.
	All         *core.NeuronGroup
	AllSynapses *core.SynapseGroup
	Offsets     [9]int
}

// Population returns the group that holds population i and the range
// [lo, lo+n) of its neurons there: its own group in [0, its size), or
// its range of the merged group.
func (m *Circuit) Population(i int) (g *core.NeuronGroup, lo, n int) {
	if m.All != nil {
		return m.All, m.Offsets[i], m.Offsets[i+1] - m.Offsets[i]
	}
	return m.Groups[i], 0, m.Groups[i].Size
}

// Build builds M9: eight groups (tagged with the population names) of
// Neuron (key 1) and Input (key 2), and one sparse synapse group
// per non-empty projection, tagged "src->tgt" and "EXC" or "INH", with
// the synapse numbers of Synapses, PSCs from the 0.15 mV PSP (g = -4
// for inhibitory sources; L4E->L23E doubled, network_params.py
// PSP_matrix_mean[0, 2]), delays normal(1.5 ms) for excitatory and
// normal(0.75 ms) for inhibitory sources (relative sd 0.5) and the DC
// or (Options.Poisson) Poisson background input (see Options for
// the scaling rules). One step is 0.1 ms.
func Build(net *core.Network, o Options) (*Circuit, error) {
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.KScale == 0 {
		o.KScale = 1
	}
	if !(o.Scale > 0 && o.Scale <= 1) {
		return nil, fmt.Errorf("pd14.Build: scale %v is outside (0, 1]", o.Scale)
	}
	if !(o.KScale > 0 && o.KScale <= 1) {
		return nil, fmt.Errorf("pd14.Build: in-degree scale %v is outside (0, 1]", o.KScale)
	}
	sizes := Sizes(o.Scale)
	counts := Synapses(o.Scale * o.KScale)
	psc := PSPExc * PSCOverPSP(Cm, TauM, TauSyn) / math.Sqrt(o.KScale)
	m := &Circuit{Offsets: Offsets(sizes)}
	if !o.Separate {
		return m, buildMerged(net, m, o, sizes, counts, psc)
	}
	inputs := [8]*Input{}
	for i, name := range Populations {
		inputs[i] = &Input{}
		g, err := net.NewNeuronGroup(name, core.Size(sizes[i]), core.Behaviors{
			1: neuronOf(i, o),
			2: inputs[i],
		})
		if err != nil {
			return nil, err
		}
		m.Groups[i] = g
	}
	for t := range 8 {
		for j := range 8 {
			if counts[t][j] == 0 {
				continue
			}
			w, d, tag := mean(t, j, psc)
			sg, err := net.NewSynapseGroup(Populations[j]+"->"+Populations[t]+","+tag, m.Groups[j], m.Groups[t], nil)
			if err != nil {
				return nil, err
			}
			m.Projections[t][j] = sg
			inputs[t].Proj = append(inputs[t].Proj, Projection{Group: sg, N: counts[t][j], W: w, D: d})
		}
	}
	return m, nil
}

// mean returns the mean weight (pA) and delay (ms) of projection
// [t][j] for the excitatory PSC psc, and its tag: g = -4 for inhibitory
// sources, L4E->L23E doubled.
func mean(t, j int, psc float64) (w, d float64, tag string) {
	w, d, tag = psc, DelayExc, "EXC"
	if j%2 == 1 {
		w, d, tag = psc*G, DelayInh, "INH"
	}
	if t == 0 && j == 2 {
		w *= 2
	}
	return w, d, tag
}

// buildMerged builds the merged form of Build into m.
func buildMerged(net *core.Network, m *Circuit, o Options, sizes [8]int, counts [8][8]int, psc float64) error {
	neurons := &Neurons{Sizes: sizes}
	for i := range 8 {
		nr := neuronOf(i, o)
		neurons.DC[i], neurons.PoissonExt = nr.DC, nr.PoissonExt
	}
	syn := &AllInput{Sizes: sizes, Counts: counts}
	for t := range 8 {
		for j := range 8 {
			syn.W[t][j], syn.D[t][j], _ = mean(t, j, psc)
		}
	}
	g, err := net.NewNeuronGroup("PD14", core.Size(m.Offsets[8]), core.Behaviors{1: neurons, 2: syn})
	if err != nil {
		return err
	}
	sg, err := net.NewSynapseGroup("PD14->PD14", g, g, nil)
	if err != nil {
		return err
	}
	syn.Synapses = sg
	m.All, m.AllSynapses = g, sg
	return nil
}

// neuronOf returns the neuron behaviour of population i.
func neuronOf(i int, o Options) *Neuron {
	if !o.Poisson {
		return &Neuron{Pop: i, DC: DCScaled(i, o.KScale)}
	}
	ext := PSPExc * PSCOverPSP(Cm, TauM, TauSyn)
	return &Neuron{Pop: i, DC: DCScaled(i, o.KScale) - DC(i), PoissonExt: ext}
}
