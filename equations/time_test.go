package equations

import (
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/core"
)

// runGroup runs a group of n neurons with nr for steps and returns the
// recorder of exprs.
func runGroup(t *testing.T, be string, n int, nr *Neuron, steps int, exprs ...string) *core.Recorder {
	t.Helper()
	net, err := core.NewNetwork(core.Config{Backend: openBackend(t, be), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rec := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{})
	bs := core.Behaviors{1: nr}
	if len(exprs) > 0 {
		rec = core.NewRecorder(exprs, core.RecorderOptions{})
	}
	bs[2] = rec
	if _, err := net.NewNeuronGroup("g", core.Size(n), bs); err != nil {
		t.Fatal(err)
	}
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := net.SimulateIterations(steps, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestTime: t (the time at the start of the step), i and N inside
// equations, and lastspike in a threshold, on cpu and gl.
func TestTime(t *testing.T) {
	for _, be := range []string{"cpu", "gl"} {
		t.Run(be, func(t *testing.T) {
			// dv/dt = A cos(2 pi f t): forward Euler by hand in float64.
			nr, err := New("dv/dt = A*cos(2*pi*f*t) : volt", Options{DT: "0.1*ms", Namespace: map[string]string{"A": "1*volt/second", "f": "50*Hz"}})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := runGroup(t, be, 1, nr, 400, "v").Series("v")
			v, worst := 0.0, 0.0
			for k := range 400 {
				v += 1e-4 * math.Cos(2*math.Pi*50*float64(k)*1e-4)
				worst = max(worst, math.Abs(float64(s.Data[k])-v))
			}
			if worst > 1e-6 {
				t.Fatalf("dv/dt = A cos(2 pi f t): %.3g V from forward Euler in float64\n%s", worst, nr.Source())
			}
			// i and N: v relaxes to i/N.
			nr, err = New("dv/dt = (i/N - v)/ms : 1", Options{DT: "0.1*ms"})
			if err != nil {
				t.Fatal(err)
			}
			s, _ = runGroup(t, be, 8, nr, 300, "v").Series("v")
			for i := range 8 {
				want := float64(i) / 8 * (1 - math.Pow(0.9, 300))
				if got := float64(s.At(299, i)); math.Abs(got-want) > 1e-5 {
					t.Fatalf("neuron %d: v %v, want %v", i, got, want)
				}
			}
			// lastspike: a neuron that fires whenever 5 ms have passed.
			nr, err = New("dv/dt = 0/ms : 1", Options{DT: "0.1*ms", Threshold: "t - lastspike >= 5*ms"})
			if err != nil {
				t.Fatal(err)
			}
			ev, _ := runGroup(t, be, 1, nr, 200).Events("fired")
			if len(ev.Iterations) != 4 || ev.Iterations[0] != 1 || ev.Iterations[1] != 51 || ev.Iterations[3] != 151 {
				t.Fatalf("spikes at %v, want 1, 51, 101, 151", ev.Iterations)
			}
		})
	}
	if _, err := New("dv/dt = (t - lastspike)/ms/ms : 1", Options{}); err == nil {
		t.Error("lastspike without a threshold: no error")
	}
}

// TestNoise: xi is white noise of unit intensity (Euler-Maruyama): the
// Ornstein-Uhlenbeck process dv/dt = -v/tau + sigma*sqrt(2/tau)*xi from
// v = 0 has, after 10 tau, mean 0 and variance sigma**2 = 1e-4 V**2
// (Euler at dt = tau/100 gives sigma**2/(1 - dt/(2 tau)), 0.5% more),
// within the sampling error over 20,000 neurons (3% for the variance,
// 3 standard errors), on cpu and gl.
func TestNoise(t *testing.T) {
	for _, be := range []string{"cpu", "gl"} {
		t.Run(be, func(t *testing.T) {
			nr, err := New("dv/dt = -v/tau + sigma*sqrt(2/tau)*xi : volt", Options{DT: "0.1*ms",
				Namespace: map[string]string{"tau": "10*ms", "sigma": "10*mV"}})
			if err != nil {
				t.Fatal(err)
			}
			const n = 20000
			net, err := core.NewNetwork(core.Config{Backend: openBackend(t, be), Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			rec := core.NewRecorder([]string{"v"}, core.RecorderOptions{Gap: 1000})
			if _, err := net.NewNeuronGroup("g", core.Size(n), core.Behaviors{1: nr, 2: rec}); err != nil {
				t.Fatal(err)
			}
			if err := net.Initialize(); err != nil {
				t.Fatal(err)
			}
			if err := net.SimulateIterations(1000, core.SimOptions{Quiet: true}); err != nil {
				t.Fatal(err)
			}
			s, _ := rec.Series("v")
			v := s.Row(s.Len() - 1)
			mean, sq := 0.0, 0.0
			for _, x := range v {
				mean += float64(x)
			}
			mean /= n
			for _, x := range v {
				sq += (float64(x) - mean) * (float64(x) - mean)
			}
			variance := sq / (n - 1)
			want := 1e-4 / (1 - 0.01/2) * (1 - math.Pow(1-0.01, 2000)) // Euler's stationary variance, not yet reached fully
			if math.Abs(variance/want-1) > 0.03 || math.Abs(mean) > 3*math.Sqrt(want/n) {
				t.Fatalf("OU after 10 tau: mean %.3g V, variance %.4g V**2, want 0 and %.4g", mean, variance, want)
			}
			t.Logf("%s: mean %.2g V, variance %.4g V**2 (want %.4g)", be, mean, variance, want)
		})
	}
}
