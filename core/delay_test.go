package core_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/opengl/gltest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
)

// delayBackends opens the backends the delay tests run on.
var delayBackends = []struct {
	name string
	open func(t *testing.T) backend.Backend
}{
	{"cpu", func(t *testing.T) backend.Backend {
		b, err := cpu.New(backend.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	}},
	{"gl", func(t *testing.T) backend.Backend { return gltest.Open(t) }},
}

// stepper runs f with the network's iteration number every step.
type stepper struct {
	core.Base
	f func(it int)
}

func (s *stepper) Initialize(core.Object) error { return nil }
func (s *stepper) Iteration(o core.Object) error {
	s.f(o.Net().Iteration)
	return nil
}

// delayNet makes src (nSrc neurons) -> dst (nDst) with a stepper on the
// synapse group; the caller sets the stepper's f and initializes.
func delayNet(t *testing.T, b backend.Backend, layout core.Layout, nSrc, nDst int) (*core.Network, *core.SynapseGroup, *stepper) {
	t.Helper()
	n, err := core.NewNetwork(core.Config{Backend: b, Seed: 5, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	src, err := n.NewNeuronGroup("src", core.Size(nSrc), nil)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := n.NewNeuronGroup("dst", core.Size(nDst), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &stepper{}
	sg, err := n.NewSynapseGroup("syn", src, dst, core.Behaviors{1: st})
	if err != nil {
		t.Fatal(err)
	}
	return n, sg, st
}

func run(t *testing.T, n *core.Network, steps int) {
	t.Helper()
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := n.SimulateIterations(steps, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
}

// entries returns the (source, destination) pair of every stored entry of
// a sparse matrix in the group's layout.
func entries(w backend.SparseTensor, layout core.Layout) [][2]int {
	rs, ci := w.Structure()
	var out [][2]int
	for r := 0; r+1 < len(rs); r++ {
		for e := rs[r]; e < rs[r+1]; e++ {
			if layout == core.SxD {
				out = append(out, [2]int{r, int(ci[e])})
			} else {
				out = append(out, [2]int{int(ci[e]), r})
			}
		}
	}
	return out
}

// TestSpikeArrivesExactlyDelayLater sends one spike of one source through
// fully connected sparse synapses, each with its own delay (0 to 6
// steps), and checks that every destination receives alpha * w exactly at
// the spike's iteration + the synapse's delay, and nothing at any other
// iteration.
func TestSpikeArrivesExactlyDelayLater(t *testing.T) {
	const nSrc, nDst, spikeAt, steps, alpha = 3, 5, 4, 16, 0.5
	for _, bk := range delayBackends {
		for _, layout := range []core.Layout{core.SxD, core.DxS} {
			for j0 := range nSrc {
				t.Run(fmt.Sprintf("%s/%s/source%d", bk.name, layout, j0), func(t *testing.T) {
					b := bk.open(t)
					n, sg, st := delayNet(t, b, layout, nSrc, nDst)
					w, err := sg.SparseMatrix(1, "1")
					if err != nil {
						t.Fatal(err)
					}
					sw := w.(backend.SparseTensor)
					pairs := entries(sw, layout)
					vals, delay := make([]float32, len(pairs)), make([]int, len(pairs))
					for e := range pairs {
						vals[e] = float32(e + 1)
						delay[e] = (3*e + j0) % 7
					}
					if err := b.Write(w, 0, vals); err != nil {
						t.Fatal(err)
					}
					if err := sg.SetDelaySteps(w, delay); err != nil {
						t.Fatal(err)
					}
					if sg.MaxDelay() != 6 {
						t.Errorf("MaxDelay = %d, want 6", sg.MaxDelay())
					}
					spikes, input := mustVec(t, b, nSrc), mustVec(t, b, nDst)
					one := make([]float32, nSrc)
					one[j0] = 1
					got := make([][]float32, steps+1)
					st.f = func(it int) {
						if it == spikeAt {
							must(t, b.Write(spikes, 0, one))
						} else {
							backend.Fill(spikes, 0)
						}
						backend.Fill(input, 0)
						sg.PropagateDelayed(input, w, spikes, alpha)
						got[it] = read(t, input)
					}
					run(t, n, steps)
					switch s := sg.PropagationStrategy(); {
					case bk.name == "cpu" && s != cpu.StrategyEvents && s != cpu.StrategyLayoutEvents && s != cpu.StrategyReferences:
						t.Errorf("PropagationStrategy = %q, want one of the cpu's strategies", s)
					case bk.name == "gl" && s != "":
						t.Errorf("PropagationStrategy = %q on gl, which names none", s)
					}
					want := make([][]float32, steps+1)
					for it := range want {
						want[it] = make([]float32, nDst)
					}
					arrivals := 0
					for e, p := range pairs {
						if p[0] == j0 {
							want[spikeAt+delay[e]][p[1]] += alpha * vals[e]
							arrivals++
						}
					}
					if arrivals != nDst {
						t.Fatalf("source %d has %d synapses, want %d", j0, arrivals, nDst)
					}
					for it := 1; it <= steps; it++ {
						for i := range nDst {
							if got[it][i] != want[it][i] {
								t.Errorf("iteration %d, destination %d: input %v, want %v", it, i, got[it][i], want[it][i])
							}
						}
					}
				})
			}
		}
	}
}

// TestUniformDelayDense delays a dense matrix by d steps: the input at
// iteration spikeAt + d is exactly Propagate of the spike, and zero at
// every other iteration.
func TestUniformDelayDense(t *testing.T) {
	const nSrc, nDst, spikeAt, steps = 6, 4, 3, 12
	for _, bk := range delayBackends {
		for _, layout := range []core.Layout{core.SxD, core.DxS} {
			for _, d := range []int{0, 1, 4} {
				t.Run(fmt.Sprintf("%s/%s/d=%d", bk.name, layout, d), func(t *testing.T) {
					b := bk.open(t)
					n, sg, st := delayNet(t, b, layout, nSrc, nDst)
					w, err := sg.Matrix("uniform(0.1, 1)")
					if err != nil {
						t.Fatal(err)
					}
					if d == 0 {
						err = sg.SetUniformDelay(w, 0)
					} else {
						err = sg.SetDelays(w, fmt.Sprint(d))
					}
					if err != nil {
						t.Fatal(err)
					}
					if dd, err := sg.Delays(); sg.MaxDelay() != d || dd != nil || err != nil {
						t.Errorf("MaxDelay = %d, Delays = %v, %v; want %d and nil", sg.MaxDelay(), dd, err, d)
					}
					spikes, input, direct := mustVec(t, b, nSrc), mustVec(t, b, nDst), mustVec(t, b, nDst)
					mask := []float32{0, 1, 0, 0, 1, 0}
					got := make([][]float32, steps+1)
					st.f = func(it int) {
						if it == spikeAt {
							must(t, b.Write(spikes, 0, mask))
						} else {
							backend.Fill(spikes, 0)
						}
						backend.Fill(input, 0)
						sg.PropagateDelayed(input, w, spikes, -1.5)
						got[it] = read(t, input)
					}
					run(t, n, steps)
					sm := mustVec(t, b, nSrc)
					must(t, b.Write(sm, 0, mask))
					sg.Propagate(direct, w, sm, -1.5)
					ref := read(t, direct)
					for it := 1; it <= steps; it++ {
						for i := range nDst {
							want := float32(0)
							if it == spikeAt+d {
								want = ref[i]
							}
							if got[it][i] != want {
								t.Errorf("iteration %d, destination %d: input %v, want %v", it, i, got[it][i], want)
							}
						}
					}
				})
			}
		}
	}
}

// TestDelaysSkippedIterations: input due in an iteration without a
// PropagateDelayed call arrives at the next call, exactly once.
func TestDelaysSkippedIterations(t *testing.T) {
	const spikeAt, skip, steps = 2, 5, 10 // delay 3: due at 5, which is skipped
	for _, uniform := range []bool{false, true} {
		t.Run(fmt.Sprintf("uniform=%t", uniform), func(t *testing.T) {
			b := delayBackends[0].open(t)
			n, sg, st := delayNet(t, b, core.SxD, 2, 2)
			w, err := sg.SparseMatrix(1, "2")
			if err != nil {
				t.Fatal(err)
			}
			if uniform {
				err = sg.SetDelays(w, "3")
			} else {
				err = sg.SetDelaySteps(w, []int{3, 3, 1, 1})
			}
			if err != nil {
				t.Fatal(err)
			}
			spikes, input := mustVec(t, b, 2), mustVec(t, b, 2)
			var got [steps + 1][]float32
			st.f = func(it int) {
				must(t, b.Write(spikes, 0, []float32{b2f(it == spikeAt), 0}))
				backend.Fill(input, 0)
				if it != skip {
					sg.PropagateDelayed(input, w, spikes, 1)
				}
				got[it] = read(t, input)
			}
			run(t, n, steps)
			for it := 1; it <= steps; it++ {
				want := []float32{0, 0}
				if it == skip+1 {
					want = []float32{2, 2}
				}
				if fmt.Sprint(got[it]) != fmt.Sprint(want) {
					t.Errorf("iteration %d: input %v, want %v", it, got[it], want)
				}
			}
		})
	}
}

func b2f(c bool) float32 {
	if c {
		return 1
	}
	return 0
}

// TestSetDelaysDrawn draws PD14-like delays (1.5 ms at dt = 0.1 ms, sd
// 0.75 ms) per synapse: whole steps of at least 1, mean and sd near the
// distribution's (the clipping at 1 moves them little), the same on
// every backend.
func TestSetDelaysDrawn(t *testing.T) {
	var first []int32
	for _, bk := range delayBackends {
		t.Run(bk.name, func(t *testing.T) {
			b := bk.open(t)
			_, sg, _ := delayNet(t, b, core.SxD, 200, 150)
			w, err := sg.SparseMatrix(0.2, "1")
			if err != nil {
				t.Fatal(err)
			}
			if err := sg.SetDelays(w, "normal(15, 7.5)"); err != nil {
				t.Fatal(err)
			}
			d, err := sg.Delays()
			if err != nil {
				t.Fatal(err)
			}
			if len(d) != w.Len() || len(d) < 5000 {
				t.Fatalf("%d delays for %d synapses", len(d), w.Len())
			}
			var sum, sq float64
			longest := int32(0)
			for e, v := range d {
				if v < 1 {
					t.Fatalf("delay %d = %v, want at least 1 step", e, v)
				}
				sum += float64(v)
				sq += float64(v) * float64(v)
				longest = max(longest, v)
			}
			mean := sum / float64(len(d))
			sd := math.Sqrt(sq/float64(len(d)) - mean*mean)
			if math.Abs(mean-15.07) > 0.3 || math.Abs(sd-7.3) > 0.4 {
				t.Errorf("delays: mean %.3f sd %.3f, want about 15.07 and 7.3", mean, sd)
			}
			if sg.MaxDelay() != int(longest) {
				t.Errorf("MaxDelay = %d, longest delay %v", sg.MaxDelay(), longest)
			}
			if first == nil {
				first = d
			} else if fmt.Sprint(first) != fmt.Sprint(d) {
				t.Error("the delays differ from the cpu backend's for the same seed")
			}
		})
	}
}

func TestDelayErrorsAndMisuse(t *testing.T) {
	b := delayBackends[0].open(t)
	n, sg, st := delayNet(t, b, core.DxS, 3, 3)
	dense, err := sg.Matrix("1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := sg.SparseMatrix(1, "1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.SetDelays(dense, "normal(15, 7.5)"); err == nil || !strings.Contains(err.Error(), "sparse") {
		t.Errorf("SetDelays with a distribution on a dense matrix: error %v, want one asking for a sparse matrix", err)
	}
	if err := sg.SetDelays(w, "normal(15"); err == nil {
		t.Error("SetDelays with a malformed init string: no error")
	}
	if err := sg.SetDelaySteps(w, []int{1, 2}); err == nil || !strings.Contains(err.Error(), "9 synapses") {
		t.Errorf("SetDelaySteps with 2 delays for 9 synapses: error %v", err)
	}
	if err := sg.SetDelaySteps(w, []int{1, 2, 3, 4, -1, 1, 1, 1, 1}); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Errorf("SetDelaySteps with a negative delay: error %v", err)
	}
	if err := sg.SetUniformDelay(w, -2); err == nil {
		t.Error("SetUniformDelay(-2): no error")
	}
	if err := sg.SetDelays(w, "0"); err != nil || sg.MaxDelay() != 1 {
		t.Errorf("SetDelays(\"0\"): %v, MaxDelay %d; want delays raised to 1 step", err, sg.MaxDelay())
	}
	spikes, input := mustVec(t, b, 3), mustVec(t, b, 3)
	expectPanic := func(what, want string, f func()) {
		t.Helper()
		defer func() {
			t.Helper()
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), want) {
				t.Errorf("%s: panic %v, want one containing %q", what, r, want)
			}
		}()
		f()
	}
	if err := sg.SetDelaySteps(w, make([]int, 9)); err != nil {
		t.Fatal(err)
	}
	st.f = func(it int) {
		sg.PropagateDelayed(input, w, spikes, 1)
		expectPanic("a second call in one iteration", "once per network iteration", func() { sg.PropagateDelayed(input, w, spikes, 1) })
		expectPanic("another matrix", "not the one", func() {
			n.Iteration++
			defer func() { n.Iteration-- }()
			sg.PropagateDelayed(input, dense, spikes, 1)
		})
	}
	run(t, n, 2)
	_, sg2, _ := delayNet(t, b, core.DxS, 3, 3)
	expectPanic("no delays", "SetDelays", func() { sg2.PropagateDelayed(input, w, spikes, 1) })
}

// TestPropagateDelayedZeroAllocs: a step of delayed propagation allocates
// nothing, per-synapse and uniform, on both backends.
func TestPropagateDelayedZeroAllocs(t *testing.T) {
	for _, bk := range delayBackends {
		for _, uniform := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/uniform=%t", bk.name, uniform), func(t *testing.T) {
				b := bk.open(t)
				n, sg, _ := delayNet(t, b, core.SxD, 300, 200)
				w, err := sg.SparseMatrix(0.1, "uniform(0, 1)")
				if err != nil {
					t.Fatal(err)
				}
				init := "uniform(1, 12)"
				if uniform {
					init = "7"
				}
				if err := sg.SetDelays(w, init); err != nil {
					t.Fatal(err)
				}
				spikes, input := mustVec(t, b, 300), mustVec(t, b, 200)
				backend.Fill(spikes, 1)
				step := func() {
					n.Iteration++
					sg.PropagateDelayed(input, w, spikes, 0.1)
					must(t, b.Flush())
				}
				step()
				if a := testing.AllocsPerRun(50, step); a != 0 {
					t.Errorf("PropagateDelayed allocates %v times per step, want 0", a)
				}
				must(t, b.Sync())
			})
		}
	}
}

func mustVec(t *testing.T, b backend.Backend, n int) backend.Tensor {
	t.Helper()
	v, err := b.NewTensor(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestShareDelayRing feeds one destination from two synapse groups with
// per-synapse delays of 1-6 steps and spike trains in both sources, once
// with a ring per group and once with a shared ring (ShareDelayRing), and
// checks both against the input computed by hand from the entries: every
// spike's weight arrives exactly its delay later. Weights are whole
// numbers, so the sums are exact in any order.
func TestShareDelayRing(t *testing.T) {
	const steps = 30
	sizes := [2]int{3, 2}
	const nDst = 4
	spiking := func(g, it, j int) bool { return (it*(g+2)+j*3)%5 == 0 && it <= steps-8 }
	for _, bk := range delayBackends {
		for _, layout := range []core.Layout{core.SxD, core.DxS} {
			for _, shared := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/shared=%t", bk.name, layout, shared), func(t *testing.T) {
					b := bk.open(t)
					n, err := core.NewNetwork(core.Config{Backend: b, Seed: 5, Layout: layout})
					must(t, err)
					dst, err := n.NewNeuronGroup("dst", core.Size(nDst), nil)
					must(t, err)
					st := &stepper{}
					var sgs [2]*core.SynapseGroup
					var ws [2]backend.Tensor
					var pairs [2][][2]int
					var delays [2][]int
					var vals [2][]float32
					for g := range 2 {
						src, err := n.NewNeuronGroup(fmt.Sprint("src", g), core.Size(sizes[g]), nil)
						must(t, err)
						var beh core.Behaviors
						if g == 0 {
							beh = core.Behaviors{1: st}
						}
						sgs[g], err = n.NewSynapseGroup(fmt.Sprint("syn", g), src, dst, beh)
						must(t, err)
						ws[g], err = sgs[g].SparseMatrix(1, "1")
						must(t, err)
						pairs[g] = entries(ws[g].(backend.SparseTensor), layout)
						vals[g], delays[g] = make([]float32, len(pairs[g])), make([]int, len(pairs[g]))
						for e := range pairs[g] {
							vals[g][e] = float32(e + 1 + 10*g)
							delays[g][e] = 1 + (5*e+g)%6
						}
						must(t, b.Write(ws[g], 0, vals[g]))
						must(t, sgs[g].SetDelaySteps(ws[g], delays[g]))
					}
					if shared {
						must(t, core.ShareDelayRing(sgs[0], sgs[1]))
					}
					var spikes [2]backend.Tensor
					for g := range 2 {
						spikes[g] = mustVec(t, b, sizes[g])
					}
					input := mustVec(t, b, nDst)
					got := make([][]float32, steps+1)
					st.f = func(it int) {
						backend.Fill(input, 0)
						for g := range 2 {
							m := make([]float32, sizes[g])
							for j := range m {
								m[j] = b2f(spiking(g, it, j))
							}
							must(t, b.Write(spikes[g], 0, m))
							sgs[g].PropagateDelayed(input, ws[g], spikes[g], 1)
						}
						got[it] = read(t, input)
					}
					run(t, n, steps)
					want := make([][]float32, steps+8)
					for it := range want {
						want[it] = make([]float32, nDst)
					}
					for g := range 2 {
						for it := 1; it <= steps; it++ {
							for e, p := range pairs[g] {
								if spiking(g, it, p[0]) {
									want[it+delays[g][e]][p[1]] += vals[g][e]
								}
							}
						}
					}
					nonzero := 0
					for it := 1; it <= steps; it++ {
						for i := range nDst {
							if got[it][i] != want[it][i] {
								t.Errorf("iteration %d, destination %d: input %v, want %v", it, i, got[it][i], want[it][i])
							}
							if want[it][i] != 0 {
								nonzero++
							}
						}
					}
					if nonzero < 20 {
						t.Fatalf("only %d non-zero inputs: the test drives too little", nonzero)
					}
				})
			}
		}
	}
}

// TestShareDelayRingErrors: what cannot share a ring is refused with a
// message naming the group and the reason, and a shared ring fed into two
// different tensors panics.
func TestShareDelayRingErrors(t *testing.T) {
	b := delayBackends[0].open(t)
	n, err := core.NewNetwork(core.Config{Backend: b, Seed: 5})
	must(t, err)
	a, _ := n.NewNeuronGroup("a", core.Size(3), nil)
	d1, _ := n.NewNeuronGroup("d1", core.Size(3), nil)
	d2, _ := n.NewNeuronGroup("d2", core.Size(3), nil)
	mk := func(name string, dst *core.NeuronGroup, delay int) *core.SynapseGroup {
		sg, err := n.NewSynapseGroup(name, a, dst, nil)
		must(t, err)
		w, err := sg.SparseMatrix(1, "1")
		must(t, err)
		must(t, sg.SetVar("W", w))
		steps := make([]int, w.(backend.SparseTensor).NNZ())
		for i := range steps {
			steps[i] = delay + i%2
		}
		must(t, sg.SetDelaySteps(w, steps))
		return sg
	}
	x, y, other, zero := mk("x", d1, 1), mk("y", d1, 2), mk("other", d2, 1), mk("zero", d1, 0)
	plain, err := n.NewSynapseGroup("plain", a, d1, nil)
	must(t, err)
	for _, c := range []struct {
		groups []*core.SynapseGroup
		want   string
	}{
		{[]*core.SynapseGroup{x, other}, `"other" ends on "d2"`},
		{[]*core.SynapseGroup{x, zero}, `"zero" has a delay of 0 steps`},
		{[]*core.SynapseGroup{x, plain}, `"plain" has no per-synapse delays`},
		{[]*core.SynapseGroup{x, y, x}, `"x" is listed twice`},
	} {
		err := core.ShareDelayRing(c.groups...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ShareDelayRing: error %v, want one containing %s", err, c.want)
		}
	}
	must(t, core.ShareDelayRing(x, y))
	if err := core.ShareDelayRing(x, y); err == nil || !strings.Contains(err.Error(), "already shares") {
		t.Errorf("sharing twice: error %v, want \"already shares\"", err)
	}
	must(t, n.Initialize())
	in1, in2, spikes := mustVec(t, b, 3), mustVec(t, b, 3), mustVec(t, b, 3)
	x.PropagateDelayed(in1, x.Var("W"), spikes, 1)
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "feeds another tensor") {
			t.Errorf("feeding two tensors from one shared ring: panic %v, want \"feeds another tensor\"", r)
		}
	}()
	y.PropagateDelayed(in2, y.Var("W"), spikes, 1)
}
