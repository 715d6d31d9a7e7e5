package bench

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// stdpEpoch is the paper's workload: 300 steps from the initial state.
const stdpEpoch = 300

// stdpSizes are the sizes benchmarked per backend: the paper's N=10000
// (10^8 dense synapses, 400 MB) everywhere, and N=2000 for the gl backend,
// which is slow on a software rasteriser (llvmpipe).
func stdpSizes(name string) []int {
	if name == "gl" {
		return []int{2000, 10000}
	}
	return []int{10000}
}

// benchSTDP times M6 or M7 in the SxD layout (what the PymoNNto scripts
// use). One op is one step; every step lies in a 300-step epoch that starts
// from the initial state (restored untimed on the device every 300 steps),
// because both models' plasticity drifts: M6's weights only grow, and after
// a few thousand steps nearly every neuron spikes every step. Run with
// -benchtime=300x for exactly the paper's workload; s/300steps is the
// figure to compare with the paper's and PymoNNto's wall times.
func benchSTDP(b *testing.B, build func(*core.Network, models.STDPOptions) (*models.STDPNet, error)) {
	for _, name := range backends(b) {
		for _, n := range stdpSizes(name) {
			withRecording(b, fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B, rec bool) {
				be := open(b, name)
				net, err := core.NewNetwork(core.Config{Backend: be, Seed: 1, Layout: core.SxD})
				if err != nil {
					b.Fatal(err)
				}
				m, err := build(net, models.STDPOptions{N: n})
				if err != nil {
					b.Fatal(err)
				}
				recordSpikes(b, net, rec, "spikes")
				// As examples/lifstdp and izhstdp: the mean of W's first
				// rows, about 30 times per run of stdpEpoch steps.
				recordSeries(b, m.S, rec, fmt.Sprintf("mean(W[0:%d])", min(1<<20, n*n)), stdpEpoch/30)
				if err := net.Initialize(); err != nil {
					b.Fatal(err)
				}
				restore := snapshot(b, be, m.G, m.S)
				// Warm-up: one epoch (worker pools, shader compilation), untimed.
				if err := net.SimulateIterations(stdpEpoch, core.SimOptions{Quiet: true}); err != nil {
					b.Fatal(err)
				}
				restore()
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for done := 0; done < b.N; {
					if done > 0 && done%stdpEpoch == 0 {
						b.StopTimer()
						restore()
						if err := be.Sync(); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					n := min(stdpEpoch-done%stdpEpoch, b.N-done)
					if err := net.SimulateIterations(n, core.SimOptions{Quiet: true}); err != nil {
						b.Fatal(err)
					}
					done += n
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				us := float64(b.Elapsed().Microseconds()) / float64(b.N)
				b.ReportMetric(1e6/us, "steps/s")
				b.ReportMetric(us, "us/step")
				b.ReportMetric(us*stdpEpoch/1e6, "s/300steps")
			})
		}
	}
}

// snapshot copies every variable of the objects on the device and returns
// a function that copies them back (no host transfer).
func snapshot(b *testing.B, be backend.Backend, objs ...core.Object) func() {
	var dst, src []backend.Tensor
	for _, o := range objs {
		for _, name := range o.VarNames() {
			t := o.Var(name)
			c, err := be.NewTensor(t.Rows(), t.Cols())
			if err != nil {
				b.Fatal(err)
			}
			backend.Copy(c, t)
			dst, src = append(dst, t), append(src, c)
		}
	}
	return func() {
		for i := range dst {
			backend.Copy(dst[i], src[i])
		}
	}
}

// BenchmarkM6 is the PymoNNtorch paper's "simple LIF" with pair STDP
// (dense W = U[0,1)/N, about 1.2% of the neurons spike per step).
func BenchmarkM6(b *testing.B) { benchSTDP(b, models.LIFSTDP) }

// BenchmarkM7 is the PymoNNtorch paper's Izhikevich network with trace STDP
// (dense W = U[0,1), about 1.1% of the neurons spike per step).
func BenchmarkM7(b *testing.B) { benchSTDP(b, models.IzhSTDP) }

// BenchmarkM7Eq is M7 with its plasticity written as synaptic equations
// (models.IzhSTDPEq: event-driven traces, soft-bound on_pre/on_post), to
// set beside BenchmarkM7's hand-written TraceSTDP.
func BenchmarkM7Eq(b *testing.B) { benchSTDP(b, models.IzhSTDPEq) }
