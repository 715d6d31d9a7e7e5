package core_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
)

// One source neuron spikes once, at iteration 1, into four destinations
// through sparse synapses of weight 0.5 with delays drawn from
// uniform(1, 4) steps: each destination receives its 0.5 exactly its
// synapse's delay later. The delays are drawn on the host from the
// network's seed, so they are the same on every backend.
func ExampleSynapseGroup_PropagateDelayed() {
	b, _ := backend.Open("cpu", backend.Options{})
	defer b.Close()
	net, _ := core.NewNetwork(core.Config{Backend: b, Seed: 1})
	src, _ := net.NewNeuronGroup("src", core.Size(1), nil)
	dst, _ := net.NewNeuronGroup("dst", core.Size(4), nil)
	var w, spikes, input backend.Tensor
	arrivals := &core.BehaviorFunc{
		Init: func(o core.Object) error {
			sg := o.(*core.SynapseGroup)
			var err error
			if w, err = sg.SparseMatrix(1, "0.5"); err != nil { // every pair connected
				return err
			}
			if err := sg.SetDelays(w, "uniform(1, 4)"); err != nil {
				return err
			}
			spikes, _ = src.Vector("zeros")
			input, _ = dst.Vector("zeros")
			return nil
		},
		Iter: func(o core.Object) error {
			it := o.Net().Iteration
			backend.Fill(spikes, 0)
			if it == 1 {
				backend.Fill(spikes, 1)
			}
			backend.Fill(input, 0)
			o.(*core.SynapseGroup).PropagateDelayed(input, w, spikes, 1)
			in := make([]float32, 4) // reading every step waits for the backend: for show only
			b.Read(in, input, 0)
			fmt.Println("iteration", it, "input", in)
			return nil
		},
	}
	sg, _ := net.NewSynapseGroup("syn", src, dst, core.Behaviors{1: arrivals})
	if err := net.Initialize(); err != nil {
		fmt.Println(err)
		return
	}
	d, _ := sg.Delays()
	fmt.Println("delays", d, "max", sg.MaxDelay())
	net.SimulateIterations(6, core.SimOptions{Quiet: true})
	// Output:
	// delays [4 3 2 1] max 4
	// iteration 1 input [0 0 0 0]
	// iteration 2 input [0 0 0 0.5]
	// iteration 3 input [0 0 0.5 0]
	// iteration 4 input [0 0.5 0 0]
	// iteration 5 input [0.5 0 0 0]
	// iteration 6 input [0 0 0 0]
}
