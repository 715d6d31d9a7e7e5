// Command izhstdp runs M7, the Izhikevich benchmark of the PymoNNtorch
// paper: N Izhikevich neurons (a, b, c, d = 0.02, 0.04, -65, 2; dt = 1)
// driven by I = 15 + N(0,1) + (1/N) sum of the weight rows of the neurons
// that spiked, a recurrent dense synapse group W = U[0,1) and trace STDP
// with soft bounds (a_plus 0.01, a_minus 0.012, traces with tau 20).
//
//	go run ./examples/izhstdp -backend=cpu -n=10000 -steps=300 -out out
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
	if err := cli.STDP(f, "izhstdp", *n, "spikes", models.IzhSTDP); err != nil {
		cli.Fail(err)
	}
}
