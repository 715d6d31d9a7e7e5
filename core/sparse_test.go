package core_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/opengl/gltest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
)

func newLayoutNet(t testing.TB, seed uint64, layout core.Layout) *core.Network {
	t.Helper()
	b, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	n, err := core.NewNetwork(core.Config{Backend: b, Seed: seed, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// denseOf returns the sparse matrix w as a dense row-major matrix.
func denseOf(t testing.TB, w backend.Tensor) []float32 {
	t.Helper()
	sw, ok := w.(backend.SparseTensor)
	if !ok {
		t.Fatalf("matrix %s is not sparse", backend.Shape(w))
	}
	vals := read(t, w)
	rs, ci := sw.Structure()
	d := make([]float32, w.Rows()*w.Cols())
	for r := range w.Rows() {
		for e := rs[r]; e < rs[r+1]; e++ {
			d[r*w.Cols()+int(ci[e])] = vals[e]
		}
	}
	return d
}

// pairs returns the connected (source, destination) pairs of a group's
// matrix in the group's layout.
func pairs(t testing.TB, s *core.SynapseGroup, w backend.Tensor, layout core.Layout) map[[2]int]float32 {
	t.Helper()
	d := denseOf(t, w)
	out := map[[2]int]float32{}
	for r := range w.Rows() {
		for c := range w.Cols() {
			if v := d[r*w.Cols()+c]; v != 0 {
				if layout == core.SxD {
					out[[2]int{r, c}] = v
				} else {
					out[[2]int{c, r}] = v
				}
			}
		}
	}
	return out
}

func TestSparseMatchesDense(t *testing.T) {
	for _, layout := range []core.Layout{core.SxD, core.DxS} {
		for _, tc := range []struct {
			name  string
			build func(s *core.SynapseGroup) (backend.Tensor, error)
		}{
			{"p=0.1", func(s *core.SynapseGroup) (backend.Tensor, error) {
				return s.SparseMatrix(0.1, "uniform(0.5, 1)")
			}},
			{"p=0.3/noself", func(s *core.SynapseGroup) (backend.Tensor, error) {
				return s.SparseMatrix(0.3, "uniform(0.5, 1)", core.NoSelf())
			}},
			{"indegree=7/noself", func(s *core.SynapseGroup) (backend.Tensor, error) {
				return s.SparseMatrixInDegree(7, "uniform(0.5, 1)", core.NoSelf())
			}},
		} {
			t.Run(fmt.Sprintf("%s/%s", layout, tc.name), func(t *testing.T) {
				n := newLayoutNet(t, 11, layout)
				a, err := n.NewNeuronGroup("A", core.Size(150), nil)
				if err != nil {
					t.Fatal(err)
				}
				s, err := n.NewSynapseGroup("S", a, a, nil)
				if err != nil {
					t.Fatal(err)
				}
				w, err := tc.build(s)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.SetVar("W", w); err != nil {
					t.Fatal(err)
				}
				sw := w.(backend.SparseTensor)
				if s.Synapses() != sw.NNZ() {
					t.Errorf("Synapses() = %d, want NNZ %d", s.Synapses(), sw.NNZ())
				}
				conn := pairs(t, s, w, layout)
				if len(conn) != sw.NNZ() {
					t.Fatalf("%d non-zero weights for %d synapses (values are in [0.5, 1))", len(conn), sw.NNZ())
				}
				inDeg := make([]int, 150)
				for p := range conn {
					if p[0] == p[1] && tc.name != "p=0.1" {
						t.Fatalf("autapse %d -> %d despite NoSelf", p[0], p[0])
					}
					inDeg[p[1]]++
				}
				if tc.name == "indegree=7/noself" {
					for j, k := range inDeg {
						if k != 7 {
							t.Fatalf("destination %d has in-degree %d, want 7", j, k)
						}
					}
				} else {
					pp := 0.1
					if tc.name != "p=0.1" {
						pp = 0.3
					}
					want := pp * 150 * 150
					if got := float64(len(conn)); got < want*0.9 || got > want*1.1 {
						t.Errorf("%v synapses, want about %v", got, want)
					}
				}
				// The dense matrix of the same connectivity propagates the same spikes.
				r, c := s.Shape()
				dense, err := n.Backend().NewTensor(r, c)
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Backend().Write(dense, 0, denseOf(t, w)); err != nil {
					t.Fatal(err)
				}
				spikes := make([]float32, 150)
				for i := 0; i < 150; i += 3 {
					spikes[i] = 1
				}
				sp, _ := a.Vector("0")
				n.Backend().Write(sp, 0, spikes)
				ds, _ := a.Vector("0")
				dd, _ := a.Vector("0")
				s.Propagate(ds, w, sp, 0.5)
				s.Propagate(dd, dense, sp, 0.5)
				gs, gd := read(t, ds), read(t, dd)
				// Reference: 0.5 * sum of weights from spiking sources.
				ref := make([]float64, 150)
				for p, v := range conn {
					if spikes[p[0]] != 0 {
						ref[p[1]] += 0.5 * float64(v)
					}
				}
				for j := range gs {
					if d, e := float64(gs[j])-ref[j], float64(gs[j]-gd[j]); d > 1e-4 || d < -1e-4 || e > 1e-5 || e < -1e-5 {
						t.Fatalf("destination %d: sparse %v, dense %v, reference %v", j, gs[j], gd[j], ref[j])
					}
				}
			})
		}
	}
}

func TestSparseSameStructureEveryLayoutAndRun(t *testing.T) {
	get := func(layout core.Layout) map[[2]int]float32 {
		n := newLayoutNet(t, 5, layout)
		a, _ := n.NewNeuronGroup("A", core.Size(40), nil)
		b, _ := n.NewNeuronGroup("B", core.Size(60), nil)
		s, err := n.NewSynapseGroup("S", a, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.SparseMatrix(0.2, "1")
		if err != nil {
			t.Fatal(err)
		}
		return pairs(t, s, w, layout)
	}
	x, y, z := get(core.SxD), get(core.DxS), get(core.SxD)
	if len(x) == 0 || fmt.Sprint(x) != fmt.Sprint(y) || fmt.Sprint(x) != fmt.Sprint(z) {
		t.Fatalf("connectivity differs between layouts or runs: %d, %d, %d synapses", len(x), len(y), len(z))
	}
}

func TestSparseBuildNeverDense(t *testing.T) {
	n := newLayoutNet(t, 3, core.SxD)
	a, _ := n.NewNeuronGroup("A", core.Size(4000), nil)
	s, err := n.NewSynapseGroup("S", a, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w, err := s.SparseMatrix(0.02, "uniform(0, 1)", core.NoSelf())
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	const dense = 4000 * 4000 * 4
	nnz := w.(backend.SparseTensor).NNZ()
	if nnz < 300000 || nnz > 340000 {
		t.Errorf("%d synapses, want about 320000", nnz)
	}
	// About 4 (index) + 4 (value) + 12 (transposed index) bytes per
	// synapse and the copies made on the way: far below a dense matrix.
	if allocated > dense/4 {
		t.Errorf("building the sparse matrix allocated %d bytes; a dense 4000x4000 float32 matrix is %d", allocated, dense)
	}
	t.Logf("allocated %d bytes for %d synapses (%.1f per synapse)", allocated, nnz, float64(allocated)/float64(nnz))
}

func TestSparseErrors(t *testing.T) {
	n := newNet(t, 1)
	a, _ := n.NewNeuronGroup("A", core.Size(5), nil)
	b, _ := n.NewNeuronGroup("B", core.Size(6), nil)
	s, _ := n.NewSynapseGroup("S", a, b, nil)
	if _, err := s.SparseMatrix(1.5, "1"); err == nil {
		t.Error("p = 1.5: no error")
	}
	if _, err := s.SparseMatrixInDegree(6, "1"); err == nil {
		t.Error("in-degree 6 from 5 sources: no error")
	}
	if _, err := s.SparseMatrix(0.5, "uniform(1"); err == nil {
		t.Error("bad init string: no error")
	}
	s2, _ := n.NewSynapseGroup("S2", b, a, nil)
	w, err := s2.SparseMatrix(0.5, "1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetVar("W", w); err == nil {
		t.Error("SetVar of a 6x5 sparse matrix on a 5x6 group: no error")
	}
	full, err := s.SparseMatrix(1, "2")
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, full); len(got) != 30 || got[0] != 2 || got[29] != 2 {
		t.Errorf("p = 1: values %v, want 30 twos", got)
	}
	empty, err := s.SparseMatrix(0, "2")
	if err != nil || empty.Len() != 0 {
		t.Errorf("p = 0: %v, %v; want an empty matrix", empty, err)
	}
}

// TestSparseCrossBackend builds the same sparse group on cpu and gl: the
// structure and values are identical, and a few steps of Propagate agree.
func TestSparseCrossBackend(t *testing.T) {
	g := gltest.Open(t)
	c, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, layout := range []core.Layout{core.SxD, core.DxS} {
		var vals, out [2][]float32
		var structure [2]string
		for k, be := range []backend.Backend{c, g} {
			n, err := core.NewNetwork(core.Config{Backend: be, Seed: 21, Layout: layout})
			if err != nil {
				t.Fatal(err)
			}
			a, _ := n.NewNeuronGroup("A", core.Size(300), nil)
			s, _ := n.NewSynapseGroup("S", a, a, nil)
			w, err := s.SparseMatrixInDegree(20, "uniform(0, 1)", core.NoSelf())
			if err != nil {
				t.Fatal(err)
			}
			rs, ci := w.(backend.SparseTensor).Structure()
			structure[k] = fmt.Sprint(rs, ci)
			vals[k] = read(t, w)
			spikes, err := a.Vector("bernoulli(0.1)")
			if err != nil {
				t.Fatal(err)
			}
			dst, _ := a.Vector("0")
			for range 3 {
				s.Propagate(dst, w, spikes, 0.5)
			}
			out[k] = read(t, dst)
		}
		if structure[0] != structure[1] {
			t.Errorf("%s: the structure differs between cpu and gl", layout)
		}
		if fmt.Sprint(vals[0]) != fmt.Sprint(vals[1]) {
			t.Errorf("%s: the values differ between cpu and gl", layout)
		}
		nonzero := 0
		for i := range out[0] {
			if out[0][i] != 0 {
				nonzero++
			}
			if d := out[0][i] - out[1][i]; d > 1e-4 || d < -1e-4 {
				t.Fatalf("%s: destination %d: cpu %v, gl %v", layout, i, out[0][i], out[1][i])
			}
		}
		if nonzero < 200 {
			t.Errorf("%s: only %d of 300 destinations received input", layout, nonzero)
		}
	}
}
