// Package equations builds neuron behaviours from Brian2-style equations:
//
//	nr, err := equations.New(`
//	    dv/dt = (El - v + R*I)/tau : volt (unless refractory)
//	    I : amp
//	`, equations.Options{
//	    Method: "exponential_euler", DT: "0.1*ms",
//	    Threshold: "v > -50*mV", Reset: "v = -70*mV", Refractory: "2*ms",
//	    Namespace: map[string]string{"El": "-70*mV", "R": "10*Mohm", "tau": "10*ms"},
//	})
//	net.NewNeuronGroup("lif", core.Size(100), core.Behaviors{1: nr})
//
// Lines are differential equations (dx/dt = f : unit), subexpressions
// (x = f : unit) and parameters (x : unit), with flags in parentheses
// (unless refractory, shared, constant) and '#' comments. Every quantity
// has a dimension, checked through every operation: adding volts to amps,
// exp of a voltage or a right-hand side of the wrong unit is an error that
// names the line and column and both dimensions. A variable is stored in
// the unit it is declared in (v : mV holds millivolts, as PymoNNto's
// numbers are; Brian2 users write volt); the kernel computes in SI units.
//
// One step (one fused kernel on either backend: one compute shader on gl,
// one pass over memory on cpu) evaluates every derivative from the values
// at the start of the step (euler, rk2 as midpoint, rk4, or
// exponential_euler, whose linear part A x + B is found from the syntax
// tree, an equation not linear in its variable being refused with the
// reason), holds "unless refractory" variables while refractory, tests the
// threshold on the new values, runs the reset statements where a neuron
// spiked and writes the spike mask (fired). Constant subexpressions are
// computed in float64 and rounded once; x**k for whole k up to 8 is a
// product. xi is white noise scaled by 1/sqrt(dt) (Euler-Maruyama).
//
// exact solves linear systems with constant coefficients through the matrix
// exponential, computed in float64 when the kernel is built.
//
// Names: t (the time at the start of the step, kept on the device as a
// step count), dt, i (the neuron's index), N (the group's size), pi,
// lastspike (with a threshold), not_refractory, xi, and Brian2's unit
// names (mV, nS, uF/cm2, ...) where no variable or constant hides them.
//
// Synapses (NewSynapses) gives a synapse group Brian2's synaptic model:
//
//	w : 1
//	dapre/dt = -apre/taupre : 1 (event-driven)
//	dapost/dt = -apost/taupost : 1 (event-driven)
//	on_pre:  ge_post += w; apre += Apre; w = clip(w + apost, 0, wmax)
//	on_post: apost += Apost; w = clip(w + apre, 0, wmax)
//
// A propagation (V_post += w, with a delay if asked) is one spike
// propagation; an event-driven trace decays exponentially and is stored
// once per pre- or postsynaptic neuron (the side whose pathway steps it);
// a weight change, a constant times a pre- and a postsynaptic factor
// (traces, name_pre, name_post) and at most one soft bound (wmax - w),
// then clipped, is one masked Outer over the spiking rows or columns. A
// summed variable (Igap_post = w*(v_pre - v_post) : 1 (summed)) is one
// matrix-vector product per term. Dense and sparse matrices, both
// layouts. Neuron's SplitReset gives Brian2's schedule, where the reset
// follows the synapses.
//
// Not there: per-synapse clock-driven equations, traces stepped by
// expressions of synaptic variables, on_pre statements on presynaptic
// variables, delays on plastic statements.
package equations
