package ui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// Placement says where a panel goes.
type Placement string

const (
	Sidebar Placement = "sidebar"
	Tab     Placement = "tab"
)

// A Module is one part of the UI (PymoNNto's UI_module): it declares its
// panels and the histories it needs in Setup, and fills its panels' data in
// Frame, which runs in the simulation goroutine between steps and only
// while a client shows one of its panels.
type Module interface {
	// ID names the module; it is unique in a UI.
	ID() string
	// Setup declares panels (Session.AddPanel) and histories.
	Setup(s *Session) error
	// Frame adds the module's data to the frame being built.
	Frame(s *Session, w *FrameWriter) error
}

// A Commander handles the commands sent to its module ({"cmd": "module",
// "module": id, "opt": {...}}).
type Commander interface {
	Command(s *Session, opt map[string]any) error
}

// Panel is what a client draws. Kind is one of "grid", "controls",
// "behaviors", "lines", "raster", "heatmaps", "bars", "events", "console";
// Spec is the kind's static configuration.
type Panel struct {
	ID     string         `json:"id"`
	Module string         `json:"module"`
	Title  string         `json:"title"`
	Kind   string         `json:"kind"`
	Place  Placement      `json:"place"`
	Spec   map[string]any `json:"spec,omitempty"`
}

// Event is an entry of the run's timeline (fast forwards, behaviours
// switched, selections, expressions added).
type Event struct {
	Iter int    `json:"iter"`
	End  int    `json:"end,omitempty"`
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Session is the UI's view of the run, handed to modules. Its methods are
// called from the simulation goroutine only.
type Session struct {
	u      *UI
	net    *core.Network
	groups []*core.NeuronGroup
	panels []Panel
	mods   map[string]Module

	paused  bool
	spf     int
	rate    float64 // target steps/s (0: none)
	pending int     // steps asked for by step N
	ff      struct {
		left, total, start int
		record             bool
	}
	quit bool

	selGroup *core.NeuronGroup
	sel      []int
	selSeq   int

	histMu  sync.RWMutex // histories: written here, read by client writers
	hists   []*history
	sources []*recSource
	tracers []*tracer
	byKey   map[string]*history

	events []Event
	seq    uint64
	errMu  sync.Mutex
	err    error

	nkeys     int
	lastFrame time.Time
	dirty     bool // something to show without a step (selection, pause)
	readTime  time.Duration
}

func newSession(u *UI) (*Session, error) {
	s := &Session{u: u, net: u.net, mods: map[string]Module{}, byKey: map[string]*history{}}
	all := u.net.NeuronGroups()
	if len(u.opt.Groups) == 0 {
		s.groups = all
	} else {
		for _, tag := range u.opt.Groups {
			g, err := u.net.Group(tag)
			if err != nil {
				return nil, fmt.Errorf("ui: Options.Groups: %w", err)
			}
			s.groups = append(s.groups, g)
		}
	}
	if len(s.groups) == 0 {
		return nil, errors.New("ui: the network has no neuron group to show")
	}
	s.selGroup, s.sel = s.groups[0], []int{0}
	for _, m := range u.mods {
		s.mods[m.ID()] = m
	}
	return s, nil
}

// Net is the network.
func (s *Session) Net() *core.Network { return s.net }

// Groups are the neuron groups shown.
func (s *Session) Groups() []*core.NeuronGroup { return s.groups }

// History is the number of steps the plots keep.
func (s *Session) History() int { return s.u.opt.History }

// Selection is the selected group and neurons (the first is the one whose
// weights are shown).
func (s *Session) Selection() (*core.NeuronGroup, []int) { return s.selGroup, s.sel }

// AddPanel declares a panel.
func (s *Session) AddPanel(p Panel) {
	s.panels = append(s.panels, p)
}

// Log adds an event to the timeline.
func (s *Session) Log(kind, text string) {
	s.events = append(s.events, Event{Iter: s.net.Iteration, Kind: kind, Text: text})
}

// Events is the timeline.
func (s *Session) Events() []Event { return s.events }

func (s *Session) addHist(key string, mk func(id string) *history) *history {
	if h := s.byKey[key]; h != nil {
		return h
	}
	h := mk(fmt.Sprintf("h%d", len(s.hists)))
	s.histMu.Lock()
	s.hists = append(s.hists, h)
	s.histMu.Unlock()
	s.byKey[key] = h
	return h
}

// Series records expr (a core.Recorder expression such as "mean(v)") of
// obj every step and keeps the newest History records; it returns the
// history's id. The same obj and expr give the same history.
func (s *Session) Series(obj core.Object, label, expr string) (string, error) {
	key := fmt.Sprintf("%p/%s", obj, expr)
	if h := s.byKey[key]; h != nil {
		return h.id, nil
	}
	rec := core.NewRecorder([]string{expr}, core.RecorderOptions{Tag: "UI_rec", MaxLength: s.History(), Block: 100, Transient: true})
	if err := obj.AddBehavior(s.key(), rec); err != nil {
		return "", err
	}
	r, err := rec.Series(expr)
	if err != nil {
		_, _ = s.net.RemoveBehaviors("UI_rec_failed")
		return "", err
	}
	h := s.addHist(key, func(id string) *history { return newSeries(id, label, s.History(), r.Width) })
	h.name = objName(obj) + "/" + expr
	s.sources = append(s.sources, &recSource{h: h, rec: rec, expr: expr, obj: obj})
	return h.id, nil
}

// Spikes records the non-zero elements of g's mask every step, binned to
// at most rows raster rows, and returns the history's id.
func (s *Session) Spikes(g *core.NeuronGroup, mask string, rows int) (string, error) {
	key := fmt.Sprintf("%p/events/%s", g, mask)
	if h := s.byKey[key]; h != nil {
		return h.id, nil
	}
	if g.Var(mask) == nil {
		return "", fmt.Errorf("group %s has no variable %q (it has %s)", g.Name(), mask, strings.Join(g.VarNames(), ", "))
	}
	rec := core.NewEventRecorder([]string{mask}, core.RecorderOptions{Tag: "UI_rec", MaxLength: 4 * s.History(), Block: 100, Transient: true})
	if err := g.AddBehavior(s.key(), rec); err != nil {
		return "", err
	}
	rows = min(rows, g.Size)
	h := s.addHist(key, func(id string) *history { return newSpikes(id, g.Name(), s.History(), g.Size, rows) })
	h.name = g.Name() + "/" + mask
	s.sources = append(s.sources, &recSource{h: h, rec: rec, expr: mask, obj: g})
	return h.id, nil
}

// Trace records variable v of the selected neurons (up to MaxTraced) of g
// every step; the history restarts when the selection changes.
func (s *Session) Trace(g *core.NeuronGroup, v string) (string, error) {
	key := fmt.Sprintf("%p/trace/%s", g, v)
	if h := s.byKey[key]; h != nil {
		return h.id, nil
	}
	if g.Var(v) == nil {
		return "", fmt.Errorf("group %s has no variable %q (it has %s)", g.Name(), v, strings.Join(g.VarNames(), ", "))
	}
	h := s.addHist(key, func(id string) *history { return newSeries(id, g.Name()+" "+v, s.History(), MaxTraced) })
	h.name = g.Name() + "/" + v + "[selected]"
	t := &tracer{h: h, g: g, v: v, hmu: &s.histMu}
	t.Tag = "UI_rec"
	if err := g.AddBehavior(s.key(), t); err != nil {
		return "", err
	}
	s.tracers = append(s.tracers, t)
	t.setSel(s)
	return h.id, nil
}

// key is a free behaviour key after the model's (UI behaviours run last).
func (s *Session) key() float64 {
	s.nkeys++
	return 10000 + float64(s.nkeys)
}

// MaxTraced is the number of selected neurons whose traces are recorded.
const MaxTraced = 8

func (s *Session) fail(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

func (s *Session) failed() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// command is a client's or the program's request.
type command struct {
	Cmd    string         `json:"cmd"`
	N      int            `json:"n,omitempty"`
	Record *bool          `json:"record,omitempty"`
	Group  string         `json:"group,omitempty"`
	Idx    []int          `json:"idx,omitempty"`
	Add    bool           `json:"add,omitempty"`
	Tag    string         `json:"tag,omitempty"`
	On     *bool          `json:"on,omitempty"`
	Rate   float64        `json:"rate,omitempty"`
	Module string         `json:"module,omitempty"`
	Opt    map[string]any `json:"opt,omitempty"`
	reply  chan error
	fn     func(s *Session) error // run in the simulation goroutine
}

func (s *Session) apply(c command) error {
	switch c.Cmd {
	case "pause":
		s.paused, s.pending = true, 0
		if s.ff.left > 0 {
			s.endFF("aborted")
		}
	case "resume":
		s.paused = false
	case "toggle":
		s.paused = !s.paused
	case "step":
		if c.N <= 0 {
			return fmt.Errorf("step: n=%d; give a positive number of steps", c.N)
		}
		s.paused, s.pending = true, s.pending+c.N
	case "ff":
		if c.N <= 0 {
			return fmt.Errorf("ff: n=%d; give a positive number of steps", c.N)
		}
		if s.ff.left > 0 {
			return errors.New("ff: a fast forward is running; pause to abort it")
		}
		rec := c.Record == nil || *c.Record
		s.ff.left, s.ff.total, s.ff.start, s.ff.record = c.N, c.N, s.net.Iteration, rec
		if !rec {
			if _, err := s.net.SetActive("UI_rec", false); err != nil {
				return err
			}
		}
	case "speed":
		if c.N == 0 || c.N < Unlimited {
			return fmt.Errorf("speed: n=%d; give the steps per frame (1 or more) or -1 for as fast as possible", c.N)
		}
		s.spf = c.N
	case "rate":
		if c.Rate < 0 || math.IsNaN(c.Rate) {
			return fmt.Errorf("rate: %v; give a target in steps/s, or 0 for none", c.Rate)
		}
		s.rate = c.Rate
	case "select":
		return s.selectNeurons(c.Group, c.Idx, c.Add)
	case "active":
		if c.Tag == "" || c.On == nil {
			return errors.New(`active: give "tag" and "on"`)
		}
		if strings.HasPrefix(c.Tag, "UI_") {
			return fmt.Errorf("active: %q belongs to the UI", c.Tag)
		}
		n, err := s.net.SetActive(c.Tag, *c.On)
		if err != nil {
			return err
		}
		s.Log("behaviour", fmt.Sprintf("%s %s (%d behaviour(s))", c.Tag, map[bool]string{true: "on", false: "off"}[*c.On], n))
	case "module":
		m, ok := s.mods[c.Module].(Commander)
		if !ok {
			return fmt.Errorf("module %q takes no commands", c.Module)
		}
		if err := m.Command(s, c.Opt); err != nil {
			return err
		}
	case "fn":
		if c.fn == nil {
			return errors.New("unknown command \"fn\"")
		}
		return c.fn(s)
	case "save":
		dir, _ := c.Opt["dir"].(string)
		if dir == "" {
			dir = s.u.opt.SaveDir
		}
		if dir == "" {
			return errors.New("save: no results folder; start the UI with Options.SaveDir (the examples' -out)")
		}
		_, err := s.save(dir)
		return err
	case "redraw": // a client connected or changed its view
	case "quit":
		s.quit = true
	case "":
		return errors.New(`a command needs "cmd": pause, resume, toggle, step, ff, speed, rate, select, active, module or quit`)
	default:
		return fmt.Errorf("unknown command %q; use pause, resume, toggle, step, ff, speed, rate, select, active, module or quit", c.Cmd)
	}
	s.dirty = true
	return nil
}

func (s *Session) selectNeurons(group string, idx []int, add bool) error {
	var g *core.NeuronGroup
	for _, x := range s.groups {
		if x.Name() == group || x.HasTag(group) {
			g = x
			break
		}
	}
	if g == nil {
		names := []string{}
		for _, x := range s.groups {
			names = append(names, x.Name())
		}
		return fmt.Errorf("select: no group %q shown; the groups are %s", group, strings.Join(names, ", "))
	}
	if len(idx) == 0 {
		return errors.New("select: give at least one neuron index")
	}
	for _, i := range idx {
		if i < 0 || i >= g.Size {
			return fmt.Errorf("select: neuron %d is outside group %s's %d neurons", i, g.Name(), g.Size)
		}
	}
	if add && g == s.selGroup {
		seen := map[int]bool{}
		for _, i := range s.sel {
			seen[i] = true
		}
		for _, i := range idx {
			if !seen[i] {
				s.sel = append(s.sel, i)
				seen[i] = true
			}
		}
	} else {
		s.selGroup, s.sel = g, append([]int(nil), idx...)
	}
	s.selSeq++
	for _, t := range s.tracers {
		t.setSel(s)
	}
	return nil
}

func (s *Session) endFF(how string) {
	e := Event{Iter: s.ff.start, End: s.net.Iteration, Kind: "fast forward", Text: fmt.Sprintf("%d of %d steps %s", s.net.Iteration-s.ff.start, s.ff.total, how)}
	if !s.ff.record {
		e.Text += ", not recorded"
		_, _ = s.net.SetActive("UI_rec", true)
	}
	s.events = append(s.events, e)
	s.ff.left = 0
}

// loop runs the network and publishes frames until ctx ends.
func (s *Session) loop(ctx context.Context) error {
	u := s.u
	chunk := 1
	rateT0, rateSteps := time.Now(), 0
	var lastIter = s.net.Iteration
	var lastStat = time.Now()
	lastTick := time.Now()
	s.dirty = true
	for {
		if err := s.failed(); err != nil {
			return err
		}
	drain:
		for {
			select {
			case c := <-u.cmds:
				err := s.apply(c)
				if c.reply != nil {
					c.reply <- err
				}
			default:
				break drain
			}
		}
		u.paused.Store(s.paused && s.ff.left == 0 && s.pending == 0)
		if s.quit || ctx.Err() != nil {
			return s.net.Backend().Flush()
		}
		run, paced := 0, false
		switch {
		case s.ff.left > 0:
			run = min(s.ff.left, chunk)
		case s.pending > 0:
			run = min(s.pending, chunk)
		case !s.paused && s.spf > 0:
			run, paced = s.spf, true
		case !s.paused:
			run = chunk
		}
		if run > 0 {
			if s.rate > 0 { // hold the target steps/s
				if ahead := time.Duration(float64(rateSteps)/s.rate*float64(time.Second)) - time.Since(rateT0); ahead > 0 {
					if !s.sleep(ctx, ahead) {
						continue
					}
				}
			} else {
				rateT0, rateSteps = time.Now(), 0
			}
			t0 := time.Now()
			if err := s.net.SimulateIterations(run, core.SimOptions{Quiet: true, Hooks: u.opt.Hooks}); err != nil {
				return err
			}
			rateSteps += run
			u.iter.Store(int64(s.net.Iteration))
			if d := time.Since(t0); !paced {
				// Free runs, steps and fast forwards go in chunks of
				// about a quarter of a frame.
				if d < u.opt.FrameInterval/8 && chunk < 1<<20 {
					chunk *= 2
				} else if d > u.opt.FrameInterval/2 && chunk > 1 {
					chunk /= 2
				}
			}
			switch {
			case s.ff.left > 0:
				s.ff.left -= run
				if s.ff.left == 0 {
					s.endFF("done")
				}
			case s.pending > 0:
				s.pending -= run
			}
		}
		now := time.Now()
		if dt := now.Sub(lastStat); dt >= time.Second/2 {
			u.stats.setRate(float64(s.net.Iteration-lastIter) / dt.Seconds())
			lastIter, lastStat = s.net.Iteration, now
		}
		due := now.Sub(s.lastFrame) >= u.opt.FrameInterval
		if (paced || due || s.dirty) && u.clients.count() > 0 {
			if err := s.buildFrame(); err != nil {
				return err
			}
		}
		var wait time.Duration
		switch {
		case paced: // PymoNNto's pace: spf steps per frame interval
			next := lastTick.Add(u.opt.FrameInterval)
			if now.After(next) {
				next = now
			}
			lastTick = next
			wait = time.Until(next)
		case run == 0:
			wait = u.opt.FrameInterval
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case c := <-u.cmds:
				err := s.apply(c)
				if c.reply != nil {
					c.reply <- err
				}
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
	}
}

func (s *Session) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(min(d, s.u.opt.FrameInterval))
	defer t.Stop()
	select {
	case c := <-s.u.cmds:
		err := s.apply(c)
		if c.reply != nil {
			c.reply <- err
		}
		return false
	case <-t.C:
		return d <= s.u.opt.FrameInterval
	case <-ctx.Done():
		return false
	}
}

// pull moves every recorder's new records into the histories: the UI's
// recorders' device blocks and the traces come back in one batched read.
func (s *Session) pull() error {
	s.histMu.Lock()
	defer s.histMu.Unlock()
	recs := make([]*core.Recorder, len(s.sources))
	for k, r := range s.sources {
		recs[k] = r.rec
	}
	var extra []backend.ReadRequest
	for _, t := range s.tracers {
		if t.rows > 0 {
			extra = append(extra, backend.ReadRequest{Dst: t.host[:t.rows*MaxTraced], T: t.buf})
		}
	}
	if err := core.FlushRecorders(recs, extra...); err != nil {
		return err
	}
	for _, t := range s.tracers {
		t.store()
	}
	for _, r := range s.sources {
		if err := r.pull(); err != nil {
			return err
		}
	}
	return nil
}

// buildFrame pulls the histories, lets the visible modules fill their
// panels with one batched read, and publishes the frame.
func (s *Session) buildFrame() error {
	u := s.u
	t0 := time.Now()
	if err := s.pull(); err != nil {
		return err
	}
	visible := u.clients.visible()
	w := &FrameWriter{s: s, panels: map[string]any{}}
	for _, m := range u.mods {
		show := false
		for _, p := range s.panels {
			if p.Module == m.ID() && (p.Place == Sidebar || visible[p.ID]) {
				show = true
			}
		}
		if !show {
			continue
		}
		if err := m.Frame(s, w); err != nil {
			return fmt.Errorf("ui: module %s: %w", m.ID(), err)
		}
	}
	if err := w.execute(); err != nil {
		return err
	}
	s.readTime = time.Since(t0)
	s.seq++
	_, sel := s.Selection()
	head := map[string]any{
		"seq": s.seq, "iter": s.net.Iteration, "paused": s.paused && s.ff.left == 0 && s.pending == 0,
		"spf": s.spf, "rate": s.rate, "selection": map[string]any{"group": s.selGroup.Name(), "idx": sel, "seq": s.selSeq},
		"ff":     map[string]any{"left": s.ff.left, "total": s.ff.total, "record": s.ff.record},
		"panels": w.panels,
		"stats":  u.stats.snapshot(s.readTime, w.reads),
	}
	p := &part{}
	enc, err := appendPart(nil, toBlobs(head, p), p)
	if err != nil {
		return err
	}
	s.histMu.RLock()
	ends := make([]int, len(s.hists))
	for i, h := range s.hists {
		ends[i] = h.total
	}
	s.histMu.RUnlock()
	u.publish(&frame{Seq: s.seq, Iter: s.net.Iteration, shared: enc, histEnd: ends, json: head})
	u.stats.frame()
	s.lastFrame = time.Now()
	s.dirty = false
	return nil
}

// FrameWriter collects a frame's panel data. Reads are batched: Read
// returns a slice that is filled when the frame's reads run, after every
// module's Frame; Then callbacks run after that.
type FrameWriter struct {
	s      *Session
	panels map[string]any
	reqs   []backend.ReadRequest
	then   []func() error
	reads  int
}

// Set sets panel's data (JSON values and typed arrays: []float32, []int32,
// []int, []uint8, []float64 travel as binary).
func (w *FrameWriter) Set(panel string, data map[string]any) { w.panels[panel] = data }

// Read asks for n elements of t from off with stride (0 or 1: contiguous).
func (w *FrameWriter) Read(t backend.Tensor, off, stride, n int) []float32 {
	dst := make([]float32, n)
	w.reqs = append(w.reqs, backend.ReadRequest{Dst: dst, T: t, Off: off, Stride: stride})
	return dst
}

// ReadIndex asks for the elements off+idx[k] of t.
func (w *FrameWriter) ReadIndex(t backend.Tensor, off int, idx []int32) []float32 {
	dst := make([]float32, len(idx))
	w.reqs = append(w.reqs, backend.ReadRequest{Dst: dst, T: t, Off: off, Index: idx})
	return dst
}

// Then runs f after the reads.
func (w *FrameWriter) Then(f func() error) { w.then = append(w.then, f) }

func (w *FrameWriter) execute() error {
	if len(w.reqs) > 0 {
		if err := backend.ReadBatch(w.s.net.Backend(), w.reqs); err != nil {
			return err
		}
		w.reads = len(w.reqs)
	}
	for _, f := range w.then {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// tracer records the selected neurons' values of one variable every step
// into a device block that is read back once per frame (or when full).
type tracer struct {
	core.Base
	h     *history
	g     *core.NeuronGroup
	v     string
	idx   []int
	buf   backend.Tensor
	rows  int
	iters []int
	host  []float32
	hmu   *sync.RWMutex // the session's history lock
}

const traceBlock = 256

func (t *tracer) setSel(s *Session) {
	g, sel := s.Selection()
	if g != t.g {
		t.idx = nil
	} else {
		t.idx = append(t.idx[:0], sel[:min(len(sel), MaxTraced)]...)
	}
	// A new selection starts a new time course.
	t.rows, t.iters = 0, t.iters[:0]
	s.histMu.Lock()
	t.h.reset()
	s.histMu.Unlock()
}

// TransientTensors leaves the trace out of checkpoints (core.Transient).
func (t *tracer) TransientTensors() []backend.Tensor { return []backend.Tensor{t.buf} }

func (t *tracer) Initialize(obj core.Object) error {
	var err error
	t.buf, err = obj.Net().Backend().NewTensor(traceBlock, MaxTraced)
	t.host = make([]float32, traceBlock*MaxTraced)
	t.iters = make([]int, 0, traceBlock)
	return err
}

func (t *tracer) Iteration(obj core.Object) error {
	if len(t.idx) == 0 {
		return nil
	}
	if t.rows == traceBlock {
		t.hmu.Lock()
		err := t.flush()
		t.hmu.Unlock()
		if err != nil {
			return err
		}
	}
	be := obj.Net().Backend()
	v := obj.Var(t.v)
	for j, i := range t.idx {
		be.CopyRange(t.buf, t.rows*MaxTraced+j, v, i, 1)
	}
	t.iters = append(t.iters, obj.Net().Iteration)
	t.rows++
	return nil
}

// flush reads the block into the history (the caller holds histMu).
func (t *tracer) flush() error {
	if t.rows == 0 {
		return nil
	}
	if err := t.g.Net().Backend().Read(t.host[:t.rows*MaxTraced], t.buf, 0); err != nil {
		return err
	}
	t.store()
	return nil
}

// store moves the rows read into host to the history.
func (t *tracer) store() {
	row := make([]float32, MaxTraced)
	for r := 0; r < t.rows; r++ {
		for j := range row {
			row[j] = float32(math.NaN())
			if j < len(t.idx) {
				row[j] = t.host[r*MaxTraced+j]
			}
		}
		t.h.appendSeries(t.iters[r], row)
	}
	t.rows, t.iters = 0, t.iters[:0]
}

func objName(o core.Object) string {
	if t := o.Tags(); len(t) > 0 {
		return t[0]
	}
	return "network"
}
