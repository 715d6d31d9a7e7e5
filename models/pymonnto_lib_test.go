package models_test

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/opengl/gltest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
)

// The behaviours of models/pymonnto_lib.go against our NumPy
// implementations of PymoNNto's behaviour (bench/peers/pymonnto_lib.py, which wrote
// testdata/pymonnto_lib_*.txt), step by step on cpu and gl and, for
// synapse behaviours, in both layouts.
//
// "Exact" below means equal as float32 values (== , so -0 equals +0):
// the kernels do PymoNNto's float32 operations in NumPy's order, each
// rounded once. The exceptions are sums over synapses, which the backends
// take in their own order (MatVec) rather than NumPy's pairwise one; their
// bound is stated where they are compared.

// ---- test data ----

type plArray struct {
	rows, cols int
	v          []float32
}

type plCase struct {
	name   string
	params [][2]string
	arrays map[string]plArray
}

func (c *plCase) arr(t *testing.T, name string) plArray {
	t.Helper()
	a, ok := c.arrays[name]
	if !ok {
		t.Fatalf("case %s: no array %q in the test data", c.name, name)
	}
	return a
}

// row is row k of an array.
func (a plArray) row(k int) []float32 { return a.v[k*a.cols : (k+1)*a.cols] }

// paramsExcept are the case's parameters without the given keys.
func (c *plCase) paramsExcept(skip ...string) core.Params {
	p := core.Params{}
outer:
	for _, kv := range c.params {
		for _, s := range skip {
			if kv[0] == s {
				continue outer
			}
		}
		p[kv[0]] = kv[1]
	}
	return p
}

func (c *plCase) param(key string) string {
	for _, kv := range c.params {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

func plLoad(t *testing.T, name string) []*plCase {
	t.Helper()
	return plLoadFile(t, "pymonnto_lib_"+name+".txt", "bench/peers/pymonnto_lib.py")
}

// plLoadFile reads testdata/file, written by the script gen.
func plLoadFile(t *testing.T, file, gen string) []*plCase {
	t.Helper()
	path := filepath.Join("testdata", file)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 %s)", err, gen)
	}
	defer f.Close()
	var cases []*plCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	line := 0
	for sc.Scan() {
		line++
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		if fs[0] == "case" {
			cases = append(cases, &plCase{name: fs[1], arrays: map[string]plArray{}})
			continue
		}
		if len(cases) == 0 {
			t.Fatalf("%s:%d: %q before the first case", path, line, fs[0])
		}
		c := cases[len(cases)-1]
		switch fs[0] {
		case "param":
			c.params = append(c.params, [2]string{fs[1], strings.Join(fs[2:], " ")})
		case "array":
			r, _ := strconv.Atoi(fs[2])
			k, _ := strconv.Atoi(fs[3])
			if !sc.Scan() {
				t.Fatalf("%s:%d: array %s has no values", path, line, fs[1])
			}
			line++
			vs := strings.Fields(sc.Text())
			if len(vs) != r*k {
				t.Fatalf("%s:%d: array %s: %d values for %dx%d", path, line, fs[1], len(vs), r, k)
			}
			a := plArray{rows: r, cols: k, v: make([]float32, len(vs))}
			for i, s := range vs {
				x, err := strconv.ParseFloat(s, 32)
				if err != nil {
					t.Fatalf("%s:%d: %v", path, line, err)
				}
				a.v[i] = float32(x)
			}
			c.arrays[fs[1]] = a
		default:
			t.Fatalf("%s:%d: unknown line %q", path, line, fs[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// ---- networks ----

// plBackends are cpu and gl (gl skips only where no GL context exists,
// see gltest).
func plBackends(t *testing.T) []backend.Backend {
	t.Helper()
	cb, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cb.Close() })
	return []backend.Backend{cb, gltest.Open(t)}
}

func plNet(t *testing.T, be backend.Backend, layout core.Layout, seed uint64) *core.Network {
	t.Helper()
	n, err := core.NewNetwork(core.Config{Backend: be, Seed: seed, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func plGroup(t *testing.T, n *core.Network, name string, size int, bs core.Behaviors) *core.NeuronGroup {
	t.Helper()
	g, err := n.NewNeuronGroup(name, core.Size(size), bs)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func plSyn(t *testing.T, n *core.Network, tag string, src, dst *core.NeuronGroup) *core.SynapseGroup {
	t.Helper()
	sg, err := n.NewSynapseGroup(tag, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

func plSetVec(t *testing.T, g *core.NeuronGroup, name string, v []float32) {
	t.Helper()
	x, err := g.Vector("zeros")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Net().Backend().Write(x, 0, v); err != nil {
		t.Fatal(err)
	}
	if err := g.SetVar(name, x); err != nil {
		t.Fatal(err)
	}
}

// plSetMat stores a dst x src matrix in the network's layout.
func plSetMat(t *testing.T, sg *core.SynapseGroup, name string, dxs []float32) {
	t.Helper()
	m, err := sg.Matrix("zeros")
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.Net().Backend().Write(m, 0, plToLayout(sg, dxs)); err != nil {
		t.Fatal(err)
	}
	if err := sg.SetVar(name, m); err != nil {
		t.Fatal(err)
	}
}

func plToLayout(sg *core.SynapseGroup, dxs []float32) []float32 {
	if sg.Net().Layout() == core.DxS {
		return dxs
	}
	d, s := sg.Dst.Size, sg.Src.Size
	out := make([]float32, len(dxs))
	for i := range d {
		for j := range s {
			out[j*d+i] = dxs[i*s+j]
		}
	}
	return out
}

// plSetSparse stores a dst x src matrix as a sparse matrix of the
// network's layout holding the entries (i, j) (dst, src) where keep says
// so.
func plSetSparse(t *testing.T, sg *core.SynapseGroup, name string, dxs []float32, keep func(i, j int) bool) backend.Tensor {
	t.Helper()
	rows, cols := sg.Shape()
	full := plToLayout(sg, dxs)
	rs := []int64{0}
	var ci []int32
	var vals []float32
	for r := range rows {
		for c := range cols {
			i, j := r, c
			if sg.Net().Layout() == core.SxD {
				i, j = c, r
			}
			if keep(i, j) {
				ci = append(ci, int32(c))
				vals = append(vals, full[r*cols+c])
			}
		}
		rs = append(rs, int64(len(ci)))
	}
	m, err := sg.Net().Backend().(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.SetVar(name, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// plReadMat reads a synapse matrix (dense or sparse, whose missing
// entries read as 0) as dst x src.
func plReadMat(t *testing.T, sg *core.SynapseGroup, m backend.Tensor) []float32 {
	t.Helper()
	v := read(t, m)
	if sp, ok := m.(backend.SparseTensor); ok {
		rs, ci := sp.Structure()
		full := make([]float32, m.Rows()*m.Cols())
		for r := range m.Rows() {
			for e := rs[r]; e < rs[r+1]; e++ {
				full[r*m.Cols()+int(ci[e])] = v[e]
			}
		}
		v = full
	}
	if sg.Net().Layout() == core.DxS {
		return v
	}
	d, s := sg.Dst.Size, sg.Src.Size
	out := make([]float32, len(v))
	for i := range d {
		for j := range s {
			out[i*s+j] = v[j*d+i]
		}
	}
	return out
}

func plInit(t *testing.T, n *core.Network) {
	t.Helper()
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
}

func plStep(t *testing.T, n *core.Network) {
	t.Helper()
	if err := n.SimulateIteration(); err != nil {
		t.Fatal(err)
	}
}

// ---- comparison ----

// plDiff records the largest differences of a comparison.
type plDiff struct {
	abs float64
	ulp int64
	n   int
}

// plULP is the distance of a and b in float32 steps (0 for -0 and +0).
func plULP(a, b float32) int64 {
	key := func(x float32) int64 {
		u := int64(math.Float32bits(x))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	d := key(a) - key(b)
	if d < 0 {
		d = -d
	}
	return d
}

// check compares got with want; an element may differ by at most maxULP
// float32 steps (0: exact) or by absTol, whichever is larger.
func (d *plDiff) check(t *testing.T, what string, got, want []float32, maxULP int64, absTol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if math.IsNaN(float64(g)) || math.IsNaN(float64(w)) {
			t.Fatalf("%s[%d]: got %v, want %v", what, i, g, w)
		}
		u := plULP(g, w)
		a := math.Abs(float64(g) - float64(w))
		d.ulp, d.abs, d.n = max(d.ulp, u), max(d.abs, a), d.n+1
		if u > maxULP && a > absTol {
			t.Fatalf("%s[%d]: got %v, want %v (%d float32 steps apart; the bound is %d steps or %g)", what, i, g, w, u, maxULP, absTol)
		}
	}
}

func (d plDiff) String() string {
	return fmt.Sprintf("%d values, largest difference %.3g (%d float32 steps)", d.n, d.abs, d.ulp)
}

func plLayouts() []core.Layout { return []core.Layout{core.DxS, core.SxD} }

// ---- 1. homeostasis ----

// Instant_Homeostasis and Time_Integration_Homeostasis, exact: the
// adjustment is PymoNNto's float32 arithmetic, one rounding per operation,
// in the same order (with min_th/max_th from float64 parameters, rounded
// once, as NumPy rounds Python floats that meet float32 arrays).
func TestPymoNNtoLibHomeostasis(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, c := range plLoad(t, "homeostasis") {
			act, th0, want := c.arr(t, "activity"), c.arr(t, "threshold0"), c.arr(t, "threshold")
			n := plNet(t, be, core.DxS, 1)
			params := c.paramsExcept("behaviour")
			var b core.Behavior
			var ti *models.TimeIntegrationHomeostasis
			switch c.param("behaviour") {
			case "Instant_Homeostasis":
				b = &models.InstantHomeostasis{Base: core.Base{Params: params}}
			case "Time_Integration_Homeostasis":
				ti = &models.TimeIntegrationHomeostasis{Base: core.Base{Params: params}}
				b = ti
			default:
				t.Fatalf("case %s: unknown behaviour %q", c.name, c.param("behaviour"))
			}
			g := plGroup(t, n, "G", act.cols, core.Behaviors{
				1: &models.TimedArray{Values: act.v, Width: act.cols, Base: core.Base{Params: core.Params{"var": "activity"}}},
				2: b,
			})
			plSetVec(t, g, "threshold", th0.v)
			plInit(t, n)
			var d plDiff
			for k := range act.rows {
				plStep(t, n)
				d.check(t, fmt.Sprintf("%s %s step %d threshold", be.Name(), c.name, k+1), read(t, g.Var("threshold")), want.row(k), 0, 0)
				if ti != nil {
					d.check(t, fmt.Sprintf("%s %s step %d average", be.Name(), c.name, k+1), read(t, ti.Average()), c.arr(t, "average").row(k), 0, 0)
				}
			}
			t.Logf("%s %s: %s", be.Name(), c.name, d)
		}
	}
}

// ---- 4. exhaustion and relative refractoriness ----

// The paper's Homeostasis (exhaustion), exact.
func TestPymoNNtoLibExhaustion(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, c := range plLoad(t, "exhaustion") {
			in, wantV, wantE := c.arr(t, "input"), c.arr(t, "voltage"), c.arr(t, "exhaustion")
			n := plNet(t, be, core.DxS, 1)
			g := plGroup(t, n, "G", in.cols, core.Behaviors{
				1: &models.TimedArray{Values: in.v, Width: in.cols, Base: core.Base{Params: core.Params{"var": "voltage", "mode": "add"}}},
				2: &models.ExhaustionHomeostasis{Base: core.Base{Params: c.paramsExcept()}},
			})
			plInit(t, n)
			var d plDiff
			for k := range in.rows {
				plStep(t, n)
				d.check(t, fmt.Sprintf("%s %s step %d voltage", be.Name(), c.name, k+1), read(t, g.Var("voltage")), wantV.row(k), 0, 0)
				d.check(t, fmt.Sprintf("%s %s step %d exhaustion", be.Name(), c.name, k+1), read(t, g.Var("exhaustion")), wantE.row(k), 0, 0)
			}
			t.Logf("%s %s: %s", be.Name(), c.name, d)
		}
	}
}

// PymoNNto's refractory (relative refractoriness), exact.
func TestPymoNNtoLibRelativeRefractory(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, c := range plLoad(t, "refractory") {
			out, ain := c.arr(t, "output_in"), c.arr(t, "activity_in")
			n := plNet(t, be, core.DxS, 1)
			g := plGroup(t, n, "G", out.cols, core.Behaviors{
				1:   &models.TimedArray{Values: out.v, Width: out.cols, Base: core.Base{Params: core.Params{"var": "output"}}},
				1.5: &models.TimedArray{Values: ain.v, Width: ain.cols, Base: core.Base{Params: core.Params{"var": "activity", "mode": "add"}}},
				2:   &models.RelativeRefractory{Base: core.Base{Params: c.paramsExcept()}},
			})
			plInit(t, n)
			var d plDiff
			for k := range out.rows {
				plStep(t, n)
				d.check(t, fmt.Sprintf("%s %s step %d activity", be.Name(), c.name, k+1), read(t, g.Var("activity")), c.arr(t, "activity").row(k), 0, 0)
				d.check(t, fmt.Sprintf("%s %s step %d refractory_counter", be.Name(), c.name, k+1), read(t, g.Var("refractory_counter")), c.arr(t, "refractory_counter").row(k), 0, 0)
			}
			t.Logf("%s %s: %s", be.Name(), c.name, d)
		}
	}
}

// ---- 2. synaptic normalization ----

// plSumULP bounds results that depend on sums over synapses: the
// backends sum |W| per destination in their own order (and may fuse
// multiply-adds), NumPy pairwise. Each such sum of n <= 10 terms of one
// sign differs by at most (n-1) roundings, about 9 float32 steps relative;
// a weight divided by it inherits that, plus one step for the division,
// and errors carry over from step to step. 64 steps (4e-6 relative)
// leaves room for that; the measured differences are logged.
const plSumULP = 64

// plGLDivULP is the bound on gl where a result is one float32 division
// away from an exact value: GLSL allows 2.5 ULP for x/y, and GPUs use it
// (Mesa llvmpipe divides exactly, and the logged differences show 0).
const plGLDivULP = 3

// Synaptic_Normalization: step 1 exact on cpu (its sums are of multiples
// of 1/16, exact in any order; within plGLDivULP on gl), later steps
// within plSumULP. With sparse matrices ("sparse": A->C stores only its
// non-zero weights, B->C every entry, so a group may mix stored zeros and
// missing entries; D->C is sparse too) the expected weights are the same
// NumPy ones: a missing entry is a zero weight, which the rule keeps 0.
func TestPymoNNtoLibSynapticNormalization(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			for _, sparse := range []bool{false, true} {
				for _, c := range plLoad(t, "normalization") {
					n := plNet(t, be, layout, 1)
					C := plGroup(t, n, "C", 5, core.Behaviors{5: &models.SynapticNormalization{Base: core.Base{Params: c.paramsExcept()}}})
					A, B, D := plGroup(t, n, "A", 7, nil), plGroup(t, n, "B", 3, nil), plGroup(t, n, "D", 4, nil)
					sa, sb, sd := plSyn(t, n, "GLUTAMATE", A, C), plSyn(t, n, "GLUTAMATE", B, C), plSyn(t, n, "GABA", D, C)
					if sparse {
						wa := c.arr(t, "WA")
						plSetSparse(t, sa, "W", wa.v, func(i, j int) bool { return wa.v[i*wa.cols+j] != 0 })
						plSetSparse(t, sb, "W", c.arr(t, "WB").v, func(i, j int) bool { return true })
						plSetSparse(t, sd, "W", c.arr(t, "WD").v, func(i, j int) bool { return (i+j)%2 == 0 || c.arr(t, "WD").v[i*4+j] != 0 })
					} else {
						plSetMat(t, sa, "W", c.arr(t, "WA").v)
						plSetMat(t, sb, "W", c.arr(t, "WB").v)
						plSetMat(t, sd, "W", c.arr(t, "WD").v)
					}
					plInit(t, n)
					var d plDiff
					wa, wb := c.arr(t, "WA_after"), c.arr(t, "WB_after")
					for k := range wa.rows {
						plStep(t, n)
						bound := int64(plSumULP)
						if k == 0 {
							bound = 0
							if be.Name() != "cpu" {
								bound = plGLDivULP
							}
						}
						what := fmt.Sprintf("%s %s sparse=%v %s step %d", be.Name(), layout, sparse, c.name, k+1)
						d.check(t, what+" W(A->C)", plReadMat(t, sa, sa.Var("W")), wa.row(k), bound, 0)
						d.check(t, what+" W(B->C)", plReadMat(t, sb, sb.Var("W")), wb.row(k), bound, 0)
						d.check(t, what+" W(D->C, GABA)", plReadMat(t, sd, sd.Var("W")), c.arr(t, "WD").v, 0, 0)
					}
					t.Logf("%s %s sparse=%v %s: %s", be.Name(), layout, sparse, c.name, d)
				}
			}
		}
	}
}

// ---- 3. three-term STDP (and the paper's STDP + normalization) ----

func plPairs(a plArray) (steps, neurons []int) {
	for i := range a.cols {
		steps = append(steps, int(a.v[i]))
		neurons = append(neurons, int(a.v[a.cols+i]))
	}
	return steps, neurons
}

// The paper's STDP, exact (each weight changes by one rounding, as in
// NumPy); in case "paper" followed by the normalization, within
// plSumULP. The spike masks of the SpikeGenerators are checked too. With
// sparse matrices ("sparse"), A->A stores only its enabled synapses (W >
// 0, enabled a sparse mask of that structure, all ones) and B->A every
// entry (its zeros grow as in the dense case), so the NumPy weights are
// expected unchanged.
func TestPymoNNtoLibThreeTermSTDP(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			for _, sparse := range []bool{false, true} {
				for _, c := range plLoad(t, "stdp") {
					n := plNet(t, be, layout, 1)
					sp := c.paramsExcept("norm_factor")
					stA, nA := plPairs(c.arr(t, "pairsA"))
					stB, nB := plPairs(c.arr(t, "pairsB"))
					bsA := core.Behaviors{
						1: &models.SpikeGenerator{Steps: stA, Neurons: nA},
						4: &models.ThreeTermSTDP{Base: core.Base{Params: sp}},
					}
					norm := c.param("norm_factor") != ""
					if norm {
						bsA[5] = &models.SynapticNormalization{Base: core.Base{Params: core.Params{"norm_factor": c.param("norm_factor")}}}
					}
					A := plGroup(t, n, "A", 6, bsA)
					B := plGroup(t, n, "B", 4, core.Behaviors{
						1: &models.SpikeGenerator{Steps: stB, Neurons: nB},
						4: &models.ThreeTermSTDP{Base: core.Base{Params: sp}},
					})
					sAA, sBA, sG := plSyn(t, n, "GLUTAMATE", A, A), plSyn(t, n, "GLUTAMATE", B, A), plSyn(t, n, "GABA", B, A)
					waa := c.arr(t, "WAA")
					en := make([]float32, len(waa.v))
					for i, w := range waa.v {
						if w > 0 {
							en[i] = 1
						}
					}
					if sparse {
						pos := func(i, j int) bool { return waa.v[i*waa.cols+j] > 0 }
						all := func(i, j int) bool { return true }
						plSetSparse(t, sAA, "W", waa.v, pos)
						plSetSparse(t, sAA, "enabled", en, pos)
						plSetSparse(t, sBA, "W", c.arr(t, "WBA").v, all)
						plSetSparse(t, sG, "W", c.arr(t, "WG").v, all)
					} else {
						plSetMat(t, sAA, "W", waa.v)
						plSetMat(t, sAA, "enabled", en)
						plSetMat(t, sBA, "W", c.arr(t, "WBA").v)
						plSetMat(t, sG, "W", c.arr(t, "WG").v)
					}
					plInit(t, n)
					bound := int64(0)
					if norm {
						bound = plSumULP
					}
					var d plDiff
					wantAA, wantBA := c.arr(t, "WAA_after"), c.arr(t, "WBA_after")
					for k := range wantAA.rows {
						plStep(t, n)
						what := fmt.Sprintf("%s %s sparse=%v %s step %d", be.Name(), layout, sparse, c.name, k+1)
						d.check(t, what+" A.spike", read(t, A.Var("spike")), c.arr(t, "spikesA").row(k), 0, 0)
						d.check(t, what+" B.spike", read(t, B.Var("spike")), c.arr(t, "spikesB").row(k), 0, 0)
						d.check(t, what+" W(A->A)", plReadMat(t, sAA, sAA.Var("W")), wantAA.row(k), bound, 0)
						d.check(t, what+" W(B->A)", plReadMat(t, sBA, sBA.Var("W")), wantBA.row(k), bound, 0)
						d.check(t, what+" W(B->A, GABA)", plReadMat(t, sG, sG.Var("W")), c.arr(t, "WG").v, 0, 0)
					}
					t.Logf("%s %s sparse=%v %s: %s", be.Name(), layout, sparse, c.name, d)
				}
			}
		}
	}
}

// ---- 5. CreateWeights ----

// CreateWeights' normalisation of a fixed matrix (distribution "1" times
// enabled), exact: the host code sums in NumPy's order.
func TestPymoNNtoLibCreateWeights(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			for _, c := range plLoad(t, "createweights") {
				n := plNet(t, be, layout, 1)
				src, dst := plGroup(t, n, "S", 12, nil), plGroup(t, n, "D", 10, nil)
				sg, err := n.NewSynapseGroup("GLUTAMATE", src, dst, core.Behaviors{1: &models.CreateWeights{Base: core.Base{Params: c.paramsExcept()}}})
				if err != nil {
					t.Fatal(err)
				}
				plSetMat(t, sg, "enabled", c.arr(t, "enabled").v)
				plInit(t, n)
				var d plDiff
				d.check(t, fmt.Sprintf("%s %s %s W", be.Name(), layout, c.name), plReadMat(t, sg, sg.Var("W")), c.arr(t, "W").v, 0, 0)
				t.Logf("%s %s %s: %s", be.Name(), layout, c.name, d)
			}
		}
	}
}

// CreateWeights with its default uniform draw: the same seed gives the
// same bits on cpu and gl; the raw draws look uniform; after the
// normalisation every source's weights sum to 1 (the last normalisation)
// and every destination's nearly so (square matrix); a destination
// without enabled synapses is left at 0 instead of NaN.
func TestPymoNNtoLibCreateWeightsRandom(t *testing.T) {
	bes := plBackends(t)
	const N = 64
	for _, layout := range plLayouts() {
		for _, normalize := range []string{"False", "True"} {
			var ws [][]float32
			for _, be := range bes {
				n := plNet(t, be, layout, 7)
				a, b := plGroup(t, n, "A", N, nil), plGroup(t, n, "B", N, nil)
				sg, err := n.NewSynapseGroup("GLUTAMATE", a, b, core.Behaviors{1: &models.CreateWeights{Base: core.Base{Params: core.Params{"normalize": normalize}}}})
				if err != nil {
					t.Fatal(err)
				}
				plInit(t, n)
				ws = append(ws, plReadMat(t, sg, sg.Var("W")))
			}
			for i := range ws[0] {
				if math.Float32bits(ws[0][i]) != math.Float32bits(ws[1][i]) {
					t.Fatalf("%s normalize=%s: W[%d] cpu %v, gl %v: the same seed must give the same bits", layout, normalize, i, ws[0][i], ws[1][i])
				}
			}
			w := ws[0]
			if normalize == "False" {
				var sum float64
				for i, x := range w {
					if !(x >= 0 && x < 1) {
						t.Fatalf("%s: raw W[%d] = %v is outside [0, 1)", layout, i, x)
					}
					sum += float64(x)
				}
				mean, sd := sum/float64(len(w)), math.Sqrt(1.0/12/float64(len(w)))
				t.Logf("%s raw: mean %.4f (uniform: 0.5 +- %.4f)", layout, mean, sd)
				if math.Abs(mean-0.5) > 5*sd {
					t.Errorf("%s raw: mean %v, want 0.5 within 5 sd (%v)", layout, mean, 5*sd)
				}
				continue
			}
			worstSrc, worstDst := 0.0, 0.0
			for j := range N {
				var s, r float64
				for i := range N {
					s += float64(w[i*N+j])
					r += float64(w[j*N+i])
				}
				worstSrc, worstDst = max(worstSrc, math.Abs(s-1)), max(worstDst, math.Abs(r-1))
			}
			t.Logf("%s normalized: |sum-1| per source <= %.2g, per destination <= %.2g", layout, worstSrc, worstDst)
			if worstSrc > 1e-5 || worstDst > 1e-3 {
				t.Errorf("%s: sums per source off by %v, per destination by %v", layout, worstSrc, worstDst)
			}
		}
	}
	// A destination with no enabled synapse: its row stays 0, no NaN.
	n := plNet(t, bes[0], core.DxS, 7)
	a, b := plGroup(t, n, "A", 5, nil), plGroup(t, n, "B", 4, nil)
	sg, err := n.NewSynapseGroup("GLUTAMATE", a, b, core.Behaviors{1: &models.CreateWeights{}})
	if err != nil {
		t.Fatal(err)
	}
	en := make([]float32, 20)
	for i := 5; i < 20; i++ {
		en[i] = 1
	}
	plSetMat(t, sg, "enabled", en)
	plInit(t, n)
	for i, x := range read(t, sg.Var("W")) {
		if math.IsNaN(float64(x)) || (i < 5) != (x == 0) {
			t.Fatalf("W[%d] = %v: want 0 in the disabled row 0 and finite weights > 0 elsewhere", i, x)
		}
	}
}

// ---- 6. inputs ----

// TimedArray (set, per neuron, 2 steps per row, holding the last row;
// add, one value for all) and SpikeGenerator (unsorted pairs, a period),
// exact.
func TestPymoNNtoLibTimedArrayAndSpikeGenerator(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, c := range plLoad(t, "inputs") {
			n := plNet(t, be, core.DxS, 1)
			want := c.arr(t, "expected")
			var g *core.NeuronGroup
			name := "spike"
			switch c.name {
			case "timed_set", "timed_add":
				v := c.arr(t, "values")
				g = plGroup(t, n, "G", want.cols, core.Behaviors{1: &models.TimedArray{Values: v.v, Width: v.cols, Base: core.Base{Params: c.paramsExcept()}}})
				if x0, ok := c.arrays["x0"]; ok {
					plSetVec(t, g, "x", x0.v)
				}
				name = "x"
			case "spikegen":
				st, nr := plPairs(c.arr(t, "pairs"))
				g = plGroup(t, n, "G", want.cols, core.Behaviors{1: &models.SpikeGenerator{Steps: st, Neurons: nr, Base: core.Base{Params: c.paramsExcept()}}})
			}
			plInit(t, n)
			var d plDiff
			for k := range want.rows {
				plStep(t, n)
				d.check(t, fmt.Sprintf("%s %s step %d", be.Name(), c.name, k+1), read(t, g.Var(name)), want.row(k), 0, 0)
			}
			t.Logf("%s %s: %s", be.Name(), c.name, d)
		}
	}
}

// PoissonInput: the same seed gives the same masks on cpu and gl; the
// spike count of 2000 neurons at 20 Hz over 100 steps of 1 ms is within 5
// standard deviations of 4000; a per-neuron rate "uniform(0, 40)" gives
// the same mean; a rate of 0 never fires.
func TestPymoNNtoLibPoissonInput(t *testing.T) {
	bes := plBackends(t)
	const N, S = 2000, 100
	for _, rate := range []string{"20", "uniform(0, 40)", "0"} {
		var nets []*core.Network
		var gs []*core.NeuronGroup
		for _, be := range bes {
			n := plNet(t, be, core.DxS, 3)
			gs = append(gs, plGroup(t, n, "P", N, core.Behaviors{1: &models.PoissonInput{Base: core.Base{Params: core.Params{"rate": rate}}}}))
			plInit(t, n)
			nets = append(nets, n)
		}
		count := 0
		for k := range S {
			var masks [][]float32
			for i, n := range nets {
				plStep(t, n)
				masks = append(masks, read(t, gs[i].Var("spike")))
			}
			for i, x := range masks[0] {
				if x != 0 && x != 1 {
					t.Fatalf("rate %s step %d: spike[%d] = %v, want 0 or 1", rate, k+1, i, x)
				}
				if math.Float32bits(x) != math.Float32bits(masks[1][i]) {
					t.Fatalf("rate %s step %d: spike[%d] cpu %v, gl %v: the same seed must give the same masks", rate, k+1, i, x, masks[1][i])
				}
				count += int(x)
			}
		}
		p := 0.02
		if rate == "0" {
			p = 0
		}
		mean, sd := p*N*S, math.Sqrt(p*(1-p)*N*S)
		t.Logf("rate %s: %d spikes, expected %.0f +- %.0f", rate, count, mean, sd)
		if math.Abs(float64(count)-mean) > 5*sd {
			t.Errorf("rate %s: %d spikes, want %.0f within 5 sd (%.0f)", rate, count, mean, 5*sd)
		}
	}
}

// ---- errors ----

func TestPymoNNtoLibErrors(t *testing.T) {
	be := plBackends(t)[0]
	type build func(n *core.Network) error
	group := func(bs core.Behaviors) build {
		return func(n *core.Network) error {
			_, err := n.NewNeuronGroup("G", core.Size(4), bs)
			return err
		}
	}
	withSyn := func(bs core.Behaviors, w bool) build {
		return func(n *core.Network) error {
			g, err := n.NewNeuronGroup("G", core.Size(4), bs)
			if err != nil {
				return err
			}
			sg, err := n.NewSynapseGroup("GLUTAMATE", g, g, nil)
			if err != nil {
				return err
			}
			if w {
				m, err := sg.Matrix("ones")
				if err != nil {
					return err
				}
				return sg.SetVar("W", m)
			}
			return nil
		}
	}
	p := func(kv ...string) core.Base {
		ps := core.Params{}
		for i := 0; i < len(kv); i += 2 {
			ps[kv[i]] = kv[i+1]
		}
		return core.Base{Params: ps}
	}
	act := func() *models.TimedArray {
		return &models.TimedArray{Values: []float32{1}, Base: p("var", "activity")}
	}
	for _, c := range []struct {
		name string
		b    build
		want string
	}{
		{"homeostasis no measurement", group(core.Behaviors{1: &models.InstantHomeostasis{Base: p("adjustment_param", "th", "threshold", "1")}}), "measurement_param is missing"},
		{"homeostasis missing adjustment var", group(core.Behaviors{1: act(), 2: &models.InstantHomeostasis{Base: p("measurement_param", "activity", "adjustment_param", "th", "threshold", "1")}}), `no variable "th" (adjustment_param); create it`},
		{"homeostasis no range", group(core.Behaviors{1: act(), 1.5: &models.TimedArray{Values: []float32{0}, Base: p("var", "th")}, 2: &models.InstantHomeostasis{Base: p("measurement_param", "activity", "adjustment_param", "th", "min_th", "1")}}), "give threshold (optionally with gap_percent) or both min_th and max_th"},
		{"homeostasis bad measurement", group(core.Behaviors{1: act(), 1.5: &models.TimedArray{Values: []float32{0}, Base: p("var", "th")}, 2: &models.InstantHomeostasis{Base: p("measurement_param", "activty", "adjustment_param", "th", "threshold", "1")}}), "did you mean 'activity'"},
		{"homeostasis bad bool", group(core.Behaviors{1: act(), 1.5: &models.TimedArray{Values: []float32{0}, Base: p("var", "th")}, 2: &models.TimeIntegrationHomeostasis{Base: p("measurement_param", "activity", "adjustment_param", "th", "threshold", "1", "distance_sensitive", "maybe")}}), "want True or False"},
		{"homeostasis bad number", group(core.Behaviors{1: act(), 1.5: &models.TimedArray{Values: []float32{0}, Base: p("var", "th")}, 2: &models.InstantHomeostasis{Base: p("measurement_param", "activity", "adjustment_param", "th", "threshold", "1", "inc", "fast")}}), `parameter inc="fast"`},
		{"exhaustion no voltage", group(core.Behaviors{1: &models.ExhaustionHomeostasis{}}), `no variable "voltage" (voltage_var)`},
		{"refractory no output", group(core.Behaviors{1: act(), 2: &models.RelativeRefractory{}}), `no variable "output" (output_var)`},
		{"normalization no synapses", group(core.Behaviors{1: &models.SynapticNormalization{}}), `no afferent synapse group is tagged syn_type="GLUTAMATE"`},
		{"normalization no W", withSyn(core.Behaviors{1: &models.SynapticNormalization{}}, false), "has no W; give it weights first (CreateWeights"},
		{"stdp no spike", withSyn(core.Behaviors{1: &models.ThreeTermSTDP{}}, true), `no variable "spike"; give it a behaviour that sets spike`},
		{"stdp bad bounds", withSyn(core.Behaviors{1: &models.ThreeTermSTDP{Base: p("w_min", "2", "w_max", "1")}}, true), "w_min=2 is above w_max=1"},
		{"createweights bad density", func(n *core.Network) error {
			g, _ := n.NewNeuronGroup("G", core.Size(4), nil)
			_, err := n.NewSynapseGroup("GLUTAMATE", g, g, core.Behaviors{1: &models.CreateWeights{Base: p("density", "2")}})
			return err
		}, "density=2 is outside [0, 1]"},
		{"createweights bad distribution", func(n *core.Network) error {
			g, _ := n.NewNeuronGroup("G", core.Size(4), nil)
			_, err := n.NewSynapseGroup("GLUTAMATE", g, g, core.Behaviors{1: &models.CreateWeights{Base: p("distribution", "unifrom(0, 1)")}})
			return err
		}, `distribution="unifrom(0, 1)"`},
		{"createweights bad iterations", func(n *core.Network) error {
			g, _ := n.NewNeuronGroup("G", core.Size(4), nil)
			_, err := n.NewSynapseGroup("GLUTAMATE", g, g, core.Behaviors{1: &models.CreateWeights{Base: p("iterations", "2.5")}})
			return err
		}, "want a whole number >= 0"},
		{"timed array width", group(core.Behaviors{1: &models.TimedArray{Values: []float32{1, 2, 3}, Width: 3}}), "Width=3; give 1 (one value per step for every neuron) or the group's size 4"},
		{"timed array empty", group(core.Behaviors{1: &models.TimedArray{}}), "0 values do not make rows"},
		{"timed array mode", group(core.Behaviors{1: &models.TimedArray{Values: []float32{1}, Base: p("mode", "mul")}}), `want "set" or "add"`},
		{"spike generator lengths", group(core.Behaviors{1: &models.SpikeGenerator{Steps: []int{1}}}), "1 steps for 0 neurons"},
		{"spike generator neuron", group(core.Behaviors{1: &models.SpikeGenerator{Steps: []int{1}, Neurons: []int{4}}}), "neuron 4, outside the group's 4 neurons"},
		{"spike generator twice", group(core.Behaviors{1: &models.SpikeGenerator{Steps: []int{1, 1}, Neurons: []int{2, 2}}}), "neuron 2 spikes twice at step 1"},
		{"spike generator period", group(core.Behaviors{1: &models.SpikeGenerator{Steps: []int{5}, Neurons: []int{0}, Base: p("period", "5")}}), "not below period=5"},
		{"poisson rate", group(core.Behaviors{1: &models.PoissonInput{Base: p("rate", "-1")}}), "rates must be finite and >= 0"},
		{"poisson dt", group(core.Behaviors{1: &models.PoissonInput{Base: p("dt", "0")}}), "dt=0 must be a positive step"},
		{"on a synapse group", func(n *core.Network) error {
			g, _ := n.NewNeuronGroup("G", core.Size(4), nil)
			_, err := n.NewSynapseGroup("GLUTAMATE", g, g, core.Behaviors{1: &models.PoissonInput{}})
			return err
		}, "PoissonInput belongs on a neuron group"},
	} {
		n := plNet(t, be, core.DxS, 1)
		err := c.b(n)
		if err == nil {
			err = n.Initialize()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
	// A source group other than the destination must keep its spike_old.
	n := plNet(t, be, core.DxS, 1)
	a := plGroup(t, n, "A", 3, core.Behaviors{1: &models.SpikeGenerator{}, 4: &models.ThreeTermSTDP{}})
	b := plGroup(t, n, "B", 3, core.Behaviors{1: &models.SpikeGenerator{}})
	sg := plSyn(t, n, "GLUTAMATE", b, a)
	plSetMat(t, sg, "W", make([]float32, 9))
	if err := n.Initialize(); err == nil || !strings.Contains(err.Error(), "give B a ThreeTermSTDP too") {
		t.Errorf("STDP from a group without spike_old: error %v", err)
	}
}

// ---- per-step cost ----

// A step of every behaviour allocates nothing, on cpu and gl.
func TestPymoNNtoLibZeroAllocs(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			n := plNet(t, be, layout, 2)
			const N = 16
			vals := make([]float32, 5*N)
			for i := range vals {
				vals[i] = float32(i%7) / 8
			}
			a := plGroup(t, n, "A", N, core.Behaviors{
				1:   &models.SpikeGenerator{Steps: []int{0, 1, 1, 3}, Neurons: []int{0, 1, 2, 3}, Base: core.Base{Params: core.Params{"period": "4"}}},
				1.1: &models.TimedArray{Values: vals, Width: N, Base: core.Base{Params: core.Params{"var": "activity"}}},
				1.2: &models.TimedArray{Values: vals, Width: 1, Base: core.Base{Params: core.Params{"var": "output", "mode": "add"}}},
				1.3: &models.TimedArray{Values: vals, Width: N, Base: core.Base{Params: core.Params{"var": "voltage", "mode": "add"}}},
				1.4: &models.TimedArray{Values: vals[:N], Width: N, Base: core.Base{Params: core.Params{"var": "threshold"}}},
				2:   &models.InstantHomeostasis{Base: core.Base{Params: core.Params{"measurement_param": "activity", "adjustment_param": "threshold", "threshold": "0.3", "gap_percent": "10"}}},
				2.1: &models.TimeIntegrationHomeostasis{Base: core.Base{Params: core.Params{"measurement_param": "activity", "adjustment_param": "threshold", "threshold": "0.3"}}},
				3:   &models.ExhaustionHomeostasis{},
				3.1: &models.RelativeRefractory{},
				4:   &models.ThreeTermSTDP{},
				5:   &models.SynapticNormalization{Base: core.Base{Params: core.Params{"clip_max": "0.5"}}},
			})
			p := plGroup(t, n, "P", N, core.Behaviors{1: &models.PoissonInput{Base: core.Base{Params: core.Params{"rate": "100"}}}, 4: &models.ThreeTermSTDP{Base: core.Base{Params: core.Params{"spike_var": "spike"}}}})
			for _, src := range []*core.NeuronGroup{a, p} {
				if _, err := n.NewSynapseGroup("GLUTAMATE", src, a, core.Behaviors{0: &models.CreateWeights{}}); err != nil {
					t.Fatal(err)
				}
			}
			// A sparse afferent group: STDP and normalization on sparse W.
			q := plGroup(t, n, "Q", N, core.Behaviors{1: &models.PoissonInput{Base: core.Base{Params: core.Params{"rate": "100"}}}, 4: &models.ThreeTermSTDP{}})
			sq := plSyn(t, n, "GLUTAMATE", q, a)
			wq, err := sq.SparseMatrix(0.3, "uniform")
			if err != nil {
				t.Fatal(err)
			}
			if err := sq.SetVar("W", wq); err != nil {
				t.Fatal(err)
			}
			plInit(t, n)
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

// A SpikeGenerator switched off for some steps and on again sets the
// mask of the current step only (its one-hot selector follows it), and
// its state survives MarshalState/UnmarshalState.
func TestPymoNNtoLibSpikeGeneratorPause(t *testing.T) {
	for _, be := range plBackends(t) {
		n := plNet(t, be, core.DxS, 1)
		sg := &models.SpikeGenerator{Steps: []int{0, 1, 2, 3, 4, 5}, Neurons: []int{0, 1, 2, 0, 1, 2}}
		g := plGroup(t, n, "G", 3, core.Behaviors{1: sg})
		plInit(t, n)
		for step := 1; step <= 8; step++ {
			on := step < 3 || step > 4
			if _, err := n.SetActive("SpikeGenerator", on); err != nil {
				t.Fatal(err)
			}
			plStep(t, n)
			if !on {
				continue
			}
			want := make([]float32, 3)
			if step <= 6 {
				want[(step-1)%3] = 1
			}
			var d plDiff
			d.check(t, fmt.Sprintf("%s step %d", be.Name(), step), read(t, g.Var("spike")), want, 0, 0)
			st, err := sg.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			if err := sg.UnmarshalState(st); err != nil {
				t.Fatal(err)
			}
		}
		if err := sg.UnmarshalState([]byte{0x7f}); err == nil {
			t.Errorf("%s: a state outside the table was accepted", be.Name())
		}
	}
}
