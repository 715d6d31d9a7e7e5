package core

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core/initexpr"
)

// Behavior is user code attached to a network, neuron group or synapse
// group. Initialize runs once (Network.Initialize), Iteration every step, in
// the network's global order of behaviour keys.
//
// obj is the object the behaviour sits on: a *Network, *NeuronGroup or
// *SynapseGroup. Iteration must not allocate or read tensor data back to the
// host in steady state: it queues backend operations.
//
// Every behaviour embeds Base, which carries its tags, parameters and
// active flag.
type Behavior interface {
	Initialize(obj Object) error
	Iteration(obj Object) error
	base() *Base
}

// Params are a behaviour's keyword parameters, as strings in PymoNNto's
// grammar: a number ("0.99"), a percentage ("10%"), or a diversity string
// evaluated per neuron ("uniform(0.0, 0.5)").
type Params map[string]string

// Base is embedded in every behaviour.
type Base struct {
	// Tag holds the behaviour's own comma-separated tags.
	Tag string
	// Params are the keyword parameters read with Float, Vector and String.
	Params Params

	inactive bool
	used     map[string]bool
	key      float64
	owner    Object
}

func (b *Base) base() *Base { return b }

// Active reports whether the behaviour runs each step.
func (b *Base) Active() bool { return !b.inactive }

// Key is the behaviour's execution key.
func (b *Base) Key() float64 { return b.key }

// Owner is the object the behaviour sits on.
func (b *Base) Owner() Object { return b.owner }

func (b *Base) use(key string) (string, bool) {
	if b.used == nil {
		b.used = map[string]bool{}
	}
	b.used[key] = true
	v, ok := b.Params[key]
	return v, ok
}

// unused lists parameters never read, sorted.
func (b *Base) unused() []string {
	var out []string
	for k := range b.Params {
		if !b.used[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ParamError reports a behaviour parameter that does not parse or does not fit.
type ParamError struct {
	Behavior string
	Key      string
	Value    string
	Err      error
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("behaviour %s: parameter %s=%q: %v", e.Behavior, e.Key, e.Value, e.Err)
}

func (e *ParamError) Unwrap() error { return e.Err }

// Float reads a scalar parameter: a number, an expression such as "3*(1+2)"
// or a percentage ("10%" is 0.1). A missing key gives def.
func (b *Base) Float(key string, def float32) (float32, error) {
	v, ok := b.use(key)
	if !ok {
		return def, nil
	}
	spec, err := initexpr.Parse(v)
	if err != nil {
		return 0, &ParamError{b.name(), key, v, err}
	}
	if !spec.Const || spec.Dist.Density != 1 && spec.Dist.Density != 0 {
		return 0, &ParamError{b.name(), key, v, fmt.Errorf("a scalar is required here, not the distribution %s (use Vector for per-neuron values)", spec)}
	}
	return spec.Value, nil
}

// String reads a parameter as plain text. A missing key gives def.
func (b *Base) String(key, def string) string {
	v, ok := b.use(key)
	if !ok {
		return def
	}
	return v
}

// Vector reads a per-element parameter for obj (a neuron group gives one
// value per neuron): a constant or a diversity string such as
// "uniform(0.0, 0.5)", evaluated per element with the network's generator.
// A missing key uses def, which is parsed the same way.
func (b *Base) Vector(obj Object, key, def string) (backend.Tensor, error) {
	v, ok := b.use(key)
	if !ok {
		v = def
	}
	t, err := obj.Vector(v)
	if err != nil {
		return nil, &ParamError{b.name(), key, v, err}
	}
	return t, nil
}

func (b *Base) name() string {
	if b.owner != nil {
		for _, s := range slotsOf(b.owner) {
			if s.b.base() == b {
				return behaviorName(s.b)
			}
		}
	}
	if b.Tag != "" {
		return b.Tag
	}
	return "behaviour"
}

// BehaviorTags lists b's tags: its type name ("Recorder", "Decay")
// first, then its own tags (Base.Tag), as net.SetActive and core.Find
// match them.
func BehaviorTags(b Behavior) []string {
	return append([]string{behaviorName(b)}, splitTags(b.base().Tag)...)
}

// behaviorName is a behaviour's type name ("Recorder", "Decay").
func behaviorName(b Behavior) string {
	t := reflect.TypeOf(b)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// splitTags splits a comma-separated tag list.
func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Behaviors maps execution keys to behaviours, as in PymoNNto's
// behaviour dictionaries. Keys may be fractional (0.5).
type Behaviors map[float64]Behavior

// BehaviorFunc adapts two functions into a Behavior; either may be nil.
// It is handy for small behaviours and tests.
type BehaviorFunc struct {
	Base
	Init func(obj Object) error
	Iter func(obj Object) error
}

func (f *BehaviorFunc) Initialize(obj Object) error {
	if f.Init == nil {
		return nil
	}
	return f.Init(obj)
}

func (f *BehaviorFunc) Iteration(obj Object) error {
	if f.Iter == nil {
		return nil
	}
	return f.Iter(obj)
}
