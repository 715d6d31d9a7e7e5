package equations

import (
	"strings"
	"testing"
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

// TestSynapseErrors: on_pre statements beyond the supported form, and
// synaptic differential equations, are errors that say what works.
func TestSynapseErrors(t *testing.T) {
	for _, c := range []struct {
		eqs  string
		opt  SynapseOptions
		want string
	}{
		{"w : mV", SynapseOptions{}, "OnPre"},
		{"w : mV", SynapseOptions{OnPre: "w += 1*mV"}, "postsynaptic"},
		{"w : mV", SynapseOptions{OnPre: "V_post = w"}, "+= and -="},
		{"w : mV", SynapseOptions{OnPre: "V_post += w*w"}, "not a constant"},
		{"w : mV", SynapseOptions{OnPre: "V_post += 2*mV*w"}, "unit"},
		{"dapre/dt = -apre/taupre : 1 (event-driven)", SynapseOptions{OnPre: "V_post += 1*mV"}, "event-driven"},
		{"w : mV", SynapseOptions{OnPre: "V_post += w", Delay: "2*mV"}, "time"},
	} {
		_, err := NewSynapses(c.eqs, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %+v: %v, want an error mentioning %q", c.eqs, c.opt, err, c.want)
		}
	}
	if _, err := NewSynapses("w : mV", SynapseOptions{OnPre: "V_post += 0.5*w; ge_post -= J", Namespace: map[string]string{"J": "1*nS"}}); err != nil {
		t.Errorf("two supported statements: %v", err)
	}
}
