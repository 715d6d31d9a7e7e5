package core_test

import (
	"math"
	"slices"
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

func TestEventsSelect(t *testing.T) {
	ev := &core.Events{Name: "fired",
		Iterations: []int{1, 3, 7, 2, 7, 12, 17, 4, 9},
		Indices:    []int{0, 4, 5, 1, 6, 3, 4, 2, 7},
	}
	s := ev.Select(3, 3, 3) // neurons 3, 4, 5 from iteration 3
	wantIt, wantIdx := []int{3, 7, 12, 17}, []int{1, 2, 0, 1}
	if s.Name != "fired" || !slices.Equal(s.Iterations, wantIt) || !slices.Equal(s.Indices, wantIdx) {
		t.Errorf("Select(3, 3, 3) = %v %v %q, want %v %v", s.Iterations, s.Indices, s.Name, wantIt, wantIdx)
	}
	if s := ev.Select(8, 4, 0); s.Len() != 0 {
		t.Errorf("Select past the last neuron has %d events", s.Len())
	}
}
