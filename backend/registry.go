package backend

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Options configures a backend when it is opened.
type Options struct {
	// Threads bounds the cpu backend's worker goroutines; 0 means GOMAXPROCS.
	Threads int
	// Context selects how the gl backend makes its OpenGL context:
	// "" or "auto" (EGL, then GLFW), "egl" or "glfw".
	Context string
	// Log receives diagnostics (which backend auto chose, and why); nil
	// discards them.
	Log io.Writer
	// Deterministic makes a backend whose fastest kernels add in an
	// order that the device's scheduling decides (gl's spike scatters,
	// with float atomics) use ordered kernels instead, so that two runs,
	// and a run resumed from a checkpoint, agree bit for bit; they are
	// slower on GPUs. The cpu backend is always deterministic.
	Deterministic bool
	// Propagation forces a backend's named strategy for delayed spike
	// propagation (cpu: "events", "layout-events", "references"; see
	// StrategyReporter; the gl backend has no named ones yet), for tests
	// and benchmarks that compare them. A
	// projection the strategy does not apply to gets the backend's own
	// choice. "" lets the backend choose for every projection; an unknown
	// name is an error of New.
	Propagation string
}

// Driver opens a backend and, for "auto", says whether it is worth choosing.
type Driver struct {
	// Open creates a backend.
	Open func(Options) (Backend, error)
	// Preferred reports whether auto should choose this backend on this
	// machine, and why. Nil means never preferred.
	Preferred func(Options) (ok bool, why string)
	// Rank orders auto's candidates: higher is tried first.
	Rank int
}

var (
	mu      sync.Mutex
	drivers = map[string]Driver{}
	// notBuilt holds names that are known but not linked into this program,
	// with the reason.
	notBuilt = map[string]string{
		"gl": "the gl backend is not linked into this program: add `import _ \"github.com/gomonnto/gomonnto/backend/opengl\"` (it needs cgo and the OpenGL/EGL development packages), or use -backend=cpu",
	}
)

// Register makes a backend available to Open under name. It panics if the
// name is taken; backends call it from init.
func Register(name string, d Driver) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := drivers[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	if d.Open == nil {
		panic("backend: Register " + name + " without Open")
	}
	drivers[name] = d
	delete(notBuilt, name)
}

// Names lists the registered backends in sorted order.
func Names() []string {
	mu.Lock()
	defer mu.Unlock()
	return namesLocked()
}

// ErrUnknown is returned (wrapped) by Open for a name no backend has.
var ErrUnknown = errors.New("unknown backend")

// Resolve turns a backend name, possibly "auto", into a registered name
// and the reason it was chosen.
func Resolve(name string, opts Options) (string, string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	mu.Lock()
	defer mu.Unlock()
	if name != "auto" && name != "" {
		if _, ok := drivers[name]; ok {
			return name, "requested", nil
		}
		if why, ok := notBuilt[name]; ok {
			return "", "", fmt.Errorf("backend %q: %s", name, why)
		}
		return "", "", fmt.Errorf("backend %q: %w; choose one of %s or auto", name, ErrUnknown, strings.Join(namesLocked(), ", "))
	}
	type cand struct {
		name string
		d    Driver
	}
	var cs []cand
	for n, d := range drivers {
		cs = append(cs, cand{n, d})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d.Rank != cs[j].d.Rank {
			return cs[i].d.Rank > cs[j].d.Rank
		}
		return cs[i].name < cs[j].name
	})
	var reasons []string
	for _, c := range cs {
		if c.d.Preferred == nil {
			continue
		}
		ok, why := c.d.Preferred(opts)
		if ok {
			return c.name, why, nil
		}
		if !strings.HasPrefix(why, c.name+":") {
			why = c.name + ": " + why
		}
		reasons = append(reasons, why)
	}
	if _, ok := drivers["cpu"]; ok {
		why := "cpu is the default"
		if len(reasons) > 0 {
			why = "cpu, because " + strings.Join(reasons, "; ")
		}
		return "cpu", why, nil
	}
	return "", "", fmt.Errorf("backend auto: no backend is registered; import github.com/gomonnto/gomonnto/cpu")
}

func namesLocked() []string {
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open opens the backend called name ("cpu", "gl", or "auto").
func Open(name string, opts Options) (Backend, error) {
	chosen, why, err := Resolve(name, opts)
	if err != nil {
		return nil, err
	}
	if opts.Log != nil && (name == "auto" || name == "") {
		fmt.Fprintf(opts.Log, "backend auto: chose %s (%s)\n", chosen, why)
	}
	mu.Lock()
	d := drivers[chosen]
	mu.Unlock()
	b, err := d.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", chosen, err)
	}
	return b, nil
}

// Flag defines the -backend flag on fs (flag.CommandLine if nil) and
// returns a pointer to its value. The default is "auto".
func Flag(fs *flag.FlagSet) *string {
	if fs == nil {
		fs = flag.CommandLine
	}
	return fs.String("backend", "auto", "compute backend: cpu, gl or auto (gl on a hardware GPU, cpu otherwise)")
}
