package models

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// PymoNNto's behaviour library, as in trieschlab/PymoNNto 1fefe55:
// NetworkBehavior/Basics (Instant_Homeostasis, Time_Integration_Homeostasis,
// Synaptic_Normalization, refractory, CreateWeights) and the paper's rules
// in Examples_Paper/STDP_Hom_Norm (STDP, Homeostasis), with the parameter
// names and defaults of the Python code; and the inputs users know from
// Brian2 (TimedArray, SpikeGenerator, PoissonInput).
//
// Every per-step update runs on the device (fused kernels and backend
// operations; no allocation, no host copy). The arithmetic is float32, as
// PymoNNto's with its default def_dtype float32; models/pymonnto_lib_test.go
// checks each behaviour against our NumPy implementations of PymoNNto's
// behaviour (bench/peers/pymonnto_lib.py) on cpu and gl.
//
// Where a parameter is PymoNNto's None (no bound), leave it out or give
// "None". Booleans are "True"/"False" (or "true"/"false", "1"/"0").

// InstantHomeostasis is PymoNNto's Instant_Homeostasis on a neuron group:
// each step, for every neuron,
//
//	m   = clip(measurement_param, measurement_min, measurement_max)
//	add = ((m > max_th)*(-dec)*(m - max_th) + (m < min_th)*inc*(min_th - m)) * adj_strength
//	adjustment_param = clip(adjustment_param + add, target_clip_min, target_clip_max)
//
// where the factors (m - max_th) and (min_th - m) apply only when
// distance_sensitive is True (the default), and unset bounds are left out.
// threshold with gap_percent gives min_th = threshold*(1 - gap_percent/100)
// and max_th = threshold*(1 + gap_percent/100) (threshold alone: both equal
// it; threshold overrides min_th and max_th, as in PymoNNto).
//
// Parameters: measurement_param (required: an expression of the group's
// variables in the kernel language, e.g. "activity"; PymoNNto's "n."
// prefix is accepted and dropped), adjustment_param (required: the
// variable to adjust, e.g. "threshold", which must exist), min_th, max_th,
// threshold, gap_percent, distance_sensitive (True), inc (1), dec (1),
// adj_strength (1), measurement_min, measurement_max, target_clip_min,
// target_clip_max (all None). min_th and max_th are computed in float64
// from the parameters and rounded once, as PymoNNto's Python floats are
// rounded when they meet float32 arrays.
type InstantHomeostasis struct {
	core.Base
	h plibHomeostasis
}

func (b *InstantHomeostasis) Initialize(o core.Object) error {
	return b.h.init(&b.Base, o, "InstantHomeostasis", false)
}

func (b *InstantHomeostasis) Iteration(core.Object) error {
	b.h.step.Run()
	return nil
}

// Range is the target range [min_th, max_th] of the measurement.
func (b *InstantHomeostasis) Range() (lo, hi float32) { return b.h.lo, b.h.hi }

// TimeIntegrationHomeostasis is PymoNNto's Time_Integration_Homeostasis:
// InstantHomeostasis applied to a running average of the (clipped)
// measurement instead of the measurement itself,
//
//	avg = (avg*integration_length + m) / (integration_length + 1)
//
// with the parameters of InstantHomeostasis plus integration_length (1)
// and init_avg (the initial average: a number or a diversity string such
// as "uniform(0, 0.1)"; (min_th + max_th)/2 by default).
type TimeIntegrationHomeostasis struct {
	core.Base
	h plibHomeostasis
}

func (b *TimeIntegrationHomeostasis) Initialize(o core.Object) error {
	return b.h.init(&b.Base, o, "TimeIntegrationHomeostasis", true)
}

func (b *TimeIntegrationHomeostasis) Iteration(core.Object) error {
	b.h.step.Run()
	return nil
}

// Range is the target range [min_th, max_th] of the average.
func (b *TimeIntegrationHomeostasis) Range() (lo, hi float32) { return b.h.lo, b.h.hi }

// Average is the running average of the measurement, one per neuron.
func (b *TimeIntegrationHomeostasis) Average() backend.Tensor { return b.h.avg }

// plibHomeostasis is the shared state of the two homeostasis behaviours.
type plibHomeostasis struct {
	lo, hi float32
	avg    backend.Tensor
	step   *core.Kernel
}

// plibNPrefix matches PymoNNto's "n." before a neuron attribute.
var plibNPrefix = regexp.MustCompile(`\bn\.`)

func (h *plibHomeostasis) init(b *core.Base, o core.Object, who string, integrate bool) error {
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	meas := plibNPrefix.ReplaceAllString(strings.TrimSpace(b.String("measurement_param", "")), "")
	if meas == "" {
		return fmt.Errorf("%s on %s: measurement_param is missing; name the measured variable or expression, e.g. measurement_param=\"activity\"", who, g.Name())
	}
	adj := plibNPrefix.ReplaceAllString(strings.TrimSpace(b.String("adjustment_param", "")), "")
	if adj == "" {
		return fmt.Errorf("%s on %s: adjustment_param is missing; name the variable to adjust, e.g. adjustment_param=\"threshold\"", who, g.Name())
	}
	if err := plibNeedVar(g, who, "adjustment_param", adj); err != nil {
		return err
	}
	f := plibParams{b: b, who: who}
	minTh, hasMin := f.opt("min_th")
	maxTh, hasMax := f.opt("max_th")
	th, hasTh := f.opt("threshold")
	gp, hasGp := f.opt("gap_percent")
	distance := f.boolean("distance_sensitive", true)
	inc, dec, strength := f.float("inc", 1), f.float("dec", 1), f.float("adj_strength", 1)
	mMin, hasMMin := f.opt("measurement_min")
	mMax, hasMMax := f.opt("measurement_max")
	tMin, hasTMin := f.opt("target_clip_min")
	tMax, hasTMax := f.opt("target_clip_max")
	length := float32(1)
	if integrate {
		length = f.float("integration_length", 1)
	}
	if f.err != nil {
		return f.err
	}
	// PymoNNto: set_threshold(threshold, gap_percent) in Python floats.
	lo, hi := float64(minTh), float64(maxTh)
	switch {
	case hasTh:
		lo, hi = float64(th), float64(th)
		if hasGp {
			lo -= lo / 100 * float64(gp)
			hi += hi / 100 * float64(gp)
		}
	case hasGp:
		return fmt.Errorf("%s on %s: gap_percent=%v needs threshold; give threshold (the centre of the range) too, or min_th and max_th instead", who, g.Name(), gp)
	case !hasMin || !hasMax:
		return fmt.Errorf("%s on %s: no target range; give threshold (optionally with gap_percent) or both min_th and max_th", who, g.Name())
	}
	h.lo, h.hi = float32(lo), float32(hi)
	if integrate && !(length >= 0) {
		return fmt.Errorf("%s on %s: integration_length=%v must be >= 0 (0 is instant)", who, g.Name(), length)
	}
	consts := core.Consts{"_min_th": h.lo, "_max_th": h.hi, "_neg_dec": -dec, "_inc": inc, "_adj": strength,
		"_mmin": mMin, "_mmax": mMax, "_tmin": tMin, "_tmax": tMax, "_L": length, "_L1": length + 1}
	var src strings.Builder
	fmt.Fprintf(&src, "_m := (%s)\n", meas)
	if hasMMin {
		src.WriteString("_m = max(_m, _mmin)\n")
	}
	if hasMMax {
		src.WriteString("_m = min(_m, _mmax)\n")
	}
	var extra map[string]backend.Tensor
	if integrate {
		if s := strings.TrimSpace(b.String("init_avg", "")); s != "" && s != "None" {
			if h.avg, err = g.Vector(s); err != nil {
				return fmt.Errorf("%s on %s: init_avg=%q: %w", who, g.Name(), s, err)
			}
		} else {
			if h.avg, err = g.Vector("zeros"); err != nil {
				return err
			}
			backend.Fill(h.avg, float32((lo+hi)/2))
		}
		src.WriteString("_avg = (_avg * _L + _m) / _L1\n_m = _avg\n")
		extra = map[string]backend.Tensor{"_avg": h.avg}
	}
	plibAdjustSource(&src, adj, distance, hasTMin, hasTMax)
	if h.step, err = core.NewKernelWith(o, src.String(), consts, extra); err != nil {
		return fmt.Errorf("%s on %s (measurement_param %q, adjustment_param %q; the group's variables are %s): %w",
			who, g.Name(), meas, adj, strings.Join(g.VarNames(), ", "), err)
	}
	return nil
}

// plibAdjustSource appends Instant_Homeostasis' adjustment of adj from
// the measurement _m (get_target_adjustment and add_to_target_param),
// with the constants _min_th, _max_th, _neg_dec, _inc, _adj, _tmin and
// _tmax.
func plibAdjustSource(src *strings.Builder, adj string, distance, hasTMin, hasTMax bool) {
	src.WriteString("_g := (_m > _max_th) * _neg_dec\n_s := (_m < _min_th) * _inc\n")
	if distance {
		src.WriteString("_g = _g * (_m - _max_th)\n_s = _s * (_min_th - _m)\n")
	}
	val := adj + " + (_g + _s) * _adj"
	switch {
	case hasTMin && hasTMax:
		val = "clip(" + val + ", _tmin, _tmax)"
	case hasTMin:
		val = "max(" + val + ", _tmin)"
	case hasTMax:
		val = "min(" + val + ", _tmax)"
	}
	fmt.Fprintf(src, "%s = %s\n", adj, val)
}

// ExhaustionHomeostasis is the paper's Homeostasis
// (Examples_Paper/STDP_Hom_Norm/Homeostasis.py) on a neuron group: the
// exhaustion of every neuron grows while its voltage is outside
// [min_ta, max_ta] and is subtracted from the voltage each step,
//
//	change = ((v > max_ta)*(-1)*(v - max_ta) + (v < min_ta)*(min_ta - v)) * (-eta_ip)
//	exhaustion += change;  v -= exhaustion
//
// Parameters: target_voltage (0.05), max_ta and min_ta (both
// target_voltage), eta_ip (0.001), voltage_var ("voltage": the variable
// read and changed, which must exist). The group gets the variable
// exhaustion (zeros) if it has none.
type ExhaustionHomeostasis struct {
	core.Base
	step *core.Kernel
}

func (b *ExhaustionHomeostasis) Initialize(o core.Object) error {
	const who = "ExhaustionHomeostasis"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &b.Base, who: who}
	target := f.float("target_voltage", 0.05)
	maxTA, minTA := f.float("max_ta", target), f.float("min_ta", target)
	eta := f.float("eta_ip", 0.001)
	v := b.String("voltage_var", "voltage")
	if f.err != nil {
		return f.err
	}
	if err := plibNeedVar(g, who, "voltage_var", v); err != nil {
		return err
	}
	if err := plibZeros(g, "exhaustion"); err != nil {
		return err
	}
	src := fmt.Sprintf(`_g := (%[1]s > _max_ta ? -1 : 0) * (%[1]s - _max_ta)
_s := (%[1]s < _min_ta ? 1 : 0) * (_min_ta - %[1]s)
exhaustion += (_g + _s) * _adj
%[1]s -= exhaustion`, v)
	b.step, err = core.NewKernel(o, src, core.Consts{"_max_ta": maxTA, "_min_ta": minTA, "_adj": -eta})
	return err
}

func (b *ExhaustionHomeostasis) Iteration(core.Object) error {
	b.step.Run()
	return nil
}

// RelativeRefractory is PymoNNto's refractory (NetworkBehavior/Basics/
// Refractory.py), a relative refractoriness: a trace of the neuron's
// output is subtracted from its activity each step,
//
//	refractory_counter = refractory_counter*decayfactor + output
//	activity -= refractory_counter * strengthfactor
//
// Parameters: decayfactor (0.5), strengthfactor (1), output_var
// ("output") and activity_var ("activity"): the variables read and
// changed, which must exist. The group gets the variable
// refractory_counter (zeros) if it has none. For an absolute refractory
// period see Refractory.
type RelativeRefractory struct {
	core.Base
	step *core.Kernel
}

func (b *RelativeRefractory) Initialize(o core.Object) error {
	const who = "RelativeRefractory"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &b.Base, who: who}
	decay, strength := f.float("decayfactor", 0.5), f.float("strengthfactor", 1)
	if f.err != nil {
		return f.err
	}
	out, act := b.String("output_var", "output"), b.String("activity_var", "activity")
	if err := plibNeedVar(g, who, "output_var", out); err != nil {
		return err
	}
	if err := plibNeedVar(g, who, "activity_var", act); err != nil {
		return err
	}
	if err := plibZeros(g, "refractory_counter"); err != nil {
		return err
	}
	src := fmt.Sprintf("refractory_counter *= _decay\nrefractory_counter += %s\n%s -= refractory_counter * _strength", out, act)
	b.step, err = core.NewKernel(o, src, core.Consts{"_decay": decay, "_strength": strength})
	return err
}

func (b *RelativeRefractory) Iteration(core.Object) error {
	b.step.Run()
	return nil
}

// SynapticNormalization is PymoNNto's Synaptic_Normalization on a neuron
// group: each step, for every neuron i of the group,
//
//	s_i = (sum over ALL afferent synapse groups tagged syn_type of sum_j |W_ij|) / norm_factor
//	W_ij /= s_i   (in every such group; neurons with s_i = 0 are left alone)
//	W = clip(W, 0, clip_max)
//
// The clip to 0 is applied always, also without clip_max (PymoNNto's
// np.clip(W, 0, None)). Parameters: syn_type ("GLUTAMATE"; PymoNNto's
// library uses "GLU", its paper "GLUTAMATE"), norm_factor (1; a number or
// a diversity string, one per neuron), clip_max (None). With clip_max
// None and weights >= 0 it is also the paper's Normalization.py.
//
// W may be dense or sparse (core's SparseMatrix), in either layout; a
// sparse W's missing entries are synapses that do not exist (PymoNNto's
// zeros), so they stay absent. Per step and synapse group it runs |W|
// into a scratch matrix of W's structure, the sums as a MatVec with ones,
// the broadcast of s_i to its synapses as an Outer into the scratch, and
// one fused kernel for the division and the clip; the sums are the
// backend's (in its order), so results differ from NumPy's pairwise sums
// by float32 rounding.
type SynapticNormalization struct {
	core.Base
	sum  backend.Tensor
	div  *core.Kernel
	syns []plibNormSyn
}

type plibNormSyn struct {
	sg      *core.SynapseGroup
	w, d    backend.Tensor
	onesSrc backend.Tensor
	scale   *core.Kernel
}

var plibBroadcast = backend.OuterParams{Alpha: 1}

func (b *SynapticNormalization) Initialize(o core.Object) error {
	const who = "SynapticNormalization"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &b.Base, who: who}
	tag := b.String("syn_type", "GLUTAMATE")
	clipMax, hasClip := f.opt("clip_max")
	if f.err != nil {
		return f.err
	}
	nf, err := b.Vector(o, "norm_factor", "1")
	if err != nil {
		return err
	}
	if b.sum, err = g.Vector("zeros"); err != nil {
		return err
	}
	if b.div, err = core.NewKernelWith(o, "_s = _s / _nf\n_s = _s + (_s == 0)", nil, map[string]backend.Tensor{"_s": b.sum, "_nf": nf}); err != nil {
		return err
	}
	in := g.Synapses(core.Afferent, tag)
	if len(in) == 0 {
		return fmt.Errorf("%s on %s: no afferent synapse group is tagged syn_type=%q; tag them so or name their tag with syn_type=", who, g.Name(), tag)
	}
	scale := "W = max(W / _D, 0)"
	if hasClip {
		scale = "W = clip(W / _D, 0, _clip_max)"
	}
	b.syns = b.syns[:0]
	for _, sg := range in {
		w, err := plibW(sg, who)
		if err != nil {
			return err
		}
		d, err := plibScratch(sg, w)
		if err != nil {
			return err
		}
		ones, err := sg.Src.Vector("ones")
		if err != nil {
			return err
		}
		k, err := core.NewKernelWith(sg, scale, core.Consts{"_clip_max": clipMax}, map[string]backend.Tensor{"_D": d})
		if err != nil {
			return err
		}
		b.syns = append(b.syns, plibNormSyn{sg: sg, w: w, d: d, onesSrc: ones, scale: k})
	}
	return nil
}

func (b *SynapticNormalization) Iteration(o core.Object) error {
	for i, s := range b.syns {
		backend.Unary(backend.Abs, s.d, s.w)
		beta := float32(1)
		if i == 0 {
			beta = 0
		}
		s.sg.MatVec(b.sum, s.d, s.onesSrc, 1, beta)
	}
	b.div.Run()
	for _, s := range b.syns {
		backend.Fill(s.d, 0)
		s.sg.Outer(s.d, nil, nil, b.sum, nil, plibBroadcast)
		s.scale.Run()
	}
	return nil
}

// ThreeTermSTDP is the paper's STDP (Examples_Paper/STDP_Hom_Norm/STDP.py)
// on a neuron group: for every afferent synapse group tagged syn_type,
//
//	dw = stdp_factor * (post(t)*pre(t-1) - post(t-1)*pre(t) + post(t)*pre(t))
//	W  = clip(W + dw*enabled, 0, 10)
//
// where post and pre are the spike variables of the destination (this
// group) and of the source, and (t-1) is their previous step's copy,
// spike_old; enabled is the synapse group's variable "enabled" (a mask of
// W's shape) when it has one, else 1. After all afferent groups the
// group's spike is copied into its spike_old, as PymoNNto does. A source
// group other than this one must keep its own spike_old: give it a
// ThreeTermSTDP too (with no afferent groups of the tag it only keeps
// spike_old).
//
// Parameters: stdp_factor (0.0015; 0.00015 in the paper's Complex.py),
// syn_type ("GLUTAMATE"), spike_var ("spike"; the previous step's copy is
// spike_var + "_old"), w_min (0) and w_max (10): the clip. W may be dense
// or sparse (core's SparseMatrix), in either layout; a sparse W changes
// only its stored entries (a missing synapse is one whose enabled is 0),
// and its enabled, if any, must be a sparse mask of W's structure. Each
// step and synapse group: three masked Outer
// updates add the three products into a scratch matrix (exact: they are
// products of the spike values), and one fused kernel adds stdp_factor
// times it to W, clips and zeroes the scratch, so W changes by one
// rounding, as in NumPy.
type ThreeTermSTDP struct {
	core.Base
	spike, spikeOld backend.Tensor
	syns            []plibSTDPSyn
}

type plibSTDPSyn struct {
	sg                         *core.SynapseGroup
	d                          backend.Tensor
	pre, preOld, post, postOld backend.Tensor
	update                     *core.Kernel
}

var (
	plibPlus  = backend.OuterParams{Alpha: 1}
	plibMinus = backend.OuterParams{Alpha: -1}
)

func (b *ThreeTermSTDP) Initialize(o core.Object) error {
	const who = "ThreeTermSTDP"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &b.Base, who: who}
	factor := f.float("stdp_factor", 0.0015)
	lo, hi := f.float("w_min", 0), f.float("w_max", 10)
	if f.err != nil {
		return f.err
	}
	if !(lo <= hi) {
		return fmt.Errorf("%s on %s: w_min=%v is above w_max=%v", who, g.Name(), lo, hi)
	}
	tag := b.String("syn_type", "GLUTAMATE")
	spike := b.String("spike_var", "spike")
	old := spike + "_old"
	if b.spike = g.Var(spike); b.spike == nil {
		return fmt.Errorf("%s on %s: the group has no variable %q; give it a behaviour that sets %s (SpikeGenerator, PoissonInput, a neuron model) at a smaller key, or name the spike variable with spike_var=", who, g.Name(), spike, spike)
	}
	if err := plibZeros(g, old); err != nil {
		return err
	}
	b.spikeOld = g.Var(old)
	in := g.Synapses(core.Afferent, tag)
	if len(in) == 0 && len(g.Synapses(core.Efferent, tag)) == 0 {
		return fmt.Errorf("%s on %s: no synapse group tagged syn_type=%q enters or leaves the group; tag them so or name their tag with syn_type=", who, g.Name(), tag)
	}
	b.syns = b.syns[:0]
	for _, sg := range in {
		w, err := plibW(sg, who)
		if err != nil {
			return err
		}
		src := sg.Src
		if src.Var(spike) == nil {
			return fmt.Errorf("%s on %s: source group %s of %s has no variable %q; give it a behaviour that sets %s at a smaller key", who, g.Name(), src.Name(), sg.Name(), spike, spike)
		}
		if src != g && src.Var(old) == nil && !plibHasSTDP(src) {
			return fmt.Errorf("%s on %s: source group %s of %s keeps no %s; give %s a ThreeTermSTDP too (it copies %s into %s each step), as PymoNNto's STDP requires", who, g.Name(), src.Name(), sg.Name(), old, src.Name(), spike, old)
		}
		// The source's own ThreeTermSTDP may be initialised later: it
		// then finds and keeps this vector.
		if err := plibZeros(src, old); err != nil {
			return err
		}
		d, err := plibScratch(sg, w)
		if err != nil {
			return err
		}
		prog := "W = clip(W + (_f * _D), _lo, _hi)\n_D = 0"
		if en := sg.Var("enabled"); en != nil {
			if en.Len() != 1 && !plibSameStructure(en, w) {
				return fmt.Errorf("%s on %s: enabled of %s (%s) does not match W (%s); make enabled a mask of W's shape and storage (e.g. W > 0; for a sparse W a sparse matrix of W's structure)", who, g.Name(), sg.Name(), plibDescribe(en), plibDescribe(w))
			}
			prog = "W = clip(W + (_f * _D) * enabled, _lo, _hi)\n_D = 0"
		}
		k, err := core.NewKernelWith(sg, prog, core.Consts{"_f": factor, "_lo": lo, "_hi": hi}, map[string]backend.Tensor{"_D": d})
		if err != nil {
			return err
		}
		b.syns = append(b.syns, plibSTDPSyn{sg: sg, d: d, pre: src.Var(spike), preOld: src.Var(old),
			post: b.spike, postOld: b.spikeOld, update: k})
	}
	return nil
}

func (b *ThreeTermSTDP) Iteration(o core.Object) error {
	for _, s := range b.syns {
		s.sg.Outer(s.d, s.post, s.preOld, s.post, s.preOld, plibPlus)  // post(t) pre(t-1)
		s.sg.Outer(s.d, s.postOld, s.pre, s.postOld, s.pre, plibMinus) // - post(t-1) pre(t)
		s.sg.Outer(s.d, s.post, s.pre, s.post, s.pre, plibPlus)        // + post(t) pre(t)
		s.update.Run()
	}
	backend.Copy(b.spikeOld, b.spike)
	return nil
}

func plibHasSTDP(g *core.NeuronGroup) bool {
	for _, b := range g.Behaviors() {
		if _, ok := b.(*ThreeTermSTDP); ok {
			return true
		}
	}
	return false
}

// CreateWeights is PymoNNto's CreateWeights
// (NetworkBehavior/Basics/Behavior_Weight_Initialization.py) on a
// synapse group: once, at Initialize,
//
//	W = matrix(distribution, density) * enabled
//	if normalize: iterations times { W /= afferent sums (per destination); W /= efferent sums (per source) }; W *= nomr_fac
//
// (alternating row and column normalisations, Sinkhorn's iteration, in
// PymoNNto's dst x src terms in either layout). enabled is the group's
// variable "enabled" when it has one (W's shape), else 1. The
// normalisation runs once on the host in float32 with NumPy's order of
// summation (pairwise per destination, sequential per source), so that
// it matches PymoNNto's float32 code bit for bit and is the same on every
// backend; a destination or source whose weights sum to 0 is left alone
// (PymoNNto divides by 0). It sets W and does nothing per step.
//
// Parameters: distribution ("uniform(0.0,1.0)"), density (1), normalize
// (True), nomr_fac (1; PymoNNto's spelling), iterations (10; fixed in
// PymoNNto).
type CreateWeights struct {
	core.Base
}

func (b *CreateWeights) Initialize(o core.Object) error {
	const who = "CreateWeights"
	sg, ok := o.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("%s belongs on a synapse group, not %T", who, o)
	}
	f := plibParams{b: &b.Base, who: who}
	dist := b.String("distribution", "uniform(0.0,1.0)")
	density := f.float("density", 1)
	normalize := f.boolean("normalize", true)
	fac := f.float("nomr_fac", 1)
	iters := f.count("iterations", 10)
	if f.err != nil {
		return f.err
	}
	if !(density >= 0 && density <= 1) {
		return fmt.Errorf("%s on %s: density=%v is outside [0, 1]", who, sg.Name(), density)
	}
	w, err := sg.Matrix(dist, core.Density(density))
	if err != nil {
		return fmt.Errorf("%s on %s: distribution=%q: %w", who, sg.Name(), dist, err)
	}
	be := sg.Net().Backend()
	if en := sg.Var("enabled"); en != nil {
		if en.Len() != w.Len() || backend.IsSparse(en) {
			return fmt.Errorf("%s on %s: enabled has %d elements, W %d; make enabled a dense mask of W's shape", who, sg.Name(), en.Len(), w.Len())
		}
		backend.Binary(backend.Mul, w, w, en)
	}
	if normalize {
		host := make([]float32, w.Len())
		if err := be.Read(host, w, 0); err != nil {
			return err
		}
		rows, cols := sg.Shape()
		plibSinkhorn(host, rows, cols, sg.Net().Layout() == core.SxD, iters, fac)
		if err := be.Write(w, 0, host); err != nil {
			return err
		}
	}
	return sg.SetVar("W", w)
}

func (b *CreateWeights) Iteration(core.Object) error { return nil }

// plibSinkhorn normalises w (rows x cols, row-major; transposed says rows
// are sources) iters times, per destination and then per source, and
// scales it by fac.
func plibSinkhorn(w []float32, rows, cols int, transposed bool, iters int, fac float32) {
	nd, ns := rows, cols
	at := func(d, s int) *float32 { return &w[d*cols+s] }
	if transposed {
		nd, ns = cols, rows
		at = func(d, s int) *float32 { return &w[s*cols+d] }
	}
	for range iters {
		for d := range nd {
			s := plibPairwiseSum(func(k int) float32 { return *at(d, k) }, 0, ns)
			if s != 0 {
				for k := range ns {
					p := at(d, k)
					*p /= s
				}
			}
		}
		for s := range ns {
			var c float32
			for d := range nd {
				c += *at(d, s)
			}
			if c != 0 {
				for d := range nd {
					p := at(d, s)
					*p /= c
				}
			}
		}
	}
	for i := range w {
		w[i] *= fac
	}
}

// plibPairwiseSum is NumPy's float32 pairwise summation of x(lo..lo+n-1)
// (pairwise_sum in numpy/core/src/umath/loops_utils.h.src), which np.sum
// uses along a contiguous axis.
func plibPairwiseSum(x func(int) float32, lo, n int) float32 {
	switch {
	case n < 8:
		var r float32
		for i := range n {
			r += x(lo + i)
		}
		return r
	case n <= 128:
		var r [8]float32
		for j := range r {
			r[j] = x(lo + j)
		}
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += x(lo + i + j)
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += x(lo + i)
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return plibPairwiseSum(x, lo, n2) + plibPairwiseSum(x, lo+n2, n-n2)
}

// TimedArray sets (or adds to) a variable of a neuron group from a table
// of values, one row per step, as Brian2's TimedArray: at step k
// (counting from 0 at the first simulated step) the variable is
// Values[r*Width : (r+1)*Width] with r = min(k / interval, rows - 1), so
// the last row holds after the table ends. Width is 1 (one value per step
// for every neuron; 0 means 1) or the group's size (one value per
// neuron). The table is uploaded once at Initialize; each step copies the
// row on the device.
//
// Parameters: var ("I": the variable, made as zeros if missing), mode
// ("set" or "add"), interval (1: steps per row).
type TimedArray struct {
	core.Base
	// Values are the rows of the table, row-major.
	Values []float32
	// Width is the number of values per row: 1 or the group's size.
	Width int

	v, table, cur backend.Tensor
	step          *core.Kernel
	rows, width   int
	interval      int
	direct        bool
}

func (t *TimedArray) Initialize(o core.Object) error {
	const who = "TimedArray"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &t.Base, who: who}
	name := t.String("var", "I")
	mode := t.String("mode", "set")
	t.interval = f.count("interval", 1)
	if f.err != nil {
		return f.err
	}
	if mode != "set" && mode != "add" {
		return &core.ParamError{Behavior: who, Key: "mode", Value: mode, Err: errors.New(`want "set" or "add"`)}
	}
	if t.interval < 1 {
		return fmt.Errorf("%s on %s: interval=%d must be at least 1 step", who, g.Name(), t.interval)
	}
	t.width = t.Width
	if t.width == 0 {
		t.width = 1
	}
	if t.width != 1 && t.width != g.Size {
		return fmt.Errorf("%s on %s: Width=%d; give 1 (one value per step for every neuron) or the group's size %d", who, g.Name(), t.Width, g.Size)
	}
	if len(t.Values) == 0 || len(t.Values)%t.width != 0 {
		return fmt.Errorf("%s on %s: %d values do not make rows of Width %d; give one row of %d values per step", who, g.Name(), len(t.Values), t.width, t.width)
	}
	if !plibIdent.MatchString(name) {
		return &core.ParamError{Behavior: who, Key: "var", Value: name, Err: errors.New("want a variable name")}
	}
	t.rows = len(t.Values) / t.width
	if err := plibZeros(g, name); err != nil {
		return err
	}
	t.v = g.Var(name)
	be := g.Net().Backend()
	if t.table, err = be.NewTensor(t.rows, t.width); err != nil {
		return err
	}
	if err := be.Write(t.table, 0, t.Values); err != nil {
		return err
	}
	t.direct = mode == "set" && t.width == g.Size
	if t.direct {
		return nil
	}
	if t.cur, err = be.NewTensor(t.width, 1); err != nil {
		return err
	}
	op := "="
	if mode == "add" {
		op = "+="
	}
	t.step, err = core.NewKernelWith(o, fmt.Sprintf("%s %s _cur", name, op), nil, map[string]backend.Tensor{"_cur": t.cur})
	return err
}

func (t *TimedArray) Iteration(o core.Object) error {
	r := min((o.(*core.NeuronGroup).Iteration-1)/t.interval, t.rows-1)
	be := o.Net().Backend()
	if t.direct {
		be.CopyRange(t.v, 0, t.table, r*t.width, t.width)
		return nil
	}
	be.CopyRange(t.cur, 0, t.table, r*t.width, t.width)
	t.step.Run()
	return nil
}

// SpikeGenerator is Brian2's SpikeGeneratorGroup as a behaviour: each
// step it sets a group's spike mask to 1 for the neurons listed at that
// step and 0 elsewhere. Spike i is neuron Neurons[i] at step Steps[i]
// (0 is the first simulated step); a (step, neuron) pair may appear only
// once. With period > 0 the pattern repeats every period steps (all steps
// must be below it).
//
// The spikes are uploaded once at Initialize as a steps x N sparse matrix
// of ones; each step clears the mask and adds the current step's row
// (backend Propagate, selected by a one-hot vector moved with two
// one-element device copies), so no step writes from the host.
//
// Parameters: var ("spike": the mask, made as zeros if missing), period
// (0: none).
type SpikeGenerator struct {
	core.Base
	// Steps and Neurons list the spikes.
	Steps, Neurons []int

	mask, table, hot, one, zero backend.Tensor
	rowStart                    []int64
	rows, period                int
	last                        int // the row set in hot, -1 for none
}

func (s *SpikeGenerator) Initialize(o core.Object) error {
	const who = "SpikeGenerator"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &s.Base, who: who}
	name := s.String("var", "spike")
	s.period = f.count("period", 0)
	if f.err != nil {
		return f.err
	}
	if len(s.Steps) != len(s.Neurons) {
		return fmt.Errorf("%s on %s: %d steps for %d neurons; give one step per spike", who, g.Name(), len(s.Steps), len(s.Neurons))
	}
	if !plibIdent.MatchString(name) {
		return &core.ParamError{Behavior: who, Key: "var", Value: name, Err: errors.New("want a variable name")}
	}
	s.rows = s.period
	for i, k := range s.Steps {
		n := s.Neurons[i]
		switch {
		case k < 0:
			return fmt.Errorf("%s on %s: spike %d is at step %d; steps count from 0", who, g.Name(), i, k)
		case n < 0 || n >= g.Size:
			return fmt.Errorf("%s on %s: spike %d is of neuron %d, outside the group's %d neurons", who, g.Name(), i, n, g.Size)
		case s.period > 0 && k >= s.period:
			return fmt.Errorf("%s on %s: spike %d is at step %d, not below period=%d; every spike must fall in the first period", who, g.Name(), i, k, s.period)
		}
		if s.period == 0 {
			s.rows = max(s.rows, k+1)
		}
	}
	order := make([]int, len(s.Steps))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		if s.Steps[ia] != s.Steps[ib] {
			return s.Steps[ia] < s.Steps[ib]
		}
		return s.Neurons[ia] < s.Neurons[ib]
	})
	s.rowStart = make([]int64, s.rows+1)
	cols := make([]int32, len(order))
	for e, i := range order {
		if e > 0 && s.Steps[i] == s.Steps[order[e-1]] && s.Neurons[i] == s.Neurons[order[e-1]] {
			return fmt.Errorf("%s on %s: neuron %d spikes twice at step %d; give each (step, neuron) pair once", who, g.Name(), s.Neurons[i], s.Steps[i])
		}
		s.rowStart[s.Steps[i]+1]++
		cols[e] = int32(s.Neurons[i])
	}
	for r := range s.rows {
		s.rowStart[r+1] += s.rowStart[r]
	}
	if err := plibZeros(g, name); err != nil {
		return err
	}
	s.mask, s.last = g.Var(name), -1
	if len(cols) == 0 {
		return nil
	}
	be := g.Net().Backend()
	sp, ok := be.(backend.Sparser)
	if !ok {
		return fmt.Errorf("%s on %s: backend %s has no sparse matrices, which the spike table needs", who, g.Name(), be.Name())
	}
	ones := make([]float32, len(cols))
	for i := range ones {
		ones[i] = 1
	}
	if s.table, err = sp.NewSparse(s.rows, g.Size, s.rowStart, cols, ones); err != nil {
		return err
	}
	for _, p := range []*backend.Tensor{&s.hot, &s.one, &s.zero} {
		n := 1
		if p == &s.hot {
			n = s.rows
		}
		if *p, err = be.NewTensor(n, 1); err != nil {
			return err
		}
	}
	backend.Fill(s.one, 1)
	return nil
}

func (s *SpikeGenerator) Iteration(o core.Object) error {
	be := o.Net().Backend()
	backend.Fill(s.mask, 0)
	if s.table == nil {
		return nil
	}
	k := o.(*core.NeuronGroup).Iteration - 1
	if s.period > 0 {
		k %= s.period
	}
	if s.last >= 0 && s.last != k {
		be.CopyRange(s.hot, s.last, s.zero, 0, 1)
		s.last = -1
	}
	if k < s.rows && s.rowStart[k+1] > s.rowStart[k] {
		if s.last != k {
			be.CopyRange(s.hot, k, s.one, 0, 1)
			s.last = k
		}
		be.Propagate(s.mask, s.table, true, s.hot, 1)
	}
	return nil
}

// MarshalState saves which row the one-hot selector holds (core.Stater).
func (s *SpikeGenerator) MarshalState() ([]byte, error) {
	return binary.AppendVarint(nil, int64(s.last)), nil
}

// UnmarshalState restores a state saved by MarshalState.
func (s *SpikeGenerator) UnmarshalState(b []byte) error {
	v, n := binary.Varint(b)
	if n <= 0 || n != len(b) || v < -1 || v >= int64(s.rows) {
		return fmt.Errorf("SpikeGenerator: state %x is not a row of the %d-step table", b, s.rows)
	}
	s.last = int(v)
	return nil
}

// PoissonInput makes a group's spike mask a Poisson process, as Brian2's
// PoissonGroup: each step, for every neuron,
//
//	spike = uniform() < rate*dt
//
// with uniform() drawn from the network's generator (seeded by
// core.Config.Seed; the same on every backend). Parameters: rate (10, in
// Hz: a number or a diversity string, one per neuron), dt (0.001: the
// step in seconds), var ("spike": the mask, made as zeros if missing).
type PoissonInput struct {
	core.Base
	rate, u backend.Tensor
	step    *core.Kernel
}

func (p *PoissonInput) Initialize(o core.Object) error {
	const who = "PoissonInput"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &p.Base, who: who}
	dt := f.float("dt", 0.001)
	if f.err != nil {
		return f.err
	}
	if !(dt > 0) {
		return fmt.Errorf("%s on %s: dt=%v must be a positive step in seconds", who, g.Name(), dt)
	}
	if p.rate, err = p.Vector(o, "rate", "10"); err != nil {
		return err
	}
	rates := make([]float32, g.Size)
	if err := g.Net().Backend().Read(rates, p.rate, 0); err != nil {
		return err
	}
	for i, r := range rates {
		if !(r >= 0) || math.IsInf(float64(r), 0) {
			return fmt.Errorf("%s on %s: neuron %d has rate %v; rates must be finite and >= 0 (in Hz)", who, g.Name(), i, r)
		}
	}
	name := p.String("var", "spike")
	if !plibIdent.MatchString(name) {
		return &core.ParamError{Behavior: who, Key: "var", Value: name, Err: errors.New("want a variable name")}
	}
	if err := plibZeros(g, name); err != nil {
		return err
	}
	// The uniform numbers come from one random fill per step (four per
	// Philox block, a quarter of the generator work of uniform() inside
	// the kernel).
	if p.u, err = g.Vector("zeros"); err != nil {
		return err
	}
	p.step, err = core.NewKernelWith(o, name+" = _u < _rate * _dt", core.Consts{"_dt": dt}, map[string]backend.Tensor{"_rate": p.rate, "_u": p.u})
	return err
}

func (p *PoissonInput) Iteration(o core.Object) error {
	o.Net().Rand(p.u, rng.UniformDist(0, 1))
	p.step.Run()
	return nil
}

// Rate is the rate of every neuron in Hz.
func (p *PoissonInput) Rate() backend.Tensor { return p.rate }

// ---- helpers ----

var plibIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func plibGroup(o core.Object, who string) (*core.NeuronGroup, error) {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return nil, fmt.Errorf("%s belongs on a neuron group, not %T", who, o)
	}
	return g, nil
}

// plibNeedVar checks that g has the variable name (given by parameter key).
func plibNeedVar(g *core.NeuronGroup, who, key, name string) error {
	if !plibIdent.MatchString(name) {
		return &core.ParamError{Behavior: who, Key: key, Value: name, Err: errors.New("want a variable name")}
	}
	if g.Var(name) == nil {
		return fmt.Errorf("%s on %s: the group has no variable %q (%s); create it before (g.SetVar, or a behaviour at a smaller key), or name another with %s= (the group has %s)",
			who, g.Name(), name, key, key, plibList(g.VarNames()))
	}
	return nil
}

func plibList(names []string) string {
	if len(names) == 0 {
		return "no variables"
	}
	return strings.Join(names, ", ")
}

// plibW returns the W (dense or sparse) of sg.
func plibW(sg *core.SynapseGroup, who string) (backend.Tensor, error) {
	w := sg.Var("W")
	if w == nil {
		return nil, fmt.Errorf("%s: synapse group %s has no W; give it weights first (CreateWeights at a smaller key, or sg.SetVar(\"W\", ...))", who, sg.Name())
	}
	return w, nil
}

// plibScratch makes a zero matrix of w's shape and storage: dense, or
// sparse with w's structure (so that elementwise kernels pair its entries
// with w's).
func plibScratch(sg *core.SynapseGroup, w backend.Tensor) (backend.Tensor, error) {
	sw, ok := w.(backend.SparseTensor)
	if !ok {
		return sg.Matrix("zeros")
	}
	be := sg.Net().Backend()
	sp, ok := be.(backend.Sparser)
	if !ok {
		return nil, fmt.Errorf("synapse group %s: backend %s has a sparse W but builds no sparse matrices", sg.Name(), be.Name())
	}
	rs, ci := sw.Structure()
	return sp.NewSparse(sw.Rows(), sw.Cols(), rs, ci, nil)
}

// plibSameStructure reports whether a and b have the same shape and
// storage: both dense, or both sparse with the same structure.
func plibSameStructure(a, b backend.Tensor) bool {
	if a.Rows() != b.Rows() || a.Cols() != b.Cols() || a.Len() != b.Len() {
		return false
	}
	sa, okA := a.(backend.SparseTensor)
	sb, okB := b.(backend.SparseTensor)
	if okA != okB {
		return false
	}
	if !okA {
		return true
	}
	ra, ca := sa.Structure()
	rb, cb := sb.Structure()
	return slices.Equal(ra, rb) && slices.Equal(ca, cb)
}

// plibDescribe names a matrix's shape and storage for error messages.
func plibDescribe(t backend.Tensor) string {
	if s, ok := t.(backend.SparseTensor); ok {
		return fmt.Sprintf("sparse %dx%d, %d entries", s.Rows(), s.Cols(), s.NNZ())
	}
	return fmt.Sprintf("dense %dx%d", t.Rows(), t.Cols())
}

// plibZeros gives o zero vectors for the named variables it lacks.
func plibZeros(o core.Object, names ...string) error {
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

// plibParams reads parameters and keeps the first error.
type plibParams struct {
	b   *core.Base
	who string
	err error
}

func (p *plibParams) float(key string, def float32) float32 {
	v, err := p.b.Float(key, def)
	if err != nil && p.err == nil {
		p.err = err
	}
	return v
}

// opt reads a parameter that may be None (missing, "" or "None").
func (p *plibParams) opt(key string) (float32, bool) {
	s := strings.TrimSpace(p.b.String(key, ""))
	if s == "" || s == "None" {
		return 0, false
	}
	return p.float(key, 0), true
}

func (p *plibParams) boolean(key string, def bool) bool {
	s := p.b.String(key, "")
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	if p.err == nil {
		p.err = &core.ParamError{Behavior: p.who, Key: key, Value: s, Err: errors.New("want True or False (or 1 or 0)")}
	}
	return def
}

// count reads a whole number >= 0.
func (p *plibParams) count(key string, def int) int {
	v := p.float(key, float32(def))
	if p.err != nil {
		return def
	}
	if v < 0 || v != float32(math.Trunc(float64(v))) || v > 1<<30 {
		p.err = &core.ParamError{Behavior: p.who, Key: key, Value: strconv.FormatFloat(float64(v), 'g', -1, 32), Err: errors.New("want a whole number >= 0")}
		return def
	}
	return int(v)
}
