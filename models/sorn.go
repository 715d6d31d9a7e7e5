package models

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// The self-organizing recurrent network SORN (M8; Lazar, Pipa & Triesch
// 2009, as in PymoNNto's historical SORN example): binary excitatory (E)
// and inhibitory (I) units,
//
//	x(t+1) = H(W_EE x(t) - W_EI y(t) + u(t) - T_E)
//	y(t+1) = H(W_IE x(t+1) - T_I)
//
// (H(a) = 1 if a > 0 else 0) with three kinds of plasticity on the E side:
// STDP on the existing E->E synapses,
//
//	dW_EE[i][j] = eta_stdp * (x_i(t+1) x_j(t) - x_i(t) x_j(t+1)),  then W_EE = max(W_EE, 0)
//
// synaptic normalization (the afferent E->E weights of every E neuron sum
// to 1) and intrinsic plasticity T_E += eta_ip * (x(t+1) - h_ip). The
// input u(t) drives a fixed random subset of E neurons per letter of a
// letter sequence. Each group keeps its binary state in the variable
// spikes (x for E, y for I), the previous one in spikes_old, its
// thresholds in T and its recurrent drive in h.

// SORNNeuron is the SORN binary threshold unit (keys 2 for E, 3 for I):
//
//	h = sum_GLUTAMATE W spikes_src - sum_GABA W spikes_src      (backend MatVec)
//	spikes_old = spikes;  spikes = h + input - T > 0;  T += eta_ip*(spikes - h_ip)
//
// over the afferent synapse groups tagged GLUTAMATE and GABA, in their
// creation order, reading each source group's spikes as they are when the
// unit runs (E before I: E sees y(t), I sees x(t+1)). The last two lines
// are one fused kernel; input (a variable of the group, set by a
// SORNInput at a smaller key) is left out when the group has none, the
// threshold update when eta_ip is 0. An afferent group without W gets one
// with values drawn from w0: a recurrent group (source = destination) a
// sparse matrix with in_degree inputs per neuron from distinct other
// neurons (no self-connections), any other group a dense matrix; each
// neuron's afferent weights are then normalized to sum to 1 per synapse
// group. Parameters: T0 (initial thresholds, "uniform(0, 0.5)"), eta_ip
// (0), h_ip (0.1), in_degree (10), w0 ("uniform(0, 0.5)"), propagate
// (0). Initial spikes are 0.
//
// With propagate = 0 the drive is one MatVec per afferent group (the
// first overwrites h); with propagate = 1 h is zeroed and each group adds
// the weights of the sources that spiked (backend Propagate): the same
// sum for binary spikes, at a cost that grows with the number of spikes
// rather than the matrix size (about 2x faster at N_E = 900), but summed
// in another order (atomically, in no fixed order, for a sparse matrix on
// gl), so results differ from the MatVec form by float32 rounding.
type SORNNeuron struct {
	core.Base
	h         backend.Tensor
	in        []sornAfferent
	propagate bool
	step      *core.Kernel
}

type sornAfferent struct {
	sg        *core.SynapseGroup
	w, spikes backend.Tensor
	sign      float32
}

func (n *SORNNeuron) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("SORNNeuron belongs on a neuron group, not %T", o)
	}
	c, err := floats(&n.Base, []param{{"eta_ip", 0}, {"h_ip", 0.1}, {"in_degree", 10}, {"propagate", 0}})
	if err != nil {
		return err
	}
	k := int(c["in_degree"])
	if float32(k) != c["in_degree"] || k < 0 {
		return fmt.Errorf("SORNNeuron on %s: in_degree = %v must be a whole number >= 0", g.Name(), c["in_degree"])
	}
	n.propagate = c["propagate"] != 0
	w0 := n.String("w0", "uniform(0, 0.5)")
	t, err := n.Vector(o, "T0", "uniform(0, 0.5)")
	if err != nil {
		return err
	}
	if err := o.SetVar("T", t); err != nil {
		return err
	}
	if err := zeros(o, "spikes", "spikes_old", "h"); err != nil {
		return err
	}
	n.h = o.Var("h")
	n.in = n.in[:0]
	for _, sg := range g.Synapses(core.Afferent, "") {
		var sign float32
		switch {
		case sg.HasTag("GLUTAMATE"):
			sign = 1
		case sg.HasTag("GABA"):
			sign = -1
		default:
			continue
		}
		if sg.Var("W") == nil {
			var w backend.Tensor
			if sg.Src == sg.Dst {
				w, err = sg.SparseMatrixInDegree(min(k, sg.Src.Size-1), w0, core.NoSelf())
			} else {
				w, err = sg.Matrix(w0)
			}
			if err != nil {
				return err
			}
			sg.Normalize(w, core.Afferent, 1)
			if err := sg.SetVar("W", w); err != nil {
				return err
			}
		}
		// The source's SORNNeuron may come later (E reads I's spikes): it
		// then finds and keeps this zero vector.
		if err := zeros(sg.Src, "spikes"); err != nil {
			return err
		}
		n.in = append(n.in, sornAfferent{sg: sg, w: sg.Var("W"), spikes: sg.Src.Var("spikes"), sign: sign})
	}
	src := "spikes_old = spikes\nspikes = h - T > 0"
	if o.Var("input") != nil {
		src = "spikes_old = spikes\nspikes = h + input - T > 0"
	}
	if c["eta_ip"] != 0 {
		src += "\nT += eta_ip * (spikes - h_ip)"
	}
	n.step, err = core.NewKernel(o, src, core.Consts{"eta_ip": c["eta_ip"], "h_ip": c["h_ip"]})
	return err
}

func (n *SORNNeuron) Iteration(o core.Object) error {
	if n.propagate {
		backend.Fill(n.h, 0)
		for _, a := range n.in {
			a.sg.Propagate(n.h, a.w, a.spikes, a.sign)
		}
	} else {
		beta := float32(0)
		for _, a := range n.in {
			a.sg.MatVec(n.h, a.w, a.spikes, a.sign, beta)
			beta = 1
		}
	}
	n.step.Run()
	return nil
}

// SORNInput is the SORN's letter input on the E group (key 1). At
// Initialize it draws, from the network's seed on the host, a random
// order of n_words words from the comma-separated list words ("abcd,
// xyyyyz"), and for every distinct letter a fixed random set of
// round(fraction*N) neurons (at least one; fraction 0.05); the letter
// masks (strength on a letter's neurons, 0 elsewhere) are written once into
// one letters x N device matrix. Each step it copies the current letter's
// row into the group's variable input (one device copy; the letter comes
// from a host-side counter that cycles through the sequence). Parameters:
// words, n_words (1000), fraction (0.05), strength (1).
type SORNInput struct {
	core.Base
	alphabet string
	seq      []int32
	pos      int
	size     int
	masks    backend.Tensor
	input    backend.Tensor
}

func (s *SORNInput) Initialize(o core.Object) error {
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("SORNInput belongs on a neuron group, not %T", o)
	}
	c, err := floats(&s.Base, []param{{"n_words", 1000}, {"fraction", 0.05}, {"strength", 1}})
	if err != nil {
		return err
	}
	var words []string
	for _, w := range strings.Split(s.String("words", "abcd,xyyyyz"), ",") {
		if w = strings.TrimSpace(w); w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return fmt.Errorf("SORNInput on %s: words is empty; give comma-separated words such as \"abcd,xyyyyz\"", g.Name())
	}
	nw := int(c["n_words"])
	if nw < 1 {
		return fmt.Errorf("SORNInput on %s: n_words = %v must be at least 1", g.Name(), c["n_words"])
	}
	if !(c["fraction"] > 0 && c["fraction"] <= 1) {
		return fmt.Errorf("SORNInput on %s: fraction = %v is outside (0, 1]", g.Name(), c["fraction"])
	}
	// The alphabet in order of first appearance.
	index := map[rune]int32{}
	var alpha []rune
	for _, w := range words {
		for _, r := range w {
			if _, ok := index[r]; !ok {
				index[r] = int32(len(alpha))
				alpha = append(alpha, r)
			}
		}
	}
	s.alphabet = string(alpha)
	key := o.Net().NextKey()
	u := rng.UniformDist(0, 1)
	s.seq = s.seq[:0]
	for i := range nw {
		k := min(int(rng.Sample(u, key, uint64(i))*float32(len(words))), len(words)-1)
		for _, r := range words[k] {
			s.seq = append(s.seq, index[r])
		}
	}
	n := g.Size
	nu := max(1, int(math.Round(float64(c["fraction"])*float64(n))))
	key = o.Net().NextKey()
	host := make([]float32, len(alpha)*n)
	order := make([]int, n)
	draw := make([]float32, n)
	for l := range alpha {
		for i := range n {
			order[i], draw[i] = i, rng.Sample(u, key, uint64(l*n+i))
		}
		sort.SliceStable(order, func(a, b int) bool { return draw[order[a]] < draw[order[b]] })
		for _, i := range order[:nu] {
			host[l*n+i] = c["strength"]
		}
	}
	be := o.Net().Backend()
	if s.masks, err = be.NewTensor(len(alpha), n); err != nil {
		return err
	}
	if err := be.Write(s.masks, 0, host); err != nil {
		return err
	}
	if err := zeros(o, "input"); err != nil {
		return err
	}
	s.input, s.size, s.pos = o.Var("input"), n, 0
	return nil
}

func (s *SORNInput) Iteration(o core.Object) error {
	l := int(s.seq[s.pos])
	if s.pos++; s.pos == len(s.seq) {
		s.pos = 0
	}
	o.Net().Backend().CopyRange(s.input, 0, s.masks, l*s.size, s.size)
	return nil
}

// MarshalState saves the position in the letter sequence (core.Stater).
func (s *SORNInput) MarshalState() ([]byte, error) {
	return binary.AppendUvarint(nil, uint64(s.pos)), nil
}

// UnmarshalState restores a position saved by MarshalState.
func (s *SORNInput) UnmarshalState(b []byte) error {
	pos, n := binary.Uvarint(b)
	if n <= 0 || n != len(b) || pos >= uint64(len(s.seq)) {
		return fmt.Errorf("SORNInput: state %x is not a position in the %d-letter sequence", b, len(s.seq))
	}
	s.pos = int(pos)
	return nil
}

// Alphabet lists the input's letters; letter k is the k-th rune.
func (s *SORNInput) Alphabet() string { return s.alphabet }

// Sequence is the letter index of every step, cycled (step t of the
// network, counting from 1, uses Sequence()[(t-1) mod len]).
func (s *SORNInput) Sequence() []int32 { return s.seq }

// Masks is the letters x N matrix of the input vectors.
func (s *SORNInput) Masks() backend.Tensor { return s.masks }

// SORNSTDP is the SORN's STDP on a synapse group (key 4), touching only
// the stored synapses:
//
//	W[post][pre] += eta * post.spikes(t+1) * pre.spikes_old(t)
//	W[post][pre] -= eta * post.spikes_old(t) * pre.spikes(t+1),  then W = max(W, 0)
//
// as two backend Outer updates masked by the spike vectors (binary, so
// the masks are the factors). Only the second can make a weight negative,
// so its built-in clip to [0, MaxFloat32] on the entries it changes is
// max(W, 0). Parameter: eta (0.005).
type SORNSTDP struct {
	core.Base
	pre, preOld, post, postOld backend.Tensor
	ltp, ltd                   backend.OuterParams
}

func (s *SORNSTDP) Initialize(o core.Object) error {
	sg, ok := o.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("SORNSTDP belongs on a synapse group, not %T", o)
	}
	c, err := floats(&s.Base, []param{{"eta", 0.005}})
	if err != nil {
		return err
	}
	if s.pre, s.post, err = prePost(sg, "spikes", "spikes"); err != nil {
		return fmt.Errorf("SORNSTDP: %w", err)
	}
	if s.preOld, s.postOld, err = prePost(sg, "spikes_old", "spikes_old"); err != nil {
		return fmt.Errorf("SORNSTDP: %w", err)
	}
	if sg.Var("W") == nil {
		return fmt.Errorf("SORNSTDP on %s: the group has no W; give its destination a SORNNeuron at a smaller key", sg.Name())
	}
	s.ltp = backend.OuterParams{Alpha: c["eta"]}
	s.ltd = backend.OuterParams{Alpha: -c["eta"], Clip: true, Lo: 0, Hi: math.MaxFloat32}
	return nil
}

func (s *SORNSTDP) Iteration(o core.Object) error {
	sg := o.(*core.SynapseGroup)
	w := sg.Var("W")
	sg.Outer(w, s.post, s.preOld, nil, nil, s.ltp)
	sg.Outer(w, s.postOld, s.pre, nil, nil, s.ltd)
	return nil
}

// SORNNormalize is synaptic normalization on a synapse group (key 5):
// every destination neuron's afferent weights W (the stored entries of a
// sparse W) are scaled to sum to target (1). Neurons whose weights are
// all 0 are left alone.
type SORNNormalize struct {
	core.Base
	target float32
}

func (s *SORNNormalize) Initialize(o core.Object) error {
	sg, ok := o.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("SORNNormalize belongs on a synapse group, not %T", o)
	}
	var err error
	if s.target, err = s.Float("target", 1); err != nil {
		return err
	}
	if sg.Var("W") == nil {
		return fmt.Errorf("SORNNormalize on %s: the group has no W; give its destination a SORNNeuron at a smaller key", sg.Name())
	}
	return nil
}

func (s *SORNNormalize) Iteration(o core.Object) error {
	sg := o.(*core.SynapseGroup)
	sg.Normalize(sg.Var("W"), core.Afferent, s.target)
	return nil
}

// SORNOptions size and drive the SORN (M8).
type SORNOptions struct {
	// NE is the number of E units (200 if 0; Lazar et al. also use 900).
	NE int
	// NI is the number of I units (NE/5 if 0).
	NI int
	// Words are the input words, comma-separated ("abcd,xyyyyz" if "").
	Words string
	// Propagate computes the units' drive spike-driven (SORNNeuron's
	// propagate = 1) instead of with MatVec.
	Propagate bool
}

// SORNNet holds the groups of M8: E, I, the synapse groups EE (E->E,
// sparse, plastic), EI (I->E) and IE (E->I), and E's input.
type SORNNet struct {
	E, I       *core.NeuronGroup
	EE, EI, IE *core.SynapseGroup
	Input      *SORNInput
}

// SORN builds M8 (Lazar et al. 2009): NE binary E units with SORNInput
// (key 1) and SORNNeuron (key 2; T0 U(0, 0.5), eta_ip 0.001, h_ip 0.1),
// NI binary I units with SORNNeuron (key 3; T0 U(0, 1), no IP), and the
// synapse groups EE (GLUTAMATE, sparse: 10 inputs per E unit from other E
// units, with SORNSTDP at key 4 and SORNNormalize at key 5), EI (I->E,
// GABA, dense) and IE (E->I, GLUTAMATE, dense), all with initial weights
// U(0, 0.5) normalized so that each unit's afferent weights of each group
// sum to 1. The thresholds' ranges are those of Lazar et al. (T_E^max =
// 0.5, T_I^max = 1). Use the SxD layout: E's drive is then a gather over
// the transposed index of the sparse EE matrix, and the STDP masks select
// contiguous rows.
func SORN(net *core.Network, o SORNOptions) (*SORNNet, error) {
	if o.NE == 0 {
		o.NE = 200
	}
	if o.NI == 0 {
		o.NI = o.NE / 5
	}
	if o.NE < 2 || o.NI < 1 {
		return nil, fmt.Errorf("SORN: NE = %d, NI = %d: need at least 2 E units and 1 I unit", o.NE, o.NI)
	}
	if o.Words == "" {
		o.Words = "abcd,xyyyyz"
	}
	prop := "0"
	if o.Propagate {
		prop = "1"
	}
	in := &SORNInput{Base: core.Base{Params: core.Params{"words": o.Words}}}
	e, err := net.NewNeuronGroup("E", core.SquaredDim(o.NE), core.Behaviors{
		1: in,
		2: &SORNNeuron{Base: core.Base{Params: core.Params{"T0": "uniform(0, 0.5)", "eta_ip": "0.001", "h_ip": "0.1", "propagate": prop}}},
	})
	if err != nil {
		return nil, err
	}
	i, err := net.NewNeuronGroup("I", core.SquaredDim(o.NI), core.Behaviors{
		3: &SORNNeuron{Base: core.Base{Params: core.Params{"T0": "uniform(0, 1)", "propagate": prop}}},
	})
	if err != nil {
		return nil, err
	}
	m := &SORNNet{E: e, I: i, Input: in}
	if m.EE, err = net.NewSynapseGroup("EE,GLUTAMATE", e, e, core.Behaviors{4: &SORNSTDP{}, 5: &SORNNormalize{}}); err != nil {
		return nil, err
	}
	if m.EI, err = net.NewSynapseGroup("EI,GABA", i, e, nil); err != nil {
		return nil, err
	}
	if m.IE, err = net.NewSynapseGroup("IE,GLUTAMATE", e, i, nil); err != nil {
		return nil, err
	}
	return m, nil
}
