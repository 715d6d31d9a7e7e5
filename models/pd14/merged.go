package pd14

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core"
)

// The merged form of PD14 (the default; Options.Separate builds the
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

// Offsets are the first neuron of each population in the merged
// group (the populations in Populations order) and, last, the size of
// the group.
func Offsets(sizes [8]int) [9]int {
	var off [9]int
	for i, n := range sizes {
		off[i+1] = off[i] + n
	}
	return off
}

// Neurons is Neuron for all eight populations in one group of
// Sizes[0] + ... + Sizes[7] neurons, population i at Offsets(Sizes)[i]:
// the initial potentials of population i are drawn as Neuron draws
// them (one key per population, in population order), and the DC input
// DC[i] (pA) and, with PoissonExt > 0, the Poisson background thresholds
// of population i are per-neuron tensors instead of constants. Variables
// as Neuron's.
type Neurons struct {
	core.Base
	Sizes      [8]int
	DC         [8]float64
	PoissonExt float64
	u          backend.Tensor
	params     []backend.Tensor // P20_Ie and the thresholds F0.. (per neuron)
	step       *core.Kernel
}

func (p *Neurons) Initialize(o core.Object) error {
	off := Offsets(p.Sizes)
	g, ok := o.(*core.NeuronGroup)
	if !ok {
		return fmt.Errorf("pd14.Neurons belongs on a neuron group, not %T", o)
	}
	if g.Size != off[8] {
		return fmt.Errorf("pd14.Neurons on %q: the group has %d neurons, Sizes sum to %d; make the group as large as all populations together", g.Name(), g.Size, off[8])
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
		// Neuron's o.Vector("normal(mean, sd)") for population i.
		in, err := core.ParseInit(fmt.Sprintf("normal(%g, %g)", V0Mean[i], V0SD[i]))
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
	if err := zeros(o); err != nil {
		return err
	}
	// Per-neuron parameters: P20_Ie and, for Poisson input, the
	// thresholds of each population's CDF, padded with 2 (never
	// exceeded by a uniform number) to the longest.
	perPop := [][8]float32{{}}
	for i, dc := range p.DC {
		perPop[0][i] = p20(dc)
	}
	if p.PoissonExt > 0 {
		for i := range 8 {
			for k, f := range PoissonCDF(i) {
				if k+1 >= len(perPop) {
					perPop = append(perPop, [8]float32{2, 2, 2, 2, 2, 2, 2, 2})
				}
				perPop[k+1][i] = float32(f)
			}
		}
	}
	src, consts, err := program(o, len(perPop)-1, p.PoissonExt)
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

func (p *Neurons) Iteration(o core.Object) error {
	iterate(o, p.u, p.step)
	return nil
}

// AllInput is Input for the merged group: its Initialize draws
// the 64 projections (Counts[tgt][src] synapses of mean weight W and mean
// delay D, as Projection; one key per non-empty projection, in
// Input's order, so each projection is the one of the form with a
// group per population) and stores them as one sparse matrix of the
// synapse group Synapses (from the merged group to itself) with
// per-synapse delays; its Iteration propagates the group's spikes into
// I through them.
type AllInput struct {
	core.Base
	Synapses *core.SynapseGroup
	Sizes    [8]int
	Counts   [8][8]int
	W, D     [8][8]float64
	i        backend.Tensor
}

func (s *AllInput) Initialize(o core.Object) error {
	g, i, err := target(o, "pd14.AllInput", "pd14.Neurons")
	if err != nil {
		return err
	}
	s.i = i
	if s.Synapses == nil || s.Synapses.Src != g || s.Synapses.Dst != g {
		return fmt.Errorf("pd14.AllInput on %q: Synapses must be a synapse group from %q to itself", g.Name(), g.Name())
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
	d := core.TotalBlocks(s.Sizes[:], func(t, j int) core.Total {
		if s.Counts[t][j] == 0 {
			return core.Total{}
		}
		return spec{s.Sizes[j], s.Sizes[t], s.Counts[t][j], s.W[t][j], s.D[t][j]}.total(keys[t][j])
	}, net.Layout())
	return store(s.Synapses, d)
}

func (s *AllInput) Iteration(o core.Object) error {
	s.Synapses.PropagateDelayed(s.i, s.Synapses.Var("W"), o.Var("fired"), 1)
	return nil
}
