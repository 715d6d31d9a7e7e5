package backendtest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/expr"
	"github.com/gomonnto/gomonnto/backend/rng"
)

// testEvents checks backend.EventGatherer: what each record holds after
// masks written in every way a model writes them.
func testEvents(t *testing.T, s *suite) {
	eg, ok := s.b.(backend.EventGatherer)
	if !ok {
		t.Skipf("backend %s does not gather events (backend.EventGatherer)", s.b.Name())
	}
	b := s.b
	g := newGen(41)
	run(t, "errors", func(t *testing.T) {
		for _, c := range [][2]int{{0, 1}, {1, 0}, {-1, 5}} {
			if _, err := eg.NewEventLog(c[0], c[1]); err == nil {
				t.Errorf("NewEventLog(%d, %d): no error", c[0], c[1])
			}
		}
	})
	// want lists the non-zero indices of m.
	want := func(m []float32) []int32 {
		var out []int32
		for i, v := range m {
			if v != 0 {
				out = append(out, int32(i))
			}
		}
		return out
	}
	drain := func(t *testing.T, l backend.EventLog, wants [][]int32) {
		t.Helper()
		if l.Records() != len(wants) {
			t.Errorf("Records = %d, want %d", l.Records(), len(wants))
		}
		got := 0
		err := l.Drain(func(k int, idx []int32) {
			if k != got {
				t.Errorf("record %d drained as record %d", got, k)
			}
			if k < len(wants) && !slices.Equal(idx, wants[k]) {
				t.Errorf("record %d: %d indices %v, want %d %v", k, len(idx), head(idx), len(wants[k]), head(wants[k]))
			}
			got++
		})
		if err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if got != len(wants) {
			t.Errorf("Drain gave %d records, want %d", got, len(wants))
		}
		if l.Records() != 0 {
			t.Errorf("Records after Drain = %d, want 0", l.Records())
		}
	}
	run(t, "written masks", func(t *testing.T) {
		// Sizes around the 32-element groups and work-group sizes, and
		// one past llvmpipe's 65,535-iteration loop limit.
		for _, n := range []int{1, 31, 32, 33, 1000, 4097, 70000} {
			l, err := eg.NewEventLog(n, 6)
			if err != nil {
				t.Fatalf("NewEventLog(%d, 6): %v", n, err)
			}
			mask := newTensor(t, b, n, 1)
			var wants [][]int32
			for _, p := range []float64{0, 1, 0.01, 0.5, 0.001, 1} {
				m := g.mask(n, p)
				if p == 1 {
					for i := range m {
						m[i] = float32(i%3) - 1 // -1, 0, 1: any non-zero value counts
					}
				}
				if err := b.Write(mask, 0, m); err != nil {
					t.Fatal(err)
				}
				l.Gather(mask)
				wants = append(wants, want(m))
			}
			expectPanic(t, "Gather on a full log", func() { l.Gather(mask) }, "Drain")
			t.Run(fmt.Sprint(n), func(t *testing.T) { drain(t, l, wants) })
			// The log is empty again and takes as many records.
			if err := b.Write(mask, 0, g.mask(n, 0.1)); err != nil {
				t.Fatal(err)
			}
			m := ReadAll(t, b, mask)
			l.Gather(mask)
			drain(t, l, [][]int32{want(m)})
			l.Release()
			l.Release()
		}
	})
	run(t, "misuse", func(t *testing.T) {
		l, err := eg.NewEventLog(10, 2)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		expectPanic(t, "Gather of a mask of another length", func() { l.Gather(newTensor(t, b, 11, 1)) }, "11", "10")
		expectPanic(t, "Gather of nil", func() { l.Gather(nil) }, "nil")
	})
	run(t, "masks of operations", func(t *testing.T) {
		// A mask written by a fused kernel (queued on the cpu), gathered
		// before and after a spike-driven operation reads it, one that a
		// Propagate writes itself, and one changed after a Propagate read
		// it: every record is the mask as it was at Gather.
		const n = 3000
		f := b
		p, err := expr.Compile("fired = v > thr; v = fired ? 0 : v + 1", expr.Env{Tensors: []string{"fired", "thr", "v"}})
		if err != nil {
			t.Fatal(err)
		}
		k, err := f.Fuse(p)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Release()
		fired, v := newTensor(t, b, n, 1), vec(t, b, g.uniform(n, 0, 10))
		thr := vec(t, b, g.uniform(n, 5, 30))
		w := FromSlice(t, b, n, 4, g.uniform(4*n, 0, 1))
		dst := newTensor(t, b, 4, 1)
		l, err := eg.NewEventLog(n, 40)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		l2, err := eg.NewEventLog(n, 40)
		if err != nil {
			t.Fatal(err)
		}
		defer l2.Release()
		var wants [][]int32
		host := ReadAll(t, b, v)
		th := ReadAll(t, b, thr)
		for step := range 12 {
			m := make([]float32, n)
			for i := range host {
				if host[i] > th[i] {
					m[i], host[i] = 1, 0
				} else {
					host[i]++
				}
			}
			k.Run([]backend.Tensor{fired, thr, v}, nil, rng.Key{})
			switch step % 4 {
			case 0: // straight after the kernel
				l.Gather(fired)
				b.Propagate(dst, w, true, fired, 1)
			case 1: // after a Propagate read it
				b.Propagate(dst, w, true, fired, 1)
				l.Gather(fired)
			case 2: // after a Propagate read it, then changed by Write
				b.Propagate(dst, w, true, fired, 1)
				m[7], m[n-1] = 1, 0
				if err := b.Write(fired, 7, m[7:8]); err != nil {
					t.Fatal(err)
				}
				if err := b.Write(fired, n-1, m[n-1:]); err != nil {
					t.Fatal(err)
				}
				l.Gather(fired)
			case 3: // a Propagate into the mask itself
				sq := newTensor(t, b, n, n)
				b.Propagate(fired, sq, true, fired, 1) // a zero matrix: the mask stays
				l.Gather(fired)
			}
			l2.Gather(fired)
			wants = append(wants, want(m))
			if err := b.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		drain(t, l, wants)
		drain(t, l2, wants)
	})
	run(t, "mask written by a queued TakeSlot", func(t *testing.T) {
		dl, ok := b.(backend.Delayer)
		sp, ok2 := b.(backend.Sparser)
		if !ok || !ok2 {
			t.Skip("no delayed propagation")
		}
		// One synapse 0 -> 5 with a delay of 1 step: the second step's
		// TakeSlot writes 2 into element 5 of the mask, then Gather.
		w, err := sp.NewSparse(1, 8, []int64{0, 1}, []int32{5}, []float32{2})
		if err != nil {
			t.Fatal(err)
		}
		dls := NewDelays(t, dl, w, []int32{1})
		ring := newRing(t, dl, 2, 8)
		src := vec(t, b, []float32{1})
		mask := newTensor(t, b, 8, 1)
		l, err := eg.NewEventLog(8, 4)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		for step := range 2 {
			dl.PropagateDelayed(ring, step, w, true, dls, src, 1)
			dl.TakeSlot(mask, ring, step)
			l.Gather(mask)
		}
		drain(t, l, [][]int32{nil, {5}})
	})
}

// head is the first few elements of x, for messages.
func head(x []int32) []int32 { return x[:min(len(x), 8)] }

// testState checks what checkpoints need of a backend: the list of live
// tensors (backend.TensorLister) and the saving and restoring of delay
// rings (backend.RingStater), bit for bit.
func testState(t *testing.T, s *suite) {
	b := s.b
	g := newGen(43)
	run(t, "Tensors", func(t *testing.T) {
		tl, ok := b.(backend.TensorLister)
		if !ok {
			t.Skipf("backend %s does not list its tensors (backend.TensorLister)", b.Name())
		}
		before := len(tl.Tensors())
		a := newTensor(t, b, 3, 2)
		c := newTensor(t, b, 5, 1)
		var sp backend.Tensor
		if spr, ok := b.(backend.Sparser); ok {
			x, err := spr.NewSparse(2, 3, []int64{0, 1, 3}, []int32{2, 0, 1}, []float32{1, 2, 3})
			if err != nil {
				t.Fatal(err)
			}
			sp = x
		}
		d := newTensor(t, b, 1, 1)
		want := []backend.Tensor{a, c}
		if sp != nil {
			want = append(want, sp)
		}
		want = append(want, d)
		got := tl.Tensors()
		if len(got) != before+len(want) {
			t.Fatalf("Tensors lists %d, want %d + %d made here", len(got), before, len(want))
		}
		for k, x := range want {
			if got[before+k] != x {
				t.Errorf("tensor %d made here listed as %s, want %s (in the order made)", k, backend.Shape(got[before+k]), backend.Shape(x))
			}
		}
		c.Release()
		if sp != nil {
			sp.Release()
		}
		got = tl.Tensors()
		if len(got) != before+2 || got[before] != a || got[before+1] != d {
			t.Errorf("after Release, Tensors lists %d (want %d): released tensors must not be listed", len(got), before+2)
		}
	})
	run(t, "RingState", func(t *testing.T) {
		dl, ok := b.(backend.Delayer)
		if !ok {
			t.Skip("no delayed propagation")
		}
		if _, ok := b.(backend.Sparser); !ok {
			t.Skip("no sparse matrices")
		}
		// Saved after some steps into a second ring, both rings then take
		// the same slots (and go on): the takes must agree bit for bit.
		// Contributions of several sources to one destination and slot
		// make the order of the additions matter.
		const nSrc, nDst, depth = 300, 2500, 7
		st := randomSparse(g, nSrc, nDst, 0.05)
		w := newSparse(t, b.(backend.Sparser), st)
		steps := make([]int32, len(st.colIdx))
		for e := range steps {
			steps[e] = int32(1 + e%depth)
		}
		dls := NewDelays(t, dl, w, steps)
		for _, form := range []string{"native", "sums"} {
			run(t, form, func(t *testing.T) {
				r1 := newRing(t, dl, depth, nDst)
				r2 := newRing(t, dl, depth, nDst)
				d1, d2 := newTensor(t, b, nDst, 1), newTensor(t, b, nDst, 1)
				base := g.uniform(nDst, -1, 1)
				if err := b.Write(d1, 0, base); err != nil {
					t.Fatal(err)
				}
				mask := newTensor(t, b, nSrc, 1)
				for step := range 5 {
					if err := b.Write(mask, 0, g.mask(nSrc, 0.3)); err != nil {
						t.Fatal(err)
					}
					dl.PropagateDelayed(r1, step%depth, w, true, dls, mask, 0.5)
					dl.TakeSlot(d1, r1, step%depth)
				}
				rs, ok := r1.(backend.RingStater)
				if !ok {
					t.Skipf("backend %s cannot save rings (backend.RingStater)", b.Name())
				}
				state, err := rs.RingState()
				if err != nil {
					t.Fatal(err)
				}
				if err := state.Check(depth, nDst); err != nil {
					t.Fatalf("RingState: %v", err)
				}
				sums := make([]float32, depth*nDst)
				if err := r1.Read(sums); err != nil {
					t.Fatal(err)
				}
				expectClose(t, "RingState sums vs Read", state.Sums(), widen(sums), relTol(widen(sums), 1e-5, 1e-6))
				if form == "sums" {
					state = &backend.RingState{Depth: depth, N: nDst, Dense: state.Sums()}
				}
				if err := r2.(backend.RingStater).SetRingState(state); err != nil {
					t.Fatalf("SetRingState: %v", err)
				}
				if err := b.Write(d2, 0, ReadAll(t, b, d1)); err != nil {
					t.Fatal(err)
				}
				for step := 5; step < 5+2*depth; step++ {
					if err := b.Write(mask, 0, g.mask(nSrc, 0.2)); err != nil {
						t.Fatal(err)
					}
					for _, x := range [][2]any{{r1, d1}, {r2, d2}} {
						r, d := x[0].(backend.DelayRing), x[1].(backend.Tensor)
						dl.PropagateDelayed(r, step%depth, w, true, dls, mask, 0.5)
						dl.TakeSlot(d, r, step%depth)
					}
					got, want := ReadAll(t, b, d2), ReadAll(t, b, d1)
					if form == "native" && backend.IsDeterministic(b) {
						expectBits(t, fmt.Sprintf("step %d after a restore", step), got, want, identity)
					} else {
						expectClose(t, fmt.Sprintf("step %d after a restore from sums", step), got, widen(want), relTol(widen(want), 1e-5, 1e-5))
					}
				}
				// Saved again, the restored ring gives back what it was given.
				if form == "sums" {
					r3 := newRing(t, dl, depth, nDst)
					if err := r3.(backend.RingStater).SetRingState(state); err != nil {
						t.Fatal(err)
					}
					again, err := r3.(backend.RingStater).RingState()
					if err != nil {
						t.Fatal(err)
					}
					expectBits(t, "RingState after SetRingState of sums", again.Sums(), state.Dense, identity)
				}
				bad := &backend.RingState{Depth: depth + 1, N: nDst, Dense: make([]float32, (depth+1)*nDst)}
				if err := r2.(backend.RingStater).SetRingState(bad); err == nil {
					t.Error("SetRingState of a state of another shape: no error")
				}
			})
		}
	})
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
