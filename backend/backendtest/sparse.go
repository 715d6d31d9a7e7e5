package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// sparseStruct is a random compressed-row structure with values.
type sparseStruct struct {
	rows, cols int
	rowStart   []int64
	colIdx     []int32
	vals       []float32
}

// randomSparse draws a rows x cols structure: every entry is present with
// probability p, and about a fifth of the rows (always the first when
// there are several) are empty.
func randomSparse(g *gen, rows, cols int, p float64) sparseStruct {
	s := sparseStruct{rows: rows, cols: cols, rowStart: make([]int64, rows+1)}
	for r := range rows {
		empty := rows > 1 && (r == 0 || g.r.Float64() < 0.2)
		for c := range cols {
			if !empty && g.r.Float64() < p {
				s.colIdx = append(s.colIdx, int32(c))
			}
		}
		s.rowStart[r+1] = int64(len(s.colIdx))
	}
	s.vals = g.uniform(len(s.colIdx), -1, 1)
	return s
}

// dense returns the structure with values v as a dense row-major matrix.
func (s sparseStruct) dense(v []float32) []float32 {
	d := make([]float32, s.rows*s.cols)
	for r := range s.rows {
		for e := s.rowStart[r]; e < s.rowStart[r+1]; e++ {
			d[r*s.cols+int(s.colIdx[e])] = v[e]
		}
	}
	return d
}

// stored picks the stored entries (in entry order) out of a dense matrix.
func (s sparseStruct) stored(d []float64) []float64 {
	out := make([]float64, len(s.colIdx))
	for r := range s.rows {
		for e := s.rowStart[r]; e < s.rowStart[r+1]; e++ {
			out[e] = d[r*s.cols+int(s.colIdx[e])]
		}
	}
	return out
}

func newSparse(t testing.TB, sp backend.Sparser, s sparseStruct) backend.SparseTensor {
	t.Helper()
	w, err := sp.NewSparse(s.rows, s.cols, s.rowStart, s.colIdx, s.vals)
	if err != nil {
		t.Fatalf("NewSparse(%d, %d, %d entries): %v", s.rows, s.cols, len(s.colIdx), err)
	}
	return w
}

var sparseShapes = []struct {
	rows, cols int
	p          float64
}{
	{1, 1, 1}, {37, 53, 0.1}, {53, 37, 0.5}, {40, 30, 1}, {20, 25, 0},
	{300, 1000, 0.02}, {1000, 300, 0.05}, {1, 100, 0.3}, {100, 1, 0.3},
}

func testSparse(t *testing.T, s *suite) {
	b := s.b
	sp, ok := b.(backend.Sparser)
	if !ok {
		t.Skipf("backend %s does not implement backend.Sparser", b.Name())
	}
	for k, sh := range sparseShapes {
		g := newGen(uint64(1400 + k))
		st := randomSparse(g, sh.rows, sh.cols, sh.p)
		dv := st.dense(st.vals)
		name := fmt.Sprintf("%dx%d/p=%g", sh.rows, sh.cols, sh.p)
		run(t, name+"/structure", func(t *testing.T) {
			w := newSparse(t, sp, st)
			if w.Rows() != st.rows || w.Cols() != st.cols || w.Len() != len(st.colIdx) || w.NNZ() != len(st.colIdx) {
				t.Fatalf("shape %dx%d Len %d NNZ %d, want %dx%d with %d entries", w.Rows(), w.Cols(), w.Len(), w.NNZ(), st.rows, st.cols, len(st.colIdx))
			}
			if !backend.IsSparse(w) {
				t.Error("IsSparse is false for a sparse matrix")
			}
			if got, want := w.MaxRowLen(), backend.MaxRowLen(st.rowStart); got != want {
				t.Errorf("MaxRowLen = %d, want %d", got, want)
			}
			rs, ci := w.Structure()
			if fmt.Sprint(rs) != fmt.Sprint(st.rowStart) || fmt.Sprint(ci) != fmt.Sprint(st.colIdx) {
				t.Error("Structure differs from the structure given to NewSparse")
			}
			expectExact(t, "values", ReadAll(t, b, w), st.vals)
		})
		for _, trans := range []bool{false, true} {
			outN, inN := st.rows, st.cols
			if trans {
				outN, inN = st.cols, st.rows
			}
			for _, sf := range spikeFractions {
				mv := g.mask(inN, sf.p)
				d0 := g.uniform(outN, -2, 2)
				for _, alpha := range []float32{1, -0.75} {
					run(t, fmt.Sprintf("%s/Propagate/trans=%t/%s/alpha=%g", name, trans, sf.name, alpha), func(t *testing.T) {
						w, m := newSparse(t, sp, st), vec(t, b, mv)
						d, dd := vec(t, b, d0), vec(t, b, d0)
						b.Propagate(d, w, trans, m, alpha)
						want, tol := propagateRef(dv, st.rows, st.cols, trans, mv, d0, alpha)
						got := ReadAll(t, b, d)
						expectClose(t, "dst", got, want, tol)
						// The dense matrix of the same structure on the same backend.
						b.Propagate(dd, FromSlice(t, b, st.rows, st.cols, dv), trans, m, alpha)
						dense := ReadAll(t, b, dd)
						dw := make([]float64, len(dense))
						for i, v := range dense {
							dw[i] = float64(v)
						}
						expectClose(t, "dst against the dense matrix", got, dw, tol)
						expectExact(t, "values (must be unchanged)", ReadAll(t, b, w), st.vals)
					})
				}
			}
			xv := g.uniform(inN, -1, 1)
			for _, ab := range [][2]float32{{1, 0}, {-1.5, 1}, {2, -0.5}, {0, 1}} {
				alpha, beta := ab[0], ab[1]
				run(t, fmt.Sprintf("%s/MatVec/trans=%t/alpha=%g,beta=%g", name, trans, alpha, beta), func(t *testing.T) {
					w, x, d := newSparse(t, sp, st), vec(t, b, xv), vec(t, b, d0Of(g, outN))
					d0 := ReadAll(t, b, d)
					b.MatVec(d, w, trans, x, alpha, beta)
					want, tol := matVecRef(dv, st.rows, st.cols, trans, xv, d0, alpha, beta)
					expectClose(t, "dst", ReadAll(t, b, d), want, tol)
				})
			}
		}
		run(t, name+"/elementwise on values", func(t *testing.T) {
			w := newSparse(t, sp, st)
			backend.Affine(w, w, 2, 0.5)
			want := make([]float32, len(st.vals))
			for i, v := range st.vals {
				want[i] = float32(2*v) + 0.5
			}
			expectExact(t, "Affine", ReadAll(t, b, w), want)
			backend.Clip(w, w, -1, 1.5)
			for i := range want {
				want[i] = min(max(want[i], -1), 1.5)
			}
			expectExact(t, "Clip", ReadAll(t, b, w), want)
			sum := newTensor(t, b, 1, 1)
			b.Reduce(backend.Sum, sum, 0, w)
			var ref, abs float64
			for _, v := range want {
				ref += float64(v)
				abs += math.Abs(float64(v))
			}
			expectClose(t, "Reduce(Sum)", ReadAll(t, b, sum), []float64{ref}, []float64{1e-5*abs + 1e-6})
			key := rng.Key{Seed: 7, Counter: uint64(k)}
			d := rng.UniformDist(0, 0.5)
			b.Random(w, d, key)
			for i := range want {
				want[i] = rng.Sample(d, key, uint64(i))
			}
			expectBits(t, "Random", ReadAll(t, b, w), want, identity)
			backend.Fill(w, 0.25)
			for i := range want {
				want[i] = 0.25
			}
			expectExact(t, "Fill", ReadAll(t, b, w), want)
			if len(want) > 0 {
				if err := b.Write(w, len(want)-1, []float32{3}); err != nil {
					t.Fatalf("Write: %v", err)
				}
				want[len(want)-1] = 3
				expectExact(t, "Write", ReadAll(t, b, w), want)
			}
		})
		for _, c := range []outerCase{{}, {rowMask: true, colMask: true, u: true, v: true}, {rowMask: true, soft: true, clip: true, v: true}, {colMask: true, u: true, clip: true}} {
			run(t, fmt.Sprintf("%s/Outer/%s", name, c), func(t *testing.T) {
				gg := newGen(uint64(1500 + k))
				rmv, cmv := gg.mask(st.rows, 0.3), gg.mask(st.cols, 0.3)
				uv, vv := gg.uniform(st.rows, -2, 2), gg.uniform(st.cols, -2, 2)
				p := backend.OuterParams{Alpha: 0.25, Soft: c.soft, Target: 1.5, Clip: c.clip, Lo: -0.2, Hi: 0.6}
				w := newSparse(t, sp, st)
				var rm, cm, u, v backend.Tensor
				var rmh, cmh, uh, vh []float32
				if c.rowMask {
					rm, rmh = vec(t, b, rmv), rmv
				}
				if c.colMask {
					cm, cmh = vec(t, b, cmv), cmv
				}
				if c.u {
					u, uh = vec(t, b, uv), uv
				}
				if c.v {
					v, vh = vec(t, b, vv), vv
				}
				b.Outer(w, rm, cm, u, v, p)
				want, tol := outerRef(dv, st.rows, st.cols, rmh, cmh, uh, vh, p)
				expectClose(t, "stored values", ReadAll(t, b, w), st.stored(want), st.stored(tol))
			})
		}
		for _, axis := range []backend.Axis{backend.Rows, backend.Cols} {
			run(t, fmt.Sprintf("%s/Normalize/axis=%d", name, axis), func(t *testing.T) {
				pos := make([]float32, len(st.vals))
				for i, v := range st.vals {
					pos[i] = float32(math.Abs(float64(v)))
				}
				w := newSparse(t, sp, st)
				if err := b.Write(w, 0, pos); err != nil {
					t.Fatalf("Write: %v", err)
				}
				b.Normalize(w, axis, 2.5)
				want := st.stored(normalizeRef(st.dense(pos), st.rows, st.cols, axis, 2.5))
				expectClose(t, "stored values", ReadAll(t, b, w), want, relTol(want, normRel, 0))
			})
		}
	}
	run(t, "hand computed", func(t *testing.T) {
		// [[0 2 0] [0 0 0] [1 0 3]]
		w, err := sp.NewSparse(3, 3, []int64{0, 1, 1, 3}, []int32{1, 0, 2}, []float32{2, 1, 3})
		if err != nil {
			t.Fatal(err)
		}
		d := newTensor(t, b, 3, 1)
		b.Propagate(d, w, true, vec(t, b, []float32{1, 1, 1}), 1) // row sums into columns
		expectExact(t, "Propagate trans", ReadAll(t, b, d), []float32{1, 2, 3})
		d2 := newTensor(t, b, 3, 1)
		b.Propagate(d2, w, false, vec(t, b, []float32{0, 1, 1}), 2) // columns 1 and 2
		expectExact(t, "Propagate", ReadAll(t, b, d2), []float32{4, 0, 6})
		d3 := newTensor(t, b, 3, 1)
		b.MatVec(d3, w, false, vec(t, b, []float32{1, 10, 100}), 1, 0)
		expectExact(t, "MatVec", ReadAll(t, b, d3), []float32{20, 0, 301})
		b.MatVec(d3, w, true, vec(t, b, []float32{1, 10, 100}), 1, 0)
		expectExact(t, "MatVec trans", ReadAll(t, b, d3), []float32{100, 2, 300})
	})
	run(t, "malformed structures", func(t *testing.T) {
		for _, c := range []struct {
			name     string
			rows     int
			rowStart []int64
			colIdx   []int32
			vals     []float32
		}{
			{"short rowStart", 2, []int64{0, 1}, []int32{0}, nil},
			{"column out of range", 1, []int64{0, 1}, []int32{3}, nil},
			{"unsorted row", 1, []int64{0, 2}, []int32{2, 1}, nil},
			{"duplicate column", 1, []int64{0, 2}, []int32{1, 1}, nil},
			{"end is not nnz", 1, []int64{0, 1}, []int32{0, 1}, nil},
			{"values of the wrong length", 1, []int64{0, 1}, []int32{0}, []float32{1, 2}},
		} {
			if _, err := sp.NewSparse(c.rows, 3, c.rowStart, c.colIdx, c.vals); err == nil {
				t.Errorf("%s: NewSparse returned no error", c.name)
			}
		}
	})
}

// d0Of returns n values in [-2, 2).
func d0Of(g *gen, n int) []float32 { return g.uniform(n, -2, 2) }

// RandomCSR draws a rows x cols structure with entry probability p and
// values in [-1, 1); every third row is empty. The same seed gives
// the same matrix, for tests of several backends.
func RandomCSR(seed uint64, rows, cols int, p float64) ([]int64, []int32, []float32) {
	r := rand.New(rand.NewPCG(seed, 1))
	rs := make([]int64, rows+1)
	var ci []int32
	var vals []float32
	for i := range rows {
		for j := range cols {
			if i%3 != 1 && r.Float64() < p {
				ci = append(ci, int32(j))
				vals = append(vals, float32(2*r.Float64()-1))
			}
		}
		rs[i+1] = int64(len(ci))
	}
	return rs, ci, vals
}
