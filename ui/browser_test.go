package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	imgpng "image/png"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gomonnto/gomonnto/ui/uitest"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
)

// inSim runs f in the simulation goroutine (between steps).
func (tu *testUI) inSim(t testing.TB, f func(s *Session) error) {
	t.Helper()
	if err := tu.do(context.Background(), command{Cmd: "fn", fn: f}); err != nil {
		t.Fatal(err)
	}
}

// read reads n elements of tensor name of obj from off with stride.
func (tu *testUI) readVar(t testing.TB, obj core.Object, name string) []float32 {
	t.Helper()
	v := obj.Var(name)
	out := make([]float32, v.Len())
	tu.inSim(t, func(s *Session) error { return s.net.Backend().Read(out, v, 0) })
	return out
}

func (tu *testUI) iteration(t testing.TB) int {
	var st map[string]any
	tu.get(t, "/api/state", &st)
	return int(st["iteration"].(float64))
}

// cellCentre is the page position of neuron i's cell on the selector.
const cellCentreJS = `((group, i) => {
  const p = __gm.layout.panels.find(p => p.id === 'selector');
  const g = p.spec.groups.find(g => g.group === group);
  const cell = g.first.indexOf(i);
  const c = document.querySelector('#panel-selector canvas[data-group="' + group + '"]');
  const r = c.getBoundingClientRect();
  return [r.left + ((cell % g.w) + 0.5) * r.width / g.w, r.top + (Math.floor(cell / g.w) + 0.5) * r.height / g.h, cell % g.w, Math.floor(cell / g.w)];
})`

// pixelJS returns the RGB of cell (x, y) of the canvas sel.
const pixelJS = `((sel, x, y) => Array.from(document.querySelector(sel).getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3)))`

// TestBrowserGridAndControls: after 7 steps the grid holds the activity
// read in Go and draws it; pause holds the iteration; step N adds N; fast
// forward reaches its iteration.
func TestBrowserGridAndControls(t *testing.T) {
	ctx := uitest.Browser(t)
	for _, be := range []string{"cpu", "gl"} {
		t.Run(be, func(t *testing.T) { testBrowserGridAndControls(t, uitest.Tab(t, ctx), be) })
	}
}

func testBrowserGridAndControls(t *testing.T, ctx context.Context, be string) {
	tu := startUI(t, openBackend(t, be), core.DxS, Options{StartPaused: true})
	uitest.Open(t, ctx, tu.URL())
	tu.Step(7)
	uitest.WaitJS(t, ctx, "a frame at iteration 7", "__gm.state.iter === 7")
	want := tu.readVar(t, tu.g, "activity")
	var got []float64
	uitest.Eval(t, ctx, "Array.from(__gm.frames.selector.groups[0].v)", &got)
	if len(got) != 100 {
		t.Fatalf("grid: %d values, want 100", len(got))
	}
	for i := range want {
		if float32(got[i]) != want[i] {
			t.Fatalf("grid value of neuron %d: %v, want %v (read in Go)", i, got[i], want[i])
		}
	}
	// Every cell's pixel has the colour of its neuron's value; neuron 0
	// (selected at start) is green.
	var lo, hi float64
	uitest.Eval(t, ctx, "__gm.frames.selector.groups[0].lo", &lo)
	uitest.Eval(t, ctx, "__gm.frames.selector.groups[0].hi", &hi)
	var lut []int
	uitest.Eval(t, ctx, "Array.from(__gm.lut)", &lut)
	for _, i := range []int{0, 1, 9, 10, 37, 55, 99} {
		var pos []float64
		uitest.Eval(t, ctx, fmt.Sprintf("%s('my_neurons', %d)", cellCentreJS, i), &pos)
		if x, y := int(pos[2]), int(pos[3]); x != i%10 || y != 9-i/10 {
			t.Fatalf("neuron %d is drawn at cell (%d, %d), want (%d, %d): x = i mod 10, y up", i, x, y, i%10, 9-i/10)
		}
		var px []int
		uitest.Eval(t, ctx, fmt.Sprintf("%s('#panel-selector canvas', %d, %d)", pixelJS, int(pos[2]), int(pos[3])), &px)
		exp := []int{0, 255, 0}
		if i != 0 {
			k := int(math.Round((float64(want[i]) - lo) / (hi - lo) * 255))
			exp = lut[3*k : 3*k+3]
		}
		for c := range 3 {
			if d := px[c] - exp[c]; d < -1 || d > 1 {
				t.Fatalf("pixel of neuron %d: %v, want %v (value %v in [%v, %v])", i, px, exp, want[i], lo, hi)
			}
		}
	}
	uitest.Screenshot(t, ctx, "grid-after-7-steps-"+be)
	// Run, then pause with the button: the iteration stops.
	tu.post(t, `{"cmd":"speed","n":-1}`)
	tu.Resume()
	uitest.WaitJS(t, ctx, "running", "__gm.state.iter > 100")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#btn-play').click(), true`)); err != nil {
		t.Fatal(err)
	}
	uitest.WaitJS(t, ctx, "paused", "__gm.state.paused")
	it := tu.iteration(t)
	time.Sleep(time.Second)
	if it2 := tu.iteration(t); it2 != it {
		t.Fatalf("paused at %d, then %d a second later", it, it2)
	}
	var shown int
	uitest.Eval(t, ctx, "__gm.state.iter", &shown)
	if shown != it {
		t.Fatalf("the page shows iteration %d, the server is at %d", shown, it)
	}
	// Step 5 from the page.
	uitest.Eval(t, ctx, `(() => { const n = document.querySelector('#step-n'); n.value = '5'; document.querySelector('#btn-step').click(); return true })()`, nil)
	uitest.WaitJS(t, ctx, "5 steps more", fmt.Sprintf("__gm.state.iter === %d", it+5))
	time.Sleep(200 * time.Millisecond)
	if got := tu.iteration(t); got != it+5 {
		t.Fatalf("step 5: iteration %d, want %d", got, it+5)
	}
	// Fast forward 1000 without recording: the right iteration, and the
	// timeline holds it.
	uitest.Eval(t, ctx, `(() => { document.querySelector('#ff-record').checked = false; document.querySelector('button[data-n="1000"]').click(); return true })()`, nil)
	uitest.WaitJS(t, ctx, "fast forward done", fmt.Sprintf("__gm.state.iter === %d && __gm.state.ff.left === 0", it+1005))
	time.Sleep(200 * time.Millisecond)
	if got := tu.iteration(t); got != it+1005 {
		t.Fatalf("fast forward 1000: iteration %d, want %d", got, it+1005)
	}
	var ev []map[string]any
	resp, _ := http.Get(tu.base() + "/api/export?what=events&format=json&token=" + tu.opt.Token)
	json.NewDecoder(resp.Body).Decode(&ev)
	resp.Body.Close()
	if len(ev) == 0 || ev[len(ev)-1]["kind"] != "fast forward" || int(ev[len(ev)-1]["end"].(float64)) != it+1005 {
		t.Fatalf("events after a fast forward: %v", ev)
	}
}

// sparseNet is example 2's decaying activity on 10 x 10 with a sparse
// recurrent W (p = 0.2).
func sparseNet(t testing.TB, be backend.Backend, layout core.Layout) (*core.Network, *core.NeuronGroup, *core.SynapseGroup) {
	net, err := core.NewNetwork(core.Config{Backend: be, Seed: 3, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	g, err := net.NewNeuronGroup("my_neurons", core.SquaredDim(100), core.Behaviors{1: &models.Decay{}})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := net.NewSynapseGroup("GLUTAMATE", g, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sg.SparseMatrix(0.2, "uniform(0.1, 1)")
	if err != nil {
		t.Fatal(err)
	}
	if err := sg.SetVar("W", w); err != nil {
		t.Fatal(err)
	}
	return net, g, sg
}

// TestBrowserSelectWeights: a click on a neuron selects it and the weights
// panel holds exactly its afferent row of W: dense and sparse, both layouts.
func TestBrowserSelectWeights(t *testing.T) {
	ctx := uitest.Browser(t)
	for _, c := range []struct {
		name   string
		layout core.Layout
		sparse bool
	}{{"dense-dxs", core.DxS, false}, {"dense-sxd", core.SxD, false}, {"sparse-dxs", core.DxS, true}, {"sparse-sxd", core.SxD, true}} {
		t.Run(c.name, func(t *testing.T) {
			be := openBackend(t, "cpu")
			var tu *testUI
			var sg *core.SynapseGroup
			if c.sparse {
				net, g, s := sparseNet(t, be, c.layout)
				tu, sg = serveNet(t, net, g, Options{StartPaused: true}), s
			} else {
				tu = startUI(t, be, c.layout, Options{StartPaused: true})
				sg = tu.net.SynapseGroups()[0]
			}
			tab := uitest.Tab(t, ctx)
			uitest.Open(t, tab, tu.URL())
			uitest.Eval(t, tab, `document.querySelector('nav#tabs button[data-id="weights"]').click(), true`, nil)
			tu.Step(3)
			uitest.WaitJS(t, tab, "iteration 3", "__gm.state.iter === 3")
			for _, i := range []int{37, 4, 90} {
				var pos []float64
				uitest.Eval(t, tab, fmt.Sprintf("%s('my_neurons', %d)", cellCentreJS, i), &pos)
				if err := chromedp.Do(tab, chromedp.MouseClickXY(pos[0], pos[1])); err != nil {
					t.Fatal(err)
				}
				uitest.WaitJS(t, tab, fmt.Sprintf("neuron %d selected and its weights shown", i), fmt.Sprintf("__gm.state.selection.idx[0] === %d && __gm.state.selection.idx.length === 1 && __gm.frames.weights && __gm.frames.weights.neuron === %d", i, i))
				var st map[string]any
				tu.get(t, "/api/state", &st)
				if sel := st["selection"].(map[string]any); sel["group"] != "my_neurons" || len(sel["idx"].([]any)) != 1 || sel["idx"].([]any)[0].(float64) != float64(i) {
					t.Fatalf("server selection %v, want my_neurons [%d]", sel, i)
				}
				var row []*float64
				uitest.Eval(t, tab, "Array.from(__gm.frames.weights.items[0].row).map(x => Number.isNaN(x) ? null : x)", &row)
				want := weightRow(t, tu, sg, i, false)
				if len(row) != len(want) {
					t.Fatalf("weights row of %d: %d values, want %d", i, len(row), len(want))
				}
				for j := range want {
					if math.IsNaN(float64(want[j])) != (row[j] == nil) || row[j] != nil && float32(*row[j]) != want[j] {
						t.Fatalf("%s: W[%d <- %d] shown %v, want %v", c.name, i, j, row[j], want[j])
					}
				}
				var px []int
				uitest.Eval(t, tab, fmt.Sprintf("%s('#panel-selector canvas', %d, %d)", pixelJS, int(pos[2]), int(pos[3])), &px)
				if px[0] != 0 || px[1] != 255 || px[2] != 0 {
					t.Fatalf("the selected neuron's cell is %v, want green", px)
				}
			}
			// Shift-click adds a neuron.
			var pos []float64
			uitest.Eval(t, tab, fmt.Sprintf("%s('my_neurons', 12)", cellCentreJS), &pos)
			if err := chromedp.Do(tab, chromedp.MouseClickXY(pos[0], pos[1], chromedp.ButtonModifiers(chromedp.ModifierShift))); err != nil {
				t.Fatal(err)
			}
			uitest.WaitJS(t, tab, "shift-click adds 12", "__gm.state.selection.idx.length === 2 && __gm.state.selection.idx[1] === 12")
			uitest.Screenshot(t, tab, "weights-"+c.name)
		})
	}
}

// izhNet is M3 at 100 neurons (80 E, 20 I) with every spike recorded by a
// user EventRecorder, as an example records them.
func izhNet(t testing.TB, be backend.Backend) (*core.Network, *models.ClassicNet, *core.Recorder) {
	net, err := core.NewNetwork(core.Config{Backend: be, Seed: 1, Layout: core.SxD})
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.IzhikevichNet(net, models.ClassicOptions{NE: 80, NI: 20})
	if err != nil {
		t.Fatal(err)
	}
	rec := core.NewEventRecorder([]string{"fired"}, core.RecorderOptions{Tag: "spikes"})
	if err := m.E.AddBehavior(9, rec); err != nil {
		t.Fatal(err)
	}
	return net, m, rec
}

func serveIzh(t testing.TB, be backend.Backend, opt Options) (*testUI, *models.ClassicNet, *core.Recorder) {
	net, m, rec := izhNet(t, be)
	u, err := New(net, DefaultModules([]string{"v"}, []string{"W"}), opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tu := &testUI{UI: u, g: m.E, cancel: cancel, done: make(chan error, 1)}
	go func() { tu.done <- u.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-tu.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return tu, m, rec
}

// rasterJS lists, for the last k columns of group's raster canvas, the
// lit rows, and the iteration of the last column.
const rasterJS = `((group, k) => {
  const c = document.querySelector('#panel-raster canvas[data-group="' + group + '"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const cols = [];
  for (let x = c.width - k; x < c.width; x++) {
    const lit = [];
    for (let y = 0; y < c.height; y++) if (d[(y * c.width + x) * 4] < 128) lit.push(y);
    cols.push(lit);
  }
  const p = __gm.layout.panels.find(p => p.id === 'raster').spec.groups.find(g => g.group === group);
  const h = __gm.hist[p.h];
  return {last: h.its[h.its.length - 1], cols};
})`

// TestBrowserRaster: the raster's last 50 columns light exactly the
// neurons the EventRecorder recorded at those steps.
func TestBrowserRaster(t *testing.T) {
	ctx := uitest.Browser(t)
	tu, m, rec := serveIzh(t, openBackend(t, "cpu"), Options{StartPaused: true})
	uitest.Open(t, ctx, tu.URL())
	uitest.Eval(t, ctx, `document.querySelector('nav#tabs button[data-id="raster"]').click(), true`, nil)
	tu.Step(300)
	uitest.WaitJS(t, ctx, "iteration 300", "__gm.state.iter === 300")
	var got struct {
		Last int
		Cols [][]int
	}
	uitest.Eval(t, ctx, rasterJS+"('E', 50)", &got)
	if got.Last != 300 {
		t.Fatalf("raster's last column is iteration %d, want 300", got.Last)
	}
	var ev *core.Events
	tu.inSim(t, func(s *Session) error {
		var err error
		ev, err = rec.Events("fired")
		return err
	})
	want := make([][]int, 50)
	for k, it := range ev.Iterations {
		if c := it - 251; c >= 0 && c < 50 {
			want[c] = append(want[c], ev.Indices[k])
		}
	}
	spikes := 0
	for c := range want {
		spikes += len(want[c])
		if fmt.Sprint(got.Cols[c]) != fmt.Sprint(want[c]) && !(len(got.Cols[c]) == 0 && len(want[c]) == 0) {
			t.Fatalf("raster column of iteration %d lights rows %v, the recorder has neurons %v", 251+c, got.Cols[c], want[c])
		}
	}
	if spikes == 0 {
		t.Fatal("no spikes in the last 50 steps: the test would not see a wrong raster")
	}
	_ = m
	uitest.Screenshot(t, ctx, "raster")
}

// TestBrowserClients: a second client sees the same frames; a pause from
// one shows in the other; a read-only client's commands are refused; a
// closed socket and a reload keep the run and its history.
func TestBrowserClients(t *testing.T) {
	ctx := uitest.Browser(t)
	tu := startUI(t, openBackend(t, "cpu"), core.DxS, Options{StartPaused: true})
	a := uitest.Tab(t, ctx)
	b := uitest.Tab(t, ctx)
	uitest.Open(t, a, tu.URL())
	uitest.Open(t, b, tu.URL())
	tu.Step(11)
	for _, tab := range []context.Context{a, b} {
		uitest.WaitJS(t, tab, "iteration 11", "__gm.state.iter === 11")
	}
	var sa, sb []float64
	uitest.Eval(t, a, "Array.from(__gm.frames.selector.groups[0].v)", &sa)
	uitest.Eval(t, b, "Array.from(__gm.frames.selector.groups[0].v)", &sb)
	if fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Fatal("two clients show different grids at the same iteration")
	}
	// Run from A (Space), pause from B: both see it.
	uitest.Eval(t, a, `document.dispatchEvent(new KeyboardEvent('keydown', {code: 'Space'})), true`, nil)
	uitest.WaitJS(t, b, "B sees the run", "!__gm.state.paused && __gm.state.iter > 20")
	uitest.Eval(t, b, `document.querySelector('#btn-play').click(), true`, nil)
	uitest.WaitJS(t, a, "A sees the pause", "__gm.state.paused")
	it := tu.iteration(t)
	uitest.WaitJS(t, b, "B at the paused iteration", fmt.Sprintf("__gm.state.iter === %d", it))
	// A read-only client may watch but not control.
	ro := uitest.Tab(t, ctx)
	uitest.Open(t, ro, tu.ViewURL())
	var code int
	uitest.Eval(t, ro, `fetch('api/cmd?token=`+tu.opt.ViewToken+`', {method: 'POST', body: '{"cmd":"step","n":1}'}).then(r => r.status)`, &code)
	if code != 403 {
		t.Fatalf("a command from the read-only view: %d, want 403", code)
	}
	// Close A's socket: it reconnects, the run goes on, the history is
	// whole (min(T, iteration) records, no duplicates).
	tu.Step(40)
	uitest.WaitJS(t, a, "iteration +40", fmt.Sprintf("__gm.state.iter === %d", it+40))
	uitest.Eval(t, a, "__gm.ws.close(), true", nil)
	tu.Step(9)
	uitest.WaitJS(t, a, "reconnected at +49", fmt.Sprintf("__gm.state.iter === %d && __gm.ws.readyState === 1", it+49))
	checkHist := func(tab context.Context, want int) {
		t.Helper()
		var its []int
		js := `(() => { const p = __gm.layout.panels.find(p => p.id === 'multigroup').spec.plots[0].series[0]; return Array.from(__gm.hist[p.h].its) })()`
		uitest.WaitJS(t, tab, "history complete", fmt.Sprintf("%s.length === %d", js, min(1000, want)))
		uitest.Eval(t, tab, js, &its)
		for k := 1; k < len(its); k++ {
			if its[k] != its[k-1]+1 {
				t.Fatalf("history iterations %d then %d: a gap or a duplicate", its[k-1], its[k])
			}
		}
		if its[len(its)-1] != want {
			t.Fatalf("history ends at %d, want %d", its[len(its)-1], want)
		}
	}
	checkHist(a, it+49)
	// Reload B: the same run, the same history, the selection kept.
	tu.Select("my_neurons", 42)
	uitest.WaitJS(t, b, "selection 42", "__gm.state.selection.idx[0] === 42")
	if err := chromedp.Do(b, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	uitest.WaitJS(t, b, "reloaded", fmt.Sprintf("__gm.state && __gm.state.iter === %d && __gm.state.selection.idx[0] === 42", it+49))
	checkHist(b, it+49)
	uitest.Screenshot(t, b, "reloaded")
}

// TestBrowserExport: the export equals the recorder, from the API and
// from the page's link.
func TestBrowserExport(t *testing.T) {
	ctx := uitest.Browser(t)
	tu := startUI(t, openBackend(t, "cpu"), core.DxS, Options{StartPaused: true, History: 200})
	uitest.Open(t, ctx, tu.URL())
	tu.Step(250)
	uitest.WaitJS(t, ctx, "iteration 250", "__gm.state.iter === 250")
	resp, err := http.Get(tu.base() + "/api/export?group=my_neurons&var=mean(activity)&format=csv&token=" + tu.opt.Token)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var s *core.Series
	tu.inSim(t, func(*Session) error {
		var err error
		s, err = core.Get[*core.Series](tu.net, "mean(activity)", 0) // the model's own recorder
		return err
	})
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if lines[0] != "iteration,my_neurons/mean(activity)" || len(lines) != 201 {
		t.Fatalf("export: header %q and %d lines, want 200 records", lines[0], len(lines)-1)
	}
	for k, l := range lines[1:] {
		it, v := 0, 0.0
		fmt.Sscanf(strings.Replace(l, ",", " ", 1), "%d %g", &it, &v)
		r := it - 1 // the model's recorder holds every step from 1
		if it != 51+k || s.Iterations[r] != it || float32(v) != s.Data[r] {
			t.Fatalf("export line %q: the recorder has %v at iteration %d", l, s.Data[r], s.Iterations[r])
		}
	}
	// The page's csv link gives the same bytes.
	var fromPage string
	uitest.Eval(t, ctx, `(() => { const a = [...document.querySelectorAll('#panel-export a')].find(a => a.previousSibling && a.parentNode.textContent.startsWith('my_neurons/mean(activity)') && a.textContent === 'csv'); return fetch(a.href).then(r => r.text()) })()`, &fromPage)
	if fromPage != string(body) {
		t.Fatalf("the page's export link gives other bytes:\n%.200s\nvs\n%.200s", fromPage, body)
	}
	// npy opens with the right shape.
	resp, err = http.Get(tu.base() + "/api/export?group=my_neurons&var=mean(activity)&format=npy&token=" + tu.opt.Token)
	if err != nil {
		t.Fatal(err)
	}
	npy, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(npy[:128]), "'shape': (200, 2)") {
		t.Fatalf("npy header %q, want shape (200, 2)", npy[:128])
	}
	// A page without the token is refused (in a browser that has not
	// opened the URL with the token, which leaves a cookie).
	tab := uitest.Browser(t)
	if err := chromedp.Do(tab, chromedp.Navigate(tu.base()+"/")); err != nil {
		t.Fatal(err)
	}
	var text string
	uitest.Eval(t, tab, "document.body.innerText", &text)
	if !strings.Contains(text, "token") {
		t.Fatalf("the page without a token shows %q", text)
	}
}

// TestBrowserScreenshot draws the seed's example 3 (README) with the
// Multi Group and Weights tabs side by side and checks that every panel
// drew something: the grid, both plots and the weights. With
// GOMONNTO_UPDATE_DOCS=1 it writes the README's picture, docs/ui.png.
func TestBrowserScreenshot(t *testing.T) {
	ctx := uitest.Browser(t)
	tu := startUI(t, openBackend(t, "cpu"), core.DxS, Options{StartPaused: true, Title: "My_Network_UI"})
	uitest.Open(t, ctx, tu.URL()+"&tabs=multigroup,weights")
	tu.Select("my_neurons", 44, 45, 46)
	tu.Step(150)
	uitest.WaitJS(t, ctx, "iteration 150", "__gm.state.iter === 150 && __gm.frames.weights && __gm.frames.weights.neuron === 44")
	time.Sleep(200 * time.Millisecond)
	// Share of non-background pixels of each canvas of a panel.
	var drawn map[string][]float64
	uitest.Eval(t, ctx, `(() => { const out = {};
	  for (const id of ['selector', 'multigroup', 'weights']) {
	    out[id] = [...document.querySelectorAll('#panel-' + id + ' canvas')].map(c => {
	      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
	      for (let k = 0; k < d.length; k += 4) if (!(d[k] === d[k+1] && d[k+1] === d[k+2] && (d[k] === 255 || d[k] === 229))) n++;
	      return n / (c.width * c.height); });
	  } return out; })()`, &drawn)
	for id, shares := range drawn {
		if len(shares) == 0 {
			t.Fatalf("panel %s has no canvas", id)
		}
		for k, s := range shares {
			if s < 0.005 {
				t.Errorf("panel %s canvas %d: %.2f%% drawn, looks empty", id, k, 100*s)
			}
		}
	}
	// A panel's PNG export holds its canvases.
	var url string
	uitest.Eval(t, ctx, "__gm.panelPNG('weights')", &url)
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := imgpng.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("the weights panel's PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 10 || b.Dy() != 14 {
		t.Fatalf("the weights panel's PNG is %v, want its 10 x 10 canvas (and the 4-pixel gap)", b)
	}
	path := uitest.Screenshot(t, ctx, "readme")
	if os.Getenv("GOMONNTO_UPDATE_DOCS") != "" {
		png, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("../docs/ui.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
