// Package uitest drives the ui package's pages and frames from tests and
// benchmarks: headless Chromium through chromedp, and a Go WebSocket
// client that decodes frames.
package uitest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
)

// BrowserPath finds headless Chromium: $GOMONNTO_CHROMIUM, Debian's
// chromium-headless-shell, or chromium. Without one the browser tests
// skip, unless GOMONNTO_REQUIRE_BROWSER is set (CI sets it).
func BrowserPath(t testing.TB) string {
	for _, p := range []string{os.Getenv("GOMONNTO_CHROMIUM"), "/usr/bin/chromium-headless-shell", "chromium-headless-shell", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("GOMONNTO_REQUIRE_BROWSER") != "" {
		t.Fatal("no headless Chromium found and GOMONNTO_REQUIRE_BROWSER is set; install chromium-headless-shell (bash .ci/setup does)")
	}
	t.Skip("no headless Chromium (apt-get install chromium-headless-shell)")
	return ""
}

// Browser starts headless Chromium and returns a tab context.
func Browser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(BrowserPath(t)), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000), chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true), chromedp.Flag("disable-backgrounding-occluded-windows", true))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", BrowserPath(t), err)
	}
	return ctx
}

// Tab opens another tab of the browser of ctx.
func Tab(t testing.TB, ctx context.Context) context.Context {
	c, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	return c
}

// Eval evaluates js in the page and decodes the result into v.
func Eval(t testing.TB, ctx context.Context, js string, v any) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("evaluate %s: %v (%s)", js, err, raw)
		}
	}
}

// WaitJS polls js (a boolean expression) until it holds.
func WaitJS(t testing.TB, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		Eval(t, ctx, "!!("+js+")", &ok)
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	var errs any
	Eval(t, ctx, "window.__gm ? window.__gm.errors : 'no __gm'", &errs)
	t.Fatalf("page: %s did not hold in 30 s (%s); page errors: %v", what, js, errs)
}

// Artifacts is where screenshots go ($GOMONNTO_ARTIFACTS or testdata/artifacts).
func Artifacts(t testing.TB) string {
	dir := os.Getenv("GOMONNTO_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves the full page as Artifacts()/name.png and returns the
// path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(Artifacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Open loads url and waits for the UI's first drawn frame.
func Open(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	WaitJS(t, ctx, "first frame drawn", "window.__gm && window.__gm.state")
}

// Frame is a frame as a Go client sees it.
type Frame struct {
	// Shared is the part every client gets (state and panels); Hist the
	// history this client had not received.
	Shared map[string]any
	Hist   map[string]any
	Size   int
}

// Decode reads the wire format of frame.go; typed arrays become
// []float64 (f32, i32) or []byte (u8).
func Decode(b []byte) (*Frame, error) {
	if len(b) < 8 || string(b[:4]) != "GMF1" {
		return nil, fmt.Errorf("not a frame")
	}
	n := int(binary.LittleEndian.Uint32(b[4:]))
	off := 8
	var parts []map[string]any
	for range n {
		jl := int(binary.LittleEndian.Uint32(b[off:]))
		off += 4
		var head map[string]any
		if err := json.Unmarshal(b[off:off+jl], &head); err != nil {
			return nil, err
		}
		off = (off + jl + 3) &^ 3
		bl := int(binary.LittleEndian.Uint32(b[off:]))
		off += 4
		blobs := b[off : off+bl]
		off += bl
		parts = append(parts, revive(head, blobs).(map[string]any))
	}
	d := &Frame{Shared: parts[0], Size: len(b)}
	if len(parts) > 1 {
		d.Hist, _ = parts[1]["hist"].(map[string]any)
	}
	return d, nil
}

func revive(v any, blobs []byte) any {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["$b"]; ok {
			o, n := int(x["o"].(float64)), int(x["n"].(float64))
			switch x["t"] {
			case "f32":
				out := make([]float64, n)
				for i := range out {
					out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(blobs[o+4*i:])))
				}
				return out
			case "i32":
				out := make([]float64, n)
				for i := range out {
					out[i] = float64(int32(binary.LittleEndian.Uint32(blobs[o+4*i:])))
				}
				return out
			default:
				return append([]byte(nil), blobs[o:o+n]...)
			}
		}
		for k, e := range x {
			x[k] = revive(e, blobs)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = revive(e, blobs)
		}
	}
	return v
}

// Dial connects a Go client that reads frames without rendering.
type Client struct {
	conn *websocket.Conn
	ctx  context.Context
}

func Dial(t testing.TB, addr, token string, panels ...string) *Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { c.CloseNow() })
	w := &Client{conn: c, ctx: ctx}
	w.Send(t, map[string]any{"cmd": "view", "panels": panels})
	return w
}

func (w *Client) Send(t testing.TB, v any) {
	b, _ := json.Marshal(v)
	if err := w.conn.Write(w.ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// Next reads the next frame and acknowledges it.
func (w *Client) Next(t testing.TB) *Frame {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
		typ, b, err := w.conn.Read(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if typ == websocket.MessageText {
			t.Logf("server: %s", b)
			continue
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		w.Send(t, map[string]any{"cmd": "ack"})
		return d
	}
}

// Until reads frames until ok holds.
func (w *Client) Until(t testing.TB, what string, ok func(d *Frame) bool) *Frame {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if d := w.Next(t); ok(d) {
			return d
		}
	}
	t.Fatalf("no frame with %s in 30 s", what)
	return nil
}
