package equations_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/equations"
)

// spikesAt is a behaviour that makes its group's spike mask "fired" one
// at the given iterations and zero otherwise.
func spikesAt(its ...int) core.Behavior {
	var fired backend.Tensor
	return &core.BehaviorFunc{
		Init: func(o core.Object) error {
			var err error
			if fired, err = o.(*core.NeuronGroup).Vector("zeros"); err != nil {
				return err
			}
			return o.SetVar("fired", fired)
		},
		Iter: func(o core.Object) error {
			v := float32(0)
			for _, it := range its {
				if it == o.Net().Iteration {
					v = 1
				}
			}
			backend.Fill(fired, v)
			return nil
		},
	}
}

// Brian2's pair STDP (Song et al. 2000) on one synapse of weight 0.01:
// a presynaptic spike at 10 ms and a postsynaptic one 2 ms later
// strengthen it by Apre*exp(-2/20) = 0.00362; a postsynaptic spike at
// 300 ms and a presynaptic one 2 ms later weaken it by
// -Apost*exp(-2/25) = 0.00415 (the traces of the first pair have decayed
// by then: every pair of spikes counts). The traces are stored once per
// neuron.
func ExampleNewSynapses() {
	be, _ := backend.Open("cpu", backend.Options{})
	defer be.Close()
	net, _ := core.NewNetwork(core.Config{Backend: be, Seed: 1})
	// One step is 0.1 ms (DT's default): 10 ms is iteration 100.
	pre, _ := net.NewNeuronGroup("pre", core.Size(1), core.Behaviors{1: spikesAt(100, 3020)})
	post, _ := net.NewNeuronGroup("post", core.Size(1), core.Behaviors{1: spikesAt(120, 3000)})
	stdp, err := equations.NewSynapses(`
		w : 1
		dapre/dt = -apre/taupre : 1 (event-driven)
		dapost/dt = -apost/taupost : 1 (event-driven)
	`, equations.SynapseOptions{
		OnPre:  "apre += Apre; w = clip(w + apost, 0, wmax)",
		OnPost: "apost += Apost; w = clip(w + apre, 0, wmax)",
		Namespace: map[string]string{"taupre": "20*ms", "taupost": "25*ms",
			"wmax": "0.02", "Apre": "0.004", "Apost": "-0.0045"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var w backend.Tensor
	show := &core.BehaviorFunc{Iter: func(o core.Object) error {
		switch it := o.Net().Iteration; it {
		case 1, 120, 3020:
			v := make([]float32, 1)
			be.Read(v, w, 0)
			fmt.Printf("t = %6.1f ms: w = %.5f\n", float64(it)/10, v[0])
		}
		return nil
	}}
	sg, _ := net.NewSynapseGroup("S", pre, post, core.Behaviors{2: stdp, 3: show})
	w, _ = sg.Matrix("0.01")
	sg.SetVar("w", w)
	if err := net.Initialize(); err != nil {
		fmt.Println(err)
		return
	}
	net.SimulateIterations(3100, core.SimOptions{Quiet: true})
	// Output:
	// t =    0.1 ms: w = 0.01000
	// t =   12.0 ms: w = 0.01362
	// t =  302.0 ms: w = 0.00947
}
