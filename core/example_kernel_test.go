package core_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
)

// A leaky integrator as one fused kernel: v relaxes towards its input I
// with time constant tau. The kernel is compiled in Initialize (names
// that are variables of the group bind to its tensors, dt and tau are
// baked in) and run in Iteration; a misspelt name is reported with its
// line and column.
func ExampleNewKernel() {
	b, _ := backend.Open("cpu", backend.Options{})
	defer b.Close()
	net, _ := core.NewNetwork(core.Config{Backend: b, Seed: 1})
	var k *core.Kernel
	leak := &core.BehaviorFunc{
		Init: func(o core.Object) error {
			g := o.(*core.NeuronGroup)
			v, _ := g.Vector("zeros")
			I, _ := g.Vector("zeros")
			b.Write(I, 0, []float32{1, 2, 4})
			g.SetVar("v", v)
			g.SetVar("I", I)
			if _, err := core.NewKernel(o, "v += dt*(I - vv)/tau", core.Consts{"dt": 1, "tau": 10}); err != nil {
				fmt.Println(err)
			}
			var err error
			k, err = core.NewKernel(o, "v += dt*(I - v)/tau", core.Consts{"dt": 1, "tau": 10})
			return err
		},
		Iter: func(core.Object) error { k.Run(); return nil },
	}
	g, _ := net.NewNeuronGroup("leaky", core.Size(3), core.Behaviors{1: leak})
	if err := net.Initialize(); err != nil {
		fmt.Println(err)
		return
	}
	net.SimulateIterations(10, core.SimOptions{Quiet: true})
	v := make([]float32, 3)
	b.Read(v, g.Var("v"), 0)
	fmt.Println(k.Program())
	fmt.Printf("after 10 steps: v = %.4f = I*(1 - 0.9^10)\n", v)
	// Output:
	// kernel on neuron group "leaky": expr: line 1, column 14: unknown identifier 'vv' (did you mean 'v'?)
	//     v += dt*(I - vv)/tau
	//                  ^
	// v += dt * (I - v) / tau
	// after 10 steps: v = [0.6513 1.3026 2.6053] = I*(1 - 0.9^10)
}
