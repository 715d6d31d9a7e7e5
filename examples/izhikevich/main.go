// Command izhikevich runs PymoNNto's classic Izhikevich network (M3):
// -ne excitatory and -ni inhibitory neurons (800 and 200), dense uniform
// synapses, spike-driven input. It is the project's demo.
//
//	go run ./examples/izhikevich -out out
package main

import (
	"flag"
	"fmt"

	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.Register(1000, "sxd")
	ne := flag.Int("ne", 800, "number of excitatory neurons")
	ni := flag.Int("ni", 200, "number of inhibitory neurons")
	flag.Parse()
	if *ne <= 0 || *ni <= 0 {
		cli.Fail(fmt.Errorf("-ne=%d -ni=%d: both must be positive", *ne, *ni))
	}
	if err := cli.Classic(f, "izhikevich", models.ClassicOptions{NE: *ne, NI: *ni}, models.IzhikevichNet); err != nil {
		cli.Fail(err)
	}
}
