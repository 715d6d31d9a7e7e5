// Command lifstdp runs M6, the "simple LIF" benchmark of the PymoNNtorch
// paper: N leaky neurons (threshold 6, decay 0.9, U[0,1) noise), a recurrent
// dense synapse group W = U[0,1)/N, spike-driven input and pair STDP
// (W += 0.001 for every pre spike of the previous step and post spike of
// this one, clipped to [0, 1]). About 1.2% of the neurons spike per step.
//
//	go run ./examples/lifstdp -backend=cpu -n=10000 -steps=300 -out out
//
// The benchmark size is -n=10000 (10^8 synapses, 400 MB); the default is
// smaller so that the demo starts quickly.
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
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

const model = "lifstdp"

func main() {
	f := cli.Register(300, "sxd")
	n := flag.Int("n", 2000, "number of neurons (the paper's benchmark: 10000)")
	flag.Parse()
	if err := run(f, *n); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags, n int) error {
	if n < 1 {
		return fmt.Errorf("-n=%d: the network needs at least one neuron", n)
	}
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	m, err := models.LIFSTDP(net, models.STDPOptions{N: n})
	if err != nil {
		return err
	}
	return simulate(f, net, m, "spikes")
}

// simulate records the spikes and the mean weight (about 30 records: each
// reads the whole matrix, 400 MB at n=10000),
// runs -steps steps and writes the plots and the result.
func simulate(f *cli.Flags, net *core.Network, m *models.STDPNet, spikes string) error {
	rec := core.NewEventRecorder([]string{spikes}, core.RecorderOptions{Tag: "spikes"})
	gap := max(1, *f.Steps/30)
	wrec := core.NewRecorder([]string{"mean(W)"}, core.RecorderOptions{Tag: "mean_w", Gap: gap})
	if err := m.G.AddBehavior(9, rec); err != nil {
		return err
	}
	if err := m.S.AddBehavior(10, wrec); err != nil {
		return err
	}
	if err := net.Initialize(); err != nil {
		return err
	}
	w0, err := meanHead(net, m)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := net.SimulateIterations(*f.Steps, core.SimOptions{}); err != nil {
		return err
	}
	if err := net.Backend().Sync(); err != nil {
		return err
	}
	wall := time.Since(t0).Seconds()
	ev, err := rec.Events(spikes)
	if err != nil {
		return err
	}
	mw, err := wrec.Series("mean(W)")
	if err != nil {
		return err
	}
	steps := max(*f.Steps, 1)
	frac := float64(ev.Len()) / float64(m.G.Size*steps)
	r := cli.Result{Model: model, Steps: *f.Steps, WallS: wall, Spikes: ev.Len()}
	r.Counts(net)
	r.Extra = map[string]any{"n": m.G.Size, "spike_fraction_per_step": frac, "mean_w_initial": w0}
	if k := mw.Len(); k > 0 {
		r.Extra["mean_w_final"] = mw.Data[k-1]
	}
	fmt.Fprintf(os.Stderr, "%s: n=%d, %d steps in %.3f s (%.1f us/step), %d spikes (%.2f%% of the neurons per step)\n",
		model, m.G.Size, *f.Steps, wall, 1e6*wall/float64(steps), ev.Len(), 100*frac)
	if *f.Out != "" {
		if err := plots(*f.Out, net, m, ev, mw); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "plots written to %s\n", *f.Out)
	}
	if *f.JSON {
		return r.Print(os.Stdout)
	}
	return nil
}

// head is how many weights the histogram and the initial mean read back
// (the first rows of W): all of them up to n=1000.
const head = 1 << 20

func readHead(net *core.Network, m *models.STDPNet) ([]float32, error) {
	w := m.S.Var("W")
	out := make([]float32, min(w.Len(), head))
	return out, net.Backend().Read(out, w, 0)
}

func meanHead(net *core.Network, m *models.STDPNet) (float64, error) {
	w, err := readHead(net, m)
	if err != nil {
		return 0, err
	}
	s := 0.0
	for _, x := range w {
		s += float64(x)
	}
	return s / float64(max(len(w), 1)), nil
}

// plots writes a raster of the first 200 neurons, the mean weight over
// time and a histogram of the final weights (the first rows of W).
func plots(dir string, net *core.Network, m *models.STDPNet, ev *core.Events, mw *core.Series) error {
	const shown = 200
	sub := &core.Events{Name: ev.Name}
	for k, i := range ev.Indices {
		if i < shown {
			sub.Indices = append(sub.Indices, i)
			sub.Iterations = append(sub.Iterations, ev.Iterations[k])
		}
	}
	if err := cli.Raster(filepath.Join(dir, model+"_raster.png"),
		fmt.Sprintf("%s: spikes of neurons 0-%d (of %d)", model, min(shown, m.G.Size)-1, m.G.Size),
		[]cli.RasterGroup{{Label: "NG", Events: sub}}); err != nil {
		return err
	}
	gap := 1
	if mw.Len() > 1 {
		gap = mw.Iterations[1] - mw.Iterations[0]
	}
	if err := cli.LinePlot(filepath.Join(dir, model+"_mean_w.png"),
		fmt.Sprintf("%s: mean weight (one record every %d steps)", model, gap), "mean(W)",
		[]cli.Line{{Label: "mean(W)", Y: mw.Data, Color: cli.Black}}); err != nil {
		return err
	}
	w, err := readHead(net, m)
	if err != nil {
		return err
	}
	vals := make(plotter.Values, len(w))
	for i, x := range w {
		vals[i] = float64(x)
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: final weights (%d of %d synapses)", model, len(w), m.S.Synapses())
	p.X.Label.Text = "W"
	p.Y.Label.Text = "synapses"
	h, err := plotter.NewHist(vals, 50)
	if err != nil {
		return err
	}
	p.Add(h)
	return p.Save(8*vg.Inch, 5*vg.Inch, filepath.Join(dir, model+"_weights.png"))
}
