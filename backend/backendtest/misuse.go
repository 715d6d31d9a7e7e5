package backendtest

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// testMisuse checks that programmer errors panic at the call with a message
// that says "mismatch" or names the offending shape, and that the backend
// still works afterwards.
func testMisuse(t *testing.T, s *suite) {
	b := s.b
	t34 := newTensor(t, b, 3, 4)
	t25 := newTensor(t, b, 2, 5)
	t31 := newTensor(t, b, 3, 1)
	t41 := newTensor(t, b, 4, 1)
	t51 := newTensor(t, b, 5, 1)

	run(t, "Binary length mismatch", func(t *testing.T) {
		expectPanic(t, "Binary(add, 3x4, 3x4, 2x5)", func() { backend.Binary(backend.Add, t34, t34, t25) }, "mismatch", "2x5")
		expectPanic(t, "Binary(add, 2x5, 3x4, 3x4)", func() { backend.Binary(backend.Add, t25, t34, t34) }, "mismatch", "2x5")
	})
	run(t, "elementwise length mismatch", func(t *testing.T) {
		expectPanic(t, "BinaryScalar", func() { backend.BinaryScalar(backend.Mul, t25, t34, 2) }, "mismatch", "2x5", "3x4")
		expectPanic(t, "Unary", func() { backend.Unary(backend.Exp, t25, t34) }, "mismatch", "2x5", "3x4")
		expectPanic(t, "Copy", func() { backend.Copy(t25, t34) }, "mismatch", "2x5", "3x4")
		expectPanic(t, "Affine", func() { backend.Affine(t25, t34, 1, 0) }, "mismatch", "2x5", "3x4")
		expectPanic(t, "Axpy", func() { backend.Axpy(t34, 1, t25) }, "mismatch", "2x5", "3x4")
		expectPanic(t, "Where", func() { backend.Where(t34, t25, t34) }, "mismatch", "2x5", "3x4")
		expectPanic(t, "WhereScalar", func() { backend.WhereScalar(t34, t25, 1) }, "mismatch", "2x5", "3x4")
		expectPanic(t, "Clip", func() { backend.Clip(t34, t25, 0, 1) }, "mismatch", "2x5", "3x4")
	})
	run(t, "MatVec shape mismatch", func(t *testing.T) {
		d3 := newTensor(t, b, 3, 1)
		expectPanic(t, "MatVec(3x1, 3x4, false, 3x1)", func() { b.MatVec(d3, t34, false, t31, 1, 0) }, "mismatch", "3x1")
		expectPanic(t, "MatVec(5x1, 3x4, false, 4x1)", func() { b.MatVec(t51, t34, false, t41, 1, 0) }, "mismatch", "5x1")
		expectPanic(t, "MatVec(4x1, 3x4, true, 4x1)", func() { b.MatVec(newTensor(t, b, 4, 1), t34, true, t41, 1, 0) }, "mismatch", "4x1")
		expectPanic(t, "MatVec(3x1, 3x4, true, 3x1)", func() { b.MatVec(d3, t34, true, t31, 1, 0) }, "mismatch", "3x1")
	})
	run(t, "Propagate shape mismatch", func(t *testing.T) {
		expectPanic(t, "Propagate(3x1, 3x4, false, mask 5x1)", func() { b.Propagate(t31, t34, false, t51, 1) }, "mismatch", "5x1")
		expectPanic(t, "Propagate(3x1, 3x4, true, mask 3x1)", func() { b.Propagate(t31, t34, true, t31, 1) }, "mismatch", "3x1")
	})
	run(t, "Outer shape mismatch", func(t *testing.T) {
		p := backend.OuterParams{Alpha: 1}
		expectPanic(t, "Outer u 5x1", func() { b.Outer(t34, nil, nil, t51, nil, p) }, "mismatch", "5x1")
		expectPanic(t, "Outer v 3x1", func() { b.Outer(t34, nil, nil, nil, t31, p) }, "mismatch", "3x1")
		expectPanic(t, "Outer rowMask 4x1", func() { b.Outer(t34, t41, nil, nil, nil, p) }, "mismatch", "4x1")
		expectPanic(t, "Outer colMask 5x1", func() { b.Outer(t34, nil, t51, nil, nil, p) }, "mismatch", "5x1")
	})
	run(t, "range outside tensor", func(t *testing.T) {
		expectPanic(t, "CopyRange past the end of src", func() { b.CopyRange(t34, 0, t25, 5, 6) }, "outside", "range", "2x5")
		expectPanic(t, "CopyRange past the end of dst", func() { b.CopyRange(t25, 8, t34, 0, 3) }, "outside", "range", "2x5")
		expectPanic(t, "CopyRange negative offset", func() { b.CopyRange(t25, -1, t34, 0, 3) }, "outside", "range", "2x5")
		expectPanic(t, "Reduce into dst[5] of 5", func() { b.Reduce(backend.Sum, t51, 5, t34) }, "outside", "range", "5x1")
	})
	run(t, "invalid operation", func(t *testing.T) {
		expectPanic(t, "Binary(BinaryOp(200))", func() { backend.Binary(backend.BinaryOp(200), t34, t34, t34) }, "200")
		expectPanic(t, "BinaryScalar(BinaryOp(200))", func() { backend.BinaryScalar(backend.BinaryOp(200), t34, t34, 1) }, "200")
		expectPanic(t, "Unary(UnaryOp(200))", func() { backend.Unary(backend.UnaryOp(200), t34, t34) }, "200")
		expectPanic(t, "Reduce(ReduceOp(200))", func() { b.Reduce(backend.ReduceOp(200), t51, 0, t34) }, "200")
	})
	run(t, "tensor of another backend", func(t *testing.T) {
		other := s.openBackend(t)
		f26 := newTensor(t, other, 2, 6) // same Len as 3x4
		f41 := newTensor(t, other, 4, 1)
		expectPanic(t, "Binary with a foreign a", func() { backend.Binary(backend.Add, t34, f26, t34) }, "2x6")
		// An elementwise operation runs on dst's backend: the operands of
		// this one are the foreign tensors.
		expectPanic(t, "Binary with a foreign dst", func() { backend.Binary(backend.Add, f26, t34, t34) }, "3x4")
		expectPanic(t, "MatVec with a foreign x", func() { b.MatVec(newTensor(t, b, 3, 1), t34, false, f41, 1, 0) }, "4x1")
		// The other backend still works.
		backend.Fill(f26, 3)
		expectExact(t, "other backend's tensor", ReadAll(t, other, f26), []float32{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3})
	})
	run(t, "released tensor", func(t *testing.T) {
		r := newTensor(t, b, 3, 4)
		r.Release()
		expectPanic(t, "Fill of a released tensor", func() { backend.Fill(r, 1) })
		expectPanic(t, "Binary with a released operand", func() { backend.Binary(backend.Add, t34, t34, r) })
	})
	run(t, "backend works after misuse", func(t *testing.T) {
		x := FromSlice(t, b, 3, 4, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
		backend.BinaryScalar(backend.Mul, t34, x, 2)
		expectExact(t, "2*x", ReadAll(t, b, t34), []float32{2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24})
		if err := b.Sync(); err != nil {
			t.Errorf("Sync after misuse: %v", err)
		}
	})
}

func testFlushSyncClose(t *testing.T, s *suite) {
	b := s.b
	run(t, "Flush and Sync", func(t *testing.T) {
		x := newTensor(t, b, 100, 1)
		backend.Fill(x, 1)
		if err := b.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		backend.Affine(x, x, 3, -1)
		if err := b.Sync(); err != nil {
			t.Errorf("Sync: %v", err)
		}
		if err := b.Flush(); err != nil {
			t.Errorf("Flush with nothing queued: %v", err)
		}
		if err := b.Sync(); err != nil {
			t.Errorf("Sync with nothing queued: %v", err)
		}
		want := make([]float32, 100)
		for i := range want {
			want[i] = 2
		}
		expectExact(t, "x", ReadAll(t, b, x), want)
	})
	run(t, "Close", func(t *testing.T) {
		c := s.open(t)
		if c == nil {
			t.Fatal("open returned a nil backend")
		}
		x, err := c.NewTensor(10, 10)
		if err != nil {
			t.Fatalf("NewTensor: %v", err)
		}
		backend.Fill(x, 1)
		if err := c.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		// The first backend is unaffected.
		y := FromSlice(t, b, 1, 3, []float32{1, 2, 3})
		backend.Unary(backend.Neg, y, y)
		expectExact(t, "neg in the first backend", ReadAll(t, b, y), []float32{-1, -2, -3})
	})
}
