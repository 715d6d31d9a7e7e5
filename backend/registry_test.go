package backend_test

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/gomonnto/gomonnto/backend"
)

type fakeBackend struct{ backend.Backend }

func (fakeBackend) Name() string { return "fake" }

func TestRegistry(t *testing.T) {
	backend.Register("fake-hw", backend.Driver{
		Open:      func(backend.Options) (backend.Backend, error) { return fakeBackend{}, nil },
		Preferred: func(backend.Options) (bool, string) { return false, "fake-hw: no device" },
		Rank:      5,
	})
	if !slices.Contains(backend.Names(), "cpu") { // the examples of this package link the real one
		backend.Register("cpu", backend.Driver{Open: func(backend.Options) (backend.Backend, error) { return fakeBackend{}, nil }})
	}
	name, why, err := backend.Resolve("auto", backend.Options{})
	if err != nil || name != "cpu" || why != "cpu, because fake-hw: no device" {
		t.Errorf("auto = %q, %q, %v", name, why, err)
	}
	var log bytes.Buffer
	if _, err := backend.Open("auto", backend.Options{Log: &log}); err != nil || !strings.Contains(log.String(), "chose cpu") {
		t.Errorf("Open(auto): %v, log %q", err, log.String())
	}
	if _, _, err := backend.Resolve("tpu", backend.Options{}); !errors.Is(err, backend.ErrUnknown) || !strings.Contains(err.Error(), "cpu, fake-hw") {
		t.Errorf("unknown: %v", err)
	}
	if _, _, err := backend.Resolve("gl", backend.Options{}); err == nil || !strings.Contains(err.Error(), "backend/opengl") {
		t.Errorf("gl not linked: %v", err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	v := backend.Flag(fs)
	if err := fs.Parse([]string{"-backend=gl"}); err != nil || *v != "gl" {
		t.Errorf("flag: %v %q", err, *v)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "twice") {
			t.Errorf("duplicate Register: %v", r)
		}
	}()
	backend.Register("cpu", backend.Driver{Open: func(backend.Options) (backend.Backend, error) { return nil, nil }})
}
