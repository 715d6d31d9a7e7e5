// Command lifstdp runs M6, the "simple LIF" benchmark of the PymoNNtorch
// paper: N leaky neurons (threshold 6, decay 0.9, U[0,1) noise), a recurrent
// dense synapse group W = U[0,1)/N, spike-driven input and pair STDP
// (W += 0.001 for every pre spike of the previous step and post spike of
// this one, clipped to [0, 1]). About 1.2% of the neurons spike per step.
//
//	go run ./examples/lifstdp -backend=cpu -n=10000 -steps=300 -out out
//
// The benchmark size is -n=10000 (10^8 synapses, 400 MB); the default is
// smaller so that the demo starts quickly.
package main

import (
	"flag"

	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.Register(300, "sxd")
	n := flag.Int("n", 2000, "number of neurons (the paper's benchmark: 10000)")
	flag.Parse()
	if err := cli.STDP(f, "lifstdp", *n, "spikes", models.LIFSTDP); err != nil {
		cli.Fail(err)
	}
}
