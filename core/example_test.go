package core_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
)

// BasicBehavior is the README's behaviour: activity starts uniform and
// decays by 0.99 per step.
type BasicBehavior struct {
	core.Base
	activity backend.Tensor
	decay    float32
}

func (bb *BasicBehavior) Initialize(o core.Object) error {
	var err error
	if bb.activity, err = o.Vector("uniform"); err != nil {
		return err
	}
	bb.decay = 0.99
	return o.SetVar("activity", bb.activity)
}

func (bb *BasicBehavior) Iteration(o core.Object) error {
	backend.BinaryScalar(backend.Mul, bb.activity, bb.activity, bb.decay)
	return nil
}

// The README's second example: a decaying activity, recorded every step
// and found again through the tag system.
func Example() {
	b, err := backend.Open("cpu", backend.Options{})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	net, _ := core.NewNetwork(core.Config{Backend: b, Seed: 1})
	g, _ := net.NewNeuronGroup("my_neurons", core.SquaredDim(100), core.Behaviors{
		1: &BasicBehavior{},
		9: core.NewRecorder([]string{"activity", "mean(activity)"}, core.RecorderOptions{Tag: "my_recorder"}),
	})
	net.NewSynapseGroup("GLUTAMATE", g, g, nil)
	if err := net.Initialize(); err != nil {
		panic(err)
	}
	if err := net.SimulateIterations(1000, core.SimOptions{Quiet: true}); err != nil {
		panic(err)
	}
	act, _ := core.Get[*core.Series](net, "activity", 0)
	mean, _ := core.Get[*core.Series](net, "mean(activity)", 0)
	fmt.Printf("%dx%d grid, %d records of %d neurons\n", g.Dim.Width, g.Dim.Height, act.Len(), act.Width)
	fmt.Printf("mean decays by %.4f per step\n", mean.At(500, 0)/mean.At(499, 0))
	// Output:
	// 10x10 grid, 1000 records of 100 neurons
	// mean decays by 0.9900 per step
}
