package opengl

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// rbFixture is a vector, a matrix and a sparse matrix of known values on
// a gl backend, with the host copies.
type rbFixture struct {
	rows, cols int
	vec, mat   []float32
	spVals     []float32
	v, m       backend.Tensor
	w          backend.SparseTensor
}

func newRBFixture(t *testing.T, g *Backend, n, rows, cols, spRows, spCols int) *rbFixture {
	t.Helper()
	f := &rbFixture{rows: rows, cols: cols}
	f.vec = make([]float32, n)
	for i := range f.vec {
		f.vec[i] = float32(i) + 0.25
	}
	f.mat = make([]float32, rows*cols)
	for i := range f.mat {
		f.mat[i] = -float32(i) - 0.5
	}
	var err error
	if f.v, err = g.NewTensor(n, 1); err != nil {
		t.Fatal(err)
	}
	if f.m, err = g.NewTensor(rows, cols); err != nil {
		t.Fatal(err)
	}
	if err := g.Write(f.v, 0, f.vec); err != nil {
		t.Fatal(err)
	}
	if err := g.Write(f.m, 0, f.mat); err != nil {
		t.Fatal(err)
	}
	// Every other entry of a spRows x spCols matrix.
	rs := make([]int64, spRows+1)
	var ci []int32
	for r := range spRows {
		for c := r % 2; c < spCols; c += 2 {
			ci = append(ci, int32(c))
		}
		rs[r+1] = int64(len(ci))
	}
	f.spVals = make([]float32, len(ci))
	for e := range f.spVals {
		f.spVals[e] = 1000 + float32(e)
	}
	if f.w, err = g.NewSparse(spRows, spCols, rs, ci, f.spVals); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *rbFixture) column(c int) []float32 {
	out := make([]float32, f.rows)
	for r := range out {
		out[r] = f.mat[r*f.cols+c]
	}
	return out
}

func expectSame(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestReadBatchOneSync checks that a ReadBatch of 4 requests (a neuron
// group's variable, a matrix row, a matrix column and scattered sparse
// entries), after queued work, calls the GL thread once and reads the
// device once (one glGetBufferSubData), where four Reads would
// synchronise four times; and that Close frees its buffers and program.
func TestReadBatchOneSync(t *testing.T) {
	onBothPaths(t, func(g *Backend, gpu bool) {
		t.Run(fmt.Sprintf("gpu=%v", gpu), func(t *testing.T) {
			f := newRBFixture(t, g, 1000, 37, 53, 40, 30)
			backend.Affine(f.v, f.v, 1, 0) // queued work before the batch
			idx := []int32{int32(f.w.NNZ() - 1), 0, 17, 17, 3}
			reqs := []backend.ReadRequest{
				{Dst: make([]float32, 1000), T: f.v},
				{Dst: make([]float32, f.cols), T: f.m, Off: 5 * f.cols},
				{Dst: make([]float32, f.rows), T: f.m, Off: 7, Stride: f.cols},
				{Dst: make([]float32, len(idx)), T: f.w, Index: idx},
			}
			for round := range 3 {
				before := g.readBatchStats()
				if err := g.ReadBatch(reqs); err != nil {
					t.Fatal(err)
				}
				st := g.readBatchStats()
				d := readBatchStats{st.Calls - before.Calls, st.Reads - before.Reads, st.Copies - before.Copies, st.Dispatches - before.Dispatches}
				if d != (readBatchStats{Calls: 1, Reads: 1, Copies: 2, Dispatches: 2}) {
					t.Errorf("call %d: one ReadBatch of 4 requests made %d GL thread calls, %d glGetBufferSubData, %d copies, %d gathers; want 1, 1, 2, 2",
						round, d.Calls, d.Reads, d.Copies, d.Dispatches)
				}
				expectSame(t, "vector", reqs[0].Dst, f.vec)
				expectSame(t, "row 5", reqs[1].Dst, f.mat[5*f.cols:6*f.cols])
				expectSame(t, "column 7", reqs[2].Dst, f.column(7))
				want := make([]float32, len(idx))
				for k, x := range idx {
					want[k] = f.spVals[x]
				}
				expectSame(t, "sparse entries", reqs[3].Dst, want)
			}
			// Bad and empty batches do not reach the GL thread.
			before := g.readBatchStats()
			if err := g.ReadBatch([]backend.ReadRequest{{T: f.v}, {Dst: make([]float32, 2), T: f.v, Off: 999}}); err == nil {
				t.Error("a request past the end: no error")
			}
			if err := g.ReadBatch([]backend.ReadRequest{{T: f.v}, {T: f.m, Index: []int32{}}}); err != nil {
				t.Error(err)
			}
			if st := g.readBatchStats(); st != before {
				t.Errorf("bad and empty batches changed the counts from %+v to %+v", before, st)
			}
		})
	})
	g := openOrSkip(t)
	f := newRBFixture(t, g, 10, 3, 4, 3, 3)
	if err := g.ReadBatch([]backend.ReadRequest{{Dst: make([]float32, 3), T: f.m, Stride: 4}, {Dst: make([]float32, 1), T: f.w, Index: []int32{1}}}); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if bufs, progs := g.LiveObjects(); bufs != 0 || progs != 0 {
		t.Errorf("after ReadBatch and Close: %d buffers and %d programs live, want 0", bufs, progs)
	}
	if err := g.ReadBatch(nil); err == nil {
		t.Error("ReadBatch after Close: no error")
	}
}

// TestReadBatchSplit reads tensors split over many buffers (a 4 KiB
// buffer limit: 1024 elements), with batches larger than one staging
// buffer: requests cut at buffer boundaries, several rounds of one
// glGetBufferSubData each.
func TestReadBatchSplit(t *testing.T) {
	g := openHooks(t, hooks{maxBlockBytes: 4096}, backend.Options{})
	const R = 1024
	f := newRBFixture(t, g, 5000, 100, 50, 150, 60) // 4500 sparse entries
	if n := len(f.m.(*tensor).tiles); n != 5 {
		t.Fatalf("the 100x50 matrix is in %d buffers, want 5", n)
	}
	if !f.w.(*sparse).split {
		t.Fatal("the sparse matrix's values are not split over buffers")
	}
	nnz := f.w.NNZ()
	var idx []int32 // across the buffers, backwards, with repeats
	for e := nnz - 1; e >= 0; e -= 37 {
		idx = append(idx, int32(e), int32(e))
	}
	var sv []float32
	for e := 3; e < len(f.vec); e += 7 {
		sv = append(sv, f.vec[e])
	}
	var rows []float32
	for _, r := range []int{19, 20, 99} { // around a buffer boundary (20 rows each)
		rows = append(rows, f.mat[r*f.cols:(r+1)*f.cols]...)
	}
	cases := []struct {
		what string
		req  backend.ReadRequest
		want []float32
	}{
		{"whole matrix", backend.ReadRequest{T: f.m}, f.mat},
		{"column 49", backend.ReadRequest{T: f.m, Off: 49, Stride: f.cols}, f.column(49)},
		{"vector stride 7", backend.ReadRequest{T: f.v, Off: 3, Stride: 7}, sv},
		{"sparse entries", backend.ReadRequest{T: f.w, Index: idx}, nil},
		{"rows 19 20 99", backend.ReadRequest{T: f.m, Off: 19 * f.cols, Index: nil}, nil},
		{"vector 1000..1100", backend.ReadRequest{T: f.v, Off: 1000}, f.vec[1000:1100]},
		{"all sparse values", backend.ReadRequest{T: f.w}, f.spVals},
	}
	cases[3].want = make([]float32, len(idx))
	for k, x := range idx {
		cases[3].want[k] = f.spVals[x]
	}
	rowIdx := make([]int32, 0, len(rows))
	for _, r := range []int{19, 20, 99} {
		for c := range f.cols {
			rowIdx = append(rowIdx, int32((r-19)*f.cols+c))
		}
	}
	cases[4].req.Index, cases[4].want = rowIdx, rows
	reqs := make([]backend.ReadRequest, len(cases))
	total := 0
	for i, c := range cases {
		reqs[i] = c.req
		reqs[i].Dst = make([]float32, len(c.want))
		total += len(c.want)
	}
	before := g.readBatchStats()
	if err := g.ReadBatch(reqs); err != nil {
		t.Fatal(err)
	}
	st := g.readBatchStats()
	if calls, reads := st.Calls-before.Calls, st.Reads-before.Reads; calls != 1 || reads != (total+R-1)/R {
		t.Errorf("a batch of %d elements in buffers of %d made %d GL thread calls and %d glGetBufferSubData, want 1 and %d",
			total, R, calls, reads, (total+R-1)/R)
	}
	for i, c := range cases {
		expectSame(t, c.what, reqs[i].Dst, c.want)
	}
	// The same numbers as the fallback (one Read per contiguous run).
	for i, c := range cases {
		dst := make([]float32, len(c.want))
		r := c.req
		r.Dst = dst
		if err := backend.ReadBatch(struct{ backend.Backend }{g}, []backend.ReadRequest{r}); err != nil {
			t.Fatal(err)
		}
		expectSame(t, c.what+" (fallback)", dst, reqs[i].Dst)
	}
}

// TestReadBatchAllocs checks that a steady-state ReadBatch allocates
// nothing on the host.
func TestReadBatchAllocs(t *testing.T) {
	g := openOrSkip(t)
	f := newRBFixture(t, g, 1000, 37, 53, 40, 30)
	idx := []int32{5, 1, 2}
	reqs := []backend.ReadRequest{
		{Dst: make([]float32, 100), T: f.v, Off: 3},
		{Dst: make([]float32, f.rows), T: f.m, Off: 2, Stride: f.cols},
		{Dst: make([]float32, len(idx)), T: f.w, Index: idx},
	}
	if err := g.ReadBatch(reqs); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		backend.Affine(f.v, f.v, 1, 0)
		if err := g.ReadBatch(reqs); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadBatch allocates %v times per call, want 0", allocs)
	}
}
