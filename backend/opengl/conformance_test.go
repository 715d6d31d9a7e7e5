package opengl

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

// TestConformance runs the shared conformance suite on the tests' context:
// EGL (headless: Mesa surfaceless, or an EGL device on GPU servers) by
// default, a hidden GLFW window with GOMONNTO_GL_CONTEXT=glfw under an X
// display (xvfb-run); then again with backend.Options.Deterministic
// (ordered scatters; the suite compares restored rings bit for bit).
func TestConformance(t *testing.T) {
	openOrSkip(t) // skip or fail here, once, when there is no context
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		b, err := New(backend.Options{Context: testContext()})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return b
	})
	t.Run("deterministic", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) backend.Backend {
			b, err := New(backend.Options{Context: testContext(), Deterministic: true})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if !backend.IsDeterministic(b) {
				t.Fatal("opened with Deterministic, the backend does not report it")
			}
			return b
		})
	})
}
