package models_test

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
)

// cpuBackend opens a cpu backend that is closed when the test ends.
func cpuBackend(t testing.TB) backend.Backend {
	t.Helper()
	b, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// read reads tensor x back from its backend.
func read(t testing.TB, x backend.Tensor) []float32 {
	t.Helper()
	return backendtest.ReadAll(t, x.Backend(), x)
}

// stepAllocs runs warm steps of the initialised network n, then returns
// the heap allocations of one step (the average of 50).
func stepAllocs(t testing.TB, n *core.Network, warm int) float64 {
	t.Helper()
	if err := n.SimulateIterations(warm, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if err := n.SimulateIteration(); err != nil {
			t.Fatal(err)
		}
	})
	if err := n.Backend().Sync(); err != nil {
		t.Fatal(err)
	}
	return allocs
}
