// Command hh runs PymoNNto's Hodgkin-Huxley compartment (HH_main's rates)
// written as equations (models.HHEquations) under a constant current -i
// (uA/cm2): v0 -65 mV, m0 0.05, h0 0.6, n0 0.32, dt 0.01 ms for 100 ms by
// default, forward Euler unless -method says otherwise. The JSON has
// spike_steps (v through 0 mV upwards) and the final state; -out plots v.
// PymoNNto's 20-compartment chain (-chain) needs couplings between
// neurons, which equations do not have yet.
//
//	go run ./examples/hh -method rk4 -json -out out
package main

import (
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.RegisterSingle("0.01ms", "100ms", 10, "injected current (uA/cm2)")
	cli.Parse()
	if err := cli.Single(f, cli.SingleSpec{Model: "hh", Build: models.HH, V: "v", Unit: "mV", Cross: 0}); err != nil {
		cli.Fail(err)
	}
}
