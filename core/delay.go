package core

import (
	"fmt"
	"math"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// delayState is a synapse group's delayed propagation: either one delay
// per stored synapse of a sparse matrix w, with a ring buffer of the
// destinations' future input (backend.Delayer), or one delay for every
// synapse, with a ring of the sources' past spike masks (any matrix).
type delayState struct {
	w       backend.Tensor    // the matrix the per-synapse delays belong to (nil: uniform)
	delays  backend.Delays    // per stored entry, in steps (per-synapse)
	ring    backend.DelayRing // depth x Dst.Size (per-synapse)
	masks   []backend.Tensor
	depth   int // longest delay + 1
	min     int // shortest per-synapse delay
	started bool
	last    int         // network iteration of the last PropagateDelayed
	shared  *sharedRing // the ring shared with other groups (ShareDelayRing), or nil
}

// sharedRing is one ring buffer of future input into one destination
// tensor, fed by several synapse groups (ShareDelayRing).
type sharedRing struct {
	ring    backend.DelayRing
	depth   int
	dst     backend.Tensor // the destination, fixed by the first call
	refs    int            // groups still using it
	started bool
	last    int // the last iteration whose slot was taken into dst
}

func (d *delayState) release() {
	ts := d.masks
	if d.delays != nil {
		d.delays.Release()
	}
	ring := d.ring
	if r := d.shared; r != nil {
		if r.refs--; r.refs > 0 {
			ring = nil
		}
	}
	if ring != nil {
		ring.Release()
	}
	for _, t := range ts {
		if t != nil {
			t.Release()
		}
	}
}

// ShareDelayRing makes synapse groups with per-synapse delays (SetDelays
// with a distribution, SetDelaySteps) that end on the same neuron group
// and add into the same destination tensor share one ring buffer of
// future input, as a simulator keeps one input buffer per neuron rather
// than one per projection: each step takes one ring row into dst instead
// of one per group, and the ring memory is one D x n buffer (D = the
// longest delay of the groups + 1) instead of one per group. Every delay
// must be at least one step (SetDelays always gives that), because the
// row due now is taken at the first PropagateDelayed of the step, before
// any group adds to the ring. Call it after the delays are set and before
// the first PropagateDelayed; each group's PropagateDelayed must then use
// the same dst (it panics otherwise). Setting a group's delays again
// takes it out of the sharing. Results equal separate rings up to the
// order of the float additions.
func ShareDelayRing(groups ...*SynapseGroup) error {
	if len(groups) < 2 {
		return nil
	}
	g0 := groups[0]
	depth := 0
	seen := map[*SynapseGroup]bool{}
	for _, g := range groups {
		st := g.delay
		switch {
		case seen[g]:
			return fmt.Errorf("ShareDelayRing: synapse group %q is listed twice", g.name)
		case g.net != g0.net:
			return fmt.Errorf("ShareDelayRing: synapse groups %q and %q belong to different networks", g0.name, g.name)
		case g.Dst != g0.Dst:
			return fmt.Errorf("ShareDelayRing: synapse group %q ends on %q, %q on %q; only groups with one destination group can share a ring", g.name, g.Dst.Name(), g0.name, g0.Dst.Name())
		case st == nil || st.w == nil:
			return fmt.Errorf("ShareDelayRing: synapse group %q has no per-synapse delays; call SetDelays with a distribution or SetDelaySteps first", g.name)
		case st.min < 1:
			return fmt.Errorf("ShareDelayRing: synapse group %q has a delay of %d steps; a shared ring needs delays of at least 1 step", g.name, st.min)
		case st.started:
			return fmt.Errorf("ShareDelayRing: synapse group %q has already propagated; share rings before the first PropagateDelayed", g.name)
		case st.shared != nil:
			return fmt.Errorf("ShareDelayRing: synapse group %q already shares a ring", g.name)
		}
		seen[g] = true
		depth = max(depth, st.depth)
	}
	ring, err := g0.net.be.(backend.Delayer).NewDelayRing(depth, g0.Dst.Size)
	if err != nil {
		return fmt.Errorf("ShareDelayRing: ring buffer of %d x %d: %w", depth, g0.Dst.Size, err)
	}
	r := &sharedRing{ring: ring, depth: depth, refs: len(groups)}
	for _, g := range groups {
		st := g.delay
		st.ring.Release()
		st.ring, st.shared = ring, r
	}
	return nil
}

// SetDelays gives the group's synapses transmission delays in steps,
// drawn from the init string delays ("normal(15, 7.5)", "uniform(1, 20)",
// "15"), rounded to the nearest whole step and raised to at least 1 step.
// A constant ("15") gives every synapse the same delay and works with any
// matrix w, dense or sparse; a distribution draws one delay per stored
// synapse of w, which must then be a sparse matrix (SparseMatrix,
// SparseMatrixInDegree) on a backend that implements backend.Delayer. The
// draws are made on the host from the network's seed, so they are the
// same on every backend. Use PropagateDelayed to send spikes through the
// delays. It replaces earlier delays of the group.
func (s *SynapseGroup) SetDelays(w backend.Tensor, delays string, opts ...InitOption) error {
	in, err := ParseInit(delays)
	if err != nil {
		return fmt.Errorf("synapse group %q: SetDelays: init string %q: %w", s.name, delays, err)
	}
	d := in.Dist()
	for _, o := range opts {
		o(&d)
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("synapse group %q: SetDelays: init string %q: %w", s.name, delays, err)
	}
	if d.Kind == rng.Const && d.Density == 1 {
		return s.SetUniformDelay(w, max(1, roundSteps(d.Scale*d.A)))
	}
	sw, ok := w.(backend.SparseTensor)
	if !ok {
		return fmt.Errorf("synapse group %q: SetDelays: a delay per synapse (%q) needs a sparse matrix (SparseMatrix), but W is dense %s; give a dense matrix one delay for all synapses, such as \"15\"", s.name, delays, backend.Shape(w))
	}
	key := s.net.NextKey()
	steps := make([]int, sw.NNZ())
	for e := range steps {
		steps[e] = max(1, roundSteps(rng.Sample(d, key, uint64(e))))
	}
	return s.SetDelaySteps(w, steps)
}

// roundSteps rounds a delay to the nearest whole step (NaN and negative
// values give 0).
func roundSteps(v float32) int {
	if !(v > 0) {
		return 0
	}
	return int(min(math.Round(float64(v)), math.MaxInt32))
}

// SetDelaySteps gives every stored synapse of the sparse matrix w its own
// delay: steps[e] whole steps (0 or more) for entry e, in the matrix's
// entry order. The backend must implement backend.Delayer. It replaces
// earlier delays of the group.
func (s *SynapseGroup) SetDelaySteps(w backend.Tensor, steps []int) error {
	vals := make([]int32, len(steps))
	for e, k := range steps {
		if k < 0 || k > backend.MaxDelaySteps {
			return fmt.Errorf("synapse group %q: SetDelaySteps: synapse %d has delay %d steps; delays must lie in [0, %d]", s.name, e, k, backend.MaxDelaySteps)
		}
		vals[e] = int32(k)
	}
	return s.SetDelaySteps32(w, vals)
}

// SetDelaySteps32 is SetDelaySteps with the steps as int32, for large
// matrices: it makes no copy of them on the host.
func (s *SynapseGroup) SetDelaySteps32(w backend.Tensor, steps []int32) error {
	sw, ok := w.(backend.SparseTensor)
	if !ok {
		return fmt.Errorf("synapse group %q: SetDelaySteps: W %s is dense; per-synapse delays need a sparse matrix (SparseMatrix), or use SetUniformDelay", s.name, backend.Shape(w))
	}
	if err := s.checkMatrix("SetDelaySteps", w); err != nil {
		return err
	}
	if _, ok := s.net.be.(backend.Delayer); !ok {
		return fmt.Errorf("synapse group %q: SetDelaySteps: backend %s has no delayed propagation (backend.Delayer); use -backend=cpu or -backend=gl", s.name, s.net.be.Name())
	}
	if len(steps) != sw.NNZ() {
		return fmt.Errorf("synapse group %q: SetDelaySteps: %d delays for %d synapses; give one per stored entry of W", s.name, len(steps), sw.NNZ())
	}
	longest, shortest := 0, backend.MaxDelaySteps
	for e, k := range steps {
		if k < 0 || k > backend.MaxDelaySteps {
			return fmt.Errorf("synapse group %q: SetDelaySteps: synapse %d has delay %d steps; delays must lie in [0, %d]", s.name, e, k, backend.MaxDelaySteps)
		}
		longest, shortest = max(longest, int(k)), min(shortest, int(k))
	}
	dl := s.net.be.(backend.Delayer)
	st := &delayState{w: w, depth: longest + 1, min: shortest}
	var err error
	if st.delays, err = dl.NewDelays(sw, steps); err != nil {
		return fmt.Errorf("synapse group %q: SetDelaySteps: %w", s.name, err)
	}
	if st.ring, err = dl.NewDelayRing(st.depth, s.Dst.Size); err != nil {
		st.release()
		return fmt.Errorf("synapse group %q: SetDelaySteps: ring buffer of %d x %d: %w", s.name, st.depth, s.Dst.Size, err)
	}
	s.setDelay(st)
	return nil
}

// SetUniformDelay gives every synapse of the group the same delay of
// steps whole steps (0 or more), for any matrix of the group's shape,
// dense or sparse: PropagateDelayed keeps the last steps+1 spike masks of
// the source group and propagates the one of steps iterations ago. The
// weights are read when the spikes arrive. It replaces earlier delays.
func (s *SynapseGroup) SetUniformDelay(w backend.Tensor, steps int) error {
	if steps < 0 || steps > 1<<20 {
		return fmt.Errorf("synapse group %q: SetUniformDelay: delay %d steps is outside [0, %d]", s.name, steps, 1<<20)
	}
	if err := s.checkMatrix("SetUniformDelay", w); err != nil {
		return err
	}
	st := &delayState{depth: steps + 1, masks: make([]backend.Tensor, steps+1)}
	for k := range st.masks {
		m, err := s.net.be.NewTensor(s.Src.Size, 1)
		if err != nil {
			st.release()
			return fmt.Errorf("synapse group %q: SetUniformDelay: %w", s.name, err)
		}
		st.masks[k] = m
	}
	s.setDelay(st)
	return nil
}

func (s *SynapseGroup) checkMatrix(op string, w backend.Tensor) error {
	r, c := s.Shape()
	if w == nil || w.Rows() != r || w.Cols() != c {
		return fmt.Errorf("synapse group %q: %s: W %s does not have the group's shape %dx%d (%s layout)", s.name, op, backend.Shape(w), r, c, s.layout)
	}
	return nil
}

func (s *SynapseGroup) setDelay(st *delayState) {
	if s.delay != nil {
		s.delay.release()
	}
	s.delay = st
}

// MaxDelay is the longest delay of the group in steps (0 without delays).
func (s *SynapseGroup) MaxDelay() int {
	if s.delay == nil {
		return 0
	}
	return s.delay.depth - 1
}

// Delays returns a copy of the per-synapse delays in steps (one element
// per stored entry of the sparse matrix given to SetDelays, in entry
// order), or nil when the group has none or one uniform delay. To change
// them, call SetDelaySteps.
func (s *SynapseGroup) Delays() ([]int32, error) {
	if s.delay == nil || s.delay.delays == nil {
		return nil, nil
	}
	d := make([]int32, s.delay.delays.Len())
	if err := s.delay.delays.Read(d); err != nil {
		return nil, fmt.Errorf("synapse group %q: Delays: %w", s.name, err)
	}
	return d, nil
}

// PropagationStrategy names how the backend sent the group's spikes at its
// last PropagateDelayed with per-synapse delays (backend.StrategyReporter:
// "events", "references", ... on the cpu), "uniform" for one delay for all
// synapses (a ring of past spike masks), and "" before the first send, for
// a group without delays, or on a backend that does not name its
// strategies.
func (s *SynapseGroup) PropagationStrategy() string {
	switch {
	case s.delay == nil:
		return ""
	case s.delay.delays == nil:
		return "uniform"
	}
	if r, ok := s.net.be.(backend.StrategyReporter); ok {
		return r.Strategy(s.delay.delays)
	}
	return ""
}

// mod is x mod m in [0, m).
func mod(x, m int) int {
	x %= m
	if x < 0 {
		x += m
	}
	return x
}

// PropagateDelayed is Propagate through the group's delays (SetDelays):
// what a spike of this iteration sends through a synapse with delay k is
// added to dst exactly k iterations later (k = 0: now). Call it once per
// network iteration (the iteration number advances the ring buffer), from
// the same behaviour with the same dst; with per-synapse delays w must be
// the matrix given to SetDelays. Input that would have arrived in
// iterations without a call arrives at the next call. It allocates
// nothing (the cpu backend's ring grows only when more input is in flight
// than ever before). W's values are read as of the call.
func (s *SynapseGroup) PropagateDelayed(dst, w, spikes backend.Tensor, alpha float32) {
	st := s.delay
	if st == nil {
		panic(backend.Misusef("core", "PropagateDelayed", "synapse group %q has no delays; call SetDelays, SetDelaySteps or SetUniformDelay first", s.name))
	}
	t := s.net.Iteration
	if !st.started {
		st.started, st.last = true, t-1
	}
	if t <= st.last {
		panic(backend.Misusef("core", "PropagateDelayed", "synapse group %q: called again in iteration %d; call it once per network iteration (net.SimulateIteration advances its ring buffer)", s.name, t))
	}
	if st.w != nil && w != st.w {
		panic(backend.Misusef("core", "PropagateDelayed", "synapse group %q: matrix %s is not the one whose synapses SetDelays gave delays", s.name, backend.Shape(w)))
	}
	be, depth, last := s.net.be, st.depth, st.last
	st.last = t
	if st.w == nil {
		s.propagateUniform(dst, w, spikes, alpha, t, last)
		return
	}
	dl := be.(backend.Delayer)
	if r := st.shared; r != nil {
		s.propagateShared(dl, r, dst, w, spikes, alpha, t)
		return
	}
	// Input due in iterations without a call arrives now.
	for u := max(last+1, t-depth+1); u < t; u++ {
		dl.TakeSlot(dst, st.ring, mod(u, depth))
	}
	slot := mod(t, depth)
	dl.PropagateDelayed(st.ring, slot, w.(backend.SparseTensor), s.layout == SxD, st.delays, spikes, alpha)
	dl.TakeSlot(dst, st.ring, slot)
}

// propagateShared is PropagateDelayed through a shared ring: the first
// call of an iteration takes the rows due since the ring's last take (this
// iteration's included: every delay is at least 1, so no call of this
// iteration adds to it), then every call adds its spikes' input.
func (s *SynapseGroup) propagateShared(dl backend.Delayer, r *sharedRing, dst, w, spikes backend.Tensor, alpha float32, t int) {
	if r.dst == nil {
		r.dst = dst
	} else if r.dst != dst {
		panic(backend.Misusef("core", "PropagateDelayed", "synapse group %q: dst %s, but its shared ring (ShareDelayRing) feeds another tensor; groups sharing a ring must add into the same dst", s.name, backend.Shape(dst)))
	}
	if !r.started {
		r.started, r.last = true, t-1
	}
	if r.last < t {
		for u := max(r.last+1, t-r.depth+1); u <= t; u++ {
			dl.TakeSlot(dst, r.ring, mod(u, r.depth))
		}
		r.last = t
	}
	dl.PropagateDelayed(r.ring, mod(t, r.depth), w.(backend.SparseTensor), s.layout == SxD, s.delay.delays, spikes, alpha)
}

// propagateUniform runs a uniform delay d = depth-1 through the ring of
// spike masks: masks[u mod depth] holds the spikes of iteration u.
func (s *SynapseGroup) propagateUniform(dst, w, spikes backend.Tensor, alpha float32, t, last int) {
	st, be := s.delay, s.net.be
	depth := st.depth
	d := depth - 1
	trans := s.layout == SxD
	// Spikes of iterations up to last that were due in iterations without
	// a call arrive now.
	for u := last - d + 1; u <= min(last, t-d-1); u++ {
		be.Propagate(dst, w, trans, st.masks[mod(u, depth)], alpha)
	}
	// Iterations without a call had no spikes.
	for u := max(last+1, t-depth+1); u < t; u++ {
		backend.Fill(st.masks[mod(u, depth)], 0)
	}
	backend.Copy(st.masks[mod(t, depth)], spikes)
	if u := t - d; u <= last || u == t {
		be.Propagate(dst, w, trans, st.masks[mod(u, depth)], alpha)
	}
}
