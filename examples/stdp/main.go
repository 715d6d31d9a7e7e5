// Command stdp runs Brian2's STDP example (Song, Miller & Abbott 2000;
// models.SongSTDP): -inputs Poisson neurons at -rate Hz drive one
// conductance-based LIF neuron through pair STDP written as Brian2's
// synaptic equations (event-driven traces, on_pre and on_post). The
// inputs compete and the weights end at the bounds: a bimodal
// distribution. dt 0.1 ms; the default -steps 1000000 is the example's
// 100 s. The JSON has the output rate over the last 10 s, the fractions of
// weights below 0.1 gmax and above 0.9 gmax, and their mean; -out writes
// the weights (sorted, and as a histogram) and their mean over time.
//
//	go run ./examples/stdp -out out -json
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

const dt = 1e-4 // seconds per step

func main() {
	f := cli.Register(1000000, "sxd")
	inputs := flag.Int("inputs", 1000, "Poisson inputs")
	rate := flag.Float64("rate", 15, "their rate in Hz")
	gmax := flag.Float64("gmax", 0.01, "the weight bound")
	flag.Parse()
	if err := run(f, models.SongOptions{Inputs: *inputs, Rate: *rate, GMax: *gmax}); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags, o models.SongOptions) error {
	if o.Inputs <= 0 {
		return fmt.Errorf("-inputs=%d: give a positive number of inputs", o.Inputs)
	}
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	m, err := models.SongSTDP(net, o)
	if err != nil {
		return err
	}
	spikes := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Tag: "spikes"})
	if err := m.Out.AddBehavior(9, spikes); err != nil {
		return err
	}
	// The mean weight every 0.1 s.
	mean := core.NewRecorder([]string{"mean(w)"}, core.RecorderOptions{Tag: "mean_w", Gap: 1000})
	if err := m.S.AddBehavior(9, mean); err != nil {
		return err
	}
	if err := f.Initialize(net); err != nil {
		return err
	}
	wall, err := f.Run(net, core.SimOptions{})
	if err != nil {
		return err
	}
	ev, err := spikes.Events("fired")
	if err != nil {
		return err
	}
	w := make([]float32, m.S.Var("w").Len())
	if err := net.Backend().Read(w, m.S.Var("w"), 0); err != nil {
		return err
	}
	g := o.GMax
	if g == 0 {
		g = 0.01
	}
	low, high, sum := 0, 0, 0.0
	for _, x := range w {
		r := float64(x) / g
		sum += r
		if r < 0.1 {
			low++
		}
		if r > 0.9 {
			high++
		}
	}
	// The output rate over the last 10 s (or the whole run if shorter).
	window := min(net.Iteration, 100000)
	last := 0
	for _, it := range ev.Iterations {
		if it > net.Iteration-window {
			last++
		}
	}
	rateOut := float64(last) / (float64(max(window, 1)) * dt)
	steps := f.StepsRun()
	r := cli.Result{Model: "stdp", Steps: steps, WallS: wall, Spikes: ev.Len()}
	r.Counts(net)
	n := float64(len(w))
	r.Extra = map[string]any{"post_rate_last10s_hz": rateOut, "low": float64(low) / n, "high": float64(high) / n,
		"mean_w_over_gmax": sum / n, "rtf": wall / (float64(max(steps, 1)) * dt)}
	fmt.Fprintf(os.Stderr, "stdp: %d steps (%.1f s) in %.2f s; output %.1f Hz; %.0f%% of the weights below 0.1 gmax, %.0f%% above 0.9 gmax\n",
		steps, float64(steps)*dt, wall, rateOut, 100*float64(low)/n, 100*float64(high)/n)
	if *f.Out != "" {
		if err := plots(*f.Out, w, g, mean); err != nil {
			return err
		}
	}
	return f.Finish(net, &r)
}

// plots writes the sorted weights, their histogram and the mean weight
// over time.
func plots(dir string, w []float32, gmax float64, mean *core.Recorder) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sorted := make([]float32, len(w))
	for k, x := range w {
		sorted[k] = float32(float64(x) / gmax)
	}
	slices.Sort(sorted)
	if err := cli.LinePlotX(filepath.Join(dir, "stdp_weights_sorted.png"), "final weights, sorted", "synapse rank", "w / gmax", []cli.Line{{Label: "w/gmax", Y: sorted}}); err != nil {
		return err
	}
	const bins = 20
	hist := make([]float32, bins)
	x := make([]int, bins)
	for k := range x {
		x[k] = k * 100 / bins // the bin's lower edge in % of gmax
	}
	for _, v := range sorted {
		hist[min(int(v*bins), bins-1)]++
	}
	if err := cli.LinePlotX(filepath.Join(dir, "stdp_weights_hist.png"), "final weights", "w, % of gmax (bin's lower edge)", "synapses", []cli.Line{{Label: "count", Y: hist, X: x}}); err != nil {
		return err
	}
	s, err := mean.Series("mean(w)")
	if err != nil {
		return err
	}
	y := make([]float32, len(s.Data))
	for k, v := range s.Data {
		y[k] = float32(float64(v) / gmax)
	}
	return cli.LinePlot(filepath.Join(dir, "stdp_mean_w.png"), "mean weight", "mean w / gmax", []cli.Line{{Label: "mean w/gmax", Y: y, X: s.Iterations}})
}
