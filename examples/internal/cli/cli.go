// Package cli holds what the examples share: the common flags, opening the
// backend, the -json result line and the PNG plots.
package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	_ "github.com/gomonnto/gomonnto/backend/opengl" // registers the gl backend
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu" // registers the cpu backend
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Flags are the flags every example takes.
type Flags struct {
	Backend *string
	Seed    *uint64
	Steps   *int
	Out     *string
	JSON    *bool
	Layout  *string

	resumed bool   // -resume done
	view    uiView // what -ui shows (UIView)
	ran     int    // the steps the last Run simulated
}

// cpuProfile is -cpuprofile: Timed profiles its loop into this file.
var cpuProfile *string

// Register defines -backend, -seed, -steps, -out, -json, -layout,
// -cpuprofile, the flags that keep a run and the -ui flags on the default
// flag set. defaultLayout is "dxs" or "sxd".
func Register(defaultSteps int, defaultLayout string) *Flags {
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile (go tool pprof) of the timed simulation loop to this file")
	registerKeep()
	registerUI()
	return &Flags{
		Layout:  flag.String("layout", defaultLayout, "synapse matrix layout: dxs (dst x src, PymoNNto's) or sxd (src x dst: a spike's weights are contiguous, faster spike-driven input)"),
		Backend: backend.Flag(nil),
		Seed:    flag.Uint64("seed", 1, "random seed (same seed and backend: identical results)"),
		Steps:   flag.Int("steps", defaultSteps, "number of simulation steps"),
		Out:     flag.String("out", "", "directory for PNG plots (none if empty)"),
		JSON:    flag.Bool("json", false, "print one JSON result object as the last line of stdout"),
	}
}

// Open opens the backend named by -backend; auto reports its choice on stderr.
func (f *Flags) Open() (backend.Backend, error) {
	return backend.Open(*f.Backend, backend.Options{Log: os.Stderr, Deterministic: *keep.deterministic})
}

// Network opens the backend and makes a network with -seed and -layout,
// logging to stderr.
func (f *Flags) Network() (*core.Network, error) {
	if *f.Steps < 0 {
		return nil, fmt.Errorf("-steps=%d: must not be negative", *f.Steps)
	}
	var layout core.Layout
	switch strings.ToLower(*f.Layout) {
	case "dxs":
		layout = core.DxS
	case "sxd":
		layout = core.SxD
	default:
		return nil, fmt.Errorf("-layout=%q: use dxs or sxd", *f.Layout)
	}
	b, err := f.Open()
	if err != nil {
		return nil, err
	}
	net, err := core.NewNetwork(core.Config{Backend: b, Seed: *f.Seed, Layout: layout, Log: os.Stderr})
	if err != nil {
		return nil, err
	}
	return net, startSave(net)
}

// Result is the -json line. Extra fields are merged in.
type Result struct {
	Model    string         `json:"model"`
	Backend  string         `json:"backend"`
	Device   string         `json:"device"`
	Neurons  int            `json:"neurons"`
	Synapses int            `json:"synapses"`
	Steps    int            `json:"steps"`
	WallS    float64        `json:"wall_s"`
	Spikes   int            `json:"spikes"`
	Seed     uint64         `json:"seed"`
	Extra    map[string]any `json:"-"`
}

// Counts fills Neurons and Synapses from the network.
func (r *Result) Counts(n *core.Network) {
	r.Neurons, r.Synapses = 0, 0
	for _, g := range n.NeuronGroups() {
		r.Neurons += g.Size
	}
	for _, s := range n.SynapseGroups() {
		r.Synapses += s.Synapses()
	}
	r.Backend = n.Backend().Name()
	r.Device = n.Backend().Device()
	r.Seed = n.Seed()
}

// Map returns r as the JSON object Print writes (NaN values as null).
func (r *Result) Map() (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range r.Extra {
		if x, ok := v.(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
			v = nil
		}
		m[k] = v
	}
	return m, nil
}

// Print writes r as one JSON line.
func (r *Result) Print(w io.Writer) error {
	m, err := r.Map()
	if err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// Fail prints err to stderr, marks the results folder (-save) failed and
// exits 1 (examples only; never library code).
func Fail(err error) {
	fmt.Fprintln(os.Stderr, "error:", err)
	failSave(err)
	os.Exit(1)
}

// Line is one curve of a line plot.
type Line struct {
	Label string
	Y     []float32
	// X holds the iteration of each value (nil: 1, 2, 3, ...).
	X     []int
	Color color.Color
	Width vg.Length
}

// LinePlot writes a PNG of curves over the step index.
func LinePlot(path, title, ylabel string, lines []Line) error {
	return linePlot(path, title, "iteration", ylabel, lines, false)
}

// LinePlotX is LinePlot with another x axis than the step index (the
// lines' X values are then in that axis' units).
func LinePlotX(path, title, xlabel, ylabel string, lines []Line) error {
	return linePlot(path, title, xlabel, ylabel, lines, false)
}

// LogLinePlot is LinePlot with a logarithmic y axis (values <= 0 are
// drawn at 1e-30).
func LogLinePlot(path, title, ylabel string, lines []Line) error {
	return linePlot(path, title, "iteration", ylabel, lines, true)
}

func linePlot(path, title, xlabel, ylabel string, lines []Line, logY bool) error {
	p := plot.New()
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	empty := true
	for k, l := range lines {
		empty = empty && len(l.Y) == 0
		pts := make(plotter.XYs, len(l.Y))
		for i, y := range l.Y {
			pts[i].X, pts[i].Y = float64(i+1), float64(y)
			if l.X != nil {
				pts[i].X = float64(l.X[i])
			}
			if logY && !(pts[i].Y > 1e-30) {
				pts[i].Y = 1e-30
			}
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		ln.Color = l.Color
		if ln.Color == nil {
			ln.Color = plotColor(k)
		}
		if l.Width > 0 {
			ln.Width = l.Width
		}
		p.Add(ln)
		if l.Label != "" {
			p.Legend.Add(l.Label, ln)
		}
	}
	if logY && empty {
		p.Y.Min, p.Y.Max = 1, 10 // no data (no step run): a log axis needs a positive range
	}
	p.Legend.Top = true
	return save(p, path)
}

// RasterGroup is one population of a raster plot.
type RasterGroup struct {
	Label  string
	Events *core.Events
	Offset int // added to the neuron index (stacks groups)
}

// Raster writes a spike raster PNG: one dot per spike.
func Raster(path, title string, groups []RasterGroup) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "iteration"
	p.Y.Label.Text = "neuron"
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, g := range groups {
		pts := make(plotter.XYs, g.Events.Len())
		for i := range pts {
			pts[i].X, pts[i].Y = float64(g.Events.Iterations[i]), float64(g.Events.Indices[i]+g.Offset)
			lo, hi = math.Min(lo, pts[i].X), math.Max(hi, pts[i].X)
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		s.GlyphStyle.Shape = draw.BoxGlyph{}
		s.GlyphStyle.Radius = vg.Points(0.6)
		s.GlyphStyle.Color = plotColor(k)
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("%s (%d spikes)", g.Label, g.Events.Len()), s)
	}
	p.Legend.Top = true
	if len(groups) > 2 && hi > lo {
		// Room on the right for the legend, so that it covers no spikes.
		p.X.Min, p.X.Max = lo, hi+0.3*(hi-lo)
	}
	return save(p, path)
}

func plotColor(k int) color.Color {
	cs := []color.Color{
		color.RGBA{31, 119, 180, 255}, color.RGBA{214, 39, 40, 255}, color.RGBA{44, 160, 44, 255},
		color.RGBA{255, 127, 14, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
		color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
		color.RGBA{23, 190, 207, 255},
	}
	return cs[k%len(cs)]
}

func save(p *plot.Plot, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}

// Black is the colour of mean curves.
var Black color.Color = color.Black
