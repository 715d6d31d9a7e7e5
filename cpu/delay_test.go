package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// TestDelayThreadsAgree runs delayed propagation on matrices large enough
// for the pool to split the destinations: every thread count must give
// the same bits, since each element is summed in spike order by one
// worker. (About 600 spikes of 130 entries: above grainMatrix, so
// the work is split.)
func TestDelayThreadsAgree(t *testing.T) {
	const rows, cols, depth, steps = 1500, 1300, 9, 12
	rs, ci, vals := randomCSR(21, rows, cols, 0.1)
	r := rand.New(rand.NewPCG(22, 1))
	delays := make([]float32, len(ci))
	for e := range delays {
		delays[e] = float32(r.IntN(depth))
	}
	masks := make([][]float32, steps)
	for s := range masks {
		masks[s] = make([]float32, max(rows, cols))
		for i := range masks[s] {
			if r.Float64() < 0.4 {
				masks[s][i] = 1
			}
		}
	}
	for _, trans := range []bool{false, true} {
		nDst, nSrc := rows, cols
		if trans {
			nDst, nSrc = cols, rows
		}
		var ref []float32
		for _, th := range []int{1, 2, 3} {
			b := mustNew(t, th)
			w, err := b.NewSparse(rows, cols, rs, ci, vals)
			if err != nil {
				t.Fatal(err)
			}
			dl := vecOf(t, b, delays)
			ring, _ := b.NewTensor(depth, nDst)
			d := vecOf(t, b, make([]float32, nDst))
			var got []float32
			for s := range steps {
				b.PropagateDelayed(ring, s%depth, w, trans, dl, vecOf(t, b, masks[s][:nSrc]), 0.25)
				b.TakeSlot(d, ring, s%depth)
				got = append(got, Data(d)...)
			}
			got = append(got, Data(ring)...)
			if th == 1 {
				ref = got
				nonzero := 0
				for _, v := range got {
					if v != 0 {
						nonzero++
					}
				}
				if nonzero < len(got)/2 {
					t.Fatalf("trans=%t: only %d of %d values are non-zero; the test needs spikes to arrive", trans, nonzero, len(got))
				}
				continue
			}
			for i := range got {
				if got[i] != ref[i] {
					t.Fatalf("trans=%t threads=%d: value %d = %v, with one thread %v", trans, th, i, got[i], ref[i])
				}
			}
		}
	}
}

func TestDelayZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked without -short")
	}
	for _, th := range []int{1, 3} {
		t.Run(fmt.Sprintf("threads%d", th), func(t *testing.T) {
			b := mustNew(t, th)
			rs, ci, vals := randomCSR(11, 800, 900, 0.1)
			w, err := b.NewSparse(800, 900, rs, ci, vals)
			if err != nil {
				t.Fatal(err)
			}
			delays := make([]float32, len(ci))
			for e := range delays {
				delays[e] = float32(e % 5)
			}
			dl := vecOf(t, b, delays)
			ringR, _ := b.NewTensor(5, 800)
			ringC, _ := b.NewTensor(5, 900)
			dR, dC := vecOf(t, b, make([]float32, 800)), vecOf(t, b, make([]float32, 900))
			mR, mC := vecOf(t, b, make([]float32, 800)), vecOf(t, b, make([]float32, 900))
			b.Fill(mR, 1)
			b.Fill(mC, 1)
			slot := 0
			step := func() {
				b.PropagateDelayed(ringC, slot, w, true, dl, mR, 0.1)
				b.TakeSlot(dC, ringC, slot)
				b.PropagateDelayed(ringR, slot, w, false, dl, mC, 0.1)
				b.TakeSlot(dR, ringR, slot)
				slot = (slot + 1) % 5
			}
			step()
			if a := testing.AllocsPerRun(50, step); a != 0 {
				t.Errorf("a step of delayed propagation allocates %v times, want 0", a)
			}
		})
	}
}

// BenchmarkPropagateDelayed: N=4000, p=0.02, 1% of the sources spiking,
// delays 1..40 steps; a step is PropagateDelayed + TakeSlot (compare
// BenchmarkSparsePropagate).
func BenchmarkPropagateDelayed(b *testing.B) {
	const n, depth = 4000, 41
	rs, ci, vals := randomCSR(12, n, n, 0.02)
	be := mustNew(b, 0)
	w, err := be.NewSparse(n, n, rs, ci, vals)
	if err != nil {
		b.Fatal(err)
	}
	delays := make([]float32, len(ci))
	for e := range delays {
		delays[e] = float32(1 + e%(depth-1))
	}
	mask := make([]float32, n)
	for i := 0; i < n; i += 100 {
		mask[i] = 1
	}
	m, d, dl := vecOf(b, be, mask), vecOf(b, be, make([]float32, n)), vecOf(b, be, delays)
	ring, _ := be.NewTensor(depth, n)
	for _, trans := range []bool{true, false} {
		b.Run(fmt.Sprintf("trans=%t", trans), func(b *testing.B) {
			slot := 0
			for b.Loop() {
				be.PropagateDelayed(ring, slot, w, trans, dl, m, 0.1)
				be.TakeSlot(d, ring, slot)
				slot = (slot + 1) % depth
			}
		})
	}
}

// TestDelayOffsetsMatchDelaySlot: the branch-free ring row of the cpu's
// delayed propagation is backend.DelaySlot's for every kind of delay
// value (NaN, infinities, negative, fractional, beyond the ring).
func TestDelayOffsetsMatchDelaySlot(t *testing.T) {
	const n = 7
	vals := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -3, -0.5, 0,
		float32(math.Copysign(0, -1)), 0.25, 1, 1.5, 2, 3.999, 4, 4.5, 5, 6, 1e30}
	for _, rows := range []int{1, 2, 5, 6} {
		offs := make([]int, rows)
		for slot := range rows {
			delayOffsets(offs, slot, rows, n)
			for _, d := range vals {
				got := offs[delayStep(d, float32(rows-1))]
				if want := backend.DelaySlot(slot, rows, d) * n; got != want {
					t.Errorf("rows %d, slot %d, delay %v: offset %d, want %d", rows, slot, d, got, want)
				}
			}
		}
	}
}
