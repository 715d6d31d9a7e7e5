package core_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/cpu"
)

func newNet(t testing.TB, seed uint64) *core.Network {
	t.Helper()
	b, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	n, err := core.NewNetwork(core.Config{Backend: b, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// read reads tensor x back from its backend.
func read(t testing.TB, x backend.Tensor) []float32 {
	t.Helper()
	return backendtest.ReadAll(t, x.Backend(), x)
}

// logger records "name@iteration" for every call.
type logger struct {
	core.Base
	name string
	log  *[]string
}

func (l *logger) Initialize(core.Object) error { *l.log = append(*l.log, "init "+l.name); return nil }
func (l *logger) Iteration(o core.Object) error {
	*l.log = append(*l.log, fmt.Sprintf("%s@%d", l.name, o.Net().Iteration))
	return nil
}

func TestGlobalOrderAcrossGroupsAndNetwork(t *testing.T) {
	n := newNet(t, 1)
	var log []string
	mk := func(name string) *logger { return &logger{name: name, log: &log} }
	a, err := n.NewNeuronGroup("A", core.Size(3), core.Behaviors{2: mk("A2"), 1: mk("A1")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.NewNeuronGroup("B", core.Size(3), core.Behaviors{1: mk("B1"), 3: mk("B3"), 0.5: mk("B0.5")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.NewSynapseGroup("S", a, b, core.Behaviors{2: mk("S2")}); err != nil {
		t.Fatal(err)
	}
	if err := n.AddBehavior(1.5, mk("N1.5")); err != nil {
		t.Fatal(err)
	}
	if err := n.AddBehavior(2, mk("N2")); err != nil {
		t.Fatal(err)
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	log = nil
	if err := n.SimulateIteration(); err != nil {
		t.Fatal(err)
	}
	want := "B0.5@1 A1@1 B1@1 N1.5@1 N2@1 A2@1 S2@1 B3@1"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("order = %s\nwant    %s", got, want)
	}
	if a.Iteration != 1 || b.Iteration != 1 || n.Iteration != 1 {
		t.Errorf("iterations = %d %d %d, want 1", n.Iteration, a.Iteration, b.Iteration)
	}
}

// counter adds 1 to its group's "count" each active step.
type counter struct{ core.Base }

func (c *counter) Initialize(o core.Object) error {
	v, err := o.Vector("zeros")
	if err != nil {
		return err
	}
	return o.SetVar("count", v)
}
func (c *counter) Iteration(o core.Object) error {
	v := o.Var("count")
	backend.BinaryScalar(backend.Add, v, v, 1)
	return nil
}

// PymoNNto's own semantic check: deactivation stops a behaviour, recording
// off stops recorders, the iteration counter keeps counting.
func TestCounterActivationAndRecording(t *testing.T) {
	n := newNet(t, 1)
	g, err := n.NewNeuronGroup("g", core.Size(1), core.Behaviors{
		1: &counter{core.Base{Tag: "counter"}},
		9: core.NewRecorder([]string{"count"}, core.RecorderOptions{Tag: "rec"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	run := func(k int) {
		if err := n.SimulateIterations(k, core.SimOptions{Quiet: true}); err != nil {
			t.Fatal(err)
		}
	}
	run(1000)
	if c, err := n.SetActive("counter", false); err != nil || c != 1 {
		t.Fatalf("SetActive = %d, %v", c, err)
	}
	run(10)
	if _, err := n.SetActive("counter", true); err != nil {
		t.Fatal(err)
	}
	run(20)
	n.RecordingOff()
	run(30)
	if n.Iteration != 1060 || g.Iteration != 1060 {
		t.Errorf("iteration = %d (group %d), want 1060", n.Iteration, g.Iteration)
	}
	if got := read(t, g.Var("count"))[0]; got != 1050 {
		t.Errorf("counter = %v, want 1050", got)
	}
	s, err := core.Get[*core.Series](n, "count", 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1030 {
		t.Errorf("recorded %d values, want 1030", s.Len())
	}
	// The deactivated steps 1001..1010 recorded the frozen value 1000.
	if s.At(1005, 0) != 1000 || s.Iterations[1005] != 1006 {
		t.Errorf("record 1005 = %v at iteration %d, want 1000 at 1006", s.At(1005, 0), s.Iterations[1005])
	}
	if s.At(1029, 0) != 1020 {
		t.Errorf("last record = %v, want 1020", s.At(1029, 0))
	}
}

func TestTags(t *testing.T) {
	n := newNet(t, 1)
	e, _ := n.NewNeuronGroup("exc,cortex", core.Size(4), core.Behaviors{
		1: &counter{core.Base{Tag: "cnt"}},
		9: core.NewRecorder([]string{"count", "mean(count)"}, core.RecorderOptions{Tag: "my_recorder"}),
	})
	i, _ := n.NewNeuronGroup("inh,cortex", core.Size(2), nil)
	anon, _ := n.NewNeuronGroup("", core.Size(2), nil)
	s1, _ := n.NewSynapseGroup("GLUTAMATE", e, i, nil)
	s2, _ := n.NewSynapseGroup("GABA", i, e, nil)
	s3, _ := n.NewSynapseGroup("GLUTAMATE,slow", e, e, nil)
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := n.SimulateIterations(5, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	if anon.Name() != "NeuronGroup_3" {
		t.Errorf("default name %q", anon.Name())
	}
	gs, err := core.Find[*core.NeuronGroup](n, "cortex")
	if err != nil || len(gs) != 2 || gs[0] != e || gs[1] != i {
		t.Errorf("Find cortex = %v, %v", gs, err)
	}
	if gs, _ := core.Find[*core.NeuronGroup](n, "ng"); len(gs) != 3 {
		t.Errorf("ng tag: %d groups", len(gs))
	}
	if ss, _ := core.Find[*core.SynapseGroup](n, "exc_to_inh"); len(ss) != 1 || ss[0] != s1 {
		t.Errorf("exc_to_inh = %v", ss)
	}
	if ss, _ := core.Find[*core.SynapseGroup](n, "syn"); len(ss) != 3 {
		t.Errorf("syn: %d", len(ss))
	}
	if got := e.Synapses(core.Afferent, "GLUTAMATE"); len(got) != 1 || got[0] != s3 {
		t.Errorf("afferent GLUTAMATE of exc = %v", got)
	}
	if got := e.Synapses(core.Efferent, "GLUTAMATE"); len(got) != 2 || got[0] != s1 || got[1] != s3 {
		t.Errorf("efferent GLUTAMATE of exc = %v", got)
	}
	if got := e.Synapses(core.Afferent, "GABA"); len(got) != 1 || got[0] != s2 {
		t.Errorf("afferent GABA of exc = %v", got)
	}
	// Behaviours by own tag and by type name, from the network and the group.
	if r, err := core.Get[*core.Recorder](n, "my_recorder", 0); err != nil || r == nil {
		t.Errorf("my_recorder: %v", err)
	}
	if r, err := core.Get[*core.Recorder](e, "Recorder", 0); err != nil || r == nil {
		t.Errorf("Recorder by type from group: %v", err)
	}
	// Recorded names are tags.
	m, err := core.Get[*core.Series](n, "mean(count)", 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 5 || m.Width != 1 || m.At(4, 0) != 5 {
		t.Errorf("mean(count) = %v", m.Data)
	}
	c, err := core.Get[*core.Series](e, "count", 0)
	if err != nil || c.Width != 4 || c.At(2, 3) != 3 {
		t.Errorf("count = %+v %v", c, err)
	}
	// Errors.
	if _, err := core.Find[*core.NeuronGroup](n, "nope"); !errors.Is(err, core.ErrUnknownTag) || !strings.Contains(err.Error(), "cortex") {
		t.Errorf("unknown tag error = %v", err)
	}
	if _, err := core.Get[*core.NeuronGroup](n, "cortex", 2); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("index error = %v", err)
	}
	if _, err := core.Find[*core.SynapseGroup](n, "exc"); err == nil || !strings.Contains(err.Error(), "NeuronGroup") {
		t.Errorf("wrong type error = %v", err)
	}
	// Lookups from a group see only that group.
	if _, err := core.Find[*core.Recorder](i, "my_recorder"); !errors.Is(err, core.ErrUnknownTag) {
		t.Errorf("group-scoped lookup = %v", err)
	}
}

func TestSquaredDimAndPositions(t *testing.T) {
	cases := []struct{ n, w, h int }{{800, 25, 32}, {100, 10, 10}, {97, 1, 97}, {1, 1, 1}, {12, 3, 4}, {1000, 25, 40}, {200, 10, 20}}
	for _, c := range cases {
		d := core.SquaredDim(c.n)
		if d.Width != c.w || d.Height != c.h || d.Depth != 1 {
			t.Errorf("SquaredDim(%d) = %dx%d, want %dx%d", c.n, d.Width, d.Height, c.w, c.h)
		}
	}
	n := newNet(t, 1)
	g, err := n.NewNeuronGroup("g", core.Dimension{Width: 3, Height: 2, Depth: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Size != 12 {
		t.Fatalf("size %d", g.Size)
	}
	// neuron 10: x = 10%3 = 1, y = (10/3)%2 = 1, z = 10/6 = 1
	if g.X[10] != 1 || g.Y[10] != 1 || g.Z[10] != 1 || g.X[5] != 2 || g.Y[5] != 1 || g.Z[5] != 0 {
		t.Errorf("positions: x=%v y=%v z=%v", g.X, g.Y, g.Z)
	}
	c, _ := n.NewNeuronGroup("c", core.Dimension{Width: 3, Height: 3, Depth: 1, Centered: true}, nil)
	if c.X[0] != -1 || c.Y[0] != -1 || c.X[4] != 0 || c.Y[8] != 1 {
		t.Errorf("centred: %v %v", c.X, c.Y)
	}
	if _, err := n.NewNeuronGroup("bad", core.Dimension{Width: 0, Height: 1, Depth: 1}, nil); err == nil {
		t.Error("zero width accepted")
	}
}

type paramUser struct {
	core.Base
	got float32
	vec backend.Tensor
}

func (p *paramUser) Initialize(o core.Object) error {
	var err error
	if p.got, err = p.Float("decay", 0.5); err != nil {
		return err
	}
	p.vec, err = p.Vector(o, "threshold", "0.25")
	return err
}
func (p *paramUser) Iteration(core.Object) error { return nil }

func TestParameters(t *testing.T) {
	n := newNet(t, 3)
	var log bytes.Buffer
	b, _ := cpu.New(backend.Options{})
	defer b.Close()
	n, _ = core.NewNetwork(core.Config{Backend: b, Seed: 3, Log: &log})
	p := &paramUser{Base: core.Base{Params: core.Params{"decay": "10%", "threshold": "uniform(0.0, 0.5)", "typo": "1"}}}
	q := &paramUser{}
	if _, err := n.NewNeuronGroup("g", core.Size(1000), core.Behaviors{1: p, 2: q}); err != nil {
		t.Fatal(err)
	}
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	if p.got != float32(0.1) || q.got != 0.5 {
		t.Errorf("decay = %v, default = %v", p.got, q.got)
	}
	v := read(t, p.vec)
	lo, hi, distinct := float32(1), float32(0), map[float32]bool{}
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
		distinct[x] = true
	}
	if lo < 0 || hi >= 0.5 || len(distinct) < 900 {
		t.Errorf("diversity: range [%v, %v], %d distinct values", lo, hi, len(distinct))
	}
	if d := read(t, q.vec); d[0] != 0.25 || d[999] != 0.25 {
		t.Errorf("default vector = %v", d[:3])
	}
	if !strings.Contains(log.String(), "unused parameter(s) typo") {
		t.Errorf("no warning for unused parameter in log %q", log.String())
	}
	if !strings.Contains(log.String(), "Network: 1000 neurons in 1 neuron group(s), 0 synapses in 0 synapse group(s), 2 behaviour(s), backend cpu") {
		t.Errorf("summary missing: %q", log.String())
	}
}

func TestErrorsNameTheProblem(t *testing.T) {
	t.Run("malformed parameter", func(t *testing.T) {
		n := newNet(t, 1)
		p := &paramUser{Base: core.Base{Params: core.Params{"decay": "0.9.9"}}}
		n.NewNeuronGroup("g", core.Size(2), core.Behaviors{1: p})
		err := n.Initialize()
		if err == nil || !strings.Contains(err.Error(), "decay") || !strings.Contains(err.Error(), "0.9.9") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("distribution where a scalar is needed", func(t *testing.T) {
		n := newNet(t, 1)
		p := &paramUser{Base: core.Base{Params: core.Params{"decay": "uniform(0,1)"}}}
		n.NewNeuronGroup("g", core.Size(2), core.Behaviors{1: p})
		if err := n.Initialize(); err == nil || !strings.Contains(err.Error(), "scalar") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("malformed init string", func(t *testing.T) {
		n := newNet(t, 1)
		g, _ := n.NewNeuronGroup("g", core.Size(2), nil)
		_, err := g.Vector("uniform(0,")
		if err == nil || !strings.Contains(err.Error(), "uniform(0,") {
			t.Errorf("err = %v", err)
		}
		if _, err := g.Vector("unifrom"); err == nil || !strings.Contains(err.Error(), "uniform") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("synapse shape", func(t *testing.T) {
		n := newNet(t, 1)
		a, _ := n.NewNeuronGroup("a", core.Size(3), nil)
		b, _ := n.NewNeuronGroup("b", core.Size(5), nil)
		s, _ := n.NewSynapseGroup("s", a, b, nil)
		w, _ := s.Matrix("ones")
		if w.Rows() != 5 || w.Cols() != 3 {
			t.Fatalf("DxS matrix is %dx%d, want 5x3", w.Rows(), w.Cols())
		}
		if err := s.SetVar("W", w); err != nil {
			t.Fatal(err)
		}
		bad, _ := n.Backend().NewTensor(3, 5)
		err := s.SetVar("W", bad)
		if err == nil || !strings.Contains(err.Error(), "3x5") || !strings.Contains(err.Error(), "5x3") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("duplicate key", func(t *testing.T) {
		n := newNet(t, 1)
		g, _ := n.NewNeuronGroup("g", core.Size(2), core.Behaviors{1: &counter{}})
		err := g.AddBehavior(1, &counter{})
		if err == nil || !strings.Contains(err.Error(), "duplicate behaviour key 1") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("recorder variable", func(t *testing.T) {
		n := newNet(t, 1)
		n.NewNeuronGroup("g", core.Size(2), core.Behaviors{1: &counter{}, 9: core.NewRecorder([]string{"cont"}, core.RecorderOptions{})})
		err := n.Initialize()
		if err == nil || !strings.Contains(err.Error(), `"cont"`) || !strings.Contains(err.Error(), "count") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("simulate before initialize", func(t *testing.T) {
		n := newNet(t, 1)
		if err := n.SimulateIterations(1, core.SimOptions{}); err == nil || !strings.Contains(err.Error(), "Initialize") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestRuntimeAddRemove(t *testing.T) {
	n := newNet(t, 1)
	g, _ := n.NewNeuronGroup("g", core.Size(1), core.Behaviors{1: &counter{core.Base{Tag: "c1"}}})
	n.Initialize()
	n.SimulateIterations(3, core.SimOptions{Quiet: true})
	var log []string
	if err := g.AddBehavior(5, &logger{name: "late", log: &log}); err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0] != "init late" {
		t.Errorf("late behaviour not initialised: %v", log)
	}
	n.SimulateIterations(2, core.SimOptions{Quiet: true})
	if strings.Join(log, " ") != "init late late@4 late@5" {
		t.Errorf("log = %v", log)
	}
	if k, err := n.RemoveBehaviors("c1"); err != nil || k != 1 {
		t.Fatalf("remove = %d %v", k, err)
	}
	n.SimulateIterations(4, core.SimOptions{Quiet: true})
	if got := read(t, g.Var("count"))[0]; got != 5 {
		t.Errorf("count after removal = %v, want 5", got)
	}
}

func TestRecorderGapMaxLengthBlocks(t *testing.T) {
	n := newNet(t, 1)
	g, _ := n.NewNeuronGroup("g", core.Size(3), core.Behaviors{
		1: &counter{},
		8: core.NewRecorder([]string{"count", "sum(count)"}, core.RecorderOptions{Tag: "all", Block: 7}),
		9: core.NewRecorder([]string{"count"}, core.RecorderOptions{Tag: "gapped", Gap: 3, MaxLength: 4, Block: 2}),
	})
	_ = g
	n.Initialize()
	n.SimulateIterations(20, core.SimOptions{Quiet: true})
	all, _ := core.Get[*core.Recorder](n, "all", 0)
	s, err := all.Series("count")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 20 || s.At(19, 2) != 20 || s.At(6, 0) != 7 || s.At(7, 1) != 8 {
		t.Errorf("all: len %d, rows %v", s.Len(), s.Data)
	}
	sum, _ := all.Series("sum(count)")
	for k := 0; k < 20; k++ {
		if sum.At(k, 0) != float32(3*(k+1)) {
			t.Fatalf("sum(count)[%d] = %v", k, sum.At(k, 0))
		}
	}
	gp, _ := core.Get[*core.Recorder](n, "gapped", 0)
	s, _ = gp.Series("count")
	want := []int{9, 12, 15, 18}
	if fmt.Sprint(s.Iterations) != fmt.Sprint(want) || s.At(3, 0) != 18 {
		t.Errorf("gapped: iterations %v data %v, want %v", s.Iterations, s.Data, want)
	}
}

// spiker sets "fired" to 1 for neuron (iteration mod size).
type spiker struct {
	core.Base
	host []float32
}

func (s *spiker) Initialize(o core.Object) error {
	v, _ := o.Vector("zeros")
	s.host = make([]float32, v.Len())
	return o.SetVar("fired", v)
}
func (s *spiker) Iteration(o core.Object) error {
	for i := range s.host {
		s.host[i] = 0
	}
	s.host[o.Net().Iteration%len(s.host)] = 1
	return o.Net().Backend().Write(o.Var("fired"), 0, s.host)
}

func TestEventRecorder(t *testing.T) {
	n := newNet(t, 1)
	n.NewNeuronGroup("g", core.Size(4), core.Behaviors{1: &spiker{}, 9: core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Block: 3})})
	n.Initialize()
	n.SimulateIterations(10, core.SimOptions{Quiet: true})
	ev, err := core.Get[*core.Events](n, "fired", 0)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Len() != 10 {
		t.Fatalf("%d events", ev.Len())
	}
	for k := 0; k < 10; k++ {
		if ev.Iterations[k] != k+1 || ev.Indices[k] != (k+1)%4 {
			t.Errorf("event %d = (%d, %d)", k, ev.Iterations[k], ev.Indices[k])
		}
	}
}

// decay is M1's key-1 behaviour.
type decay struct {
	core.Base
	act backend.Tensor
}

func (d *decay) Initialize(o core.Object) error {
	var err error
	if d.act, err = o.Vector("uniform"); err != nil {
		return err
	}
	return o.SetVar("activity", d.act)
}
func (d *decay) Iteration(o core.Object) error {
	backend.BinaryScalar(backend.Mul, d.act, d.act, 0.99)
	return nil
}

type noise struct {
	core.Base
	in  core.Init
	buf backend.Tensor
}

func (z *noise) Initialize(o core.Object) error {
	var err error
	if z.in, err = core.ParseInit("uniform, density=0.01"); err != nil {
		return err
	}
	z.buf, err = o.Vector("zeros")
	return err
}
func (z *noise) Iteration(o core.Object) error {
	n := o.Net()
	n.Fill(z.buf, z.in)
	backend.Axpy(o.Var("activity"), 1, z.buf)
	return nil
}

func runM1(t testing.TB, seed uint64, steps int) []float32 {
	n := newNet(t, seed)
	g, _ := n.NewNeuronGroup("g", core.Size(100), core.Behaviors{1: &decay{}, 2: &noise{}})
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	if err := n.SimulateIterations(steps, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	return read(t, g.Var("activity"))
}

func TestSeedReproducible(t *testing.T) {
	a, b, c := runM1(t, 7, 50), runM1(t, 7, 50), runM1(t, 8, 50)
	same := true
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("same seed differs at %d: %v vs %v", i, a[i], b[i])
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Error("different seeds gave the same result")
	}
}

func TestZeroAllocsPerStep(t *testing.T) {
	n := newNet(t, 1)
	g, _ := n.NewNeuronGroup("g", core.Size(100), core.Behaviors{1: &decay{}, 2: &noise{},
		9: core.NewRecorder([]string{"activity", "mean(activity)"}, core.RecorderOptions{Block: 10})})
	s, _ := n.NewSynapseGroup("s", g, g, nil)
	w, _ := s.Matrix("uniform", core.Density(0.1))
	s.SetVar("W", w)
	if err := n.Initialize(); err != nil {
		t.Fatal(err)
	}
	rec, _ := core.Get[*core.Recorder](n, "Recorder", 0)
	rec.Reserve(1000)
	allocs := testing.AllocsPerRun(200, func() {
		if err := n.SimulateIteration(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per step, want 0", allocs)
	}
	if s, _ := rec.Series("activity"); s.Len() != 201 {
		t.Errorf("recorded %d steps, want 201", s.Len())
	}
}

func TestTimings(t *testing.T) {
	n := newNet(t, 1)
	var log []string
	n.NewNeuronGroup("g", core.Size(10), core.Behaviors{1: &counter{}, 2: &logger{name: "l", log: &log}})
	n.Initialize()
	if err := n.SimulateIterations(20, core.SimOptions{Quiet: true, MeasureTime: true}); err != nil {
		t.Fatal(err)
	}
	tm := n.Timings()
	if len(tm) != 2 || tm[0].Key != 1 || tm[1].Key != 2 || tm[0].Total <= 0 || tm[1].Total <= 0 {
		t.Errorf("timings = %+v", tm)
	}
	if _, ok := tm[0].Behavior.(*counter); !ok {
		t.Errorf("first timing is %T", tm[0].Behavior)
	}
}

// stepFlusher is the cpu backend with FlushStep (backend.StepFlusher),
// counting the flushes of each kind.
type stepFlusher struct {
	backend.Backend
	steps, flushes int
}

func (s *stepFlusher) FlushStep() error { s.steps++; return s.Backend.Flush() }
func (s *stepFlusher) Flush() error     { s.flushes++; return s.Backend.Flush() }

// TestStepFlusher checks that SimulateIterations ends each step with
// FlushStep and the run with Flush, and that SimulateIteration flushes.
func TestStepFlusher(t *testing.T) {
	b, err := cpu.New(backend.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sf := &stepFlusher{Backend: b}
	net, err := core.NewNetwork(core.Config{Backend: sf, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.NewNeuronGroup("g", core.Size(10), nil); err != nil {
		t.Fatal(err)
	}
	if err := net.Initialize(); err != nil {
		t.Fatal(err)
	}
	sf.steps, sf.flushes = 0, 0
	if err := net.SimulateIterations(25, core.SimOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	if sf.steps != 25 || sf.flushes != 1 {
		t.Errorf("SimulateIterations(25): %d FlushStep and %d Flush, want 25 and 1", sf.steps, sf.flushes)
	}
	if err := net.SimulateIteration(); err != nil {
		t.Fatal(err)
	}
	if sf.steps != 25 || sf.flushes != 2 {
		t.Errorf("SimulateIteration: %d FlushStep and %d Flush in all, want 25 and 2", sf.steps, sf.flushes)
	}
}
