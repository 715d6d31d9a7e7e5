package backend

import (
	"errors"
	"strings"
	"testing"
)

// TestMaybe: a shared check panics with a *Misuse that Maybe returns and
// errors.As matches; other panics go on.
func TestMaybe(t *testing.T) {
	err := Maybe(func() { CheckRange("Read", fakeTensor{n: 4}, 2, 3) })
	var m *Misuse
	if !errors.As(err, &m) || m.Pkg != "backend" || m.Op != "Read" || !strings.Contains(err.Error(), "backend: Read: range [2, 5) is outside tensor 4x1 of 4 elements") {
		t.Fatalf("Maybe = %#v (%v)", err, err)
	}
	if err := Maybe(func() {}); err != nil {
		t.Fatalf("Maybe of a function that returns: %v", err)
	}
	defer func() {
		if r := recover(); r != "other" {
			t.Fatalf("recovered %v, want the other panic to go on", r)
		}
	}()
	Maybe(func() { panic("other") })
}

// fakeTensor is a Tensor of n elements for the shape checks.
type fakeTensor struct {
	Tensor
	n int
}

func (f fakeTensor) Rows() int { return f.n }
func (f fakeTensor) Cols() int { return 1 }
func (f fakeTensor) Len() int  { return f.n }
