package bench

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// BenchmarkM4 is Izhikevich's (2003) simple-model network (800 E + 200 I
// at n=1000, all-to-all dense synapses, heterogeneous parameters, Gaussian
// noise drawn by one random fill per step, spike-driven input), without
// recorders, SxD layout. One step is 1 ms of biological time, so
// us/step / 1000 is the real-time factor. Compare with Brian2 C++
// standalone: bench/peers/brian2_m4.py.
func BenchmarkM4(b *testing.B) {
	for _, name := range backends(b) {
		withRecording(b, fmt.Sprintf("%s/n=1000/SxD", name), func(b *testing.B, rec bool) {
			net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1, Layout: core.SxD})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := models.Izhikevich2003(net, models.Izh2003Options{NE: 800, NI: 200}); err != nil {
				b.Fatal(err)
			}
			recordSpikes(b, net, rec, "fired")
			runSteps(b, net, 100)
		})
	}
}
