package ui

import (
	"math"
	"sort"

	"github.com/gomonnto/gomonnto/core"
)

// A history is a ring of the newest records of something recorded every
// step: a series (width values per step) or spikes (indices per step).
// The session appends to it once per frame; each client has a cursor into
// it, so a client that missed frames or reconnects gets what it lacks and
// nothing twice.
type history struct {
	id    string
	name  string // group/expression, for exports
	label string
	cap   int
	total int // records appended since the last reset
	epoch int // resets so far
	width int // series: values per record; spikes: 0
	iters []int
	vals  []float32 // series: cap*width
	idx   [][]int32 // spikes: the neurons that spiked, per record
	rows  int       // spikes: rows of the raster (indices are rows)
	n     int       // spikes: neurons of the group
}

func newSeries(id, label string, capacity, width int) *history {
	return &history{id: id, label: label, cap: capacity, width: width, iters: make([]int, capacity), vals: make([]float32, capacity*width)}
}

func newSpikes(id, label string, capacity, n, rows int) *history {
	return &history{id: id, label: label, cap: capacity, iters: make([]int, capacity), idx: make([][]int32, capacity), n: n, rows: rows}
}

// last is the iteration of the newest record (-1 if none).
func (h *history) last() int {
	if h.total == 0 {
		return -1
	}
	return h.iters[(h.total-1)%h.cap]
}

func (h *history) appendSeries(it int, v []float32) {
	k := h.total % h.cap
	h.iters[k] = it
	copy(h.vals[k*h.width:(k+1)*h.width], v)
	h.total++
}

func (h *history) appendSpikes(it int, rows []int32) {
	k := h.total % h.cap
	h.iters[k] = it
	h.idx[k] = append(h.idx[k][:0], rows...)
	h.total++
}

// reset empties the history (a new time course starts).
func (h *history) reset() {
	h.total = 0
	h.epoch++
}

// encode writes records [from, to) into p and returns the JSON head.
func (h *history) encode(p *part, from, to int) map[string]any {
	its := make([]int, 0, to-from)
	head := map[string]any{"from": from, "to": to}
	if h.idx == nil {
		vals := make([]float32, 0, (to-from)*h.width)
		for r := from; r < to; r++ {
			k := r % h.cap
			its = append(its, h.iters[k])
			vals = append(vals, h.vals[k*h.width:(k+1)*h.width]...)
		}
		head["it"] = p.Ints(its)
		head["v"] = p.F32(vals)
		return head
	}
	// Spikes travel as raster rows: neuron i of n is row i*rows/n.
	counts := make([]int32, 0, to-from)
	var all, tmp []int32
	for r := from; r < to; r++ {
		k := r % h.cap
		its = append(its, h.iters[k])
		if h.rows >= h.n {
			counts = append(counts, int32(len(h.idx[k])))
			all = append(all, h.idx[k]...)
			continue
		}
		tmp = tmp[:0]
		for _, i := range h.idx[k] {
			tmp = append(tmp, int32(int(i)*h.rows/h.n))
		}
		sortDedup(&tmp)
		counts = append(counts, int32(len(tmp)))
		all = append(all, tmp...)
	}
	head["it"] = p.Ints(its)
	head["c"] = p.I32(counts)
	head["idx"] = p.I32(all)
	return head
}

// spec describes the history to clients.
func (h *history) spec() map[string]any {
	m := map[string]any{"id": h.id, "label": h.label, "cap": h.cap}
	if h.idx == nil {
		m["kind"], m["width"] = "series", h.width
	} else {
		m["kind"], m["rows"], m["n"] = "spikes", h.rows, h.n
	}
	return m
}

// seriesSince copies the newest k records' column col (a time course).
func (h *history) column(col, k int) (its []int, v []float32) {
	from := max(h.total-k, h.total-h.cap, 0)
	for r := from; r < h.total; r++ {
		i := r % h.cap
		its = append(its, h.iters[i])
		v = append(v, h.vals[i*h.width+col])
	}
	return its, v
}

// recSource feeds a history from a core recorder of one expression.
type recSource struct {
	h    *history
	rec  *core.Recorder
	expr string
	obj  core.Object
	tmp  []int32
}

// pull moves the recorder's new records into the history and clears the
// recorder.
func (r *recSource) pull() error {
	if r.rec.IsEvents() {
		ev, err := r.rec.Events(r.expr)
		if err != nil {
			return err
		}
		r.pullEvents(ev)
	} else {
		s, err := r.rec.Series(r.expr)
		if err != nil {
			return err
		}
		last := r.h.last()
		for t := 0; t < s.Len(); t++ {
			if s.Iterations[t] > last {
				r.h.appendSeries(s.Iterations[t], s.Row(t))
			}
		}
	}
	r.rec.Clear()
	return nil
}

// pullEvents appends one record per step, from the step after the
// history's last to the network's iteration (steps without spikes too).
func (r *recSource) pullEvents(ev *core.Events) {
	last := r.h.last()
	now := r.obj.Net().Iteration
	if last < 0 || now-last > r.h.cap {
		last = max(now-r.h.cap, 0)
	}
	k := sort.SearchInts(ev.Iterations, last+1)
	for it := last + 1; it <= now; it++ {
		r.tmp = r.tmp[:0]
		for ; k < len(ev.Iterations) && ev.Iterations[k] == it; k++ {
			r.tmp = append(r.tmp, int32(ev.Indices[k]))
		}
		r.h.appendSpikes(it, r.tmp)
	}
}

func sortDedup(x *[]int32) {
	s := *x
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	*x = out
}

// walk copies the maps and slices of v, replacing each leaf by leaf(x).
func walk(v any, leaf func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = walk(e, leaf)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = walk(e, leaf)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = walk(e, leaf)
		}
		return out
	}
	return leaf(v)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// jsonSafe makes v JSON-safe for /api/frame: NaN and infinities become null.
func jsonSafe(v any) any {
	return walk(v, func(v any) any {
		switch x := v.(type) {
		case []float32:
			out := make([]any, len(x))
			for i, e := range x {
				if finite(float64(e)) {
					out[i] = e
				}
			}
			return out
		case []float64:
			out := make([]any, len(x))
			for i, e := range x {
				if finite(e) {
					out[i] = e
				}
			}
			return out
		case float64:
			if !finite(x) {
				return nil
			}
		case float32:
			if !finite(float64(x)) {
				return nil
			}
		}
		return v
	})
}

// toBlobs replaces the typed arrays in v by blob stand-ins in p.
func toBlobs(v any, p *part) any {
	return walk(v, func(v any) any {
		switch x := v.(type) {
		case []float32:
			return p.F32(x)
		case []float64:
			return p.F64(x)
		case []int32:
			return p.I32(x)
		case []int:
			return p.Ints(x)
		case []uint8:
			return p.U8(x)
		case float64:
			if !finite(x) {
				return nil
			}
		case float32:
			if !finite(float64(x)) {
				return nil
			}
		}
		return v
	})
}
