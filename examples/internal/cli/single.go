package cli

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/equations"
	"github.com/gomonnto/gomonnto/models"
)

// SingleFlags are the flags of a single-neuron equation example: -method,
// -dt, -duration and -i, beside the common ones.
type SingleFlags struct {
	*Flags
	Method   *string
	DT       *string
	Duration *string
	I        *float64
}

// RegisterSingle registers the common flags and -method, -dt (a time such
// as 0.01ms), -duration (100ms) and -i; steps is -duration/-dt unless
// -steps is given.
func RegisterSingle(dt, duration string, i float64, iHelp string) *SingleFlags {
	f := Register(0, "dxs")
	return &SingleFlags{
		Flags:    f,
		Method:   flag.String("method", "euler", "integration method: euler, rk2, rk4 or exponential_euler"),
		DT:       flag.String("dt", dt, "time step (e.g. 0.01ms)"),
		Duration: flag.String("duration", duration, "time to simulate (e.g. 100ms); -steps overrides it"),
		I:        flag.Float64("i", i, iHelp),
	}
}

// parseTime reads "0.01ms", "100ms", "2s" or a number of ms.
func parseTime(flagName, s string) (float64, error) {
	s = strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		ms     float64
	}{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}} {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			if err != nil || !(v > 0) {
				break
			}
			return v * u.ms, nil
		}
	}
	return 0, fmt.Errorf("-%s=%q: give a positive time such as 0.01ms", flagName, s)
}

// StepsAndDT reads -dt and -duration (unless -steps is given) into the
// number of steps and the step in ms.
func (f *SingleFlags) StepsAndDT() (int, float64, error) {
	dt, err := parseTime("dt", *f.DT)
	if err != nil {
		return 0, 0, err
	}
	set := map[string]bool{}
	flag.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["steps"] {
		return *f.Steps, dt, nil
	}
	d, err := parseTime("duration", *f.Duration)
	if err != nil {
		return 0, 0, err
	}
	return int(math.Round(d / dt)), dt, nil
}

// SingleSpec describes one single-neuron example.
type SingleSpec struct {
	Model string
	// Build makes the neuron from the options.
	Build func(models.EqOptions) (*equations.Neuron, error)
	// V is the membrane variable and Cross the value it crosses upwards at
	// a spike (spike_steps); Unit labels the plot.
	V, Unit string
	Cross   float64
}

// Single runs a single-neuron equation model and reports, in the JSON,
// spike_steps (the steps k at which V crosses Cross upwards between the
// states after k-1 and k steps), the final state and the trace's range;
// -out writes a plot of V.
func Single(f *SingleFlags, spec SingleSpec) error {
	steps, dt, err := f.StepsAndDT()
	if err != nil {
		return err
	}
	*f.Steps = steps
	nr, err := spec.Build(models.EqOptions{Method: *f.Method, DT: fmt.Sprintf("%g*ms", dt), I: *f.I})
	if err != nil {
		return err
	}
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	rec := core.NewRecorder([]string{spec.V}, core.RecorderOptions{Tag: "trace"})
	if _, err := net.NewNeuronGroup(spec.Model, core.Size(1), core.Behaviors{1: nr, 2: rec}); err != nil {
		return err
	}
	if err := f.Initialize(net); err != nil {
		return err
	}
	wall, err := f.Run(net, core.SimOptions{})
	if err != nil {
		return err
	}
	s, err := rec.Series(spec.V)
	if err != nil {
		return err
	}
	spikes := []int{}
	for k := 1; k < s.Len(); k++ {
		if float64(s.Data[k-1]) < spec.Cross && float64(s.Data[k]) >= spec.Cross {
			spikes = append(spikes, s.Iterations[k])
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range s.Data {
		lo, hi = math.Min(lo, float64(x)), math.Max(hi, float64(x))
	}
	r := Result{Model: spec.Model, Steps: f.StepsRun(), WallS: wall, Spikes: len(spikes)}
	r.Counts(net)
	final := map[string]any{}
	for _, v := range nr.Variables() {
		buf := make([]float32, 1)
		if err := net.Backend().Read(buf, net.NeuronGroups()[0].Var(v), 0); err != nil {
			return err
		}
		final[v] = finiteOrNil(float64(buf[0]))
	}
	r.Extra = map[string]any{"spike_steps": [][]int{spikes}, "method": *f.Method, "dt_ms": dt, "final": final, spec.V + "_min": finiteOrNil(lo), spec.V + "_max": finiteOrNil(hi)}
	fmt.Fprintf(os.Stderr, "%s: %d steps of %g ms (%s) in %.3f s, %d spikes\n", spec.Model, r.Steps, dt, *f.Method, wall, len(spikes))
	if *f.Out != "" {
		if err := os.MkdirAll(*f.Out, 0o755); err != nil {
			return err
		}
		path := filepath.Join(*f.Out, spec.Model+"_"+spec.V+".png")
		if err := LinePlot(path, fmt.Sprintf("%s (%s, dt %g ms)", spec.Model, *f.Method, dt), spec.V+" ("+spec.Unit+")", []Line{{Label: spec.V, Y: s.Data, X: s.Iterations}}); err != nil {
			return err
		}
	}
	return f.Finish(net, &r)
}

// Parse parses the command line (flag.Parse).
func Parse() { flag.Parse() }

// finiteOrNil is x, or nil (JSON null) for NaN and infinities (a run that
// diverged, e.g. with too large a -dt).
func finiteOrNil(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}
