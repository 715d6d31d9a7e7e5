package models_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// models/structure.go against our NumPy implementations of PymoNNto's Structure
// and NOX_Diffusion (bench/peers/pymonnto_paper.py, which wrote
// testdata/pymonnto_paper_{structure,nox}.txt). Masks are compared
// exactly (the geometry runs on the host in NumPy's float types); the
// receptive-field behaviours and NOX run on cpu and gl.

func plInts(t *testing.T, s string) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}

func plFloats(t *testing.T, s string) [3]float64 {
	t.Helper()
	var out [3]float64
	for i, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		out[i] = v
	}
	return out
}

func plMask(m []bool) []float32 {
	out := make([]float32, len(m))
	for i, x := range m {
		if x {
			out[i] = 1
		}
	}
	return out
}

// plDim is the grid of a case's array (width, height, depth), centred.
func plDim(a plArray) core.Dimension {
	return core.Dimension{Width: int(a.v[0]), Height: int(a.v[1]), Depth: int(a.v[2]), Centered: true}
}

func plDimGroup(t *testing.T, n *core.Network, name string, d core.Dimension, bs core.Behaviors) *core.NeuronGroup {
	t.Helper()
	g, err := n.NewNeuronGroup(name, d, bs)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Positions, PartitionMasks and ReceptiveFieldMask on five grids (bounds
// that fall on positions, uneven and empty blocks, depth, fractional
// fields), exact.
func TestPymoNNtoStructureGrid(t *testing.T) {
	be := plBackends(t)[0]
	for _, c := range plPaperLoad(t, "structure") {
		if !strings.HasPrefix(c.name, "grid_") {
			continue
		}
		n := plNet(t, be, core.DxS, 1)
		atoi := func(k string) int { v, _ := strconv.Atoi(c.param(k)); return v }
		d := core.Dimension{Width: atoi("width"), Height: atoi("height"), Depth: atoi("depth"), Centered: c.param("centered") == "True"}
		g := plDimGroup(t, n, "G", d, nil)
		var df plDiff
		df.check(t, c.name+" x", g.X, c.arr(t, "x").v, 0, 0)
		df.check(t, c.name+" y", g.Y, c.arr(t, "y").v, 0, 0)
		df.check(t, c.name+" z", g.Z, c.arr(t, "z").v, 0, 0)
		st := plInts(t, c.param("steps"))
		masks, err := models.PartitionMasks(g, [3]int{st[0], st[1], st[2]})
		if err != nil {
			t.Fatal(err)
		}
		blocks, fields := c.arr(t, "blocks"), c.arr(t, "fields")
		if len(masks) != blocks.rows {
			t.Fatalf("%s: %d blocks, want %d", c.name, len(masks), blocks.rows)
		}
		rf := plFloats(t, c.param("rf"))
		empty := 0
		for b, m := range masks {
			df.check(t, fmt.Sprintf("%s block %d", c.name, b), plMask(m), blocks.row(b), 0, 0)
			sub, err := models.NewSubgroup(g, m)
			if err != nil {
				t.Fatal(err)
			}
			if sub.Size() == 0 {
				empty++
			}
			df.check(t, fmt.Sprintf("%s field %d", c.name, b), plMask(models.ReceptiveFieldMask(g, sub, rf)), fields.row(b), 0, 0)
		}
		t.Logf("%s: %d blocks (%d empty); %s", c.name, len(masks), empty, df)
	}
	for _, c := range []struct{ n, depth, w, h int }{{800, 1, 25, 32}, {12, 2, 3, 4}, {7, 0, 1, 7}} {
		d := models.GridDim(c.n, c.depth)
		if d.Width != c.w || d.Height != c.h || d.Depth != max(c.depth, 1) || !d.Centered {
			t.Errorf("GridDim(%d, %d) = %+v, want %d x %d x %d centred", c.n, c.depth, d, c.w, c.h, max(c.depth, 1))
		}
	}
}

// Box_Receptive_Fields, Circle_Receptive_Fields (with remove_autapses)
// and Remove_Autapses as enabled masks, exact, on cpu and gl, both
// layouts, dense and (W set sparse with every entry first) sparse; and
// MaxReceptiveField of them.
func TestPymoNNtoStructureReceptiveFields(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			for _, sparse := range []bool{false, true} {
				for _, c := range plPaperLoad(t, "structure") {
					if !strings.HasPrefix(c.name, "rf_") {
						continue
					}
					n := plNet(t, be, layout, 1)
					var b core.Behavior
					p := core.Base{Params: c.paramsExcept("kind")}
					switch c.param("kind") {
					case "box":
						b = &models.BoxReceptiveFields{Base: p}
					case "circle":
						b = &models.CircleReceptiveFields{Base: p}
					case "autapses":
						b = &models.RemoveAutapses{Base: p}
					}
					src := plDimGroup(t, n, "S", plDim(c.arr(t, "src")), nil)
					dst := src
					if !strings.Contains(c.name, "recurrent") && c.param("kind") != "autapses" {
						dst = plDimGroup(t, n, "D", plDim(c.arr(t, "dst")), nil)
					}
					sg, err := n.NewSynapseGroup("GLUTAMATE", src, dst, core.Behaviors{1: b})
					if err != nil {
						t.Fatal(err)
					}
					if sparse {
						plSetSparse(t, sg, "W", make([]float32, src.Size*dst.Size), func(i, j int) bool { return true })
					}
					plInit(t, n)
					en := sg.Var("enabled")
					if backend.IsSparse(en) != sparse {
						t.Fatalf("%s: enabled sparse=%v, W sparse=%v", c.name, backend.IsSparse(en), sparse)
					}
					got := plReadMat(t, sg, en)
					what := fmt.Sprintf("%s %s sparse=%v %s", be.Name(), layout, sparse, c.name)
					var d plDiff
					d.check(t, what+" enabled", got, c.arr(t, "enabled").v, 0, 0)
					mask := make([]bool, len(got))
					for i, x := range got {
						mask[i] = x != 0
					}
					rf, err := models.MaxReceptiveField(sg, mask)
					if err != nil {
						t.Fatal(err)
					}
					d.check(t, what+" max_rf", []float32{float32(rf[0]), float32(rf[1]), float32(rf[2])}, c.arr(t, "max_rf").v, 0, 0)
					t.Logf("%s: %s", what, d)
				}
			}
		}
	}
}

// Partition: its blocks (split 'auto' and given) exact; W becomes sparse
// with the union of the blocks as its structure and keeps its values;
// 'auto' on a 14 x 14 grid leaves W dense (fewer than 3 pieces).
func TestPymoNNtoStructurePartition(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, layout := range plLayouts() {
			for _, c := range plPaperLoad(t, "structure") {
				if !strings.HasPrefix(c.name, "partition_") {
					continue
				}
				n := plNet(t, be, layout, 1)
				src := plDimGroup(t, n, "S", plDim(c.arr(t, "src")), nil)
				dst := plDimGroup(t, n, "D", plDim(c.arr(t, "dst")), nil)
				part := &models.Partition{Base: core.Base{Params: core.Params{"split_size": c.param("split_size")}}}
				sg, err := n.NewSynapseGroup("GLUTAMATE", src, dst, core.Behaviors{
					0:   &models.BoxReceptiveFields{Base: core.Base{Params: core.Params{"range": c.param("range")}}},
					0.5: &models.CreateWeights{Base: core.Base{Params: core.Params{"distribution": "uniform(0.5, 1)", "normalize": "False"}}},
					1:   part,
				})
				if err != nil {
					t.Fatal(err)
				}
				// The weights before Partition, read by a behaviour between.
				var before []float32
				if err := sg.AddBehavior(0.75, &plProbe{f: func() { before = plReadMat(t, sg, sg.Var("W")) }}); err != nil {
					t.Fatal(err)
				}
				plInit(t, n)
				what := fmt.Sprintf("%s %s %s", be.Name(), layout, c.name)
				w := sg.Var("W")
				var d plDiff
				d.check(t, what+" W", plReadMat(t, sg, w), before, 0, 0)
				if c.param("partitioned") == "False" {
					if part.Blocks() != nil || backend.IsSparse(w) {
						t.Fatalf("%s: partitioned into %d blocks (W sparse %v), want none", what, len(part.Blocks()), backend.IsSparse(w))
					}
					t.Logf("%s: not partitioned, as PymoNNto", what)
					continue
				}
				db, sb := c.arr(t, "dst_blocks"), c.arr(t, "src_blocks")
				bl := part.Blocks()
				if len(bl) != db.rows {
					t.Fatalf("%s: %d blocks, want %d", what, len(bl), db.rows)
				}
				union := 0
				cover := make([]bool, src.Size*dst.Size)
				for k, b := range bl {
					d.check(t, fmt.Sprintf("%s dst block %d", what, k), plMask(b.Dst.Mask), db.row(k), 0, 0)
					d.check(t, fmt.Sprintf("%s src block %d", what, k), plMask(b.Src.Mask), sb.row(k), 0, 0)
					for _, i := range b.Dst.Index {
						for _, j := range b.Src.Index {
							if !cover[i*src.Size+j] {
								cover[i*src.Size+j] = true
								union++
							}
						}
					}
				}
				sw, ok := w.(backend.SparseTensor)
				if !ok || sw.NNZ() != union {
					t.Fatalf("%s: W is %T, want sparse with the %d entries of the blocks", what, w, union)
				}
				if en := sg.Var("enabled"); !backend.IsSparse(en) || en.Len() != union {
					t.Fatalf("%s: enabled is not sparse with W's structure", what)
				}
				t.Logf("%s: %d blocks, %d of %d synapses stored; %s", what, len(bl), union, len(cover), d)
			}
		}
	}
}

// plProbe runs f at Initialize.
type plProbe struct {
	core.Base
	f func()
}

func (p *plProbe) Initialize(core.Object) error { p.f(); return nil }
func (p *plProbe) Iteration(core.Object) error  { return nil }

// NOX_Diffusion, exact on cpu: output_new is made of multiples of 1/16,
// so every block sum is exact in any order, and the rest is float32
// arithmetic in NumPy's order; on gl within plGLDivULP (the mean is a
// division). Its blocks are compared too.
func TestPymoNNtoStructureNOX(t *testing.T) {
	for _, be := range plBackends(t) {
		for _, c := range plPaperLoad(t, "nox") {
			n := plNet(t, be, core.DxS, 1)
			out := c.arr(t, "output_new")
			nox := &models.NOXDiffusion{Base: core.Base{Params: c.paramsExcept()}}
			g := plDimGroup(t, n, "G", core.Dimension{Width: 12, Height: 11, Depth: 2, Centered: true}, core.Behaviors{
				1: &models.TimedArray{Values: out.v, Width: out.cols, Base: core.Base{Params: core.Params{"var": "output_new"}}},
				2: nox,
			})
			plInit(t, n)
			what := fmt.Sprintf("%s %s", be.Name(), c.name)
			var d plDiff
			blocks := c.arr(t, "blocks")
			k := 0
			for r := range blocks.rows {
				nonEmpty := false
				for _, x := range blocks.row(r) {
					nonEmpty = nonEmpty || x != 0
				}
				if !nonEmpty {
					continue
				}
				if k >= len(nox.Blocks()) {
					t.Fatalf("%s: %d blocks, want more", what, len(nox.Blocks()))
				}
				d.check(t, fmt.Sprintf("%s block %d", what, r), plMask(nox.Blocks()[k].Mask), blocks.row(r), 0, 0)
				k++
			}
			if k != len(nox.Blocks()) {
				t.Fatalf("%s: %d blocks, want %d", what, len(nox.Blocks()), k)
			}
			bound := int64(0)
			if be.Name() != "cpu" {
				bound = plGLDivULP
			}
			nonzero := 0
			for s := range out.rows {
				plStep(t, n)
				got := read(t, g.Var("nox"))
				d.check(t, fmt.Sprintf("%s step %d nox", what, s+1), got, c.arr(t, "nox").row(s), bound, 0)
				for _, x := range got {
					if x != 0 {
						nonzero++
					}
				}
			}
			if nonzero == 0 {
				t.Fatalf("%s: nox stayed 0", what)
			}
			t.Logf("%s: %d blocks, %d non-zero nox values; %s", what, k, nonzero, d)
		}
	}
}

func TestPymoNNtoStructureErrors(t *testing.T) {
	be := plBackends(t)[0]
	syn := func(bs core.Behaviors, w bool) func(n *core.Network) error {
		return func(n *core.Network) error {
			g, err := n.NewNeuronGroup("G", core.Dimension{Width: 21, Height: 21, Depth: 1}, nil)
			if err != nil {
				return err
			}
			sg, err := n.NewSynapseGroup("GLUTAMATE", g, g, bs)
			if err == nil && w {
				var m backend.Tensor
				if m, err = sg.Matrix("ones"); err == nil {
					err = sg.SetVar("W", m)
				}
			}
			return err
		}
	}
	for _, c := range []struct {
		name string
		b    func(n *core.Network) error
		want string
	}{
		{"partition bad split", syn(core.Behaviors{1: &models.Partition{Base: core.Base{Params: core.Params{"split_size": "2,x"}}}}, true), `split_size="2,x"`},
		{"partition no W", syn(core.Behaviors{1: &models.Partition{}}, false), "has no W"},
		{"partition weights outside", syn(core.Behaviors{0: &models.BoxReceptiveFields{Base: core.Base{Params: core.Params{"range": "1"}}}, 1: &models.Partition{}}, true), "lies outside every block"},
		{"box no range", syn(core.Behaviors{1: &models.BoxReceptiveFields{}}, false), "range is missing"},
		{"circle no radius", syn(core.Behaviors{1: &models.CircleReceptiveFields{}}, false), "radius is missing"},
		{"nox no output_new", func(n *core.Network) error {
			_, err := n.NewNeuronGroup("G", core.Size(4), core.Behaviors{1: &models.NOXDiffusion{}})
			return err
		}, `no variable "output_new" (measurement_var)`},
		{"nox bad steps", func(n *core.Network) error {
			_, err := n.NewNeuronGroup("G", core.Size(4), core.Behaviors{1: &models.NOXDiffusion{Base: core.Base{Params: core.Params{"steps": "0,1,1"}}}})
			return err
		}, `steps="0,1,1"`},
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
	n := plNet(t, be, core.DxS, 1)
	g := plDimGroup(t, n, "G", core.Size(3), nil)
	if _, err := models.PartitionMasks(g, [3]int{1, 0, 1}); err == nil || !strings.Contains(err.Error(), "steps[1]=0") {
		t.Errorf("PartitionMasks with 0 pieces: error %v", err)
	}
}
