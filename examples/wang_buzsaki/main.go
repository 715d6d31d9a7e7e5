// Command wang_buzsaki runs PymoNNto's Wang-Buzsaki interneuron written as
// equations (models.WangBuzsakiEquations): Iapp -i (2 uA), v0 -70 mV, h0 1,
// n0 0, instantaneous m, dt 0.01 ms for 100 ms by default, forward Euler
// unless -method says otherwise. The JSON has spike_steps (v through 0 mV
// upwards); -out plots v.
//
//	go run ./examples/wang_buzsaki -json -out out
package main

import (
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.RegisterSingle("0.01ms", "100ms", 2, "applied current Iapp (uA)")
	cli.Parse()
	if err := cli.Single(f, cli.SingleSpec{Model: "wang_buzsaki", Build: models.WangBuzsaki, V: "v", Unit: "mV", Cross: 0}); err != nil {
		cli.Fail(err)
	}
}
