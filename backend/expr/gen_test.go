package expr

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomonnto/gomonnto/backend/rng"
)

// TestLoopsUpToDate runs the generator into a temporary directory and
// compares its three files with the checked-in ones. It never writes into
// the package directory; .ci/test also runs go generate ./... followed by
// git diff --exit-code.
func TestLoopsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	dir := t.TempDir()
	cmd := exec.Command(goTool, "run", "gen_loops.go",
		"-o", filepath.Join(dir, "loops.go"), "-asm", filepath.Join(dir, "loops_amd64"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_loops.go: %v\n%s", err, msg)
	}
	for _, name := range []string{"loops.go", "loops_amd64.go", "loops_amd64.s"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate in backend/expr", name)
		}
	}
}

// TestConcurrentEvaluators runs one Evaluator per goroutine on disjoint
// ranges (run with -race) and checks the result equals one serial Eval.
func TestConcurrentEvaluators(t *testing.T) {
	p := mustCompile(t, "v += dt*(0.04*v*v + 5*v + 140 - u + I) + normal(); u += dt*a*(b*v - u)", izhikevichEnv)
	const n, workers = 10000, 4
	v, u, I := izhikevichState(n)
	v2, u2, _ := izhikevichState(n)
	key := rng.Key{Seed: 42, Counter: 7}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			p.NewEvaluator().Eval([][]float32{v, u, I}, lo, hi, key)
		}(w*n/workers, (w+1)*n/workers)
	}
	wg.Wait()
	p.Eval([][]float32{v2, u2, I}, 0, n, key)
	for i := range v {
		if v[i] != v2[i] || u[i] != u2[i] {
			t.Fatalf("element %d: parallel %g %g, serial %g %g", i, v[i], u[i], v2[i], u2[i])
		}
	}
}
