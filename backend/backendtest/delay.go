package backendtest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// delayRef is the host model of a ring buffer: arrivals[t][i] is what
// reaches destination i at step t, as a float64 sum and its sum of
// magnitudes (for the tolerance).
type delayRef struct {
	sum, abs [][]float64
}

func newDelayRef(steps, n int) *delayRef {
	r := &delayRef{sum: make([][]float64, steps), abs: make([][]float64, steps)}
	for t := range steps {
		r.sum[t], r.abs[t] = make([]float64, n), make([]float64, n)
	}
	return r
}

// refDelay is the delay in steps of a stored delay in a ring of D rows:
// clamped to D-1.
func refDelay(d int32, rows int) int { return min(int(d), rows-1) }

// spike adds the contributions of the spiking sources at step t.
func (r *delayRef) spike(st sparseStruct, trans bool, delays []int32, mask []float32, alpha float32, rows, t int) {
	for row := range st.rows {
		for e := st.rowStart[row]; e < st.rowStart[row+1]; e++ {
			src, dst := int(st.colIdx[e]), row
			if trans {
				src, dst = dst, src
			}
			if mask[src] == 0 {
				continue
			}
			at := t + refDelay(delays[e], rows)
			if at >= len(r.sum) {
				continue
			}
			a := float64(float32(alpha * st.vals[e]))
			r.sum[at][dst] += a
			r.abs[at][dst] += math.Abs(a)
		}
	}
}

// NewDelays stores delays for w (Delayer.NewDelays), failing the test on
// an error; they are released when the test ends.
func NewDelays(t testing.TB, dl backend.Delayer, w backend.SparseTensor, steps []int32) backend.Delays {
	t.Helper()
	d, err := dl.NewDelays(w, steps)
	if err != nil {
		t.Fatalf("NewDelays: %v", err)
	}
	t.Cleanup(d.Release)
	return d
}

// readDelays returns the delays of d.
func readDelays(t *testing.T, d backend.Delays) []int32 {
	t.Helper()
	got := make([]int32, d.Len())
	if err := d.Read(got); err != nil {
		t.Fatalf("Delays.Read: %v", err)
	}
	return got
}

// expectEqualInts fails unless got equals want.
func expectEqualInts(t *testing.T, what string, got, want []int32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: element %d = %d, want %d", what, i, got[i], want[i])
		}
	}
}

// newRing makes a ring of depth x n.
func newRing(t *testing.T, dl backend.Delayer, depth, n int) backend.DelayRing {
	t.Helper()
	r, err := dl.NewDelayRing(depth, n)
	if err != nil {
		t.Fatalf("NewDelayRing(%d, %d): %v", depth, n, err)
	}
	t.Cleanup(r.Release)
	return r
}

// ReadRing returns what ring holds, slot by slot (DelayRing.Read),
// failing the test on an error.
func ReadRing(t *testing.T, r backend.DelayRing) []float32 {
	t.Helper()
	got := make([]float32, r.Depth()*r.Len())
	if err := r.Read(got); err != nil {
		t.Fatalf("DelayRing.Read: %v", err)
	}
	return got
}

func testDelay(t *testing.T, s *suite) {
	b := s.b
	dl, ok := b.(backend.Delayer)
	sp, ok2 := b.(backend.Sparser)
	if !ok || !ok2 {
		t.Skipf("backend %s does not implement backend.Delayer and backend.Sparser", b.Name())
	}
	shapes := []struct {
		rows, cols int
		p          float64
	}{{1, 1, 1}, {37, 53, 0.1}, {53, 37, 0.5}, {300, 1000, 0.02}, {1000, 300, 0.05}, {20, 25, 0}}
	for k, sh := range shapes {
		for _, trans := range []bool{false, true} {
			for _, rows := range []int{1, 4, 9} {
				name := fmt.Sprintf("%dx%d/p=%g/trans=%t/D=%d", sh.rows, sh.cols, sh.p, trans, rows)
				run(t, name, func(t *testing.T) {
					g := newGen(uint64(2100 + 31*k + rows))
					st := randomSparse(g, sh.rows, sh.cols, sh.p)
					nDst, nSrc := st.rows, st.cols
					if trans {
						nDst, nSrc = nSrc, nDst
					}
					// Delays 0..D-1, and a few that are clamped (D+5 ->
					// D-1; on odd shapes also 300 -> D-1, which a backend
					// may store in another form than delays below 256).
					delays := make([]int32, len(st.colIdx))
					for e := range delays {
						switch u := g.r.Float64(); {
						case u < 0.05 && k%2 == 1:
							delays[e] = 300
						case u < 0.1:
							delays[e] = int32(rows + 5)
						default:
							delays[e] = int32(g.r.IntN(rows))
						}
					}
					const steps = 14
					const alpha = float32(-0.75)
					w := newSparse(t, sp, st)
					dt := NewDelays(t, dl, w, delays)
					ring := newRing(t, dl, rows, nDst)
					ref := newDelayRef(steps+rows, nDst)
					d0 := g.uniform(nDst, -2, 2)
					dst := vec(t, b, d0)
					masks := make([]backend.Tensor, steps)
					for step := range steps {
						// Spikes in most steps; step 3 has none.
						mv := g.mask(nSrc, 0.2)
						if step == 3 {
							mv = make([]float32, nSrc)
						}
						masks[step] = vec(t, b, mv)
						ref.spike(st, trans, delays, mv, alpha, rows, step)
					}
					for step := range steps {
						slot := step % rows
						dl.PropagateDelayed(ring, slot, w, trans, dt, masks[step], alpha)
						if err := b.Write(dst, 0, d0); err != nil {
							t.Fatalf("Write: %v", err)
						}
						dl.TakeSlot(dst, ring, slot)
						want, tol := make([]float64, nDst), make([]float64, nDst)
						for i := range want {
							want[i] = float64(d0[i]) + ref.sum[step][i]
							tol[i] = 4e-7*(math.Abs(float64(d0[i]))+ref.abs[step][i]) + 1e-30
						}
						expectClose(t, fmt.Sprintf("step %d: dst after TakeSlot", step), ReadAll(t, b, dst), want, tol)
						row := ReadRing(t, ring)[slot*nDst : (slot+1)*nDst]
						expectExact(t, fmt.Sprintf("step %d: ring row %d after TakeSlot", step, slot), row, make([]float32, nDst))
					}
					// What is still in flight after the last step waits in
					// the rows of the steps it arrives at.
					got := ReadRing(t, ring)
					want, tol := make([]float64, rows*nDst), make([]float64, rows*nDst)
					for at := steps; at < steps+rows; at++ {
						for i := range nDst {
							r := (at%rows)*nDst + i
							want[r] += ref.sum[at][i]
							tol[r] += 4e-7*ref.abs[at][i] + 1e-30
						}
					}
					expectClose(t, "ring after the last step", got, want, tol)
					expectExact(t, "values (must be unchanged)", ReadAll(t, b, w), st.vals)
					expectEqualInts(t, "delays", readDelays(t, dt), delays)
				})
			}
		}
	}
	run(t, "hand computed", func(t *testing.T) {
		// SxD (trans): source 0 -> 1 (w 2, delay 3), source 0 -> 2 (w 1,
		// delay 0), source 1 -> 0 (w 4, delay 4 clamped to D-1 = 3).
		w, err := sp.NewSparse(2, 3, []int64{0, 2, 3}, []int32{1, 2, 0}, []float32{2, 1, 4})
		if err != nil {
			t.Fatal(err)
		}
		delays := NewDelays(t, dl, w, []int32{3, 0, 4})
		ring := newRing(t, dl, 4, 3)
		spikes := []float32{1, 1, 0, 0, 0, 0, 0, 0}                         // source 0 at step 0, source 1 at step 0
		wantDst := [][]float32{{0, 0, 3}, {0, 0, 0}, {0, 0, 0}, {12, 6, 0}} // alpha 3, dst from 0 every step
		for step := range 4 {
			m := vec(t, b, spikes[2*step:2*step+2])
			dl.PropagateDelayed(ring, step%4, w, true, delays, m, 3)
			d := newTensor(t, b, 3, 1)
			dl.TakeSlot(d, ring, step%4)
			expectExact(t, fmt.Sprintf("step %d", step), ReadAll(t, b, d), wantDst[step])
		}
		expectExact(t, "ring after 4 steps", ReadRing(t, ring), make([]float32, 12))
		// DxS (no trans): the same synapses as a 3x2 matrix, slot 2 of 4.
		wt, err := sp.NewSparse(3, 2, []int64{0, 1, 2, 3}, []int32{1, 0, 0}, []float32{4, 2, 1})
		if err != nil {
			t.Fatal(err)
		}
		dt := NewDelays(t, dl, wt, []int32{4, 3, 0}) // entries (0,1), (1,0), (2,0)
		dl.PropagateDelayed(ring, 2, wt, false, dt, vec(t, b, []float32{1, 1}), 0.5)
		// (0,1) delay 3 -> slot 1, (1,0) delay 3 -> slot 1, (2,0) delay 0 -> slot 2.
		expectExact(t, "ring (no trans)", ReadRing(t, ring), []float32{0, 0, 0, 2, 1, 0, 0, 0, 0.5, 0, 0, 0})
		// TakeSlot sees what was sent before it, and the tensors it adds
		// into show it to the next operation.
		d := vec(t, b, []float32{1, 1, 1})
		dl.TakeSlot(d, ring, 1)
		expectExact(t, "dst after TakeSlot (no trans)", ReadAll(t, b, d), []float32{3, 2, 1})
		expectExact(t, "ring after TakeSlot (no trans)", ReadRing(t, ring), []float32{0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0, 0, 0})
	})
	run(t, "misuse", func(t *testing.T) {
		w, err := sp.NewSparse(2, 3, []int64{0, 2, 3}, []int32{1, 2, 0}, []float32{2, 1, 4})
		if err != nil {
			t.Fatal(err)
		}
		delays, mask := NewDelays(t, dl, w, []int32{1, 0, 2}), vec(t, b, []float32{1, 0})
		ring := newRing(t, dl, 3, 3)
		expectPanic(t, "ring with the wrong row length", func() {
			dl.PropagateDelayed(newRing(t, dl, 3, 2), 0, w, true, delays, mask, 1)
		}, "ring buffer")
		expectPanic(t, "nil ring", func() { dl.PropagateDelayed(nil, 0, w, true, delays, mask, 1) }, "nil")
		expectPanic(t, "slot out of range", func() { dl.PropagateDelayed(ring, 3, w, true, delays, mask, 1) }, "slot 3")
		expectPanic(t, "slot negative", func() { dl.PropagateDelayed(ring, -1, w, true, delays, mask, 1) }, "slot -1")
		w2, err := sp.NewSparse(2, 3, []int64{0, 2, 3}, []int32{1, 2, 0}, []float32{2, 1, 4})
		if err != nil {
			t.Fatal(err)
		}
		expectPanic(t, "delays of another W", func() {
			dl.PropagateDelayed(ring, 0, w2, true, delays, mask, 1)
		}, "delays")
		expectPanic(t, "nil delays", func() { dl.PropagateDelayed(ring, 0, w, true, nil, mask, 1) }, "delays")
		for _, bad := range [][]int32{{1, 2}, {1, -1, 2}, {1, backend.MaxDelaySteps + 1, 0}} {
			if d, err := dl.NewDelays(w, bad); err == nil || !strings.Contains(err.Error(), "NewDelays") {
				t.Errorf("NewDelays(%v): delays %v, error %v; want an error naming NewDelays", bad, d, err)
			}
		}
		if err := delays.Read(make([]int32, 2)); err == nil || !strings.Contains(err.Error(), "3") {
			t.Errorf("Delays.Read into 2 elements of 3 delays: error %v, want one naming the 3 it holds", err)
		}
		expectPanic(t, "mask of the wrong length", func() {
			dl.PropagateDelayed(newRing(t, dl, 2, 2), 0, w, false, delays, mask, 1) // no trans: 3 sources
		}, "mask")
		expectPanic(t, "TakeSlot dst of the wrong length", func() { dl.TakeSlot(newTensor(t, b, 2, 1), ring, 0) }, "TakeSlot")
		expectPanic(t, "TakeSlot slot out of range", func() { dl.TakeSlot(newTensor(t, b, 3, 1), ring, 5) }, "slot 5")
		for _, sh := range [][2]int{{0, 3}, {3, 0}, {-1, 3}} {
			if r, err := dl.NewDelayRing(sh[0], sh[1]); err == nil || !strings.Contains(err.Error(), "NewDelayRing") {
				t.Errorf("NewDelayRing(%d, %d): ring %v, error %v; want an error naming NewDelayRing", sh[0], sh[1], r, err)
			}
		}
		if err := ring.Read(make([]float32, 8)); err == nil || !strings.Contains(err.Error(), "9") {
			t.Errorf("DelayRing.Read into 8 elements of a 3 x 3 ring: error %v, want one naming the 9 it holds", err)
		}
		gone := newRing(t, dl, 3, 3)
		gone.Release()
		gone.Release() // a no-op
		expectPanic(t, "released ring", func() { dl.TakeSlot(newTensor(t, b, 3, 1), gone, 0) }, "released")
	})
}
