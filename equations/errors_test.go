package equations

import (
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/core"
)

// TestErrors: each mistake is an error naming the line (and column) and
// what to do.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		eqs  string
		opt  Options
		want []string
	}{
		{"dv/dt = (El - v)/tau : volt\nEl : volt", Options{Namespace: map[string]string{"tau": "10*mV"}}, []string{"line 1", "dimension", "volt/second"}},
		{"dv/dt = -v/tau + I : volt", Options{Namespace: map[string]string{"tau": "10*ms", "I": "1*nA"}}, []string{"line 1, column 16", `"+"`, "amp", "volt/second"}},
		{"dv/dt = -v/tau : volt", nil2(), []string{"line 1", `unknown name "tau"`}},
		{"dv/dt = -v/taum : volt\ntau : second", Options{}, []string{`"taum"`, "did you mean tau"}},
		{"dv/dt = exp(v)/ms : volt", Options{}, []string{"exp", "dimensionless", "v/mV"}},
		{"dv/dt = -v/ms : volt\na = b/ms : volt/second\nb = a*ms : volt", Options{}, []string{"cycle"}},
		{"dv/dt = -v**2/(mV*ms) : volt", Options{Method: "exponential_euler"}, []string{"exponential_euler", "linear", "rk4"}},
		{"dv/dt = -v/ms : volt\ndv/dt = v/ms : volt", Options{}, []string{"line 2", "twice"}},
		{"dv/dt = -v/ms", Options{}, []string{"line 1", "unit"}},
		{"dv/dt = -v/ms : volts", Options{}, []string{"unknown unit \"volts\""}},
		{"dv/dt = -v/ms : volt (unless refactory)", Options{}, []string{"unknown flag"}},
		{"dv/dt = (-v + xi*mV*sqrt(ms))/ms : volt", Options{Method: "rk4"}, []string{"xi", "euler"}},
		{"dv/dt = -v/ms : volt", Options{Threshold: "v > 1"}, []string{"threshold", "dimension"}},
		{"dv/dt = -v/ms : volt", Options{Threshold: "v > 1*mV", Reset: "v = 0*ms"}, []string{"reset", "second", "volt"}},
		{"dv/dt = -v/ms : volt", Options{Threshold: "v > 1*mV", Refractory: "2*mV"}, []string{"refractory", "time"}},
		{"dv/dt = -v/ms : volt", Options{Method: "heun"}, []string{"method", "rk4"}},
		{"dv/dt = (-v + (2*mV)/ms : volt", Options{}, []string{"line 1", "')'"}},
	} {
		_, err := New(c.eqs, c.opt)
		if err == nil {
			t.Errorf("%q %+v: no error", c.eqs, c.opt)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q does not mention %q", c.eqs, err, w)
			}
		}
	}
}

func nil2() Options { return Options{} }

// TestUnits checks unit names and sizes against Brian2's.
func TestUnits(t *testing.T) {
	for name, want := range map[string]float64{"mV": 1e-3, "mvolt": 1e-3, "nS": 1e-9, "msiemens": 1e-3, "uF": 1e-6, "ufarad": 1e-6, "cm2": 1e-4, "um2": 1e-12, "ms": 1e-3, "Hz": 1, "kohm": 1e3, "Mohm": 1e6, "pA": 1e-12, "second": 1, "mM": 1} {
		u, ok := lookupUnit(name)
		if !ok || u.scale/want < 1-1e-12 || u.scale/want > 1+1e-12 {
			t.Errorf("%s: %v (%v), want %g", name, u.scale, ok, want)
		}
	}
	u, _ := evalUnit("msiemens/cm2")
	if u.dim != dSiemens.div(dMetre.pow(2)) || u.scale != 10 {
		t.Errorf("msiemens/cm2: %v %g", u.dim, u.scale)
	}
	if got := dVolt.String(); got != "volt" {
		t.Errorf("volt prints as %q", got)
	}
	if got := dSiemens.div(dMetre.pow(2)).String(); got != "kg**-1/(m**4*s**-3*A**-2)" && !strings.Contains(got, "m") {
		t.Errorf("S/m2 prints as %q", got)
	}
}

// TestSynapseErrors: statements and synaptic equations beyond what is
// supported are errors that say what works, at NewSynapses or, where the
// groups' units are needed, at Initialize.
func TestSynapseErrors(t *testing.T) {
	ns := map[string]string{"tau": "20*ms", "A": "0.01", "wmax": "1"}
	for _, c := range []struct {
		eqs  string
		opt  SynapseOptions
		want string
	}{
		{"w : mV", SynapseOptions{}, "OnPre"},
		{"w : mV", SynapseOptions{OnPre: "x += 1*mV"}, "neither a synaptic variable"},
		{"w : mV", SynapseOptions{OnPre: "V_pre += w"}, "presynaptic variables"},
		{"w : mV", SynapseOptions{OnPost: "V_post += w"}, "own neuron equations"},
		{"dw/dt = -w/tau : 1", SynapseOptions{OnPre: "V_post += w", Namespace: ns}, "clock-driven"},
		{"w : 1\ndapre/dt = -apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "V_post += w", Namespace: ns}, "never stepped"},
		{"w : 1\ndapre/dt = -apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "apre += A", OnPost: "apre += A", Namespace: ns}, "both on_pre and on_post"},
		{"w : 1\nx = 2*w : 1", SynapseOptions{OnPre: "V_post += x"}, "subexpressions"},
		{"w : 1\nI = w : 1 (summed)", SynapseOptions{}, "name_post"},
		{"w : mV", SynapseOptions{OnPre: "V_post += w", Delay: "2*mV"}, "time"},
		{"w : mV", SynapseOptions{OnPre: "V_post += w +"}, "on_pre"},
	} {
		_, err := NewSynapses(c.eqs, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %+v: %v, want an error mentioning %q", c.eqs, c.opt, err, c.want)
		}
	}
	// At Initialize: units, forms the operations cannot do.
	for _, c := range []struct {
		eqs  string
		opt  SynapseOptions
		want string
	}{
		{"w : mV", SynapseOptions{OnPre: "V_post = w"}, "the last synapse would win"},
		{"w : mV", SynapseOptions{OnPre: "V_post += w*w/mV"}, "synaptic variable times a constant"},
		{"w : mV", SynapseOptions{OnPre: "V_post += 2*mV*w"}, "dimension"},
		{"w : 1", SynapseOptions{OnPre: "V_post += w"}, "dimension"},
		{"w : mV", SynapseOptions{OnPre: "V_post += q"}, "unknown name"},
		{"w : mV", SynapseOptions{OnPre: "Z_post += w"}, "no variable \"Z\""},
		{"w : 1\ndapre/dt = apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "apre += A; w += apre", Namespace: ns}, "grows without bound"},
		{"w : 1\ndapre/dt = -apre/tau + A/tau : 1 (event-driven)", SynapseOptions{OnPre: "apre += A; w += apre", Namespace: ns}, "decays exponentially"},
		{"w : 1\ndapre/dt = -apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "apre += w", Namespace: ns}, "one trace per synapse"},
		{"w : 1\ndapre/dt = -apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "apre += A; w = clip(w + apre*apre, 0, wmax)", Namespace: ns}, "at most one presynaptic"},
		{"w : 1\ndapre/dt = -apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "apre += A; w += A*apre*(wmax - w)*w", Namespace: ns}, "one soft bound"},
		{"w : 1\ndapre/dt = -apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "apre += A; w = 2*w", Namespace: ns}, "a weight update is"},
		{"w : 1\ndapre/dt = -apre/tau : 1 (event-driven)", SynapseOptions{OnPre: "V_post += w*volt; apre += A", Delay: "1*ms", Namespace: ns}, "delay"},
		{"w : 1\nI_post = w*V_pre*w : volt (summed)", SynapseOptions{}, "two synaptic variables"},
		{"w : 1\nI_post = exp(w)*volt : volt (summed)", SynapseOptions{}, "sum of terms"},
		{"w : 1\nI_post = V_pre : volt (summed)", SynapseOptions{}, "no synaptic variable"},
		{"w : 1\nZ_post = w : 1 (summed)", SynapseOptions{}, "no variable \"Z\""},
		{"w : 1\nI_post = w : 1 (summed)", SynapseOptions{}, "in the neuron equations"},
		{"w : 1\nV_post = w*V_pre : volt (summed)", SynapseOptions{}, "parameter"},
		{"u : 1", SynapseOptions{OnPre: "V_post += u"}, "no matrix \"u\""},
	} {
		s, err := NewSynapses(c.eqs, c.opt)
		if err != nil {
			t.Errorf("%q %+v: NewSynapses: %v", c.eqs, c.opt, err)
			continue
		}
		err = initSynapses(t, s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %+v: %v, want an error mentioning %q", c.eqs, c.opt, err, c.want)
		}
	}
	s, err := NewSynapses("w : mV", SynapseOptions{OnPre: "V_post += 0.5*w; V_post -= J", Namespace: map[string]string{"J": "1*mV"}})
	if err != nil {
		t.Fatalf("two supported statements: %v", err)
	}
	if err := initSynapses(t, s); err != nil {
		t.Errorf("two supported statements: %v", err)
	}
}

// initSynapses initialises s on a group of 3 neurons of dV/dt = (I -
// V)/tau : volt (with a spike mask) onto itself, with matrices W and w.
func initSynapses(t *testing.T, s *Synapses) error {
	t.Helper()
	net, err := core.NewNetwork(core.Config{Backend: openBackend(t, "cpu"), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	nr, err := New("dV/dt = (I - V)/(10*ms) : volt\nI : volt", Options{Threshold: "V > 1*volt", Reset: "V = 0*volt"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := net.NewNeuronGroup("g", core.Size(3), core.Behaviors{1: nr})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := net.NewSynapseGroup("S", g, g, core.Behaviors{2: s})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"W", "w"} {
		m, err := sg.Matrix("0.5")
		if err != nil {
			t.Fatal(err)
		}
		if err := sg.SetVar(name, m); err != nil {
			t.Fatal(err)
		}
	}
	return net.Initialize()
}
