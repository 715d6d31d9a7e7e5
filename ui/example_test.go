package ui_test

import (
	"context"
	"os"
	"os/signal"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
	"github.com/gomonnto/gomonnto/ui"
)

// The seed README's third example: a 10 x 10 grid with recurrent input,
// shown live with PymoNNto's default modules for activity and W.
func Example() {
	be, _ := backend.Open("auto", backend.Options{})
	defer be.Close()
	net, _ := core.NewNetwork(core.Config{Backend: be, Seed: 1})
	g, _ := net.NewNeuronGroup("my_neurons", core.SquaredDim(100), core.Behaviors{
		1: &models.Decay{},
		2: &models.Input{},
	})
	net.NewSynapseGroup("GLUTAMATE", g, g, nil)
	net.Initialize()
	u, err := ui.New(net, ui.DefaultModules([]string{"activity"}, []string{"W"}),
		ui.Options{Title: "My_Network_UI", Log: os.Stderr})
	if err != nil {
		panic(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := u.Serve(ctx); err != nil { // prints the URL; runs until Ctrl-C
		panic(err)
	}
}
