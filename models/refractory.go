package models

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// RefracVar is the name of the per-neuron refractory countdown variable:
// the number of steps a neuron has still to stay refractory (0 when it
// may integrate and fire).
const RefracVar = "refrac"

// Refractory is an absolute refractory period for a fused neuron update
// (core.NewKernel), kept in the per-neuron countdown variable refrac. Use
// it in a behaviour's Initialize:
//
//	r := models.Refractory{Steps: models.RefractorySteps(5, 0.1)}
//	if _, err := r.AddVar(o); err != nil { ... }
//	src, err := r.Wrap("v += dt/tau*(E_L - v) + ...; ge -= dt/tau_e*ge",
//		"v > V_th", "v = V_reset")
//	k, err := core.NewKernel(o, src, consts)
//
// The wrapped program runs, for every neuron, in this order:
//
//	refrac = max(refrac - 1, 0)       count down
//	_active := refrac <= 0            may integrate and fire this step
//	_hold_v := v                      (each held variable)
//	<integrate>                       every update, as written
//	v = _active ? v : _hold_v         held variables stay frozen
//	fired = _active && (<threshold>)
//	v = fired ? (V_reset) : v         (each reset statement)
//	refrac = fired ? Steps : refrac
//
// so a neuron that fires in step s keeps its held variables (v) at their
// reset values in steps s+1 .. s+Steps-1 and cannot fire in them; step
// s+Steps integrates and may fire again. Variables that are not held (the
// conductances of a COBA neuron, an adaptation current) go on evolving.
// This is Brian2's "(unless refractory)" with refractory = Steps*dt: it
// freezes v while (t - lastspike) < refractory, evaluated at the start of
// the step, and ands the threshold with not_refractory. Steps = 0 or 1
// gives no refractory period (a neuron may fire in consecutive steps).
//
// The countdown is a float32 holding small integers, exact on every
// backend, and the program draws no random numbers, so it adds nothing
// that could make backends disagree.
type Refractory struct {
	// Steps is the refractory period in steps (see RefractorySteps).
	Steps int
	// Hold lists the variables frozen while refractory; nil holds "v".
	Hold []string
}

// RefractorySteps is the refractory period tRef in steps of dt, rounded
// to the nearest integer as Brian2's timestep() does (5 ms at 0.1 ms: 50).
// It panics unless tRef >= 0 and dt > 0.
func RefractorySteps(tRef, dt float64) int {
	if !(tRef >= 0) || !(dt > 0) || math.IsInf(tRef, 0) || math.IsInf(dt, 0) {
		panic(fmt.Sprintf("models: RefractorySteps(%v, %v): need a finite refractory period >= 0 and a time step > 0", tRef, dt))
	}
	return int(math.Round(tRef / dt))
}

// AddVar makes the countdown variable refrac (zeros: no neuron starts
// refractory) on o and returns it. Call it before compiling the kernel.
func (r Refractory) AddVar(o core.Object) (backend.Tensor, error) {
	t, err := o.Vector("zeros")
	if err != nil {
		return nil, err
	}
	if err := o.SetVar(RefracVar, t); err != nil {
		return nil, err
	}
	return t, nil
}

var resetStmt = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*([-+*/]?=)\s*(.+?)\s*$`)

// Wrap returns the fused program described on Refractory: integrate (any
// kernel statements, run while not refractory), threshold (an expression
// of the updated variables) and the reset statements, each of the form
// "x = e", "x += e", "x -= e", "x *= e" or "x /= e" (several may also be
// given in one string separated by ';' or new lines), applied to the
// neurons that fired. The spike mask is the variable fired.
func (r Refractory) Wrap(integrate, threshold string, reset ...string) (string, error) {
	if r.Steps < 0 {
		return "", fmt.Errorf("refractory period of %d steps: must not be negative", r.Steps)
	}
	if strings.TrimSpace(threshold) == "" {
		return "", fmt.Errorf("refractory kernel: empty threshold; give a condition such as \"v > V_th\"")
	}
	hold := r.Hold
	if hold == nil {
		hold = []string{"v"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s = max(%s - 1, 0)\n_active := %s <= 0\n", RefracVar, RefracVar, RefracVar)
	for _, h := range hold {
		fmt.Fprintf(&b, "_hold_%s := %s\n", h, h)
	}
	b.WriteString(integrate)
	b.WriteString("\n")
	for _, h := range hold {
		fmt.Fprintf(&b, "%s = _active ? %s : _hold_%s\n", h, h, h)
	}
	fmt.Fprintf(&b, "fired = _active && (%s)\n", threshold)
	for _, rs := range reset {
		for _, s := range strings.FieldsFunc(rs, func(c rune) bool { return c == ';' || c == '\n' }) {
			if strings.TrimSpace(s) == "" {
				continue
			}
			m := resetStmt.FindStringSubmatch(s)
			if m == nil {
				return "", fmt.Errorf("refractory kernel: reset statement %q: want \"name = expression\" (or +=, -=, *=, /=)", strings.TrimSpace(s))
			}
			name, op, e := m[1], m[2], m[3]
			switch op {
			case "=":
				fmt.Fprintf(&b, "%s = fired ? (%s) : %s\n", name, e, name)
			case "+=", "-=":
				fmt.Fprintf(&b, "%s %s fired ? (%s) : 0\n", name, op, e)
			default: // *=, /=
				fmt.Fprintf(&b, "%s %s fired ? (%s) : 1\n", name, op, e)
			}
		}
	}
	fmt.Fprintf(&b, "%s = fired ? %d : %s\n", RefracVar, r.Steps, RefracVar)
	return b.String(), nil
}
