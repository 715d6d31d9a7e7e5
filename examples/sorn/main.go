// Command sorn runs M8, the self-organizing recurrent network SORN (Lazar,
// Pipa & Triesch 2009): NE binary excitatory units (sparse recurrent
// E->E synapses, 10 per unit, with STDP and synaptic normalization;
// intrinsic plasticity of the thresholds towards 10% activity) and NE/5
// binary inhibitory units, driven by the letters of the words "abcd" and
// "xyyyyz" in random order, each letter switching on a fixed random 5% of
// the E units.
//
//	go run ./examples/sorn -backend=cpu -ne=200 -steps=5000 -out out
//
// Plots: the distribution of the final E->E weights, the mean E activity
// per step and a raster of the last 200 steps. With -json the result
// line adds the mean E activity (whole run and last 500 steps) and the
// fraction of E->E weights that are 0.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

const model = "sorn"

func main() {
	f := cli.Register(5000, "sxd")
	ne := flag.Int("ne", 200, "number of excitatory units (Lazar et al.: 200 or 900); NE/5 inhibitory")
	flag.Parse()
	if err := run(f, *ne); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags, ne int) error {
	if ne < 5 {
		return fmt.Errorf("-ne=%d: use at least 5 excitatory units (NE/5 inhibitory)", ne)
	}
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	m, err := models.SORN(net, models.SORNOptions{NE: ne})
	if err != nil {
		return err
	}
	recE := core.NewEventRecorder([]string{"spikes"}, core.RecorderOptions{Tag: "spikes_E"})
	recI := core.NewEventRecorder([]string{"spikes"}, core.RecorderOptions{Tag: "spikes_I"})
	act := core.NewRecorder([]string{"mean(spikes)"}, core.RecorderOptions{Tag: "activity_E"})
	for _, a := range []struct {
		g   *core.NeuronGroup
		key float64
		r   *core.Recorder
	}{{m.E, 9, recE}, {m.I, 9, recI}, {m.E, 10, act}} {
		if err := a.g.AddBehavior(a.key, a.r); err != nil {
			return err
		}
	}
	if err := f.Initialize(net); err != nil {
		return err
	}
	f.UIView(model, []string{"spikes", "T"}, []string{"W"})
	wall, err := f.Run(net, core.SimOptions{})
	if err != nil {
		return err
	}
	evE, err := recE.Events("spikes")
	if err != nil {
		return err
	}
	evI, err := recI.Events("spikes")
	if err != nil {
		return err
	}
	a, err := act.Series("mean(spikes)")
	if err != nil {
		return err
	}
	w := make([]float32, m.EE.Var("W").Len())
	if err := net.Backend().Read(w, m.EE.Var("W"), 0); err != nil {
		return err
	}
	zero := 0
	for _, v := range w {
		if v == 0 {
			zero++
		}
	}
	zeroFrac := float64(zero) / float64(max(1, len(w)))
	meanAll, meanLast := mean(a.Data), mean(a.Data[max(0, len(a.Data)-500):])
	steps := max(f.StepsRun(), 1)
	r := cli.Result{Model: model, Steps: f.StepsRun(), WallS: wall, Spikes: evE.Len() + evI.Len()}
	r.Counts(net)
	r.Extra = map[string]any{
		"ne": m.E.Size, "ni": m.I.Size, "spikes_e": evE.Len(), "spikes_i": evI.Len(),
		"mean_e_activity": meanAll, "mean_e_activity_last500": meanLast, "w_ee_zero_fraction": zeroFrac,
	}
	fmt.Fprintf(os.Stderr, "%s: NE=%d, %d steps in %.3f s (%.1f us/step), mean E activity %.3f (last 500 steps %.3f), %.1f%% of E->E weights are 0\n",
		model, m.E.Size, f.StepsRun(), wall, 1e6*wall/float64(steps), meanAll, meanLast, 100*zeroFrac)
	if *f.Out != "" {
		if err := plots(*f.Out, m, evE, evI, a, w, zero); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "plots written to %s\n", *f.Out)
	}
	return f.Finish(net, &r)
}

func mean(x []float32) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(max(1, len(x)))
}

// last keeps the events of the last n iterations.
func last(ev *core.Events, from int) *core.Events {
	out := &core.Events{Name: ev.Name}
	for k, it := range ev.Iterations {
		if it > from {
			out.Iterations = append(out.Iterations, it)
			out.Indices = append(out.Indices, ev.Indices[k])
		}
	}
	return out
}

func plots(dir string, m *models.SORNNet, evE, evI *core.Events, a *core.Series, w []float32, zero int) error {
	const shown = 200
	from := max(0, a.Len()-shown)
	if a.Len() > 0 {
		from = a.Iterations[from] - 1
	}
	if err := cli.Raster(filepath.Join(dir, model+"_raster.png"),
		fmt.Sprintf("%s: spikes of the last %d steps", model, min(shown, a.Len())),
		[]cli.RasterGroup{{Label: "E", Events: last(evE, from)}, {Label: "I", Events: last(evI, from), Offset: m.E.Size}}); err != nil {
		return err
	}
	if err := cli.LinePlot(filepath.Join(dir, model+"_activity.png"),
		model+": mean E activity (IP target 0.1)", "fraction of E units active",
		[]cli.Line{{Label: "mean(x)", Y: a.Data, Color: cli.Black}}); err != nil {
		return err
	}
	// The histogram shows the non-zero weights; STDP silences many
	// synapses (exactly 0), counted in the title.
	var vals plotter.Values
	for _, v := range w {
		if v != 0 {
			vals = append(vals, float64(v))
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: final E->E weights (%d of %d synapses are 0, not shown)", model, zero, len(w))
	p.X.Label.Text = "W_EE"
	p.Y.Label.Text = "synapses"
	if len(vals) > 0 {
		h, err := plotter.NewHist(vals, 50)
		if err != nil {
			return err
		}
		p.Add(h)
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, filepath.Join(dir, model+"_weights.png"))
}
