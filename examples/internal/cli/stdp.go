package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// STDP runs a dense-STDP model (M6, M7) of n neurons built by build: it
// records the spikes and the mean weight, simulates -steps steps, writes a
// raster, the mean weight and the final weight histogram to -out and
// prints the result.
func STDP(f *Flags, model string, n int, spikes string, build func(*core.Network, models.STDPOptions) (*models.STDPNet, error)) error {
	if n < 1 {
		return fmt.Errorf("-n=%d: the network needs at least one neuron", n)
	}
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	m, err := build(net, models.STDPOptions{N: n})
	if err != nil {
		return err
	}
	return simulateSTDP(f, model, net, m, spikes)
}

// simulateSTDP records the spikes and, about 30 times, the mean of the
// first rows of W (at most head weights: all of W up to n=1024; the whole
// matrix, 400 MB at n=10000, would take most of the run to reduce 30
// times), runs -steps steps and writes the plots and the result, with the
// exact mean of all of W at the start and the end.
func simulateSTDP(f *Flags, model string, net *core.Network, m *models.STDPNet, spikes string) error {
	rec := core.NewEventRecorder([]string{spikes}, core.RecorderOptions{Tag: "spikes"})
	gap := max(1, *f.Steps/30)
	wexpr := fmt.Sprintf("mean(W[0:%d])", min(head, m.S.Synapses()))
	wrec := core.NewRecorder([]string{wexpr}, core.RecorderOptions{Tag: "mean_w", Gap: gap})
	if err := m.G.AddBehavior(9, rec); err != nil {
		return err
	}
	if err := m.S.AddBehavior(10, wrec); err != nil {
		return err
	}
	if err := f.Initialize(net); err != nil {
		return err
	}
	if _, err := f.Resume(net); err != nil {
		return err
	}
	w0, err := meanW(net, m)
	if err != nil {
		return err
	}
	f.UIView(model, []string{"v"}, []string{"W"})
	wall, err := f.Run(net, core.SimOptions{})
	if err != nil {
		return err
	}
	w1, err := meanW(net, m)
	if err != nil {
		return err
	}
	ev, err := rec.Events(spikes)
	if err != nil {
		return err
	}
	mw, err := wrec.Series(wexpr)
	if err != nil {
		return err
	}
	steps := max(net.Iteration, 1) // the recorded steps (from the start, when resumed)
	frac := float64(ev.Len()) / float64(m.G.Size*steps)
	r := Result{Model: model, Steps: f.StepsRun(), WallS: wall, Spikes: ev.Len()}
	r.Counts(net)
	r.Extra = map[string]any{"n": m.G.Size, "spike_fraction_per_step": frac, "mean_w_at_start": w0, "mean_w_final": w1}
	fmt.Fprintf(os.Stderr, "%s: n=%d, %d steps in %.3f s (%.1f us/step), %d spikes (%.2f%% of the neurons per step)\n",
		model, m.G.Size, f.StepsRun(), wall, 1e6*wall/float64(max(f.StepsRun(), 1)), ev.Len(), 100*frac)
	if *f.Out != "" {
		if err := plotsSTDP(model, *f.Out, net, m, ev, mw); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "plots written to %s\n", *f.Out)
	}
	return f.Finish(net, &r)
}

// head is how many weights the histogram and the initial mean read back
// (the first rows of W): all of them up to n=1000.
const head = 1 << 20

func readHeadSTDP(net *core.Network, m *models.STDPNet) ([]float32, error) {
	w := m.S.Var("W")
	out := make([]float32, min(w.Len(), head))
	return out, net.Backend().Read(out, w, 0)
}

// meanW is the mean of all of W, reduced on the device.
func meanW(net *core.Network, m *models.STDPNet) (float64, error) {
	be := net.Backend()
	t, err := be.NewTensor(1, 1)
	if err != nil {
		return 0, err
	}
	defer t.Release()
	be.Reduce(backend.Mean, t, 0, m.S.Var("W"))
	var v [1]float32
	if err := be.Read(v[:], t, 0); err != nil {
		return 0, err
	}
	return float64(v[0]), nil
}

// plots writes a raster of the first 200 neurons, the mean weight over
// time and a histogram of the final weights (the first rows of W).
func plotsSTDP(model, dir string, net *core.Network, m *models.STDPNet, ev *core.Events, mw *core.Series) error {
	const shown = 200
	sub := &core.Events{Name: ev.Name}
	for k, i := range ev.Indices {
		if i < shown {
			sub.Indices = append(sub.Indices, i)
			sub.Iterations = append(sub.Iterations, ev.Iterations[k])
		}
	}
	if err := Raster(filepath.Join(dir, model+"_raster.png"),
		fmt.Sprintf("%s: spikes of neurons 0-%d (of %d)", model, min(shown, m.G.Size)-1, m.G.Size),
		[]RasterGroup{{Label: "NG", Events: sub}}); err != nil {
		return err
	}
	gap := 1
	if mw.Len() > 1 {
		gap = mw.Iterations[1] - mw.Iterations[0]
	}
	if err := LinePlot(filepath.Join(dir, model+"_mean_w.png"),
		fmt.Sprintf("%s: %s (one record every %d steps)", model, mw.Name, gap), "mean weight",
		[]Line{{Label: mw.Name, Y: mw.Data, X: mw.Iterations, Color: Black}}); err != nil {
		return err
	}
	w, err := readHeadSTDP(net, m)
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
