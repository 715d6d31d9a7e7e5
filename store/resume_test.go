package store_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/opengl/gltest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
	"github.com/gomonnto/gomonnto/models/pd14"
	"github.com/gomonnto/gomonnto/store"
)

// model builds one of the reference models on a backend, with its spikes
// recorded by an event recorder per group, initialised.
type model struct {
	name   string
	layout core.Layout
	steps  int // N: the length of the reference run
	spikes string
	build  func(net *core.Network) error
}

var resumeModels = []model{
	{"M2 LIF", core.SxD, 40, "fired", func(net *core.Network) error {
		_, err := models.LIFNet(net, models.ClassicOptions{NE: 160, NI: 40})
		return err
	}},
	{"M3 Izhikevich", core.DxS, 40, "fired", func(net *core.Network) error {
		_, err := models.IzhikevichNet(net, models.ClassicOptions{NE: 160, NI: 40})
		return err
	}},
	{"M5 COBA", core.SxD, 60, "fired", func(net *core.Network) error {
		_, err := models.COBANet(net, models.COBAOptions{N: 500})
		return err
	}},
	{"M6 LIF STDP", core.SxD, 40, "spikes", func(net *core.Network) error {
		_, err := models.LIFSTDP(net, models.STDPOptions{N: 300})
		return err
	}},
	{"M8 SORN", core.SxD, 40, "spikes", func(net *core.Network) error {
		_, err := models.SORN(net, models.SORNOptions{NE: 100})
		return err
	}},
	{"M9 PD14 merged", core.SxD, 40, "fired", func(net *core.Network) error {
		_, err := pd14.Build(net, pd14.Options{Scale: 0.01})
		return err
	}},
	{"M9 PD14 separate", core.SxD, 30, "fired", func(net *core.Network) error {
		_, err := pd14.Build(net, pd14.Options{Scale: 0.01, Separate: true})
		return err
	}},
}

// run is a built network and its spike recorders.
type run struct {
	net  *core.Network
	recs []*core.Recorder
}

func (m model) make(t *testing.T, be backend.Backend) *run {
	t.Helper()
	net, err := core.NewNetwork(core.Config{Backend: be, Seed: 7, Layout: m.layout})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.build(net); err != nil {
		t.Fatal(err)
	}
	r := &run{net: net}
	for _, g := range net.NeuronGroups() {
		rec := core.NewEventRecorder([]string{m.spikes}, core.RecorderOptions{Tag: "spikes", Block: 7})
		if err := g.AddBehavior(1000, rec); err != nil {
			t.Fatal(err)
		}
		r.recs = append(r.recs, rec)
	}
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *run) steps(t *testing.T, n int) {
	t.Helper()
	if err := r.net.SimulateIterations(n, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
}

// outcome is what a run ends with: its state hash, every tensor's bits
// and the recorded spikes.
type outcome struct {
	hash    string
	tensors [][]float32
	events  []*core.Events
}

func (r *run) outcome(t *testing.T) outcome {
	t.Helper()
	var o outcome
	var err error
	if o.hash, err = store.StateHash(r.net); err != nil {
		t.Fatal(err)
	}
	sn, err := r.net.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range sn.Tensors {
		if x.Recorder {
			continue
		}
		d := make([]float32, x.T.Len())
		if err := r.net.Backend().Read(d, x.T, 0); err != nil {
			t.Fatal(err)
		}
		o.tensors = append(o.tensors, d)
	}
	for _, rec := range r.recs {
		ev, err := rec.Events(rec.Variables()[0])
		if err != nil {
			t.Fatal(err)
		}
		o.events = append(o.events, ev)
	}
	return o
}

// same compares two outcomes bit for bit and says where they differ.
func same(t *testing.T, what string, got, want outcome) {
	t.Helper()
	for g := range want.events {
		a, b := got.events[g], want.events[g]
		if !slices.Equal(a.Iterations, b.Iterations) || !slices.Equal(a.Indices, b.Indices) {
			t.Errorf("%s: group %d: %d spikes, want %d (first difference at event %d)", what, g, a.Len(), b.Len(), firstEventDiff(a, b))
		}
	}
	for k := range want.tensors {
		for i, v := range want.tensors[k] {
			if math.Float32bits(got.tensors[k][i]) != math.Float32bits(v) {
				t.Errorf("%s: tensor %d element %d is %v, want %v (bit for bit)", what, k, i, got.tensors[k][i], v)
				break
			}
		}
	}
	if got.hash != want.hash {
		t.Errorf("%s: state hash %s, want %s", what, got.hash[:12], want.hash[:12])
	}
}

func firstEventDiff(a, b *core.Events) int {
	for k := range min(a.Len(), b.Len()) {
		if a.Iterations[k] != b.Iterations[k] || a.Indices[k] != b.Indices[k] {
			return k
		}
	}
	return min(a.Len(), b.Len())
}

// backends are the backends the resume tests run on.
var resumeBackends = []struct {
	name string
	open func(t *testing.T) backend.Backend
}{
	{"cpu", func(t *testing.T) backend.Backend {
		b, err := cpu.New(backend.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}},
	// Deterministic: gl's fast scatters add with float atomics in the
	// order the device schedules them, so two gl runs agree bit for bit
	// only with its ordered kernels.
	{"gl", func(t *testing.T) backend.Backend { return gltest.OpenWith(t, backend.Options{Deterministic: true}) }},
}

// TestResume runs each model N steps in one go and, for k in {0, 1, 2, 3,
// 4, N/2, N-1}, k steps, a checkpoint, a new network (a fresh backend)
// that loads it and runs the other N-k steps: spikes, every tensor and
// the state hash must equal the one run's bit for bit. At N/2 it saves
// and resumes twice (N/4, then N/2).
func TestResume(t *testing.T) {
	for _, bk := range resumeBackends {
		for _, m := range resumeModels {
			t.Run(bk.name+"/"+m.name, func(t *testing.T) {
				if testing.Short() && m.name[:2] == "M9" {
					t.Skip("PD14 in -short mode")
				}
				ref := m.make(t, bk.open(t))
				ref.steps(t, m.steps)
				want := ref.outcome(t)
				n := m.steps
				for _, k := range []int{0, 1, 2, 3, 4, n / 2, n - 1} {
					dir := t.TempDir()
					a := m.make(t, bk.open(t))
					at := []int{k}
					if k == n/2 {
						at = []int{n / 4, k}
					}
					done := 0
					for _, s := range at {
						a.steps(t, s-done)
						path := filepath.Join(dir, fmt.Sprintf("ckpt-%d.npz", s))
						if err := store.Save(a.net, path, store.SaveOptions{}); err != nil {
							t.Fatalf("k=%d: Save: %v", k, err)
						}
						a = m.make(t, bk.open(t))
						if err := store.Load(a.net, path, store.LoadOptions{}); err != nil {
							t.Fatalf("k=%d: Load: %v", k, err)
						}
						if a.net.Iteration != s {
							t.Fatalf("k=%d: loaded iteration %d, want %d", k, a.net.Iteration, s)
						}
						done = s
					}
					a.steps(t, n-done)
					same(t, fmt.Sprintf("k=%d", k), a.outcome(t), want)
				}
			})
		}
	}
}
