package backend_test

import (
	"fmt"

	"github.com/gomonnto/gomonnto/backend"
	_ "github.com/gomonnto/gomonnto/cpu" // registers "cpu"
)

// Open the cpu backend, write two vectors, add them and multiply by a
// matrix, and read the result back. Operations are destination-first and
// queued; Read waits for them.
func ExampleOpen() {
	b, err := backend.Open("cpu", backend.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	x, _ := b.NewTensor(3, 1) // a vector of 3
	y, _ := b.NewTensor(3, 1)
	w, _ := b.NewTensor(2, 3) // a 2 x 3 matrix, row-major
	defer x.Release()
	defer y.Release()
	defer w.Release()
	b.Write(x, 0, []float32{1, 2, 3})
	b.Write(y, 0, []float32{10, 20, 30})
	b.Write(w, 0, []float32{
		1, 0, 1,
		0, 1, 0,
	})
	backend.Binary(backend.Add, x, x, y) // x = x + y
	z, _ := b.NewTensor(2, 1)
	defer z.Release()
	b.MatVec(z, w, false, x, 0.5, 0) // z = 0.5*w*x + 0*z
	sum, _ := b.NewTensor(1, 1)
	defer sum.Release()
	b.Reduce(backend.Sum, sum, 0, x)

	xs, zs, s := make([]float32, 3), make([]float32, 2), make([]float32, 1)
	for _, r := range []struct {
		dst []float32
		t   backend.Tensor
	}{{xs, x}, {zs, z}, {s, sum}} {
		if err := b.Read(r.dst, r.t, 0); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(b.Name(), xs, zs, s[0])
	// Output: cpu [11 22 33] [22 11] 66
}
