// Command basic runs the three examples of PymoNNto's README (M1) in Go:
// 1. a network of 100 neurons with a recurrent synapse group and no
// behaviour; 2. a decaying activity recorded every step; 3. the same on a
// 10x10 grid with recurrent input and noise.
//
//	go run ./examples/basic -out out
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.Register(1000, "dxs")
	f.UIStepsPerFrame(1) // PymoNNto's pace: the activity grows without bound
	flag.Parse()
	if err := run(f); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags) error {
	var last cli.Result
	for ex := 1; ex <= 3; ex++ {
		if f.UIEnabled() && ex < 3 {
			continue // -ui shows example 3 only
		}
		net, err := f.Network()
		if err != nil {
			return err
		}
		g, err := models.Basic(net, models.BasicOptions{Example: ex})
		if err != nil {
			return err
		}
		// Example 3 is the run the flags that keep a run (-save,
		// -checkpoint, -resume, -nan-guard) and -ui apply to.
		var wall float64
		steps := *f.Steps
		if ex == 3 {
			f.UIView("basic", []string{"activity"}, []string{"W"})
			if err := f.Initialize(net); err != nil {
				return err
			}
			if wall, err = f.Run(net, core.SimOptions{}); err != nil {
				return err
			}
			steps = f.StepsRun()
		} else {
			if err := net.Initialize(); err != nil {
				return err
			}
			t0 := time.Now()
			if err := net.SimulateIterations(*f.Steps, core.SimOptions{}); err != nil {
				return err
			}
			if err := net.Backend().Sync(); err != nil {
				return err
			}
			wall = time.Since(t0).Seconds()
		}
		fmt.Fprintf(os.Stderr, "example %d: %d steps in %.3f s, grid %dx%d\n", ex, steps, wall, g.Dim.Width, g.Dim.Height)
		last = cli.Result{Model: "basic", Steps: steps, WallS: wall}
		last.Counts(net)
		last.Extra = map[string]any{"example": ex}
		if ex >= 2 {
			act, err := core.Get[*core.Series](net, "activity", 0)
			if err != nil {
				return err
			}
			mean, err := core.Get[*core.Series](net, "mean(activity)", 0)
			if err != nil {
				return err
			}
			if act.Len() > 0 {
				last.Extra["mean_activity_last"] = mean.Data[len(mean.Data)-1]
			}
			if *f.Out != "" {
				var lines []cli.Line
				for i := 0; i < act.Width; i += max(1, act.Width/10) {
					lines = append(lines, cli.Line{Y: act.Column(i)})
				}
				lines = append(lines, cli.Line{Label: "mean(activity)", Y: mean.Data, Color: cli.Black, Width: 2})
				path := filepath.Join(*f.Out, fmt.Sprintf("basic_example%d.png", ex))
				plotFn, title := cli.LinePlot, fmt.Sprintf("PymoNNto README example %d: activity decays by 0.99 per step", ex)
				if ex == 3 {
					// The recurrent input (row sums ~0.05) outgrows the decay: log scale.
					plotFn, title = cli.LogLinePlot, "PymoNNto README example 3: decay 0.99, recurrent input and noise (log scale)"
				}
				if err := plotFn(path, title, "activity", lines); err != nil {
					return err
				}
			}
		}
		if ex == 3 {
			if *f.Out != "" {
				fmt.Fprintf(os.Stderr, "plots written to %s\n", *f.Out)
			}
			if err := f.Finish(net, &last); err != nil {
				return err
			}
		}
		if err := net.Backend().Close(); err != nil {
			return err
		}
	}
	return nil
}
