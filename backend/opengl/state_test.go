package opengl

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

// nonZero lists the indices of the non-zero elements of m.
func nonZero(m []float32) []int32 {
	var out []int32
	for i, v := range m {
		if v != 0 {
			out = append(out, int32(i))
		}
	}
	return out
}

// randomMask is a mask of n elements, each non-zero with probability p.
func randomMask(r *rand.Rand, n int, p float64) []float32 {
	m := make([]float32, n)
	for i := range m {
		if r.Float64() < p {
			m[i] = 1
		}
	}
	return m
}

// drainAll drains l and compares its records with wants.
func drainAll(t *testing.T, l backend.EventLog, wants [][]int32) {
	t.Helper()
	got := 0
	err := l.Drain(func(k int, idx []int32) {
		if k != got || k >= len(wants) {
			t.Fatalf("record %d drained as record %d of %d", got, k, len(wants))
		}
		if !slices.Equal(idx, wants[k]) {
			t.Errorf("record %d: %d indices, want %d", k, len(idx), len(wants[k]))
		}
		got++
	})
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if got != len(wants) {
		t.Errorf("Drain gave %d records, want %d", got, len(wants))
	}
}

// TestEventLogSplit gathers into logs whose indices span several buffers
// (a 4 KiB buffer limit: a few records per buffer, or one), on the
// renderer's and the GPU kernel paths, through two drains each.
func TestEventLogSplit(t *testing.T) {
	for _, gpu := range []bool{false, true} {
		g := openHooks(t, hooks{maxBlockBytes: 4096, gpuPaths: gpu}, backend.Options{})
		r := rand.New(rand.NewPCG(5, 9))
		for _, c := range [][2]int{{300, 10}, {1000, 3}, {1, 40}} {
			n, records := c[0], c[1]
			eg := backend.EventGatherer(g)
			l, err := eg.NewEventLog(n, records)
			if err != nil {
				t.Fatal(err)
			}
			if tiles := len(l.(*eventLog).idx.tiles); n > 1 && tiles < 2 {
				t.Fatalf("a log of %d records of %d in %d buffers, want several", records, n, tiles)
			}
			mask := newT(t, g, n, 1)
			for range 2 {
				var wants [][]int32
				for k := range records {
					p := []float64{0.1, 1, 0, 0.5}[k%4]
					m := randomMask(r, n, p)
					if err := g.Write(mask, 0, m); err != nil {
						t.Fatal(err)
					}
					l.Gather(mask)
					wants = append(wants, nonZero(m))
				}
				drainAll(t, l, wants)
			}
			l.Release()
		}
		if _, err := backend.EventGatherer(g).NewEventLog(2000, 1); err == nil || !strings.Contains(err.Error(), "2000") {
			t.Errorf("NewEventLog for masks longer than a buffer: error %v, want one naming the length", err)
		}
		g.Close()
	}
}

// TestEventLogRanges gathers masks of 70,000 elements with each gather
// cut into dispatches of 1000 list positions (hooks.gatherSpan).
func TestEventLogRanges(t *testing.T) {
	g := openHooks(t, hooks{gatherSpan: 1000}, backend.Options{})
	const n = 70000
	r := rand.New(rand.NewPCG(4, 4))
	l, err := g.NewEventLog(n, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	mask := newT(t, g, n, 1)
	var wants [][]int32
	for _, p := range []float64{0.3, 0, 1, 0.01} {
		m := randomMask(r, n, p)
		if err := g.Write(mask, 0, m); err != nil {
			t.Fatal(err)
		}
		l.Gather(mask)
		wants = append(wants, nonZero(m))
	}
	drainAll(t, l, wants)
}

// TestEventLogCosts checks that Gather and Flush allocate nothing, that a
// Drain in steady state allocates nothing either, that the log's buffers
// are freed by Release, and its misuse after Release.
func TestEventLogCosts(t *testing.T) {
	g := openOrSkip(t)
	const n = 5000
	mask := newT(t, g, n, 1)
	if err := g.Write(mask, 0, randomMask(rand.New(rand.NewPCG(1, 1)), n, 0.05)); err != nil {
		t.Fatal(err)
	}
	g.Propagate(newT(t, g, 1, 1), newT(t, g, 1, n), false, mask, 1) // makes the mask's spike list
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	before, _ := g.LiveObjects()
	l, err := g.NewEventLog(n, 100)
	if err != nil {
		t.Fatal(err)
	}
	spikes := 0
	count := func(_ int, idx []int32) { spikes += len(idx) }
	step := func() {
		l.Gather(mask)
		if err := g.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for range 50 {
		step()
	}
	if a := testing.AllocsPerRun(40, step); a != 0 {
		t.Errorf("Gather and Flush allocate %v times, want 0", a)
	}
	drain := func() {
		l.Gather(mask)
		if err := l.Drain(count); err != nil {
			t.Fatal(err)
		}
	}
	drain()
	if a := testing.AllocsPerRun(20, drain); a != 0 {
		t.Errorf("Gather and Drain allocate %v times, want 0", a)
	}
	if spikes == 0 {
		t.Error("no spikes drained")
	}
	l.Release()
	l.Release()
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := g.LiveObjects(); got != before {
		t.Errorf("%d live buffers after Release, want %d", got, before)
	}
	if msg, ok := catchPanic(func() { l.Gather(mask) }); !ok || !strings.Contains(msg, "released") {
		t.Errorf("Gather after Release: panic %q, want one saying the log was released", msg)
	}
	if err := l.Drain(count); err == nil {
		t.Error("Drain after Release: no error")
	}
	// A log left unreleased is freed by Close, and Release after Close is
	// a no-op.
	l2, err := g.NewEventLog(n, 3)
	if err != nil {
		t.Fatal(err)
	}
	l2.Gather(mask)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if bufs, _ := g.LiveObjects(); bufs != 0 {
		t.Errorf("after Close: %d buffers live, want 0", bufs)
	}
	l2.Release()
	if _, err := g.NewEventLog(n, 3); err == nil {
		t.Error("NewEventLog after Close: no error")
	}
}

// TestRingStateRoundTrip checks that a ring's state goes to another ring
// bit for bit (the gl ring holds sums), that lists (the cpu's form) are
// added up in order, and the errors.
func TestRingStateRoundTrip(t *testing.T) {
	onBothPaths(t, func(g *Backend, _ bool) {
		cb := cpuTwin(t)
		const nSrc, nDst, depth = 200, 700, 5
		rs, ci, vals := backendtest.RandomCSR(13, nSrc, nDst, 0.05)
		steps := make([]int32, len(ci))
		for e := range steps {
			steps[e] = int32(1 + e%depth)
		}
		r := rand.New(rand.NewPCG(2, 7))
		masks := make([][]float32, 4)
		for s := range masks {
			masks[s] = randomMask(r, nSrc, 0.3)
		}
		var states [2]*backend.RingState
		for k, b := range []backend.Backend{g, cb} {
			w, err := b.(backend.Sparser).NewSparse(nSrc, nDst, rs, ci, vals)
			if err != nil {
				t.Fatal(err)
			}
			dl := backendtest.NewDelays(t, b.(backend.Delayer), w, steps)
			ring, err := b.(backend.Delayer).NewDelayRing(depth, nDst)
			if err != nil {
				t.Fatal(err)
			}
			for s, m := range masks {
				b.(backend.Delayer).PropagateDelayed(ring, s%depth, w, true, dl, filled(t, b, m), 0.5)
			}
			if states[k], err = ring.(backend.RingStater).RingState(); err != nil {
				t.Fatal(err)
			}
		}
		if states[1].Dense != nil {
			t.Fatal("the cpu's ring state is not in the list form; this test needs one")
		}
		for _, st := range states {
			r2, err := g.NewDelayRing(depth, nDst)
			if err != nil {
				t.Fatal(err)
			}
			if err := r2.(backend.RingStater).SetRingState(st); err != nil {
				t.Fatalf("SetRingState: %v", err)
			}
			got, err := r2.(backend.RingStater).RingState()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Dense, st.Sums()) {
				t.Errorf("the ring restored from %d sums and %d contributions does not hold their sums bit for bit", len(st.Dense), len(st.Index))
			}
			if got.Depth != depth || got.N != nDst {
				t.Errorf("RingState shape %dx%d, want %dx%d", got.Depth, got.N, depth, nDst)
			}
			if err := r2.(backend.RingStater).SetRingState(&backend.RingState{Depth: depth, N: nDst + 1, Dense: make([]float32, depth*(nDst+1))}); err == nil || !strings.Contains(err.Error(), "does not fit") {
				t.Errorf("SetRingState of another shape: error %v", err)
			}
			if err := r2.(backend.RingStater).SetRingState(nil); err == nil {
				t.Error("SetRingState(nil): no error")
			}
			r2.Release()
			if _, err := r2.(backend.RingStater).RingState(); err == nil || !strings.Contains(err.Error(), "released") {
				t.Errorf("RingState of a released ring: error %v", err)
			}
			if err := r2.(backend.RingStater).SetRingState(st); err == nil {
				t.Error("SetRingState of a released ring: no error")
			}
		}
	})
}

// TestTensorsSkipsInternal checks that the buffers inside sparse matrices
// (their column form too), delays, rings and event logs are not listed.
func TestTensorsSkipsInternal(t *testing.T) {
	g := openOrSkip(t)
	x := newT(t, g, 4, 1)
	rs, ci, vals := backendtest.RandomCSR(3, 4, 6, 0.5)
	w, err := g.NewSparse(4, 6, rs, ci, vals)
	if err != nil {
		t.Fatal(err)
	}
	dl := backendtest.NewDelays(t, g, w, make([]int32, len(ci)))
	ring, err := g.NewDelayRing(3, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Release()
	l, err := g.NewEventLog(6, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	m := newT(t, g, 6, 1)
	backend.Fill(m, 1)
	g.PropagateDelayed(ring, 0, w, false, dl, m, 1) // makes W's column form
	l.Gather(m)
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
	got := g.Tensors()
	want := []backend.Tensor{x, w, m}
	if !slices.Equal(got, want) {
		var names []string
		for _, t := range got {
			names = append(names, backend.Shape(t))
		}
		t.Errorf("Tensors lists %v, want the 4x1 tensor, the sparse matrix and the 6x1 mask", names)
	}
}
