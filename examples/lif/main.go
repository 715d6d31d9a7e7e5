// Command lif runs PymoNNto's classic leaky integrate-and-fire network (M2):
// 800 excitatory and 200 inhibitory neurons, dense uniform synapses,
// spike-driven input.
//
//	go run ./examples/lif -backend=cpu -steps=1000 -out out
package main

import (
	"flag"

	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.Register(1000, "sxd")
	flag.Parse()
	if err := cli.Classic(f, "lif", models.ClassicOptions{}, models.LIFNet); err != nil {
		cli.Fail(err)
	}
}
