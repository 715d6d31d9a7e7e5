package equations

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// SynapseOptions configure Synapses.
type SynapseOptions struct {
	// OnPre are the statements run for every synapse of a presynaptic
	// spike, Brian2's on_pre: "V_post += w", "ge_post += w", "V_post -=
	// J" (w a synaptic variable of the model, J a constant of the
	// namespace). For now each statement adds to a postsynaptic variable
	// the synaptic weight, a constant or a constant times the weight.
	OnPre string
	// Delay is the transmission delay, a time ("2*ms"; none if empty),
	// rounded to whole steps of DT.
	Delay, DT string
	// Spikes is the presynaptic spike mask ("fired" if empty).
	Spikes string
	// Namespace holds constants: "J": "0.1*mV".
	Namespace map[string]string
}

// Synapses is a behaviour of a synapse group built from Brian2-style
// synaptic equations: the model declares the synaptic variables ("w : mV",
// held in the group's matrix of that name, W if the name is w and the
// group has no w), and OnPre the effect of a presynaptic spike. Each
// statement is one spike propagation (core.SynapseGroup.Propagate or,
// with a delay, PropagateDelayed), dense or sparse, so the group's
// matrices give the connectivity.
type Synapses struct {
	core.Base
	eqs   []Eq
	opt   SynapseOptions
	m     *model
	steps int
	pre   []preStmt
}

type preStmt struct {
	target string  // postsynaptic variable
	weight string  // synaptic variable, or "" for a constant
	alpha  float64 // factor in the target's stored units
}

// NewSynapses parses and checks synaptic equations and statements.
func NewSynapses(eqs string, o SynapseOptions) (*Synapses, error) {
	var list []Eq
	if strings.TrimSpace(eqs) != "" {
		var err error
		if list, err = Parse(eqs); err != nil {
			return nil, err
		}
	}
	for _, e := range list {
		if e.Kind != Parameter {
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("synaptic %s: only synaptic variables (w : unit) for now; differential synaptic equations (event-driven traces) are not there yet", e.Name)}
		}
	}
	consts := map[string]quantity{}
	for name, v := range o.Namespace {
		c, err := constant(v, "Namespace["+name+"]")
		if err != nil {
			return nil, err
		}
		consts[name] = c
	}
	dt := o.DT
	if dt == "" {
		dt = "0.1*ms"
	}
	dts, err := Time(dt)
	if err != nil {
		return nil, err
	}
	m := &model{eqs: list, by: map[string]*Eq{}, consts: consts, dt: dts}
	for i := range m.eqs {
		m.by[m.eqs[i].Name] = &m.eqs[i]
	}
	s := &Synapses{eqs: list, opt: o, m: m}
	if o.Delay != "" {
		d, err := Time(o.Delay)
		if err != nil {
			return nil, fmt.Errorf("equations: Delay: %w", err)
		}
		if d < 0 {
			return nil, fmt.Errorf("equations: Delay %q must not be negative", o.Delay)
		}
		s.steps = int(math.Round(d / dts))
	}
	if strings.TrimSpace(o.OnPre) == "" {
		return nil, errors.New(`equations: synapses need OnPre, e.g. "V_post += w"`)
	}
	for _, st := range strings.FieldsFunc(o.OnPre, func(r rune) bool { return r == ';' || r == '\n' }) {
		if strings.TrimSpace(st) == "" {
			continue
		}
		p, err := s.statement(st)
		if err != nil {
			return nil, err
		}
		s.pre = append(s.pre, p)
	}
	return s, nil
}

// statement reads "X_post += w", "X_post -= J" or "X_post += k*w".
func (s *Synapses) statement(src string) (preStmt, error) {
	st, err := parseStatement(src)
	if err != nil {
		return preStmt{}, fmt.Errorf("equations: on_pre: %w", err)
	}
	bad := func(why string) (preStmt, error) {
		return preStmt{}, fmt.Errorf("equations: on_pre %q: %s; for now a statement adds the weight, a constant or a constant times the weight to a postsynaptic variable (V_post += w)", strings.TrimSpace(src), why)
	}
	if st.op != "+=" && st.op != "-=" {
		return bad("only += and -= are supported")
	}
	if !strings.HasSuffix(st.target, "_post") {
		return bad(st.target + " is not a postsynaptic variable (name_post)")
	}
	p := preStmt{target: strings.TrimSuffix(st.target, "_post"), alpha: 1}
	sign := 1.0
	if st.op == "-=" {
		sign = -1
	}
	e := st.expr
	var k *node
	if e.op == "*" {
		if e.args[1].op == "name" && s.m.by[e.args[1].name] != nil {
			k, e = e.args[0], e.args[1]
		} else if e.args[0].op == "name" && s.m.by[e.args[0].name] != nil {
			k, e = e.args[1], e.args[0]
		}
	}
	if e.op == "name" && s.m.by[e.name] != nil {
		p.weight = e.name
		if k != nil {
			c, ok := s.m.fold(k, nil)
			if !ok {
				return bad(k.String() + " is not a constant")
			}
			if d, _ := s.m.dim(k); d != Dimensionless {
				return bad(k.String() + " has a unit; the weight carries the unit")
			}
			p.alpha = c
		}
		p.alpha *= sign * s.m.by[e.name].unit.scale // the weight's stored unit in SI
		return p, nil
	}
	c, ok := s.m.fold(e, nil)
	if !ok {
		return bad(e.String() + " is neither the weight nor a constant")
	}
	p.alpha = sign * c // SI; the target's unit is applied at Initialize
	return p, nil
}

// dims checks the statements against the postsynaptic group's variables.
func (s *Synapses) Initialize(obj core.Object) error {
	sg, ok := obj.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("equations: Synapses belongs on a synapse group, not %T", obj)
	}
	spikes := s.opt.Spikes
	if spikes == "" {
		spikes = "fired"
	}
	if sg.Src.Var(spikes) == nil {
		return fmt.Errorf("equations: synapses %s: the source %s has no spike mask %q", sg.Name(), sg.Src.Name(), spikes)
	}
	for _, e := range s.eqs {
		name := e.Name
		if sg.Var(name) == nil && name == "w" && sg.Var("W") != nil {
			continue // w is the group's W
		}
		if sg.Var(name) == nil {
			return fmt.Errorf("equations: synapses %s: no matrix %q; give the group one (sg.Matrix or sg.SparseMatrix, in the unit %s)", sg.Name(), name, e.Unit)
		}
	}
	for k, p := range s.pre {
		t := sg.Dst.Var(p.target)
		if t == nil {
			return fmt.Errorf("equations: synapses %s: the target %s has no variable %q (it has %s)", sg.Name(), sg.Dst.Name(), p.target, strings.Join(sg.Dst.VarNames(), ", "))
		}
		// The target's stored unit: the neuron equations' declaration,
		// found through their behaviour.
		scale := 1.0
		for _, b := range sg.Dst.Behaviors() {
			if nr, ok := b.(*Neuron); ok {
				if e := nr.m.by[p.target]; e != nil {
					scale = e.unit.scale
					if p.weight != "" {
						w := s.m.by[p.weight]
						if w.unit.dim != e.unit.dim {
							return fmt.Errorf("equations: synapses %s: %s_post += %s adds %s to %s", sg.Name(), p.target, p.weight, w.unit.dim, e.unit.dim)
						}
					}
				}
			}
		}
		s.pre[k].alpha = p.alpha / scale
	}
	if s.steps > 0 || sg.MaxDelay() > 0 {
		for _, p := range s.pre {
			if err := sg.SetUniformDelay(s.matrix(sg, p), s.steps); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Synapses) matrix(sg *core.SynapseGroup, p preStmt) backend.Tensor {
	name := p.weight
	if name == "" || sg.Var(name) == nil {
		name = "W"
	}
	return sg.Var(name)
}

// Iteration propagates this step's (or, with a delay, an earlier step's)
// presynaptic spikes.
func (s *Synapses) Iteration(obj core.Object) error {
	sg := obj.(*core.SynapseGroup)
	spikes := s.opt.Spikes
	if spikes == "" {
		spikes = "fired"
	}
	mask := sg.Src.Var(spikes)
	for _, p := range s.pre {
		w := s.matrix(sg, p)
		if s.steps > 0 {
			sg.PropagateDelayed(sg.Dst.Var(p.target), w, mask, float32(p.alpha))
		} else {
			sg.Propagate(sg.Dst.Var(p.target), w, mask, float32(p.alpha))
		}
	}
	return nil
}
