// Command coba runs the COBA benchmark network (M5; Brette et al. 2007,
// benchmark 1, after Vogels & Abbott 2005): -n conductance-based LIF
// neurons (4000; 80% excitatory, 20% inhibitory), each pair connected with
// probability 80/n (0.02 at n = 4000) through sparse synapses, exponential
// conductances, refractory 5 ms, forward Euler with dt = 0.1 ms. It
// simulates -duration of biological time, writes a spike raster
// (coba_raster.png) to -out and, with -json, the real-time factor (wall
// time of the simulation loop / biological time), the firing rates (Hz)
// and the mean ISI coefficients of variation.
//
//	go run ./examples/coba -duration 1s -out out -json
//
// The number of steps is -duration / 0.1 ms (1s: 10,000 steps). -steps
// is the other way to give it: with -steps alone the duration is
// steps * 0.1 ms; given both, they must agree.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

const (
	model = "coba"
	dt    = 100 * time.Microsecond // one step
)

func main() {
	f := cli.Register(10000, "sxd")
	n := flag.Int("n", 4000, "number of neurons (80% E, 20% I; connection probability 80/n)")
	we := flag.Float64("we", 0.6, "excitatory weight: the jump of ge (in units of the leak conductance) per E spike")
	dur := flag.Duration("duration", time.Second, "biological time to simulate (1s = 10,000 steps of 0.1 ms)")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := steps(f, *dur, set["steps"], set["duration"]); err != nil {
		cli.Fail(err)
	}
	if !(*we > 0) || math.IsInf(*we, 0) {
		cli.Fail(fmt.Errorf("-we=%v: the excitatory weight must be a finite positive number", *we))
	}
	if *n < 5 {
		cli.Fail(fmt.Errorf("-n=%d: need at least 5 neurons", *n))
	}
	if err := run(f, *n, *we); err != nil {
		cli.Fail(err)
	}
}

// steps reconciles -steps and -duration into *f.Steps.
func steps(f *cli.Flags, dur time.Duration, stepsSet, durSet bool) error {
	if dur < 0 || dur%dt != 0 {
		return fmt.Errorf("-duration=%v: must be a non-negative multiple of the 0.1ms time step", dur)
	}
	n := int(dur / dt)
	switch {
	case stepsSet && durSet && *f.Steps != n:
		return fmt.Errorf("-steps=%d and -duration=%v disagree (%v is %d steps of 0.1ms); give one of them", *f.Steps, dur, dur, n)
	case stepsSet:
		if *f.Steps < 0 {
			return fmt.Errorf("-steps=%d: must not be negative", *f.Steps)
		}
	default:
		*f.Steps = n
	}
	return nil
}

func run(f *cli.Flags, n int, we float64) error {
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	m, err := models.COBANet(net, models.COBAOptions{N: n, WE: we})
	if err != nil {
		return err
	}
	groups := []*core.NeuronGroup{m.E, m.I}
	recs, err := cli.Record(true, []string{"fired"}, "spikes", groups...)
	if err != nil {
		return err
	}
	wall, err := f.Simulate(net, core.SimOptions{}, func() { f.UIView(model, []string{"v"}, []string{"W"}) })
	if err != nil {
		return err
	}
	bio := float64(f.StepsRun()) * dt.Seconds()
	recBio := float64(net.Iteration) * dt.Seconds() // recorded from the start, when resumed
	r := cli.Result{Model: model, Steps: f.StepsRun(), WallS: wall}
	r.Counts(net)
	r.Extra = map[string]any{"step_ms": 0.1, "duration_s": bio, "us_per_step": 1e6 * wall / float64(max(f.StepsRun(), 1))}
	if bio > 0 {
		r.Extra["rtf"] = wall / bio
	}
	var raster []cli.RasterGroup
	offset, total := 0, 0
	var cvSum float64
	cvN := 0
	for k, g := range groups {
		ev, err := recs[k].Events("fired")
		if err != nil {
			return err
		}
		rate, cv, nc := stats(ev, g.Size, recBio)
		r.Spikes += ev.Len()
		name := map[string]string{"E": "e", "I": "i"}[g.Name()]
		r.Extra["spikes_"+name] = ev.Len()
		r.Extra["rate_"+name+"_hz"] = rate
		r.Extra["cv_isi_"+name] = cv // null if no neuron spiked 3 times
		if nc > 0 {
			cvSum += cv * float64(nc)
			cvN += nc
		}
		fmt.Fprintf(os.Stderr, "%s: %d spikes, %.2f Hz, mean ISI CV %.3f (%d neurons with >= 3 spikes)\n",
			g.Name(), ev.Len(), rate, cv, nc)
		raster = append(raster, cli.RasterGroup{Label: g.Name(), Events: ev, Offset: offset})
		offset += g.Size
		total += g.Size
	}
	r.Extra["rate_hz"] = math.NaN()
	if recBio > 0 {
		r.Extra["rate_hz"] = float64(r.Spikes) / (float64(total) * recBio)
	}
	r.Extra["cv_isi"] = math.NaN()
	if cvN > 0 {
		r.Extra["cv_isi"] = cvSum / float64(cvN)
	}
	fmt.Fprintf(os.Stderr, "%s: %d steps (%v biological) in %.3f s (%.1f us/step, real-time factor %.3f)\n",
		model, f.StepsRun(), time.Duration(f.StepsRun())*dt, wall, 1e6*wall/float64(max(f.StepsRun(), 1)), rtfOf(wall, bio))
	if *f.Out != "" {
		path := filepath.Join(*f.Out, model+"_raster.png")
		if err := cli.Raster(path, model+": spikes (1 step = 0.1 ms)", raster); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "raster written to %s\n", path)
	}
	return f.Finish(net, &r)
}

// stats returns the firing rate in Hz over bio seconds, the mean ISI CV
// of neurons with at least 3 spikes (NaN if there is none) and their
// number, as bench/peers/brian2_coba.py computes them.
func stats(ev *core.Events, size int, bio float64) (rate, cv float64, n int) {
	rate = math.NaN()
	if bio > 0 {
		rate = float64(ev.Len()) / (float64(size) * bio)
	}
	cv, n = ev.ISICV(size)
	return rate, cv, n
}

// rtfOf is the real-time factor of wall seconds for bio seconds (0 for
// none).
func rtfOf(wall, bio float64) float64 {
	if bio <= 0 {
		return 0
	}
	return wall / bio
}
