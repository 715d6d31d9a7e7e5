package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gomonnto/gomonnto/core"
	"github.com/gomonnto/gomonnto/models"
	"github.com/gomonnto/gomonnto/models/pd14"
	"github.com/gomonnto/gomonnto/ui"
	"github.com/gomonnto/gomonnto/ui/uitest"
)

// uiNet builds the network the UI benchmarks watch: M5 (COBA) with n
// neurons, or PD14 at scale (n == 0).
func uiNet(b *testing.B, be string, n int, scale float64) *core.Network {
	net, err := core.NewNetwork(core.Config{Backend: open(b, be), Seed: 1, Layout: core.SxD})
	if err != nil {
		b.Fatal(err)
	}
	if n > 0 {
		_, err = models.COBANet(net, models.COBAOptions{N: n})
	} else {
		_, err = pd14.Build(net, pd14.Options{Scale: scale})
	}
	if err != nil {
		b.Fatal(err)
	}
	if err := net.Initialize(); err != nil {
		b.Fatal(err)
	}
	return net
}

// uiModules are what the speed targets name: the grid, the raster and two
// plots (mean(v) of every group, v of the selected neurons), and the run
// controls.
func uiModules() []ui.Module {
	return []ui.Module{ui.NetworkSelector("v"), ui.Controls(1000), ui.Spiketrain("v"), ui.MultiGroupPlot("v")}
}

// serveUI runs the UI as fast as the network goes and returns it.
func serveUI(b *testing.B, net *core.Network, frame time.Duration) *ui.UI {
	u, err := ui.New(net, uiModules(), ui.Options{StepsPerFrame: ui.Unlimited, FrameInterval: frame, History: 1000})
	if err != nil {
		b.Fatal(err)
	}
	if err := u.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	return u
}

type uiState struct {
	Iteration int            `json:"iteration"`
	Stats     map[string]any `json:"stats"`
}

func state(b *testing.B, u *ui.UI) uiState {
	resp, err := http.Get(fmt.Sprintf("http://%s/api/state", u.Addr()) + "?" + tokenQuery(u))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st uiState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	return st
}

func tokenQuery(u *ui.UI) string {
	url := u.URL()
	for i := range url {
		if url[i] == '?' {
			return url[i+1:]
		}
	}
	return ""
}

// BenchmarkUIBrowser measures frames drawn per second in headless
// Chromium with the grid, the raster and two plots shown (b.N frames), while
// the network runs as fast as it can: M5 at 10,000 neurons and PD14 at
// scale 0.1. Targets (issue 14): 30 frames/s and 10 frames/s.
func BenchmarkUIBrowser(b *testing.B) {
	for _, c := range []struct {
		name  string
		n     int
		scale float64
	}{{"M5/n=10000", 10000, 0}, {"PD14/scale=0.1", 0, 0.1}} {
		for _, be := range backends(b) {
			b.Run(be+"/"+c.name, func(b *testing.B) {
				net := uiNet(b, be, c.n, c.scale)
				u := serveUI(b, net, time.Second/60)
				ctx := uitest.Browser(b)
				uitest.Open(b, ctx, u.URL()+"&tabs=raster,multigroup")
				time.Sleep(time.Second) // history filled, page warm
				var n0 int
				uitest.Eval(b, ctx, "__gm.ndrawn", &n0)
				it0 := state(b, u).Iteration
				b.ResetTimer()
				t0 := time.Now()
				uitest.WaitJS(b, ctx, fmt.Sprintf("%d frames drawn", b.N), fmt.Sprintf("__gm.ndrawn >= %d", n0+b.N))
				el := time.Since(t0)
				b.StopTimer()
				st := state(b, u)
				var bytes float64
				uitest.Eval(b, ctx, "__gm.bytes.reduce((a, x) => a + x[1], 0) / Math.max(1, __gm.bytes.length)", &bytes)
				b.ReportMetric(float64(b.N)/el.Seconds(), "frames/s")
				b.ReportMetric(float64(st.Iteration-it0)/el.Seconds(), "steps/s")
				b.ReportMetric(bytes, "B/frame")
				b.ReportMetric(st.Stats["frame_ms"].(float64), "build-ms")
				b.ReportMetric(st.Stats["reads"].(float64), "reads/frame")
				uitest.Screenshot(b, ctx, "bench-"+be+"-"+c.name[:2])
			})
		}
	}
}

// BenchmarkUIServe measures the cost of serving frames to the simulation:
// steps/s of M5 at 10,000 neurons for b.N steps, bare (SimulateIterations,
// as BenchmarkM5), under the UI with no client, and under the UI with a Go
// client that reads every frame it is sent without drawing it (30
// frames/s), or by one that takes 200 ms to draw each (slowclient: the newest
// frame wins, so the simulation should not notice). Target (issue 14):
// client within 10% of no client.
func BenchmarkUIServe(b *testing.B) {
	for _, be := range backends(b) {
		for _, mode := range []string{"bare", "noclient", "client", "slowclient"} {
			b.Run(fmt.Sprintf("%s/M5/n=10000/%s", be, mode), func(b *testing.B) {
				net := uiNet(b, be, 10000, 0)
				if mode == "bare" {
					if err := net.SimulateIterations(500, core.SimOptions{Quiet: true}); err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					t0 := time.Now()
					if err := net.SimulateIterations(b.N, core.SimOptions{Quiet: true}); err != nil {
						b.Fatal(err)
					}
					if err := net.Backend().Sync(); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "steps/s")
					return
				}
				u := serveUI(b, net, time.Second/30)
				var frames atomic.Int64
				if mode == "client" || mode == "slowclient" {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					c, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://%s/ws?%s", u.Addr(), tokenQuery(u)), nil)
					if err != nil {
						b.Fatal(err)
					}
					c.SetReadLimit(64 << 20)
					defer c.CloseNow()
					c.Write(ctx, websocket.MessageText, []byte(`{"cmd":"view","panels":["raster","multigroup"]}`))
					go func() {
						for {
							typ, _, err := c.Read(ctx)
							if err != nil {
								return
							}
							if typ == websocket.MessageBinary {
								frames.Add(1)
								if mode == "slowclient" { // a browser that draws 5 frames/s
									time.Sleep(200 * time.Millisecond)
								}
								c.Write(ctx, websocket.MessageText, []byte(`{"cmd":"ack"}`))
							}
						}
					}()
				}
				for state(b, u).Iteration < 500 {
					time.Sleep(10 * time.Millisecond)
				}
				it0 := state(b, u).Iteration
				f0 := frames.Load()
				b.ResetTimer()
				t0 := time.Now()
				for state(b, u).Iteration < it0+b.N {
					time.Sleep(20 * time.Millisecond) // polls cost the 2 cores little
				}
				el := time.Since(t0)
				b.StopTimer()
				b.ReportMetric(float64(state(b, u).Iteration-it0)/el.Seconds(), "steps/s")
				if mode != "noclient" {
					b.ReportMetric(float64(frames.Load()-f0)/el.Seconds(), "frames/s")
				}
			})
		}
	}
}
