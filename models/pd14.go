package models

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// The cortical microcircuit of Potjans & Diesmann (2014), M9. Every
// number below is taken from the public model description and its PyNEST
// implementation, INM-6/microcircuit-PD14-model (commit fd40046ec53c,
// PyNEST/src/microcircuit/network_params.py "net_dict", sim_params.py and
// helpers.py; docs/model_description.md).

// PD14Populations are the eight populations, in the model's order.
var PD14Populations = [8]string{"L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"}

// PD14FullSizes are the population sizes at scale 1 (network_params.py
// "full_num_neurons"; 77,169 neurons in all).
var PD14FullSizes = [8]int{20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948}

// PD14FullRates are the mean firing rates (Hz) of the full-scale network
// (network_params.py "full_mean_rates").
var PD14FullRates = [8]float64{0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829}

// PD14ConnProbs[target][source] is the connection probability of each
// projection (network_params.py "conn_probs": rows are targets, columns
// sources).
var PD14ConnProbs = [8][8]float64{
	{0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0},
	{0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0},
	{0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0},
	{0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0},
	{0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0},
	{0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0},
	{0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252},
	{0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443},
}

// PD14KExt are the external (background) in-degrees (network_params.py
// "K_ext"), each input at bg_rate = 8 Hz.
var PD14KExt = [8]int{1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100}

// PD14V0Mean and PD14V0SD are the "optimized" initial membrane potential
// distributions (mV) of the newer model version (network_params.py
// "V0_mean"/"V0_std", V0_type "optimized").
var (
	PD14V0Mean = [8]float64{-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43}
	PD14V0SD   = [8]float64{5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48}
)

// Neuron, synapse and input constants of the model (network_params.py and
// sim_params.py).
const (
	PD14EL        = -65.0 // resting potential (mV)
	PD14VTh       = -50.0 // threshold (mV)
	PD14VReset    = -65.0 // reset (mV)
	PD14Cm        = 250.0 // membrane capacitance (pF)
	PD14TauM      = 10.0  // membrane time constant (ms)
	PD14TauSyn    = 0.5   // synaptic current time constant (ms)
	PD14TRef      = 2.0   // refractory period (ms)
	PD14Dt        = 0.1   // time step, sim_resolution (ms)
	PD14PSPExc    = 0.15  // excitatory PSP amplitude (mV)
	PD14G         = -4.0  // relative inhibitory weight
	PD14WeightSD  = 0.1   // relative weight sd
	PD14DelayExc  = 1.5   // mean excitatory delay (ms)
	PD14DelayInh  = 0.75  // mean inhibitory delay (ms)
	PD14DelaySD   = 0.5   // relative delay sd
	PD14BgRate    = 8.0   // background rate per external input (Hz)
	PD14WarmUpMs  = 500.0 // sim_params.py t_presim (ms)
	pd14MaxRedraw = 1000
)

// PD14PSCOverPSP converts a PSP amplitude (mV) to the amplitude of the
// exponential PSC (pA) that produces it: the peak of the membrane response
// to J exp(-t/tau_syn), as helpers.py postsynaptic_potential_to_current
// (C_m pF, tau_m and tau_syn ms). With the PD14 constants it is about
// 585.4 pA/mV, so the 0.15 mV PSP is a PSC of about 87.8 pA.
func PD14PSCOverPSP(cm, tauM, tauSyn float64) float64 {
	sub := 1 / (tauSyn - tauM)
	pre := tauM * tauSyn / cm * sub
	frac := math.Pow(tauM/tauSyn, sub)
	return 1 / (pre * (math.Pow(frac, tauM) - math.Pow(frac, tauSyn)))
}

// PD14FullSynapses is the total number of synapses of the projection from
// population src to tgt at scale 1 (the "fixed total number" formulation
// of the model description: K = log(1-p) / log(1 - 1/(N_pre N_post)),
// helpers.py num_synapses_from_conn_probs), not rounded.
func PD14FullSynapses(tgt, src int) float64 {
	prod := float64(PD14FullSizes[src]) * float64(PD14FullSizes[tgt])
	return math.Log(1-PD14ConnProbs[tgt][src]) / math.Log((prod-1)/prod)
}

// PD14Sizes are the population sizes at scale s: round(N_full * s), at
// least 1 (network.py: num_neurons).
func PD14Sizes(s float64) [8]int {
	var n [8]int
	for i, f := range PD14FullSizes {
		n[i] = max(1, int(math.Round(float64(f)*s)))
	}
	return n
}

// PD14Synapses is the number of synapses of each projection [tgt][src] at
// scale s = N_scaling * K_scaling: round(K_full * s) (network.py:
// num_synapses). With K_scaling = 1 the total scales with N, so the mean
// in-degrees stay those of the full model and no DC compensation is needed
// (the description adds one only when in-degrees are scaled).
func PD14Synapses(s float64) [8][8]int {
	var k [8][8]int
	for t := range 8 {
		for j := range 8 {
			k[t][j] = int(math.Round(PD14FullSynapses(t, j) * s))
		}
	}
	return k
}

// PD14DC is the background DC current (pA) of population i that replaces
// its K_ext Poisson inputs at 8 Hz: bg_rate * K_ext * PSC_ext * tau_syn *
// 0.001 (helpers.py dc_input_compensating_poisson, bg_input_type "dc").
func PD14DC(i int) float64 {
	pscExt := PD14PSPExc * PD14PSCOverPSP(PD14Cm, PD14TauM, PD14TauSyn)
	return PD14BgRate * float64(PD14KExt[i]) * pscExt * PD14TauSyn * 0.001
}

// PD14Neuron is NEST's iaf_psc_exp, the PD14 neuron: a current-based LIF
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
// RefractorySteps(t_ref, dt) + 1. Spike input (PD14Input) adds to I after
// this update, as NEST adds its ring buffer after the voltage update.
// Fields: Pop (index into the PD14 tables, for V0 and the DC input) and
// DC (the background current I_e, pA). Variables: v, I, refrac, fired and
// count (spikes per neuron since the last reset of count: for rates).
type PD14Neuron struct {
	core.Base
	Pop int
	DC  float64
	// PoissonExt, if positive, adds Poisson background input: K_ext
	// inputs of population Pop at bg_rate, each spike adding the PSC
	// PoissonExt (pA) to I (see PD14PoissonCDF).
	PoissonExt float64
	u          backend.Tensor // this step's U[0,1) numbers (Poisson input)
	step       *core.Kernel
}

// PD14PoissonCDF returns the cumulative probabilities F(0), F(1), ... of
// the number of background spikes one neuron of population i receives in
// one step: Poisson with mean K_ext * bg_rate * dt (1.2 to 2.3). The list
// stops where 1 - F(k) falls below 2^-25, so inverting a uniform number
// of 24 bits (count = the number of k with u > F(k)) samples the
// distribution exactly up to the float32 rounding of F (below 2^-25).
func PD14PoissonCDF(i int) []float64 {
	lambda := float64(PD14KExt[i]) * PD14BgRate * PD14Dt * 1e-3
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

func (p *PD14Neuron) Initialize(o core.Object) error {
	if p.Pop < 0 || p.Pop >= 8 {
		return fmt.Errorf("PD14Neuron: population index %d is outside [0, 8)", p.Pop)
	}
	v, err := o.Vector(fmt.Sprintf("normal(%g, %g)", PD14V0Mean[p.Pop], PD14V0SD[p.Pop]))
	if err != nil {
		return err
	}
	if err := o.SetVar("v", v); err != nil {
		return err
	}
	if err := pd14Zeros(o); err != nil {
		return err
	}
	var cdf []float64
	if p.PoissonExt > 0 {
		cdf = PD14PoissonCDF(p.Pop)
	}
	src, consts, err := pd14Program(o, len(cdf), p.PoissonExt)
	if err != nil {
		return err
	}
	consts["P20_Ie"] = pd14P20(p.DC)
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

// pd14P20 is P20 I_e of PD14Neuron's update for the DC current dc (pA).
func pd14P20(dc float64) float32 {
	return float32(PD14TauM / PD14Cm * (1 - math.Exp(-PD14Dt/PD14TauM)) * dc)
}

// pd14Program adds the refractory counter to o and returns the PD14
// neuron's kernel and its constants but P20_Ie (P20 times the DC input)
// and, with nF > 0 background terms, the thresholds F0..F{nF-1} of
// the uniform numbers _u (PD14PoissonCDF), each background spike adding
// wExt to I: the caller gives those as constants (one population) or
// tensors (PD14Neurons).
func pd14Program(o core.Object, nF int, wExt float64) (string, core.Consts, error) {
	r := Refractory{Steps: RefractorySteps(PD14TRef, PD14Dt) + 1}
	if _, err := r.AddVar(o); err != nil {
		return "", nil, err
	}
	integrate := `
v = E_L + (v - E_L)*P22 + P21*I + P20_Ie
I = I*P11`
	p22 := math.Exp(-PD14Dt / PD14TauM)
	p11 := math.Exp(-PD14Dt / PD14TauSyn)
	p21 := PD14TauM * PD14TauSyn / (PD14Cm * (PD14TauM - PD14TauSyn)) * (p22 - p11)
	consts := core.Consts{
		"E_L": PD14EL, "V_th": PD14VTh, "V_reset": PD14VReset,
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

func (p *PD14Neuron) Iteration(o core.Object) error {
	pd14Iterate(o, p.u, p.step)
	return nil
}

// pd14Target returns the neuron group o that an input behaviour (who)
// belongs on and its synaptic current I, which the neuron behaviour
// (neuron) at a lower key made.
func pd14Target(o core.Object, who, neuron string) (*core.NeuronGroup, backend.Tensor, error) {
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

// pd14Iterate draws this step's uniform numbers u (Poisson input; nil
// without) and runs the neuron kernel.
func pd14Iterate(o core.Object, u backend.Tensor, step *core.Kernel) {
	if u != nil {
		o.Net().Rand(u, backend.UniformDist(0, 1))
	}
	step.Run()
}

// pd14Zeros gives o the variables I, fired and count, all zero.
func pd14Zeros(o core.Object) error {
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

// PD14Projection is one of the 64 projections: a synapse group with N
// synapses (fixed total number, multapses and autapses allowed as NEST's
// "fixed_total_number" rule), weights normal(W, |W| 0.1) in pA redrawn
// until they keep the sign of W, and delays normal(D, D 0.5) in ms
// redrawn until >= dt, rounded to whole steps.
type PD14Projection struct {
	Group *core.SynapseGroup
	N     int
	W, D  float64
}

// PD14Input adds the delayed synaptic currents of the group's afferent
// projections to I (key 2, after every PD14Neuron kernel). Its
// Initialize draws each projection's connectivity, weights and delays (see
// PD14Connect; several projections at once, one per core, with the same
// result on any number of cores), stores them as the sparse W and
// per-synapse delays of the synapse group, and makes the projections share
// one input ring (core.ShareDelayRing).
type PD14Input struct {
	core.Base
	Proj []PD14Projection
	i    backend.Tensor
}

func (s *PD14Input) Initialize(o core.Object) error {
	g, i, err := pd14Target(o, "PD14Input", "PD14Neuron")
	if err != nil {
		return err
	}
	s.i = i
	for _, p := range s.Proj {
		if p.Group.Dst != g {
			return fmt.Errorf("PD14Input on %q: projection %q ends on %q", g.Name(), p.Group.Name(), p.Group.Dst.Name())
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
	drawn := make([]chan pd14Drawn, len(s.Proj))
	for i := range drawn {
		drawn[i] = make(chan pd14Drawn, 1)
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
		err := p.store(<-drawn[i])
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

func (s *PD14Input) Iteration(o core.Object) error {
	for _, p := range s.Proj {
		p.Group.PropagateDelayed(s.i, p.Group.Var("W"), p.Group.Src.Var("fired"), 1)
	}
	return nil
}

// PD14Connect draws projection p on the host from the network's seed (one
// key; counter-based draws, the same on every backend): synapse k joins
// source floor(u0 Nsrc) to target floor(u1 Ndst) with its weight and
// delay. The backend's sparse matrices hold one entry per pair, so a
// multapse (several synapses on one pair, frequent when the network is
// scaled down with full in-degrees) becomes one entry with the sum of the
// weights and the delay of its first synapse: the total input is kept,
// the spread of its arrival times is not.
func PD14Connect(p PD14Projection) error {
	net := p.Group.Net()
	return p.store(p.draw(net.NextKey(), net.Layout()))
}

// pd14Drawn is a projection's connectivity, drawn on the host: a
// compressed sparse matrix (rows x cols in the network's layout) and a
// delay in steps per stored entry.
type pd14Drawn struct {
	rows, cols int
	start      []int64
	idx        []int32
	vals       []float32
	steps      []int32
}

// draw draws the projection from key (see PD14Connect). It touches no
// backend, so several projections may be drawn at once. Its loops run in
// parallel over chunks of synapses and of rows (parallelFor); every
// result is the same as one loop's in order, whatever the number of
// cores: synapse k draws from its own counter, and each row keeps its
// synapses in order of k.
func (p PD14Projection) draw(key rng.Key, layout core.Layout) pd14Drawn {
	return pd14Spec{p.Group.Src.Size, p.Group.Dst.Size, p.N, p.W, p.D}.draw(key, layout)
}

// pd14Spec is what draw needs of a projection: the population sizes,
// the synapse number, the mean weight and the mean delay.
type pd14Spec struct {
	nSrc, nDst, N int
	W, D          float64
}

func (p pd14Spec) draw(key rng.Key, layout core.Layout) pd14Drawn {
	nSrc, nDst := p.nSrc, p.nDst
	draw := func(stream, k uint64, try int) [4]uint32 {
		return rng.Words(key, stream<<60|uint64(try)<<42|k)
	}
	// Counting sort by source, keeping (target, synapse) pairs: each chunk
	// of synapses counts its sources, and the chunks' counts are laid out
	// in chunk order within every source's range.
	src, dst := make([]int32, p.N), make([]int32, p.N)
	chunks := pd14Chunks(p.N)
	counts := make([][]int64, len(chunks)-1)
	parallelFor(len(counts), func(c int) {
		cnt := make([]int64, nSrc)
		for k := chunks[c]; k < chunks[c+1]; k++ {
			w := draw(0, uint64(k), 0)
			src[k] = int32((uint64(w[0]) * uint64(nSrc)) >> 32)
			dst[k] = int32((uint64(w[1]) * uint64(nDst)) >> 32)
			cnt[src[k]]++
		}
		counts[c] = cnt
	})
	start := make([]int64, nSrc+1)
	for i := range nSrc {
		at := start[i]
		for _, cnt := range counts {
			at, cnt[i] = at+cnt[i], at // cnt[i] becomes the chunk's first slot in row i
		}
		start[i+1] = at
	}
	pairs := make([]uint64, p.N)
	parallelFor(len(counts), func(c int) {
		next := counts[c]
		for k := chunks[c]; k < chunks[c+1]; k++ {
			pairs[next[src[k]]] = uint64(dst[k])<<32 | uint64(k)
			next[src[k]]++
		}
	})
	src, dst, counts = nil, nil, nil
	weight := func(k uint64) float32 {
		for t := range pd14MaxRedraw {
			w := p.W * (1 + PD14WeightSD*float64(rng.StdNormal(draw(1, k, t))))
			if w*p.W > 0 {
				return float32(w)
			}
		}
		return float32(p.W)
	}
	delay := func(k uint64) int32 {
		for t := range pd14MaxRedraw {
			d := p.D * (1 + PD14DelaySD*float64(rng.StdNormal(draw(2, k, t))))
			if d >= PD14Dt {
				return int32(max(1, math.Round(d/PD14Dt)))
			}
		}
		return int32(max(1, math.Round(p.D/PD14Dt)))
	}
	// Rows in chunks: sort each row by target and count its distinct
	// targets (a multapse is one entry), then fill the entries.
	rowChunks := pd14RowChunks(start)
	cstart := make([]int64, nSrc+1)
	parallelFor(len(rowChunks)-1, func(c int) {
		for i := rowChunks[c]; i < rowChunks[c+1]; i++ {
			row := pairs[start[i]:start[i+1]]
			slices.Sort(row)
			n := 0
			for e, x := range row {
				if e == 0 || int32(row[e-1]>>32) != int32(x>>32) {
					n++
				}
			}
			cstart[i+1] = int64(n)
		}
	})
	for i := range nSrc {
		cstart[i+1] += cstart[i]
	}
	nnz := cstart[nSrc]
	idx, vals, steps := make([]int32, nnz), make([]float32, nnz), make([]int32, nnz)
	parallelFor(len(rowChunks)-1, func(c int) {
		for i := rowChunks[c]; i < rowChunks[c+1]; i++ {
			row := pairs[start[i]:start[i+1]]
			at := cstart[i] - 1
			for e, x := range row {
				dst, k := int32(x>>32), x&0xffffffff
				if e > 0 && int32(row[e-1]>>32) == dst {
					vals[at] += weight(k)
					continue
				}
				at++
				idx[at], vals[at], steps[at] = dst, weight(k), delay(k)
			}
		}
	})
	pairs = nil
	d := pd14Drawn{rows: nSrc, cols: nDst, start: cstart, idx: idx, vals: vals, steps: steps}
	if layout == core.DxS {
		var perm []int32
		d.start, d.idx, perm = backend.Transpose(nSrc, nDst, cstart, idx)
		d.vals, d.steps = make([]float32, len(perm)), make([]int32, len(perm))
		for k, e := range perm {
			d.vals[k], d.steps[k] = vals[e], steps[e]
		}
		d.rows, d.cols = nDst, nSrc
	}
	return d
}

// pd14Chunks splits [0, n) into chunks of at least 1<<16 synapses, at most
// 4 per core: the boundaries.
func pd14Chunks(n int) []int {
	parts := max(1, min(4*runtime.GOMAXPROCS(0), n>>16))
	b := make([]int, parts+1)
	for c := range b {
		b[c] = int(int64(n) * int64(c) / int64(parts))
	}
	return b
}

// pd14RowChunks splits the rows of a compressed matrix into chunks of
// about equal numbers of entries (pd14Chunks over the entries, cut at row
// boundaries): the row boundaries.
func pd14RowChunks(start []int64) []int {
	rows := len(start) - 1
	by := pd14Chunks(int(start[rows] - start[0]))
	b := []int{0}
	for _, e := range by[1 : len(by)-1] {
		i, _ := slices.BinarySearch(start, start[0]+int64(e))
		if i > b[len(b)-1] && i < rows {
			b = append(b, i)
		}
	}
	return append(b, rows)
}

// parallelFor runs f(0), ..., f(n-1) on up to GOMAXPROCS goroutines and
// returns when all have returned.
func parallelFor(n int, f func(int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// sparse stores d's matrix on be, handing its slices over where be
// adopts them (backend.SparseAdopter: no copy at the peak of a build);
// d keeps only its delays.
func (d *pd14Drawn) sparse(be backend.Backend) (backend.SparseTensor, error) {
	var w backend.SparseTensor
	var err error
	switch sp := be.(type) {
	case backend.SparseAdopter:
		w, err = sp.AdoptSparse(d.rows, d.cols, d.start, d.idx, d.vals)
	case backend.Sparser:
		w, err = sp.NewSparse(d.rows, d.cols, d.start, d.idx, d.vals)
	default:
		return nil, fmt.Errorf("backend %s does not store sparse matrices; use -backend=cpu or -backend=gl", be.Name())
	}
	d.start, d.idx, d.vals = nil, nil, nil
	return w, err
}

// store makes d the synapse group's sparse W and per-synapse delays.
func (p PD14Projection) store(d pd14Drawn) error {
	sg := p.Group
	w, err := d.sparse(sg.Net().Backend())
	if err != nil {
		return fmt.Errorf("PD14: projection %q: %w", sg.Name(), err)
	}
	if err := sg.SetVar("W", w); err != nil {
		return err
	}
	return sg.SetDelaySteps32(w, d.steps)
}

// PD14Options configure PD14Net.
type PD14Options struct {
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
	// (PD14PoissonCDF), each adding the external PSC (87.8 pA, the 0.15 mV
	// PSP) to I. The DC that compensates scaled in-degrees stays.
	Poisson bool
	// Separate builds a neuron group per population (PD14Neuron,
	// PD14Input) and a synapse group per projection, as a PymoNNto user
	// would write the model. By default (the merged form) the same network
	// (the same keys, so the same initial potentials and synapses) is one
	// neuron group "PD14" of all neurons (PD14Neurons, the populations in
	// consecutive ranges: PD14.Offsets) and one synapse group
	// "PD14->PD14" of all synapses (PD14AllInput): a step is then about
	// five kernels instead of about eighty, which a GPU needs, and the
	// cpu backend runs it about a third faster (bench/RESULTS.md).
	Separate bool
}

// PD14DCScaled is PD14DC raised to compensate in-degrees scaled by k (see
// PD14Options.KScale); k = 1 gives PD14DC.
func PD14DCScaled(i int, k float64) float64 {
	psc := PD14PSPExc * PD14PSCOverPSP(PD14Cm, PD14TauM, PD14TauSyn)
	in := 0.0
	for j := range 8 {
		w := psc
		if j%2 == 1 {
			w *= PD14G
		}
		if i == 0 && j == 2 {
			w *= 2
		}
		in += w * PD14FullSynapses(i, j) / float64(PD14FullSizes[i]) * PD14FullRates[j]
	}
	return PD14DC(i) + 0.001*PD14TauSyn*(1-math.Sqrt(k))*in
}

// PD14FreePotential is the potential (mV) population i settles at under
// the DC background alone (no spikes in or out): E_L + DC tau_m/C_m, with
// the DC of in-degrees scaled by k (PD14DCScaled). Below V_th the
// population stays silent unless spikes drive it: the compensation of the
// reference (helpers.py adjust_weights_and_input_to_synapse_scaling) adds
// (1 - sqrt(k)) of the full network's mean recurrent input, which is
// inhibitory, so smaller k lowers the DC, and at k = 0.1 every population
// but L6I settles below threshold: the DC-driven circuit is silent there in
// NEST as here (the same formula, no noise to start the activity).
func PD14FreePotential(i int, k float64) float64 {
	return PD14EL + PD14DCScaled(i, k)*PD14TauM/PD14Cm
}

// PD14 is the built microcircuit.
type PD14 struct {
	// Groups are the populations in PD14Populations order (nil in the
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
func (m *PD14) Population(i int) (g *core.NeuronGroup, lo, n int) {
	if m.All != nil {
		return m.All, m.Offsets[i], m.Offsets[i+1] - m.Offsets[i]
	}
	return m.Groups[i], 0, m.Groups[i].Size
}

// PD14Net builds M9: eight groups (tagged with the population names) of
// PD14Neuron (key 1) and PD14Input (key 2), and one sparse synapse group
// per non-empty projection, tagged "src->tgt" and "EXC" or "INH", with
// the synapse numbers of PD14Synapses, PSCs from the 0.15 mV PSP (g = -4
// for inhibitory sources; L4E->L23E doubled, network_params.py
// PSP_matrix_mean[0, 2]), delays normal(1.5 ms) for excitatory and
// normal(0.75 ms) for inhibitory sources (relative sd 0.5) and the DC
// or (PD14Options.Poisson) Poisson background input (see PD14Options for
// the scaling rules). One step is 0.1 ms.
func PD14Net(net *core.Network, o PD14Options) (*PD14, error) {
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.KScale == 0 {
		o.KScale = 1
	}
	if !(o.Scale > 0 && o.Scale <= 1) {
		return nil, fmt.Errorf("PD14Net: scale %v is outside (0, 1]", o.Scale)
	}
	if !(o.KScale > 0 && o.KScale <= 1) {
		return nil, fmt.Errorf("PD14Net: in-degree scale %v is outside (0, 1]", o.KScale)
	}
	sizes := PD14Sizes(o.Scale)
	counts := PD14Synapses(o.Scale * o.KScale)
	psc := PD14PSPExc * PD14PSCOverPSP(PD14Cm, PD14TauM, PD14TauSyn) / math.Sqrt(o.KScale)
	m := &PD14{Offsets: PD14Offsets(sizes)}
	if !o.Separate {
		return m, pd14Merged(net, m, o, sizes, counts, psc)
	}
	inputs := [8]*PD14Input{}
	for i, name := range PD14Populations {
		inputs[i] = &PD14Input{}
		g, err := net.NewNeuronGroup(name, core.Size(sizes[i]), core.Behaviors{
			1: pd14NeuronOf(i, o),
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
			w, d, tag := pd14Mean(t, j, psc)
			sg, err := net.NewSynapseGroup(PD14Populations[j]+"->"+PD14Populations[t]+","+tag, m.Groups[j], m.Groups[t], nil)
			if err != nil {
				return nil, err
			}
			m.Projections[t][j] = sg
			inputs[t].Proj = append(inputs[t].Proj, PD14Projection{Group: sg, N: counts[t][j], W: w, D: d})
		}
	}
	return m, nil
}

// pd14Mean returns the mean weight (pA) and delay (ms) of projection
// [t][j] for the excitatory PSC psc, and its tag: g = -4 for inhibitory
// sources, L4E->L23E doubled.
func pd14Mean(t, j int, psc float64) (w, d float64, tag string) {
	w, d, tag = psc, PD14DelayExc, "EXC"
	if j%2 == 1 {
		w, d, tag = psc*PD14G, PD14DelayInh, "INH"
	}
	if t == 0 && j == 2 {
		w *= 2
	}
	return w, d, tag
}

// pd14Merged builds the merged form of PD14Net into m.
func pd14Merged(net *core.Network, m *PD14, o PD14Options, sizes [8]int, counts [8][8]int, psc float64) error {
	neurons := &PD14Neurons{Sizes: sizes}
	for i := range 8 {
		nr := pd14NeuronOf(i, o)
		neurons.DC[i], neurons.PoissonExt = nr.DC, nr.PoissonExt
	}
	syn := &PD14AllInput{Sizes: sizes, Counts: counts}
	for t := range 8 {
		for j := range 8 {
			syn.W[t][j], syn.D[t][j], _ = pd14Mean(t, j, psc)
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

// pd14NeuronOf returns the neuron behaviour of population i.
func pd14NeuronOf(i int, o PD14Options) *PD14Neuron {
	if !o.Poisson {
		return &PD14Neuron{Pop: i, DC: PD14DCScaled(i, o.KScale)}
	}
	ext := PD14PSPExc * PD14PSCOverPSP(PD14Cm, PD14TauM, PD14TauSyn)
	return &PD14Neuron{Pop: i, DC: PD14DCScaled(i, o.KScale) - PD14DC(i), PoissonExt: ext}
}
