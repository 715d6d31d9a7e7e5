package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPath finds headless Chromium: $GOMONNTO_CHROMIUM, Debian's
// chromium-headless-shell, or chromium. Without one the browser tests
// skip, unless GOMONNTO_REQUIRE_BROWSER is set (CI sets it).
func browserPath(t testing.TB) string {
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

// newBrowser starts headless Chromium and returns a tab context.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browserPath(t)), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000), chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true), chromedp.Flag("disable-backgrounding-occluded-windows", true))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", browserPath(t), err)
	}
	return ctx
}

// newTab opens another tab of the browser of ctx.
func newTab(t testing.TB, ctx context.Context) context.Context {
	c, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	return c
}

// eval evaluates js in the page and decodes the result into v.
func eval(t testing.TB, ctx context.Context, js string, v any) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("evaluate %s: %v (%s)", js, err, raw)
		}
	}
}

// waitJS polls js (a boolean expression) until it holds.
func waitJS(t testing.TB, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		eval(t, ctx, "!!("+js+")", &ok)
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	var errs any
	eval(t, ctx, "window.__gm ? window.__gm.errors : 'no __gm'", &errs)
	t.Fatalf("page: %s did not hold in 30 s (%s); page errors: %v", what, js, errs)
}

// artefacts is where screenshots go ($GOMONNTO_ARTIFACTS or testdata/artifacts).
func artefacts(t testing.TB) string {
	dir := os.Getenv("GOMONNTO_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artefacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	waitJS(t, ctx, "first frame drawn", "window.__gm && window.__gm.state")
}

func TestBrowserSmoke(t *testing.T) {
	ctx := newBrowser(t)
	tu := startUI(t, openBackend(t, "cpu"), 0, Options{})
	open(t, ctx, tu.URL())
	waitJS(t, ctx, "iteration > 50", "__gm.state.iter > 50")
	fmt.Println(screenshot(t, ctx, "smoke"))
}
