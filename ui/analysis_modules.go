package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gomonnto/gomonnto/core"
)

// means records mean(v) of every shown group that has v and returns the
// groups and their histories.
func (s *Session) means(v string) (gs []*core.NeuronGroup, ids []string, err error) {
	for _, g := range s.Groups() {
		if g.Var(v) == nil {
			continue
		}
		id, err := s.Series(g, g.Name(), "mean("+v+")")
		if err != nil {
			return nil, nil, err
		}
		gs, ids = append(gs, g), append(ids, id)
	}
	return gs, ids, nil
}

// hist returns the history with id (the simulation goroutine only).
func (s *Session) hist(id string) *history {
	for _, h := range s.hists {
		if h.id == id {
			return h
		}
	}
	return nil
}

// ---- weight histograms ----

type weightHist struct {
	attr string
	bins int
	rows *weights // reads the selected neuron's row; keeps sparse column indices
}

// WeightHist shows histograms of attr: the selected neuron's afferent
// weights and every weight of each synapse group into its group (at most
// 2^20 of them, evenly spaced, for larger matrices).
func WeightHist(attr string) Module {
	return &weightHist{attr: attr, bins: 50, rows: Weights(attr).(*weights)}
}

func (m *weightHist) ID() string { return "weighthist" }

func (m *weightHist) Setup(s *Session) error {
	s.AddPanel(Panel{ID: "weighthist", Module: m.ID(), Title: "Weight Dist.", Kind: "bars", Place: Tab, Spec: map[string]any{"attr": m.attr}})
	return nil
}

const maxHistWeights = 1 << 20

func (m *weightHist) Frame(s *Session, w *FrameWriter) error {
	g, sel := s.Selection()
	type item struct {
		name string
		row  func() []float32
		all  []float32
	}
	var items []item
	for _, sg := range s.Net().SynapseGroups() {
		t := sg.Var(m.attr)
		if sg.Dst != g || t == nil {
			continue
		}
		row, err := m.rows.selectedRow(sg, m.attr, sel[0], false, w)
		if err != nil {
			return err
		}
		stride := max(1, (t.Len()+maxHistWeights-1)/maxHistWeights)
		all := w.Read(t, 0, stride, (t.Len()+stride-1)/stride)
		items = append(items, item{sg.Name(), row, all})
	}
	w.Then(func() error {
		var out []map[string]any
		for _, it := range items {
			r := it.row()
			var vals []float32
			for _, v := range r {
				if v == v {
					vals = append(vals, v)
				}
			}
			lo, hi := Range(it.all)
			hs := make([]float64, m.bins)
			Histogram(hs, vals, lo, hi)
			ha := make([]float64, m.bins)
			Histogram(ha, it.all, lo, hi)
			out = append(out,
				map[string]any{"title": fmt.Sprintf("%s: afferent %s of neuron %d", it.name, m.attr, sel[0]), "lo": lo, "hi": hi, "counts": hs},
				map[string]any{"title": fmt.Sprintf("%s: every %s", it.name, m.attr), "lo": lo, "hi": hi, "counts": ha})
		}
		w.Set("weighthist", map[string]any{"hists": out})
		return nil
	})
	return nil
}

// ---- ISI and rates ----

type isi struct {
	p    string
	ids  map[*core.NeuronGroup]string
	bins int
}

// ISI shows the inter-spike intervals of the selected neurons and of their
// group over the history, and the histogram of the neurons' rates.
func ISI(p string) Module { return &isi{p: p, ids: map[*core.NeuronGroup]string{}, bins: 30} }

func (m *isi) ID() string { return "isi" }

func (m *isi) Setup(s *Session) error {
	for _, g := range s.Groups() {
		id, err := s.Spikes(g, spikeVar(g, m.p), RasterRows)
		if err != nil {
			return fmt.Errorf("isi: %w", err)
		}
		m.ids[g] = id
	}
	s.AddPanel(Panel{ID: "isi", Module: m.ID(), Title: "Activity/ISI", Kind: "bars", Place: Tab})
	return nil
}

func (m *isi) Frame(s *Session, w *FrameWriter) error {
	g, sel := s.Selection()
	h := s.hist(m.ids[g])
	if h == nil {
		return nil
	}
	var iters []int
	var idx []int32
	from := max(0, h.total-h.cap)
	for r := from; r < h.total; r++ {
		k := r % h.cap
		for _, i := range h.idx[k] {
			iters = append(iters, h.iters[k])
			idx = append(idx, i)
		}
	}
	steps := h.total - from
	chosen := map[int32]bool{}
	for _, i := range sel {
		chosen[int32(i)] = true
	}
	selISI := GroupISIs(iters, idx, func(i int32) bool { return chosen[i] })
	allISI := GroupISIs(iters, idx, nil)
	rates := make([]float64, g.Size)
	Rates(rates, g.Size, idx, max(steps, 1))
	hi := 1.0
	for _, x := range allISI {
		hi = max(hi, x)
	}
	bins := m.bins
	hs, ha := make([]float64, bins), make([]float64, bins)
	histF64(hs, selISI, 0, hi)
	histF64(ha, allISI, 0, hi)
	rlo, rhi := 0.0, 0.0
	for _, r := range rates {
		rhi = max(rhi, r)
	}
	if rhi == rlo {
		rhi = rlo + 1
	}
	hr := make([]float64, bins)
	histF64(hr, rates, rlo, rhi)
	selRate := 0.0
	for _, i := range sel {
		selRate += rates[i]
	}
	selRate /= float64(len(sel))
	w.Set("isi", map[string]any{"hists": []map[string]any{
		{"title": fmt.Sprintf("ISI of the selection (%d intervals, steps)", len(selISI)), "lo": 0, "hi": hi, "counts": hs},
		{"title": fmt.Sprintf("ISI of %s (%d intervals, steps)", g.Name(), len(allISI)), "lo": 0, "hi": hi, "counts": ha},
		{"title": fmt.Sprintf("spikes per step of %s's neurons (selection: %.4g)", g.Name(), selRate), "lo": rlo, "hi": rhi, "counts": hr},
	}})
	return nil
}

func histF64(dst, x []float64, lo, hi float64) {
	f := make([]float32, len(x))
	for i, v := range x {
		f[i] = float32(v)
	}
	Histogram(dst, f, lo, hi)
}

// ---- Fourier ----

type spectrumMod struct {
	p   string
	ids map[*core.NeuronGroup]string
	dt  float64
}

// Fourier shows the power spectrum of the selected group's mean(p) over
// the history, with the EEG bands (1 ms per step unless set by the
// module command {"dt_ms": x}).
func Fourier(p string) Module { return &spectrumMod{p: p, ids: map[*core.NeuronGroup]string{}, dt: 1} }

func (m *spectrumMod) ID() string { return "fourier" }

func (m *spectrumMod) Setup(s *Session) error {
	gs, ids, err := s.means(m.p)
	if err != nil {
		return err
	}
	for k, g := range gs {
		m.ids[g] = ids[k]
	}
	var bands []map[string]any
	for _, b := range EEGBands {
		bands = append(bands, map[string]any{"name": b.Name, "lo": b.Lo, "hi": b.Hi})
	}
	s.AddPanel(Panel{ID: "fourier", Module: m.ID(), Title: "Fourier", Kind: "spectrum", Place: Tab, Spec: map[string]any{"bands": bands}})
	return nil
}

// Command takes {"dt_ms": x}.
func (m *spectrumMod) Command(s *Session, opt map[string]any) error {
	dt, ok := opt["dt_ms"].(float64)
	if !ok || dt <= 0 {
		return errors.New(`fourier: give {"dt_ms": x} with x > 0, the milliseconds per step`)
	}
	m.dt = dt
	return nil
}

func (m *spectrumMod) Frame(s *Session, w *FrameWriter) error {
	g, _ := s.Selection()
	h := s.hist(m.ids[g])
	if h == nil {
		return nil
	}
	_, x := h.column(0, h.cap)
	f, p := Spectrum(x, m.dt, 1, 0)
	bands := map[string]any{}
	for _, b := range EEGBands {
		bands[b.Name] = BandPower(f, p, b.Lo, b.Hi)
	}
	w.Set("fourier", map[string]any{"title": fmt.Sprintf("power of mean(%s) of %s, %d steps of %g ms", m.p, g.Name(), len(x), m.dt), "f": f, "p": p, "bands": bands})
	return nil
}

// ---- t vs t+1 ----

type stability struct {
	p   string
	ids []string
	gs  []*core.NeuronGroup
	res int
}

// Stability shows, for every pair of groups, the 2-D histogram of mean(p)
// of one at t against the other's at t+1 (PymoNNto's autocorrelation tab).
func Stability(p string) Module { return &stability{p: p, res: 40} }

func (m *stability) ID() string { return "stability" }

func (m *stability) Setup(s *Session) error {
	var err error
	if m.gs, m.ids, err = s.means(m.p); err != nil {
		return err
	}
	s.AddPanel(Panel{ID: "stability", Module: m.ID(), Title: "Autocorrelation", Kind: "heatmaps", Place: Tab})
	return nil
}

func (m *stability) Frame(s *Session, w *FrameWriter) error {
	var out []map[string]any
	for a := range m.ids {
		for b := range m.ids {
			if len(out) >= 9 {
				break
			}
			ha, hb := s.hist(m.ids[a]), s.hist(m.ids[b])
			_, xa := ha.column(0, ha.cap)
			_, xb := hb.column(0, hb.cap)
			lo1, hi1 := Range(xa)
			lo2, hi2 := Range(xb)
			lo, hi := min(lo1, lo2), max(hi1, hi2)
			d := make([]float64, m.res*m.res)
			ReturnMap(d, xa, xb, m.res, lo, hi)
			// Rows from the top: flip so that larger a(t) is higher.
			cells := make([]float32, len(d))
			for r := range m.res {
				for c := range m.res {
					cells[(m.res-1-r)*m.res+c] = float32(d[r*m.res+c])
				}
			}
			lo32, hi32 := finiteRange(cells)
			out = append(out, map[string]any{"syn": fmt.Sprintf("mean %s(t) of %s (up) vs of %s at t+1 (right)", m.p, m.gs[a].Name(), m.gs[b].Name()), "w": m.res, "h": m.res, "cells": cells, "lo": lo32, "hi": hi32})
		}
	}
	w.Set("stability", map[string]any{"items": out})
	return nil
}

// ---- events ----

type events struct{}

// Events shows the run's timeline: fast forwards, behaviours switched,
// expressions added.
func Events() Module { return events{} }

func (events) ID() string { return "events" }

func (events) Setup(s *Session) error {
	s.AddPanel(Panel{ID: "events", Module: "events", Title: "Events", Kind: "events", Place: Tab})
	return nil
}

func (events) Frame(s *Session, w *FrameWriter) error {
	ev := s.Events()
	ev = ev[max(0, len(ev)-200):]
	w.Set("events", map[string]any{"events": ev, "iter": s.Net().Iteration})
	return nil
}

// ---- expression console ----

type console struct {
	plots []map[string]any
}

// Console adds, at run time, a plot of any recorder expression of a group
// ("mean(v)", "v[0:10]", "max(I)"): {"group": g, "expr": e}.
func Console() Module { return &console{} }

func (m *console) ID() string { return "console" }

func (m *console) Setup(s *Session) error {
	s.AddPanel(Panel{ID: "console", Module: m.ID(), Title: "Expressions", Kind: "console", Place: Tab})
	return nil
}

// Command adds a plot: {"group": g, "expr": e}.
func (m *console) Command(s *Session, opt map[string]any) error {
	gname, _ := opt["group"].(string)
	expr, _ := opt["expr"].(string)
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return errors.New(`console: give {"group": name, "expr": "mean(v)"}`)
	}
	var g *core.NeuronGroup
	for _, x := range s.Groups() {
		if x.Name() == gname || gname == "" {
			g = x
			break
		}
	}
	if g == nil {
		return fmt.Errorf("console: no group %q shown", gname)
	}
	id, err := s.Series(g, g.Name()+": "+expr, expr)
	if err != nil {
		return fmt.Errorf("console: %s", err)
	}
	m.plots = append(m.plots, map[string]any{"title": g.Name() + ": " + expr, "series": []map[string]any{{"h": id, "label": expr}}})
	s.Log("expression", g.Name()+": "+expr)
	return nil
}

func (m *console) Frame(s *Session, w *FrameWriter) error {
	var names []string
	for _, g := range s.Groups() {
		names = append(names, g.Name())
	}
	w.Set("console", map[string]any{"plots": m.plots, "groups": names})
	return nil
}

// ---- export ----

type export struct{}

// Export lists every history for download as CSV, .npy or JSON, and the
// events timeline.
func Export() Module { return export{} }

func (export) ID() string { return "export" }

func (export) Setup(s *Session) error {
	s.AddPanel(Panel{ID: "export", Module: "export", Title: "Export", Kind: "export", Place: Sidebar})
	return nil
}

func (export) Frame(s *Session, w *FrameWriter) error {
	var list []map[string]any
	for _, h := range s.hists {
		list = append(list, map[string]any{"id": h.id, "label": h.label, "name": h.name, "kind": h.spec()["kind"]})
	}
	w.Set("export", map[string]any{"hists": list})
	return nil
}
