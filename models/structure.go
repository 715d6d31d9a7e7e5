package models

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// PymoNNto's NetworkBehavior/Structure (trieschlab/PymoNNto 1fefe55):
// get_squared_dim with a depth, the partition of a group's grid into
// blocks (NeuronGroup.partition_masks, split_grid_into_sub_group_blocks),
// receptive-field masks (get_subgroup_receptive_field_mask,
// SynapseGroup.get_max_receptive_field_size), the Partition behaviour,
// Box_/Circle_Receptive_Fields and Remove_Autapses; and
// NetworkBehavior/Basics/Nox_diffusion.py, which uses them.
//
// Positions are the group's X, Y, Z (core.Dimension; PymoNNto's
// NeuronDimension centres them by default, core only with Centered, as
// GridDim sets it). The geometry is computed once on the host, with
// NumPy's float types: coordinates are float32, the block bounds are
// computed in float64 (NumPy 1.x turns float32 scalar / int into float64)
// and rounded to float32 where they meet the float32 positions, so that
// every mask is PymoNNto's bit for bit (models/structure_test.go checks
// them against bench/peers/pymonnto_paper.py).

// GridDim is PymoNNto's get_squared_dim(n, depth): the most square
// Width x Height grid of n neurons (Width the largest divisor of n not
// above sqrt(n), as core.SquaredDim) repeated depth times, so the group
// has n*depth neurons, with centred positions (NeuronDimension's
// default centered=True). depth 0 means 1.
func GridDim(n, depth int) core.Dimension {
	if depth == 0 {
		depth = 1
	}
	d := core.SquaredDim(n)
	d.Depth, d.Centered = depth, true
	return d
}

// Subgroup is part of a neuron group (PymoNNto's NeuronSubGroup): a mask
// over the group's neurons and the indices where it is set.
type Subgroup struct {
	Group *core.NeuronGroup
	// Mask has one element per neuron of Group.
	Mask []bool
	// Index lists the neurons in the subgroup, increasing.
	Index []int
}

// NewSubgroup makes the subgroup of g selected by mask (one element per
// neuron).
func NewSubgroup(g *core.NeuronGroup, mask []bool) (Subgroup, error) {
	if len(mask) != g.Size {
		return Subgroup{}, fmt.Errorf("subgroup of %s: mask has %d elements for %d neurons", g.Name(), len(mask), g.Size)
	}
	s := Subgroup{Group: g, Mask: mask}
	for i, m := range mask {
		if m {
			s.Index = append(s.Index, i)
		}
	}
	return s, nil
}

// Size is the number of neurons in the subgroup.
func (s Subgroup) Size() int { return len(s.Index) }

func structPos(g *core.NeuronGroup) [3][]float32 { return [3][]float32{g.X, g.Y, g.Z} }

// PartitionMasks is PymoNNto's NeuronGroup.partition_masks(steps): the
// range of the positions along each axis, [min, max], is cut into
// steps[axis] equal pieces, and block (a, b, c) (x outermost, z
// innermost) holds the neurons with start <= position <= end on every
// axis that no earlier block holds. A neuron on a bound therefore goes to
// the lower block, so the blocks can differ in size (a 10-wide grid in 3
// pieces: 4, 3 and 3 columns), and some may be empty (more pieces than
// distinct positions).
func PartitionMasks(g *core.NeuronGroup, steps [3]int) ([][]bool, error) {
	for a, s := range steps {
		if s < 1 {
			return nil, fmt.Errorf("PartitionMasks on %s: steps[%d]=%d; give at least 1 piece per axis (x, y, z)", g.Name(), a, s)
		}
	}
	if g.Size == 0 {
		return nil, fmt.Errorf("PartitionMasks on %s: the group has no neurons", g.Name())
	}
	pos := structPos(g)
	var lo, hi [3]float32
	for a := range 3 {
		lo[a], hi[a] = pos[a][0], pos[a][0]
		for _, v := range pos[a] {
			lo[a], hi[a] = min(lo[a], v), max(hi[a], v)
		}
	}
	// dst_min + (dst_max - dst_min)/steps*step: float32 difference, then
	// float64, rounded to float32 for the comparison with the positions.
	bound := func(a, k int) float32 {
		d := float64(hi[a] - lo[a])
		q := float64(d / float64(steps[a]) * float64(k))
		return float32(float64(lo[a]) + q)
	}
	taken := make([]bool, g.Size)
	var masks [][]bool
	for i := range steps[0] {
		for j := range steps[1] {
			for k := range steps[2] {
				var from, to [3]float32
				for a, s := range [3]int{i, j, k} {
					from[a], to[a] = bound(a, s), bound(a, s+1)
				}
				m := make([]bool, g.Size)
				for n := range g.Size {
					in := !taken[n]
					for a := range 3 {
						in = in && pos[a][n] >= from[a] && pos[a][n] <= to[a]
					}
					m[n] = in
					taken[n] = taken[n] || in
				}
				masks = append(masks, m)
			}
		}
	}
	return masks, nil
}

// SplitBlocks is PymoNNto's split_grid_into_sub_group_blocks(steps): the
// blocks of PartitionMasks as subgroups.
func SplitBlocks(g *core.NeuronGroup, steps [3]int) ([]Subgroup, error) {
	masks, err := PartitionMasks(g, steps)
	if err != nil {
		return nil, err
	}
	out := make([]Subgroup, len(masks))
	for i, m := range masks {
		out[i], _ = NewSubgroup(g, m)
	}
	return out, nil
}

// ReceptiveFieldMask is PymoNNto's
// g.get_subgroup_receptive_field_mask(sub, rf): the neurons of g inside
// the bounding box of sub's positions widened by rf[axis] on both sides
// (sub may belong to another group, as in Partition, where g is the
// source and sub a block of the destination). An empty subgroup gives an
// empty mask (PymoNNto fails on np.min of nothing).
func ReceptiveFieldMask(g *core.NeuronGroup, sub Subgroup, rf [3]float64) []bool {
	m := make([]bool, g.Size)
	if sub.Size() == 0 {
		return m
	}
	sp, gp := structPos(sub.Group), structPos(g)
	var from, to [3]float32
	for a := range 3 {
		lo, hi := sp[a][sub.Index[0]], sp[a][sub.Index[0]]
		for _, n := range sub.Index {
			lo, hi = min(lo, sp[a][n]), max(hi, sp[a][n])
		}
		from[a], to[a] = float32(float64(lo)-rf[a]), float32(float64(hi)+rf[a])
	}
	for n := range g.Size {
		in := true
		for a := range 3 {
			in = in && gp[a][n] >= from[a] && gp[a][n] <= to[a]
		}
		m[n] = in
	}
	return m
}

// MaxReceptiveField is PymoNNto's SynapseGroup.get_max_receptive_field_size:
// the largest distance along each axis between a destination neuron and
// an enabled source of it, at least 1. enabled is dst x src, row-major
// (nil: every synapse).
func MaxReceptiveField(sg *core.SynapseGroup, enabled []bool) ([3]float64, error) {
	nd, ns := sg.Dst.Size, sg.Src.Size
	if enabled != nil && len(enabled) != nd*ns {
		return [3]float64{}, fmt.Errorf("MaxReceptiveField on %s: enabled has %d elements, want dst x src = %d x %d", sg.Name(), len(enabled), nd, ns)
	}
	r := [3]float64{1, 1, 1}
	dp, sp := structPos(sg.Dst), structPos(sg.Src)
	for i := range nd {
		for j := range ns {
			if enabled != nil && !enabled[i*ns+j] {
				continue
			}
			for a := range 3 {
				d := dp[a][i] - sp[a][j]
				r[a] = max(r[a], math.Abs(float64(d)))
			}
		}
	}
	return r, nil
}

// SynapseBlock is one piece of a partitioned synapse group: a block of
// destination neurons and the sources in its receptive field.
type SynapseBlock struct {
	Dst, Src Subgroup
}

// PartitionBlocks is the partition of PymoNNto's Partition behaviour: the
// destination group is cut into split[axis] pieces per axis
// (PartitionMasks) and each block is paired with the sources within the
// largest receptive field of the group's enabled synapses
// (MaxReceptiveField, ReceptiveFieldMask), so every enabled synapse lies
// in one block. enabled is dst x src (nil: every synapse). Empty
// destination blocks are left out.
func PartitionBlocks(sg *core.SynapseGroup, split [3]int, enabled []bool) ([]SynapseBlock, error) {
	rf, err := MaxReceptiveField(sg, enabled)
	if err != nil {
		return nil, err
	}
	dsts, err := SplitBlocks(sg.Dst, split)
	if err != nil {
		return nil, fmt.Errorf("partition of %s: %w", sg.Name(), err)
	}
	var out []SynapseBlock
	for _, d := range dsts {
		if d.Size() == 0 {
			continue
		}
		s, _ := NewSubgroup(sg.Src, ReceptiveFieldMask(sg.Src, d, rf))
		out = append(out, SynapseBlock{Dst: d, Src: s})
	}
	return out, nil
}

// AutoSplit is Partition's split_size 'auto': about one piece per 7
// neurons along each axis, averaged over source and destination,
// int((src.width/7 + dst.width/7)/2) and at least 1; ok is false when
// every axis has fewer than 3 pieces (PymoNNto does not partition then).
func AutoSplit(sg *core.SynapseGroup) (split [3]int, ok bool) {
	s, d := sg.Src.Dim, sg.Dst.Dim
	for a, w := range [3][2]int{{s.Width, d.Width}, {s.Height, d.Height}, {s.Depth, d.Depth}} {
		split[a] = max(int((float64(w[0])/7+float64(w[1])/7)/2), 1)
	}
	return split, split[0] >= 3 || split[1] >= 3 || split[2] >= 3
}

// Partition is PymoNNto's Partition behaviour (NetworkBehavior/Structure/
// Partition.py) on a synapse group. PymoNNto replaces the group by one
// sub synapse group per block of PartitionBlocks, so that each step
// touches only the blocks; GoMoNNto has no sub synapse groups and gets
// the same saving from a sparse matrix: at Initialize, Partition turns
// the group's W (and enabled, if it has one) into sparse matrices whose
// stored entries are the union of the blocks (block's destinations x
// its sources), with W's values. Every enabled synapse is in a block, so
// the rules of this package (PaperInput, ThreeTermSTDP,
// SynapticNormalization, which handle sparse W) compute what they
// computed before. Give it a key after the behaviour that makes W (e.g.
// 2.5 after PaperInput at 2) and before those that use it.
//
// Parameters: split_size ("auto", AutoSplit, which may leave the group
// as it is; or "a,b,c" pieces along x, y, z; one number n means n,n,n:
// PymoNNto's docs say split_size=5 but its code indexes split_size and
// fails on a number). A W that has non-zero weights outside the blocks
// (on disabled synapses) is an error: the sparse matrix would drop them.
type Partition struct {
	core.Base
	blocks []SynapseBlock
}

// Blocks are the blocks of the partition (nil if it did not partition).
func (p *Partition) Blocks() []SynapseBlock { return p.blocks }

func (p *Partition) Initialize(o core.Object) error {
	const who = "Partition"
	sg, ok := o.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("%s belongs on a synapse group, not %T", who, o)
	}
	p.blocks = nil
	spec := strings.TrimSpace(p.String("split_size", "auto"))
	var split [3]int
	if spec == "auto" {
		if split, ok = AutoSplit(sg); !ok {
			return nil
		}
	} else {
		var err error
		if split, err = structTriple(spec); err != nil {
			return &core.ParamError{Behavior: who, Key: "split_size", Value: spec, Err: fmt.Errorf(`want "auto" or %w`, err)}
		}
	}
	w, err := plibW(sg, who)
	if err != nil {
		return err
	}
	if backend.IsSparse(w) {
		return fmt.Errorf("%s on %s: W is already sparse; partition a dense W (give Partition a key before the behaviour that makes W sparse)", who, sg.Name())
	}
	be := sg.Net().Backend()
	sp, ok := be.(backend.Sparser)
	if !ok {
		return fmt.Errorf("%s on %s: backend %s has no sparse matrices", who, sg.Name(), be.Name())
	}
	wv, err := structReadDxS(sg, w)
	if err != nil {
		return err
	}
	var env []float32
	var enabled []bool
	if en := sg.Var("enabled"); en != nil {
		if !plibSameStructure(en, w) {
			return fmt.Errorf("%s on %s: enabled (%s) does not match W (%s)", who, sg.Name(), plibDescribe(en), plibDescribe(w))
		}
		if env, err = structReadDxS(sg, en); err != nil {
			return err
		}
		enabled = make([]bool, len(env))
		for i, x := range env {
			enabled[i] = x != 0
		}
	}
	if p.blocks, err = PartitionBlocks(sg, split, enabled); err != nil {
		return err
	}
	ns := sg.Src.Size
	keep := make([]bool, len(wv))
	for _, b := range p.blocks {
		for _, i := range b.Dst.Index {
			for _, j := range b.Src.Index {
				keep[i*ns+j] = true
			}
		}
	}
	for e, x := range wv {
		if x != 0 && !keep[e] {
			return fmt.Errorf("%s on %s: W[%d][%d] = %v lies outside every block (a disabled synapse with a weight); zero W where enabled is 0 first", who, sg.Name(), e/ns, e%ns, x)
		}
	}
	mk := func(v []float32) (backend.Tensor, error) {
		rs, ci, vals := structCSR(sg, keep, v)
		r, c := sg.Shape()
		return sp.NewSparse(r, c, rs, ci, vals)
	}
	nw, err := mk(wv)
	if err != nil {
		return err
	}
	if env != nil {
		ne, err := mk(env)
		if err != nil {
			return err
		}
		if err := sg.SetVar("enabled", ne); err != nil {
			return err
		}
	}
	return sg.SetVar("W", nw)
}

func (p *Partition) Iteration(core.Object) error { return nil }

// structTriple reads "a,b,c" or "n" (n,n,n).
func structTriple(s string) ([3]int, error) {
	fs := strings.Split(s, ",")
	if len(fs) == 1 {
		fs = []string{fs[0], fs[0], fs[0]}
	}
	var out [3]int
	if len(fs) != 3 {
		return out, errors.New(`one whole number >= 1 or three ("5,5,1")`)
	}
	for i, f := range fs {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return out, errors.New(`one whole number >= 1 or three ("5,5,1")`)
		}
		out[i] = v
	}
	return out, nil
}

// structReadDxS reads a dense matrix of sg as dst x src.
func structReadDxS(sg *core.SynapseGroup, m backend.Tensor) ([]float32, error) {
	v := make([]float32, m.Len())
	if err := sg.Net().Backend().Read(v, m, 0); err != nil {
		return nil, err
	}
	if sg.Net().Layout() == core.DxS {
		return v, nil
	}
	nd, ns := sg.Dst.Size, sg.Src.Size
	out := make([]float32, len(v))
	for j := range ns {
		for i := range nd {
			out[i*ns+j] = v[j*nd+i]
		}
	}
	return out, nil
}

// structCSR builds the compressed rows, in sg's layout, of the dst x src
// entries where keep is set, with the values of v (dst x src).
func structCSR(sg *core.SynapseGroup, keep []bool, v []float32) ([]int64, []int32, []float32) {
	nd, ns := sg.Dst.Size, sg.Src.Size
	rows, cols := nd, ns
	at := func(r, c int) int { return r*ns + c }
	if sg.Net().Layout() == core.SxD {
		rows, cols = ns, nd
		at = func(r, c int) int { return c*ns + r }
	}
	rs := make([]int64, 1, rows+1)
	var ci []int32
	var vals []float32
	for r := range rows {
		for c := range cols {
			if e := at(r, c); keep[e] {
				ci = append(ci, int32(c))
				vals = append(vals, v[e])
			}
		}
		rs = append(rs, int64(len(ci)))
	}
	return rs, ci, vals
}

// receptiveFields is the shared code of BoxReceptiveFields,
// CircleReceptiveFields and RemoveAutapses: enabled *= mask (dst x src),
// made as ones if the group has none, in W's storage when W exists (a
// sparse W gets a sparse enabled of its structure).
func receptiveFields(o core.Object, who string, mask func(sg *core.SynapseGroup, i, j int) bool, autapses bool) error {
	sg, ok := o.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("%s belongs on a synapse group, not %T", who, o)
	}
	nd, ns := sg.Dst.Size, sg.Src.Size
	m := make([]float32, nd*ns)
	for i := range nd {
		for j := range ns {
			if (mask == nil || mask(sg, i, j)) && !(autapses && i == j) {
				m[i*ns+j] = 1
			}
		}
	}
	be := sg.Net().Backend()
	like := sg.Var("W")
	en := sg.Var("enabled")
	if en != nil {
		like = en
	}
	var t backend.Tensor
	var err error
	if like != nil && backend.IsSparse(like) {
		sw := like.(backend.SparseTensor)
		rs, ci := sw.Structure()
		vals := make([]float32, len(ci))
		for r := range sw.Rows() {
			for e := rs[r]; e < rs[r+1]; e++ {
				i, j := r, int(ci[e])
				if sg.Net().Layout() == core.SxD {
					i, j = j, i
				}
				vals[e] = m[i*ns+j]
			}
		}
		if t, err = be.(backend.Sparser).NewSparse(sw.Rows(), sw.Cols(), rs, ci, vals); err != nil {
			return err
		}
	} else {
		if t, err = sg.Matrix("zeros"); err != nil {
			return err
		}
		if sg.Net().Layout() == core.SxD {
			tm := make([]float32, len(m))
			for i := range nd {
				for j := range ns {
					tm[j*nd+i] = m[i*ns+j]
				}
			}
			m = tm
		}
		if err := be.Write(t, 0, m); err != nil {
			return err
		}
	}
	if en != nil {
		if !plibSameStructure(en, t) {
			return fmt.Errorf("%s on %s: enabled (%s) does not match W (%s)", who, sg.Name(), plibDescribe(en), plibDescribe(t))
		}
		backend.Binary(backend.Mul, en, en, t)
		return nil
	}
	return sg.SetVar("enabled", t)
}

// BoxReceptiveFields is PymoNNto's Box_Receptive_Fields on a synapse
// group: at Initialize, enabled *= (|dx| <= range)(|dy| <= range)(|dz| <=
// range), the distances between source and destination positions in
// float32 (enabled is made as ones if the group has none). Parameters:
// range (required), remove_autapses (False: True also disables i -> i).
// Give it a key before the behaviours that read enabled.
type BoxReceptiveFields struct{ core.Base }

func (b *BoxReceptiveFields) Initialize(o core.Object) error {
	const who = "BoxReceptiveFields"
	f := plibParams{b: &b.Base, who: who}
	r, has := f.opt("range")
	auto := f.boolean("remove_autapses", false)
	if f.err != nil {
		return f.err
	}
	if !has {
		return fmt.Errorf("%s: range is missing; give the largest distance per axis, e.g. range=2", who)
	}
	return receptiveFields(o, who, func(sg *core.SynapseGroup, i, j int) bool {
		dp, sp := structPos(sg.Dst), structPos(sg.Src)
		for a := range 3 {
			if float32(math.Abs(float64(sp[a][j]-dp[a][i]))) > r {
				return false
			}
		}
		return true
	}, auto)
}

func (b *BoxReceptiveFields) Iteration(core.Object) error { return nil }

// CircleReceptiveFields is PymoNNto's Circle_Receptive_Fields: at
// Initialize, enabled *= sqrt(dx*dx + dy*dy + dz*dz) <= radius (float32,
// in that order). Parameters: radius (required), remove_autapses (False).
type CircleReceptiveFields struct{ core.Base }

func (b *CircleReceptiveFields) Initialize(o core.Object) error {
	const who = "CircleReceptiveFields"
	f := plibParams{b: &b.Base, who: who}
	r, has := f.opt("radius")
	auto := f.boolean("remove_autapses", false)
	if f.err != nil {
		return f.err
	}
	if !has {
		return fmt.Errorf("%s: radius is missing; give the largest distance, e.g. radius=2", who)
	}
	return receptiveFields(o, who, func(sg *core.SynapseGroup, i, j int) bool {
		dp, sp := structPos(sg.Dst), structPos(sg.Src)
		var d [3]float32
		for a := range 3 {
			d[a] = float32(math.Abs(float64(sp[a][j] - dp[a][i])))
		}
		s := float32(float32(d[0]*d[0])+float32(d[1]*d[1])) + float32(d[2]*d[2])
		return float32(math.Sqrt(float64(s))) <= r
	}, auto)
}

func (b *CircleReceptiveFields) Iteration(core.Object) error { return nil }

// RemoveAutapses is PymoNNto's Remove_Autapses: at Initialize, enabled *=
// (source index != destination index).
type RemoveAutapses struct{ core.Base }

func (b *RemoveAutapses) Initialize(o core.Object) error {
	return receptiveFields(o, "RemoveAutapses", nil, true)
}

func (b *RemoveAutapses) Iteration(core.Object) error { return nil }

// NOXDiffusion is PymoNNto's NOX_Diffusion (NetworkBehavior/Basics/
// Nox_diffusion.py, trieschlab only), an Instant_Homeostasis of the
// variable nox: the group's grid is split into steps blocks
// (SplitBlocks, 5 x 5 x 1 pieces by default: 25 blocks, not blocks of 5
// x 5 neurons), and each step, for every neuron i of block b,
//
//	m_i = mean of measurement_var over the receptive field of b
//	      (ReceptiveFieldMask, widened by receptive_field on every axis)
//	nox = 0;  nox += Instant_Homeostasis' adjustment for m
//	        with min_th = max_th = th_nox, adj_strength = -eta_nox
//
// so with the defaults nox = 0.002*m for m >= 0. PymoNNto's
// partition_sum reads sg_rf.output_new with sg_rf a boolean mask and
// fails (AttributeError); this is what it means, the mean over the masked
// neurons. The block sums run on the device as a MatVec with the blocks'
// 0/1 receptive-field masks, and a second one hands each neuron its
// block's sum (exact: one term); the division by the field's size and the
// adjustment are one fused kernel. The sums are in the backend's order
// (NumPy: pairwise), which is exact for inputs whose sums are exact.
//
// Parameters: measurement_var ("output_new", which must exist), steps
// ("5,5,1"), receptive_field (5), th_nox (0), eta_nox (0.002), and
// Instant_Homeostasis' distance_sensitive (True), inc (1), dec (1),
// measurement_min, measurement_max, target_clip_min, target_clip_max
// (None). The group gets the variable nox.
type NOXDiffusion struct {
	core.Base
	blocks     []Subgroup
	rf         [][]bool
	r, m       backend.Tensor // blocks x N field masks; N x blocks membership
	bsum, nsum backend.Tensor
	nox, x     backend.Tensor
	step       *core.Kernel
}

// Blocks are the non-empty blocks of the partition.
func (b *NOXDiffusion) Blocks() []Subgroup { return b.blocks }

// Fields are the receptive-field masks of the blocks.
func (b *NOXDiffusion) Fields() [][]bool { return b.rf }

func (b *NOXDiffusion) Initialize(o core.Object) error {
	const who = "NOXDiffusion"
	g, err := plibGroup(o, who)
	if err != nil {
		return err
	}
	f := plibParams{b: &b.Base, who: who}
	th := f.float("th_nox", 0)
	eta := f.float("eta_nox", 0.002)
	rf := f.float("receptive_field", 5)
	distance := f.boolean("distance_sensitive", true)
	inc, dec := f.float("inc", 1), f.float("dec", 1)
	mMin, hasMMin := f.opt("measurement_min")
	mMax, hasMMax := f.opt("measurement_max")
	tMin, hasTMin := f.opt("target_clip_min")
	tMax, hasTMax := f.opt("target_clip_max")
	if f.err != nil {
		return f.err
	}
	spec := b.String("steps", "5,5,1")
	steps, err := structTriple(spec)
	if err != nil {
		return &core.ParamError{Behavior: who, Key: "steps", Value: spec, Err: fmt.Errorf("want %w: pieces along x, y, z", err)}
	}
	if !(rf >= 0) {
		return fmt.Errorf("%s on %s: receptive_field=%v must be >= 0", who, g.Name(), rf)
	}
	meas := b.String("measurement_var", "output_new")
	if err := plibNeedVar(g, who, "measurement_var", meas); err != nil {
		return err
	}
	b.x = g.Var(meas)
	all, err := SplitBlocks(g, steps)
	if err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	b.blocks, b.rf = b.blocks[:0], b.rf[:0]
	for _, s := range all {
		if s.Size() > 0 {
			b.blocks = append(b.blocks, s)
			b.rf = append(b.rf, ReceptiveFieldMask(g, s, [3]float64{float64(rf), float64(rf), float64(rf)}))
		}
	}
	nb, n := len(b.blocks), g.Size
	rm, mm := make([]float32, nb*n), make([]float32, n*nb)
	cnt := make([]float32, n)
	for k, s := range b.blocks {
		c := 0
		for j, in := range b.rf[k] {
			if in {
				rm[k*n+j] = 1
				c++
			}
		}
		for _, i := range s.Index {
			mm[i*nb+k] = 1
			cnt[i] = float32(c)
		}
	}
	be := g.Net().Backend()
	up := func(rows, cols int, v []float32) (backend.Tensor, error) {
		t, err := be.NewTensor(rows, cols)
		if err == nil {
			err = be.Write(t, 0, v)
		}
		return t, err
	}
	if b.r, err = up(nb, n, rm); err != nil {
		return err
	}
	if b.m, err = up(n, nb, mm); err != nil {
		return err
	}
	count, err := up(n, 1, cnt)
	if err != nil {
		return err
	}
	if b.bsum, err = be.NewTensor(nb, 1); err != nil {
		return err
	}
	if b.nsum, err = be.NewTensor(n, 1); err != nil {
		return err
	}
	if err := plibZeros(g, "nox"); err != nil {
		return err
	}
	b.nox = g.Var("nox")
	var src strings.Builder
	// A neuron in no block (possible only through rounding of the block
	// bounds) has PymoNNto's initial 0.
	src.WriteString("_m := _cnt > 0 ? _sum / _cnt : 0\n")
	if hasMMin {
		src.WriteString("_m = max(_m, _mmin)\n")
	}
	if hasMMax {
		src.WriteString("_m = min(_m, _mmax)\n")
	}
	plibAdjustSource(&src, "nox", distance, hasTMin, hasTMax)
	consts := core.Consts{"_min_th": th, "_max_th": th, "_neg_dec": -dec, "_inc": inc, "_adj": -eta,
		"_mmin": mMin, "_mmax": mMax, "_tmin": tMin, "_tmax": tMax}
	b.step, err = core.NewKernelWith(o, src.String(), consts, map[string]backend.Tensor{"_sum": b.nsum, "_cnt": count})
	return err
}

func (b *NOXDiffusion) Iteration(o core.Object) error {
	be := o.Net().Backend()
	backend.Fill(b.nox, 0)
	if len(b.blocks) > 0 {
		be.MatVec(b.bsum, b.r, false, b.x, 1, 0)
		be.MatVec(b.nsum, b.m, false, b.bsum, 1, 0)
	}
	b.step.Run()
	return nil
}
