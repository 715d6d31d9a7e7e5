package core

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// HostSparse is a sparse synapse matrix drawn on the host, before it is
// stored on a backend: Rows x Cols in a network layout (SxD: sources x
// destinations; DxS: destinations x sources), compressed by rows. The
// entries of row r are Idx[Start[r]:Start[r+1]], in increasing column
// order, with values Vals and, where Steps is not nil, delays Steps (in
// steps, for SynapseGroup.SetDelaySteps32).
type HostSparse struct {
	Rows, Cols int
	Start      []int64
	Idx        []int32
	Vals       []float32
	Steps      []int32
}

// Store stores h's matrix on be, handing its slices over where be adopts
// them (backend.SparseAdopter: no copy at the peak of a build). h keeps
// only its Steps.
func (h *HostSparse) Store(be backend.Backend) (backend.SparseTensor, error) {
	var w backend.SparseTensor
	var err error
	switch sp := be.(type) {
	case backend.SparseAdopter:
		w, err = sp.AdoptSparse(h.Rows, h.Cols, h.Start, h.Idx, h.Vals)
	case backend.Sparser:
		w, err = sp.NewSparse(h.Rows, h.Cols, h.Start, h.Idx, h.Vals)
	default:
		return nil, fmt.Errorf("backend %s does not store sparse matrices; use -backend=cpu or -backend=gl", be.Name())
	}
	h.Start, h.Idx, h.Vals = nil, nil, nil
	return w, err
}

// Total is the "fixed total number" connectivity rule (NEST's
// fixed_total_number, GeNN's FixedNumberTotal): N synapses from Src
// sources to Dst destinations, synapse k joining source floor(w0 Src /
// 2^32) to destination floor(w1 Dst / 2^32), where w0 and w1 are the first
// two words of rng.Words(Key, k). Multapses (several synapses on one pair)
// and autapses occur. The matrix holds one entry per pair: the sum of its
// synapses' values (in order of k) and the delay of its first synapse
// (the lowest k), so the total input is kept, the spread of its arrival
// times is not.
//
// Value and Delay draw synapse k's value and delay (in steps); they must
// depend on k alone, so that the result is the same on any number of
// cores, and if they draw from Key they must use counters outside [0, N).
// Without Value every synapse is 1 (a pair's value counts its synapses);
// without Delay the matrix has no Steps. N must be below 2^32.
type Total struct {
	Src, Dst, N int
	Key         rng.Key
	Value       func(k int) float32
	Delay       func(k int) int32
}

// Draw draws the rule in layout on the host, in parallel over chunks of
// synapses and of rows; the result is the same as one loop's in order,
// whatever the number of cores: synapse k draws from its own counter,
// and each row keeps its synapses in order of k. It touches no backend,
// so several rules may be drawn at once.
func (p Total) Draw(layout Layout) HostSparse {
	nSrc, nDst := p.Src, p.Dst
	value, delay := p.Value, p.Delay
	if value == nil {
		value = func(int) float32 { return 1 }
	}
	// Counting sort by source, keeping (target, synapse) pairs: each chunk
	// of synapses counts its sources, and the chunks' counts are laid out
	// in chunk order within every source's range.
	src, dst := make([]int32, p.N), make([]int32, p.N)
	chunks := splitEven(p.N)
	counts := make([][]int64, len(chunks)-1)
	parallelFor(len(counts), func(c int) {
		cnt := make([]int64, nSrc)
		for k := chunks[c]; k < chunks[c+1]; k++ {
			w := rng.Words(p.Key, uint64(k))
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
	// Rows in chunks: sort each row by target and count its distinct
	// targets (a multapse is one entry), then fill the entries.
	rowChunks := splitRows(start)
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
	idx, vals := make([]int32, nnz), make([]float32, nnz)
	var steps []int32
	if delay != nil {
		steps = make([]int32, nnz)
	}
	parallelFor(len(rowChunks)-1, func(c int) {
		for i := rowChunks[c]; i < rowChunks[c+1]; i++ {
			row := pairs[start[i]:start[i+1]]
			at := cstart[i] - 1
			for e, x := range row {
				dst, k := int32(x>>32), int(x&0xffffffff)
				if e > 0 && int32(row[e-1]>>32) == dst {
					vals[at] += value(k)
					continue
				}
				at++
				idx[at], vals[at] = dst, value(k)
				if steps != nil {
					steps[at] = delay(k)
				}
			}
		}
	})
	pairs = nil
	d := HostSparse{Rows: nSrc, Cols: nDst, Start: cstart, Idx: idx, Vals: vals, Steps: steps}
	if layout == DxS {
		var perm []int32
		d.Start, d.Idx, perm = backend.Transpose(nSrc, nDst, cstart, idx)
		d.Vals = make([]float32, len(perm))
		for k, e := range perm {
			d.Vals[k] = vals[e]
		}
		if steps != nil {
			d.Steps = make([]int32, len(perm))
			for k, e := range perm {
				d.Steps[k] = steps[e]
			}
		}
		d.Rows, d.Cols = nDst, nSrc
	}
	return d
}

// TotalBlocks draws a block matrix of Total rules over groups of neurons
// laid end to end (group i from offset sizes[0] + ... + sizes[i-1]), as
// one matrix over all neurons in layout: block(dst, src) is the rule from
// group src to group dst (Src = sizes[src], Dst = sizes[dst]; N = 0 for
// none), and the joined matrix's block of those groups is that rule's
// Draw, entry for entry. Each row of the joined matrix is the
// concatenation of the rows of its group's blocks, in order of the other
// group, so a row stays sorted. The blocks of one row group are drawn at
// a time (in parallel) and freed once copied; the rules must all have
// Steps or all none. This is how one synapse group holds the projections
// between populations that are ranges of one neuron group.
func TotalBlocks(sizes []int, block func(dst, src int) Total, layout Layout) HostSparse {
	groups := len(sizes)
	off := make([]int, groups+1)
	for i, n := range sizes {
		off[i+1] = off[i] + n
	}
	n := off[groups]
	total, withSteps := 0, false
	for t := range groups {
		for j := range groups {
			if b := block(t, j); b.N > 0 {
				total += b.N // at least the entries (multapses merge)
				withSteps = withSteps || b.Delay != nil
			}
		}
	}
	out := HostSparse{Rows: n, Cols: n, Start: make([]int64, n+1),
		Idx: make([]int32, total), Vals: make([]float32, total)}
	if withSteps {
		out.Steps = make([]int32, total)
	}
	// rule is the block of row group r and column group c: c is the
	// destination (SxD: r the source) or the source (DxS).
	rule := func(r, c int) Total {
		if layout == DxS {
			return block(r, c)
		}
		return block(c, r)
	}
	nnz := int64(0)
	for r := range groups {
		blocks := make([]*HostSparse, groups)
		var have []int
		for c := range groups {
			if rule(r, c).N > 0 {
				have = append(have, c)
			}
		}
		parallelFor(len(have), func(h int) {
			d := rule(r, have[h]).Draw(layout)
			blocks[have[h]] = &d
		})
		start := out.Start[off[r] : off[r+1]+1]
		for i := range sizes[r] {
			m := int64(0)
			for _, c := range have {
				m += blocks[c].Start[i+1] - blocks[c].Start[i]
			}
			start[i+1] = start[i] + m
		}
		rowChunks := splitRows(start)
		parallelFor(len(rowChunks)-1, func(k int) {
			for i := rowChunks[k]; i < rowChunks[k+1]; i++ {
				at := start[i]
				for _, c := range have {
					b := blocks[c]
					lo, hi := b.Start[i], b.Start[i+1]
					for e := lo; e < hi; e++ {
						out.Idx[at+e-lo] = b.Idx[e] + int32(off[c])
					}
					copy(out.Vals[at:], b.Vals[lo:hi])
					if out.Steps != nil {
						copy(out.Steps[at:], b.Steps[lo:hi])
					}
					at += hi - lo
				}
			}
		})
		nnz = start[sizes[r]]
		// Collect this group's drawn blocks now rather than when the heap
		// has doubled (GOGC): they are most of the garbage of a build, and
		// the next group draws as much again.
		blocks = nil
		runtime.GC()
	}
	out.Idx, out.Vals = out.Idx[:nnz], out.Vals[:nnz]
	if out.Steps != nil {
		out.Steps = out.Steps[:nnz]
	}
	return out
}

// SparseMatrixTotal makes a sparse synapse matrix of exactly n synapses
// (the fixed-total-number rule, Total: each synapse's source and
// destination drawn uniformly and independently, so multapses and
// autapses occur), synapse k's value drawn from the init string values
// as element k of a random fill; a pair's entry holds the sum of its
// synapses' values. Like SparseMatrix, it draws on the host from the
// network's seed (one NextKey for the structure, one for the values), in
// parallel on all cores with the same result on any number, and never
// builds a dense matrix. NoSelf is refused: the rule draws autapses. The
// backend must implement backend.Sparser.
func (s *SynapseGroup) SparseMatrixTotal(n int, values string, opts ...SparseOption) (backend.Tensor, error) {
	if n < 0 || int64(n) >= 1<<32 {
		return nil, fmt.Errorf("synapse group %q: SparseMatrixTotal: %d synapses is outside [0, 2^32)", s.name, n)
	}
	if n > 0 && (s.Src.Size == 0 || s.Dst.Size == 0) {
		return nil, fmt.Errorf("synapse group %q: SparseMatrixTotal: %d synapses between %d sources and %d destinations", s.name, n, s.Src.Size, s.Dst.Size)
	}
	cfg := s.sparseConfig(opts)
	if cfg.noSelf {
		return nil, fmt.Errorf("synapse group %q: SparseMatrixTotal draws autapses; NoSelf is not supported", s.name)
	}
	if _, ok := s.net.be.(backend.Sparser); !ok {
		return nil, fmt.Errorf("synapse group %q: backend %s does not store sparse matrices; use Matrix with core.Density instead", s.name, s.net.be.Name())
	}
	d, err := s.sparseDist(values, cfg)
	if err != nil {
		return nil, err
	}
	key, valKey := s.net.NextKey(), s.net.NextKey()
	h := Total{Src: s.Src.Size, Dst: s.Dst.Size, N: n, Key: key,
		Value: func(k int) float32 { return rng.Sample(d, valKey, uint64(k)) }}.Draw(s.layout)
	t, err := h.Store(s.net.be)
	if err != nil {
		return nil, fmt.Errorf("synapse group %q: %w", s.name, err)
	}
	return t, nil
}

// splitEven splits [0, n) into chunks of at least 1<<16, at most 4 per
// core: the boundaries.
func splitEven(n int) []int {
	parts := max(1, min(4*runtime.GOMAXPROCS(0), n>>16))
	b := make([]int, parts+1)
	for c := range b {
		b[c] = int(int64(n) * int64(c) / int64(parts))
	}
	return b
}

// splitRows splits the rows of a compressed matrix into chunks of about
// equal numbers of entries (splitEven over the entries, cut at row
// boundaries): the row boundaries.
func splitRows(start []int64) []int {
	rows := len(start) - 1
	by := splitEven(int(start[rows] - start[0]))
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
