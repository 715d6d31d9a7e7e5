package bench

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// BenchmarkM8 is the SORN (Lazar et al. 2009): NE binary E units (sparse
// E->E with 10 inputs per unit, STDP and synaptic normalization every
// step, intrinsic plasticity) and NE/5 binary I units with dense E<->I
// synapses, letter input, SxD layout, no recorders, after 100 warm-up
// steps. ne=N computes the units' drive with MatVec (the model's
// default); ne=N-propagate spike-driven (SORNOptions.Propagate).
func BenchmarkM8(b *testing.B) {
	for _, name := range backends(b) {
		for _, c := range []struct {
			ne        int
			propagate bool
		}{{200, false}, {900, false}, {200, true}, {900, true}} {
			sub := fmt.Sprintf("%s/ne=%d", name, c.ne)
			if c.propagate {
				sub += "-propagate"
			}
			withRecording(b, sub, func(b *testing.B, rec bool) {
				net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1, Layout: core.SxD})
				if err != nil {
					b.Fatal(err)
				}
				m, err := models.SORN(net, models.SORNOptions{NE: c.ne, Propagate: c.propagate})
				if err != nil {
					b.Fatal(err)
				}
				recordSpikes(b, net, rec, "spikes")
				recordSeries(b, m.E, rec, "mean(spikes)", 1) // as examples/sorn
				runSteps(b, net, 100)
			})
		}
	}
}
