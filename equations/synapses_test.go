package equations

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// loadBrian2Synapses reads a case of testdata/brian2_synapses.json,
// written by bench/peers/brian2_synapses.py (Brian2 2.5, float64, numpy
// target), every value as a flat []float64.
func loadBrian2Synapses(t *testing.T, name string) map[string][]float64 {
	t.Helper()
	b, err := os.ReadFile("testdata/brian2_synapses.json")
	if err != nil {
		t.Fatal(err)
	}
	var all struct {
		Cases map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	c, ok := all.Cases[name]
	if !ok {
		t.Fatalf("no case %q in testdata/brian2_synapses.json", name)
	}
	out := map[string][]float64{}
	for k, v := range c {
		var x []float64
		if json.Unmarshal(v, &x) == nil {
			out[k] = x
			continue
		}
		var n float64
		if json.Unmarshal(v, &n) == nil {
			out[k] = []float64{n}
			continue
		}
		var m [][]float64
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatalf("%s.%s: %v", name, k, err)
		}
		for _, row := range m {
			out[k] = append(out[k], row...)
		}
	}
	return out
}

// generator sets a group's spike mask from a list of (neuron, step),
// Brian2's SpikeGeneratorGroup: step k is the network's iteration k+1.
type generator struct {
	core.Base
	at   map[int][]int
	mask []float32
}

func newGenerator(n int, idx, steps []float64) *generator {
	g := &generator{at: map[int][]int{}, mask: make([]float32, n)}
	for k := range idx {
		g.at[int(steps[k])] = append(g.at[int(steps[k])], int(idx[k]))
	}
	return g
}

func (g *generator) Initialize(o core.Object) error {
	t, err := o.Vector("zeros")
	if err != nil {
		return err
	}
	return o.SetVar("fired", t)
}

func (g *generator) Iteration(o core.Object) error {
	clear(g.mask)
	for _, i := range g.at[o.Net().Iteration-1] {
		g.mask[i] = 1
	}
	return o.Net().Backend().Write(o.Var("fired"), 0, g.mask)
}

const stdpEqs = `
w : 1
dapre/dt = -apre/taupre : 1 (event-driven)
dapost/dt = -apost/taupost : 1 (event-driven)
`

var stdpOpts = SynapseOptions{
	OnPre:     "apre += Apre; w = clip(w + apost, 0, wmax)",
	OnPost:    "apost += Apost; w = clip(w + apre, 0, wmax)",
	Namespace: map[string]string{"taupre": "20*ms", "taupost": "25*ms", "wmax": "0.02", "Apre": "0.004", "Apost": "-0.0045"},
}

// softEqs is trace STDP with soft bounds (the PymoNNtorch paper's M7 rule
// with exponential traces).
const softEqs = `
w : 1
dtpre/dt = -tpre/(20*ms) : 1 (event-driven)
dtpost/dt = -tpost/(20*ms) : 1 (event-driven)
`

var softOpts = SynapseOptions{
	OnPre:     "tpre += 1; w -= a_minus*tpost*(w - w_min)",
	OnPost:    "tpost += 1; w += a_plus*tpre*(w_max - w)",
	Namespace: map[string]string{"a_minus": "0.012", "a_plus": "0.01", "w_min": "0", "w_max": "1"},
}

// synapseMatrix gives sg the synapses (i pre, j post) with values w as a
// dense matrix (zeros elsewhere) or a sparse one, in sg's layout.
func synapseMatrix(t *testing.T, net *core.Network, sg *core.SynapseGroup, sparse bool, i, j []float64, w []float64) backend.Tensor {
	t.Helper()
	rows, cols := sg.Shape()
	sxd := net.Layout() == core.SxD
	at := func(k int) (int, int) {
		if sxd {
			return int(i[k]), int(j[k])
		}
		return int(j[k]), int(i[k])
	}
	if !sparse {
		m, err := sg.Matrix("zeros")
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]float32, rows*cols)
		for k := range w {
			r, c := at(k)
			vals[r*cols+c] = float32(w[k])
		}
		if err := net.Backend().Write(m, 0, vals); err != nil {
			t.Fatal(err)
		}
		return m
	}
	type entry struct {
		r, c int
		v    float32
	}
	var es []entry
	for k := range w {
		r, c := at(k)
		es = append(es, entry{r, c, float32(w[k])})
	}
	slices.SortFunc(es, func(a, b entry) int { return (a.r*cols + a.c) - (b.r*cols + b.c) })
	start := make([]int64, rows+1)
	var idx []int32
	var vals []float32
	for _, e := range es {
		start[e.r+1]++
		idx = append(idx, int32(e.c))
		vals = append(vals, e.v)
	}
	for r := range rows {
		start[r+1] += start[r]
	}
	m, err := net.Backend().(backend.Sparser).NewSparse(rows, cols, start, idx, vals)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runWith gives sg the matrix w, initialises the network and runs steps.
func runWith(t *testing.T, net *core.Network, sg *core.SynapseGroup, w backend.Tensor, steps int) {
	t.Helper()
	if err := sg.SetVar("w", w); err != nil {
		t.Fatal(err)
	}
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := net.SimulateIterations(steps, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
}

// readSynapses reads the matrix's values at the synapses (i, j).
func readSynapses(t *testing.T, net *core.Network, sg *core.SynapseGroup, m backend.Tensor, i, j []float64) []float64 {
	t.Helper()
	_, cols := sg.Shape()
	vals := make([]float32, m.Len())
	if err := net.Backend().Read(vals, m, 0); err != nil {
		t.Fatal(err)
	}
	pos := func(k int) int {
		r, c := int(j[k]), int(i[k])
		if net.Layout() == core.SxD {
			r, c = c, r
		}
		return r*cols + c
	}
	var index map[int]int
	if sp, ok := m.(backend.SparseTensor); ok {
		index = map[int]int{}
		start, idx := sp.Structure()
		for r := 0; r+1 < len(start); r++ {
			for e := start[r]; e < start[r+1]; e++ {
				index[r*cols+int(idx[e])] = int(e)
			}
		}
	}
	out := make([]float64, len(i))
	for k := range i {
		p := pos(k)
		if index != nil {
			p = index[p]
		}
		out[k] = float64(vals[p])
	}
	return out
}

// TestPairSTDPBrian2: Brian2's pair STDP (event-driven traces, on_pre and
// on_post clipping the weight) between two spike generators, written as
// Brian2 users write it, against Brian2 on the same spikes: the final
// weights agree to float32 rounding. The weights take part in about 240
// updates each; every update adds a trace rounded to float32 (relative
// 6e-8 of a value below 0.005), and the traces decay by a factor rounded
// once, so the error stays below 1e-7 absolute, against 1e-6 allowed.
// Dense all-to-all, a sparse pattern, and soft bounds (w in [0, 1], so
// the same 1e-6 is a relative bound), both layouts, cpu and gl.
func TestPairSTDPBrian2(t *testing.T) {
	for _, be := range []string{"cpu", "gl"} {
		for _, c := range []string{"stdp_dense", "stdp_sparse", "stdp_soft"} {
			for _, layout := range []core.Layout{core.SxD, core.DxS} {
				t.Run(fmt.Sprintf("%s/%s/%s", be, c, layout), func(t *testing.T) {
					ref := loadBrian2Synapses(t, c)
					net, err := core.NewNetwork(core.Config{Backend: openBackend(t, be), Seed: 1, Layout: layout})
					if err != nil {
						t.Fatal(err)
					}
					npre, npost := int(ref["npre"][0]), int(ref["npost"][0])
					pre, err := net.NewNeuronGroup("pre", core.Size(npre), core.Behaviors{1: newGenerator(npre, ref["pre_i"], ref["pre_steps"])})
					if err != nil {
						t.Fatal(err)
					}
					post, err := net.NewNeuronGroup("post", core.Size(npost), core.Behaviors{1: newGenerator(npost, ref["post_i"], ref["post_steps"])})
					if err != nil {
						t.Fatal(err)
					}
					eqs, opts := stdpEqs, stdpOpts
					w0 := make([]float64, len(ref["w"]))
					for k := range w0 {
						w0[k] = 0.01 + 0.001*ref["i"][k] - 0.0007*ref["j"][k]
					}
					if c == "stdp_soft" {
						eqs, opts = softEqs, softOpts
						for k := range w0 {
							w0[k] = 0.5 + 0.05*ref["i"][k] - 0.03*ref["j"][k]
						}
					}
					syn, err := NewSynapses(eqs, opts)
					if err != nil {
						t.Fatal(err)
					}
					sg, err := net.NewSynapseGroup("S", pre, post, core.Behaviors{2: syn})
					if err != nil {
						t.Fatal(err)
					}
					m := synapseMatrix(t, net, sg, c == "stdp_sparse", ref["i"], ref["j"], w0)
					runWith(t, net, sg, m, int(ref["steps"][0]))
					got := readSynapses(t, net, sg, m, ref["i"], ref["j"])
					worst, clipped := 0.0, 0
					for k := range got {
						worst = max(worst, math.Abs(got[k]-ref["w"][k]))
						if ref["w"][k] == 0 || ref["w"][k] == 0.02 {
							clipped++
						}
					}
					if worst > 1e-6 {
						t.Fatalf("final weights differ from Brian2's by up to %.3g (want <= 1e-6)\n got %.6f\nwant %.6f", worst, got, ref["w"])
					}
					if c != "stdp_soft" && (clipped == 0 || clipped == len(got)) {
						t.Fatalf("%d of %d weights at a bound: the test no longer exercises both clipping and free weights", clipped, len(got))
					}
					t.Logf("%d synapses, %d at a bound, worst |w - Brian2| %.2g", len(got), clipped, worst)
				})
			}
		}
	}
}

// TestSTDPNeuronsBrian2: generators into LIF neurons written as equations;
// on_pre both propagates (v_post += w*6) and learns, and the reset runs
// after the synapses (SplitReset), as in Brian2. The post spikes must be
// Brian2's, step for step, and the final weights agree as above.
func TestSTDPNeuronsBrian2(t *testing.T) {
	for _, be := range []string{"cpu", "gl"} {
		t.Run(be, func(t *testing.T) {
			ref := loadBrian2Synapses(t, "stdp_lif")
			net, err := core.NewNetwork(core.Config{Backend: openBackend(t, be), Seed: 1, Layout: core.SxD})
			if err != nil {
				t.Fatal(err)
			}
			nin, nout := int(ref["nin"][0]), int(ref["nout"][0])
			in, err := net.NewNeuronGroup("in", core.Size(nin), core.Behaviors{1: newGenerator(nin, ref["in_i"], ref["in_steps"])})
			if err != nil {
				t.Fatal(err)
			}
			// Brian2's schedule: the reset after the synapses.
			nr, err := New("dv/dt = -v/(10*ms) : 1", Options{Threshold: "v > 1", Reset: "v = 0", DT: "0.1*ms", SplitReset: true})
			if err != nil {
				t.Fatal(err)
			}
			rec := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{})
			lif, err := net.NewNeuronGroup("lif", core.Size(nout), core.Behaviors{1: nr, 3: nr.Resetter(), 9: rec})
			if err != nil {
				t.Fatal(err)
			}
			o := stdpOpts
			o.OnPre = "v_post += w*6; " + o.OnPre
			syn, err := NewSynapses(stdpEqs, o)
			if err != nil {
				t.Fatal(err)
			}
			sg, err := net.NewSynapseGroup("S", in, lif, core.Behaviors{2: syn})
			if err != nil {
				t.Fatal(err)
			}
			w0 := make([]float64, len(ref["w"]))
			for k := range w0 {
				w0[k] = 0.02 * (0.3 + 0.6*float64((int(ref["i"][k])*7+int(ref["j"][k])*3)%10)/10)
			}
			m := synapseMatrix(t, net, sg, false, ref["i"], ref["j"], w0)
			runWith(t, net, sg, m, int(ref["steps"][0]))
			ev, err := rec.Events("fired")
			if err != nil {
				t.Fatal(err)
			}
			type sp struct{ i, k int }
			var got, want []sp
			for n := range ev.Indices {
				got = append(got, sp{int(ev.Indices[n]), int(ev.Iterations[n]) - 1})
			}
			for n := range ref["spike_i"] {
				want = append(want, sp{int(ref["spike_i"][n]), int(ref["spike_steps"][n])})
			}
			cmp := func(a, b sp) int { return (a.k-b.k)*1000 + a.i - b.i }
			slices.SortFunc(got, cmp)
			slices.SortFunc(want, cmp)
			if !slices.Equal(got, want) {
				t.Fatalf("%d post spikes, Brian2 %d; first ones %v, Brian2 %v", len(got), len(want), got[:min(8, len(got))], want[:min(8, len(want))])
			}
			w := readSynapses(t, net, sg, m, ref["i"], ref["j"])
			worst := 0.0
			for k := range w {
				worst = max(worst, math.Abs(w[k]-ref["w"][k]))
			}
			if worst > 1e-6 {
				t.Fatalf("final weights differ from Brian2's by up to %.3g", worst)
			}
			t.Logf("%d post spikes as Brian2's; worst |w - Brian2| %.2g", len(got), worst)
		})
	}
}

// TestSummedGapJunctionBrian2: Brian2's gap-junction example (summed
// variable Igap_post = w*(v_pre - v_post), method exact), the Synapses put
// before the neurons as Brian2 orders it. Spikes step for step; v within
// 1e-5: float32 rounds each step's value near 1 by up to 6e-8, and the
// errors of the 10 neurons' coupling add; the reset removes them at each
// spike (1.1e-6 measured).
func TestSummedGapJunctionBrian2(t *testing.T) {
	for _, be := range []string{"cpu", "gl"} {
		t.Run(be, func(t *testing.T) {
			ref := loadBrian2Synapses(t, "gap")
			n, steps := int(ref["n"][0]), int(ref["steps"][0])
			net, err := core.NewNetwork(core.Config{Backend: openBackend(t, be), Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			nr, err := New("dv/dt = (v0 - v + Igap) / tau : 1\nIgap : 1", Options{Method: "exact", Threshold: "v > 1", Reset: "v = 0", DT: "0.1*ms",
				Namespace: map[string]string{"v0": "1.05", "tau": "10*ms"}})
			if err != nil {
				t.Fatal(err)
			}
			rec := core.NewRecorder([]string{"v"}, core.RecorderOptions{})
			ev := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{})
			g, err := net.NewNeuronGroup("g", core.Size(n), core.Behaviors{2: nr, 3: rec, 4: ev})
			if err != nil {
				t.Fatal(err)
			}
			syn, err := NewSynapses("w : 1\nIgap_post = w * (v_pre - v_post) : 1 (summed)", SynapseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sg, err := net.NewSynapseGroup("S", g, g, core.Behaviors{1: syn})
			if err != nil {
				t.Fatal(err)
			}
			w, err := sg.Matrix("0.02")
			if err != nil {
				t.Fatal(err)
			}
			if err := sg.SetVar("w", w); err != nil {
				t.Fatal(err)
			}
			if err := net.Initialize(); err != nil {
				t.Fatal(err)
			}
			v0 := make([]float32, n)
			for i := range v0 {
				v0[i] = float32(float64(i) / float64(n-1))
			}
			if err := net.Backend().Write(g.Var("v"), 0, v0); err != nil {
				t.Fatal(err)
			}
			if err := net.SimulateIterations(steps, core.SimOptions{Quiet: true}); err != nil {
				t.Fatal(err)
			}
			s, err := rec.Series("v")
			if err != nil {
				t.Fatal(err)
			}
			// Brian2's monitor records v at the start of each step (before
			// the update); ours after it: ours at k is Brian2's at k+1.
			worst := 0.0
			for k := 0; k+1 < steps; k++ {
				for i := range n {
					worst = max(worst, math.Abs(float64(s.Data[k*n+i])-ref["v"][i*steps+k+1]))
				}
			}
			e, _ := ev.Events("fired")
			var got, want []string
			for k := range e.Indices {
				got = append(got, fmt.Sprint(e.Iterations[k]-1, ":", e.Indices[k]))
			}
			for k := range ref["spike_i"] {
				want = append(want, fmt.Sprint(ref["spike_steps"][k], ":", ref["spike_i"][k]))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("spikes (step:neuron) %s\nBrian2's %s", strings.Join(got, " "), strings.Join(want, " "))
			}
			if worst > 1e-5 {
				t.Fatalf("v differs from Brian2's by up to %.3g", worst)
			}
			t.Logf("%d spikes as Brian2's; worst |v - Brian2| %.2g", len(got), worst)
		})
	}
}
