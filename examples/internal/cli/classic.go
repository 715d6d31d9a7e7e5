package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// Classic runs an E/I model (M2, M3) built by build: it records the spikes
// of both groups and the mean membrane potential of E, simulates -steps
// steps, writes a raster and a trace to -out and prints the result.
func Classic(f *Flags, model string, o models.ClassicOptions, build func(*core.Network, models.ClassicOptions) (*models.ClassicNet, error)) error {
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	m, err := build(net, o)
	if err != nil {
		return err
	}
	recE := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Tag: "spikes_E"})
	recI := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Tag: "spikes_I"})
	trace := core.NewRecorder([]string{"mean(v)"}, core.RecorderOptions{Tag: "trace_E"})
	for _, a := range []struct {
		g   *core.NeuronGroup
		key float64
		r   *core.Recorder
	}{{m.E, 9, recE}, {m.I, 9, recI}, {m.E, 10, trace}} {
		if err := a.g.AddBehavior(a.key, a.r); err != nil {
			return err
		}
	}
	if err := f.Initialize(net); err != nil {
		return err
	}
	f.UIView(model, []string{"v"}, []string{"W"})
	wall, err := f.Run(net, core.SimOptions{})
	if err != nil {
		return err
	}
	evE, err := recE.Events("fired")
	if err != nil {
		return err
	}
	evI, err := recI.Events("fired")
	if err != nil {
		return err
	}
	r := Result{Model: model, Steps: f.StepsRun(), WallS: wall, Spikes: evE.Len() + evI.Len()}
	r.Counts(net)
	steps := max(net.Iteration, 1) // the recorded steps (from the start, when resumed)
	r.Extra = map[string]any{
		"spikes_e": evE.Len(), "spikes_i": evI.Len(),
		"rate_e_per_step": float64(evE.Len()) / float64(m.E.Size*steps),
		"rate_i_per_step": float64(evI.Len()) / float64(m.I.Size*steps),
	}
	fmt.Fprintf(os.Stderr, "%s: %d steps in %.3f s (%.1f us/step), %d spikes (E %d, I %d)\n",
		model, f.StepsRun(), wall, 1e6*wall/float64(max(f.StepsRun(), 1)), r.Spikes, evE.Len(), evI.Len())
	if *f.Out != "" {
		if err := Raster(filepath.Join(*f.Out, model+"_raster.png"), model+": spikes",
			[]RasterGroup{{Label: "E", Events: evE}, {Label: "I", Events: evI, Offset: m.E.Size}}); err != nil {
			return err
		}
		tr, err := trace.Series("mean(v)")
		if err != nil {
			return err
		}
		if err := LinePlot(filepath.Join(*f.Out, model+"_mean_v.png"), model+": mean membrane potential of E", "mean(v)",
			[]Line{{Label: "mean(v) E", Y: tr.Data}}); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "plots written to %s\n", *f.Out)
	}
	return f.Finish(net, &r)
}
