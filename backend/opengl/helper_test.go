package opengl

import (
	"os"
	"sync"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// testContext is the Context option the tests open: GOMONNTO_GL_CONTEXT
// ("egl", "glfw"; CI runs the package once without a display and once
// with GOMONNTO_GL_CONTEXT=glfw under Xvfb), or "" (auto: EGL, then GLFW).
func testContext() string { return os.Getenv("GOMONNTO_GL_CONTEXT") }

// requireGL reports whether a missing GL context must fail the tests:
// under CI=true, and when GOMONNTO_REQUIRE_GL is set.
func requireGL() bool { return os.Getenv("CI") == "true" || os.Getenv("GOMONNTO_REQUIRE_GL") != "" }

// probeOnce remembers, per Context option, whether a context can be made
// in this test binary.
var probeOnce sync.Map // string -> *contextAvail

type contextAvail struct {
	once sync.Once
	err  error
}

// openOrSkip opens a gl backend with the tests' Context option
// (testContext). It is the one place that decides whether a gl test runs:
// when no OpenGL context can be created here at all, it skips the test
// saying why, except under CI=true (or GOMONNTO_REQUIRE_GL), where it
// fails instead, because CI must test the gl backend. Any other failure to
// open fails the test. The backend is closed when the test ends.
func openOrSkip(t testing.TB) *Backend {
	t.Helper()
	return openContext(t, testContext())
}

// onBothPaths calls f with a backend that uses the renderer's own kernel
// variants (gpu false) and then with one that uses those meant for GPUs
// (gpu true; see hooks.gpuPaths), closing each when f returns.
func onBothPaths(t *testing.T, f func(g *Backend, gpu bool)) {
	t.Helper()
	for _, gpu := range []bool{false, true} {
		g := openHooks(t, hooks{gpuPaths: gpu}, backend.Options{})
		f(g, gpu)
		g.Close()
	}
}

// openContext is openOrSkip for a given Context option.
func openContext(t testing.TB, context string) *Backend {
	t.Helper()
	v, _ := probeOnce.LoadOrStore(context, &contextAvail{})
	a := v.(*contextAvail)
	a.once.Do(func() {
		done := make(chan error, 1)
		go func() {
			lockThread()
			ctx, err := makeContext(context)
			if err == nil {
				releaseContext(ctx)
			}
			done <- err
		}()
		a.err = <-done
	})
	if a.err != nil {
		if requireGL() {
			t.Fatalf("cannot create an OpenGL context (Context %q), and CI=true or GOMONNTO_REQUIRE_GL requires the gl tests to run: %v", context, a.err)
		}
		t.Skipf("skipping: cannot create an OpenGL context here (Context %q; set CI=true or GOMONNTO_REQUIRE_GL=1 to fail instead): %v", context, a.err)
	}
	b, err := New(backend.Options{Context: context})
	if err != nil {
		t.Fatalf("New(Context %q): %v", context, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}
