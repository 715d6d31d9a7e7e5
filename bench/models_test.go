package bench

import (
	"flag"
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	_ "github.com/gomonnto/gomonnto/backend/opengl"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
)

// backends lists the backends to benchmark: every registered one that opens.
func backends(b *testing.B) []string { return backend.Names() }

// propagation forces a delayed-propagation strategy (backend.Options.Propagation),
// e.g. go test ./bench -run XXX -bench PD14/cpu -propagation references.
var propagation = flag.String("propagation", "", "force a named delayed-propagation strategy of the backends (cpu: events, layout-events, references)")

func open(b *testing.B, name string) backend.Backend {
	be, err := backend.Open(name, backend.Options{Propagation: *propagation})
	if err != nil && *propagation != "" {
		b.Skipf("backend %s with -propagation %q: %v", name, *propagation, err)
	}
	if err != nil {
		b.Skipf("backend %s unavailable: %v", name, err)
	}
	b.Cleanup(func() { be.Close() })
	return be
}

// withRecording runs f as the sub-benchmark sub and, as sub+"/rec", with
// what the model's example records (recordSpikes, recordSeries), as
// users run it.
func withRecording(b *testing.B, sub string, f func(b *testing.B, rec bool)) {
	b.Run(sub, func(b *testing.B) { f(b, false) })
	b.Run(sub+"/rec", func(b *testing.B) { f(b, true) })
}

// recordSeries adds, if rec, a recorder of expr every gap steps to obj,
// as an example records it besides the spikes.
func recordSeries(b *testing.B, obj core.Object, rec bool, expr string, gap int) {
	if !rec {
		return
	}
	if err := obj.AddBehavior(1001, core.NewRecorder([]string{expr}, core.RecorderOptions{Tag: "bench_series", Gap: gap})); err != nil {
		b.Fatal(err)
	}
}

// recordSpikes adds an event recorder of the spike mask spikes ("fired",
// "spikes") to every neuron group of net, as the examples do, if rec.
// Call it before net.Initialize.
func recordSpikes(b *testing.B, net *core.Network, rec bool, spikes string) {
	if !rec {
		return
	}
	for _, g := range net.NeuronGroups() {
		if err := g.AddBehavior(1000, core.NewEventRecorder([]string{spikes}, core.RecorderOptions{Tag: "bench_spikes"})); err != nil {
			b.Fatal(err)
		}
	}
}

// runSteps times b.N steps of an initialised network after a warm-up and
// reports steps/s; allocs/op is per step (SimulateIterations allocates a
// little per call, none per step).
func runSteps(b *testing.B, net *core.Network, warmup int) {
	if err := net.Initialize(); err != nil {
		b.Fatal(err)
	}
	if err := net.SimulateIterations(warmup, core.SimOptions{Quiet: true}); err != nil {
		b.Fatal(err)
	}
	if err := net.Backend().Sync(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	// As users run a network: the steps in one call (on gl several steps
	// per GL batch; see backend.StepFlusher).
	if err := net.SimulateIterations(b.N, core.SimOptions{Quiet: true}); err != nil {
		b.Fatal(err)
	}
	if err := net.Backend().Sync(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "us/step")
}

// BenchmarkM1 is the seed README's example 3: 100 neurons, recurrent
// dense input (density 0.1) and noise.
func BenchmarkM1(b *testing.B) {
	for _, name := range backends(b) {
		withRecording(b, fmt.Sprintf("%s/n=100", name), func(b *testing.B, rec bool) {
			net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := models.Basic(net, models.BasicOptions{Example: 3}); err != nil {
				b.Fatal(err)
			}
			if !rec { // measure the model, not the example's recorder
				if _, err := net.RemoveBehaviors("Recorder"); err != nil {
					b.Fatal(err)
				}
			}
			runSteps(b, net, 10)
		})
	}
}

// BenchmarkM3 is PymoNNto's classic Izhikevich network (800 E + 200 I at
// n=1000, dense uniform synapses, spike-driven input), in both synapse layouts (SxD reads a spike's weights contiguously).
func BenchmarkM3(b *testing.B) {
	for _, name := range backends(b) {
		for _, c := range []struct {
			n      int
			layout core.Layout
		}{{1000, core.SxD}, {1000, core.DxS}, {4000, core.SxD}} {
			n := c.n
			withRecording(b, fmt.Sprintf("%s/n=%d/%s", name, n, c.layout), func(b *testing.B, rec bool) {
				net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1, Layout: c.layout})
				if err != nil {
					b.Fatal(err)
				}
				m, err := models.IzhikevichNet(net, models.ClassicOptions{NE: n * 4 / 5, NI: n / 5})
				if err != nil {
					b.Fatal(err)
				}
				recordSpikes(b, net, rec, "fired")
				recordSeries(b, m.E, rec, "mean(v)", 1) // as examples/izhikevich
				runSteps(b, net, 100)
			})
		}
	}
}

// BenchmarkM2 is PymoNNto's classic LIF network (800 E + 200 I), its
// neurons hand-written (LIFNet) and, as /eq, written as equations
// (LIFNetEq: the same spikes).
func BenchmarkM2(b *testing.B) {
	for _, name := range backends(b) {
		withRecording(b, fmt.Sprintf("%s/n=1000/SxD", name), func(b *testing.B, rec bool) { benchM2(b, name, rec, models.LIFNet) })
		b.Run(fmt.Sprintf("%s/n=1000/SxD/eq", name), func(b *testing.B) { benchM2(b, name, false, models.LIFNetEq) })
	}
}

func benchM2(b *testing.B, name string, rec bool, build func(*core.Network, models.ClassicOptions) (*models.ClassicNet, error)) {
	net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1, Layout: core.SxD})
	if err != nil {
		b.Fatal(err)
	}
	m, err := build(net, models.ClassicOptions{})
	if err != nil {
		b.Fatal(err)
	}
	recordSpikes(b, net, rec, "fired")
	recordSeries(b, m.E, rec, "mean(v)", 1) // as examples/lif
	runSteps(b, net, 100)
}
