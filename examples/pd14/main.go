// Command pd14 runs the cortical microcircuit of Potjans & Diesmann
// (2014), M9: 8 populations of current-based LIF neurons (77,169 at
// -scale 1), 64 sparse projections with the model's synapse numbers
// (scaled with the neuron numbers, so in-degrees stay full unless -kscale
// scales them, with the model's DC compensation), per-synapse
// delays and DC background input, or Poisson input with -poisson (see
// pd14.Build). It simulates a
// -warmup (0.5 s, the model's t_presim) and then -duration of biological
// time (or -steps steps of 0.1 ms), and reports the real-time factor of the measured part (wall time
// / biological time), the firing rate of each population over it, the
// build time and the peak resident memory. It records every spike of the
// measured part (-record=false counts them only) and reports each
// population's mean ISI CV (the neurons with at least three spikes;
// "cv_isi" in the JSON); with -out it also writes a spike raster of the
// last 100 ms (pd14_raster.png). The circuit is one neuron group and one
// synapse group (pd14.Build's merged form; -separate builds a group
// per population and projection, the same network, slower). Recording
// gathers the spikes where they are computed, so it costs a few percent.
//
//	go run ./examples/pd14 -scale 0.1 -duration 1s -out out -json
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models/pd14"
)

const (
	model  = "pd14"
	dt     = 100 * time.Microsecond // one step
	window = 1000                   // raster window, steps (100 ms)
)

// warmUp is the number of warm-up steps (-warmup).
var warmUp int

// record is -record; poisson is -poisson; separate is -separate.
var record, poisson, separate *bool

func main() {
	f := cli.Register(0, "sxd")
	scale := flag.Float64("scale", 0.1, "network scale in (0, 1]: neuron and synapse numbers are multiplied by it (in-degrees stay full)")
	kscale := flag.Float64("kscale", 1, "in-degree scale in (0, 1] (the model's K_scaling): weights grow as 1/sqrt(kscale) and a DC input compensates the mean input")
	dur := flag.Duration("duration", time.Second, "biological time to simulate and measure after the warm-up")
	warm := flag.Duration("warmup", 500*time.Millisecond, "biological time simulated before the measurement (the model's t_presim)")
	poisson = flag.Bool("poisson", false, "Poisson background input (K_ext sources at 8 Hz per neuron) instead of the equivalent DC")
	separate = flag.Bool("separate", false, "build a neuron group per population and a synapse group per projection instead of one of each for the whole circuit (the same network, slower on both backends)")
	record = flag.Bool("record", true, "record every spike of the measured part (ISI CVs, raster, -save); false: count them only")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"duration", *dur}, {"warmup", *warm}} {
		if d.v < 0 || d.v%dt != 0 {
			cli.Fail(fmt.Errorf("-%s=%v: must be a non-negative multiple of the 0.1ms time step", d.name, d.v))
		}
	}
	warmUp = int(*warm / dt)
	if !(*scale > 0 && *scale <= 1) {
		cli.Fail(fmt.Errorf("-scale=%v: must lie in (0, 1]", *scale))
	}
	switch n := int(*dur / dt); {
	case set["steps"] && set["duration"] && *f.Steps != n:
		cli.Fail(fmt.Errorf("-steps=%d and -duration=%v disagree (%v is %d steps of 0.1ms); give one of them", *f.Steps, *dur, *dur, n))
	case !set["steps"]:
		*f.Steps = n
	}
	if *f.Steps <= 0 && !(*f.Steps == 0 && f.Resuming()) {
		cli.Fail(fmt.Errorf("-steps=%d: need at least one measured step (-steps 0 only with -resume)", *f.Steps))
	}
	if !(*kscale > 0 && *kscale <= 1) {
		cli.Fail(fmt.Errorf("-kscale=%v: must lie in (0, 1]", *kscale))
	}
	poissonSet := false
	flag.Visit(func(fl *flag.Flag) { poissonSet = poissonSet || fl.Name == "poisson" })
	if silent := silentUnderDC(*kscale); !*poisson && len(silent) > 4 {
		// At small -kscale the reference's DC compensation leaves most
		// populations below threshold (pd14.FreePotential): the
		// DC-driven circuit is silent, in NEST as here.
		if poissonSet {
			fmt.Fprintf(os.Stderr, "pd14: warning: with DC input at -kscale %g, %s settle below threshold and stay silent; -poisson fires\n", *kscale, strings.Join(silent, ", "))
		} else {
			*poisson = true
			fmt.Fprintf(os.Stderr, "pd14: -kscale %g: the DC background leaves %s below threshold (a silent circuit, in NEST as here); using Poisson input (-poisson=false forces DC)\n", *kscale, strings.Join(silent, ", "))
		}
	}
	if err := run(f, *scale, *kscale); err != nil {
		cli.Fail(err)
	}
}

// silentUnderDC lists the populations whose DC-only potential at in-degree
// scale k is below threshold.
func silentUnderDC(k float64) []string {
	var out []string
	for i, name := range pd14.Populations {
		if pd14.FreePotential(i, k) < pd14.VTh {
			out = append(out, name)
		}
	}
	return out
}

func run(f *cli.Flags, scale, kscale float64) error {
	net, err := f.Network()
	if err != nil {
		return err
	}
	be := net.Backend()
	defer be.Close()
	t0 := time.Now()
	m, err := pd14.Build(net, pd14.Options{Scale: scale, KScale: kscale, Poisson: *poisson, Separate: *separate})
	if err != nil {
		return err
	}
	// One spike recorder per group (one in the merged form), kept with
	// each population.
	var recs [8]*core.Recorder
	if *f.Out != "" && !*record {
		return fmt.Errorf("-out draws the recorded spikes: drop -record=false")
	}
	for k := range recs {
		g, _, _ := m.Population(k)
		if !*record {
			break
		}
		if k > 0 && m.All != nil {
			recs[k] = recs[0]
			continue
		}
		recs[k] = core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Tag: "spikes_" + g.Name()})
		if err := g.AddBehavior(9, recs[k]); err != nil {
			return err
		}
	}
	if err := f.Initialize(net); err != nil {
		return err
	}
	if err := be.Sync(); err != nil {
		return err
	}
	// Hand the construction's scratch memory back to the system before
	// the run allocates its own (the cpu's delivery layouts, at step 3),
	// so that the two do not add up in the peak.
	debug.FreeOSMemory()
	build := time.Since(t0).Seconds()
	// A run resumed from a checkpoint (written in the measured part)
	// skips what its warm-up has done already.
	if _, err := f.Resume(net); err != nil {
		return err
	}
	if left := warmUp - net.Iteration; left > 0 {
		net.RecordingOff()
		if err := net.SimulateIterations(left, core.SimOptions{Quiet: true}); err != nil {
			return err
		}
		for k := range m.Groups {
			g, _, _ := m.Population(k)
			backend.Fill(g.Var("count"), 0)
		}
		net.RecordingOn()
	}
	if err := be.Sync(); err != nil {
		return err
	}
	f.UIView(model, []string{"v"}, []string{"W"})
	wall, err := f.Run(net, core.SimOptions{Quiet: true})
	if err != nil {
		return err
	}
	bio := float64(f.StepsRun()) * dt.Seconds()
	// The rates are over the whole measured part (from the warm-up's end,
	// when resumed).
	measured := float64(net.Iteration-warmUp) * dt.Seconds()
	r := cli.Result{Model: model, Steps: f.StepsRun(), WallS: wall}
	r.Counts(net)
	rates := map[string]any{}
	for k, name := range pd14.Populations {
		g, lo, size := m.Population(k)
		c := make([]float32, g.Size)
		if err := be.Read(c, g.Var("count"), 0); err != nil {
			return err
		}
		n := 0
		for _, x := range c[lo : lo+size] {
			n += int(x)
		}
		r.Spikes += n
		rate := float64(n) / (float64(size) * measured)
		rates[name] = rate
		if !(measured > 0) {
			rates[name] = nil // no measured step (-ui quit at once): JSON null
		}
		fmt.Fprintf(os.Stderr, "%-5s %6d neurons %8.3f Hz\n", name, size, rate)
	}
	rss := peakRSS()
	rtf := math.NaN() // JSON null without a step
	if bio > 0 {
		rtf = wall / bio
	}
	r.Extra = map[string]any{
		"scale": scale, "kscale": kscale, "step_ms": 0.1, "duration_s": bio, "warmup_s": float64(warmUp) * dt.Seconds(),
		"rtf": rtf, "measured_s": measured, "rates": rates, "build_s": build, "peak_rss_mib": rss, "poisson": *poisson, "separate": *separate,
	}
	if *record {
		cvs := map[string]any{}
		for k, name := range pd14.Populations {
			_, lo, size := m.Population(k)
			all, err := recs[k].Events("fired")
			if err != nil {
				return err
			}
			cv, n := all.Select(lo, size, 0).ISICV(size)
			if n > 0 {
				cvs[name] = cv
			} else {
				cvs[name] = nil // no neuron with three spikes: JSON null
			}
			fmt.Fprintf(os.Stderr, "%-5s ISI CV %.3f (%d neurons with >= 3 spikes)\n", name, cv, n)
		}
		r.Extra["cv_isi"] = cvs
	}
	fmt.Fprintf(os.Stderr, "%s: scale %g, %d neurons, %d synapses; build %.2f s; %v biological in %.2f s (real-time factor %.3f); peak RSS %.0f MiB\n",
		model, scale, r.Neurons, r.Synapses, build, time.Duration(f.StepsRun())*dt, wall, wall/bio, rss)
	if *f.Out != "" {
		var raster []cli.RasterGroup
		offset := 0
		for k, name := range pd14.Populations {
			_, lo, size := m.Population(k)
			all, err := recs[k].Events("fired")
			if err != nil {
				return err
			}
			ev := all.Select(lo, size, net.Iteration-window)
			raster = append(raster, cli.RasterGroup{Label: name, Events: ev, Offset: offset})
			offset += size
		}
		path := filepath.Join(*f.Out, model+"_raster.png")
		if err := cli.Raster(path, fmt.Sprintf("%s (scale %g): last 100 ms (1 step = 0.1 ms)", model, scale), raster); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "raster written to %s\n", path)
	}
	return f.Finish(net, &r)
}

// peakRSS is the process's peak resident set size (VmHWM) in MiB, or -1
// where /proc/self/status cannot be read.
func peakRSS() float64 {
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fs := strings.Fields(rest)
			if len(fs) > 0 {
				if kb, err := strconv.ParseFloat(fs[0], 64); err == nil {
					return kb / 1024
				}
			}
		}
	}
	return -1
}
