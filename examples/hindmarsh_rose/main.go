// Command hindmarsh_rose runs PymoNNto's Hindmarsh-Rose neuron written as
// equations (models.HindmarshRoseEquations): a 1, b 3, c 1, d 5, r 0.001,
// s 4, x1 -1.6, input -i (2), x0 -1.6, y0 -11.8, z0 0, forward Euler with
// dt 0.01 for 200,000 steps by default (PymoNNto's example; time in ms).
// The JSON has spike_steps (x through 1 upwards); -out plots x.
//
//	go run ./examples/hindmarsh_rose -i 2 -json -out out
package main

import (
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.RegisterSingle("0.01ms", "2000ms", 2, "input current (dimensionless)")
	cli.Parse()
	if err := cli.Single(f, cli.SingleSpec{Model: "hindmarsh_rose", Build: models.HindmarshRose, V: "x", Unit: "1", Cross: 1}); err != nil {
		cli.Fail(err)
	}
}
