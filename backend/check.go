package backend

import "fmt"

// The checks below are shared by every backend so that misuse panics with
// the same message everywhere. They name the operation and the shapes.

// Shape formats a tensor's shape as "RxC".
func Shape(t Tensor) string {
	if t == nil {
		return "nil"
	}
	return fmt.Sprintf("%dx%d", t.Rows(), t.Cols())
}

// CheckOwner panics unless every non-nil tensor belongs to b.
func CheckOwner(op string, b Backend, ts ...Tensor) {
	for _, t := range ts {
		if t != nil && t.Backend() != b {
			panic(Misusef("backend", op, "tensor %s belongs to backend %s, not %s", Shape(t), t.Backend().Name(), b.Name()))
		}
	}
}

// CheckSameLen panics unless every tensor has Len n.
func CheckSameLen(op string, n int, ts ...Tensor) {
	for _, t := range ts {
		if t == nil {
			panic(Misusef("backend", op, "nil tensor"))
		}
		if t.Len() != n {
			panic(Misusef("backend", op, "length mismatch: %s has %d elements, want %d", Shape(t), t.Len(), n))
		}
	}
}

// CheckRange panics unless [off, off+n) lies inside t.
func CheckRange(op string, t Tensor, off, n int) {
	if off < 0 || n < 0 || off+n > t.Len() {
		panic(Misusef("backend", op, "range [%d, %d) is outside tensor %s of %d elements", off, off+n, Shape(t), t.Len()))
	}
}

// CheckVecLen panics unless t (which may be nil when optional) has n elements.
func CheckVecLen(op, what string, t Tensor, n int, optional bool) {
	if t == nil {
		if optional {
			return
		}
		panic(Misusef("backend", op, "%s is nil", what))
	}
	if t.Len() != n {
		panic(Misusef("backend", op, "%s has %d elements (%s), want %d", what, t.Len(), Shape(t), n))
	}
}

// CheckMatVec panics unless dst, w and x fit dst = W*x (or W^T*x).
func CheckMatVec(op string, dst, w Tensor, trans bool, x Tensor) {
	r, c := w.Rows(), w.Cols()
	if trans {
		r, c = c, r
	}
	CheckVecLen(op, "destination", dst, r, false)
	CheckVecLen(op, "input", x, c, false)
}
