package equations

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// Options configure a Neuron.
type Options struct {
	// Method integrates the differential equations: "euler" (default),
	// "rk2" (midpoint), "rk4", "exponential_euler" (each equation linear
	// in its variable, x' = A x + B with A and B free of x) or "exact" (a
	// linear system with constant coefficients, x' = A x + b: the matrix
	// exponential of A, computed in float64 when the kernel is built).
	Method string
	// DT is the time step, a time ("0.1*ms", Brian2's default if empty).
	DT string
	// Threshold is the spike condition, e.g. "v > -20*mV" (no spikes if
	// empty); SpikeVar names the spike mask written each step ("fired"
	// if empty).
	Threshold, SpikeVar string
	// Reset statements run where a neuron spiked, in order:
	// "v = -65*mV; u += d".
	Reset string
	// Refractory is a time ("2*ms", a whole number of steps) or a
	// condition ("v > -40*mV") during which equations flagged
	// "unless refractory" stand still and no spike is emitted.
	Refractory string
	// Namespace holds constants: "ENa": "50*mV", "tau": "10*ms".
	Namespace map[string]string
	// Init gives the initial values of variables and parameters in their
	// units ("-65*mV"), or as init strings in the declared unit's numbers
	// ("uniform(-70, -60)" for a v : mV); zero if absent.
	Init map[string]string
	// SplitReset leaves the reset out of the neuron's kernel: it runs in
	// the behaviour Resetter returns, placed by the user after the
	// synapses. That is Brian2's schedule (update, threshold, synapses,
	// reset), where what the synapses add to a neuron in the step it
	// spikes is overwritten by its reset; in one kernel the reset comes
	// first and the synaptic input of that step survives it.
	SplitReset bool
}

// Neuron is a behaviour built from equations: every step it integrates
// them, checks the threshold, resets and keeps the refractory state, in
// one fused kernel (one compute shader on gl, one pass on cpu). Variables
// are stored in the units they are declared in (v : mV holds millivolts),
// as PymoNNto users expect; the kernel computes in SI units.
type Neuron struct {
	core.Base
	eqs   []Eq
	opt   Options
	m     *model
	src   string
	k     *core.Kernel
	since backend.Tensor
	tick  *core.Kernel // clock += 1 when t is used
	spike string
	ref   struct {
		steps int   // a refractory time in steps (-1: none)
		cond  *node // or a condition
	}
	reset []statement
	thr   *node
	rsrc  string // the reset kernel with SplitReset
}

// statement is one reset statement: target op expression.
type statement struct {
	target, op string
	expr       *node
	src        string // as written, for errors
}

// New parses and checks equations for a neuron group; the kernel is made
// when the group is initialised.
func New(eqs string, o Options) (*Neuron, error) {
	list, err := Parse(eqs)
	if err != nil {
		return nil, err
	}
	nr := &Neuron{eqs: list, opt: o}
	if o.Method == "" {
		nr.opt.Method = "euler"
	}
	switch nr.opt.Method {
	case "euler", "rk2", "rk4", "exponential_euler", "exact":
	default:
		return nil, fmt.Errorf("equations: method %q; use euler, rk2, rk4, exponential_euler or exact", o.Method)
	}
	dt := o.DT
	if dt == "" {
		dt = "0.1*ms"
	}
	q, err := constant(dt, "DT")
	if err != nil {
		return nil, err
	}
	if q.dim != dSecond || !(q.si > 0) {
		return nil, fmt.Errorf("equations: DT %q must be a positive time such as 0.1*ms", dt)
	}
	consts := map[string]quantity{}
	for name, v := range o.Namespace {
		c, err := constant(v, "Namespace["+name+"]")
		if err != nil {
			return nil, err
		}
		consts[name] = c
	}
	if nr.m, err = newModel(list, consts, q.si); err != nil {
		return nil, err
	}
	if nr.m.noise && nr.opt.Method != "euler" {
		return nil, fmt.Errorf("equations: the noise xi needs method euler (Euler-Maruyama); %s is for deterministic equations", nr.opt.Method)
	}
	if nr.uses("lastspike") && o.Threshold == "" {
		return nil, errors.New("equations: lastspike needs a threshold (it is the time of the last spike)")
	}
	nr.spike = o.SpikeVar
	if nr.spike == "" {
		nr.spike = "fired"
	}
	if err := nr.events(); err != nil {
		return nil, err
	}
	if nr.src, err = nr.source(); err != nil {
		return nil, err
	}
	if o.SplitReset {
		if nr.thr == nil || len(nr.reset) == 0 {
			return nil, errors.New("equations: SplitReset needs a Threshold and a Reset")
		}
		if nr.rsrc, err = nr.resetSource(); err != nil {
			return nil, err
		}
	}
	return nr, nil
}

// resetSource is the reset as a kernel of its own: where the spike mask
// is set, the statements on the stored variables.
func (nr *Neuron) resetSource() (string, error) {
	m := nr.m
	env := map[string]string{}
	for i := range m.eqs {
		if e := &m.eqs[i]; e.Kind != Subexpression {
			env[e.Name] = e.Name
			if e.unit.scale != 1 {
				env[e.Name] = fmt.Sprintf("(%s*%s)", e.Name, lit(e.unit.scale))
			}
		}
	}
	var b strings.Builder
	for k, s := range nr.reset {
		bad := ""
		walkNames(s.expr, func(n *node) {
			if reserved[n.name] || (m.by[n.name] != nil && m.by[n.name].Kind == Subexpression) {
				bad = n.name
			}
		})
		if bad != "" {
			return "", fmt.Errorf("equations: reset %s %s %s: with SplitReset a reset uses the variables and constants, not %s", s.target, s.op, s.expr, bad)
		}
		e := m.by[s.target]
		cur, val := env[s.target], m.gen(s.expr, env)
		if s.op != "=" {
			val = cur + " " + s.op[:1] + " " + val
		}
		name := fmt.Sprintf("_r%d", k)
		fmt.Fprintf(&b, "%s := %s ? (%s) : %s\n", name, nr.spike, val, cur)
		if e.unit.scale != 1 {
			name = fmt.Sprintf("%s*%s", name, lit(1/e.unit.scale))
		}
		fmt.Fprintf(&b, "%s = %s\n", s.target, name)
	}
	return b.String(), nil
}

// Resetter is the behaviour that runs the reset of a Neuron made with
// SplitReset; give it a key after the synapses'.
func (nr *Neuron) Resetter() core.Behavior { return &resetter{nr: nr} }

type resetter struct {
	core.Base
	nr *Neuron
	k  *core.Kernel
}

func (r *resetter) Initialize(obj core.Object) error {
	if r.nr.rsrc == "" {
		return errors.New("equations: Resetter of a Neuron made without SplitReset; set Options.SplitReset")
	}
	if obj.Var(r.nr.spike) == nil {
		return fmt.Errorf("equations: the Resetter runs on the Neuron's group, after it; this object has no spike mask %q", r.nr.spike)
	}
	var err error
	r.k, err = core.NewKernel(obj, r.nr.rsrc, nil)
	if err != nil {
		return fmt.Errorf("equations: reset: %w\nkernel:\n%s", err, r.nr.rsrc)
	}
	return nil
}

func (r *resetter) Iteration(core.Object) error {
	r.k.Run()
	return nil
}

// Time reads a time such as "0.01*ms" and returns it in seconds.
func Time(s string) (float64, error) {
	q, err := constant(s, "time")
	if err != nil {
		return 0, err
	}
	if q.dim != dSecond {
		return 0, fmt.Errorf("equations: %q is %s, not a time", s, q.dim)
	}
	return q.si, nil
}

// constant evaluates a constant expression with units ("50*mV").
func constant(s, what string) (quantity, error) {
	n, err := parseExpr(s, 1, 0)
	if err != nil {
		return quantity{}, fmt.Errorf("equations: %s = %q: %w", what, s, err)
	}
	m := &model{by: map[string]*Eq{}, consts: map[string]quantity{}}
	d, err := m.dim(n)
	if err != nil {
		return quantity{}, fmt.Errorf("equations: %s = %q: %w", what, s, err)
	}
	v, ok := m.fold(n, nil)
	if !ok {
		return quantity{}, fmt.Errorf("equations: %s = %q: not a constant (numbers and units only)", what, s)
	}
	return quantity{d, v}, nil
}

// events checks the threshold, reset and refractory strings.
func (nr *Neuron) events() error {
	m, o := nr.m, nr.opt
	nr.ref.steps = -1
	if o.Threshold != "" {
		n, err := parseExpr(o.Threshold, 1, 0)
		if err != nil {
			return fmt.Errorf("equations: threshold: %w", err)
		}
		if d, err := m.dim(n); err != nil {
			return fmt.Errorf("equations: threshold: %w", err)
		} else if d != Dimensionless {
			return fmt.Errorf("equations: threshold %q has dimension %s; write a condition such as v > -20*mV", o.Threshold, d)
		}
		nr.thr = n
	}
	if o.Reset != "" {
		if o.Threshold == "" {
			return errors.New("equations: a reset needs a threshold")
		}
		for _, st := range strings.FieldsFunc(o.Reset, func(r rune) bool { return r == ';' || r == '\n' }) {
			if strings.TrimSpace(st) == "" {
				continue
			}
			s, err := parseStatement(st)
			if err != nil {
				return fmt.Errorf("equations: reset: %w", err)
			}
			e := m.by[s.target]
			if e == nil || e.Kind == Subexpression {
				return fmt.Errorf("equations: reset %q assigns %s, which is not a variable or parameter of the equations", st, s.target)
			}
			d, err := m.dim(s.expr)
			if err != nil {
				return fmt.Errorf("equations: reset: %w", err)
			}
			want := e.unit.dim
			if s.op == "*=" || s.op == "/=" {
				want = Dimensionless
			}
			if d != want {
				return fmt.Errorf("equations: reset %q: the right-hand side has dimension %s, %s needs %s", strings.TrimSpace(st), d, s.target, want)
			}
			nr.reset = append(nr.reset, s)
		}
	}
	if o.Refractory != "" {
		if o.Threshold == "" {
			return errors.New("equations: a refractory period needs a threshold")
		}
		n, err := parseExpr(o.Refractory, 1, 0)
		if err != nil {
			return fmt.Errorf("equations: refractory: %w", err)
		}
		d, err := m.dim(n)
		if err != nil {
			return fmt.Errorf("equations: refractory: %w", err)
		}
		switch d {
		case dSecond:
			v, ok := m.fold(n, nil)
			if !ok || v < 0 {
				return fmt.Errorf("equations: refractory %q: give a constant time (2*ms) or a condition", o.Refractory)
			}
			nr.ref.steps = int(math.Round(v / m.dt))
		case Dimensionless:
			nr.ref.cond = n
		default:
			return fmt.Errorf("equations: refractory %q has dimension %s; give a time (2*ms) or a condition (v > -40*mV)", o.Refractory, d)
		}
	}
	return nil
}

func parseStatement(s string) (statement, error) {
	for _, op := range []string{"+=", "-=", "*=", "/=", "="} {
		if i := strings.Index(s, op); i > 0 {
			t := strings.TrimSpace(s[:i])
			if !validName(t) {
				continue
			}
			n, err := parseExpr(s, 1, i+len(op))
			if err != nil {
				return statement{}, err
			}
			return statement{target: t, op: op, expr: n}, nil
		}
	}
	return statement{}, fmt.Errorf("%q: a statement is 'name = expression' (or +=, -=, *=, /=)", strings.TrimSpace(s))
}

// Source is the kernel the equations compile to (for reading and tests).
func (nr *Neuron) Source() string { return nr.src }

// source writes the step: read every variable in SI units, integrate,
// threshold, reset, write back.
func (nr *Neuron) source() (string, error) {
	m := nr.m
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	env := map[string]string{}
	si := func(e *Eq) string {
		if e.unit.scale == 1 {
			return e.Name
		}
		return fmt.Sprintf("(%s*%s)", e.Name, lit(e.unit.scale))
	}
	for i := range m.eqs {
		e := &m.eqs[i]
		if e.Kind == Parameter {
			env[e.Name] = si(e)
		}
		if e.Kind == Differential {
			w("_%s_0 := %s", e.Name, si(e))
			env[e.Name] = "_" + e.Name + "_0"
		}
	}
	refr := nr.thr != nil && (nr.ref.steps >= 0 || nr.ref.cond != nil)
	if nr.usesTime() {
		env["t"] = fmt.Sprintf("(clock*%s)", lit(m.dt))
	}
	if nr.counts() {
		w("_since := since + 1")
		env["lastspike"] = fmt.Sprintf("(%s - _since*%s)", env["t"], lit(m.dt))
	}
	if refr {
		if nr.ref.cond != nil {
			w("_nr := !(%s)", m.gen(nr.ref.cond, env))
		} else {
			w("_nr := _since >= %d", nr.ref.steps)
		}
		env["not_refractory"] = "_nr"
	} else {
		env["not_refractory"] = "1"
	}
	// stage writes the subexpressions and derivatives at the state in
	// env, under the names _<x>_k<stage>.
	stage := func(k int, env map[string]string) map[string]string {
		e2 := map[string]string{}
		for n, v := range env {
			e2[n] = v
		}
		for _, s := range m.subs {
			name := fmt.Sprintf("_%s_s%d", s.Name, k)
			w("%s := %s", name, m.gen(s.expr, e2))
			e2[s.Name] = name
		}
		d := map[string]string{}
		for _, x := range m.diffs {
			name := fmt.Sprintf("_%s_k%d", x.Name, k)
			w("%s := %s", name, m.gen(x.expr, e2))
			d[x.Name] = name
		}
		return d
	}
	at := func(base map[string]string, with map[string]string) map[string]string {
		e2 := map[string]string{}
		for n, v := range base {
			e2[n] = v
		}
		for n, v := range with {
			e2[n] = v
		}
		return e2
	}
	dt := lit(m.dt)
	next := map[string]string{}
	switch nr.opt.Method {
	case "euler":
		// x + dt*f, with dt folded into f's constant factor where f is
		// g/c or g*c (dt*(g/ms) becomes g*0.1 at dt 0.1 ms): one rounding
		// fewer, and the arithmetic of a hand-written v += g*dt.
		e2 := map[string]string{}
		for n, v := range env {
			e2[n] = v
		}
		for _, s := range m.subs {
			name := fmt.Sprintf("_%s_s1", s.Name)
			w("%s := %s", name, m.gen(s.expr, e2))
			e2[s.Name] = name
		}
		for _, x := range m.diffs {
			w("_%s_1 := _%s_0 + %s", x.Name, x.Name, m.genScaled(x.expr, m.dt, e2))
		}
	case "rk2":
		k1 := stage(1, env)
		mid := map[string]string{}
		for _, x := range m.diffs {
			w("_%s_h := _%s_0 + %s*%s", x.Name, x.Name, lit(m.dt/2), k1[x.Name])
			mid[x.Name] = "_" + x.Name + "_h"
		}
		k2 := stage(2, at(env, mid))
		for _, x := range m.diffs {
			w("_%s_1 := _%s_0 + %s*%s", x.Name, x.Name, dt, k2[x.Name])
		}
	case "rk4":
		k1 := stage(1, env)
		s2, s3, s4 := map[string]string{}, map[string]string{}, map[string]string{}
		for _, x := range m.diffs {
			w("_%s_a := _%s_0 + %s*%s", x.Name, x.Name, lit(m.dt/2), k1[x.Name])
			s2[x.Name] = "_" + x.Name + "_a"
		}
		k2 := stage(2, at(env, s2))
		for _, x := range m.diffs {
			w("_%s_b := _%s_0 + %s*%s", x.Name, x.Name, lit(m.dt/2), k2[x.Name])
			s3[x.Name] = "_" + x.Name + "_b"
		}
		k3 := stage(3, at(env, s3))
		for _, x := range m.diffs {
			w("_%s_c := _%s_0 + %s*%s", x.Name, x.Name, dt, k3[x.Name])
			s4[x.Name] = "_" + x.Name + "_c"
		}
		k4 := stage(4, at(env, s4))
		for _, x := range m.diffs {
			w("_%s_1 := _%s_0 + %s*(%s + 2*%s + 2*%s + %s)", x.Name, x.Name, lit(m.dt/6), k1[x.Name], k2[x.Name], k3[x.Name], k4[x.Name])
		}
	case "exact":
		if err := m.exactStep(w, env); err != nil {
			return "", err
		}
	case "exponential_euler":
		for _, x := range m.diffs {
			f := m.subst(x.expr)
			a, bb, why := linear(f, x.Name)
			if why != "" {
				return "", &Error{Line: x.Line, Col: x.expr.pos + 1, Src: x.src, Msg: fmt.Sprintf("exponential_euler needs d%s/dt linear in %s: %s; use euler, rk2 or rk4", x.Name, x.Name, why)}
			}
			A, B := m.gen(a, env), m.gen(bb, env)
			w("_%s_A := %s", x.Name, A)
			w("_%s_B := %s", x.Name, B)
			w("_%s_1 := _%s_A != 0 ? (_%s_0 + _%s_B/_%s_A)*exp(_%s_A*%s) - _%s_B/_%s_A : _%s_0 + %s*_%s_B",
				x.Name, x.Name, x.Name, x.Name, x.Name, x.Name, dt, x.Name, x.Name, x.Name, dt, x.Name)
		}
	}
	for _, x := range m.diffs {
		name := "_" + x.Name + "_1"
		if refr && x.Has("unless refractory") {
			w("_%s_2 := _nr ? %s : _%s_0", x.Name, name, x.Name)
			name = "_" + x.Name + "_2"
		}
		next[x.Name] = name
	}
	after := at(env, next)
	if nr.thr != nil {
		cond := m.gen(nr.thr, after)
		if refr {
			cond = "(" + cond + ") && _nr"
		}
		w("_spk := %s", cond)
		for k, s := range nr.reset {
			if nr.opt.SplitReset {
				break
			}
			e := m.by[s.target]
			cur := after[s.target]
			val := m.gen(s.expr, after)
			switch s.op {
			case "+=":
				val = cur + " + " + val
			case "-=":
				val = cur + " - " + val
			case "*=":
				val = cur + " * " + val
			case "/=":
				val = cur + " / " + val
			}
			name := fmt.Sprintf("_%s_r%d", s.target, k)
			w("%s := _spk ? (%s) : %s", name, val, cur)
			after[s.target] = name
			if e.Kind == Parameter {
				next[s.target] = name
			}
		}
		w("%s = _spk", nr.spike)
		if nr.counts() {
			w("since = _spk ? 0 : min(_since, 1e9)")
		}
	}
	// Write back in the declared units.
	names := make([]string, 0, len(next))
	for n := range next {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := m.by[n]
		v := after[n]
		if e.unit.scale != 1 {
			v = fmt.Sprintf("%s*%s", v, lit(1/e.unit.scale))
		}
		w("%s = %s", n, v)
	}
	return b.String(), nil
}

// Variables lists the state variables and parameters a group gets.
func (nr *Neuron) Variables() []string {
	var out []string
	for _, e := range nr.eqs {
		if e.Kind != Subexpression {
			out = append(out, e.Name)
		}
	}
	return out
}

// Initialize makes the group's variables (state variables, parameters,
// the spike mask) with their initial values and compiles the kernel.
func (nr *Neuron) Initialize(obj core.Object) error {
	for _, e := range nr.eqs {
		if e.Kind == Subexpression {
			continue
		}
		init := "0"
		if s, ok := nr.opt.Init[e.Name]; ok {
			init = s
			if q, err := constant(s, "Init["+e.Name+"]"); err == nil {
				if q.dim != e.unit.dim && !(q.dim == Dimensionless && q.si == 0) {
					return fmt.Errorf("equations: Init[%s] = %q has dimension %s, %s is %s", e.Name, s, q.dim, e.Name, e.unit.dim)
				}
				init = fmt.Sprint(float32(q.si / e.unit.scale))
			}
		}
		var t backend.Tensor
		var err error
		if e.Has("shared") {
			t, err = obj.Net().Vector(init)
		} else {
			t, err = obj.Vector(init)
		}
		if err != nil {
			return fmt.Errorf("equations: %s: %w", e.Name, err)
		}
		if err := obj.SetVar(e.Name, t); err != nil {
			return err
		}
	}
	if nr.thr != nil {
		t, err := obj.Vector("0")
		if err != nil {
			return err
		}
		if err := obj.SetVar(nr.spike, t); err != nil {
			return err
		}
	}
	extra := map[string]backend.Tensor{}
	if nr.counts() {
		var err error
		if nr.since, err = obj.Vector("1e9"); err != nil {
			return err
		}
		extra["since"] = nr.since
	}
	if nr.usesTime() {
		// The steps run so far, on the device: t = clock*dt at the start
		// of a step, with no host write per step.
		clock, err := obj.Net().Vector(fmt.Sprint(obj.Net().Iteration))
		if err != nil {
			return err
		}
		extra["clock"] = clock
		if nr.tick, err = core.NewKernelWith(obj, "clock = clock + 1", nil, map[string]backend.Tensor{"clock": clock}); err != nil {
			return err
		}
	}
	k, err := core.NewKernelWith(obj, nr.src, nil, extra)
	if err != nil {
		return fmt.Errorf("equations: %w\nkernel:\n%s", err, nr.src)
	}
	nr.k = k
	return nil
}

// usesTime reports whether t or lastspike appears in the equations or the
// event strings.
func (nr *Neuron) usesTime() bool { return nr.uses("t") || nr.uses("lastspike") }

// counts reports whether the kernel keeps the steps since each neuron's
// last spike (for a refractory period or lastspike).
func (nr *Neuron) counts() bool {
	return nr.thr != nil && (nr.ref.steps >= 0 || nr.ref.cond != nil || nr.uses("lastspike"))
}

func (nr *Neuron) uses(name string) bool {
	found := false
	look := func(n *node) {
		walkNames(n, func(k *node) { found = found || k.name == name })
	}
	for _, e := range nr.eqs {
		look(e.expr)
	}
	look(nr.thr)
	look(nr.ref.cond)
	for _, s := range nr.reset {
		look(s.expr)
	}
	return found
}

// Iteration runs one step.
func (nr *Neuron) Iteration(core.Object) error {
	nr.k.Run()
	if nr.tick != nil {
		nr.tick.Run()
	}
	return nil
}
