package backendtest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// plainBackend hides a backend's BatchReader, so that backend.ReadBatch
// falls back to one Read per contiguous run.
type plainBackend struct{ backend.Backend }

// readBatchData is the fixture of the ReadBatch group: a vector, a dense
// matrix and (where the backend has Sparser) a sparse matrix, filled with
// distinct known values.
type readBatchData struct {
	rows, cols int
	vec, mat   []float32
	v, m       backend.Tensor
	sp         sparseStruct
	w          backend.SparseTensor // nil without Sparser
}

func newReadBatchData(t *testing.T, b backend.Backend) *readBatchData {
	t.Helper()
	d := &readBatchData{rows: 37, cols: 53}
	d.vec = make([]float32, 1000)
	for i := range d.vec {
		d.vec[i] = float32(i) + 0.25
	}
	d.mat = make([]float32, d.rows*d.cols)
	for i := range d.mat {
		d.mat[i] = -float32(i) - 0.5
	}
	d.v = vec(t, b, d.vec)
	d.m = FromSlice(t, b, d.rows, d.cols, d.mat)
	if sp, ok := b.(backend.Sparser); ok {
		d.sp = randomSparse(newGen(71), 60, 45, 0.2)
		for e := range d.sp.vals {
			d.sp.vals[e] = 1000 + float32(e)
		}
		d.w = newSparse(t, sp, d.sp)
	}
	return d
}

// column returns column c of the matrix.
func (d *readBatchData) column(c int) []float32 {
	out := make([]float32, d.rows)
	for r := range out {
		out[r] = d.mat[r*d.cols+c]
	}
	return out
}

// gatherRef returns the elements Off+Index[k] of data.
func gatherRef(data []float32, off int, idx []int32) []float32 {
	out := make([]float32, len(idx))
	for k, x := range idx {
		out[k] = data[off+int(x)]
	}
	return out
}

// readCase is one request with the values it must read.
type readCase struct {
	what string
	req  backend.ReadRequest
	want []float32
}

// mixed returns requests of every kind: contiguous (the vector, matrix
// rows), strided (matrix columns, a vector with stride 3), indexed (sparse
// entries in any order with repeats, matrix entries relative to a row's
// start) and empty ones.
func (d *readBatchData) mixed() []readCase {
	n := d.rows * d.cols
	cs := []readCase{
		{what: "whole vector", req: backend.ReadRequest{T: d.v}, want: d.vec},
		{what: "vector 100..349", req: backend.ReadRequest{T: d.v, Off: 100}, want: d.vec[100:350]},
		{what: "row 0", req: backend.ReadRequest{T: d.m}, want: d.mat[:d.cols]},
		{what: "row 5, Stride 1", req: backend.ReadRequest{T: d.m, Off: 5 * d.cols, Stride: 1}, want: d.mat[5*d.cols : 6*d.cols]},
		{what: "last row", req: backend.ReadRequest{T: d.m, Off: n - d.cols}, want: d.mat[n-d.cols:]},
		{what: "empty, Off = Len", req: backend.ReadRequest{T: d.m, Off: n}},
		{what: "column 0", req: backend.ReadRequest{T: d.m, Off: 0, Stride: d.cols}, want: d.column(0)},
		{what: "column 17", req: backend.ReadRequest{T: d.m, Off: 17, Stride: d.cols}, want: d.column(17)},
		{what: "last column", req: backend.ReadRequest{T: d.m, Off: d.cols - 1, Stride: d.cols}, want: d.column(d.cols - 1)},
		{what: "column 3, rows 0..9", req: backend.ReadRequest{T: d.m, Off: 3, Stride: d.cols}, want: d.column(3)[:10]},
		{what: "vector stride 3 from 2", req: backend.ReadRequest{T: d.v, Off: 2, Stride: 3}},
		{what: "one element, huge stride", req: backend.ReadRequest{T: d.v, Off: 999, Stride: math.MaxInt}, want: d.vec[999:]},
		{what: "empty strided", req: backend.ReadRequest{T: d.m, Off: 4, Stride: d.cols}},
		{what: "matrix row 3, columns 52 0 7 7", req: backend.ReadRequest{T: d.m, Off: 3 * d.cols, Index: []int32{52, 0, 7, 7}},
			want: gatherRef(d.mat, 3*d.cols, []int32{52, 0, 7, 7})},
		{what: "index below Off", req: backend.ReadRequest{T: d.v, Off: 500, Index: []int32{-500, 499, -1, 0}}, want: []float32{d.vec[0], d.vec[999], d.vec[499], d.vec[500]}},
		{what: "empty index", req: backend.ReadRequest{T: d.v, Index: []int32{}}},
	}
	var st []float32
	for e := 2; e < len(d.vec); e += 3 {
		st = append(st, d.vec[e])
	}
	for i := range cs {
		if cs[i].what == "vector stride 3 from 2" {
			cs[i].want = st
		}
	}
	if d.w != nil {
		nnz := d.w.NNZ()
		idx := []int32{int32(nnz - 1), 0, 5, 5, 17, int32(nnz / 2), 1, 2, 3, 4}
		all := make([]int32, nnz)
		for e := range all {
			all[e] = int32(nnz - 1 - e) // every entry, last first
		}
		cs = append(cs,
			readCase{what: "sparse entries", req: backend.ReadRequest{T: d.w, Index: idx}, want: gatherRef(d.sp.vals, 0, idx)},
			readCase{what: "all sparse entries reversed", req: backend.ReadRequest{T: d.w, Index: all}, want: gatherRef(d.sp.vals, 0, all)},
			readCase{what: "sparse values 3.. contiguous", req: backend.ReadRequest{T: d.w, Off: 3}, want: d.sp.vals[3:]},
			readCase{what: "sparse values stride 4", req: backend.ReadRequest{T: d.w, Off: 1, Stride: 4}, want: stridedRef(d.sp.vals, 1, 4)},
		)
	}
	for i := range cs {
		if cs[i].req.Dst == nil && len(cs[i].want) > 0 {
			cs[i].req.Dst = make([]float32, len(cs[i].want))
		}
	}
	return cs
}

func stridedRef(data []float32, off, s int) []float32 {
	var out []float32
	for e := off; e < len(data); e += s {
		out = append(out, data[e])
	}
	return out
}

// reqsOf returns the requests of cs, with every Dst set to a sentinel.
func reqsOf(cs []readCase) []backend.ReadRequest {
	reqs := make([]backend.ReadRequest, len(cs))
	for i, c := range cs {
		reqs[i] = c.req
		for k := range reqs[i].Dst {
			reqs[i].Dst[k] = 12345
		}
	}
	return reqs
}

// readBatch runs backend.ReadBatch, turning an error into a test failure.
func readBatch(t *testing.T, b backend.Backend, reqs []backend.ReadRequest) {
	t.Helper()
	if err := backend.ReadBatch(b, reqs); err != nil {
		t.Fatalf("ReadBatch of %d requests: %v", len(reqs), err)
	}
}

func expectCases(t *testing.T, cs []readCase, reqs []backend.ReadRequest) {
	t.Helper()
	for i, c := range cs {
		expectExact(t, fmt.Sprintf("request %d (%s)", i, c.what), reqs[i].Dst, c.want)
	}
}

// testReadBatch checks backend.ReadBatch (through the backend's
// BatchReader where it has one, and through the fallback): contiguous,
// strided and indexed requests of dense and sparse tensors, alone and
// together, after queued work, empty requests, and that bad requests are
// errors that name the request, returned before anything is read.
func testReadBatch(t *testing.T, s *suite) {
	b := s.b
	d := newReadBatchData(t, b)
	if _, ok := b.(backend.BatchReader); !ok {
		t.Logf("backend %s has no BatchReader: backend.ReadBatch falls back to Read", b.Name())
	}

	run(t, "each request alone", func(t *testing.T) {
		for _, c := range d.mixed() {
			reqs := reqsOf([]readCase{c})
			readBatch(t, b, reqs)
			expectExact(t, c.what, reqs[0].Dst, c.want)
		}
	})

	run(t, "contiguous", func(t *testing.T) {
		cs := d.mixed()[:5]
		reqs := reqsOf(cs)
		readBatch(t, b, reqs)
		expectCases(t, cs, reqs)
	})

	run(t, "columns", func(t *testing.T) {
		var cs []readCase
		for c := range d.cols {
			cs = append(cs, readCase{what: fmt.Sprintf("column %d", c),
				req: backend.ReadRequest{Dst: make([]float32, d.rows), T: d.m, Off: c, Stride: d.cols}, want: d.column(c)})
		}
		reqs := reqsOf(cs)
		readBatch(t, b, reqs)
		expectCases(t, cs, reqs)
	})

	run(t, "all kinds in one batch", func(t *testing.T) {
		cs := d.mixed()
		reqs := reqsOf(cs)
		readBatch(t, b, reqs)
		expectCases(t, cs, reqs)
		// Again with the same requests: kept buffers are reused.
		reqs = reqsOf(cs)
		readBatch(t, b, reqs)
		expectCases(t, cs, reqs)
	})

	run(t, "sparse entries", func(t *testing.T) {
		if d.w == nil {
			t.Skipf("backend %s has no Sparser", b.Name())
		}
		// The entries of rows 7 and 40 (by their positions in the
		// compressed rows), and column 3 (the entries whose column is 3).
		var idx []int32
		var want []float32
		for _, r := range []int{7, 40} {
			for e := d.sp.rowStart[r]; e < d.sp.rowStart[r+1]; e++ {
				idx = append(idx, int32(e))
				want = append(want, d.sp.vals[e])
			}
		}
		var cidx []int32
		var cwant []float32
		for e, c := range d.sp.colIdx {
			if c == 3 {
				cidx = append(cidx, int32(e))
				cwant = append(cwant, d.sp.vals[e])
			}
		}
		cs := []readCase{
			{what: "rows 7 and 40", req: backend.ReadRequest{Dst: make([]float32, len(idx)), T: d.w, Index: idx}, want: want},
			{what: "column 3", req: backend.ReadRequest{Dst: make([]float32, len(cidx)), T: d.w, Index: cidx}, want: cwant},
		}
		reqs := reqsOf(cs)
		readBatch(t, b, reqs)
		expectCases(t, cs, reqs)
	})

	run(t, "after queued work", func(t *testing.T) {
		v := vec(t, b, d.vec)
		m := FromSlice(t, b, d.rows, d.cols, d.mat)
		wantV, wantM := clone(d.vec), clone(d.mat)
		// A small Write (queued by the gl backend), then operations.
		patch := []float32{7, 8, 9}
		if err := b.Write(v, 10, patch); err != nil {
			t.Fatal(err)
		}
		copy(wantV[10:], patch)
		backend.Affine(m, m, 2, 1) // exact: small numbers of quarters and halves
		for i := range wantM {
			wantM[i] = 2*wantM[i] + 1
		}
		var w backend.SparseTensor
		var wantW []float32
		if sp, ok := b.(backend.Sparser); ok {
			w = newSparse(t, sp, d.sp)
			backend.Fill(w, 0.5)
			wantW = make([]float32, w.NNZ())
			for e := range wantW {
				wantW[e] = 0.5
			}
		}
		// A fused kernel last: the cpu backend queues its runs until an
		// operation or a read needs the tensors.
		{
			f := b
			p, err := expr.Compile("x = x*2 - 3", expr.Env{Tensors: []string{"x"}})
			if err != nil {
				t.Fatal(err)
			}
			k, err := f.Fuse(p)
			if err != nil {
				t.Fatalf("Fuse: %v", err)
			}
			defer k.Release()
			k.Run([]backend.Tensor{v}, nil, rng.Key{})
			for i := range wantV {
				wantV[i] = wantV[i]*2 - 3
			}
		}
		col := make([]float32, d.rows)
		for r := range col {
			col[r] = wantM[r*d.cols+5]
		}
		cs := []readCase{
			{what: "vector 5..14", req: backend.ReadRequest{Dst: make([]float32, 10), T: v, Off: 5}, want: wantV[5:15]},
			{what: "matrix column 5", req: backend.ReadRequest{Dst: make([]float32, d.rows), T: m, Off: 5, Stride: d.cols}, want: col},
			{what: "matrix entries", req: backend.ReadRequest{Dst: make([]float32, 3), T: m, Index: []int32{0, 100, 1960}},
				want: gatherRef(wantM, 0, []int32{0, 100, 1960})},
		}
		if w != nil {
			cs = append(cs, readCase{what: "sparse entries", req: backend.ReadRequest{Dst: make([]float32, 2), T: w, Index: []int32{0, int32(w.NNZ() - 1)}},
				want: wantW[:2]})
		}
		reqs := reqsOf(cs)
		readBatch(t, b, reqs)
		expectCases(t, cs, reqs)
	})

	run(t, "empty", func(t *testing.T) {
		for _, reqs := range [][]backend.ReadRequest{
			nil,
			{},
			{{T: d.v}, {T: d.m, Off: d.m.Len()}, {T: d.v, Stride: 7}, {T: d.v, Off: 3, Index: []int32{}}},
		} {
			if err := backend.ReadBatch(b, reqs); err != nil {
				t.Errorf("ReadBatch of %d empty requests: %v", len(reqs), err)
			}
		}
		// Empty requests among others.
		cs := []readCase{
			{what: "empty", req: backend.ReadRequest{T: d.v}},
			{what: "vector 0..2", req: backend.ReadRequest{Dst: make([]float32, 3), T: d.v}, want: d.vec[:3]},
			{what: "empty", req: backend.ReadRequest{T: d.m, Off: 1, Stride: 5}},
			{what: "column 1", req: backend.ReadRequest{Dst: make([]float32, d.rows), T: d.m, Off: 1, Stride: d.cols}, want: d.column(1)},
			{what: "empty", req: backend.ReadRequest{T: d.m, Index: []int32{}}},
		}
		reqs := reqsOf(cs)
		readBatch(t, b, reqs)
		expectCases(t, cs, reqs)
	})

	run(t, "bad requests are errors", func(t *testing.T) { testReadBatchErrors(t, b, d) })

	run(t, "without BatchReader", func(t *testing.T) {
		pb := plainBackend{b}
		if _, ok := any(pb).(backend.BatchReader); ok {
			t.Fatal("plainBackend implements BatchReader")
		}
		cs := d.mixed()
		direct, fallback := reqsOf(cs), reqsOf(cs)
		readBatch(t, b, direct)
		readBatch(t, pb, fallback)
		for i, c := range cs {
			expectExact(t, fmt.Sprintf("fallback request %d (%s)", i, c.what), fallback[i].Dst, direct[i].Dst)
			expectExact(t, fmt.Sprintf("fallback request %d (%s) against the reference", i, c.what), fallback[i].Dst, c.want)
		}
		testReadBatchErrors(t, pb, d)
	})
}

// testReadBatchErrors checks that each bad request is an error (not a
// panic) naming its number and tensor, equal to CheckReadRequest's, and
// that nothing was read: the sentinels of a good request before it are
// unchanged. The backend works afterwards.
func testReadBatchErrors(t *testing.T, b backend.Backend, d *readBatchData) {
	t.Helper()
	n := d.rows * d.cols
	shape := backend.Shape(d.m)
	type bad struct {
		what  string
		req   backend.ReadRequest
		wants []string // in the message besides "request 1"
	}
	f := func(k int) []float32 { return make([]float32, k) }
	cases := []bad{
		{"nil tensor", backend.ReadRequest{Dst: f(3)}, []string{"nil tensor"}},
		{"nil tensor, empty", backend.ReadRequest{}, []string{"nil tensor"}},
		{"negative offset", backend.ReadRequest{Dst: f(3), T: d.m, Off: -1}, []string{shape, "-1"}},
		{"offset past the end", backend.ReadRequest{T: d.m, Off: n + 1}, []string{shape, fmt.Sprint(n + 1)}},
		{"range past the end", backend.ReadRequest{Dst: f(10), T: d.m, Off: n - 5}, []string{shape, fmt.Sprintf("[%d, %d)", n-5, n+5)}},
		{"one element at Len", backend.ReadRequest{Dst: f(1), T: d.m, Off: n}, []string{shape}},
		{"column one row too long", backend.ReadRequest{Dst: f(d.rows + 1), T: d.m, Off: 3, Stride: d.cols}, []string{shape, fmt.Sprint(3 + d.rows*d.cols)}},
		{"strided from Len", backend.ReadRequest{Dst: f(2), T: d.m, Off: n, Stride: 2}, []string{shape}},
		{"negative stride", backend.ReadRequest{Dst: f(2), T: d.m, Off: 100, Stride: -d.cols}, []string{shape, "negative stride"}},
		{"huge stride", backend.ReadRequest{Dst: f(2), T: d.m, Stride: math.MaxInt}, []string{shape}},
		{"huge stride from 1", backend.ReadRequest{Dst: f(3), T: d.m, Off: 1, Stride: math.MaxInt / 2}, []string{shape}},
		{"short index", backend.ReadRequest{Dst: f(3), T: d.m, Index: []int32{0, 1}}, []string{"Index has 2"}},
		{"empty non-nil index", backend.ReadRequest{Dst: f(3), T: d.m, Index: []int32{}}, []string{"Index has 0"}},
		{"index past the end", backend.ReadRequest{Dst: f(3), T: d.m, Index: []int32{0, int32(n), 1}}, []string{shape, "Index[1]"}},
		{"index past the end from Off", backend.ReadRequest{Dst: f(2), T: d.m, Off: n - 1, Index: []int32{0, 1}}, []string{shape, "Index[1]"}},
		{"index before 0", backend.ReadRequest{Dst: f(1), T: d.m, Off: 2, Index: []int32{-3}}, []string{shape, "Index[0]"}},
		{"index extremes", backend.ReadRequest{Dst: f(2), T: d.m, Off: n, Index: []int32{math.MinInt32, math.MaxInt32}}, []string{shape, "Index[0]"}},
	}
	if d.w != nil {
		cases = append(cases,
			bad{"sparse index at NNZ", backend.ReadRequest{Dst: f(1), T: d.w, Index: []int32{int32(d.w.NNZ())}}, []string{backend.Shape(d.w), fmt.Sprint(d.w.NNZ())}},
			bad{"sparse range past NNZ", backend.ReadRequest{Dst: f(d.w.NNZ() + 1), T: d.w}, []string{backend.Shape(d.w)}},
		)
	}
	for _, c := range cases {
		good := f(4)
		for k := range good {
			good[k] = 12345
		}
		reqs := []backend.ReadRequest{{Dst: good, T: d.v}, c.req, {Dst: f(2), T: d.v}}
		for k := range c.req.Dst {
			c.req.Dst[k] = 12345
		}
		var err error
		if msg, p := catch(func() { err = backend.ReadBatch(b, reqs) }); p {
			t.Errorf("%s: ReadBatch panicked (%s), want an error", c.what, msg)
			continue
		}
		if err == nil {
			t.Errorf("%s: ReadBatch returned no error", c.what)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "request 1") {
			t.Errorf("%s: error %q does not name the request (request 1)", c.what, msg)
		}
		for _, w := range c.wants {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: error %q does not mention %q", c.what, msg, w)
			}
		}
		if want := backend.CheckReadRequest(1, c.req); want == nil || want.Error() != msg {
			t.Errorf("%s: error %q differs from CheckReadRequest's %v", c.what, msg, want)
		}
		expectExact(t, c.what+": request 0 (must not be read before the error)", good, []float32{12345, 12345, 12345, 12345})
		for k, x := range c.req.Dst {
			if x != 12345 {
				t.Errorf("%s: Dst[%d] of the bad request was written (%v)", c.what, k, x)
				break
			}
		}
	}
	// The backend still works.
	cs := d.mixed()
	reqs := reqsOf(cs)
	readBatch(t, b, reqs)
	expectCases(t, cs, reqs)
}
