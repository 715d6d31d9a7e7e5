package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gomonnto/gomonnto/backend"
	_ "github.com/gomonnto/gomonnto/backend/opengl"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
	"github.com/gomonnto/gomonnto/ui/uitest"
)

// testUI runs the seed's example 3 network (10 x 10, seed 1) under a UI
// with PymoNNto's default modules, paused, and returns it with its URL.
type testUI struct {
	*UI
	g      *core.NeuronGroup
	cancel context.CancelFunc
	done   chan error
}

func openBackend(t testing.TB, name string) backend.Backend {
	be, err := backend.Open(name, backend.Options{})
	if err != nil {
		t.Fatalf("backend %s: %v", name, err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}

func startUI(t testing.TB, be backend.Backend, layout core.Layout, opt Options) *testUI {
	t.Helper()
	net, err := core.NewNetwork(core.Config{Backend: be, Seed: 1, Layout: layout})
	if err != nil {
		t.Fatal(err)
	}
	g, err := models.Basic(net, models.BasicOptions{Example: 3})
	if err != nil {
		t.Fatal(err)
	}
	return serveNet(t, net, g, opt)
}

func serveNet(t testing.TB, net *core.Network, g *core.NeuronGroup, opt Options) *testUI {
	t.Helper()
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	u, err := New(net, DefaultModules([]string{"activity"}, []string{"W"}), opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tu := &testUI{UI: u, g: g, cancel: cancel, done: make(chan error, 1)}
	go func() { tu.done <- u.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-tu.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return tu
}

// get fetches path with the control token and decodes the JSON answer.
func (tu *testUI) get(t testing.TB, path string, v any) int {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	resp, err := http.Get(tu.base() + path + sep + "token=" + tu.opt.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

func (tu *testUI) post(t testing.TB, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", tu.base()+"/api/cmd?token="+tu.opt.Token, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func iterOf(d *uitest.Frame) int { return int(d.Shared["iter"].(float64)) }

func TestStateAndSecurity(t *testing.T) {
	tu := startUI(t, openBackend(t, "cpu"), core.DxS, Options{StartPaused: true})
	var st map[string]any
	if code := tu.get(t, "/api/state", &st); code != 200 {
		t.Fatalf("state: %d", code)
	}
	if st["iteration"].(float64) != 0 || st["paused"] != true {
		t.Fatalf("state %v: want iteration 0, paused", st)
	}
	// No token, a wrong token: 401; the view token may watch, not control.
	for _, u := range []string{"/api/state", "/api/state?token=wrong", "/", "/ws"} {
		resp, err := http.Get(tu.base() + u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s: %d, want 401", u, resp.StatusCode)
		}
	}
	resp, err := http.Post(tu.base()+"/api/cmd?token="+tu.opt.ViewToken, "application/json", strings.NewReader(`{"cmd":"step","n":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a command with the view token: %d, want 403", resp.StatusCode)
	}
	// A foreign Origin is refused, on the API and on the WebSocket.
	req, _ := http.NewRequest("GET", tu.base()+"/api/state?token="+tu.opt.Token, nil)
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: %d, want 403", resp.StatusCode)
	}
	_, _, err = websocket.Dial(context.Background(), "ws://"+tu.Addr().String()+"/ws?token="+tu.opt.Token, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil {
		t.Error("a WebSocket from a foreign Origin was accepted")
	}
	if !strings.HasPrefix(tu.Addr().String(), "127.0.0.1:") {
		t.Errorf("default address %s, want 127.0.0.1", tu.Addr())
	}
	// Bad commands are errors that say what to do.
	for body, want := range map[string]string{`{"cmd":"step","n":0}`: "positive", `{"cmd":"jump"}`: "unknown command", `{"cmd":"select","group":"nope","idx":[1]}`: "my_neurons", `{"cmd":"select","group":"my_neurons","idx":[100]}`: "outside"} {
		code, msg := tu.post(t, body)
		if code != 400 || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", body, code, msg, want)
		}
	}
}

// TestStepsAndFrames: step 7 on a paused UI gives a frame at iteration 7
// whose grid holds the activity read in Go, pause holds the iteration,
// step N adds N, fast forward reaches the right iteration.
func TestStepsAndFrames(t *testing.T) {
	for _, be := range []string{"cpu", "gl"} {
		t.Run(be, func(t *testing.T) { testStepsAndFrames(t, be) })
	}
}

func testStepsAndFrames(t *testing.T, be string) {
	tu := startUI(t, openBackend(t, be), core.DxS, Options{StartPaused: true})
	c := uitest.Dial(t, tu.Addr().String(), tu.opt.Token, "multigroup")
	tu.Step(7)
	d := c.Until(t, "iteration 7", func(d *uitest.Frame) bool { return iterOf(d) == 7 })
	act := make([]float32, 100)
	var want []float32
	done := make(chan error)
	tu.send(command{Cmd: "fn", fn: func(s *Session) error {
		done <- tu.net.Backend().Read(act, tu.g.Var("activity"), 0)
		return nil
	}})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want = act
	sel := d.Shared["panels"].(map[string]any)["selector"].(map[string]any)["groups"].([]any)[0].(map[string]any)
	got := sel["v"].([]float64)
	for i := range want {
		if float32(got[i]) != want[i] {
			t.Fatalf("grid value %d: %v, want %v", i, got[i], want[i])
		}
	}
	// Cells are y-up: neuron (x, y) is cell (H-1-y)*W + x.
	cells := sel["cells"].([]float64)
	for i := range want {
		x, y := i%10, i/10
		if float32(cells[(9-y)*10+x]) != want[i] {
			t.Fatalf("cell of neuron %d (x %d, y %d): %v, want %v", i, x, y, cells[(9-y)*10+x], want[i])
		}
	}
	if d.Shared["paused"] != true {
		t.Error("paused after step 7")
	}
	// The history of mean(activity) holds iterations 1..7 with the means.
	var mean map[string]any
	for _, h := range d.Hist {
		hm := h.(map[string]any)
		if hm["spec"].(map[string]any)["label"] == "my_neurons" && hm["v"] != nil && hm["spec"].(map[string]any)["width"].(float64) == 1 {
			mean = hm
		}
	}
	_ = mean
	time.Sleep(300 * time.Millisecond)
	var st map[string]any
	tu.get(t, "/api/state", &st)
	if st["iteration"].(float64) != 7 {
		t.Errorf("paused: iteration %v, want 7", st["iteration"])
	}
	tu.post(t, `{"cmd":"step","n":25}`)
	c.Until(t, "iteration 32", func(d *uitest.Frame) bool { return iterOf(d) == 32 && d.Shared["paused"] == true })
	tu.post(t, `{"cmd":"ff","n":1000,"record":false}`)
	d = c.Until(t, "iteration 1032", func(d *uitest.Frame) bool {
		return iterOf(d) == 1032 && d.Shared["ff"].(map[string]any)["left"].(float64) == 0
	})
	if it := iterOf(d); it != 1032 {
		t.Fatalf("after ff 1000: %d", it)
	}
}

// TestWeightsRows: on both backends, in both layouts, dense and sparse, the
// weights panel holds the selected neuron's afferent and efferent rows of W
// exactly (read in one batch per frame).
func TestWeightsRows(t *testing.T) {
	for _, be := range []string{"cpu", "gl"} {
		for _, layout := range []core.Layout{core.DxS, core.SxD} {
			for _, sparse := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%v/sparse=%v", be, layout, sparse), func(t *testing.T) {
					b := openBackend(t, be)
					var tu *testUI
					var sg *core.SynapseGroup
					if sparse {
						net, g, s := sparseNet(t, b, layout)
						tu, sg = serveNet(t, net, g, Options{StartPaused: true}), s
					} else {
						tu = startUI(t, b, layout, Options{StartPaused: true})
						sg = tu.net.SynapseGroups()[0]
					}
					c := uitest.Dial(t, tu.Addr().String(), tu.opt.Token, "weights")
					tu.Step(2)
					for _, eff := range []bool{false, true} {
						code, msg := tu.post(t, fmt.Sprintf(`{"cmd":"module","module":"weights","opt":{"efferent":%v}}`, eff))
						if code != 200 {
							t.Fatal(msg)
						}
						for _, i := range []int{0, 37, 99} {
							tu.Select("my_neurons", i)
							d := c.Until(t, fmt.Sprintf("weights of %d", i), func(d *uitest.Frame) bool {
								w, ok := d.Shared["panels"].(map[string]any)["weights"].(map[string]any)
								return ok && int(w["neuron"].(float64)) == i && w["efferent"] == eff
							})
							row := d.Shared["panels"].(map[string]any)["weights"].(map[string]any)["items"].([]any)[0].(map[string]any)["row"].([]float64)
							want := weightRow(t, tu, sg, i, eff)
							for j := range want {
								if math.IsNaN(float64(want[j])) != math.IsNaN(row[j]) || !math.IsNaN(row[j]) && float32(row[j]) != want[j] {
									t.Fatalf("efferent=%v neuron %d: entry %d is %v, want %v", eff, i, j, row[j], want[j])
								}
							}
						}
					}
					if reads := tu.latest.Load().json["stats"].(map[string]any)["reads"].(int); reads > 3 {
						t.Errorf("%d tensor reads in a frame's batch; want the grid and the weights (at most 3)", reads)
					}
				})
			}
		}
	}
}

// weightRow reads in Go the weights of neuron i: afferent (one per source)
// or efferent (one per destination), NaN where a sparse matrix has none.
func weightRow(t testing.TB, tu *testUI, sg *core.SynapseGroup, i int, efferent bool) []float32 {
	w := sg.Var("W")
	all := make([]float32, w.Len())
	tu.inSim(t, func(s *Session) error { return s.net.Backend().Read(all, w, 0) })
	nSrc, nDst := sg.Src.Size, sg.Dst.Size
	at := func(src, dst int) int { // element index of the dense matrix
		if sg.Net().Layout() == core.SxD {
			return src*nDst + dst
		}
		return dst*nSrc + src
	}
	n := nSrc
	if efferent {
		n = nDst
	}
	out := make([]float32, n)
	if sp, ok := w.(backend.SparseTensor); ok {
		for k := range out {
			out[k] = float32(math.NaN())
		}
		start, cols := sp.Structure()
		for r := 0; r+1 < len(start); r++ {
			for k := start[r]; k < start[r+1]; k++ {
				src, dst := int(cols[k]), r
				if sg.Net().Layout() == core.SxD {
					src, dst = r, int(cols[k])
				}
				if !efferent && dst == i {
					out[src] = all[k]
				}
				if efferent && src == i {
					out[dst] = all[k]
				}
			}
		}
		return out
	}
	for j := range out {
		if efferent {
			out[j] = all[at(i, j)]
		} else {
			out[j] = all[at(j, i)]
		}
	}
	return out
}

// panel returns frame d's data of panel id.
func panel(d *uitest.Frame, id string) map[string]any {
	p, _ := d.Shared["panels"].(map[string]any)[id].(map[string]any)
	return p
}

// TestAnalysisModules checks the ISI, rate, Fourier, t vs t+1 and weight
// histograms against the recorded spikes and series, the expression
// console against a recorder of the same expression, and the behaviour
// switches.
func TestAnalysisModules(t *testing.T) {
	tu, m, rec := serveIzh(t, openBackend(t, "cpu"), Options{StartPaused: true})
	user := core.NewRecorder([]string{"max(v)"}, core.RecorderOptions{Tag: "user_max"})
	done := make(chan error, 1)
	tu.send(command{Cmd: "fn", fn: func(s *Session) error { done <- m.E.AddBehavior(9.5, user); return nil }})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c := uitest.Dial(t, tu.Addr().String(), tu.opt.Token, "isi", "fourier", "stability", "weighthist", "console", "events")
	code, msg := tu.post(t, `{"cmd":"module","module":"console","opt":{"group":"E","expr":"max(v)"}}`)
	if code != 200 {
		t.Fatal(msg)
	}
	code, msg = tu.post(t, `{"cmd":"module","module":"console","opt":{"group":"E","expr":"mean(nope)"}}`)
	if code != 400 || !strings.Contains(msg, "nope") {
		t.Fatalf("a console expression of an unknown variable: %d %q", code, msg)
	}
	tu.Select("E", 3, 7, 11)
	tu.Step(400)
	d := c.Until(t, "iteration 400", func(d *uitest.Frame) bool { return iterOf(d) == 400 && d.Shared["paused"] == true })
	var ev *core.Events
	var mx *core.Series
	var meanV *core.Series
	tu.inSim(t, func(s *Session) error {
		var err error
		if ev, err = rec.Events("fired"); err != nil {
			return err
		}
		if mx, err = user.Series("max(v)"); err != nil {
			return err
		}
		h, err := s.findHist("", "E", "mean(v)")
		if err != nil {
			return err
		}
		its, v := h.column(0, h.cap)
		meanV = &core.Series{Iterations: its, Data: v, Width: 1}
		return nil
	})
	// ISI of the selection, by hand from the recorder's events.
	last := map[int]int{}
	var isis []float64
	all := []float64{}
	for k, i := range ev.Indices {
		it := ev.Iterations[k]
		if p, ok := last[i]; ok {
			all = append(all, float64(it-p))
			if i == 3 || i == 7 || i == 11 {
				isis = append(isis, float64(it-p))
			}
		}
		last[i] = it
	}
	hi := 1.0
	for _, x := range all {
		hi = max(hi, x)
	}
	want := make([]float64, 30)
	histF64(want, isis, 0, hi)
	hs := panel(d, "isi")["hists"].([]any)
	got := hs[0].(map[string]any)["counts"].([]float64)
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("ISI histogram of the selection: bin %d has %v, want %v (%v)", k, got[k], want[k], isis)
		}
	}
	sum := 0.0
	for _, x := range hs[1].(map[string]any)["counts"].([]float64) {
		sum += x
	}
	if int(sum) != len(all) || len(all) == 0 {
		t.Fatalf("group ISI histogram holds %v intervals, the recorder %d", sum, len(all))
	}
	// Fourier of mean(v) over the history.
	f := panel(d, "fourier")
	wf, wp := Spectrum(meanV.Data, 1, 1, 0)
	gf, gp := f["f"].([]float64), f["p"].([]float64)
	if len(gf) != len(wf) || len(gf) == 0 {
		t.Fatalf("spectrum: %d frequencies, want %d", len(gf), len(wf))
	}
	for k := range wf {
		if float32(gf[k]) != float32(wf[k]) || float32(gp[k]) != float32(wp[k]) {
			t.Fatalf("spectrum bin %d: (%v, %v), want (%v, %v)", k, gf[k], gp[k], wf[k], wp[k])
		}
	}
	// t vs t+1: E against E holds len-1 pairs.
	st := panel(d, "stability")["items"].([]any)[0].(map[string]any)["cells"].([]float64)
	sum = 0
	for _, x := range st {
		sum += x
	}
	if int(sum) != len(meanV.Data)-1 {
		t.Fatalf("return map holds %v pairs, want %d", sum, len(meanV.Data)-1)
	}
	// The weight histogram of every W of E->E counts its entries.
	wh := panel(d, "weighthist")["hists"].([]any)
	sum = 0
	for _, x := range wh[1].(map[string]any)["counts"].([]float64) {
		sum += x
	}
	if int(sum) != 80*80 {
		t.Fatalf("weight histogram of E->E counts %v weights, want 6400", sum)
	}
	// The console's history equals the user's recorder of max(v).
	var hid string
	for _, p := range panel(d, "console")["plots"].([]any) {
		hid = p.(map[string]any)["series"].([]any)[0].(map[string]any)["h"].(string)
	}
	tu.inSim(t, func(s *Session) error {
		h := s.hist(hid)
		its, v := h.column(0, h.cap)
		if len(its) != 400 {
			t.Errorf("console history: %d records, want 400", len(its))
		}
		for k, it := range its {
			if mx.Iterations[it-1] != it || mx.Data[it-1] != v[k] {
				t.Errorf("console max(v) at %d: %v, the recorder %v", it, v[k], mx.Data[it-1])
				break
			}
		}
		return nil
	})
	// Behaviours off and on by tag; the timeline records it.
	if code, msg := tu.post(t, `{"cmd":"active","tag":"SpikeInput","on":false}`); code != 200 {
		t.Fatal(msg)
	}
	var active bool
	tu.inSim(t, func(s *Session) error {
		bs, err := core.Find[core.Behavior](s.net, "SpikeInput")
		if err != nil {
			return err
		}
		active = bs[0].(behaviorInfo).Active()
		return nil
	})
	if active {
		t.Fatal("SpikeInput still active after switching it off")
	}
	if code, msg := tu.post(t, `{"cmd":"active","tag":"UI_rec","on":false}`); code != 400 || !strings.Contains(msg, "UI") {
		t.Fatalf("switching the UI's recorders: %d %q", code, msg)
	}
	tu.Step(1)
	d = c.Until(t, "the event", func(d *uitest.Frame) bool { e, _ := panel(d, "events")["events"].([]any); return len(e) >= 2 })
	evs := panel(d, "events")["events"].([]any)
	if e := evs[len(evs)-1].(map[string]any); e["kind"] != "behaviour" || !strings.Contains(e["text"].(string), "SpikeInput off") {
		t.Fatalf("last event %v, want SpikeInput off", e)
	}
}

// TestReadOnly: with Options.ReadOnly even the token only watches.
func TestReadOnly(t *testing.T) {
	tu := startUI(t, openBackend(t, "cpu"), core.DxS, Options{StartPaused: true, ReadOnly: true})
	if code, _ := tu.post(t, `{"cmd":"step","n":1}`); code != http.StatusForbidden {
		t.Fatalf("a command on a read-only UI: %d, want 403", code)
	}
	var st map[string]any
	if code := tu.get(t, "/api/state", &st); code != 200 {
		t.Fatalf("state on a read-only UI: %d", code)
	}
	var layout map[string]any
	tu.get(t, "/api/layout", &layout)
	if layout["control"] != false {
		t.Fatal("the layout offers control on a read-only UI")
	}
}
