package models_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/opengl/gltest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
)

// Cross-backend tolerance for trajectories: |gl - cpu| <= trajTol*(1+|cpu|)
// for every state variable at every step, and identical spike masks. Both
// backends draw the same random numbers (Philox, bitwise) and run the same
// fused kernels; they may differ by float32 rounding in sums (mat-vec,
// propagation order) and in the driver's arithmetic.
const trajTol = 1e-4

type modelCase struct {
	name   string
	layout core.Layout
	build  func(*core.Network) ([]*core.NeuronGroup, error)
	vars   []string
}

var crossCases = []modelCase{
	{"M1", core.DxS, func(n *core.Network) ([]*core.NeuronGroup, error) {
		g, err := models.Basic(n, models.BasicOptions{Example: 3})
		return []*core.NeuronGroup{g}, err
	}, []string{"activity"}},
	{"M2", core.SxD, func(n *core.Network) ([]*core.NeuronGroup, error) {
		m, err := models.LIFNet(n, models.ClassicOptions{})
		if err != nil {
			return nil, err
		}
		return []*core.NeuronGroup{m.E, m.I}, nil
	}, []string{"v", "I", "fired"}},
	{"M3", core.SxD, func(n *core.Network) ([]*core.NeuronGroup, error) {
		m, err := models.IzhikevichNet(n, models.ClassicOptions{})
		if err != nil {
			return nil, err
		}
		return []*core.NeuronGroup{m.E, m.I}, nil
	}, []string{"v", "u", "I", "fired"}},
	{"M3-DxS", core.DxS, func(n *core.Network) ([]*core.NeuronGroup, error) {
		m, err := models.IzhikevichNet(n, models.ClassicOptions{})
		if err != nil {
			return nil, err
		}
		return []*core.NeuronGroup{m.E, m.I}, nil
	}, []string{"v", "u", "I", "fired"}},
}

func build(t *testing.T, be backend.Backend, c modelCase, seed uint64) (*core.Network, []*core.NeuronGroup) {
	t.Helper()
	n, err := core.NewNetwork(core.Config{Backend: be, Seed: seed, Layout: c.layout})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := c.build(n)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	return n, gs
}

// Same seed on cpu and gl: the trajectories agree within trajTol for 100
// steps, spike masks exactly.
func TestTrajectoriesAgreeAcrossBackends(t *testing.T) {
	for _, c := range crossCases {
		t.Run(c.name, func(t *testing.T) {
			cb, err := cpu.New(backend.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer cb.Close()
			gb := gltest.Open(t)
			cn, cg := build(t, cb, c, 11)
			gn, gg := build(t, gb, c, 11)
			worst := 0.0
			for step := 0; step <= 100; step++ {
				if step > 0 {
					if err := cn.SimulateIteration(); err != nil {
						t.Fatal(err)
					}
					if err := gn.SimulateIteration(); err != nil {
						t.Fatal(err)
					}
				}
				for k := range cg {
					for _, v := range c.vars {
						want, got := read(t, cg[k].Var(v)), read(t, gg[k].Var(v))
						for i := range want {
							d := math.Abs(float64(got[i] - want[i]))
							scale := 1 + math.Abs(float64(want[i]))
							worst = max(worst, d/scale)
							if v == "fired" && got[i] != want[i] || d > trajTol*scale {
								t.Fatalf("step %d: %s.%s[%d]: gl %v, cpu %v", step, cg[k].Name(), v, i, got[i], want[i])
							}
						}
					}
				}
			}
			t.Logf("%s: largest relative difference over 100 steps: %.2g", c.name, worst)
		})
	}
}

// Spike counts over 1000 steps agree statistically: for each group the gl
// count lies within 5 Poisson standard deviations (5*sqrt(count)) plus 2%
// of the cpu count. (Trajectories of spiking networks may part after
// many steps through rounding; the statistics must not.)
func TestSpikeCountsAgreeAcrossBackends(t *testing.T) {
	for _, c := range crossCases[1:3] {
		t.Run(c.name, func(t *testing.T) {
			cb, err := cpu.New(backend.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer cb.Close()
			gb := gltest.Open(t)
			counts := map[string][2]int{}
			for bi, be := range []backend.Backend{cb, gb} {
				n, gs := build(t, be, c, 12)
				var recs []*core.Recorder
				for _, g := range gs {
					r := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{})
					if err := g.AddBehavior(9, r); err != nil {
						t.Fatal(err)
					}
					recs = append(recs, r)
				}
				if err := n.SimulateIterations(1000, core.SimOptions{Quiet: true}); err != nil {
					t.Fatal(err)
				}
				for k, r := range recs {
					ev, err := r.Events("fired")
					if err != nil {
						t.Fatal(err)
					}
					cnt := counts[gs[k].Name()]
					cnt[bi] = ev.Len()
					counts[gs[k].Name()] = cnt
				}
			}
			for g, cnt := range counts {
				tol := 5*math.Sqrt(float64(cnt[0])) + 0.02*float64(cnt[0])
				msg := fmt.Sprintf("%s %s: cpu %d spikes, gl %d (tolerance %.0f)", c.name, g, cnt[0], cnt[1], tol)
				t.Log(msg)
				if cnt[0] < 100 || math.Abs(float64(cnt[1]-cnt[0])) > tol {
					t.Error(msg)
				}
			}
		})
	}
}

// A step of M1-M3 allocates nothing on either backend.
func TestZeroAllocsPerStepBothBackends(t *testing.T) {
	cb, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	gb := gltest.Open(t)
	for _, be := range []backend.Backend{cb, gb} {
		for _, c := range crossCases {
			n, _ := build(t, be, c, 3)
			if allocs := stepAllocs(t, n, 5); allocs != 0 {
				t.Errorf("%s on %s: %.2f allocations per step, want 0", c.name, be.Name(), allocs)
			}
		}
	}
}
