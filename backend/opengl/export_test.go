package opengl

import (
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

// openHooks is openOrSkip for a backend with test hooks (and opts, whose
// Context defaults to the tests' one), closed when the test ends.
func openHooks(t testing.TB, h hooks, opts backend.Options) *Backend {
	t.Helper()
	openOrSkip(t) // skip or fail here when there is no context
	if opts.Context == "" {
		opts.Context = testContext()
	}
	b, err := newWith(opts, h)
	if err != nil {
		t.Fatalf("New(%+v) with hooks %+v: %v", opts, h, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}
