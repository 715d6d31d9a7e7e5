// Command hopfield runs PymoNNto's Hopfield recall (Examples_Classical):
// -n units (784, 28 x 28) store -p random +-1 patterns (4) by Hebb's rule
// (PymoNNto learns its four hard-coded MNIST digits by outer(v, v) with the
// diagonal masked; here the patterns are random and stored at once), the
// run starts from pattern -cue with -flip of its units flipped, and
// v = (9v + sign(Wv))/10 pulls it back. The JSON has the overlap of sign(v)
// with every pattern at the start and the end; -out plots the overlaps
// over time.
//
//	go run ./examples/hopfield -json -out out
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/examples/internal/cli"
	"github.com/gomonnto/gomonnto/models"
)

func main() {
	f := cli.Register(30, "dxs")
	n := flag.Int("n", 784, "number of units")
	p := flag.Int("p", 4, "number of stored patterns")
	cue := flag.Int("cue", 0, "the pattern the run starts from")
	flip := flag.Float64("flip", 0.2, "share of the cue's units flipped")
	flag.Parse()
	if err := run(f, *n, *p, *cue, *flip); err != nil {
		cli.Fail(err)
	}
}

func run(f *cli.Flags, n, p, cue int, flip float64) error {
	net, err := f.Network()
	if err != nil {
		return err
	}
	defer net.Backend().Close()
	g, pats, err := models.Hopfield(net, models.HopfieldOptions{N: n, P: p, Seed: *f.Seed, Cue: cue, Flip: flip})
	if err != nil {
		return err
	}
	// The states every step; the overlaps are computed afterwards.
	rec := core.NewRecorder([]string{"v"}, core.RecorderOptions{Tag: "states"})
	if err := g.AddBehavior(9, rec); err != nil {
		return err
	}
	if err := f.Initialize(net); err != nil {
		return err
	}
	v0 := make([]float32, g.Size)
	if err := net.Backend().Read(v0, g.Var("v"), 0); err != nil {
		return err
	}
	wall, err := f.Run(net, core.SimOptions{})
	if err != nil {
		return err
	}
	s, err := rec.Series("v")
	if err != nil {
		return err
	}
	overlap := func(v []float32, pat []float32) float64 {
		m := 0.0
		for i := range v {
			if (v[i] > 0) == (pat[i] > 0) {
				m++
			} else {
				m--
			}
		}
		return m / float64(len(v))
	}
	start, end := make([]float64, p), make([]float64, p)
	lines := make([]cli.Line, p)
	for k, pat := range pats {
		start[k] = overlap(v0, pat)
		lines[k].Label = fmt.Sprintf("pattern %d", k)
		for t := 0; t < s.Len(); t++ {
			lines[k].Y = append(lines[k].Y, float32(overlap(s.Row(t), pat)))
		}
		if s.Len() > 0 {
			end[k] = overlap(s.Row(s.Len()-1), pat)
		} else {
			end[k] = start[k]
		}
	}
	r := cli.Result{Model: "hopfield", Steps: f.StepsRun(), WallS: wall}
	r.Counts(net)
	r.Extra = map[string]any{"overlap_start": start, "overlap_end": end, "cue": cue, "patterns": p}
	fmt.Fprintf(os.Stderr, "hopfield: %d units, %d patterns; overlap with the cue %.3f -> %.3f in %d steps\n", n, p, start[cue], end[cue], f.StepsRun())
	if *f.Out != "" {
		if err := os.MkdirAll(*f.Out, 0o755); err != nil {
			return err
		}
		if err := cli.LinePlot(filepath.Join(*f.Out, "hopfield_overlap.png"), "Hopfield recall", "overlap of sign(v)", lines); err != nil {
			return err
		}
	}
	return f.Finish(net, &r)
}
