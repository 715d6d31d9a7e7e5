package models_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// The paper's networks (models/pymonnto_paper.go) against our NumPy
// implementations of PymoNNto's Basic.py and Complex.py (bench/peers/pymonnto_paper.py,
// which wrote testdata/pymonnto_paper_{basic,complex}.txt), step by step
// on cpu and gl, in both layouts, with dense and sparse W. The random
// noise is replaced by a fixed table added where PaperNeuron adds its
// noise (key 1.5, between PaperNeuron and PaperInput, with noise None),
// and W by a fixed matrix set before Initialize (PaperInput keeps it).

func plPaperLoad(t *testing.T, name string) []*plCase {
	t.Helper()
	return plLoadFile(t, "pymonnto_paper_"+name+".txt", "bench/peers/pymonnto_paper.py")
}

// plPaperW sets the recurrent GLUTAMATE group's W from a dst x src
// table: dense, or sparse storing only its non-zero weights.
func plPaperW(t *testing.T, g *core.NeuronGroup, w plArray, sparse bool) *core.SynapseGroup {
	t.Helper()
	in := g.Synapses(core.Afferent, "GLUTAMATE")
	if len(in) != 1 {
		t.Fatalf("%d afferent GLUTAMATE groups, want 1", len(in))
	}
	sg := in[0]
	if sparse {
		plSetSparse(t, sg, "W", w.v, func(i, j int) bool { return w.v[i*w.cols+j] != 0 })
	} else {
		plSetMat(t, sg, "W", w.v)
	}
	return sg
}

// plPaperEnabled checks PaperInput's enabled = W > 0.
func plPaperEnabled(t *testing.T, what string, sg *core.SynapseGroup, w plArray) {
	t.Helper()
	want := make([]float32, len(w.v))
	for i, x := range w.v {
		if x > 0 {
			want[i] = 1
		}
	}
	var d plDiff
	d.check(t, what+" enabled", plReadMat(t, sg, sg.Var("enabled")), want, 0, 0)
}

func plNoise(noise plArray) *models.TimedArray {
	return &models.TimedArray{Values: noise.v, Width: noise.cols, Base: core.Base{Params: core.Params{"var": "voltage", "mode": "add"}}}
}

// Basic.py, exact: every operation is an elementwise float32 one, rounded
// once as in NumPy, and W.dot(spike) sums multiples of 1/16 (at most 64
// terms below 1), which is exact in any order; the division by 64
// neurons is exact too. Case "default" is PymoNNtoBasic itself; case
// "leak" sets PaperNeuron's leak_factor.
func TestPymoNNtoPaperBasic(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			for _, sparse := range []bool{false, true} {
				for _, c := range plPaperLoad(t, "basic") {
					n := plNet(t, be, layout, 1)
					noise, w := c.arr(t, "noise"), c.arr(t, "W")
					var g *core.NeuronGroup
					var err error
					if c.name == "default" {
						g, err = models.PymoNNtoBasic(n, models.PaperOptions{Size: 64, Noise: "None"})
						if err == nil {
							err = g.AddBehavior(1.5, plNoise(noise))
						}
					} else {
						p := c.paramsExcept()
						p["noise"] = "None"
						g, err = n.NewNeuronGroup("my_neurons", models.GridDim(64, 1), core.Behaviors{
							1: &models.PaperNeuron{Base: core.Base{Params: p}}, 1.5: plNoise(noise), 2: &models.PaperInput{}})
						if err == nil {
							_, err = n.NewSynapseGroup("GLUTAMATE", g, g, nil)
						}
					}
					if err != nil {
						t.Fatal(err)
					}
					if g.Dim.Width != 8 || g.Dim.Height != 8 || g.X[0] != -3.5 {
						t.Fatalf("grid %+v, x[0] = %v: want get_squared_dim(64), centred (8 x 8, x from -3.5)", g.Dim, g.X[0])
					}
					sg := plPaperW(t, g, w, sparse)
					plInit(t, n)
					what := fmt.Sprintf("%s %s sparse=%v %s", be.Name(), layout, sparse, c.name)
					plPaperEnabled(t, what, sg, w)
					var d plDiff
					spikes := 0
					for k := range noise.rows {
						plStep(t, n)
						s := fmt.Sprintf("%s step %d", what, k+1)
						sp := read(t, g.Var("spike"))
						d.check(t, s+" spike", sp, c.arr(t, "spike").row(k), 0, 0)
						d.check(t, s+" voltage", read(t, g.Var("voltage")), c.arr(t, "voltage").row(k), 0, 0)
						for _, x := range sp {
							spikes += int(x)
						}
					}
					t.Logf("%s: %d spikes; %s", what, spikes, d)
				}
			}
		}
	}
}

// Bounds for Complex.py, whose W after the normalization is no longer
// made of multiples of 1/16, so that its sums (the normalization's sum
// of |W| per neuron, the input W.dot(spike), the recorder's mean) are
// the backend's, in its order, not NumPy's (pairwise, BLAS):
//
//   - W: plSumULP float32 steps (see there), from step 2 on;
//   - voltage and exhaustion: the input is at most sum_j W_ij / 32 * 10 =
//     10*10/32 ~ 3.2 with every source spiking, so a relative error of
//     plSumULP steps (4e-6) in W gives at most 1.3e-5 per step; the
//     voltage decays by 0.9 per step, so errors add up to at most 10
//     times that, and the exhaustion integrates them times eta_ip =
//     0.001. plPaperAbs = 2e-4 is that bound with room; the measured
//     differences are logged and far smaller;
//   - the spikes must match exactly: the replica checks that no voltage
//     compared with the threshold comes within 1e-3 of it ("margin"),
//     more than plPaperAbs, so rounding cannot flip a spike;
//   - mean(voltage): a sum of 32 values in another order, plus the
//     voltage bound.
//
// Step 1 is exact: no spikes yet, and the sums of the initial W are exact.
const plPaperAbs = 2e-4

// Complex.py through PymoNNtoComplex (keys, constants and recorders as
// there), with the fixed noise and W: dense, sparse (only the non-zero
// weights stored), and "partition": dense W turned sparse by a Partition
// (2 x 2 x 1 blocks) on the synapse group at key 2.5, after PaperInput
// and before the rules, which must not change any result.
func TestPymoNNtoPaperComplex(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			for _, mode := range []string{"dense", "sparse", "partition"} {
				sparse := mode == "sparse"
				c := plPaperLoad(t, "complex")[0]
				if m := c.arr(t, "margin").v[0]; m <= plPaperAbs {
					t.Fatalf("the replica's margin %v is not above the bound %v", m, plPaperAbs)
				}
				n := plNet(t, be, layout, 1)
				noise, w := c.arr(t, "noise"), c.arr(t, "W")
				g, err := models.PymoNNtoComplex(n, models.PaperOptions{Size: 32, Noise: "None", Sparse: sparse})
				if err != nil {
					t.Fatal(err)
				}
				if err := g.AddBehavior(1.5, plNoise(noise)); err != nil {
					t.Fatal(err)
				}
				sg := plPaperW(t, g, w, sparse)
				part := &models.Partition{Base: core.Base{Params: core.Params{"split_size": "2,2,1"}}}
				if mode == "partition" {
					if err := sg.AddBehavior(2.5, part); err != nil {
						t.Fatal(err)
					}
				}
				plInit(t, n)
				what := fmt.Sprintf("%s %s %s", be.Name(), layout, mode)
				if mode == "partition" && (len(part.Blocks()) != 4 || !backend.IsSparse(sg.Var("W"))) {
					t.Fatalf("%s: %d blocks, W sparse %v; want 4 blocks and a sparse W", what, len(part.Blocks()), backend.IsSparse(sg.Var("W")))
				}
				plPaperEnabled(t, what, sg, w)
				var dv, dw, dm plDiff
				wSteps, wAfter := c.arr(t, "W_steps"), c.arr(t, "W_after")
				next := 0
				spikes := 0
				for k := range noise.rows {
					plStep(t, n)
					s := fmt.Sprintf("%s step %d", what, k+1)
					vb, wb := plPaperAbs, int64(plSumULP)
					if k == 0 {
						vb, wb = 0, 0
						if be.Name() != "cpu" {
							wb = plGLDivULP
						}
					}
					sp := read(t, g.Var("spike"))
					dv.check(t, s+" spike", sp, c.arr(t, "spike").row(k), 0, 0)
					dv.check(t, s+" voltage", read(t, g.Var("voltage")), c.arr(t, "voltage").row(k), 0, vb)
					dv.check(t, s+" exhaustion", read(t, g.Var("exhaustion")), c.arr(t, "exhaustion").row(k), 0, vb)
					for _, x := range sp {
						spikes += int(x)
					}
					if next < wSteps.cols && int(wSteps.v[next]) == k+1 {
						dw.check(t, s+" W", plReadMat(t, sg, sg.Var("W")), wAfter.row(next), wb, 0)
						next++
					}
				}
				// The recorders: voltage (as above), mean(voltage), spike events.
				vs, err := core.Get[*core.Series](n, "voltage", 0)
				if err != nil {
					t.Fatal(err)
				}
				ms, err := core.Get[*core.Series](n, "mean(voltage)", 0)
				if err != nil {
					t.Fatal(err)
				}
				rec, err := core.Get[*core.Recorder](g, "my_event_recorder", 0)
				if err != nil {
					t.Fatal(err)
				}
				ev, err := rec.Events("spike")
				if err != nil {
					t.Fatal(err)
				}
				if vs.Len() != noise.rows || ms.Len() != noise.rows {
					t.Fatalf("%s: recorded %d and %d steps, want %d", what, vs.Len(), ms.Len(), noise.rows)
				}
				dv.check(t, what+" recorded voltage", vs.Data, c.arr(t, "voltage").v, 0, plPaperAbs)
				dm.check(t, what+" recorded mean(voltage)", ms.Data, c.arr(t, "mean_voltage").v, plSumULP, plPaperAbs)
				want := c.arr(t, "spike")
				if ev.Len() != spikes {
					t.Fatalf("%s: %d events, %d spikes", what, ev.Len(), spikes)
				}
				for e := range ev.Len() {
					if want.row(ev.Iterations[e] - 1)[ev.Indices[e]] != 1 {
						t.Fatalf("%s: event %d (iteration %d, neuron %d) is no spike of the replica", what, e, ev.Iterations[e], ev.Indices[e])
					}
				}
				if next != wSteps.cols {
					t.Fatalf("%s: compared W at %d of %d steps", what, next, wSteps.cols)
				}
				t.Logf("%s: %d spikes; voltage, exhaustion: %s; W: %s; mean: %s", what, spikes, dv, dw, dm)
			}
		}
	}
}

// The builders with PymoNNto's random W and noise (seeded): on cpu and
// gl, dense and sparse, 200 steps of Basic and Complex run, record, and
// stay finite; the voltages stay below threshold + the largest input;
// Complex's afferent weights sum to 10 per neuron (norm_factor).
func TestPymoNNtoPaperBuilders(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, complex := range []bool{false, true} {
			for _, sparse := range []bool{false, true} {
				n := plNet(t, be, core.DxS, 5)
				o := models.PaperOptions{Sparse: sparse}
				build := models.PymoNNtoBasic
				if complex {
					build = models.PymoNNtoComplex
				}
				g, err := build(n, o)
				if err != nil {
					t.Fatal(err)
				}
				plInit(t, n)
				if g.Size != 100 || g.Dim.Width != 10 {
					t.Fatalf("size %d, grid %+v: want get_squared_dim(100)", g.Size, g.Dim)
				}
				sg := g.Synapses(core.Afferent, "GLUTAMATE")[0]
				w0 := plReadMat(t, sg, sg.Var("W"))
				nz := 0
				for _, x := range w0 {
					if x < 0 || x >= 1 {
						t.Fatalf("initial weight %v outside [0, 1)", x)
					}
					if x != 0 {
						nz++
					}
				}
				if d := float64(nz) / float64(len(w0)); d < 0.08 || d > 0.12 {
					t.Errorf("density %.3f of W, want about 0.1", d)
				}
				spikes := 0
				for range 200 {
					plStep(t, n)
					for _, x := range read(t, g.Var("spike")) {
						spikes += int(x)
					}
				}
				for i, v := range read(t, g.Var("voltage")) {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v > 20 {
						t.Fatalf("voltage[%d] = %v", i, v)
					}
				}
				what := fmt.Sprintf("%s complex=%v sparse=%v", be.Name(), complex, sparse)
				if spikes == 0 {
					t.Errorf("%s: no spikes in 200 steps", what)
				}
				if complex {
					ms, err := core.Get[*core.Series](n, "mean(voltage)", 0)
					if err != nil || ms.Len() != 200 {
						t.Fatalf("%s: mean(voltage) series %v, %v", what, ms, err)
					}
					w := plReadMat(t, sg, sg.Var("W"))
					for i := range g.Size {
						var s float64
						for j := range g.Size {
							s += float64(w[i*g.Size+j])
						}
						if s != 0 && math.Abs(s-10) > 1e-4 {
							t.Fatalf("%s: neuron %d's afferent weights sum to %v, want 10", what, i, s)
						}
					}
				}
				t.Logf("%s: %d spikes in 200 steps (%.3f per neuron and step)", what, spikes, float64(spikes)/200/100)
			}
		}
	}
}

func TestPymoNNtoPaperErrors(t *testing.T) {
	be := plBackends(t)[0]
	p := func(kv ...string) core.Base {
		ps := core.Params{}
		for i := 0; i < len(kv); i += 2 {
			ps[kv[i]] = kv[i+1]
		}
		return core.Base{Params: ps}
	}
	for _, c := range []struct {
		name string
		bs   core.Behaviors
		syn  bool
		want string
	}{
		{"neuron bad noise", core.Behaviors{1: &models.PaperNeuron{Base: p("noise", "unifrom")}}, false, `noise="unifrom"`},
		{"neuron bad leak", core.Behaviors{1: &models.PaperNeuron{Base: p("leak_factor", "x")}}, false, `leak_factor="x"`},
		{"input no synapses", core.Behaviors{1: &models.PaperNeuron{}, 2: &models.PaperInput{}}, false, `no afferent synapse group is tagged syn_type="GLUTAMATE"`},
		{"input no spike", core.Behaviors{2: &models.PaperInput{}}, true, `has no variable "spike"; give it a PaperNeuron`},
		{"input density", core.Behaviors{1: &models.PaperNeuron{}, 2: &models.PaperInput{Base: p("density", "1.5")}}, true, "density=1.5 is outside [0, 1]"},
		{"input bad bool", core.Behaviors{1: &models.PaperNeuron{}, 2: &models.PaperInput{Base: p("sparse", "yes")}}, true, "want True or False"},
	} {
		n := plNet(t, be, core.DxS, 1)
		g, err := n.NewNeuronGroup("G", core.Size(4), c.bs)
		if err == nil && c.syn {
			_, err = n.NewSynapseGroup("GLUTAMATE", g, g, nil)
		}
		if err == nil {
			err = n.Initialize()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
	if _, err := models.PymoNNtoBasic(plNet(t, be, core.DxS, 1), models.PaperOptions{Size: -3}); err == nil || !strings.Contains(err.Error(), "Size=-3") {
		t.Errorf("negative size: error %v", err)
	}
}

// A step of PaperNeuron, PaperInput (dense and sparse W, one W made
// sparse by Partition), the paper's rules and NOXDiffusion allocates
// nothing, on cpu and gl.
func TestPymoNNtoPaperZeroAllocs(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			n := plNet(t, be, layout, 3)
			g := plDimGroup(t, n, "G", models.GridDim(100, 1), core.Behaviors{
				1: &models.PaperNeuron{Base: core.Base{Params: core.Params{"noise": "uniform, density=0.2"}}},
				2: &models.PaperInput{},
				3: &models.ExhaustionHomeostasis{},
				4: &models.ThreeTermSTDP{},
				5: &models.SynapticNormalization{Base: core.Base{Params: core.Params{"norm_factor": "10"}}},
				6: &models.NOXDiffusion{Base: core.Base{Params: core.Params{"measurement_var": "voltage"}}},
			})
			h := plDimGroup(t, n, "H", models.GridDim(49, 1), core.Behaviors{1: &models.PaperNeuron{}, 4: &models.ThreeTermSTDP{}})
			plSyn(t, n, "GLUTAMATE", g, g)
			hs, err := n.NewSynapseGroup("GLUTAMATE", h, g, core.Behaviors{
				1:   &models.BoxReceptiveFields{Base: core.Base{Params: core.Params{"range": "3"}}},
				2.5: &models.Partition{Base: core.Base{Params: core.Params{"split_size": "3,3,1"}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			sq := plSyn(t, n, "GLUTAMATE", g, h)
			wq, err := sq.SparseMatrix(0.2, "uniform")
			if err != nil {
				t.Fatal(err)
			}
			if err := sq.SetVar("W", wq); err != nil {
				t.Fatal(err)
			}
			if err := h.AddBehavior(2, &models.PaperInput{}); err != nil {
				t.Fatal(err)
			}
			plInit(t, n)
			if !backend.IsSparse(hs.Var("W")) {
				t.Fatalf("%s %s: Partition left W dense", be.Name(), layout)
			}
			for range 5 {
				plStep(t, n)
			}
			allocs := testing.AllocsPerRun(20, func() { plStep(t, n) })
			if err := be.Sync(); err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Errorf("%s %s: %.1f allocations per step, want 0", be.Name(), layout, allocs)
			}
		}
	}
}
