// Command hh runs PymoNNto's Hodgkin-Huxley compartment (HH_main's rates)
// written as equations (models.HHEquations) under a constant current -i
// (uA/cm2): v0 -65 mV, m0 0.05, h0 0.6, n0 0.32, dt 0.01 ms for 100 ms by
// default, forward Euler unless -method says otherwise. The JSON has
// spike_steps (v through 0 mV upwards) and the final state; -out plots v.
//
// -chain runs PymoNNto's chain of 20 compartments instead
// (models.HHChain): current into compartment 0 from 100 to 200 ms (5
// uA/cm2) and 300 to 400 ms (10), 500 ms; spike_steps per compartment.
// It couples as PymoNNto does (dt applied twice: 0.067 mS/cm2) but starts
// from rest; -pymonnto starts every state at 0 as PymoNNto's example does.
//
//	go run ./examples/hh -method rk4 -json -out out
//	go run ./examples/hh -chain -json -out out
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.RegisterSingle("0.01ms", "100ms", 10, "injected current (uA/cm2); not with -chain")
	chain := flag.Bool("chain", false, "PymoNNto's chain of 20 coupled compartments (500 ms unless -duration or -steps)")
	pym := flag.Bool("pymonnto", false, "with -chain: start every state at 0, as PymoNNto's example does")
	cli.Parse()
	var err error
	if *chain {
		err = runChain(f, *pym)
	} else {
		if *pym {
			cli.Fail(fmt.Errorf("-pymonnto needs -chain"))
		}
		err = cli.Single(f, cli.SingleSpec{Model: "hh", Build: models.HH, V: "v", Unit: "mV", Cross: 0})
	}
	if err != nil {
		cli.Fail(err)
	}
}

func runChain(f *cli.SingleFlags, pym bool) error {
	set := map[string]bool{}
	flag.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["duration"] {
		*f.Duration = "500ms"
	}
	steps, dtMS, err := f.StepsAndDT()
	if err != nil {
		return err
	}
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	g, err := models.HHChain(net, models.HHChainOptions{EqOptions: models.EqOptions{Method: *f.Method, DT: fmt.Sprintf("%g*ms", dtMS)}, PymoNNto: pym})
	if err != nil {
		return err
	}
	recs, err := cli.Record(false, []string{"v"}, "trace", g)
	if err != nil {
		return err
	}
	*f.Steps = steps
	wall, err := f.Simulate(net, core.SimOptions{}, nil)
	if err != nil {
		return err
	}
	s, err := recs[0].Series("v")
	if err != nil {
		return err
	}
	spikes := make([][]int, g.Size)
	total := 0
	for c := range spikes {
		spikes[c] = []int{}
		for k := 1; k < s.Len(); k++ {
			if s.At(k-1, c) < 0 && s.At(k, c) >= 0 {
				spikes[c] = append(spikes[c], s.Iterations[k])
			}
		}
		total += len(spikes[c])
	}
	r := cli.Result{Model: "hh", Steps: f.StepsRun(), WallS: wall, Spikes: total}
	r.Counts(net)
	r.Extra = map[string]any{"chain": true, "spike_steps": spikes, "method": *f.Method, "dt_ms": dtMS, "pymonnto": pym}
	fmt.Fprintf(os.Stderr, "hh -chain: %d compartments, %d steps in %.3f s, %d spikes (compartment 0: %d, last: %d)\n", g.Size, r.Steps, wall, total, len(spikes[0]), len(spikes[g.Size-1]))
	if *f.Out != "" {
		if err := os.MkdirAll(*f.Out, 0o755); err != nil {
			return err
		}
		var lines []cli.Line
		for _, c := range []int{0, g.Size / 2, g.Size - 1} {
			lines = append(lines, cli.Line{Label: fmt.Sprintf("compartment %d", c), Y: s.Column(c), X: s.Iterations})
		}
		if err := cli.LinePlot(filepath.Join(*f.Out, "hh_chain_v.png"), "HH chain", "v (mV)", lines); err != nil {
			return err
		}
	}
	return f.Finish(net, &r)
}
