// Command synfire runs the synfire chain of Diesmann et al. (1999) as
// Brian2's example does (models.Synfire): 10 groups of 100 neurons, each
// exciting the next, 85 input spikes near 50 ms into the first; a
// synchronous packet travels down the chain. The JSON has, per group, the
// spikes after 45 ms and their mean time; -out writes the raster.
// -pymonnto starts V as PymoNNto's example does (-Vr + U*15, a sign bug:
// everything fires in the first step).
//
//	go run ./examples/synfire -out out -json
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

func main() {
	f := cli.Register(1000, "sxd")
	pym := flag.Bool("pymonnto", false, "start V as PymoNNto's example (+70 to +85 mV)")
	flag.Parse()
	if err := run(f, *pym); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags, pym bool) error {
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	p, _, err := models.Synfire(net, models.SynfireOptions{Seed: *f.Seed, PymoNNto: pym})
	if err != nil {
		return err
	}
	recs, err := cli.Record(true, []string{"fired"}, "spikes", p)
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
	count, mean := make([]int, 10), make([]any, 10)
	sum := make([]float64, 10)
	for k, i := range ev.Indices {
		if ms := float64(ev.Iterations[k]) * 0.1; ms >= 45 {
			count[i/100]++
			sum[i/100] += ms
		}
	}
	for g := range mean {
		if count[g] > 0 {
			mean[g] = sum[g] / float64(count[g])
		}
	}
	r := cli.Result{Model: "synfire", Steps: f.StepsRun(), WallS: wall, Spikes: ev.Len()}
	r.Counts(net)
	r.Extra = map[string]any{"group_spikes_after_45ms": count, "group_mean_ms": mean, "pymonnto": pym}
	fmt.Fprintf(os.Stderr, "synfire: %d steps in %.3f s, spikes after 45 ms per group %v\n", r.Steps, wall, count)
	if *f.Out != "" {
		if err := os.MkdirAll(*f.Out, 0o755); err != nil {
			return err
		}
		if err := cli.Raster(filepath.Join(*f.Out, "synfire_raster.png"), "synfire chain (Diesmann et al. 1999)", []cli.RasterGroup{{Label: "P", Events: ev}}); err != nil {
			return err
		}
	}
	return f.Finish(net, &r)
}
