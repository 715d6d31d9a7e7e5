package cpu

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/backend/backendtest"
)

// TestConformance runs the shared backend conformance suite.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		b, err := New(backend.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
