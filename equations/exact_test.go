package equations

import (
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	_ "github.com/gomonnto/gomonnto/backend/opengl"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
)

// TestExact: the exact method follows the closed-form solution of a linear
// system, x' = -x/tau2 feeding v' = (-v + x)/tau1, to float32 rounding over
// 1000 steps, on cpu and gl; a parameter in the inhomogeneous part is
// fine; non-linear equations and non-constant coefficients are refused.
func TestExact(t *testing.T) {
	const tau1, tau2, dt, steps = 10e-3, 3e-3, 1e-4, 1000
	eqs := `
dv/dt = (-v + x)/tau1 : volt
dx/dt = -x/tau2 : volt
`
	for _, be := range []string{"cpu", "gl"} {
		t.Run(be, func(t *testing.T) {
			net, err := core.NewNetwork(core.Config{Backend: openBackend(t, be), Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			nr, err := New(eqs, Options{Method: "exact", DT: "0.1*ms", Namespace: map[string]string{"tau1": "10*ms", "tau2": "3*ms"},
				Init: map[string]string{"v": "-5*mV", "x": "20*mV"}})
			if err != nil {
				t.Fatal(err)
			}
			rec := core.NewRecorder([]string{"v", "x"}, core.RecorderOptions{})
			if _, err := net.NewNeuronGroup("g", core.Size(1), core.Behaviors{1: nr, 2: rec}); err != nil {
				t.Fatal(err)
			}
			if err := net.Initialize(); err != nil {
				t.Fatal(err)
			}
			if err := net.SimulateIterations(steps, core.SimOptions{Quiet: true}); err != nil {
				t.Fatal(err)
			}
			sv, _ := rec.Series("v")
			sx, _ := rec.Series("x")
			worst := 0.0
			for k := range steps {
				tt := float64(k+1) * dt
				x := 0.02 * math.Exp(-tt/tau2)
				v := -0.005*math.Exp(-tt/tau1) + 0.02/tau1*(math.Exp(-tt/tau2)-math.Exp(-tt/tau1))/(1/tau1-1/tau2)
				worst = max(worst, math.Abs(float64(sv.Data[k])-v)/0.02, math.Abs(float64(sx.Data[k])-x)/0.02)
			}
			if worst > 2e-6 {
				t.Fatalf("exact: %.3g of the initial 20 mV from the closed form\n%s", worst, nr.Source())
			}
			t.Logf("%s: within %.2g of the scale of the closed form over %d steps", be, worst, steps)
		})
	}
	// The LIF of ExampleNew: a parameter I in b.
	if _, err := New("dv/dt = (El - v + R*I)/tau : volt\nI : amp", Options{Method: "exact", Namespace: map[string]string{"El": "-70*mV", "R": "10*Mohm", "tau": "10*ms"}}); err != nil {
		t.Fatalf("a parameter in the inhomogeneous part: %v", err)
	}
	for eqs, want := range map[string]string{
		"dv/dt = -v**2/(mV*ms) : volt":             "linear",
		"dv/dt = -g*v/(nS*ms) : volt\ng : siemens": "constant coefficients",
	} {
		if _, err := New(eqs, Options{Method: "exact"}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error about %s", eqs, err, want)
		}
	}
}

func openBackend(t *testing.T, name string) backend.Backend {
	b, err := backend.Open(name, backend.Options{})
	if err != nil {
		t.Fatalf("backend %s: %v", name, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
