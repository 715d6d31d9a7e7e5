package backendtest

import (
	"fmt"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

func testInfo(t *testing.T, s *suite) {
	if s.b.Name() == "" {
		t.Error("Name() is empty")
	}
	if s.b.Device() == "" {
		t.Error("Device() is empty")
	}
}

func testNewTensor(t *testing.T, s *suite) {
	b := s.b
	for _, sh := range [][2]int{{1, 1}, {7, 1}, {1, 7}, {37, 53}, {53, 37}, {1000, 1000}} {
		run(t, fmt.Sprintf("%dx%d", sh[0], sh[1]), func(t *testing.T) {
			x := newTensor(t, b, sh[0], sh[1])
			defer x.Release()
			if x.Rows() != sh[0] || x.Cols() != sh[1] || x.Len() != sh[0]*sh[1] {
				t.Fatalf("tensor is %dx%d with Len %d, want %dx%d with Len %d",
					x.Rows(), x.Cols(), x.Len(), sh[0], sh[1], sh[0]*sh[1])
			}
			if x.Backend() != b {
				t.Errorf("Backend() of a new tensor is not the backend that made it")
			}
			expectExact(t, "contents of new tensor", ReadAll(t, b, x), make([]float32, x.Len()))
		})
	}
}

func testReadWrite(t *testing.T, s *suite) {
	b := s.b
	const rows, cols = 37, 53
	n := rows * cols
	data := newGen(1).uniform(n, -10, 10)

	run(t, "full", func(t *testing.T) {
		x := FromSlice(t, b, rows, cols, data)
		expectExact(t, "read back", ReadAll(t, b, x), data)
	})

	run(t, "read at offsets", func(t *testing.T) {
		x := FromSlice(t, b, rows, cols, data)
		for _, r := range [][2]int{{0, 1}, {n - 1, 1}, {100, 523}, {cols, cols}, {0, n}, {n, 0}, {17, 0}} {
			got := readAt(t, b, x, r[0], r[1])
			expectExact(t, fmt.Sprintf("Read of %d elements at %d", r[1], r[0]), got, data[r[0]:r[0]+r[1]])
		}
	})

	run(t, "write at offsets", func(t *testing.T) {
		x := FromSlice(t, b, rows, cols, data)
		want := clone(data)
		for k, w := range [][2]int{{500, 77}, {0, 1}, {n - 1, 1}, {n - 10, 10}, {n, 0}, {3, 0}} {
			src := newGen(uint64(10+k)).uniform(w[1], -100, 100)
			if err := b.Write(x, w[0], src); err != nil {
				t.Fatalf("Write of %d elements at %d: %v", w[1], w[0], err)
			}
			copy(want[w[0]:], src)
			expectExact(t, fmt.Sprintf("after Write of %d elements at %d", w[1], w[0]), ReadAll(t, b, x), want)
		}
	})

	run(t, "out of range returns an error", func(t *testing.T) {
		x := FromSlice(t, b, rows, cols, data)
		for _, r := range [][2]int{{n - 5, 10}, {-1, 1}, {-1, 0}, {n + 1, 0}, {n, 1}, {0, n + 1}} {
			off, cnt := r[0], r[1]
			buf := make([]float32, cnt)
			var err error
			if msg, p := catch(func() { err = b.Read(buf, x, off) }); p {
				t.Errorf("Read of %d elements at %d from %d: panicked (%s), want an error", cnt, off, n, msg)
			} else if err == nil {
				t.Errorf("Read of %d elements at %d from %d: no error", cnt, off, n)
			}
			for i := range buf {
				buf[i] = 12345
			}
			if msg, p := catch(func() { err = b.Write(x, off, buf) }); p {
				t.Errorf("Write of %d elements at %d into %d: panicked (%s), want an error", cnt, off, n, msg)
			} else if err == nil {
				t.Errorf("Write of %d elements at %d into %d: no error", cnt, off, n)
			}
		}
		expectExact(t, "tensor after rejected writes (must be unchanged)", ReadAll(t, b, x), data)
	})

	run(t, "vector", func(t *testing.T) {
		v := vec(t, b, data[:101])
		if v.Rows() != 101 || v.Cols() != 1 {
			t.Fatalf("vector is %s, want 101x1", backend.Shape(v))
		}
		expectExact(t, "read back", ReadAll(t, b, v), data[:101])
	})
}

func testFill(t *testing.T, s *suite) {
	b := s.b
	for _, sh := range [][2]int{{1, 1}, {13, 79}, {100003, 1}} {
		for _, v := range []float32{0, 1, -2.5, 3.4028235e38, 1e-30} {
			run(t, fmt.Sprintf("%dx%d/%g", sh[0], sh[1], v), func(t *testing.T) {
				n := sh[0] * sh[1]
				x := FromSlice(t, b, sh[0], sh[1], newGen(2).uniform(n, -1, 1))
				defer x.Release()
				backend.Fill(x, v)
				want := make([]float32, n)
				for i := range want {
					want[i] = v
				}
				expectExact(t, "Fill", ReadAll(t, b, x), want)
			})
		}
	}
}

func testCopy(t *testing.T, s *suite) {
	b := s.b
	g := newGen(3)
	run(t, "same shape", func(t *testing.T) {
		src := g.uniform(13*79, -5, 5)
		a := FromSlice(t, b, 13, 79, src)
		d := FromSlice(t, b, 13, 79, g.uniform(13*79, -5, 5))
		backend.Copy(d, a)
		expectExact(t, "dst", ReadAll(t, b, d), src)
		expectExact(t, "src (must be unchanged)", ReadAll(t, b, a), src)
	})
	run(t, "other shape same length", func(t *testing.T) {
		src := g.uniform(13*79, -5, 5)
		a := FromSlice(t, b, 13, 79, src)
		d := FromSlice(t, b, 79, 13, g.uniform(13*79, -5, 5))
		backend.Copy(d, a)
		expectExact(t, "dst", ReadAll(t, b, d), src)
	})
	run(t, "1x1", func(t *testing.T) {
		a := FromSlice(t, b, 1, 1, []float32{-7.25})
		d := newTensor(t, b, 1, 1)
		backend.Copy(d, a)
		expectExact(t, "dst", ReadAll(t, b, d), []float32{-7.25})
	})
}

func testCopyRange(t *testing.T, s *suite) {
	b := s.b
	const n = 1027
	g := newGen(4)
	src := g.uniform(n, -5, 5)
	dst0 := g.uniform(n, -5, 5)
	cases := []struct{ dstOff, srcOff, cnt int }{
		{0, 0, n},
		{5, 100, 37},
		{100, 5, 500},
		{n - 1, 0, 1},
		{0, n - 1, 1},
		{10, 10, 0},
		{n, n, 0},
		{1, 0, n - 1},
	}
	for _, c := range cases {
		run(t, fmt.Sprintf("dst%d_src%d_n%d", c.dstOff, c.srcOff, c.cnt), func(t *testing.T) {
			a := FromSlice(t, b, 13, 79, src)
			d := vec(t, b, dst0)
			b.CopyRange(d, c.dstOff, a, c.srcOff, c.cnt)
			want := clone(dst0)
			copy(want[c.dstOff:c.dstOff+c.cnt], src[c.srcOff:c.srcOff+c.cnt])
			expectExact(t, "dst", ReadAll(t, b, d), want)
			expectExact(t, "src (must be unchanged)", ReadAll(t, b, a), src)
		})
	}
	run(t, "within one tensor", func(t *testing.T) {
		x := vec(t, b, src)
		b.CopyRange(x, 600, x, 10, 300)
		want := clone(src)
		copy(want[600:900], src[10:310])
		expectExact(t, "tensor", ReadAll(t, b, x), want)
	})
	run(t, "between tensors of different lengths", func(t *testing.T) {
		a := vec(t, b, src[:50])
		d := vec(t, b, dst0)
		b.CopyRange(d, 900, a, 7, 43)
		want := clone(dst0)
		copy(want[900:943], src[7:50])
		expectExact(t, "dst", ReadAll(t, b, d), want)
	})
}
