package ui

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
)

// DefaultModules is PymoNNto's get_default_UI_modules: the network
// selector coloured by neuronVars[0], run controls, multi- and
// single-group plots of neuronVars, the spike raster, the weights of the
// selected neuron and their histograms for synapseVars, ISI and rate
// histograms, the Fourier spectrum, the t vs t+1 map, behaviours on and off
// (quickAccessTags first), the events timeline, the expression console and
// the export list. PCA and partitions are not there yet.
func DefaultModules(neuronVars, synapseVars []string, quickAccessTags ...string) []Module {
	if len(neuronVars) == 0 {
		neuronVars = []string{"output"}
	}
	if len(synapseVars) == 0 {
		synapseVars = []string{"W"}
	}
	p := neuronVars[0]
	return []Module{
		NetworkSelector(p),
		Controls(100, 1000, 5000, 15000, 30000, 50000, 100000),
		Behaviors(quickAccessTags...),
		Export(),
		MultiGroupPlot(neuronVars...),
		SingleGroupPlot(neuronVars...),
		Spiketrain(p),
		Weights(synapseVars...),
		WeightHist(synapseVars[0]),
		ISI(p),
		Fourier(p),
		Stability(p),
		Events(),
		Console(),
	}
}

// spikeVar picks the variable a raster shows: p if it is a spike mask
// name, else the group's first of fired, spikes, spike, output, else p.
func spikeVar(g *core.NeuronGroup, p string) string {
	for _, v := range []string{"fired", "spikes", "spike", "output"} {
		if g.Var(v) != nil && (p == v || g.Var(p) == nil || !isMaskName(p)) {
			return v
		}
	}
	return p
}

func isMaskName(p string) bool {
	switch p {
	case "fired", "spikes", "spike", "output":
		return true
	}
	return false
}

// needVar checks that every shown group has v.
func needVar(s *Session, module, v string) error {
	for _, g := range s.Groups() {
		if g.Var(v) == nil {
			return fmt.Errorf("%s: group %s has no variable %q (it has %s); pass a variable it has", module, g.Name(), v, strings.Join(g.VarNames(), ", "))
		}
	}
	return nil
}

// ---- network selector ----

type selector struct {
	v     string
	disp  []*display
	cells int
}

// NetworkSelector shows every group's neurons as a grid coloured by v;
// click, shift-click and box select neurons.
func NetworkSelector(v string) Module { return &selector{v: v} }

func (m *selector) ID() string { return "selector" }

func (m *selector) Setup(s *Session) error {
	if err := needVar(s, "network selector", m.v); err != nil {
		return err
	}
	var gs []map[string]any
	for _, g := range s.Groups() {
		d := newDisplay(g)
		m.disp = append(m.disp, d)
		sp := d.spec()
		sp["group"], sp["n"] = g.Name(), g.Size
		gs = append(gs, sp)
	}
	s.AddPanel(Panel{ID: "selector", Module: m.ID(), Title: "Network: " + m.v, Kind: "grid", Place: Sidebar, Spec: map[string]any{"var": m.v, "groups": gs}})
	return nil
}

func (m *selector) Frame(s *Session, w *FrameWriter) error {
	gs := s.Groups()
	vals := make([][]float32, len(gs))
	for k, g := range gs {
		vals[k] = w.Read(g.Var(m.v), 0, 1, g.Size)
	}
	w.Then(func() error {
		var out []map[string]any
		for k, g := range gs {
			cells := m.disp[k].mean(vals[k])
			lo, hi := finiteRange(cells)
			d := map[string]any{"group": g.Name(), "cells": cells, "lo": lo, "hi": hi}
			if g.Size <= 4096 {
				d["v"] = vals[k] // exact values in neuron order, for scripts
			}
			out = append(out, d)
		}
		w.Set("selector", map[string]any{"groups": out})
		return nil
	})
	return nil
}

// ---- run controls ----

type controls struct{ ff []int }

// Controls are play, pause, step N, steps per frame, a target speed and
// fast forward by the given numbers of steps.
func Controls(fastForward ...int) Module { return &controls{ff: fastForward} }

func (m *controls) ID() string { return "controls" }

func (m *controls) Setup(s *Session) error {
	s.AddPanel(Panel{ID: "controls", Module: m.ID(), Title: "Run", Kind: "controls", Place: Sidebar, Spec: map[string]any{"ff": m.ff}})
	return nil
}

func (m *controls) Frame(*Session, *FrameWriter) error { return nil }

// ---- behaviours ----

type behaviors struct{ quick []string }

// Behaviors lists every behaviour with a switch, and a switch per tag of
// quick (PymoNNto's quick access).
func Behaviors(quick ...string) Module { return &behaviors{quick: quick} }

func (m *behaviors) ID() string { return "behaviors" }

func (m *behaviors) Setup(s *Session) error {
	s.AddPanel(Panel{ID: "behaviors", Module: m.ID(), Title: "Behaviours", Kind: "behaviors", Place: Sidebar, Spec: map[string]any{"quick": m.quick}})
	return nil
}

type behaviorInfo interface {
	Active() bool
	Key() float64
	Owner() core.Object
}

func (m *behaviors) Frame(s *Session, w *FrameWriter) error {
	var list []map[string]any
	for _, b := range s.Net().Order() {
		bi, ok := b.(behaviorInfo)
		if !ok {
			continue
		}
		tags := core.BehaviorTags(b)
		if len(tags) > 1 && strings.HasPrefix(tags[1], "UI_") || strings.HasPrefix(tags[0], "tracer") {
			continue
		}
		owner := ""
		if o := bi.Owner(); o != nil {
			if t := o.Tags(); len(t) > 0 {
				owner = t[0]
			}
		}
		list = append(list, map[string]any{"owner": owner, "key": bi.Key(), "tags": tags, "active": bi.Active()})
	}
	w.Set("behaviors", map[string]any{"list": list})
	return nil
}

// ---- plots ----

type multiGroup struct {
	vars  []string
	plots []map[string]any
}

// MultiGroupPlot plots mean(v) of every group for each v and, below, v of
// the selected neurons.
func MultiGroupPlot(vars ...string) Module { return &multiGroup{vars: vars} }

func (m *multiGroup) ID() string { return "multigroup" }

func (m *multiGroup) Setup(s *Session) error {
	for _, v := range vars(m.vars) {
		var means, traces []map[string]any
		for _, g := range s.Groups() {
			if g.Var(v) == nil {
				continue
			}
			id, err := s.Series(g, g.Name(), "mean("+v+")")
			if err != nil {
				return err
			}
			means = append(means, map[string]any{"h": id, "label": g.Name()})
			tid, err := s.Trace(g, v)
			if err != nil {
				return err
			}
			traces = append(traces, map[string]any{"h": tid, "label": g.Name(), "trace": true})
		}
		if len(means) == 0 {
			return fmt.Errorf("multi group plot: no group has %q", v)
		}
		m.plots = append(m.plots, map[string]any{"title": "mean(" + v + ")", "series": means}, map[string]any{"title": v + " of the selection", "series": traces})
	}
	s.AddPanel(Panel{ID: "multigroup", Module: m.ID(), Title: "Multi Group", Kind: "lines", Place: Tab, Spec: map[string]any{"plots": m.plots}})
	return nil
}

func (m *multiGroup) Frame(*Session, *FrameWriter) error { return nil }

func vars(v []string) []string {
	var out []string
	for _, x := range v {
		for _, y := range strings.Split(x, "|") { // PymoNNto's 'a|b' puts curves together
			if y = strings.TrimSpace(y); y != "" {
				out = append(out, y)
			}
		}
	}
	return out
}

type singleGroup struct{ vars []string }

// SingleGroupPlot plots all vars of the selected group in one plot (means)
// and of its selected neurons in another.
func SingleGroupPlot(vars ...string) Module { return &singleGroup{vars: vars} }

func (m *singleGroup) ID() string { return "singlegroup" }

func (m *singleGroup) Setup(s *Session) error {
	groups := map[string]any{}
	for _, g := range s.Groups() {
		var means, traces []map[string]any
		for _, v := range vars(m.vars) {
			if g.Var(v) == nil {
				continue
			}
			id, err := s.Series(g, g.Name(), "mean("+v+")")
			if err != nil {
				return err
			}
			means = append(means, map[string]any{"h": id, "label": "mean(" + v + ")"})
			tid, err := s.Trace(g, v)
			if err != nil {
				return err
			}
			traces = append(traces, map[string]any{"h": tid, "label": v, "trace": true, "first": true})
		}
		groups[g.Name()] = []map[string]any{{"title": g.Name() + ": means", "series": means}, {"title": g.Name() + ": selected neuron", "series": traces}}
	}
	s.AddPanel(Panel{ID: "singlegroup", Module: m.ID(), Title: "Single Group", Kind: "lines", Place: Tab, Spec: map[string]any{"byGroup": groups}})
	return nil
}

func (m *singleGroup) Frame(*Session, *FrameWriter) error { return nil }

// ---- raster ----

type spiketrain struct {
	p    string
	rows int
}

// RasterRows is the most raster rows per group; larger groups are binned.
const RasterRows = 400

// Spiketrain shows a raster of every neuron of every group over the
// history (binned to RasterRows rows).
func Spiketrain(p string) Module { return &spiketrain{p: p, rows: RasterRows} }

func (m *spiketrain) ID() string { return "raster" }

func (m *spiketrain) Setup(s *Session) error {
	var list []map[string]any
	for _, g := range s.Groups() {
		v := spikeVar(g, m.p)
		id, err := s.Spikes(g, v, m.rows)
		if err != nil {
			return fmt.Errorf("spiketrain: %w", err)
		}
		list = append(list, map[string]any{"h": id, "group": g.Name(), "var": v, "rows": min(m.rows, g.Size), "n": g.Size})
	}
	s.AddPanel(Panel{ID: "raster", Module: m.ID(), Title: "Spiketrain", Kind: "raster", Place: Tab, Spec: map[string]any{"groups": list}})
	return nil
}

func (m *spiketrain) Frame(*Session, *FrameWriter) error { return nil }

// ---- weights ----

type weights struct {
	attrs    []string
	efferent bool
	disp     map[*core.NeuronGroup]*display
	colIdx   map[*core.SynapseGroup]map[int][]int32 // sparse column entries, per neuron
}

// Weights shows, for the selected neuron, the afferent (or efferent) row of
// each synapse matrix attr of the groups it belongs to, laid out on the
// source (or destination) grid; absent sparse entries are blank.
func Weights(attrs ...string) Module {
	if len(attrs) == 0 {
		attrs = []string{"W"}
	}
	return &weights{attrs: attrs, disp: map[*core.NeuronGroup]*display{}, colIdx: map[*core.SynapseGroup]map[int][]int32{}}
}

func (m *weights) ID() string { return "weights" }

func (m *weights) Setup(s *Session) error {
	s.AddPanel(Panel{ID: "weights", Module: m.ID(), Title: "Weights", Kind: "heatmaps", Place: Tab, Spec: map[string]any{"attrs": m.attrs}})
	return nil
}

// Command takes {"efferent": true|false}.
func (m *weights) Command(s *Session, opt map[string]any) error {
	e, ok := opt["efferent"].(bool)
	if !ok {
		return errors.New(`weights: give {"efferent": true} or {"efferent": false}`)
	}
	m.efferent = e
	return nil
}

func (m *weights) display(g *core.NeuronGroup) *display {
	if d := m.disp[g]; d != nil {
		return d
	}
	d := newDisplay(g)
	m.disp[g] = d
	return d
}

// SelectedRow reads the weights attr of neuron i of its group in synapse
// group sg: afferent (i is the destination) or efferent (i is the source),
// one value per neuron of the other group, NaN where a sparse matrix has no
// entry. It queues its reads on w.
func (m *weights) selectedRow(sg *core.SynapseGroup, attr string, i int, efferent bool, w *FrameWriter) (func() []float32, error) {
	t := sg.Var(attr)
	if t == nil {
		return nil, nil
	}
	other := sg.Src
	if efferent {
		other = sg.Dst
	}
	n := other.Size
	// The stored matrix's rows are destinations (DxS) or sources (SxD).
	rowsAreDst := sg.Net().Layout() != core.SxD
	alongRow := rowsAreDst != efferent // the neuron is a row of the matrix
	if sp, ok := t.(backend.SparseTensor); ok {
		start, cols := sp.Structure()
		if alongRow {
			lo, hi := start[i], start[i+1]
			vals := w.Read(t, int(lo), 1, int(hi-lo))
			return func() []float32 {
				out := nanRow(n)
				for k, j := range cols[lo:hi] {
					out[j] = vals[k]
				}
				return out
			}, nil
		}
		byCol := m.colIdx[sg]
		if byCol == nil {
			byCol = map[int][]int32{}
			m.colIdx[sg] = byCol
		}
		pos, ok := byCol[i]
		var rowsOf []int32
		if !ok {
			for r := 0; r+1 < len(start); r++ {
				for k := start[r]; k < start[r+1]; k++ {
					if int(cols[k]) == i {
						pos = append(pos, int32(k))
						rowsOf = append(rowsOf, int32(r))
					}
				}
			}
			if len(pos) == 0 {
				pos = []int32{}
			}
			byCol[i] = pos
		} else {
			for _, k := range pos {
				rowsOf = append(rowsOf, int32(rowOfEntry(start, int64(k))))
			}
		}
		vals := w.ReadIndex(t, 0, pos)
		return func() []float32 {
			out := nanRow(n)
			for k, r := range rowsOf {
				out[r] = vals[k]
			}
			return out
		}, nil
	}
	_, c := t.Rows(), t.Cols()
	if alongRow {
		v := w.Read(t, i*c, 1, c)
		return func() []float32 { return v }, nil
	}
	v := w.Read(t, i, c, t.Rows())
	return func() []float32 { return v }, nil
}

func rowOfEntry(start []int64, k int64) int {
	lo, hi := 0, len(start)-1
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if start[mid] <= k {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

func nanRow(n int) []float32 {
	out := make([]float32, n)
	for k := range out {
		out[k] = float32(math.NaN())
	}
	return out
}

func (m *weights) Frame(s *Session, w *FrameWriter) error {
	g, sel := s.Selection()
	i := sel[0]
	type item struct {
		sg   *core.SynapseGroup
		attr string
		get  func() []float32
	}
	var items []item
	for _, sg := range s.Net().SynapseGroups() {
		if (!m.efferent && sg.Dst != g) || (m.efferent && sg.Src != g) {
			continue
		}
		for _, a := range m.attrs {
			get, err := m.selectedRow(sg, a, i, m.efferent, w)
			if err != nil {
				return err
			}
			if get != nil {
				items = append(items, item{sg, a, get})
			}
		}
	}
	w.Then(func() error {
		var out []map[string]any
		for _, it := range items {
			row := it.get()
			other := it.sg.Src
			if m.efferent {
				other = it.sg.Dst
			}
			d := m.display(other)
			cells := d.meanNaN(row)
			lo, hi := finiteRange(cells)
			e := map[string]any{"syn": it.sg.Name(), "attr": it.attr, "group": other.Name(), "w": d.W, "h": d.H, "cells": cells, "lo": lo, "hi": hi, "sparse": backend.IsSparse(it.sg.Var(it.attr))}
			if len(row) <= 100000 {
				e["row"] = row
			}
			out = append(out, e)
		}
		w.Set("weights", map[string]any{"neuron": i, "group": g.Name(), "efferent": m.efferent, "items": out})
		return nil
	})
	return nil
}
