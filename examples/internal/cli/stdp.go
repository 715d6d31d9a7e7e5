package cli

import (
	"fmt"
	"os"
	"path/filepath"

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

// simulateSTDP records the spikes and the mean weight (about 30 records: each
// reads the whole matrix, 400 MB at n=10000),
// runs -steps steps and writes the plots and the result.
func simulateSTDP(f *Flags, model string, net *core.Network, m *models.STDPNet, spikes string) error {
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
	w0, err := meanHeadSTDP(net, m)
	if err != nil {
		return err
	}
	wall, err := Timed(net, *f.Steps, core.SimOptions{})
	if err != nil {
		return err
	}
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
	r := Result{Model: model, Steps: *f.Steps, WallS: wall, Spikes: ev.Len()}
	r.Counts(net)
	r.Extra = map[string]any{"n": m.G.Size, "spike_fraction_per_step": frac, "mean_w_initial": w0}
	if k := mw.Len(); k > 0 {
		r.Extra["mean_w_final"] = mw.Data[k-1]
	}
	fmt.Fprintf(os.Stderr, "%s: n=%d, %d steps in %.3f s (%.1f us/step), %d spikes (%.2f%% of the neurons per step)\n",
		model, m.G.Size, *f.Steps, wall, 1e6*wall/float64(steps), ev.Len(), 100*frac)
	if *f.Out != "" {
		if err := plotsSTDP(model, *f.Out, net, m, ev, mw); err != nil {
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

func readHeadSTDP(net *core.Network, m *models.STDPNet) ([]float32, error) {
	w := m.S.Var("W")
	out := make([]float32, min(w.Len(), head))
	return out, net.Backend().Read(out, w, 0)
}

func meanHeadSTDP(net *core.Network, m *models.STDPNet) (float64, error) {
	w, err := readHeadSTDP(net, m)
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
		fmt.Sprintf("%s: mean weight (one record every %d steps)", model, gap), "mean(W)",
		[]Line{{Label: "mean(W)", Y: mw.Data, Color: Black}}); err != nil {
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
