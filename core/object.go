package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
)

// Object is a network, neuron group or synapse group: something with tags,
// named tensors and behaviours.
type Object interface {
	// Net is the network the object belongs to (itself for a network).
	Net() *Network
	// Tags lists the object's tags: its own, its type name and the
	// automatic ones ("ng", "syn", "src_to_dst").
	Tags() []string
	// HasTag reports whether tag is one of Tags.
	HasTag(tag string) bool
	// Var returns the named tensor, or nil.
	Var(name string) backend.Tensor
	// SetVar stores a named tensor; a synapse group checks its shape.
	SetVar(name string, t backend.Tensor) error
	// VarNames lists the named tensors, sorted.
	VarNames() []string
	// Vector makes a tensor with one element per unit of the object
	// (neurons; synapses for a synapse group; 1 for the network) from an
	// init string such as "uniform(0, 0.5)".
	Vector(init string, opts ...InitOption) (backend.Tensor, error)
	// AddBehavior attaches b under key; at run time it is initialised at once.
	AddBehavior(key float64, b Behavior) error
	// Behaviors lists the object's behaviours in key order.
	Behaviors() []Behavior

	common() *objectCommon
}

// slot is one behaviour in the global execution order.
type slot struct {
	key   float64
	seq   int
	b     Behavior
	owner Object
}

// objectCommon holds what networks and groups share.
type objectCommon struct {
	net   *Network
	tags  []string
	vars  map[string]backend.Tensor
	slots []slot
}

func (c *objectCommon) common() *objectCommon { return c }

// Net is the network the object belongs to.
func (c *objectCommon) Net() *Network { return c.net }

// Tags lists the object's tags.
func (c *objectCommon) Tags() []string { return append([]string(nil), c.tags...) }

// HasTag reports whether tag is one of the object's tags.
func (c *objectCommon) HasTag(tag string) bool {
	for _, t := range c.tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Var returns the named tensor, or nil if there is none.
func (c *objectCommon) Var(name string) backend.Tensor { return c.vars[name] }

// VarNames lists the object's named tensors, sorted.
func (c *objectCommon) VarNames() []string {
	names := make([]string, 0, len(c.vars))
	for n := range c.vars {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c *objectCommon) setVar(name string, t backend.Tensor) error {
	if name == "" {
		return errors.New("variable name is empty")
	}
	if t == nil {
		delete(c.vars, name)
		return nil
	}
	if t.Backend() != c.net.be {
		return fmt.Errorf("variable %q: the tensor belongs to backend %s, the network runs on %s", name, t.Backend().Name(), c.net.be.Name())
	}
	if c.vars == nil {
		c.vars = map[string]backend.Tensor{}
	}
	c.vars[name] = t
	return nil
}

// Behaviors lists the object's behaviours in key order.
func (c *objectCommon) Behaviors() []Behavior {
	out := make([]Behavior, len(c.slots))
	for i, s := range c.slots {
		out[i] = s.b
	}
	return out
}

func slotsOf(o Object) []slot { return o.common().slots }

// addBehavior attaches b to o under key.
func addBehavior(o Object, key float64, b Behavior) error {
	c := o.common()
	n := c.net
	if b == nil {
		return fmt.Errorf("behaviour at key %g is nil", key)
	}
	if key != key || key < 0 {
		return fmt.Errorf("behaviour %s: key %g must be a non-negative number", behaviorName(b), key)
	}
	for _, s := range c.slots {
		if s.key == key {
			return fmt.Errorf("duplicate behaviour key %g on %s: %s is already there (each key holds one behaviour per object; use %g.5 or another free key)", key, describe(o), behaviorName(s.b), key)
		}
		if s.b == b {
			return fmt.Errorf("behaviour %s is already attached to %s at key %g", behaviorName(b), describe(o), s.key)
		}
	}
	if b.base().owner != nil {
		return fmt.Errorf("behaviour %s is already attached to %s; make a new one for each object", behaviorName(b), describe(b.base().owner))
	}
	bb := b.base()
	bb.key = key
	bb.owner = o
	n.seq++
	c.slots = append(c.slots, slot{key: key, seq: n.seq, b: b, owner: o})
	sort.SliceStable(c.slots, func(i, j int) bool { return c.slots[i].key < c.slots[j].key })
	n.changed()
	if n.initialized {
		if err := n.initBehavior(slot{key: key, b: b, owner: o}); err != nil {
			removeSlot(o, b)
			return err
		}
	}
	return nil
}

func removeSlot(o Object, b Behavior) {
	c := o.common()
	for i, s := range c.slots {
		if s.b == b {
			c.slots = append(c.slots[:i], c.slots[i+1:]...)
			b.base().owner = nil
			c.net.changed()
			return
		}
	}
}

// describe names an object for error messages.
func describe(o Object) string {
	switch v := o.(type) {
	case *Network:
		return "the network"
	case *NeuronGroup:
		return fmt.Sprintf("neuron group %q", v.Name())
	case *SynapseGroup:
		return fmt.Sprintf("synapse group %q", v.Name())
	}
	return fmt.Sprintf("%T", o)
}

// ErrUnknownTag is wrapped by lookups of a tag that nothing carries.
var ErrUnknownTag = errors.New("unknown tag")

// Find returns every object of type T reachable from obj (the object, its
// groups, their behaviours, recorded series) that carries tag, searched
// recursively, in a stable order. As in PymoNNto, a recorded variable's
// name is a tag for its recorded data (*Series, *Events).
//
//	groups, err := core.Find[*core.NeuronGroup](net, "exc")
//	series, err := core.Find[*core.Series](net, "mean(v)")
//
// A tag nothing carries is an error wrapping ErrUnknownTag; a tag whose
// matches are all of other types is an error too.
func Find[T any](obj Object, tag string) ([]T, error) {
	all, err := obj.Net().lookup(obj, tag)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, m := range all {
		if err, ok := m.(error); ok { // reading recorded data back failed
			return nil, fmt.Errorf("tag %q: %w", tag, err)
		}
		if v, ok := m.(T); ok {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		var zero T
		return nil, fmt.Errorf("tag %q matches %s but no %T", tag, typeList(all), zero)
	}
	return out, nil
}

// Get returns the i-th match of Find (PymoNNto's obj['tag', i]).
func Get[T any](obj Object, tag string, i int) (T, error) {
	var zero T
	all, err := Find[T](obj, tag)
	if err != nil {
		return zero, err
	}
	if i < 0 || i >= len(all) {
		return zero, fmt.Errorf("tag %q: index %d out of range: %d match(es)", tag, i, len(all))
	}
	return all[i], nil
}

func typeList(ms []any) string {
	seen := map[string]int{}
	var order []string
	for _, m := range ms {
		s := fmt.Sprintf("%T", m)
		if seen[s] == 0 {
			order = append(order, s)
		}
		seen[s]++
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%d %s", seen[s], s)
	}
	return strings.Join(parts, ", ")
}
