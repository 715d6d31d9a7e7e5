package core_test

import (
	"testing"

	"github.com/gomonnto/gomonnto/core"
)

// TestTransientRecorder: a recorder made with Transient (a live view's) is
// no part of the state: the snapshot holds the tensors and behaviours of
// the network without it, and a state it saved restores into that network.
func TestTransientRecorder(t *testing.T) {
	build := func(withView bool) (*core.Network, *core.Recorder) {
		n := newNet(t, 7)
		g, err := n.NewNeuronGroup("g", core.Size(10), core.Behaviors{
			1: core.NewRecorder([]string{"mean(v)"}, core.RecorderOptions{Tag: "mine"}),
		})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := g.Vector("uniform")
		g.SetVar("v", v)
		if err := n.Initialize(); err != nil {
			t.Fatal(err)
		}
		var view *core.Recorder
		if withView {
			view = core.NewRecorder([]string{"v", "max(v)"}, core.RecorderOptions{Tag: "view", Transient: true})
			if err := g.AddBehavior(2, view); err != nil {
				t.Fatal(err)
			}
		}
		return n, view
	}
	plain, _ := build(false)
	viewed, view := build(true)
	for _, n := range []*core.Network{plain, viewed} {
		if err := n.SimulateIterations(5, core.SimOptions{Quiet: true}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := plain.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := viewed.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tensors) != len(b.Tensors) || len(a.Recorders) != len(b.Recorders) || len(a.Host.Behaviors) != len(b.Host.Behaviors) {
		t.Fatalf("with a transient recorder: %d tensors, %d recorders, %d behaviours; without: %d, %d, %d",
			len(b.Tensors), len(b.Recorders), len(b.Host.Behaviors), len(a.Tensors), len(a.Recorders), len(a.Host.Behaviors))
	}
	if err := plain.Restore(b.Host); err != nil {
		t.Fatalf("restore the viewed network's state into the plain one: %v", err)
	}
	// It still records, and Release frees its blocks but keeps the data.
	s, err := view.Series("max(v)")
	if err != nil || s.Len() != 5 {
		t.Fatalf("transient recorder: %v, %v", s, err)
	}
	if _, err := viewed.RemoveBehaviors("view"); err != nil {
		t.Fatal(err)
	}
	view.Release()
	if s, err := view.Series("max(v)"); err != nil || s.Len() != 5 {
		t.Fatalf("after Release: %v records, %v", s, err)
	}
	c, err := viewed.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Tensors) != len(a.Tensors) {
		t.Fatalf("after removing and releasing the view: %d tensors, want %d", len(c.Tensors), len(a.Tensors))
	}
}
