package bench

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models/pd14"
)

var pd14Scale = flag.Float64("pd14.scale", 0.1, "BenchmarkPD14: the scale of the circuit (1 = full)")

// BenchmarkPD14 is the Potjans & Diesmann (2014) cortical microcircuit
// (M9) at scale 0.1 (7,718 neurons; synapse numbers scaled with N so the
// in-degrees stay full: about 2e7 stored synapses), DC background, SxD
// layout, without recorders (and, in the /rec variants, with every spike recorded), after the model's 0.5 s (5000-step) warm-up.
// One step is 0.1 ms, so the real-time factor (rtf) is us/step * 1e-6 /
// 1e-4. Building the network (host-side connectivity draws, in parallel)
// takes several seconds at scale 0.1 (83 s at scale 1 on 2 cores) and is
// not timed.
//
// -pd14.scale sets another scale (1 is the full circuit: ~0.3e9 synapses,
// ~6 GiB and about 1.5 minutes of build on 2 cores; the benchmark builds
// it twice, for b.N = 1 and for the timed run):
//
//	go test ./bench -run XXX -bench PD14/cpu -benchtime 500x -pd14.scale 1
func BenchmarkPD14(b *testing.B) {
	for _, name := range backends(b) {
		withRecording(b, fmt.Sprintf("%s/scale=%g", name, *pd14Scale), func(b *testing.B, rec bool) {
			net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1, Layout: core.SxD})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pd14.Build(net, pd14.Options{Scale: *pd14Scale}); err != nil {
				b.Fatal(err)
			}
			recordSpikes(b, net, rec, "fired")
			if err := net.Initialize(); err != nil {
				b.Fatal(err)
			}
			if err := net.SimulateIterations(5000, core.SimOptions{Quiet: true}); err != nil {
				b.Fatal(err)
			}
			if err := net.Backend().Sync(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := net.SimulateIterations(b.N, core.SimOptions{Quiet: true}); err != nil {
				b.Fatal(err)
			}
			if err := net.Backend().Sync(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			usPerStep := float64(b.Elapsed().Nanoseconds()) / 1e3 / float64(b.N)
			b.ReportMetric(usPerStep, "us/step")
			b.ReportMetric(usPerStep*1e-6/1e-4, "rtf")
		})
	}
}

// BenchmarkPD14RecordAlternated measures what recording every spike costs
// PD14, on one network, in alternated blocks of 1000 steps with the spike
// recorder on and off (RecordingOff: the recorder does nothing), after the
// warm-up: the machine's load drifts less between adjacent blocks than
// between separate runs. It reports the median us/step of each and their
// ratio (rec/norec). b.N is ignored: one op is the whole comparison.
//
//	go test ./bench -run XXX -bench PD14RecordAlternated/cpu -benchtime 1x -pd14.scale 1
func BenchmarkPD14RecordAlternated(b *testing.B) {
	for _, name := range backends(b) {
		b.Run(fmt.Sprintf("%s/scale=%g", name, *pd14Scale), func(b *testing.B) {
			net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1, Layout: core.SxD})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pd14.Build(net, pd14.Options{Scale: *pd14Scale}); err != nil {
				b.Fatal(err)
			}
			recordSpikes(b, net, true, "fired")
			if err := net.Initialize(); err != nil {
				b.Fatal(err)
			}
			if err := net.SimulateIterations(5000, core.SimOptions{Quiet: true}); err != nil {
				b.Fatal(err)
			}
			const blocks, block = 8, 1000
			var on, off []float64
			b.ResetTimer()
			for k := range 2 * blocks {
				rec := k%2 == 1
				if k%4 >= 2 { // on, off, off, on, ...: neither always goes first
					rec = !rec
				}
				if rec {
					net.RecordingOn()
				} else {
					net.RecordingOff()
				}
				if err := net.Backend().Sync(); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if err := net.SimulateIterations(block, core.SimOptions{Quiet: true}); err != nil {
					b.Fatal(err)
				}
				if err := net.Backend().Sync(); err != nil {
					b.Fatal(err)
				}
				us := float64(time.Since(t0).Microseconds()) / block
				if rec {
					on = append(on, us)
				} else {
					off = append(off, us)
				}
			}
			b.StopTimer()
			mOn, mOff := median(on), median(off)
			b.ReportMetric(mOn, "rec-us/step")
			b.ReportMetric(mOff, "norec-us/step")
			b.ReportMetric(mOn/mOff, "rec/norec")
			b.Logf("us/step with recording %v, without %v", on, off)
		})
	}
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
