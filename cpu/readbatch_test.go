package cpu

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// TestReadBatchAllocs checks that ReadBatch allocates nothing, with work
// queued before each call.
func TestReadBatchAllocs(t *testing.T) {
	b, err := New(backend.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v, _ := b.NewTensor(1000, 1)
	m, _ := b.NewTensor(37, 53)
	reqs := []backend.ReadRequest{
		{Dst: make([]float32, 100), T: v, Off: 3},
		{Dst: make([]float32, 37), T: m, Off: 2, Stride: 53},
		{Dst: make([]float32, 3), T: m, Off: 53, Index: []int32{5, 1, 2}},
	}
	allocs := testing.AllocsPerRun(100, func() {
		backend.Affine(v, v, 1, 1)
		if err := b.ReadBatch(reqs); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadBatch allocates %v times per call, want 0", allocs)
	}
	if reqs[0].Dst[0] != 101 {
		t.Errorf("Dst[0] = %v after 101 increments, want 101", reqs[0].Dst[0])
	}
}
