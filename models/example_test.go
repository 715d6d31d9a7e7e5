package models_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
)

// Build a small COBA benchmark network (M5) of 400 neurons, 80 inputs
// per neuron on average, add a spike recorder to each group and run it
// for 100 ms (1000 steps of 0.1 ms). The connectivity and the initial
// state come from the seed, so the counts are the same on every run.
func ExampleCOBANet() {
	b, _ := backend.Open("cpu", backend.Options{})
	defer b.Close()
	net, _ := core.NewNetwork(core.Config{Backend: b, Seed: 1})
	m, err := models.COBANet(net, models.COBAOptions{N: 400})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := map[*core.NeuronGroup]*core.Recorder{}
	for _, g := range []*core.NeuronGroup{m.E, m.I} {
		rec[g] = core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{})
		g.AddBehavior(9, rec[g])
	}
	if err := net.Initialize(); err != nil {
		fmt.Println(err)
		return
	}
	for _, sg := range net.SynapseGroups() {
		fmt.Printf("%s %s->%s: %d synapses\n", sg.Name(), sg.Src.Name(), sg.Dst.Name(), sg.Synapses())
	}
	if err := net.SimulateIterations(1000, core.SimOptions{Quiet: true}); err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range []*core.NeuronGroup{m.E, m.I} {
		ev, _ := rec[g].Events("fired")
		fmt.Printf("%s: %d neurons, %d spikes in 100 ms\n", g.Name(), g.Size, ev.Len())
	}
	// Output:
	// GLUTAMATE E->E: 20550 synapses
	// GLUTAMATE E->I: 5198 synapses
	// GABA I->E: 5142 synapses
	// GABA I->I: 1261 synapses
	// E: 320 neurons, 484 spikes in 100 ms
	// I: 80 neurons, 118 spikes in 100 ms
}
