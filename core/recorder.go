package core

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
)

// RecorderOptions configure a Recorder or EventRecorder.
type RecorderOptions struct {
	// Tag holds the recorder's comma-separated tags.
	Tag string
	// Gap records every Gap-th step (every step if 0 or 1).
	Gap int
	// MaxLength keeps only the newest MaxLength records (all if 0).
	MaxLength int
	// Block is the number of records kept on the device before they are
	// read back in one transfer (100 if 0).
	Block int
}

// Recorder records variables and reductions of its object every step (or
// every Gap steps), as PymoNNto's Recorder does: "v" records the whole
// vector, "mean(v)", "sum(v)", "max(v)", "min(v)" and "count(v)" one number
// ("np.mean(v)" is accepted too). Records stay on the device and are read
// back every Block records, so recording costs no per-step host transfer.
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
	name  string
	varN  string
	op    backend.ReduceOp
	red   bool
	width int
	buf   backend.Tensor // Block x width on the device
	host  []float32      // records x width
	hits  []int          // iteration of each record
	evIt  []int          // events: iterations
	evIdx []int          // events: indices
	tmp   []float32
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

// parseRecExpr reads "v" or "mean(v)".
func parseRecExpr(s string) (varN string, op backend.ReduceOp, red bool, err error) {
	e := strings.TrimSpace(s)
	e = strings.TrimPrefix(e, "np.")
	if i := strings.IndexByte(e, '('); i >= 0 {
		if !strings.HasSuffix(e, ")") {
			return "", 0, false, fmt.Errorf("recorder expression %q: missing ')'", s)
		}
		fn := strings.TrimSpace(e[:i])
		arg := strings.TrimSpace(e[i+1 : len(e)-1])
		o, ok := reductions[fn]
		if !ok {
			return "", 0, false, fmt.Errorf("recorder expression %q: unknown function %q; use sum, mean, max, min or count", s, fn)
		}
		if !isIdent(arg) {
			return "", 0, false, fmt.Errorf("recorder expression %q: %q is not a variable name", s, arg)
		}
		return arg, o, true, nil
	}
	if !isIdent(e) {
		return "", 0, false, fmt.Errorf("recorder expression %q: not a variable name or reduction such as mean(v)", s)
	}
	return e, 0, false, nil
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
		v, op, red, err := parseRecExpr(e)
		if err != nil {
			return err
		}
		t := obj.Var(v)
		if t == nil {
			return fmt.Errorf("recorder: variable %q (in %q) not found on %s; it has: %s", v, e, describe(obj), strings.Join(obj.VarNames(), ", "))
		}
		if r.events && red {
			return fmt.Errorf("event recorder: %q: record a spike mask such as \"fired\", not a reduction", e)
		}
		w := t.Len()
		if red {
			w = 1
		}
		buf, err := be.NewTensor(r.opt.Block, w)
		if err != nil {
			return fmt.Errorf("recorder %q: %w", e, err)
		}
		it := &recItem{name: e, varN: v, op: op, red: red, width: w, buf: buf}
		if r.events {
			it.tmp = make([]float32, r.opt.Block*w)
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

// Iteration queues a copy of each recorded expression into the device block.
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
		if it.red {
			be.Reduce(it.op, it.buf, r.rows, t)
		} else {
			if t.Len() != it.width {
				return fmt.Errorf("recorder: variable %q changed length from %d to %d", it.varN, it.width, t.Len())
			}
			be.CopyRange(it.buf, r.rows*it.width, t, 0, it.width)
		}
	}
	r.iters = append(r.iters, n.Iteration)
	r.rows++
	if r.rows == r.opt.Block {
		return r.flush()
	}
	return nil
}

// flush reads the device block back to the host.
func (r *Recorder) flush() error {
	if r.rows == 0 {
		return nil
	}
	be := r.obj.Net().Backend()
	for _, it := range r.items {
		m := r.rows * it.width
		if r.events {
			if err := be.Read(it.tmp[:m], it.buf, 0); err != nil {
				return fmt.Errorf("recorder %q: %w", it.name, err)
			}
			for k := 0; k < r.rows; k++ {
				row := it.tmp[k*it.width : (k+1)*it.width]
				for i, v := range row {
					if v != 0 {
						it.evIt = append(it.evIt, r.iters[k])
						it.evIdx = append(it.evIdx, i)
					}
				}
			}
			continue
		}
		old := len(it.host)
		it.host = append(it.host, make([]float32, m)...)[:old+m]
		if err := be.Read(it.host[old:], it.buf, 0); err != nil {
			it.host = it.host[:old]
			return fmt.Errorf("recorder %q: %w", it.name, err)
		}
		it.hits = append(it.hits, r.iters...)
		if ml := r.opt.MaxLength; ml > 0 && len(it.hits) >= 2*ml {
			drop := len(it.hits) - ml
			it.hits = it.hits[:copy(it.hits, it.hits[drop:])]
			it.host = it.host[:copy(it.host, it.host[drop*it.width:])]
		}
	}
	r.rows = 0
	r.iters = r.iters[:0]
	return nil
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
		return &Events{Name: name, Iterations: append([]int(nil), it.evIt...), Indices: append([]int(nil), it.evIdx...)}, nil
	}
	hits, host := it.hits, it.host
	if ml := r.opt.MaxLength; ml > 0 && len(hits) > ml {
		drop := len(hits) - ml
		hits, host = hits[drop:], host[drop*it.width:]
	}
	return &Series{Name: name, Data: append([]float32(nil), host...), Width: it.width, Iterations: append([]int(nil), hits...)}, nil
}

// Clear drops everything recorded so far.
func (r *Recorder) Clear() {
	for _, it := range r.items {
		it.host, it.hits, it.evIt, it.evIdx = it.host[:0], it.hits[:0], it.evIt[:0], it.evIdx[:0]
	}
	r.rows = 0
	r.iters = r.iters[:0]
}
