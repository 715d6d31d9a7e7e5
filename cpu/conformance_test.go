package cpu

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

// TestConformance runs the shared backend suite with the default pool, one
// thread, a pool of 3 threads (more chunks than this machine has cores),
// with gonum's blas32 in place of the assembly kernels, and with each
// delayed-propagation strategy forced.
func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name     string
		threads  int
		gonum    bool
		strategy string
	}{
		{"threads=max", 0, false, ""},
		{"threads=1", 1, false, ""},
		{"threads=3", 3, false, ""},
		{"threads=max/gonum", 0, true, ""},
		{"events", 0, false, StrategyEvents},
		{"layout-events", 0, false, StrategyLayoutEvents},
		{"references", 0, false, StrategyReferences},
	} {
		if c.gonum && !useFMA {
			continue // the other cases already use gonum
		}
		t.Run(c.name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) backend.Backend {
				b, err := New(backend.Options{Threads: c.threads, Propagation: c.strategy})
				if err != nil {
					t.Fatal(err)
				}
				if c.gonum {
					b.fma = false
				}
				return b
			})
		})
	}
}
