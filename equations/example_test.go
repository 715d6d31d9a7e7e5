package equations_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/equations"
)

// A leaky integrate-and-fire neuron under a constant 3 nA, as Brian2 users
// write it: R*I = 30 mV takes v from -70 mV towards -40 mV; it reaches
// -50 mV after tau*ln(3) = 10.99 ms (step 110), then stands still for 2 ms
// (20 steps) after each spike: a spike every 129 steps, 7 in 1000.
func ExampleNew() {
	be, _ := backend.Open("cpu", backend.Options{})
	defer be.Close()
	net, _ := core.NewNetwork(core.Config{Backend: be, Seed: 1})
	nr, err := equations.New(`
		dv/dt = (El - v + R*I)/tau : volt (unless refractory)
		I : amp
	`, equations.Options{Method: "exponential_euler", DT: "0.1*ms",
		Threshold: "v > -50*mV", Reset: "v = -70*mV", Refractory: "2*ms",
		Namespace: map[string]string{"El": "-70*mV", "R": "10*Mohm", "tau": "10*ms"},
		Init:      map[string]string{"v": "-70*mV", "I": "3*nA"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	spikes := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{})
	net.NewNeuronGroup("lif", core.Size(1), core.Behaviors{1: nr, 2: spikes})
	net.Initialize()
	net.SimulateIterations(1000, core.SimOptions{Quiet: true}) // 100 ms
	ev, _ := spikes.Events("fired")
	fmt.Println(ev.Len(), "spikes in 100 ms; the first at step", ev.Iterations[0])
	// Output: 7 spikes in 100 ms; the first at step 110
}
