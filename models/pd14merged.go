package models

import (
	"fmt"
	"runtime"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// The merged form of PD14 (the default; PD14Options.Separate builds the
// other): the eight populations as
// consecutive ranges of one neuron group and the 64 projections as one
// sparse synapse group from that group to itself. It is the same network
// as the form with a group per population, drawn from the same keys:
// the same initial potentials, the same synapses with the same weights
// and delays, the same update. A step then runs a handful of kernels (the
// neuron update, the compaction of the spike mask, the spike scatter and
// the take of the input ring) instead of some eighty, which is what a GPU
// needs: there each kernel costs microseconds of launch and barrier
// whatever its size.

// PD14Offsets are the first neuron of each population in the merged
// group (the populations in PD14Populations order) and, last, the size of
// the group.
func PD14Offsets(sizes [8]int) [9]int {
	var off [9]int
	for i, n := range sizes {
		off[i+1] = off[i] + n
	}
	return off
}

// PD14Neurons is PD14Neuron for all eight populations in one group of
// Sizes[0] + ... + Sizes[7] neurons, population i at PD14Offsets(Sizes)[i]:
// the initial potentials of population i are drawn as PD14Neuron draws
// them (one key per population, in population order), and the DC input
// DC[i] (pA) and, with PoissonExt > 0, the Poisson background thresholds
// of population i are per-neuron tensors instead of constants. Variables
// as PD14Neuron's.
type PD14Neurons struct {
	core.Base
	Sizes      [8]int
	DC         [8]float64
	PoissonExt float64
	u          backend.Tensor
	params     []backend.Tensor // P20_Ie and the thresholds F0.. (per neuron)
	step       *core.Kernel
}

func (p *PD14Neurons) Initialize(o core.Object) error {
	off := PD14Offsets(p.Sizes)
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("PD14Neurons belongs on a neuron group, not %T", o)
	}
	if g.Size != off[8] {
		return fmt.Errorf("PD14Neurons on %q: the group has %d neurons, Sizes sum to %d; make the group as large as all populations together", g.Name(), g.Size, off[8])
	}
	net := g.Net()
	be := net.Backend()
	v, err := o.Vector("zeros")
	if err != nil {
		return err
	}
	if err := o.SetVar("v", v); err != nil {
		return err
	}
	for i, n := range p.Sizes {
		// PD14Neuron's o.Vector("normal(mean, sd)") for population i.
		in, err := core.ParseInit(fmt.Sprintf("normal(%g, %g)", PD14V0Mean[i], PD14V0SD[i]))
		if err != nil {
			return err
		}
		tmp, err := be.NewTensor(n, 1)
		if err != nil {
			return err
		}
		be.Random(tmp, in.Dist(), net.NextKey())
		be.CopyRange(v, off[i], tmp, 0, n)
		tmp.Release()
	}
	if err := pd14Zeros(o); err != nil {
		return err
	}
	// Per-neuron parameters: P20_Ie and, for Poisson input, the
	// thresholds of each population's CDF, padded with 2 (never
	// exceeded by a uniform number) to the longest.
	perPop := [][8]float32{{}}
	for i, dc := range p.DC {
		perPop[0][i] = pd14P20(dc)
	}
	if p.PoissonExt > 0 {
		for i := range 8 {
			for k, f := range PD14PoissonCDF(i) {
				if k+1 >= len(perPop) {
					perPop = append(perPop, [8]float32{2, 2, 2, 2, 2, 2, 2, 2})
				}
				perPop[k+1][i] = float32(f)
			}
		}
	}
	src, consts, err := pd14Program(o, len(perPop)-1, p.PoissonExt)
	if err != nil {
		return err
	}
	extra := map[string]backend.Tensor{}
	host := make([]float32, off[8])
	for k, vals := range perPop {
		for i := range 8 {
			for e := off[i]; e < off[i+1]; e++ {
				host[e] = vals[i]
			}
		}
		t, err := be.NewTensor(off[8], 1)
		if err != nil {
			return err
		}
		p.params = append(p.params, t)
		if err := be.Write(t, 0, host); err != nil {
			return err
		}
		name := "P20_Ie"
		if k > 0 {
			name = fmt.Sprintf("F%d", k-1)
		}
		extra[name] = t
	}
	if p.PoissonExt > 0 {
		if p.u, err = o.Vector("zeros"); err != nil {
			return err
		}
		extra["_u"] = p.u
	}
	p.step, err = core.NewKernelWith(o, src, consts, extra)
	return err
}

func (p *PD14Neurons) Iteration(o core.Object) error {
	pd14Iterate(o, p.u, p.step)
	return nil
}

// PD14AllInput is PD14Input for the merged group: its Initialize draws
// the 64 projections (Counts[tgt][src] synapses of mean weight W and mean
// delay D, as PD14Projection; one key per non-empty projection, in
// PD14Input's order, so each projection is the one of the form with a
// group per population) and stores them as one sparse matrix of the
// synapse group Synapses (from the merged group to itself) with
// per-synapse delays; its Iteration propagates the group's spikes into
// I through them.
type PD14AllInput struct {
	core.Base
	Synapses *core.SynapseGroup
	Sizes    [8]int
	Counts   [8][8]int
	W, D     [8][8]float64
	i        backend.Tensor
}

func (s *PD14AllInput) Initialize(o core.Object) error {
	g, i, err := pd14Target(o, "PD14AllInput", "PD14Neurons")
	if err != nil {
		return err
	}
	s.i = i
	if s.Synapses == nil || s.Synapses.Src != g || s.Synapses.Dst != g {
		return fmt.Errorf("PD14AllInput on %q: Synapses must be a synapse group from %q to itself", g.Name(), g.Name())
	}
	net := g.Net()
	var keys [8][8]rng.Key
	for t := range 8 {
		for j := range 8 {
			if s.Counts[t][j] > 0 {
				keys[t][j] = net.NextKey()
			}
		}
	}
	d := pd14Join(s.spec, keys, s.Sizes, net.Layout())
	w, err := d.sparse(net.Backend())
	if err != nil {
		return fmt.Errorf("PD14: the merged projections: %w", err)
	}
	if err := s.Synapses.SetVar("W", w); err != nil {
		return err
	}
	return s.Synapses.SetDelaySteps32(w, d.steps)
}

// spec is projection [t][j]'s pd14Spec, or false if it is empty.
func (s *PD14AllInput) spec(t, j int) (pd14Spec, bool) {
	return pd14Spec{s.Sizes[j], s.Sizes[t], s.Counts[t][j], s.W[t][j], s.D[t][j]}, s.Counts[t][j] > 0
}

func (s *PD14AllInput) Iteration(o core.Object) error {
	s.Synapses.PropagateDelayed(s.i, s.Synapses.Var("W"), o.Var("fired"), 1)
	return nil
}

// pd14Join draws the projections [t][j] that spec reports (from keys
// [t][j]) and joins them into one matrix over all neurons (population i
// at PD14Offsets(sizes)[i]) in the layout: sources x destinations (SxD)
// or destinations x sources (DxS). Each row of the joined matrix is the
// concatenation of the rows of its population's projections, in order of
// the other population, so the entries of one projection keep their
// order and a row stays sorted. The projections of one row population
// are drawn at a time (in parallel) and freed once copied.
func pd14Join(spec func(t, j int) (pd14Spec, bool), keys [8][8]rng.Key, sizes [8]int, layout core.Layout) pd14Drawn {
	off := PD14Offsets(sizes)
	n := off[8]
	total := 0
	for t := range 8 {
		for j := range 8 {
			if sp, ok := spec(t, j); ok {
				total += sp.N // at least the entries (multapses merge)
			}
		}
	}
	out := pd14Drawn{rows: n, cols: n, start: make([]int64, n+1),
		idx: make([]int32, total), vals: make([]float32, total), steps: make([]int32, total)}
	nnz := int64(0)
	for r := range 8 {
		// The blocks of row population r: column population c is the
		// target (SxD: r the source) or the source (DxS).
		var blocks [8]*pd14Drawn
		var have []int
		for c := range 8 {
			t, j := c, r
			if layout == core.DxS {
				t, j = r, c
			}
			if _, ok := spec(t, j); ok {
				have = append(have, c)
			}
		}
		parallelFor(len(have), func(h int) {
			c := have[h]
			t, j := c, r
			if layout == core.DxS {
				t, j = r, c
			}
			sp, _ := spec(t, j)
			d := sp.draw(keys[t][j], layout)
			blocks[c] = &d
		})
		start := out.start[off[r] : off[r+1]+1]
		for i := range sizes[r] {
			m := int64(0)
			for _, c := range have {
				m += blocks[c].start[i+1] - blocks[c].start[i]
			}
			start[i+1] = start[i] + m
		}
		rowChunks := pd14RowChunks(start)
		parallelFor(len(rowChunks)-1, func(k int) {
			for i := rowChunks[k]; i < rowChunks[k+1]; i++ {
				at := start[i]
				for _, c := range have {
					b := blocks[c]
					lo, hi := b.start[i], b.start[i+1]
					for e := lo; e < hi; e++ {
						out.idx[at+e-lo] = b.idx[e] + int32(off[c])
					}
					copy(out.vals[at:], b.vals[lo:hi])
					copy(out.steps[at:], b.steps[lo:hi])
					at += hi - lo
				}
			}
		})
		nnz = start[sizes[r]]
		// Collect this population's drawn projections now rather than
		// when the heap has doubled (GOGC): they are most of the garbage
		// of a build, and the next population draws as much again.
		blocks = [8]*pd14Drawn{}
		runtime.GC()
	}
	out.idx, out.vals, out.steps = out.idx[:nnz], out.vals[:nnz], out.steps[:nnz]
	return out
}
