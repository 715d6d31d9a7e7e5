// Command izhikevich2003 runs Izhikevich's (2003) "simple model" network
// (M4): -ne excitatory and -ni inhibitory neurons (800 and 200) with the
// paper's heterogeneous parameters, all-to-all synapses (0.5*U from E, -U
// from I), Gaussian noise input; one step is 1 ms. It writes a spike raster
// (izhikevich2003_raster.png, the paper's Fig. 3) to -out and, with -json,
// the firing rates (Hz) and mean ISI coefficients of variation per group.
//
//	go run ./examples/izhikevich2003 -out out -json
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

const model = "izhikevich2003"

func main() {
	f := cli.Register(1000, "sxd")
	ne := flag.Int("ne", 800, "number of excitatory neurons")
	ni := flag.Int("ni", 200, "number of inhibitory neurons")
	flag.Parse()
	if *ne <= 0 || *ni <= 0 {
		cli.Fail(fmt.Errorf("-ne=%d -ni=%d: both must be positive", *ne, *ni))
	}
	if err := run(f, models.Izh2003Options{NE: *ne, NI: *ni}); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags, o models.Izh2003Options) error {
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	m, err := models.Izhikevich2003(net, o)
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
	r := cli.Result{Model: model, Steps: f.StepsRun(), WallS: wall}
	r.Counts(net)
	r.Extra = map[string]any{"step_ms": 1}
	var raster []cli.RasterGroup
	offset := 0
	for k, g := range groups {
		ev, err := recs[k].Events("fired")
		if err != nil {
			return err
		}
		rate, cv, n := stats(ev, g.Size, net.Iteration) // recorded from the start, when resumed
		r.Spikes += ev.Len()
		name := map[string]string{"E": "e", "I": "i"}[g.Name()]
		r.Extra["spikes_"+name] = ev.Len()
		r.Extra["rate_"+name+"_hz"] = rate
		r.Extra["cv_isi_"+name] = cv // null if no neuron spiked 3 times
		r.Extra["cv_neurons_"+name] = n
		fmt.Fprintf(os.Stderr, "%s: %d spikes, %.2f Hz, mean ISI CV %.3f (%d neurons with >= 3 spikes)\n",
			g.Name(), ev.Len(), rate, cv, n)
		raster = append(raster, cli.RasterGroup{Label: g.Name(), Events: ev, Offset: offset})
		offset += g.Size
	}
	steps := max(f.StepsRun(), 1)
	fmt.Fprintf(os.Stderr, "%s: %d steps (%d ms) in %.3f s (%.1f us/step)\n", model, f.StepsRun(), f.StepsRun(), wall, 1e6*wall/float64(steps))
	if *f.Out != "" {
		path := filepath.Join(*f.Out, model+"_raster.png")
		if err := cli.Raster(path, model+": spikes (1 step = 1 ms)", raster); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "raster written to %s\n", path)
	}
	return f.Finish(net, &r)
}

// stats returns the firing rate in Hz (1 step = 1 ms), the mean ISI CV
// of neurons with at least 3 spikes (NaN if there is none) and their
// number.
func stats(ev *core.Events, size, steps int) (rate, cv float64, n int) {
	cv, n = ev.ISICV(size)
	return ev.Rate(size, max(steps, 1)) * 1000, cv, n
}
