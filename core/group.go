package core

import (
	"fmt"
	"math"

	"github.com/gomonnto/gomonnto/backend"
)

// Dimension gives a neuron group its size and a spatial grid: neuron i sits
// at x = i mod Width, y = (i / Width) mod Height, z = i / (Width*Height),
// shifted so the grid's centre is the origin when Centered is set.
type Dimension struct {
	Width, Height, Depth int
	Centered             bool
}

// Size is a one-dimensional group of n neurons (a 1 x n grid).
func Size(n int) Dimension { return Dimension{Width: n, Height: 1, Depth: 1} }

// SquaredDim is PymoNNto's get_squared_dim: the most square Width x Height
// grid of n neurons, Width being the largest divisor of n not above
// sqrt(n) (800 -> 25 x 32; a prime n -> 1 x n).
func SquaredDim(n int) Dimension {
	if n <= 0 {
		return Dimension{Width: 0, Height: 0, Depth: 1}
	}
	w := int(math.Sqrt(float64(n)))
	for w*w > n {
		w--
	}
	for (w+1)*(w+1) <= n {
		w++
	}
	for w > 1 && n%w != 0 {
		w--
	}
	return Dimension{Width: w, Height: n / w, Depth: 1}
}

// N is the number of neurons.
func (d Dimension) N() int { return d.Width * d.Height * d.Depth }

func (d Dimension) validate() error {
	if d.Width <= 0 || d.Height <= 0 || d.Depth <= 0 {
		return fmt.Errorf("dimension %dx%dx%d: width, height and depth must be positive (use core.Size(n) for a plain group)", d.Width, d.Height, d.Depth)
	}
	return nil
}

// NeuronGroup is a population of neurons with named state tensors.
type NeuronGroup struct {
	objectCommon
	name string
	// Size is the number of neurons.
	Size int
	// Dim is the spatial grid.
	Dim Dimension
	// X, Y, Z are the neurons' grid positions (host copies).
	X, Y, Z []float32
	// Iteration counts the steps the group has run.
	Iteration int
}

// NewNeuronGroup adds a neuron group. tag holds its comma-separated tags
// (the first is its name); empty gives NeuronGroup_k.
func (n *Network) NewNeuronGroup(tag string, dim Dimension, bs Behaviors) (*NeuronGroup, error) {
	if n.initialized {
		return nil, fmt.Errorf("core: NewNeuronGroup(%q) after Initialize; create every group before net.Initialize()", tag)
	}
	if err := dim.validate(); err != nil {
		return nil, fmt.Errorf("neuron group %q: %w", tag, err)
	}
	tags := splitTags(tag)
	if len(tags) == 0 {
		tags = []string{fmt.Sprintf("NeuronGroup_%d", len(n.groups)+1)}
	}
	g := &NeuronGroup{name: tags[0], Size: dim.N(), Dim: dim}
	g.net = n
	g.tags = append(tags, "NeuronGroup", "ng")
	g.X = make([]float32, g.Size)
	g.Y = make([]float32, g.Size)
	g.Z = make([]float32, g.Size)
	var cx, cy, cz float32
	if dim.Centered {
		cx, cy, cz = float32(dim.Width-1)/2, float32(dim.Height-1)/2, float32(dim.Depth-1)/2
	}
	for i := 0; i < g.Size; i++ {
		g.X[i] = float32(i%dim.Width) - cx
		g.Y[i] = float32((i/dim.Width)%dim.Height) - cy
		g.Z[i] = float32(i/(dim.Width*dim.Height)) - cz
	}
	n.groups = append(n.groups, g)
	n.changed()
	if err := addAll(g, bs); err != nil {
		return nil, err
	}
	return g, nil
}

func addAll(o Object, bs Behaviors) error {
	keys := make([]float64, 0, len(bs))
	for k := range bs {
		keys = append(keys, k)
	}
	sortFloats(keys)
	for _, k := range keys {
		if err := addBehavior(o, k, bs[k]); err != nil {
			return err
		}
	}
	return nil
}

// Name is the group's first tag.
func (g *NeuronGroup) Name() string { return g.name }

// SetVar stores a named tensor of the group.
func (g *NeuronGroup) SetVar(name string, t backend.Tensor) error {
	if err := g.setVar(name, t); err != nil {
		return fmt.Errorf("neuron group %q: %w", g.name, err)
	}
	return nil
}

// Vector makes a tensor of one element per neuron from an init string.
func (g *NeuronGroup) Vector(init string, opts ...InitOption) (backend.Tensor, error) {
	t, err := g.net.newFilled(g.Size, 1, init, opts)
	if err != nil {
		return nil, fmt.Errorf("neuron group %q: %w", g.name, err)
	}
	return t, nil
}

// AddBehavior attaches b under key.
func (g *NeuronGroup) AddBehavior(key float64, b Behavior) error { return addBehavior(g, key, b) }

// Direction selects afferent (incoming) or efferent (outgoing) synapses.
type Direction uint8

const (
	Afferent Direction = iota
	Efferent
)

// Synapses returns the synapse groups entering (Afferent) or leaving
// (Efferent) the group that carry tag (every one when tag is "").
func (g *NeuronGroup) Synapses(dir Direction, tag string) []*SynapseGroup {
	var out []*SynapseGroup
	for _, s := range g.net.synapses {
		end := s.Dst
		if dir == Efferent {
			end = s.Src
		}
		if end == g && (tag == "" || s.HasTag(tag)) {
			out = append(out, s)
		}
	}
	return out
}

// SynapseGroup connects a source to a destination neuron group and holds
// named matrices (W) in the network's layout.
type SynapseGroup struct {
	objectCommon
	name     string
	Src, Dst *NeuronGroup
	layout   Layout
	delay    *delayState // SetDelays (delay.go); nil without delays
}

// NewSynapseGroup adds a synapse group from src to dst. It is tagged with
// its own tags, "SynapseGroup", "syn" and "<src>_to_<dst>".
func (n *Network) NewSynapseGroup(tag string, src, dst *NeuronGroup, bs Behaviors) (*SynapseGroup, error) {
	if n.initialized {
		return nil, fmt.Errorf("core: NewSynapseGroup(%q) after Initialize; create every group before net.Initialize()", tag)
	}
	if src == nil || dst == nil {
		return nil, fmt.Errorf("synapse group %q: source and destination groups are required", tag)
	}
	if src.net != n || dst.net != n {
		return nil, fmt.Errorf("synapse group %q: source and destination must belong to this network", tag)
	}
	tags := splitTags(tag)
	auto := src.name + "_to_" + dst.name
	if len(tags) == 0 {
		tags = []string{auto}
	}
	s := &SynapseGroup{name: tags[0], Src: src, Dst: dst, layout: n.layout}
	s.net = n
	s.tags = append(tags, "SynapseGroup", "syn", auto)
	n.synapses = append(n.synapses, s)
	n.changed()
	if err := addAll(s, bs); err != nil {
		return nil, err
	}
	return s, nil
}

// NewSynapseGroupByTag is NewSynapseGroup with the groups given by tag.
func (n *Network) NewSynapseGroupByTag(tag, src, dst string, bs Behaviors) (*SynapseGroup, error) {
	s, err := Get[*NeuronGroup](n, src, 0)
	if err != nil {
		return nil, fmt.Errorf("synapse group %q: source: %w", tag, err)
	}
	d, err := Get[*NeuronGroup](n, dst, 0)
	if err != nil {
		return nil, fmt.Errorf("synapse group %q: destination: %w", tag, err)
	}
	return n.NewSynapseGroup(tag, s, d, bs)
}

// Name is the synapse group's first tag.
func (s *SynapseGroup) Name() string { return s.name }

// Shape is the matrix shape in the network's layout: dst x src (DxS) or
// src x dst (SxD).
func (s *SynapseGroup) Shape() (rows, cols int) {
	if s.layout == SxD {
		return s.Src.Size, s.Dst.Size
	}
	return s.Dst.Size, s.Src.Size
}

// Synapses is the number of synapses: the stored entries when the
// group's W is a sparse matrix, else the matrix elements.
func (s *SynapseGroup) Synapses() int {
	if w, ok := s.Var("W").(backend.SparseTensor); ok {
		return w.NNZ()
	}
	r, c := s.Shape()
	return r * c
}

// SetVar stores a named tensor. A matrix must have the group's Shape; a
// vector must have the size of the source or destination group (or 1).
func (s *SynapseGroup) SetVar(name string, t backend.Tensor) error {
	if t != nil {
		r, c := s.Shape()
		// A sparse matrix (backend.SparseTensor) has the group's Shape as
		// its Rows and Cols and fits like a dense one.
		fits := (t.Rows() == r && t.Cols() == c) ||
			(t.Cols() == 1 && (t.Rows() == s.Src.Size || t.Rows() == s.Dst.Size || t.Rows() == 1) && !backend.IsSparse(t))
		if !fits {
			return fmt.Errorf("synapse group %q: variable %q has shape %dx%d, which does not fit %s (%d neurons) -> %s (%d neurons): a matrix must be %dx%d in %s layout, a vector %d or %d long",
				s.name, name, t.Rows(), t.Cols(), s.Src.name, s.Src.Size, s.Dst.name, s.Dst.Size, r, c, s.layout, s.Src.Size, s.Dst.Size)
		}
	}
	if err := s.setVar(name, t); err != nil {
		return fmt.Errorf("synapse group %q: %w", s.name, err)
	}
	return nil
}

// Vector makes a tensor with one element per synapse (the matrix, flat
// in layout order) from an init string; see Matrix.
func (s *SynapseGroup) Vector(init string, opts ...InitOption) (backend.Tensor, error) {
	return s.Matrix(init, opts...)
}

// Matrix makes a synapse matrix of the group's Shape from an init string,
// e.g. "uniform" with core.Density(0.1).
func (s *SynapseGroup) Matrix(init string, opts ...InitOption) (backend.Tensor, error) {
	r, c := s.Shape()
	t, err := s.net.newFilled(r, c, init, opts)
	if err != nil {
		return nil, fmt.Errorf("synapse group %q: %w", s.name, err)
	}
	return t, nil
}

// AddBehavior attaches b under key.
func (s *SynapseGroup) AddBehavior(key float64, b Behavior) error { return addBehavior(s, key, b) }

// MatVec sets dst = alpha * W . x + beta * dst, where W is the group's
// matrix, x has one element per source neuron and dst one per destination
// neuron, whatever the layout.
func (s *SynapseGroup) MatVec(dst, w, x backend.Tensor, alpha, beta float32) {
	s.net.be.MatVec(dst, w, s.layout == SxD, x, alpha, beta)
}

// Propagate adds alpha times the weights of the sources whose mask
// (spikes) entry is non-zero to dst, one element per destination neuron,
// whatever the layout. Only the rows or columns of spiking sources are read.
func (s *SynapseGroup) Propagate(dst, w, spikes backend.Tensor, alpha float32) {
	s.net.be.Propagate(dst, w, s.layout == SxD, spikes, alpha)
}

// Outer applies an STDP-style update W[post][pre] += Alpha*post[post]*pre[pre]
// restricted to the masked destination (postMask) and source (preMask)
// neurons; nil masks select all, nil vectors read as ones.
func (s *SynapseGroup) Outer(w, postMask, preMask, post, pre backend.Tensor, p backend.OuterParams) {
	if s.layout == SxD {
		s.net.be.Outer(w, preMask, postMask, pre, post, p)
		return
	}
	s.net.be.Outer(w, postMask, preMask, post, pre, p)
}

// Normalize scales each destination neuron's afferent weights (dir
// Afferent) or each source neuron's efferent weights (Efferent) to sum to
// target.
func (s *SynapseGroup) Normalize(w backend.Tensor, dir Direction, target float32) {
	axis := backend.Rows
	if (dir == Afferent) == (s.layout == SxD) {
		axis = backend.Cols
	}
	s.net.be.Normalize(w, axis, target)
}
