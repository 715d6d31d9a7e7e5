package core_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/core"
)

// ramp sets v[i] = 10*iteration + i.
type ramp struct {
	core.Base
	host []float32
}

func (r *ramp) Initialize(o core.Object) error {
	v, err := o.Vector("zeros")
	r.host = make([]float32, v.Len())
	if err != nil {
		return err
	}
	return o.SetVar("v", v)
}

func (r *ramp) Iteration(o core.Object) error {
	for i := range r.host {
		r.host[i] = float32(10*o.Net().Iteration + i)
	}
	return o.Net().Backend().Write(o.Var("v"), 0, r.host)
}

// TestRecorderSlices records slices and reductions of slices on both
// backends (the cpu reduces a range in place, gl copies it first) and
// checks every record against the hand-computed values; bad slices are
// errors that say why.
func TestRecorderSlices(t *testing.T) {
	for _, bk := range delayBackends {
		t.Run(bk.name, func(t *testing.T) {
			n, err := core.NewNetwork(core.Config{Backend: bk.open(t), Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			exprs := []string{"v[1:4]", "mean(v[2:5])", "max(v[4:])", "sum(v)", "np.min(v[:2])"}
			rec := core.NewRecorder(exprs, core.RecorderOptions{Block: 3})
			if _, err := n.NewNeuronGroup("g", core.Size(6), core.Behaviors{1: &ramp{}, 9: rec}); err != nil {
				t.Fatal(err)
			}
			if err := n.Initialize(); err != nil {
				t.Fatal(err)
			}
			if err := n.SimulateIterations(7, core.SimOptions{Quiet: true}); err != nil {
				t.Fatal(err)
			}
			want := func(e string, it int) []float32 {
				b := float32(10 * it)
				switch e {
				case "v[1:4]":
					return []float32{b + 1, b + 2, b + 3}
				case "mean(v[2:5])":
					return []float32{b + 3}
				case "max(v[4:])":
					return []float32{b + 5}
				case "sum(v)":
					return []float32{6*b + 15}
				}
				return []float32{b}
			}
			for _, e := range exprs {
				s, err := rec.Series(e)
				if err != nil {
					t.Fatal(err)
				}
				if s.Len() != 7 {
					t.Fatalf("%s: %d records, want 7", e, s.Len())
				}
				for k := range 7 {
					if got, w := fmt.Sprint(s.Row(k)), fmt.Sprint(want(e, k+1)); got != w {
						t.Errorf("%s at iteration %d: %s, want %s", e, k+1, got, w)
					}
				}
			}
		})
	}
	for _, c := range []struct{ expr, says string }{
		{"v[3:3]", "empty"}, {"v[2:9]", "outside"}, {"v[a:2]", "not a non-negative integer"},
		{"v[1]", "[start:end]"}, {"mean(v[0:2)", "missing ']'"}, {"v[0:2] + 1", "missing ']'"}, {"2*v", "not a variable"},
	} {
		n := newNet(t, 1)
		_, err := n.NewNeuronGroup("g", core.Size(6), core.Behaviors{1: &ramp{}, 9: core.NewRecorder([]string{c.expr}, core.RecorderOptions{})})
		if err == nil {
			err = n.Initialize()
		}
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("recorder %q: %v, want an error saying %q", c.expr, err, c.says)
		}
	}
}

// TestEventRecorderMaxLength keeps the events of the newest MaxLength
// recorded steps.
func TestEventRecorderMaxLength(t *testing.T) {
	n := newNet(t, 1)
	rec := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Block: 2, MaxLength: 3})
	n.NewNeuronGroup("g", core.Size(4), core.Behaviors{1: &spiker{}, 9: rec})
	n.Initialize()
	n.SimulateIterations(11, core.SimOptions{Quiet: true})
	ev, err := rec.Events("fired")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ev.Iterations) != "[9 10 11]" || fmt.Sprint(ev.Indices) != "[1 2 3]" {
		t.Errorf("events %v at %v, want neurons [1 2 3] at iterations [9 10 11]", ev.Indices, ev.Iterations)
	}
}
