//go:build unix

package bench

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// cpuTime is the process's user + system CPU time (all threads).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkM5 is the COBA benchmark (Brette et al. 2007, benchmark 1:
// 3200 E + 800 I conductance-based LIF neurons at n=4000, sparse synapses
// with connection probability 0.02, refractory 5 ms), without recorders (and, in the /rec variants, with every spike recorded),
// SxD layout, after a 1000-step (100 ms) warm-up. One step is 0.1 ms of
// biological time, so the real-time factor is us/step * 1e-6 / 1e-4
// (reported as rtf). It also reports the process's CPU time (user +
// system, all threads) per step and as a real-time factor (cpu-us/step,
// cpu-rtf): Brian2's standalone run time (device._last_run_time) is
// std::clock(), CPU time, so on a shared machine cpu-rtf is the figure to
// set against it. Compare with Brian2 C++ standalone:
// bench/peers/brian2_coba.py and bench/peers/run_m5.sh.
func BenchmarkM5(b *testing.B) {
	for _, name := range backends(b) {
		withRecording(b, fmt.Sprintf("%s/n=4000", name), func(b *testing.B, rec bool) { benchM5(b, name, rec, models.COBANet) })
		// The same network with its neurons written as equations.
		b.Run(fmt.Sprintf("%s/n=4000/eq", name), func(b *testing.B) { benchM5(b, name, false, models.COBANetEq) })
	}
}

func benchM5(b *testing.B, name string, rec bool, build func(*core.Network, models.COBAOptions) (*models.ClassicNet, error)) {
	net, err := core.NewNetwork(core.Config{Backend: open(b, name), Seed: 1, Layout: core.SxD})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := build(net, models.COBAOptions{N: 4000}); err != nil {
		b.Fatal(err)
	}
	recordSpikes(b, net, rec, "fired")
	if err := net.Initialize(); err != nil {
		b.Fatal(err)
	}
	if err := net.SimulateIterations(1000, core.SimOptions{Quiet: true}); err != nil {
		b.Fatal(err)
	}
	if err := net.Backend().Sync(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	c0 := cpuTime(b)
	b.ResetTimer()
	if err := net.SimulateIterations(b.N, core.SimOptions{Quiet: true}); err != nil {
		b.Fatal(err)
	}
	if err := net.Backend().Sync(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cpuTime(b) - c0
	usPerStep := float64(b.Elapsed().Nanoseconds()) / 1e3 / float64(b.N)
	cpuUs := float64(cpu.Nanoseconds()) / 1e3 / float64(b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(usPerStep, "us/step")
	b.ReportMetric(usPerStep*1e-6/1e-4, "rtf")
	b.ReportMetric(cpuUs, "cpu-us/step")
	b.ReportMetric(cpuUs*1e-6/1e-4, "cpu-rtf")
}
