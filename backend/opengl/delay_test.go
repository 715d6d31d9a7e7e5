package opengl

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

// TestDelayAgainstCPU runs steps of PropagateDelayed and TakeSlot on gl
// (both scatter variants and the GPU configuration) and cpu and compares
// every step's input and the final ring buffer.
func TestDelayAgainstCPU(t *testing.T) {
	for _, c := range []struct {
		name          string
		noAtomic, gpu bool
	}{{"default", false, false}, {"compare-and-swap", true, false}, {"gpu paths", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			g := openHooks(t, hooks{noAtomicFloat: c.noAtomic, gpuPaths: c.gpu}, backend.Options{})
			cb := cpuTwin(t)
			for _, shape := range scatterShapes {
				delayAgainstCPU(t, g, cb, shape.rows, shape.cols, shape.density)
			}
		})
	}
}

func delayAgainstCPU(t *testing.T, g, cb backend.Backend, rows, cols int, density float64) {
	const depth, steps = 12, 30
	rs, ci, vals := backendtest.RandomCSR(7, rows, cols, density)
	r := rand.New(rand.NewPCG(8, 3))
	delays := make([]int32, len(ci))
	for e := range delays {
		delays[e] = int32(r.IntN(depth))
	}
	for _, trans := range []bool{false, true} {
		nDst, nSrc := rows, cols
		if trans {
			nDst, nSrc = cols, rows
		}
		masks := make([][]float32, steps)
		for s := range masks {
			masks[s] = make([]float32, nSrc)
			for i := range masks[s] {
				if r.Float64() < 0.1 {
					masks[s][i] = 1
				}
			}
		}
		var got [2][]float32
		for k, b := range []backend.Backend{g, cb} {
			w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
			if err != nil {
				t.Fatal(err)
			}
			dl := backendtest.NewDelays(t, b.(backend.Delayer), w.(backend.SparseTensor), delays)
			ring, err := b.(backend.Delayer).NewDelayRing(depth, nDst)
			if err != nil {
				t.Fatal(err)
			}
			d := filled(t, b, make([]float32, nDst))
			for s := range steps {
				b.(backend.Delayer).PropagateDelayed(ring, s%depth, w, trans, dl, filled(t, b, masks[s]), 0.5)
				b.(backend.Delayer).TakeSlot(d, ring, s%depth)
				got[k] = append(got[k], readGL(t, b, d)...)
			}
			got[k] = append(got[k], backendtest.ReadRing(t, ring)...)
		}
		worst, nonzero := 0.0, 0
		for j := range got[0] {
			// relative: long rows add many terms in another order
			worst = math.Max(worst, math.Abs(float64(got[0][j]-got[1][j]))/(1+math.Abs(float64(got[1][j]))))
			if got[1][j] != 0 {
				nonzero++
			}
		}
		if worst > 1e-4 || nonzero < len(got[1])/2 {
			t.Errorf("%dx%d, trans=%t: gl and cpu differ by up to %g (relative; %d of %d values non-zero)", rows, cols, trans, worst, nonzero, len(got[1]))
		}
	}
}

// TestDelayZeroAllocs checks that a step of delayed propagation (both
// directions, with its takes) allocates nothing on the host, with the
// renderer's own kernels and with the GPU ones (SCAN).
func TestDelayZeroAllocs(t *testing.T) {
	onBothPaths(t, func(g *Backend, _ bool) { delayZeroAllocs(t, g) })
}

func delayZeroAllocs(t *testing.T, g *Backend) {
	rs, ci, vals := backendtest.RandomCSR(5, 300, 400, 0.1)
	w, err := g.NewSparse(300, 400, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	delays := make([]int32, len(ci))
	for e := range delays {
		delays[e] = int32(e % 7)
	}
	dl := backendtest.NewDelays(t, g, w, delays)
	ringT, _ := g.NewDelayRing(8, 400)
	ring, _ := g.NewDelayRing(8, 300)
	dCols, dRows := filled(t, g, make([]float32, 400)), filled(t, g, make([]float32, 300))
	mRows, mCols := filled(t, g, make([]float32, 300)), filled(t, g, make([]float32, 400))
	backend.Fill(mRows, 1)
	backend.Fill(mCols, 1)
	slot := 0
	step := func() {
		g.PropagateDelayed(ringT, slot, w, true, dl, mRows, 0.1)
		g.TakeSlot(dCols, ringT, slot)
		g.PropagateDelayed(ring, slot, w, false, dl, mCols, 0.1)
		g.TakeSlot(dRows, ring, slot)
		slot = (slot + 1) % 8
		if err := g.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if a := testing.AllocsPerRun(100, step); a != 0 {
		t.Errorf("a step of delayed propagation allocates %v times, want 0", a)
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestPackedDelays stores delays of up to 200, 1000 and 70,000 steps
// (packed in bytes, in 16-bit halves, as float32), reads them back and
// runs delayed propagation both ways against the cpu (delays beyond the
// ring's depth go to its last row on both).
func TestPackedDelays(t *testing.T) {
	g := openOrSkip(t)
	cb := cpuTwin(t)
	const rows, cols, depth, steps = 301, 203, 40, 12
	rs, ci, vals := backendtest.RandomCSR(23, rows, cols, 0.08)
	for _, c := range []struct {
		max, bits int
	}{{200, 8}, {1000, 16}, {70000, 32}} {
		r := rand.New(rand.NewPCG(uint64(c.max), 5))
		delays := make([]int32, len(ci))
		for e := range delays {
			delays[e] = int32(r.IntN(c.max + 1))
			if r.IntN(4) == 0 {
				delays[e] = int32(r.IntN(depth)) // most within the ring
			}
		}
		delays[0] = int32(c.max)
		for _, trans := range []bool{false, true} {
			nDst, nSrc := rows, cols
			if trans {
				nDst, nSrc = cols, rows
			}
			var got [2][]float32
			for side, b := range []backend.Backend{g, cb} {
				w, err := b.(backend.Sparser).NewSparse(rows, cols, rs, ci, vals)
				if err != nil {
					t.Fatal(err)
				}
				dl := backendtest.NewDelays(t, b.(backend.Delayer), w.(backend.SparseTensor), delays)
				if side == 0 {
					if bits := dl.(*delayTable).bits; bits != c.bits {
						t.Errorf("delays up to %d stored in %d bits, want %d", c.max, bits, c.bits)
					}
					back := make([]int32, len(delays))
					if err := dl.Read(back); err != nil || !slices.Equal(back, delays) {
						t.Fatalf("delays up to %d read back wrong (err %v)", c.max, err)
					}
				}
				ring, err := b.(backend.Delayer).NewDelayRing(depth, nDst)
				if err != nil {
					t.Fatal(err)
				}
				d := filled(t, b, make([]float32, nDst))
				for s := range steps {
					m := make([]float32, nSrc)
					for i := range m {
						m[i] = float32((i + s) % 3 % 2)
					}
					b.(backend.Delayer).PropagateDelayed(ring, s%depth, w, trans, dl, filled(t, b, m), 0.5)
					b.(backend.Delayer).TakeSlot(d, ring, s%depth)
					got[side] = append(got[side], readGL(t, b, d)...)
				}
				got[side] = append(got[side], backendtest.ReadRing(t, ring)...)
			}
			nonzero := 0
			for j := range got[1] {
				if math.Abs(float64(got[0][j]-got[1][j])) > 1e-5 {
					t.Fatalf("delays up to %d, trans=%t: value %d: gl %v, cpu %v", c.max, trans, j, got[0][j], got[1][j])
				}
				if got[1][j] != 0 {
					nonzero++
				}
			}
			if nonzero < len(got[1])/4 {
				t.Errorf("delays up to %d, trans=%t: only %d of %d values non-zero", c.max, trans, nonzero, len(got[1]))
			}
		}
	}
}
