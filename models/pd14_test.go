package models_test

import (
	"math"
	"testing"
	"time"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/opengl/gltest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// TestPD14PSCOverPSP checks the PSP -> PSC conversion against the peak of
// the membrane response computed independently: v(t) = J/C_m * tau_m
// tau_s/(tau_m - tau_s) (exp(-t/tau_m) - exp(-t/tau_s)) peaks at t* =
// tau_m tau_s/(tau_m - tau_s) ln(tau_m/tau_s); the PSC of a 1 mV PSP is
// 1/v(t*) for J = 1.
func TestPD14PSCOverPSP(t *testing.T) {
	for _, c := range []struct{ cm, tm, ts float64 }{{250, 10, 0.5}, {250, 20, 5}, {100, 10, 2}} {
		a := c.tm * c.ts / (c.tm - c.ts)
		ts := a * math.Log(c.tm/c.ts)
		v := a / c.cm * (math.Exp(-ts/c.tm) - math.Exp(-ts/c.ts))
		if got, want := models.PD14PSCOverPSP(c.cm, c.tm, c.ts), 1/v; math.Abs(got-want) > 1e-9*want {
			t.Errorf("PD14PSCOverPSP(%v, %v, %v) = %v, want %v", c.cm, c.tm, c.ts, got, want)
		}
	}
}

// TestPD14Counts checks the scaled sizes and synapse numbers against the
// model's totals: 77,169 neurons and about 0.3e9 synapses at scale 1. The
// exact totals of the per-projection rounded counts, 298,880,968 at scale
// 1 and 29,888,097 at scale 0.1, were computed with numpy (float64) from
// the network_params.py tables and the helpers.py formula
// log(1-p)/log((N1 N2 - 1)/(N1 N2)), independently of this code.
func TestPD14Counts(t *testing.T) {
	n := 0
	for _, s := range models.PD14Sizes(1) {
		n += s
	}
	if n != 77169 {
		t.Errorf("full scale: %d neurons, want 77169", n)
	}
	tot := 0
	for _, row := range models.PD14Synapses(1) {
		for _, k := range row {
			tot += k
		}
	}
	if tot != 298880968 {
		t.Errorf("full scale: %d synapses, want 298880968", tot)
	}
	tot = 0
	for _, row := range models.PD14Synapses(0.1) {
		for _, k := range row {
			tot += k
		}
	}
	if tot != 29888097 {
		t.Errorf("scale 0.1: %d synapses, want 29888097", tot)
	}
	// L2/3E -> L2/3E: -ln(1 - 0.1009) / -ln(1 - 1/20683^2) at scale 0.1.
	want := math.Log(1-0.1009) / math.Log(1-1/(20683.0*20683.0)) * 0.1
	if got := models.PD14Synapses(0.1)[0][0]; math.Abs(float64(got)-want) > 0.5 {
		t.Errorf("scale 0.1: L23E->L23E has %d synapses, want %.1f", got, want)
	}
	// DC for L2/3E: 8 Hz * 1600 * 0.15 mV * PSC/PSP * 0.5 ms * 1e-3.
	if got, want := models.PD14DC(0), 8*1600*0.15*models.PD14PSCOverPSP(250, 10, 0.5)*0.5e-3; math.Abs(got-want) > 1e-9 {
		t.Errorf("PD14DC(L23E) = %v, want %v", got, want)
	}
}

// pd14Run builds PD14 at scale s on be, runs warm steps, resets the spike
// counts, runs steps more and returns the rates (Hz) per population.
func pd14Run(t *testing.T, be backend.Backend, layout core.Layout, s float64, warm, steps int) [8]float64 {
	t.Helper()
	t0 := time.Now()
	net, err := core.NewNetwork(core.Config{Backend: be, Seed: 3, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.PD14Net(net, models.PD14Options{Scale: s})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if err := net.SimulateIterations(warm, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	for _, g := range m.Groups {
		be.Fill(g.Var("count"), 0)
	}
	if err := net.SimulateIterations(steps, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	var rates [8]float64
	for i, g := range m.Groups {
		c := make([]float32, g.Size)
		if err := be.Read(c, g.Var("count"), 0); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, x := range c {
			sum += float64(x)
		}
		rates[i] = sum / float64(g.Size) / (float64(steps) * models.PD14Dt * 1e-3)
	}
	t.Logf("%s: build %.1f s, %d steps %.1f s", be.Name(), t1.Sub(t0).Seconds(), warm+steps, time.Since(t1).Seconds())
	return rates
}

// TestPD14Rates runs PD14 at scale 0.05 (3,859 neurons, 15e6 synapses
// drawn, full in-degrees) for 0.05 s warm-up + 0.15 s on cpu (the optimized
// initial potentials make the start-up transient short) and checks
// that every population fires at a plausible rate, 0.05 to 30 Hz (the
// full-scale rates are 0.9 to 8.6 Hz; the downscaled network with full
// in-degrees keeps the mean input, but its correlations grow, so rates
// drift by a factor of a few), and that the inhibitory populations of L2/3
// and L4 fire faster than their excitatory partners, as in the full model.
// A gl run of the same network must give rates within 25% (+0.3 Hz) of
// cpu's: the draws are identical, but float32 rounding in a chaotic
// network could make spike trains diverge, so only the statistics must
// agree (on Mesa llvmpipe they came out identical). The gl run is short
// because llvmpipe takes about 16 ms per step.
func TestPD14Rates(t *testing.T) {
	if testing.Short() {
		t.Skip("PD14 at scale 0.05 takes tens of seconds")
	}
	const s, warm, steps = 0.05, 500, 1500
	cpuRates := pd14Run(t, cobaCPU(t), core.SxD, s, warm, steps)
	t.Logf("cpu rates (Hz): %v", cpuRates)
	for i, r := range cpuRates {
		if !(r >= 0.05 && r <= 30) {
			t.Errorf("cpu: %s fires at %.3f Hz, want 0.05..30 Hz", models.PD14Populations[i], r)
		}
	}
	for _, l := range []int{0, 2} {
		if !(cpuRates[l+1] > cpuRates[l]) {
			t.Errorf("cpu: %s fires at %.3f Hz, not faster than %s (%.3f Hz)", models.PD14Populations[l+1], cpuRates[l+1], models.PD14Populations[l], cpuRates[l])
		}
	}
	gl := gltest.Open(t)
	glRates := pd14Run(t, gl, core.SxD, s, warm, steps)
	t.Logf("gl rates (Hz): %v", glRates)
	for i := range glRates {
		if d := math.Abs(glRates[i] - cpuRates[i]); d > 0.25*cpuRates[i]+0.3 {
			t.Errorf("gl: %s fires at %.3f Hz, cpu at %.3f Hz", models.PD14Populations[i], glRates[i], cpuRates[i])
		}
	}
}

// TestPD14Layouts checks that the DxS layout (the connectivity drawn
// source-major and transposed, with its weights and delays permuted
// alike) simulates exactly the network of the SxD layout: same spike
// counts to the last spike.
func TestPD14Layouts(t *testing.T) {
	be := cobaCPU(t)
	a := pd14Run(t, be, core.SxD, 0.01, 0, 1000)
	b := pd14Run(t, be, core.DxS, 0.01, 0, 1000)
	if a != b {
		t.Errorf("rates differ between layouts: SxD %v, DxS %v", a, b)
	}
	if a == ([8]float64{}) {
		t.Errorf("no spikes at all in 0.1 s")
	}
}

// TestPD14NoAllocs checks that a PD14 step allocates nothing on cpu.
func TestPD14NoAllocs(t *testing.T) {
	be := cobaCPU(t)
	net, err := core.NewNetwork(core.Config{Backend: be, Seed: 1, Layout: core.SxD})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.PD14Net(net, models.PD14Options{Scale: 0.01}); err != nil {
		t.Fatal(err)
	}
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := net.SimulateIterations(50, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if err := net.SimulateIteration(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("PD14: %.2f allocations per step, want 0", allocs)
	}
}
