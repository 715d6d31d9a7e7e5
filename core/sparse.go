package core

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// SparseOption configures SparseMatrix, SparseMatrixInDegree and
// SparseMatrixTotal.
type SparseOption func(*sparseConfig)

type sparseConfig struct {
	noSelf bool
	init   []InitOption
}

// NoSelf leaves out autapses (a neuron connected to itself) in a synapse
// group whose source and destination are the same neuron group. It has no
// effect on other groups.
func NoSelf() SparseOption { return func(c *sparseConfig) { c.noSelf = true } }

// ValueOptions applies init options (Density, Scale) to the values drawn
// from the init string.
func ValueOptions(opts ...InitOption) SparseOption {
	return func(c *sparseConfig) { c.init = append(c.init, opts...) }
}

// SparseMatrix makes a sparse synapse matrix of the group's Shape in which
// every source-destination pair is connected with probability p, with the
// values of the connections drawn from the init string values ("uniform(0,
// 0.5)", "1", ...). The connectivity is drawn on the host from the
// network's seed (one NextKey for the structure, one for the values), so
// it is the same on every backend; no dense matrix is ever built: time and
// memory grow with the number of synapses. The backend must implement
// backend.Sparser.
func (s *SynapseGroup) SparseMatrix(p float64, values string, opts ...SparseOption) (backend.Tensor, error) {
	if !(p >= 0 && p <= 1) {
		return nil, fmt.Errorf("synapse group %q: SparseMatrix: connection probability %v is outside [0, 1]", s.name, p)
	}
	cfg := s.sparseConfig(opts)
	nSrc, nDst := s.Src.Size, s.Dst.Size
	key := s.net.NextKey()
	self := cfg.noSelf && s.Src == s.Dst
	// Sources are the major dimension: one geometric skip per synapse.
	start := make([]int64, nSrc+1)
	idx := make([]int32, 0, int(min(float64(nSrc)*float64(nDst), p*float64(nSrc)*float64(nDst)*1.05+64)))
	logq := math.Log1p(-p)
	for i := range nSrc {
		draw := uint64(0)
		next := func() float64 { // uniform in (0, 1)
			w := rng.Words(key, uint64(i)<<32|draw)
			draw++
			return (float64(uint64(w[0])<<21|uint64(w[1]>>11)) + 0.5) / (1 << 53)
		}
		for j := -1; ; {
			switch {
			case p >= 1:
				j++
			case p <= 0:
				j = nDst
			default:
				g := math.Floor(math.Log(next()) / logq)
				if g >= float64(nDst) {
					j = nDst
				} else {
					j += 1 + int(g)
				}
			}
			if j >= nDst {
				break
			}
			if self && j == i {
				continue
			}
			idx = append(idx, int32(j))
		}
		start[i+1] = int64(len(idx))
	}
	return s.sparseFrom(start, idx, false, values, cfg)
}

// SparseMatrixInDegree makes a sparse synapse matrix in which every
// destination neuron receives exactly k synapses from distinct sources
// chosen at random (with NoSelf, never from itself), with values drawn
// from the init string values. Like SparseMatrix, it draws on the host
// from the network's seed and never builds a dense matrix.
func (s *SynapseGroup) SparseMatrixInDegree(k int, values string, opts ...SparseOption) (backend.Tensor, error) {
	cfg := s.sparseConfig(opts)
	nSrc, nDst := s.Src.Size, s.Dst.Size
	self := cfg.noSelf && s.Src == s.Dst
	cand := nSrc
	if self {
		cand--
	}
	if k < 0 || k > cand {
		return nil, fmt.Errorf("synapse group %q: SparseMatrixInDegree: in-degree %d is outside [0, %d] (the number of possible sources)", s.name, k, cand)
	}
	key := s.net.NextKey()
	// Destinations are the major dimension; Floyd's algorithm draws k
	// distinct sources per destination.
	start := make([]int64, nDst+1)
	idx := make([]int32, 0, nDst*k)
	marked := make([]bool, cand)
	picks := make([]int32, 0, k)
	for j := range nDst {
		draw := uint64(0)
		picks = picks[:0]
		for t := cand - k; t < cand; t++ {
			w := rng.Words(key, uint64(j)<<32|draw)
			draw++
			r := int((uint64(w[0]) * uint64(t+1)) >> 32)
			if marked[r] {
				r = t
			}
			marked[r] = true
			picks = append(picks, int32(r))
		}
		slices.Sort(picks)
		for _, r := range picks {
			marked[r] = false
			if self && int(r) >= j {
				r++ // skip the destination itself
			}
			idx = append(idx, r)
		}
		start[j+1] = int64(len(idx))
	}
	return s.sparseFrom(start, idx, true, values, cfg)
}

func (s *SynapseGroup) sparseConfig(opts []SparseOption) sparseConfig {
	var c sparseConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// sparseDist is the distribution of the values of a sparse matrix: the
// init string values with the ValueOptions of cfg.
func (s *SynapseGroup) sparseDist(values string, cfg sparseConfig) (rng.Dist, error) {
	in, err := ParseInit(values)
	if err != nil {
		return rng.Dist{}, fmt.Errorf("synapse group %q: init string %q: %w", s.name, values, err)
	}
	d := in.Dist()
	for _, o := range cfg.init {
		o(&d)
	}
	if err := d.Validate(); err != nil {
		return rng.Dist{}, fmt.Errorf("synapse group %q: init string %q: %w", s.name, values, err)
	}
	return d, nil
}

// sparseFrom builds the matrix from compressed lists whose major
// dimension is the destinations (dstMajor) or the sources, transposing
// them when the layout's rows are the other dimension, and draws the
// values.
func (s *SynapseGroup) sparseFrom(start []int64, idx []int32, dstMajor bool, values string, cfg sparseConfig) (backend.Tensor, error) {
	sp, ok := s.net.be.(backend.Sparser)
	if !ok {
		return nil, fmt.Errorf("synapse group %q: backend %s does not store sparse matrices; use Matrix with core.Density instead", s.name, s.net.be.Name())
	}
	d, err := s.sparseDist(values, cfg)
	if err != nil {
		return nil, err
	}
	rows, cols := s.Shape()
	rowsAreDst := s.layout == DxS
	major, minor := s.Src.Size, s.Dst.Size
	if dstMajor {
		major, minor = minor, major
	}
	if rowsAreDst != dstMajor {
		start, idx, _ = backend.Transpose(major, minor, start, idx)
	}
	t, err := sp.NewSparse(rows, cols, start, idx, nil)
	if err != nil {
		return nil, fmt.Errorf("synapse group %q: %w", s.name, err)
	}
	if d.Kind == rng.Const && d.Density == 1 {
		if v := d.Scale * d.A; v != 0 {
			backend.Fill(t, v)
		}
		return t, nil
	}
	s.net.be.Random(t, d, s.net.NextKey())
	return t, nil
}
