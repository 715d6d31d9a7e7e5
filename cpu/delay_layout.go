package cpu

import (
	"math"
	"runtime"
	"slices"

	"github.com/gomonnto/gomonnto/backend"
)

// A layout is W's entries reordered for sending whole groups of them: per
// source, by delay, then by part of the destinations, then in W's order,
// each entry a (destination, value) pair. PropagateDelayed then sends one
// reference per (spiking source, delay, part) instead of one event per
// entry, and TakeSlot reads the referenced entries in place: a spike costs
// a few dozen appends instead of thousands (PD14: ~4,000 synapses in ~50
// delays per spike), and no entry is written twice. A layout whose groups
// are too short for that (minRun) is sent as events, read in order from
// the layout (PD14 at full scale, 25 of 55 projections, 9% of the
// synapses: sending them from W's column form, which reads the values
// at scattered places, took ~45% of the time spent sending). The values
// are a copy, valid while W's values do not change (tensor.gen): a layout
// is made for a W that kept its values over minStable sends, and dropped
// for events as soon as W changes, so a plastic W is sent as events.
type layout struct {
	start []int64 // source i's entries are [start[i], start[i+1]) (W's index)
	// segs[segStart[i]:segStart[i+1]] are the non-empty (delay, part)
	// groups of source i's entries, in order.
	segStart []int64
	segs     []seg
	np       int     // parts
	ent      []event // the entries, ordered
	nk       int     // delays 0..nk-1
	stride   int     // np*nk + 1 (groups per source + 1)
	bounds   []int
	gen      uint64 // W's values' gen when copied
	// events: the groups are too small for references (minRun), so the
	// entries are sent as events, and the layout holds no entries, only,
	// for the column form (whose values and delays W holds in row order,
	// at scattered places for a column), cv and cdl: the values and
	// delays in column order (nil for the row form, read from W itself).
	events bool
	cv     []float32
	cdl    []uint8
}

// seg is a group of entries of one source with one delay k in part p.
type seg struct{ k, p, n uint16 }

// layState is how a delays object sends in one direction.
type layState struct {
	lay    *layout
	gen    uint64 // W's gen at the last send
	stable int    // sends since W's gen last changed
	never  bool   // the layout cannot be made (too long a source)
}

// The cpu's strategies for delayed propagation (Options.Propagation). By
// default a W starts on events and gets a layout after minStable sends
// with unchanged values; the layout is sent by reference unless its runs
// are shorter than minRun, then as events read from it.
const (
	// StrategyEvents sends one event per synapse, read from W's own form.
	// It applies to every W.
	StrategyEvents = "events"
	// StrategyLayoutEvents sends one event per synapse, read in order from
	// a copy of W's values and delays in column order. It applies to a W
	// sent from its columns (DxS, trans false) with delays below 256 steps
	// whose values have not changed since the previous send and whose
	// sources each have fewer than 65,536 entries (W's rows are already in
	// order: from them it is StrategyEvents).
	StrategyLayoutEvents = "layout-events"
	// StrategyReferences sends one reference per (source, delay, part) run
	// of W's layout. It applies to a W whose values have not changed since
	// the previous send and whose sources each have fewer than 65,536
	// entries.
	StrategyReferences = "references"
)

var _ backend.StrategyReporter = (*Backend)(nil)

// Strategy names how the last PropagateDelayed with dls sent its spikes.
func (b *Backend) Strategy(dls backend.Delays) string {
	d, ok := dls.(*delays)
	if !ok || d == nil {
		panic(backend.Misusef("cpu", "Strategy", "the delays were not made by a cpu backend's NewDelays"))
	}
	return d.last
}

// minStable is the number of sends with unchanged W values after which
// a layout is made.
const minStable = 3

// minRun is the fewest entries per (source, delay, part) group, on
// average, for which a layout is sent by reference: a reference costs
// about what a few events cost, so a W whose sources spread few entries
// over many delays is sent as events, read from its layout (measured with
// go test ./cpu -bench PropagateDelayed and on PD14: bench/RESULTS.md).
const minRun = 4

// layoutFor returns the layout to send with, given W's gen, or nil to send
// events.
func (d *delays) layoutFor(b *Backend, trans bool, bounds []int, gen uint64) *layout {
	k := 0
	if trans {
		k = 1
	}
	st := &d.lays[k]
	if st.never {
		return nil
	}
	if gen != st.gen {
		st.gen, st.stable, st.lay = gen, 0, nil
	}
	st.stable++
	if st.lay != nil && slices.Equal(st.lay.bounds, bounds) {
		return st.lay
	}
	switch b.strategy {
	case StrategyEvents:
		return nil
	case StrategyLayoutEvents, StrategyReferences:
		if st.stable < 2 { // (W changed since the previous send)
			return nil
		}
	default:
		if st.stable < minStable {
			return nil
		}
	}
	st.lay = d.makeLayout(b, trans, bounds, gen)
	st.never = st.lay == nil
	return st.lay
}

// makeLayout builds the layout of d's W (nil if a source has 65,536
// entries or more or W 2^31 entries or more), to be sent as events if its
// groups have fewer than minRun entries on average.
func (d *delays) makeLayout(b *Backend, trans bool, bounds []int, gen uint64) *layout {
	s := d.s
	start, idx, n := s.rowStart, s.colIdx, s.rows
	if !trans {
		s.transposed()
		start, idx, n = s.colStart, s.rowIdx, s.cols
	}
	nnz := len(idx)
	if nnz >= math.MaxInt32 {
		return nil
	}
	for i := range n {
		if int(start[i+1]-start[i]) >= math.MaxUint16 {
			return nil
		}
	}
	np := len(bounds) - 1
	L := &layout{start: start, nk: d.longest + 1, bounds: slices.Clone(bounds), gen: gen}
	if L.nk > math.MaxUint16 || np > math.MaxUint16 {
		return nil
	}
	L.np, L.stride = np, np*L.nk+1
	// The entries are read at scattered places: on 4 KiB pages nearly
	// every reference would miss the TLB.
	var free func()
	L.ent, free = hugeSlice[event](nnz)
	// Two passes: the entries and the groups' sizes (as offsets, 2
	// bytes per group), then the non-empty groups.
	j := &layoutJob{L: L, d: d, trans: trans, idx: idx, v: s.vals.data, off: make([]uint16, n*L.stride)}
	k := b.parts(nnz, 1<<16)
	b.split(j, n, k, 1)
	L.segStart = make([]int64, n+1)
	for i := range n {
		off := j.off[i*L.stride : (i+1)*L.stride]
		c := 0
		for g := range L.stride - 1 {
			if off[g] != off[g+1] {
				c++
			}
		}
		L.segStart[i+1] = L.segStart[i] + int64(c)
	}
	if b.strategy == StrategyLayoutEvents || b.strategy != StrategyReferences && int64(nnz) < minRun*L.segStart[n] {
		// Too short for references: events.
		free()
		L = &layout{events: true, bounds: L.bounds, gen: gen}
		if !trans && d.small != nil {
			L.cv, L.cdl = make([]float32, nnz), make([]uint8, nnz)
			b.split(&copyColumnsJob{L: L, d: d}, nnz, b.parts(nnz, grainElementwise), 1)
		}
		return L
	}
	var freeSegs func()
	L.segs, freeSegs = hugeSlice[seg](int(L.segStart[n]))
	runtime.AddCleanup(L, func(f [2]func()) { f[0](); f[1]() }, [2]func(){free, freeSegs})
	j.pass = 1
	b.split(j, n, k, 1)
	return L
}

// copyColumnsJob copies the values and delays of W's entries [lo, hi) in
// column order into L.cv and L.cdl.
type copyColumnsJob struct {
	L *layout
	d *delays
}

func (j *copyColumnsJob) run(_, lo, hi int) {
	v, small := j.d.s.vals.data, j.d.small
	for e, x := range j.d.s.perm[lo:hi] {
		j.L.cv[lo+e], j.L.cdl[lo+e] = v[x], small[x]
	}
}

// layoutJob fills the layout of sources [lo, hi).
type layoutJob struct {
	L     *layout
	d     *delays
	trans bool
	idx   []int32
	v     []float32
	off   []uint16 // off[i*stride + k*np + p]: offset of (delay k, part p) in source i's entries
	pass  int
}

func (j *layoutJob) run(_, lo, hi int) {
	L, s := j.L, j.d.s
	if j.pass == 1 {
		for i := lo; i < hi; i++ {
			off := j.off[i*L.stride : (i+1)*L.stride]
			segs := L.segs[L.segStart[i]:L.segStart[i+1]]
			c := 0
			for g := range L.stride - 1 {
				if off[g] != off[g+1] {
					segs[c] = seg{k: uint16(g / L.np), p: uint16(g % L.np), n: off[g+1] - off[g]}
					c++
				}
			}
		}
		return
	}
	np := len(L.bounds) - 1
	cnt := make([]int, L.stride)
	for i := lo; i < hi; i++ {
		e0, e1 := L.start[i], L.start[i+1]
		clear(cnt)
		p := 0
		key := func(e int64) int {
			x := e
			if !j.trans {
				x = int64(s.perm[e])
			}
			if int(j.idx[e]) < L.bounds[p] {
				p = 0
			}
			for p+1 < np && int(j.idx[e]) >= L.bounds[p+1] {
				p++
			}
			return j.d.step(int(x))*np + p
		}
		for e := e0; e < e1; e++ {
			cnt[key(e)+1]++
		}
		for k := 1; k < L.stride; k++ {
			cnt[k] += cnt[k-1]
		}
		off := j.off[i*L.stride : (i+1)*L.stride]
		for k := range off {
			off[k] = uint16(cnt[k])
		}
		p = 0
		for e := e0; e < e1; e++ {
			x := e
			if !j.trans {
				x = int64(s.perm[e])
			}
			k := key(e)
			L.ent[e0+int64(cnt[k])] = event{j.idx[e], j.v[x]}
			cnt[k]++
		}
	}
}
