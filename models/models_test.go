package models_test

import (
	"math"
	"testing"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

func newNet(t *testing.T, layout core.Layout) *core.Network {
	t.Helper()
	n, err := core.NewNetwork(core.Config{Backend: cpuBackend(t), Seed: 5, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// M1 example 2: the mean activity decays by exactly 0.99 per step.
func TestBasicDecay(t *testing.T) {
	n := newNet(t, core.DxS)
	if _, err := models.Basic(n, models.BasicOptions{Example: 2}); err != nil {
		t.Fatal(err)
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := n.SimulateIterations(300, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	m, err := core.Get[*core.Series](n, "mean(activity)", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 300 || m.Data[0] < 0.4*0.99 || m.Data[0] > 0.6*0.99 {
		t.Fatalf("mean activity series: %d records, first %v", m.Len(), m.Data[0])
	}
	for k := 1; k < m.Len(); k++ {
		if r := m.Data[k] / m.Data[k-1]; math.Abs(float64(r)-0.99) > 1e-5 {
			t.Fatalf("step %d: mean ratio %v, want 0.99", k+1, r)
		}
	}
}

// M1 example 3 without noise: one step equals a float64 host computation
// of activity = d + W.d/100 with d = 0.99*activity (decay runs first).
func TestBasicInputStep(t *testing.T) {
	n := newNet(t, core.DxS)
	g, err := models.Basic(n, models.BasicOptions{Example: 3})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := core.Get[*models.Input](n, "Input", 0)
	in.Params = core.Params{"noise": "zeros"}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	a0 := read(t, g.Var("activity"))
	s, _ := core.Get[*core.SynapseGroup](n, "GLUTAMATE", 0)
	w := read(t, s.Var("W"))
	nz := 0
	for _, x := range w {
		if x != 0 {
			nz++
		}
	}
	if nz < 800 || nz > 1200 {
		t.Errorf("W density: %d of 10000 non-zero, want about 1000", nz)
	}
	if err := n.SimulateIteration(); err != nil {
		t.Fatal(err)
	}
	a1 := read(t, g.Var("activity"))
	for i := range a1 {
		sum := 0.0
		for j := range a0 {
			sum += float64(w[i*100+j]) * float64(float32(0.99)*a0[j])
		}
		want := float64(float32(0.99)*a0[i]) + sum/100
		if math.Abs(float64(a1[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("activity[%d] = %v, want %v", i, a1[i], want)
		}
	}
}

// izhRef is a float32 host reference of M3 without noise, written from
// docs/models.md with the kernel's operation order.
type izhRef struct {
	v, u, i, fired [2][]float32
	w              [4][]float32 // SxD: row = source
	src, dst       [4]int
	sign           [4]float32
}

func (r *izhRef) step() {
	const a, b, c, d, dt = 0.02, 0.2, -65, 8, 0.5
	for g := 0; g < 2; g++ {
		v, u, in, f := r.v[g], r.u[g], r.i[g], r.fired[g]
		for k := range v {
			f[k] = 0
			if v[k] > 30 {
				f[k] = 1
				v[k] = c
			}
			u[k] += d * f[k]
			v[k] += dt * (0.04*v[k]*v[k] + 5*v[k] + 140 - u[k] + in[k])
			u[k] += dt * a * (b*v[k] - u[k])
		}
	}
	for g := 0; g < 2; g++ {
		clear(r.i[g])
	}
	for s := 0; s < 4; s++ {
		cols := len(r.i[r.dst[s]])
		for j, x := range r.fired[r.src[s]] {
			if x != 0 {
				row := r.w[s][j*cols : (j+1)*cols]
				for k := range row {
					r.i[r.dst[s]][k] += r.sign[s] * row[k]
				}
			}
		}
	}
}

// M3 without noise on cpu equals the float32 reference bit for bit for
// 200 steps, spikes included.
func TestIzhikevichMatchesReference(t *testing.T) {
	n := newNet(t, core.SxD)
	m, err := models.IzhikevichNet(n, models.ClassicOptions{NE: 160, NI: 40})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*core.NeuronGroup{m.E, m.I} {
		in, _ := core.Get[*models.SpikeInput](g, "SpikeInput", 0)
		in.Params["noise"] = "0"
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	var r izhRef
	for g, grp := range []*core.NeuronGroup{m.E, m.I} {
		r.v[g], r.u[g], r.i[g] = read(t, grp.Var("v")), read(t, grp.Var("u")), read(t, grp.Var("I"))
		r.fired[g] = make([]float32, grp.Size)
	}
	for s, sg := range n.SynapseGroups() {
		r.w[s] = read(t, sg.Var("W"))
		r.src[s], r.dst[s] = map[*core.NeuronGroup]int{m.E: 0, m.I: 1}[sg.Src], map[*core.NeuronGroup]int{m.E: 0, m.I: 1}[sg.Dst]
		r.sign[s] = 0.5
		if sg.HasTag("GABA") {
			r.sign[s] = -1
		}
	}
	spikes := 0
	for step := 1; step <= 200; step++ {
		if err := n.SimulateIteration(); err != nil {
			t.Fatal(err)
		}
		r.step()
		for g, grp := range []*core.NeuronGroup{m.E, m.I} {
			for name, want := range map[string][]float32{"v": r.v[g], "u": r.u[g], "I": r.i[g], "fired": r.fired[g]} {
				got := read(t, grp.Var(name))
				for k := range got {
					if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
						t.Fatalf("step %d, %s.%s[%d] = %v, reference %v", step, grp.Name(), name, k, got[k], want[k])
					}
				}
			}
			for _, x := range r.fired[g] {
				spikes += int(x)
			}
		}
	}
	if spikes < 50 {
		t.Errorf("only %d spikes in 200 steps: the comparison exercised little", spikes)
	}
}

// M2 and M3 spike irregularly in both groups: every group fires, and the
// inter-spike intervals of active neurons vary (CV well above 0).
func TestClassicNetworksSpikeIrregularly(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(*core.Network, models.ClassicOptions) (*models.ClassicNet, error)
	}{{"lif", models.LIFNet}, {"izhikevich", models.IzhikevichNet}} {
		t.Run(c.name, func(t *testing.T) {
			n := newNet(t, core.SxD)
			m, err := c.build(n, models.ClassicOptions{})
			if err != nil {
				t.Fatal(err)
			}
			recs := map[string]*core.Recorder{}
			for _, g := range []*core.NeuronGroup{m.E, m.I} {
				recs[g.Name()] = core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{})
				if err := g.AddBehavior(9, recs[g.Name()]); err != nil {
					t.Fatal(err)
				}
			}
			if err := n.Initialize(); err != nil {
				t.Fatal(err)
			}
			if err := n.SimulateIterations(1000, core.SimOptions{Quiet: true}); err != nil {
				t.Fatal(err)
			}
			for name, r := range recs {
				ev, _ := r.Events("fired")
				last := map[int]int{}
				var isi []float64
				for k := range ev.Indices {
					if p, ok := last[ev.Indices[k]]; ok {
						isi = append(isi, float64(ev.Iterations[k]-p))
					}
					last[ev.Indices[k]] = ev.Iterations[k]
				}
				if len(isi) < 100 {
					t.Fatalf("%s: %d spikes, %d intervals: too few", name, ev.Len(), len(isi))
				}
				mean, sq := 0.0, 0.0
				for _, x := range isi {
					mean += x
				}
				mean /= float64(len(isi))
				for _, x := range isi {
					sq += (x - mean) * (x - mean)
				}
				cv := math.Sqrt(sq/float64(len(isi))) / mean
				t.Logf("%s %s: %d spikes, mean ISI %.1f steps, CV %.2f", c.name, name, ev.Len(), mean, cv)
				if cv < 0.2 {
					t.Errorf("%s: ISI CV %.2f: spiking is too regular", name, cv)
				}
			}
		})
	}
}
