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
	// OnPre are the statements run for the synapses of a presynaptic
	// spike, Brian2's on_pre, separated by ';' or newlines:
	//
	//	ge_post += w               add the weight (or k*w, or a constant) to a postsynaptic variable
	//	apre += Apre               step an event-driven trace (or apre = Apre)
	//	w = clip(w + apost, 0, wmax)  change the weight by a product of a
	//	                           constant, a presynaptic and a postsynaptic
	//	                           factor (traces or name_pre, name_post), then clip
	//	w += eta*apre*(wmax - w)   the same with a soft bound
	OnPre string
	// OnPost are the statements run for the synapses of a postsynaptic
	// spike (Brian2's on_post): trace steps and weight changes as in OnPre.
	OnPost string
	// Delay is the transmission delay of OnPre's propagation statements,
	// a time ("2*ms"; none if empty), rounded to whole steps of DT (0.1 ms
	// if empty).
	Delay, DT string
	// Spikes and PostSpikes are the spike masks of the source and target
	// groups ("fired" if empty).
	Spikes, PostSpikes string
	// Namespace holds constants: "J": "0.1*mV".
	Namespace map[string]string
}

// Synapses is a behaviour of a synapse group built from Brian2-style
// synaptic equations:
//
//	w : 1                                        a synaptic variable: the group's matrix of that name (W for w if the group has no w)
//	dapre/dt = -apre/taupre : 1 (event-driven)   a trace, stepped by OnPre or OnPost
//	Igap_post = w*(v_pre - v_post) : 1 (summed)  a postsynaptic variable set to a sum over the synapses
//
// An event-driven trace decays exponentially and is stepped by a constant,
// as in Brian2's pair STDP; every synapse of a neuron then holds the same
// value, so the trace is stored once per presynaptic neuron (stepped by
// OnPre) or postsynaptic neuron (stepped by OnPost), as a variable of the
// synapse group. A summed variable is a sum of terms, each a synaptic
// variable times presynaptic and postsynaptic factors; each term is one
// matrix-vector product.
//
// Each step the behaviour decays the traces, sets the summed variables,
// then runs OnPre for this step's presynaptic spikes and OnPost for the
// postsynaptic ones, in that order (Brian2's pre pathway before its post
// pathway). Brian2 sets summed variables before the neurons' update and
// runs on_pre after the threshold: put the behaviour after the neurons'
// equations for synaptic events, before them for summed variables (or use
// two behaviours on the group). Dense and sparse matrices and both layouts
// work; only the stored synapses of a sparse matrix change.
type Synapses struct {
	core.Base
	eqs    []Eq
	opt    SynapseOptions
	consts map[string]quantity
	dt     float64
	steps  int
	pre    []statement // OnPre, parsed
	post   []statement // OnPost

	// Built by Initialize.
	m          *model
	sg         *core.SynapseGroup
	preMask    backend.Tensor
	postMask   backend.Tensor
	traces     []*trace
	sums       []*summed
	preOps     []synOp
	postOps    []synOp
	onesPre    backend.Tensor
	sideOfName map[string]int
}

// Sides of a name or expression: the bits say what it depends on.
const (
	sidePre  = 1
	sidePost = 2
	sideSyn  = 4
)

type trace struct {
	eq     *Eq
	side   int // sidePre or sidePost
	factor float32
	t      backend.Tensor
	// seen marks the neurons that have stepped the trace: where it is 0
	// the trace is exactly 0, so an Outer with the trace as a factor
	// skips those rows or columns (in SxD a postsynaptic spike's update
	// walks a column, one cache line per synapse). A variable of the
	// group, name_seen, so that checkpoints keep it.
	seen backend.Tensor
	k    *core.Kernel // decay, step and seen in one (fuseTraces)
}

type synOpKind int

const (
	opPropagate synOpKind = iota // target += alpha*W[., spikes]
	opTraceAdd                   // trace += alpha where spiking
	opTraceSet                   // trace = alpha where spiking
	opOuter                      // W += alpha*post*pre, spiking rows or columns, then clip
)

type synOp struct {
	kind      synOpKind
	target, w backend.Tensor
	u, v      backend.Tensor // post and pre factors of opOuter (nil: ones)
	tu, tv    *trace         // the traces among them
	tr        *trace         // the trace of opTraceAdd and opTraceSet
	p         backend.OuterParams
}

// summed is one summed variable: target = sum of coef*post*(W x pre).
type summed struct {
	eq     *Eq
	target string
	terms  []*sumTerm
	k      *core.Kernel // sets the target from the products
}

type sumTerm struct {
	w, x, y backend.Tensor // y = W x
	prek    *core.Kernel   // computes x, if not a variable or ones
}

// NewSynapses parses and checks synaptic equations and statements; the
// checks that need the groups' variables and units run at Initialize.
func NewSynapses(eqs string, o SynapseOptions) (*Synapses, error) {
	var list []Eq
	if strings.TrimSpace(eqs) != "" {
		var err error
		if list, err = Parse(eqs); err != nil {
			return nil, err
		}
	}
	s := &Synapses{eqs: list, opt: o, consts: map[string]quantity{}}
	for name, v := range o.Namespace {
		c, err := constant(v, "Namespace["+name+"]")
		if err != nil {
			return nil, err
		}
		s.consts[name] = c
	}
	dt := o.DT
	if dt == "" {
		dt = "0.1*ms"
	}
	var err error
	if s.dt, err = Time(dt); err != nil {
		return nil, err
	}
	for i := range s.eqs {
		e := &s.eqs[i]
		switch {
		case e.Kind == Differential && !e.Has("event-driven"):
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("d%s/dt: a clock-driven synaptic variable (one ODE per synapse) is not supported; mark an exponential trace (event-driven), or integrate per neuron in the neuron equations", e.Name)}
		case e.Has("summed") && (e.Kind != Subexpression || !strings.HasSuffix(e.Name, "_post")):
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("%s: a summed variable is written name_post = expression : unit (summed)", e.Name)}
		case e.Kind == Subexpression && !e.Has("summed"):
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("%s: synaptic subexpressions other than summed variables are not supported; write the expression into the statements", e.Name)}
		case strings.HasSuffix(e.Name, "_pre") || (strings.HasSuffix(e.Name, "_post") && !e.Has("summed")):
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("%s: names ending in _pre and _post are the groups' variables; rename the synaptic variable", e.Name)}
		}
	}
	if o.Delay != "" {
		d, err := Time(o.Delay)
		if err != nil {
			return nil, fmt.Errorf("equations: Delay: %w", err)
		}
		if d < 0 {
			return nil, fmt.Errorf("equations: Delay %q must not be negative", o.Delay)
		}
		s.steps = int(math.Round(d / s.dt))
	}
	if s.pre, err = statements(o.OnPre, "on_pre"); err != nil {
		return nil, err
	}
	if s.post, err = statements(o.OnPost, "on_post"); err != nil {
		return nil, err
	}
	hasSummed := false
	for _, e := range s.eqs {
		hasSummed = hasSummed || e.Has("summed")
	}
	if len(s.pre) == 0 && len(s.post) == 0 && !hasSummed {
		return nil, errors.New(`equations: synapses need OnPre (e.g. "V_post += w"), OnPost or a summed variable`)
	}
	// What can be checked without the groups: targets, and which side
	// steps each trace.
	s.m = &model{eqs: s.eqs, by: map[string]*Eq{}, consts: s.consts, dt: s.dt}
	for i := range s.eqs {
		if e := &s.eqs[i]; !e.Has("summed") {
			s.m.by[e.Name] = e
		}
	}
	s.sideOfName = map[string]int{}
	for _, pw := range []struct {
		list []statement
		side int
		name string
	}{{s.pre, sidePre, "on_pre"}, {s.post, sidePost, "on_post"}} {
		for _, st := range pw.list {
			e := s.m.by[st.target]
			switch {
			case e != nil && e.Kind == Differential:
				if old := s.sideOfName[e.Name]; old != 0 && old != pw.side {
					return nil, fmt.Errorf("equations: %s: the trace %s is stepped by both on_pre and on_post; one trace per pathway (apre by on_pre, apost by on_post)", pw.name, e.Name)
				}
				s.sideOfName[e.Name] = pw.side
			case e != nil:
				// a synaptic variable
			case strings.HasSuffix(st.target, "_post"):
				if pw.side == sidePost {
					return nil, fmt.Errorf("equations: on_post %q: on_post changes traces and synaptic variables; a postsynaptic variable is changed by its own neuron equations", st.src)
				}
			case strings.HasSuffix(st.target, "_pre"):
				return nil, fmt.Errorf("equations: %s %q: changing presynaptic variables is not supported", pw.name, st.src)
			default:
				return nil, fmt.Errorf("equations: %s %q: %s is neither a synaptic variable, a trace (declare it in the equations) nor a postsynaptic variable (name_post)", pw.name, st.src, st.target)
			}
		}
	}
	for i := range s.eqs {
		e := &s.eqs[i]
		if e.Kind == Differential && s.sideOfName[e.Name] == 0 {
			return nil, &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("the trace %s is never stepped; add %s += ... to OnPre or OnPost", e.Name, e.Name)}
		}
	}
	return s, nil
}

// statements splits and parses a pathway's statements.
func statements(src, what string) ([]statement, error) {
	var out []statement
	for _, line := range strings.FieldsFunc(src, func(r rune) bool { return r == ';' || r == '\n' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		st, err := parseStatement(line)
		if err != nil {
			return nil, fmt.Errorf("equations: %s: %w", what, err)
		}
		st.src = line
		unline(st.expr)
		out = append(out, st)
	}
	return out, nil
}

// unline marks a statement's nodes as not on a line of the equations.
func unline(n *node) {
	if n == nil {
		return
	}
	n.line = -1
	for _, a := range n.args {
		unline(a)
	}
}

// stmtError places an error of a statement's expression under the
// statement.
func stmtError(where string, st statement, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Line < 0 {
		return &Error{Line: 1, Col: e.Col, Src: st.src, Msg: where + ": " + e.Msg}
	}
	return fmt.Errorf("equations: %s %q: %w", where, st.src, err)
}

// DeferInitialize makes the network initialise Synapses after the neuron
// groups' behaviours (core.Deferred), so that it may run before them.
func (s *Synapses) DeferInitialize() {}

// Initialize resolves the groups' variables and units, checks dimensions
// and builds the operations.
func (s *Synapses) Initialize(obj core.Object) error {
	sg, ok := obj.(*core.SynapseGroup)
	if !ok {
		return fmt.Errorf("equations: Synapses belongs on a synapse group, not %T", obj)
	}
	s.sg = sg
	mask := func(g *core.NeuronGroup, name, which string) (backend.Tensor, error) {
		if name == "" {
			name = "fired"
		}
		t := g.Var(name)
		if t == nil {
			return nil, fmt.Errorf("equations: synapses %s: the %s %s has no spike mask %q (set %sSpikes)", sg.Name(), which, g.Name(), name, map[string]string{"source": "", "target": "Post"}[which])
		}
		return t, nil
	}
	var err error
	if len(s.pre) > 0 {
		if s.preMask, err = mask(sg.Src, s.opt.Spikes, "source"); err != nil {
			return err
		}
	}
	if len(s.post) > 0 {
		if s.postMask, err = mask(sg.Dst, s.opt.PostSpikes, "target"); err != nil {
			return err
		}
	}
	// The model: synaptic variables, traces, and name_pre / name_post
	// in the units of the groups' equations (dimensionless if a variable
	// has none).
	for _, e := range s.eqs {
		if e.Kind == Parameter && s.matrix(e.Name) == nil {
			return fmt.Errorf("equations: synapses %s: no matrix %q; give the group one (sg.Matrix or sg.SparseMatrix, in the unit %s)", sg.Name(), e.Name, e.Unit)
		}
	}
	var names []*node
	for _, e := range s.eqs {
		walkNames(e.expr, func(n *node) { names = append(names, n) })
	}
	for _, st := range append(append([]statement(nil), s.pre...), s.post...) {
		walkNames(st.expr, func(n *node) { names = append(names, n) })
		names = append(names, &node{op: "name", name: st.target})
	}
	for _, n := range names {
		if s.m.by[n.name] != nil {
			continue
		}
		var g *core.NeuronGroup
		var v string
		switch {
		case strings.HasSuffix(n.name, "_pre"):
			g, v = sg.Src, strings.TrimSuffix(n.name, "_pre")
		case strings.HasSuffix(n.name, "_post"):
			g, v = sg.Dst, strings.TrimSuffix(n.name, "_post")
		default:
			continue
		}
		if g.Var(v) == nil {
			return fmt.Errorf("equations: synapses %s: %s: the group %s has no variable %q (it has %s)", sg.Name(), n.name, g.Name(), v, strings.Join(g.VarNames(), ", "))
		}
		e := &Eq{Kind: Parameter, Name: n.name, Unit: "1", unit: unit{scale: 1}}
		if d := declared(g, v); d != nil {
			e.Unit, e.unit = d.Unit, d.unit
		}
		s.m.by[n.name] = e
		s.sideOfName[n.name] = sidePost
		if g == sg.Src && strings.HasSuffix(n.name, "_pre") {
			s.sideOfName[n.name] = sidePre
		}
	}
	for _, e := range s.eqs {
		if e.Kind == Parameter {
			s.sideOfName[e.Name] = sideSyn
		}
	}
	// Dimensions of the equations (traces and summed variables).
	for i := range s.eqs {
		e := &s.eqs[i]
		if e.expr == nil {
			continue
		}
		d, err := s.m.dim(e.expr)
		if err != nil {
			return err
		}
		want := e.unit.dim
		if e.Kind == Differential {
			want = want.div(dSecond)
		}
		if d != want {
			return s.m.errAt(e.expr, "the right-hand side has dimension %s, %s needs %s", d, e.Name, want)
		}
	}
	if err := s.buildTraces(); err != nil {
		return err
	}
	if err := s.buildSums(); err != nil {
		return err
	}
	if s.preOps, err = s.compile(s.pre, sidePre); err != nil {
		return err
	}
	if s.postOps, err = s.compile(s.post, sidePost); err != nil {
		return err
	}
	// A trace that is a factor on the side an update does not mask by
	// spikes lets it skip the neurons that never stepped it, where they
	// are rows of the matrix.
	rows := sidePost
	if sg.Src.Net().Layout() == core.SxD {
		rows = sidePre
	}
	for _, op := range append(append([]synOp(nil), s.preOps...), s.postOps...) {
		for _, tr := range []*trace{op.tu, op.tv} {
			if tr != nil && tr.side != rows {
				continue
			}
			// (Not with a clip: it changes weights outside the bounds
			// even where the trace is 0.)
			if tr == nil || tr.seen != nil || op.kind != opOuter || op.p.Clip {
				continue
			}
			g := s.sg.Src
			if tr.side == sidePost {
				g = s.sg.Dst
			}
			if tr.seen, err = g.Vector("zeros"); err != nil {
				return err
			}
			if err := s.sg.SetVar(tr.eq.Name+"_seen", tr.seen); err != nil {
				return err
			}
		}
	}

	if s.steps > 0 || sg.MaxDelay() > 0 {
		for _, op := range s.preOps {
			if op.kind != opPropagate {
				return fmt.Errorf("equations: synapses %s: with a delay only propagation statements (V_post += w) may be in OnPre; put plasticity on a second, undelayed Synapses of the group", sg.Name())
			}
			if err := sg.SetUniformDelay(op.w, s.steps); err != nil {
				return err
			}
		}
	}
	return s.fuseTraces()
}

// declared finds the equations' declaration of v in g, if any.
func declared(g *core.NeuronGroup, v string) *Eq {
	for _, b := range g.Behaviors() {
		if nr, ok := b.(*Neuron); ok {
			if e := nr.m.by[v]; e != nil {
				return e
			}
		}
	}
	return nil
}

// matrix is the group's tensor of synaptic variable name (W for w).
func (s *Synapses) matrix(name string) backend.Tensor {
	if t := s.sg.Var(name); t != nil {
		return t
	}
	if name == "w" {
		return s.sg.Var("W")
	}
	return nil
}

// buildTraces checks that each trace decays exponentially and makes its
// vector, a variable of the synapse group.
func (s *Synapses) buildTraces() error {
	for i := range s.eqs {
		e := &s.eqs[i]
		if e.Kind != Differential {
			continue
		}
		a, b, why := linear(e.expr, e.Name)
		bad := func(what string) error {
			return &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("event-driven %s: %s; an event-driven trace decays exponentially, d%s/dt = -%s/tau", e.Name, what, e.Name, e.Name)}
		}
		if why != "" {
			return bad(why)
		}
		rate, ok1 := s.m.fold(a, nil)
		off, ok2 := s.m.fold(b, nil)
		if !ok1 || !ok2 || off != 0 {
			return bad("the right-hand side is not a constant times " + e.Name)
		}
		if rate > 0 {
			return bad("it grows without bound")
		}
		g := s.sg.Src
		if s.sideOfName[e.Name] == sidePost {
			g = s.sg.Dst
		}
		t, err := g.Vector("zeros")
		if err != nil {
			return err
		}
		if s.sg.Var(e.Name) != nil {
			return fmt.Errorf("equations: synapses %s: the trace %s would replace the group's variable of that name; rename one", s.sg.Name(), e.Name)
		}
		if err := s.sg.SetVar(e.Name, t); err != nil {
			return err
		}
		s.traces = append(s.traces, &trace{eq: e, side: s.sideOfName[e.Name], factor: float32(math.Exp(rate * s.dt)), t: t})
	}
	return nil
}

func (s *Synapses) trace(name string) *trace {
	for _, tr := range s.traces {
		if tr.eq.Name == name {
			return tr
		}
	}
	return nil
}

// side reports what n depends on.
func (s *Synapses) side(n *node) int {
	d := 0
	walkNames(n, func(k *node) { d |= s.sideOfName[k.name] })
	return d
}

// vector is the tensor and stored scale of a pre- or postsynaptic factor
// name (a trace or name_pre / name_post).
func (s *Synapses) vector(name string) (backend.Tensor, float64) {
	if tr := s.trace(name); tr != nil {
		return tr.t, tr.eq.unit.scale
	}
	e := s.m.by[name]
	g, v := s.sg.Dst, strings.TrimSuffix(name, "_post")
	if strings.HasSuffix(name, "_pre") {
		g, v = s.sg.Src, strings.TrimSuffix(name, "_pre")
	}
	return g.Var(v), e.unit.scale
}

// factors splits a product into a constant and names; ok is false when n
// is not a product of constants and names (divisions by constants allowed).
func (s *Synapses) factors(n *node) (c float64, names []string, ok bool) {
	if v, ok := s.m.fold(n, nil); ok {
		return v, nil, true
	}
	switch n.op {
	case "name":
		return 1, []string{n.name}, true
	case "neg":
		c, names, ok := s.factors(n.args[0])
		return -c, names, ok
	case "*":
		c1, n1, ok1 := s.factors(n.args[0])
		c2, n2, ok2 := s.factors(n.args[1])
		return c1 * c2, append(n1, n2...), ok1 && ok2
	case "/":
		d, ok := s.m.fold(n.args[1], nil)
		if !ok || d == 0 {
			return 0, nil, false
		}
		c, names, ok := s.factors(n.args[0])
		return c / d, names, ok
	}
	return 0, nil, false
}

// compile turns a pathway's statements into operations.
func (s *Synapses) compile(list []statement, side int) ([]synOp, error) {
	where := map[int]string{sidePre: "on_pre", sidePost: "on_post"}[side]
	var ops []synOp
	for _, st := range list {
		fail := func(format string, a ...any) error {
			return fmt.Errorf("equations: %s %q: %s", where, st.src, fmt.Sprintf(format, a...))
		}
		d, err := s.m.dim(st.expr)
		if err != nil {
			return nil, stmtError(where, st, err)
		}
		target := s.m.by[st.target]
		if d != target.unit.dim {
			return nil, fail("the right-hand side has dimension %s, %s is %s", d, st.target, target.unit.dim)
		}
		sign := map[string]float64{"+=": 1, "-=": -1, "=": 1}[st.op]
		if sign == 0 {
			return nil, fail("only =, += and -= are supported here")
		}
		switch {
		case strings.HasSuffix(st.target, "_post"): // propagation
			if st.op == "=" {
				return nil, fail("a presynaptic spike adds to a postsynaptic variable (+= or -=); with = the last synapse would win")
			}
			c, names, ok := s.factors(st.expr)
			if !ok || len(names) > 1 || (len(names) == 1 && s.sideOfName[names[0]] != sideSyn) {
				return nil, fail("for now a propagation adds a synaptic variable times a constant, or a constant, to a postsynaptic variable (V_post += w)")
			}
			w, scale := s.sg.Var("W"), 1.0
			if len(names) == 1 {
				w, scale = s.matrix(names[0]), s.m.by[names[0]].unit.scale
			}
			if w == nil {
				return nil, fail("a constant is added through the group's connectivity W (1 where connected); the group has no W")
			}
			ops = append(ops, synOp{kind: opPropagate, target: s.sg.Dst.Var(strings.TrimSuffix(st.target, "_post")), w: w, p: backend.OuterParams{Alpha: float32(sign * c * scale / target.unit.scale)}})
		case target.Kind == Differential: // a trace
			c, ok := s.m.fold(st.expr, nil)
			if !ok {
				return nil, fail("a trace is stepped by a constant (apre += Apre); a step that depends on synaptic variables would need one trace per synapse")
			}
			kind := opTraceAdd
			if st.op == "=" {
				kind = opTraceSet
			}
			tr := s.trace(st.target)
			ops = append(ops, synOp{kind: kind, target: tr.t, tr: tr, p: backend.OuterParams{Alpha: float32(sign * c / target.unit.scale)}})
		default: // a synaptic variable
			op, err := s.weightUpdate(st, sign, side)
			if err != nil {
				return nil, fail("%v", err)
			}
			ops = append(ops, op)
		}
	}
	return ops, nil
}

// weightUpdate reads w += E, w -= E, w = w + E and w = clip(w + E, lo, hi)
// where E is a constant times at most one presynaptic and one
// postsynaptic factor.
func (s *Synapses) weightUpdate(st statement, sign float64, side int) (synOp, error) {
	w := s.m.by[st.target]
	op := synOp{kind: opOuter, w: s.matrix(st.target)}
	e := st.expr
	if st.op == "=" {
		if e.op == "call" && e.name == "clip" {
			lo, ok1 := s.m.fold(e.args[1], nil)
			hi, ok2 := s.m.fold(e.args[2], nil)
			if !ok1 || !ok2 {
				return op, errors.New("clip's bounds must be constants")
			}
			op.p.Clip, op.p.Lo, op.p.Hi = true, float32(lo/w.unit.scale), float32(hi/w.unit.scale)
			e = e.args[0]
		}
		switch {
		case e.op == "name" && e.name == w.Name:
			e = &node{op: "num"}
		case (e.op == "+" || e.op == "-") && e.args[0].op == "name" && e.args[0].name == w.Name:
			if e.op == "-" {
				sign = -1
			}
			e = e.args[1]
		case e.op == "+" && e.args[1].op == "name" && e.args[1].name == w.Name:
			e = e.args[0]
		default:
			return op, fmt.Errorf("a weight update is %s += E, %s = %s + E or %s = clip(%s + E, lo, hi)", w.Name, w.Name, w.Name, w.Name, w.Name)
		}
	}
	soft, target, neg := s.softBound(&e, w.Name)
	c, names, ok := s.factors(e)
	why := fmt.Sprintf("E must be a constant times at most one presynaptic and one postsynaptic factor (a trace or name_pre, name_post) and at most one soft bound (wmax - %s), as in %s += eta*apost", w.Name, w.Name)
	if !ok {
		return op, errors.New(why)
	}
	alpha := sign * c / w.unit.scale
	if soft {
		// W += alpha*u*v*(Target - W): the bound carries w's unit.
		op.p.Soft, op.p.Target = true, float32(target/w.unit.scale)
		alpha = sign * c
		if neg {
			alpha = -alpha
		}
	}
	for _, n := range names {
		t, scale := s.vector(n)
		switch s.sideOfName[n] {
		case sidePre:
			if op.v != nil {
				return op, errors.New(why)
			}
			op.v, op.tv = t, s.trace(n)
		case sidePost:
			if op.u != nil {
				return op, errors.New(why)
			}
			op.u, op.tu = t, s.trace(n)
		default:
			return op, fmt.Errorf("the change depends on the synaptic variable %s other than through one soft bound (wmax - %s); %s", n, n, why)
		}
		alpha *= scale
	}
	op.p.Alpha = float32(alpha)
	return op, nil
}

// softBound finds in the product *e a factor (C - w) or (w - C), C a
// constant, replaces it by 1 and returns C in SI units; neg is set for
// (w - C) = -(C - w).
func (s *Synapses) softBound(e **node, w string) (found bool, c float64, neg bool) {
	var walk func(n **node) bool
	walk = func(n **node) bool {
		switch x := *n; x.op {
		case "*":
			return walk(&x.args[0]) || walk(&x.args[1])
		case "neg", "/":
			return walk(&x.args[0])
		case "-":
			for k, other := range []int{1, 0} {
				if a := x.args[k]; a.op == "name" && a.name == w {
					if v, ok := s.m.fold(x.args[other], nil); ok {
						found, c, neg = true, v, k == 0
						*n = &node{op: "num", num: 1}
						return true
					}
				}
			}
		}
		return false
	}
	cp := copyNode(*e)
	if walk(&cp) {
		*e = cp
	}
	return
}

func copyNode(n *node) *node {
	c := *n
	c.args = make([]*node, len(n.args))
	for k, a := range n.args {
		c.args[k] = copyNode(a)
	}
	return &c
}

// sumTerm is one term of a summed variable: c * syn * pre * post.
type sterm struct {
	c         float64
	syn       string
	pre, post *node // nil: 1
}

func mul(a, b *node) *node {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &node{op: "*", args: []*node{a, b}, line: a.line, pos: a.pos}
}

// expand writes n as a sum of terms, each linear in one synaptic variable.
func (s *Synapses) expand(n *node) ([]sterm, error) {
	side := s.side(n)
	if side&sideSyn == 0 {
		if c, ok := s.m.fold(n, nil); ok {
			return []sterm{{c: c}}, nil
		}
		switch side {
		case sidePre:
			return []sterm{{c: 1, pre: n}}, nil
		case sidePost:
			return []sterm{{c: 1, post: n}}, nil
		}
	}
	bad := func() ([]sterm, error) {
		return nil, s.m.errAt(n, "%s: a summed variable must be a sum of terms, each a synaptic variable times factors of the pre- and postsynaptic neurons", n)
	}
	switch n.op {
	case "name":
		if side == sideSyn {
			return []sterm{{c: 1, syn: n.name}}, nil
		}
	case "neg":
		t, err := s.expand(n.args[0])
		for k := range t {
			t[k].c = -t[k].c
		}
		return t, err
	case "+", "-":
		a, err := s.expand(n.args[0])
		if err != nil {
			return nil, err
		}
		b, err := s.expand(n.args[1])
		if err != nil {
			return nil, err
		}
		if n.op == "-" {
			for k := range b {
				b[k].c = -b[k].c
			}
		}
		return append(a, b...), nil
	case "*":
		a, err := s.expand(n.args[0])
		if err != nil {
			return nil, err
		}
		b, err := s.expand(n.args[1])
		if err != nil {
			return nil, err
		}
		var out []sterm
		for _, x := range a {
			for _, y := range b {
				if x.syn != "" && y.syn != "" {
					return nil, s.m.errAt(n, "%s: a product of two synaptic variables cannot be summed term by term", n)
				}
				out = append(out, sterm{c: x.c * y.c, syn: x.syn + y.syn, pre: mul(x.pre, y.pre), post: mul(x.post, y.post)})
			}
		}
		return out, nil
	case "/":
		den := n.args[1]
		ds := s.side(den)
		if ds&sideSyn != 0 || ds == sidePre|sidePost {
			return bad()
		}
		a, err := s.expand(n.args[0])
		if err != nil {
			return nil, err
		}
		inv := &node{op: "/", args: []*node{{op: "num", num: 1}, den}, line: den.line, pos: den.pos}
		for k := range a {
			switch ds {
			case 0:
				c, _ := s.m.fold(den, nil)
				a[k].c /= c
			case sidePre:
				a[k].pre = mul(a[k].pre, inv)
			case sidePost:
				a[k].post = mul(a[k].post, inv)
			}
		}
		return a, nil
	}
	return bad()
}

// siEnv maps name_pre (or name_post) to the SI value of the group's
// variable, for kernels on that group.
func (s *Synapses) siEnv(suffix string) map[string]string {
	env := map[string]string{}
	for name, e := range s.m.by {
		if v, ok := strings.CutSuffix(name, suffix); ok && e.Kind == Parameter && s.sideOfName[name] != sideSyn {
			env[name] = v
			if e.unit.scale != 1 {
				env[name] = fmt.Sprintf("(%s*%s)", v, lit(e.unit.scale))
			}
		}
	}
	for _, tr := range s.traces {
		if (tr.side == sidePre) == (suffix == "_pre") {
			env[tr.eq.Name] = "_tr_" + tr.eq.Name
		}
	}
	return env
}

// buildSums makes each summed variable's products and kernel.
func (s *Synapses) buildSums() error {
	for i := range s.eqs {
		e := &s.eqs[i]
		if !e.Has("summed") {
			continue
		}
		v := strings.TrimSuffix(e.Name, "_post")
		if s.sg.Dst.Var(v) == nil {
			return &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("the target %s has no variable %q; declare it in its equations (%s : %s)", s.sg.Dst.Name(), v, v, e.Unit)}
		}
		tscale := 1.0
		if d := declared(s.sg.Dst, v); d != nil {
			if d.Kind != Parameter {
				return &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("%s, set by the synapses each step, must be a parameter of the neuron equations (%s : %s), as in Brian2", v, v, d.Unit)}
			}
			if d.unit.dim != e.unit.dim {
				return &Error{Line: e.Line, Col: 1, Src: e.src, Msg: fmt.Sprintf("%s is %s in the neuron equations, %s here", v, d.unit.dim, e.unit.dim)}
			}
			tscale = d.unit.scale
		}
		terms, err := s.expand(e.expr)
		if err != nil {
			return err
		}
		sm := &summed{eq: e, target: v}
		var sum []string
		extra := map[string]backend.Tensor{}
		postEnv := s.siEnv("_post")
		preEnv := s.siEnv("_pre")
		for k, t := range terms {
			if t.syn == "" {
				return s.m.errAt(e.expr, "a term of %s has no synaptic variable; multiply it by one (the connectivity W as w)", e.Name)
			}
			st := &sumTerm{w: s.matrix(t.syn)}
			coef := t.c * s.m.by[t.syn].unit.scale / tscale
			switch {
			case t.pre == nil:
				if s.onesPre == nil {
					if s.onesPre, err = s.sg.Src.Vector("ones"); err != nil {
						return err
					}
				}
				st.x = s.onesPre
			case t.pre.op == "name" && s.m.by[t.pre.name] != nil && s.trace(t.pre.name) == nil:
				var scale float64
				st.x, scale = s.vector(t.pre.name)
				coef *= scale
			default:
				if st.x, err = s.sg.Src.Vector("zeros"); err != nil {
					return err
				}
				ex := map[string]backend.Tensor{"_x": st.x}
				for _, tr := range s.traces {
					if tr.side == sidePre {
						ex["_tr_"+tr.eq.Name] = tr.t
					}
				}
				if st.prek, err = core.NewKernelWith(s.sg.Src, "_x = "+s.m.gen(t.pre, preEnv), nil, ex); err != nil {
					return fmt.Errorf("equations: %s: %w", e.Name, err)
				}
			}
			if st.y, err = s.sg.Dst.Vector("zeros"); err != nil {
				return err
			}
			y := fmt.Sprintf("_y%d", k)
			extra[y] = st.y
			f := lit(coef) + "*" + y
			if t.post != nil {
				f += "*" + s.m.gen(t.post, postEnv)
			}
			sum = append(sum, f)
			sm.terms = append(sm.terms, st)
		}
		for _, tr := range s.traces {
			if tr.side == sidePost {
				extra["_tr_"+tr.eq.Name] = tr.t
			}
		}
		src := v + " = " + strings.Join(sum, " + ")
		if sm.k, err = core.NewKernelWith(s.sg.Dst, src, nil, extra); err != nil {
			return fmt.Errorf("equations: %s: %w\nkernel: %s", e.Name, err, src)
		}
		s.sums = append(s.sums, sm)
	}
	return nil
}

// fuseTraces folds a trace's decay, its step and its seen mask into one
// kernel run at the start of its pathway, where that gives the same
// values: when the step is the first statement of the pathway that uses
// the trace, and no summed variable reads traces (they see them before
// the pathways). A postsynaptic trace read by on_pre, which runs first,
// is then not yet decayed there: its reads there (factors of outer
// updates, linear) take the decay factor into their constant.
func (s *Synapses) fuseTraces() error {
	if len(s.sums) > 0 {
		return nil
	}
	for _, tr := range s.traces {
		ops, mask, g := s.preOps, s.preMask, s.sg.Src
		if tr.side == sidePost {
			ops, mask, g = s.postOps, s.postMask, s.sg.Dst
		}
		first := -1
		for k, op := range ops {
			if op.tu == tr || op.tv == tr {
				break
			}
			if op.tr == tr {
				first = k
				break
			}
		}
		if first < 0 {
			continue
		}
		op := ops[first]
		consts := core.Consts{"_F": tr.factor, "_A": op.p.Alpha}
		src := "_x = _x*_F + _A*_s"
		if op.kind == opTraceSet {
			src = "_x = _s != 0 ? _A : _x*_F"
		}
		bind := map[string]backend.Tensor{"_x": tr.t, "_s": mask}
		if tr.seen != nil {
			src += "\n_seen = max(_seen, _s)"
			bind["_seen"] = tr.seen
		}
		k, err := core.NewKernelWith(g, src, consts, bind)
		if err != nil {
			return fmt.Errorf("equations: trace %s: %w", tr.eq.Name, err)
		}
		tr.k = k
		ops = append(ops[:first:first], ops[first+1:]...)
		if tr.side == sidePre {
			s.preOps = ops
			continue
		}
		s.postOps = ops
		for k := range s.preOps {
			if p := &s.preOps[k]; p.tu == tr || p.tv == tr {
				p.p.Alpha *= tr.factor
			}
		}
	}
	return nil
}

// Iteration decays the traces, sets the summed variables and runs the
// pathways.
func (s *Synapses) Iteration(obj core.Object) error {
	sg := s.sg
	for _, tr := range s.traces {
		if tr.k == nil {
			backend.BinaryScalar(backend.Mul, tr.t, tr.t, tr.factor)
		}
	}
	for _, sm := range s.sums {
		for _, t := range sm.terms {
			if t.prek != nil {
				t.prek.Run()
			}
			sg.MatVec(t.y, t.w, t.x, 1, 0)
		}
		sm.k.Run()
	}
	s.runFused(sidePre)
	s.run(s.preOps, s.preMask, true)
	s.runFused(sidePost)
	s.run(s.postOps, s.postMask, false)
	return nil
}

// runFused runs the fused trace kernels of a pathway.
func (s *Synapses) runFused(side int) {
	for _, tr := range s.traces {
		if tr.k != nil && tr.side == side {
			tr.k.Run()
		}
	}
}

func (s *Synapses) run(ops []synOp, mask backend.Tensor, pre bool) {
	sg := s.sg
	for _, op := range ops {
		switch op.kind {
		case opPropagate:
			if s.steps > 0 {
				sg.PropagateDelayed(op.target, op.w, mask, op.p.Alpha)
			} else {
				sg.Propagate(op.target, op.w, mask, op.p.Alpha)
			}
		case opTraceAdd, opTraceSet:
			if op.kind == opTraceAdd {
				backend.Axpy(op.target, op.p.Alpha, mask)
			} else {
				backend.WhereScalar(op.target, mask, op.p.Alpha)
			}
			if op.tr.seen != nil {
				backend.Binary(backend.Max, op.tr.seen, op.tr.seen, mask)
			}
		case opOuter:
			// The skip helps where it drops whole rows of the matrix (the
			// sources in SxD, the targets in DxS); within a row a mask
			// test per synapse costs more than the update it saves.
			var postMask, preMask backend.Tensor
			sxd := sg.Src.Net().Layout() == core.SxD
			if op.tu != nil && !op.p.Clip && !sxd {
				postMask = op.tu.seen
			}
			if op.tv != nil && !op.p.Clip && sxd {
				preMask = op.tv.seen
			}
			if pre {
				preMask = mask
			} else {
				postMask = mask
			}
			sg.Outer(op.w, postMask, preMask, op.u, op.v, op.p)
		}
	}
}
