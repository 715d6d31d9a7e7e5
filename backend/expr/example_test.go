package expr_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

func Example() {
	env := expr.Env{
		Tensors: []string{"v", "u", "I"},
		Consts:  map[string]float32{"dt": 0.5, "a": 0.02, "b": 0.2},
	}
	p, err := expr.Compile("v += dt*(0.04*v*v + 5*v + 140 - u + I); u += dt*a*(b*v - u)", env)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := []float32{-65, -70}
	u := []float32{-13, -14}
	I := []float32{10} // one element: broadcast to every neuron
	p.NewEvaluator().Eval([][]float32{v, u, I}, 0, len(v), rng.Key{})
	fmt.Println(p)
	fmt.Println(v, u)
	// Output:
	// v += dt * (0.04 * v * v + 5 * v + 140 - u + I); u += dt * a * (b * v - u)
	// [-61.5 -65] [-12.993 -13.99]
}

func ExampleError() {
	_, err := expr.Compile("v += dt*(I - vv)", expr.Env{Tensors: []string{"v", "I"}, Consts: map[string]float32{"dt": 0.1}})
	fmt.Println(err)
	// Output:
	// expr: line 1, column 14: unknown identifier 'vv' (did you mean 'v'?)
	//     v += dt*(I - vv)
	//                  ^
}
