package store_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomonnto/gomonnto/store"
)

// crossTol bounds how far a run continued on the other backend may drift
// from the one that stayed: |other - same| <= crossTol*(1 + |same|) for
// every element of every tensor, spikes identical (the tolerance of the
// models' cross-backend trajectory tests).
const crossTol = 1e-4

// TestResumeAcrossBackends saves each model after N/2 steps on one
// backend, loads the checkpoint on the other and runs the other half
// there: the spikes equal those of the run that stayed on the first
// backend, and every state tensor agrees within crossTol.
func TestResumeAcrossBackends(t *testing.T) {
	cpuB, glB := resumeBackends[0], resumeBackends[1]
	for _, dir := range [][2]int{{0, 1}, {1, 0}} {
		a, b := cpuB, glB
		if dir[0] == 1 {
			a, b = glB, cpuB
		}
		for _, m := range resumeModels {
			t.Run(fmt.Sprintf("%s to %s/%s", a.name, b.name, m.name), func(t *testing.T) {
				if testing.Short() && m.name[:2] == "M9" {
					t.Skip("PD14 in -short mode")
				}
				ref := m.make(t, a.open(t))
				ref.steps(t, m.steps)
				want := ref.outcome(t)
				half := m.make(t, a.open(t))
				half.steps(t, m.steps/2)
				path := filepath.Join(t.TempDir(), "ckpt.npz")
				if err := store.Save(half.net, path, store.SaveOptions{}); err != nil {
					t.Fatal(err)
				}
				other := m.make(t, b.open(t))
				if err := store.Load(other.net, path, store.LoadOptions{}); err != nil {
					t.Fatalf("Load of a %s checkpoint on %s: %v", a.name, b.name, err)
				}
				other.steps(t, m.steps-m.steps/2)
				got := other.outcome(t)
				for g := range want.events {
					x, y := got.events[g], want.events[g]
					if !slices.Equal(x.Iterations, y.Iterations) || !slices.Equal(x.Indices, y.Indices) {
						t.Errorf("group %d: %d spikes on %s after the switch, %d staying on %s (first difference at event %d)", g, x.Len(), b.name, y.Len(), a.name, firstEventDiff(x, y))
					}
				}
				for k := range want.tensors {
					for i, v := range want.tensors[k] {
						if d := math.Abs(float64(got.tensors[k][i] - v)); !(d <= crossTol*(1+math.Abs(float64(v)))) {
							t.Errorf("tensor %d element %d: %v on %s, %v staying on %s", k, i, got.tensors[k][i], b.name, v, a.name)
							break
						}
					}
				}
			})
		}
	}
}
