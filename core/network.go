package core

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"golang.org/x/term"
)

// Layout is the memory layout of synapse matrices.
type Layout uint8

const (
	// DxS stores a synapse matrix as dst.Size x src.Size (PymoNNto's
	// default): row i holds the inputs of destination neuron i.
	DxS Layout = iota
	// SxD stores it as src.Size x dst.Size (PymoNNtorch's default): row j
	// holds the outputs of source neuron j, contiguous for spike-driven
	// propagation.
	SxD
)

func (l Layout) String() string {
	if l == SxD {
		return "SxD"
	}
	return "DxS"
}

// Config configures a network.
type Config struct {
	// Backend runs the tensors. Required.
	Backend backend.Backend
	// Seed keys every random draw; the same seed and backend give
	// bit-identical results.
	Seed uint64
	// Layout of synapse matrices; DxS by default.
	Layout Layout
	// Log receives the summary line, warnings and progress; nil discards.
	Log io.Writer
}

// Network holds neuron groups, synapse groups and behaviours, and runs
// them step by step in one global order of behaviour keys.
type Network struct {
	objectCommon
	be     backend.Backend
	seed   uint64
	draws  uint64
	layout Layout
	log    io.Writer

	// Iteration counts steps; it is incremented before the behaviours run,
	// so the first step sees 1.
	Iteration int

	groups   []*NeuronGroup
	synapses []*SynapseGroup

	seq         int
	order       []slot
	orderDirty  bool
	version     int
	cache       map[string][]any
	cacheVer    int
	initialized bool
	recording   bool
	timing      []time.Duration
}

// NewNetwork makes an empty network.
func NewNetwork(cfg Config) (*Network, error) {
	if cfg.Backend == nil {
		return nil, errors.New("core.NewNetwork: Config.Backend is nil; open one with backend.Open(\"cpu\", backend.Options{})")
	}
	if cfg.Layout != DxS && cfg.Layout != SxD {
		return nil, fmt.Errorf("core.NewNetwork: unknown layout %d; use core.DxS or core.SxD", cfg.Layout)
	}
	n := &Network{be: cfg.Backend, seed: cfg.Seed, layout: cfg.Layout, log: cfg.Log, recording: true}
	if n.log == nil {
		n.log = io.Discard
	}
	n.net = n
	n.tags = []string{"Network", "net"}
	return n, nil
}

// Backend is the backend the network runs on.
func (n *Network) Backend() backend.Backend { return n.be }

// Layout is the synapse-matrix layout.
func (n *Network) Layout() Layout { return n.layout }

// Seed is the network's seed.
func (n *Network) Seed() uint64 { return n.seed }

// Log is the writer for summaries and warnings (never nil).
func (n *Network) Log() io.Writer { return n.log }

// NextKey returns a fresh key for one random draw: the seed and a counter
// that increases with every draw, so that a program makes the same draws
// on every run and every backend.
func (n *Network) NextKey() rng.Key {
	n.draws++
	return rng.Key{Seed: n.seed, Counter: n.draws}
}

// NeuronGroups lists the neuron groups in creation order.
func (n *Network) NeuronGroups() []*NeuronGroup { return append([]*NeuronGroup(nil), n.groups...) }

// SynapseGroups lists the synapse groups in creation order.
func (n *Network) SynapseGroups() []*SynapseGroup {
	return append([]*SynapseGroup(nil), n.synapses...)
}

// SetVar stores a network-level tensor.
func (n *Network) SetVar(name string, t backend.Tensor) error { return n.setVar(name, t) }

// Vector makes a one-element tensor from an init string.
func (n *Network) Vector(init string, opts ...InitOption) (backend.Tensor, error) {
	return n.newFilled(1, 1, init, opts)
}

// AddBehavior attaches a network-level behaviour under key.
func (n *Network) AddBehavior(key float64, b Behavior) error { return addBehavior(n, key, b) }

func (n *Network) changed() {
	n.version++
	n.orderDirty = true
}

// Group returns the first neuron group carrying tag.
func (n *Network) Group(tag string) (*NeuronGroup, error) { return Get[*NeuronGroup](n, tag, 0) }

// objects lists every object of the network: itself, groups, synapse groups.
func (n *Network) objects() []Object {
	out := make([]Object, 0, 1+len(n.groups)+len(n.synapses))
	out = append(out, n)
	for _, g := range n.groups {
		out = append(out, g)
	}
	for _, s := range n.synapses {
		out = append(out, s)
	}
	return out
}

// lookup finds every match of tag below from.
func (n *Network) lookup(from Object, tag string) ([]any, error) {
	key := fmt.Sprintf("%p\x00%s", from, tag)
	if n.cacheVer == n.version && n.cache != nil {
		if v, ok := n.cache[key]; ok {
			return n.withSeries(v, tag), nil
		}
	} else {
		n.cache = map[string][]any{}
		n.cacheVer = n.version
	}
	var scope []Object
	if from == Object(n) {
		scope = n.objects()
	} else {
		scope = []Object{from}
	}
	var out []any
	for _, o := range scope {
		if o.HasTag(tag) {
			out = append(out, o)
		}
		for _, s := range o.common().slots {
			if s.b.base().hasTag(s.b, tag) {
				out = append(out, s.b)
			}
		}
	}
	// Recorded variables are tags too; the recorders are cached and the
	// data snapshot is taken at each lookup.
	for _, o := range scope {
		for _, s := range o.common().slots {
			if r, ok := s.b.(*Recorder); ok && r.records(tag) {
				out = append(out, recordedRef{r, tag})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %q in %s; known tags: %s", ErrUnknownTag, tag, describe(from), strings.Join(n.knownTags(scope), ", "))
	}
	n.cache[key] = out
	return n.withSeries(out, tag), nil
}

// recordedRef stands for recorded data in the lookup cache.
type recordedRef struct {
	r   *Recorder
	tag string
}

// withSeries replaces recordedRefs with fresh data snapshots.
func (n *Network) withSeries(v []any, tag string) []any {
	has := false
	for _, m := range v {
		if _, ok := m.(recordedRef); ok {
			has = true
			break
		}
	}
	if !has {
		return v
	}
	out := make([]any, 0, len(v))
	for _, m := range v {
		if ref, ok := m.(recordedRef); ok {
			d, err := ref.r.data(ref.tag)
			if err == nil {
				out = append(out, d)
			} else {
				out = append(out, err)
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

func (b *Base) hasTag(self Behavior, tag string) bool {
	if tag == behaviorName(self) {
		return true
	}
	for _, t := range splitTags(b.Tag) {
		if t == tag {
			return true
		}
	}
	return false
}

func (n *Network) knownTags(scope []Object) []string {
	set := map[string]bool{}
	for _, o := range scope {
		for _, t := range o.Tags() {
			set[t] = true
		}
		for _, s := range o.common().slots {
			set[behaviorName(s.b)] = true
			for _, t := range splitTags(s.b.base().Tag) {
				set[t] = true
			}
			if r, ok := s.b.(*Recorder); ok {
				for _, it := range r.items {
					set[it.name] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// buildOrder rebuilds the global execution order: every behaviour of the
// network and its groups sorted by key, stable on ties (network first, then
// groups and synapse groups in creation order, then attachment order).
func (n *Network) buildOrder() {
	n.order = n.order[:0]
	for _, o := range n.objects() {
		n.order = append(n.order, o.common().slots...)
	}
	sort.SliceStable(n.order, func(i, j int) bool { return n.order[i].key < n.order[j].key })
	if cap(n.timing) < len(n.order) {
		n.timing = make([]time.Duration, len(n.order))
	}
	n.timing = n.timing[:len(n.order)]
	n.orderDirty = false
}

// Order lists the behaviours in execution order.
func (n *Network) Order() []Behavior {
	if n.orderDirty {
		n.buildOrder()
	}
	out := make([]Behavior, len(n.order))
	for i, s := range n.order {
		out[i] = s.b
	}
	return out
}

// Initialize initialises every behaviour once, in key order with recorders
// last, and writes a one-line summary to the log.
func (n *Network) Initialize() error {
	if n.initialized {
		return errors.New("core: network already initialized")
	}
	n.buildOrder()
	var deferred, last []slot
	for _, s := range n.order {
		if _, ok := s.b.(initLast); ok {
			last = append(last, s)
			continue
		}
		if _, ok := s.b.(Deferred); ok {
			deferred = append(deferred, s)
			continue
		}
		if err := n.initBehavior(s); err != nil {
			return err
		}
	}
	for _, s := range append(deferred, last...) {
		if err := n.initBehavior(s); err != nil {
			return err
		}
	}
	n.initialized = true
	fmt.Fprintln(n.log, n.Summary())
	return n.be.Flush()
}

// Deferred is implemented by behaviours initialised after the others (in
// key order, before the recorders), whatever their keys: a synapse
// group's behaviour that runs before the neurons but needs the variables
// their behaviours make.
type Deferred interface{ DeferInitialize() }

// reserver is a behaviour that makes room before a run of steps
// (recorders: their buffers for the steps to come).
type reserver interface{ Reserve(steps int) }

// initLast marks behaviours initialised after the others (recorders).
type initLast interface{ initializeLast() }

func (n *Network) initBehavior(s slot) error {
	if err := s.b.Initialize(s.owner); err != nil {
		return fmt.Errorf("initialize %s (key %g) on %s: %w", behaviorName(s.b), s.key, describe(s.owner), err)
	}
	if un := s.b.base().unused(); len(un) > 0 {
		fmt.Fprintf(n.log, "warning: %s (key %g) on %s: unused parameter(s) %s\n", behaviorName(s.b), s.key, describe(s.owner), strings.Join(un, ", "))
	}
	return nil
}

// Summary describes the network in one line.
func (n *Network) Summary() string {
	neurons, syn := 0, 0
	for _, g := range n.groups {
		neurons += g.Size
	}
	for _, s := range n.synapses {
		syn += s.Synapses()
	}
	if n.orderDirty {
		n.buildOrder()
	}
	return fmt.Sprintf("Network: %d neurons in %d neuron group(s), %d synapses in %d synapse group(s), %d behaviour(s), backend %s",
		neurons, len(n.groups), syn, len(n.synapses), len(n.order), n.be.Name())
}

// Initialized reports whether Initialize has run.
func (n *Network) Initialized() bool { return n.initialized }

// RecordingOn resumes recording.
func (n *Network) RecordingOn() { n.recording = true }

// RecordingOff pauses every recorder.
func (n *Network) RecordingOff() { n.recording = false }

// Recording reports whether recorders record.
func (n *Network) Recording() bool { return n.recording }

// SetActive activates or deactivates every behaviour carrying tag (its own
// tag or its type name) and returns how many it changed.
func (n *Network) SetActive(tag string, active bool) (int, error) {
	bs, err := Find[Behavior](n, tag)
	if err != nil {
		return 0, err
	}
	for _, b := range bs {
		b.base().inactive = !active
	}
	return len(bs), nil
}

// RemoveBehaviors detaches every behaviour carrying tag.
func (n *Network) RemoveBehaviors(tag string) (int, error) {
	bs, err := Find[Behavior](n, tag)
	if err != nil {
		return 0, err
	}
	for _, b := range bs {
		removeSlot(b.base().owner, b)
	}
	return len(bs), nil
}

// SimulateIteration runs one step: it increments the iteration counters,
// runs every active behaviour in key order and flushes the backend.
func (n *Network) SimulateIteration() error { return n.step(false, false) }

// step runs one step; lazy lets a backend that runs several steps as
// one batch (backend.StepFlusher) keep this one queued.
func (n *Network) step(measure, lazy bool) error {
	if !n.initialized {
		return errors.New("core: simulate before Initialize; call net.Initialize() first")
	}
	if n.orderDirty {
		n.buildOrder()
	}
	n.Iteration++
	for _, g := range n.groups {
		g.Iteration++
	}
	var t0 time.Time
	for i := range n.order {
		s := &n.order[i]
		if s.b.base().inactive {
			continue
		}
		if measure {
			t0 = time.Now()
		}
		if err := s.b.Iteration(s.owner); err != nil {
			return fmt.Errorf("iteration %d: %s (key %g) on %s: %w", n.Iteration, behaviorName(s.b), s.key, describe(s.owner), err)
		}
		if measure {
			n.timing[i] += time.Since(t0)
		}
	}
	var err error
	if sf, ok := n.be.(backend.StepFlusher); ok && lazy {
		err = sf.FlushStep()
	} else {
		err = n.be.Flush()
	}
	if err != nil {
		return fmt.Errorf("iteration %d: backend %s: %w", n.Iteration, n.be.Name(), err)
	}
	return nil
}

// SimOptions configure SimulateIterations.
type SimOptions struct {
	// Batch is the number of steps between progress reports (100 if 0).
	Batch int
	// Progress receives a progress line per batch when it is a terminal;
	// nil means os.Stderr. Set Quiet to silence it.
	Progress io.Writer
	Quiet    bool
	// MeasureTime accumulates wall time per behaviour (see Timings). On an
	// asynchronous backend it measures the time to queue the work.
	MeasureTime bool
	// DisableRecording pauses recorders for this run.
	DisableRecording bool
	// Hooks run after every step, in order (checkpoints, NaN guards:
	// package store). An error from a hook stops the run and is returned.
	Hooks []StepHook
}

// A StepHook runs after every step of SimulateIterations (on an
// asynchronous backend the step may still be queued: a hook that reads
// data waits for it). Checkpointers and NaN guards are hooks.
type StepHook interface {
	AfterStep(n *Network) error
}

// SimulateIterations runs steps steps in batches, showing progress on a
// terminal (in PymoNNto's format) and nothing otherwise.
func (n *Network) SimulateIterations(steps int, opt SimOptions) error {
	if steps < 0 {
		return fmt.Errorf("core: SimulateIterations(%d): steps must not be negative", steps)
	}
	if !n.initialized {
		return errors.New("core: simulate before Initialize; call net.Initialize() first")
	}
	batch := opt.Batch
	if batch <= 0 {
		batch = 100
	}
	if opt.DisableRecording {
		was := n.recording
		n.recording = false
		defer func() { n.recording = was }()
	}
	for _, o := range n.objects() {
		for _, s := range o.common().slots {
			if r, ok := s.b.(reserver); ok {
				r.Reserve(steps)
			}
		}
	}
	var prog io.Writer
	if !opt.Quiet {
		prog = opt.Progress
		if prog == nil {
			prog = os.Stderr
		}
		if f, ok := prog.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
			prog = nil
		}
	}
	start := time.Now()
	for done := 0; done < steps; {
		m := min(batch, steps-done)
		t0 := time.Now()
		for k := 0; k < m; k++ {
			if err := n.step(opt.MeasureTime, true); err != nil {
				return err
			}
			for _, h := range opt.Hooks {
				if err := h.AfterStep(n); err != nil {
					n.be.Flush()
					return err
				}
			}
		}
		done += m
		if prog != nil {
			el := time.Since(start)
			rem := time.Duration(float64(el) / float64(done) * float64(steps-done))
			fmt.Fprintf(prog, "\r%dx %d/%d (%d%%) %dms %.1fmin ", m, done, steps, 100*done/steps, time.Since(t0).Milliseconds(), rem.Minutes())
		}
	}
	if prog != nil {
		fmt.Fprintln(prog)
	}
	return n.be.Flush()
}

// Timing is the accumulated time of one behaviour.
type Timing struct {
	Behavior Behavior
	Key      float64
	Owner    Object
	Total    time.Duration
}

// Timings returns the time per behaviour accumulated by runs with
// MeasureTime, in execution order.
func (n *Network) Timings() []Timing {
	if n.orderDirty {
		n.buildOrder()
	}
	out := make([]Timing, len(n.order))
	for i, s := range n.order {
		out[i] = Timing{s.b, s.key, s.owner, n.timing[i]}
	}
	return out
}
