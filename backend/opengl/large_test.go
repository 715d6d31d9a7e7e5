package opengl

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// TestLarge6000 runs the operations that the conformance suite's large
// test leaves out (full Write and Read, Outer, Normalize) on a 6000x6000
// matrix, which is split into two buffers on llvmpipe (128 MiB limit),
// and compares with the cpu backend around the split.
func TestLarge6000(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: allocates a 6000x6000 matrix on both backends")
	}
	g := openOrSkip(t)
	const n = 6000
	p := newPair(t, g)
	r := rand.New(rand.NewPCG(6000, 1))
	wv := make([]float32, n*n)
	for i := range wv {
		wv[i] = r.Float32()
	}
	w := p.tensor(n, n, wv)
	defer p.release(w)
	tiles := len(w[0].(*tensor).tiles)
	t.Logf("6000x6000 float32 is in %d buffer(s) of at most %d rows on %s", tiles, w[0].(*tensor).tileRows, g.Device())

	// rows and columns around the split of a 128 MiB buffer (row 5592).
	probe := []int{0, 1, 2047, 5591, 5592, 5593, 5999}
	checkRows := func(what string, maxULP int64) {
		t.Helper()
		for _, i := range probe {
			got := make([]float32, n)
			if err := g.Read(got, w[0], i*n); err != nil {
				t.Fatal(err)
			}
			want := make([]float32, n)
			if err := p.b[1].Read(want, w[1], i*n); err != nil {
				t.Fatal(err)
			}
			expectULP(t, fmt.Sprintf("%s: row %d", what, i), got, want, maxULP)
		}
	}
	t.Run("WriteRead", func(t *testing.T) {
		got := readAll(t, g, w[0])
		expectULP(t, "read back", got, wv, 0)
	})
	t.Run("Outer", func(t *testing.T) {
		rm := p.tensor(n, 1, maskOf(r, n, 0.01))
		u := p.tensor(n, 1, inputs(r, n, 0, 1, false))
		defer p.release(rm, u)
		rmv, _ := p.read(rm)
		for _, i := range probe {
			rmv[i] = 1 // the probed rows are updated
		}
		p.set(rm, rmv)
		p.both(func(b backend.Backend, s int) {
			b.Outer(w[s], rm[s], nil, u[s], nil, backend.OuterParams{Alpha: 0.5, Soft: true, Target: 2, Clip: true, Lo: 0, Hi: 1.5})
		})
		checkRows("Outer", 0)
	})
	for _, axis := range []backend.Axis{backend.Rows, backend.Cols} {
		t.Run(fmt.Sprintf("Normalize axis %d", axis), func(t *testing.T) {
			p.both(func(b backend.Backend, s int) { b.Normalize(w[s], axis, 3) })
			checkRows("Normalize", 1)
		})
	}
	t.Run("Random and Fill", func(t *testing.T) {
		key := rng.Key{Seed: 9, Counter: 9}
		p.both(func(b backend.Backend, s int) { b.Random(w[s], rng.NormalDist(0, 1), key) })
		checkRows("Random", 1)
		p.both(func(b backend.Backend, s int) { backend.Fill(w[s], -2) })
		checkRows("Fill", 0)
	})
}
