// Package gltest opens the gl backend for tests outside backend/opengl
// with the project's one rule for skipping: a gl test skips only where no
// OpenGL context can be made at all (a developer machine without GL), and
// says why; under CI=true or GOMONNTO_REQUIRE_GL it fails instead.
// GOMONNTO_GL_CONTEXT selects the context ("egl", "glfw"; auto if empty).
package gltest

import (
	"os"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	_ "github.com/gomonnto/gomonnto/backend/opengl" // registers "gl"
)

// Required reports whether a missing GL context must fail the tests.
func Required() bool { return os.Getenv("CI") == "true" || os.Getenv("GOMONNTO_REQUIRE_GL") != "" }

// Open opens a gl backend that is closed when tb ends, or skips tb (fails
// it where GL is required) when none can be opened.
func Open(tb testing.TB) backend.Backend {
	tb.Helper()
	return OpenWith(tb, backend.Options{})
}

// OpenWith is Open with options (their Context is GOMONNTO_GL_CONTEXT's).
func OpenWith(tb testing.TB, o backend.Options) backend.Backend {
	tb.Helper()
	o.Context = os.Getenv("GOMONNTO_GL_CONTEXT")
	b, err := backend.Open("gl", o)
	if err != nil {
		if Required() {
			tb.Fatalf("the gl backend must run here (CI=true or GOMONNTO_REQUIRE_GL) but cannot open: %v", err)
		}
		tb.Skipf("skipping gl test: no OpenGL context on this machine (%v); install Mesa (libegl1 libgl1-mesa-dri) or run under CI to test it", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("gl Close: %v", err)
		}
	})
	return b
}
