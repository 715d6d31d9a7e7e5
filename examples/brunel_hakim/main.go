// Command brunel_hakim runs Brunel & Hakim (1999) as Brian2's example does
// (models.BrunelHakim): -n LIF neurons (5000) under a noisy drive, inhibited
// through a sparse network (-c 1000 inputs each, J 0.1 mV, delay 2 ms),
// dt 0.1 ms. The neurons fire irregularly at a few Hz while the population
// oscillates near 130 Hz. The JSON has the mean rate and the population
// rate's dominant frequency (after the first 20 ms); -out writes a raster
// and the population rate. -pymonnto runs PymoNNto's loose port instead
// (dt 0.2 ms, its noise without sqrt(dt), 40 ms refractory, 7.8 ms delay).
//
//	go run ./examples/brunel_hakim -out out -json
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
	"github.com/gomonnto/gomonnto/ui"
)

func main() {
	f := cli.Register(1000, "sxd")
	n := flag.Int("n", 5000, "number of neurons")
	c := flag.Int("c", 1000, "mean number of inhibitory inputs per neuron (p = c/n)")
	pym := flag.Bool("pymonnto", false, "PymoNNto's loose port: dt 0.2 ms, noise without sqrt(dt), 40 ms refractory, 7.8 ms delay")
	flag.Parse()
	if err := run(f, *n, *c, *pym); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags, n, c int, pym bool) error {
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	g, dts, err := models.BrunelHakim(net, models.BrunelHakimOptions{N: n, C: c, PymoNNto: pym})
	if err != nil {
		return err
	}
	dt := 1e-4
	if pym {
		dt = 2e-4
	}
	recs, err := cli.Record(true, []string{"fired"}, "spikes", g)
	if err != nil {
		return err
	}
	wall, err := f.Simulate(net, core.SimOptions{}, nil)
	if err != nil {
		return err
	}
	ev, err := recs[0].Events("fired")
	if err != nil {
		return err
	}
	steps := f.StepsRun()
	pop := make([]float64, net.Iteration)
	for _, it := range ev.Iterations {
		if it >= 1 && it <= len(pop) {
			pop[it-1]++
		}
	}
	rate := float64(ev.Len()) / float64(n) / (float64(net.Iteration) * dt)
	peak := peakHz(pop, int(0.02/dt), dt)
	r := cli.Result{Model: "brunel_hakim", Steps: steps, WallS: wall, Spikes: ev.Len()}
	r.Counts(net)
	r.Extra = map[string]any{"rate_hz": rate, "peak_hz": peak, "dt": dts, "pymonnto": pym, "rtf": wall / (float64(max(steps, 1)) * dt)}
	fmt.Fprintf(os.Stderr, "brunel_hakim: %d steps in %.3f s, %.3g Hz, population oscillation at %.1f Hz\n", steps, wall, rate, peak)
	if *f.Out != "" {
		if err := os.MkdirAll(*f.Out, 0o755); err != nil {
			return err
		}
		if err := cli.Raster(filepath.Join(*f.Out, "brunel_hakim_raster.png"), "Brunel & Hakim (1999)", []cli.RasterGroup{{Label: g.Name(), Events: ev}}); err != nil {
			return err
		}
		y := make([]float32, len(pop))
		for k, v := range pop {
			y[k] = float32(v / float64(n) / dt)
		}
		if err := cli.LinePlot(filepath.Join(*f.Out, "brunel_hakim_rate.png"), "population rate", "Hz", []cli.Line{{Label: "rate", Y: y}}); err != nil {
			return err
		}
	}
	return f.Finish(net, &r)
}

// peakHz is the frequency of the largest Fourier component of x[skip:]
// (the population rate, dt in seconds), leaving out the mean.
func peakHz(x []float64, skip int, dt float64) float64 {
	if skip >= len(x)-2 {
		return math.NaN()
	}
	y := make([]float32, len(x)-skip)
	for k, v := range x[skip:] {
		y[k] = float32(v)
	}
	f, p := ui.Spectrum(y, dt*1e3, 1, 0)
	best, peak := 0.0, math.NaN()
	for k := range p {
		if p[k] > best {
			best, peak = p[k], f[k]
		}
	}
	return peak
}
