package sweep_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gomonnto/gomonnto/sweep"
)

// A grid sweep over two parameters with a Go function as the objective:
// every point gets a stable ID and its own seed, its result is stored in
// the sweep's folder, and PrintTable shows one row per point. Running the
// sweep again evaluates only the points without a result.
func ExampleSweep_Run() {
	dir, _ := os.MkdirTemp("", "sweep")
	defer os.RemoveAll(dir)
	spec := sweep.Spec{Name: "demo", Seed: 1, Method: "grid", Params: []sweep.Param{
		{Name: "a", Values: []float64{1, 2}},
		{Name: "b", Values: []float64{0.5, 10}},
	}}
	s, err := sweep.Create(dir, spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	objective := func(ctx context.Context, t *sweep.Task) (map[string]any, error) {
		a, b := t.Params["a"], t.Params["b"]
		return map[string]any{"sum": a + b, "product": a * b}, nil
	}
	sum, err := s.Run(context.Background(), objective, sweep.RunOptions{Workers: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("evaluated", sum.Evaluated, "done", sum.Done, "failed", sum.Failed)
	rows, err := s.Gather() // also writes results.csv and results.parquet
	if err != nil {
		fmt.Println(err)
		return
	}
	s.PrintTable(os.Stdout, rows)
	again, _ := s.Run(context.Background(), objective, sweep.RunOptions{Workers: 2})
	fmt.Println("again: evaluated", again.Evaluated, "skipped", again.Skipped)
	// Output:
	// evaluated 4 done 4 failed 0
	// id            a  b    status  attempts  restarts  product  sum  error
	// 1446726cd07d  1  0.5  done    1         0         0.5      1.5  -
	// 17e4d6366834  1  10   done    1         0         10       11   -
	// 691bf6ead906  2  0.5  done    1         0         1        2.5  -
	// 216d0af1bafd  2  10   done    1         0         20       12   -
	// again: evaluated 0 skipped 4
}
