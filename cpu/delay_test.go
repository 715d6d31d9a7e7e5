package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

// TestDelayThreadsAgree runs delayed propagation on matrices large enough
// for the pool to split the destinations: every thread count must give
// the same bits, since each element is summed in spike order by one
// worker. (About 600 spikes of 130 entries: above grainMatrix, so
// the work is split.)
func TestDelayThreadsAgree(t *testing.T) {
	const rows, cols, depth, steps = 1500, 1300, 9, 12
	rs, ci, vals := backendtest.RandomCSR(21, rows, cols, 0.1)
	r := rand.New(rand.NewPCG(22, 1))
	delays := make([]int32, len(ci))
	for e := range delays {
		delays[e] = int32(r.IntN(depth))
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
		var ref []float32
		for _, th := range []int{1, 2, 3} {
			got := delayRun(t, th, trans, false, rows, cols, depth, 0.25, rs, ci, vals, delays, masks, nil)
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

// TestDelayManyRings: with enough rings to keep the threads busy, the
// queue runs one task per ring that sends to all its parts at once; with
// one ring, one task per part. Both must give the bits of one thread, and
// rings whose TakeSlots add into one tensor must be summed in call order.
func TestDelayManyRings(t *testing.T) {
	const rows, cols, depth, steps, nr = 900, 2100, 7, 10, 5
	rs, ci, vals := backendtest.RandomCSR(31, rows, cols, 0.05)
	r := rand.New(rand.NewPCG(32, 1))
	delays := make([]int32, len(ci))
	for e := range delays {
		delays[e] = int32(r.IntN(depth + 2)) // some clamped to depth-1
	}
	masks := make([][]float32, steps*nr)
	for s := range masks {
		masks[s] = make([]float32, rows)
		for i := range masks[s] {
			if r.Float64() < 0.2 {
				masks[s][i] = 1
			}
		}
	}
	var ref []float32
	for _, th := range []int{1, 2, 4} {
		b := mustNew(t, th)
		w, err := b.NewSparse(rows, cols, rs, ci, vals)
		if err != nil {
			t.Fatal(err)
		}
		dl := backendtest.NewDelays(t, b, w, delays)
		var rings []backend.DelayRing
		var dsts []backend.Tensor
		for k := range nr {
			rg, err := b.NewDelayRing(depth, cols)
			if err != nil {
				t.Fatal(err)
			}
			rings = append(rings, rg)
			if k < nr-1 {
				dsts = append(dsts, vecOf(t, b, make([]float32, cols)))
			} else {
				dsts = append(dsts, dsts[0]) // the last ring adds into the first one's tensor
			}
		}
		if th == 2 && len(rings[0].(*ring).parts) != 2 {
			t.Fatalf("a ring of %d destinations on 2 threads has %d parts, want 2", cols, len(rings[0].(*ring).parts))
		}
		mt := make([]backend.Tensor, len(masks))
		for i, m := range masks {
			mt[i] = vecOf(t, b, m) // made before the loop: a Write runs the queue
		}
		var got []float32
		for s := range steps {
			for k, rg := range rings {
				b.TakeSlot(dsts[k], rg, s%depth)
				b.PropagateDelayed(rg, s%depth, w, true, dl, mt[s*nr+k], 0.5)
			}
			if n := len(b.dq.calls); n != 2*nr {
				t.Fatalf("step %d: %d calls queued, want %d", s, n, 2*nr)
			}
			for _, d := range dsts[:nr-1] {
				got = append(got, Data(d)...)
			}
		}
		if th == 1 {
			ref = got
			continue
		}
		for i := range got {
			if got[i] != ref[i] {
				t.Fatalf("threads=%d: value %d = %v, with one thread %v", th, i, got[i], ref[i])
			}
		}
	}
	// The first tensor received the input of rings 0 and nr-1 that
	// arrived by the last step: compare with a float64 sum. Each step
	// takes its slot before it sends, so a delay of 0 arrives depth steps
	// later, when the slot comes round again.
	want, mag := make([]float64, cols), make([]float64, cols)
	for s := range steps {
		for _, k := range []int{0, nr - 1} {
			for i := range rows {
				if masks[s*nr+k][i] == 0 {
					continue
				}
				for e := rs[i]; e < rs[i+1]; e++ {
					k := min(int(delays[e]), depth-1)
					if k == 0 {
						k = depth
					}
					if s+k < steps {
						x := float64(float32(0.5 * vals[e]))
						want[ci[e]] += x
						mag[ci[e]] += math.Abs(x)
					}
				}
			}
		}
	}
	last := ref[len(ref)-(nr-1)*cols : len(ref)-(nr-2)*cols]
	for i, x := range last {
		if math.Abs(float64(x)-want[i]) > 1e-5*mag[i]+1e-30 {
			t.Fatalf("destination %d of the shared tensor: %v, want %v", i, x, want[i])
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
			rs, ci, vals := backendtest.RandomCSR(11, 800, 900, 0.1)
			w, err := b.NewSparse(800, 900, rs, ci, vals)
			if err != nil {
				t.Fatal(err)
			}
			delays := make([]int32, len(ci))
			for e := range delays {
				delays[e] = int32(e % 5)
			}
			dl := backendtest.NewDelays(t, b, w, delays)
			ringR, _ := b.NewDelayRing(5, 800)
			ringC, _ := b.NewDelayRing(5, 900)
			dR, dC := vecOf(t, b, make([]float32, 800)), vecOf(t, b, make([]float32, 900))
			mR, mC := vecOf(t, b, make([]float32, 800)), vecOf(t, b, make([]float32, 900))
			backend.Fill(mR, 1)
			backend.Fill(mC, 1)
			slot := 0
			step := func() {
				b.PropagateDelayed(ringC, slot, w, true, dl, mR, 0.1)
				b.TakeSlot(dC, ringC, slot)
				b.PropagateDelayed(ringR, slot, w, false, dl, mC, 0.1)
				b.TakeSlot(dR, ringR, slot)
				if err := b.Sync(); err != nil { // as the next operation of a network step
					t.Fatal(err)
				}
				slot = (slot + 1) % 5
			}
			for range 10 {
				step()
			}
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
	rs, ci, vals := backendtest.RandomCSR(12, n, n, 0.02)
	be := mustNew(b, 0)
	w, err := be.NewSparse(n, n, rs, ci, vals)
	if err != nil {
		b.Fatal(err)
	}
	delays := make([]int32, len(ci))
	for e := range delays {
		delays[e] = int32(1 + e%(depth-1))
	}
	mask := make([]float32, n)
	for i := 0; i < n; i += 100 {
		mask[i] = 1
	}
	m, d, dl := vecOf(b, be, mask), vecOf(b, be, make([]float32, n)), backendtest.NewDelays(b, be, w, delays)
	ring, _ := be.NewDelayRing(depth, n)
	for _, trans := range []bool{true, false} {
		b.Run(fmt.Sprintf("trans=%t", trans), func(b *testing.B) {
			slot := 0
			for b.Loop() {
				be.PropagateDelayed(ring, slot, w, trans, dl, m, 0.1)
				be.TakeSlot(d, ring, slot)
				if err := be.Sync(); err != nil { // run the queued calls
					b.Fatal(err)
				}
				slot = (slot + 1) % depth
			}
		})
	}
}

// TestRingWrapMatchesDelaySlot: the slot that the cpu's delayed
// propagation sends a delay to (its wrap table, with the delay clamped to
// the ring) is backend.DelaySlot's.
func TestRingWrapMatchesDelaySlot(t *testing.T) {
	b := mustNew(t, 1)
	for _, rows := range []int{1, 2, 5, 6} {
		rg, err := b.NewDelayRing(rows, 7)
		if err != nil {
			t.Fatal(err)
		}
		wrap := rg.(*ring).wrap
		for slot := range rows {
			for _, k := range []int{0, 1, 2, 4, 5, 6, 255, 300, backend.MaxDelaySteps} {
				got := int(wrap[slot+min(k, rows-1)])
				if want := backend.DelaySlot(slot, rows, k); got != want {
					t.Errorf("rows %d, slot %d, delay %d: slot %d, want %d", rows, slot, k, got, want)
				}
			}
		}
	}
}

// TestDelayQueue: the queued calls run before any operation that could
// see their effect or change what they read, and a loop of nothing but
// queued calls keeps the queue bounded.
func TestDelayQueue(t *testing.T) {
	b := mustNew(t, 2)
	// Source 0 -> destinations 0 (w 2, delay 1) and 1 (w 3, delay 0);
	// source 1 -> destination 0 (w 5, delay 0).
	w, err := b.NewSparse(2, 2, []int64{0, 2, 3}, []int32{0, 1, 0}, []float32{2, 3, 5})
	if err != nil {
		t.Fatal(err)
	}
	dl := backendtest.NewDelays(t, b, w, []int32{1, 0, 0})
	rg, _ := b.NewDelayRing(2, 2)
	d := vecOf(t, b, []float32{0, 0})
	b.PropagateDelayed(rg, 0, w, true, dl, vecOf(t, b, []float32{1, 0}), 1)
	b.TakeSlot(d, rg, 0)
	// A change of W after the call does not alter what is in flight.
	if err := b.Write(w, 0, []float32{20, 30, 50}); err != nil {
		t.Fatal(err)
	}
	if got := Data(d); got[0] != 0 || got[1] != 3 {
		t.Fatalf("after step 0: dst %v, want [0 3]", got)
	}
	// dst of a queued TakeSlot as the mask of the next call: the take
	// runs first, so both sources spike (without it only source 1 would).
	b.TakeSlot(d, rg, 1) // the 2 of step 0: d = [2 3]
	b.PropagateDelayed(rg, 0, w, true, dl, d, 1)
	if q := len(b.dq.calls); q != 1 {
		t.Fatalf("%d calls queued, want 1 (the PropagateDelayed; the TakeSlot ran before it)", q)
	}
	if got := Data(d); got[0] != 2 || got[1] != 3 {
		t.Fatalf("dst %v, want [2 3]", got)
	}
	// Sent with the values written above: slot 0 gets 50 and 30, slot 1
	// gets 20.
	in := make([]float32, 4)
	if err := rg.Read(in); err != nil {
		t.Fatal(err)
	}
	if want := []float32{50, 30, 20, 0}; !slices.Equal(in, want) {
		t.Fatalf("ring %v, want %v", in, want)
	}
	// Nothing but queued calls: the queue is run when it is full.
	for k := range 3 * maxQueued {
		b.PropagateDelayed(rg, k%2, w, true, dl, d, 1)
		if len(b.dq.calls) > maxQueued {
			t.Fatalf("%d calls queued, more than maxQueued = %d", len(b.dq.calls), maxQueued)
		}
	}
}

// delayRun sends the spike masks through W (scaled by alpha) into a ring
// with the given delays, taking one slot per step into d, and returns d
// after each step followed by what is still in flight. noLayout keeps W on events (the
// path every W takes before its layout exists); change(b, w, dl, s), if
// not nil, runs before step s's send.
func delayRun(t *testing.T, threads int, trans, noLayout bool, rows, cols, depth int, alpha float32, rs []int64, ci []int32, vals []float32, steps []int32, masks [][]float32, change func(*Backend, backend.SparseTensor, *delays, int)) []float32 {
	t.Helper()
	return delayRunOn(t, mustNew(t, threads), trans, noLayout, rows, cols, depth, alpha, rs, ci, vals, steps, masks, change)
}

// delayRunOn is delayRun on backend b.
func delayRunOn(t *testing.T, b *Backend, trans, noLayout bool, rows, cols, depth int, alpha float32, rs []int64, ci []int32, vals []float32, steps []int32, masks [][]float32, change func(*Backend, backend.SparseTensor, *delays, int)) []float32 {
	t.Helper()
	w, err := b.NewSparse(rows, cols, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	dl := backendtest.NewDelays(t, b, w, steps)
	if noLayout {
		dl.(*delays).lays = [2]layState{{never: true}, {never: true}}
	}
	nDst, nSrc := rows, cols
	if trans {
		nDst, nSrc = cols, rows
	}
	ring, err := b.NewDelayRing(depth, nDst)
	if err != nil {
		t.Fatal(err)
	}
	d := vecOf(t, b, make([]float32, nDst))
	var got []float32
	for s := range masks {
		if change != nil {
			change(b, w, dl.(*delays), s)
		}
		b.PropagateDelayed(ring, s%depth, w, trans, dl, vecOf(t, b, masks[s][:nSrc]), alpha)
		b.TakeSlot(d, ring, s%depth)
		got = append(got, Data(d)...)
	}
	inFlight := make([]float32, depth*nDst)
	if err := ring.Read(inFlight); err != nil {
		t.Fatal(err)
	}
	return append(got, inFlight...)
}

// randomSteps returns n delays drawn uniformly from [lo, hi).
func randomSteps(seed uint64, n, lo, hi int) []int32 {
	r := rand.New(rand.NewPCG(seed, 1))
	steps := make([]int32, n)
	for e := range steps {
		steps[e] = int32(lo + r.IntN(hi-lo))
	}
	return steps
}

// randomMasks returns n masks of size m with spikes at probability p.
func randomMasks(seed uint64, n, m int, p float64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	masks := make([][]float32, n)
	for s := range masks {
		masks[s] = make([]float32, m)
		for i := range masks[s] {
			if r.Float64() < p {
				masks[s][i] = 1
			}
		}
	}
	return masks
}

// TestDelayLayoutMatchesEvents: once W has kept its values for minStable
// sends, the cpu sends references into a layout of W sorted by delay
// instead of one event per entry. The additions happen in the same order,
// so the two paths must agree to the bit, from rows and from columns, on
// one thread and on several (one task per part), with delays of 0, delays
// clamped to the ring's depth, and sources whose entries span both parts.
func TestDelayLayoutMatchesEvents(t *testing.T) {
	const rows, cols, depth, steps = 1200, 2500, 6, 14
	rs, ci, vals := backendtest.RandomCSR(41, rows, cols, 0.08)
	delays := randomSteps(42, len(ci), 0, depth+3)
	masks := randomMasks(43, steps, max(rows, cols), 0.3)
	for _, trans := range []bool{false, true} {
		for _, th := range []int{1, 2} {
			ev := delayRun(t, th, trans, true, rows, cols, depth, 0.5, rs, ci, vals, delays, masks, nil)
			lay := delayRun(t, th, trans, false, rows, cols, depth, 0.5, rs, ci, vals, delays, masks, nil)
			nonzero := 0
			for i := range ev {
				if ev[i] != lay[i] {
					t.Fatalf("trans=%t threads=%d: value %d = %v with the layout, %v with events", trans, th, i, lay[i], ev[i])
				}
				if ev[i] != 0 {
					nonzero++
				}
			}
			if nonzero < len(ev)/2 {
				t.Fatalf("trans=%t threads=%d: only %d of %d values are non-zero", trans, th, nonzero, len(ev))
			}
		}
	}
}

// TestDelayLayoutPlasticW: a layout holds a copy of W's values, so a W
// that changes must not be sent from a stale copy. Contributions sent
// before a change carry the old values (what PropagateDelayed documents:
// W as of the call), those sent after it the new ones; the layout is
// dropped at the change and made again after minStable unchanged sends.
// Checked against a float64 model of the ring.
func TestDelayLayoutPlasticW(t *testing.T) {
	const rows, cols, depth, steps = 300, 700, 5, 16
	rs, ci, vals := backendtest.RandomCSR(51, rows, cols, 0.1)
	dsteps := randomSteps(52, len(ci), 1, depth)
	masks := randomMasks(53, steps, rows, 0.2)
	// W is doubled before the sends of steps 7 and 9.
	scale := func(s int) float64 {
		switch {
		case s >= 9:
			return 4
		case s >= 7:
			return 2
		}
		return 1
	}
	var layouts []bool
	got := delayRun(t, 2, true, false, rows, cols, depth, 0.5, rs, ci, vals, dsteps, masks, func(b *Backend, w backend.SparseTensor, dl *delays, s int) {
		if s > 0 {
			layouts = append(layouts, dl.lays[1].lay != nil)
		}
		if s == 7 || s == 9 {
			backend.Affine(w, w, 2, 0)
		}
	})
	// The float64 model: ring[slot][j] of contributions in flight.
	ring := make([][]float64, depth)
	for k := range ring {
		ring[k] = make([]float64, cols)
	}
	d := make([]float64, cols)
	for s := range steps {
		slot := s % depth
		for i := range rows {
			if masks[s][i] == 0 {
				continue
			}
			for e := rs[i]; e < rs[i+1]; e++ {
				ring[(slot+int(dsteps[e]))%depth][ci[e]] += 0.5 * scale(s) * float64(vals[e])
			}
		}
		for j := range cols {
			d[j] += ring[slot][j]
			ring[slot][j] = 0
		}
		for j := range cols {
			if g := float64(got[s*cols+j]); math.Abs(g-d[j]) > 1e-4*(1+math.Abs(d[j])) {
				t.Fatalf("step %d: d[%d] = %v, want %v", s, j, g, d[j])
			}
		}
	}
	for k := range depth {
		for j := range cols {
			if g := float64(got[steps*cols+k*cols+j]); math.Abs(g-ring[k][j]) > 1e-4*(1+math.Abs(ring[k][j])) {
				t.Fatalf("in flight: slot %d [%d] = %v, want %v", k, j, g, ring[k][j])
			}
		}
	}
	// layouts[s] is whether W had a layout after the send of step s: made
	// by the third send, dropped by the sends after the changes (steps 7
	// and 9), made again by the third unchanged send (step 11).
	want := []bool{false, false, true, true, true, true, true, false, false, false, false, true, true, true, true}
	if !slices.Equal(layouts, want) {
		t.Errorf("layout after the sends of steps 0..14: %v, want %v", layouts, want)
	}
}

// TestDelayTaskModeSwitch: a ring runs as one task while it holds items
// sent by a whole-ring task (many rings at work) and per part otherwise
// (one ring at work). A ring that goes from one to the other and back,
// with items of both kinds in flight, must still deliver every
// contribution once, at its step (float64 model), and end with no slot
// marked whole once drained.
func TestDelayTaskModeSwitch(t *testing.T) {
	const rows, cols, depth, nr, steps = 400, 3000, 4, 5, 24
	rs, ci, vals := backendtest.RandomCSR(61, rows, cols, 0.05)
	dsteps := randomSteps(62, len(ci), 1, depth)
	masks := randomMasks(63, steps, rows, 0.2)
	// All rings at work in steps 0-3, 12-15 and 20-23, ring 0 alone
	// otherwise; nothing is sent from step 20 on (the rings drain).
	all := func(s int) bool { return s < 4 || (s >= 12 && s < 16) || s >= 20 }
	b := mustNew(t, 2)
	w, err := b.NewSparse(rows, cols, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	dl := backendtest.NewDelays(t, b, w, dsteps)
	var rings []backend.DelayRing
	var dsts []backend.Tensor
	for range nr {
		rg, err := b.NewDelayRing(depth, cols)
		if err != nil {
			t.Fatal(err)
		}
		if len(rg.(*ring).parts) < 2 {
			t.Fatalf("the ring has %d part; the test needs several", len(rg.(*ring).parts))
		}
		rings = append(rings, rg)
		dsts = append(dsts, vecOf(t, b, make([]float32, cols)))
	}
	zero := vecOf(t, b, make([]float32, rows))
	// The float64 model of ring 0 and of its destination.
	model := make([][]float64, depth)
	for k := range model {
		model[k] = make([]float64, cols)
	}
	d := make([]float64, cols)
	sawWhole, sawParts := false, false
	for s := range steps {
		slot := s % depth
		m := zero // made before the calls: writing a tensor runs the queue
		if s < 20 {
			m = vecOf(t, b, masks[s])
		}
		for k := range nr {
			if k > 0 && !all(s) {
				continue
			}
			b.PropagateDelayed(rings[k], slot, w, true, dl, m, 1)
			b.TakeSlot(dsts[k], rings[k], slot)
		}
		if len(b.dq.calls) > 0 {
			if rings[0].(*ring).wholeSlots > 0 {
				sawWhole = true
			} else if !all(s) {
				sawParts = true
			}
		}
		got := Data(dsts[0])
		for i := range rows {
			if s >= 20 || masks[s][i] == 0 {
				continue
			}
			for e := rs[i]; e < rs[i+1]; e++ {
				model[(slot+int(dsteps[e]))%depth][ci[e]] += float64(vals[e])
			}
		}
		for j := range cols {
			d[j] += model[slot][j]
			model[slot][j] = 0
			if math.Abs(float64(got[j])-d[j]) > 1e-4*(1+math.Abs(d[j])) {
				t.Fatalf("step %d: ring 0 delivered %v to %d, want %v", s, got[j], j, d[j])
			}
		}
	}
	if !sawWhole || !sawParts {
		t.Errorf("ring 0 ran as one task: %t, per part: %t; the test needs both", sawWhole, sawParts)
	}
	for k, rg := range rings {
		if n := rg.(*ring).wholeSlots; n != 0 {
			t.Errorf("ring %d: %d slots still marked whole after draining", k, n)
		}
	}
}

// TestDelayEventsLayout: a W whose (source, delay, part) groups are too
// short for references (minRun) is sent as events; from columns, its
// values and delays are read from a copy in column order (layout.cv,
// layout.cdl), from rows from W itself. Either way the result must equal
// the events read from W to the bit, also when W changes mid-run (the
// copy is dropped and made again: events carry W as of the call).
func TestDelayEventsLayout(t *testing.T) {
	const rows, cols, depth, steps = 1200, 2500, 6, 16
	rs, ci, vals := backendtest.RandomCSR(61, rows, cols, 0.003)
	steps32 := randomSteps(62, len(ci), 0, depth+3)
	masks := randomMasks(63, steps, max(rows, cols), 0.3)
	for _, trans := range []bool{false, true} {
		k := 0
		if trans {
			k = 1
		}
		for _, th := range []int{1, 2} {
			var kinds []string
			change := func(record bool) func(*Backend, backend.SparseTensor, *delays, int) {
				return func(b *Backend, w backend.SparseTensor, dl *delays, s int) {
					if record && s > 0 {
						kind := "none"
						if L := dl.lays[k].lay; L != nil && L.events && L.cv != nil {
							kind = "copy"
						} else if L != nil && L.events {
							kind = "W"
						} else if L != nil {
							kind = "refs"
						}
						kinds = append(kinds, kind)
					}
					if s == 8 {
						backend.Affine(w, w, 2, 0)
					}
				}
			}
			ev := delayRun(t, th, trans, true, rows, cols, depth, 0.5, rs, ci, vals, steps32, masks, change(false))
			lay := delayRun(t, th, trans, false, rows, cols, depth, 0.5, rs, ci, vals, steps32, masks, change(true))
			for i := range ev {
				if ev[i] != lay[i] {
					t.Fatalf("trans=%t threads=%d: value %d = %v with the events layout, %v with events from W", trans, th, i, lay[i], ev[i])
				}
			}
			// The layout exists after minStable sends (recorded before
			// each step's send), is dropped by step 8's send (W changed
			// before it) and made again by step 10's, the third with
			// unchanged values.
			made := "copy"
			if trans {
				made = "W"
			}
			want := []string{"none", "none"}
			for s := 3; s < steps; s++ {
				if s == 9 || s == 10 {
					want = append(want, "none")
				} else {
					want = append(want, made)
				}
			}
			if !slices.Equal(kinds, want) {
				t.Fatalf("trans=%t threads=%d: layouts before steps 1..%d: %v, want %v", trans, th, steps-1, kinds, want)
			}
		}
	}
}

// TestExpectFinish checks the expected finish of ring groups whose tasks
// the threads claim in order, each thread as soon as it is free: the
// order in which the kernel runs that wait for those rings are queued.
func TestExpectFinish(t *testing.T) {
	a, b, c := &ring{}, &ring{}, &ring{}
	q := &delayQueue{tasks: []delayTask{{r: a, work: 10}, {r: b, work: 4}, {r: c, work: 3}, {r: b, work: 3}, {r: c, work: 1}}}
	q.expectFinish(2)
	// Thread 0: a (0-10). Thread 1: b (0-4), c (4-7), b (7-10). Then
	// thread 0 and 1 are both free at 10: c's second task (10-11).
	for _, w := range []struct {
		name            string
		r               *ring
		finish, pending int
	}{{"a", a, 10, 1}, {"b", b, 10, 2}, {"c", c, 11, 2}} {
		if w.r.finish != w.finish || int(w.r.pending.Load()) != w.pending {
			t.Errorf("ring %s: expected finish %d with %d tasks, want %d with %d", w.name, w.r.finish, w.r.pending.Load(), w.finish, w.pending)
		}
	}
	q.expectFinish(1) // one thread: every ring when all work before it is done
	if a.finish != 10 || b.finish != 20 || c.finish != 21 {
		t.Errorf("one thread: finishes %d, %d, %d, want 10, 20, 21", a.finish, b.finish, c.finish)
	}
}

// TestStrategies forces each delayed-propagation strategy: every one
// gives the backend's own result bit for bit, reports itself from the
// second send on where it applies (layout-events: sent from columns) and
// the fallback where it does not (a W that changes before every send).
func TestStrategies(t *testing.T) {
	const rows, cols, depth, steps = 600, 900, 6, 10
	rs, ci, vals := backendtest.RandomCSR(71, rows, cols, 0.05)
	dsteps := randomSteps(72, len(ci), 0, depth)
	masks := randomMasks(73, steps, max(rows, cols), 0.3)
	if _, err := New(backend.Options{Propagation: "scan"}); err == nil || !strings.Contains(err.Error(), "references") {
		t.Errorf("New with Propagation \"scan\": %v, want an error listing the cpu's strategies", err)
	}
	for _, trans := range []bool{false, true} {
		want := delayRun(t, 2, trans, false, rows, cols, depth, 0.5, rs, ci, vals, dsteps, masks, nil)
		for _, st := range []string{StrategyEvents, StrategyLayoutEvents, StrategyReferences} {
			for _, plastic := range []bool{false, true} {
				b, err := New(backend.Options{Threads: 2, Propagation: st})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { b.Close() })
				var used []string
				got := delayRunOn(t, b, trans, false, rows, cols, depth, 0.5, rs, ci, vals, dsteps, masks, func(b *Backend, w backend.SparseTensor, dl *delays, s int) {
					if s > 0 {
						used = append(used, b.Strategy(dl))
					}
					if plastic {
						backend.Affine(w, w, 1, 0) // unchanged values, but W counts as written
					}
				})
				if !plastic && !slices.Equal(got, want) {
					t.Errorf("trans=%t %s: the result differs from the backend's own choice", trans, st)
				}
				expect := st
				if plastic || st == StrategyLayoutEvents && trans {
					expect = StrategyEvents
				}
				for s, u := range used[1:] { // the first send has no layout yet
					if u != expect {
						t.Errorf("trans=%t %s plastic=%t: send %d used %q, want %q", trans, st, plastic, s+2, u, expect)
						break
					}
				}
			}
		}
	}
}
