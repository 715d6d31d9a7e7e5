package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
)

// tiny is a small network with every kind of state: neuron variables, a
// sparse matrix with per-synapse delays (a ring), a dense one, a Stater
// behaviour's position (SORN's input) and both kinds of recorder.
func tiny(t testing.TB) *core.Network {
	t.Helper()
	b, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	net, err := core.NewNetwork(core.Config{Backend: b, Seed: 2, Layout: core.SxD})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.SORN(net, models.SORNOptions{NE: 20}); err != nil {
		t.Fatal(err)
	}
	g := net.NeuronGroups()[0]
	s, err := net.NewSynapseGroup("D", g, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.SparseMatrix(0.3, "uniform(0, 1)")
	if err != nil {
		t.Fatal(err)
	}
	s.SetVar("W", w)
	if err := s.SetDelays(w, "uniform(1, 5)"); err != nil {
		t.Fatal(err)
	}
	in, _ := g.Vector("zeros")
	s.AddBehavior(1, &core.BehaviorFunc{Iter: func(core.Object) error {
		s.PropagateDelayed(in, w, g.Var("spikes"), 1)
		return nil
	}})
	g.AddBehavior(1000, core.NewEventRecorder([]string{"spikes"}, core.RecorderOptions{Block: 3}))
	g.AddBehavior(1001, core.NewRecorder([]string{"mean(spikes)"}, core.RecorderOptions{Block: 3}))
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	return net
}

// FuzzLoad feeds Load arbitrary bytes (seeded with a valid checkpoint
// and pieces of it): it must return an error or load, never panic.
//
//	go test ./store -run XXX -fuzz FuzzLoad
func FuzzLoad(f *testing.F) {
	net := tiny(f)
	steps(f, net, 7)
	good := filepath.Join(f.TempDir(), "good.npz")
	if err := Save(net, good, SaveOptions{}); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add(b[len(b)-500:])
	f.Add([]byte("PK\x05\x06"))
	target := tiny(f)
	p := filepath.Join(f.TempDir(), "x.npz")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		Load(target, p, LoadOptions{}) // an error is fine; a panic is not
	})
}
