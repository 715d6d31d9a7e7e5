package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
)

// RecorderOptions configure a Recorder or EventRecorder.
type RecorderOptions struct {
	// Tag holds the recorder's comma-separated tags.
	Tag string
	// Gap records every Gap-th step (every step if 0 or 1); the steps
	// between cost nothing.
	Gap int
	// MaxLength keeps only the newest MaxLength records (all if 0); older
	// ones are dropped in batches, so memory stays below twice MaxLength
	// records without a copy per step.
	MaxLength int
	// Block is the number of records kept on the device before they are
	// read back in one transfer (100 if 0).
	Block int
	// Transient leaves the recorder out of the network's state
	// (snapshots, checkpoints): for a live view's recorders, which a
	// resumed run may not have.
	Transient bool
}

// Recorder records variables, slices and reductions of its object every
// step (or every Gap steps), as PymoNNto's Recorder does: "v" records the
// whole vector, "v[0:10]" elements 0 to 9, "mean(v)", "sum(v)", "max(v)",
// "min(v)" and "count(v)" one number, of the whole vector or of a slice
// ("mean(v[0:100])"; "np.mean(v)" is accepted too). Records stay on the
// device (reductions and slices are computed there) and are read back
// every Block records, so recording costs no per-step host transfer.
//
// An EventRecorder records the non-zero elements of masks (spikes) as
// (iteration, index) events. On backends that gather events
// (backend.EventGatherer: cpu and gl) its cost per step grows with the
// spikes, not with the size of the mask.
//
// The recorded variable names are tags: core.Get[*core.Series](net, "v", 0)
// returns the series of the first recorder holding "v".
type Recorder struct {
	Base
	opt    RecorderOptions
	exprs  []string
	events bool
	items  []*recItem
	obj    Object
	rows   int   // records in the device block
	iters  []int // iterations of the device block's records
}

// recItem is one recorded expression.
type recItem struct {
	name   string
	varN   string
	op     backend.ReduceOp
	red    bool
	lo, hi int // the slice [lo, hi) of the variable (hi < 0: to its end)
	width  int
	buf    backend.Tensor // Block x width on the device
	part   backend.Tensor // the slice of a reduction over part of the variable
	log    backend.EventLog
	host   []float32 // records x width
	hits   []int     // iteration of each record
	ev     eventStore
	tmp    []float32
}

// NewRecorder records the given variables and expressions.
func NewRecorder(exprs []string, opt RecorderOptions) *Recorder {
	r := &Recorder{opt: opt, exprs: append([]string(nil), exprs...)}
	r.Tag = opt.Tag
	return r
}

// NewEventRecorder records the non-zero elements (spikes) of masks such as
// "fired" as (iteration, index) events.
func NewEventRecorder(vars []string, opt RecorderOptions) *Recorder {
	r := NewRecorder(vars, opt)
	r.events = true
	return r
}

func (r *Recorder) initializeLast() {}

// Variables lists what the recorder records.
func (r *Recorder) Variables() []string { return append([]string(nil), r.exprs...) }

// IsEvents reports whether r records events (NewEventRecorder).
func (r *Recorder) IsEvents() bool { return r.events }

// Options returns the recorder's options (Block filled in after
// Initialize).
func (r *Recorder) Options() RecorderOptions { return r.opt }

func (r *Recorder) records(name string) bool {
	for _, e := range r.exprs {
		if e == name {
			return true
		}
	}
	return false
}

var reductions = map[string]backend.ReduceOp{
	"sum": backend.Sum, "mean": backend.Mean, "max": backend.MaxReduce,
	"min": backend.MinReduce, "count": backend.Count,
}

// recExpr is a parsed recorder expression.
type recExpr struct {
	varN   string
	op     backend.ReduceOp
	red    bool
	lo, hi int // hi < 0: the whole variable from lo
}

// parseRecExpr reads "v", "v[a:b]", "mean(v)" or "mean(v[a:b])".
func parseRecExpr(s string) (recExpr, error) {
	e := strings.TrimSpace(s)
	e = strings.TrimPrefix(e, "np.")
	x := recExpr{hi: -1}
	if i := strings.IndexByte(e, '('); i >= 0 {
		if !strings.HasSuffix(e, ")") {
			return x, fmt.Errorf("recorder expression %q: missing ')'", s)
		}
		fn := strings.TrimSpace(e[:i])
		o, ok := reductions[fn]
		if !ok {
			return x, fmt.Errorf("recorder expression %q: unknown function %q; use sum, mean, max, min or count", s, fn)
		}
		x.op, x.red = o, true
		e = strings.TrimSpace(e[i+1 : len(e)-1])
	}
	if i := strings.IndexByte(e, '['); i >= 0 {
		if !strings.HasSuffix(e, "]") {
			return x, fmt.Errorf("recorder expression %q: missing ']'", s)
		}
		a, b, ok := strings.Cut(e[i+1:len(e)-1], ":")
		if !ok {
			return x, fmt.Errorf("recorder expression %q: a slice is [start:end], such as v[0:10]", s)
		}
		var err error
		if x.lo, err = sliceBound(a, 0); err == nil {
			x.hi, err = sliceBound(b, -1)
		}
		if err != nil {
			return x, fmt.Errorf("recorder expression %q: %v", s, err)
		}
		if x.hi >= 0 && x.hi <= x.lo {
			return x, fmt.Errorf("recorder expression %q: the slice [%d:%d] is empty; the end must be above the start", s, x.lo, x.hi)
		}
		e = strings.TrimSpace(e[:i])
	}
	if !isIdent(e) {
		return x, fmt.Errorf("recorder expression %q: %q is not a variable name; record v, v[0:10], mean(v) or mean(v[0:10])", s, e)
	}
	x.varN = e
	return x, nil
}

// sliceBound reads a slice bound: a non-negative integer, or def if empty.
func sliceBound(s string, def int) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("slice bound %q is not a non-negative integer", s)
	}
	return v, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// Initialize checks the expressions against the object's variables and
// allocates the device blocks.
func (r *Recorder) Initialize(obj Object) error {
	if r.opt.Block <= 0 {
		r.opt.Block = 100
	}
	if r.opt.Gap < 0 || r.opt.MaxLength < 0 {
		return fmt.Errorf("gap %d and max length %d must not be negative", r.opt.Gap, r.opt.MaxLength)
	}
	if len(r.exprs) == 0 {
		return errors.New("nothing to record: give at least one variable")
	}
	r.obj = obj
	be := obj.Net().Backend()
	for _, e := range r.exprs {
		x, err := parseRecExpr(e)
		if err != nil {
			return err
		}
		t := obj.Var(x.varN)
		if t == nil {
			return fmt.Errorf("recorder: variable %q (in %q) not found on %s; it has: %s", x.varN, e, describe(obj), strings.Join(obj.VarNames(), ", "))
		}
		if x.hi < 0 {
			x.hi = t.Len()
		}
		if x.hi > t.Len() || x.lo >= x.hi {
			return fmt.Errorf("recorder: %q: the slice [%d:%d] is outside %q's %d elements", e, x.lo, x.hi, x.varN, t.Len())
		}
		if r.events && x.red {
			return fmt.Errorf("event recorder: %q: record a spike mask such as \"fired\", not a reduction", e)
		}
		if r.events && (x.lo != 0 || x.hi != t.Len()) {
			return fmt.Errorf("event recorder: %q: record a whole spike mask such as \"fired\"; select neurons afterwards with Events.Select", e)
		}
		w := x.hi - x.lo
		if x.red {
			w = 1
		}
		it := &recItem{name: e, varN: x.varN, op: x.op, red: x.red, lo: x.lo, hi: x.hi, width: w}
		if eg, ok := be.(backend.EventGatherer); ok && r.events {
			if it.log, err = eg.NewEventLog(t.Len(), r.opt.Block); err != nil {
				return fmt.Errorf("recorder %q: %w", e, err)
			}
		} else {
			if it.buf, err = be.NewTensor(r.opt.Block, w); err != nil {
				return fmt.Errorf("recorder %q: %w", e, err)
			}
			if r.events {
				it.tmp = make([]float32, r.opt.Block*w)
			}
		}
		if _, ranged := be.(backend.RangeReducer); x.red && x.hi-x.lo != t.Len() && !ranged {
			if it.part, err = be.NewTensor(x.hi-x.lo, 1); err != nil {
				return fmt.Errorf("recorder %q: %w", e, err)
			}
		}
		r.items = append(r.items, it)
	}
	r.iters = make([]int, 0, r.opt.Block)
	return nil
}

// Reserve makes room for the records of steps more steps, so that recording
// does not allocate while they run. SimulateIterations calls it.
func (r *Recorder) Reserve(steps int) {
	if r.events {
		return
	}
	gap := max(r.opt.Gap, 1)
	n := steps/gap + 1
	if r.opt.MaxLength > 0 {
		n = min(n, 2*r.opt.MaxLength+r.opt.Block)
	}
	for _, it := range r.items {
		if need := len(it.host) + n*it.width; cap(it.host) < need {
			h := make([]float32, len(it.host), need)
			copy(h, it.host)
			it.host = h
		}
		if need := len(it.hits) + n; cap(it.hits) < need {
			h := make([]int, len(it.hits), need)
			copy(h, it.hits)
			it.hits = h
		}
	}
}

// Iteration queues a copy of each recorded expression into the device
// block (an event log's gathering for events).
func (r *Recorder) Iteration(obj Object) error {
	n := obj.Net()
	if !n.recording {
		return nil
	}
	if r.opt.Gap > 1 && n.Iteration%r.opt.Gap != 0 {
		return nil
	}
	be := n.be
	for _, it := range r.items {
		t := obj.Var(it.varN)
		if t == nil {
			return fmt.Errorf("recorder: variable %q disappeared from %s", it.varN, describe(obj))
		}
		if t.Len() < it.hi {
			return fmt.Errorf("recorder: variable %q changed length to %d; %q needs %d elements", it.varN, t.Len(), it.name, it.hi)
		}
		switch {
		case it.log != nil:
			it.log.Gather(t)
		case it.red && it.part == nil && (it.lo != 0 || it.hi != t.Len()):
			be.(backend.RangeReducer).ReduceRange(it.op, it.buf, r.rows, t, it.lo, it.hi)
		case it.red && it.part != nil:
			be.CopyRange(it.part, 0, t, it.lo, it.hi-it.lo)
			be.Reduce(it.op, it.buf, r.rows, it.part)
		case it.red:
			be.Reduce(it.op, it.buf, r.rows, t)
		default:
			be.CopyRange(it.buf, r.rows*it.width, t, it.lo, it.width)
		}
	}
	r.iters = append(r.iters, n.Iteration)
	r.rows++
	if r.rows == r.opt.Block {
		return r.flush()
	}
	return nil
}

// FlushRecorders reads the device blocks of the recorders rs back in one
// batched read (backend.ReadBatch: one synchronisation on gl), together
// with the caller's extra requests, then drains their event logs. A live
// view calls it once per frame instead of one read per recorder.
func FlushRecorders(rs []*Recorder, extra ...backend.ReadRequest) error {
	var be backend.Backend
	reqs := extra
	type filled struct {
		it  *recItem
		old int
	}
	var fs []filled
	for _, r := range rs {
		if r.obj == nil || r.rows == 0 || r.events {
			continue
		}
		be = r.obj.Net().Backend()
		for _, it := range r.items {
			m := r.rows * it.width
			old := len(it.host)
			it.host = append(it.host, make([]float32, m)...)[:old+m]
			reqs = append(reqs, backend.ReadRequest{Dst: it.host[old:], T: it.buf})
			fs = append(fs, filled{it, old})
		}
	}
	if be == nil && len(extra) > 0 {
		be = extra[0].T.Backend()
	}
	if len(reqs) > 0 {
		if err := backend.ReadBatch(be, reqs); err != nil {
			for _, f := range fs {
				f.it.host = f.it.host[:f.old]
			}
			return fmt.Errorf("recorders: %w", err)
		}
	}
	for _, r := range rs {
		if r.obj != nil {
			if err := r.flushRead(r.events); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush reads the device block back to the host.
func (r *Recorder) flush() error { return r.flushRead(true) }

// flushRead moves the device block to the host; with read false the
// series blocks are already in the host arrays (FlushRecorders).
func (r *Recorder) flushRead(read bool) error {
	if r.rows == 0 {
		return nil
	}
	be := r.obj.Net().Backend()
	for _, it := range r.items {
		m := r.rows * it.width
		switch {
		case it.log != nil:
			err := it.log.Drain(func(k int, idx []int32) { it.ev.add(r.iters[k], idx) })
			if err != nil {
				return fmt.Errorf("recorder %q: %w", it.name, err)
			}
		case r.events:
			if err := be.Read(it.tmp[:m], it.buf, 0); err != nil {
				return fmt.Errorf("recorder %q: %w", it.name, err)
			}
			var idx []int32
			for k := 0; k < r.rows; k++ {
				idx = idx[:0]
				for i, v := range it.tmp[k*it.width : (k+1)*it.width] {
					if v != 0 {
						idx = append(idx, int32(i))
					}
				}
				it.ev.add(r.iters[k], idx)
			}
		case !read:
		default:
			old := len(it.host)
			it.host = append(it.host, make([]float32, m)...)[:old+m]
			if err := be.Read(it.host[old:], it.buf, 0); err != nil {
				it.host = it.host[:old]
				return fmt.Errorf("recorder %q: %w", it.name, err)
			}
		}
		it.hits = append(it.hits, r.iters...)
		if ml := r.opt.MaxLength; ml > 0 && len(it.hits) >= 2*ml {
			it.trim(ml, r.events)
		}
	}
	r.rows = 0
	r.iters = r.iters[:0]
	return nil
}

// trim keeps the newest ml records (and their events).
func (it *recItem) trim(ml int, events bool) {
	drop := len(it.hits) - ml
	first := it.hits[drop]
	it.hits = it.hits[:copy(it.hits, it.hits[drop:])]
	if !events {
		it.host = it.host[:copy(it.host, it.host[drop*it.width:])]
		return
	}
	it.ev.dropBefore(first)
}

// Series is recorded data: Len records of Width values each.
type Series struct {
	Name string
	// Data holds the records row after row: Len() x Width.
	Data  []float32
	Width int
	// Iterations holds the network iteration of each record.
	Iterations []int
}

// Len is the number of records.
func (s *Series) Len() int { return len(s.Iterations) }

// Row returns record t.
func (s *Series) Row(t int) []float32 { return s.Data[t*s.Width : (t+1)*s.Width] }

// At returns element i of record t.
func (s *Series) At(t, i int) float32 { return s.Data[t*s.Width+i] }

// Column returns element i of every record (a time course).
func (s *Series) Column(i int) []float32 {
	out := make([]float32, s.Len())
	for t := range out {
		out[t] = s.Data[t*s.Width+i]
	}
	return out
}

// Events are recorded spikes: event k is neuron Indices[k] at Iterations[k].
type Events struct {
	Name       string
	Iterations []int
	Indices    []int
}

// Len is the number of events.
func (e *Events) Len() int { return len(e.Indices) }

// Series returns the recorded data of name (one of the recorder's
// expressions). It first reads back the records still on the device.
func (r *Recorder) Series(name string) (*Series, error) {
	if r.events {
		return nil, fmt.Errorf("recorder %q is an event recorder; use Events", name)
	}
	d, err := r.data(name)
	if err != nil {
		return nil, err
	}
	return d.(*Series), nil
}

// Events returns the spikes recorded for name.
func (r *Recorder) Events(name string) (*Events, error) {
	if !r.events {
		return nil, fmt.Errorf("recorder %q is not an event recorder; use Series", name)
	}
	d, err := r.data(name)
	if err != nil {
		return nil, err
	}
	return d.(*Events), nil
}

func (r *Recorder) data(name string) (any, error) {
	var it *recItem
	for _, x := range r.items {
		if x.name == name {
			it = x
		}
	}
	if it == nil {
		if r.records(name) {
			return nil, fmt.Errorf("recorder: %q is not initialized yet; call net.Initialize()", name)
		}
		return nil, fmt.Errorf("recorder: %q is not recorded here; this recorder has %s", name, strings.Join(r.exprs, ", "))
	}
	if r.obj != nil {
		if err := r.flush(); err != nil {
			return nil, err
		}
	}
	if r.events {
		from := 0
		if ml := r.opt.MaxLength; ml > 0 && len(it.hits) > ml {
			from = it.hits[len(it.hits)-ml]
		}
		its, idx := it.ev.events(from)
		return &Events{Name: name, Iterations: its, Indices: idx}, nil
	}
	hits, host := it.hits, it.host
	if ml := r.opt.MaxLength; ml > 0 && len(hits) > ml {
		drop := len(hits) - ml
		hits, host = hits[drop:], host[drop*it.width:]
	}
	return &Series{Name: name, Data: append([]float32(nil), host...), Width: it.width, Iterations: append([]int(nil), hits...)}, nil
}

// Release frees the recorder's device blocks and event logs (after
// RemoveBehaviors; the data read back so far stays readable). A released
// recorder must not run again.
func (r *Recorder) Release() {
	if r.obj != nil {
		_ = r.flush()
	}
	for _, it := range r.items {
		for _, t := range []*backend.Tensor{&it.buf, &it.part} {
			if *t != nil {
				(*t).Release()
				*t = nil
			}
		}
		if it.log != nil {
			it.log.Release()
			it.log = nil
		}
	}
	r.obj = nil
}

// SetMaxLength changes RecorderOptions.MaxLength (0: keep everything):
// a program that hands a network to an open-ended run (a live UI) bounds
// what its recorders keep.
func (r *Recorder) SetMaxLength(n int) {
	if n >= 0 {
		r.opt.MaxLength = n
	}
}

// Clear drops everything recorded so far.
func (r *Recorder) Clear() {
	for _, it := range r.items {
		it.host, it.hits = it.host[:0], it.hits[:0]
		it.ev.reset()
		if it.log != nil {
			it.log.Drain(func(int, []int32) {}) // an error means nothing is held
		}
	}
	r.rows = 0
	r.iters = r.iters[:0]
}
