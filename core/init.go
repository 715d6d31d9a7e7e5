package core

import (
	"fmt"
	"sort"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
	"github.com/gomonnto/gomonnto/core/initexpr"
)

// Init is a parsed init string ("uniform(0, 0.5)", "normal(-65, 5)", "10%",
// "ones", "uniform, density=0.1"). Parse once, Fill every step.
type Init struct {
	spec initexpr.Spec
}

// ParseInit parses an init string; errors point at the offending column.
func ParseInit(s string) (Init, error) {
	spec, err := initexpr.Parse(s)
	if err != nil {
		return Init{}, err
	}
	return Init{spec}, nil
}

// String is the canonical form of the init string.
func (in Init) String() string { return in.spec.String() }

// Dist is the init as a backend distribution.
func (in Init) Dist() rng.Dist {
	if in.spec.Const {
		d := rng.ConstDist(in.spec.Value)
		return d
	}
	return in.spec.Dist
}

// InitOption modifies an init string's distribution, as PymoNNto's
// density= and scale= arguments do.
type InitOption func(*rng.Dist)

// Density keeps each element with probability p (others are 0).
func Density(p float32) InitOption { return func(d *rng.Dist) { d.Density *= p } }

// Scale multiplies every element by s.
func Scale(s float32) InitOption { return func(d *rng.Dist) { d.Scale *= s } }

// Fill draws dst from in with the network's generator (or fills a
// constant). It allocates nothing and suits per-step use.
func (n *Network) Fill(dst backend.Tensor, in Init) {
	d := in.Dist()
	if d.Kind == rng.Const && d.Density == 1 {
		backend.Fill(dst, d.Scale*d.A)
		return
	}
	n.be.Random(dst, d, n.NextKey())
}

// Rand draws dst from d with the network's generator.
func (n *Network) Rand(dst backend.Tensor, d rng.Dist) { n.be.Random(dst, d, n.NextKey()) }

// newFilled makes a rows x cols tensor from an init string.
func (n *Network) newFilled(rows, cols int, s string, opts []InitOption) (backend.Tensor, error) {
	in, err := ParseInit(s)
	if err != nil {
		return nil, fmt.Errorf("init string %q: %w", s, err)
	}
	d := in.Dist()
	for _, o := range opts {
		o(&d)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("init string %q: %w", s, err)
	}
	t, err := n.be.NewTensor(rows, cols)
	if err != nil {
		return nil, err
	}
	if d.Kind == rng.Const && d.Density == 1 {
		if v := d.Scale * d.A; v != 0 {
			backend.Fill(t, v)
		}
		return t, nil
	}
	n.be.Random(t, d, n.NextKey())
	return t, nil
}

func sortFloats(a []float64) { sort.Float64s(a) }
