package core_test

import (
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/core"
)

func TestSpikeStatistics(t *testing.T) {
	// Neuron 0: intervals 2, 4 (mean 3, population sd 1, CV 1/3).
	// Neuron 1: intervals 5, 5, 5 (CV 0). Neuron 2: two spikes only.
	ev := &core.Events{
		Iterations: []int{1, 3, 7, 2, 7, 12, 17, 4, 9},
		Indices:    []int{0, 0, 0, 1, 1, 1, 1, 2, 2},
	}
	if r := ev.Rate(4, 20); r != 9.0/80 {
		t.Errorf("Rate = %v, want %v", r, 9.0/80)
	}
	cv, n := ev.ISICV(4)
	if n != 2 || math.Abs(cv-(1.0/3)/2) > 1e-15 {
		t.Errorf("ISICV = %v over %d neurons, want %v over 2", cv, n, (1.0/3)/2)
	}
	if cv, n := (&core.Events{}).ISICV(3); n != 0 || !math.IsNaN(cv) {
		t.Errorf("empty ISICV = %v, %d", cv, n)
	}
	if r := ev.Rate(0, 10); !math.IsNaN(r) {
		t.Errorf("Rate of no neurons = %v", r)
	}
}
