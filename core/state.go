package core

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"

	"github.com/gomonnto/gomonnto/backend"
)

// A network's state for checkpoints (package store writes and reads it).
// Snapshot describes it: the host state in full and the device state as
// the objects that hold it, in an order fixed by the program that built
// the network, so that a network built again by the same program lists
// the same objects in the same order. Restore puts the host state back.

// A Stater is a behaviour whose state is not all in tensors (Go fields
// that change while it runs, such as the position in an input sequence):
// checkpoints save and restore it through these methods.
type Stater interface {
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
}

// Snapshot is the state of a network at a step boundary.
type Snapshot struct {
	Host HostState
	// Tensors are every live tensor of the network's backend in the
	// order made (backend.TensorLister), behaviours' private ones
	// included.
	Tensors []SnapTensor
	// Rings are the delay rings of the synapse groups with per-synapse
	// delays (a shared ring once), in synapse-group order.
	Rings []SnapRing
	// Delays are the per-synapse delay tables, in synapse-group order.
	Delays []SnapDelays
	// Recorders hold the data recorded so far, in execution order.
	Recorders []*Recorder
}

// SnapTensor is one tensor of a Snapshot.
type SnapTensor struct {
	T backend.Tensor
	// Names are the variables that hold it ("E/v", "EE/W"; a network
	// variable is "net/x"), sorted; none for a behaviour's private tensor.
	Names []string
	// Recorder is set for a recorder's device block.
	Recorder bool
}

// Name is the tensor's first variable name, or "" for a private tensor.
func (t SnapTensor) Name() string {
	if len(t.Names) == 0 {
		return ""
	}
	return t.Names[0]
}

// SnapRing is a delay ring of a Snapshot.
type SnapRing struct {
	// Name names the synapse groups that feed it ("EE" or "EE+IE").
	Name string
	Ring backend.DelayRing
}

// SnapDelays is a per-synapse delay table of a Snapshot.
type SnapDelays struct {
	Name   string // the synapse group
	Delays backend.Delays
	// W is the sparse matrix the delays belong to.
	W backend.SparseTensor
}

// HostState is the part of a network's state that lives in Go values.
type HostState struct {
	Seed      uint64        `json:"seed"`
	Draws     uint64        `json:"draws"`
	Iteration int           `json:"iteration"`
	Recording bool          `json:"recording"`
	Groups    []GroupState  `json:"groups"`
	Delays    []DelayState  `json:"delays"`
	Behaviors []BehaviorRef `json:"behaviors"`
}

// GroupState is a neuron group's counters.
type GroupState struct {
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Iteration int    `json:"iteration"`
}

// DelayState is where a synapse group's delayed propagation stands.
type DelayState struct {
	Group   string `json:"group"`
	Depth   int    `json:"depth"`
	Started bool   `json:"started"`
	Last    int    `json:"last"`
	// Shared: the group's shared ring's take state (ShareDelayRing).
	Shared        bool `json:"shared,omitempty"`
	SharedStarted bool `json:"shared_started,omitempty"`
	SharedLast    int  `json:"shared_last,omitempty"`
}

// BehaviorRef is a behaviour in execution order: where it sits, whether
// it is active, and its Stater state.
type BehaviorRef struct {
	Owner  string  `json:"owner"`
	Key    float64 `json:"key"`
	Type   string  `json:"type"`
	Active bool    `json:"active"`
	State  []byte  `json:"state,omitempty"`
	// Recorder: the records still in the recorder's device block and
	// their iterations (the data already read back is saved as arrays).
	Rows  int   `json:"rows,omitempty"`
	Iters []int `json:"iters,omitempty"`
}

// ErrNotInitialized is returned by Snapshot and Restore before Initialize.
var ErrNotInitialized = errors.New("core: the network is not initialized; call net.Initialize() first")

// ObjectName names an object for snapshots: "net", a group's name.
func ObjectName(o Object) string {
	switch v := o.(type) {
	case *NeuronGroup:
		return v.name
	case *SynapseGroup:
		return v.name
	}
	return "net"
}

// A Transient behaviour is no part of the network's state (a live view's
// recorders): Snapshot, and so checkpoints and state hashes, leave it and
// the tensors it lists out. A Recorder is transient when made with
// RecorderOptions.Transient.
type Transient interface {
	TransientTensors() []backend.Tensor
}

// Snapshot waits for the backend and describes the network's state. Event
// recorders drain their logs (their data so far is then all on the host).
// The backend must list its tensors (backend.TensorLister); it collects
// garbage first, so that tensors that are unreachable are not listed.
func (n *Network) Snapshot() (*Snapshot, error) {
	if !n.initialized {
		return nil, ErrNotInitialized
	}
	tl, ok := n.be.(backend.TensorLister)
	if !ok {
		return nil, fmt.Errorf("core: Snapshot: backend %s does not list its tensors (backend.TensorLister); it cannot be checkpointed", n.be.Name())
	}
	if n.orderDirty {
		n.buildOrder()
	}
	for _, s := range n.order {
		if r, ok := s.b.(*Recorder); ok && r.obj != nil && r.events {
			if err := r.flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := n.be.Sync(); err != nil {
		return nil, fmt.Errorf("core: Snapshot: %w", err)
	}
	runtime.GC()
	sn := &Snapshot{Host: HostState{Seed: n.seed, Draws: n.draws, Iteration: n.Iteration, Recording: n.recording}}
	names := map[backend.Tensor][]string{}
	for _, o := range n.objects() {
		on := ObjectName(o)
		for _, v := range o.VarNames() {
			t := o.Var(v)
			names[t] = append(names[t], on+"/"+v)
		}
	}
	recBuf := map[backend.Tensor]bool{}
	skip := map[backend.Tensor]bool{}
	for _, s := range n.order {
		for _, t := range transientTensors(s.b) {
			skip[t] = true
		}
	}
	for _, s := range n.stateSlots() {
		if r, ok := s.b.(*Recorder); ok {
			for _, it := range r.items {
				if it.buf != nil {
					recBuf[it.buf] = true
				}
				if it.part != nil {
					recBuf[it.part] = true
				}
			}
			sn.Recorders = append(sn.Recorders, r)
		}
	}
	for _, t := range tl.Tensors() {
		if skip[t] {
			continue
		}
		nm := names[t]
		sort.Strings(nm)
		sn.Tensors = append(sn.Tensors, SnapTensor{T: t, Names: nm, Recorder: recBuf[t]})
	}
	for _, g := range n.groups {
		sn.Host.Groups = append(sn.Host.Groups, GroupState{Name: g.name, Size: g.Size, Iteration: g.Iteration})
	}
	shared := map[*sharedRing]int{}
	for _, s := range n.synapses {
		st := s.delay
		if st == nil {
			continue
		}
		ds := DelayState{Group: s.name, Depth: st.depth, Started: st.started, Last: st.last}
		if st.w != nil {
			sn.Delays = append(sn.Delays, SnapDelays{Name: s.name, Delays: st.delays, W: st.w.(backend.SparseTensor)})
			if r := st.shared; r != nil {
				ds.Shared, ds.SharedStarted, ds.SharedLast = true, r.started, r.last
				if k, ok := shared[r]; ok {
					sn.Rings[k].Name += "+" + s.name
				} else {
					shared[r] = len(sn.Rings)
					sn.Rings = append(sn.Rings, SnapRing{Name: s.name, Ring: r.ring})
				}
			} else {
				sn.Rings = append(sn.Rings, SnapRing{Name: s.name, Ring: st.ring})
			}
		}
		sn.Host.Delays = append(sn.Host.Delays, ds)
	}
	for _, s := range n.stateSlots() {
		br := BehaviorRef{Owner: ObjectName(s.owner), Key: s.key, Type: behaviorName(s.b), Active: !s.b.base().inactive}
		if st, ok := s.b.(Stater); ok {
			b, err := st.MarshalState()
			if err != nil {
				return nil, fmt.Errorf("core: Snapshot: %s (key %g) on %s: %w", br.Type, s.key, describe(s.owner), err)
			}
			br.State = b
		}
		if r, ok := s.b.(*Recorder); ok {
			br.Rows, br.Iters = r.rows, slices.Clone(r.iters)
		}
		sn.Host.Behaviors = append(sn.Host.Behaviors, br)
	}
	return sn, nil
}

// Restore puts a saved host state back into a network built by the same
// program (its tensors and rings are written by the caller: package
// store). It checks that the network has the saved groups, delays and
// behaviours, and names the first that differs.
func (n *Network) Restore(h HostState) error {
	if !n.initialized {
		return ErrNotInitialized
	}
	if n.orderDirty {
		n.buildOrder()
	}
	if err := n.CheckState(h); err != nil {
		return err
	}
	n.seed, n.draws, n.Iteration, n.recording = h.Seed, h.Draws, h.Iteration, h.Recording
	for k, g := range n.groups {
		g.Iteration = h.Groups[k].Iteration
	}
	k := 0
	for _, s := range n.synapses {
		st := s.delay
		if st == nil {
			continue
		}
		d := h.Delays[k]
		k++
		st.started, st.last = d.Started, d.Last
		if r := st.shared; r != nil {
			r.started, r.last, r.dst = d.SharedStarted, d.SharedLast, nil
		}
	}
	for k, s := range n.stateSlots() {
		br := h.Behaviors[k]
		s.b.base().inactive = !br.Active
		if st, ok := s.b.(Stater); ok {
			if err := st.UnmarshalState(br.State); err != nil {
				return fmt.Errorf("core: Restore: %s (key %g) on %s: %w", br.Type, s.key, describe(s.owner), err)
			}
		}
		if r, ok := s.b.(*Recorder); ok && r.obj != nil {
			if br.Rows < 0 || br.Rows >= r.opt.Block || len(br.Iters) != br.Rows {
				return fmt.Errorf("core: Restore: recorder (key %g) on %s: %d records in its device block with %d iterations; its block holds %d", s.key, describe(s.owner), br.Rows, len(br.Iters), r.opt.Block)
			}
			r.rows, r.iters = br.Rows, append(r.iters[:0], br.Iters...)
		}
	}
	n.changed()
	return nil
}

// CheckState returns an error naming the first group, delay or behaviour
// of h that the network does not have: h is not the state of a network
// built by the same program.
func (n *Network) CheckState(h HostState) error {
	if n.orderDirty {
		n.buildOrder()
	}
	if len(h.Groups) != len(n.groups) {
		return fmt.Errorf("core: the checkpoint has %d neuron groups, the network %d", len(h.Groups), len(n.groups))
	}
	for k, g := range n.groups {
		if s := h.Groups[k]; s.Name != g.name || s.Size != g.Size {
			return fmt.Errorf("core: neuron group %d is %q of %d neurons in the checkpoint, %q of %d in the network", k, s.Name, s.Size, g.name, g.Size)
		}
	}
	k := 0
	for _, s := range n.synapses {
		if s.delay == nil {
			continue
		}
		if k >= len(h.Delays) {
			return fmt.Errorf("core: synapse group %q has delays, the checkpoint's does not", s.name)
		}
		if d := h.Delays[k]; d.Group != s.name || d.Depth != s.delay.depth || d.Shared != (s.delay.shared != nil) {
			return fmt.Errorf("core: delays %d belong to synapse group %q (%d slots, shared %t) in the checkpoint, to %q (%d slots, shared %t) in the network", k, d.Group, d.Depth, d.Shared, s.name, s.delay.depth, s.delay.shared != nil)
		}
		k++
	}
	if k != len(h.Delays) {
		return fmt.Errorf("core: the checkpoint has %d synapse groups with delays, the network %d", len(h.Delays), k)
	}
	slots := n.stateSlots()
	if len(h.Behaviors) != len(slots) {
		return fmt.Errorf("core: the checkpoint has %d behaviours, the network %d", len(h.Behaviors), len(slots))
	}
	for k, s := range slots {
		br := h.Behaviors[k]
		if br.Owner != ObjectName(s.owner) || br.Key != s.key || br.Type != behaviorName(s.b) {
			return fmt.Errorf("core: behaviour %d is %s (key %g) on %q in the checkpoint, %s (key %g) on %q in the network", k, br.Type, br.Key, br.Owner, behaviorName(s.b), s.key, ObjectName(s.owner))
		}
	}
	return nil
}

// RecordedItem is what a recorder holds of one expression, for
// checkpoints: the records read back to the host (Data, Iterations) or,
// for events, the events (EventIterations, EventIndices).
type RecordedItem struct {
	Name            string
	Width           int
	Data            []float32
	Iterations      []int
	EventIterations []int32
	EventIndices    []int32
}

// Shapes returns the recorder's expressions and the width of each
// record (1 for a reduction, the mask's length for events).
func (r *Recorder) Shapes() (names []string, widths []int) {
	for _, it := range r.items {
		names, widths = append(names, it.name), append(widths, it.width)
	}
	return names, widths
}

// Recorded returns what r holds of each expression on the host (the
// records of its device block are in its device tensors and Snapshot's
// BehaviorRef). The slices are r's own: do not modify them.
func (r *Recorder) Recorded() []RecordedItem {
	out := make([]RecordedItem, len(r.items))
	for k, it := range r.items {
		ri := RecordedItem{Name: it.name, Width: it.width, Data: it.host, Iterations: it.hits}
		if r.events {
			ri.EventIterations = make([]int32, 0, it.ev.len())
			ri.EventIndices = make([]int32, 0, it.ev.len())
			it.ev.each(func(its, idx []int32) {
				ri.EventIterations = append(ri.EventIterations, its...)
				ri.EventIndices = append(ri.EventIndices, idx...)
			})
		}
		out[k] = ri
	}
	return out
}

// SetRecorded replaces what r holds on the host with items (from
// Recorded of the same recorder in a checkpoint).
func (r *Recorder) SetRecorded(items []RecordedItem) error {
	if len(items) != len(r.items) {
		return fmt.Errorf("recorder %s: %d recorded expressions in the checkpoint, %d here", describeRec(r), len(items), len(r.items))
	}
	for k, it := range r.items {
		x := items[k]
		if x.Name != it.name || x.Width != it.width {
			return fmt.Errorf("recorder %s: expression %d is %q (%d wide) in the checkpoint, %q (%d wide) here", describeRec(r), k, x.Name, x.Width, it.name, it.width)
		}
		if len(x.Data) != len(x.Iterations)*x.Width && !r.events || len(x.EventIterations) != len(x.EventIndices) {
			return fmt.Errorf("recorder %s: %q: %d values for %d records of %d, or %d event iterations for %d indices", describeRec(r), x.Name, len(x.Data), len(x.Iterations), x.Width, len(x.EventIterations), len(x.EventIndices))
		}
		it.host = append(it.host[:0], x.Data...)
		it.hits = append(it.hits[:0], x.Iterations...)
		it.ev.reset()
		lo := 0
		for e := 1; e <= len(x.EventIterations); e++ {
			if e == len(x.EventIterations) || x.EventIterations[e] != x.EventIterations[lo] {
				it.ev.add(int(x.EventIterations[lo]), x.EventIndices[lo:e])
				lo = e
			}
		}
	}
	return nil
}

func describeRec(r *Recorder) string {
	if r.obj == nil {
		return fmt.Sprintf("%v", r.exprs)
	}
	return fmt.Sprintf("%v on %s", r.exprs, describe(r.obj))
}

// transientTensors lists the tensors of a transient behaviour (nil if it
// is part of the state).
func transientTensors(b Behavior) []backend.Tensor {
	if t, ok := b.(Transient); ok {
		return t.TransientTensors()
	}
	r, ok := b.(*Recorder)
	if !ok || !r.opt.Transient {
		return nil
	}
	var out []backend.Tensor
	for _, it := range r.items {
		for _, x := range []backend.Tensor{it.buf, it.part} {
			if x != nil {
				out = append(out, x)
			}
		}
	}
	return out
}

// isTransient reports whether b is left out of the state.
func isTransient(b Behavior) bool {
	if _, ok := b.(Transient); ok {
		return true
	}
	r, ok := b.(*Recorder)
	return ok && r.opt.Transient
}

// stateSlots are the behaviours of the state, in execution order.
func (n *Network) stateSlots() []slot {
	out := make([]slot, 0, len(n.order))
	for _, s := range n.order {
		if !isTransient(s.b) {
			out = append(out, s)
		}
	}
	return out
}
